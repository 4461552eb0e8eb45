"""The official P-STMO model classes, imported from the user's clone (``--official-repo PATH``).

Nothing of the official code is copied into this repository: :func:`import_official` puts
``PATH`` first on ``sys.path`` only while it imports ``model.stmo.Model`` (Stage II) and
``model.stmo_pretrain.Model_MAE`` (Stage I). :func:`build_official` builds the official class
for a pstmo model's configuration and loads the pstmo weights into it through the name table of
``pstmo.official`` (``export_official_state_dict``), so both compute with the same weights.

Layouts: the official models take and return ``(B, C, N, J, 1)`` (coordinates first); pstmo
uses ``(B, N, J, C)``. :func:`to_official` / :func:`from_official` convert.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn

from pstmo.errors import PstmoError
from pstmo.models import STMOConfig
from pstmo.official import export_official_state_dict


@dataclass(frozen=True)
class OfficialClasses:
    """``Model`` (Stage II) and ``Model_MAE`` (Stage I) of the official code, and where they came from."""

    Model: type
    Model_MAE: type
    path: Path


def import_official(path: str | Path) -> OfficialClasses:
    """Import the official model classes from a clone of the official P-STMO repository."""
    root = Path(path).expanduser().resolve()
    if not (root / "model" / "stmo.py").is_file():
        raise PstmoError(
            f"--official-repo {path}: no model/stmo.py there; expected a clone of the official P-STMO code"
        )
    loaded = sys.modules.get("model")
    where = [getattr(loaded, "__file__", None) or "", *getattr(loaded, "__path__", [])] if loaded else []
    if loaded is not None and not any(str(w).startswith(str(root)) for w in where):
        raise PstmoError(
            f"--official-repo {path}: another module named 'model' is already imported "
            f"({where or loaded}); run the benchmark in a fresh process"
        )
    sys.path.insert(0, str(root))
    try:
        stage2 = importlib.import_module("model.stmo")
        stage1 = importlib.import_module("model.stmo_pretrain")
    except Exception as exc:  # noqa: BLE001 - any import failure of the user's clone, reported in one line
        raise PstmoError(
            f"--official-repo {path}: cannot import the official model classes ({type(exc).__name__}: {exc})"
        ) from exc
    finally:
        sys.path.remove(str(root))
    return OfficialClasses(stage2.Model, stage1.Model_MAE, root)


def official_args(cfg: STMOConfig, spatial_mask_num: int = 2) -> SimpleNamespace:
    """The ``args`` namespace the official constructors read, for a pstmo configuration."""
    return SimpleNamespace(
        layers=cfg.layers,
        channel=cfg.channel,
        d_hid=cfg.hidden,
        frames=cfg.frames,
        stride_num=list(cfg.mofa_strides),
        n_joints=cfg.joints,
        out_joints=cfg.joints,
        spatial_mask_num=spatial_mask_num,
    )


def build_official(classes: OfficialClasses, stage: int, model: nn.Module) -> nn.Module:
    """The official Stage ``stage`` model with the weights (and train/eval mode) of pstmo's ``model``."""
    cls = classes.Model if stage == 2 else classes.Model_MAE
    official = cls(official_args(model.cfg))
    official.load_state_dict(export_official_state_dict(model), strict=True)
    return official.train(model.training)


def zero_dropout(model: nn.Module) -> nn.Module:
    """Set every dropout rate of ``model`` to 0 (the official classes hard-code 0.1)."""
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    return model


def to_official(x: torch.Tensor) -> torch.Tensor:
    """``(B, N, J, C) -> (B, C, N, J, 1)``."""
    return x.permute(0, 3, 1, 2).unsqueeze(-1).contiguous()


def from_official(y: torch.Tensor) -> torch.Tensor:
    """``(B, C, N, J, 1) -> (B, N, J, C)``."""
    return y[..., 0].permute(0, 2, 3, 1)
