"""The interactive explorer, driven programmatically: set widget values, check what is shown."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from pstmo.checkpoint import load_model  # noqa: E402
from pstmo.experiments.widgets import SHIPPED, PoseExplorer, text_cap_heights, window  # noqa: E402
from pstmo.inference import predict, sequence_windows  # noqa: E402
from pstmo.report.viz import to_upright  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Single-window inference: one torch thread avoids spinning on a shared, busy CPU."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def explorer(_one_thread):
    return PoseExplorer(dataset="demo", seed=0, results_dir="/nonexistent", dpi=30)


def test_opens_on_the_shipped_trained_model(explorer):
    from pstmo.data import demo_model_path
    from pstmo.experiments.widgets import embedded_mpm

    assert explorer.model.value == SHIPPED and explorer.model.options[0] == SHIPPED
    assert explorer.bundle.trained and explorer.bundle.frames == 27
    assert "UNTRAINED" not in explorer.status.value  # the lifter and its Stage I MPM are trained
    assert explorer.figure._suptitle is None
    model, info = load_model(demo_model_path(), device="cpu")
    assert info.stage == "lift" and info.frames == 27
    raw = torch.load(demo_model_path(), weights_only=True)
    assert info.embedded is not None and info.embedded["model"].keys() == raw["mpm"]["model"].keys()
    for ours, shipped in (
        (explorer.bundle.lifter, model),
        (explorer.bundle.mpm, embedded_mpm(info.embedded, demo_model_path())),
    ):
        for (k, a), (_, b) in zip(ours.state_dict().items(), shipped.state_dict().items(), strict=True):
            assert torch.equal(a.cpu(), b), k
    mpm_state = explorer.bundle.mpm.state_dict()
    for k, v in raw["mpm"]["model"].items():  # the file's own Stage I tensors
        assert torch.equal(mpm_state[k].cpu(), v), k


def test_shipped_model_is_small_and_scores_well_below_the_mean_pose():
    """The shipped model (tools/train_shipped_model.py) has learned from the 2D input: on every
    frame of the demo test split it is far better than predicting the average training pose."""
    from pstmo.data import demo_model_path
    from pstmo.evaluate import evaluate, mean_pose_baseline

    assert demo_model_path().stat().st_size < 1_000_000
    ours, base = evaluate(demo_model_path(), "demo"), mean_pose_baseline("demo")
    assert ours.mpjpe < 0.6 * base.mpjpe, (ours.mpjpe, base.mpjpe)


def test_untrained_model_is_announced(explorer):
    explorer.model.value = "untrained P-STMO-S"
    try:
        assert not explorer.bundle.trained
        assert "UNTRAINED" in explorer.status.value
        assert explorer.image.value[:8] == b"\x89PNG\r\n\x1a\n"
        assert "UNTRAINED" in explorer.figure._suptitle.get_text()
    finally:
        explorer.model.value = SHIPPED
    assert explorer.bundle.trained and "UNTRAINED" not in explorer.status.value


def test_figure_text_is_readable_at_display_size(_one_thread):
    """Capital letters of every label at least 10 px high where the PNG is shown (at its own
    size), and the image fits JupyterLab's output area at a 1,150 px window (716 px)."""
    from pstmo.experiments.widgets import png_size

    exp = PoseExplorer(dataset="demo", device="cpu", results_dir="/nonexistent")  # default size and dpi
    for model in (SHIPPED, "untrained P-STMO-S"):  # the untrained one adds a warning title
        exp.model.value = model
        heights = text_cap_heights(exp.figure)
        assert len(heights) > 10 and min(heights.values()) >= 10.0, sorted(
            heights.items(), key=lambda kv: kv[1]
        )[:3]
        assert png_size(exp.image.value)[0] <= 716


def test_frame_slider_changes_figure_and_data(explorer):
    seq = explorer.sequence
    explorer.frame.value = 10
    before_png, before_gt = explorer.image.value, explorer.state["gt"].copy()
    explorer.frame.value = 60
    assert explorer.state["frame"] == 60
    np.testing.assert_array_equal(explorer.state["gt"], seq.pose_3d[60])
    np.testing.assert_array_equal(explorer.state["pose_2d"], seq.pose_2d[60])
    assert not np.array_equal(before_gt, explorer.state["gt"])
    assert explorer.image.value != before_png
    assert explorer.state["errors_mm"].shape == (17,)
    np.testing.assert_allclose(
        explorer.state["errors_mm"],
        np.linalg.norm(explorer.state["pred"] - seq.pose_3d[60], axis=-1) * 1000,
        rtol=1e-5,
    )


def test_tds_window_is_centred_and_edge_padded(explorer):
    seq = explorer.sequence
    n = explorer.bundle.frames
    with explorer.hold():
        explorer.tds.value = 3
        explorer.frame.value = 5
    win = explorer.state["window"]
    half = (n - 1) // 2
    expected = [min(max(5 + 3 * k, 0), len(seq) - 1) for k in range(-half, half + 1)]
    np.testing.assert_array_equal(win, seq.pose_2d[expected])
    np.testing.assert_array_equal(win[half], seq.pose_2d[5])
    np.testing.assert_array_equal(window(np.arange(10)[:, None, None], 0, 5, 2)[:, 0, 0], [0, 0, 0, 2, 4])
    with explorer.hold():
        explorer.tds.value = 1


def test_masking_controls(explorer):
    n = explorer.bundle.frames
    with explorer.hold():
        explorer.mask_ratio.value = 0.0
        explorer.mask_joints.value = 0
    assert not explorer.state["temporal"].any() and not explorer.state["spatial"].any()
    with explorer.hold():
        explorer.mask_ratio.value = 0.5
        explorer.mask_joints.value = 3
    t, s = explorer.state["temporal"], explorer.state["spatial"]
    assert t.sum() == int(0.5 * n)  # |M^T| = q^T * N (floor)
    assert (s[~t].sum(axis=1) == 3).all() and not s[t].any()  # m^S joints in every visible frame
    assert explorer.state["recon"].shape == (n, 17, 2)
    assert f"{(t.sum() + s.sum() / 17) / n:.1%}" in explorer.status.value  # q^ST of the window


def test_subject_clip_camera_selection(explorer):
    subject = explorer.subject.options[0]
    explorer.subject.value = subject
    assert explorer.sequence.subject == subject
    assert explorer.clip.value in explorer.clip.options
    cam = explorer.camera.options[-1]
    explorer.camera.value = cam
    assert explorer.sequence.camera == cam
    assert explorer.frame.max == len(explorer.sequence) - 1
    assert f"camera {cam}" in explorer.status.value


def test_missing_dataset_is_reported_and_undone(explorer):
    before = explorer.sequence
    explorer.dataset_w.value = "h36m"  # no data_dir: cannot load
    assert "error" in explorer.status.value and "h36m" in explorer.status.value
    assert explorer.dataset_w.value == "demo"
    assert explorer.sequence is before


def test_switch_to_untrained_liftformer(explorer):
    explorer.model.value = "untrained LiftFormer"
    assert type(explorer.bundle.lifter).__name__ == "LiftFormer"
    assert explorer.state["pred"].shape == (17, 3)
    explorer.model.value = SHIPPED


def test_the_explorer_notebook_writes_no_file(tmp_path, monkeypatch, _one_thread):
    """Running notebooks/11_explorer (its cells, with its default parameters) writes nothing
    under results/ or figures/: no figure of another notebook is replaced."""
    from pathlib import Path

    import pstmo.experiments.notebook

    monkeypatch.setenv("PSTMO_ROOT", str(tmp_path))
    monkeypatch.setattr(pstmo.experiments.notebook, "_ipython_display", lambda *objs: None)
    source = (Path(__file__).resolve().parents[1] / "notebooks" / "11_explorer.py").read_text()
    exec(compile(source, "11_explorer.py", "exec"), {"__name__": "__main__"})
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == [], written


def test_checkpoint_predictions_match_inference(tmp_path, random_checkpoint):
    ckpt = random_checkpoint(frames=9, path=tmp_path / "best.pt")
    exp = PoseExplorer(dataset="demo", checkpoint=ckpt, device="cpu", results_dir=tmp_path, dpi=30)
    assert exp.bundle.trained and exp.bundle.frames == 9
    assert "UNTRAINED" in exp.status.value  # the MPM has no Stage I checkpoint: said on screen
    with exp.hold():
        exp.tds.value = 2
        exp.frame.value = 3
    model, _ = load_model(ckpt, device="cpu")
    windows = sequence_windows(exp.sequence.pose_2d, 9, 2)
    ref = predict(model, windows[3:4], flip=False)[0].numpy()
    ref[0] = 0.0
    np.testing.assert_allclose(exp.state["pred"], ref, atol=1e-5)
    path = exp.save_static(out_dir=tmp_path)
    assert path.name == "11_explorer_static.png" and path.stat().st_size > 0


def test_image_is_shown_at_its_own_size(explorer):
    from pstmo.experiments.widgets import png_size

    width, height = png_size(explorer.image.value)
    assert (explorer.image.layout.width, explorer.image.layout.height) == (f"{width}px", f"{height}px")
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"GIF89a")


def test_status_text_is_escaped(explorer):
    label = explorer.bundle.label
    explorer.bundle.label = "results/<run>/best.pt & co"
    try:
        explorer.update()
        assert "results/&lt;run&gt;/best.pt &amp; co" in explorer.status.value
        assert "<run>" not in explorer.status.value
    finally:
        explorer.bundle.label = label


def test_3d_panels_have_their_own_limits(explorer):
    pred_ax, gt_ax = [ax for ax in explorer.figure.axes if ax.name == "3d"]
    for ax, pose in ((pred_ax, explorer.state["pred"]), (gt_ax, explorer.state["gt"])):
        up = to_upright(pose)
        span = max(np.ptp(up, axis=0))
        assert np.diff(ax.get_xlim3d())[0] == pytest.approx(max(span * 1.1, 1.0))


def test_trained_runs_are_listed_and_repo_relative_paths_resolve(tmp_path, monkeypatch, random_checkpoint):
    monkeypatch.setenv("PSTMO_ROOT", str(tmp_path))
    run_dir = tmp_path / "results" / "runs" / "00_quickstart-stage2"
    run_dir.mkdir(parents=True)
    ckpt = random_checkpoint(frames=9, path=run_dir / "best.pt")
    monkeypatch.chdir(tmp_path / "results")  # the kernel runs elsewhere (notebooks/)
    exp = PoseExplorer(dataset="demo", device="cpu", results_dir=tmp_path / "results", dpi=30)
    assert str(ckpt) in exp.model.options  # a notebook's run under results/runs/ is offered
    exp.checkpoint_path.value = "results/runs/00_quickstart-stage2/best.pt"  # as the text suggests
    assert "not found" not in exp.status.value
    assert exp.model.value == str(tmp_path / "results/runs/00_quickstart-stage2/best.pt")
    assert exp.bundle.trained and exp.bundle.frames == 9
    exp.checkpoint_path.value = "results/runs/nope/best.pt"
    assert "checkpoint results/runs/nope/best.pt not found" in exp.status.value


def test_play_pace_drops_frames_instead_of_lagging():
    from pstmo.experiments.widgets import PLAY_INTERVAL_MS, play_pace

    assert play_pace(0.01) == (PLAY_INTERVAL_MS, 1)  # a fast redraw: every frame, at the base rate
    interval, step = play_pace(0.7)  # a 0.7 s redraw
    assert interval >= 700 and step == round(interval / PLAY_INTERVAL_MS)
    assert interval / step == pytest.approx(PLAY_INTERVAL_MS, rel=0.1)  # about the base speed in frames/s


def test_playing_paces_the_player_and_pausing_restores_it(explorer):
    explorer.play.playing = True
    try:
        explorer.frame.value = (explorer.frame.value + 3) % explorer.frame.max  # a new frame: one redraw
        assert explorer.play.interval >= explorer.render_s * 1000  # never sends frames faster than drawn
        assert explorer.play.step >= 1
    finally:
        explorer.play.playing = False
    assert (explorer.play.step, explorer.play.interval) == (1, 100)


def test_rescan_lists_runs_trained_after_the_explorer_started(tmp_path, random_checkpoint):
    exp = PoseExplorer(dataset="demo", device="cpu", results_dir=tmp_path, dpi=30)
    before = list(exp.model.options)
    run_dir = tmp_path / "runs" / "10_skeleton_figures-p-stmo-s"
    run_dir.mkdir(parents=True)
    ckpt = random_checkpoint(frames=9, path=run_dir / "best.pt")
    assert str(ckpt) not in before
    exp.rescan.click()
    assert str(ckpt) in exp.model.options and exp.model.value == before[0]  # the selection is kept
