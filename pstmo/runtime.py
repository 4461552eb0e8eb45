"""Where and how a run executes: device, seeds, RNG state, data parallelism, provenance.

- :func:`resolve_device` (the one device resolver): ``"auto"`` -> the local rank's GPU when
  CUDA is available, else the CPU; a device this build or machine cannot use is a
  :class:`pstmo.errors.ConfigError` with one sentence.
- :func:`seed_everything`, :func:`rng_state` / :func:`set_rng_state` (Python, NumPy, torch, CUDA;
  stored in checkpoints as types ``torch.load(weights_only=True)`` reads).
- :class:`Dist` and :func:`init_distributed`: ``torchrun`` (``WORLD_SIZE > 1``) starts a process
  group (nccl on CUDA, gloo on CPU).
- :func:`provenance`: versions, git commit, device, seed and data fingerprint of a run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pstmo.errors import ConfigError


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> ``cuda`` (the local rank's GPU under torchrun) if available, else ``cpu``.

    Raises :class:`ConfigError` for a name torch does not know and for a CUDA device on a
    machine or torch build without CUDA (or with fewer GPUs than the index asks for).
    """
    if isinstance(device, torch.device):
        return device
    name = str(device).strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        return torch.device("cpu")
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError):
        raise ConfigError(f"device {device!r}: not a device name; use auto, cpu, cuda or cuda:K") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            build = "a CPU-only torch build" if torch.version.cuda is None else "no visible GPU"
            raise ConfigError(
                f"device {device!r}: CUDA is not available here ({build}, torch {torch.__version__}); "
                "use --device cpu or auto"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"device {device!r}: only {torch.cuda.device_count()} GPU(s) are visible")
    elif dev.type not in ("cpu", "mps", "meta"):
        raise ConfigError(f"device {device!r}: unsupported device type; use auto, cpu or cuda")
    return dev


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and torch; ``deterministic`` also turns on deterministic algorithms."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False


def rng_state() -> dict[str, Any]:
    """Python, NumPy, torch (and CUDA) RNG states, as types ``torch.load(weights_only=True)`` reads."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    numpy_state = [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)]
    state = {"python": random.getstate(), "numpy": numpy_state, "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    random.setstate(state["python"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class Dist:
    """This process's place in a data-parallel run (one process: rank 0 of 1)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    initialised: bool = False
    created: bool = False  # this run called init_process_group (and destroys it at the end)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.initialised:
            torch.distributed.barrier()

    def close(self) -> None:
        if self.created:
            torch.distributed.destroy_process_group()


def init_distributed(device: torch.device) -> Dist:
    """Initialise ``torch.distributed`` from torchrun's environment when ``WORLD_SIZE > 1``."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as dist

    created = not dist.is_initialized()
    if created:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)), True, created)


def git_commit() -> str | None:
    """The commit of the pstmo checkout this code runs from, if it is one."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True,
            text=True, timeout=5,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def dataset_fingerprint(dataset: Any) -> str:
    """The dataset's own fingerprint (hash of its source files) if it has one, else SHA-256
    (first 16 hex digits) over every train and test sequence's keys and arrays."""
    own = getattr(dataset, "fingerprint", None)
    if own is not None:
        with contextlib.suppress(Exception):
            return str(own() if callable(own) else own)
    h = hashlib.sha256()
    for split in ("train", "test"):
        for seq in dataset.sequences(split):
            h.update(f"{split}|{seq.subject}|{seq.action}|{seq.camera}".encode())
            h.update(np.ascontiguousarray(seq.pose_2d, dtype=np.float32).tobytes())
            h.update(np.ascontiguousarray(seq.pose_3d, dtype=np.float32).tobytes())
    return h.hexdigest()[:16]


def provenance(
    seed: int, deterministic: bool, device: torch.device, dataset: Any, dist: Dist
) -> dict[str, Any]:
    """What produced a run: versions, commit, platform, device, seed and data fingerprint."""
    from pstmo import __version__

    return {
        "pstmo_version": __version__, "git_commit": git_commit(), "torch_version": torch.__version__,
        "numpy_version": np.__version__, "python": platform.python_version(), "platform": platform.platform(),
        "device": str(device), "world_size": dist.world_size, "seed": seed, "deterministic": deterministic,
        "dataset": getattr(dataset, "name", None), "dataset_fingerprint": dataset_fingerprint(dataset),
        "command": " ".join(sys.argv),
    }  # fmt: skip


def progress(iterable: Any, enabled: bool | None = None, **kwargs: Any):
    """A tqdm bar; ``enabled=None`` shows it only on a terminal or in a notebook."""
    from tqdm.auto import tqdm

    return tqdm(
        iterable, disable=None if enabled is None else not enabled, leave=False, dynamic_ncols=True, **kwargs
    )


__all__ = [
    "Dist",
    "dataset_fingerprint",
    "git_commit",
    "init_distributed",
    "progress",
    "provenance",
    "resolve_device",
    "rng_state",
    "seed_everything",
    "set_rng_state",
]
