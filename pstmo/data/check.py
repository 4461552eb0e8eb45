"""Validation of pose files: every problem becomes one clear sentence naming file, key and
expected shape (:class:`pstmo.errors.DataError`).

Used by the loaders (``pstmo.data.h36m`` etc.) and by ``pstmo data check PATH [PATH_2D]``,
which reports every problem it finds instead of stopping at the first one.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from pstmo.data.safe_npz import SafeNpz, open_npz
from pstmo.errors import DataError
from pstmo.skeleton import Skeleton


def load_npz(path: str | os.PathLike, allow_objects: bool = True) -> SafeNpz:
    """Open an ``.npz`` archive safely (:func:`pstmo.data.safe_npz.open_npz`): pickled members
    (VideoPose3D's dicts) go through the restricted unpickler, never ``np.load``'s; clear errors
    for a missing, non-npz or truncated file. ``allow_objects=False`` refuses pickled members."""
    return open_npz(path, allow_objects=allow_objects)


def read_key(npz: SafeNpz, path: str | os.PathLike, key: str) -> Any:
    """``npz[key]`` with a clear error when the key is missing, the member is truncated or its
    pickle names anything but dicts, lists, strings, numbers and NumPy arrays."""
    if key not in npz.files:
        raise DataError(f"missing key (the archive has {sorted(npz.files)})", path=str(path), key=key)
    return npz[key]


def read_pickled_dict(npz: Any, path: str | os.PathLike, key: str) -> dict:
    """``npz[key].item()`` which must be a dict (VideoPose3D's ``positions_3d`` etc.)."""
    value = read_key(npz, path, key)
    if isinstance(value, np.ndarray) and value.dtype == object and value.shape == ():
        value = value.item()
    if not isinstance(value, dict):
        shape = getattr(value, "shape", None)
        raise DataError(
            f"expected a pickled dict {{subject: {{action: array}}}}, got {type(value).__name__}"
            + (f" of shape {shape}" if shape is not None else ""),
            path=str(path),
            key=key,
        )
    if not value:
        raise DataError("the dict is empty", path=str(path), key=key)
    return value


#: Largest absolute coordinate accepted, per unit: far beyond any human pose or image, so
#: only garbage (1e30, an uninitialised buffer, a unit mix-up by 1e6) is refused.
MAX_ABS: dict[str, float] = {"m": 1e4, "mm": 1e7, "px": 1e6}
_UNIT_NAMES = {"m": "metres", "mm": "millimetres", "px": "pixels"}
_KIND_NAMES = {"c": "complex", "U": "text", "S": "bytes", "b": "boolean", "M": "datetime", "m": "timedelta"}


def check_poses(
    array: Any,
    path: str | os.PathLike,
    key: str,
    joints: int | tuple[int, ...],
    dims: int | tuple[int, ...],
    what: str = "",
    unit: str | None = None,
) -> np.ndarray:
    """Validate a pose array ``(T, J, C)``: real numbers (float or int dtype, not complex, text,
    bool or Python objects), J in ``joints``, C in ``dims``, T > 0, finite, and
    ``|x| <= MAX_ABS[unit]``.

    ``unit`` is "m", "mm" or "px" (default: "m" when ``dims`` is 3, else "px"). Returns the
    array as float32. ``key`` is a readable address like ``positions_3d['S1']['Walking']``.
    """
    joints = (joints,) if isinstance(joints, int) else tuple(joints)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    unit = unit or ("m" if dims == (3,) else "px")
    expected = f"(T, {'|'.join(map(str, joints))}, {'|'.join(map(str, dims))})"
    raw = _numeric_array(array, expected, path, key)
    _check_shape(raw.shape, joints, dims, expected, path, key)
    values = raw.astype(np.float64, copy=False)
    _check_values(values, unit, path, key)
    return values.astype(np.float32)


def _numeric_array(array: Any, expected: str, path: str | os.PathLike, key: str) -> np.ndarray:
    """``array`` as a NumPy array of real numbers, else a :class:`DataError` saying what it holds."""
    try:
        raw = np.asarray(array)
    except (TypeError, ValueError):  # ragged nested lists
        raw = None
    if raw is None or raw.dtype == object:
        got = type(array).__name__
        if raw is not None and isinstance(array, np.ndarray):
            got = f"an object array of shape {raw.shape}" if raw.ndim else type(raw.item()).__name__
        raise DataError(f"expected a numeric array {expected}, got {got}", path=str(path), key=key)
    if raw.dtype.kind not in "fiu":
        kind = _KIND_NAMES.get(raw.dtype.kind, "non-numeric")
        raise DataError(
            f"{kind} values (dtype {raw.dtype}): expected a real numeric array {expected}",
            path=str(path),
            key=key,
        )
    return raw


def _check_shape(
    shape: tuple[int, ...], joints: tuple[int, ...], dims: tuple[int, ...], expected: str, path: Any, key: str
) -> None:
    """``(T, J, C)`` with J in ``joints``, C in ``dims`` and T > 0."""
    problem = None
    if len(shape) != 3:
        problem = f"expected shape {expected}, got {shape}"
    elif shape[1] not in joints:
        problem = f"wrong joint count {shape[1]}: expected shape {expected}, got {shape}"
    elif shape[2] not in dims:
        problem = f"wrong coordinate dimension {shape[2]}: expected shape {expected}, got {shape}"
    elif shape[0] == 0:
        problem = f"empty sequence: expected shape {expected} with T > 0"
    if problem:
        raise DataError(problem, path=str(path), key=key)


def _check_values(values: np.ndarray, unit: str, path: str | os.PathLike, key: str) -> None:
    """Every value finite and within ``MAX_ABS[unit]``; the error names the first bad frame and joint."""
    finite = np.isfinite(values)
    if not finite.all():
        bad = np.argwhere(~finite)[0]
        raise DataError(
            f"contains NaN or inf values ({int((~finite).sum())} entries, first at frame {bad[0]}, joint {bad[1]})",
            path=str(path),
            key=key,
        )
    limit = MAX_ABS[unit]
    big = np.abs(values) > limit
    if big.any():
        t, j, c = np.argwhere(big)[0]
        raise DataError(
            f"absurd value {values[t, j, c]:.3g} at frame {t}, joint {j} (entries beyond the limit: "
            f"{int(big.sum())}): expected coordinates in {_UNIT_NAMES[unit]} with |x| <= {limit:.0e}",
            path=str(path),
            key=key,
        )


def skeleton_from_symmetry(metadata: dict, skeleton: Skeleton, path: str | os.PathLike) -> Skeleton:
    """The skeleton whose left/right joints are the 2D file's ``metadata['keypoints_symmetry']``
    (VideoPose3D's ``[left joints, right joints]``, joint ``left[i]`` mirrors ``right[i]``): it
    sets the flip permutation. Without the entry ``skeleton`` is returned unchanged; an
    inconsistent entry is a :class:`DataError` (see :func:`check_symmetry`)."""
    if "keypoints_symmetry" not in metadata:
        return skeleton
    left, right = check_symmetry(metadata["keypoints_symmetry"], skeleton.num_joints, path)
    if (left, right) == (tuple(skeleton.left), tuple(skeleton.right)):
        return skeleton
    return dataclasses.replace(skeleton, left=left, right=right)


def check_symmetry(
    sym: Any, num_joints: int, path: str | os.PathLike
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(left, right)`` of a ``keypoints_symmetry`` entry: two lists of equal length of
    distinct integer joint indices in ``[0, num_joints)``, no joint on both sides."""
    key = "metadata['keypoints_symmetry']"

    def fail(problem: str) -> DataError:
        return DataError(
            f"{problem}; expected [left joints, right joints]: two lists of equal length of distinct "
            f"joint indices in [0, {num_joints})",
            path=str(path),
            key=key,
        )

    if isinstance(sym, np.ndarray):
        sym = list(sym)
    if not isinstance(sym, list | tuple) or len(sym) != 2:
        raise fail(
            f"got {type(sym).__name__}" + (f" of length {len(sym)}" if hasattr(sym, "__len__") else "")
        )
    sides = []
    for name, side in zip(("left", "right"), sym):
        if isinstance(side, np.ndarray):
            side = side.tolist()
        if not isinstance(side, list | tuple) or not all(
            isinstance(i, int | np.integer) and not isinstance(i, bool) for i in side
        ):
            raise fail(f"the {name} joints are not a list of integers ({side!r:.60})")
        sides.append(tuple(int(i) for i in side))
    left, right = sides
    if len(left) != len(right):
        raise fail(f"{len(left)} left joints but {len(right)} right joints")
    both = left + right
    outside = [i for i in both if not 0 <= i < num_joints]
    if outside:
        raise fail(f"joint index {outside[0]} is out of range for {num_joints} joints")
    twice = [i for i in both if both.count(i) > 1]
    if twice:
        raise fail(f"joint {twice[0]} appears twice (each joint is left or right at most once)")
    return left, right


def metadata_num_joints(metadata: dict, path: str | os.PathLike) -> int | None:
    """``metadata['num_joints']`` as an int (None when absent); anything but a positive integer
    is a :class:`DataError`."""
    if "num_joints" not in metadata:
        return None
    n = metadata["num_joints"]
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
        raise DataError(
            f"num_joints is {n!r:.40}, expected a positive integer", path=str(path), key="metadata"
        )
    return int(n)
