"""Write official P-STMO fixtures for any size, from a clone of the official code.

Usage:
    python tools/make_official_fixture.py --official-repo PATH --kind train_step --out FILE.npz \\
        [--frames 27] [--layers 2] [--channel 32] [--hidden 64] [--spatial-mask-num 2] \\
        [--temporal-mask-ratio 0.8] [--batch 8] [--lr-stage2 7e-4] [--lr-stage1 1e-4] [--seed 0]
    python tools/make_official_fixture.py --official-repo PATH --kind wild --out tests/fixtures/official_wild_tiny.npz
    python tools/make_official_fixture.py --official-repo PATH --kind windows --out tests/fixtures/official_windows.npz

The official model classes (``model/stmo.py`` ``Model`` for Stage II, ``model/stmo_pretrain.py``
``Model_MAE`` for Stage I), the official loss (``common/utils.py`` ``mpjpe_cal``), the in-the-wild
demo (``in_the_wild/generators.py``, ``in_the_wild/inference_3d.py``) and the training generator
(``common/generator_tds.py``) are **imported from the clone the user names** through the
package's one bridge, :mod:`pstmo.official.code`; nothing of the official code is copied here.
The first two kinds are those of the shared fixtures README (``../shared/fixtures/README.md``):

- ``forward`` (format of ``official_pstmo_tiny.npz``): random weights, randomized BatchNorm
  statistics, eval mode; the inputs and outputs of both stages in the official layouts.
- ``train_step`` (format of ``official_pstmo_train_step.npz``): one training step per stage as
  the official ``run.py`` takes it (train mode, dropout set to 0, losses of ``run.py``,
  ``Adam(lr, amsgrad=True)``): initial state, inputs, masks, loss, every gradient, state after
  the step. The Stage I masks follow the official distribution: ``int(N * q_T)`` frames masked
  at random, and for every frame ``m_S`` joints drawn from joints 0..15.

and two kinds for ``tests/fixtures/`` (small, committed, so that CI checks them without a clone):

- ``wild``: the official in-the-wild demo (``in_the_wild/videopose_PSTMO.py``) on a random
  Stage II model: COCO-ordered pixel keypoints, normalised with the demo's fixed 1000 x 1002
  image, the demo's ``Evaluate_Generator`` (contiguous windows, edge padding, the flipped copy
  with the COCO left/right keypoints) and its ``val`` (flip back with the Human3.6M left/right
  joints, averaged, root zeroed). Keys: ``config/*``, ``state_dict/*`` (official names),
  ``keypoints (T, 17, 2)`` pixels, ``width``, ``height``, ``output (T, 17, 3)``.
- ``windows``: the frame indices of the official training generator
  (``common/generator_tds.py`` ``ChunkedGenerator.get_batch``, chunk length 1) for every target
  frame of short and long clips, shorter windows included (``caseK/length``, ``caseK/frames``,
  ``caseK/tds``, ``caseK/sizes (T,)``, ``caseK/indices`` concatenated), and whether the official
  ``Model`` accepts such a short window (``short_window_accepted``, ``short_window_error``).

Everything runs on CPU in float32 and is seeded (``--seed``). ``pstmo official verify FILE``
checks ``pstmo`` against the result; tests use this tool to verify sizes other than the shared
ones (they skip when no clone is present).
"""

from __future__ import annotations

import argparse
import sys
import types
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from pstmo.io import atomic_write
from pstmo.models import STMOConfig
from pstmo.models.config import official_strides
from pstmo.official.code import (
    OfficialCode,
    from_official,
    import_official,
    official_args,
    to_official,
    zero_dropout,
)

JOINTS = 17
#: The in-the-wild demo's facts (``in_the_wild/videopose_PSTMO.py``): COCO left/right keypoints of
#: its 2D input, its fixed image size. Its 3D flip uses the Human3.6M lists inside ``inference_3d``.
COCO_LEFT, COCO_RIGHT = [1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]
H36M_LEFT, H36M_RIGHT = [4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]
WILD_WIDTH, WILD_HEIGHT = 1000.0, 1002.0
#: ``windows`` cases: (sequence length T, window size N, TDS rate s); the first overflows both ends.
WINDOW_CASES = ((200, 243, 3), (30, 27, 2), (100, 27, 2), (40, 9, 3))


def stmo_config(args: argparse.Namespace) -> STMOConfig:
    """The pstmo configuration of the sizes asked for (the bridge turns it into the official ``args``)."""
    strides = tuple(args.strides) if args.strides else official_strides(args.frames)
    return STMOConfig(
        frames=args.frames, layers=args.layers, channel=args.channel, hidden=args.hidden, strides=strides
    )


def official_options(args: argparse.Namespace) -> SimpleNamespace:
    """The fields of the official ``opt`` that the two model classes read."""
    return official_args(stmo_config(args), args.spatial_mask_num, args.temporal_mask_ratio)


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


def make_forward(official: OfficialCode, args: argparse.Namespace) -> dict[str, np.ndarray]:
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


def make_train_step(official: OfficialCode, args: argparse.Namespace) -> dict[str, np.ndarray]:
    """The ``official_pstmo_train_step.npz`` kind: one training step of each stage."""
    gen = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    opt = official_options(args)
    mpjpe_cal = official.module("common.utils").mpjpe_cal
    torch.manual_seed(args.seed)
    B, N, pad = args.batch, args.frames, (args.frames - 1) // 2
    data = {
        **config_arrays(args, opt),
        "config/batch": np.array(B),
        "config/lr_stage2": np.array(args.lr_stage2),
        "config/lr_stage1": np.array(args.lr_stage1),
    }

    # Stage II, as run.py: target with the absolute root, the loss zeroes it.
    stage2 = zero_dropout(randomize(official.Model(opt), gen)).train()
    x2 = torch.randn(B, N, JOINTS, 2, generator=gen)
    y3 = 0.3 * torch.randn(B, N, JOINTS, 3, generator=gen)
    y3[:, :, 0] = torch.randn(B, N, 3, generator=gen) + torch.tensor([0.0, 0.0, 4.0])

    def loss2() -> torch.Tensor:
        single, multi = stage2(to_official(x2))
        target = y3.clone()
        target[:, :, 0] = 0
        return mpjpe_cal(from_official(multi), target) + mpjpe_cal(
            from_official(single), target[:, pad : pad + 1]
        )

    data.update({f"stage2/{k}": v for k, v in _step(stage2, args.lr_stage2, loss2).items()})
    data["stage2/input_2d"] = x2.numpy()
    data["stage2/target_3d"] = y3.numpy()

    # Stage I, as run.py: output (visible, then masked frames) against the input reordered so.
    stage1 = zero_dropout(randomize(official.Model_MAE(opt), gen)).train()
    x1 = torch.randn(B, N, JOINTS, 2, generator=gen)
    temporal, spatial = official_masks(N, args.temporal_mask_ratio, args.spatial_mask_num, rng)
    mask = torch.from_numpy(temporal)

    def loss1() -> torch.Tensor:
        rec = from_official(stage1(to_official(x1), mask, spatial))
        return mpjpe_cal(rec, torch.cat([x1[:, ~mask], x1[:, mask]], dim=1))

    data.update({f"stage1/{k}": v for k, v in _step(stage1, args.lr_stage1, loss1).items()})
    data["stage1/input_2d"] = x1.numpy()
    data["stage1/temporal_mask"] = temporal
    data["stage1/spatial_mask"] = spatial
    return data


def _import_demo(official: OfficialCode) -> SimpleNamespace:
    """The in-the-wild demo's generator and ``val`` from the clone. ``inference_3d`` imports
    OpenCV at the top without using it in ``val``: a stand-in module is put in its place when
    OpenCV is not installed."""
    if "cv2" not in sys.modules:
        try:
            import cv2  # noqa: F401
        except ImportError:
            sys.modules["cv2"] = types.ModuleType("cv2")
    return SimpleNamespace(
        Evaluate_Generator=official.module("in_the_wild.generators").Evaluate_Generator,
        val=official.module("in_the_wild.inference_3d").val,
        normalize=official.module("common.camera").normalize_screen_coordinates,
    )


def wild_keypoints(frames: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth random COCO-17 track ``(T, 17, 2)`` in pixels of the demo's 1000 x 1002 image."""
    base = np.array([500.0, 500.0]) + 80.0 * rng.standard_normal((1, JOINTS, 2))
    drift = np.cumsum(4.0 * rng.standard_normal((frames, 1, 2)), axis=0)
    return (base + drift + 2.0 * rng.standard_normal((frames, JOINTS, 2))).astype(np.float32)


def make_wild(official: OfficialCode, args: argparse.Namespace) -> dict[str, np.ndarray]:
    """The ``wild`` kind: the official in-the-wild demo (flip on) on a random Stage II model."""
    gen = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    opt = official_options(args)
    opt.out_channels = 3
    torch.manual_seed(args.seed)
    model = randomize(official.Model(opt), gen).eval()
    demo = _import_demo(official)
    pixels = wild_keypoints(args.sequence_frames, rng)
    inputs = demo.normalize(pixels, w=WILD_WIDTH, h=WILD_HEIGHT)
    batches = demo.Evaluate_Generator(
        128, None, None, [inputs], 1, pad=(args.frames - 1) // 2, causal_shift=0, augment=True, shuffle=False,
        kps_left=COCO_LEFT, kps_right=COCO_RIGHT, joints_left=H36M_LEFT, joints_right=H36M_RIGHT,
    )  # fmt: skip
    output = demo.val(opt, batches, {"trans": model})
    return {
        **config_arrays(args, opt),
        **state_arrays("state_dict/", model),
        "keypoints": pixels,
        "width": np.array(WILD_WIDTH),
        "height": np.array(WILD_HEIGHT),
        "output": np.asarray(output, dtype=np.float32),
    }


def official_windows(generator_class: type, length: int, frames: int, tds: int) -> list[np.ndarray]:
    """The frame indices of every target frame's window, from the official ``get_batch`` run on
    a sequence whose 2D "poses" are the frame numbers."""
    key = ("S1", "Walking", 0)
    poses_2d = {key: np.repeat(np.arange(length, dtype=np.float64)[:, None, None], 2, axis=2)}
    poses_3d = {key: np.zeros((length, 1, 3))}
    gen = generator_class(1, None, poses_3d, poses_2d, 1, pad=(frames - 1) // 2, tds=tds)
    return [gen.get_batch(key, t, t + 1, False, False)[2][:, 0, 0].astype(np.int64) for t in range(length)]


def short_window_check(official: OfficialCode, args: argparse.Namespace, size: int) -> tuple[bool, str]:
    """Does the official ``Model`` (N = ``args.frames``) take a window of ``size`` frames?"""
    model = official.Model(official_options(args)).eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, 2, size, JOINTS, 1))
    except Exception as exc:  # noqa: BLE001 - the official model's own failure, recorded as text
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


def make_windows(official: OfficialCode, args: argparse.Namespace) -> dict[str, np.ndarray]:
    """The ``windows`` kind: official training windows of :data:`WINDOW_CASES`."""
    generator_class = official.module("common.generator_tds").ChunkedGenerator
    data: dict[str, np.ndarray] = {}
    shortest = None
    for k, (length, frames, tds) in enumerate(WINDOW_CASES):
        windows = official_windows(generator_class, length, frames, tds)
        sizes = np.array([len(w) for w in windows])
        data.update({f"case{k}/length": np.array(length), f"case{k}/frames": np.array(frames),
                     f"case{k}/tds": np.array(tds), f"case{k}/sizes": sizes,
                     f"case{k}/indices": np.concatenate(windows)})  # fmt: skip
        if sizes.min() < frames and shortest is None:
            shortest = (frames, int(sizes.min()))
    if shortest is not None:
        frames, size = shortest
        probe = argparse.Namespace(**{**vars(args), "frames": frames, "strides": None})
        accepted, error = short_window_check(official, probe, size)
        data["short_window_accepted"] = np.array(accepted)
        data["short_window_error"] = np.array(error)
    return data


KINDS = {"forward": make_forward, "train_step": make_train_step, "wild": make_wild, "windows": make_windows}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--official-repo", required=True, help="path of a clone of the official P-STMO code")
    p.add_argument("--kind", choices=tuple(KINDS), default="train_step")
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
    p.add_argument("--sequence-frames", type=int, default=40, help="T of the wild kind's keypoint track")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 <= args.spatial_mask_num <= JOINTS - 1:
        raise SystemExit(
            f"--spatial-mask-num must be in [0, {JOINTS - 1}] (the official code draws from 0..15)"
        )
    official = import_official(args.official_repo)
    torch.set_num_threads(max(1, min(torch.get_num_threads(), 2)))
    data = KINDS[args.kind](official, args)
    with atomic_write(args.out, "wb") as fh:
        (np.savez_compressed if args.kind in ("wild", "windows") else np.savez)(fh, **data)
    print(f"wrote {args.out}: {args.kind}, N={args.frames}, layers={args.layers}, {len(data)} arrays")
    return 0


if __name__ == "__main__":
    sys.exit(main())
