"""The command line: every command is registered, and user errors are one line, not a traceback."""

from __future__ import annotations

import pytest

from pstmo.cli import build_parser, main

COMMANDS = {
    "bench", "complexity", "data", "lift", "official", "sweep", "reproduce", "pretrain", "train", "evaluate",
}  # fmt: skip


def test_every_command_is_registered():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert COMMANDS <= set(sub.choices)


def test_user_error_is_one_line_with_exit_code_2(capsys, tmp_path):
    missing = tmp_path / "missing.ipynb"
    assert main(["sweep", str(missing), "--grid", "a=1"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"pstmo sweep: notebook not found: {missing}"


def test_pstmo_debug_shows_the_traceback(monkeypatch, tmp_path):
    monkeypatch.setenv("PSTMO_DEBUG", "1")
    with pytest.raises(FileNotFoundError):
        main(["sweep", str(tmp_path / "missing.ipynb"), "--grid", "a=1"])


def test_bad_fixture_file_is_reported(capsys, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    assert main(["official", "verify", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err


def test_an_interruption_stops_the_child_processes_first():
    # notebook kernels and Dask workers left running print tracebacks of their own after the one
    # line; stop_children kills them (run in a fresh interpreter: it kills every child it has)
    import subprocess
    import sys

    code = (
        "import subprocess, sys, time\n"
        "from pstmo.cli import stop_children\n"
        "kids = [subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']) for _ in range(2)]\n"
        "time.sleep(0.5)\n"
        "print(stop_children(), [k.poll() is not None for k in kids])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "2 [True, True]", out.stdout + out.stderr
