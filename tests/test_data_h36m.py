"""Human3.6M-format loader on small synthetic files, and every bad-input case."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from pstmo.cameras import h36m_cameras
from pstmo.data import fold_action, load_dataset
from pstmo.data.files import check_files
from pstmo.data.h36m import load_h36m
from pstmo.data.windows import WindowBatcher, flip_poses
from pstmo.errors import DataError
from pstmo.skeleton import H36M32_TO_17, H36M_SKELETON

T = 12


def _quat_matrix(q):
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _save(path, **values):
    arrays = {}
    for k, v in values.items():
        a = np.empty((), dtype=object)
        a[()] = v
        arrays[k] = a
    np.savez(path, **arrays)


CLIPS = {"S1": ["Walking 1", "TakingPhoto", "WalkingDog 1"], "S9": ["WalkTogether", "Directions 1"]}


def _write(tmp_path, T2=T + 3, mutate=None):
    rng = np.random.default_rng(0)
    p3 = {
        s: {c: rng.normal(size=(T, 32, 3)).astype(np.float32) + [0, 0, 1] for c in cl}
        for s, cl in CLIPS.items()
    }
    p2 = {
        s: {c: [rng.uniform(0, 1000, size=(T2, 17, 2)).astype(np.float32) for _ in range(4)] for c in cl}
        for s, cl in CLIPS.items()
    }
    meta = {"num_joints": 17, "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}
    if mutate:
        mutate(p3, p2, meta)
    _save(tmp_path / "data_3d_h36m.npz", positions_3d=p3)
    _save(tmp_path / "data_2d_h36m_gt.npz", positions_2d=p2, metadata=meta)
    return p3, p2


def test_fold_action_quirks():
    assert fold_action("Walking 1") == "Walking"
    assert fold_action("TakingPhoto 1") == "Photo" and fold_action("Photo") == "Photo"
    assert fold_action("WalkingDog") == "WalkDog" and fold_action("WalkDog 1") == "WalkDog"
    assert fold_action("WalkTogether 1") == "WalkTogether"
    assert fold_action("Walk 1 chunk0") == "Walk"
    assert fold_action("Walking.54138969") == "Walking"  # Human3.6M's raw names carry the camera id
    assert fold_action("SittingDown 2") == "SittingDown"  # one word: not "Sitting"


def test_loader_geometry_and_normalisation(tmp_path):
    p3, p2 = _write(tmp_path)
    ds = load_dataset("h36m", data_dir=tmp_path, keypoints="gt")
    train = ds.sequences("train")
    assert len(train) == 3 * 4 and {s.action for s in train} == {"Walking", "Photo", "WalkDog"}
    seq = ds.sequences("train", actions=["Photo"])[2]
    assert seq.camera == 2 and seq.clip == "TakingPhoto" and (seq.res_w, seq.res_h) == (1000, 1000)
    # 3D: world -> camera with the S1 camera 2 extrinsics (mm -> m), 32 -> 17 joints, root-relative
    ext = h36m_cameras().extrinsics["S1"][2]
    Rm = _quat_matrix(np.asarray(ext["orientation"], dtype=np.float64))
    t = np.asarray(ext["translation"]) / 1000
    world = p3["S1"]["TakingPhoto"][:, list(H36M32_TO_17)].astype(np.float64)
    cam = (world - t) @ Rm  # R^T (X - t) for row vectors
    np.testing.assert_allclose(seq.pose_3d, cam - cam[:, :1], atol=1e-4)
    np.testing.assert_allclose(seq.root_3d, cam[:, 0], atol=1e-4)
    # 2D: trimmed to the 3D length, X / w * 2 - [1, h / w]
    assert seq.pose_2d.shape == (T, 17, 2)
    np.testing.assert_allclose(seq.pose_2d, p2["S1"]["TakingPhoto"][2][:T] / 1000 * 2 - 1, atol=1e-6)
    w0 = ds.sequences("test", actions="WalkTogether")[0]
    assert (w0.res_w, w0.res_h) == (1000, 1002)
    np.testing.assert_allclose(
        w0.pose_2d[..., 1], p2["S9"]["WalkTogether"][0][:T, :, 1] / 1000 * 2 - 1.002, atol=1e-6
    )
    assert ds.sequences("test", subjects=["S9"], actions=["Directions 1"])[0].action == "Directions"
    info = ds.info()
    assert info["subjects"]["S1"]["frames"] == 3 * T and info["cameras"] == 4
    fp = ds.fingerprint()
    _write(tmp_path, T2=T + 4)
    assert load_dataset("h36m", data_dir=tmp_path, keypoints="gt").fingerprint() != fp


def test_absent_subject_or_action(tmp_path):
    _write(tmp_path)
    ds = load_h36m(tmp_path, keypoints="gt")
    with pytest.raises(DataError, match="S7"):
        ds.sequences(subjects=["S7"])
    with pytest.raises(DataError, match="Eating"):
        ds.sequences("train", actions=["Eating"])


def _bad(kind):
    def mutate(p3, p2, meta):
        if kind == "joints":
            p3["S1"]["Walking 1"] = np.zeros((T, 16, 3), np.float32)
        elif kind == "dims":
            p2["S9"]["WalkTogether"][1] = np.zeros((T, 17, 4), np.float32)
        elif kind == "nan":
            p3["S1"]["TakingPhoto"][3, 5, 1] = np.nan
        elif kind == "inf":
            p2["S1"]["TakingPhoto"][0][2, 2, 0] = np.inf
        elif kind == "short":
            p2["S1"]["WalkingDog 1"][3] = np.zeros((T - 2, 17, 2), np.float32)
        elif kind == "cameras":
            p2["S1"]["Walking 1"] = p2["S1"]["Walking 1"][:3]
        elif kind == "empty":
            p3["S9"]["Directions 1"] = np.zeros((0, 32, 3), np.float32)
        elif kind == "missing_clip":
            del p2["S9"]["Directions 1"]

    return mutate


@pytest.mark.parametrize(
    "kind,match",
    [
        ("joints", r"wrong joint count 16.*\(T, 32\|17, 3\)"),
        ("dims", r"wrong coordinate dimension 4"),
        ("nan", r"NaN or inf"),
        ("inf", r"NaN or inf"),
        ("short", r"2D shorter than 3D"),
        ("cameras", r"unknown camera count 3"),
        ("empty", r"empty sequence"),
        ("missing_clip", r"Directions 1"),
    ],
)
def test_bad_content(tmp_path, kind, match):
    _write(tmp_path, mutate=_bad(kind))
    with pytest.raises(DataError, match=match) as err:
        load_h36m(tmp_path, keypoints="gt")
    assert "data_" in str(err.value) and ".npz" in str(err.value)  # names the file
    problems, _ = check_files(tmp_path / "data_3d_h36m.npz", tmp_path / "data_2d_h36m_gt.npz")
    if kind != "cameras":  # the checker cannot know the camera table; it checks consistency only
        assert problems, kind


def test_bad_files(tmp_path):
    _write(tmp_path)
    p3 = tmp_path / "data_3d_h36m.npz"
    # truncated
    data = p3.read_bytes()
    p3.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"data_3d_h36m.npz: not an .npz archive"):
        load_h36m(tmp_path, keypoints="gt")
    # not an npz
    p3.write_text("hello")
    with pytest.raises(DataError, match="not an .npz"):
        load_h36m(tmp_path, keypoints="gt")
    # missing key
    np.savez(p3, other=np.zeros(3))
    with pytest.raises(DataError, match=r"key 'positions_3d': missing key"):
        load_h36m(tmp_path, keypoints="gt")
    # not a pickled dict
    np.savez(p3, positions_3d=np.zeros((5, 17, 3)))
    with pytest.raises(DataError, match=r"key 'positions_3d': expected a pickled dict"):
        load_h36m(tmp_path, keypoints="gt")
    # missing metadata in the 2D file
    _write(tmp_path)
    p2 = tmp_path / "data_2d_h36m_gt.npz"
    npz = dict(np.load(p2, allow_pickle=True))
    np.savez(p2, positions_2d=npz["positions_2d"])
    with pytest.raises(DataError, match=r"key 'metadata': missing key"):
        load_h36m(tmp_path, keypoints="gt")
    # missing positions_2d / absent file
    np.savez(p2, metadata=npz["metadata"])
    with pytest.raises(DataError, match=r"key 'positions_2d'"):
        load_h36m(tmp_path, keypoints="gt")
    with pytest.raises(DataError, match="file not found"):
        load_h36m(tmp_path, keypoints="cpn_ft_h36m_dbb")


def _bad_value(kind):
    def mutate(p3, p2, meta):
        if kind == "huge":
            p3["S1"]["Walking 1"][2, 3, 0] = 1e30
        elif kind == "huge_2d":
            p2["S9"]["WalkTogether"][1][4, 5, 1] = 5e7
        elif kind == "complex":
            p3["S1"]["TakingPhoto"] = p3["S1"]["TakingPhoto"].astype(np.complex64)
        elif kind == "object":
            p3["S9"]["Directions 1"] = p3["S9"]["Directions 1"].astype(object)
        elif kind == "strings":
            p2["S1"]["Walking 1"][0] = p2["S1"]["Walking 1"][0].astype(str)
        elif kind == "bool":
            p2["S1"]["Walking 1"][2] = np.zeros((T, 17, 2), dtype=bool)
        elif kind == "num_joints":
            meta["num_joints"] = "seventeen"

    return mutate


@pytest.mark.parametrize(
    "kind,file,match",
    [
        (
            "huge",
            "3d",
            r""""positions_3d\['S1'\]\['Walking 1'\]": absurd value 1e\+30 at frame 2, joint 3 .*metres""",
        ),
        ("huge_2d", "2d", r"""\['WalkTogether'\]\[1\]": absurd value 5e\+07 at frame 4, joint 5 .*pixels"""),
        ("complex", "3d", r"""\['TakingPhoto'\]": complex values \(dtype complex64\)"""),
        ("object", "3d", r"""\['Directions 1'\]": expected a numeric array .* got an object array"""),
        ("strings", "2d", r"""\['Walking 1'\]\[0\]": text values"""),
        ("bool", "2d", r"""\['Walking 1'\]\[2\]": boolean values"""),
        ("num_joints", "2d", r"key 'metadata': num_joints is 'seventeen', expected a positive integer"),
    ],
)
def test_absurd_or_non_numeric_values(tmp_path, kind, file, match):
    _write(tmp_path, mutate=_bad_value(kind))
    name = "data_3d_h36m.npz" if file == "3d" else "data_2d_h36m_gt.npz"
    with pytest.raises(DataError, match=match) as err:
        load_h36m(tmp_path, keypoints="gt")
    assert str(err.value).startswith(str(tmp_path / name))
    problems, _ = check_files(tmp_path / "data_3d_h36m.npz", tmp_path / "data_2d_h36m_gt.npz")
    assert any(re.search(match, p) for p in problems), problems


def test_integer_poses_are_numbers(tmp_path):
    def mutate(p3, p2, meta):
        p2["S1"]["Walking 1"][0] = np.round(p2["S1"]["Walking 1"][0]).astype(np.int16)

    _, p2 = _write(tmp_path, mutate=mutate)
    seq = load_h36m(tmp_path, keypoints="gt").sequences(subjects=["S1"], actions=["Walking 1"])[0]
    np.testing.assert_allclose(seq.pose_2d, p2["S1"]["Walking 1"][0][:T] / 1000 * 2 - [1, 1.002], atol=1e-6)


def test_keypoints_symmetry_sets_the_flip(tmp_path):
    # the standard table: the same skeleton as before
    _write(tmp_path)
    assert load_h36m(tmp_path, keypoints="gt").skeleton == H36M_SKELETON
    # a file that pairs only the legs (arms not mirrored): hips, knees, feet swap, nothing else
    _write(tmp_path, mutate=lambda p3, p2, meta: meta.update(keypoints_symmetry=[[4, 5, 6], [1, 2, 3]]))
    ds = load_h36m(tmp_path, keypoints="gt")
    assert (ds.skeleton.left, ds.skeleton.right) == ((4, 5, 6), (1, 2, 3))
    expected = [0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    assert ds.skeleton.flip_permutation() == expected
    x = torch.arange(17 * 2, dtype=torch.float32).reshape(1, 17, 2)
    flipped = flip_poses(x, ds.skeleton)
    assert torch.equal(flipped[0, :, 1], x[0, expected, 1]) and torch.equal(
        flipped[0, :, 0], -x[0, expected, 0]
    )
    seqs = ds.sequences("train")
    batcher = WindowBatcher(seqs, 3, flip=True, skeleton=ds.skeleton)
    n = len(batcher.data_2d) // 2
    assert torch.equal(batcher.data_2d[n:][..., 1], batcher.data_2d[:n][:, expected, 1])


@pytest.mark.parametrize(
    "symmetry,match",
    [
        ([[4, 5, 17], [1, 2, 3]], r"joint index 17 is out of range for 17 joints"),
        ([[4, 5, 1], [1, 2, 3]], r"joint 1 appears twice"),
        ([[4, 5, 5], [1, 2, 3]], r"joint 5 appears twice"),
        ([[4, 5], [1, 2, 3]], r"2 left joints but 3 right joints"),
        ([["a"], [1]], r"the left joints are not a list of integers"),
        ([[4, 5, 6]], r"got list of length 1"),
        ("left right", r"got str"),
    ],
)
def test_inconsistent_keypoints_symmetry(tmp_path, symmetry, match):
    _write(tmp_path, mutate=lambda p3, p2, meta: meta.update(keypoints_symmetry=symmetry))
    with pytest.raises(
        DataError, match=r"data_2d_h36m_gt\.npz: key \"metadata\['keypoints_symmetry'\]\": " + match
    ):
        load_h36m(tmp_path, keypoints="gt")
    problems, _ = check_files(tmp_path / "data_2d_h36m_gt.npz")
    assert len(problems) == 1 and re.search(match, problems[0])
