"""benchmarks/gpu_check.py: without CUDA one line and exit code 3; its code path runs (on CPU, tiny)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from conftest import ROOT


@pytest.fixture(scope="module")
def gpu_check(repo_on_path):
    from benchmarks import gpu_check

    return gpu_check


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_no_gpu_is_one_line_and_exit_code_3(tmp_path):
    out = tmp_path / "gpu.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu_check", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("no GPU: "), lines
    assert not out.exists()


def test_check_runs_on_cpu_with_tiny_sizes(gpu_check):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        check = gpu_check.Check(
            device="cpu", models=("p-stmo-s",), frames=27, batch=8, train_batch=4, min_run_time=0.01,
            compile=False, overrides=dict(channel=32, hidden=64, layers=2),
        )  # fmt: skip
        result = gpu_check.run(check)
    finally:
        torch.set_num_threads(before)
    (variants,) = result["inference"].values()
    assert set(variants) == {"eval forward fp32", "fast fp32", "fast bf16 autocast"}
    for row in variants.values():
        assert row["rate_median"] > 0 and row["max_abs_diff_vs_cpu"] < 1e-4
    assert set(result["training"]) == {"stage I batch 4 amp", "stage II batch 4 amp"}  # amp: CUDA only
    assert all(r["rate_median"] > 0 for r in result["training"].values())
