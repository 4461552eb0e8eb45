"""``pstmo bench``: run the benchmark harness of the repository (``benchmarks/bench.py``).

The harness is build tooling, not part of the installed package: it lives in the source
checkout, next to ``pyproject.toml``. This command finds that checkout (the working directory
or one of its parents, ``PSTMO_ROOT``, or the folder an editable install points to), imports
``benchmarks.bench`` from it and runs it with the options below (also those of
``python -m benchmarks.bench``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

import pstmo
from pstmo.commands import MAX_BATCH, MAX_FRAMES, MAX_THREADS, int_in
from pstmo.errors import PstmoError
from pstmo.paths import repo_root

DESCRIPTION = (
    "Speed of pstmo against the official P-STMO code (or pstmo's reference path): inference, "
    "whole-sequence lifting with flip and training steps, timed in interleaved rounds; medians with "
    "interquartile ranges, the float32 matmul peak and the machine load of the same run."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``pstmo bench`` (and of ``python -m benchmarks.bench``)."""
    p.add_argument(
        "--official-repo", metavar="PATH", help="a clone of the official P-STMO code to compare with"
    )
    p.add_argument(
        "--quick", action="store_true", help="fewer rounds and a 200-frame sequence (a few minutes)"
    )
    p.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="PATH",
        help="write the result as JSON to PATH; without PATH print it on stdout (the table then goes to "
        "stderr). Default: the table on stdout, the JSON to <repository>/results/bench/bench.json",
    )
    p.add_argument(
        "--tasks",
        nargs="+",
        choices=("inference", "sequence", "train"),
        default=["inference", "sequence", "train"],
        help="what to measure",
    )
    p.add_argument(
        "--threads",
        type=int_in(1, MAX_THREADS),
        default=None,
        help="torch intra-op threads (default: torch's)",
    )
    p.add_argument(
        "--rounds",
        type=int_in(1, 10_000),
        default=None,
        help="interleaved rounds per comparison (default per task)",
    )
    p.add_argument(
        "--sequence-frames",
        type=int_in(1, 1_000_000),
        default=None,
        help="sequence length (default 2000, quick 200)",
    )
    p.add_argument(
        "--train-frames",
        type=int_in(1, MAX_FRAMES),
        nargs="+",
        default=[81, 243],
        help="N of the training steps",
    )
    p.add_argument("--train-batch", type=int_in(1, MAX_BATCH), default=32, help="training batch size")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "bench",
        help="speed against the official P-STMO code: inference, whole sequences, training steps",
        description=DESCRIPTION,
    )
    add_arguments(p)
    p.set_defaults(func=main)


def find_harness() -> Path:
    """The ``benchmarks`` folder of the pstmo checkout; ``PstmoError`` outside a checkout."""
    for start in (None, Path(pstmo.__file__).resolve().parent):
        folder = repo_root(start) / "benchmarks"
        if (folder / "bench.py").is_file():
            return folder
    raise PstmoError(
        "the benchmark harness is not installed with the package: run pstmo bench inside a clone of the "
        "pstmo repository (it runs benchmarks/bench.py there), or set PSTMO_ROOT to one"
    )


def load_harness() -> ModuleType:
    """Import ``benchmarks.bench`` from the checkout found by :func:`find_harness`."""
    root = str(find_harness().parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module("benchmarks.bench")


def main(args: argparse.Namespace) -> int:
    return load_harness().main_args(args)
