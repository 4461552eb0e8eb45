"""The benchmark program (``python -m benchmarks.bench``, ``make bench``) on tiny models, one thread.

No timing is asserted: only that every comparison is interleaved and complete, that speed-ups
are per-round ratios against the stated baseline, that the implementations compared give the
same outputs (and, with the official clone, the same training loss and gradients), that the
result is JSON with the load and the peak, that the program has its own options and that the
package never imports it (``pstmo bench`` is a one-line pointer). The official-code comparisons
skip when the clone is absent (CI has none).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest
import torch
from conftest import OFFICIAL, ROOT

from pstmo.cli import main as cli_main
from pstmo.errors import PstmoError
from pstmo.official.code import import_official

needs_official = pytest.mark.skipif(
    not (OFFICIAL / "model" / "stmo.py").is_file(), reason=f"official clone not found: {OFFICIAL}"
)
TINY = dict(channel=32, hidden=64, layers=2)


@pytest.fixture(scope="module")
def bench(repo_on_path):
    import benchmarks.bench

    return benchmarks.bench


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


def _imports(path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_package_never_imports_the_benchmarks():
    """One direction only: benchmarks -> pstmo (no circle, no private names across it)."""
    for path in sorted((ROOT / "pstmo").rglob("*.py")):
        assert not any(n.split(".")[0] == "benchmarks" for n in _imports(path)), path
        assert 'import_module("benchmarks' not in path.read_text(), path
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        assert "pstmo.commands.bench" not in _imports(path), path
        for node in ast.walk(ast.parse(path.read_text())):  # no private names between its modules
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("benchmarks"):
                assert not any(a.name.startswith("_") for a in node.names), (path, node.module)


def test_pstmo_bench_is_a_one_line_pointer(capsys):
    for argv in (["bench"], ["bench", "--quick", "--official-repo", "/x"]):
        assert cli_main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("pstmo bench: "), err
        assert "python -m benchmarks.bench" in err[0] and "make bench" in err[0]


def test_the_program_has_its_own_options(bench):
    args = bench.build_parser().parse_args(
        ["--quick", "--tasks", "train", "--train-frames", "27", "--json", "x.json"]
    )
    assert (args.quick, args.tasks, args.train_frames, args.json) == (True, ["train"], [27], "x.json")
    with pytest.raises(SystemExit):
        bench.build_parser().parse_args(["--tasks", "nothing"])
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "--official-repo" in proc.stdout, proc.stderr


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--threads", "-1"], "--threads"),
        (["--tasks", "bogus"], "bogus"),
        (["--train-batch", "0"], "--train-batch"),
        (["--rounds", "0"], "--rounds"),
        (["--train-frames", "81", "-3"], "--train-frames"),
        (["--sequence-frames", "x"], "--sequence-frames"),
        (["--threads", str(10**12)], "up to 1,024"),
        (["--rounds", str(10**30)], "up to 10,000"),
        (["--train-batch", str(10**30)], "up to 65,536"),
        (["--sequence-frames", str(10**30)], "up to 1,000,000"),
        (["--train-frames", "6561"], "up to 2,187"),
    ],
)
def test_bad_options_exit_2_naming_the_option_before_any_work(bench, capsys, argv, words):
    """The checks of the former ``pstmo bench`` rows of the bad-input battery, on the program's own parser."""
    with pytest.raises(SystemExit) as exc:
        bench.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err, err


def test_bad_official_repo_is_one_line_exit_2(bench, tmp_path, capsys):
    assert bench.main(["--official-repo", str(tmp_path), "--tasks", "inference"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no model/stmo.py" in err[0] and str(tmp_path) in err[0], err


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
    check = bench.check_training_equality(import_official(OFFICIAL), stage, 27, **TINY)
    assert check["loss"] < 1e-5 and check["grad"] < 1e-5


def test_bad_official_repo_is_one_sentence(tmp_path):
    with pytest.raises(PstmoError, match="no model/stmo.py"):
        import_official(tmp_path)
