"""Tests for tools/mocap.py (the demo builder's CMU readers, forward kinematics and camera
placement): closed forms on tiny hand-written files, and the real CMU clips of
/work/shared/data/cmu (skipped when the shared folder is absent). The ``mocap`` fixture
(tests/conftest.py) imports the tool."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import SHARED

from pstmo import cameras as C
from pstmo.errors import DataError
from pstmo.skeleton import PARENTS

CMU = SHARED / "data" / "cmu"
needs_cmu = pytest.mark.skipif(not CMU.is_dir(), reason=f"CMU mocap clips not found at {CMU}")

# H36M-17 indices (pstmo.skeleton order)
HIP, RHIP, RKNEE, RFOOT, LHIP, LKNEE, LFOOT, SPINE, THORAX, NECK, HEAD = range(11)
LSHO, LELB, LWRI, RSHO, RELB, RWRI = range(11, 17)
LIMBS = {
    "r thigh": (RHIP, RKNEE), "l thigh": (LHIP, LKNEE), "r shin": (RKNEE, RFOOT),
    "l shin": (LKNEE, LFOOT), "l upper arm": (LSHO, LELB), "r upper arm": (RSHO, RELB),
    "l forearm": (LELB, LWRI), "r forearm": (RELB, RWRI),
}  # fmt: skip
# segments that are one rigid ASF bone (or a rigid pair of root children)
RIGID = {
    **LIMBS,
    "r pelvis": (HIP, RHIP),
    "l pelvis": (HIP, LHIP),
    "neck": (THORAX, NECK),
    "head": (NECK, HEAD),
}


def length(pose: np.ndarray, a: int, b: int) -> np.ndarray:
    return np.linalg.norm(pose[:, a] - pose[:, b], axis=-1)


# ----------------------------------------------------------------------------- closed form

TINY_ASF = """\
:version 1.10
:name tiny
:units
  mass 1.0
  length 1.0
  angle deg
:root
   order TX TY TZ RX RY RZ
   axis XYZ
   position 0 0 0
   orientation 0 0 0
:bonedata
  begin
     id 1
     name a
     direction 1 0 0
     length 1
     axis 0 0 90 XYZ
    dof rx
    limits (-180.0 180.0)
  end
  begin
     id 2
     name b
     direction 0 1 0
     length 2
     axis 0 0 0 XYZ
  end
:hierarchy
  begin
    root a
    a b
  end
"""


def test_asf_fk_closed_form(tmp_path, mocap):
    # bone a rotates about its local x axis, which 'axis 0 0 90' turns onto world y:
    # rx = 90 is then a 90 degree turn about world y, taking +x to -z.
    asf = tmp_path / "tiny.asf"
    asf.write_text(TINY_ASF)
    amc = tmp_path / "tiny.amc"
    amc.write_text(
        ":FULLY-SPECIFIED\n:DEGREES\n1\nroot 1 2 3 0 0 0\na 0\n2\nroot 1 2 3 0 0 0\na 90\n3\nroot 0 0 0 0 90 0\na 0\n"
    )
    skel = mocap.read_asf(asf)
    assert skel.names == ("root", "a", "b")
    assert skel.scale == pytest.approx(0.0254)  # length 1.0: inches
    p = mocap.asf_amc_positions(skel, amc, scale=1.0)
    assert p.shape == (3, 3, 3)
    np.testing.assert_allclose(p[0], [[1, 2, 3], [2, 2, 3], [2, 4, 3]], atol=1e-12)  # rest pose
    np.testing.assert_allclose(p[1], [[1, 2, 3], [1, 2, 2], [1, 4, 2]], atol=1e-12)
    # root ry = 90 turns the whole rest pose about y: +x -> -z, +y stays
    np.testing.assert_allclose(p[2], [[0, 0, 0], [0, 0, -1], [0, 2, -1]], atol=1e-12)


TINY_BVH = """\
HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Arm
  {
    OFFSET 1 0 0
    CHANNELS 3 Zrotation Yrotation Xrotation
    End Site
    {
      OFFSET 0 1 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.5
0 0 0 0 0 0 0 0 0
5 0 0 90 90 0 0 0 90
"""


def test_bvh_fk_closed_form(tmp_path, mocap):
    path = tmp_path / "tiny.bvh"
    path.write_text(TINY_BVH)
    clip = mocap.read_bvh(path)
    assert clip.names == ["Hips", "Arm", "Arm_End"]
    assert clip.parents == [-1, 0, 1]
    assert clip.fps == 2.0
    p = mocap.bvh_positions(clip, scale=1.0)
    np.testing.assert_allclose(p[0], [[0, 0, 0], [1, 0, 0], [1, 1, 0]], atol=1e-12)
    # frame 1: root R = Rz(90) Rx(90) (ZXY channel order): x -> y, y -> z.
    # (the other order, Rx(90) Rz(90), would send the arm offset x to z).
    # Arm adds Rx(90): world R = Rz(90) Rx(180), end-site offset y -> -y -> +x.
    np.testing.assert_allclose(p[1], [[5, 0, 0], [5, 1, 0], [6, 1, 0]], atol=1e-12)


def test_euler_matrix_order(mocap):
    # Rz(90) @ Rx(90) maps y -> z; Rx(90) @ Rz(90) maps y -> -x.
    np.testing.assert_allclose(mocap.euler_matrix([90, 90], "zx") @ [0, 1, 0], [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(mocap.euler_matrix([90, 90], "xz") @ [0, 1, 0], [-1, 0, 0], atol=1e-12)


def test_resample_linear_ramp(mocap):
    # x(t) = t sampled at 120 fps for 1 s (121 frames) -> 50 fps: 51 frames at t = k / 50
    t = np.arange(121) / 120.0
    x = np.stack([t, 2 * t + 1, np.zeros_like(t)], axis=-1)[:, None, :]  # (T, 1, 3)
    y = mocap.resample(x, 120, 50)
    assert y.shape == (51, 1, 3)
    k = np.arange(51) / 50.0
    np.testing.assert_allclose(y[:, 0, 0], k, atol=1e-12)
    np.testing.assert_allclose(y[:, 0, 1], 2 * k + 1, atol=1e-12)
    for T in (1, 2, 12, 13, 343, 2751):
        assert mocap.resample(np.zeros((T, 17, 3)), 120, 50).shape[0] == math.floor((T - 1) * 50 / 120) + 1


def test_world_frame_is_z_up_right_handed(mocap):
    # CMU rest pose: left = +x, up = +y, forward = +z. World: up = +z and left x up = forward.
    pose = np.zeros((1, 17, 3))
    pose[0, LHIP] = [0.1, 0, 0]
    pose[0, RHIP] = [-0.1, 0, 0]
    pose[0, HEAD] = [0, 1.0, 0]
    pose[0, LWRI] = [0, 0, 0.3]  # something in front of the body
    w = mocap.to_world(pose, ground=False)
    assert w[0, HEAD, 2] == pytest.approx(1.0)
    forward = np.cross(w[0, LHIP] - w[0, RHIP], [0, 0, 1])
    assert np.dot(forward, w[0, LWRI]) > 0


def test_bad_amc_names_file_and_bone(tmp_path, mocap):
    asf = tmp_path / "tiny.asf"
    asf.write_text(TINY_ASF)
    amc = tmp_path / "broken.amc"
    amc.write_text(":FULLY-SPECIFIED\n:DEGREES\n1\nroot 1 2 3 0 0 0\na 0\n2\nroot 1 2 3 0 0 0\n")
    with pytest.raises(DataError, match=r"broken\.amc.*'a'.*frame 2"):
        mocap.asf_amc_positions(asf, amc)


def test_bad_bvh_motion_size(tmp_path, mocap):
    path = tmp_path / "short.bvh"
    path.write_text(TINY_BVH.replace("Frames: 2", "Frames: 3"))
    with pytest.raises(DataError, match=r"short\.bvh.*MOTION.*\(3, 9\)"):
        mocap.read_bvh(path)


def test_unknown_bvh_names(mocap):
    with pytest.raises(DataError, match="naming scheme"):
        mocap.cmu_bvh_to_h36m(np.zeros((2, 3, 3)), ["Hips", "Arm", "Arm_End"])


# ----------------------------------------------------------------------------- real CMU clips


@pytest.fixture(scope="module")
def clip_01_01(mocap):
    """Trial 01/01 from its ASF/AMC and from its BVH conversion, both 50 fps H36M-17."""
    amc = mocap.load_clip((CMU / "fairmotion" / "01.asf", CMU / "fairmotion" / "01_01.amc"))
    bvh = mocap.load_clip(CMU / "fairmotion" / "01_01.bvh")
    return amc, bvh


@pytest.fixture(scope="module")
def walk_02_01(mocap):
    return mocap.load_clip((CMU / "roboschool" / "12.asf", CMU / "roboschool" / "02_01.amc"))


@needs_cmu
def test_read_asf_01(mocap):
    skel = mocap.read_asf(CMU / "fairmotion" / "01.asf")
    assert len(skel.bones) == 30
    femur = skel.bones["lfemur"]
    assert femur.length == pytest.approx(7.1578)
    np.testing.assert_allclose(femur.direction, [0.34202, -0.939693, 0])
    np.testing.assert_allclose(femur.axis, [0, 0, 20])
    assert femur.dof == ("rx", "ry", "rz")
    assert skel.bones["lfoot"].dof == ("rx", "rz")
    assert skel.bones["ltibia"].parent == "lfemur"
    assert skel.bones["lclavicle"].parent == "thorax"
    assert skel.scale == pytest.approx(0.05644, rel=1e-3)  # README: multiply by 0.05644
    motion = mocap.read_amc(CMU / "fairmotion" / "01_01.amc", skel)
    assert motion["root"].shape == (2751, 6)  # README: 2,751 frames
    assert motion["lfoot"].shape == (2751, 2)


@needs_cmu
def test_frame_counts_and_tpose(clip_01_01, mocap):
    amc, bvh = clip_01_01
    expected = math.floor((2751 - 1) * 50 / 120) + 1  # 1146
    assert amc.shape == (expected, 17, 3)
    # the BVH has 2752 frames, the first a T-pose that load_clip drops
    assert mocap.read_bvh(CMU / "fairmotion" / "01_01.bvh").num_frames == 2752
    assert bvh.shape == (expected, 17, 3)
    # 131_01 (bvh11) starts with a real frame: 994 frames @120 -> all kept
    clip = mocap.read_bvh(CMU / "bvh11" / "131_01.bvh")
    assert clip.num_frames == 994 and clip.fps == 120.0
    assert mocap.load_clip(CMU / "bvh11" / "131_01.bvh").shape[0] == math.floor(993 * 50 / 120) + 1


@needs_cmu
def test_amc_and_bvh_of_the_same_trial_agree(clip_01_01):
    amc, bvh = clip_01_01
    for name, (a, b) in LIMBS.items():
        diff = abs(length(amc, a, b).mean() - length(bvh, a, b).mean())
        assert diff < 0.02, f"{name}: AMC and BVH differ by {diff:.3f} m"
    hip_amc = amc[:, HIP] - amc[0, HIP]
    hip_bvh = bvh[:, HIP] - bvh[0, HIP]
    assert np.abs(hip_amc - hip_bvh).max() < 0.03
    assert np.abs(hip_amc).max() > 1.0  # the subject really travels (forward jumps)
    # README: the BVH lacks the thorax segment, its torso is about 11 cm short
    short = length(amc, HIP, THORAX).mean() - length(bvh, HIP, THORAX).mean()
    assert 0.05 < short < 0.15


@needs_cmu
def test_rigid_bones_and_human_dimensions(clip_01_01, walk_02_01, mocap):
    bvh11 = mocap.load_clip(CMU / "bvh11" / "131_02.bvh")
    for pose in (*clip_01_01, walk_02_01, bvh11):
        for name, (a, b) in RIGID.items():
            assert length(pose, a, b).std() < 1e-3, name
        assert np.isfinite(pose).all() and pose.dtype == np.float32
    for pose in clip_01_01:
        for name in ("r thigh", "l thigh"):
            assert 0.35 < length(pose, *LIMBS[name]).mean() < 0.5
        # ankles at z = 0, so the head top stands a little under the body height
        assert 1.4 < np.percentile(pose[:, HEAD, 2], 90) < 2.0
    assert 1.4 < np.percentile(walk_02_01[:, HEAD, 2], 90) < 2.0


@needs_cmu
def test_feet_on_the_ground(walk_02_01):
    pose = walk_02_01
    assert pose[:, [RFOOT, LFOOT], 2].min() == pytest.approx(0.0, abs=1e-6)
    assert pose[:, :, 2].min() > -0.05  # no joint sinks into the floor
    # walking: each foot has stance phases on the floor, the head stays high
    for foot in (RFOOT, LFOOT):
        assert (pose[:, foot, 2] < 0.05).mean() > 0.2
    assert (pose[:, HEAD, 2] > 1.2).all()


@needs_cmu
def test_left_right_not_swapped(walk_02_01):
    # left x up points forward for a right-handed z-up frame: it must match the walking direction
    pose = walk_02_01
    travel = pose[-1, HIP, :2] - pose[0, HIP, :2]
    assert np.linalg.norm(travel) > 2.0  # 02_01 walks a few metres
    facing = np.cross(pose[:, LHIP] - pose[:, RHIP], [0, 0, 1])[:, :2].mean(axis=0)
    cos = np.dot(facing, travel) / (np.linalg.norm(facing) * np.linalg.norm(travel))
    assert cos > 0.8
    # and the left hand/foot are on the left of the pelvis too
    assert (np.einsum("tc,tc->t", pose[:, LSHO] - pose[:, RSHO], pose[:, LHIP] - pose[:, RHIP]) > 0).all()


def test_euler_matrix_is_intrinsic_and_asf_order_is_fixed_axes(mocap):
    # BVH "zxy" = Rz @ Rx @ Ry; the ASF order "XYZ" applies x first: Rz @ Ry @ Rx
    a = np.array([[30.0, -50.0, 70.0]])
    Rz, Rx, Ry = (mocap.euler_matrix([v], ax) for v, ax in zip(a[0], "zxy"))
    np.testing.assert_allclose(mocap.euler_matrix(a, "zxy")[0], Rz @ Rx @ Ry, atol=1e-12)
    Rx, Ry, Rz = (mocap.euler_matrix([v], ax) for v, ax in zip(a[0], "xyz"))
    np.testing.assert_allclose(mocap._asf_order_matrix(a, "XYZ", True)[0], Rz @ Ry @ Rx, atol=1e-12)
    # a quarter turn about z by hand: x -> y
    np.testing.assert_allclose(mocap.euler_matrix([90.0], "z") @ [1, 0, 0], [0, 1, 0], atol=1e-12)


def test_look_at(mocap):
    q = mocap.look_at_quaternion([4.0, 3.0, 1.5], [0.0, 0.0, 1.5])
    assert q[0] >= 0 and abs(np.linalg.norm(q) - 1) < 1e-12
    np.testing.assert_allclose(C.world_to_camera(np.array([0, 0, 1.5]), q, [4, 3, 1.5]), [0, 0, 5], atol=1e-5)
    # world up (+z) is image up (-y)
    up = C.world_to_camera(np.array([0, 0, 2.5]), q, [4, 3, 1.5])
    assert up[1] < 0 and abs(up[0]) < 1e-5


def test_retarget_keeps_directions_and_sets_lengths(mocap):
    # a random two-frame "pose": after retargeting every bone is parallel to the original one,
    # has exactly the asked length, and the root keeps its place (the feet are re-grounded in z)
    rng = np.random.default_rng(0)
    pose = rng.normal(size=(2, 17, 3))
    lengths = rng.uniform(0.05, 0.5, size=17)
    lengths[0] = 0.0
    out = mocap.retarget(pose, lengths).astype(np.float64)
    for j, p in enumerate(PARENTS):
        if p < 0:
            continue
        old, new = pose[:, j] - pose[:, p], out[:, j] - out[:, p]
        np.testing.assert_allclose(np.linalg.norm(new, axis=-1), lengths[j], rtol=1e-5)
        cos = (old * new).sum(-1) / np.linalg.norm(old, axis=-1) / np.linalg.norm(new, axis=-1)
        np.testing.assert_allclose(cos, 1.0, atol=1e-6)
    np.testing.assert_allclose(out[:, 0, :2], pose[:, 0, :2], atol=1e-6)
    assert out[:, [3, 6], 2].min() == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(mocap.bone_lengths(out)[1:], lengths[1:], rtol=1e-5)


def test_retarget_refuses_wrong_shapes(mocap):
    with pytest.raises(DataError, match=r"expected pose \(T, 17, 3\) and lengths \(17,\)"):
        mocap.retarget(np.zeros((4, 16, 3)), np.ones(17))
