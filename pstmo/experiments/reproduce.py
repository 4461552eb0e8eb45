"""``pstmo reproduce``: run every notebook in order (papermill) and say where the results are.

Each notebook is executed into ``results/notebooks/<name>.ipynb`` with the parameters
``profile``, ``dataset``, ``data_dir``, ``device`` and ``seed``; its tables land in
``results/`` and its figures in ``figures/``. ``only`` selects notebooks by name
(``"05_components"``, ``"05"``) or by the paper table / figure they reproduce
(``"table3"``, ``"fig4"``, ``"liftformer_table7"``; see :data:`TABLE_TO_NOTEBOOK`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
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
    from pstmo.experiments.sweep import describe_error, execute_notebook

    source, target = nb_dir / f"{name}.ipynb", out_dir / f"{name}.ipynb"
    start = time.perf_counter()
    try:
        if not source.is_file():
            raise FileNotFoundError(f"notebook not found: {source}")
        execute_notebook(source, target, params, kernel_name=kernel_name)
        return NotebookRun(name, True, time.perf_counter() - start, target)
    except Exception as exc:  # report and go on with the next notebook
        return NotebookRun(name, False, time.perf_counter() - start, target, describe_error(exc))


def default_jobs(profile: str, count: int = len(NOTEBOOKS)) -> int:
    """Notebooks run at once. ``demo``: all of them, since their runs go to one shared Dask cluster
    (one one-thread worker per core) and a notebook mostly waits for its runs; ``smoke``: one per
    core (at most 4), each trains in its own kernel; ``paper`` shares one GPU: one at a time."""
    if profile == "demo":
        return max(1, count)
    return max(1, min(os.cpu_count() or 1, 4)) if profile == "smoke" else 1


class RunCounter:
    """A Dask scheduler plugin counting the training runs it was given and has finished, for the
    progress bar and ETA of a reproduction (every task on the shared cluster is one run)."""

    name = "pstmo-run-counter"

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.finished: set[str] = set()

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        self.seen.add(str(key))
        if finish in ("memory", "erred"):
            self.finished.add(str(key))

    def counts(self) -> tuple[int, int]:
        return len(self.finished), len(self.seen)


def _counts(dask_scheduler: Any) -> tuple[int, int]:
    return dask_scheduler.plugins[RunCounter.name].counts()


@contextlib.contextmanager
def shared_cluster(
    profile: str, address: str | None = None
) -> Iterator[Callable[[], tuple[int, int]] | None]:
    """For the ``demo`` profile (or with an ``address``): one Dask cluster for every notebook of the
    reproduction, its address exported as ``PSTMO_DASK_ADDRESS`` to the notebook kernels. Yields a
    function returning ``(runs finished, runs submitted)``, or None (no shared cluster)."""
    from pstmo.experiments import runner

    if profile != "demo" and not address:
        yield None
        return
    from distributed import Client
    from distributed.diagnostics.plugin import SchedulerPlugin

    plugin = type("RunCounterPlugin", (RunCounter, SchedulerPlugin), {})()
    old = os.environ.get(runner.ADDRESS_ENV)
    with contextlib.ExitStack() as stack:
        if not address:
            address = stack.enter_context(runner.local_cluster()).scheduler_address
        client = stack.enter_context(Client(address))

        def has_counter(
            dask_scheduler: Any,
        ) -> bool:  # local: pickled by value for a scheduler of any version
            return RunCounter.name in dask_scheduler.plugins

        if not client.run_on_scheduler(has_counter):  # a second reproduction on the same cluster counts on
            client.register_plugin(plugin, name=RunCounter.name)
        os.environ[runner.ADDRESS_ENV] = address
        try:
            yield lambda: client.run_on_scheduler(_counts)
        finally:
            if old is None:
                os.environ.pop(runner.ADDRESS_ENV, None)
            else:
                os.environ[runner.ADDRESS_ENV] = old


def store_outputs(executed: Path, target: Path, provenance: dict[str, Any]) -> None:
    """Copy the outputs of an executed notebook into the stored notebook ``target`` (same cells;
    papermill's injected-parameters cell is left out), with ``provenance`` (commit, command,
    machine, time, profile) in its metadata under ``pstmo``. Atomic; the cells' sources stay."""
    import nbformat

    from pstmo.io import atomic_write

    ran = nbformat.read(executed, as_version=4)
    stored = nbformat.read(target, as_version=4)
    cells = [c for c in ran.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    if [c.source for c in cells] != [c.source for c in stored.cells]:
        raise ValueError(
            f"{executed}: its cells differ from {target}'s; store the outputs of a run of this notebook"
        )
    for src, dst in zip(cells, stored.cells):
        if dst.cell_type == "code":
            dst.outputs = src.get("outputs", [])
            dst.execution_count = src.get("execution_count")
    stored.metadata["pstmo"] = provenance
    with atomic_write(target, "w") as fh:
        nbformat.write(stored, fh)


def _provenance(profile: str, run: NotebookRun, params: dict[str, Any]) -> dict[str, Any]:
    import platform
    import sys
    from datetime import datetime, timezone

    from pstmo.runtime import git_commit

    return {
        "profile": profile, "parameters": params, "commit": git_commit(), "command": " ".join(sys.argv),
        "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})",
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"), "seconds": round(run.seconds, 1),
    }  # fmt: skip


def _postfix(counts: Callable[[], tuple[int, int]] | None, start: float, name: str, first: int = 0) -> str:
    """``05_components; runs 12/40, ETA 31 min`` from the shared cluster's counts (when there is one);
    the rate is that of the runs finished since this reproduction started (``first`` were before)."""
    if counts is None:
        return name
    done, total = counts()
    text = f"{name}; runs {done}/{total}"
    if done > first:
        eta = (time.perf_counter() - start) / (done - first) * (total - done)
        text += f", ETA {eta / 60:.0f} min for the runs submitted so far"
    return text


class _InProcess:
    """``submit`` runs the call at once, here (one notebook at a time: no process pool needed)."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        from concurrent.futures import Future

        future: Future = Future()
        future.set_result(fn(*args))
        return future


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
    store: bool | None = None,
    address: str | None = None,
) -> list[NotebookRun]:
    """Execute the selected notebooks (``jobs`` at once, default :func:`default_jobs`); a failing
    notebook is reported, the rest still run. Returns the records in the notebooks' order.

    ``demo`` profile: every notebook's runs go to one shared Dask cluster (``address``, or a local
    one), cached and resumable (:mod:`pstmo.experiments.runner`: an interrupted reproduction trains only what
    is missing), and ``store`` (default on for ``demo``) copies each notebook's outputs into the
    notebook in ``notebooks/`` with their provenance, so a reader sees results without training.
    """
    from concurrent.futures import ProcessPoolExecutor

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
    jobs = default_jobs(profile, len(names)) if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    store = profile == "demo" if store is None else store
    bar = tqdm(total=len(names), desc=f"reproduce ({profile})", unit="notebook", disable=not progress)
    # one notebook and no shared cluster to report on: run it here (no process pool, no progress loop)
    one_at_a_time = min(jobs, len(names)) == 1 and profile != "demo" and not address
    with (
        shared_cluster(profile, address) as counts,
        contextlib.nullcontext(_InProcess())
        if one_at_a_time
        else ProcessPoolExecutor(max_workers=jobs) as pool,
    ):
        # each notebook in its own process (papermill + kernel); the kernels inherit PSTMO_DASK_ADDRESS
        futures = {pool.submit(_run_one, n, nb_dir, out_dir, params, kernel_name): n for n in names}
        stored_in = nb_dir if store else None
        runs = _collect(futures, counts, bar, stored_in, profile, params)
    bar.close()
    return [runs[n] for n in names]


def _collect(
    futures: dict, counts: Any, bar: Any, stored_in: Path | None, profile: str, params: dict[str, Any]
) -> dict[str, NotebookRun]:
    """Wait for every notebook, updating the bar with the cluster's runs and ETA; store each finished
    notebook's outputs into ``stored_in`` (None: do not store) with their provenance."""
    runs: dict[str, NotebookRun] = {}
    start = time.perf_counter()
    pending = set(futures)
    first = counts()[0] if counts is not None else 0
    while pending:
        done = {f for f in pending if f.done()}
        for future in done:
            run = runs[futures[future]] = future.result()
            if stored_in is not None and run.ok:
                store_outputs(run.output, stored_in / f"{run.name}.ipynb", _provenance(profile, run, params))
            bar.update()
        pending -= done
        bar.set_postfix_str(
            _postfix(counts, start, ", ".join(sorted(futures[f] for f in pending))[:60], first)
        )
        if pending:
            time.sleep(2.0)
    return runs


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
