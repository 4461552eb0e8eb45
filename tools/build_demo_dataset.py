"""Build the embedded demo data set (``pstmo/data/demo/``) from the CMU clips in ``shared/data/cmu``.

Usage: python tools/build_demo_dataset.py [--cmu DIR] [--out DIR]

Steps:

1. Forward kinematics of each CMU clip (``tools/mocap.py``: ``load_clip``): Human3.6M-17
   joints, world metres, z up, 50 fps, lowest foot on the ground.
2. Re-centre each clip: the centre of the root's horizontal bounding box goes to x = y = 0.
3. Four virtual cameras per subject with the Human3.6M intrinsics (focal, centre,
   distortion, resolution of cameras 54138969, 55011271, 58860488, 60457274) at the
   Human3.6M azimuths (70, -70, 110, -110 degrees), on a circle of radius
   ``max(5, 3.5 + r)`` metres (``r``: the subject's largest root distance from the centre),
   1.45-1.65 m high, looking at (0, 0, 0.9) (``mocap.look_at_quaternion``).
4. Project with distortion (``pstmo.cameras.project_to_2d``) -> ``data_2d_demo_gt.npz``.
5. A "detected" variant ``data_2d_demo_det.npz`` with detector-like error (pixels, seeded
   per subject/clip/camera): per-joint temporally correlated error (AR(1), rho = 0.9) plus
   white jitter, larger at wrists and feet; occasional left/right swaps of a limb for 2-10
   frames; occasional outliers of 30-80 px.

Output is bit-for-bit reproducible: fixed seeds, cameras rounded before use, and zip entries
written with a fixed date (``np.savez_compressed`` stamps the current time).
"""

from __future__ import annotations

import argparse
import io
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np
from mocap import load_clip, look_at_quaternion  # tools/mocap.py (this folder)

from pstmo.cameras import camera_table_from_dict, h36m_cameras, project_to_2d, world_to_camera
from pstmo.io import atomic_write
from pstmo.skeleton import LEFT_JOINTS, RIGHT_JOINTS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CMU = ROOT.parent / "shared" / "data" / "cmu"
DEFAULT_OUT = ROOT / "pstmo" / "data" / "demo"
SEED = 20220101

#: (subject, clip name, source relative to the CMU folder). Clip names play the role of
#: actions ("StartStop 2" -> action "StartStop").
CLIPS: tuple[tuple[str, str, str | tuple[str, str]], ...] = (
    ("S01", "Jump 1", ("fairmotion/01.asf", "fairmotion/01_01.amc")),
    ("S02", "Walk 1", ("roboschool/12.asf", "roboschool/02_01.amc")),
    ("S11", "Kick 1", ("fairmotion/11.asf", "fairmotion/11_01.amc")),
    ("S131", "StartStop 1", "bvh11/131_01.bvh"),
    ("S131", "StartStop 2", "bvh11/131_02.bvh"),
    ("S131", "StartStop 3", "bvh11/131_03.bvh"),
)
SPLITS = {"train": ["S01", "S131"], "test": ["S02", "S11"]}
CAMERA_HEIGHTS = (1.55, 1.45, 1.65, 1.5)
LOOK_AT = (0.0, 0.0, 0.9)

#: Detector-like noise, in pixels (1000-px images, subject ~ 300-450 px tall).
JOINT_SIGMA = np.array([3, 3, 3.5, 5, 3, 3.5, 5, 2.5, 2.5, 3, 3.5, 3, 3.5, 5, 3, 3.5, 5], dtype=np.float64)
NOISE = {
    "ar_rho": 0.9,
    "ar_scale": 1.0,
    "white_scale": 0.5,
    "swap_rate": 0.004,
    "swap_frames": [2, 10],
    "outlier_rate": 0.002,
    "outlier_px": [30, 80],
}
SWAP_LIMBS = ((12, 15), (13, 16), (5, 2), (6, 3))  # (left, right): elbows, wrists, knees, feet


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` with fixed zip dates (byte-stable), written atomically."""
    with atomic_write(path, "wb") as fh:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, value in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.asanyarray(value), allow_pickle=True)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, buf.getvalue(), compresslevel=9)


def _object(value: dict) -> np.ndarray:
    arr = np.empty((), dtype=object)
    arr[()] = value
    return arr


def make_cameras(clips: dict[str, dict[str, np.ndarray]]) -> dict:
    """Camera table (h36m_cameras.json schema) of the virtual cameras, numbers rounded."""
    h36m = h36m_cameras()
    intrinsics = []
    for i, cam in enumerate(h36m.intrinsics):
        intrinsics.append(dict(cam, id=f"V{i + 1}", source_id=cam["id"]))
    extrinsics = {}
    for subject, subject_clips in clips.items():
        reach = max(float(np.linalg.norm(c[:, 0, :2], axis=-1).max()) for c in subject_clips.values())
        radius = max(5.0, 3.5 + reach)
        cams = []
        for cam, height in zip(h36m.intrinsics, CAMERA_HEIGHTS):
            a = np.deg2rad(cam["azimuth"])
            pos = np.array([radius * np.cos(a), radius * np.sin(a), height])
            q = look_at_quaternion(pos, LOOK_AT)
            cams.append(
                {
                    "orientation": [round(float(v), 8) for v in q],
                    "translation": [round(float(v) * 1000, 2) for v in pos],
                }
            )
        extrinsics[subject] = cams
    return {
        "source": "Virtual cameras of the pstmo demo data set (tools/build_demo_dataset.py): Human3.6M "
        "intrinsics, placed around each subject. Same schema as h36m_cameras.json (translation in mm, "
        "orientation = camera-to-world quaternion (w, x, y, z)).",
        "fps": 50,
        "splits": SPLITS,
        "intrinsics": intrinsics,
        "extrinsics": extrinsics,
    }


def detector_noise(kp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Detector-like 2D error on pixel keypoints ``(T, 17, 2)``."""
    T, J, _ = kp.shape
    sigma = JOINT_SIGMA[None, :, None]
    rho = NOISE["ar_rho"]
    drive = rng.standard_normal((T, J, 2)) * np.sqrt(1 - rho**2)
    ar = np.empty((T, J, 2))
    ar[0] = rng.standard_normal((J, 2))
    for t in range(1, T):  # AR(1): temporally correlated error
        ar[t] = rho * ar[t - 1] + drive[t]
    out = kp + sigma * (NOISE["ar_scale"] * ar + NOISE["white_scale"] * rng.standard_normal((T, J, 2)))
    # left/right swaps of one limb joint for a few frames
    starts = np.flatnonzero(rng.random(T) < NOISE["swap_rate"])
    for s in starts:
        left, right = SWAP_LIMBS[rng.integers(len(SWAP_LIMBS))]
        n = int(rng.integers(NOISE["swap_frames"][0], NOISE["swap_frames"][1] + 1))
        sl = slice(s, min(s + n, T))
        out[sl, [left, right]] = out[sl, [right, left]]
    # outliers
    mask = rng.random((T, J)) < NOISE["outlier_rate"]
    n_out = int(mask.sum())
    angle = rng.uniform(0, 2 * np.pi, n_out)
    radius = rng.uniform(*NOISE["outlier_px"], n_out)
    out[mask] += np.stack([np.cos(angle), np.sin(angle)], -1) * radius[:, None]
    return out.astype(np.float32)


def build(cmu: Path, out: Path) -> dict[str, Path]:
    clips: dict[str, dict[str, np.ndarray]] = {}
    for subject, name, src in CLIPS:
        source = (cmu / src[0], cmu / src[1]) if isinstance(src, tuple) else cmu / src
        pose = load_clip(source)
        root = pose[:, 0, :2]
        centre = (root.min(0) + root.max(0)) / 2
        pose = pose.copy()
        pose[..., :2] -= centre.astype(np.float32)
        clips.setdefault(subject, {})[name] = pose.astype(np.float32)

    table_json = make_cameras(clips)
    table = camera_table_from_dict(table_json)
    gt: dict[str, dict[str, list[np.ndarray]]] = {}
    det: dict[str, dict[str, list[np.ndarray]]] = {}
    for subject, subject_clips in clips.items():
        for name, pose in subject_clips.items():
            for cam in range(table.num_cameras):
                R, t = table.extrinsic(subject, cam)
                kp = project_to_2d(world_to_camera(pose, R, t), table.intrinsics[cam]).astype(np.float32)
                rng = np.random.default_rng([SEED, zlib.crc32(f"{subject}/{name}/{cam}".encode())])
                gt.setdefault(subject, {}).setdefault(name, []).append(kp)
                det.setdefault(subject, {}).setdefault(name, []).append(detector_noise(kp, rng))

    meta = {
        "layout_name": "h36m",
        "num_joints": 17,
        "keypoints_symmetry": [list(LEFT_JOINTS), list(RIGHT_JOINTS)],
        "fps": 50,
    }
    paths = {
        "3d": out / "data_3d_demo.npz",
        "gt": out / "data_2d_demo_gt.npz",
        "det": out / "data_2d_demo_det.npz",
        "cameras": out / "demo_cameras.json",
    }
    write_npz(paths["3d"], {"positions_3d": _object(clips)})
    write_npz(paths["gt"], {"positions_2d": _object(gt), "metadata": _object(dict(meta, variant="gt"))})
    noise = dict(NOISE, joint_sigma_px=JOINT_SIGMA.tolist(), seed=SEED)
    write_npz(
        paths["det"],
        {"positions_2d": _object(det), "metadata": _object(dict(meta, variant="det", noise=noise))},
    )
    with atomic_write(paths["cameras"], "w") as fh:
        json.dump(table_json, fh, indent=1)
        fh.write("\n")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cmu", type=Path, default=DEFAULT_CMU, help="folder with the CMU clips (shared/data/cmu)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (pstmo/data/demo)")
    args = parser.parse_args(argv)
    paths = build(args.cmu, args.out)
    for p in paths.values():
        print(f"wrote {p} ({p.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
