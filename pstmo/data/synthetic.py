"""A small synthetic data set: smooth random 3D motion and its exact perspective projection.

``synthetic_dataset()`` builds, in milliseconds and with no file, a :class:`PoseDataset` whose
sequences have everything the real loaders provide (root-relative camera-frame 3D poses,
normalised 2D poses, camera intrinsics, the root trajectory), so that training, evaluation and
the refinement module can be exercised end to end: the tests use it, and it is a quick sandbox.

Motion: every joint oscillates around a random rest pose, ``p(t) = base + 0.1 sin(w t + phi)``
metres (root subtracted), seen by a pinhole camera 4 m away (focal 500 px, image 1000 x 1000,
principal point (600, 500) px, i.e. normalised focal 1 and centre (0.2, 0)).
"""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC

import numpy as np

from pstmo.data.dataset import ClipInfo, PoseDataset, Sequence
from pstmo.metrics import fold_action
from pstmo.skeleton import H36M_SKELETON, Skeleton

TRAIN = (("S1", "Walking 1"), ("S1", "Eating"), ("S5", "Walking"))
TEST = (("S9", "Walking"), ("S9", "Eating 2"))


def synthetic_dataset(
    seed: int = 0,
    train: SequenceABC[tuple[str, str]] = TRAIN,
    test: SequenceABC[tuple[str, str]] = TEST,
    length: int = 48,
    skeleton: Skeleton = H36M_SKELETON,
    name: str = "synthetic",
) -> PoseDataset:
    """``train``/``test``: (subject, clip) pairs, one camera each, ``length`` frames at 50 fps."""
    rng = np.random.default_rng(seed)
    J = skeleton.num_joints
    base = rng.normal(scale=0.25, size=(J, 3))
    by_subject: dict[str, list[Sequence]] = {}
    clips = []
    for subject, clip in (*train, *test):
        t = np.arange(length)[:, None, None]
        freq = rng.uniform(0.05, 0.2, size=(1, J, 3))
        phase = rng.uniform(0, 2 * np.pi, size=(1, J, 3))
        pose = base + 0.1 * np.sin(freq * t + phase)
        pose = (pose - pose[:, :1]).astype(np.float32)
        cam = pose + np.array([0.0, 0.0, 4.0])
        pose_2d = (cam[..., :2] / cam[..., 2:] + np.array([0.2, 0.0])).astype(np.float32)
        seq = Sequence(
            subject=subject, action=fold_action(clip), camera=0, pose_2d=pose_2d, pose_3d=pose, res_w=1000,
            res_h=1000, intrinsics={"focal": [500.0, 500.0], "center": [600.0, 500.0]}, name=f"{subject}/{clip}",
            clip=clip, root_3d=np.tile(np.array([0.0, 0.0, 4.0], np.float32), (length, 1)),
        )  # fmt: skip
        by_subject.setdefault(subject, []).append(seq)
        clips.append(ClipInfo(subject, clip, seq.action, length, 1))
    splits = {
        "train": tuple(dict.fromkeys(s for s, _ in train)),
        "test": tuple(dict.fromkeys(s for s, _ in test)),
    }
    return PoseDataset(name, skeleton, clips, splits, lambda subject: by_subject[subject])


__all__ = ["synthetic_dataset"]
