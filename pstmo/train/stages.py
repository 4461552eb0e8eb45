"""The training stages of both papers, one class each.

A stage owns what differs between runs: the network it builds, its optimizer and learning-rate
schedule, the loss of one batch and the validation that selects ``best.pt``.

========================  =============  ==========================================  ==================================
stage                     network        loss (``pstmo.losses``)                     optimizer / schedule
========================  =============  ==========================================  ==================================
:class:`PretrainStage`    ``MPM``        2D reconstruction of masked windows         Adam(amsgrad), x lr_decay / epoch
:class:`LiftStage`        ``STMO``       MPJPE(centre) + lambda x MPJPE(N frames)    Adam(amsgrad), x lr_decay / epoch
:class:`RefineStage`      ``STMO`` (*)   MPJPE of the refined centre pose            Adam(amsgrad), x lr_decay / epoch
:class:`LiftFormerStage`  ``LiftFormer`` MPJPE(centre)                               Adam(0.9, 0.98, 1e-9), Noam / step
========================  =============  ==========================================  ==================================

Batches are :class:`pstmo.data.windows.Batch`: ``pose_2d (B, N, J, 2)``, ``pose_3d (B, N, J, 3)``,
``center_3d (B, 1, J, 3)``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from pstmo import masking
from pstmo.cameras import sequence_intrinsics, sequence_root_depth
from pstmo.checkpoint import build_run_model, load_checkpoint, read_encoder_state
from pstmo.config import TrainConfig
from pstmo.data.windows import Batch, WindowBatcher, flip_poses
from pstmo.errors import CheckpointError
from pstmo.evaluate import EvalResult, evaluate
from pstmo.inference import Lifter
from pstmo.io import write_json
from pstmo.losses import lift_loss, mpm_loss
from pstmo.metrics import mpjpe, per_action_mean
from pstmo.skeleton import H36M_SKELETON
from pstmo.state import load_state_strict, unwrap


def resumes(cfg: TrainConfig) -> bool:
    """Whether a run of ``cfg`` continues from its run folder's ``last.pt`` (or ``last.prev.pt``)."""
    return bool(cfg.resume) and any((cfg.run_dir / n).is_file() for n in ("last.pt", "last.prev.pt"))


@dataclass
class Validation:
    """A validation result: metric ``name`` (lower is better), its ``value``, and the full
    evaluation when there is one."""

    name: str
    value: float
    result: EvalResult | None = None


def noam_lambda(d_model: int, warmup: int = 1000, factor: float = 12.0):
    """Noam schedule multiplier ``factor * d^-0.5 * min(step^-0.5, step * warmup^-1.5)``, step >= 1."""

    def fn(step: int) -> float:
        step = step + 1  # LambdaLR counts from 0
        return factor * d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)

    return fn


def fused_adam(device: torch.device) -> bool:
    """Adam's fused kernel (one pass over all parameters) on CPU and CUDA: the same update as the
    per-tensor loop up to float rounding, about 5x faster for the ~100 small tensors of the CPU
    profiles' models (3-7 % of a demo-profile step; ``benchmarks/bench_worker_env.py``)."""
    return device.type in ("cpu", "cuda")


class Stage:
    """Base: Adam(amsgrad) with per-epoch exponential decay, as P-STMO trains both stages."""

    name = "stage"
    #: when ``scheduler.step()`` runs: after every "epoch" or every optimizer "step"
    schedule_per = "epoch"

    def __init__(self, cfg: TrainConfig, dataset: Any, device: torch.device):
        if cfg.selection == "val" and hasattr(dataset, "with_holdout"):
            dataset = dataset.with_holdout(cfg.val_fraction)
        self.cfg, self.dataset, self.device = cfg, dataset, device
        self.skeleton = getattr(dataset, "skeleton", None) or H36M_SKELETON
        self.model = self.build().to(device)

    def build(self) -> nn.Module:
        return build_run_model(self.cfg)

    def optimizer(self, params: list[nn.Parameter]) -> tuple[torch.optim.Optimizer, Any]:
        opt = torch.optim.Adam(params, lr=self.cfg.lr, amsgrad=True, fused=fused_adam(self.device))
        return opt, torch.optim.lr_scheduler.ExponentialLR(opt, gamma=self.cfg.lr_decay)

    @property
    def val_split(self) -> str:
        """The split that selects ``best.pt``: "val" (held out from the training subjects) or "test"."""
        return "val" if self.cfg.selection == "val" else "test"

    def batcher(self) -> WindowBatcher:
        """Shuffled training windows (flip augmentation as configured), one gather per batch."""
        cfg = self.cfg
        return WindowBatcher(
            self.dataset.sequences("train"), frames=cfg.frames, tds=cfg.tds, batch_size=cfg.batch_size, shuffle=True,
            seed=cfg.seed, flip=cfg.flip, device=self.device, skeleton=self.skeleton, pad_mode=cfg.pad_mode,
            reuse_buffers=True,  # each batch is consumed before the next is drawn
        )  # fmt: skip

    def loss(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        raise NotImplementedError

    def validate(self, model: nn.Module) -> Validation:
        raise NotImplementedError

    def final_metrics(self, best: nn.Module, run_dir: Any, val: Validation | None) -> dict[str, Any]:
        raise NotImplementedError

    # extra state saved in last.pt (e.g. the mask generator of Stage I)
    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class PretrainStage(Stage):
    """P-STMO Stage I, masked pose modeling: reconstruct the clean 2D window from a masked one.

    Masks are drawn per batch (``pstmo.masking.stage1_masks``) from a generator that is part of
    the resumable state. ``best.pt`` has the lowest 2D reconstruction error on the test split,
    with fixed-seed masks.
    """

    name = "pretrain"

    def __init__(self, cfg: TrainConfig, dataset: Any, device: torch.device):
        super().__init__(cfg, dataset, device)
        self.generator = torch.Generator().manual_seed(cfg.seed + 1)

    def masks(self, joints: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        return masking.stage1_masks(
            cfg.frames, joints, strategy=cfg.mask_strategy, ratio=cfg.mask_ratio, count=cfg.mask_joints,
            mode=cfg.mask_mode, generator=generator,
        )  # fmt: skip

    def loss(self, model: nn.Module, batch: Batch, generator: torch.Generator | None = None) -> torch.Tensor:
        x = batch.pose_2d
        t_mask, s_mask = self.masks(x.shape[-2], generator or self.generator)
        return mpm_loss(model(x, t_mask.to(x.device), s_mask.to(x.device)), x)

    @torch.no_grad()
    def validate(self, model: nn.Module) -> Validation:
        """2D reconstruction error on the selection split (``val_split``) with fixed-seed masks (the
        value selects ``best.pt``). ``pretrain_selection="official"`` does what the official code selects on:
        each window's reconstruction averaged with that of the flipped window (flipped back), then
        the mean per action and over actions; ``"recon"``: no flip, the mean over windows."""
        cfg = self.cfg
        was = model.training
        model.eval()
        gen = torch.Generator().manual_seed(cfg.seed + 12345)
        sequences = self.dataset.sequences(self.val_split)
        batcher = WindowBatcher(
            sequences, frames=cfg.frames, tds=cfg.tds, batch_size=max(cfg.batch_size, 256), shuffle=False,
            seed=cfg.seed, flip=False, device=self.device, reuse_buffers=True,
        )  # fmt: skip
        official = cfg.pretrain_selection == "official"
        perm = self.skeleton.flip_permutation()
        target_seq = batcher.targets()[0]
        cap = None if cfg.eval_max_frames is None else cfg.eval_max_frames * len(sequences)
        errors, actions = [], []
        for batch in batcher:
            x = batch.pose_2d
            t_mask, s_mask = (m.to(x.device) for m in self.masks(x.shape[-2], gen))
            recon = model(x, t_mask, s_mask)
            if official:
                recon = (recon + flip_poses(model(flip_poses(x, perm), t_mask, s_mask), perm)) / 2
            errors.append(torch.linalg.vector_norm(recon.float() - x, dim=-1).mean((1, 2)).cpu())
            actions += [sequences[int(i)].action for i in target_seq[batch.index].cpu()]
            if cap is not None and len(actions) >= cap:
                break
        model.train(was)
        err = torch.cat(errors).numpy()
        if not official:
            return Validation("recon_2d", float(err.mean()))
        return Validation("recon_2d_official", float(np.mean(list(per_action_mean(err, actions).values()))))

    def final_metrics(self, best: nn.Module, run_dir: Any, val: Validation | None) -> dict[str, Any]:
        val = val or self.validate(best)
        out = {"stage": self.name, val.name: val.value}
        write_json(run_dir / "metrics.json", out, parents=False)
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"mask_generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["mask_generator"])


class LiftStage(Stage):
    """P-STMO Stage II: lift 2D windows to 3D (single-frame + multi-frame supervision, Eq. 8-9).

    ``pretrained``: a Stage I checkpoint (``pstmo`` or official ``.pth``) whose SEM + TEM
    initialise the model; ``init_from``: a ``pstmo`` checkpoint whose weights initialise it.
    ``best.pt`` has the lowest validation MPJPE (``selection``: the held-out "val" split, or the
    test split as the official code does).
    """

    name = "lift"

    def build(self) -> nn.Module:
        """The model, initialised from ``pretrained`` / ``init_from`` unless the run resumes (then
        ``last.pt`` holds its weights, and those files need not be where they were)."""
        cfg = self.cfg
        resuming = resumes(cfg)
        encoder = None
        if cfg.pretrained and not resuming:  # read (and checked) before anything is built
            encoder = read_encoder_state(cfg.pretrained, fit=cfg.model)
        model = build_run_model(cfg)
        if encoder is not None:
            try:
                model.load_pretrained_encoder(encoder)
            except (RuntimeError, KeyError) as exc:
                raise CheckpointError(
                    f"{cfg.pretrained}: Stage I encoder does not fit this model: {exc}"
                ) from None
        if cfg.init_from and not resuming:
            self.initialise_from(model, cfg.init_from)
        return model

    @staticmethod
    def initialise_from(model: nn.Module, path: str) -> None:
        """Load a ``pstmo`` checkpoint's weights; a refinement module it lacks keeps its initial weights."""
        state = dict(load_checkpoint(path, expect="lift", option="--init-from")["model"])
        own = model.state_dict()
        state = {k: v for k, v in state.items() if not k.startswith("refiner.")}
        state.update({k: v for k, v in own.items() if k.startswith("refiner.")})
        load_state_strict(model, state, source=str(path))

    def loss(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        out = model(batch.pose_2d)
        return lift_loss(out.center, batch.center_3d, out.frames, batch.pose_3d, self.cfg.lambda_multi)

    def lifter(self, model: nn.Module) -> Lifter:
        return Lifter(unwrap(model), self.cfg.frames, self.cfg.tds, self.skeleton)

    def validate(self, model: nn.Module) -> Validation:
        was = model.training
        try:
            res = evaluate(
                self.lifter(model), self.dataset, split=self.val_split, flip=self.cfg.flip,
                max_frames=self.cfg.eval_max_frames,
            )  # fmt: skip
        finally:
            model.train(was)
        return Validation("mpjpe", res.mpjpe, res)

    def final_metrics(self, best: nn.Module, run_dir: Any, val: Validation | None) -> dict[str, Any]:
        """Test metrics of ``best.pt`` on the whole test split (never capped); writes
        ``metrics.json`` and ``per_action.csv``."""
        from pstmo.io import atomic_write

        reuse = (
            val is not None and val.result and self.val_split == "test" and self.cfg.eval_max_frames is None
        )
        res = val.result if reuse else None
        if res is None:
            res = evaluate(self.lifter(best), self.dataset, flip=self.cfg.flip)
        out = {"stage": self.name, **res.metrics, "flip": self.cfg.flip}
        if val is not None:
            out["selected_on"] = {
                "split": self.val_split,
                "name": val.name,
                "value": val.value,
                "eval_max_frames": self.cfg.eval_max_frames,
            }
        write_json(run_dir / "metrics.json", out, parents=False)
        with atomic_write(run_dir / "per_action.csv", parents=False) as fh:
            res.per_action.to_csv(fh)
        return out


@dataclass
class RefinementCameras:
    """Per-target camera data for the refinement module: normalised intrinsics ``(S, 4)`` per
    sequence and ground-truth root depth ``(M,)`` per flat target (the official code's choice)."""

    intrinsics: torch.Tensor
    root_depth: torch.Tensor
    target_seq: torch.Tensor

    @classmethod
    def from_sequences(cls, sequences: list, device: torch.device) -> RefinementCameras:
        intr = torch.as_tensor(np.stack([sequence_intrinsics(s) for s in sequences]), device=device)
        depth = torch.as_tensor(np.concatenate([sequence_root_depth(s) for s in sequences]), device=device)
        seq = torch.repeat_interleave(
            torch.arange(len(sequences)), torch.tensor([len(s.pose_2d) for s in sequences])
        )
        return cls(intr, depth, seq.to(device))

    def for_batch(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``focal (B, 2)``, ``principal (B, 2)`` (cx negated for flipped windows), ``root_depth (B,)``."""
        k = self.intrinsics[self.target_seq[batch.index]]
        principal = k[:, 2:].clone()
        principal[:, 0] = torch.where(batch.flipped, -principal[:, 0], principal[:, 0])
        return k[:, :2], principal, self.root_depth[batch.index]


class RefineStage(LiftStage):
    """P-STMO's (*) rows: train the refinement module (Cai et al.) on a trained Stage II model
    (``init_from``); the loss is the MPJPE of the refined centre pose, as the official code."""

    name = "refine"

    def __init__(self, cfg: TrainConfig, dataset: Any, device: torch.device):
        super().__init__(cfg, dataset, device)
        if not cfg.init_from:
            warnings.warn(
                "stage 'refine' without init_from trains STMO and the refiner from scratch", stacklevel=2
            )
        self.cameras = RefinementCameras.from_sequences(dataset.sequences("train"), device)

    def loss(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        out = model(batch.pose_2d)
        focal, principal, depth = self.cameras.for_batch(batch)
        refined = unwrap(model).refine_center(out.center, batch.pose_2d, focal, principal, depth)
        return mpjpe(refined.float(), batch.center_3d)


class LiftFormerStage(LiftStage):
    """LiftFormer: MPJPE of the middle frame; Adam (0.9, 0.98, eps 1e-9) with the Noam schedule
    ``lr = lr x factor x d^-0.5 x min(step^-0.5, step x warmup^-1.5)``, updated every step."""

    name = "lift"
    schedule_per = "step"

    def optimizer(self, params: list[nn.Parameter]) -> tuple[torch.optim.Optimizer, Any]:
        opt = torch.optim.Adam(params, lr=self.cfg.lr, betas=(0.9, 0.98), eps=1e-9, fused=fused_adam(self.device))
        d_model = self.cfg.model.dim
        return opt, torch.optim.lr_scheduler.LambdaLR(
            opt, noam_lambda(d_model, self.cfg.warmup, self.cfg.noam_factor)
        )


def make_stage(cfg: TrainConfig, dataset: Any, device: torch.device) -> Stage:
    """The stage class of ``cfg`` (``cfg.stage`` and the type of ``cfg.model``)."""
    if cfg.stage == "pretrain":
        return PretrainStage(cfg, dataset, device)
    if cfg.stage == "refine":
        return RefineStage(cfg, dataset, device)
    if cfg.is_liftformer:
        return LiftFormerStage(cfg, dataset, device)
    return LiftStage(cfg, dataset, device)


__all__ = [
    "LiftFormerStage",
    "LiftStage",
    "PretrainStage",
    "RefineStage",
    "Stage",
    "Validation",
    "make_stage",
    "noam_lambda",
]
