"""Thin wrapper: ``python benchmarks/bench_models.py [--quick] [--device cuda] ...`` == ``pstmo bench``."""

from __future__ import annotations

import sys

from pstmo.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
