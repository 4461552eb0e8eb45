"""Checkpoints: writing them, reading them, and rebuilding the model they hold.

A ``pstmo`` checkpoint is a dict saved with ``torch.save`` (written atomically):

- ``format`` (:data:`FORMAT`), ``stage``, ``train_config`` (:meth:`TrainConfig.to_dict`, the
  model configuration included), ``skeleton`` (parents, left and right joints of the training
  data: the flip permutation of test-time augmentation), ``model`` (the state dict);
- a resumable ``last.pt`` adds ``optimizer``, ``scheduler``, ``batcher``, ``rng``,
  ``mask_generator``, ``epoch``, ``step``, ``best``, ``history`` and the epoch's running loss.

:func:`load_model` also reads the released **official** P-STMO checkpoints (a plain state dict,
names with ``module.``): the architecture is read off the tensor shapes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pstmo import models
from pstmo.config import TrainConfig
from pstmo.errors import CheckpointError, ConfigError
from pstmo.io import atomic_write
from pstmo.official import (
    config_from_state_dict,
    load_official_checkpoint,
    map_official_state_dict,
    read_state_dict,
)
from pstmo.runtime import resolve_device
from pstmo.skeleton import H36M_SKELETON, Skeleton
from pstmo.state import load_state_strict, read_torch_file, unwrap

FORMAT = "pstmo-checkpoint-v2"
#: Keys every pstmo checkpoint has (resumable ones have more).
REQUIRED = ("format", "stage", "train_config", "model")


@dataclass
class ModelInfo:
    """What a checkpoint says about its model: ``stage``, window size ``frames`` (N), TDS rate
    ``tds``, the ``skeleton`` of its training data, its ``config`` (None for official files)."""

    stage: str
    frames: int
    tds: int
    skeleton: Skeleton
    config: TrainConfig | None = None
    official: bool = False
    path: str = ""


def build_model(cfg: TrainConfig) -> nn.Module:
    """The network a stage trains: ``MPM`` (Stage I), ``STMO`` or ``LiftFormer``."""
    if cfg.stage == "pretrain":
        return models.MPM(cfg.model)
    return models.build_model(cfg.model)


def skeleton_to_dict(skeleton: Skeleton) -> dict[str, list]:
    return {"parents": list(skeleton.parents), "left": list(skeleton.left), "right": list(skeleton.right),
            "names": list(skeleton.names)}  # fmt: skip


def skeleton_from_dict(data: Mapping[str, Any] | None) -> Skeleton:
    if not data:
        return H36M_SKELETON
    return Skeleton(tuple(data["parents"]), tuple(data["left"]), tuple(data["right"]), tuple(data["names"]))


def save(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` with ``torch.save``, atomically (a crash leaves the old file intact)."""
    path = Path(path)
    with atomic_write(path, "wb") as fh:
        torch.save(payload, fh)
    return path


def payload(model: nn.Module, cfg: TrainConfig, skeleton: Skeleton | None = None) -> dict[str, Any]:
    """The weights-and-configuration part of a checkpoint."""
    return {
        "format": FORMAT, "stage": cfg.stage, "train_config": cfg.to_dict(),
        "skeleton": skeleton_to_dict(skeleton or H36M_SKELETON), "model": unwrap(model).state_dict(),
    }  # fmt: skip


def save_model(
    model: nn.Module, cfg: TrainConfig, path: str | os.PathLike, skeleton: Skeleton | None = None
) -> Path:
    """Write ``model`` (built for ``cfg``) as a checkpoint that :func:`load_model`, ``evaluate`` and
    ``pstmo lift`` read. Weights and configuration only: it cannot be resumed."""
    return save(path, payload(model, cfg, skeleton))


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a ``pstmo`` checkpoint (``best.pt`` / ``last.pt``); :class:`CheckpointError` if it is not one."""
    ckpt = read_torch_file(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        found = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(
            f"{path}: not a pstmo checkpoint (key 'format' is {found!r}, expected {FORMAT!r})"
        )
    missing = [k for k in REQUIRED if k not in ckpt]
    if missing:
        raise CheckpointError(f"{path}: pstmo checkpoint without key(s) {missing}")
    return ckpt


def config_of(ckpt: dict[str, Any], path: str | os.PathLike) -> TrainConfig:
    """The :class:`TrainConfig` a checkpoint was written with."""
    try:
        return TrainConfig.from_dict(ckpt["train_config"])
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{path}: key 'train_config': {exc}") from None


def is_pstmo_checkpoint(obj: Any) -> bool:
    return isinstance(obj, dict) and str(obj.get("format", "")).startswith("pstmo-checkpoint")


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[nn.Module, ModelInfo]:
    """The model of a ``pstmo`` checkpoint or of a released official P-STMO checkpoint, in eval mode.

    Official state dicts do not record the TDS rate they were trained with; the paper's 243-frame
    results (Table 1) are its s = 2 models, so 243-frame official checkpoints report ``tds = 2``
    (callers may override, e.g. ``pstmo evaluate --tds``).
    """
    dev = resolve_device(device)
    raw = read_torch_file(path)
    if is_pstmo_checkpoint(raw):
        ckpt = load_checkpoint(path)
        cfg = config_of(ckpt, path)
        model = build_model(cfg)
        load_state_strict(model, ckpt["model"], source=str(path))
        info = ModelInfo(
            cfg.stage, cfg.frames, cfg.tds, skeleton_from_dict(ckpt.get("skeleton")), cfg, path=str(path)
        )
    else:
        state = _official_state(raw, path)
        mcfg = infer_official_config(state, source=str(path))
        model = load_official_checkpoint(models.build_model(mcfg), state)
        tds = 2 if mcfg.frames == 243 else 1
        info = ModelInfo("lift", mcfg.frames, tds, H36M_SKELETON, None, official=True, path=str(path))
    return model.to(dev).eval(), info


def _official_state(raw: Any, path: str | os.PathLike) -> dict[str, torch.Tensor]:
    try:
        return read_state_dict(raw)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None


def infer_official_config(state: Mapping[str, torch.Tensor], source: str = "checkpoint") -> models.STMOConfig:
    """The ``STMOConfig`` of an official Stage II state dict, read off its shapes
    (:func:`pstmo.official.config_from_state_dict`)."""
    if not any(k.removeprefix("module.").startswith("Transformer_reduce.") for k in state):
        raise CheckpointError(
            f"{source}: no 'Transformer_reduce.*' (MOFA) keys: not an official Stage II state dict"
        )
    try:
        return config_from_state_dict(state)
    except ValueError as exc:
        raise CheckpointError(f"{source}: cannot infer the P-STMO configuration: {exc}") from None


def read_encoder_state(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The Stage I weights that initialise Stage II (``--pretrained``), with ``pstmo`` names
    (for ``STMO.load_pretrained_encoder``): a ``pstmo`` pretrain checkpoint or an official
    Stage I ``.pth`` (its names mapped by :func:`pstmo.official.map_official_state_dict`)."""
    raw = read_torch_file(path)
    if is_pstmo_checkpoint(raw):
        ckpt = load_checkpoint(path)
        if ckpt["stage"] != "pretrain":
            raise CheckpointError(
                f"{path}: key 'stage' is {ckpt['stage']!r}, expected a pretrain (Stage I) run"
            )
        return ckpt["model"]
    state = _official_state(raw, path)
    if not any(k.startswith(("encoder.", "Transformer.")) for k in state):
        raise CheckpointError(
            f"{path}: neither a pstmo checkpoint nor an official state dict with 'encoder.*' keys"
        )
    try:
        return map_official_state_dict(state)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None


__all__ = [
    "FORMAT",
    "ModelInfo",
    "build_model",
    "load_checkpoint",
    "load_model",
    "load_state_strict",
    "read_encoder_state",
    "save",
    "save_model",
]
