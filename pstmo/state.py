"""Reading torch files and loading state dicts, safely and strictly (the one place for both).

- :func:`read_torch_file`: ``torch.load(path, weights_only=True)`` (tensors and plain containers
  only: a crafted checkpoint cannot run code), with one-sentence
  :class:`pstmo.errors.CheckpointError` for a missing, non-file or unreadable path.
- :func:`load_state_strict`: ``model.load_state_dict(state, strict=True)``; when it fails, the
  error names how many keys are missing, unexpected or mis-shaped, with examples, instead of
  torch's page-long message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pstmo.errors import CheckpointError


def read_torch_file(path: str | os.PathLike) -> Any:
    """The object stored in a torch file, loaded with ``weights_only=True`` onto the CPU."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: checkpoint file not found")
    if not path.is_file():
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - corrupt, truncated, not a torch file, or unsafe content
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: cannot be read as a torch checkpoint ({reason[:200]})") from None


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside DDP and ``torch.compile`` wrappers."""
    model = getattr(model, "module", model)
    return getattr(model, "_orig_mod", model)


def state_mismatch(model: nn.Module, state: Mapping[str, Any]) -> str:
    """A short description of how ``state`` differs from ``model.state_dict()`` ("" if it fits)."""
    own = unwrap(model).state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state and hasattr(state[k], "shape") and tuple(state[k].shape) != tuple(own[k].shape)
    ]
    parts = []
    if shapes:
        parts.append(f"{len(shapes)} shape mismatches, e.g. " + "; ".join(shapes[:3]))
    if missing:
        parts.append(f"{len(missing)} missing keys, e.g. {missing[:3]}")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys, e.g. {unexpected[:3]}")
    return "; ".join(parts)


def load_state_strict(model: nn.Module, state: Mapping[str, Any], source: str = "checkpoint") -> None:
    """``load_state_dict(strict=True)`` into ``model`` (unwrapped); a misfit raises
    :class:`CheckpointError` naming the keys (e.g. other channel width, frame or layer count)."""
    net = unwrap(model)
    try:
        net.load_state_dict(dict(state), strict=True)
    except (RuntimeError, KeyError, TypeError) as exc:
        detail = state_mismatch(net, state) or str(exc).splitlines()[0]
        raise CheckpointError(
            f"{source}: does not fit {type(net).__name__} of this configuration: {detail}"
        ) from None


__all__ = ["load_state_strict", "read_torch_file", "state_mismatch", "unwrap"]
