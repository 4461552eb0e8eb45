"""``pstmo lift``: reading, COCO conversion, gap filling, normalisation, windowing, frame rate.

The pipeline is checked with a model whose output we control (``ProbeModel``): it returns
the middle frame's normalised 2D joints as x, y and the x of the window's first frame as z,
so frame order, normalisation and TDS windowing can be compared with closed-form values.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from pstmo import lift
from pstmo.data import keypoints
from pstmo.errors import DataError
from pstmo.inference import Lifter
from pstmo.lift import LiftOptions

W, H = 1000, 800


class ProbeModel(torch.nn.Module):
    """``x (B, N, J, 2)`` -> ``center (B, 1, J, 3)`` = (x_mid, y_mid, x_first_window_frame)."""

    def __init__(self, frames: int):
        super().__init__()
        self.frames = frames

    def forward(self, x):
        mid = x[:, x.shape[1] // 2]
        center = torch.cat([mid, x[:, 0, :, :1]], dim=-1)[:, None]
        return SimpleNamespace(center=center, frames=None)


def _pixels(T: int = 11, J: int = 17) -> np.ndarray:
    """A distinct pixel position for every (frame, joint): x = 100 + 10 t + j, y = 50 + 20 j."""
    t, j = np.meshgrid(np.arange(T), np.arange(J), indexing="ij")
    return np.stack([100.0 + 10 * t + j, 50.0 + 20 * j + 0 * t], axis=-1)


def test_normalisation_matches_videopose3d_formula():
    xy = np.array([[0.0, 0.0], [W, H], [W / 2, H / 2]])
    out = lift.normalize_screen(xy, W, H)
    # x in [-1, 1]; y scaled by the same factor: 0 -> -h/w, h -> +h/w
    assert np.allclose(out, [[-1, -0.8], [1, 0.8], [0, 0]])


@pytest.mark.parametrize("tds", [1, 3])
def test_lift_npz_frame_order_normalisation_windowing(tmp_path, tds):
    pix = _pixels()
    path = tmp_path / "kp.npz"
    np.savez(path, keypoints=pix, width=W, height=H)
    probe = Lifter(ProbeModel(5), 5)
    options = LiftOptions(flip=False, tds=tds, layout="h36m", animation=False, progress=False)
    res = lift.lift_keypoints(path, probe, tmp_path / "out", options)
    assert probe.tds == 1  # the caller's Lifter is unchanged: the windows' TDS rate went to a copy
    T = pix.shape[0]
    expected_xy = pix / W * 2 - [1, H / W]
    first = np.clip(np.arange(T) - 2 * tds, 0, T - 1)  # window t - 2*tds .. t + 2*tds, edge padded
    assert res.poses_3d.shape == (T, 17, 3)
    assert np.allclose(res.poses_3d[:, 1:, :2], expected_xy[:, 1:], atol=1e-6)
    assert np.allclose(res.poses_3d[:, 1:, 2], expected_xy[first][:, 1:, 0], atol=1e-6)
    assert np.all(res.poses_3d[:, 0] == 0)  # root-relative
    with np.load(res.npz_path) as z:
        assert z["poses_3d"].shape == (T, 17, 3)
        assert np.allclose(z["pose_2d"], expected_xy, atol=1e-6)
        assert int(z["tds"]) == tds and int(z["frames"]) == 5
    assert json.loads((tmp_path / "out" / "lift.json").read_text())["num_frames"] == T


def _coco_from_h36m_like(pix: np.ndarray) -> np.ndarray:
    """COCO-17 keypoints (T, 17, 3) whose limbs sit at ``pix``'s H36M limb positions."""
    T = pix.shape[0]
    coco = np.zeros((T, 17, 3))
    coco[..., 2] = 0.9
    # COCO index <- H36M index, for the joints that map one to one
    pairs = {0: 9, 5: 11, 6: 14, 7: 12, 8: 15, 9: 13, 10: 16, 11: 4, 12: 1, 13: 5, 14: 2, 15: 6, 16: 3}
    for c, h in pairs.items():
        coco[:, c, :2] = pix[:, h]
    coco[:, 1, :2] = pix[:, 9] + [-5, -10]  # left eye
    coco[:, 2, :2] = pix[:, 9] + [5, -10]  # right eye
    coco[:, 3, :2] = pix[:, 9] + [-15, -5]
    coco[:, 4, :2] = pix[:, 9] + [15, -5]
    return coco


def test_coco_json_order_conversion_and_gap_filling(tmp_path):
    pix = _pixels(T=6)
    coco = _coco_from_h36m_like(pix)
    coco[3, 9, 2] = 0.05  # low-confidence left wrist in frame 3
    dets = [
        {"image_id": 10 + t, "category_id": 1, "score": 0.9, "keypoints": coco[t].ravel().tolist()}
        for t in range(6)
        if t != 2  # frame 2 missing entirely
    ]
    dets.append(
        {"image_id": 11, "category_id": 1, "score": 0.1, "keypoints": (coco[1] + 300).ravel().tolist()}
    )
    dets.reverse()  # file order must not matter: image_id is the frame
    path = tmp_path / "dets.json"
    path.write_text(json.dumps(dets))

    kp = keypoints.to_h36m(keypoints.read_keypoints(path, W, H))
    assert len(kp) == 6 and kp.frame_ids == list(range(10, 16))
    filled, was_filled = keypoints.fill_missing(kp.xy, kp.score, min_score=0.3)
    # limbs map one to one; pelvis = mid-hips, thorax = mid-shoulders, spine between them
    # (pix is linear in time, so interpolated frames land exactly on it too)
    for h in (1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 14, 15, 16):
        assert np.allclose(filled[:, h], pix[:, h]), h
    assert np.allclose(filled[:, 0], (pix[:, 1] + pix[:, 4]) / 2)
    assert np.allclose(filled[:, 8], (pix[:, 11] + pix[:, 14]) / 2)
    assert np.allclose(filled[:, 7], (filled[:, 0] + filled[:, 8]) / 2)
    # frame 2 (missing) is interpolated between frames 1 and 3 for every joint; pix is linear in t
    assert was_filled[2].all() and np.allclose(filled[2, 1:7], pix[2, 1:7])
    # the low-confidence LWrist (H36M 13) of frame 3 is interpolated between frames 2 and 4
    assert was_filled[3, 13] and not was_filled[3, 12]
    assert np.allclose(filled[3, 13], pix[3, 13])
    # the weaker second detection of image 11 was ignored
    assert np.allclose(filled[1, 1], pix[1, 1])


@pytest.mark.parametrize(
    "names",
    [
        ["frame_{}".format, "numbers after a text, not zero-padded: frame_2 before frame_10"],
        ["img_{:06d}.jpg".format, "file names, zero-padded"],
        ["{}".format, "numbers as strings"],
    ],
    ids=["frame_N", "file-names", "digits"],
)
def test_string_image_ids_are_ordered_by_their_frame_number(tmp_path, names):
    """Issue 18: ``frame_10``/``frame_2`` sorted as text put frame 10 before frame 2, silently."""
    name = names[0]
    frames = [2, 10, 9, 3, 4, 5, 6, 7, 8]  # frame 1 and 11 absent; file order must not matter
    dets = [
        {"image_id": name(t), "category_id": 1, "score": 1.0, "keypoints": [float(t), 2.0 * t, 1.0] * 17}
        for t in frames
    ]
    path = tmp_path / "dets.json"
    path.write_text(json.dumps(dets))
    kp = keypoints.read_keypoints(path, W, H)
    assert kp.frame_ids == list(range(2, 11))  # the frame numbers the ids carry
    assert np.array_equal(kp.xy[:, 0, 0], np.arange(2, 11)) and np.array_equal(
        kp.xy[:, 5, 1], 2 * np.arange(2, 11)
    )


def test_string_image_ids_with_a_gap_become_missing_frames(tmp_path):
    dets = [
        {"image_id": f"frame_{t}", "category_id": 1, "score": 1.0, "keypoints": [float(t), 0.0, 1.0] * 17}
        for t in (0, 1, 4)
    ]
    path = tmp_path / "dets.json"
    path.write_text(json.dumps(dets))
    kp = keypoints.read_keypoints(path, W, H)
    assert kp.frame_ids == [0, 1, 2, 3, 4] and np.isnan(kp.xy[2:4]).all() and (kp.score[2:4] == 0).all()
    filled, was = keypoints.fill_missing(kp.xy, kp.score)
    assert np.allclose(filled[:, 0, 0], [0, 1, 2, 3, 4]) and was[2:4].all()
    with pytest.raises(DataError, match=r"2 missing frames between frame 1 and 4 \(more than --max-gap 1\)"):
        keypoints.read_keypoints(path, W, H, max_gap=1)


@pytest.mark.parametrize(
    ("ids", "match"),
    [
        (["a", "b"], r"image_id 'a' carries no frame number"),
        (["left_1", "right_2"], r"differ in more than their frame number \('left_#' and 'right_#'\)"),
        (["f_1.jpg", "f_2.png"], r"differ in more than their frame number"),
        (["frame_1", "frame_01"], r"'frame_1' and 'frame_01' carry the same frame number 1"),
        ([1, "frame_2"], r"mix integers and strings"),
    ],
)
def test_image_ids_that_cannot_be_ordered_are_refused(tmp_path, ids, match):
    path = tmp_path / "dets.json"
    path.write_text(json.dumps([{"image_id": i, "keypoints": [1.0] * 51, "score": 1.0} for i in ids]))
    with pytest.raises(DataError, match=match):
        keypoints.read_keypoints(path, W, H)


def test_deep_json_and_a_huge_span_are_one_sentence_before_any_allocation(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(DataError, match=r"deep\.json: JSON nested too deeply to read"):
        keypoints.read_keypoints(deep, W, H)
    far = tmp_path / "far.json"
    far.write_text(json.dumps([{"image_id": i, "keypoints": [1.0] * 51} for i in (0, 10**12)]))
    # 10**12 frames would be ~4 PB of arrays: refused by the estimate, not by MemoryError
    with pytest.raises(
        DataError, match=r"span 1,000,000,000,001 frames, about 3.81e\+06 GiB to lift, more than the 8 GiB"
    ):
        keypoints.read_keypoints(far, W, H, max_gap=10**13)


def test_fill_missing_holds_edges_and_rejects_never_seen_joint():
    xy = np.arange(5 * 17 * 2, dtype=float).reshape(5, 17, 2)
    score = np.ones((5, 17))
    score[:2, 4] = 0.0  # first two frames of LHip missing -> hold frame 2's value
    out, filled = keypoints.fill_missing(xy, score, 0.5)
    assert np.allclose(out[0, 4], xy[2, 4]) and np.allclose(out[1, 4], xy[2, 4])
    assert filled[:2, 4].all() and filled.sum() == 2
    score[:, 7] = 0.0
    with pytest.raises(DataError, match="joint 7"):
        keypoints.fill_missing(xy, score, 0.5)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (dict(layout="mpii"), "layout must be one of coco, h36m, native, coco-native, got 'mpii'"),
        (dict(min_score=1.5), r"min_score must be in \[0, 1\], got 1.5"),
        (dict(min_score="0.3"), r"min_score must be in \[0, 1\], got '0.3'"),
        (dict(batch_size=0), "batch_size must be a positive integer, got 0"),
        (dict(anim_stride=True), "anim_stride must be a positive integer, got True"),
        (dict(tds=1.5), "tds must be a positive integer, got 1.5"),
        (dict(fps=float("inf")), "fps must be a positive number, got inf"),
        (dict(max_gap=-1), "max_gap must be an integer >= 0, got -1"),
    ],
)
def test_lift_options_are_checked_when_made(options, match):
    with pytest.raises(DataError, match=match):
        LiftOptions(**options)


def test_lift_options_give_the_windows_tds_rate():
    assert LiftOptions().window_tds(model_tds=2) == 2  # no fps: the model's own rate
    assert LiftOptions(fps=100).window_tds(model_tds=1) == 2  # twice training's rate
    assert LiftOptions(fps=100, tds=3).window_tds(model_tds=1) == 3  # given: kept (within tolerance)
    with pytest.raises(DataError, match="--tds 2"):
        LiftOptions(fps=100, tds=1).window_tds(model_tds=1)


def test_frame_rate_check_suggests_tds():
    lift.check_frame_rate(None)
    lift.check_frame_rate(50)
    lift.check_frame_rate(60)  # within a factor 1.5
    lift.check_frame_rate(100, tds=2)
    with pytest.raises(DataError, match="--tds 2"):
        lift.check_frame_rate(100)
    with pytest.raises(DataError, match="--tds 4"):
        lift.check_frame_rate(200, tds=1)
    with pytest.raises(DataError, match="resample"):
        lift.check_frame_rate(25)
    # a model trained with TDS 2 expects window frames 1/25 s apart: 50 fps input needs --tds 2
    lift.check_frame_rate(50, tds=2, model_tds=2)
    with pytest.raises(DataError, match="--tds 4"):
        lift.check_frame_rate(100, tds=2, model_tds=2)


def test_default_tds_follows_fps(tmp_path):
    path = tmp_path / "kp.npy"
    np.save(path, _pixels(T=9))
    options = LiftOptions(
        flip=False, fps=100, width=W, height=H, layout="h36m", animation=False, progress=False
    )
    res = lift.lift_keypoints(path, Lifter(ProbeModel(3), 3), tmp_path / "o", options)
    first = np.clip(np.arange(9) - 2, 0, 8)  # fps 100 -> tds 2
    assert np.allclose(
        res.poses_3d[:, 1:, 2], lift.normalize_screen(_pixels(T=9), W, H)[first][:, 1:, 0], atol=1e-6
    )


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (np.zeros((4, 16, 2)), r"\(T, 17, 2\|3\)"),
        (np.zeros((0, 17, 2)), "empty"),
        (np.zeros((4, 17, 4)), r"\(T, 17, 2\|3\)"),
    ],
)
def test_bad_arrays_are_clear_errors(tmp_path, content, match):
    path = tmp_path / "bad.npy"
    np.save(path, content)
    with pytest.raises(DataError, match=match) as info:
        keypoints.read_keypoints(path, W, H)
    assert "bad.npy" in str(info.value)


def test_bad_json_and_missing_size(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    with pytest.raises(DataError, match="empty"):
        keypoints.read_keypoints(empty, W, H)
    short = tmp_path / "short.json"
    short.write_text(json.dumps([{"image_id": 0, "keypoints": [0.0] * 50, "score": 1.0, "category_id": 1}]))
    with pytest.raises(DataError, match="51"):
        keypoints.read_keypoints(short, W, H)
    npy = tmp_path / "kp.npy"
    np.save(npy, _pixels(T=3))
    with pytest.raises(DataError, match="--width"):
        keypoints.read_keypoints(npy)
    with pytest.raises(DataError, match="not found"):
        keypoints.read_keypoints(tmp_path / "nope.npy", W, H)


def test_animation_is_written(tmp_path):
    from PIL import Image

    path = tmp_path / "kp.npz"
    np.savez(path, keypoints=_pixels(T=7), res_w=W, res_h=H)
    options = LiftOptions(flip=False, layout="h36m", anim_stride=3, progress=False)
    res = lift.lift_keypoints(path, Lifter(ProbeModel(3), 3), tmp_path / "o", options)
    with Image.open(res.animation_path) as im:
        assert im.n_frames == 3  # frames 0, 3, 6


# ----------------------------------------------------------------------------------------------
# end to end: `pstmo lift` on the demo's own 2D equals evaluate() on the same sequence


def test_cli_lift_matches_evaluate(tmp_path, capsys, one_thread, random_checkpoint):
    from PIL import Image

    from pstmo import cli
    from pstmo.data import load_dataset
    from pstmo.evaluate import evaluate

    ckpt = random_checkpoint(frames=9, seed=2)
    ds = load_dataset("demo")
    seq = ds.sequences("test")[0]
    T = 40  # frames scored by evaluate (its windows still reach into the whole sequence)
    w, h = seq.res_w, seq.res_h
    pixels = (seq.pose_2d.astype(np.float64) + [1.0, h / w]) * w / 2  # undo X / w * 2 - [1, h / w]
    kp = tmp_path / "mine.npz"
    np.savez(kp, keypoints=pixels, width=w, height=h)
    out = tmp_path / "lifted"
    argv = [
        "lift",
        str(kp),
        "--checkpoint",
        str(ckpt),
        "--out",
        str(out),
        "--layout",
        "h36m",
        "--device",
        "cpu",
    ]
    assert cli.main([*argv, "--anim-stride", str(len(seq) // 2 + 1)]) == 0
    assert "poses_3d.npz" in capsys.readouterr().out

    res = evaluate(ckpt, dataset=ds, subjects=[seq.subject], max_frames=T, device="cpu", flip=True)
    ref = next(p for p in res.predictions if (p.action, p.camera) == (seq.action, seq.camera))
    with np.load(out / "poses_3d.npz") as z:
        assert z["poses_3d"].shape == (len(seq), 17, 3)
        np.testing.assert_allclose(z["pose_2d"], seq.pose_2d, atol=1e-5)
        np.testing.assert_allclose(z["poses_3d"][:T], ref.pred, atol=1e-5)
    with Image.open(out / "poses_3d.gif") as im:
        assert im.n_frames == 2  # frames 0 and len/2 + 1

    # a 100 fps input without a TDS rate is refused with a suggestion
    assert cli.main([*argv, "--fps", "100", "--tds", "1", "--no-animation"]) == 2
    assert "--tds 2" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------
# hostile and careless input: one sentence, nothing run, nothing written


def _coco(entries):
    return [{"image_id": i, "keypoints": k, "score": 1.0, "category_id": 1} for i, k in entries]


def test_a_nan_coordinate_is_a_missing_joint_not_a_confident_origin(tmp_path):
    good = _pixels(T=3)
    kps = [[float(v) for xy in frame for v in (*xy, 0.9)] for frame in good]
    kps[1][0] = float("nan")  # x of joint 0 in frame 1 (json.dumps writes NaN)
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(_coco(enumerate(kps))))
    kp = keypoints.read_keypoints(path, W, H)
    assert kp.score[1, 0] == 0.0 and np.isnan(kp.xy[1, 0]).all()
    filled, was = keypoints.fill_missing(kp.xy, kp.score)
    assert was[1, 0] and np.allclose(filled[1, 0], (good[0, 0] + good[2, 0]) / 2)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (_coco([(0, ["1.5"] * 51)]), r"entry 0: keypoints must be numbers, found '1.5'"),
        (_coco([(0, 7)]), r"entry 0: expected a list of 51 numbers .* got int"),
        (_coco([(0, [1.0] * 51), ("a", [1.0] * 51)]), "mix integers and strings"),
        (_coco([(0, [1.0] * 51), (200_000, [1.0] * 51)]), r"199999 missing frames .* --max-gap 250"),
        ([{"image_id": 0, "keypoints": [1.0] * 51, "score": "high"}], "score must be a number"),
        ({"x": 1}, "expected a list"),
    ],
)
def test_bad_coco_files_are_one_sentence(tmp_path, content, match):
    path = tmp_path / "kp.json"
    path.write_text(json.dumps(content))
    with pytest.raises(DataError, match=match):
        keypoints.read_keypoints(path, W, H)


def test_non_utf8_json(tmp_path):
    path = tmp_path / "kp.json"
    path.write_bytes(b"\xff\xfe[\x00")
    with pytest.raises(DataError, match="not UTF-8"):
        keypoints.read_keypoints(path, W, H)


@pytest.mark.parametrize(
    ("flags", "match"),
    [
        (["--batch-size", "-1"], "expected a positive integer"),
        (["--width", "nan"], "expected a positive finite number"),
        (["--tds", "0"], "expected a positive integer"),
        (["--layout", "mpii"], "invalid choice"),
    ],
)
def test_cli_lift_refuses_bad_options_before_any_work(tmp_path, capsys, flags, match):
    from pstmo import cli

    kp = tmp_path / "kp.npy"
    np.save(kp, _pixels())
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        cli.main(["lift", str(kp), "--checkpoint", "x.pt", "--out", str(out), *flags])
    assert info.value.code == 2 and match in capsys.readouterr().err
    assert not out.exists()


def test_cli_lift_output_that_is_a_file(tmp_path, capsys, random_checkpoint):
    from pstmo import cli

    kp = tmp_path / "kp.npz"
    np.savez(kp, keypoints=_pixels(), width=W, height=H)
    target = tmp_path / "taken"
    target.write_text("mine")
    assert cli.main(["lift", str(kp), "--checkpoint", str(random_checkpoint()), "--out", str(target)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err and target.read_text() == "mine"


# ----------------------------------------------------------------------------------------------
# the official in-the-wild checkpoint: COCO-ordered input, COCO flip of the input (issue 18)

OFFICIAL_WILD = Path(__file__).parent / "fixtures" / "official_wild_tiny.npz"


@pytest.fixture(scope="module")
def wild() -> dict[str, np.ndarray]:
    """The official in-the-wild demo on a random tiny model (tools/make_official_fixture.py --kind wild)."""
    return dict(np.load(OFFICIAL_WILD))


def _wild_files(wild: dict[str, np.ndarray], tmp_path: Path) -> tuple[Path, Path]:
    """The fixture's keypoints as a ``.npz`` and its weights as the official ``run.py`` saves them."""
    state = {
        k.removeprefix("state_dict/"): torch.from_numpy(v)
        for k, v in wild.items()
        if k.startswith("state_dict/")
    }
    pth = tmp_path / "PSTMOS_no_refine_in_the_wild.pth"
    torch.save({f"module.{k}": v for k, v in state.items()}, pth)  # DataParallel names
    kp = tmp_path / "wild.npz"
    np.savez(kp, keypoints=wild["keypoints"], width=wild["width"], height=wild["height"])
    return kp, pth


def _lift_wild(kp: Path, pth: Path, out: Path, layout: str) -> np.ndarray:
    # the official demo feeds contiguous frames (tds 1) and flips; the fixture's scores are all 1
    options = LiftOptions(layout=layout, tds=1, flip=True, animation=False, progress=False, device="cpu")
    res = lift.lift_keypoints(kp, pth, out, options)
    return res.poses_3d


def test_official_in_the_wild_checkpoint_matches_the_official_demo(wild, tmp_path, one_thread):
    kp, pth = _wild_files(wild, tmp_path)
    ours = _lift_wild(kp, pth, tmp_path / "native", "coco-native")
    assert ours.shape == wild["output"].shape == (len(wild["keypoints"]), 17, 3)
    assert np.abs(ours - wild["output"]).max() < 1e-4
    # what pstmo did before: COCO reordered to Human3.6M, or COCO order flipped with Human3.6M's pairs
    for layout in ("coco", "h36m"):
        assert np.abs(_lift_wild(kp, pth, tmp_path / layout, layout) - wild["output"]).max() > 1e-3


def test_a_model_trained_on_coco_order_refuses_other_layouts(tmp_path):
    from pstmo.data.windows import flip_poses
    from pstmo.skeleton import (
        COCO_LEFT_JOINTS,
        COCO_RIGHT_JOINTS,
        H36M_SKELETON,
        Skeleton,
        coco_flip_permutation,
    )

    coco = Lifter(ProbeModel(3), 3, skeleton=Skeleton(left=COCO_LEFT_JOINTS, right=COCO_RIGHT_JOINTS))
    kp = tmp_path / "kp.npz"
    np.savez(kp, keypoints=_pixels(), width=W, height=H)
    for layout in ("coco", "h36m", "native"):
        with pytest.raises(DataError, match="trained on COCO-ordered 2D keypoints.*--layout coco-native"):
            lift.lift_keypoints(kp, coco, tmp_path / layout, LiftOptions(layout=layout, animation=False))
    options = LiftOptions(layout="coco-native", flip=False, animation=False, progress=False)
    res = lift.lift_keypoints(kp, coco, tmp_path / "ok", options)
    assert coco.input_flip is None  # the caller's Lifter is unchanged: the COCO input flip went to a copy
    expected = lift.normalize_screen(_pixels(), W, H)  # the probe returns its input: COCO order kept
    np.testing.assert_allclose(res.poses_3d[:, 1:, :2], expected[:, 1:], atol=1e-6)
    # the flipped copy of the input swaps COCO pairs (eyes, ears, ...); the 3D output flips back
    # with the skeleton's (here Human3.6M's) pairs
    probe, h36m, cocop = ProbeModel(3), H36M_SKELETON.flip_permutation(), coco_flip_permutation()
    x = torch.as_tensor(expected[:2, None], dtype=torch.float32).repeat(1, 3, 1, 1)
    want = (probe(x).center[:, 0] + flip_poses(probe(flip_poses(x, cocop)).center[:, 0], h36m)) / 2
    np.testing.assert_allclose(Lifter(probe, 3, input_flip=cocop).predict(x).numpy(), want.numpy(), atol=1e-6)
    assert (Lifter(probe, 3).predict(x) - want).abs().max() > 1e-3  # Human3.6M pairs on COCO input
    with pytest.raises(DataError, match="input_flip must be a permutation"):
        Lifter(ProbeModel(3), 3, input_flip=[0, 1])
