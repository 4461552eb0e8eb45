"""Whole-file checks for ``pstmo data check``: a VideoPose3D 3D and/or 2D file, or an
MPI-INF-3DHP file; each problem one sentence naming the file and key.

The per-array checks every loader uses are in :mod:`pstmo.data.check`; this module sits above
the loaders (it dispatches MPI-INF-3DHP files to :mod:`pstmo.data.mpi_inf_3dhp`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from pstmo.data.check import check_poses, check_symmetry, load_npz, metadata_num_joints, read_pickled_dict
from pstmo.data.mpi_inf_3dhp import check_3dhp_file
from pstmo.errors import DataError


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
                joints = _joint_count(data_2d) if data_2d else None
                n = metadata_num_joints(meta, p)
                if n is not None and joints is not None and n != joints:
                    problems.append(
                        f"{p}: key 'metadata': num_joints is {n} but the arrays have {joints} joints"
                    )
                if "keypoints_symmetry" in meta and joints is not None:
                    check_symmetry(meta["keypoints_symmetry"], joints, p)
            except DataError as exc:
                problems.append(str(exc))
        elif "data" in npz.files:
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
    mixed: list[str] = []  # subjects whose clips disagree on the camera count
    for subject, actions in data.items():
        subject_cams: set[int] = set()
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
                subject_cams.add(len(arrays))
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
        if len(subject_cams) > 1:
            mixed.append(f"{subject!r} {sorted(subject_cams)}")
    if mixed:  # one count per subject (the demo's test subjects have fewer cameras than its training ones)
        problems.append(
            f"{path}: key {key!r}: unknown camera count: actions of {', '.join(mixed)} cameras, expected one count"
        )
    kind = "3D" if is_3d else "2D"
    summaries.append(
        f"{path}: {kind}, {len(data)} subjects, {clips} clips, {frames} frames"
        + (f", {'-'.join(map(str, sorted(cams))) if cams else 0} cameras" if not is_3d else "")
    )
    return data


def _joint_count(data_2d: dict) -> int | None:
    """Joint count of the first pose array of a ``positions_2d`` dict (None if there is none)."""
    for actions in data_2d.values():
        for value in actions.values() if isinstance(actions, dict) else ():
            for arr in value if isinstance(value, list | tuple) else [value]:
                if isinstance(arr, np.ndarray) and arr.ndim == 3:
                    return int(arr.shape[1])
    return None


def _frames(value: Any) -> int:
    return int(value.shape[0]) if isinstance(value, np.ndarray) and value.ndim >= 1 else 0


def _check_pair(data_3d: dict, data_2d: dict, path_3d: Any, path_2d: Any) -> list[str]:
    problems = []
    for subject, actions in data_3d.items():
        if not isinstance(actions, dict):
            continue  # reported by _check_dict
        if subject not in data_2d or not isinstance(data_2d[subject], dict):
            problems.append(f"{path_2d}: key 'positions_2d': subject {subject!r} of the 3D file is absent")
            continue
        for action, pos in actions.items():
            if action not in data_2d[subject]:
                problems.append(
                    f"{path_2d}: key 'positions_2d': action {action!r} of subject {subject!r} is absent"
                )
                continue
            t3 = _frames(pos)
            views = data_2d[subject][action]
            for i, kp in enumerate(views if isinstance(views, list | tuple) else [views]):
                t2 = _frames(kp)
                if t2 < t3:
                    problems.append(
                        f"{path_2d}: key 'positions_2d'[{subject!r}][{action!r}][{i}]: 2D shorter than 3D "
                        f"({t2} < {t3} frames; expected at least the 3D length)"
                    )
    return problems
