"""Bring your own 2D keypoints: a ``(T, 17, 2)`` sequence with its image size.

``load_keypoints_2d`` accepts an array or a ``.npy`` / ``.npz`` file, in the Human3.6M-17
layout (``layout="h36m"``) or COCO-17 (``layout="coco"``, converted with
:func:`pstmo.skeleton.coco_to_h36m`); a third channel (detector score) is dropped. The
result is a :class:`pstmo.data.Sequence` without 3D, ready for
:func:`pstmo.data.windows.iter_sequence_windows`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from pstmo.cameras import normalize_screen_coordinates
from pstmo.data import Sequence
from pstmo.data.check import check_poses, load_npz, read_key
from pstmo.data.safe_npz import load_npy
from pstmo.errors import DataError
from pstmo.skeleton import coco_to_h36m

_NPZ_KEYS = ("keypoints", "positions_2d", "pose_2d", "data_2d")


def load_keypoints_2d(
    source: Any,
    res_w: int,
    res_h: int,
    layout: str = "h36m",
    fps: float = 50.0,
    name: str = "custom",
    key: str | None = None,
) -> Sequence:
    """2D keypoints in pixels ``(T, 17, 2|3)`` -> a normalised :class:`Sequence`.

    ``source``: an array, or a path to ``.npy`` or ``.npz`` (``key``, else the first of
    ``keypoints``, ``positions_2d``, ``pose_2d``, ``data_2d``, else the only array). Files are
    read with :mod:`pstmo.data.safe_npz` and must hold numbers: pickled members are refused.
    """
    path = "<array>"
    if isinstance(source, str | os.PathLike):
        path = str(source)
        p = Path(source)
        if p.suffix == ".npy":
            arr = load_npy(p)
        else:
            npz = load_npz(p, allow_objects=False)
            if key is None:
                key = next(
                    (k for k in _NPZ_KEYS if k in npz.files), npz.files[0] if len(npz.files) == 1 else None
                )
            if key is None:
                raise DataError(
                    f"which key holds the keypoints? expected one of {_NPZ_KEYS}, the archive has {npz.files}",
                    path=path,
                )
            arr = read_key(npz, p, key)
    else:
        arr = source
    for what, value in (("res_w", res_w), ("res_h", res_h), ("fps", fps)):
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise DataError(f"expected a number, got {type(value).__name__}", path=path, key=what)
    if not (0 < res_w < 1e6 and 0 < res_h < 1e6):  # also refuses NaN
        raise DataError(f"image size must be positive, got {res_w} x {res_h}", path=path, key="res_w/res_h")
    if not 0 < fps < 1e4:
        raise DataError(f"frame rate must be positive, got {fps}", path=path, key="fps")
    kp = check_poses(arr, path, key or "keypoints", joints=17, dims=(2, 3))
    if layout == "coco":
        kp = coco_to_h36m(kp)
    elif layout != "h36m":
        raise DataError(f"unknown layout {layout!r}; expected 'h36m' or 'coco'", path=path, key="layout")
    kp = kp[..., :2].astype(np.float32)
    return Sequence(
        subject=name,
        action=name,
        camera=0,
        pose_2d=normalize_screen_coordinates(kp, res_w, res_h),
        pose_3d=None,
        res_w=int(res_w),
        res_h=int(res_h),
        fps=float(fps),
        intrinsics={"focal": None, "center": None},
        name=name,
        clip=name,
    )
