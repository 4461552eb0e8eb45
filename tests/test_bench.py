"""The benchmark harness (benchmarks/, run by ``pstmo bench``) on tiny models, one thread.

No timing is asserted: only that every comparison is interleaved and complete, that speed-ups
are per-round ratios against the stated baseline, that the implementations compared give the
same outputs (and, with the official clone, the same training loss and gradients), that the
result is JSON with the load and the peak, and that outside a checkout the command says so in
one sentence. The official-code comparisons skip when the clone is absent (CI has none).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import ROOT

from pstmo.cli import main as cli_main
from pstmo.commands.bench import find_harness, load_harness
from pstmo.errors import PstmoError

OFFICIAL = Path("/work/official/P-STMO")
needs_official = pytest.mark.skipif(
    not (OFFICIAL / "model" / "stmo.py").is_file(), reason=f"official clone not found: {OFFICIAL}"
)
TINY = dict(channel=32, hidden=64, layers=2)


@pytest.fixture(scope="module")
def bench():
    return load_harness()


def tiny_settings(bench, **kw):
    return bench.Settings(
        rounds=2,
        frames=27,
        inference_batch=3,
        sequence_frames=31,
        sequence_batch=8,
        train_frames=(27,),
        train_batch=4,
        peak_size=64,
        model_overrides=TINY,
        **kw,
    )


def test_harness_is_found_in_the_checkout_not_in_the_package():
    assert find_harness() == ROOT / "benchmarks"
    assert not (ROOT / "pstmo" / "bench.py").exists()  # no harness code in the package


def test_outside_a_checkout_one_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PSTMO_ROOT", str(tmp_path))
    with pytest.raises(PstmoError, match="clone of the pstmo repository"):
        find_harness()
    assert cli_main(["bench", "--quick"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pstmo bench: ") and "Traceback" not in err[0]


def test_spread_and_interleaving(bench):
    from benchmarks.harness import PEAK, interleaved, spread

    s = spread([4.0, 1.0, 3.0, 2.0])
    assert (s["median"], s["min"], s["max"], s["n"]) == (2.5, 1.0, 4.0, 4)
    assert s["q1"] == pytest.approx(1.75) and s["q3"] == pytest.approx(3.25)
    calls = []
    x = torch.randn(8, 8)
    group = interleaved(
        "toy",
        {"a": lambda: calls.append("a") or x @ x, "b": lambda: calls.append("b")},
        rounds=3,
        peak_size=16,
    )
    assert set(group.times) == {"a", "b", PEAK} and all(len(t) == 3 for t in group.times.values())
    assert group.flops["a"] == 2 * 8**3 and group.flops["b"] == 0 and group.flops[PEAK] == 2 * 16**3
    assert calls[:2] == ["a", "b"]  # one counted warm-up each, then the rounds
    ratio = group.ratio("a", "b")
    expected = sorted(ta / tb for ta, tb in zip(group.times["a"], group.times["b"]))
    assert ratio["min"] == pytest.approx(expected[0]) and ratio["max"] == pytest.approx(expected[-1])
    assert group.peak_flops()["median"] > 0


def _check_result(bench, result, baseline):
    json.dumps(result)  # JSON-able
    assert result["machine"]["cpu_count"] >= 1 and len(result["load_start"]) == 3
    tasks = {r["task"] for r in result["rows"]}
    assert tasks == {"inference", "sequence", "train stage I", "train stage II"}
    for task in tasks:
        rows = [r for r in result["rows"] if r["task"] == task]
        assert rows[0]["impl"] == baseline and all(r["baseline"] == baseline for r in rows)
        assert rows[0]["speedup"]["min"] == rows[0]["speedup"]["max"] == 1.0  # against itself, every round
        for r in rows:
            assert r["rate"]["n"] == 2 and r["rate"]["min"] > 0
            assert r["peak_gflops"]["median"] > 0 and r["gflop_per_call"] > 0
            if task in ("inference", "sequence") and "preview" not in r["impl"]:
                assert r["max_abs_diff"] < 1e-4, r  # same weights, same outputs
            elif task == "sequence":  # the seq2seq preview: other outputs, reported as such
                assert "max_abs_diff" not in r and r["preview_abs_diff"] > 0, r
    table = bench.format_table(result)
    assert "load average" in table and "speed-up [IQR]" in table and "% peak" in table


def test_tiny_run_against_the_reference_path(bench, one_thread):
    result = bench.run(tiny_settings(bench))
    _check_result(bench, result, "pstmo reference")
    impls = {r["impl"] for r in result["rows"] if r["task"] == "sequence"}
    assert impls == {"pstmo reference", "pstmo", "pstmo, window by window", "pstmo seq2seq preview"}
    impls = {r["impl"] for r in result["rows"] if r["task"] == "inference"}
    assert impls == {"pstmo reference", "pstmo eval forward", "pstmo"}


@needs_official
def test_tiny_run_against_the_official_classes(bench, one_thread):
    result = bench.run(tiny_settings(bench, official_repo=str(OFFICIAL)))
    _check_result(bench, result, "official")
    for r in result["rows"]:
        if r["task"].startswith("train"):
            assert r["check"]["loss_abs_diff"] < 1e-5 and r["check"]["grad_max_abs_diff"] < 1e-5


@needs_official
@pytest.mark.parametrize("stage", [1, 2])
def test_official_step_trains_like_pstmo(bench, one_thread, stage):
    from benchmarks.official import import_official

    check = bench.check_training_equality(import_official(OFFICIAL), stage, 27, **TINY)
    assert check["loss"] < 1e-5 and check["grad"] < 1e-5


def test_bad_official_repo_is_one_sentence(bench, tmp_path):  # bench: the checkout on sys.path
    from benchmarks.official import import_official

    with pytest.raises(PstmoError, match="no model/stmo.py"):
        import_official(tmp_path)
