"""CLI sub-commands. Each module defines ``register(subparsers)``; keep imports of heavy
modules (torch, matplotlib) inside the command function so ``pstmo --help`` stays fast.

The helpers the commands share live here: every numeric option is bounded before use
(:func:`int_in` / :func:`float_in` as argparse types, :func:`check_bounds` for values that
come from generated flags), ``--device`` names a device that can run a model
(:func:`check_device`), model sizes are checked against a memory budget before anything is
built (:func:`check_model`), and files are regular files (:func:`pstmo.data.files.check_regular_file`).
The bounds are far beyond any real use; they keep a typo or a hostile value (``--tds 1e30``,
``--set channel=1000000000000``) from overflowing or allocating terabytes.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from pstmo.errors import ConfigError

#: Windows per forward pass / training batch.
MAX_BATCH: int = 65_536
#: TDS rate s: a window spans (N - 1) * s frames.
MAX_TDS: int = 1_000
#: Window size N (the papers use at most 351).
MAX_FRAMES: int = 2_187
#: Frames per second of keypoints (high-speed cameras included).
MAX_FPS: float = 10_000.0
#: Image width / height in pixels (as ``pstmo.data.keypoints.MAX_PIXEL``).
MAX_PIXELS: float = 1e6
#: Torch CPU threads, benchmark rounds, notebooks at once.
MAX_THREADS: int = 1_024
MAX_JOBS: int = 256
#: Counts (epochs, steps, frames to score, ...): an int32.
MAX_COUNT: int = 2**31 - 1
#: Random seeds (torch takes 64-bit seeds).
MAX_SEED: int = 2**63 - 1
#: Learning rates, loss weights, schedule factors: magnitudes of real numbers from the command line.
MAX_REAL: float = 1e6
#: Devices a model runs on.
DEVICES = "auto, cpu, cuda, cuda:K or mps"


def int_in(low: int, high: int) -> Callable[[str], int]:
    """argparse ``type``: an integer in ``[low, high]``; the message says the range."""

    def convert(text: str) -> int:
        want = f"a positive integer up to {high:,}" if low == 1 else f"an integer from {low} to {high:,}"
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {want}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected {want}, got {text if len(text) < 40 else text[:40] + '...'}"
            )
        return value

    convert.__name__ = "integer"
    return convert


def float_in(low: float, high: float, include_low: bool = False) -> Callable[[str], float]:
    """argparse ``type``: a finite number in ``(low, high]`` (``[low, high]`` with ``include_low``)."""

    def convert(text: str) -> float:
        if low == 0 and not include_low:
            want = f"a positive finite number up to {high:g}"
        else:
            want = f"a finite number from {low:g} to {high:g}"
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {want}, got {text!r}") from None
        above = value >= low if include_low else value > low
        if not (math.isfinite(value) and above and value <= high):
            raise argparse.ArgumentTypeError(f"expected {want}, got {text!r}")
        return value

    convert.__name__ = "number"
    return convert


def check_bounds(values: dict[str, Any], bounds: dict[str, tuple[float, float]], prefix: str = "--") -> None:
    """Refuse a value outside its ``(low, high)`` bound with :class:`ConfigError` naming the
    option (``--batch-size=...: at most 65,536``); ``None`` and absent keys are left alone."""
    for key, (low, high) in bounds.items():
        value = values.get(key)
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        name = prefix + key.replace("_", "-") if prefix else key
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{name}={value!r}: must be a finite number")
        if not low <= value <= high:
            shown = f"{value:.3g}" if isinstance(value, float) or abs(value) >= 10**12 else f"{value}"
            raise ConfigError(f"{name}={shown}: must be between {low:,} and {high:,}")


_DEVICE = re.compile(r"(auto|cpu|mps|cuda)(:\d{1,4})?")


def check_device(name: Any, extra: Iterable[str] = ()) -> str:
    """Refuse a ``--device`` that cannot run a model: only auto, cpu, cuda, cuda:K and mps (and
    the names in ``extra``, e.g. ``meta`` for counting FLOPs) pass, as :class:`ConfigError`.
    ``meta`` (PyTorch's device without storage) would give ``NotImplementedError`` at the first
    copy; availability (CUDA, the GPU index) is checked by :func:`pstmo.runtime.resolve_device`."""
    text = str(name).strip().lower()
    match = _DEVICE.fullmatch(text)
    if text in extra:
        return text
    if match is None or (match.group(2) and match.group(1) != "cuda"):
        what = "a device without storage, which cannot run a model" if text == "meta" else "not a device name"
        raise ConfigError(f"device {str(name)[:40]!r}: {what}; use {DEVICES}")
    if text == "mps":
        import torch

        if not torch.backends.mps.is_available():
            raise ConfigError("device 'mps': Apple's MPS is not available here; use auto, cpu or cuda")
    return text


def check_model(cfg: Any, stage: str = "lift") -> int:
    """Refuse a model configuration whose window or weights are too large, before anything is
    built: ``frames`` at most :data:`MAX_FRAMES`, the float32 weights within
    :data:`pstmo.complexity.MEMORY_BUDGET` (an estimate from the config alone). Returns the
    parameter count."""
    from pstmo.complexity import check_model_memory

    frames = getattr(cfg, "frames", None)
    if isinstance(frames, int) and frames > MAX_FRAMES:
        raise ConfigError(
            f"frames={frames if frames < 10**12 else f'{frames:.3g}'}: at most {MAX_FRAMES:,} per window"
        )
    return check_model_memory(cfg, stage)


def add_inference_arguments(p: argparse.ArgumentParser) -> None:
    """The options of lifting with a trained model (:class:`pstmo.inference.Lifter`), shared by
    ``pstmo evaluate`` and ``pstmo lift``."""
    p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=True,
                   help="test-time flip averaging (--no-flip: off)")  # fmt: skip
    p.add_argument("--fast", action=argparse.BooleanOptionalAction, default=True,
                   help="fast inference copy (same outputs to 1e-5)")  # fmt: skip
    p.add_argument("--batch-size", type=int_in(1, MAX_BATCH), default=None,
                   help="windows per forward pass (default: 64 on CPU, 1024 on a GPU)")  # fmt: skip
    p.add_argument("--seq2seq", action="store_true",
                   help="PREVIEW, not the papers' protocol: every frame from P-STMO's multi-frame head, "
                   "about N times fewer windows (see pstmo.inference.Lifter.lift)")  # fmt: skip
    p.add_argument("--device", default="auto", help=f"{DEVICES} (auto: CUDA if present)")
