"""Lift your own 2D keypoints to 3D with a trained model (``pstmo lift``).

The pipeline, one function per step:

1. ``read_keypoints(path)``: a COCO results JSON (list of ``{image_id, keypoints [51], score,
   category_id}``, ``image_id`` = frame), or an ``.npy``/``.npz`` array ``(T, 17, 2|3)``
   (x, y pixels and optionally a confidence score) -> :class:`Keypoints` ``(T, 17, 3)``.
2. ``to_h36m``: COCO-17 -> Human3.6M-17 layout (``pstmo.skeleton.coco_to_h36m``).
3. ``fill_missing``: joints with score < ``min_score`` or missing frames are filled by linear
   interpolation in time (held constant before the first / after the last detection).
4. ``normalize_screen``: pixels -> ``X / w * 2 - [1, h / w]`` (VideoPose3D / P-STMO).
5. ``lift_sequence``: every frame ``t`` is the centre of a window of ``N`` frames
   ``t + k*s``, ``k in [-(N-1)/2, (N-1)/2]`` (TDS rate ``s``), indices outside the clip are
   edge-padded (repeat the first / last frame); the model's ``center`` output ``(B, 1, J, 3)``
   is the 3D pose of frame ``t``, root-relative metres.
6. ``lift_keypoints`` writes ``poses_3d.npz`` and an animation (GIF).

Models are trained on 50 fps sequences; ``check_frame_rate`` refuses input whose effective
rate ``fps / tds`` is off by more than ``FPS_TOLERANCE`` and suggests a TDS rate.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pstmo.errors import CheckpointError, DataError
from pstmo.io import atomic_write, write_json
from pstmo.skeleton import NUM_JOINTS, ROOT, coco_to_h36m, flip_permutation

MODEL_FPS: float = 50.0
FPS_TOLERANCE: float = 1.5
LAYOUTS: tuple[str, ...] = ("coco", "h36m")


@dataclass
class Keypoints:
    """2D keypoints of one person: ``xy (T, 17, 2)`` pixels, ``score (T, 17)`` confidence
    (NaN coordinates and score 0 where a frame is missing), image ``width``/``height``."""

    xy: np.ndarray
    score: np.ndarray
    width: float | None = None
    height: float | None = None
    frame_ids: list = field(default_factory=list)
    source: str = ""

    def __len__(self) -> int:
        return int(self.xy.shape[0])


# ----------------------------------------------------------------------------------------------
# 1. reading


def read_keypoints(
    path: str | os.PathLike, width: float | None = None, height: float | None = None
) -> Keypoints:
    """Read 2D keypoints from a COCO results JSON, ``.npy`` or ``.npz`` (``(T, 17, 2|3)``).

    ``.npz`` files hold the array under ``keypoints`` (or as their only array) and may
    store ``width``/``height`` (``res_w``/``res_h``); explicit arguments win.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=str(path))
    suffix = path.suffix.lower()
    if suffix == ".json":
        kp = _read_coco_json(path)
    elif suffix in (".npy", ".npz"):
        kp = _read_array(path)
    else:
        raise DataError(
            "expected a COCO results .json, a .npy or a .npz of shape (T, 17, 2|3)", path=str(path)
        )
    kp.width = float(width) if width is not None else kp.width
    kp.height = float(height) if height is not None else kp.height
    if kp.width is None or kp.height is None:
        raise DataError(
            "image width/height unknown: pass --width and --height (or store 'width'/'height' in the .npz)",
            path=str(path),
        )
    if kp.width <= 0 or kp.height <= 0:
        raise DataError(f"image size must be positive, got {kp.width} x {kp.height}", path=str(path))
    return kp


def _read_coco_json(path: Path) -> Keypoints:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc})", path=str(path)) from exc
    if isinstance(data, dict) and "annotations" in data:  # a COCO ground-truth style file
        data = data["annotations"]
    if not isinstance(data, list):
        raise DataError("expected a list of {image_id, keypoints[51], score, category_id}", path=str(path))
    if not data:
        raise DataError("no detections (empty list)", path=str(path))
    best: dict[Any, dict] = {}
    for i, det in enumerate(data):
        if not isinstance(det, dict) or "image_id" not in det or "keypoints" not in det:
            raise DataError(f"entry {i} has no 'image_id'/'keypoints'", path=str(path), key="keypoints")
        if det.get("category_id", 1) != 1:  # COCO person category
            continue
        if len(det["keypoints"]) != 3 * NUM_JOINTS:
            raise DataError(
                f"entry {i}: expected 51 values (17 x [x, y, score]), got {len(det['keypoints'])}",
                path=str(path),
                key="keypoints",
            )
        # one person per frame: keep the most confident detection
        prev = best.get(det["image_id"])
        if prev is None or det.get("score", 0.0) > prev.get("score", 0.0):
            best[det["image_id"]] = det
    if not best:
        raise DataError("no person detections (category_id 1)", path=str(path))
    ids = sorted(best)
    if all(isinstance(i, int) for i in ids):
        frame_ids = list(range(ids[0], ids[-1] + 1))  # gaps become missing frames
    else:
        frame_ids = ids
    xy = np.full((len(frame_ids), NUM_JOINTS, 2), np.nan)
    score = np.zeros((len(frame_ids), NUM_JOINTS))
    index = {f: t for t, f in enumerate(frame_ids)}
    for image_id, det in best.items():
        k = np.asarray(det["keypoints"], dtype=np.float64).reshape(NUM_JOINTS, 3)
        xy[index[image_id]] = k[:, :2]
        score[index[image_id]] = k[:, 2]
    return Keypoints(xy, score, frame_ids=frame_ids, source=str(path))


def _read_array(path: Path) -> Keypoints:
    width = height = None
    key = "keypoints"
    if path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as z:
            names = list(z.files)
            if "keypoints" not in names:
                arrays = [n for n in names if z[n].ndim == 3]
                if len(arrays) != 1:
                    raise DataError(f"expected key 'keypoints' (T, 17, 2|3); found {names}", path=str(path))
                key = arrays[0]
            arr = z[key]
            for wk, hk in (("width", "height"), ("res_w", "res_h")):
                if wk in names and hk in names:
                    width, height = float(z[wk]), float(z[hk])
    else:
        arr = np.load(path, allow_pickle=False)
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[1] != NUM_JOINTS or arr.shape[2] not in (2, 3):
        raise DataError(f"expected shape (T, 17, 2|3), got {arr.shape}", path=str(path), key=key)
    if arr.shape[0] == 0:
        raise DataError("empty sequence (T = 0)", path=str(path), key=key)
    score = arr[..., 2].copy() if arr.shape[2] == 3 else np.ones(arr.shape[:2])
    score[~np.isfinite(arr[..., :2]).all(-1)] = 0.0
    return Keypoints(arr[..., :2].copy(), score, width, height, list(range(arr.shape[0])), str(path))


# ----------------------------------------------------------------------------------------------
# 2.-4. conversion, gap filling, normalisation


def to_h36m(kp: Keypoints, layout: str = "coco") -> Keypoints:
    """COCO-17 -> Human3.6M-17 (``layout="coco"``); ``"h36m"`` input is passed through."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if layout == "h36m":
        return kp
    both = coco_to_h36m(np.concatenate([np.nan_to_num(kp.xy), kp.score[..., None]], axis=-1))
    xy = both[..., :2].astype(np.float64)
    score = both[..., 2].astype(np.float64)
    xy[score <= 0] = np.nan
    return Keypoints(xy, score, kp.width, kp.height, kp.frame_ids, kp.source)


def fill_missing(xy: np.ndarray, score: np.ndarray, min_score: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Replace joints with ``score < min_score`` (or NaN) by linear interpolation in time.

    ``xy (T, J, 2)``, ``score (T, J)`` -> ``(filled (T, J, 2), was_filled (T, J) bool)``.
    Before the first and after the last valid detection a joint keeps its nearest value.
    A joint with no valid detection in the whole sequence is an error.
    """
    xy = np.asarray(xy, dtype=np.float64)
    valid = (np.asarray(score) >= min_score) & np.isfinite(xy).all(-1)
    out = xy.copy()
    t = np.arange(xy.shape[0])
    for j in range(xy.shape[1]):
        ok = valid[:, j]
        if not ok.any():
            raise DataError(
                f"joint {j} has no detection with score >= {min_score} in any of the {xy.shape[0]} frames; "
                "lower --min-score or check the keypoint layout",
                key="keypoints",
            )
        if ok.all():
            continue
        for c in range(xy.shape[2]):
            out[:, j, c] = np.interp(t, t[ok], xy[ok, j, c])
    return out, ~valid


def normalize_screen(xy: np.ndarray, width: float, height: float) -> np.ndarray:
    """Pixels ``(..., 2)`` -> normalised screen coordinates ``X / w * 2 - [1, h / w]``
    (as ``pstmo.cameras.normalize_screen_coordinates``; x in [-1, 1], aspect kept)."""
    from pstmo.cameras import normalize_screen_coordinates

    return normalize_screen_coordinates(np.asarray(xy, dtype=np.float64), width, height)


def check_frame_rate(fps: float | None, tds: int = 1, model_tds: int = 1) -> None:
    """Refuse input whose window spacing differs too much from training.

    The model saw window frames ``model_tds`` apart at 50 fps (``MODEL_FPS / model_tds`` frames
    per second between window frames); keypoints at ``fps`` with TDS ``tds`` give
    ``fps / tds``. A ratio beyond ``FPS_TOLERANCE`` raises ``DataError`` suggesting a TDS rate
    (e.g. 100 fps -> ``--tds 2``) or resampling (e.g. 25 fps).
    """
    if fps is None:
        return
    if fps <= 0:
        raise DataError(f"--fps must be positive, got {fps}")
    expected = MODEL_FPS / model_tds
    effective = fps / tds
    if max(effective / expected, expected / effective) <= FPS_TOLERANCE:
        return
    suggested = max(1, round(fps / expected))
    if max(fps / suggested / expected, expected * suggested / fps) <= FPS_TOLERANCE:
        hint = f"use --tds {suggested}"
    else:
        hint = f"resample the keypoints to ~{MODEL_FPS:.0f} fps first"
    raise DataError(
        f"frame rate {fps:g} fps with --tds {tds} puts window frames {effective:.1f} per second apart, but the "
        f"model was trained on {MODEL_FPS:.0f} fps sequences with TDS {model_tds} ({expected:.1f} per second): {hint}"
    )


# ----------------------------------------------------------------------------------------------
# 5. lifting


def window_indices(num_frames: int, frames: int, tds: int = 1) -> np.ndarray:
    """Indices ``(T, N)`` of the window centred on each frame: ``t + k*tds``,
    ``k in [-(N-1)/2, (N-1)/2]``, clipped to ``[0, T-1]`` (edge padding)."""
    if frames < 1 or frames % 2 == 0:
        raise ValueError(f"the receptive field must be odd, got {frames}")
    import torch

    from pstmo.data.windows import window_indices as indices

    frame = torch.arange(num_frames)
    return indices(frame, torch.full((num_frames,), num_frames), frames, tds).numpy()


def lift_sequence(
    model,
    pose_2d: np.ndarray,
    frames: int,
    tds: int = 1,
    batch_size: int = 256,
    flip: bool = False,
    progress: bool = False,
) -> np.ndarray:
    """3D pose of every frame of ``pose_2d (T, J, 2)`` (normalised) -> ``(T, J, 3)`` metres.

    Each frame is the centre of an ``frames``-frame window (TDS ``tds``, edge padding);
    ``model(x (B, N, J, 2)).center (B, 1, J, 3)`` is its pose. ``flip=True`` averages with the
    horizontally flipped input (left/right swapped, prediction flipped back), as P-STMO tests.
    The root joint is set to 0 (root-relative output). Runs on the model's device.
    """
    import torch
    from tqdm.auto import tqdm

    pose_2d = np.asarray(pose_2d, dtype=np.float32)
    if pose_2d.ndim != 3 or pose_2d.shape[-1] != 2:
        raise DataError(f"pose_2d: expected shape (T, J, 2), got {pose_2d.shape}")
    if pose_2d.shape[0] == 0:
        raise DataError("pose_2d: empty sequence (T = 0)")
    idx = window_indices(pose_2d.shape[0], frames, tds)
    perm = flip_permutation(pose_2d.shape[1])
    out = np.empty((pose_2d.shape[0], pose_2d.shape[1], 3), dtype=np.float32)
    param = next(iter(model.parameters()), None)
    device = param.device if param is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for s in tqdm(range(0, len(idx), batch_size), desc="lift", disable=not progress, leave=False):
                x = torch.from_numpy(pose_2d[idx[s : s + batch_size]]).to(device)
                y = _center(model(x))
                if flip:
                    xf = x[:, :, perm].clone()
                    xf[..., 0] *= -1
                    yf = _center(model(xf))[:, :, perm].clone()
                    yf[..., 0] *= -1
                    y = (y + yf) / 2
                out[s : s + batch_size] = y[:, 0].float().cpu().numpy()
    finally:
        model.train(was_training)
    out[:, ROOT] = 0.0
    return out


def _center(output):
    center = getattr(output, "center", output)
    if center.ndim != 4 or center.shape[1] != 1 or center.shape[-1] != 3:
        raise CheckpointError(
            f"model output 'center' must have shape (B, 1, J, 3), got {tuple(center.shape)}"
        )
    return center


def load_lifting_model(checkpoint: str | os.PathLike, device: str = "cpu"):
    """Model and its receptive field / training TDS rate from a ``pstmo`` checkpoint or a
    released official P-STMO checkpoint (``pstmo.engine.load_model``).

    Returns ``(model in eval mode, frames, tds)``.
    """
    from pstmo import engine

    path = Path(checkpoint)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    model, info = engine.load_model(path, device=device)
    if info.get("stage") == "pretrain":
        raise CheckpointError(
            f"{path}: a Stage I (MPM pre-training) checkpoint cannot lift to 3D; use a Stage II one"
        )
    return model, int(info["frames"]), int(info.get("tds") or 1)


def _model_frames(model) -> int:
    for name in ("frames", "num_frames", "receptive_field"):
        value = getattr(model, name, None) or getattr(getattr(model, "config", None), name, None)
        if value:
            return int(value)
    raise CheckpointError("cannot tell the model's number of input frames; pass frames=")


# ----------------------------------------------------------------------------------------------
# 6. the whole pipeline


@dataclass
class LiftResult:
    """What ``lift_keypoints`` produced: ``poses_3d (T, 17, 3)`` metres root-relative,
    ``pose_2d (T, 17, 2)`` normalised input, ``pose_2d_pixels``, ``filled (T, 17)``, output paths."""

    poses_3d: np.ndarray
    pose_2d: np.ndarray
    pose_2d_pixels: np.ndarray
    filled: np.ndarray
    npz_path: Path
    animation_path: Path | None


def lift_keypoints(
    keypoints: str | os.PathLike,
    out_dir: str | os.PathLike,
    checkpoint: str | os.PathLike | None = None,
    model=None,
    frames: int | None = None,
    model_tds: int = 1,
    tds: int | None = None,
    width: float | None = None,
    height: float | None = None,
    fps: float | None = None,
    min_score: float = 0.3,
    layout: str = "coco",
    flip: bool = True,
    device: str = "auto",
    batch_size: int = 256,
    animation: bool = True,
    anim_stride: int = 1,
    anim_max_frames: int = 300,
    progress: bool = True,
) -> LiftResult:
    """Read, convert, fill, normalise and lift a keypoint file; write ``<out_dir>/poses_3d.npz``
    (``poses_3d``, ``pose_2d``, ``pose_2d_pixels``, ``filled``, ``width``, ``height``, ``frames``,
    ``tds``) and ``<out_dir>/poses_3d.gif``.

    Give either ``checkpoint`` or an in-memory ``model`` (then ``frames`` too). ``tds`` defaults
    to the model's training TDS rate scaled by ``fps / 50``. ``flip`` averages with the flipped
    input (test-time augmentation, as ``engine.evaluate``); ``device="auto"`` picks CUDA if present.
    """
    if model is None and checkpoint is None:
        raise ValueError("give a checkpoint path or a model")
    # input problems first: they are cheaper to find than loading a model
    kp = to_h36m(read_keypoints(keypoints, width, height), layout)
    pixels, filled = fill_missing(kp.xy, kp.score, min_score)
    if model is None:
        model, ckpt_frames, model_tds = load_lifting_model(checkpoint, device)
        frames = frames or ckpt_frames
    if frames is None:
        frames = _model_frames(model)
    if tds is None:
        tds = model_tds if fps is None else max(1, round(model_tds * fps / MODEL_FPS))
    check_frame_rate(fps, tds, model_tds)

    pose_2d = normalize_screen(pixels, kp.width, kp.height)
    poses_3d = lift_sequence(model, pose_2d, frames, tds, batch_size, flip, progress)

    out_dir = Path(out_dir)
    npz_path = out_dir / "poses_3d.npz"
    with atomic_write(npz_path, "wb") as fh:
        np.savez_compressed(
            fh,
            poses_3d=poses_3d,
            pose_2d=pose_2d,
            pose_2d_pixels=pixels.astype(np.float32),
            filled=filled,
            width=np.float32(kp.width),
            height=np.float32(kp.height),
            frames=np.int64(frames),
            tds=np.int64(tds),
        )
    write_json(
        out_dir / "lift.json",
        {
            "keypoints": str(keypoints),
            "checkpoint": str(checkpoint) if checkpoint else None,
            "num_frames": len(poses_3d),
            "receptive_field": frames,
            "tds": tds,
            "fps": fps,
            "layout": layout,
            "min_score": min_score,
            "filled_joints": int(filled.sum()),
            "width": kp.width,
            "height": kp.height,
        },
    )
    anim_path = None
    if animation:
        from pstmo import viz

        stride = max(anim_stride, math.ceil(len(poses_3d) / anim_max_frames))
        anim_path = viz.animate_sequence(
            poses_3d,
            out_dir / "poses_3d.gif",
            poses_2d=pixels,
            width=kp.width,
            height=kp.height,
            stride=stride,
            fps=(fps or MODEL_FPS) / stride,
            progress=progress,
        )
    return LiftResult(poses_3d, pose_2d, pixels.astype(np.float32), filled, npz_path, anim_path)
