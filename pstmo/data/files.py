"""Whole-file checks for ``pstmo data check``: a VideoPose3D 3D and/or 2D file, or an
MPI-INF-3DHP file; each problem one sentence naming the file and key.

The per-array checks every loader uses are in :mod:`pstmo.data.check`; this module sits above
the loaders (it dispatches MPI-INF-3DHP files to :mod:`pstmo.data.mpi_inf_3dhp`). It also holds
the checks that the commands run before a loader opens anything:

- :func:`check_regular_file` / :func:`check_data_dir`: only regular files are read. A FIFO
  would block for ever, a device (``/dev/zero``) never ends, a directory is not a file; each is
  refused at once, by ``os.stat``, which opens nothing.
- :func:`check_dataset`: the splits, frame rate and subjects of a loaded data set against its
  data (``pstmo data info``).
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path
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
            check_regular_file(p, "an .npz pose file")
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
            found = check_3dhp_file(npz, p, summaries)
            problems.extend(found or _check_3dhp_names(npz, p))
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
        if not _is_name(subject):
            problems.append(f"{path}: key {key!r}: subject {subject!r}: expected a non-empty name (a string)")
            continue
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


# ----------------------------------------------------------------------------------------------
# only regular files


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
    ):  # fmt: skip
        if test(mode):
            return name
    return "not a regular file"


def check_regular_file(path: str | os.PathLike, what: str = "a file") -> Path:
    """Refuse ``path`` at once if it exists but is not a regular file (a directory, a FIFO, a
    device, a socket; symbolic links are followed): :class:`DataError` "PATH: is a FIFO (named
    pipe), not a regular file; expected WHAT". ``os.stat`` opens nothing, so a FIFO cannot block
    here. A path that does not exist or cannot be examined is left to the reader, which says so
    in its own words ("not found")."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return Path(path)
    if not stat.S_ISREG(mode):
        kind = _kind(mode)
        text = kind if kind == "not a regular file" else f"is {kind}, not a regular file"
        raise DataError(f"{text}; expected {what}", path=str(path))
    return Path(path)


def check_data_dir(data_dir: str | os.PathLike | None) -> None:
    """Refuse a data folder that holds an ``.npz`` or ``.json`` entry that is not a regular file
    (a loader would open it: a FIFO blocks, a device never ends). ``None`` (the package's demo
    data) and a folder that does not exist are left to the loader."""
    if data_dir is None or not os.path.isdir(data_dir):
        return
    with os.scandir(data_dir) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.lower().endswith((".npz", ".json")):
                check_regular_file(entry.path, "a data file (.npz or .json)")


# ----------------------------------------------------------------------------------------------
# splits, frame rate and subjects of a loaded data set

#: Frame rates above this are refused as corrupt (the loaders' own limit).
MAX_FPS: float = 1e4


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _check_3dhp_names(npz: Any, path: Any) -> list[str]:
    """Sequence names of an MPI-INF-3DHP file whose subject part (before the first space) is empty."""
    data = read_pickled_dict(npz, path, "data")
    bad = [name for name in data if not _is_name(str(name).split(" ")[0])]
    if bad:
        return [f"{path}: key 'data': sequence {bad[0]!r}: expected a subject name before the first space"]
    return []


def check_dataset(ds: Any) -> list[str]:
    """Problems of a loaded :class:`~pstmo.data.dataset.PoseDataset` that no single file shows:
    its frame rate, subject names and splits against the subjects its data holds.

    - The frame rate is a positive finite number (at most :data:`MAX_FPS`).
    - Every subject has a non-empty name and frames.
    - No subject is in both the ``train`` and the ``test`` split (it would be trained on and
      scored).
    - Splits given by the data set's own files (the demo format's ``demo_cameras.json``, which
      any data set in that format can use): ``train`` and ``test`` are there, every split names
      at least one subject, every name is non-empty and is a subject of the data. The fixed splits of Human3.6M, HumanEva-I and
      MPI-INF-3DHP may name subjects that a partial file lacks (MPI-INF-3DHP: a test file alone
      has an empty training split), but at least one subject of a split must be in the data.
    """
    where = f"data set {ds.name!r}"
    info = ds.info()
    held = list(info["subjects"])
    splits = {name: list(subjects) for name, subjects in ds.splits.items()}
    problems = _fps_problems(where, ds.fps) + _subject_problems(where, info["subjects"])
    problems += _split_problems(where, splits, held, own=ds.name == "demo")  # demo: splits from its own files
    both = [s for s in splits.get("train", []) if s in splits.get("test", []) and _is_name(s)]
    if both:
        problems.append(
            f"{where}: subject(s) {both} are in both the 'train' and the 'test' split; a test subject must "
            "not be trained on"
        )
    return problems


def _fps_problems(where: str, fps: Any) -> list[str]:
    if (
        isinstance(fps, bool)
        or not isinstance(fps, int | float)
        or not (math.isfinite(fps) and 0 < fps <= MAX_FPS)
    ):
        return [
            f"{where}: frame rate {fps!r}: expected a positive number of frames per second (at most {MAX_FPS:g})"
        ]
    return []


def _subject_problems(where: str, subjects: dict[str, Any]) -> list[str]:
    problems = []
    for subject, entry in subjects.items():
        if not _is_name(subject):
            problems.append(f"{where}: subject {subject!r}: expected a non-empty name")
        elif not entry["frames"]:
            problems.append(f"{where}: subject {subject!r} has no frames")
    return problems


def _split_problems(where: str, splits: dict[str, list], held: list[str], own: bool) -> list[str]:
    """Splits read from the data's own files (``own``) must be complete and name subjects of the data;
    a data set's fixed splits need at least one subject in the data."""
    if not own:
        if any(s in held for subjects in splits.values() for s in subjects):
            return []
        listed = ", ".join(f"{k}: {list(v)}" for k, v in splits.items())
        return [
            f"{where}: no subject of its splits ({listed}) is in the data, which holds {', '.join(held) or 'nothing'}"
        ]
    problems = []
    missing = [name for name in ("train", "test") if name not in splits]
    if missing:
        problems.append(f"{where}: the splits lack {' and '.join(map(repr, missing))}; expected "
                        '{"train": [subjects], "test": [subjects]}')  # fmt: skip
    for name, subjects in splits.items():
        blank = [s for s in subjects if not _is_name(s)]
        absent = [s for s in subjects if _is_name(s) and s not in held]
        if not subjects:
            problems.append(
                f"{where}: split {name!r} is empty; name at least one subject of the data ({', '.join(held)})"
            )
        elif blank:
            problems.append(
                f"{where}: split {name!r} names an empty subject {blank[0]!r}; expected names of subjects of the data"
            )
        elif absent:
            problems.append(
                f"{where}: split {name!r} names subject(s) {absent} that the data does not hold; "
                f"it holds {', '.join(held)}"
            )
    return problems
