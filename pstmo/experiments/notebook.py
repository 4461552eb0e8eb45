"""The shared set-up of every notebook: where outputs go, how our numbers are labelled, and
writing + showing tables, figures and animations.

A notebook's set-up is one import and one call, after its papermill ``parameters`` cell::

    from pstmo.experiments import notebook

    nb = notebook.setup("05_components", profile=profile, dataset=dataset, data_dir=data_dir,
                        device=device, seed=seed, out_dir=out_dir)

``nb.table(df, "pstmo_table3")`` writes ``results/pstmo_table3.{json,csv,md}`` and displays it;
``nb.figure(fig, "05_masking_ratio")`` writes ``figures/05_masking_ratio.png`` and displays that
very PNG inline (so what a reader sees is what was saved); ``nb.animation("10_sequence", ...)``
writes ``figures/10_sequence.gif`` and plays it inline. With ``out_dir`` (papermill runs,
sweeps, tests) tables go to ``<out_dir>/`` and figures to ``<out_dir>/figures/``.

``pstmo.report.viz`` builds pyplot-free figures, which IPython shows only as ``<Figure size ...>``;
:func:`setup` also registers a PNG formatter for them, so a bare ``fig`` or ``display(fig)``
renders inline too (without being saved).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pstmo import paths
from pstmo.report import tables, viz

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


def _ipython_display(*objs: Any) -> None:
    from IPython.display import display

    display(*objs)


@dataclass
class Notebook:
    """One notebook's context: its name, parameters, output folders and the label of our numbers.

    ``results``: tables (JSON + CSV + Markdown) and ``<name>.summary.json``; ``figures``: PNG / GIF.
    ``label``: e.g. ``"ours (demo data, smoke profile)"`` (never "Human3.6M" for demo numbers).
    ``meta``: the parameters stored with every table (notebook, profile, dataset, ...).
    """

    name: str
    profile: str
    dataset: str
    data_dir: str | None
    device: str
    seed: int
    results: Path
    figures: Path
    label: str
    meta: dict[str, Any] = field(default_factory=dict)
    display: Callable[..., None] = field(default=_ipython_display, repr=False)
    n_seeds: int | None = None

    # ---------------------------------------------------------------------------------- training

    def config(
        self,
        stage: str,
        run: str,
        model: str = "p-stmo-s",
        frames: int | None = None,
        model_extra: Mapping[str, Any] | None = None,
        **overrides: Any,
    ):
        """The profile's :class:`~pstmo.config.TrainConfig` for this notebook's data, device, seed
        and results folder (``pstmo.config.get_profile``).

        ``stage``: ``"pretrain"`` (P-STMO Stage I) or ``"lift"`` (Stage II, LiftFormer); ``run``
        names the run folder ``<results>/runs/<notebook>-<run>/``; ``frames`` sets N when given;
        ``model_extra`` changes only these model fields (the profile's model size stays);
        ``overrides`` replace training fields (``pretrained``, ``tds``, ``mask_ratio``, ...).
        """
        from pstmo.config import get_profile

        overrides.setdefault("seed", self.seed)
        overrides.setdefault("overwrite", True)  # a notebook re-run replaces its own runs
        return get_profile(
            self.profile, stage, model, frames=frames or None, model_overrides=dict(model_extra or {}),
            dataset=self.dataset, data_dir=self.data_dir, device=self.device,
            results_dir=str(self.results / "runs"), run_name=f"{self.name}-{run}", progress=False, **overrides,
        )  # fmt: skip

    def run(self, cells, seeds: list[int] | None = None, curves: str | None = None):
        """Train the ablation ``cells`` (:class:`pstmo.experiments.runner.Cell`) once per seed with the one
        runner (:func:`pstmo.experiments.runner.run_cells`: parallel worker processes on Dask, cached by
        fingerprint, resumable) and return its tidy table (one row per cell and seed, metrics in mm).

        ``seeds``: default :attr:`seeds`. ``curves``: also draw the runs' learning curves
        (:func:`pstmo.report.viz.plot_learning_curves`) as figure ``<curves>.png``, so a reader sees the
        plateau each run reached.
        """
        from pstmo.experiments import runner

        table = runner.run_cells(
            list(cells), self.seeds if seeds is None else seeds, profile=self.profile, dataset=self.dataset,
            data_dir=self.data_dir, device=self.device, results_dir=self.results,
            progress=False,
        )  # fmt: skip
        if curves:
            self.figure(viz.plot_learning_curves(runner.learning_curves(table)), curves)
        return table

    def judge(self, paper_table: str, runs, *, baseline=None, static: float | None = None):
        """Judge every claim of ``paper_table`` (:func:`pstmo.report.claims.claims_for`) on the runner's
        table ``runs`` with :func:`pstmo.report.findings.judge_all`, write the verdicts to
        ``<results>/<paper_table>_verdicts.{json,csv,md}`` and show them with the tally and what
        the seeds resolve. ``baseline``: the average pose's error (claims of rows not clearly below
        it are flagged, not judged); ``static``: a still pose's MPJVE. Returns the verdict table."""
        from IPython.display import Markdown

        from pstmo.report import claims, findings

        judged = findings.judge_all(claims.claims_for(paper_table), runs, baseline=baseline, static=static)
        shown = judged[
            ["text", "a", "b", "ours_a", "ours_b", "ours_diff", "paper_diff", "resolution", "verdict"]
        ]
        shown = shown.rename(columns={
            "text": "claim", "a": "row A", "b": "row B", "ours_a": "ours A", "ours_b": "ours B",
            "ours_diff": "ours B-A", "paper_diff": "paper B-A", "resolution": "resolution",
        })  # fmt: skip
        tables.write_table(
            judged, f"{paper_table}_verdicts", out_dir=self.results, meta={**self.meta, "ours": self.label}
        )
        text = f"**Verdicts: {paper_table}** ({self.label})\n\n" + tables.to_markdown(shown, 2)
        text += "\n" + findings.sentence(findings.tally(judged)) + " " + _resolution_note(judged)
        self.display(Markdown(text))
        return judged

    @property
    def frames(self) -> int | None:
        """The window size N of the profile's ablation runs (``ablation_frames``: smoke 9, demo 9;
        None: each notebook's paper size)."""
        from pstmo.config import PROFILES

        return PROFILES[self.profile].get("ablation_frames")

    @property
    def seeds(self) -> list[int]:
        """The seeds of one ablation cell: the profile's count for this notebook (smoke: 3; demo:
        3, 6 for the notebooks in its ``notebook_seeds``) starting at ``seed``, or ``seeds`` of
        :func:`setup` when given."""
        from pstmo.config import profile_seeds

        return profile_seeds(self.profile, self.seed, self.n_seeds, notebook=self.name)

    # ---------------------------------------------------------------------------------- outputs

    def table(
        self,
        df: pd.DataFrame,
        name: str,
        decimals: int = 2,
        title: str | None = None,
        note: str | None = None,
        **meta: Any,
    ) -> None:
        """Write ``df`` to ``<results>/<name>.{json,csv,md}`` (with ``meta``) and display it.

        ``title`` (e.g. ``papers.title("liftformer_table5", ...)``) is shown in bold above the
        table, ``note`` (which model, data, profile, seeds and protocol made our rows; footnotes)
        below it; both are stored with the table. Returns None, so a cell ending with it shows
        the table only (paths: ``tables.write_table``).

        What is shown fits a notebook (``tables.display_markdown``): a table wider than
        ``tables.DISPLAY_WIDTH`` characters is shown as its summary (row labels, our columns,
        the paper's ``Avg``), with the paper's per-action columns folded below in a collapsed
        block, or else cut into tables of fewer columns; the stored files keep every column.
        """
        from IPython.display import Markdown

        extra = {k: v for k, v in (("title", title), ("note", note)) if v}
        tables.write_table(
            df, name, out_dir=self.results, meta={**self.meta, "ours": self.label, **extra, **meta},
            decimals=decimals,
        )  # fmt: skip
        text = (f"**{title}**\n\n" if title else "") + tables.display_markdown(df, decimals, note=note)
        self.display(Markdown(text))

    def figure(self, fig: Figure, name: str, dpi: float | None = None) -> None:
        """Save ``fig`` as ``<figures>/<name>.png`` (atomically) and display that very PNG inline.

        Returns None, so a cell ending with it shows the image only.
        """
        from IPython.display import Image

        path = viz.save_figure(fig, name, out_dir=self.figures, dpi=dpi)
        self.display(Image(data=path.read_bytes(), format="png"))

    def animation(self, name: str, poses_3d, **kwargs: Any) -> Path:
        """Write ``viz.animate_sequence(poses_3d, <figures>/<name>.gif, **kwargs)`` and play it inline."""
        from IPython.display import Image

        name = name if name.endswith((".gif", ".mp4")) else f"{name}.gif"
        kwargs.setdefault("progress", False)
        path = viz.animate_sequence(poses_3d, self.figures / name, **kwargs)
        if path.suffix == ".gif":
            self.display(Image(data=path.read_bytes(), format="gif"))
        else:
            from IPython.display import Video

            self.display(Video(str(path), embed=True))
        return path

    def summary(self, metrics: Mapping[str, Any], **parameters: Any) -> None:
        """Write ``<results>/<name>.summary.json`` (``parameters`` on top of ``meta``, and the
        scalar ``metrics``) for ``pstmo sweep`` to aggregate."""
        tables.write_summary(self.results, {**self.meta, **parameters}, metrics, name=self.name)

    def __str__(self) -> str:
        return f"{self.name}: {self.label}; tables -> {self.results}, figures -> {self.figures}"


def _resolution_note(judged) -> str:
    """One sentence on what the seeds resolve, from a verdict table."""
    res = judged["resolution"].dropna()
    if res.empty:
        return "No claim has two rows with at least two seeds each, so none is resolved."
    return (
        f"Resolution (2 standard errors of each difference, the smallest difference these seeds can separate): "
        f"{res.min():.1f} to {res.max():.1f} (median {res.median():.1f}) in the claims' units."
    )


def check_parameters(**params: Any) -> None:
    """Check the common papermill parameters of a notebook (and any training field passed by
    name, e.g. ``frames=0``), one sentence per bad value."""
    from pstmo.config import DATASETS, PROFILES, profile_seeds
    from pstmo.errors import ConfigError
    from pstmo.runtime import resolve_device

    if params.get("profile") not in PROFILES:
        raise ConfigError(f"profile={params.get('profile')!r}: choose one of {', '.join(PROFILES)}")
    if params.get("dataset") not in DATASETS:
        raise ConfigError(f"dataset={params.get('dataset')!r}: choose one of {', '.join(DATASETS)}")
    seed = params.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed={seed!r}: must be an integer >= 0")
    if params.get("seeds") is not None:
        profile_seeds(params["profile"], seed, params["seeds"])
    resolve_device(params.get("device", "auto"))
    frames = params.get("frames")
    if frames is not None and (
        isinstance(frames, bool) or not isinstance(frames, int) or frames < 1 or frames % 2 == 0
    ):
        raise ConfigError(f"frames={frames!r}: must be a positive odd integer (the window size N)")


def setup(
    name: str,
    profile: str = "smoke",
    dataset: str = "demo",
    data_dir: str | os.PathLike | None = None,
    device: str = "auto",
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    display: Callable[..., None] | None = None,
    verbose: bool = True,
    seeds: int | None = None,
    **extra_meta: Any,
) -> Notebook:
    """Make the output folders, set the plotting style, make figures render inline and return
    the :class:`Notebook` context.

    ``out_dir`` None: tables to the repository's ``results/`` and figures to its ``figures/``
    (``pstmo.paths``, also when the kernel runs in ``notebooks/``) for the ``demo`` profile, whose
    outputs are the stored ones, and to ``results/<profile>/``, ``figures/<profile>/`` for the others; else ``<out_dir>/`` and
    ``<out_dir>/figures/``. Torch runs the profile's ``threads`` (smoke and demo: one; tiny models
    run fastest so, and a shared CPU is not oversubscribed). ``seeds``: seeds per ablation cell (None: the
    profile's). ``extra_meta`` is stored with every table. The parameters are checked here, where
    they enter, with one sentence each (:class:`pstmo.errors.ConfigError`).
    """
    check_parameters(profile=profile, dataset=dataset, device=device, seed=seed, seeds=seeds)
    # the demo profile's outputs are the stored ones (results/, figures/); others go beside them
    sub = () if profile == "demo" else (profile,)
    results = Path(out_dir) if out_dir else paths.results_dir(*sub)
    figures = results / "figures" if out_dir else paths.figures_dir(*sub)
    results.mkdir(parents=True, exist_ok=True)
    figures.mkdir(parents=True, exist_ok=True)
    data_dir = str(data_dir) if data_dir is not None else None
    meta = dict(
        notebook=name, profile=profile, dataset=dataset, data_dir=data_dir, device=device, seed=seed,
        **extra_meta,
    )  # fmt: skip
    nb = Notebook(
        name, profile, dataset, data_dir, device, seed, results, figures, tables.ours_label(dataset, profile), meta,
        display or _ipython_display, seeds,
    )  # fmt: skip
    viz.set_style()
    register_figure_formatter()
    from pstmo.config import PROFILES

    threads = PROFILES[profile]["common"].get("threads")  # the CPU profiles train on one thread each
    if threads:
        import torch

        torch.set_num_threads(threads)
    if verbose:
        print(nb)
    return nb


def register_figure_formatter(shell=None) -> bool:
    """Render ``matplotlib.figure.Figure`` objects as PNG in IPython (``display(fig)``, a bare
    ``fig``). Returns False outside IPython. Idempotent."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython ships with the notebook extras
            return False
        shell = get_ipython()
    if shell is None:
        return False
    from matplotlib.figure import Figure

    shell.display_formatter.formatters["image/png"].for_type(Figure, viz.figure_png)
    return True
