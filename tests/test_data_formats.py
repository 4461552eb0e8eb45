"""MPI-INF-3DHP, HumanEva-I, bring-your-own 2D and the `pstmo data` CLI."""

from __future__ import annotations

import os

import numpy as np
import pytest

from pstmo.cli import main
from pstmo.data import load_dataset
from pstmo.data.files import check_files
from pstmo.data.keypoints import read_keypoints, to_h36m
from pstmo.data.windows import WindowBatcher
from pstmo.errors import DataError
from pstmo.lift import normalize_screen


def _obj(v):
    a = np.empty((), dtype=object)
    a[()] = v
    return a


def test_3dhp(tmp_path):
    rng = np.random.default_rng(0)
    train = {
        "S1 Seq1": [
            {
                cam: {"data_2d": rng.uniform(0, 2048, (9, 17, 2)), "data_3d": rng.normal(0, 500, (9, 17, 3))}
                for cam in (0, 2)
            },
            25,
        ],
        "S2 Seq2": [
            {"4": {"data_2d": rng.uniform(0, 2048, (7, 17, 2)), "data_3d": rng.normal(0, 500, (7, 17, 3))}},
            50,
        ],
    }
    test = {
        ts: {
            "data_2d": rng.uniform(0, 1000, (6, 17, 2)),
            "data_3d": rng.normal(0, 500, (6, 17, 3)),
            "valid": np.array([1, 1, 0, 1, 0, 1]),
        }
        for ts in ("TS1", "TS5")
    }
    np.savez(tmp_path / "data_train_3dhp.npz", data=_obj(train))
    np.savez(tmp_path / "data_test_3dhp.npz", data=_obj(test))
    ds = load_dataset("3dhp", data_dir=tmp_path)
    assert ds.splits == {"train": ("S1", "S2"), "test": ("TS1", "TS5")}
    s1 = ds.sequences("train", subjects=["S1"])
    assert [s.camera for s in s1] == [0, 2] and s1[0].fps == 25 and s1[0].res_w == 2048
    raw = train["S1 Seq1"][0][2]["data_3d"]
    np.testing.assert_allclose(s1[1].pose_3d, (raw - raw[:, 14:15]) / 1000, atol=1e-5)  # root 14, mm -> m
    assert np.all(s1[1].pose_3d[:, 14] == 0)
    ts5 = ds.sequences("test", subjects=["TS5"])[0]
    assert (ts5.res_w, ts5.res_h) == (1920, 1080) and ts5.valid.tolist() == [
        True,
        True,
        False,
        True,
        False,
        True,
    ]
    np.testing.assert_allclose(ts5.pose_2d, test["TS5"]["data_2d"] / 1920 * 2 - [1, 1080 / 1920], atol=1e-5)
    assert ds.skeleton.flip_permutation()[2] == 5  # RShoulder <-> LShoulder in MPI order
    problems, summary = check_files(tmp_path / "data_test_3dhp.npz")
    assert not problems and "2 sequences" in summary
    test["TS1"]["valid"] = np.ones(3)
    np.savez(tmp_path / "data_test_3dhp.npz", data=_obj(test))
    with pytest.raises(
        DataError, match=r"data_test_3dhp.npz: key \"data\['TS1'\]\['valid'\]\": expected shape \(6,\)"
    ):
        load_dataset("3dhp", data_dir=tmp_path)


def test_humaneva_15_joints(tmp_path):
    rng = np.random.default_rng(1)
    p3 = {
        s: {
            "Walk 1 chunk0": rng.normal(size=(8, 15, 3)).astype(np.float32),
            "Box 1 chunk1": rng.normal(size=(5, 15, 3)).astype(np.float32),
        }
        for s in ("Train/S1", "Validate/S2")
    }
    p2 = {
        s: {
            c: [rng.uniform(0, 640, (a.shape[0], 15, 2)).astype(np.float32) for _ in range(3)]
            for c, a in v.items()
        }
        for s, v in p3.items()
    }
    np.savez(tmp_path / "data_3d_humaneva15.npz", positions_3d=_obj(p3))
    np.savez(tmp_path / "data_2d_humaneva15_gt.npz", positions_2d=_obj(p2), metadata=_obj({"num_joints": 15}))
    ds = load_dataset("humaneva", data_dir=tmp_path)
    assert ds.num_joints == 15 and ds.fps == 60 and set(ds.actions) == {"Walk", "Box"}
    train = ds.sequences("train")
    assert len(train) == 2 * 3 and train[0].pose_3d.shape == (8, 15, 3) and train[0].res_h == 480
    assert train[0].intrinsics["focal"] is None
    batch = next(iter(WindowBatcher(train, 3, batch_size=4, flip=True, skeleton=ds.skeleton)))
    assert batch.pose_2d.shape == (4, 3, 15, 2)
    with pytest.raises(ValueError, match="skeleton"):
        WindowBatcher(train, 3, flip=True)


def test_keypoints_2d_h36m_and_coco(tmp_path):
    kp = np.random.default_rng(2).uniform(0, 640, (10, 17, 3)).astype(np.float32)
    seq = read_keypoints(kp, 640, 480)
    np.testing.assert_allclose(
        normalize_screen(seq.xy, 640, 480), kp[..., :2] / 640 * 2 - [1, 0.75], atol=1e-5
    )
    np.testing.assert_allclose(seq.score, kp[..., 2], atol=1e-6)
    np.save(tmp_path / "coco.npy", kp)
    coco = to_h36m(read_keypoints(tmp_path / "coco.npy", 640, 480), "coco")
    pelvis = (kp[:, 11, :2] + kp[:, 12, :2]) / 2  # mid-hips
    np.testing.assert_allclose(coco.xy[:, 0], pelvis, atol=1e-4)
    np.testing.assert_allclose(coco.xy[:, 1], kp[:, 12, :2], atol=1e-4)  # RHip
    np.savez(tmp_path / "kp.npz", keypoints=kp[:, :, :2])
    assert read_keypoints(tmp_path / "kp.npz", 640, 480).xy.shape == (10, 17, 2)
    with pytest.raises(DataError, match=r"wrong joint count 18"):
        read_keypoints(np.zeros((4, 18, 2)), 640, 480)
    with pytest.raises(DataError, match="empty sequence"):
        read_keypoints(np.zeros((0, 17, 2)), 640, 480)


def test_cli_info_and_check(tmp_path, capsys):
    assert main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert "S131" in out and "8176" in out
    from pstmo.data import demo_dir

    d = demo_dir()
    assert main(["data", "check", str(d / "data_3d_demo.npz"), str(d / "data_2d_demo_gt.npz")]) == 0
    assert capsys.readouterr().out.startswith("ok:")
    bad = tmp_path / "bad.npz"
    np.savez(
        bad, positions_3d=_obj({"S1": {"A": np.full((3, 17, 3), np.nan)}, "S2": {"B": np.zeros((3, 17, 2))}})
    )
    assert main(["data", "check", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "NaN" in err[0] and "wrong coordinate dimension 2" in err[1]
    assert main(["data", "info", "--dataset", "h36m"]) == 2


def test_3dhp_values(tmp_path):
    rng = np.random.default_rng(4)

    def write(data_3d=None, fps=25, valid=None):
        anim = {"data_2d": rng.uniform(0, 2048, (5, 17, 2)), "data_3d": rng.normal(0, 3000, (5, 17, 3))}
        if data_3d is not None:
            anim["data_3d"] = data_3d
        np.savez(tmp_path / "data_train_3dhp.npz", data=_obj({"S1 Seq1": [{0: anim}, fps]}))
        test = {"data_2d": anim["data_2d"], "data_3d": anim["data_3d"]}
        test["valid"] = np.ones(5) if valid is None else valid
        np.savez(tmp_path / "data_test_3dhp.npz", data=_obj({"TS1": test}))

    write()  # millimetres: thousands are normal
    assert load_dataset("3dhp", data_dir=tmp_path).info()["frames"] == 10
    huge = rng.normal(0, 500, (5, 17, 3))
    huge[1, 2, 2] = 2e7
    write(data_3d=huge)
    with pytest.raises(DataError, match=r"absurd value 2e\+07 at frame 1, joint 2 .*millimetres"):
        load_dataset("3dhp", data_dir=tmp_path)
    write(fps="fast")
    with pytest.raises(
        DataError, match=r"data_train_3dhp.npz: key \"data\['S1 Seq1'\]\[1\]\": expected a frame rate"
    ):
        load_dataset("3dhp", data_dir=tmp_path)
    write(fps=float("nan"))
    with pytest.raises(DataError, match=r"expected a positive frame rate, got nan"):
        load_dataset("3dhp", data_dir=tmp_path)
    write(valid=np.array(["yes"] * 5))
    with pytest.raises(DataError, match=r"\['valid'\]\": expected \(5,\) flags"):
        load_dataset("3dhp", data_dir=tmp_path)


def test_keypoints_values(tmp_path):
    kp = np.random.default_rng(5).uniform(0, 640, (6, 17, 3))
    with pytest.raises(DataError, match=r"text values \(dtype <U"):
        read_keypoints(kp.astype(str), 640, 480)  # "1.5" as strings
    with pytest.raises(DataError, match=r"complex values"):
        read_keypoints(kp.astype(np.complex128), 640, 480)
    with pytest.raises(DataError, match=r"expected a numeric array \(T, 17, 2\|3\), got an object array"):
        read_keypoints(kp.astype(object), 640, 480)
    huge = kp.copy()
    huge[0, 0, 0] = 1e30
    with pytest.raises(DataError, match=r"absurd value 1e\+30 at frame 0, joint 0 .*pixels"):
        read_keypoints(huge, 640, 480)
    with pytest.raises(
        DataError, match=r"key 'width': image width must be a positive number of pixels, got nan"
    ):
        read_keypoints(kp, float("nan"), 480)
    with pytest.raises(DataError, match=r"key 'width': image width must be a number, got '640'"):
        read_keypoints(kp, "640", 480)
    empty = tmp_path / "empty.npy"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.npy: cannot read this member"):
        read_keypoints(empty, 640, 480)
    for suffix in ("npy", "npz", "json"):
        folder = tmp_path / f"folder.{suffix}"
        folder.mkdir()
        with pytest.raises(
            DataError, match=rf"folder\.{suffix}: is a directory, not a regular file; expected"
        ):
            read_keypoints(folder, 640, 480)
        fifo = tmp_path / f"fifo.{suffix}"  # opened, it would block for ever
        os.mkfifo(fifo)
        with pytest.raises(DataError, match=rf"fifo\.{suffix}: is a FIFO \(named pipe\), not a regular file"):
            read_keypoints(fifo, 640, 480)
    with pytest.raises(DataError, match=r"/dev/zero: is a character device, not a regular file"):
        read_keypoints("/dev/zero", 640, 480)


def test_demo_camera_table_errors_are_sentences(tmp_path, capsys):
    from pstmo.data import demo_dir

    for name in ("data_3d_demo.npz", "data_2d_demo_gt.npz"):
        (tmp_path / name).write_bytes((demo_dir() / name).read_bytes())
    cams = tmp_path / "demo_cameras.json"
    cams.write_text("{not json")
    with pytest.raises(DataError, match=r"demo_cameras.json: not a JSON camera table"):
        load_dataset("demo", data_dir=tmp_path)
    assert main(["data", "info", "--dataset", "demo", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "demo_cameras.json" in err
    cams.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DataError, match=r"demo_cameras.json: not a JSON camera table"):
        load_dataset("demo", data_dir=tmp_path)
    table = (demo_dir() / "demo_cameras.json").read_text()
    cams.write_text(table.replace('"fps": 50', '"fps": "fifty"'))
    with pytest.raises(DataError, match=r"demo_cameras.json: key 'fps': expected a positive frame rate"):
        load_dataset("demo", data_dir=tmp_path)
    cams.write_text(table.replace('"splits": {', '"splits": {"bad": 3, '))
    with pytest.raises(DataError, match=r"demo_cameras.json: key 'splits'"):
        load_dataset("demo", data_dir=tmp_path)


def _stub_dataset(name, splits, subjects, fps=50.0):
    from types import SimpleNamespace

    info = {
        "subjects": {s: {"frames": n, "clips": 1, "cameras": 1, "split": None} for s, n in subjects.items()}
    }
    return SimpleNamespace(name=name, fps=fps, splits=splits, info=lambda: info)


def test_check_dataset_holds_splits_frame_rate_and_subjects_to_the_data():
    """Issue 18; the CLI rows are in tests/test_bad_input.py (``info-split-*``)."""
    from pstmo.data.files import check_dataset

    held = {"S1": 10, "S9": 5}
    # fixed splits (Human3.6M) may name subjects a partial file lacks, as long as some are there
    assert check_dataset(_stub_dataset("h36m", {"train": ("S1", "S5"), "test": ("S9", "S11")}, held)) == []
    assert (
        check_dataset(_stub_dataset("3dhp", {"train": (), "test": ("S9",)}, held)) == []
    )  # a test file alone
    (problem,) = check_dataset(_stub_dataset("h36m", {"train": ("S5",), "test": ("S11",)}, held))
    assert "no subject of its splits" in problem and "holds S1, S9" in problem
    # the demo format's own splits must fit the data exactly
    assert check_dataset(_stub_dataset("demo", {"train": ("S1",), "test": ("S9",)}, held)) == []
    (problem,) = check_dataset(_stub_dataset("demo", {"train": ("S1", "S5"), "test": ("S9",)}, held))
    assert "split 'train' names subject(s) ['S5'] that the data does not hold" in problem
    # whatever the format: frame rate, subject names and frames, no test subject in training
    for fps in (-1.0, 0.0, float("nan"), float("inf"), 1e30, True):
        (problem,) = check_dataset(_stub_dataset("h36m", {"train": ("S1",), "test": ("S9",)}, held, fps))
        assert "frame rate" in problem
    problems = check_dataset(
        _stub_dataset("h36m", {"train": ("S1", "S9"), "test": ("S9",)}, {**held, "": 3, "S7": 0})
    )
    assert [p.split(": ", 1)[1][:28] for p in problems] == [
        "subject '': expected a non-e", "subject 'S7' has no frames", "subject(s) ['S9'] are in bot",
    ]  # fmt: skip
