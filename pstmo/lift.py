"""Lift your own 2D keypoints to 3D with a trained model (``pstmo lift``).

The pipeline, one function per step:

1. ``read_keypoints(path)``: a COCO results JSON (list of ``{image_id, keypoints [51], score,
   category_id}``, ``image_id`` = frame), or an ``.npy``/``.npz`` array ``(T, 17, 2|3)``
   (x, y pixels and optionally a confidence score) -> :class:`Keypoints` ``(T, 17, 3)``.
2. ``to_h36m``: COCO-17 -> Human3.6M-17 layout (``pstmo.skeleton.coco_to_h36m``), unless the
   model itself takes COCO-17 (``layout="coco-native"``: the official in-the-wild checkpoint, see
   :data:`LAYOUTS`).
3. ``fill_missing``: joints with score < ``min_score`` or missing frames are filled by linear
   interpolation in time (held constant before the first / after the last detection).
4. ``normalize_screen``: pixels -> ``X / w * 2 - [1, h / w]`` (VideoPose3D / P-STMO).
5. lifting (:class:`pstmo.inference.Lifter`): every frame ``t`` is the centre of a window of
   ``N`` frames ``t + k*s`` (TDS rate ``s``), edge-padded at the clip ends; the model's
   ``center`` output is the 3D pose of frame ``t``, root-relative metres.
6. ``lift_keypoints`` writes ``poses_3d.npz`` and an animation (GIF).

Models are trained on 50 fps sequences; ``check_frame_rate`` refuses input whose effective
rate ``fps / tds`` is off by more than ``FPS_TOLERANCE`` and suggests a TDS rate. Everything
read is checked: only regular files are read (a FIFO or a device is refused before it is
opened); JSON nested deeper than Python's parser allows is one sentence, not a
``RecursionError``; numbers must be finite numbers (not strings); image ids are of one kind, and
string ids are ordered by the frame number they carry (``frame_2`` before ``frame_10``) or
refused when they carry none; a gap of more than ``max_gap`` missing frames between two
detections is refused (it would be interpolated over a long stretch), and so is a clip whose
frames would take more than :data:`pstmo.complexity.MEMORY_BUDGET` (``LIFT_BYTES_PER_FRAME``
each), before anything is allocated.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from pstmo.cameras import normalize_screen_coordinates
from pstmo.complexity import MEMORY_BUDGET
from pstmo.data.check import check_poses, load_npz, read_key
from pstmo.data.files import check_regular_file
from pstmo.data.safe_npz import load_npy
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
#: Pixel coordinates beyond this magnitude are refused as corrupt.
MAX_PIXEL: float = 1e6
#: Memory one frame of a clip takes through the pipeline (keypoints, filled copy, normalised
#: input, SEM tokens of the frame and its flipped copy, 3D output), rounded up: the budget check
#: of the frames that image ids span.
LIFT_BYTES_PER_FRAME: int = 4096


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
    path: str | os.PathLike | np.ndarray,
    width: float | None = None,
    height: float | None = None,
    max_gap: int = MAX_GAP,
    joints: int = NUM_JOINTS,
) -> Keypoints:
    """Read 2D keypoints from a COCO results JSON, ``.npy`` or ``.npz``, or take an array
    (``(T, J, 2|3)`` pixels, optional score channel): the one keypoint reader of the package.

    ``.npz`` files hold the array under ``keypoints`` (or as their only array) and may store
    ``width``/``height`` (``res_w``/``res_h``); explicit arguments win. ``joints`` is the joint
    count arrays must have (COCO JSON always has 17). Frame-id gaps longer than ``max_gap`` are
    refused. Files are read as data only (``allow_pickle=False``, ``json``).
    """
    if not isinstance(path, str | os.PathLike):
        kp = keypoints_from_array(path, joints=joints)
        path = Path("<array>")
    else:
        path = Path(path)
        kp = _read_file(path, max_gap, joints)
    kp.width = _size("width", width, path) if width is not None else kp.width
    kp.height = _size("height", height, path) if height is not None else kp.height
    if kp.width is None or kp.height is None:
        raise DataError(
            "image width/height unknown: pass --width and --height (or store 'width'/'height' in the .npz)",
            path=str(path),
        )
    return kp


def _read_file(path: Path, max_gap: int, joints: int) -> Keypoints:
    if not path.exists():
        raise DataError("file not found", path=str(path))
    check_regular_file(
        path, "a keypoint file (.json, .npy or .npz)"
    )  # a FIFO would block, a device never end
    suffix = path.suffix.lower()
    if suffix == ".json":
        kp = _read_coco_json(path, max_gap)
    elif suffix in (".npy", ".npz"):
        kp = _read_array(path, joints)
    else:
        raise DataError(
            f"expected a COCO results .json, a .npy or a .npz of shape (T, {joints}, 2|3)", path=str(path)
        )
    return kp


def _size(name: str, value: Any, path: Path) -> float:
    arr = np.asarray(value) if not isinstance(value, str | bytes | bool) else None
    if arr is None or arr.ndim != 0 or arr.dtype.kind not in "fiu":
        raise DataError(f"image {name} must be a number, got {value!r}", path=str(path), key=name)
    v = float(arr)
    if not math.isfinite(v) or v <= 0 or v > MAX_PIXEL:
        raise DataError(
            f"image {name} must be a positive number of pixels, got {value!r}", path=str(path), key=name
        )
    return v


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _load_json(path: Path) -> Any:
    """JSON as data (``json`` builds only dicts, lists, strings and numbers). Its parser
    recurses once per nesting level, bounded by Python's recursion limit: deeper nesting is a
    :class:`DataError`, never a ``RecursionError`` (a COCO results file is 3 levels deep)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise DataError("not UTF-8 text: expected a COCO results JSON", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc})", path=str(path)) from None
    except RecursionError:
        raise DataError(
            "JSON nested too deeply to read (a COCO results file is a list of flat objects)", path=str(path)
        ) from None


def _check_detection(i: int, det: Any, path: Path) -> bool:
    """Validate one COCO entry; False for non-person entries (skipped)."""
    if not isinstance(det, dict) or "image_id" not in det or "keypoints" not in det:
        raise DataError(f"entry {i} has no 'image_id'/'keypoints'", path=str(path), key="keypoints")
    if det.get("category_id", 1) != 1:  # COCO person category
        return False
    kps, image_id = det["keypoints"], det["image_id"]
    if not isinstance(image_id, (int, str)) or isinstance(image_id, bool):
        raise DataError(
            f"entry {i}: image_id must be an integer or a string, got {image_id!r}",
            path=str(path),
            key="image_id",
        )
    if not isinstance(kps, list) or len(kps) != 3 * NUM_JOINTS:
        n = len(kps) if isinstance(kps, list) else type(kps).__name__
        raise DataError(
            f"entry {i}: expected a list of 51 numbers (17 x [x, y, score]), got {n}",
            path=str(path),
            key="keypoints",
        )
    if not all(_number(v) for v in kps):
        bad = next(v for v in kps if not _number(v))
        raise DataError(
            f"entry {i}: keypoints must be numbers, found {bad!r}", path=str(path), key="keypoints"
        )
    if "score" in det and not _number(det["score"]):
        raise DataError(
            f"entry {i}: score must be a number, got {det['score']!r}", path=str(path), key="score"
        )
    return True


#: A string image id: anything, then the frame number (the last run of digits), then no digit.
_NUMBERED = re.compile(r"(.*?)(\d+)(\D*)", re.DOTALL)


def frame_numbers(ids: list, path: Path | str = "<ids>") -> dict[Any, int]:
    """The frame number of each image id: integers are frame numbers; strings carry theirs as
    their last run of digits around one common text (``frame_2``, ``frame_10``: 2 and 10, so
    ``frame_2`` comes first, not as text sorts them; ``img_0007.jpg``: 7). Ids that cannot be
    put in order are refused with :class:`DataError`: integers mixed with strings, strings
    without a number or with different texts around it (two videos), and two ids with the same
    number (``frame_1``, ``frame_01``). A single string id is frame 0."""
    kinds = {type(i) for i in ids}
    if len(kinds) > 1:
        raise DataError(
            "image_id values mix integers and strings; use one kind", path=str(path), key="image_id"
        )
    if kinds == {int}:
        return {i: i for i in ids}
    if len(ids) == 1:
        return {ids[0]: 0}
    parts = {i: _NUMBERED.fullmatch(i) for i in ids}
    plain = [i for i, m in parts.items() if m is None]
    if plain:
        raise DataError(
            f"image_id {plain[0][:60]!r} carries no frame number, so the frames cannot be put in order; use "
            "integer frame numbers or ids that end in one (frame_000123)",
            path=str(path), key="image_id",
        )  # fmt: skip
    texts = {(m.group(1), m.group(3)) for m in parts.values()}
    if len(texts) > 1:
        a, b = sorted(texts)[:2]
        raise DataError(
            f"image_id values differ in more than their frame number ({a[0] + '#' + a[1]!r} and "
            f"{b[0] + '#' + b[1]!r}), so they cannot be put in order as one clip; give one clip per file",
            path=str(path), key="image_id",
        )  # fmt: skip
    numbers = {i: int(m.group(2)) for i, m in parts.items()}
    if len(set(numbers.values())) < len(numbers):
        seen: dict[int, str] = {}
        for i, n in numbers.items():
            if n in seen:
                raise DataError(
                    f"image_id {seen[n]!r} and {i!r} carry the same frame number {n}; the order of the frames is "
                    "ambiguous",
                    path=str(path), key="image_id",
                )  # fmt: skip
            seen[n] = i
    return numbers


def _frame_ids(ids: list, max_gap: int, path: Path) -> list[int]:
    """The frame numbers from the first to the last detection (:func:`frame_numbers`); missing
    ones are interpolated later. Refuses a gap longer than ``max_gap`` and a span whose frames
    would take more than :data:`MEMORY_BUDGET`, before anything is allocated."""
    numbers = sorted(frame_numbers(ids, path).values())
    gaps = np.diff(numbers)
    if len(gaps) and int(gaps.max()) - 1 > max_gap:
        at = int(np.argmax(gaps))
        raise DataError(
            f"{int(gaps.max()) - 1} missing frames between frame {numbers[at]} and {numbers[at + 1]} (more "
            f"than --max-gap {max_gap}): split the clip or raise --max-gap",
            path=str(path),
            key="image_id",
        )
    span = numbers[-1] - numbers[0] + 1
    if span * LIFT_BYTES_PER_FRAME > MEMORY_BUDGET:
        raise DataError(
            f"frames {numbers[0]} to {numbers[-1]} span {span:,} frames, about {span * LIFT_BYTES_PER_FRAME / 2**30:.3g} "
            f"GiB to lift, more than the {MEMORY_BUDGET / 2**30:g} GiB budget; split the clip (or lower --max-gap "
            "to find its gaps)",
            path=str(path), key="image_id",
        )  # fmt: skip
    return list(range(numbers[0], numbers[-1] + 1))  # gaps become missing frames, interpolated later


def _read_coco_json(path: Path, max_gap: int = MAX_GAP) -> Keypoints:
    data = _load_json(path)
    if isinstance(data, dict) and "annotations" in data:  # a COCO ground-truth style file
        data = data["annotations"]
    if not isinstance(data, list):
        raise DataError("expected a list of {image_id, keypoints[51], score, category_id}", path=str(path))
    if not data:
        raise DataError("no detections (empty list)", path=str(path))
    best: dict[Any, dict] = {}
    for i, det in enumerate(data):
        if not _check_detection(i, det, path):
            continue
        prev = best.get(det["image_id"])  # one person per frame: keep the most confident detection
        if prev is None or det.get("score", 0.0) > prev.get("score", 0.0):
            best[det["image_id"]] = det
    if not best:
        raise DataError("no person detections (category_id 1)", path=str(path))
    frame_ids = _frame_ids(list(best), max_gap, path)
    xy = np.full((len(frame_ids), NUM_JOINTS, 2), np.nan)
    score = np.zeros((len(frame_ids), NUM_JOINTS))
    numbers = frame_numbers(list(best), path)
    index = {image_id: numbers[image_id] - frame_ids[0] for image_id in best}
    for image_id, det in best.items():
        k = np.asarray(det["keypoints"], dtype=np.float64).reshape(NUM_JOINTS, 3)
        xy[index[image_id]] = k[:, :2]
        score[index[image_id]] = k[:, 2]
    return _checked(Keypoints(xy, score, frame_ids=frame_ids, source=str(path)), path, "keypoints")


def _checked(kp: Keypoints, path: Path, key: str) -> Keypoints:
    """Non-finite coordinates are missing joints (score 0); absurd magnitudes are an error."""
    finite = np.isfinite(kp.xy).all(-1)
    if (np.abs(np.where(finite[..., None], kp.xy, 0.0)) > MAX_PIXEL).any():
        raise DataError(
            f"pixel coordinates beyond {MAX_PIXEL:g}: not image coordinates", path=str(path), key=key
        )
    kp.score = np.where(finite & np.isfinite(kp.score), kp.score, 0.0)
    kp.xy = np.where(finite[..., None], kp.xy, np.nan)
    return kp


_NPZ_KEYS = ("keypoints", "positions_2d", "pose_2d", "data_2d")


def _read_array(path: Path, joints: int = NUM_JOINTS) -> Keypoints:
    """An ``.npy``/``.npz`` keypoint array, read as data only (:mod:`pstmo.data.safe_npz`)."""
    width = height = None
    key = "keypoints"
    if path.suffix.lower() == ".npy":
        arr = load_npy(path)
    else:
        npz = load_npz(path, allow_objects=False)
        key = next((k for k in _NPZ_KEYS if k in npz.files), npz.files[0] if len(npz.files) == 1 else None)
        if key is None:
            raise DataError(
                f"which key holds the keypoints? expected one of {_NPZ_KEYS}, found {npz.files}",
                path=str(path),
            )
        arr = read_key(npz, path, key)
        for wk, hk in (("width", "height"), ("res_w", "res_h")):
            if wk in npz.files and hk in npz.files:
                width, height = (
                    _size(wk, read_key(npz, path, wk), path),
                    _size(hk, read_key(npz, path, hk), path),
                )
    return keypoints_from_array(arr, width, height, str(path), key, joints)


def keypoints_from_array(
    array: Any, width: float | None = None, height: float | None = None, source: str = "<array>",
    key: str = "keypoints", joints: int = NUM_JOINTS,
) -> Keypoints:  # fmt: skip
    """Pixel keypoints ``(T, J, 2|3)`` (x, y[, score]) -> :class:`Keypoints`. Shape, dtype and
    magnitude are checked by :func:`pstmo.data.check.check_poses`; NaN/inf mark missing joints."""
    raw = np.asarray(array) if isinstance(array, np.ndarray | list | tuple) else array
    probe = raw
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "fiu":
        probe = np.where(np.isfinite(raw), raw, 0.0)  # missing joints are allowed here, NaN included
    check_poses(probe, source, key, joints=joints, dims=(2, 3), unit="px")
    arr = np.asarray(raw, dtype=np.float64)
    score = arr[..., 2].copy() if arr.shape[2] == 3 else np.ones(arr.shape[:2])
    kp = Keypoints(arr[..., :2].copy(), score, width, height, list(range(arr.shape[0])), source)
    return _checked(kp, Path(source), key)


# ----------------------------------------------------------------------------------------------
# 2.-4. conversion, gap filling, normalisation


def to_h36m(kp: Keypoints, layout: str = "coco") -> Keypoints:
    """COCO-17 -> Human3.6M-17 (``layout="coco"``); other layouts (``coco-native`` included) are
    passed through."""
    if layout not in LAYOUTS:
        raise DataError(f"layout must be one of {LAYOUTS}, got {layout!r}", key="layout")
    if layout != "coco":
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
# 6. the whole pipeline


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


def _check_options(
    layout: str, min_score: float, batch_size: int | None, anim_stride: int, anim_max_frames: int,
    tds: int | None, fps: float | None, max_gap: int,
) -> None:  # fmt: skip
    """Every option of :func:`lift_keypoints` in range, before any work is done."""
    if layout not in LAYOUTS:
        raise DataError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}", key="layout")
    if not (_number(min_score) and 0.0 <= min_score <= 1.0):
        raise DataError(f"min_score must be in [0, 1], got {min_score!r}", key="min_score")
    for name, value in (
        ("batch_size", batch_size),
        ("anim_stride", anim_stride),
        ("anim_max_frames", anim_max_frames),
    ):
        if name == "batch_size" and value is None:  # the device's default
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise DataError(f"{name} must be a positive integer, got {value!r}", key=name)
    if tds is not None and (isinstance(tds, bool) or not isinstance(tds, int) or tds < 1):
        raise DataError(f"tds must be a positive integer, got {tds!r}", key="tds")
    if fps is not None and not (_number(fps) and math.isfinite(fps) and fps > 0):
        raise DataError(f"fps must be a positive number, got {fps!r}", key="fps")
    if isinstance(max_gap, bool) or not isinstance(max_gap, int) or max_gap < 0:
        raise DataError(f"max_gap must be an integer >= 0, got {max_gap!r}", key="max_gap")


def _write_npz(
    out_dir: Path, poses_3d: np.ndarray, pose_2d: np.ndarray, pixels: np.ndarray, filled: np.ndarray,
    kp: Keypoints, frames: int, tds: int,
) -> Path:  # fmt: skip
    """``<out_dir>/poses_3d.npz``, written atomically."""
    path = out_dir / "poses_3d.npz"
    with atomic_write(path, "wb") as fh:
        np.savez_compressed(
            fh, poses_3d=poses_3d, pose_2d=pose_2d, pose_2d_pixels=pixels.astype(np.float32), filled=filled,
            width=np.float32(kp.width), height=np.float32(kp.height), frames=np.int64(frames), tds=np.int64(tds),
        )  # fmt: skip
    return path


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
    model: Any = None,
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
    batch_size: int | None = None,
    animation: bool = True,
    anim_stride: int = 1,
    anim_max_frames: int = 300,
    progress: bool = True,
    max_gap: int = MAX_GAP,
    fast: bool = True,
    seq2seq: bool = False,
) -> LiftResult:
    """Read, convert, fill, normalise and lift a keypoint file; write ``<out_dir>/poses_3d.npz``
    (``poses_3d``, ``pose_2d``, ``pose_2d_pixels``, ``filled``, ``width``, ``height``, ``frames``,
    ``tds``) and ``<out_dir>/poses_3d.gif``.

    Give either ``checkpoint`` or an in-memory ``model`` (an ``nn.Module`` with ``frames``, or a
    :class:`~pstmo.inference.Lifter`). ``layout``: ``"coco"`` (converted to Human3.6M-17),
    ``"h36m"``, ``"native"`` (already in the model's joint layout, e.g. 15 HumanEva joints) or
    ``"coco-native"`` (COCO-17 as they are, for a model trained on COCO-ordered 2D: the official
    in-the-wild checkpoint; see :data:`LAYOUTS`). A checkpoint that records COCO-ordered training
    input refuses the other layouts.
    ``tds`` defaults to the model's training TDS rate scaled by ``fps / 50``; ``flip`` averages
    with the flipped input (as ``evaluate``); ``device="auto"`` picks CUDA if present; ``seq2seq``:
    the preview mode of :meth:`~pstmo.inference.Lifter.lift` (P-STMO's multi-frame head).
    """
    _check_options(layout, min_score, batch_size, anim_stride, anim_max_frames, tds, fps, max_gap)
    check_writable_dir(out_dir)
    if model is None and checkpoint is None:
        raise DataError("give a checkpoint path or a model", key="checkpoint")
    if isinstance(model, Lifter):
        lifter = model
    elif model is not None:
        if frames is None:
            raise DataError("lifting an in-memory model needs frames=N", key="frames")
        lifter = Lifter(model, frames, model_tds, fast=fast, batch_size=batch_size)
    else:
        lifter = Lifter.from_checkpoint(checkpoint, resolve_device(device), fast=fast, batch_size=batch_size)
    lifter = input_layout(lifter, layout, str(checkpoint or "model"))
    model_tds = lifter.tds
    joints = lifter.joints if layout == "native" else NUM_JOINTS
    kp = to_h36m(read_keypoints(keypoints, width, height, max_gap, joints), layout)
    pixels, filled = fill_missing(kp.xy, kp.score, min_score)
    if tds is None:
        tds = model_tds if fps is None else max(1, round(model_tds * fps / MODEL_FPS))
    check_frame_rate(fps, tds, model_tds)
    lifter.tds = tds
    pose_2d = normalize_screen(pixels, kp.width, kp.height).astype(np.float32)
    poses_3d = lifter.lift(pose_2d, flip=flip, progress=progress, seq2seq=seq2seq)
    poses_3d[:, ROOT] = 0.0
    frames = lifter.frames

    npz_path = _write_npz(Path(out_dir), poses_3d, pose_2d, pixels, filled, kp, frames, tds)
    write_json(
        Path(out_dir) / "lift.json",
        {"keypoints": str(keypoints), "checkpoint": str(checkpoint) if checkpoint else None,
         "num_frames": len(poses_3d), "receptive_field": frames, "tds": tds, "fps": fps, "layout": layout,
         "min_score": min_score, "filled_joints": int(filled.sum()), "width": kp.width, "height": kp.height,
         "mode": "seq2seq preview" if seq2seq else "many-to-one (the papers')"},
    )  # fmt: skip
    anim_path = None
    if animation:
        from pstmo import viz  # matplotlib: only when an animation is asked for

        stride = max(anim_stride, math.ceil(len(poses_3d) / anim_max_frames))
        anim_path = viz.animate_sequence(
            poses_3d, Path(out_dir) / "poses_3d.gif", width=kp.width,
            poses_2d=coco_to_h36m(pixels) if layout == "coco-native" else pixels, height=kp.height,
            stride=stride, fps=(fps or MODEL_FPS) / stride, skeleton=lifter.skeleton or H36M_SKELETON,
            progress=progress,
        )  # fmt: skip
    return LiftResult(poses_3d, pose_2d, pixels.astype(np.float32), filled, npz_path, anim_path)
