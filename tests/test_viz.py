"""Figures: image regression against stored baselines (pytest-mpl), plus behaviour of the plotting helpers.

The baselines in ``tests/baseline_images/`` are 200-pixel-high PNGs of a fixed, hand-made
standing pose, drawn with matplotlib's default style and no text. pytest-mpl compares them
(``--mpl`` is in the pytest options of pyproject.toml); after an intended change of the drawing
code regenerate them with ``make viz-baselines``
(``pytest --mpl-generate-path=tests/baseline_images -k baseline tests/test_viz.py``) and look at
the new PNGs before committing them.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from pstmo.report import viz  # noqa: E402
from pstmo.skeleton import H36M_SKELETON, PARENTS, Skeleton  # noqa: E402

BASELINE_DIR = Path(__file__).resolve().parent / "baseline_images"
#: pytest-mpl settings of every baseline: matplotlib defaults, 100 dpi, RMS tolerance over 0..255
BASELINE = dict(baseline_dir=str(BASELINE_DIR), style="default", tolerance=2, savefig_kwargs={"dpi": 100})

#: A standing person, camera frame metres (x right, y down, z forward), root-relative. The
#: right arm is bent forward and the left arm stretched sideways so a mirrored or re-parented
#: skeleton draws differently.
REFERENCE_POSE_3D = np.array(
    [
        [0.00, 0.00, 0.00],  # Hip
        [-0.13, 0.00, 0.00],  # RHip
        [-0.14, 0.45, 0.02],  # RKnee
        [-0.15, 0.90, 0.05],  # RFoot
        [0.13, 0.00, 0.00],  # LHip
        [0.14, 0.45, 0.02],  # LKnee
        [0.15, 0.90, 0.05],  # LFoot
        [0.00, -0.25, 0.00],  # Spine
        [0.00, -0.50, 0.00],  # Thorax
        [0.00, -0.60, -0.02],  # Neck/Nose
        [0.00, -0.72, 0.00],  # Head
        [0.17, -0.48, 0.00],  # LShoulder
        [0.40, -0.48, 0.05],  # LElbow
        [0.62, -0.50, 0.10],  # LWrist
        [-0.17, -0.48, 0.00],  # RShoulder
        [-0.35, -0.30, 0.10],  # RElbow
        [-0.30, -0.10, 0.25],  # RWrist
    ]
)
IMAGE_SIZE = 200


def reference_pose_2d() -> np.ndarray:
    """Pinhole projection of the reference pose 4.5 m in front of a 200x200 camera (f = 250 px)."""
    cam = REFERENCE_POSE_3D + np.array([0.0, 0.0, 4.5])
    return cam[:, :2] / cam[:, 2:] * 250.0 + IMAGE_SIZE / 2


def render_pose_2d(skeleton: Skeleton = H36M_SKELETON):
    fig = viz.new_figure(2.0, 2.0, dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    viz.plot_pose_2d(reference_pose_2d(), IMAGE_SIZE, IMAGE_SIZE, skeleton=skeleton, ax=ax, axis_off=True)
    return fig


def render_pose_3d(skeleton: Skeleton = H36M_SKELETON):
    fig = viz.new_figure(2.0, 2.0, dpi=100)
    ax = fig.add_axes((0, 0, 1, 1), projection="3d")
    viz.plot_pose_3d(REFERENCE_POSE_3D, skeleton=skeleton, ax=ax, axis_off=True)
    return fig


def render_masking(skeleton: Skeleton = H36M_SKELETON):
    """Five frames of a sideways walk; frame 1 and 3 temporally masked, two joints spatially masked."""
    seq = np.stack([reference_pose_2d() + [6.0 * i, 0.0] for i in range(5)])
    temporal = np.array([False, True, False, True, False])
    spatial = np.zeros((5, 17), bool)
    spatial[0, 3] = spatial[2, 13] = spatial[4, 10] = True
    fig = viz.new_figure(5.0, 1.2, dpi=100)
    axes = [fig.add_axes((i / 5, 0, 1 / 5, 1)) for i in range(5)]
    viz.plot_masking(seq, temporal, spatial, skeleton=skeleton, axes=axes)
    return fig


@pytest.mark.mpl_image_compare(filename="pose_2d.png", **BASELINE)
def test_pose_2d_matches_baseline():
    return render_pose_2d()


@pytest.mark.mpl_image_compare(filename="pose_3d.png", **BASELINE)
def test_pose_3d_matches_baseline():
    return render_pose_3d()


@pytest.mark.mpl_image_compare(filename="masking_row.png", **BASELINE)
def test_masking_row_matches_baseline():
    return render_masking()


def _swapped_elbow_parents() -> Skeleton:
    parents = list(PARENTS)
    parents[12], parents[15] = parents[15], parents[12]  # LElbow hangs off RShoulder and vice versa
    return dataclasses.replace(H36M_SKELETON, parents=tuple(parents))


def _mirrored_sides() -> Skeleton:
    return dataclasses.replace(H36M_SKELETON, left=H36M_SKELETON.right, right=H36M_SKELETON.left)


def test_broken_skeletons_fail_the_baseline_test(pytester):
    """The same pytest-mpl comparison, run on skeletons with swapped elbow parents or mirrored
    sides, fails; the intact skeleton in the same run passes (so the failures are the images)."""
    pytester.makepyfile(
        test_broken=textwrap.dedent(
            f"""
            import sys

            import pytest

            sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
            import test_viz as tv

            SKELETONS = {{"intact": lambda: tv.H36M_SKELETON, "swapped_parents": tv._swapped_elbow_parents,
                          "mirrored": tv._mirrored_sides}}


            @pytest.mark.parametrize("skeleton", SKELETONS)
            @pytest.mark.mpl_image_compare(filename="pose_2d.png", **tv.BASELINE)
            def test_pose_2d(skeleton):
                return tv.render_pose_2d(SKELETONS[skeleton]())


            @pytest.mark.parametrize("skeleton", SKELETONS)
            @pytest.mark.mpl_image_compare(filename="pose_3d.png", **tv.BASELINE)
            def test_pose_3d(skeleton):
                return tv.render_pose_3d(SKELETONS[skeleton]())
            """
        )
    )
    result = pytester.runpytest_inprocess("--mpl", "-p", "no:cacheprovider", "-q", "-rf")
    result.assert_outcomes(passed=2, failed=4)
    failed = {line.split("::")[1].split(" ")[0] for line in result.outlines if line.startswith("FAILED")}
    assert failed == {f"test_pose_{d}[{b}]" for d in ("2d", "3d") for b in ("swapped_parents", "mirrored")}
    assert "Error: Image files did not match." in result.stdout.str()


# ----------------------------------------------------------------------------------------------
# behaviour


def test_plot_pose_2d_uses_image_canvas_with_y_down():
    fig = viz.plot_pose_2d(reference_pose_2d(), width=640, height=480)
    ax = fig.axes[0]
    assert ax.get_xlim() == (0, 640)
    assert ax.get_ylim() == (480, 0)  # image rows grow downwards


def test_bone_colours_distinguish_left_and_right():
    fig = viz.plot_pose_2d(reference_pose_2d())
    lines = fig.axes[0].lines
    assert len(lines) == 16  # one per bone
    colors = {
        child: mpl.colors.to_hex(line.get_color())
        for child, line in zip([j for j, p in enumerate(PARENTS) if p >= 0], lines)
    }
    assert colors[13] == colors[12] == viz.SIDE_COLORS["left"]  # LWrist, LElbow
    assert colors[16] == colors[3] == viz.SIDE_COLORS["right"]  # RWrist, RFoot
    assert colors[10] == viz.SIDE_COLORS["center"]  # Head
    assert viz.SIDE_COLORS["left"] != viz.SIDE_COLORS["right"]


def test_3d_axes_are_equal_and_upright():
    fig = viz.plot_pose_3d(REFERENCE_POSE_3D, elev=10, azim=30)
    ax = fig.axes[0]
    spans = [np.diff(lim)[0] for lim in (ax.get_xlim3d(), ax.get_ylim3d(), ax.get_zlim3d())]
    assert np.allclose(spans, spans[0])
    assert (ax.elev, ax.azim) == (10, 30)
    # the head (y = -0.72 in the camera frame) is the highest point of the upright plot frame
    up = viz.to_upright(REFERENCE_POSE_3D)
    assert up[:, 2].argmax() == 10
    # the ground plane sits at the feet: plot z of the feet is the lower z limit of the data
    assert ax.get_zlim3d()[0] == pytest.approx(-0.9)


def test_comparison_error_colours_and_title():
    pred = REFERENCE_POSE_3D.copy()
    pred[13] += [0.1, 0.0, 0.0]  # 100 mm error on the left wrist only
    fig = viz.plot_comparison(reference_pose_2d(), pred, REFERENCE_POSE_3D, IMAGE_SIZE, IMAGE_SIZE)
    assert len(fig.axes) == 3
    assert f"{100 / 17:.1f} mm" in fig.axes[1].get_title()
    faces = fig.axes[1].collections[0].get_facecolors()
    cmap = mpl.colormaps[viz.ERROR_CMAP]
    assert np.allclose(faces[13, :3], cmap(100 / 150)[:3], atol=1e-6)
    assert np.allclose(faces[0, :3], cmap(0.0)[:3], atol=1e-6)


def test_per_joint_error_closed_form():
    a = np.zeros((2, 17, 3))
    b = a.copy()
    b[..., 0] = 3.0
    b[..., 1] = 4.0
    assert np.allclose(viz.per_joint_error(a, b), 5.0)


def test_masking_diagram_marks_hidden_frames_and_joints():
    seq = np.stack([reference_pose_2d()] * 4)
    temporal = np.array([False, True, False, False])
    spatial = np.zeros((4, 17), bool)
    spatial[2, 13] = True
    fig = viz.plot_masking(seq, temporal, spatial)
    axes = fig.axes
    assert len(axes) == 4
    grey = mpl.colors.to_rgba(viz.MASK_COLOR)
    # frame 1 fully masked: every bone grey and dashed
    assert all(mpl.colors.to_rgba(line.get_color()) == grey for line in axes[1].lines)
    # frame 2: only the LElbow-LWrist bone is hidden
    hidden = [mpl.colors.to_rgba(line.get_color()) == grey for line in axes[2].lines]
    assert hidden == [child == 13 for child in range(1, 17)]
    assert not any(mpl.colors.to_rgba(line.get_color()) == grey for line in axes[0].lines)
    with pytest.raises(ValueError, match=r"\(4, 17\)"):
        viz.plot_masking(seq, temporal, spatial[:2])


def test_fig2_masking_strategies_on_a_real_sequence():
    from pstmo.data import load_dataset

    seq = load_dataset("demo").sequences("test")[0].pose_2d[:45:5]  # 9 frames of a real clip
    fig = viz.plot_masking_strategies(seq, temporal_ratio=0.5, spatial_num=3, st_spatial_num=2, seed=0)
    rows = [fig.axes[r * 9 : (r + 1) * 9] for r in range(3)]
    grey = mpl.colors.to_rgba(viz.MASK_COLOR)

    def hidden_bones(ax):
        return sum(mpl.colors.to_rgba(line.get_color()) == grey for line in ax.lines)

    # (a) temporal: floor(0.5 * 9) = 4 frames fully hidden (all 16 bones), the others intact
    assert sorted(hidden_bones(ax) for ax in rows[0]) == [0] * 5 + [16] * 4
    # (b) spatial: every frame has exactly m^S = 3 hollow (masked) joints, no frame fully hidden
    for ax in rows[1]:
        faces = ax.collections[0].get_facecolors()
        assert (faces[:, :3] == 1.0).all(axis=1).sum() == 3
    # (c) spatio-temporal: 4 frames hidden, the 5 visible ones with 2 masked joints each
    counts = [hidden_bones(ax) for ax in rows[2]]
    assert counts.count(16) == 4
    visible = [ax for ax, c in zip(rows[2], counts) if c < 16]
    assert all((ax.collections[0].get_facecolors()[:, :3] == 1.0).all(axis=1).sum() == 2 for ax in visible)


def test_save_figure_writes_png_atomically(tmp_path):
    fig = viz.plot_pose_2d(reference_pose_2d(), IMAGE_SIZE, IMAGE_SIZE)
    path = viz.save_figure(fig, "test_viz_pose", out_dir=tmp_path)
    assert path == tmp_path / "test_viz_pose.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["test_viz_pose.png"]  # no temp file left
    with pytest.raises(ValueError):
        viz.save_figure(fig, "../escape", out_dir=tmp_path)


def test_animation_gif_frame_range_and_stride(tmp_path):
    from PIL import Image

    seq = np.stack([REFERENCE_POSE_3D + [0.02 * t, 0, 0] for t in range(12)])
    seq2d = np.stack([reference_pose_2d() + [2.0 * t, 0] for t in range(12)])
    out = viz.animate_sequence(
        seq,
        tmp_path / "walk.gif",
        poses_2d=seq2d,
        width=IMAGE_SIZE,
        height=IMAGE_SIZE,
        start=2,
        stop=11,
        stride=3,
        size=1.0,
        dpi=40,
        progress=False,
    )
    with Image.open(out) as im:
        assert im.n_frames == 3  # frames 2, 5, 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.gif"]
    with pytest.raises(ValueError, match="empty frame range"):
        viz.animate_sequence(seq, tmp_path / "x.gif", start=20, progress=False)
    with pytest.raises(ValueError, match=r"\(T, 17, 3\)"):
        viz.animate_sequence(seq[:, :, :2], tmp_path / "x.gif", progress=False)
    if not viz.ffmpeg_available():
        with pytest.raises(RuntimeError, match="ffmpeg"):
            viz.animate_sequence(seq, tmp_path / "x.mp4", progress=False)


def test_masking_ratio_curve_marks_paper_optimum():
    # P-STMO Fig. 4a: the optimum of temporal-only masking is q^T = 90%
    rows = [{"ratio": q, "mpjpe": 45.0 + 20.0 * (q - 0.9) ** 2} for q in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)]
    fig = viz.plot_masking_ratio_curve(rows, xlabel="temporal masking ratio $q^T$")
    star = [line for line in fig.axes[0].lines if line.get_marker() == "*"]
    assert len(star) == 1 and star[0].get_xdata()[0] == pytest.approx(0.9)


def test_ablation_heatmap_pivots_grid():
    rows = [
        {"spatial_num": m, "temporal_ratio": q, "mpjpe": 40.0 + m + 10 * q}
        for m in (1, 2, 3)
        for q in (0.7, 0.8, 0.9)
    ]
    fig = viz.plot_ablation_heatmap(rows)
    mesh = fig.axes[0].collections[0]
    values = np.asarray(mesh.get_array()).reshape(3, 3)
    assert values[1, 1] == pytest.approx(40.0 + 2 + 8.0)  # m^S = 2, q^T = 0.8 (the paper's optimum cell)


def test_training_curves_from_history_and_missing_column():
    hist = [{"epoch": e, "train_loss": 1.0 / e, "val_mpjpe": 100.0 / e} for e in (1, 2, 3)]
    fig = viz.plot_training_curves(hist, y=["train_loss", "val_mpjpe"])
    assert len([line for line in fig.axes[0].lines if len(line.get_xdata()) == 3]) == 2
    with pytest.raises(KeyError, match="no column"):
        viz.plot_training_curves(hist, y="nope")


def test_animation_moves_the_skeleton_and_shows_titles(tmp_path):
    from PIL import Image, ImageChops

    seq = np.stack([REFERENCE_POSE_3D + [0.1 * t, 0, 0] for t in range(3)])
    titles = [f"frame {t}" for t in range(3)]
    out = viz.animate_sequence(
        seq, tmp_path / "m.gif", gt_3d=seq, titles=titles, labels=["prediction", "ground truth"],
        size=1.0, dpi=40, progress=False,
    )  # fmt: skip
    with Image.open(out) as im:
        frames = []
        for k in range(im.n_frames):
            im.seek(k)
            frames.append(im.convert("RGB"))
    assert len(frames) == 3
    assert ImageChops.difference(frames[0], frames[2]).getbbox() is not None  # the pose moved
    with pytest.raises(ValueError, match="one per frame"):
        viz.animate_sequence(seq, tmp_path / "x.gif", titles=["a"], progress=False)
    with pytest.raises(ValueError, match="one per panel"):
        viz.animate_sequence(seq, tmp_path / "x.gif", labels=["a", "b"], progress=False)


def test_seed_points_show_every_seed_and_do_not_magnify_noise():
    rows = [{"q": q, "seed": s, "mpjpe": 130.0 + 0.05 * s} for q in (0.5, 0.9) for s in range(3)]
    fig = viz.plot_seed_points(rows, x="q", reference=(131.0, 1.0), paper_best=0.9, min_span=10.0)
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    assert hi - lo >= 10.0  # a 0.1 mm spread is not stretched over the whole axis
    dots = sum(len(c.get_offsets()) for c in ax.collections if hasattr(c, "get_offsets"))
    assert dots >= 6  # every seed is drawn
    assert any(line.get_linestyle() == "--" for line in ax.lines)  # the paper's optimum


def test_reconstruction_figure_has_input_recon_and_truth_rows():
    win = np.stack([reference_pose_2d() + [3.0 * i, 0.0] for i in range(4)])
    recon = win + 5.0
    temporal = np.array([False, True, False, True])
    spatial = np.zeros((4, 17), bool)
    spatial[0, 3] = True
    fig = viz.plot_reconstruction(win, recon, temporal, spatial)
    assert len(fig.axes) == 12  # 3 rows x 4 frames
    titles = [ax.get_title() for ax in fig.axes[4:8]]
    assert titles[1].startswith("t=1 masked") and titles[0].startswith("t=0 seen")
    assert "err 7.071" in titles[0]  # |(5, 5)| per joint


def test_learning_curves_mark_each_runs_selected_epoch():
    import pandas as pd

    from pstmo.report import viz

    rows = []
    for cell, offset in (("a", 0.0), ("b", 10.0)):
        for seed in (0, 1):
            for i, val in enumerate([90.0, 80.0, 75.0 + seed, 77.0]):  # best at the 3rd epoch
                rows.append(dict(cell=cell, seed=seed, step=100 * (i + 1), loss=1.0 / (i + 1), val_metric=val + offset))
    fig = viz.plot_learning_curves(pd.DataFrame(rows))
    loss_ax, val_ax = fig.axes[:2]
    assert loss_ax.get_yscale() == "log" and "MPJPE" in val_ax.get_ylabel()
    points = val_ax.collections[-1].get_offsets()
    assert sorted(map(tuple, points.tolist())) == [(300, 75), (300, 76), (300, 85), (300, 86)]
    with pytest.raises(KeyError, match="val_metric"):
        viz.plot_learning_curves(pd.DataFrame(rows).drop(columns="val_metric"))
