"""pstmo.experiments.runner: fingerprints, the DONE.json cache, shared Stage I runs, resume, the table, Dask clients."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from pstmo.config import get_profile
from pstmo.errors import ConfigError, TrainingError
from pstmo.experiments import runner
from pstmo.experiments.runner import Cell, history, plan_runs, run_cells, run_fingerprint

FAST = {"max_steps": 3, "epochs": 1, "eval_max_frames": 16}
MPM = Cell("mpm", stage="pretrain", frames=9, overrides=FAST)
CODE_FINGERPRINT = runner.code_fingerprint
HEAD = ["cell", "seed", "stage", "model", "frames", "tds"]
TAIL = ["steps", "seconds", "protocol", "cached", "run_dir", "fingerprint"]


@pytest.fixture(autouse=True)
def fixed_code_fingerprint(monkeypatch):
    """Other edits of the package during a test must not change the runs' names between two calls."""
    monkeypatch.setattr(runner, "code_fingerprint", lambda root=None: "code-under-test")


@pytest.fixture(scope="module")
def cluster():
    """A user's cluster: two one-thread worker processes, reached by its address."""
    import logging

    from distributed import LocalCluster

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Port .* is already in use", UserWarning)
        c = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    with c:
        yield c


@pytest.fixture
def no_local_cluster(monkeypatch):
    """Fail if the runner starts its own LocalCluster (the given cluster must be used)."""
    import distributed

    def refuse(*args, **kwargs):
        raise AssertionError("run_cells started a LocalCluster instead of using the given address")

    monkeypatch.setattr(distributed, "LocalCluster", refuse)


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------------- no training
def test_fingerprint_follows_training_fields_not_runtime_ones():
    cfg = get_profile("smoke", "lift", frames=9, **FAST)
    fp = run_fingerprint(cfg, "data", "code")
    for same in (
        dict(progress=True), dict(device="cpu"), dict(threads=2), dict(results_dir="/elsewhere"),
        dict(run_name="other"), dict(resume=True), dict(overwrite=True), dict(checkpoint_every=5),
    ):  # fmt: skip
        assert run_fingerprint(cfg.replace(**same), "data", "code") == fp, same
    for changed in (dict(lr=1e-3), dict(tds=3), dict(max_steps=4), dict(seed=1), dict(mask_ratio=0.5)):
        assert run_fingerprint(cfg.replace(**changed), "data", "code") != fp, changed
    assert run_fingerprint(cfg, "other data", "code") != fp
    assert run_fingerprint(cfg, "data", "other code") != fp
    a = run_fingerprint(cfg.replace(pretrained="/x/best.pt"), "data", "code", {"pretrained": "1" * 64})
    b = run_fingerprint(cfg.replace(pretrained="/y/best.pt"), "data", "code", {"pretrained": "1" * 64})
    c = run_fingerprint(cfg.replace(pretrained="/x/best.pt"), "data", "code", {"pretrained": "2" * 64})
    assert a == b != c  # the upstream run's fingerprint counts, not where its folder is


def test_plan_names_runs_by_fingerprint_and_shares_stage_one(tmp_path):
    cells = [Cell("stmo+mpm", frames=9, overrides=FAST, pretrain=MPM),
             Cell("stmo+mpm/lr", frames=9, overrides={**FAST, "lr": 1e-3}, pretrain=MPM)]  # fmt: skip
    runs = plan_runs(cells, [0, 1], profile="smoke", device="cpu", results_dir=tmp_path)
    assert [r.name.rsplit("-", 1)[0] for r in runs] == [
        "pretrain-p-stmo-s-s0", "lift-p-stmo-s-s0", "pretrain-p-stmo-s-s1", "lift-p-stmo-s-s1",
        "lift-p-stmo-s-s0", "lift-p-stmo-s-s1",
    ]  # fmt: skip
    assert [r.cell for r in runs] == ["mpm", "stmo+mpm", "mpm", "stmo+mpm", "stmo+mpm/lr", "stmo+mpm/lr"]
    assert all(r.name.endswith(r.fingerprint[:16]) for r in runs)
    assert len({r.name for r in runs}) == 6
    assert all(r.run_dir.parent == tmp_path / "runs" for r in runs)
    lift = runs[1]
    assert lift.upstream == (runs[0].name,) and lift.config.pretrained == str(runs[0].run_dir / "best.pt")
    assert not runs[0].requested and lift.requested
    again = plan_runs(cells, [0, 1], profile="smoke", device="auto", results_dir=tmp_path / "b")
    assert [r.fingerprint for r in again] == [r.fingerprint for r in runs]  # device: not part of the result


def test_the_same_run_asked_for_by_two_rows_is_planned_once(tmp_path):
    same = [Cell("stmo", frames=9, overrides=FAST), Cell("scratch", frames=9, overrides=FAST)]
    runs = plan_runs(same, [0], profile="smoke", device="cpu", results_dir=tmp_path)
    assert len(runs) == 1 and runs[0].requested_as == ["stmo", "scratch"]


def test_a_row_with_seeds_of_its_own_gets_them_and_the_others_the_calls(tmp_path):
    cells = [Cell("few", frames=9, overrides=FAST), Cell("many", frames=9, overrides={**FAST, "lr": 1e-3}, seeds=[0, 1, 2])]
    runs = plan_runs(cells, [0], profile="smoke", device="cpu", results_dir=tmp_path)
    assert [(r.cell, r.seed) for r in runs] == [("few", 0), ("many", 0), ("many", 1), ("many", 2)]
    with pytest.raises(ConfigError, match="at least one seed"):
        plan_runs([Cell("none", frames=9, seeds=[])], [0], profile="smoke", results_dir=tmp_path)


def test_code_fingerprint_covers_the_modules_training_imports(tmp_path):
    """A toy package: ``train`` imports ``a`` which imports ``sub.b``; ``report`` is not imported."""
    (tmp_path / "train").mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "train" / "__init__.py").write_text("from pstmo import a\n")
    (tmp_path / "a.py").write_text("from pstmo.sub.b import y\nx = 1\n")
    (tmp_path / "sub" / "__init__.py").write_text("")
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    (tmp_path / "report.py").write_text("z = 3\n")
    assert {p.relative_to(tmp_path).as_posix() for p in runner.training_modules(root=tmp_path)} == {
        "train/__init__.py",
        "a.py",
        "sub/__init__.py",
        "sub/b.py",
    }
    real = CODE_FINGERPRINT  # the autouse fixture replaced the module attribute
    first = real(tmp_path)
    (tmp_path / "report.py").write_text("z = 4\n")  # not on the training path: the cache holds
    assert real(tmp_path) == first
    (tmp_path / "sub" / "b.py").write_text("y = 3\n")
    assert real(tmp_path) != first
    names = {p.name for p in runner.training_modules()}
    assert {"loop.py", "stages.py", "stmo.py", "windows.py"} <= names and "notebook.py" not in names
    assert len(real()) == 64


def test_bad_cells_are_refused_before_any_run(tmp_path):
    with pytest.raises(ConfigError, match="unique"):
        plan_runs([Cell("a", frames=9), Cell("a", frames=9)], [0], profile="smoke", results_dir=tmp_path)
    with pytest.raises(ConfigError, match="seed"):
        plan_runs([Cell("a", frames=9, overrides={"seed": 3})], [0], profile="smoke", results_dir=tmp_path)
    with pytest.raises(ConfigError, match="'pretrain'"):
        plan_runs([Cell("a", frames=9, pretrain=Cell("b"))], [0], profile="smoke", results_dir=tmp_path)
    with pytest.raises(ConfigError, match="lr"):
        plan_runs([Cell("a", frames=9, overrides={"lr": -1.0})], [0], profile="smoke", results_dir=tmp_path)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_importing_the_runner_does_not_import_dask():
    code = "import sys, pstmo.experiments.runner; print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------- training
@pytest.mark.slow
def test_grid_runs_once_then_comes_from_the_cache(tmp_path, monkeypatch):
    """Own LocalCluster (workers=2); Stage I shared by two rows runs once per seed; the second call
    trains nothing (no cluster is started, no file changes) and returns the same table."""
    cells = [Cell("stmo+mpm", frames=9, overrides=FAST, pretrain=MPM),
             Cell("stmo+mpm-lr", frames=9, overrides={**FAST, "lr": 1e-3}, pretrain=MPM)]  # fmt: skip
    table = run_cells(cells, [0, 1], profile="smoke", results_dir=tmp_path, workers=2, progress=False,
                      table_name="table.csv")  # fmt: skip
    folders = sorted(p.name.rsplit("-", 1)[0] for p in (tmp_path / "runs").iterdir() if p.is_dir())
    assert folders == ["lift-p-stmo-s-s0"] * 2 + ["lift-p-stmo-s-s1"] * 2 + [
        "pretrain-p-stmo-s-s0",
        "pretrain-p-stmo-s-s1",
    ]
    assert list(table.columns[:6]) == HEAD and list(table.columns[-6:]) == TAIL
    curves = runner.learning_curves(table)  # the loss of every logged step, the validation of every epoch
    for (cell, seed), part in curves.groupby(["cell", "seed"]):
        run_dir = table[(table.cell == cell) & (table.seed == seed)].run_dir.iloc[0]
        assert part.loss.notna().sum() == len(pd.read_csv(f"{run_dir}/steps.csv"))
        assert part.val_metric.notna().sum() == pd.read_csv(f"{run_dir}/history.csv").val_metric.notna().sum() >= 1
    assert {"mpjpe", "p_mpjpe", "n_mpjpe", "mpjve"} <= set(table.columns)
    assert "stage" in table.columns and "flip" not in table.columns
    assert table["protocol"].str.startswith("test split, all frames").all()
    assert list(zip(table.cell, table.seed)) == [
        ("stmo+mpm", 0),
        ("stmo+mpm", 1),
        ("stmo+mpm-lr", 0),
        ("stmo+mpm-lr", 1),
    ]
    assert (table.stage == "lift").all() and (table.frames == 9).all() and (table.tds == 1).all()
    assert (table.steps == 3).all() and not table.cached.any() and (table.seconds > 0).all()
    assert table.fingerprint.str.len().eq(64).all()
    assert pd.read_csv(tmp_path / "runs" / "table.csv").shape == table.shape
    for run_dir in table.run_dir:
        done = json.loads((Path(run_dir) / "DONE.json").read_text())
        assert done["fingerprint"] == table.set_index("run_dir").fingerprint[run_dir]
        assert done["steps"] == 3 and done["config"]["seed"] in (0, 1) and done["finished_at"]
    before = _files(tmp_path / "runs")

    import distributed

    monkeypatch.setattr(distributed, "LocalCluster", None)  # a cached call must not start one
    monkeypatch.setattr(distributed, "Client", None)
    again = run_cells(cells, [0, 1], profile="smoke", results_dir=tmp_path, workers=2, progress=False)
    assert again.cached.all()
    pd.testing.assert_frame_equal(again.drop(columns="cached"), table.drop(columns="cached"))
    assert _files(tmp_path / "runs") == before
    curve = history(again.iloc[0])
    assert list(curve.columns[:3]) == ["epoch", "step", "loss"] and curve.step.iloc[-1] == 3
    pd.testing.assert_frame_equal(history(again.run_dir[0]), curve)
    with pytest.raises(FileNotFoundError, match="history.csv"):
        history(tmp_path)


class _Interrupt(Exception):
    pass


@pytest.mark.slow
def test_interrupted_run_resumes_on_the_given_cluster(tmp_path, cluster, no_local_cluster):
    """A run folder with last.pt and no DONE.json (stopped after step 3 of 6) resumes at step 3,
    on the cluster given by address."""
    from pstmo.train import Trainer

    cell = Cell("stmo", frames=9, overrides={**FAST, "max_steps": 6})
    (run,) = plan_runs([cell], [0], profile="smoke", device="cpu", results_dir=tmp_path)

    def stop(trainer):
        if trainer.step_count == 4:  # last.pt holds step 3 (checkpoint_every=1)
            raise _Interrupt

    with pytest.raises(_Interrupt):
        Trainer(run.config.replace(checkpoint_every=1), hooks=[stop]).run()
    assert (run.run_dir / "last.pt").is_file() and not (run.run_dir / "DONE.json").exists()

    table = run_cells([cell], [0], profile="smoke", results_dir=tmp_path, address=cluster.scheduler_address,
                      progress=False)  # fmt: skip
    assert table.run_dir[0] == str(run.run_dir) and table.steps[0] == 6 and not table.cached[0]
    done = json.loads((run.run_dir / "DONE.json").read_text())
    assert done["resumed"] is True and done["started_at_step"] == 3 and done["steps"] == 6
    steps = pd.read_csv(run.run_dir / "steps.csv")
    assert steps.step.tolist() == [1, 2, 3, 4, 5, 6]
    keys = {str(t[0]) for t in cluster.scheduler.transition_log}
    assert any(k.startswith(run.name) for k in keys), "the run was not a task of the given cluster"


@pytest.mark.slow
def test_failed_run_is_raised_after_the_others(tmp_path, cluster, no_local_cluster, monkeypatch):
    """The cluster comes from $PSTMO_DASK_ADDRESS; the bad run (and the run waiting on it) fail,
    the good run finishes and is kept; the error names cell, seed and run folder."""
    monkeypatch.setenv(runner.ADDRESS_ENV, cluster.scheduler_address)
    bad = Cell(
        "mpm-wide", stage="pretrain", frames=9, overrides={**FAST, "tds": 1000}
    )  # windows > 4x any clip
    cells = [Cell("stmo", frames=9, overrides=FAST), Cell("stmo+bad", frames=9, overrides=FAST, pretrain=bad)]
    with pytest.raises(TrainingError) as info:
        run_cells(cells, [0], profile="smoke", results_dir=tmp_path, progress=False)
    msg = str(info.value)
    assert "cell 'mpm-wide', seed 0 failed" in msg and str(tmp_path / "runs" / "pretrain-p-stmo-s-s0-") in msg
    assert "ConfigError" in msg and "1 other run(s)" in msg and "1 run(s) finished" in msg
    good = info.value.table
    assert good.cell.tolist() == ["stmo"] and (Path(good.run_dir[0]) / "DONE.json").is_file()


def test_own_cluster_workers_keep_glibcs_adaptive_malloc(monkeypatch):
    """Dask's nannies export MALLOC_TRIM_THRESHOLD_=65536 to their workers by default, which halves
    the speed of a CPU training step (mmap/munmap of every large tensor); the runner's own cluster
    starts its workers without it, and one thread each."""
    import os

    import dask
    from distributed import Client

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    assert dask.config.get("distributed.nanny.pre-spawn-environ").get("MALLOC_TRIM_THRESHOLD_") is not None

    def env() -> dict:
        return {k: os.environ.get(k) for k in ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS")}

    with runner.local_cluster(1) as cluster, Client(cluster) as client:
        (seen,) = client.run(env).values()
    assert seen == {"MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": "1"}


def test_a_users_cluster_with_dasks_trim_threshold_is_named_in_a_warning(cluster):
    """The module's cluster is a plain LocalCluster, whose workers get Dask's MALLOC_TRIM_THRESHOLD_:
    the runner says so, with the setting that fixes it; the runner's own cluster passes silently."""
    from distributed import Client

    with Client(cluster.scheduler_address) as client:
        with pytest.warns(RuntimeWarning, match=r"MALLOC_TRIM_THRESHOLD_=65536 .*pre-spawn-environ"):
            runner.warn_slow_workers(client)
    with runner.local_cluster(1) as own, Client(own) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            runner.warn_slow_workers(client)
