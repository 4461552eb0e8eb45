"""Lifting models: P-STMO's STMO (Stage II) and MPM (Stage I), LiftFormer.

``get_config(preset, **overrides)`` + ``build_model(cfg)``; see ``pstmo.models.config``.
LiftFormer and its config are imported lazily (``pstmo.models.liftformer``).
"""

from __future__ import annotations

from pstmo.models.config import (
    ABLATIONS,
    PRESETS,
    MPMConfig,
    STMOConfig,
    build_model,
    get_config,
    official_strides,
)
from pstmo.models.mpm import MPM
from pstmo.models.stmo import STMO, LiftOutput

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


def __getattr__(name: str):
    if name in ("LiftFormer", "LiftFormerConfig"):
        from pstmo.models import liftformer

        return getattr(liftformer, name)
    raise AttributeError(f"module 'pstmo.models' has no attribute {name!r}")
