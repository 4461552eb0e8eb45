"""``pstmo bench``: a pointer to the benchmark program of the repository, nothing more.

The benchmarks are build tooling, not part of the installed package: ``benchmarks/bench.py`` in
a source checkout is its own program (``python -m benchmarks.bench``, ``make bench``) that imports
``pstmo``; the package never imports it. This command only says so, in one line (exit code 2).
"""

from __future__ import annotations

import argparse

from pstmo.errors import PstmoError

MESSAGE = (
    "the benchmarks are not part of the installed package: in a pstmo checkout run "
    "`make bench OFFICIAL=/path/to/P-STMO` or `python -m benchmarks.bench --help` (benchmarks/README.md)"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """``pstmo bench [anything]``: the pointer; every argument is accepted and ignored."""
    p = subparsers.add_parser(
        "bench", help="moved out of the package: make bench (see benchmarks/README.md)", description=MESSAGE
    )
    p.parse_known_args = _accept_everything  # type: ignore[method-assign] - old options (--quick) too


def _accept_everything(
    args: list[str] | None = None, namespace: argparse.Namespace | None = None
) -> tuple[argparse.Namespace, list[str]]:
    """The sub-parser's parse: every argument, options included, lands in ``ignored``."""
    ns = namespace if namespace is not None else argparse.Namespace()
    ns.ignored, ns.func = list(args or []), main
    return ns, []


def main(args: argparse.Namespace) -> int:
    """Raise the one-line pointer (``cli.main`` prints it, exit code 2)."""
    raise PstmoError(MESSAGE)
