"""Keypoint files of your own video: reading, joint layout, gap filling (the data of ``pstmo lift``).

- :func:`read_keypoints`: a COCO results JSON (a list of ``{image_id, keypoints [51], score,
  category_id}``, ``image_id`` = frame), or an ``.npy``/``.npz`` array ``(T, J, 2|3)`` (x, y
  pixels and optionally a confidence score), or an array in memory -> :class:`Keypoints`
  ``xy (T, J, 2)``, ``score (T, J)``. The one keypoint reader of the package.
- :func:`frame_numbers`: the frame number each image id carries (``frame_2`` before ``frame_10``).
- :func:`to_h36m`: COCO-17 -> Human3.6M-17 (``layout="coco"``); other layouts pass through.
- :func:`fill_missing`: joints with score < ``min_score`` or missing frames filled by linear
  interpolation in time (held constant before the first / after the last detection).

Everything read is checked: only regular files are read (a FIFO or a device is refused before it
is opened); JSON nested deeper than Python's parser allows is one sentence, not a
``RecursionError``; numbers must be finite numbers (not strings); image ids are of one kind, and
string ids are ordered by the frame number they carry or refused when they carry none; a gap of
more than ``max_gap`` missing frames between two detections is refused (it would be interpolated
over a long stretch), and so is a clip whose frames would take more than
:data:`pstmo.registry.MEMORY_BUDGET` (:data:`LIFT_BYTES_PER_FRAME` each), before anything is
allocated.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pstmo.data.check import check_poses, load_npz, read_key
from pstmo.data.files import check_regular_file
from pstmo.data.safe_npz import load_npy
from pstmo.errors import DataError
from pstmo.registry import LAYOUTS, MAX_GAP, MEMORY_BUDGET
from pstmo.skeleton import NUM_JOINTS, coco_to_h36m

#: Pixel coordinates beyond this magnitude are refused as corrupt.
MAX_PIXEL: float = 1e6
#: Memory one frame of a clip takes through ``pstmo lift`` (keypoints, filled copy, normalised
#: input, SEM tokens of the frame and its flipped copy, 3D output), rounded up: the budget check
#: of the frames that image ids span.
LIFT_BYTES_PER_FRAME: int = 4096
#: Keys of an ``.npz`` that may hold the keypoints (else its only array).
NPZ_KEYS: tuple[str, ...] = ("keypoints", "positions_2d", "pose_2d", "data_2d")
#: A string image id: anything, then the frame number (the last run of digits), then no digit.
_NUMBERED = re.compile(r"(.*?)(\d+)(\D*)", re.DOTALL)


@dataclass
class Keypoints:
    """2D keypoints of one person: ``xy (T, J, 2)`` pixels, ``score (T, J)`` confidence
    (NaN coordinates and score 0 where a frame is missing), image ``width``/``height``,
    ``frame_ids`` (T,) the frame numbers, ``source`` the file they came from."""

    xy: np.ndarray
    score: np.ndarray
    width: float | None = None
    height: float | None = None
    frame_ids: list = field(default_factory=list)
    source: str = ""

    def __len__(self) -> int:
        return int(self.xy.shape[0])


# ---------------------------------------------------------------------------------- reading
def read_keypoints(
    path: str | os.PathLike | np.ndarray,
    width: float | None = None,
    height: float | None = None,
    max_gap: int = MAX_GAP,
    joints: int = NUM_JOINTS,
) -> Keypoints:
    """Read 2D keypoints from a COCO results JSON, ``.npy`` or ``.npz``, or take an array
    (``(T, J, 2|3)`` pixels, optional score channel) -> :class:`Keypoints` ``(T, J, 2)``.

    ``.npz`` files hold the array under one of :data:`NPZ_KEYS` (or as their only array) and
    may store ``width``/``height`` (``res_w``/``res_h``); explicit arguments win. ``joints`` is
    the joint count arrays must have (COCO JSON always has 17). Frame-id gaps longer than
    ``max_gap`` are refused. Files are read as data only (``allow_pickle=False``, ``json``).
    """
    if not isinstance(path, str | os.PathLike):
        kp = keypoints_from_array(path, joints=joints)
        path = Path("<array>")
    else:
        path = Path(path)
        kp = _read_file(path, max_gap, joints)
    kp.width = image_size("width", width, path) if width is not None else kp.width
    kp.height = image_size("height", height, path) if height is not None else kp.height
    if kp.width is None or kp.height is None:
        raise DataError(
            "image width/height unknown: pass --width and --height (or store 'width'/'height' in the .npz)",
            path=str(path),
        )
    return kp


def _read_file(path: Path, max_gap: int, joints: int) -> Keypoints:
    """A keypoint file by its suffix; only regular files (a FIFO would block, a device never end)."""
    if not path.exists():
        raise DataError("file not found", path=str(path))
    check_regular_file(path, "a keypoint file (.json, .npy or .npz)")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return read_coco_json(path, max_gap)
    if suffix in (".npy", ".npz"):
        return read_array_file(path, joints)
    raise DataError(
        f"expected a COCO results .json, a .npy or a .npz of shape (T, {joints}, 2|3)", path=str(path)
    )


def image_size(name: str, value: Any, path: Path) -> float:
    """An image ``width``/``height``: a finite positive number of pixels up to :data:`MAX_PIXEL`."""
    arr = np.asarray(value) if not isinstance(value, str | bytes | bool) else None
    if arr is None or arr.ndim != 0 or arr.dtype.kind not in "fiu":
        raise DataError(f"image {name} must be a number, got {value!r}", path=str(path), key=name)
    v = float(arr)
    if not math.isfinite(v) or v <= 0 or v > MAX_PIXEL:
        raise DataError(
            f"image {name} must be a positive number of pixels, got {value!r}", path=str(path), key=name
        )
    return v


def is_number(value: Any) -> bool:
    """An ``int`` or ``float``, not a ``bool`` (nor a string that reads as a number)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------- COCO JSON
def load_json(path: Path) -> Any:
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
    if not all(is_number(v) for v in kps):
        bad = next(v for v in kps if not is_number(v))
        raise DataError(
            f"entry {i}: keypoints must be numbers, found {bad!r}", path=str(path), key="keypoints"
        )
    if "score" in det and not is_number(det["score"]):
        raise DataError(
            f"entry {i}: score must be a number, got {det['score']!r}", path=str(path), key="score"
        )
    return True


def best_detections(data: Any, path: Path) -> dict[Any, dict]:
    """The COCO person detections of a results file, the most confident one per image id."""
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
    return best


def read_coco_json(path: Path, max_gap: int = MAX_GAP) -> Keypoints:
    """A COCO results JSON -> :class:`Keypoints` ``(T, 17, 2)`` over the frames from the first
    to the last detection (missing frames: NaN, score 0)."""
    best = best_detections(load_json(path), path)
    frame_ids = frame_span(list(best), max_gap, path)
    xy = np.full((len(frame_ids), NUM_JOINTS, 2), np.nan)
    score = np.zeros((len(frame_ids), NUM_JOINTS))
    numbers = frame_numbers(list(best), path)
    for image_id, det in best.items():
        k = np.asarray(det["keypoints"], dtype=np.float64).reshape(NUM_JOINTS, 3)
        t = numbers[image_id] - frame_ids[0]
        xy[t], score[t] = k[:, :2], k[:, 2]
    return _checked(Keypoints(xy, score, frame_ids=frame_ids, source=str(path)), path, "keypoints")


# ---------------------------------------------------------------------------------- frame order
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
    numbers = _string_frame_numbers(ids, path)
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


def _string_frame_numbers(ids: list[str], path: Path | str) -> dict[str, int]:
    """The number each string id carries around one common text (:func:`frame_numbers`)."""
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
    return {i: int(m.group(2)) for i, m in parts.items()}


def frame_span(ids: list, max_gap: int, path: Path) -> list[int]:
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


# ---------------------------------------------------------------------------------- arrays
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


def read_array_file(path: Path, joints: int = NUM_JOINTS) -> Keypoints:
    """An ``.npy``/``.npz`` keypoint array ``(T, J, 2|3)``, read as data only
    (:mod:`pstmo.data.safe_npz`); an ``.npz`` may store the image size."""
    width = height = None
    key = "keypoints"
    if path.suffix.lower() == ".npy":
        arr = load_npy(path)
    else:
        npz = load_npz(path, allow_objects=False)
        key = next((k for k in NPZ_KEYS if k in npz.files), npz.files[0] if len(npz.files) == 1 else None)
        if key is None:
            raise DataError(
                f"which key holds the keypoints? expected one of {NPZ_KEYS}, found {npz.files}",
                path=str(path),
            )
        arr = read_key(npz, path, key)
        for wk, hk in (("width", "height"), ("res_w", "res_h")):
            if wk in npz.files and hk in npz.files:
                width = image_size(wk, read_key(npz, path, wk), path)
                height = image_size(hk, read_key(npz, path, hk), path)
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


# ---------------------------------------------------------------------------------- layout, gaps
def to_h36m(kp: Keypoints, layout: str = "coco") -> Keypoints:
    """COCO-17 -> Human3.6M-17 (``layout="coco"``): ``xy (T, 17, 2)`` reordered, the joints
    COCO lacks made from others; other layouts (``coco-native`` included) are passed through."""
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


__all__ = [
    "LIFT_BYTES_PER_FRAME",
    "MAX_PIXEL",
    "NPZ_KEYS",
    "Keypoints",
    "fill_missing",
    "frame_numbers",
    "frame_span",
    "image_size",
    "keypoints_from_array",
    "load_json",
    "read_keypoints",
    "to_h36m",
]
