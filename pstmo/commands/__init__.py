"""CLI sub-commands. Each module defines ``register(subparsers)``; keep imports of heavy
modules (torch, matplotlib) inside the command function so ``pstmo --help`` stays fast."""

import argparse

from pstmo.options import positive_int


def add_inference_arguments(p: argparse.ArgumentParser) -> None:
    """The options of lifting with a trained model (:class:`pstmo.inference.Lifter`), shared by
    ``pstmo evaluate`` and ``pstmo lift``."""
    p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=True,
                   help="test-time flip averaging (--no-flip: off)")  # fmt: skip
    p.add_argument("--fast", action=argparse.BooleanOptionalAction, default=True,
                   help="fast inference copy (same outputs to 1e-5)")  # fmt: skip
    p.add_argument("--batch-size", type=positive_int, default=None,
                   help="windows per forward pass (default: 64 on CPU, 1024 on a GPU)")  # fmt: skip
    p.add_argument("--seq2seq", action="store_true",
                   help="PREVIEW, not the papers' protocol: every frame from P-STMO's multi-frame head, "
                   "about N times fewer windows (see pstmo.inference.Lifter.lift)")  # fmt: skip
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:K")
