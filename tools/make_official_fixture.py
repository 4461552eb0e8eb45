"""Write official P-STMO fixtures (the shared format) for any size, from a clone of the official code.

Usage:
    python tools/make_official_fixture.py --official-repo PATH --kind train_step --out FILE.npz \\
        [--frames 27] [--layers 2] [--channel 32] [--hidden 64] [--spatial-mask-num 2] \\
        [--temporal-mask-ratio 0.8] [--batch 8] [--lr-stage2 7e-4] [--lr-stage1 1e-4] [--seed 0]

The official model classes (``model/stmo.py`` ``Model`` for Stage II, ``model/stmo_pretrain.py``
``Model_MAE`` for Stage I) and the official loss (``common/utils.py`` ``mpjpe_cal``) are
**imported from the clone the user names**; nothing of the official code is copied here.
The two kinds are those of the shared fixtures README (``../shared/fixtures/README.md``):

- ``forward`` (format of ``official_pstmo_tiny.npz``): random weights, randomized BatchNorm
  statistics, eval mode; the inputs and outputs of both stages in the official layouts.
- ``train_step`` (format of ``official_pstmo_train_step.npz``): one training step per stage as
  the official ``run.py`` takes it (train mode, dropout set to 0, losses of ``run.py``,
  ``Adam(lr, amsgrad=True)``): initial state, inputs, masks, loss, every gradient, state after
  the step. The Stage I masks follow the official distribution: ``int(N * q_T)`` frames masked
  at random, and for every frame ``m_S`` joints drawn from joints 0..15.

Everything runs on CPU in float32 and is seeded (``--seed``). ``pstmo official verify FILE``
checks ``pstmo`` against the result; tests use this tool to verify sizes other than the shared
ones (they skip when no clone is present).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from pstmo.io import atomic_write
from pstmo.models.config import official_strides

JOINTS = 17


def import_official(repo: str | Path) -> SimpleNamespace:
    """``Model``, ``Model_MAE`` and ``mpjpe_cal`` imported from the official clone at ``repo``."""
    root = Path(repo).resolve()
    for rel in ("model/stmo.py", "model/stmo_pretrain.py", "common/utils.py"):
        if not (root / rel).is_file():
            raise SystemExit(f"{root}: not a clone of the official P-STMO code (no {rel})")
    sys.path.insert(0, str(root))
    try:
        stmo = importlib.import_module("model.stmo")
        pretrain = importlib.import_module("model.stmo_pretrain")
        utils = importlib.import_module("common.utils")
    finally:
        sys.path.remove(str(root))
    return SimpleNamespace(Model=stmo.Model, Model_MAE=pretrain.Model_MAE, mpjpe_cal=utils.mpjpe_cal)


def official_options(args: argparse.Namespace) -> SimpleNamespace:
    """The fields of the official ``opt`` that the two model classes read."""
    strides = list(args.strides) if args.strides else list(official_strides(args.frames))
    return SimpleNamespace(
        layers=args.layers,
        channel=args.channel,
        d_hid=args.hidden,
        frames=args.frames,
        stride_num=strides,
        n_joints=JOINTS,
        out_joints=JOINTS,
        spatial_mask_num=args.spatial_mask_num,
        temporal_mask_rate=args.temporal_mask_ratio,
    )


def randomize(model: nn.Module, gen: torch.Generator) -> nn.Module:
    """Random BatchNorm affine parameters and running statistics (so that the mode matters)."""
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm1d):
                mod.weight.copy_(1.0 + 0.2 * torch.randn(mod.weight.shape, generator=gen))
                mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=gen))
                mod.running_mean.copy_(torch.rand(mod.running_mean.shape, generator=gen) - 0.5)
                mod.running_var.copy_(0.5 + 1.5 * torch.rand(mod.running_var.shape, generator=gen))
    return model


def no_dropout(model: nn.Module) -> nn.Module:
    for mod in model.modules():
        if isinstance(mod, nn.Dropout):
            mod.p = 0.0
    return model


def official_masks(
    frames: int, ratio: float, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``(temporal (N,), spatial (N, 17))`` bool with the official distribution (see the docstring)."""
    temporal = np.zeros(frames, dtype=bool)
    temporal[rng.permutation(frames)[: int(frames * ratio)]] = True
    spatial = np.zeros((frames, JOINTS), dtype=bool)
    for k in range(frames):
        spatial[k, rng.choice(JOINTS - 1, size=count, replace=False)] = True
    return temporal, spatial


def to_official(x: torch.Tensor) -> torch.Tensor:
    """``(B, N, J, C)`` -> the official input layout ``(B, C, N, J, 1)``."""
    return x.permute(0, 3, 1, 2).unsqueeze(-1).contiguous()


def from_official(x: torch.Tensor) -> torch.Tensor:
    """The official output layout ``(B, C, N, J, 1)`` -> ``(B, N, J, C)``."""
    return x[..., 0].permute(0, 2, 3, 1)


def config_arrays(args: argparse.Namespace, opt: SimpleNamespace) -> dict[str, np.ndarray]:
    return {
        "config/frames": np.array(args.frames),
        "config/layers": np.array(args.layers),
        "config/channel": np.array(args.channel),
        "config/d_hid": np.array(args.hidden),
        "config/spatial_mask_num": np.array(args.spatial_mask_num),
        "config/temporal_mask_ratio": np.array(args.temporal_mask_ratio),
        "config/stride_num": np.array(opt.stride_num),
    }


def state_arrays(prefix: str, model: nn.Module) -> dict[str, np.ndarray]:
    return {f"{prefix}{k}": v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def make_forward(official: SimpleNamespace, args: argparse.Namespace) -> dict[str, np.ndarray]:
    """The ``official_pstmo_tiny.npz`` kind: eval-mode outputs of both stages."""
    gen = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    opt = official_options(args)
    torch.manual_seed(args.seed)
    stage2 = randomize(official.Model(opt), gen).eval()
    stage1 = randomize(official.Model_MAE(opt), gen).eval()
    B, N = args.batch, args.frames
    x2 = torch.randn(B, N, JOINTS, 2, generator=gen)
    x1 = torch.randn(B, N, JOINTS, 2, generator=gen)
    temporal, spatial = official_masks(N, args.temporal_mask_ratio, args.spatial_mask_num, rng)
    with torch.no_grad():
        single, multi = stage2(to_official(x2))
        rec = stage1(to_official(x1), torch.from_numpy(temporal), spatial)
    return {
        **config_arrays(args, opt),
        **state_arrays("stage2/state_dict/", stage2),
        "stage2/input": to_official(x2).numpy(),
        "stage2/output_single": single.numpy(),
        "stage2/output_multi": multi.numpy(),
        **state_arrays("stage1/state_dict/", stage1),
        "stage1/input": to_official(x1).numpy(),
        "stage1/temporal_mask": temporal,
        "stage1/spatial_mask": spatial,
        "stage1/output": rec.numpy(),
    }


def _step(model: nn.Module, lr: float, loss_fn) -> dict[str, np.ndarray]:
    """One ``Adam(lr, amsgrad=True)`` step: ``{"state/..", "loss", "grad/..", "after/.."}``."""
    out = state_arrays("state/", model)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, amsgrad=True)
    optimizer.zero_grad()
    loss = loss_fn()
    loss.backward()
    out["loss"] = np.array(loss.item())
    for k, p in model.named_parameters():
        if p.grad is not None:
            out[f"grad/{k}"] = p.grad.detach().numpy().copy()
    optimizer.step()
    out.update(state_arrays("after/", model))
    return out


def make_train_step(official: SimpleNamespace, args: argparse.Namespace) -> dict[str, np.ndarray]:
    """The ``official_pstmo_train_step.npz`` kind: one training step of each stage."""
    gen = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    opt = official_options(args)
    torch.manual_seed(args.seed)
    B, N, pad = args.batch, args.frames, (args.frames - 1) // 2
    data = {
        **config_arrays(args, opt),
        "config/batch": np.array(B),
        "config/lr_stage2": np.array(args.lr_stage2),
        "config/lr_stage1": np.array(args.lr_stage1),
    }

    # Stage II, as run.py: target with the absolute root, the loss zeroes it.
    stage2 = no_dropout(randomize(official.Model(opt), gen)).train()
    x2 = torch.randn(B, N, JOINTS, 2, generator=gen)
    y3 = 0.3 * torch.randn(B, N, JOINTS, 3, generator=gen)
    y3[:, :, 0] = torch.randn(B, N, 3, generator=gen) + torch.tensor([0.0, 0.0, 4.0])

    def loss2() -> torch.Tensor:
        single, multi = stage2(to_official(x2))
        target = y3.clone()
        target[:, :, 0] = 0
        return official.mpjpe_cal(from_official(multi), target) + official.mpjpe_cal(
            from_official(single), target[:, pad : pad + 1]
        )

    data.update({f"stage2/{k}": v for k, v in _step(stage2, args.lr_stage2, loss2).items()})
    data["stage2/input_2d"] = x2.numpy()
    data["stage2/target_3d"] = y3.numpy()

    # Stage I, as run.py: output (visible, then masked frames) against the input reordered so.
    stage1 = no_dropout(randomize(official.Model_MAE(opt), gen)).train()
    x1 = torch.randn(B, N, JOINTS, 2, generator=gen)
    temporal, spatial = official_masks(N, args.temporal_mask_ratio, args.spatial_mask_num, rng)
    mask = torch.from_numpy(temporal)

    def loss1() -> torch.Tensor:
        rec = from_official(stage1(to_official(x1), mask, spatial))
        return official.mpjpe_cal(rec, torch.cat([x1[:, ~mask], x1[:, mask]], dim=1))

    data.update({f"stage1/{k}": v for k, v in _step(stage1, args.lr_stage1, loss1).items()})
    data["stage1/input_2d"] = x1.numpy()
    data["stage1/temporal_mask"] = temporal
    data["stage1/spatial_mask"] = spatial
    return data


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--official-repo", required=True, help="path of a clone of the official P-STMO code")
    p.add_argument("--kind", choices=("forward", "train_step"), default="train_step")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--frames", type=int, default=27, help="N (9, 27, 81, 243, 351, or give --strides)")
    p.add_argument("--strides", type=int, nargs="+", default=None, help="MOFA strides (product N)")
    p.add_argument("--layers", type=int, default=2, help="TEM layers (Stage I decoder: layers - 1)")
    p.add_argument("--channel", type=int, default=32)
    p.add_argument("--hidden", type=int, default=64, help="d_hid")
    p.add_argument("--spatial-mask-num", type=int, default=2, help="m^S (at most 16)")
    p.add_argument("--temporal-mask-ratio", type=float, default=0.8, help="q^T")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr-stage2", type=float, default=7e-4)
    p.add_argument("--lr-stage1", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 <= args.spatial_mask_num <= JOINTS - 1:
        raise SystemExit(
            f"--spatial-mask-num must be in [0, {JOINTS - 1}] (the official code draws from 0..15)"
        )
    official = import_official(args.official_repo)
    torch.set_num_threads(max(1, min(torch.get_num_threads(), 2)))
    data = (make_forward if args.kind == "forward" else make_train_step)(official, args)
    with atomic_write(args.out, "wb") as fh:
        np.savez(fh, **data)
    print(f"wrote {args.out}: {args.kind}, N={args.frames}, layers={args.layers}, {len(data)} arrays")
    return 0


if __name__ == "__main__":
    sys.exit(main())
