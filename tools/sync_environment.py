"""Regenerate environment.yml from requirements.lock (the single source of pins).

Usage: python tools/sync_environment.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "3.11"


def render(lock_lines: list[str]) -> str:
    pins = [ln.strip() for ln in lock_lines if ln.strip() and not ln.startswith("#")]
    body = "\n".join(f"      - {p}" for p in pins)
    return (
        "# Generated from requirements.lock by tools/sync_environment.py; do not edit by hand.\n"
        "# conda env create -f environment.yml && conda activate pstmo && pip install --no-deps -e .\n"
        "name: pstmo\n"
        "channels:\n"
        "  - conda-forge\n"
        "dependencies:\n"
        f"  - python={PYTHON}\n"
        "  - pip\n"
        "  - pip:\n"
        f"{body}\n"
    )


def main() -> int:
    text = render((ROOT / "requirements.lock").read_text().splitlines())
    target = ROOT / "environment.yml"
    if "--check" in sys.argv:
        if target.read_text() != text:
            print("environment.yml is out of date: run python tools/sync_environment.py")
            return 1
        return 0
    target.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
