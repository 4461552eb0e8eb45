"""HumanEva-I in VideoPose3D's ``humaneva15`` format (15 joints, 3 cameras, 60 fps).

Files: ``data_3d_humaneva15.npz`` (``positions_3d`` {"Train/S1": {"Walk 1 chunk0": (T, 15, 3)}},
world metres) and ``data_2d_humaneva15_<detector>.npz`` (``positions_2d``, 3 views of
(T, 15, 2) pixels, 640 x 480). Subjects "Train/S1..S3" train, "Validate/S1..S3" test;
actions Walk, Jog, Box (chunk suffixes folded). The joints stay 15 (models take
``joints=15``): the skeleton is :data:`HUMANEVA_SKELETON`. The camera table has no focal
lengths, so ``Sequence.intrinsics['focal']`` is None.
"""

from __future__ import annotations

import os
from pathlib import Path

from pstmo.cameras import CameraTable, humaneva_cameras
from pstmo.data.dataset import PoseDataset
from pstmo.data.h36m import load_videopose3d
from pstmo.skeleton import Skeleton

HUMANEVA_JOINT_NAMES: tuple[str, ...] = (
    "Pelvis", "Thorax", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist",
    "LHip", "LKnee", "LAnkle", "RHip", "RKnee", "RAnkle", "Head",
)  # fmt: skip

#: VideoPose3D's 15-joint HumanEva skeleton (root 0 = pelvis).
HUMANEVA_SKELETON = Skeleton(
    parents=(-1, 0, 1, 2, 3, 1, 5, 6, 0, 8, 9, 0, 11, 12, 1),
    left=(2, 3, 4, 8, 9, 10),
    right=(5, 6, 7, 11, 12, 13),
    names=HUMANEVA_JOINT_NAMES,
)
HUMANEVA_SPLITS = {
    "train": ("Train/S1", "Train/S2", "Train/S3"),
    "test": ("Validate/S1", "Validate/S2", "Validate/S3"),
}


def load_humaneva(
    data_dir: str | os.PathLike, keypoints: str = "gt", cameras: CameraTable | None = None
) -> PoseDataset:
    """HumanEva-I from ``data_dir`` (``keypoints``: "gt" or a detector suffix with 15 joints)."""
    data_dir = Path(data_dir)
    return load_videopose3d(
        data_dir / "data_3d_humaneva15.npz",
        data_dir / f"data_2d_humaneva15_{keypoints}.npz",
        cameras=cameras or humaneva_cameras(),
        name="humaneva",
        splits=HUMANEVA_SPLITS,
        skeleton=HUMANEVA_SKELETON,
        fps=60.0,
        joint_maps={},
    )
