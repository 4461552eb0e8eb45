"""Lifting models: P-STMO's STMO (Stage II) and MPM (Stage I), LiftFormer.

``get_config(preset, **overrides)`` (``pstmo.models.config``) + ``build_model(cfg)``.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from pstmo.models.config import ABLATIONS, PRESETS, MPMConfig, STMOConfig, get_config, official_strides
from pstmo.models.layers import LiftOutput
from pstmo.models.liftformer import LiftFormer, LiftFormerConfig
from pstmo.models.mpm import MPM
from pstmo.models.stmo import STMO


def build_model(cfg: Any) -> nn.Module:
    """Build the lifting model of a config: ``STMOConfig -> STMO``, ``LiftFormerConfig -> LiftFormer``."""
    if isinstance(cfg, STMOConfig):
        return STMO(cfg)
    if isinstance(cfg, LiftFormerConfig):
        return LiftFormer(cfg)
    raise TypeError(f"build_model: unsupported config type {type(cfg).__name__}")


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
