"""Figures and animations: skeletons in 2D and 3D, masking diagrams, curves and grids.

Shapes follow DESIGN.md: a pose is ``(J, C)``, a sequence ``(T, J, C)`` with ``J = 17``
Human3.6M joints (``pstmo.skeleton``) and ``C = 2`` (image pixels or normalised
coordinates) or ``C = 3`` (camera-frame metres, root-relative).

3D poses live in the camera frame (x right, y down, z forward). They are drawn in an
upright frame (plot x = x, plot y = z, plot z = -y) with equal axis scaling, a ground
plane under the lowest joint and view angles ``elev``/``azim`` that are fixed
properties of the figure, not of the camera that recorded the sequence.

Every figure is a plain ``matplotlib.figure.Figure`` (no pyplot state, so loops
don't leak figures); ``save_figure`` writes it as a PNG atomically under ``figures/``.
IPython shows such figures only as text; in notebooks ``pstmo.experiments.notebook`` saves *and* displays
them (``nb.figure``) and registers :func:`figure_png` as their PNG formatter.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pstmo.io import atomic_write
from pstmo.skeleton import H36M_SKELETON, Skeleton

#: Bone colours of the Human3.6M skeleton: left limbs blue, right limbs red, torso grey.
SIDE_COLORS: dict[str, str] = {"left": "#1f5fbf", "right": "#d62728", "center": "#404040"}
MASK_COLOR = "#b0b0b0"
ERROR_CMAP = "magma_r"


def set_style(context: str = "notebook") -> None:
    """One look for every notebook: seaborn ``whitegrid`` theme, colour-blind palette, DPI 100."""
    import seaborn as sns

    sns.set_theme(context=context, style="whitegrid", palette="colorblind")
    import matplotlib as mpl

    mpl.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "savefig.bbox": "tight"})


def new_figure(width: float = 4.0, height: float = 4.0, dpi: float = 100) -> Figure:
    """A pyplot-free figure with an Agg canvas attached (safe in loops and workers)."""
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def save_figure(
    fig: Figure, name: str, out_dir: str | os.PathLike | None = None, dpi: float | None = None
) -> Path:
    """Write ``fig`` to ``<out_dir>/<name>.png`` atomically and return the path.

    ``out_dir`` defaults to the repository's ``figures/`` (``pstmo.paths.figures_dir()``, also
    when a notebook runs inside ``notebooks/``). ``name`` should say what produced the figure,
    e.g. ``"05_masking_ratio_temporal"``.
    """
    if out_dir is None:
        from pstmo.paths import figures_dir

        out_dir = figures_dir()
    name = name[:-4] if name.endswith(".png") else name
    if not name or "/" in name or "\\" in name:
        raise ValueError(f"figure name must be a plain file stem, got {name!r}")
    path = Path(out_dir) / f"{name}.png"
    png = figure_png(fig, dpi)
    with atomic_write(path, "wb") as fh:
        fh.write(png)
    _public_mode(path)
    return path


def figure_png(fig: Figure, dpi: float | None = None, tight: bool | None = None) -> bytes:
    """``fig`` as PNG bytes (``savefig`` with the current rcParams, e.g. ``savefig.bbox``).

    ``tight``: crop to the drawn content (True), keep the figure's own size (False; one draw
    instead of two, for figures redrawn often such as the explorer's), or the rcParams (None)."""
    buf = io.BytesIO()
    kwargs = {} if tight is None else {"bbox_inches": "tight" if tight else None}
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, **kwargs)
    return buf.getvalue()


def _public_mode(path: Path) -> None:
    """Temporary files are created 0600; give the final file the usual ``0666 & ~umask``."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def _bone_colors(skeleton: Skeleton) -> list[str]:
    out = []
    for child, parent in enumerate(skeleton.parents):
        if parent < 0:
            continue
        side = "left" if child in skeleton.left else "right" if child in skeleton.right else "center"
        out.append(SIDE_COLORS[side])
    return out


def _check_pose(pose: np.ndarray, channels: int, skeleton: Skeleton, what: str) -> np.ndarray:
    pose = np.asarray(pose, dtype=np.float64)
    if pose.ndim != 2 or pose.shape[0] != skeleton.num_joints or pose.shape[1] < channels:
        raise ValueError(f"{what}: expected shape ({skeleton.num_joints}, {channels}), got {pose.shape}")
    return pose[:, :channels]


# ----------------------------------------------------------------------------------------------
# 2D


def draw_skeleton_2d(
    ax,
    pose_2d: np.ndarray,
    skeleton: Skeleton = H36M_SKELETON,
    masked: np.ndarray | None = None,
    joint_colors: Sequence | None = None,
    linewidth: float = 2.0,
    markersize: float = 12.0,
    alpha: float = 1.0,
) -> dict:
    """Draw one 2D pose ``(J, 2)`` (image coordinates, y down) on ``ax``.

    ``masked`` ``(J,)`` bool draws hidden joints as grey hollow circles and their bones
    dashed grey (MPM's spatial masking). Returns the artists ``{"bones": [...], "joints": ...}``
    so callers can update them (animations, widgets).
    """
    pose = _check_pose(pose_2d, 2, skeleton, "pose_2d")
    masked = np.zeros(skeleton.num_joints, bool) if masked is None else np.asarray(masked, bool)
    bones = []
    for (child, parent), color in zip(
        [(j, p) for j, p in enumerate(skeleton.parents) if p >= 0], _bone_colors(skeleton)
    ):
        hidden = masked[child] or masked[parent]
        (line,) = ax.plot(
            pose[[child, parent], 0],
            pose[[child, parent], 1],
            color=MASK_COLOR if hidden else color,
            linestyle="--" if hidden else "-",
            linewidth=linewidth,
            alpha=alpha,
            solid_capstyle="round",
        )
        bones.append(line)
    colors = (
        np.array(["#202020"] * skeleton.num_joints, dtype=object) if joint_colors is None else joint_colors
    )
    face = [MASK_COLOR if m else c for m, c in zip(masked, colors)]
    edge = ["#606060" if m else c for m, c in zip(masked, colors)]
    joints = ax.scatter(pose[:, 0], pose[:, 1], s=markersize, c=face, edgecolors=edge, zorder=3, alpha=alpha)
    if masked.any():
        joints.set_facecolors(
            [(1, 1, 1, 1) if m else joints.get_facecolors()[i] for i, m in enumerate(masked)]
        )
    return {"bones": bones, "joints": joints}


def _image_axes(
    ax, width: float | None, height: float | None, pose: np.ndarray, margin: float = 0.15
) -> None:
    """Image-sized canvas: x in [0, width], y in [0, height] pointing down, square pixels."""
    if width is not None and height is not None:
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
    else:  # fit the pose (normalised coordinates)
        lo, hi = pose.min(axis=0), pose.max(axis=0)
        c, r = (lo + hi) / 2, (hi - lo).max() / 2 * (1 + margin) + 1e-6
        ax.set_xlim(c[0] - r, c[0] + r)
        ax.set_ylim(c[1] + r, c[1] - r)
    ax.set_aspect("equal")


def plot_pose_2d(
    pose_2d: np.ndarray,
    width: float | None = None,
    height: float | None = None,
    skeleton: Skeleton = H36M_SKELETON,
    masked: np.ndarray | None = None,
    ax=None,
    axis_off: bool = False,
    size: float = 4.0,
    dpi: float = 100,
):
    """A 2D skeleton ``(J, 2)`` on an image-sized canvas ``width x height`` pixels.

    Without ``width``/``height`` the view fits the pose (e.g. normalised coordinates).
    Returns the figure (or ``ax.figure`` when ``ax`` is given).
    """
    if ax is None:
        fig = new_figure(size, size * (height / width if width and height else 1.0), dpi)
        ax = fig.add_subplot(1, 1, 1)
    pose = _check_pose(pose_2d, 2, skeleton, "pose_2d")
    draw_skeleton_2d(ax, pose, skeleton, masked=masked)
    _image_axes(ax, width, height, pose)
    if axis_off:
        ax.set_axis_off()
    return ax.figure


# ----------------------------------------------------------------------------------------------
# 3D


def to_upright(pose_3d: np.ndarray) -> np.ndarray:
    """Camera frame ``(..., 3)`` (x right, y down, z forward) -> plot frame (x, z, -y), z up."""
    p = np.asarray(pose_3d, dtype=np.float64)
    return np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)


def draw_skeleton_3d(
    ax,
    pose_3d: np.ndarray,
    skeleton: Skeleton = H36M_SKELETON,
    joint_colors: Sequence | None = None,
    linewidth: float = 2.0,
    markersize: float = 10.0,
) -> dict:
    """Draw one camera-frame 3D pose ``(J, 3)`` on a 3D ``ax`` (upright plot frame)."""
    pose = to_upright(_check_pose(pose_3d, 3, skeleton, "pose_3d"))
    bones = []
    for (child, parent), color in zip(
        [(j, p) for j, p in enumerate(skeleton.parents) if p >= 0], _bone_colors(skeleton)
    ):
        (line,) = ax.plot(
            pose[[child, parent], 0],
            pose[[child, parent], 1],
            pose[[child, parent], 2],
            color=color,
            linewidth=linewidth,
            solid_capstyle="round",
        )
        bones.append(line)
    colors = "#202020" if joint_colors is None else joint_colors
    joints = ax.scatter(pose[:, 0], pose[:, 1], pose[:, 2], s=markersize, c=colors, depthshade=False)
    return {"bones": bones, "joints": joints}


def setup_axes_3d(
    ax,
    center: np.ndarray | None = None,
    radius: float = 1.0,
    ground: float | None = None,
    elev: float = 15.0,
    azim: float = -70.0,
    axis_off: bool = False,
) -> None:
    """Equal scaling (a cube of half-size ``radius`` around ``center``, plot frame),
    fixed view angles and a ground plane at height ``ground`` (plot z)."""
    c = np.zeros(3) if center is None else np.asarray(center, dtype=np.float64)
    ax.set_xlim3d(c[0] - radius, c[0] + radius)
    ax.set_ylim3d(c[1] - radius, c[1] + radius)
    ax.set_zlim3d(c[2] - radius, c[2] + radius)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=elev, azim=azim)
    if ground is not None:
        g = np.linspace(-radius, radius, 5)
        gx, gy = np.meshgrid(c[0] + g, c[1] + g)
        ax.plot_surface(
            gx, gy, np.full_like(gx, ground), color="#d9d9d9", alpha=0.35, linewidth=0, shade=False
        )
        ax.plot_wireframe(gx, gy, np.full_like(gx, ground), color="#a0a0a0", linewidth=0.4)
    if axis_off:
        ax.set_axis_off()
    else:  # a coarse grid of 3 lines per axis, no labels (few tick objects: fast redraws)
        for axis, ci in ((ax.xaxis, c[0]), (ax.yaxis, c[1]), (ax.zaxis, c[2])):
            axis.set_ticks([ci - radius, ci, ci + radius])
            axis.set_ticklabels([])


def _frame_3d(poses: Sequence[np.ndarray]) -> tuple[np.ndarray, float, float]:
    """Shared centre, radius and ground height (plot frame) for one or more poses/sequences."""
    pts = np.concatenate([to_upright(np.asarray(p)).reshape(-1, 3) for p in poses])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    center = (lo + hi) / 2
    radius = max(float((hi - lo).max()) / 2 * 1.1, 0.5)
    center[2] = lo[2] + radius  # stand on the ground plane at the bottom of the cube
    return center, radius, float(lo[2])


def plot_pose_3d(
    pose_3d: np.ndarray,
    skeleton: Skeleton = H36M_SKELETON,
    elev: float = 15.0,
    azim: float = -70.0,
    ground: bool = True,
    axis_off: bool = False,
    ax=None,
    size: float = 4.0,
    dpi: float = 100,
):
    """A 3D skeleton ``(J, 3)`` with bone colours, equal scaling, a ground plane and a fixed view."""
    if ax is None:
        fig = new_figure(size, size, dpi)
        ax = fig.add_subplot(1, 1, 1, projection="3d")
    pose = _check_pose(pose_3d, 3, skeleton, "pose_3d")
    center, radius, low = _frame_3d([pose])
    draw_skeleton_3d(ax, pose, skeleton)
    setup_axes_3d(ax, center, radius, low if ground else None, elev, azim, axis_off)
    return ax.figure


def per_joint_error(pred_3d: np.ndarray, gt_3d: np.ndarray) -> np.ndarray:
    """Euclidean error per joint ``(..., J)`` in the input unit (MPJPE before the mean)."""
    return np.linalg.norm(np.asarray(pred_3d, np.float64) - np.asarray(gt_3d, np.float64), axis=-1)


def plot_comparison(
    pose_2d: np.ndarray,
    pred_3d: np.ndarray,
    gt_3d: np.ndarray | None = None,
    width: float | None = None,
    height: float | None = None,
    masked: np.ndarray | None = None,
    skeleton: Skeleton = H36M_SKELETON,
    elev: float = 15.0,
    azim: float = -70.0,
    max_error_mm: float = 150.0,
    titles: bool = True,
    fig: Figure | None = None,
):
    """Input / prediction / ground truth side by side.

    ``pose_2d (J, 2)`` (pixels when ``width``/``height`` are given), ``pred_3d`` and ``gt_3d``
    ``(J, 3)`` metres. Prediction joints are coloured by their error to the ground truth
    (``ERROR_CMAP``, 0 .. ``max_error_mm``); the MPJPE of the frame is in the title.
    """
    has_gt = gt_3d is not None
    n = 3 if has_gt else 2
    if fig is None:
        fig = new_figure(3.2 * n, 3.4)
    else:
        fig.clear()
    ax2d = fig.add_subplot(1, n, 1)
    pose_2d = _check_pose(pose_2d, 2, skeleton, "pose_2d")
    draw_skeleton_2d(ax2d, pose_2d, skeleton, masked=masked)
    _image_axes(ax2d, width, height, pose_2d)
    ax2d.set_xticklabels([])
    ax2d.set_yticklabels([])
    pred = _check_pose(pred_3d, 3, skeleton, "pred_3d")
    center, radius, low = _frame_3d([pred] + ([gt_3d] if has_gt else []))
    ax_pred = fig.add_subplot(1, n, 2, projection="3d")
    joint_colors = None
    if has_gt:
        gt = _check_pose(gt_3d, 3, skeleton, "gt_3d")
        err_mm = per_joint_error(pred, gt) * 1000.0
        import matplotlib as mpl

        cmap = mpl.colormaps[ERROR_CMAP]
        joint_colors = cmap(np.clip(err_mm / max_error_mm, 0, 1))
    draw_skeleton_3d(ax_pred, pred, skeleton, joint_colors=joint_colors, markersize=25)
    setup_axes_3d(ax_pred, center, radius, low, elev, azim)
    if has_gt:
        ax_gt = fig.add_subplot(1, n, 3, projection="3d")
        draw_skeleton_3d(ax_gt, gt, skeleton)
        setup_axes_3d(ax_gt, center, radius, low, elev, azim)
    if titles:
        ax2d.set_title("2D input")
        ax_pred.set_title(f"prediction  MPJPE {err_mm.mean():.1f} mm" if has_gt else "prediction")
        if has_gt:
            ax_gt.set_title("ground truth")
    return fig


def plot_joint_errors(errors_mm: np.ndarray, skeleton: Skeleton = H36M_SKELETON, ax=None):
    """Bar chart of per-joint errors ``(J,)`` in mm, bars coloured by body side."""
    if ax is None:
        fig = new_figure(6.0, 2.6)
        ax = fig.add_subplot(1, 1, 1)
    errors_mm = np.asarray(errors_mm, dtype=np.float64)
    colors = [
        SIDE_COLORS["left" if j in skeleton.left else "right" if j in skeleton.right else "center"]
        for j in range(skeleton.num_joints)
    ]
    ax.bar(np.arange(skeleton.num_joints), errors_mm, color=colors)
    ax.set_xticks(np.arange(skeleton.num_joints))
    ax.set_xticklabels(skeleton.names, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("error (mm)")
    return ax.figure


# ----------------------------------------------------------------------------------------------
# Masking diagrams (P-STMO Fig. 2)


def plot_masking(
    pose_2d: np.ndarray,
    temporal: np.ndarray | None = None,
    spatial: np.ndarray | None = None,
    skeleton: Skeleton = H36M_SKELETON,
    axes: Sequence | None = None,
    title: str | None = None,
    limits: tuple[np.ndarray, float] | None = None,
    under: np.ndarray | None = None,
):
    """One row of MPM's masking diagram: the ``N`` frames of ``pose_2d (N, J, 2)`` side by side.

    ``temporal (N,)`` bool: masked frames (replaced by the temporal padding embedding e^T)
    are drawn faded inside a grey box; ``spatial (N, J)`` bool: masked joints (replaced by
    the spatial padding joint e^S) are drawn as hollow grey circles with dashed bones.
    All frames share one scale so motion is visible; ``limits = (centre (2,), half-size)``
    shares it with other rows (:func:`shared_limits`). ``under (N, J, 2)``: poses drawn faint
    beneath (e.g. the ground truth under a reconstruction).
    """
    seq = np.asarray(pose_2d, dtype=np.float64)
    if seq.ndim != 3 or seq.shape[1] != skeleton.num_joints or seq.shape[2] < 2:
        raise ValueError(f"pose_2d: expected shape (N, {skeleton.num_joints}, 2), got {seq.shape}")
    n = seq.shape[0]
    temporal = np.zeros(n, bool) if temporal is None else np.asarray(temporal, bool)
    spatial = np.zeros((n, skeleton.num_joints), bool) if spatial is None else np.asarray(spatial, bool)
    if temporal.shape != (n,) or spatial.shape != (n, skeleton.num_joints):
        raise ValueError(
            f"masks: expected temporal ({n},) and spatial ({n}, {skeleton.num_joints}), "
            f"got {temporal.shape} and {spatial.shape}"
        )
    if axes is None:
        fig = new_figure(1.1 * n, 1.9)
        axes = [fig.add_subplot(1, n, i + 1) for i in range(n)]
    c, r = limits if limits is not None else shared_limits(seq)
    for i, ax in enumerate(axes):
        if under is not None:
            draw_skeleton_2d(
                ax, np.asarray(under)[i, :, :2], skeleton, linewidth=3.0, markersize=6, alpha=0.25
            )
        if temporal[i]:
            draw_skeleton_2d(
                ax, seq[i, :, :2], skeleton, masked=np.ones(skeleton.num_joints, bool), alpha=0.5
            )
            ax.set_facecolor("#ececec")
        else:
            draw_skeleton_2d(ax, seq[i, :, :2], skeleton, masked=spatial[i])
        ax.set_xlim(c[0] - r, c[0] + r)
        ax.set_ylim(c[1] + r, c[1] - r)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_color("#606060" if temporal[i] else "#d0d0d0")
            spine.set_linestyle("--" if temporal[i] else "-")
    if title:
        axes[0].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=9)
    return axes[0].figure


def shared_limits(*seqs: np.ndarray, margin: float = 0.1) -> tuple[np.ndarray, float]:
    """Centre ``(2,)`` and half-size of one square view holding every 2D pose of ``seqs`` (``(..., J, 2)``)."""
    pts = np.concatenate([np.asarray(q, dtype=np.float64)[..., :2].reshape(-1, 2) for q in seqs])
    lo, hi = pts.min(0), pts.max(0)
    return (lo + hi) / 2, float((hi - lo).max()) / 2 * (1 + margin) + 1e-6


def plot_reconstruction(
    window: np.ndarray,
    recon: np.ndarray,
    temporal: np.ndarray,
    spatial: np.ndarray,
    show: Sequence[int] | None = None,
    skeleton: Skeleton = H36M_SKELETON,
):
    """MPM (Stage I) at a glance: input with its masks, reconstruction over the ground truth, and
    the ground truth, one column per shown frame, all at one scale.

    ``window (N, J, 2)`` the clean input (= the ground truth of Stage I), ``recon (N, J, 2)``
    the reconstruction, ``temporal (N,)`` / ``spatial (N, J)`` the masks (True = masked),
    ``show`` the frame indices to draw (default: all). Each reconstruction panel is titled with
    its mean 2D error and whether the frame was masked.
    """
    window, recon = np.asarray(window, np.float64), np.asarray(recon, np.float64)
    temporal, spatial = np.asarray(temporal, bool), np.asarray(spatial, bool)
    idx = np.arange(len(window)) if show is None else np.asarray(show, int)
    n = len(idx)
    fig = new_figure(1.25 * n + 1.3, 5.4)
    limits = shared_limits(window[idx], recon[idx])
    rows = [
        ("input +\nmasks", window, temporal, spatial, None),
        ("recon. over\nground truth", recon, None, None, window),
        ("ground\ntruth", window, None, None, None),
    ]
    for r, (label, seq, tm, sm, under) in enumerate(rows):
        axes = [fig.add_subplot(3, n, r * n + i + 1) for i in range(n)]
        plot_masking(
            seq[idx], None if tm is None else tm[idx], None if sm is None else sm[idx], skeleton,
            axes=axes, title=label, limits=limits, under=None if under is None else under[idx],
        )  # fmt: skip
        if r == 1:
            err = np.linalg.norm(recon[idx] - window[idx], axis=-1).mean(-1)
            for ax, t, e in zip(axes, idx, err):
                ax.set_title(f"t={t} {'masked' if temporal[t] else 'seen'}\nerr {e:.3f}", fontsize=7)
    return fig


def plot_masking_strategies(
    pose_2d: np.ndarray,
    temporal_ratio: float = 0.5,
    spatial_num: int = 5,
    st_temporal_ratio: float | None = None,
    st_spatial_num: int | None = None,
    seed: int = 0,
    skeleton: Skeleton = H36M_SKELETON,
):
    """P-STMO Fig. 2 on a real sequence ``(N, J, 2)``: (a) temporal, (b) spatial,
    (c) spatio-temporal masking, one row each, masks drawn with ``pstmo.masking``."""
    import torch

    from pstmo import masking

    seq = np.asarray(pose_2d)
    n, j = seq.shape[0], skeleton.num_joints
    g = torch.Generator().manual_seed(seed)
    t_mask = _np(masking.temporal_mask(n, temporal_ratio, g))
    s_mask = _np(masking.spatial_mask(n, j, spatial_num, g))
    st_t, st_s = masking.spatio_temporal_mask(
        n,
        j,
        st_temporal_ratio if st_temporal_ratio is not None else temporal_ratio,
        st_spatial_num if st_spatial_num is not None else max(1, spatial_num // 2),
        g,
    )
    rows = [
        ("(a) temporal", t_mask, None),
        ("(b) spatial", None, s_mask),
        ("(c) spatio-temporal", _np(st_t), _np(st_s)),
    ]
    fig = new_figure(1.1 * n + 1.2, 1.6 * len(rows))
    for r, (label, tm, sm) in enumerate(rows):
        axes = [fig.add_subplot(len(rows), n, r * n + i + 1) for i in range(n)]
        plot_masking(seq, tm, sm, skeleton, axes=axes, title=label)
    return fig


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


# ----------------------------------------------------------------------------------------------
# Animations


def animate_sequence(
    poses_3d: np.ndarray,
    out_path: str | os.PathLike,
    poses_2d: np.ndarray | None = None,
    gt_3d: np.ndarray | None = None,
    width: float | None = None,
    height: float | None = None,
    start: int = 0,
    stop: int | None = None,
    stride: int = 1,
    fps: float = 25.0,
    skeleton: Skeleton = H36M_SKELETON,
    elev: float = 15.0,
    azim: float = -70.0,
    size: float = 3.0,
    dpi: float = 60,
    progress: bool = True,
    titles: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
) -> Path:
    """Animate a 3D sequence ``(T, J, 3)`` (optionally beside its 2D input ``(T, J, 2)`` and
    the ground truth ``(T, J, 3)``) over frames ``start:stop:stride``.

    ``titles``: one line per frame of the sequence (``T`` strings, e.g. the frame's MPJPE), shown
    above the panels; ``labels``: one title per panel (e.g. ``["2D input", "prediction", "ground truth"]``).

    ``.gif`` is written with Pillow, ``.mp4`` with ffmpeg (``RuntimeError`` naming the
    fallback when ffmpeg is missing). The file appears atomically. Returns the path.
    """
    from matplotlib import animation

    out_path = Path(out_path)
    poses_3d = np.asarray(poses_3d, dtype=np.float64)
    if poses_3d.ndim != 3 or poses_3d.shape[1:] != (skeleton.num_joints, 3):
        raise ValueError(f"poses_3d: expected shape (T, {skeleton.num_joints}, 3), got {poses_3d.shape}")
    frames = list(range(poses_3d.shape[0]))[start:stop:stride]
    if not frames:
        raise ValueError(
            f"empty frame range {start}:{stop}:{stride} for a sequence of {poses_3d.shape[0]} frames"
        )
    panels = [p for p in (poses_2d, poses_3d, gt_3d) if p is not None]
    if titles is not None and len(titles) != poses_3d.shape[0]:
        raise ValueError(f"titles: expected one per frame ({poses_3d.shape[0]}), got {len(titles)}")
    if labels is not None and len(labels) != len(panels):
        raise ValueError(f"labels: expected one per panel ({len(panels)}), got {len(labels)}")
    writer = _animation_writer(out_path, fps)
    fig = new_figure(size * len(panels), size, dpi)
    draw = _pose_panels(fig, poses_2d, [s for s in (poses_3d, gt_3d) if s is not None], frames, skeleton,
                        width, height, elev, azim, titles, labels)  # fmt: skip
    anim = animation.FuncAnimation(fig, draw, frames=frames, blit=False, repeat=False, cache_frame_data=False)
    return _save_animation(anim, out_path, writer, len(frames), progress)


def _animation_writer(out_path: Path, fps: float) -> Any:
    """Pillow for ``.gif``, ffmpeg for ``.mp4`` (an error naming the fallback when it is missing)."""
    from matplotlib import animation

    suffix = out_path.suffix.lower()
    if suffix == ".gif":
        return animation.PillowWriter(fps=fps)
    if suffix == ".mp4":
        if not animation.writers.is_available("ffmpeg"):
            raise RuntimeError(f"{out_path}: ffmpeg is not installed; write a .gif instead")
        return animation.FFMpegWriter(fps=fps)
    raise ValueError(f"{out_path}: animation must end in .gif or .mp4")


def _pose_panels(
    fig: Any, poses_2d: np.ndarray | None, seqs_3d: list[np.ndarray], frames: list[int], skeleton: Skeleton,
    width: float | None, height: float | None, elev: float, azim: float,
    titles: Sequence[str] | None, labels: Sequence[str] | None,
) -> Callable[[int], list]:  # fmt: skip
    """Lay out the 2D panel (if any) and the 3D panels on ``fig``, draw frame ``frames[0]`` once,
    and return ``draw(t)``, which moves the artists to frame ``t`` (no clearing: axes, ground
    planes and labels are not rebuilt, which keeps a GIF cheap to render)."""
    n = len(seqs_3d) + (poses_2d is not None)
    ax2d = fig.add_subplot(1, n, 1) if poses_2d is not None else None
    first = 2 if ax2d is not None else 1
    ax3d = [
        (fig.add_subplot(1, n, first + i, projection="3d"), np.asarray(s, np.float64))
        for i, s in enumerate(seqs_3d)
    ]
    center, radius, low = _frame_3d([s[frames] for _, s in ax3d])
    fig.subplots_adjust(left=0, right=1, bottom=0, wspace=0,
                        top=1.0 - 0.12 * (titles is not None) - 0.08 * (labels is not None))  # fmt: skip
    suptitle = fig.suptitle("", fontsize=8) if titles is not None else None
    bones = [(c, q) for c, q in enumerate(skeleton.parents) if q >= 0]
    artists_2d = None
    if ax2d is not None:
        poses_2d = np.asarray(poses_2d, dtype=np.float64)
        artists_2d = draw_skeleton_2d(ax2d, poses_2d[frames[0], :, :2], skeleton)
        _image_axes(ax2d, width, height, poses_2d[frames, :, :2].reshape(-1, 2))
        ax2d.set_xticks([])
        ax2d.set_yticks([])
    artists_3d = []
    for ax, seq in ax3d:
        artists_3d.append(draw_skeleton_3d(ax, seq[frames[0]], skeleton))
        setup_axes_3d(ax, center, radius, low, elev, azim)
    for ax, label in zip(([ax2d] if ax2d is not None else []) + [ax for ax, _ in ax3d], labels or ()):
        ax.set_title(label, fontsize=7)

    def draw(t: int) -> list:
        if artists_2d is not None:
            pose = poses_2d[t, :, :2]
            for line, (c, q) in zip(artists_2d["bones"], bones):
                line.set_data(pose[[c, q], 0], pose[[c, q], 1])
            artists_2d["joints"].set_offsets(pose)
        for (_, seq), art in zip(ax3d, artists_3d):
            pose = to_upright(seq[t])
            for line, (c, q) in zip(art["bones"], bones):
                line.set_data_3d(pose[[c, q], 0], pose[[c, q], 1], pose[[c, q], 2])
            art["joints"]._offsets3d = (pose[:, 0], pose[:, 1], pose[:, 2])
        if suptitle is not None:
            suptitle.set_text(titles[t])
        return []

    return draw


def _save_animation(anim: Any, out_path: Path, writer: Any, total: int, progress: bool) -> Path:
    """Render ``anim`` to a temporary file beside ``out_path`` (a bar of ``total`` frames), then
    rename it over ``out_path`` (atomic)."""
    from tqdm.auto import tqdm

    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=out_path.parent, prefix=f".{out_path.stem}.", suffix=out_path.suffix.lower()
    )
    os.close(fd)
    try:
        with tqdm(total=total, desc=f"animate {out_path.name}", disable=not progress, leave=False) as bar:
            anim.save(tmp, writer=writer, progress_callback=lambda i, n: bar.update(1))
        os.replace(tmp, out_path)
        _public_mode(out_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out_path


def ffmpeg_available() -> bool:
    """True when MP4 animations can be written."""
    return shutil.which("ffmpeg") is not None


# ----------------------------------------------------------------------------------------------
# Curves and grids (seaborn)


def plot_training_curves(
    history, x: str = "epoch", y: Sequence[str] | str = ("train_loss",), ax=None, logy: bool = False
):
    """Line plot of training curves: ``history`` is a DataFrame, a list of per-epoch dicts or a
    dict of lists; ``y`` names the columns to draw (one line each)."""
    import pandas as pd
    import seaborn as sns

    df = history if isinstance(history, pd.DataFrame) else pd.DataFrame(history)
    ys = [y] if isinstance(y, str) else list(y)
    missing = [c for c in [x, *ys] if c not in df.columns]
    if missing:
        raise KeyError(f"history has no column(s) {missing}; columns are {list(df.columns)}")
    long = df.melt(id_vars=[x], value_vars=ys, var_name="curve", value_name="value")
    if ax is None:
        fig = new_figure(5.0, 3.2)
        ax = fig.add_subplot(1, 1, 1)
    sns.lineplot(data=long, x=x, y="value", hue="curve", marker="o", ax=ax)
    if logy:
        ax.set_yscale("log")
    ax.set_ylabel(", ".join(ys) if len(ys) == 1 else "value")
    return ax.figure


def plot_step_curves(
    curves: dict,
    x: str = "step",
    y: str = "loss",
    ylabels: dict | None = None,
    smooth: int = 10,
):
    """Per-step training curves, one panel per run: ``curves`` maps a title to a step log
    (``RunResult.steps``: columns ``step``, ``loss``); the raw values are drawn faint and their
    running mean over ``smooth`` entries on top. ``ylabels`` maps a title to its y label."""
    import pandas as pd

    n = len(curves)
    if n == 0:
        raise ValueError("no curves to draw")
    fig = new_figure(4.2 * n, 3.0)
    for i, (title, log) in enumerate(curves.items()):
        df = log if isinstance(log, pd.DataFrame) else pd.DataFrame(log)
        missing = [c for c in (x, y) if c not in df.columns]
        if missing:
            raise KeyError(
                f"{title}: the step log has no column(s) {missing}; columns are {list(df.columns)}"
            )
        ax = fig.add_subplot(1, n, i + 1)
        ax.plot(df[x], df[y], color="#9ecae1", linewidth=1.0, label="every logged step")
        ax.plot(df[x], df[y].rolling(max(1, smooth), min_periods=1).mean(), color="#08519c", linewidth=2.0,
                label=f"running mean of {max(1, smooth)}")  # fmt: skip
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(x)
        ax.set_ylabel((ylabels or {}).get(title, y))
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


VAL_LABELS = {"mpjpe": "validation MPJPE (mm)", "recon_2d": "validation 2D reconstruction error",
              "recon_2d_official": "validation 2D reconstruction error (official)"}  # fmt: skip


def plot_learning_curves(
    curves,
    hue: str = "cell",
    val_label: str | None = None,
    loss_label: str = "training loss",
):
    """The learning curves of runs, so a reader sees each one reach its plateau.

    ``curves``: a long DataFrame with columns ``hue`` (e.g. the ablation cell), ``seed``, ``step``,
    ``loss`` and ``val_metric`` (a row may carry only one of the two, NaN in the other: the loss
    logged every few steps, the validation every epoch; ``pstmo.experiments.runner.learning_curves`` builds it). Left: the training loss; right: the
    validation metric that selects ``best.pt`` (mean over seeds, the band is the spread), each
    run's selected epoch marked with a dot.
    """
    import pandas as pd
    import seaborn as sns

    df = pd.DataFrame(curves)
    missing = [c for c in (hue, "seed", "step", "loss", "val_metric") if c not in df.columns]
    if missing:
        raise KeyError(f"learning curves need column(s) {missing}; columns are {list(df.columns)}")
    if df.empty:
        raise ValueError("no learning curves to draw")
    fig = new_figure(10.0, 3.6)
    axes = [fig.add_subplot(1, 2, i + 1) for i in range(2)]
    order = list(dict.fromkeys(df[hue]))
    loss = df.dropna(subset=["loss"])
    sns.lineplot(data=loss, x="step", y="loss", hue=hue, hue_order=order, errorbar=("pi", 100), ax=axes[0])
    val = df.dropna(subset=["val_metric"])
    sns.lineplot(data=val, x="step", y="val_metric", hue=hue, hue_order=order, errorbar=("pi", 100), ax=axes[1],
                 legend=False)  # fmt: skip
    best = val.loc[val.groupby([hue, "seed"])["val_metric"].idxmin()]
    palette = dict(zip(order, sns.color_palette(n_colors=len(order))))
    axes[1].scatter(best["step"], best["val_metric"], c=[palette[h] for h in best[hue]], s=18, zorder=3,
                    edgecolor="black", linewidth=0.4, label="selected (best validation)")  # fmt: skip
    if val_label is None:  # from the runs' validation metric (Stage I: 2D reconstruction)
        names = set(val["val_name"].dropna()) if "val_name" in val.columns else {"mpjpe"}
        val_label = " / ".join(VAL_LABELS.get(n, f"validation {n}") for n in sorted(names or {"mpjpe"}))
    axes[0].set_yscale("log")
    axes[0].set_ylabel(loss_label)
    axes[1].set_ylabel(val_label)
    axes[1].legend(fontsize=8, loc="upper right")
    if axes[0].get_legend() is not None:
        axes[0].get_legend().set_title(hue)
    for ax in axes:
        ax.set_xlabel("optimizer step")
    fig.tight_layout()
    return fig


def plot_seed_points(
    results,
    x: str,
    y: str = "mpjpe",
    seed: str = "seed",
    reference: tuple[float, float] | None = None,
    reference_label: str = "reference",
    paper_best: float | None = None,
    xlabel: str | None = None,
    ylabel: str = "MPJPE (mm)",
    title: str | None = None,
    min_span: float = 10.0,
    connect: bool = True,
    ax=None,
):
    """An ablation curve that shows its noise (P-STMO Fig. 4a/4b at demo scale): every seed as a
    dot, the mean ± std per ``x`` as an error bar joined by a line, an optional ``reference``
    band (mean, std; e.g. the same model trained without pre-training) and the paper's optimum
    ``paper_best`` as a dashed vertical line. The y range spans at least ``min_span`` (in the
    unit of ``y``) so that differences far below the seed noise are not magnified. ``connect=False``
    leaves the means unjoined (categories rather than a curve)."""
    import pandas as pd

    df = results if isinstance(results, pd.DataFrame) else pd.DataFrame(results)
    if ax is None:
        fig = new_figure(4.4, 3.3)
        ax = fig.add_subplot(1, 1, 1)
    stats = df.groupby(x)[y].agg(["mean", "std", "count"]).reset_index().sort_values(x)
    xs = stats[x].to_numpy(dtype=float)
    span_x = float(xs.max() - xs.min()) if len(xs) > 1 else 1.0
    if reference is not None:
        m, sd = reference
        sd = 0.0 if sd != sd else sd
        ax.axhspan(m - sd, m + sd, color="#bdbdbd", alpha=0.35, linewidth=0)
        ax.axhline(m, color="#636363", linestyle="-", linewidth=1.0, label=f"{reference_label} (mean ± std)")
    jitter = np.linspace(-0.02, 0.02, max(int(df.groupby(x)[y].count().max()), 1)) * span_x
    for xv, group in df.groupby(x):
        vals = group[y].to_numpy(dtype=float)
        ax.scatter(float(xv) + jitter[: len(vals)], vals, s=14, color="#6baed6", alpha=0.9, zorder=2,
                   label="one seed" if xv == stats[x].iloc[0] else None)  # fmt: skip
    ax.errorbar(xs, stats["mean"], yerr=stats["std"].fillna(0.0), color="#08519c", marker="o", capsize=4,
                linewidth=1.5 if connect else 0.0, elinewidth=1.5, zorder=3, label="mean ± std")  # fmt: skip
    if paper_best is not None:
        ax.axvline(paper_best, color="#d62728", linestyle="--", linewidth=1.0, label="paper's optimum")
    values = [df[y].to_numpy(dtype=float), (stats["mean"] + stats["std"].fillna(0)).to_numpy(),
              (stats["mean"] - stats["std"].fillna(0)).to_numpy()]  # fmt: skip
    if reference is not None:
        values.append(np.array([reference[0] - (reference[1] or 0), reference[0] + (reference[1] or 0)]))
    lo, hi = float(np.nanmin(np.concatenate(values))), float(np.nanmax(np.concatenate(values)))
    half = max((hi - lo) * 0.6, min_span / 2)
    mid = (lo + hi) / 2
    ax.set_ylim(mid - half, mid + half)
    if len(xs) > 1:
        ax.set_xticks(xs)
    ax.set_xlabel(x if xlabel is None else xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    return ax.figure


def plot_masking_ratio_curve(
    results,
    x: str = "ratio",
    y: str = "mpjpe",
    hue: str | None = None,
    ax=None,
    xlabel: str | None = None,
    ylabel: str = "MPJPE (mm)",
):
    """P-STMO Fig. 4a/4b: error of Stage II against the Stage I masking ratio (or number of
    masked joints ``m^S``). ``results`` is a DataFrame or a list of dicts with columns ``x``, ``y``
    (and optionally ``hue`` for several strategies). The best point is marked with a star."""
    import pandas as pd
    import seaborn as sns

    df = results if isinstance(results, pd.DataFrame) else pd.DataFrame(results)
    if ax is None:
        fig = new_figure(4.2, 3.2)
        ax = fig.add_subplot(1, 1, 1)
    sns.lineplot(data=df, x=x, y=y, hue=hue, marker="o", ax=ax)
    best = df.loc[df[y].idxmin()]
    ax.plot([best[x]], [best[y]], marker="*", markersize=14, color="#d62728", linestyle="none")
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel)
    return ax.figure


def plot_ablation_heatmap(
    results,
    index: str = "spatial_num",
    columns: str = "temporal_ratio",
    values: str = "mpjpe",
    ax=None,
    fmt: str = ".1f",
    cmap: str = "rocket_r",
):
    """P-STMO Fig. 4c: a heat map of the error over a 2D ablation grid (e.g. ``m^S`` by ``q^T``).
    ``results`` is a long DataFrame / list of dicts (pivoted here) or an already pivoted frame."""
    import pandas as pd
    import seaborn as sns

    df = results if isinstance(results, pd.DataFrame) else pd.DataFrame(results)
    grid = df.pivot_table(index=index, columns=columns, values=values) if values in df.columns else df
    if ax is None:
        fig = new_figure(0.8 * grid.shape[1] + 2.0, 0.6 * grid.shape[0] + 1.2)
        ax = fig.add_subplot(1, 1, 1)
    sns.heatmap(grid, annot=True, fmt=fmt, cmap=cmap, ax=ax, cbar_kws={"label": values})
    return ax.figure
