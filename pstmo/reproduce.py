"""``pstmo reproduce``: run every notebook in order (papermill) and say where the results are.

Each notebook is executed into ``results/notebooks/<name>.ipynb`` with the parameters
``profile``, ``dataset``, ``data_dir``, ``device`` and ``seed``; its tables land in
``results/`` and its figures in ``figures/``. ``only`` selects notebooks by name
(``"05_components"``, ``"05"``) or by the paper table / figure they reproduce
(``"table3"``, ``"fig4"``, ``"liftformer_table7"``; see :data:`TABLE_TO_NOTEBOOK`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The notebooks in the order ``pstmo reproduce`` runs them (11_explorer is interactive, not run).
NOTEBOOKS: tuple[str, ...] = (
    "00_quickstart",
    "01_masked_pose_modeling",
    "02_h36m_results",
    "03_mpi_inf_3dhp",
    "04_humaneva",
    "05_components",
    "06_sem_backbone",
    "07_tds_rate",
    "08_complexity",
    "09_liftformer_ablations",
    "10_skeleton_figures",
    "12_liftformer_results",
)

#: Paper tables and figures -> the notebook that reproduces them. Bare ``tableN`` / ``figN``
#: mean P-STMO's; LiftFormer's are ``liftformer_tableN``.
TABLE_TO_NOTEBOOK: dict[str, str] = {
    "table1": "02_h36m_results",
    "table2": "03_mpi_inf_3dhp",
    "table3": "05_components",
    "table4": "06_sem_backbone",
    "table5": "07_tds_rate",
    "table6": "08_complexity",
    "fig2": "01_masked_pose_modeling",
    "fig3": "10_skeleton_figures",
    "fig4": "01_masked_pose_modeling",
    "liftformer_table1": "12_liftformer_results",
    "liftformer_table2": "12_liftformer_results",
    "liftformer_table3": "12_liftformer_results",
    "liftformer_table4": "12_liftformer_results",
    "liftformer_table5": "04_humaneva",
    "liftformer_table6": "09_liftformer_ablations",
    "liftformer_table7": "12_liftformer_results",
    "liftformer_table8": "12_liftformer_results",
    "liftformer_fig2": "12_liftformer_results",
}
for _n in range(1, 7):
    TABLE_TO_NOTEBOOK[f"pstmo_table{_n}"] = TABLE_TO_NOTEBOOK[f"table{_n}"]
for _n in (2, 3, 4):
    TABLE_TO_NOTEBOOK[f"pstmo_fig{_n}"] = TABLE_TO_NOTEBOOK[f"fig{_n}"]


def resolve_only(only: Iterable[str] | None) -> list[str]:
    """Notebook names selected by ``only`` (names, number prefixes or table ids), in run order."""
    if not only:
        return list(NOTEBOOKS)
    chosen: set[str] = set()
    for item in only:
        key = item.strip().lower().replace("-", "").replace(" ", "").removesuffix(".ipynb")
        key = key.replace("pstmo", "pstmo_").replace("pstmo__", "pstmo_").replace("liftformer", "liftformer_")
        key = key.replace("liftformer__", "liftformer_")
        matches = [nb for nb in NOTEBOOKS if nb == key or nb.split("_", 1)[0] == key or nb == Path(item).stem]
        if key in TABLE_TO_NOTEBOOK:
            matches.append(TABLE_TO_NOTEBOOK[key])
        if not matches:
            raise ValueError(
                f"--only {item!r}: not a notebook ({', '.join(NOTEBOOKS)}) "
                f"nor a table id ({', '.join(sorted(TABLE_TO_NOTEBOOK))})"
            )
        chosen.update(matches)
    return [nb for nb in NOTEBOOKS if nb in chosen]


@dataclass
class NotebookRun:
    """The outcome of one notebook: ``ok`` or the error message, and the executed copy."""

    name: str
    ok: bool
    seconds: float
    output: Path
    error: str = ""


def _run_one(
    name: str, nb_dir: Path, out_dir: Path, params: dict[str, Any], kernel_name: str | None
) -> NotebookRun:
    """Execute one notebook; a failure is returned as a record, never raised."""
    from pstmo.sweep import describe_error, execute_notebook

    source, target = nb_dir / f"{name}.ipynb", out_dir / f"{name}.ipynb"
    start = time.perf_counter()
    try:
        if not source.is_file():
            raise FileNotFoundError(f"notebook not found: {source}")
        execute_notebook(source, target, params, kernel_name=kernel_name)
        return NotebookRun(name, True, time.perf_counter() - start, target)
    except Exception as exc:  # report and go on with the next notebook
        return NotebookRun(name, False, time.perf_counter() - start, target, describe_error(exc))


def default_jobs(profile: str) -> int:
    """Notebooks run at once: the smoke profile trains with one thread per notebook, so one
    notebook per core (at most 4); the paper profile shares one GPU, so one at a time."""
    return max(1, min(os.cpu_count() or 1, 4)) if profile == "smoke" else 1


def run_reproduce(
    profile: str = "smoke",
    only: Sequence[str] | None = None,
    dataset: str = "demo",
    data_dir: str | None = None,
    device: str = "auto",
    seed: int = 0,
    notebooks_dir: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    kernel_name: str | None = None,
    progress: bool = True,
    jobs: int | None = None,
) -> list[NotebookRun]:
    """Execute the selected notebooks (``jobs`` at once, default :func:`default_jobs`); a failing
    notebook is reported, the rest still run. Returns the records in the notebooks' order."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    from pstmo import paths

    nb_dir = Path(notebooks_dir) if notebooks_dir is not None else paths.notebooks_dir()
    out_dir = Path(out) if out is not None else paths.results_dir("notebooks")
    out_dir.mkdir(parents=True, exist_ok=True)
    params: dict[str, Any] = {
        "profile": profile,
        "dataset": dataset,
        "data_dir": data_dir,
        "device": device,
        "seed": seed,
    }
    names = resolve_only(only)
    jobs = default_jobs(profile) if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    bar = tqdm(total=len(names), desc=f"reproduce ({profile})", unit="notebook", disable=not progress)
    runs: dict[str, NotebookRun] = {}
    if min(jobs, len(names)) == 1:
        for name in names:
            bar.set_postfix_str(name)
            runs[name] = _run_one(name, nb_dir, out_dir, params, kernel_name)
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_run_one, n, nb_dir, out_dir, params, kernel_name): n for n in names}
            for future in as_completed(futures):
                runs[futures[future]] = future.result()
                bar.set_postfix_str(futures[future])
                bar.update()
    bar.close()
    return [runs[n] for n in names]


def report(runs: Sequence[NotebookRun]) -> str:
    """A short plain-text report: one line per notebook and where tables and figures are."""
    from pstmo import paths

    lines = []
    for run in runs:
        mark = "ok    " if run.ok else "FAILED"
        first = run.error.strip().splitlines()[0][:160] if run.error.strip() else ""
        lines.append(f"{mark} {run.name:<26} {run.seconds:7.1f} s  {first}")
    lines.append("")
    lines.append(f"tables (JSON, CSV, Markdown): {paths.results_dir(create=False)}")
    lines.append(f"figures (PNG, GIF):           {paths.figures_dir(create=False)}")
    lines.append(f"executed notebooks:           {paths.results_dir('notebooks', create=False)}")
    return "\n".join(lines)
