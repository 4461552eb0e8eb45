"""Interactive explorer (``notebooks/11_explorer.ipynb``): ipywidgets controls over a figure.

Pick dataset, subject, clip, camera and frame (slider with play), model / checkpoint, TDS rate
``s``, temporal masking ratio ``q^T`` and spatially masked joints ``m^S``; the figure shows

- the 2D input of the centre frame with MPM's masked joints (hollow grey) and the N x J mask
  of the whole window (which frames and joints are hidden),
- the MPM (Stage I) reconstruction of the centre frame over the original input,
- the predicted 3D pose (joints coloured by their error) beside the ground truth,
- the per-joint error in mm.

Everything is recomputed from the controls in :meth:`PoseExplorer.update`; the numbers of the
last update are in ``explorer.state`` and the figure in ``explorer.figure`` (also rendered as
PNG into an ``ipywidgets.Image``), so tests can drive the widgets without a browser. Without a
checkpoint it opens on the trained demo model shipped with the package
(``pstmo.data.demo_model_path()``: P-STMO-S, N = 27, with its Stage I MPM); small *untrained*
models of the smoke profile can be picked too, and the figure then says so in red.

The figure is drawn for its display size: ``dpi`` 96 and font sizes of at least
:data:`MIN_FONT_PT` points, so every label is at least 10 px high (capital letters) in the
notebook, where the PNG is shown at its own size, about 710 px wide (it fits JupyterLab's output
area at a 1,150 px window with the file browser open).

Playback keeps up by dropping frames: a redraw takes longer than a video frame, so while ▶ plays,
each redraw sets the player's interval to at least its own duration (plus a margin) and its step
to as many sequence frames as the base rate (``PLAY_INTERVAL_MS`` per frame) would have shown in
that time. The kernel is never sent more frames than it can draw, so the picture does not lag
behind the slider, and the sequence still plays at about its base speed; pausing restores a step
of 1. Redraws during playback render the figure at its own size (no tight cropping: one draw, not two).
"""

from __future__ import annotations

import contextlib
import html
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pstmo.inference import predict
from pstmo.report import viz

#: Untrained models the explorer can build on the spot (smoke-profile sizes).
UNTRAINED = {"untrained P-STMO-S": "p-stmo-s", "untrained LiftFormer": "liftformer"}
#: The model list's name of the trained model shipped with the package (``pstmo.data.demo_model_path``).
SHIPPED = "trained demo P-STMO-S (shipped)"
#: The figure: size in inches at ``dpi`` 96 (about 710 x 520 px), smallest font (points): 10.5 pt at
#: 96 dpi is 14 px, capitals 10.2 px high.
FIGURE_SIZE = (7.4, 5.4)
DPI = 96
MIN_FONT_PT = 10.5
TITLE_PT = 11.0
FONTS = {
    "font.size": MIN_FONT_PT, "axes.titlesize": TITLE_PT, "axes.labelsize": MIN_FONT_PT,
    "xtick.labelsize": MIN_FONT_PT, "ytick.labelsize": MIN_FONT_PT, "figure.titlesize": TITLE_PT,
}  # fmt: skip
#: Playback: milliseconds per sequence frame when redraws keep up (10 frames/s), and the margin
#: over a redraw's duration given to the player's interval when they do not.
PLAY_INTERVAL_MS = 100
PLAY_MARGIN = 1.25


def play_pace(
    render_s: float, base_ms: int = PLAY_INTERVAL_MS, margin: float = PLAY_MARGIN
) -> tuple[int, int]:
    """``(interval_ms, step)`` of the player for a redraw of ``render_s`` seconds: the interval is at
    least the redraw (with ``margin``), the step the number of frames the base rate shows meanwhile."""
    interval = max(base_ms, int(round(render_s * 1000.0 * margin)))
    return interval, max(1, int(round(interval / base_ms)))


@dataclass
class ModelBundle:
    """What the explorer runs: the lifting model (``center (B, 1, J, 3)``), the MPM model
    (Stage I, reconstructs ``(B, N, J, 2)``), the receptive field N, the training TDS rate,
    a label and notes shown on screen (e.g. that the weights are random)."""

    lifter: Any
    mpm: Any
    frames: int
    tds: int
    label: str
    trained: bool
    notes: list[str] = field(default_factory=list)
    device: str = "cpu"  # where the models are (the explorer moves its inputs there)


def build_untrained(preset: str = "p-stmo-s", profile: str = "smoke", seed: int = 0) -> ModelBundle:
    """Randomly initialised lifting model and MPM of the ``profile``'s size (``pstmo.config.get_profile``)."""
    import torch

    from pstmo.checkpoint import build_run_model
    from pstmo.config import get_profile

    torch.manual_seed(seed)
    cfg = get_profile(profile, "lift", model=preset)
    lifter = build_run_model(cfg)
    # LiftFormer has no Stage I: its explorer shows a P-STMO-S MPM of the same N
    mpm = build_run_model(get_profile(profile, "pretrain", frames=cfg.frames))
    return ModelBundle(
        lifter.eval(), mpm.eval(), int(cfg.frames), 1, f"untrained {preset} (N={cfg.frames})", trained=False,
        notes=["UNTRAINED model (random weights): the 3D pose and the MPM reconstruction are meaningless; "
               "pass checkpoint= (e.g. results/<run>/best.pt) for real predictions"],
    )  # fmt: skip


def shipped_model() -> Path | None:
    """The trained model shipped with the package (``pstmo.data.demo_model_path()``), None if absent."""
    from pstmo.data import demo_model_path

    path = demo_model_path()
    return path if path.is_file() else None


def embedded_mpm(sub: Any, checkpoint: str | os.PathLike, device: str = "cpu") -> Any:
    """The Stage I model of ``sub``, the checkpoint stored inside ``checkpoint`` under the key
    ``"mpm"`` (as in the shipped model, ``tools/train_shipped_model.py``; ``ModelInfo.embedded``,
    validated with its container), in eval mode."""
    from pstmo.checkpoint import build_run_model, config_of
    from pstmo.state import load_state_strict

    model = build_run_model(config_of(sub, f"{checkpoint} (key 'mpm')"))
    load_state_strict(model, sub["model"], source=f"{checkpoint} (key 'mpm')")
    return model.to(device).eval()


def load_bundle(
    checkpoint: str | os.PathLike,
    mpm_checkpoint: str | os.PathLike | None = None,
    device: str = "cpu",
    profile: str = "smoke",
    seed: int = 0,
    label: str | None = None,
) -> ModelBundle:
    """Models of a checkpoint (``pstmo.checkpoint.load_model``).

    Stage II / LiftFormer checkpoint: the MPM comes from ``mpm_checkpoint``, else from the
    checkpoint itself (its key ``"mpm"``, as in the shipped model), else from the Stage I
    checkpoint the run was initialised from (its ``pretrained``) when that file exists, else it
    is untrained (said in the notes). A Stage I checkpoint gives a trained MPM and an untrained
    lifter. ``label``: the name shown (default ``<folder>/<file>``).
    """
    import torch

    from pstmo.checkpoint import build_run_model, load_model
    from pstmo.config import get_profile
    from pstmo.runtime import resolve_device

    dev = resolve_device(device)
    model, info = load_model(checkpoint, device=str(dev))
    frames, tds = info.frames, info.tds
    name = Path(checkpoint)
    label = label or f"{name.parent.name}/{name.name}"
    torch.manual_seed(seed)
    if info.stage == "pretrain":
        lifter = build_run_model(get_profile(profile, "lift", frames=frames, model_overrides=_size_of(model)))
        lifter.load_pretrained_encoder(model.state_dict())  # SEM + TEM from Stage I, as Stage II starts
        return ModelBundle(
            lifter.to(dev).eval(), model, frames, tds, f"{label} (Stage I)", trained=False,
            notes=["Stage I checkpoint: the MPM is trained, the 3D lifter is UNTRAINED (random head)"], device=str(dev),
        )  # fmt: skip
    source = mpm_checkpoint or (info.config.pretrained if info.config is not None else None)
    notes = []
    inside = None if mpm_checkpoint or info.embedded is None else embedded_mpm(info.embedded, checkpoint, str(dev))
    if inside is not None:
        mpm = inside
    elif source and Path(source).is_file():
        mpm, _ = load_model(source, device=str(dev))
    else:
        mpm = build_run_model(get_profile(profile, "pretrain", frames=frames)).to(dev).eval()
        notes.append("no Stage I checkpoint: the MPM reconstruction comes from an UNTRAINED model")
    return ModelBundle(model, mpm, frames, tds, label, trained=True, notes=notes, device=str(dev))


def _size_of(mpm: Any) -> dict[str, Any]:
    cfg = mpm.cfg
    return {
        k: getattr(cfg, k)
        for k in ("channel", "hidden", "layers", "heads", "joints", "sem_blocks", "sem_hidden")
    }


def window(pose: np.ndarray, t: int, frames: int, tds: int = 1) -> np.ndarray:
    """The ``frames``-frame window centred on frame ``t`` with TDS ``tds``, edge-padded:
    ``(T, J, C) -> (N, J, C)`` (one row of :func:`pstmo.inference.sequence_windows`)."""
    import torch

    from pstmo.data.windows import window_indices

    idx = window_indices(torch.tensor([t]), torch.tensor([len(pose)]), frames, tds)[0].numpy()
    return np.asarray(pose)[idx]


class PoseExplorer:
    """The explorer: ``PoseExplorer(dataset="demo", checkpoint=None).widget`` in a notebook.

    ``dataset`` is a name for ``pstmo.data.load_dataset`` or a ``PoseDataset``. ``checkpoint``
    None: the trained demo model shipped with the package (:data:`SHIPPED`) when it is there,
    else an untrained one. Controls are
    attributes (``dataset_w, subject, clip, camera, frame, play, model, checkpoint_path, tds,
    mask_ratio, mask_joints``); setting their ``value`` updates the figure. ``state`` holds
    the arrays of the last update (``pose_2d``, ``temporal``, ``spatial``, ``recon``, ``pred``,
    ``gt``, ``errors_mm``).
    """

    def __init__(
        self,
        dataset: Any = "demo",
        data_dir: str | os.PathLike | None = None,
        checkpoint: str | os.PathLike | None = None,
        mpm_checkpoint: str | os.PathLike | None = None,
        device: str = "auto",
        seed: int = 0,
        profile: str = "smoke",
        results_dir: str | os.PathLike | None = None,
        dpi: float = DPI,
    ):
        import ipywidgets as W

        self.data_dir = data_dir
        self.device = device
        self.seed = seed
        self.profile = profile
        self.mpm_checkpoint = mpm_checkpoint
        self.dpi = dpi
        self.state: dict[str, Any] = {}
        self.figure = viz.new_figure(*FIGURE_SIZE, dpi)
        self._bundles: dict[str, ModelBundle] = {}
        self._busy = False
        self._held = False

        self.results_dir = results_dir
        self._make_data_controls(dataset)
        self._make_model_controls(checkpoint, results_dir)
        self.status = W.HTML()
        self.image = W.Image(format="png")

        self.dataset_w.observe(self._on_dataset, "value")
        self.subject.observe(self._on_subject, "value")
        self.clip.observe(self._on_clip, "value")
        self.checkpoint_path.observe(self._on_checkpoint_path, "value")
        self.play.observe(self._on_playing, "playing")
        for w in (self.camera, self.frame, self.model, self.tds, self.mask_ratio, self.mask_joints):
            w.observe(self._on_change, "value")

        self._load_dataset(dataset)
        self._select_model()
        self.update()

    def _make_data_controls(self, dataset: Any) -> None:
        """The data set, subject, clip, camera and frame controls (filled by :meth:`_load_dataset`)."""
        import ipywidgets as W

        from pstmo.data import DATASETS

        style = {"description_width": "initial"}
        names = [dataset] if not isinstance(dataset, str) else None
        self.dataset_w = W.Dropdown(
            options=[(getattr(d, "name", str(d)), d) for d in names] if names else list(DATASETS),
            value=dataset, description="dataset", style=style,
        )  # fmt: skip
        self.subject = W.Dropdown(description="subject", style=style)
        self.clip = W.Dropdown(description="clip", style=style)
        self.camera = W.Dropdown(description="camera", style=style)
        self.frame = W.IntSlider(description="frame", min=0, max=0, continuous_update=False, style=style)
        self.play = W.Play(min=0, max=0, interval=PLAY_INTERVAL_MS, description="play")
        W.jslink((self.play, "value"), (self.frame, "value"))

    def _make_model_controls(self, checkpoint: str | os.PathLike | None, results_dir: Any) -> None:
        """The model choice (shipped, untrained, runs found in ``results_dir``, a typed path) and the
        TDS and mask controls."""
        import ipywidgets as W

        style = {"description_width": "initial"}
        options = self._fixed_models() + self._find_checkpoints(results_dir)
        if checkpoint is not None:
            options.insert(0, str(resolve_path(checkpoint) or checkpoint))
        self.model = W.Dropdown(options=options, value=options[0], description="model", style=style)
        self.rescan = W.Button(
            description="rescan runs", tooltip="list the runs trained since (results/runs/...)"
        )
        self.rescan.on_click(lambda _: self.rescan_runs())
        self.checkpoint_path = W.Text(
            placeholder="path/to/best.pt, Enter to load", description="checkpoint", continuous_update=False,
            style=style,
        )  # fmt: skip
        slider = dict(continuous_update=False, style=style)
        self.tds = W.IntSlider(description="TDS s", min=1, max=4, value=1, **slider)
        self.mask_ratio = W.FloatSlider(
            description="mask q^T", min=0.0, max=0.95, step=0.05, value=0.8, **slider
        )
        self.mask_joints = W.IntSlider(description="mask m^S", min=0, max=17, value=2, **slider)

    # -------------------------------------------------------------------------------- layout

    @property
    def widget(self):
        """The whole explorer as one ``VBox`` (display it in a notebook)."""
        import ipywidgets as W

        row1 = W.HBox([self.dataset_w, self.subject, self.clip, self.camera])
        row2 = W.HBox([self.play, self.frame, self.tds, self.mask_ratio, self.mask_joints])
        row3 = W.HBox([self.model, self.rescan, self.checkpoint_path])
        return W.VBox([row1, row2, row3, self.status, self.image])

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    @contextlib.contextmanager
    def hold(self) -> Iterator[PoseExplorer]:
        """Change several controls, redraw once: ``with ex.hold(): ex.frame.value = 3; ex.tds.value = 2``."""
        self._held = True
        try:
            yield self
        finally:
            self._held = False
        self.update()

    # -------------------------------------------------------------------------------- data

    def _load_dataset(self, dataset: Any) -> None:
        from pstmo.data import load_dataset

        data = load_dataset(dataset, data_dir=self.data_dir) if isinstance(dataset, str) else dataset
        self.root_joint = int(getattr(data, "root_joint", 0))
        seqs: dict[tuple, Any] = {}
        for split in ("train", "test"):
            if split not in data.splits:
                continue
            for seq in data.sequences(split):
                if seq.pose_3d is not None:
                    seqs[(seq.subject, seq.clip or seq.action, seq.camera)] = seq
        if not seqs:
            raise ValueError(f"data set {getattr(data, 'name', dataset)!r} has no sequences with 3D poses")
        self.data, self._seqs = data, seqs
        outer, self._busy = self._busy, True
        try:
            subjects = list(dict.fromkeys(k[0] for k in self._seqs))
            self.subject.options = subjects
            self.subject.value = subjects[-1]  # the last subject is a test subject in every split
            self._fill_clips()
        finally:
            self._busy = outer

    def _fill_clips(self) -> None:
        clips = list(dict.fromkeys(k[1] for k in self._seqs if k[0] == self.subject.value))
        self.clip.options = clips
        self.clip.value = clips[0]
        self._fill_cameras()

    def _fill_cameras(self) -> None:
        cams = [k[2] for k in self._seqs if k[:2] == (self.subject.value, self.clip.value)]
        self.camera.options = cams
        self.camera.value = cams[0]
        self._fill_frames()

    def _fill_frames(self) -> None:
        n = len(self.sequence)
        self.frame.max = self.play.max = n - 1
        self.frame.value = min(self.frame.value, n - 1)

    @property
    def sequence(self):
        """The selected :class:`pstmo.data.Sequence`."""
        return self._seqs[(self.subject.value, self.clip.value, self.camera.value)]

    # -------------------------------------------------------------------------------- models

    @staticmethod
    def _find_checkpoints(results_dir: str | os.PathLike | None) -> list[str]:
        if results_dir is None:
            from pstmo.paths import results_dir as default_results

            root = default_results(create=False)
        else:
            root = Path(results_dir)
        if not root.is_dir():
            return []
        # runs of `pstmo train` (results/<run>/) and of the notebooks (results/runs/<notebook>-<run>/)
        return sorted({str(p) for pattern in ("*/best.pt", "runs/*/best.pt") for p in root.glob(pattern)})

    @staticmethod
    def _fixed_models() -> list[str]:
        """The shipped trained model (when installed), then the untrained ones."""
        return ([SHIPPED] if shipped_model() is not None else []) + list(UNTRAINED)

    def rescan_runs(self) -> list[str]:
        """List the trained runs again (e.g. after notebook 00 or 10 trained one), keeping the selection."""
        found = self._find_checkpoints(self.results_dir)
        fixed = self._fixed_models()
        keep = [o for o in self.model.options if o not in fixed and o not in found]
        current = self.model.value
        self._busy = True  # changing the options must not redraw
        try:
            self.model.options = fixed + found + keep
            self.model.value = current
        finally:
            self._busy = False
        return found

    def _select_model(self) -> ModelBundle:
        key = self.model.value
        if key not in self._bundles:
            from pstmo.runtime import resolve_device

            if key in UNTRAINED:
                self._bundles[key] = build_untrained(UNTRAINED[key], self.profile, self.seed)
            elif key == SHIPPED:
                self._bundles[key] = load_bundle(
                    shipped_model(), None, str(resolve_device(self.device)), self.profile, self.seed,
                    label=SHIPPED,
                )  # fmt: skip
            else:
                self._bundles[key] = load_bundle(
                    key, self.mpm_checkpoint, str(resolve_device(self.device)), self.profile, self.seed
                )
        self.bundle = self._bundles[key]
        return self.bundle

    # -------------------------------------------------------------------------------- events

    def _guarded(self, fn, undo=None) -> None:
        """Run a control's action, then redraw. Bad input (a missing data set or checkpoint)
        is shown in the status line and ``undo`` restores the previous control value."""
        from pstmo.errors import PstmoError

        if self._busy:
            return
        self._busy = True
        try:
            fn()
        except (PstmoError, ValueError, OSError) as exc:
            if undo is not None:
                undo()
            self._busy = False
            self.status.value = (
                f"<b style='color:#b00'>error:</b> {html.escape(f'{type(exc).__name__}: {exc}')}"
            )
            return
        finally:
            self._busy = False
        if not self._held:
            self.update()

    def _on_dataset(self, change) -> None:
        def undo():
            self.dataset_w.value = change["old"]

        self._guarded(lambda: self._load_dataset(change["new"]), undo)

    def _on_subject(self, change) -> None:
        self._guarded(self._fill_clips)

    def _on_clip(self, change) -> None:
        self._guarded(self._fill_cameras)

    def _on_checkpoint_path(self, change) -> None:
        path = change["new"].strip()
        if not path:
            return
        found = resolve_path(path)
        if found is None:
            self.status.value = f"<b style='color:#b00'>error:</b> checkpoint {html.escape(path)} not found"
            return
        path = str(found)
        if path not in self.model.options:
            self.model.options = [path, *self.model.options]
        self.model.value = path  # triggers _on_change

    def _on_playing(self, change) -> None:
        if not change["new"]:  # paused or stopped: single steps again
            self.play.step, self.play.interval = 1, PLAY_INTERVAL_MS

    def _pace(self, render_s: float) -> None:
        """While playing, make the player wait for this redraw and skip the frames it cannot show."""
        if not self.play.playing:
            return
        interval, step = play_pace(render_s)
        if (interval, step) != (self.play.interval, self.play.step):
            self.play.interval, self.play.step = interval, step

    def _on_change(self, change) -> None:
        if change["owner"] is self.camera:
            self._guarded(self._fill_frames)
        elif not self._busy and not self._held:
            self.update()

    # -------------------------------------------------------------------------------- compute

    def compute(self) -> dict[str, Any]:
        """Masks, MPM reconstruction and 3D prediction for the current controls (no drawing)."""
        import torch

        from pstmo import masking

        b = self._select_model()
        seq = self.sequence
        t, s = int(self.frame.value), int(self.tds.value)
        win = window(seq.pose_2d, t, b.frames, s).astype(np.float32)  # (N, J, 2)
        g = torch.Generator().manual_seed(self.seed)
        n, j = win.shape[:2]
        temporal, spatial = masking.spatio_temporal_mask(
            n, j, float(self.mask_ratio.value), int(self.mask_joints.value), g
        )
        dev = b.device
        x = torch.from_numpy(win)[None].to(dev)
        pred = predict(b.lifter.eval(), x, flip=False)[0].numpy()  # the one prediction path
        with torch.inference_mode():
            recon = None
            if b.mpm is not None:
                recon = b.mpm(x, temporal.to(dev), spatial.to(dev))[0].float().cpu().numpy()
        pred[self.root_joint] = 0.0  # root-relative, as evaluation (the data set's root: 14 on MPI-INF-3DHP)
        gt = np.asarray(seq.pose_3d[t], dtype=np.float32)
        mid = (b.frames - 1) // 2
        self.state = {
            "frame": t, "tds": s, "window": win, "pose_2d": np.asarray(seq.pose_2d[t]),
            "temporal": temporal.numpy(), "spatial": spatial.numpy(), "recon": recon,
            "recon_center": None if recon is None else recon[mid], "pred": pred, "gt": gt,
            "errors_mm": viz.per_joint_error(pred, gt) * 1000.0, "model": b.label, "trained": b.trained,
        }  # fmt: skip
        return self.state

    def update(self) -> None:
        """Recompute and redraw (called by every control); while playing, pace the player."""
        import time

        import matplotlib as mpl

        start = time.perf_counter()
        st = self.compute()
        self.draw()
        with mpl.rc_context({"savefig.bbox": "standard"}):  # its own size, even under a "tight" style
            png = viz.figure_png(self.figure, self.dpi, tight=False)
        self.image.value = png
        width, height = png_size(png)  # shown at its own size: not stretched, not blurred
        self.image.layout.width, self.image.layout.height = f"{width}px", f"{height}px"
        seq = self.sequence
        q_st = float(st["temporal"].mean() + st["spatial"].sum() / st["spatial"].size)
        esc = html.escape
        notes = "".join(f"<br><b style='color:#b00'>{esc(n)}</b>" for n in self.bundle.notes)
        self.status.value = (
            f"<b>{esc(str(getattr(self.data, 'name', 'data')))}</b> {esc(str(seq.subject))} / "
            f"{esc(str(seq.clip or seq.action))} / camera {esc(str(seq.camera))}, frame {st['frame']} of {len(seq)}; "
            f"model <b>{esc(self.bundle.label)}</b>, N={self.bundle.frames}, s={st['tds']}; "
            f"masked {q_st:.1%} of the window; MPJPE {st['errors_mm'].mean():.1f} mm{notes}"
        )
        self.render_s = time.perf_counter() - start
        self._pace(self.render_s)

    def draw(self):
        """Draw ``self.state`` into ``self.figure`` (6 panels, 2 x 3) and return the figure; the
        same fonts whatever the notebook's style (:data:`FONTS`)."""
        import matplotlib as mpl

        with mpl.rc_context(FONTS):
            return self._draw()

    def _draw(self):
        import matplotlib as mpl

        st, fig = self.state, self.figure
        fig.clear()
        top = 0.84 if not self.bundle.trained else 0.89  # room for the two-line titles (and the warning)
        gs = fig.add_gridspec(2, 3, hspace=0.45, wspace=0.35, left=0.02, right=0.98, top=top, bottom=0.11)
        mid = (self.bundle.frames - 1) // 2
        centre_masked = bool(st["temporal"][mid])
        pose = st["pose_2d"]

        ax = fig.add_subplot(gs[0, 0])
        masked = np.ones(17, bool) if centre_masked else st["spatial"][mid]
        viz.draw_skeleton_2d(ax, pose, masked=masked)
        viz._image_axes(ax, None, None, np.concatenate([pose, st["window"].reshape(-1, 2)]))
        ax.set_title("2D input, centre\n" + ("frame (masked)" if centre_masked else "frame (grey: masked)"))
        ax.set_xticks([])
        ax.set_yticks([])

        ax = fig.add_subplot(gs[0, 1])
        grid = st["spatial"].astype(float)
        grid[st["temporal"]] = 2.0
        ax.imshow(grid.T, aspect="auto", cmap=mpl.colors.ListedColormap(["#ffffff", "#d62728", "#7f7f7f"]),
                  vmin=0, vmax=2, interpolation="nearest")  # fmt: skip
        ax.axvline(mid, color="#1f5fbf", linewidth=1)
        ax.set_xlabel("frame (grey: masked)")
        ax.set_ylabel("joint (red: masked)")
        ax.set_xticks([0, mid, len(grid) - 1])
        ax.set_yticks([0, grid.shape[1] - 1])
        ax.set_title(f"MPM masks\nq^T={self.mask_ratio.value:.2f}, m^S={self.mask_joints.value}")

        ax = fig.add_subplot(gs[0, 2])
        viz.draw_skeleton_2d(ax, pose, alpha=0.35)
        if st["recon_center"] is not None:
            viz.draw_skeleton_2d(ax, st["recon_center"], linewidth=1.5)
        viz._image_axes(ax, None, None, pose)
        ax.set_title("MPM reconstruction\n(faint: input)")
        ax.set_xticks([])
        ax.set_yticks([])

        cmap = mpl.colormaps[viz.ERROR_CMAP]
        ax = fig.add_subplot(gs[1, 0], projection="3d")
        viz.draw_skeleton_3d(
            ax, st["pred"], joint_colors=cmap(np.clip(st["errors_mm"] / 150.0, 0, 1)), markersize=20
        )
        viz.setup_axes_3d(ax, *viz._frame_3d([st["pred"]]))  # per-panel limits: each pose fills its panel
        ax.set_title(f"prediction\nMPJPE {st['errors_mm'].mean():.1f} mm")
        ax = fig.add_subplot(gs[1, 1], projection="3d")
        viz.draw_skeleton_3d(ax, st["gt"])
        viz.setup_axes_3d(ax, *viz._frame_3d([st["gt"]]))
        ax.set_title("ground truth")

        ax = fig.add_subplot(gs[1, 2])
        self._joint_errors(ax, st["errors_mm"])
        if not self.bundle.trained:
            fig.suptitle(
                "UNTRAINED model (random weights): predictions are meaningless", color="#b00", y=0.995
            )
        readable(fig)
        return fig

    @staticmethod
    def _joint_errors(ax, errors_mm: np.ndarray) -> None:
        """Per-joint error as horizontal bars (joint names readable without rotation), by body side."""
        from matplotlib.ticker import MaxNLocator

        from pstmo.skeleton import H36M_SKELETON as sk

        colors = [
            viz.SIDE_COLORS["left" if j in sk.left else "right" if j in sk.right else "center"]
            for j in range(len(errors_mm))
        ]
        ax.barh(np.arange(len(errors_mm)), errors_mm, color=colors)
        ax.set_yticks(np.arange(len(errors_mm))[::2], [sk.names[j] for j in range(0, len(errors_mm), 2)])
        ax.invert_yaxis()
        ax.set_xlabel("error (mm)")
        ax.set_title("per-joint error")
        ax.xaxis.set_major_locator(MaxNLocator(3))

    def save_static(self, name: str = "11_explorer_static", out_dir: str | os.PathLike | None = None) -> Path:
        """Save the current figure as the read-only fallback (``figures/11_explorer_static.png``)."""
        return viz.save_figure(self.figure, name, out_dir=out_dir, dpi=self.dpi)


def readable(fig, min_pt: float = MIN_FONT_PT, title_pt: float = TITLE_PT) -> None:
    """Raise every text of ``fig`` to at least ``min_pt`` points (titles: ``title_pt``)."""
    from matplotlib.text import Text

    titles = {id(ax.title) for ax in fig.axes}
    if fig._suptitle is not None:
        titles.add(id(fig._suptitle))
    for text in fig.findobj(Text):
        size = title_pt if id(text) in titles else min_pt
        if text.get_fontsize() < size:
            text.set_fontsize(size)


def text_cap_heights(fig) -> dict[str, float]:
    """Height in pixels of a capital letter of every visible, non-empty text of ``fig`` at its
    dpi (the size a reader sees where the PNG is shown at its own size), by text."""
    from matplotlib.text import Text
    from matplotlib.textpath import TextPath

    out = {}
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip():
            cap = TextPath((0, 0), "H", prop=text.get_fontproperties()).get_extents().height
            out[text.get_text()] = min(out.get(text.get_text(), np.inf), cap * fig.dpi / 72.0)
    return out


def png_size(png: bytes) -> tuple[int, int]:
    """``(width, height)`` in pixels from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def resolve_path(path: str | os.PathLike) -> Path | None:
    """An existing file at ``path``: as given (relative to the kernel's folder, ``notebooks/``),
    else relative to the repository root (``pstmo.paths.repo_root``); None when neither exists."""
    from pstmo.paths import repo_root

    path = Path(path).expanduser()
    for candidate in (path, repo_root() / path):
        if candidate.is_file():
            return candidate
    return None


def explorer(**kwargs: Any) -> PoseExplorer:
    """Build a :class:`PoseExplorer` (see its arguments); display ``.widget`` in a notebook."""
    return PoseExplorer(**kwargs)
