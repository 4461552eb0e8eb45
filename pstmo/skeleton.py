"""Skeleton definitions: the Human3.6M 17-joint layout used everywhere in ``pstmo``.

All poses in this package are arrays of shape ``(..., J, C)`` with ``J = 17``
joints in the order below (VideoPose3D's 17-joint subset of the 32 Human3.6M
joints) and ``C = 2`` (image x, y) or ``C = 3`` (camera-frame x, y, z).

Index  Name            Parent
0      Hip (pelvis)    -
1      RHip            0
2      RKnee           1
3      RFoot           2
4      LHip            0
5      LKnee           4
6      LFoot           5
7      Spine           0
8      Thorax          7
9      Neck/Nose       8
10     Head            9
11     LShoulder       8
12     LElbow          11
13     LWrist          12
14     RShoulder       8
15     RElbow          14
16     RWrist          15
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "Hip",
    "RHip",
    "RKnee",
    "RFoot",
    "LHip",
    "LKnee",
    "LFoot",
    "Spine",
    "Thorax",
    "Neck/Nose",
    "Head",
    "LShoulder",
    "LElbow",
    "LWrist",
    "RShoulder",
    "RElbow",
    "RWrist",
)
NUM_JOINTS: int = 17
PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
LEFT_JOINTS: tuple[int, ...] = (4, 5, 6, 11, 12, 13)
RIGHT_JOINTS: tuple[int, ...] = (1, 2, 3, 14, 15, 16)
ROOT: int = 0

#: The 32 -> 17 joint selection of VideoPose3D for the raw Human3.6M skeleton.
H36M32_TO_17: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)

#: The 14 joints scored by PCK/AUC on MPI-INF-3DHP (no pelvis, spine, head),
#: as indices into the 17-joint layout of P-STMO's 3DHP preprocessing.
MPI_INF_3DHP_ROOT: int = 14
MPI_INF_3DHP_PCK_JOINTS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)

#: The 15 Human3.6M actions in the papers' column order, with the short labels used in tables.
H36M_ACTIONS: tuple[str, ...] = (
    "Directions",
    "Discussion",
    "Eating",
    "Greeting",
    "Phoning",
    "Photo",
    "Posing",
    "Purchases",
    "Sitting",
    "SittingDown",
    "Smoking",
    "Waiting",
    "WalkDog",
    "Walking",
    "WalkTogether",
)
H36M_ACTION_LABELS: tuple[str, ...] = (
    "Dir.",
    "Disc.",
    "Eat",
    "Greet",
    "Phone",
    "Photo",
    "Pose",
    "Pur.",
    "Sit",
    "SitD.",
    "Smoke",
    "Wait",
    "WalkD.",
    "Walk",
    "WalkT.",
)
H36M_TRAIN_SUBJECTS: tuple[str, ...] = ("S1", "S5", "S6", "S7", "S8")
H36M_TEST_SUBJECTS: tuple[str, ...] = ("S9", "S11")

#: COCO-17 keypoint names (the layout of most 2D detectors).
COCO_JOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
#: COCO-17 left / right keypoints, pairwise (``left_eye`` <-> ``right_eye``, ...): the
#: ``keypoints_symmetry`` of COCO-ordered 2D files and of the official in-the-wild demo.
COCO_LEFT_JOINTS: tuple[int, ...] = (1, 3, 5, 7, 9, 11, 13, 15)
COCO_RIGHT_JOINTS: tuple[int, ...] = (2, 4, 6, 8, 10, 12, 14, 16)


def flip_permutation(
    num_joints: int = NUM_JOINTS, left: tuple[int, ...] = LEFT_JOINTS, right: tuple[int, ...] = RIGHT_JOINTS
) -> list[int]:
    """Joint permutation that swaps left and right joints (used for flip augmentation)."""
    perm = list(range(num_joints))
    for a, b in zip(left, right):
        perm[a], perm[b] = b, a
    return perm


def bones() -> list[tuple[int, int]]:
    """(child, parent) pairs of the 16 bones."""
    return [(j, p) for j, p in enumerate(PARENTS) if p >= 0]


@dataclass(frozen=True)
class Skeleton:
    """A kinematic tree: parents, left/right joints and names."""

    parents: tuple[int, ...] = PARENTS
    left: tuple[int, ...] = LEFT_JOINTS
    right: tuple[int, ...] = RIGHT_JOINTS
    names: tuple[str, ...] = JOINT_NAMES

    @property
    def num_joints(self) -> int:
        return len(self.parents)

    def flip_permutation(self) -> list[int]:
        return flip_permutation(self.num_joints, self.left, self.right)


H36M_SKELETON = Skeleton()


def coco_flip_permutation() -> list[int]:
    """The left/right permutation of COCO-17 keypoints (a horizontal flip of COCO-ordered 2D input)."""
    return flip_permutation(len(COCO_JOINT_NAMES), COCO_LEFT_JOINTS, COCO_RIGHT_JOINTS)


def coco_to_h36m(keypoints: np.ndarray) -> np.ndarray:
    """Convert COCO-17 keypoints ``(..., 17, C)`` to the Human3.6M-17 layout ``(..., 17, C)``.

    Pelvis = mid-hips, thorax = mid-shoulders, spine = mid(pelvis, thorax),
    head = nose + (nose - thorax) * 0.5 approximated from eyes/nose; the "Neck/Nose"
    joint takes the nose. Works for C = 2 (x, y) or C = 3 (x, y, score; the score of
    a derived joint is the minimum of its sources).
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim < 2 or kp.shape[-2] != 17 or kp.shape[-1] not in (2, 3):
        raise ValueError(f"COCO keypoints must have shape (..., 17, 2|3), got {kp.shape}")
    out = np.zeros(kp.shape, dtype=np.float64)
    c = kp.shape[-1]

    def mid(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        m = (a + b) / 2
        if c == 3:
            m[..., 2] = np.minimum(a[..., 2], b[..., 2])
        return m

    pelvis = mid(kp[..., 11, :], kp[..., 12, :])
    thorax = mid(kp[..., 5, :], kp[..., 6, :])
    out[..., 0, :] = pelvis
    out[..., 1, :] = kp[..., 12, :]
    out[..., 2, :] = kp[..., 14, :]
    out[..., 3, :] = kp[..., 16, :]
    out[..., 4, :] = kp[..., 11, :]
    out[..., 5, :] = kp[..., 13, :]
    out[..., 6, :] = kp[..., 15, :]
    out[..., 7, :] = mid(pelvis, thorax)
    out[..., 8, :] = thorax
    out[..., 9, :] = kp[..., 0, :]
    eyes = mid(kp[..., 1, :], kp[..., 2, :])
    head = eyes.copy()
    head[..., :2] = eyes[..., :2] + (eyes[..., :2] - kp[..., 0, :2])
    if c == 3:
        head[..., 2] = np.minimum(eyes[..., 2], kp[..., 0, 2])
    out[..., 10, :] = head
    out[..., 11, :] = kp[..., 5, :]
    out[..., 12, :] = kp[..., 7, :]
    out[..., 13, :] = kp[..., 9, :]
    out[..., 14, :] = kp[..., 6, :]
    out[..., 15, :] = kp[..., 8, :]
    out[..., 16, :] = kp[..., 10, :]
    return out.astype(np.asarray(keypoints).dtype if np.asarray(keypoints).dtype.kind == "f" else np.float32)
