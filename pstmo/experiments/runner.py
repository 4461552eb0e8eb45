"""One ablation runner: the (cell x seed) runs of a table, on Dask, cached and resumable.

    from pstmo.experiments.runner import Cell, run_cells
    mpm = Cell("mpm", stage="pretrain", frames=27)
    cells = [Cell("stmo", frames=27), Cell("stmo+mpm", frames=27, pretrain=mpm)]
    table = run_cells(cells, seeds=[0, 1, 2], profile="smoke", results_dir="results")
    table.groupby("cell")["mpjpe"].agg(["mean", "std"])

A :class:`Cell` is one row of an ablation table (what to train); :func:`run_cells` trains it once
per seed and returns one tidy DataFrame (one row per requested cell and seed; MPJPE & co. in mm).
A Stage II cell may name a Stage I cell (``pretrain``) or a Stage II cell (``init_from``, for
``refine``): the ``best.pt`` of that cell's run with the *same seed* initialises it, and Dask
starts it when that run has finished. A Stage I cell shared by several rows runs once per seed.

**Cache and resume.** Every run lives in ``<results_dir>/runs/<stage>-<preset>-s<seed>-<fingerprint[:16]>``
(named by what it trains, so two rows or two notebooks asking for the same run share it).
The fingerprint (SHA-256) covers the training configuration (minus fields that do not change the
result: :data:`NOT_RESULT_FIELDS`), the fingerprint of the run it starts from, the data set's
fingerprint and the bytes of the package's code. A finished run has ``metrics.json`` and
``DONE.json`` (written atomically after training) and is not trained again (``cached=True``); a
folder with ``last.pt`` but no ``DONE.json`` (an interrupted run, a killed worker) resumes from it.

**Why Dask, not Ray.** ``dask`` and ``distributed`` are pure-Python wheels from PyPI and a small
install; ``LocalCluster`` gives worker processes with ``threads_per_worker=1`` on a laptop, and
the same ``Client(address)`` drives a user's existing cluster (``address=`` or the environment
variable ``PSTMO_DASK_ADDRESS``); futures take other futures as arguments, so a Stage II run waits
for the Stage I run of its seed. Ray brings a large binary runtime and its own object store, for
nothing we need.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from pstmo.config import TrainConfig, get_profile
from pstmo.errors import ConfigError, TrainingError
from pstmo.io import check_writable_dir, write_json

#: Sub-folder of ``results_dir`` that holds the run folders.
RUNS_DIR = "runs"
#: Written atomically after a run has trained and reported its metrics.
DONE_FILE = "DONE.json"
#: Environment variable with a Dask scheduler address (``tcp://host:8786``), used when ``address=None``.
ADDRESS_ENV = "PSTMO_DASK_ADDRESS"
#: ``TrainConfig`` fields that do not change a run's result, left out of its fingerprint
#: (``data_dir``: the data set's own fingerprint stands for the files).
NOT_RESULT_FIELDS = (
    "progress", "device", "threads", "results_dir", "run_name", "resume", "overwrite", "checkpoint_every",
    "data_dir",
)  # fmt: skip
#: Fields the runner sets itself; a cell's ``overrides`` may not name them.
RUNNER_FIELDS = ("seed", "results_dir", "run_name", "resume", "overwrite")
#: Environment of the worker processes of the runner's own ``LocalCluster``: one thread each.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
#: Dask settings under which the runner's own ``LocalCluster`` starts its workers. Dask's nannies
#: set ``MALLOC_TRIM_THRESHOLD_=65536`` in every worker by default (to hand memory back to the OS
#: sooner); setting it at all turns off glibc's adaptive mmap threshold, so every tensor above
#: 128 KiB is mmap-ed and unmapped again, step after step: a P-STMO-S training step of the demo
#: profile took 59 instead of 35 ms in a worker (``benchmarks/bench_worker_env.py``). ``None``
#: unsets it. A cluster given by address keeps its own settings: start its workers with the same.
WORKER_DASK_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
#: Columns of the table before and after the metric columns.
HEAD_COLUMNS = ["cell", "seed", "stage", "model", "frames", "tds"]
TAIL_COLUMNS = ["steps", "seconds", "protocol", "cached", "run_dir", "fingerprint"]
_RESUMABLE = ("last.pt", "last.prev.pt")
_RUN_FILES = ("config.json", "history.csv", "metrics.json", "best.pt", *_RESUMABLE)


@dataclass(frozen=True)
class Cell:
    """One row of an ablation table: what to train (one run per seed).

    ``name`` is the row key of the table (e.g. ``"stmo+mpm"``); ``stage`` one of
    :data:`pstmo.config.STAGES`; ``model`` a preset of :data:`pstmo.models.PRESETS`; ``frames``
    the window size N (``None``: the profile's); ``model_extra`` model config fields;
    ``overrides`` :class:`~pstmo.config.TrainConfig` fields (``tds``, ``mask_ratio``, ``keypoints``,
    ...). ``pretrain``: a Stage I cell whose ``best.pt`` of the same seed initialises this run's
    encoder (``cfg.pretrained``); ``init_from``: a cell whose ``best.pt`` of the same seed
    initialises the whole model (``cfg.init_from``, the ``refine`` stage). ``seeds``: this row's
    seeds, where its spread needs more (or fewer) than the call's ``seeds`` (None: the call's).
    """

    name: str
    stage: str = "lift"
    model: str = "p-stmo-s"
    frames: int | None = None
    model_extra: Mapping[str, Any] = field(default_factory=dict)
    overrides: Mapping[str, Any] = field(default_factory=dict)
    pretrain: Cell | None = None
    init_from: Cell | None = None
    seeds: Sequence[int] | None = None


@dataclass
class Run:
    """One planned run: a cell, a seed, its full configuration and where it lives."""

    cell: str
    seed: int
    config: TrainConfig
    fingerprint: str
    upstream: tuple[str, ...] = ()  # run names this run starts from
    requested_as: list[str] = field(default_factory=list)  # requested cells it is the run of (rows)

    @property
    def requested(self) -> bool:
        """A row of the returned table, not only a dependency of one."""
        return bool(self.requested_as)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def run_dir(self) -> Path:
        return self.config.run_dir

    def spec(self) -> dict[str, Any]:
        """What :func:`train_one` needs, as plain data (picklable, JSON-able)."""
        cfg = self.config
        return {
            "cell": self.cell, "seed": self.seed, "stage": cfg.stage, "model": cfg.preset, "frames": cfg.frames,
            "tds": cfg.tds, "config": cfg.to_dict(), "fingerprint": self.fingerprint, "run_dir": str(self.run_dir),
        }  # fmt: skip


# ---------------------------------------------------------------------------------- fingerprints
#: The modules whose code decides a run's result: the training loop and everything it imports.
TRAINING_ENTRY = ("pstmo.train",)


def training_modules(
    entry: Sequence[str] = TRAINING_ENTRY, root: str | os.PathLike | None = None
) -> list[Path]:
    """The ``pstmo`` source files that ``entry`` imports, directly or not (read from their ``import``
    statements, so the answer does not depend on what this process has imported). Reporting modules
    (notebook helpers, figures, claims, the CLI) are not among them: editing those keeps the cache."""
    import ast

    root = Path(root) if root is not None else Path(__file__).resolve().parents[1]  # the package
    seen: dict[str, Path] = {}
    todo = list(entry)
    while todo:
        name = todo.pop()
        rel = Path(*name.split(".")[1:])
        path = next((p for p in (root / rel / "__init__.py", root / f"{rel}.py") if p.is_file()), None)
        if path is None or name in seen:
            continue
        seen[name] = path
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(2, len(parts))]  # importing a.b.c runs a.b first
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pstmo"):
                todo += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith("pstmo")]
    return sorted(set(seen.values()))


def code_fingerprint(root: str | os.PathLike | None = None) -> str:
    """SHA-256 of the training code (:func:`training_modules`), by path relative to the package."""
    root = Path(root) if root is not None else Path(__file__).resolve().parents[1]  # the package
    h = hashlib.sha256()
    for path in training_modules(root=root):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def run_fingerprint(
    config: TrainConfig | Mapping[str, Any], data: str, code: str, upstream: Mapping[str, str] | None = None
) -> str:
    """SHA-256 (hex) of what decides a run's result: the configuration without
    :data:`NOT_RESULT_FIELDS`, with ``pretrained`` / ``init_from`` replaced by ``upstream[field]``
    (the fingerprint of the run they come from; a user's file: the SHA-256 of its bytes), the data
    set's fingerprint ``data`` and the code fingerprint ``code``."""
    values = config.to_dict() if isinstance(config, TrainConfig) else dict(config)
    values = {k: v for k, v in values.items() if k not in NOT_RESULT_FIELDS}
    for key in ("pretrained", "init_from"):
        if upstream and key in upstream:
            values[key] = "run:" + upstream[key]
        elif values.get(key) and Path(values[key]).is_file():
            values[key] = "file:" + hashlib.sha256(Path(values[key]).read_bytes()).hexdigest()
    payload = json.dumps({"config": values, "data": data, "code": code}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _safe_name(name: str) -> str:
    """A cell name as part of a folder name: letters, digits and ``. _ + = -``."""
    out = re.sub(r"[^A-Za-z0-9._+=-]+", "_", name).lstrip("._+=-").replace("..", "_")
    return out[:60] or "cell"


# ---------------------------------------------------------------------------------- planning
@dataclass
class _Planner:
    """Builds the runs of a grid, dependencies first, each (cell, seed) once."""

    profile: str
    dataset: str
    data_dir: str | None
    device: str
    runs_root: Path
    code: str
    runs: dict[str, Run] = field(default_factory=dict)
    by_cell: dict[tuple[int, int], Run] = field(default_factory=dict)
    data: dict[tuple, str] = field(default_factory=dict)

    def data_fingerprint(self, cfg: TrainConfig) -> str:
        """The data set's fingerprint, each (data set, folder, keypoints) loaded once."""
        key = (cfg.dataset, cfg.data_dir, cfg.keypoints)
        if key not in self.data:
            from pstmo.data import load_dataset
            from pstmo.runtime import dataset_fingerprint

            self.data[key] = dataset_fingerprint(load_dataset(cfg.dataset, cfg.data_dir, cfg.keypoints))
        return self.data[key]

    def add(self, cell: Cell, seed: int, requested: bool) -> Run:
        """The run of ``cell`` with ``seed`` (planned once), after the runs it starts from."""
        if (id(cell), seed) in self.by_cell:
            run = self.by_cell[(id(cell), seed)]
        else:
            _check_cell(cell)
            links = {"pretrained": cell.pretrain, "init_from": cell.init_from}
            parents = {k: self.add(c, seed, False) for k, c in links.items() if c is not None}
            values = dict(
                dataset=self.dataset, data_dir=self.data_dir, device=self.device, threads=1, progress=False
            )
            values.update(cell.overrides)
            values.update({k: str(p.run_dir / "best.pt") for k, p in parents.items()})
            cfg = get_profile(
                self.profile, cell.stage, cell.model, frames=cell.frames, model_overrides=dict(cell.model_extra),
                seed=seed, results_dir=str(self.runs_root), **values,
            )  # fmt: skip
            upstream = {k: p.fingerprint for k, p in parents.items()}
            fp = run_fingerprint(cfg, self.data_fingerprint(cfg), self.code, upstream)
            # named by what it trains, not by the row: the same run made for two rows (or two
            # notebooks: they share results/runs/) is trained once
            cfg = cfg.replace(run_name=f"{cfg.stage}-{_safe_name(cfg.preset)}-s{seed}-{fp[:16]}")
            run = self.runs.setdefault(
                cfg.name, Run(cell.name, seed, cfg, fp, tuple(p.name for p in parents.values()))
            )
            self.by_cell[(id(cell), seed)] = run
        if requested and cell.name not in run.requested_as:
            run.requested_as.append(cell.name)
        return run


def _seeds_of(cell: Cell, seeds: Sequence[int]) -> Sequence[int]:
    """The seeds ``cell`` trains with: its own, else the call's."""
    return seeds if cell.seeds is None else cell.seeds


def _check_cell(cell: Cell) -> None:
    """Refuse overrides of what the runner sets and a ``pretrain`` link to a non-Stage I cell."""
    taken = {
        *RUNNER_FIELDS,
        *(k for k, c in (("pretrained", cell.pretrain), ("init_from", cell.init_from)) if c is not None),
    }
    clash = sorted(set(cell.overrides) & taken)
    if clash:
        raise ConfigError(
            f"cell {cell.name!r}: overrides may not set {', '.join(clash)}; the runner sets them"
        )
    if cell.pretrain is not None and cell.pretrain.stage != "pretrain":
        raise ConfigError(
            f"cell {cell.name!r}: pretrain={cell.pretrain.name!r} is a {cell.pretrain.stage!r} cell; "
            "it must be a 'pretrain' (Stage I) cell"
        )


def plan_runs(
    cells: Sequence[Cell], seeds: Sequence[int], *, profile: str, dataset: str = "demo",
    data_dir: str | None = None, device: str = "cpu", results_dir: str | os.PathLike,
) -> list[Run]:  # fmt: skip
    """Every run :func:`run_cells` needs (requested ones and their dependencies, each once), a
    dependency before the runs that start from it. Trains nothing; bad values are a
    :class:`ConfigError` here, before any run starts."""
    names = [c.name for c in cells]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"cell names must be unique (they key the table's rows): {dupes}")
    if not seeds or any(c.seeds is not None and not c.seeds for c in cells):
        raise ConfigError("seeds: give at least one seed (for the call and for every cell that sets its own)")
    # absolute: the workers (other processes, maybe other machines on a shared disk) write there
    runs_root = check_writable_dir(Path(results_dir).absolute() / RUNS_DIR, "results folder")
    planner = _Planner(profile, dataset, data_dir, device, runs_root, code_fingerprint())
    for cell in cells:
        for seed in _seeds_of(cell, seeds):
            planner.add(cell, int(seed), requested=True)
    return list(planner.runs.values())


# ---------------------------------------------------------------------------------- one run
def read_done(run_dir: str | os.PathLike, fingerprint: str) -> dict[str, Any] | None:
    """The ``DONE.json`` of a finished run with this fingerprint (and its ``metrics.json``), else None."""
    run_dir = Path(run_dir)
    try:
        done = json.loads((run_dir / DONE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(done, dict) or done.get("fingerprint") != fingerprint:
        return None
    # best.pt too: later runs start from it and notebooks draw with it (a stored record alone,
    # as committed to the repository, is retrained)
    return done if (run_dir / "metrics.json").is_file() and (run_dir / "best.pt").is_file() else None


def row_of(spec: Mapping[str, Any], done: Mapping[str, Any], cached: bool) -> dict[str, Any]:
    """One row of the table: the run's labels, its numeric scalar metrics (``metrics.json``),
    ``steps`` (optimizer steps in total), ``seconds`` (training wall time), the evaluation ``protocol``
    in words (Stage II runs), ``cached``, folder, fingerprint."""
    run_dir = Path(spec["run_dir"])
    try:
        metrics = json.loads((run_dir / "metrics.json").read_text())
    except (OSError, ValueError):
        metrics = dict(done.get("metrics", {}))
    fixed = {*HEAD_COLUMNS, *TAIL_COLUMNS}
    numbers = {
        k: v for k, v in metrics.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in fixed
    }  # fmt: skip
    return {
        **{k: spec[k] for k in HEAD_COLUMNS}, **numbers, "steps": done.get("steps"), "seconds": done.get("seconds"),
        "protocol": metrics.get("protocol", ""), "cached": cached, "run_dir": str(run_dir),
        "fingerprint": spec["fingerprint"],
    }  # fmt: skip


def _start_mode(run_dir: Path) -> dict[str, bool]:
    """Resume from ``last.pt``; replace the leftovers of a run that never checkpointed; else start fresh."""
    if any((run_dir / n).is_file() for n in _RESUMABLE):
        return {"resume": True}
    if any((run_dir / n).exists() for n in _RUN_FILES):
        return {"overwrite": True}
    return {}


def train_one(spec: dict[str, Any], *deps: Any) -> dict[str, Any]:
    """Train one run (a Dask task; ``deps``: the rows of the runs it starts from, only there so
    that Dask waits for them). Resumes from ``last.pt`` when there is one; writes ``DONE.json``
    after training; returns the run's row of the table (:func:`row_of`)."""
    from pstmo.train import Trainer

    run_dir = Path(spec["run_dir"])
    done = read_done(run_dir, spec["fingerprint"])
    if done is not None:  # finished meanwhile (another client, a retried task)
        return row_of(spec, done, cached=True)
    (run_dir / DONE_FILE).unlink(missing_ok=True)  # another fingerprint's (a name collision): stale
    mode = _start_mode(run_dir)
    cfg = TrainConfig.from_dict({**spec["config"], **mode})
    started: list[int] = []

    def first_step(trainer: Trainer) -> None:
        if not started:
            started.append(trainer.step_count - 1)

    start = time.perf_counter()
    trainer = Trainer(cfg, hooks=[first_step])
    result = trainer.run()
    done = {
        "fingerprint": spec["fingerprint"], "metrics": result.metrics, "steps": trainer.step_count,
        "seconds": round(time.perf_counter() - start, 3), "resumed": bool(mode.get("resume")),
        "started_at_step": started[0] if started else trainer.step_count,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "config": spec["config"],
    }  # fmt: skip
    write_json(run_dir / DONE_FILE, done)
    for name in _RESUMABLE:  # finished: only best.pt is needed from now on
        (run_dir / name).unlink(missing_ok=True)
    return row_of(spec, done, cached=False)


# ---------------------------------------------------------------------------------- the grid
@contextlib.contextmanager
def local_cluster(workers: int | None = None) -> Iterator[Any]:
    """A Dask ``LocalCluster`` of ``workers`` (default: one per core) one-thread worker processes,
    closed on exit; ``pstmo reproduce`` shares one among all notebooks through :data:`ADDRESS_ENV`."""
    import dask
    from distributed import LocalCluster

    # silence_logs: not the nanny's warning when a worker is slow to exit after the work is done;
    # the scheduler's HTTP routes (no dashboard) move to a free port when another cluster has 8787
    # a nanny started earlier in this process exported MALLOC_TRIM_THRESHOLD_ here (Dask "poisons" its
    # own process so that spawned workers inherit it): hidden while ours spawn, put back after
    inherited = os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    try:
        with warnings.catch_warnings(), dask.config.set(WORKER_DASK_CONFIG):
            warnings.filterwarnings("ignore", "Port .* is already in use", UserWarning)
            cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                dashboard_address=None, env=WORKER_ENV, silence_logs=logging.ERROR,
            )  # fmt: skip
    finally:
        if inherited is not None:
            os.environ["MALLOC_TRIM_THRESHOLD_"] = inherited
    with cluster:
        yield cluster


def _trim_threshold() -> str | None:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def warn_slow_workers(client: Any) -> None:
    """Warn (once per call) when the workers of a user's cluster run with ``MALLOC_TRIM_THRESHOLD_``
    set, as Dask's nannies set it by default: CPU training runs about half as fast there
    (:data:`WORKER_DASK_CONFIG`)."""
    found = sorted({v for v in client.run(_trim_threshold).values() if v is not None})
    if found:
        warnings.warn(
            f"the Dask workers at {client.scheduler.address} run with MALLOC_TRIM_THRESHOLD_={found[0]} "
            "(Dask's default), which makes CPU training steps about 1.8x slower; start them with the Dask "
            "setting distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_ set to null "
            "(pstmo.experiments.runner.WORKER_DASK_CONFIG)",
            RuntimeWarning,
            stacklevel=3,
        )


@contextlib.contextmanager
def _client(address: str | None, workers: int) -> Iterator[Any]:
    """A Dask client: of the cluster at ``address``, else of a :func:`local_cluster` started (and
    closed) here with ``workers`` one-thread worker processes."""
    from distributed import Client

    if address:
        with Client(address) as client:
            warn_slow_workers(client)
            yield client
        return
    with local_cluster(workers) as cluster, Client(cluster) as client:
        yield client


def _execute(
    runs: Sequence[Run], client: Any, bar: Any
) -> tuple[dict[str, dict[str, Any]], dict[str, BaseException]]:
    """Submit every run (a dependency's future as an argument of its dependents), wait for all;
    returns the rows of the finished runs and the errors of the others, by run name."""
    from distributed import as_completed

    futures: dict[str, Any] = {}
    for run in runs:
        deps = [futures[name] for name in run.upstream if name in futures]
        # the key names the run and its folder: one task per run folder, even from two clients
        key = f"{run.name}-{hashlib.sha256(str(run.run_dir.resolve()).encode()).hexdigest()[:8]}"
        futures[run.name] = client.submit(train_one, run.spec(), *deps, pure=False, key=key)
    names = {future.key: name for name, future in futures.items()}
    rows: dict[str, dict[str, Any]] = {}
    errors: dict[str, BaseException] = {}
    for future in as_completed(list(futures.values())):
        name = names[future.key]
        try:
            rows[name] = future.result()
        except BaseException as exc:  # noqa: BLE001 - reported after every run has finished
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            errors[name] = exc
        bar.update()
        bar.set_postfix_str(name[:40])
    return rows, errors


def _failure(runs: Sequence[Run], errors: Mapping[str, BaseException], finished: int) -> TrainingError:
    """One error naming the first failed run (cell, seed, folder) and what became of the others."""
    first = next(r for r in runs if r.name in errors)
    exc = errors[first.name]
    others = len(errors) - 1
    msg = (
        f"run of cell {first.cell!r}, seed {first.seed} failed ({first.run_dir}): {type(exc).__name__}: {exc}"
        + (f"; {others} other run(s) failed or waited on it" if others else "")
        + f"; {finished} run(s) finished and are kept (rerun to train only what is missing)"
    )
    err = TrainingError(msg)
    err.__cause__ = exc
    return err


def _table(
    runs: Sequence[Run], rows: Mapping[str, dict[str, Any]], order: Sequence[tuple[str, int]]
) -> pd.DataFrame:
    """The tidy table: requested runs in the order of ``order`` ((cell, seed) pairs), documented columns."""
    by_key = {
        (c, r.seed): {**rows[r.name], "cell": c} for r in runs if r.name in rows for c in r.requested_as
    }
    records = [by_key[k] for k in order if k in by_key]
    metrics: list[str] = []
    for rec in records:
        metrics += [k for k in rec if k not in HEAD_COLUMNS and k not in TAIL_COLUMNS and k not in metrics]
    table = pd.DataFrame(records, columns=HEAD_COLUMNS + metrics + TAIL_COLUMNS)
    return table.astype({"cached": bool}) if len(table) else table


def _write_table(table: pd.DataFrame, runs_root: Path, name: str) -> Path:
    """``table`` as ``<runs_root>/<name>`` (``.json``: records; otherwise CSV), atomically."""
    from pstmo.io import atomic_write

    if not name or Path(name).name != name or name in (".", ".."):
        raise ConfigError(f"table_name={name!r}: give a file name (no folders)")
    path = runs_root / name
    with atomic_write(path) as fh:
        if path.suffix == ".json":
            fh.write(table.to_json(orient="records", indent=2))
        else:
            table.to_csv(fh, index=False)
    return path


def run_cells(
    cells: Sequence[Cell], seeds: Sequence[int], *, profile: str, dataset: str = "demo",
    data_dir: str | None = None, device: str = "cpu", results_dir: str | os.PathLike,
    address: str | None = None, workers: int | None = None, progress: bool | None = None,
    table_name: str | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Train every cell once per seed on Dask (cached, resumable: see the module docstring) and
    return one row per (cell, seed), cells in the given order, then seeds.

    Columns: ``cell, seed, stage, model, frames`` (window size N), ``tds``, the numeric metrics of
    ``metrics.json`` (``mpjpe``, ``p_mpjpe``, ``n_mpjpe`` in mm, ``mpjve`` in mm/frame, ``recon_2d``
    for Stage I, ...; NaN where a stage has none), ``steps`` (optimizer steps in total),
    ``seconds`` (training wall time of the session that finished it), ``cached``, ``run_dir``,
    ``fingerprint``. Engine: the Dask cluster at ``address`` (or ``$PSTMO_DASK_ADDRESS``), else a
    ``LocalCluster`` of ``workers`` (default: CPU count; ignored with an address) one-thread
    processes started for the call; nothing is started when every run is cached. A user's cluster
    needs ``pstmo`` importable on its workers and ``results_dir`` on a disk they share. A failed run raises
    :class:`~pstmo.errors.TrainingError` naming its cell, seed and folder after the other runs have
    finished (their results stay on disk). ``table_name``: also write the table to
    ``<results_dir>/runs/<table_name>`` (CSV, or JSON for ``.json``).
    """
    from pstmo.runtime import progress as progress_bar

    runs = plan_runs(cells, seeds, profile=profile, dataset=dataset, data_dir=data_dir, device=device,
                     results_dir=results_dir)  # fmt: skip
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        done = read_done(run.run_dir, run.fingerprint)
        if done is not None:
            rows[run.name] = row_of(run.spec(), done, cached=True)
    todo = [r for r in runs if r.name not in rows]
    errors: dict[str, BaseException] = {}
    if todo:
        address = address or os.environ.get(ADDRESS_ENV) or None
        n = max(1, min(workers or os.cpu_count() or 1, len(todo)))
        bar = progress_bar(
            None, progress, total=len(runs), initial=len(rows), desc=f"runs ({profile})", unit="run"
        )
        with _client(address, n) as client:
            new, errors = _execute(todo, client, bar)
        bar.close()
        rows.update(new)
    table = _table(runs, rows, [(c.name, int(s)) for c in cells for s in _seeds_of(c, seeds)])
    if errors:
        err = _failure(runs, errors, finished=len(rows))
        err.table = table  # type: ignore[attr-defined]  # the rows that did finish
        raise err
    if table_name:
        _write_table(table, Path(results_dir) / RUNS_DIR, table_name)
    return table


def history(run: Mapping[str, Any] | pd.Series | str | os.PathLike) -> pd.DataFrame:
    """The per-epoch history of a run (``history.csv``: ``epoch, step, loss, lr, val_metric,
    val_name``), for learning curves; ``run`` is a row of :func:`run_cells`'s table or a run folder."""
    run_dir = Path(run) if isinstance(run, (str, os.PathLike)) else Path(run["run_dir"])
    path = run_dir / "history.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no history.csv (not a run folder, or no epoch has finished yet)")
    return pd.read_csv(path)


def how_trained(table: pd.DataFrame) -> str:
    """How the runs of a runner's table were trained, in words, from the first run's ``config.json``:
    ``"2500 steps per run (median over seeds; early stopping after 3 validations without
    improvement), best.pt selected on frames held out from the training subjects"``."""
    import json

    cfg = json.loads((Path(table["run_dir"].iloc[0]) / "config.json").read_text())
    stopping = (
        f"; early stopping after {cfg['patience']} validations without improvement" if cfg["patience"] else ""
    )
    selected = "frames held out from the training subjects" if cfg["selection"] == "val" else "the test split"
    return f"{int(table['steps'].median())} steps per run (median over seeds{stopping}), best.pt selected on {selected}"


def learning_curves(table: pd.DataFrame) -> pd.DataFrame:
    """The learning curves of a :func:`run_cells` table's runs, long: ``cell, seed, step, loss,
    val_metric, val_name``; the training loss every logged step (``steps.csv``, ``val_metric`` NaN) and the
    validation metric of every epoch (``history.csv``, ``loss`` NaN), for
    :func:`pstmo.report.viz.plot_learning_curves`."""
    parts = []
    for _, row in table.iterrows():
        steps = pd.read_csv(Path(row["run_dir"]) / "steps.csv")[["step", "loss"]].assign(
            val_metric=float("nan")
        )
        val = history(row)[["step", "val_metric", "val_name"]].dropna().assign(loss=float("nan"))
        parts += [df.assign(cell=row["cell"], seed=int(row["seed"])) for df in (steps, val)]
    if not parts:
        raise ValueError("no runs: the table is empty")
    return pd.concat(parts, ignore_index=True)[["cell", "seed", "step", "loss", "val_metric", "val_name"]]


__all__ = [
    "ADDRESS_ENV",
    "DONE_FILE",
    "NOT_RESULT_FIELDS",
    "Cell",
    "Run",
    "code_fingerprint",
    "history",
    "learning_curves",
    "local_cluster",
    "WORKER_DASK_CONFIG",
    "plan_runs",
    "read_done",
    "run_cells",
    "run_fingerprint",
    "train_one",
    "warn_slow_workers",
]
