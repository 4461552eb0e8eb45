"""Training steps to time: pstmo's (the engine's) and the official code's, on the same batch.

:func:`_pstmo_train_step` is the one place the benchmark gets pstmo's training step from.
In wave 1 of issue 13 it builds what ``pstmo.engine`` runs per batch: the model, ``Adam``
with ``amsgrad``, the Stage I masks of ``pstmo.masking.stage1_masks`` drawn per batch and the
losses of ``pstmo.losses``. When the engine's stage classes (``pstmo/train/``) land, this
function must return the stage class's own step instead of rebuilding it.

:func:`official_train_step` does what the official ``run.py`` does per training batch with
the official classes: Stage I draws ``int(N * 0.8)`` masked frames and 2 of joints 0-15 per
frame, the loss compares the output (visible frames first) with the input reordered alike;
Stage II sums the mean joint distances of the multi-frame and the single-frame output.

Both take the same weights (the official model is loaded from the pstmo one) and the same
batch of random 2D windows and root-relative 3D targets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from benchmarks.official import OfficialClasses, build_official, from_official, to_official, zero_dropout
from pstmo.losses import lift_loss, mpm_loss
from pstmo.masking import spatial_mask, stage1_masks, temporal_mask
from pstmo.models import MPM, STMO, get_config

JOINTS = 17
MASK_RATIO, MASK_JOINTS = 0.8, 2  # P-STMO's Stage I defaults (q^T, m^S)


@dataclass
class TrainStep:
    """A model, its optimiser and a fixed batch; ``step()`` runs one optimiser step, returns the loss.

    ``loss(masks)`` is the forward loss of the batch (with given Stage I masks), for the
    equality check of the two implementations.
    """

    model: nn.Module
    optimizer: torch.optim.Optimizer
    loss: Callable[[tuple[torch.Tensor, torch.Tensor] | None], torch.Tensor]
    draw_masks: Callable[[], tuple[torch.Tensor, torch.Tensor] | None]

    def step(self) -> float:
        loss = self.loss(self.draw_masks())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.item()


def training_batch(frames: int, batch: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random 2D windows ``(B, N, J, 2)`` and root-relative 3D targets ``(B, N, J, 3)``."""
    gen = torch.Generator().manual_seed(seed)
    x = 0.3 * torch.randn(batch, frames, JOINTS, 2, generator=gen)
    y = 0.3 * torch.randn(batch, frames, JOINTS, 3, generator=gen)
    y[:, :, 0] = 0
    return x, y


def build_pstmo_model(
    stage: int, frames: int, preset: str = "p-stmo-s", seed: int = 0, **overrides: Any
) -> nn.Module:
    """pstmo's Stage ``stage`` model (``MPM`` or ``STMO``) with seeded random weights, train mode."""
    torch.manual_seed(seed)
    cfg = get_config(preset, frames=frames, **overrides)
    return (MPM if stage == 1 else STMO)(cfg).train()


def _pstmo_train_step(
    stage: int,
    frames: int,
    batch: int,
    *,
    model: nn.Module | None = None,
    seed: int = 0,
    lr: float = 1e-4,
    device: str = "cpu",
    amp: bool = False,
) -> TrainStep:
    """pstmo's training step for Stage ``stage`` (1: MPM, 2: STMO) at N = ``frames``, batch ``batch``.

    Wave 1: rebuilt from the engine's pieces (see the module docstring); switch to the stage
    class's step of ``pstmo/train/`` when it lands. ``model``: use this model instead of a
    fresh ``p-stmo-s`` one. ``amp``: the loss under bf16 autocast, as the engine's ``amp=True``.
    """
    model = (model if model is not None else build_pstmo_model(stage, frames, seed=seed)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, amsgrad=True)
    x, y = (t.to(device) for t in training_batch(frames, batch, seed))
    gen = torch.Generator().manual_seed(seed + 1)
    mid = frames // 2

    def loss(masks: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
        with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=amp):
            if stage == 1:
                return mpm_loss(model(x, *(m.to(device) for m in masks)), x)
            out = model(x)
            return lift_loss(out.center, y[:, mid : mid + 1], out.frames, y)

    def draw() -> tuple[torch.Tensor, torch.Tensor] | None:
        if stage == 1:
            return stage1_masks(frames, JOINTS, ratio=MASK_RATIO, count=MASK_JOINTS, generator=gen)
        return None

    return TrainStep(model, optimizer, loss, draw)


def official_masks(frames: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Stage I masks as the official ``run.py`` draws them: ``int(N * 0.8)`` frames; in every
    frame ``m^S`` of joints 0..15 (joint 16 is never masked)."""
    spatial = torch.zeros(frames, JOINTS, dtype=torch.bool)
    spatial[:, : JOINTS - 1] = spatial_mask(frames, JOINTS - 1, MASK_JOINTS, gen)
    return temporal_mask(frames, MASK_RATIO, gen), spatial


def official_train_step(
    classes: OfficialClasses,
    stage: int,
    frames: int,
    batch: int,
    *,
    model: nn.Module | None = None,
    seed: int = 0,
    lr: float = 1e-4,
    dropout: bool = True,
) -> TrainStep:
    """The official training step with the weights of pstmo's ``model`` (default: a fresh one)."""
    pstmo_model = model if model is not None else build_pstmo_model(stage, frames, seed=seed)
    official = build_official(classes, stage, pstmo_model)
    if not dropout:
        zero_dropout(official)
    optimizer = torch.optim.Adam(official.parameters(), lr=lr, amsgrad=True)
    x, y = training_batch(frames, batch, seed)
    x_off = to_official(x)
    gen = torch.Generator().manual_seed(seed + 1)
    mid = frames // 2

    def joint_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.mean(torch.norm(a - b, dim=-1))

    def loss(masks: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
        if stage == 1:
            temporal, spatial = masks
            out = from_official(official(x_off, temporal, spatial))  # visible frames first
            return joint_distance(out, torch.cat([x[:, ~temporal], x[:, temporal]], dim=1))
        single, multi = official(x_off)
        return joint_distance(from_official(multi), y) + joint_distance(
            from_official(single), y[:, mid : mid + 1]
        )

    def draw() -> tuple[torch.Tensor, torch.Tensor] | None:
        return official_masks(frames, gen) if stage == 1 else None

    return TrainStep(official, optimizer, loss, draw)
