"""The official P-STMO code, imported from a user's clone: the one bridge to it.

Nothing of the official code is in this package. :func:`import_official` takes the path of a
clone of https://github.com/paTRICK-swk/P-STMO (an argument: the package never looks for one
itself) and imports ``model.stmo.Model`` (Stage II) and ``model.stmo_pretrain.Model_MAE``
(Stage I) from there, with the clone first on ``sys.path`` only while it imports;
:meth:`OfficialCode.module` imports any other module of the clone the same way
(``common.utils``, ``common.generator_tds``, ``in_the_wild.generators``...).

The benchmarks (``benchmarks/``), the fixture tool (``tools/make_official_fixture.py``) and the
tests that run the official classes all go through here:

- :func:`official_args`: the ``args`` namespace the official constructors read, for an
  :class:`~pstmo.models.STMOConfig`;
- :func:`build_official`: the official class with the weights (and train/eval mode) of a pstmo
  model, through the name table of :mod:`pstmo.official.weights`;
- :func:`zero_dropout`: every dropout rate 0 (the official classes hard-code 0.1);
- :func:`to_official` / :func:`from_official`: pstmo's ``(B, N, J, C)`` <-> the official
  ``(B, C, N, J, 1)``.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace

import torch
from torch import nn

from pstmo.errors import PstmoError
from pstmo.models import STMOConfig
from pstmo.official.weights import export_official_state_dict

#: Files every clone has; the first is what ``--official-repo`` is checked against.
_REQUIRED = ("model/stmo.py", "model/stmo_pretrain.py")


def _check_free(root: Path, package: str, path: str | Path) -> None:
    """Refuse when a module named ``package`` from elsewhere is already imported (Python would
    hand that one out instead of the clone's)."""
    loaded = sys.modules.get(package)
    if loaded is None:
        return
    where = [getattr(loaded, "__file__", None) or "", *getattr(loaded, "__path__", [])]
    if not any(str(w).startswith(str(root)) for w in where):
        raise PstmoError(
            f"--official-repo {path}: another module named {package!r} is already imported "
            f"({where or loaded}); run in a fresh process"
        )


def import_from_clone(root: Path, name: str, path: str | Path | None = None) -> ModuleType:
    """Module ``name`` (e.g. ``"common.utils"``) of the clone at ``root``; one-line ``PstmoError``
    when it cannot be imported (a missing dependency of the clone, another ``model`` package)."""
    shown = path if path is not None else root
    _check_free(root, name.split(".")[0], shown)
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - any import failure of the user's clone, in one line
        raise PstmoError(
            f"--official-repo {shown}: cannot import {name} from the official code ({type(exc).__name__}: {exc})"
        ) from exc
    finally:
        sys.path.remove(str(root))


@dataclass(frozen=True)
class OfficialCode:
    """``Model`` (Stage II) and ``Model_MAE`` (Stage I) of the official code and the clone's ``path``."""

    Model: type
    Model_MAE: type
    path: Path

    def module(self, name: str) -> ModuleType:
        """Another module of the clone, e.g. ``code.module("common.utils").mpjpe_cal``."""
        return import_from_clone(self.path, name)


def import_official(path: str | Path) -> OfficialCode:
    """The official model classes from a clone of the official P-STMO repository at ``path``."""
    root = Path(path).expanduser().resolve()
    for rel in _REQUIRED:
        if not (root / rel).is_file():
            raise PstmoError(
                f"--official-repo {path}: no {rel} there; expected a clone of the official P-STMO code"
            )
    stage2 = import_from_clone(root, "model.stmo", path)
    stage1 = import_from_clone(root, "model.stmo_pretrain", path)
    return OfficialCode(stage2.Model, stage1.Model_MAE, root)


def official_args(
    cfg: STMOConfig, spatial_mask_num: int = 2, temporal_mask_rate: float = 0.8
) -> SimpleNamespace:
    """The ``args`` namespace the official constructors read, for a pstmo configuration
    (``spatial_mask_num`` m^S and ``temporal_mask_rate`` q^T: Stage I only)."""
    return SimpleNamespace(
        layers=cfg.layers,
        channel=cfg.channel,
        d_hid=cfg.hidden,
        frames=cfg.frames,
        stride_num=list(cfg.mofa_strides),
        n_joints=cfg.joints,
        out_joints=cfg.joints,
        spatial_mask_num=spatial_mask_num,
        temporal_mask_rate=temporal_mask_rate,
    )


def build_official(code: OfficialCode, stage: int, model: nn.Module) -> nn.Module:
    """The official Stage ``stage`` model with the weights (and train/eval mode) of pstmo's ``model``."""
    cls = code.Model if stage == 2 else code.Model_MAE
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
    """pstmo's ``(B, N, J, C)`` -> the official layout ``(B, C, N, J, 1)``."""
    return x.permute(0, 3, 1, 2).unsqueeze(-1).contiguous()


def from_official(y: torch.Tensor) -> torch.Tensor:
    """The official layout ``(B, C, N, J, 1)`` -> pstmo's ``(B, N, J, C)``."""
    return y[..., 0].permute(0, 2, 3, 1)
