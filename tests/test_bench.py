"""Smoke test of the benchmark harness (pstmo.bench) on tiny models with one repeat.

No timing is asserted: only that the table has its columns, that every ratio is computed from
the numbers of the same run, that skipped / extrapolated measurements say so, and that the
JSON result is written and parseable.
"""

from __future__ import annotations

import json

import pytest
import torch

from pstmo.bench import (
    COLUMNS,
    BenchConfig,
    ModelSpec,
    format_table,
    measure_peak_flops,
    run,
    time_call,
    time_pair,
)

TINY = {
    "tiny-liftformer": ModelSpec(
        "tiny-liftformer", "liftformer", 27, {"dim": 32, "heads": 4, "blocks": 1, "ff_dim": 64}
    ),
    "tiny-stmo": ModelSpec(
        "tiny-stmo", "p-stmo-s", 27, {"channel": 32, "hidden": 64, "heads": 4, "layers": 2}
    ),
}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    models = ("tiny-liftformer", "tiny-stmo")
    path = tmp_path_factory.mktemp("bench") / "bench.json"
    cfg = BenchConfig(
        models=models,
        specs=TINY,
        device="cpu",
        batches=(1, 3),
        warmup=0,
        repeats=1,
        train_batch=4,
        train_steps=1,
        eval_frames=40,
        eval_total=1000,
        eval_batch=16,
        peak_size=64,
        json_path=str(path),
    )
    out = run(cfg, log=None)
    out["_path"] = path
    return out


def test_inference_rows_have_ratio_from_same_run(result):
    rows = [r for r in result["rows"] if r["metric"] == "inference"]
    models = {r["model"] for r in result["rows"]}
    assert len(rows) == len(models) * 2 * 2  # batches (1, 3) x flip off/on
    for r in rows:
        assert r["reference"] > 0 and r["fast"] > 0
        assert r["ratio"] == pytest.approx(r["fast"] / r["reference"])
        assert r["max_abs_diff"] < 1e-4  # same outputs, measured in the run
        assert 0 < r["peak_fraction"]
        assert r["unit"] == "frames/s"
    assert {r["setting"] for r in rows} == {f"batch {b}, flip {f}" for b in (1, 3) for f in ("off", "on")}


def test_eval_is_extrapolated_and_training_rows_present(result):
    for model in {r["model"] for r in result["rows"]}:
        by_metric = {r["metric"]: r for r in result["rows"] if r["model"] == model}
        ev = by_metric["test-set eval"]
        assert "extrapolated from 40 frames" in ev["measured_on"]
        assert ev["ratio"] == pytest.approx(ev["reference"] / ev["fast"])
        assert by_metric["flops"]["reference"] > 0
        st2 = by_metric["train stage2"]
        assert st2["reference"] > 0 and st2["ratio"] == pytest.approx(st2["fast"] / st2["reference"])
        assert "batch building" in st2["note"]
    lf1 = next(r for r in result["rows"] if r["model"] == "tiny-liftformer" and r["metric"] == "train stage1")
    assert lf1["measured_on"] == "n/a"  # LiftFormer has no Stage I


def test_table_and_json(result):
    table = format_table(result)
    header = table.splitlines()[2]
    for col in COLUMNS:
        assert col in header
    assert "measured peak" in table
    on_disk = json.loads(result["_path"].read_text())
    assert on_disk["rows"] == result["rows"]
    assert on_disk["peak_flops"]["float32"] > 0


def test_quick_cpu_skips_large_batches_with_a_note():
    cfg = BenchConfig(quick=True, device="cpu").resolved()
    assert cfg.repeats <= 2 and cfg.warmup <= 1 and cfg.repeats >= 1
    from pstmo.bench import _skip_reason

    assert _skip_reason(cfg, 1024, 243).startswith("skipped")
    assert _skip_reason(cfg, 64, 243) is None
    with pytest.raises(ValueError, match="unknown model"):
        BenchConfig(models=("nope",)).resolved()


def test_timing_primitives_count_calls():
    calls = []
    times = time_call(lambda: calls.append(1), "cpu", warmup=2, repeats=3)
    assert len(times) == 3 and len(calls) == 5
    a, b = [], []
    ta, tb = time_pair(lambda: a.append(1), lambda: b.append(1), "cpu", warmup=1, repeats=2)
    assert len(ta) == len(tb) == 2 and len(a) == len(b) == 3
    assert measure_peak_flops("cpu", size=32, repeats=1) > 0


def test_cuda_request_without_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="cuda"):
        BenchConfig(device="cuda").resolved()
