"""Command-line entry point: ``pstmo <command> ...``.

Each command lives in its own module under ``pstmo/commands/`` and exposes
``register(subparsers)``, which adds one sub-parser whose ``func`` attribute is called with the
parsed arguments and returns an exit code.

Errors are handled here and only here: a user or environment error (a bad value or file, a
read-only or full disk, a missing permission) prints one line and exits with 2; Ctrl-C prints
one line (how to resume, where that applies) and exits with 130, wherever it lands: while the
commands are imported (torch takes seconds), while one runs, or while it unwinds; a second
Ctrl-C after the line is ignored, so that nothing is printed after it. A closed pipe
(``pstmo complexity --json | head``) exits quietly. ``PSTMO_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import signal
import sys
from typing import Any

from pstmo.errors import PstmoError

#: Exceptions that are the user's or the machine's, not a bug: one line, exit 2.
USER_ERRORS = (PstmoError, OSError, ValueError)


class Parser(argparse.ArgumentParser):
    """``argparse`` with one-line errors: ``pstmo train: argument --epochs: ... (see pstmo train --help)``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    import pstmo.commands
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


class _Sigint:
    """Ctrl-C while :func:`main` runs: raises ``KeyboardInterrupt`` as Python's own handler does,
    and remembers that it came. Landing inside the import of a C extension (torch, NumPy, ssl),
    it can surface as another exception (``ImportError: cannot load module more than once``,
    ``TypeError``) or be swallowed by C code; remembered, it is still an interruption: one line,
    exit 130, before the command starts."""

    seen = False
    program = False  # this process is the pstmo program: its children are stopped at once

    @classmethod
    def handler(cls, signum: int, frame: Any) -> None:
        first, cls.seen = not cls.seen, True
        if cls.program and first:
            stop_children()  # before the unwinding closes the kernels' sockets under them
        raise KeyboardInterrupt

    @classmethod
    def install(cls) -> Any:
        """Install the handler (main thread, SIGINT not ignored); returns the previous one."""
        cls.seen = False
        with contextlib.suppress(ValueError, OSError, TypeError):  # not the main thread
            previous = signal.getsignal(signal.SIGINT)
            if previous is signal.default_int_handler:  # not SIG_IGN (nohup, background job) nor a caller's
                signal.signal(signal.SIGINT, cls.handler)
                return previous
        return None


def stop_children() -> int:
    """Kill this process's child processes (notebook kernels, Dask workers) at once, before the
    one line of an interruption: left running, a kernel whose client is gone prints a traceback
    of its own when it next writes to its closed socket. A killed run resumes from its last
    checkpoint. Returns how many were killed."""
    try:
        import psutil

        children = psutil.Process().children(recursive=True)
    except Exception:  # psutil missing or the process table unreadable: nothing to stop
        return 0
    for child in children:
        with contextlib.suppress(Exception):
            child.kill()
    psutil.wait_procs(children, timeout=2)
    return len(children)


def _interrupted(command: str | None, hint: str | None, program: bool) -> int:
    """Ctrl-C: one line on stderr, exit code 130 (128 + SIGINT). ``program``: this process is
    the ``pstmo`` program (not a caller of :func:`main`), so a second Ctrl-C while Python exits
    is ignored instead of printing a traceback after the line."""
    if program:
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_children()
    where = f"pstmo {command}" if command else "pstmo"
    with contextlib.suppress(OSError):
        print(f"{where}: interrupted" + (f"; {hint}" if hint else ""), file=sys.stderr, flush=True)
    if program:  # end here: an interrupted interpreter's shutdown (threads, atexit) can still die of the signal
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
        os._exit(130)
    return 130


def main(argv: list[str] | None = None) -> int:
    """Run one command; see the module docstring for the exit codes."""
    debug = bool(os.environ.get("PSTMO_DEBUG"))
    program = argv is None  # the pstmo program itself, not a caller in Python
    previous = _Sigint.install()
    _Sigint.program = program
    args = None
    try:
        parser = build_parser()  # imports every command module (torch among them): Ctrl-C lands here too
        args = parser.parse_args(argv)
        if _Sigint.seen:  # a Ctrl-C that an import swallowed (C code may clear the exception)
            raise KeyboardInterrupt
        if getattr(args, "func", None) is None:
            parser.print_help()
            return 2
        return _run(args, debug)
    except Exception:
        if debug or not _Sigint.seen:
            raise
        return _interrupted(getattr(args, "command", None), getattr(args, "interrupt_hint", None), program)
    except KeyboardInterrupt:
        if debug:
            raise
        return _interrupted(getattr(args, "command", None), getattr(args, "interrupt_hint", None), program)
    finally:
        if previous is not None and not program:  # a caller in Python gets its own handler back
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signal.SIGINT, previous)


def _run(args: argparse.Namespace, debug: bool) -> int:
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)  # no second error when Python flushes stdout at exit
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except USER_ERRORS as exc:
        if debug or _Sigint.seen:  # an error that Ctrl-C caused is an interruption (main)
            raise
        print(f"pstmo {args.command}: {_message(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
