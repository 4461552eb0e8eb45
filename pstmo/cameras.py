"""Cameras: calibration tables, world <-> camera transforms and projection.

Conventions follow VideoPose3D (``common/camera.py``, ``common/h36m_dataset.py``):

- A camera table has per-camera *intrinsics* (``focal_length`` and ``center`` in pixels,
  ``radial_distortion`` k1..k3, ``tangential_distortion`` p1, p2, ``res_w``, ``res_h``)
  and per-subject *extrinsics* (``orientation``: unit quaternion (w, x, y, z), the
  camera-to-world rotation; ``translation``: camera centre in world millimetres).
- Poses ``X`` are arrays ``(..., J, 3)`` in metres; ``world_to_camera`` maps world
  coordinates to the camera frame (x right, y down, z forward).
- Screen coordinates are normalised so that x spans [-1, 1]: ``X / w * 2 - [1, h / w]``.

All functions accept NumPy arrays; ``qrot``, ``project_to_2d`` and the screen helpers
also accept torch tensors.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from pstmo.errors import DataError

_INTRINSIC_KEYS = ("center", "focal_length", "res_w", "res_h")


# ---------------------------------------------------------------------------------------
# Quaternions and rigid transforms
# ---------------------------------------------------------------------------------------


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def qrot(q: Any, v: Any) -> Any:
    """Rotate vectors ``v (..., 3)`` by unit quaternions ``q (..., 4)`` (w, x, y, z)."""
    if _is_torch(v):
        import torch

        q = torch.as_tensor(q, dtype=v.dtype, device=v.device).expand(*v.shape[:-1], 4)
        qvec = q[..., 1:]
        uv = torch.linalg.cross(qvec, v, dim=-1)
        uuv = torch.linalg.cross(qvec, uv, dim=-1)
        return v + 2 * (q[..., :1] * uv + uuv)
    v = np.asarray(v)
    q = np.broadcast_to(np.asarray(q, dtype=v.dtype), (*v.shape[:-1], 4))
    qvec = q[..., 1:]
    uv = np.cross(qvec, v)
    uuv = np.cross(qvec, uv)
    return v + 2 * (q[..., :1] * uv + uuv)


def qinverse(q: Any) -> Any:
    """Inverse (conjugate) of unit quaternions ``(..., 4)``."""
    w = q[..., :1]
    xyz = -q[..., 1:]
    if _is_torch(q):
        import torch

        return torch.cat([w, xyz], dim=-1)
    return np.concatenate([w, xyz], axis=-1)


def world_to_camera(X: np.ndarray, R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """World ``(..., 3)`` -> camera frame, with ``R`` the camera-to-world quaternion (w, x, y, z)
    and ``t`` the camera centre in the world (same unit as ``X``)."""
    X = np.asarray(X, dtype=np.float32)
    Rt = qinverse(np.asarray(R, dtype=np.float32))
    return qrot(Rt, X - np.asarray(t, dtype=np.float32)).astype(np.float32)


def camera_to_world(X: np.ndarray, R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Camera frame ``(..., 3)`` -> world; inverse of :func:`world_to_camera`."""
    X = np.asarray(X, dtype=np.float32)
    return (qrot(np.asarray(R, dtype=np.float32), X) + np.asarray(t, dtype=np.float32)).astype(np.float32)


# ---------------------------------------------------------------------------------------
# Screen coordinates and projection
# ---------------------------------------------------------------------------------------


def normalize_screen_coordinates(X: Any, w: float, h: float) -> Any:
    """Pixels ``(..., 2)`` -> normalised screen coordinates: ``X / w * 2 - [1, h / w]``
    (x in [-1, 1], aspect ratio preserved)."""
    if X.shape[-1] != 2:
        raise ValueError(f"expected (..., 2) coordinates, got shape {tuple(X.shape)}")
    if _is_torch(X):
        import torch

        return X / w * 2 - torch.tensor([1.0, h / w], dtype=X.dtype, device=X.device)
    return (np.asarray(X) / w * 2 - np.array([1, h / w])).astype(np.float32)


def image_coordinates(X: Any, w: float, h: float) -> Any:
    """Inverse of :func:`normalize_screen_coordinates`: normalised ``(..., 2)`` -> pixels."""
    if X.shape[-1] != 2:
        raise ValueError(f"expected (..., 2) coordinates, got shape {tuple(X.shape)}")
    if _is_torch(X):
        import torch

        return (X + torch.tensor([1.0, h / w], dtype=X.dtype, device=X.device)) * w / 2
    return ((np.asarray(X) + np.array([1, h / w])) * w / 2).astype(np.float32)


def intrinsic_vector(intrinsics: dict, normalized: bool = False) -> np.ndarray:
    """VideoPose3D's 9-vector ``[fx, fy, cx, cy, k1, k2, k3, p1, p2]`` of one camera.

    With ``normalized=True`` focal and centre are expressed in normalised screen units
    (focal / res_w * 2; centre through :func:`normalize_screen_coordinates`), as VideoPose3D
    does for its ``intrinsic`` camera parameters.
    """
    f = np.asarray(intrinsics.get("focal_length", intrinsics.get("focal")), dtype=np.float64)
    c = np.asarray(intrinsics["center"], dtype=np.float64)
    k = np.asarray(intrinsics.get("radial_distortion", (0.0, 0.0, 0.0)), dtype=np.float64)
    p = np.asarray(intrinsics.get("tangential_distortion", (0.0, 0.0)), dtype=np.float64)
    if normalized:
        w, h = intrinsics["res_w"], intrinsics["res_h"]
        f = f / w * 2
        c = c / w * 2 - np.array([1, h / w])
    return np.concatenate([f, c, k, p]).astype(np.float32)


def flip_intrinsic_vector(params: Any) -> Any:
    """Horizontal flip of 9-vectors ``(..., 9)`` in normalised units: negate cx and p2
    (VideoPose3D's flip augmentation of the camera)."""
    params = params.clone() if _is_torch(params) else np.array(params, copy=True)
    params[..., 2] *= -1
    params[..., 8] *= -1
    return params


def project_to_2d(X: Any, intrinsics: Any) -> Any:
    """Project camera-frame points ``X (..., 3)`` to the image with radial and tangential
    distortion, as VideoPose3D's ``project_to_2d``.

    ``intrinsics`` is a dict (``focal_length``/``focal``, ``center``, optional
    ``radial_distortion``, ``tangential_distortion``) or a 9-vector ``(9,)`` / ``(..., 9)``
    broadcastable to ``X.shape[:-1]``. The output is in the units of focal and centre
    (pixels for a camera table's dict, normalised units for a normalised 9-vector).
    """
    if isinstance(intrinsics, dict):
        intrinsics = intrinsic_vector(intrinsics)
    if _is_torch(X):
        import torch

        cam = torch.as_tensor(intrinsics, dtype=X.dtype, device=X.device)
        while cam.dim() > 1 and cam.dim() < X.dim():
            cam = cam.unsqueeze(-2)
        XX = torch.clamp(X[..., :2] / X[..., 2:], min=-1, max=1)
        cat = torch.cat
    else:
        X = np.asarray(X, dtype=np.float64)
        cam = np.asarray(intrinsics, dtype=np.float64)
        while cam.ndim > 1 and cam.ndim < X.ndim:
            cam = np.expand_dims(cam, -2)
        XX = np.clip(X[..., :2] / X[..., 2:], -1, 1)

        def cat(arrays, dim):
            return np.concatenate(arrays, axis=dim)

    f, c, k, p = cam[..., :2], cam[..., 2:4], cam[..., 4:7], cam[..., 7:9]
    r2 = (XX**2).sum(-1, keepdims=True) if not _is_torch(XX) else (XX**2).sum(-1, keepdim=True)
    powers = cat([r2, r2**2, r2**3], -1)
    if _is_torch(XX):
        radial = 1 + (k * powers).sum(-1, keepdim=True)
        tan = (p * XX).sum(-1, keepdim=True)
    else:
        radial = 1 + (k * powers).sum(-1, keepdims=True)
        tan = (p * XX).sum(-1, keepdims=True)
    XXX = XX * (radial + tan) + p * r2
    out = f * XXX + c
    return out if _is_torch(out) else out.astype(np.float32)


# ---------------------------------------------------------------------------------------
# Camera tables
# ---------------------------------------------------------------------------------------


@dataclass
class CameraTable:
    """Intrinsics per camera (list, in file order) and extrinsics per subject.

    ``intrinsics[i]`` is a dict with ``id``, ``center``, ``focal_length`` (pixels; may be
    absent, e.g. HumanEva), ``radial_distortion``, ``tangential_distortion``, ``res_w``,
    ``res_h``; ``extrinsics[subject][i]`` has ``orientation`` (w, x, y, z) and
    ``translation`` (millimetres).
    """

    intrinsics: list[dict]
    extrinsics: dict[str, list[dict]]
    source: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def num_cameras(self) -> int:
        return len(self.intrinsics)

    @property
    def subjects(self) -> list[str]:
        return list(self.extrinsics)

    def resolution(self, camera: int) -> tuple[int, int]:
        cam = self.intrinsics[camera]
        return int(cam["res_w"]), int(cam["res_h"])

    def has_focal(self, camera: int = 0) -> bool:
        return "focal_length" in self.intrinsics[camera] and "center" in self.intrinsics[camera]

    def cameras_of(self, subject: str) -> list[int]:
        """Indices of the cameras that have extrinsics for ``subject`` (``{}`` = not filmed by
        that camera); every camera for a subject the table does not know."""
        key = subject if subject in self.extrinsics else subject.split("/")[-1]
        if key not in self.extrinsics:
            return list(range(self.num_cameras))
        return [i for i, ext in enumerate(self.extrinsics[key]) if ext]

    def extrinsic(self, subject: str, camera: int) -> tuple[np.ndarray, np.ndarray]:
        """``(orientation (4,), translation (3,) in metres)`` of ``camera`` for ``subject``.

        Subjects with a prefix (HumanEva's ``Train/S1``) fall back to the last path part.
        """
        key = subject if subject in self.extrinsics else subject.split("/")[-1]
        if key not in self.extrinsics:
            raise DataError(
                f"no extrinsics for subject {subject!r}; the camera table has {self.subjects}",
                path=self.source or None,
                key="extrinsics",
            )
        ext = self.extrinsics[key][camera]
        if not ext:
            raise DataError(
                f"subject {subject!r} has no extrinsics for camera {camera}",
                path=self.source or None,
                key="extrinsics",
            )
        R = np.asarray(ext["orientation"], dtype=np.float32)
        t = np.asarray(ext["translation"], dtype=np.float32) / 1000.0
        return R, t

    def to_json(self) -> dict:
        out = dict(self.meta)
        out["intrinsics"] = self.intrinsics
        out["extrinsics"] = self.extrinsics
        return out


def load_camera_table(path: str | os.PathLike) -> CameraTable:
    """Read a camera table in the schema of ``h36m_cameras.json`` and validate it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError("camera table not found", path=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"not a JSON camera table ({exc})", path=str(path)) from None
    return camera_table_from_dict(data, source=str(path))


def camera_table_from_dict(data: Any, source: str = "") -> CameraTable:
    src = source or None
    if not isinstance(data, dict) or "intrinsics" not in data or "extrinsics" not in data:
        raise DataError("expected a JSON object with 'intrinsics' and 'extrinsics'", path=src)
    intr, extr = data["intrinsics"], data["extrinsics"]
    if not isinstance(intr, list) or not intr:
        raise DataError("expected a non-empty list of cameras", path=src, key="intrinsics")
    for i, cam in enumerate(intr):
        for key in ("res_w", "res_h"):
            if not isinstance(cam, dict) or key not in cam:
                raise DataError(f"camera {i} lacks {key!r}", path=src, key="intrinsics")
        for key, n in (
            ("center", 2),
            ("focal_length", 2),
            ("radial_distortion", 3),
            ("tangential_distortion", 2),
        ):
            if key in cam and np.asarray(cam[key]).shape != (n,):
                raise DataError(f"camera {i}: expected {n} numbers for {key!r}", path=src, key="intrinsics")
    if not isinstance(extr, dict):
        raise DataError("expected {subject: [per-camera extrinsics]}", path=src, key="extrinsics")
    for subject, cams in extr.items():
        if not isinstance(cams, list) or len(cams) != len(intr):
            raise DataError(
                f"subject {subject!r}: expected {len(intr)} cameras (one per intrinsics entry)",
                path=src,
                key="extrinsics",
            )
        for cam in cams:
            if cam == {}:  # unknown extrinsics (Human3.6M S2-S4 in VideoPose3D's table)
                continue
            if np.asarray(cam.get("orientation")).shape != (4,) or np.asarray(
                cam.get("translation")
            ).shape != (3,):
                raise DataError(
                    f"subject {subject!r}: expected orientation (4,) and translation (3,)",
                    path=src,
                    key="extrinsics",
                )
    meta = {k: v for k, v in data.items() if k not in ("intrinsics", "extrinsics")}
    return CameraTable(intrinsics=intr, extrinsics=extr, source=source, meta=meta)


def _package_table(name: str) -> CameraTable:
    ref = resources.files("pstmo.data").joinpath(name)
    return camera_table_from_dict(json.loads(ref.read_text()), source=f"pstmo/data/{name}")


def h36m_cameras() -> CameraTable:
    """The Human3.6M calibration shipped with the package (4 cameras, subjects S1-S11)."""
    return _package_table("h36m_cameras.json")


def humaneva_cameras() -> CameraTable:
    """The HumanEva-I calibration shipped with the package (3 cameras, no focal lengths)."""
    return _package_table("humaneva_cameras.json")


def sequence_intrinsics(seq: Any) -> np.ndarray:
    """``[fx, fy, cx, cy]`` of a sequence's camera in normalised screen units (VideoPose3D), as
    P-STMO's refinement module needs them; :class:`DataError` when the sequence has none."""
    intr = getattr(seq, "intrinsics", None) or {}
    if intr.get("focal", intr.get("focal_length")) is None or intr.get("center") is None:
        raise DataError(
            f"sequence {seq.subject}/{seq.action}: the refinement module needs camera intrinsics "
            "(Sequence.intrinsics 'focal' and 'center', pixels)",
            key="intrinsics",
        )
    return intrinsic_vector({**intr, "res_w": seq.res_w, "res_h": seq.res_h}, normalized=True)[:4]


def sequence_root_depth(seq: Any) -> np.ndarray:
    """Camera-frame depth ``(T,)`` of the root joint (ground truth, as the official refinement uses)."""
    if getattr(seq, "root_3d", None) is None:
        raise DataError(
            f"sequence {seq.subject}/{seq.action}: the refinement module needs the root trajectory "
            "(Sequence.root_3d (T, 3), camera frame)",
            key="root_3d",
        )
    return np.asarray(seq.root_3d, dtype=np.float32)[: len(seq.pose_2d), 2]
