"""MPI-INF-3DHP in P-STMO's preprocessed npz format.

- ``data_train_3dhp.npz``: key ``data`` -> {"S1 Seq1": [{camera: {'data_2d': (T, 17, 2) px,
  'data_3d': (T, 17, 3) mm}}, fps]}; images 2048 x 2048.
- ``data_test_3dhp.npz``: key ``data`` -> {"TS1".."TS6": {'data_2d', 'data_3d', 'valid' (T,)}};
  TS1-TS4 2048 x 2048 at 25 fps, TS5-TS6 1920 x 1080 at 50 fps.

17 joints in MPI order (:data:`MPI_INF_3DHP_SKELETON`), root joint 14 (pelvis); 3D is
converted to metres and made root-relative; ``Sequence.valid`` marks the test frames that
are scored. Train subjects S1-S8 (subject = "S1", clip = "Seq1", one sequence per camera);
test subjects TS1-TS6 (clip = subject).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from pstmo.cameras import normalize_screen_coordinates
from pstmo.data.check import check_poses, load_npz, read_pickled_dict
from pstmo.data.dataset import ClipInfo, PoseDataset, Sequence
from pstmo.errors import DataError
from pstmo.skeleton import MPI_INF_3DHP_ROOT, Skeleton

MPI_INF_3DHP_JOINT_NAMES: tuple[str, ...] = (
    "HeadTop", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "Pelvis", "Spine", "Head",
)  # fmt: skip
MPI_INF_3DHP_SKELETON = Skeleton(
    parents=(16, 15, 1, 2, 3, 1, 5, 6, 14, 8, 9, 14, 11, 12, -1, 14, 1),
    left=(5, 6, 7, 11, 12, 13),
    right=(2, 3, 4, 8, 9, 10),
    names=MPI_INF_3DHP_JOINT_NAMES,
)
TEST_RESOLUTION = {"TS5": (1920, 1080), "TS6": (1920, 1080)}
TEST_FPS = {"TS5": 50.0, "TS6": 50.0}
TRAIN_RESOLUTION = (2048, 2048)


def _camera_id(cam: Any) -> int:
    try:
        return int(cam)
    except (TypeError, ValueError):
        digits = "".join(ch for ch in str(cam) if ch.isdigit())
        return int(digits) if digits else 0


def _fps(value: Any, path: Path, key: str) -> float:
    """A frame rate: a positive finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise DataError(
            f"expected a frame rate (a number), got {type(value).__name__}", path=str(path), key=key
        )
    if not 0 < float(value) < 1e4:
        raise DataError(f"expected a positive frame rate, got {value}", path=str(path), key=key)
    return float(value)


def _read_train(path: Path) -> dict[str, dict[str, list[tuple[int, np.ndarray, np.ndarray, float]]]]:
    data = read_pickled_dict(load_npz(path), path, "data")
    out: dict[str, dict[str, list]] = {}
    for seq_name, value in data.items():
        key = f"data[{seq_name!r}]"
        if not isinstance(value, list | tuple) or len(value) < 1 or not isinstance(value[0], dict):
            raise DataError("expected [ {camera: {'data_2d', 'data_3d'}}, fps ]", path=str(path), key=key)
        fps = _fps(value[1], path, f"{key}[1]") if len(value) > 1 else 25.0
        parts = str(seq_name).split(" ")
        subject, clip = (parts[0], " ".join(parts[1:]) or parts[0])
        for cam, anim in value[0].items():
            k = f"{key}[0][{cam!r}]"
            if not isinstance(anim, dict) or "data_2d" not in anim or "data_3d" not in anim:
                raise DataError(
                    "expected a dict with 'data_2d' (T, 17, 2) and 'data_3d' (T, 17, 3)",
                    path=str(path),
                    key=k,
                )
            p2 = check_poses(anim["data_2d"], path, f"{k}['data_2d']", joints=17, dims=2)
            p3 = check_poses(anim["data_3d"], path, f"{k}['data_3d']", joints=17, dims=3, unit="mm")
            if p2.shape[0] < p3.shape[0]:
                raise DataError(
                    f"2D shorter than 3D ({p2.shape[0]} < {p3.shape[0]} frames)", path=str(path), key=k
                )
            out.setdefault(subject, {}).setdefault(clip, []).append((_camera_id(cam), p2, p3, fps))
    return out


def _read_test(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    data = read_pickled_dict(load_npz(path), path, "data")
    out = {}
    for seq_name, anim in data.items():
        key = f"data[{seq_name!r}]"
        if not isinstance(anim, dict) or "data_2d" not in anim or "data_3d" not in anim:
            raise DataError("expected a dict with 'data_2d', 'data_3d' and 'valid'", path=str(path), key=key)
        p2 = check_poses(anim["data_2d"], path, f"{key}['data_2d']", joints=17, dims=2)
        p3 = check_poses(anim["data_3d"], path, f"{key}['data_3d']", joints=17, dims=3, unit="mm")
        if p2.shape[0] < p3.shape[0]:
            raise DataError(
                f"2D shorter than 3D ({p2.shape[0]} < {p3.shape[0]} frames)", path=str(path), key=key
            )
        valid = np.asarray(anim.get("valid", np.ones(p3.shape[0])))
        if valid.dtype.kind not in "biuf":
            raise DataError(
                f"expected ({p3.shape[0]},) flags (bool or 0/1), got dtype {valid.dtype}",
                path=str(path),
                key=f"{key}['valid']",
            )
        valid = valid.astype(bool).reshape(-1)
        if valid.shape[0] != p3.shape[0]:
            raise DataError(
                f"expected shape ({p3.shape[0]},), got {valid.shape}", path=str(path), key=f"{key}['valid']"
            )
        out[str(seq_name)] = (p2, p3, valid)
    return out


def _sequence(subject, clip, cam, p2, p3, res, fps, valid=None) -> Sequence:
    T = p3.shape[0]
    p3 = p3 / 1000.0  # millimetres -> metres
    root = p3[:, MPI_INF_3DHP_ROOT].copy()
    p3 = p3 - p3[:, MPI_INF_3DHP_ROOT : MPI_INF_3DHP_ROOT + 1]
    return Sequence(
        subject=subject,
        action=clip,
        camera=cam,
        pose_2d=normalize_screen_coordinates(p2[:T], *res),
        pose_3d=p3.astype(np.float32),
        res_w=res[0],
        res_h=res[1],
        fps=fps,
        intrinsics={"focal": None, "center": None},
        name=f"{subject}/{clip}/cam{cam}",
        clip=clip,
        root_3d=root.astype(np.float32),
        valid=valid,
    )


def load_3dhp(data_dir: str | os.PathLike, keypoints: str = "gt") -> PoseDataset:
    """MPI-INF-3DHP from ``data_dir`` (either or both of the train and test files). Its files hold
    ground-truth 2D only (``keypoints="gt"``), as the papers use it."""
    if keypoints != "gt":
        raise DataError(
            f"MPI-INF-3DHP has ground-truth 2D keypoints only ('gt'), not {keypoints!r}", key="keypoints"
        )
    data_dir = Path(data_dir)
    train_path, test_path = data_dir / "data_train_3dhp.npz", data_dir / "data_test_3dhp.npz"
    if not train_path.exists() and not test_path.exists():
        raise DataError(
            "expected data_train_3dhp.npz and/or data_test_3dhp.npz (P-STMO's preprocessing)",
            path=str(data_dir),
        )
    train = _read_train(train_path) if train_path.exists() else {}
    test = _read_test(test_path) if test_path.exists() else {}
    clips = [
        ClipInfo(s, c, c, views[0][2].shape[0], len(views))
        for s, clips_ in train.items()
        for c, views in clips_.items()
    ] + [ClipInfo(s, s, s, v[1].shape[0], 1) for s, v in test.items()]

    def build(subject: str) -> list[Sequence]:
        if subject in test:
            p2, p3, valid = test[subject]
            return [
                _sequence(
                    subject,
                    subject,
                    0,
                    p2,
                    p3,
                    TEST_RESOLUTION.get(subject, (2048, 2048)),
                    TEST_FPS.get(subject, 25.0),
                    valid,
                )
            ]
        return [
            _sequence(subject, clip, cam, p2, p3, TRAIN_RESOLUTION, fps)
            for clip, views in train[subject].items()
            for cam, p2, p3, fps in views
        ]

    return PoseDataset(
        name="3dhp",
        skeleton=MPI_INF_3DHP_SKELETON,
        clips=clips,
        splits={"train": tuple(train), "test": tuple(test)},
        builder=build,
        source_files=[p for p in (train_path, test_path) if p.exists()],
        fps=25.0,
        root_joint=MPI_INF_3DHP_ROOT,
    )


def check_3dhp_file(npz: Any, path: Any, summaries: list[str]) -> list[str]:
    """Problems of a P-STMO MPI-INF-3DHP file (for ``pstmo data check``)."""
    try:
        data = read_pickled_dict(npz, path, "data")
        first = next(iter(data.values()))
        if isinstance(first, dict):
            test = _read_test(Path(path))
            summaries.append(
                f"{path}: MPI-INF-3DHP test, {len(test)} sequences, {sum(v[1].shape[0] for v in test.values())} frames"
            )
        else:
            train = _read_train(Path(path))
            n = sum(len(v) for c in train.values() for v in c.values())
            summaries.append(f"{path}: MPI-INF-3DHP train, {len(train)} subjects, {n} camera sequences")
    except DataError as exc:
        return [str(exc)]
    return []
