"""Lift your own 2D keypoints to 3D with a trained model (``pstmo lift``).

The pipeline, one function per step (reading and gap filling are the data layer's,
:mod:`pstmo.data.keypoints`):

1. :func:`~pstmo.data.keypoints.read_keypoints`: a COCO results JSON, an ``.npy``/``.npz``
   array ``(T, 17, 2|3)`` -> ``Keypoints`` ``xy (T, 17, 2)`` pixels, ``score (T, 17)``.
2. :func:`~pstmo.data.keypoints.to_h36m`: COCO-17 -> Human3.6M-17, unless the model itself
   takes COCO-17 (``layout="coco-native"``: the official in-the-wild checkpoint, see
   :data:`pstmo.registry.LAYOUTS`).
3. :func:`~pstmo.data.keypoints.fill_missing`: joints with score < ``min_score`` or missing
   frames are filled by linear interpolation in time.
4. :func:`normalize_screen`: pixels -> ``X / w * 2 - [1, h / w]`` (VideoPose3D / P-STMO).
5. lifting (:class:`pstmo.inference.Lifter`): every frame ``t`` is the centre of a window of
   ``N`` frames ``t + k*s`` (TDS rate ``s``), edge-padded at the clip ends; the model's
   ``center`` output is the 3D pose of frame ``t``, root-relative metres.
6. :func:`lift_keypoints` runs them all with the :class:`LiftOptions` of ``pstmo lift`` and
   writes ``poses_3d.npz``, ``lift.json`` and an animation (GIF).

Models are trained on 50 fps sequences; :func:`check_frame_rate` refuses input whose effective
rate ``fps / tds`` is off by more than ``FPS_TOLERANCE`` and suggests a TDS rate.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pstmo.cameras import normalize_screen_coordinates
from pstmo.data.keypoints import Keypoints, fill_missing, is_number, read_keypoints, to_h36m
from pstmo.errors import DataError
from pstmo.inference import Lifter
from pstmo.io import atomic_write, check_writable_dir, write_json
from pstmo.registry import LAYOUTS, MAX_GAP  # named there, torch-free, for the command line
from pstmo.runtime import resolve_device
from pstmo.skeleton import (
    COCO_LEFT_JOINTS,
    COCO_RIGHT_JOINTS,
    H36M_SKELETON,
    NUM_JOINTS,
    ROOT,
    coco_flip_permutation,
    coco_to_h36m,
)

MODEL_FPS: float = 50.0
FPS_TOLERANCE: float = 1.5


# ----------------------------------------------------------------------------------------------
# normalisation, frame rate


def normalize_screen(xy: np.ndarray, width: float, height: float) -> np.ndarray:
    """Pixels ``(..., 2)`` -> normalised screen coordinates ``X / w * 2 - [1, h / w]``
    (as ``pstmo.cameras.normalize_screen_coordinates``; x in [-1, 1], aspect kept)."""
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
# the options


def _positive_int(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= 1


@dataclass(frozen=True)
class LiftOptions:
    """How :func:`lift_keypoints` reads, lifts and draws a keypoint file (``pstmo lift``'s flags).

    ``width``/``height``: image size in pixels (None: the ``.npz``'s own); ``fps``: frame rate of
    the keypoints; ``tds``: TDS rate of the windows (None: the model's training rate scaled by
    ``fps / 50``); ``min_score``: joints below it are interpolated; ``max_gap``: longest run of
    missing frames interpolated; ``layout``: ``"coco"`` (converted to Human3.6M-17), ``"h36m"``,
    ``"native"`` (the model's own joints, e.g. 15 HumanEva joints) or ``"coco-native"`` (COCO-17
    as they are, for a model trained on COCO-ordered 2D; see :data:`pstmo.registry.LAYOUTS`);
    ``flip``: average with the flipped input (as ``evaluate``); ``fast``, ``batch_size``,
    ``device`` (``"auto"``: CUDA if present): how a checkpoint's :class:`~pstmo.inference.Lifter`
    runs; ``seq2seq``: the preview mode of :meth:`~pstmo.inference.Lifter.lift`; ``animation``,
    ``anim_stride``, ``anim_max_frames``: the GIF (every k-th frame, at most that many);
    ``progress``: progress bars. Every value is checked when the options are made.
    """

    width: float | None = None
    height: float | None = None
    fps: float | None = None
    tds: int | None = None
    min_score: float = 0.3
    max_gap: int = MAX_GAP
    layout: str = "coco"
    flip: bool = True
    fast: bool = True
    batch_size: int | None = None
    seq2seq: bool = False
    device: str = "auto"
    animation: bool = True
    anim_stride: int = 1
    anim_max_frames: int = 300
    progress: bool = True

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise DataError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}", key="layout")
        if not (is_number(self.min_score) and 0.0 <= self.min_score <= 1.0):
            raise DataError(f"min_score must be in [0, 1], got {self.min_score!r}", key="min_score")
        for name in ("batch_size", "anim_stride", "anim_max_frames"):
            value = getattr(self, name)
            if not (name == "batch_size" and value is None) and not _positive_int(value):
                raise DataError(f"{name} must be a positive integer, got {value!r}", key=name)
        if self.tds is not None and not _positive_int(self.tds):
            raise DataError(f"tds must be a positive integer, got {self.tds!r}", key="tds")
        fps = self.fps
        if fps is not None and not (is_number(fps) and math.isfinite(fps) and fps > 0):
            raise DataError(f"fps must be a positive number, got {fps!r}", key="fps")
        if isinstance(self.max_gap, bool) or not isinstance(self.max_gap, int) or self.max_gap < 0:
            raise DataError(f"max_gap must be an integer >= 0, got {self.max_gap!r}", key="max_gap")

    def window_tds(self, model_tds: int) -> int:
        """The TDS rate of the windows: ``tds``, else the model's scaled by ``fps / 50``;
        refused (:func:`check_frame_rate`) when it puts window frames too far from training's."""
        tds = self.tds
        if tds is None:
            tds = model_tds if self.fps is None else max(1, round(model_tds * self.fps / MODEL_FPS))
        check_frame_rate(self.fps, tds, model_tds)
        return tds


# ----------------------------------------------------------------------------------------------
# the model's input layout


def trained_on_coco(lifter: Lifter) -> bool:
    """Whether a checkpoint says its model takes COCO-ordered 2D: a ``pstmo`` run trained on a
    COCO-ordered 2D file records that file's left/right keypoints (COCO's) in its skeleton. An
    official ``.pth`` holds weights only, which do not tell (``layout="coco-native"`` says it)."""
    sk = lifter.skeleton
    return sk is not None and (tuple(sk.left), tuple(sk.right)) == (COCO_LEFT_JOINTS, COCO_RIGHT_JOINTS)


def input_layout(lifter: Lifter, layout: str, source: str) -> Lifter:
    """The lifter for keypoints in ``layout``: COCO flip of the input for ``coco-native``; a
    model trained on COCO-ordered 2D refuses every other layout (it would get the wrong joints)."""
    if layout == "coco-native":
        if lifter.joints != NUM_JOINTS:
            raise DataError(
                f"--layout coco-native needs a 17-joint model, this one lifts {lifter.joints}", key="layout"
            )
        return replace(lifter, input_flip=coco_flip_permutation())
    if trained_on_coco(lifter):
        raise DataError(
            f"the model was trained on COCO-ordered 2D keypoints (its left/right joints are COCO's), "
            f"--layout {layout} would feed it other joints: pass --layout coco-native",
            path=source, key="layout",
        )  # fmt: skip
    return lifter


def lifter_for(checkpoint: str | os.PathLike | Lifter | None, options: LiftOptions) -> Lifter:
    """The :class:`~pstmo.inference.Lifter` of a checkpoint path (run with the options' ``device``,
    ``fast``, ``batch_size``) or a given one, for keypoints in the options' ``layout``."""
    if checkpoint is None:
        raise DataError("give a checkpoint path or a Lifter", key="checkpoint")
    if isinstance(checkpoint, Lifter):
        lifter, source = checkpoint, "model"
    elif isinstance(checkpoint, str | os.PathLike):
        device = resolve_device(options.device)
        lifter = Lifter.from_checkpoint(checkpoint, device, fast=options.fast, batch_size=options.batch_size)
        source = str(checkpoint)
    else:
        raise DataError(
            f"expected a checkpoint path or a Lifter(model, frames), got {type(checkpoint).__name__}",
            key="checkpoint",
        )
    return input_layout(lifter, options.layout, source)


# ----------------------------------------------------------------------------------------------
# the whole pipeline


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
    keypoints: str | os.PathLike | np.ndarray,
    checkpoint: str | os.PathLike | Lifter,
    out_dir: str | os.PathLike,
    options: LiftOptions | None = None,
) -> LiftResult:
    """Read, convert, fill, normalise and lift a keypoint file; write ``<out_dir>/poses_3d.npz``
    (``poses_3d (T, J, 3)``, ``pose_2d (T, J, 2)``, ``pose_2d_pixels``, ``filled (T, J)``,
    ``width``, ``height``, ``frames``, ``tds``), ``<out_dir>/lift.json`` and, unless
    ``options.animation`` is off, ``<out_dir>/poses_3d.gif``.

    ``checkpoint``: a ``pstmo`` or official checkpoint path, or a
    :class:`~pstmo.inference.Lifter` (a model in memory, ``Lifter(model, frames, tds)``: used as
    it is, with its own ``fast`` and ``batch_size``; never changed, the windows' TDS rate goes to
    a copy). A checkpoint that records COCO-ordered training input refuses every layout but
    ``coco-native``. ``options``: :class:`LiftOptions` (default: its defaults).
    """
    options = options or LiftOptions()
    check_writable_dir(out_dir)
    lifter = lifter_for(checkpoint, options)
    joints = lifter.joints if options.layout == "native" else NUM_JOINTS
    kp = read_keypoints(keypoints, options.width, options.height, options.max_gap, joints)
    kp = to_h36m(kp, options.layout)
    pixels, filled = fill_missing(kp.xy, kp.score, options.min_score)
    lifter = replace(lifter, tds=options.window_tds(lifter.tds))
    pose_2d = normalize_screen(pixels, kp.width, kp.height).astype(np.float32)
    poses_3d = lifter.lift(pose_2d, flip=options.flip, progress=options.progress, seq2seq=options.seq2seq)
    poses_3d[:, ROOT] = 0.0
    out = Path(out_dir)
    npz_path = _write_npz(out, poses_3d, pose_2d, pixels, filled, kp, lifter)
    _write_summary(out, keypoints, checkpoint, options, lifter, kp, filled)
    anim_path = _animate(out, poses_3d, pixels, kp, lifter, options) if options.animation else None
    return LiftResult(poses_3d, pose_2d, pixels.astype(np.float32), filled, npz_path, anim_path)


def _write_npz(
    out_dir: Path, poses_3d: np.ndarray, pose_2d: np.ndarray, pixels: np.ndarray, filled: np.ndarray,
    kp: Keypoints, lifter: Lifter,
) -> Path:  # fmt: skip
    """``<out_dir>/poses_3d.npz``, written atomically: ``poses_3d (T, J, 3)``, ``pose_2d (T, J, 2)``
    and ``pose_2d_pixels (T, J, 2)``, ``filled (T, J)``, the image size, ``frames`` and ``tds``."""
    path = out_dir / "poses_3d.npz"
    with atomic_write(path, "wb") as fh:
        np.savez_compressed(
            fh, poses_3d=poses_3d, pose_2d=pose_2d, pose_2d_pixels=pixels.astype(np.float32), filled=filled,
            width=np.float32(kp.width), height=np.float32(kp.height), frames=np.int64(lifter.frames),
            tds=np.int64(lifter.tds),
        )  # fmt: skip
    return path


def _write_summary(
    out_dir: Path, keypoints: object, checkpoint: object, options: LiftOptions, lifter: Lifter,
    kp: Keypoints, filled: np.ndarray,
) -> None:  # fmt: skip
    """``<out_dir>/lift.json``: what was lifted, with which model and options."""
    write_json(
        out_dir / "lift.json",
        {"keypoints": str(keypoints), "checkpoint": None if isinstance(checkpoint, Lifter) else str(checkpoint),
         "num_frames": len(filled), "receptive_field": lifter.frames, "tds": lifter.tds, "fps": options.fps,
         "layout": options.layout, "min_score": options.min_score, "filled_joints": int(filled.sum()),
         "width": kp.width, "height": kp.height,
         "mode": "seq2seq preview" if options.seq2seq else "many-to-one (the papers')"},
    )  # fmt: skip


def _animate(
    out_dir: Path,
    poses_3d: np.ndarray,
    pixels: np.ndarray,
    kp: Keypoints,
    lifter: Lifter,
    options: LiftOptions,
) -> Path:
    """``<out_dir>/poses_3d.gif``: ``poses_3d (T, J, 3)`` beside the 2D ``pixels (T, J, 2)``, every
    ``anim_stride``-th frame (more when the clip has over ``anim_max_frames`` frames)."""
    from pstmo.report import viz  # matplotlib: only when an animation is asked for

    stride = max(options.anim_stride, math.ceil(len(poses_3d) / options.anim_max_frames))
    return viz.animate_sequence(
        poses_3d, out_dir / "poses_3d.gif", width=kp.width,
        poses_2d=coco_to_h36m(pixels) if options.layout == "coco-native" else pixels, height=kp.height,
        stride=stride, fps=(options.fps or MODEL_FPS) / stride, skeleton=lifter.skeleton or H36M_SKELETON,
        progress=options.progress,
    )  # fmt: skip


__all__ = [
    "FPS_TOLERANCE",
    "MODEL_FPS",
    "LiftOptions",
    "LiftResult",
    "check_frame_rate",
    "input_layout",
    "lift_keypoints",
    "lifter_for",
    "normalize_screen",
    "trained_on_coco",
]
