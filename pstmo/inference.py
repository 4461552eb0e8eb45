"""Inference with a lifting model: windows, batched prediction, flip averaging (the one path).

``evaluate``, ``pstmo lift``, the explorer and the benchmarks all lift through here.

- :func:`sequence_windows`: the N-frame window centred on every frame of a sequence,
  ``(T, J, 2) -> (T, N, J, 2)``: frames ``t + k*s`` (TDS rate ``s``), edge-padded at the ends
  as the official test code does (:func:`pstmo.data.windows.window_indices`).
- :func:`predict`: middle-frame 3D poses of windows ``(B, N, J, 2) -> (B, J, 3)``; with
  ``flip`` the horizontally flipped windows (x negated, left/right joints swapped by the
  skeleton's permutation) go through the model **in the same batch** and their prediction,
  flipped back, is averaged in (the test-time augmentation of VideoPose3D / P-STMO / LiftFormer).
- :class:`Lifter`: a model with its window size, TDS rate and flip permutation, and optionally
  the fast inference copy of :func:`pstmo.models.fast.optimize_for_inference` (same outputs to
  1e-5; BatchNorm folded, fused attention); :meth:`Lifter.lift` lifts a whole sequence
  ``(T, J, 2) -> (T, J, 3)``.

Whole-sequence lifting (``Lifter(embed_once=True)``, the default): SEM (LiftFormer: the input
projection) sees one frame at a time, so :meth:`Lifter.lift` embeds every frame of the sequence
(and of its flipped copy) **once** with the model's ``embed_frames`` and gathers the N-frame
windows of those tokens for ``lift_tokens``, instead of re-embedding each frame in all N windows
that contain it. Same outputs as the window-by-window path (tested to 1e-5), fewer FLOPs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from pstmo.data.windows import flip_poses, window_indices
from pstmo.errors import CheckpointError, ConfigError, DataError
from pstmo.models.fast import optimize_for_inference
from pstmo.runtime import progress as progress_bar
from pstmo.skeleton import H36M_SKELETON, Skeleton


def sequence_windows(pose_2d: np.ndarray | torch.Tensor, frames: int, tds: int = 1) -> torch.Tensor:
    """All N-frame windows of a sequence, one centred on every frame: ``(T, J, 2) -> (T, N, J, 2)``."""
    x = pose_2d if torch.is_tensor(pose_2d) else torch.as_tensor(np.asarray(pose_2d, dtype=np.float32))
    T = x.shape[0]
    return x[window_indices(torch.arange(T), torch.full((T,), T), frames, tds)]


def flip_permutation(joints: int, skeleton: Skeleton | None = None) -> list[int]:
    """The left/right permutation for test-time flip: the skeleton's, or Human3.6M's for 17 joints."""
    if skeleton is not None:
        if skeleton.num_joints != joints:
            raise DataError(
                f"the skeleton has {skeleton.num_joints} joints but the poses have {joints}", key="skeleton"
            )
        return skeleton.flip_permutation()
    if joints == H36M_SKELETON.num_joints:
        return H36M_SKELETON.flip_permutation()
    raise DataError(
        f"flip needs the left/right joints of this {joints}-joint layout: pass the data set's skeleton "
        "(or use a checkpoint, which records it)",
        key="skeleton",
    )


def _center(output: Any) -> torch.Tensor:
    center = getattr(output, "center", output)
    if not torch.is_tensor(center) or center.ndim != 4 or center.shape[1] != 1 or center.shape[-1] != 3:
        shape = tuple(center.shape) if torch.is_tensor(center) else type(center).__name__
        raise CheckpointError(f"model output 'center' must have shape (B, 1, J, 3), got {shape}")
    return center[:, 0].float()


def device_of(module: nn.Module) -> torch.device:
    """Where a module's parameters are (CPU for a module without any)."""
    param = next(iter(module.parameters()), None)
    return param.device if param is not None else torch.device("cpu")


def predict(
    model: nn.Module,
    windows: torch.Tensor,
    flip: bool = True,
    perm: Sequence[int] | None = None,
    batch_size: int = 1024,
    input_perm: Sequence[int] | None = None,
) -> torch.Tensor:
    """Middle-frame 3D poses of windows ``(B, N, J, 2) -> (B, J, 3)`` (CPU float32 tensor).

    Runs on the model's device in chunks of ``batch_size`` windows; ``flip`` averages with the
    prediction of the flipped windows (``perm``: left/right permutation of the 3D output, default
    Human3.6M's; ``input_perm``: that of the 2D input where its joint order differs, e.g. the
    COCO-ordered input of the official in-the-wild model; default ``perm``).
    """
    if batch_size < 1:
        raise DataError(f"batch_size must be >= 1, got {batch_size}", key="batch_size")
    if flip and perm is None:
        perm = flip_permutation(windows.shape[-2])
    perm_in = perm if input_perm is None else input_perm
    device = device_of(model)
    outs = []
    with torch.inference_mode():
        for chunk in windows.split(batch_size):
            chunk = chunk.to(device, torch.float32)
            if not flip:
                outs.append(_center(model(chunk)).cpu())
                continue
            both = _center(model(torch.cat([chunk, flip_poses(chunk, perm_in)])))
            b = chunk.shape[0]
            outs.append(((both[:b] + flip_poses(both[b:], perm)) / 2).cpu())
    return torch.cat(outs) if outs else torch.zeros(0, windows.shape[-2], 3)


@dataclass(frozen=True)
class Lifter:
    """A lifting model ready to lift sequences; frozen: a changed lifter is a copy,
    ``dataclasses.replace(lifter, tds=2)`` (the copy builds its own fast copy of the model).

    ``model``: ``STMO`` or ``LiftFormer`` (``forward(x (B, N, J, 2)).center (B, 1, J, 3)``);
    ``frames``: window size N; ``tds``: TDS rate of the windows; ``skeleton``: gives the flip
    permutation (default Human3.6M for 17 joints); ``fast``: run the fast inference copy;
    ``batch_size``: windows per forward pass (None: :func:`default_batch_size` of the device:
    64 on CPU, where the windows of tokens then stay in the cache, 1024 on a GPU); ``embed_once``: whole-sequence lifting (every frame
    embedded once, see the module docstring; models without ``embed_frames``/``lift_tokens`` use
    the window-by-window path); ``input_flip``: the left/right permutation of the 2D input when
    its joint order is not the output's (the official in-the-wild model takes COCO-17 keypoints
    and returns Human3.6M joints: ``pstmo.skeleton.coco_flip_permutation()``); None: the
    skeleton's, as for every model trained on Human3.6M-ordered input.
    """

    model: nn.Module
    frames: int
    tds: int = 1
    skeleton: Skeleton | None = None
    fast: bool = True
    batch_size: int | None = None
    embed_once: bool = True
    input_flip: Sequence[int] | None = None
    #: the fast copy of ``model``, built on first use (a cache, not part of the value)
    _runner: nn.Module | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.frames < 1 or self.frames % 2 == 0:
            raise DataError(f"the window size must be a positive odd number, got {self.frames}", key="frames")
        if self.tds < 1:
            raise DataError(f"the TDS rate must be >= 1, got {self.tds}", key="tds")
        if self.batch_size is not None and self.batch_size < 1:
            raise DataError(f"batch_size must be >= 1, got {self.batch_size}", key="batch_size")
        if self.input_flip is not None:
            if sorted(self.input_flip) != list(range(self.joints)):
                raise DataError(
                    f"input_flip must be a permutation of the model's {self.joints} joints, got {list(self.input_flip)}",
                    key="input_flip",
                )
            object.__setattr__(self, "input_flip", tuple(self.input_flip))  # frozen all the way down

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike, device: str | torch.device = "cpu", *, tds: int | None = None, **kw: Any
    ) -> Lifter:
        """The lifter of a ``pstmo`` Stage II / LiftFormer checkpoint or an official P-STMO one."""
        from pstmo.checkpoint import load_model

        model, info = load_model(path, device=device)
        if info.stage == "pretrain":
            raise CheckpointError(f"{path}: a Stage I (MPM pre-training) checkpoint cannot lift to 3D")
        return cls(model, info.frames, tds or info.tds, info.skeleton, **kw)

    def _batch(self, device: torch.device) -> int:
        return self.batch_size if self.batch_size is not None else default_batch_size(device)

    @property
    def joints(self) -> int:
        cfg = getattr(self.model, "cfg", None)
        return int(getattr(cfg, "joints", H36M_SKELETON.num_joints))

    @property
    def runner(self) -> nn.Module:
        """The module that runs: the fast copy (built once) or the model itself in eval mode."""
        if not self.fast:
            return self.model.eval()
        if self._runner is None:
            object.__setattr__(self, "_runner", optimize_for_inference(self.model.eval()))  # the cache
        return self._runner

    def refresh(self) -> Lifter:
        """Forget the cached fast copy (call after the model's weights changed, e.g. during training)."""
        object.__setattr__(self, "_runner", None)
        return self

    def predict(self, windows: torch.Tensor, flip: bool = True) -> torch.Tensor:
        """``(B, N, J, 2) -> (B, J, 3)``: see :func:`predict`."""
        perm = flip_permutation(windows.shape[-2], self.skeleton) if flip else None
        runner = self.runner
        return predict(runner, windows, flip, perm, self._batch(device_of(runner)), self.input_flip)

    def lift(
        self,
        pose_2d: np.ndarray | torch.Tensor,
        flip: bool = True,
        progress: bool | None = False,
        seq2seq: bool = False,
    ) -> np.ndarray:
        """3D pose of every frame of ``pose_2d (T, J, 2)`` (normalised) -> ``(T, J, 3)`` metres.

        Default (the papers' protocol, many-to-one): each frame is the centre of its own window
        (edge padding, TDS ``tds``), predicted by the single-frame head.

        ``seq2seq=True`` is a **preview, not the papers' protocol**: windows that tile the sequence
        (each frame in exactly one window; see :func:`tiling_centres`) and every frame taken from
        P-STMO's multi-frame head (``LiftOutput.frames``, supervised in Stage II by the multi-frame
        loss), about N times fewer windows. Models without that head (LiftFormer, ablations without
        MOFA) raise ``ConfigError``.
        """
        x = self._checked_poses(pose_2d)
        T, J = x.shape[0], x.shape[1]
        perm = flip_permutation(J, self.skeleton) if flip else None
        centres = tiling_centres(T, self.frames, self.tds) if seq2seq else torch.arange(T)
        windows = window_indices(centres, torch.full_like(centres, T), self.frames, self.tds)  # (W, N)
        out = np.empty((T, J, 3), dtype=np.float32)
        with torch.inference_mode():
            source, lift_windows = self._sources(x, perm)
            batch = self._batch(source.device)
            chunks = zip(centres.split(batch), windows.split(batch))
            for centre, idx in progress_bar(chunks, progress, desc="lift", total=-(-len(centres) // batch)):
                pred = _averaged(lift_windows(source[:, idx.to(source.device)].flatten(0, 1)), perm, seq2seq)
                self._scatter(out, centre, pred, seq2seq)
        return out

    def _checked_poses(self, pose_2d: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``pose_2d (T, J, 2)`` as a tensor: T > 0, the model's J, finite."""
        x = pose_2d if torch.is_tensor(pose_2d) else torch.as_tensor(np.asarray(pose_2d, dtype=np.float32))
        if x.ndim != 3 or x.shape[-1] != 2 or x.shape[0] == 0:
            raise DataError(f"expected 2D poses of shape (T > 0, J, 2), got {tuple(x.shape)}", key="pose_2d")
        if x.shape[1] != self.joints:
            raise DataError(
                f"the model lifts {self.joints} joints, the poses have {x.shape[1]}", key="pose_2d"
            )
        if not torch.isfinite(x).all():
            raise DataError("2D poses contain NaN or infinite values", key="pose_2d")
        return x

    def _sources(self, x: torch.Tensor, perm: Sequence[int] | None) -> tuple[torch.Tensor, Any]:
        """What the windows are gathered from, and what lifts them: ``(S, T, J, 2)`` poses and the
        runner, or (whole-sequence lifting) the ``(S, T, C)`` tokens of ``embed_frames`` and
        ``lift_tokens``; S = 2 (plain, flipped) with flip (``perm`` not None), else 1."""
        runner = self.runner
        seq = x.to(device_of(runner), torch.float32)[None]  # (1, T, J, 2)
        if perm is not None:
            perm_in = perm if self.input_flip is None else list(self.input_flip)  # 2D input in another order
            seq = torch.cat([seq, flip_poses(seq, perm_in)])  # (S=2, T, J, 2): plain, flipped
        if self.embed_once and all(hasattr(self.model, a) for a in ("embed_frames", "lift_tokens")):
            # SEM once per frame (per frame, so chunks of frames give the same tokens)
            tokens = torch.cat([runner.embed_frames(c) for c in seq.split(_EMBED_CHUNK, dim=1)], dim=1)
            return tokens, runner.lift_tokens  # (S b, N, C) -> output
        return seq, runner  # (S b, N, J, 2) -> output

    def _scatter(self, out: np.ndarray, centre: torch.Tensor, pred: torch.Tensor, seq2seq: bool) -> None:
        """Write the predictions ``pred (b, K, J, 3)`` of the windows centred on ``centre (b,)``
        into ``out (T, J, 3)``: the centre frame (K = 1), or every frame of the window (seq2seq)."""
        if not seq2seq:
            out[centre.numpy()] = pred[:, 0].numpy()
            return
        raw = centre[:, None] + self.tds * (torch.arange(self.frames) - self.frames // 2)
        keep = raw < len(out)  # past the end: edge padding, that frame is another window's
        out[raw[keep].numpy()] = pred[keep].numpy()


def _averaged(output: Any, perm: Sequence[int] | None, seq2seq: bool) -> torch.Tensor:
    """The ``(b, K, J, 3)`` CPU predictions of a model output for ``S b`` windows: the centre
    frame (K = 1) or every frame (seq2seq), averaged with the flipped-back half when ``perm``."""
    pred = _frames(output) if seq2seq else _center(output)[:, None]  # (S b, K, J, 3)
    if perm is not None:
        b = len(pred) // 2
        pred = (pred[:b] + flip_poses(pred[b:], perm)) / 2
    return pred.cpu()


def default_batch_size(device: torch.device) -> int:
    """Windows per forward pass: 64 on CPU (measured on a 2-core CPU, P-STMO-S N=243 whole-sequence
    lifting: 16.6 frames/s at 16-64 windows, 15.1 at 1024), 1024 on accelerators."""
    return 64 if device.type == "cpu" else 1024


def tiling_centres(length: int, frames: int, tds: int = 1) -> torch.Tensor:
    """Centres of the windows (N frames, TDS ``tds``) that cover frames ``0 .. length-1`` each
    exactly once before edge padding: for every residue ``r < tds`` of the frame index, windows of
    frames ``r + tds * (j N + k)``, ``k < N``, centred on ``k = N // 2``. The last window of each
    residue reaches past the end (those positions are edge padding)."""
    span = frames * tds
    centres = [
        torch.arange(
            r + tds * (frames // 2),
            r + tds * (frames // 2) + span * -(-len(range(r, length, tds)) // frames),
            span,
        )
        for r in range(min(tds, length))
    ]
    return torch.cat(centres)


def _frames(output: Any) -> torch.Tensor:
    frames = getattr(output, "frames", None)
    if frames is None:
        raise ConfigError(
            "seq2seq lifting needs P-STMO's multi-frame head (LiftOutput.frames): this model has none "
            "(LiftFormer and the ablations without MOFA predict the centre frame only)"
        )
    return frames.float()


_EMBED_CHUNK = 16384  # frames per embed_frames call in whole-sequence lifting

__all__ = [
    "Lifter",
    "device_of",
    "default_batch_size",
    "flip_permutation",
    "predict",
    "sequence_windows",
    "tiling_centres",
]
