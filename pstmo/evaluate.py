"""Evaluation of a lifting model on a data set, with the papers' protocol (one definition).

``evaluate(checkpoint_or_model, dataset)`` lifts **every frame of every test sequence** (each
frame the centre of its edge-padded window, flip averaging on by default) and scores it:

- Protocol 1, MPJPE; Protocol 2, P-MPJPE (after rigid alignment with scale); N-MPJPE (scale
  only); MPJVE (velocity error, mm per frame); all in millimetres, root-relative;
- averaged **per action, then over actions** (the papers' tables), in the papers' column order;
- MPI-INF-3DHP frames marked invalid are predicted but not scored; ``pck=True`` adds PCK@150mm
  and AUC over the data set's PCK joints;
- a clip with fewer than :data:`MIN_SCORED_FRAMES` scored frames (a one-frame clip has no
  velocity error) is skipped, and counted (``EvalResult.skipped``, ``skipped_clips`` in the
  metrics, the protocol text); no clip left to score is a :class:`~pstmo.errors.DataError`, and
  so is any metric that is not a finite number: no metric is ever NaN.

The protocol is spelled out in :attr:`EvalResult.protocol` so that tables can say which one
produced a number. Validation during training may cap the frames per sequence
(``max_frames``); reported results never do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from pstmo import metrics as M
from pstmo.cameras import sequence_intrinsics, sequence_root_depth
from pstmo.errors import CheckpointError, DataError
from pstmo.inference import Lifter, device_of, sequence_windows
from pstmo.skeleton import H36M_ACTION_LABELS, H36M_ACTIONS, MPI_INF_3DHP_PCK_JOINTS, MPI_INF_3DHP_ROOT


@dataclass
class SequencePrediction:
    """Prediction for one test sequence: ``pose_2d (T, J, 2)`` input, ``pred`` and ``target``
    ``(T, J, 3)`` metres, root-relative."""

    subject: str
    action: str
    camera: Any
    pose_2d: np.ndarray
    pred: np.ndarray
    target: np.ndarray


@dataclass
class EvalResult:
    """Errors in mm (MPJVE in mm per frame), per action then averaged over actions.

    ``per_action``: DataFrame with rows MPJPE / P-MPJPE / N-MPJPE / MPJVE and the action columns
    in the papers' order plus ``Avg``; ``num_scored``: frames scored; ``per_subject_action``:
    HumanEva P-MPJPE per (action, subject) (LiftFormer Table 5); ``protocol``: in words;
    ``skipped``: clips too short to score (fewer than :data:`MIN_SCORED_FRAMES` scored frames).
    """

    mpjpe: float
    p_mpjpe: float
    n_mpjpe: float
    mpjve: float
    per_action: pd.DataFrame
    predictions: list[SequencePrediction]
    num_scored: int
    protocol: str
    pck: float | None = None
    auc: float | None = None
    per_subject_action: pd.DataFrame | None = None
    skipped: int = 0

    @property
    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mpjpe": self.mpjpe,
            "p_mpjpe": self.p_mpjpe,
            "n_mpjpe": self.n_mpjpe,
            "mpjve": self.mpjve,
        }
        if self.pck is not None:
            out.update(pck=self.pck, auc=self.auc)
        out.update(num_scored=self.num_scored, protocol=self.protocol)
        if self.skipped:
            out["skipped_clips"] = self.skipped
        return out


def _load_dataset(dataset: Any, data_dir: str | None, keypoints: str) -> Any:
    if not isinstance(dataset, str):
        return dataset
    from pstmo.data import load_dataset

    return load_dataset(dataset, data_dir=data_dir, keypoints=keypoints)


def _check_sequence(seq: Any) -> tuple[np.ndarray, np.ndarray]:
    pose_2d = np.asarray(seq.pose_2d, dtype=np.float32)
    target = np.asarray(seq.pose_3d, dtype=np.float32)
    if (
        pose_2d.ndim != 3
        or pose_2d.shape[-1] != 2
        or target.shape[:2] != pose_2d.shape[:2]
        or target.shape[-1:] != (3,)
    ):
        raise DataError(
            f"sequence {seq.subject}/{seq.action}: pose_2d {pose_2d.shape} must be (T, J, 2) and pose_3d "
            f"{target.shape} (T, J, 3) with the same T and J",
            key="pose_2d",
        )
    return pose_2d, target


def _refine(model: nn.Module, seq: Any, pred: np.ndarray, lifter: Lifter) -> np.ndarray:
    """P-STMO (*): the refinement module applied to the averaged centre-frame predictions."""
    device = device_of(model)
    n = len(pred)
    k = torch.as_tensor(sequence_intrinsics(seq)).expand(n, 4).to(device)
    depth = torch.as_tensor(sequence_root_depth(seq)[:n]).to(device)
    windows = sequence_windows(np.asarray(seq.pose_2d, dtype=np.float32), lifter.frames, lifter.tds).to(
        device
    )
    with torch.inference_mode():
        refined = model.refine_center(
            torch.as_tensor(pred)[:, None].to(device), windows, k[:, :2], k[:, 2:], depth
        )
    return refined[:, 0].float().cpu().numpy()


def predict_sequences(
    lifter: Lifter,
    sequences: list,
    flip: bool = True,
    max_frames: int | None = None,
    root: int = 0,
    seq2seq: bool = False,
) -> list[SequencePrediction]:
    """Lift every sequence (the first ``max_frames`` frames of each, windows still taken from the
    whole sequence); the root joint of the prediction is set to 0, as the targets. ``seq2seq``:
    the preview mode of :meth:`pstmo.inference.Lifter.lift`."""
    preds = []
    for seq in sequences:
        pose_2d, target = _check_sequence(seq)
        pred = lifter.lift(pose_2d, flip, seq2seq=seq2seq)
        if getattr(lifter.model, "refiner", None) is not None:
            pred = _refine(lifter.model, seq, pred, lifter)
        if max_frames is not None:
            pose_2d, target, pred = pose_2d[:max_frames], target[:max_frames], pred[:max_frames]
        pred[:, root] = 0.0
        preds.append(SequencePrediction(seq.subject, seq.action, seq.camera, pose_2d, pred, target))
    if not preds:
        raise DataError("no sequences to evaluate", key="sequences")
    return preds


P_MPJPE_MODES = ("correct", "official")
#: Clips with fewer scored frames are skipped (and counted): one frame has no velocity (MPJVE).
MIN_SCORED_FRAMES = 2


def scoreable(
    preds: list[SequencePrediction], keep: list[np.ndarray]
) -> tuple[list[SequencePrediction], list[np.ndarray], int]:
    """The clips with at least :data:`MIN_SCORED_FRAMES` scored frames, their masks, and how many
    were skipped; :class:`DataError` when none is left."""
    kept = [i for i, k in enumerate(keep) if int(k.sum()) >= MIN_SCORED_FRAMES]
    skipped = len(preds) - len(kept)
    if not kept:
        raise DataError(
            f"none of the {len(preds)} clip(s) has {MIN_SCORED_FRAMES} or more frames to score (a one-frame "
            "clip has no velocity error): nothing to evaluate",
            key="sequences",
        )
    return [preds[i] for i in kept], [keep[i] for i in kept], skipped


def check_metrics(result: EvalResult) -> EvalResult:
    """Refuse a result whose metrics are not finite numbers (a NaN must never look like a score)."""
    for name, value in result.metrics.items():
        if isinstance(value, float) and not np.isfinite(value):
            raise DataError(
                f"{name} is {value} over {result.num_scored} scored frames: the predictions or the targets "
                "hold non-finite values",
                key="metrics",
            )
    return result


def score(
    preds: list[SequencePrediction],
    valid: list[np.ndarray | None] | None = None,
    pck_joints: list[int] | None = None,
    protocol: str = "",
    p_mpjpe: str = "correct",
    official_batch: int = 160,
) -> EvalResult:
    """Per-frame errors of ``preds`` averaged per action then over actions (see the module doc).

    ``valid``: per sequence, the frames to score (None = all); ``pck_joints``: compute PCK/AUC.
    ``p_mpjpe="official"`` reproduces the official test loop's P-MPJPE, which gives every frame
    the mean of its test batch of ``official_batch`` frames (a bug of the official code, see
    :func:`pstmo.metrics.p_mpjpe_official`); the default is the correct per-frame value.
    """
    if p_mpjpe not in P_MPJPE_MODES:
        raise DataError(f"p_mpjpe must be one of {P_MPJPE_MODES}, got {p_mpjpe!r}", key="p_mpjpe")
    valid = valid or [None] * len(preds)
    keep = [
        np.ones(len(p.pred), bool) if v is None else np.asarray(v, bool)[: len(p.pred)]
        for p, v in zip(preds, valid)
    ]
    all_preds = preds
    preds, keep, skipped = scoreable(preds, keep)
    if skipped:
        protocol += f"; {skipped} clip(s) with fewer than {MIN_SCORED_FRAMES} scored frames skipped"
    pred_all, tgt_all = scored_frames(preds, keep)
    actions = [p.action for p, k in zip(preds, keep) for _ in range(int(k.sum()))]
    per_frame = frame_errors(pred_all, tgt_all, p_mpjpe, official_batch)
    table = action_tables(per_frame, actions, preds)
    humaneva = None
    if {M.fold_action(a) for a in actions} <= {"Walk", "Jog", "Box"}:
        subjects = [p.subject for p, k in zip(preds, keep) for _ in range(int(k.sum()))]
        humaneva = M.humaneva_table(per_frame["P-MPJPE"], subjects, actions)
    pck_v = auc_v = None
    if pck_joints is not None:
        pck_v = float(M.pck(pred_all, tgt_all, scale=1000.0, joints=pck_joints))
        auc_v = float(M.auc(pred_all, tgt_all, scale=1000.0, joints=pck_joints))
    mpjve = float(table.loc["MPJVE", "Avg"]) if "MPJVE" in table.index else float("nan")
    return check_metrics(EvalResult(
        mpjpe=float(table.loc["MPJPE", "Avg"]), p_mpjpe=float(table.loc["P-MPJPE", "Avg"]),
        n_mpjpe=float(table.loc["N-MPJPE", "Avg"]), mpjve=mpjve, per_action=table, predictions=all_preds,
        num_scored=len(pred_all), protocol=protocol, pck=pck_v, auc=auc_v, per_subject_action=humaneva,
        skipped=skipped,
    ))  # fmt: skip


def scored_frames(preds: list[SequencePrediction], keep: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The scored frames of every clip, concatenated: ``pred (F, J, 3)``, ``target (F, J, 3)``;
    :class:`DataError` when any of them is not finite."""
    pred_all = np.concatenate([p.pred[k] for p, k in zip(preds, keep)])
    tgt_all = np.concatenate([p.target[k] for p, k in zip(preds, keep)])
    for what, arr in (("predictions", pred_all), ("targets", tgt_all)):
        if not np.isfinite(arr).all():
            bad = int((~np.isfinite(arr)).any(axis=(1, 2)).sum())
            raise DataError(
                f"the {what} of {bad} of {len(arr)} scored frames are NaN or infinite", key="metrics"
            )
    return pred_all, tgt_all


def frame_errors(
    pred: np.ndarray, target: np.ndarray, p_mpjpe: str = "correct", official_batch: int = 160
) -> dict[str, np.ndarray]:
    """MPJPE, P-MPJPE (per frame, or the official batch means) and N-MPJPE of every frame,
    ``(F, J, 3)`` metres -> ``(F,)`` mm each."""
    if p_mpjpe == "correct":
        procrustes = M.p_mpjpe(pred, target, scale=1000.0, reduction="none")
    else:
        procrustes = M.p_mpjpe_official(pred, target, official_batch, scale=1000.0, reduction="none")
    return {
        "MPJPE": M.mpjpe(pred, target, scale=1000.0, reduction="none"),
        "P-MPJPE": procrustes,
        "N-MPJPE": M.n_mpjpe(pred, target, scale=1000.0, reduction="none"),
    }


def action_tables(
    per_frame: dict[str, np.ndarray], actions: list[str], preds: list[SequencePrediction]
) -> pd.DataFrame:
    """One row per metric of ``per_frame`` (each ``(F,)``, frame ``f`` of ``actions[f]``) and
    MPJVE (of every clip of ``preds`` longer than one frame), per action then their mean
    (``Avg``): Human3.6M's actions in the papers' order, other data sets' in order of appearance."""
    if {M.fold_action(a) for a in actions} <= set(H36M_ACTIONS):
        order, labels = H36M_ACTIONS, H36M_ACTION_LABELS
    else:  # other data sets: actions in order of appearance
        order, labels = tuple(dict.fromkeys(M.fold_action(a) for a in actions)), None
    rows = [M.action_table(v, actions, order=order, labels=labels, name=k) for k, v in per_frame.items()]
    vel = [M.mpjve(p.pred, p.target, scale=1000.0, reduction="none") for p in preds if len(p.pred) > 1]
    if vel:
        vel_actions = [p.action for p in preds for _ in range(len(p.pred) - 1)]
        rows.append(
            M.action_table(np.concatenate(vel), vel_actions, order=order, labels=labels, name="MPJVE")
        )
    return pd.concat(rows)


def pck_joints_of(dataset: Any, joints: int) -> list[int]:
    """The joints PCK/AUC score: the data set's own list, MPI-INF-3DHP's 14 for its layout, else
    every joint but the root (whose error is 0 by construction)."""
    own = getattr(dataset, "pck_joints", None)
    if own is not None:
        return list(own)
    root = getattr(dataset, "root_joint", 0)
    if root == MPI_INF_3DHP_ROOT and joints == 17:
        return list(MPI_INF_3DHP_PCK_JOINTS)
    return [j for j in range(joints) if j != root]


def protocol_text(
    split: str, flip: bool, max_frames: int | None, frames: int, tds: int, seq2seq: bool = False
) -> str:
    scope = "all frames" if max_frames is None else f"first {max_frames} frames of each sequence"
    windows = (
        "seq2seq PREVIEW (not the papers' protocol): tiling windows, every frame from the multi-frame head"
        if seq2seq
        else "windows (edge-padded)"
    )
    return (
        f"{split} split, {scope}, N={frames} s={tds} {windows}, flip {'on' if flip else 'off'}; "
        "mean per action, then over actions"
    )


def evaluate(
    checkpoint_or_model: str | os.PathLike | nn.Module | Lifter,
    dataset: Any = "demo",
    split: str = "test",
    flip: bool = True,
    *,
    frames: int | None = None,
    tds: int | None = None,
    data_dir: str | None = None,
    keypoints: str = "gt",
    subjects: list[str] | None = None,
    actions: list[str] | None = None,
    pck: bool = False,
    max_frames: int | None = None,
    device: str = "auto",
    batch_size: int | None = None,
    fast: bool = True,
    p_mpjpe: str = "correct",
    seq2seq: bool = False,
) -> EvalResult:
    """Evaluate a lifting model (P-STMO Stage II or LiftFormer) with the papers' protocol.

    ``checkpoint_or_model``: a ``pstmo`` checkpoint path, a released official P-STMO checkpoint,
    a :class:`~pstmo.inference.Lifter`, or an ``nn.Module`` (then pass ``frames``). ``dataset``:
    a name for :func:`pstmo.data.load_dataset` or a ``PoseDataset``. ``tds`` overrides the
    checkpoint's TDS rate; ``fast`` runs the fast inference copy (same outputs to 1e-5);
    ``p_mpjpe="official"`` reproduces the official printout's P-MPJPE (see :func:`score`);
    ``seq2seq=True`` scores the preview mode of :meth:`~pstmo.inference.Lifter.lift` instead of the
    papers' many-to-one protocol (the protocol text says so).
    """
    ds = _load_dataset(dataset, data_dir, keypoints)
    skeleton = getattr(ds, "skeleton", None)
    if isinstance(checkpoint_or_model, Lifter):
        lifter = checkpoint_or_model
    elif isinstance(checkpoint_or_model, nn.Module):
        n = frames or getattr(getattr(checkpoint_or_model, "cfg", None), "frames", None)
        if n is None:
            raise CheckpointError("evaluate(model, ...) needs frames=N for a model without a config")
        lifter = Lifter(checkpoint_or_model, n, tds or 1, skeleton, fast=fast, batch_size=batch_size)
    else:
        lifter = Lifter.from_checkpoint(
            checkpoint_or_model, device, tds=tds, fast=fast, batch_size=batch_size
        )
        if frames is not None and frames != lifter.frames:
            raise CheckpointError(
                f"{checkpoint_or_model}: the model takes N={lifter.frames} frames, not {frames}"
            )
    if skeleton is not None and skeleton.num_joints == lifter.joints and lifter.skeleton != skeleton:
        lifter = replace(lifter, skeleton=skeleton)  # a copy: the caller's Lifter is never changed
    sequences = ds.sequences(split, subjects=subjects, actions=actions)
    root = getattr(ds, "root_joint", 0)
    preds = predict_sequences(lifter, sequences, flip, max_frames, root, seq2seq)
    valid = [getattr(s, "valid", None) for s in sequences]
    protocol = protocol_text(split, flip, max_frames, lifter.frames, lifter.tds, seq2seq)
    if p_mpjpe == "official":
        protocol += "; P-MPJPE as the official code (batch means of 160 frames)"
    return score(preds, valid, pck_joints_of(ds, lifter.joints) if pck else None, protocol, p_mpjpe)


def mean_pose_baseline(
    dataset: Any = "demo",
    split: str = "test",
    *,
    data_dir: str | None = None,
    keypoints: str = "gt",
    pck: bool = False,
) -> EvalResult:
    """The error of predicting the mean training pose for every frame (no model), scored with
    the same protocol as :func:`evaluate`: what a lifting model must beat to have learned
    anything from the 2D input.

    The mean is taken over every frame of every training sequence (all cameras), in the
    root-relative camera frame the targets are in, ``(J, 3)`` metres.
    """
    ds = _load_dataset(dataset, data_dir, keypoints)
    train_poses = [np.asarray(s.pose_3d, dtype=np.float64) for s in ds.sequences("train")]
    if not train_poses:
        raise DataError("no training sequences to average", key="train")
    mean = np.concatenate(train_poses).mean(0).astype(np.float32)
    root = getattr(ds, "root_joint", 0)
    mean[root] = 0.0
    sequences = ds.sequences(split)
    preds = []
    for seq in sequences:
        pose_2d, target = _check_sequence(seq)
        pred = np.repeat(mean[None], len(target), axis=0)
        preds.append(SequencePrediction(seq.subject, seq.action, seq.camera, pose_2d, pred, target))
    if not preds:
        raise DataError(f"no {split} sequences to evaluate", key="sequences")
    valid = [getattr(s, "valid", None) for s in sequences]
    protocol = f"{split} split, all frames; mean training pose for every frame (no model); mean per action, then over actions"
    return score(preds, valid, pck_joints_of(ds, mean.shape[0]) if pck else None, protocol)


__all__ = [
    "EvalResult", "SequencePrediction", "evaluate", "mean_pose_baseline", "pck_joints_of", "predict_sequences",
    "score",
]  # fmt: skip
