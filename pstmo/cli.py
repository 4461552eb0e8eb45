"""Command-line entry point: ``pstmo <command> ...``.

Each command lives in its own module under ``pstmo/commands/`` and exposes
``register(subparsers)`` which adds one sub-parser whose ``func`` attribute is
called with the parsed arguments and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import pstmo.commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pstmo",
        description="P-STMO / LiftFormer companion: models, data, training, evaluation, figures.",
    )
    parser.add_argument("--version", action="version", version=f"pstmo {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(pstmo.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"pstmo.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def _version() -> str:
    from pstmo import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
