"""Human3.6M (and the demo data set) in VideoPose3D's npz format.

Files (see ``/work/shared/reference/README.md`` for the conventions):

- ``data_3d_<name>.npz``: ``positions_3d`` = {subject: {clip: (T, 32 or 17, 3)}} world metres.
- ``data_2d_<name>_<detector>.npz``: ``positions_2d`` = {subject: {clip: [one (T', 17, 2)
  pixel array per camera, in camera-table order]}} with T' >= T, and ``metadata``
  ({'num_joints', 'keypoints_symmetry', ...}).

Processing, as VideoPose3D / P-STMO do: keep the 17 joints of ``H36M32_TO_17``, rotate
and translate the world poses into each camera (``world_to_camera`` with the table's
extrinsics), make them root-relative (root = 0), normalise the 2D pixels with the
camera's resolution and trim the 2D to the 3D length.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pstmo.cameras import (
    CameraTable,
    h36m_cameras,
    load_camera_table,
    normalize_screen_coordinates,
    world_to_camera,
)
from pstmo.data.check import (
    check_poses,
    load_npz,
    metadata_num_joints,
    read_pickled_dict,
    skeleton_from_symmetry,
)
from pstmo.data.dataset import ClipInfo, PoseDataset, Sequence, demo_dir
from pstmo.errors import DataError
from pstmo.metrics import fold_action
from pstmo.registry import DATASETS
from pstmo.skeleton import H36M32_TO_17, H36M_SKELETON, H36M_TEST_SUBJECTS, H36M_TRAIN_SUBJECTS, Skeleton


def load_videopose3d(
    path_3d: str | os.PathLike,
    path_2d: str | os.PathLike,
    cameras: CameraTable,
    name: str,
    splits: dict[str, tuple[str, ...]],
    skeleton: Skeleton = H36M_SKELETON,
    fps: float = 50.0,
    joint_maps: dict[int, tuple[int, ...]] | None = None,
    root_joint: int = 0,
    extra_files: tuple[str | os.PathLike, ...] = (),
) -> PoseDataset:
    """Load a 3D + 2D file pair in VideoPose3D's format with a camera table.

    ``joint_maps`` maps a raw 3D joint count to the indices kept (default: 32 -> the 17
    Human3.6M joints); arrays that already have ``skeleton.num_joints`` joints are kept.
    The 2D file's ``metadata['keypoints_symmetry']`` (left joints, right joints), when
    present, replaces ``skeleton``'s left/right joints and so sets the flip permutation (the
    2D and 3D joints share one layout here); an inconsistent entry is a :class:`DataError`.
    Raises :class:`DataError` for missing keys, bad shapes, NaN, 2D shorter than 3D, a
    camera count that differs from the table, and subjects/clips absent from the 2D file.
    A subject's 2D list has one array per camera of the table, or one per camera that has
    extrinsics for that subject (``CameraTable.cameras_of``, e.g. the demo's test subjects).
    """
    path_3d, path_2d = Path(path_3d), Path(path_2d)
    J = skeleton.num_joints
    joint_maps = {32: H36M32_TO_17} if joint_maps is None else joint_maps
    positions_3d, positions_2d, skeleton = _read_pair(path_3d, path_2d, skeleton)
    clips = _index_clips(positions_3d, positions_2d, path_3d, path_2d, cameras, J, joint_maps)

    def build(subject: str) -> list[Sequence]:
        cams = _subject_cameras(cameras, subject, positions_2d[subject])
        return [
            _camera_view(
                subject,
                clip,
                cam,
                pos,
                positions_2d[subject][clip][k],
                cameras,
                J,
                joint_maps,
                fps,
                root_joint,
            )  # fmt: skip
            for clip, pos in positions_3d[subject].items()
            for k, cam in enumerate(cams)
        ]

    return PoseDataset(
        name=name, skeleton=skeleton, clips=clips, splits=splits, builder=build,
        source_files=[path_3d, path_2d, *extra_files], fps=fps, root_joint=root_joint,
    )  # fmt: skip


def _read_pair(path_3d: Path, path_2d: Path, skeleton: Skeleton) -> tuple[dict, dict, Skeleton]:
    """``positions_3d``, ``positions_2d`` and the skeleton (its left/right joints from the 2D file's
    ``metadata['keypoints_symmetry']`` when present) of a VideoPose3D file pair; the 2D file's
    ``num_joints`` must be the skeleton's."""
    positions_3d = read_pickled_dict(load_npz(path_3d), path_3d, "positions_3d")
    npz_2d = load_npz(path_2d)
    positions_2d = read_pickled_dict(npz_2d, path_2d, "positions_2d")
    metadata = read_pickled_dict(npz_2d, path_2d, "metadata")
    num_joints = metadata_num_joints(metadata, path_2d)
    if num_joints is not None and num_joints != skeleton.num_joints:
        raise DataError(
            f"num_joints is {num_joints}, expected {skeleton.num_joints}", path=str(path_2d), key="metadata"
        )
    return positions_3d, positions_2d, skeleton_from_symmetry(metadata, skeleton, path_2d)


def _subject_cameras(cameras: CameraTable, subject: str, views_of_subject: dict) -> list[int]:
    """The cameras a subject's 2D lists stand for: all of the table's, or (when the lists are
    shorter) those with extrinsics for the subject."""
    first = next(iter(views_of_subject.values()), None)
    n = len(first) if isinstance(first, list | tuple) else cameras.num_cameras
    own = cameras.cameras_of(subject)
    return own if n != cameras.num_cameras and n == len(own) else list(range(cameras.num_cameras))


def _index_clips(
    positions_3d: dict, positions_2d: dict, path_3d: Path, path_2d: Path, cameras: CameraTable, J: int,
    joint_maps: dict[int, tuple[int, ...]],
) -> list[ClipInfo]:  # fmt: skip
    """Check the 3D/2D dictionaries against each other and list their clips (no sequence is built)."""
    clips: list[ClipInfo] = []
    for subject, actions in positions_3d.items():
        if (
            not isinstance(subject, str)
            or not isinstance(actions, dict)
            or not all(isinstance(c, str) for c in actions)
        ):
            raise DataError(
                "expected a dict {clip name: (T, J, 3)} under a subject name (strings)",
                path=str(path_3d), key=f"positions_3d[{subject!r}]",
            )  # fmt: skip
        if subject not in positions_2d:
            raise DataError(
                f"subject {subject!r} of the 3D file is absent (the 2D file has {list(positions_2d)})",
                path=str(path_2d), key="positions_2d",
            )  # fmt: skip
        if not isinstance(positions_2d[subject], dict):
            raise DataError(
                f"expected a dict {{clip: [one (T, {J}, 2) array per camera]}}",
                path=str(path_2d), key=f"positions_2d[{subject!r}]",
            )  # fmt: skip
        n_cams = len(_subject_cameras(cameras, subject, positions_2d[subject]))
        for clip, pos in actions.items():
            T = _check_clip(
                subject, clip, pos, positions_2d[subject], path_3d, path_2d, n_cams, J, joint_maps
            )
            clips.append(ClipInfo(subject, clip, fold_action(clip), T, n_cams))
    if not clips:
        raise DataError("no clips", path=str(path_3d), key="positions_3d")
    return clips


def _check_clip(
    subject: str, clip: str, pos: object, views_of_subject: dict, path_3d: Path, path_2d: Path, n_cams: int,
    J: int, joint_maps: dict[int, tuple[int, ...]],
) -> int:  # fmt: skip
    """Validate one clip's 3D array and its per-camera 2D arrays; returns its 3D length T."""
    if clip not in views_of_subject:
        raise DataError(
            f"clip {clip!r} of subject {subject!r} is absent from the 2D file",
            path=str(path_2d),
            key="positions_2d",
        )
    views = views_of_subject[clip]
    if not isinstance(views, list | tuple) or len(views) != n_cams:
        got = len(views) if isinstance(views, list | tuple) else type(views).__name__
        raise DataError(
            f"unknown camera count {got}: expected a list of {n_cams} arrays (T, {J}, 2), one per camera",
            path=str(path_2d), key=f"positions_2d[{subject!r}][{clip!r}]",
        )  # fmt: skip
    key3 = f"positions_3d[{subject!r}][{clip!r}]"
    T = check_poses(pos, path_3d, key3, joints=tuple(joint_maps) + (J,), dims=3).shape[0]
    for i, kp in enumerate(views):
        key2 = f"positions_2d[{subject!r}][{clip!r}][{i}]"
        kp = check_poses(kp, path_2d, key2, joints=J, dims=(2, 3))
        if kp.shape[0] < T:
            raise DataError(
                f"2D shorter than 3D: {kp.shape[0]} frames, expected at least {T} (the 3D length)",
                path=str(path_2d), key=key2,
            )  # fmt: skip
    return T


def _camera_view(
    subject: str, clip: str, cam: int, pos: object, keypoints: object, cameras: CameraTable, J: int,
    joint_maps: dict[int, tuple[int, ...]], fps: float, root_joint: int,
) -> Sequence:  # fmt: skip
    """One camera's view of a clip: world 3D -> camera frame, root-relative; 2D normalised, trimmed."""
    pos = np.asarray(pos, dtype=np.float32)
    if pos.shape[1] != J:
        pos = pos[:, list(joint_maps[pos.shape[1]])]
    intr = cameras.intrinsics[cam]
    R, t = cameras.extrinsic(subject, cam)
    p3 = world_to_camera(pos, R, t)
    root = p3[:, root_joint].copy()
    p3 = p3 - p3[:, root_joint : root_joint + 1]
    w, h = int(intr["res_w"]), int(intr["res_h"])
    kp = np.asarray(keypoints, dtype=np.float32)[: pos.shape[0], :, :2]
    return Sequence(
        subject=subject, action=fold_action(clip), camera=cam, pose_2d=normalize_screen_coordinates(kp, w, h),
        pose_3d=p3.astype(np.float32), res_w=w, res_h=h, fps=fps,
        intrinsics={"focal": intr.get("focal_length"), "center": intr.get("center"),
                    "radial_distortion": intr.get("radial_distortion"),
                    "tangential_distortion": intr.get("tangential_distortion"), "id": intr.get("id", str(cam))},
        name=f"{subject}/{clip}/cam{cam}", clip=clip, root_3d=root.astype(np.float32),
    )  # fmt: skip


def load_h36m(
    data_dir: str | os.PathLike, keypoints: str = "det", cameras: CameraTable | None = None
) -> PoseDataset:
    """Human3.6M from ``data_dir/data_3d_h36m.npz`` and ``data_2d_h36m_<detector>.npz``.

    ``keypoints``: "gt", "det" (= CPN ``cpn_ft_h36m_dbb``) or any detector suffix.
    Train S1, S5, S6, S7, S8; test S9, S11.
    """
    data_dir = Path(data_dir)
    detector = DATASETS["h36m"].detector(keypoints)  # "det" / "cpn" -> cpn_ft_h36m_dbb
    return load_videopose3d(
        data_dir / "data_3d_h36m.npz",
        data_dir / f"data_2d_h36m_{detector}.npz",
        cameras=cameras or h36m_cameras(),
        name="h36m",
        splits={"train": H36M_TRAIN_SUBJECTS, "test": H36M_TEST_SUBJECTS},
    )


#: The demo's split by CMU subject (documented in pstmo/data/demo/README.md).
DEMO_SPLITS = {"train": ("S01", "S131"), "test": ("S02", "S11")}


def load_demo(data_dir: str | os.PathLike | None = None, keypoints: str = "gt") -> PoseDataset:
    """The embedded CMU demo data set (``keypoints``: "gt" projected or "det" noisy 2D)."""
    data_dir = Path(data_dir) if data_dir is not None else demo_dir()
    if keypoints not in ("gt", "det"):
        raise DataError(f"the demo data set has keypoints 'gt' and 'det', not {keypoints!r}", key="keypoints")
    cam_path = data_dir / "demo_cameras.json"
    if not cam_path.exists():
        raise DataError(
            "the demo data set is missing; build it with `python tools/build_demo_dataset.py`",
            path=str(cam_path),
        )
    cameras = load_camera_table(cam_path)
    raw_splits = cameras.meta.get("splits", DEMO_SPLITS)
    if not isinstance(raw_splits, dict) or not all(
        isinstance(v, list | tuple) and all(isinstance(x, str) for x in v) for v in raw_splits.values()
    ):
        raise DataError(
            'expected {"train": [subjects], "test": [subjects]}', path=str(cam_path), key="splits"
        )
    splits = {str(k): tuple(v) for k, v in raw_splits.items()}
    fps = cameras.meta.get("fps", 50.0)
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not 0 < fps < 1e4:
        raise DataError(f"expected a positive frame rate, got {fps!r:.40}", path=str(cam_path), key="fps")
    return load_videopose3d(
        data_dir / "data_3d_demo.npz",
        data_dir / f"data_2d_demo_{keypoints}.npz",
        cameras=cameras,
        name="demo",
        splits=splits,
        fps=float(fps),
        extra_files=(cam_path,),
    )
