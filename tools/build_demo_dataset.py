"""Build the embedded demo data set (``pstmo/data/demo/``) from the CMU clips in ``shared/data/cmu``.

Usage: python tools/build_demo_dataset.py [--cmu DIR] [--extra DIR] [--out DIR] [--no-extra] [--train-cameras 4|8]
[--no-bodies] [--s02-skeleton-12]

Clips come from two folders: ``--cmu`` (``shared/data/cmu``: the original four subjects) and
``--extra`` (``tools/cmu``, committed: CMU subjects 03, 05, 06, 07 as BVH, and subject 02's own
ASF skeleton; see its README).

Steps:

1. Forward kinematics of each CMU clip (``tools/mocap.py``: ``load_clip``): Human3.6M-17
   joints, world metres, z up, 50 fps, lowest foot on the ground. Re-centre each clip: the
   centre of the root's horizontal bounding box goes to x = y = 0.
2. Bodies (bone-length augmentation; ``--no-bodies`` skips it): the BVH training subjects
   (S131 and the ``tools/cmu`` subjects, all on one retargeted rig or with an 11 cm short torso)
   are retargeted (``mocap.retarget``: every bone keeps its direction, gets a new length) onto
   one body per clip: the left/right-averaged bone lengths of training subject S01's ASF
   skeleton x a whole-body factor in [0.88, 1.12] x one factor per bone pair in [0.9, 1.1],
   seeded per clip. S01 and the test subjects keep their own skeletons.
3. Virtual cameras with the Human3.6M intrinsics (focal, centre, distortion, resolution of
   cameras 54138969, 55011271, 58860488, 60457274; cameras V5-V8 repeat them). Every subject
   has V1-V4 at the Human3.6M azimuths (70, -70, 110, -110 degrees), on a circle of radius
   ``R = max(5, 3.5 + r)`` metres (``r``: the subject's largest root distance from the
   centre), 1.45-1.65 m high, looking at (0, 0, 0.9) (``mocap.look_at_quaternion``).
   Training subjects also have V5-V8 (``--train-cameras 8``): azimuths 0, 90, 180, -90
   degrees, heights 1.0, 2.0, 1.2, 1.8 m, radii 1.1, 1.2, 1.15, 1.3 x R (whole body in the
   image). Test subjects keep V1-V4 only (their extrinsics for V5-V8 are ``{}`` and their
   2D lists have 4 arrays).
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
from mocap import bone_lengths, load_clip, look_at_quaternion, retarget  # tools/mocap.py (this folder)

from pstmo.cameras import camera_table_from_dict, h36m_cameras, project_to_2d, world_to_camera
from pstmo.io import atomic_write
from pstmo.skeleton import LEFT_JOINTS, RIGHT_JOINTS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CMU = ROOT.parent / "shared" / "data" / "cmu"
DEFAULT_EXTRA = ROOT / "tools" / "cmu"
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
#: Clips of ``tools/cmu`` (CMU motions retargeted onto one Character Creator body, BVH, 60 fps).
EXTRA_CLIPS: tuple[tuple[str, str, str], ...] = (
    ("S03", "WalkUneven 1", "iclone/003_01.bvh"),
    ("S03", "WalkUneven 2", "iclone/003_02.bvh"),
    ("S05", "Walk 1", "iclone/005_01.bvh"),
    ("S05", "Dance 1", "iclone/005_02.bvh"),
    ("S05", "Dance 2", "iclone/005_05.bvh"),
    ("S05", "Dance 3", "iclone/005_07.bvh"),
    ("S05", "Dance 4", "iclone/005_12.bvh"),
    ("S05", "Dance 5", "iclone/005_18.bvh"),
    ("S06", "Walk 1", "iclone/006_01.bvh"),
    ("S06", "Dribble 1", "iclone/006_02.bvh"),
    ("S06", "Dribble 2", "iclone/006_10.bvh"),
    ("S06", "Shoot 1", "iclone/006_14.bvh"),
    ("S06", "Shoot 2", "iclone/006_15.bvh"),
    ("S07", "Walk 1", "iclone/007_01.bvh"),
    ("S07", "Walk 2", "iclone/007_04.bvh"),
    ("S07", "Walk 3", "iclone/007_06.bvh"),
    ("S07", "Walk 4", "iclone/007_12.bvh"),
)
#: Clips whose source paired the trial with another subject's skeleton, and the subject's own ASF
#: (relative to ``--extra``): the roboschool copy of trial 02_01 comes with CMU subject 12's 12.asf
#: (thighs 34 cm, shorter than its 44 cm shins; hips 50 % wider than S01's). An AMC file holds joint
#: angles for its own subject's skeleton; ``--s02-skeleton-12`` (and ``--no-extra``) keep the old
#: pairing, the test clip of the sets before 2026-12-08.
OWN_SKELETONS: dict[tuple[str, str], str] = {("S02", "Walk 1"): "asfamc/02.asf"}
SPLITS = {"train": ["S01", "S131"], "test": ["S02", "S11"]}
EXTRA_TRAIN = ["S03", "S05", "S06", "S07"]
#: Bodies (step 2 of the module docstring): the BVH training subjects are retargeted onto one
#: body per clip, drawn around the ASF skeleton of ``BODY_REFERENCE`` (a training subject).
RETARGETED = ["S131", *EXTRA_TRAIN]
BODY_REFERENCE = ("S01", "Jump 1")
BODY_SCALE = (0.88, 1.12)  # the whole body
BONE_SCALE = (0.9, 1.1)  # each bone (left and right together)
#: Bones scaled together (child joints, H36M-17): hips, thighs, shins, spine, neck, nose, head,
#: clavicles, upper arms, forearms.
BONE_GROUPS = ((1, 4), (2, 5), (3, 6), (7,), (8,), (9,), (10,), (11, 14), (12, 15), (13, 16))
CAMERA_HEIGHTS = (1.55, 1.45, 1.65, 1.5)
#: Extra training cameras V5-V8: (azimuth degrees, height m, radius factor).
EXTRA_CAMERAS = ((0.0, 1.0, 1.1), (90.0, 2.0, 1.2), (180.0, 1.2, 1.15), (-90.0, 1.8, 1.3))
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


def _camera(azimuth_deg: float, radius: float, height: float) -> dict:
    a = np.deg2rad(azimuth_deg)
    pos = np.array([radius * np.cos(a), radius * np.sin(a), height])
    q = look_at_quaternion(pos, LOOK_AT)
    return {
        "orientation": [round(float(v), 8) for v in q],
        "translation": [round(float(v) * 1000, 2) for v in pos],
    }


def make_cameras(
    clips: dict[str, dict[str, np.ndarray]], splits: dict[str, list[str]], train_cameras: int = 4
) -> dict:
    """Camera table (h36m_cameras.json schema) of the virtual cameras, numbers rounded."""
    if train_cameras not in (4, 4 + len(EXTRA_CAMERAS)):
        raise ValueError(f"train_cameras is 4 or {4 + len(EXTRA_CAMERAS)}, not {train_cameras}")
    h36m = h36m_cameras()
    intrinsics = []
    for i in range(train_cameras):
        cam = h36m.intrinsics[i % len(h36m.intrinsics)]
        extra = {"azimuth": EXTRA_CAMERAS[i - 4][0]} if i >= 4 else {}
        intrinsics.append(dict(cam, id=f"V{i + 1}", source_id=cam["id"], **extra))
    extrinsics = {}
    for subject, subject_clips in clips.items():
        reach = max(float(np.linalg.norm(c[:, 0, :2], axis=-1).max()) for c in subject_clips.values())
        radius = max(5.0, 3.5 + reach)
        cams = [_camera(cam["azimuth"], radius, h) for cam, h in zip(h36m.intrinsics, CAMERA_HEIGHTS)]
        for azimuth, height, factor in EXTRA_CAMERAS[: train_cameras - 4]:
            cams.append(_camera(azimuth, radius * factor, height) if subject in splits["train"] else {})
        extrinsics[subject] = cams
    return {
        "source": "Virtual cameras of the pstmo demo data set (tools/build_demo_dataset.py): Human3.6M "
        "intrinsics, placed around each subject. Same schema as h36m_cameras.json (translation in mm, "
        "orientation = camera-to-world quaternion (w, x, y, z)).",
        "fps": 50,
        "splits": splits,
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


def reference_body(pose: np.ndarray) -> np.ndarray:
    """Bone lengths ``(17,)`` of a clip, left and right averaged (the centre of the drawn bodies)."""
    lengths = bone_lengths(pose)
    for group in BONE_GROUPS:
        lengths[list(group)] = lengths[list(group)].mean()
    return lengths


def clip_body(reference: np.ndarray, subject: str, name: str) -> np.ndarray:
    """The body of one retargeted clip: ``reference`` x a whole-body factor x one factor per
    bone group (uniform in ``BODY_SCALE``, ``BONE_SCALE``), seeded by subject and clip."""
    rng = np.random.default_rng([SEED, zlib.crc32(f"body/{subject}/{name}".encode())])
    factors = np.full(len(reference), rng.uniform(*BODY_SCALE))
    for group in BONE_GROUPS:
        factors[list(group)] *= rng.uniform(*BONE_SCALE)
    return reference * factors


def with_bodies(clips: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, np.ndarray]]:
    """Step 2: the clips of :data:`RETARGETED` subjects on drawn bodies (:func:`clip_body`)."""
    reference = reference_body(clips[BODY_REFERENCE[0]][BODY_REFERENCE[1]])
    return {
        subject: {
            name: retarget(pose, clip_body(reference, subject, name)) if subject in RETARGETED else pose
            for name, pose in subject_clips.items()
        }
        for subject, subject_clips in clips.items()
    }


def build(
    cmu: Path, out: Path, extra: Path | None = DEFAULT_EXTRA, train_cameras: int = 8, bodies: bool = True,
    own_skeletons: bool = True,
) -> dict[str, Path]:  # fmt: skip
    """Build the demo files into ``out``: clips of ``cmu`` (and of ``extra`` unless None);
    ``bodies``: retarget the BVH training subjects onto drawn bodies (step 2); ``own_skeletons``:
    play the clips of :data:`OWN_SKELETONS` on their subject's own ASF (from ``extra``)."""
    clips: dict[str, dict[str, np.ndarray]] = {}
    sources = [(s, n, src, cmu) for s, n, src in CLIPS]
    splits = {k: list(v) for k, v in SPLITS.items()}
    if extra is not None:
        sources += [(s, n, src, extra) for s, n, src in EXTRA_CLIPS]
        splits["train"] += EXTRA_TRAIN
    for subject, name, src, folder in sources:
        source = (folder / src[0], folder / src[1]) if isinstance(src, tuple) else folder / src
        if own_skeletons and extra is not None and (subject, name) in OWN_SKELETONS:
            source = (extra / OWN_SKELETONS[subject, name], source[1])
        pose = load_clip(source)
        root = pose[:, 0, :2]
        centre = (root.min(0) + root.max(0)) / 2
        pose = pose.copy()
        pose[..., :2] -= centre.astype(np.float32)
        clips.setdefault(subject, {})[name] = pose.astype(np.float32)
    if bodies:
        clips = with_bodies(clips)

    table_json = make_cameras(clips, splits, train_cameras)
    table = camera_table_from_dict(table_json)
    gt: dict[str, dict[str, list[np.ndarray]]] = {}
    det: dict[str, dict[str, list[np.ndarray]]] = {}
    for subject, subject_clips in clips.items():
        for name, pose in subject_clips.items():
            for cam in range(table.num_cameras):
                if not table.extrinsics[subject][cam]:
                    continue  # test subjects: V1-V4 only
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
    parser.add_argument(
        "--extra", type=Path, default=DEFAULT_EXTRA, help="folder with the committed clips (tools/cmu)"
    )
    parser.add_argument("--no-extra", action="store_true", help="only the clips of --cmu (the 2022 set)")
    parser.add_argument(
        "--train-cameras", type=int, default=8, choices=(4, 8), help="virtual cameras per training subject"
    )
    parser.add_argument(
        "--no-bodies", action="store_true", help="keep the BVH subjects' own bodies (the set before 2026-12-07)"
    )
    parser.add_argument(
        "--s02-skeleton-12", action="store_true",
        help="S02's walk on CMU subject 12's skeleton, as its source pairs them (the test clip before 2026-12-08)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (pstmo/data/demo)")
    args = parser.parse_args(argv)
    paths = build(
        args.cmu, args.out, None if args.no_extra else args.extra, args.train_cameras, not args.no_bodies,
        not args.s02_skeleton_12,
    )  # fmt: skip
    for p in paths.values():
        print(f"wrote {p} ({p.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
