"""Lifting models: P-STMO's STMO (Stage II) and MPM (Stage I), LiftFormer.

``get_config(preset, **overrides)`` (``pstmo.models.config``, torch-free) + ``build_model(cfg)``.
The model classes are imported on first use, so that reading a config (the command line, a
table's label) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from pstmo.models.config import (
    ABLATIONS,
    PRESETS,
    LiftFormerConfig,
    MPMConfig,
    STMOConfig,
    get_config,
    official_strides,
)

#: name -> module of the classes imported on first use (they need torch)
_LAZY = {"LiftOutput": "layers", "LiftFormer": "liftformer", "MPM": "mpm", "STMO": "stmo"}


def build_model(cfg: Any) -> Any:
    """Build the lifting model of a config: ``STMOConfig -> STMO``, ``LiftFormerConfig -> LiftFormer``
    (a ``torch.nn.Module``)."""
    if isinstance(cfg, STMOConfig):
        from pstmo.models.stmo import STMO

        return STMO(cfg)
    if isinstance(cfg, LiftFormerConfig):
        from pstmo.models.liftformer import LiftFormer

        return LiftFormer(cfg)
    raise TypeError(f"build_model: unsupported config type {type(cfg).__name__}")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"pstmo.models.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'pstmo.models' has no attribute {name!r}")


__all__ = [
    "ABLATIONS",
    "MPM",
    "PRESETS",
    "STMO",
    "LiftFormer",
    "LiftFormerConfig",
    "LiftOutput",
    "MPMConfig",
    "STMOConfig",
    "build_model",
    "get_config",
    "official_strides",
]
