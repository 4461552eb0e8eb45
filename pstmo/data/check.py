"""Validation of pose files: every problem becomes one clear sentence naming file, key and
expected shape (:class:`pstmo.errors.DataError`).

Used by the loaders (``pstmo.data.h36m`` etc.) and by ``pstmo data check PATH [PATH_2D]``,
which reports every problem it finds instead of stopping at the first one.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from pstmo.errors import DataError


def load_npz(path: str | os.PathLike) -> Any:
    """Open an ``.npz`` archive (pickles allowed: VideoPose3D stores dicts), with clear errors
    for a missing, non-npz or truncated file."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=str(path))
    if not zipfile.is_zipfile(path):
        raise DataError("not an .npz archive (not a zip file, or truncated)", path=str(path))
    try:
        npz = np.load(path, allow_pickle=True)
        _ = npz.files
    except Exception as exc:  # zipfile.BadZipFile, OSError, ValueError ...
        raise DataError(f"cannot read the .npz archive ({exc})", path=str(path)) from None
    return npz


def read_key(npz: Any, path: str | os.PathLike, key: str) -> Any:
    """``npz[key]`` with a clear error when the key is missing or the member is truncated."""
    if key not in npz.files:
        raise DataError(f"missing key (the archive has {sorted(npz.files)})", path=str(path), key=key)
    try:
        return npz[key]
    except Exception as exc:
        raise DataError(
            f"cannot read this member, the file may be truncated ({exc})", path=str(path), key=key
        ) from None


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


def check_poses(
    array: Any,
    path: str | os.PathLike,
    key: str,
    joints: int | tuple[int, ...],
    dims: int | tuple[int, ...],
    what: str = "",
) -> np.ndarray:
    """Validate a pose array ``(T, J, C)``: J in ``joints``, C in ``dims``, T > 0, finite.

    Returns it as float32. ``key`` is a readable address like ``positions_3d['S1']['Walking']``.
    """
    joints = (joints,) if isinstance(joints, int) else tuple(joints)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    expected = f"(T, {'|'.join(map(str, joints))}, {'|'.join(map(str, dims))})"
    try:
        arr = np.asarray(array, dtype=np.float32)
    except (TypeError, ValueError):
        raise DataError(
            f"expected a numeric array {expected}, got {type(array).__name__}", path=str(path), key=key
        ) from None
    if arr.ndim != 3:
        raise DataError(f"expected shape {expected}, got {arr.shape}", path=str(path), key=key)
    if arr.shape[1] not in joints:
        raise DataError(
            f"wrong joint count {arr.shape[1]}: expected shape {expected}, got {arr.shape}",
            path=str(path),
            key=key,
        )
    if arr.shape[2] not in dims:
        raise DataError(
            f"wrong coordinate dimension {arr.shape[2]}: expected shape {expected}, got {arr.shape}",
            path=str(path),
            key=key,
        )
    if arr.shape[0] == 0:
        raise DataError(f"empty sequence: expected shape {expected} with T > 0", path=str(path), key=key)
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise DataError(
            f"contains NaN or inf values ({int((~np.isfinite(arr)).sum())} entries, first at frame {bad[0]}, joint {bad[1]})",
            path=str(path),
            key=key,
        )
    return arr


def check_files(path: str | os.PathLike, path_2d: str | os.PathLike | None = None) -> tuple[list[str], str]:
    """Validate a VideoPose3D-style 3D file and/or a 2D file; returns (problems, summary).

    ``path`` may be a 3D file (``positions_3d``), a 2D file (``positions_2d`` + ``metadata``)
    or a P-STMO MPI-INF-3DHP file (``data``); with two paths, the first is 3D and the
    second 2D and the pair is checked for consistency (subjects, actions, lengths).
    """
    problems: list[str] = []
    summaries: list[str] = []
    data_3d = data_2d = None
    for p in [path] + ([path_2d] if path_2d is not None else []):
        try:
            npz = load_npz(p)
        except DataError as exc:
            problems.append(str(exc))
            continue
        if "positions_3d" in npz.files:
            data_3d = _check_dict(npz, p, "positions_3d", problems, summaries)
        elif "positions_2d" in npz.files:
            data_2d = _check_dict(npz, p, "positions_2d", problems, summaries)
            try:
                meta = read_pickled_dict(npz, p, "metadata")
                if "num_joints" in meta and data_2d:
                    first = next(iter(next(iter(data_2d.values())).values()))
                    j = np.asarray(first[0] if isinstance(first, list | tuple) else first).shape[1:2]
                    if j and j[0] != int(meta["num_joints"]):
                        problems.append(
                            f"{p}: key 'metadata': num_joints is {meta['num_joints']} but the arrays have {j[0]} joints"
                        )
            except DataError as exc:
                problems.append(str(exc))
        elif "data" in npz.files:
            from pstmo.data.mpi_inf_3dhp import check_3dhp_file

            problems.extend(check_3dhp_file(npz, p, summaries))
        else:
            problems.append(
                f"{p}: expected key 'positions_3d' (3D file), 'positions_2d' (2D file) or 'data' (MPI-INF-3DHP); "
                f"the archive has {sorted(npz.files)}"
            )
    if data_3d is not None and data_2d is not None:
        problems.extend(_check_pair(data_3d, data_2d, path, path_2d))
    return problems, "; ".join(summaries)


def _check_dict(npz: Any, path: Any, key: str, problems: list[str], summaries: list[str]) -> dict | None:
    try:
        data = read_pickled_dict(npz, path, key)
    except DataError as exc:
        problems.append(str(exc))
        return None
    is_3d = key == "positions_3d"
    frames = clips = 0
    cams: set[int] = set()
    for subject, actions in data.items():
        if not isinstance(actions, dict) or not actions:
            problems.append(
                f"{path}: key {key!r}: subject {subject!r}: expected a non-empty dict {{action: array}}"
            )
            continue
        for action, value in actions.items():
            address = f"{key}[{subject!r}][{action!r}]"
            arrays = [value] if is_3d else (list(value) if isinstance(value, list | tuple) else [value])
            if not is_3d:
                cams.add(len(arrays))
            for i, arr in enumerate(arrays):
                addr = address if is_3d else f"{address}[{i}]"
                try:
                    arr = check_poses(arr, path, addr, joints=(15, 17, 32), dims=3 if is_3d else (2, 3))
                except DataError as exc:
                    problems.append(str(exc))
                    continue
                if i == 0:
                    frames += arr.shape[0]
            clips += 1
    if not is_3d and len(cams) > 1:
        problems.append(
            f"{path}: key {key!r}: unknown camera count: actions have {sorted(cams)} cameras, expected one count"
        )
    kind = "3D" if is_3d else "2D"
    summaries.append(
        f"{path}: {kind}, {len(data)} subjects, {clips} clips, {frames} frames"
        + (f", {sorted(cams)[0] if cams else 0} cameras" if not is_3d else "")
    )
    return data


def _check_pair(data_3d: dict, data_2d: dict, path_3d: Any, path_2d: Any) -> list[str]:
    problems = []
    for subject, actions in data_3d.items():
        if subject not in data_2d:
            problems.append(f"{path_2d}: key 'positions_2d': subject {subject!r} of the 3D file is absent")
            continue
        for action, pos in actions.items():
            if action not in data_2d[subject]:
                problems.append(
                    f"{path_2d}: key 'positions_2d': action {action!r} of subject {subject!r} is absent"
                )
                continue
            t3 = np.asarray(pos).shape[0] if hasattr(pos, "shape") else 0
            for i, kp in enumerate(data_2d[subject][action]):
                t2 = np.asarray(kp).shape[0] if hasattr(kp, "shape") else 0
                if t2 < t3:
                    problems.append(
                        f"{path_2d}: key 'positions_2d'[{subject!r}][{action!r}][{i}]: 2D shorter than 3D "
                        f"({t2} < {t3} frames; expected at least the 3D length)"
                    )
    return problems
