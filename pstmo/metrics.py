"""Evaluation metrics of P-STMO and LiftFormer, in the style of VideoPose3D's ``common/loss.py``.

Every metric takes a prediction and a target of shape ``(..., J, 3)`` (NumPy arrays or
torch tensors; the result has the same kind) and by default returns the mean over all
leading dimensions. Pass ``reduction="none"`` to get one value per pose ``(...,)``,
which is what per-action aggregation needs. Inputs are used in their own unit; pass
``scale=1000.0`` to turn metres into millimetres (the papers report mm).

- Protocol 1, **MPJPE**: mean Euclidean joint distance.
- Protocol 2, **P-MPJPE**: MPJPE after a per-frame similarity Procrustes alignment
  (rotation with reflection fix, uniform scale, translation) of the prediction.
  :func:`p_mpjpe_official` reproduces the official P-STMO evaluation, which gives every
  frame of a test batch the batch mean (a bug: batches that mix actions leak across them).
- **N-MPJPE**: MPJPE after the per-frame least-squares scale alignment (Rhodin et al.).
- Protocol 3, **MPJVE**: MPJPE of the first temporal derivative (velocity).
- MPI-INF-3DHP **PCK** at 150 mm and **AUC** over thresholds 0..150 mm step 5,
  on the 14 joints :data:`pstmo.skeleton.MPI_INF_3DHP_PCK_JOINTS`.

Per-action tables follow the papers: average the frames within each action, then take
the unweighted mean over the actions (:func:`action_table`, :func:`humaneva_table`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from pstmo.skeleton import H36M_ACTION_LABELS, H36M_ACTIONS, MPI_INF_3DHP_PCK_JOINTS

Array = Any  # np.ndarray | torch.Tensor

#: Thresholds of the MPI-INF-3DHP AUC, in millimetres: 0, 5, ..., 150 (31 values).
AUC_THRESHOLDS_MM: tuple[float, ...] = tuple(float(t) for t in range(0, 151, 5))

#: Names that some Human3.6M subjects use for two of the 15 actions.
_ACTION_ALIASES = {"TakingPhoto": "Photo", "WalkingDog": "WalkDog"}  # VideoPose3D clip names -> test labels


def _check(pred: Array, target: Array) -> None:
    if tuple(pred.shape) != tuple(target.shape):
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    if len(pred.shape) < 2:
        raise ValueError(f"poses must have shape (..., J, C), got {tuple(pred.shape)}")


def _reduce(per_pose: Array, reduction: str) -> Array:
    if reduction == "none":
        return per_pose
    if reduction == "mean":
        return per_pose.mean()
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def _to_numpy(x: Array) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def _like(result: np.ndarray, ref: Array) -> Array:
    """Return ``result`` as a tensor on ``ref``'s device if ``ref`` is a tensor."""
    if isinstance(ref, torch.Tensor):
        return torch.as_tensor(
            result, dtype=ref.dtype if ref.is_floating_point() else None, device=ref.device
        )
    return result


def _norm(x: Array) -> Array:
    if isinstance(x, torch.Tensor):
        return torch.linalg.norm(x, dim=-1)
    return np.linalg.norm(x, axis=-1)


def mpjpe(pred: Array, target: Array, *, scale: float = 1.0, reduction: str = "mean") -> Array:
    """Protocol 1: mean per-joint position error, ``mean ||pred - target||_2`` over joints.

    ``(..., J, 3)`` -> scalar (``reduction="mean"``) or ``(...,)``. Differentiable for tensors,
    so it doubles as the training loss (P-STMO Eq. 8/9).
    """
    _check(pred, target)
    per_pose = _norm(pred - target).mean(-1) * scale
    return _reduce(per_pose, reduction)


def procrustes_align(pred: Array, target: Array) -> Array:
    """Align each pose of ``pred`` to ``target`` by a similarity transform (R, s, t).

    Orthogonal Procrustes per frame (Umeyama): ``R`` is a proper rotation (a reflection
    found by the SVD is undone by flipping the sign of the last singular vector), ``s``
    the optimal scale and ``t`` the translation. ``(..., J, 3)`` -> ``(..., J, 3)``.
    """
    _check(pred, target)
    x = _to_numpy(target)
    y = _to_numpy(pred)
    shape = y.shape
    x = x.reshape(-1, *shape[-2:])
    y = y.reshape(-1, *shape[-2:])

    mu_x = x.mean(axis=1, keepdims=True)
    mu_y = y.mean(axis=1, keepdims=True)
    x0 = x - mu_x
    y0 = y - mu_y
    norm_x = np.sqrt((x0**2).sum(axis=(1, 2), keepdims=True))
    norm_y = np.sqrt((y0**2).sum(axis=(1, 2), keepdims=True))
    norm_x = np.where(norm_x == 0, 1.0, norm_x)
    norm_y = np.where(norm_y == 0, 1.0, norm_y)
    x0 = x0 / norm_x
    y0 = y0 / norm_y

    h = np.matmul(x0.transpose(0, 2, 1), y0)
    u, s, vt = np.linalg.svd(h)
    v = vt.transpose(0, 2, 1)
    r = np.matmul(v, u.transpose(0, 2, 1))

    # Reflection fix: force det(R) = +1 by flipping the last singular direction.
    sign_det = np.sign(np.expand_dims(np.linalg.det(r), axis=1))
    sign_det = np.where(sign_det == 0, 1.0, sign_det)
    v[:, :, -1] *= sign_det
    s[:, -1] *= sign_det.flatten()
    r = np.matmul(v, u.transpose(0, 2, 1))

    tr = np.expand_dims(s.sum(axis=1, keepdims=True), axis=2)
    a = tr * norm_x / norm_y
    t = mu_x - a * np.matmul(mu_y, r)
    aligned = a * np.matmul(y, r) + t
    return _like(aligned.reshape(shape), pred)


def p_mpjpe(pred: Array, target: Array, *, scale: float = 1.0, reduction: str = "mean") -> Array:
    """Protocol 2: MPJPE after similarity Procrustes alignment of each frame (P-MPJPE).

    Not differentiable (computed in float64 NumPy); tensors in, tensors out.
    """
    aligned = procrustes_align(pred, target)
    per_pose = _norm(_to_numpy(aligned) - _to_numpy(target)).mean(-1) * scale
    return _like(_reduce(per_pose, reduction), pred)


def p_mpjpe_official(
    pred: Array, target: Array, batch_size: int, *, scale: float = 1.0, reduction: str = "mean"
) -> Array:
    """P-MPJPE as the official P-STMO test loop accumulates it: every frame gets its batch's mean.

    ``pred``, ``target``: ``(F, J, 3)`` (or ``(..., J, 3)``, flattened in order) in the order
    the official test loader yields them (``shuffle=False``), ``batch_size`` the official test
    batch size (``-b``, 160 in every README recipe). Frames ``[i*batch_size, (i+1)*batch_size)``
    form batch ``i``; each frame's value is the mean per-frame P-MPJPE of its batch (the last
    batch may be shorter). ``reduction="none"`` returns those ``(F,)`` values.

    Why: the official ``common/utils.py`` ``mpjpe_by_action_p2`` computes the per-frame
    P-MPJPE of a batch and then, when the batch mixes actions, adds ``np.mean(dist)`` (the
    batch mean) once per sample to that sample's action (and ``mean * num`` when it holds one
    action, which comes to the same). So an action's official P-MPJPE borrows the errors of
    the other actions it shares batches with; the overall mean over frames is unchanged, the
    per-action table and its unweighted ``Avg`` are not. Feeding these values to
    :func:`per_action_mean` / :func:`action_table` reproduces the official printout;
    :func:`p_mpjpe` is the correct per-frame value. (The official protocol-1 MPJPE is per
    sample and needs no variant.)
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    per_frame = _to_numpy(p_mpjpe(pred, target, scale=scale, reduction="none")).reshape(-1)
    batch = np.arange(per_frame.shape[0]) // batch_size
    sums = np.bincount(batch, weights=per_frame)
    counts = np.bincount(batch)
    per_pose = (sums / counts)[batch]
    return _like(_reduce(per_pose, reduction), pred)


def n_mpjpe(pred: Array, target: Array, *, scale: float = 1.0, reduction: str = "mean") -> Array:
    """N-MPJPE: MPJPE after scaling each predicted pose by ``s* = <pred, target> / <pred, pred>``.

    The least-squares optimal scale (Rhodin et al., CVPR 2018), no rotation or translation.
    """
    _check(pred, target)
    dims = (-2, -1)
    if isinstance(pred, torch.Tensor):
        num = (pred * target).sum(dim=dims, keepdim=True)
        den = (pred * pred).sum(dim=dims, keepdim=True).clamp_min(1e-12)
    else:
        num = (pred * target).sum(axis=dims, keepdims=True)
        den = np.maximum((pred * pred).sum(axis=dims, keepdims=True), 1e-12)
    return mpjpe(num / den * pred, target, scale=scale, reduction=reduction)


def mpjve(
    pred: Array,
    target: Array,
    *,
    scale: float = 1.0,
    fps: float | None = None,
    axis: int = -3,
    reduction: str = "mean",
) -> Array:
    """Protocol 3: mean per-joint velocity error, MPJPE of the first time derivative.

    Poses ``(..., T, J, 3)`` with time on ``axis`` (default the one before the joints);
    velocities are frame differences, so the unit is (input unit x ``scale``) per frame,
    or per second when ``fps`` is given. ``reduction="none"`` returns ``(..., T - 1)``.
    """
    _check(pred, target)
    if isinstance(pred, torch.Tensor):
        vel = torch.diff(pred, dim=axis) - torch.diff(target, dim=axis)
    else:
        vel = np.diff(pred, axis=axis) - np.diff(target, axis=axis)
    per_step = _norm(vel).mean(-1) * scale * (fps if fps is not None else 1.0)
    return _reduce(per_step, reduction)


def _select_joints(x: Array, joints: Sequence[int] | None) -> Array:
    if joints is None:
        return x
    return x[..., list(joints), :]


def pck(
    pred: Array,
    target: Array,
    *,
    threshold: float = 150.0,
    scale: float = 1.0,
    joints: Sequence[int] | None = MPI_INF_3DHP_PCK_JOINTS,
    reduction: str = "mean",
) -> Array:
    """MPI-INF-3DHP PCK: percentage of joints closer than ``threshold`` (150 mm) to the truth.

    Distances are ``||pred - target|| * scale`` in the threshold's unit; only ``joints``
    (default the 14 scored joints) count. Returns percent (0..100).
    """
    _check(pred, target)
    dist = _norm(_select_joints(pred, joints) - _select_joints(target, joints)) * scale
    hits = dist < threshold
    per_pose = (hits.double() if isinstance(hits, torch.Tensor) else hits.astype(np.float64)).mean(-1) * 100.0
    return _reduce(per_pose, reduction)


def auc(
    pred: Array,
    target: Array,
    *,
    thresholds: Sequence[float] = AUC_THRESHOLDS_MM,
    scale: float = 1.0,
    joints: Sequence[int] | None = MPI_INF_3DHP_PCK_JOINTS,
    reduction: str = "mean",
) -> Array:
    """MPI-INF-3DHP AUC: the mean of PCK over thresholds 0, 5, ..., 150 mm, in percent."""
    values = [
        pck(pred, target, threshold=t, scale=scale, joints=joints, reduction="none") for t in thresholds
    ]
    if isinstance(values[0], torch.Tensor):
        per_pose = torch.stack(values, dim=0).mean(0)
    else:
        per_pose = np.stack(values, axis=0).mean(0)
    return _reduce(per_pose, reduction)


def pck_curve(
    pred: Array,
    target: Array,
    thresholds: Sequence[float] = AUC_THRESHOLDS_MM,
    *,
    scale: float = 1.0,
    joints: Sequence[int] | None = MPI_INF_3DHP_PCK_JOINTS,
) -> np.ndarray:
    """PCK (%) at each threshold, ``(len(thresholds),)``: the curve whose mean over the AUC
    thresholds is :func:`auc`. Pass the data set's joints (``pstmo.evaluate.pck_joints_of``):
    the default 14 are MPI-INF-3DHP's, on its own layout (root at 14)."""
    return np.asarray(
        [float(pck(pred, target, threshold=t, scale=scale, joints=joints)) for t in thresholds],
        dtype=np.float64,
    )


# --------------------------------------------------------------------------- per-action tables


def fold_action(clip: str) -> str:
    """The action label of a clip name (the one action-name rule of the package).

    Drops the take number and suffixes, folds VideoPose3D's aliases: "Walking 1" -> "Walking",
    "Walking.54138969" (a camera suffix) -> "Walking", "TakingPhoto 1" -> "Photo",
    "WalkingDog" -> "WalkDog", "SittingDown 2" -> "SittingDown", HumanEva's "Walk 1 chunk0" -> "Walk".
    """
    base = re.sub(r"\.\d+$", "", str(clip).strip())
    base = re.sub(r"\s+chunk\d+$", "", base)
    base = re.sub(r"\s+\d+$", "", base)
    return _ACTION_ALIASES.get(base, base)


def per_action_mean(errors: Array, actions: Sequence[str], *, canonical: bool = True) -> dict[str, float]:
    """Average the per-frame ``errors (F,)`` within each action; returns ``{action: mean}``."""
    err = _to_numpy(errors).reshape(-1)
    acts = np.asarray([fold_action(a) if canonical else str(a) for a in actions])
    if len(acts) != len(err):
        raise ValueError(f"{len(err)} errors but {len(acts)} action labels")
    return {a: float(err[acts == a].mean()) for a in dict.fromkeys(acts.tolist())}


def action_table(
    errors: Array,
    actions: Sequence[str],
    *,
    order: Sequence[str] = H36M_ACTIONS,
    labels: Sequence[str] | None = H36M_ACTION_LABELS,
    name: str = "MPJPE",
):
    """The papers' Human3.6M table: one row, the 15 actions in column order, then ``Avg``.

    ``errors (F,)`` per frame, ``actions`` the action of each frame (take numbers ignored).
    ``Avg`` is the unweighted mean over the actions present (not the mean over frames).
    Actions missing from the data are NaN columns. Returns a ``pandas.DataFrame``.
    """
    import pandas as pd

    means = per_action_mean(errors, actions)
    extra = [a for a in means if a not in order]
    if extra:
        raise ValueError(f"actions {extra} are not in the table order {list(order)}")
    row = [means.get(a, float("nan")) for a in order]
    present = [v for v in row if not np.isnan(v)]
    columns = list(labels) if labels is not None else list(order)
    frame = pd.DataFrame(
        [row + [float(np.mean(present)) if present else float("nan")]], columns=columns + ["Avg"]
    )
    frame.index = [name]
    return frame


def humaneva_table(
    errors: Array,
    subjects: Sequence[str],
    actions: Sequence[str],
    *,
    order_actions: Sequence[str] | None = ("Walk", "Jog", "Box"),
    order_subjects: Sequence[str] | None = ("S1", "S2", "S3"),
    exclude: Sequence[tuple[str, str]] = (),
    name: str = "P-MPJPE",
):
    """HumanEva-I per-(action, subject) table as in LiftFormer Table 5.

    ``errors``: one value per frame, of every camera's sequences; ``subjects`` / ``actions``
    label each frame. Frames are averaged within each (action, subject) pair, **over all
    cameras** (take suffixes such as ``"Walk 1"`` / ``"Walk_1"`` and split prefixes such as
    ``"Validate/S1"`` dropped); ``Avg`` is the unweighted mean over the pairs present,
    leaving out those in ``exclude`` (e.g. ``[("Walk", "S3")]``, the corrupted mocap).
    Columns are a ``(action, subject)`` MultiIndex; pairs absent from the data are dropped.
    ``order_actions`` / ``order_subjects`` None: in order of appearance (other data sets).
    """
    import pandas as pd

    err = _to_numpy(errors).reshape(-1)
    acts = np.asarray([str(a).split(" ")[0].split("_")[0] for a in actions])
    subs = np.asarray([str(s).split("/")[-1] for s in subjects])  # "Validate/S1" -> "S1"
    if not (len(err) == len(acts) == len(subs)):
        raise ValueError(f"{len(err)} errors, {len(acts)} actions, {len(subs)} subjects: lengths differ")
    order_actions = list(dict.fromkeys(acts.tolist())) if order_actions is None else order_actions
    order_subjects = list(dict.fromkeys(subs.tolist())) if order_subjects is None else order_subjects
    cols, values = [], []
    for a in order_actions:
        for s in order_subjects:
            sel = (acts == a) & (subs == s)
            if sel.any():
                cols.append((a, s))
                values.append(float(err[sel].mean()))
    kept = [v for c, v in zip(cols, values) if tuple(c) not in {tuple(e) for e in exclude}]
    cols.append(("Avg", ""))
    values.append(float(np.mean(kept)) if kept else float("nan"))
    frame = pd.DataFrame([values], columns=pd.MultiIndex.from_tuples(cols))
    frame.index = [name]
    return frame


__all__ = [
    "AUC_THRESHOLDS_MM",
    "action_table",
    "auc",
    "fold_action",
    "humaneva_table",
    "mpjpe",
    "mpjve",
    "n_mpjpe",
    "p_mpjpe",
    "p_mpjpe_official",
    "per_action_mean",
    "pck",
    "pck_curve",
    "procrustes_align",
]
