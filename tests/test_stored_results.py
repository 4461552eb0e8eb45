"""The stored results (results/runs/, made by the last full demo reproduction) are reproducible:
one stored run is retrained from its own configuration and must give its stored MPJPE.

Tolerance: 0.5 mm. Training on the CPU with one thread and a fixed seed repeats the same
arithmetic, so on the machine that made the record the difference is 0; another CPU or BLAS
build may round differently and the runs drift apart a little over a few thousand steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pstmo.config import TrainConfig
from pstmo.data import load_dataset
from pstmo.train import train

RUNS = Path(__file__).resolve().parents[1] / "results" / "runs"
TOLERANCE_MM = 0.5


def _cheapest_stored_run() -> dict | None:
    """The finished Stage II run with the fewest steps that starts from nothing (no Stage I) and
    was trained on the demo data as shipped now (runs of an older data set stay in the store until
    the notebooks that show them are rerun; retraining them on today's data would give other numbers)."""
    fingerprint = load_dataset("demo").fingerprint()
    records = []
    for path in sorted(RUNS.glob("*/DONE.json")):
        done = json.loads(path.read_text())
        cfg = done["config"]
        made_on = json.loads((path.parent / "provenance.json").read_text()).get("dataset_fingerprint")
        if cfg["stage"] == "lift" and not cfg.get("pretrained") and not cfg.get("init_from") and made_on == fingerprint:
            records.append(done)
    return min(records, key=lambda d: (d["steps"], d["config"]["model"]["frames"]), default=None)


def test_results_store_run_records_without_checkpoints():
    stored = list(RUNS.glob("*/DONE.json"))
    assert stored, "results/runs/ holds no stored run: run `pstmo reproduce --profile demo` and commit its records"
    for path in stored:
        done = json.loads(path.read_text())
        assert {"fingerprint", "metrics", "steps", "seconds", "config", "finished_at"} <= set(done)
        assert (path.parent / "history.csv").is_file()


@pytest.mark.slow
def test_a_stored_run_retrains_to_its_stored_metric(tmp_path):
    done = _cheapest_stored_run()
    assert done is not None, "no stored Stage II run made on today's demo data to retrain"
    cfg = TrainConfig.from_dict({**done["config"], "results_dir": str(tmp_path), "progress": False})
    run = train(cfg)
    assert int(run.history["step"].iloc[-1]) == done["steps"]
    assert run.metrics["mpjpe"] == pytest.approx(done["metrics"]["mpjpe"], abs=TOLERANCE_MM)
