"""The data set types: :class:`Sequence` (one camera view of one clip), :class:`ClipInfo`,
:class:`PoseDataset`, and the action-name folding of the test protocols (:func:`fold_action`).

Loaders (``pstmo.data.h36m``, ``mpi_inf_3dhp``, ``humaneva``, ``synthetic``) build these;
:func:`pstmo.data.load_dataset` picks the loader by name.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pstmo.errors import DataError
from pstmo.skeleton import Skeleton


@dataclass
class Sequence:
    """One camera view of one clip.

    ``pose_2d (T, J, 2)`` normalised screen coordinates; ``pose_3d (T, J, 3)`` root-relative
    camera-frame metres (None for 2D-only input); ``root_3d (T, 3)`` the root trajectory in
    the camera frame (metres) when known; ``intrinsics`` a dict with ``focal`` and ``center``
    (pixels, None when unknown), ``radial_distortion``, ``tangential_distortion``;
    ``action`` the folded action label ("Walking 1" -> "Walking"), ``clip`` the raw name;
    ``valid (T,)`` bool marks frames to evaluate (MPI-INF-3DHP test), None = all.
    """

    subject: str
    action: str
    camera: int
    pose_2d: np.ndarray
    pose_3d: np.ndarray | None
    res_w: int
    res_h: int
    fps: float = 50.0
    intrinsics: dict = field(default_factory=dict)
    name: str = ""
    clip: str = ""
    root_3d: np.ndarray | None = None
    valid: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.pose_2d.shape[0])

    @property
    def num_frames(self) -> int:
        return len(self)

    def __repr__(self) -> str:
        return (
            f"Sequence({self.name!r}, T={len(self)}, J={self.pose_2d.shape[1]}, "
            f"res={self.res_w}x{self.res_h}, fps={self.fps:g})"
        )


@dataclass(frozen=True)
class ClipInfo:
    """Cheap index entry: one clip (all cameras) of a subject."""

    subject: str
    clip: str
    action: str
    frames: int
    cameras: int


class PoseDataset:
    """A data set: clip index, split and a lazy per-subject builder of :class:`Sequence` lists.

    ``builder(subject)`` returns the sequences of one subject (all clips, all cameras); they
    are built on first use and cached.
    """

    def __init__(
        self,
        name: str,
        skeleton: Skeleton,
        clips: list[ClipInfo],
        splits: dict[str, tuple[str, ...]],
        builder: Callable[[str], list[Sequence]],
        source_files: Iterable[str | os.PathLike] = (),
        fps: float = 50.0,
        root_joint: int = 0,
    ):
        self.name = name
        self.skeleton = skeleton
        self.clips = clips
        self.splits = {k: tuple(v) for k, v in splits.items()}
        self.fps = fps
        self.root_joint = root_joint
        self.source_files = [Path(p) for p in source_files]
        self._builder = builder
        self._cache: dict[str, list[Sequence]] = {}
        self._fingerprint: str | None = None
        #: fraction of every training sequence held out as the "val" split (see :meth:`with_holdout`)
        self.holdout = 0.0

    def with_holdout(self, fraction: float) -> PoseDataset:
        """This data set with a validation split held out from the training subjects.

        The last ``fraction`` of every training sequence (the same frames in every camera, so no
        view of a held-out frame is trained on) becomes split ``"val"``; ``"train"`` keeps the rest.
        Models are then selected on ``"val"``, never on the test split. ``fraction`` 0 returns self.
        """
        if not (isinstance(fraction, (int, float)) and 0 <= fraction < 1):
            raise DataError(f"holdout fraction {fraction!r}: must be in [0, 1)", key="val_fraction")
        if fraction == self.holdout:
            return self
        if self.holdout:
            raise DataError(
                f"{self.name}: already holds out {self.holdout}, asked for {fraction}", key="val_fraction"
            )
        out = copy.copy(self)
        out.holdout, out._cache = float(fraction), self._cache
        out.splits = {**self.splits, "val": self.splits.get("train", ())}
        return out

    @property
    def subjects(self) -> list[str]:
        return list(dict.fromkeys(c.subject for c in self.clips))

    @property
    def actions(self) -> list[str]:
        return list(dict.fromkeys(c.action for c in self.clips))

    @property
    def num_joints(self) -> int:
        return self.skeleton.num_joints

    def sequences(
        self,
        split: str | None = "train",
        subjects: Iterable[str] | None = None,
        actions: Iterable[str] | None = None,
    ) -> list[Sequence]:
        """Sequences of a split ("train" / "test"; None = all subjects).

        ``subjects`` (overrides the split's subject list) and ``actions`` (folded action
        labels like "Walking", or raw clip names like "Walking 1") select subsets; asking for
        a subject or action that is absent raises :class:`DataError`.
        """
        if subjects is not None:
            subjects = [subjects] if isinstance(subjects, str) else list(subjects)
            missing = [s for s in subjects if s not in self.subjects]
            if missing:
                raise DataError(
                    f"subject(s) {missing} absent from data set {self.name!r}; available: {self.subjects}",
                    key="subjects",
                )
        elif split is None:
            subjects = self.subjects
        else:
            if split not in self.splits:
                raise DataError(
                    f"unknown split {split!r}; expected one of {sorted(self.splits)}", key="split"
                )
            subjects = [s for s in self.splits[split] if s in self.subjects]
        if actions is not None:
            actions = [actions] if isinstance(actions, str) else list(actions)
            known = {c.action for c in self.clips} | {c.clip for c in self.clips if c.subject in subjects}
            missing = [a for a in actions if a not in known]
            if missing:
                raise DataError(
                    f"action(s) {missing} absent from data set {self.name!r} for subjects {subjects}; "
                    f"available: {self.actions}",
                    key="actions",
                )
        out: list[Sequence] = []
        for subject in subjects:
            if subject not in self._cache:
                self._cache[subject] = self._builder(subject)
            for seq in self._cache[subject]:
                if actions is None or seq.action in actions or seq.clip in actions:
                    out.append(seq)
        if self.holdout and split in ("train", "val"):
            out = [_holdout_part(seq, self.holdout, split == "val") for seq in out]
        return out

    def fingerprint(self) -> str:
        """Short SHA-256 of the source files' bytes (provenance of a result)."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            for path in sorted(self.source_files, key=lambda p: p.name):
                h.update(path.name.encode())
                with open(path, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
            self._fingerprint = h.hexdigest()[:12]
        return self._fingerprint

    def info(self) -> dict[str, Any]:
        """Subjects, clips, frames and cameras, per subject and in total (no sequence is built)."""
        per_subject: dict[str, dict[str, Any]] = {}
        for c in self.clips:
            entry = per_subject.setdefault(
                c.subject, {"clips": 0, "frames": 0, "cameras": c.cameras, "split": None}
            )
            entry["clips"] += 1
            entry["frames"] += c.frames
            entry["cameras"] = max(entry["cameras"], c.cameras)
        for split, subjects in self.splits.items():
            for s in subjects:
                if s in per_subject:
                    per_subject[s]["split"] = split
        return {
            "name": self.name,
            "joints": self.num_joints,
            "fps": self.fps,
            "subjects": per_subject,
            "splits": {k: list(v) for k, v in self.splits.items()},
            "actions": self.actions,
            "clips": len(self.clips),
            "frames": sum(c.frames for c in self.clips),
            "cameras": max((c.cameras for c in self.clips), default=0),
        }

    def __repr__(self) -> str:
        return f"PoseDataset({self.name!r}, subjects={self.subjects}, clips={len(self.clips)}, joints={self.num_joints})"


def _holdout_part(seq: Sequence, fraction: float, tail: bool) -> Sequence:
    """The head (``tail=False``) or the last ``fraction`` (``tail=True``) of a sequence's frames."""
    cut = len(seq) - max(1, round(len(seq) * fraction))
    part = slice(cut, None) if tail else slice(0, cut)
    arrays = {
        name: getattr(seq, name)[part]
        for name in ("pose_2d", "pose_3d", "root_3d", "valid")
        if getattr(seq, name) is not None
    }
    suffix = " (val)" if tail else " (train part)"
    return dataclasses.replace(seq, name=seq.name + suffix, **arrays)


def demo_dir() -> Path:
    """Folder of the embedded demo data set inside the package."""
    return Path(__file__).resolve().parent / "demo"
