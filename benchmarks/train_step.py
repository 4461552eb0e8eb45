"""Training steps to time: pstmo's real step and the official code's, on the same batch and weights.

:func:`pstmo_train_step` is the one place the benchmark gets pstmo's training step from: a
:class:`pstmo.train.Trainer` (Stage I ``pretrain`` or Stage II ``lift``, P-STMO-S sizes, on the
synthetic data set so nothing is read from disk) whose :meth:`~pstmo.train.Trainer.step` runs on
a fixed batch of random windows: the stage's loss (``pstmo.losses``, Stage I masks drawn per
batch by ``pstmo.masking.stage1_masks``), ``zero_grad``, ``backward`` and ``Adam(amsgrad)``.

:func:`official_train_step` does what the official ``run.py`` does per training batch with the
official classes: Stage I draws ``int(N * 0.8)`` masked frames and 2 of joints 0-15 in every
frame (``stage1_masks(mode="official")``), the loss compares the output (visible frames first)
with the input reordered alike; Stage II sums the mean joint distances of the multi-frame and
the single-frame output. It starts from the weights of the pstmo model it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from pstmo.config import get_profile
from pstmo.data.synthetic import synthetic_dataset
from pstmo.data.windows import Batch
from pstmo.masking import stage1_masks
from pstmo.models import get_config
from pstmo.official.code import OfficialCode, build_official, from_official, to_official, zero_dropout
from pstmo.train import Trainer

JOINTS = 17
MASK_RATIO, MASK_JOINTS = 0.8, 2  # P-STMO's Stage I defaults (q^T, m^S)


@dataclass
class TrainStep:
    """A model and ``step()``, one optimizer step on a fixed batch (returns the loss).

    ``loss(generator)``: the forward loss of the batch, Stage I masks drawn from ``generator``
    (the official reading of the masks), for the equality check of two implementations.
    """

    model: nn.Module
    step: Callable[[], float]
    loss: Callable[[torch.Generator], torch.Tensor]


def training_batch(frames: int, batch: int, seed: int = 0) -> Batch:
    """Random 2D windows ``(B, N, J, 2)`` and root-relative 3D targets ``(B, N, J, 3)``."""
    gen = torch.Generator().manual_seed(seed)
    x = 0.3 * torch.randn(batch, frames, JOINTS, 2, generator=gen)
    y = 0.3 * torch.randn(batch, frames, JOINTS, 3, generator=gen)
    y[:, :, 0] = 0
    mid = frames // 2
    index, flipped = torch.arange(batch), torch.zeros(batch, dtype=torch.bool)
    return Batch(pose_2d=x, pose_3d=y, center_3d=y[:, mid : mid + 1].clone(), index=index, flipped=flipped)


def pstmo_train_step(
    stage: int,
    frames: int,
    batch: int,
    *,
    preset: str = "p-stmo-s",
    seed: int = 0,
    device: str = "cpu",
    amp: bool = False,
    mask_mode: str = "paper",
    **model_overrides: Any,
) -> TrainStep:
    """pstmo's training step for Stage ``stage`` (1: MPM, 2: STMO) at N = ``frames``, batch ``batch``.

    ``preset``'s model sizes (``model_overrides`` on top, e.g. ``dropout=0.0``); ``amp``: the
    loss under bf16 autocast (the trainer enables it on CUDA only).
    """
    full = get_config(preset)
    sizes = {k: getattr(full, k) for k in ("channel", "hidden", "layers", "heads")}
    cfg = get_profile(
        "smoke", "pretrain" if stage == 1 else "lift", model=preset, frames=frames,
        model_overrides={**sizes, **model_overrides}, batch_size=batch, threads=None, device=device, amp=amp,
        seed=seed, mask_mode=mask_mode, mask_ratio=MASK_RATIO, mask_joints=MASK_JOINTS, progress=False,
    )  # fmt: skip
    trainer = Trainer(cfg, dataset=synthetic_dataset(seed, length=max(48, frames)))
    data = training_batch(frames, batch, seed).to(trainer.device)

    def loss(generator: torch.Generator) -> torch.Tensor:
        if stage == 1:
            return trainer.stage.loss(trainer.train_model, data, generator)
        return trainer.stage.loss(trainer.train_model, data)

    return TrainStep(trainer.model, lambda: trainer.step(data), loss)


def official_train_step(
    code: OfficialCode,
    stage: int,
    frames: int,
    batch: int,
    *,
    model: nn.Module,
    seed: int = 0,
    lr: float = 7e-4,
    dropout: bool = True,
) -> TrainStep:
    """The official training step, starting from the weights of pstmo's ``model``."""
    official = build_official(code, stage, model)
    if not dropout:
        zero_dropout(official)
    optimizer = torch.optim.Adam(official.parameters(), lr=lr, amsgrad=True)
    data = training_batch(frames, batch, seed)
    x, y = data.pose_2d, data.pose_3d
    x_off = to_official(x)
    mid = frames // 2
    step_masks = torch.Generator().manual_seed(seed + 1)

    def joint_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.mean(torch.norm(a - b, dim=-1))

    def loss(generator: torch.Generator) -> torch.Tensor:
        if stage == 1:
            temporal, spatial = stage1_masks(
                frames, JOINTS, ratio=MASK_RATIO, count=MASK_JOINTS, mode="official", generator=generator
            )
            out = from_official(official(x_off, temporal, spatial))  # visible frames first
            return joint_distance(out, torch.cat([x[:, ~temporal], x[:, temporal]], dim=1))
        single, multi = official(x_off)
        return joint_distance(from_official(multi), y) + joint_distance(
            from_official(single), y[:, mid : mid + 1]
        )

    def step() -> float:
        value = loss(step_masks)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        return value.item()

    return TrainStep(official, step, loss)
