"""Command-line entry point: ``pstmo <command> ...``.

Each command lives in its own module under ``pstmo/commands/`` and exposes
``register(subparsers)``, which adds one sub-parser whose ``func`` attribute is called with the
parsed arguments and returns an exit code.

Errors are handled here and only here: a user or environment error (a bad value or file, a
read-only or full disk, a missing permission) prints one line and exits with 2; Ctrl-C prints
one line (how to resume, where that applies) and exits with 130; a closed pipe
(``pstmo complexity --json | head``) exits quietly. ``PSTMO_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

import pstmo.commands
from pstmo.errors import PstmoError

#: Exceptions that are the user's or the machine's, not a bug: one line, exit 2.
USER_ERRORS = (PstmoError, OSError, ValueError)


class Parser(argparse.ArgumentParser):
    """``argparse`` with one-line errors: ``pstmo train: argument --epochs: ... (see pstmo train --help)``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from pstmo import __version__

    parser = Parser(
        prog="pstmo",
        description="P-STMO / LiftFormer companion: models, data, training, evaluation, figures.",
    )
    parser.add_argument("--version", action="version", version=f"pstmo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(pstmo.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"pstmo.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, PstmoError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return f"{where}{exc.strerror or exc}"
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split("\n")) if len(text) < 2000 else text.splitlines()[0]


def main(argv: list[str] | None = None) -> int:
    """Run one command; see the module docstring for the exit codes."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    debug = bool(os.environ.get("PSTMO_DEBUG"))
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)  # no second error when Python flushes stdout at exit
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        if debug:
            raise
        hint = getattr(args, "interrupt_hint", None)
        print(f"pstmo {args.command}: interrupted" + (f"; {hint}" if hint else ""), file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        if debug:
            raise
        print(f"pstmo {args.command}: {_message(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
