"""The embedded CMU demo data set: bit-for-bit rebuild, loader, geometry."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from conftest import SHARED

from pstmo.cameras import image_coordinates, project_to_2d
from pstmo.data import demo_dir, load_dataset
from pstmo.skeleton import PARENTS, bones

FILES = ("data_3d_demo.npz", "data_2d_demo_gt.npz", "data_2d_demo_det.npz", "demo_cameras.json")


def test_shipped_files_and_acknowledgement():
    for name in FILES:
        path = demo_dir() / name
        assert path.exists() and path.stat().st_size < 9_000_000
    assert sum(p.stat().st_size for p in demo_dir().glob("*.npz")) < 20_000_000
    readme = (demo_dir() / "README.md").read_text()
    assert "The data used here was obtained from mocap.cs.cmu.edu." in readme
    assert "NSF EIA-0196217" in readme


@pytest.mark.slow
def test_rebuild_is_bit_for_bit(tmp_path, tools_on_path):
    cmu = SHARED / "data" / "cmu"
    if not cmu.exists():
        pytest.skip(f"CMU clips {cmu} absent")
    module = importlib.import_module("build_demo_dataset")
    module.build(cmu, tmp_path, module.DEFAULT_EXTRA)  # + the committed clips of tools/cmu
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (demo_dir() / name).read_bytes(), name


TRAIN_SUBJECTS = {"S01", "S131", "S03", "S05", "S06", "S07"}


def test_demo_dataset_contract():
    ds = load_dataset()
    assert ds.name == "demo" and ds.skeleton.num_joints == 17
    info = ds.info()
    assert info["cameras"] == 8 and info["clips"] == 6 + 17 and info["fps"] == 50
    assert {s: e["cameras"] for s, e in info["subjects"].items()} == {
        **{s: 8 for s in TRAIN_SUBJECTS},
        "S02": 4,
        "S11": 4,
    }
    train, test = ds.sequences("train"), ds.sequences("test")
    assert {s.subject for s in train} == TRAIN_SUBJECTS and {s.subject for s in test} == {"S02", "S11"}
    assert len(train) == (4 + 17) * 8 and len(test) == 2 * 4  # test: the 2022 cameras V1-V4 only
    assert {s.camera for s in test} == {0, 1, 2, 3}
    for seq in train + test:
        assert seq.pose_2d.dtype == np.float32 and seq.pose_3d.dtype == np.float32
        assert seq.pose_2d.shape == (len(seq), 17, 2) and seq.pose_3d.shape == (len(seq), 17, 3)
        assert np.all(seq.pose_3d[:, 0] == 0)
        assert np.abs(seq.pose_2d[..., 0]).max() <= 1.0  # inside the image
        assert 2.0 < seq.root_3d[:, 2].min() and seq.root_3d[:, 2].max() < 12.0  # in front of the camera
    assert len(ds.fingerprint()) == 12


def test_gt_2d_is_projection_of_3d():
    seq = load_dataset(keypoints="gt").sequences("test", actions=["Kick"])[1]
    cam = seq.pose_3d + seq.root_3d[:, None]
    intr = {
        "focal_length": seq.intrinsics["focal"],
        "center": seq.intrinsics["center"],
        "radial_distortion": seq.intrinsics["radial_distortion"],
        "tangential_distortion": seq.intrinsics["tangential_distortion"],
    }
    px = image_coordinates(seq.pose_2d, seq.res_w, seq.res_h)
    np.testing.assert_allclose(project_to_2d(cam, intr), px, atol=1e-2)


def test_retargeted_clips_have_their_drawn_bodies(tools_on_path):
    # the BVH training clips are on drawn bodies (builder step 2): rigid bones of exactly the
    # lengths clip_body gives, left = right, within the drawn range around S01's skeleton;
    # S01 and the test subjects keep their own (asymmetric) skeletons
    builder, mocap = importlib.import_module("build_demo_dataset"), importlib.import_module("mocap")
    clips = np.load(demo_dir() / "data_3d_demo.npz", allow_pickle=True)["positions_3d"].item()
    reference = builder.reference_body(clips["S01"]["Jump 1"])
    assert 0.3 < reference[2] < 0.5  # thigh (RHip-RKnee), metres
    bodies = []
    for subject in builder.RETARGETED:
        for name, pose in clips[subject].items():
            body = builder.clip_body(reference, subject, name)
            lengths = np.linalg.norm(pose[:, 1:] - pose[:, list(PARENTS[1:])], axis=-1)
            np.testing.assert_allclose(lengths, np.broadcast_to(body[1:], lengths.shape), atol=2e-6)
            low, high = builder.BODY_SCALE[0] * builder.BONE_SCALE[0], builder.BODY_SCALE[1] * builder.BONE_SCALE[1]
            assert np.all((body[1:] >= low * reference[1:] - 1e-9) & (body[1:] <= high * reference[1:] + 1e-9))
            bodies.append(body)
    assert len({round(b[2], 6) for b in bodies}) == len(bodies)  # one body per clip
    own = mocap.bone_lengths(clips["S02"]["Walk 1"])
    assert abs(own[1] - own[4]) < 1e-3 and abs(own[2] - own[5]) > 2e-4  # S02: its own (asymmetric) skeleton


def test_s02_walks_on_cmu_subject_02s_own_skeleton(tools_on_path):
    # tools/cmu/asfamc/02.asf: rfemur 7.58734, lfemur 7.59371, rtibia 7.21538 ASF units of 1/0.45 inch
    # (the femur's also in the cgspeed BVH of trial 02_06: LeftLeg offset (2.59720, -7.13576, 0));
    # the roboschool source pairs trial 02_01 with subject 12's 12.asf (rfemur 6.12033)
    unit = 0.0254 / 0.45
    mocap = importlib.import_module("mocap")
    clips = np.load(demo_dir() / "data_3d_demo.npz", allow_pickle=True)["positions_3d"].item()
    own = mocap.bone_lengths(clips["S02"]["Walk 1"])
    np.testing.assert_allclose(own[[2, 5, 3]], np.array([7.58734, 7.59371, 7.21538]) * unit, atol=1e-4)


def test_bone_lengths_constant_and_human():
    # limbs are single rigid segments: lengths vary by < 1 cm within a clip; thighs 0.3-0.55 m
    seq = load_dataset().sequences("train", subjects=["S01"])[0]
    limbs = [(c, p) for c, p in bones() if c in (2, 3, 5, 6, 12, 13, 15, 16)]
    lengths = np.stack([np.linalg.norm(seq.pose_3d[:, c] - seq.pose_3d[:, p], axis=-1) for c, p in limbs], -1)
    assert (lengths.max(0) - lengths.min(0)).max() < 0.01
    assert 0.3 < lengths[0, 0] < 0.55  # RKnee-RHip


def test_detected_keypoints_are_noisy_but_close():
    gt = load_dataset(keypoints="gt").sequences("train", subjects=["S131"])
    det = load_dataset(keypoints="det").sequences("train", subjects=["S131"])
    err_px = np.concatenate(
        [np.linalg.norm(d.pose_2d - g.pose_2d, axis=-1).ravel() * g.res_w / 2 for g, d in zip(gt, det)]
    )
    assert 2.0 < np.median(err_px) < 10.0
    assert err_px.max() > 30.0  # outliers / swaps exist
    np.testing.assert_array_equal(gt[0].pose_3d, det[0].pose_3d)
