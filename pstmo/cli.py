"""Command-line entry point: ``pstmo <command> ...``.

Each command lives in its own module under ``pstmo/commands/`` and exposes
``register(subparsers)`` which adds one sub-parser whose ``func`` attribute is
called with the parsed arguments and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
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
    """Run one command. A user error (bad file, bad value) is printed as one line, exit code 2;
    set ``PSTMO_DEBUG=1`` to see the traceback instead."""
    from pstmo.errors import PstmoError

    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (PstmoError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        if os.environ.get("PSTMO_DEBUG"):
            raise
        print(f"pstmo {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
