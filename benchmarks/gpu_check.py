"""One-shot GPU check (``make gpu-check``): pstmo's speed and memory on one CUDA device, as JSON.

``python -m benchmarks.gpu_check [--json PATH]`` measures, within about five minutes:

- inference, output frames/s at batch 1024 windows for P-STMO-S N=243 and P-STMO N=243:
  the eval forward as users get it (fp32), the fast path (``optimize_for_inference``) in fp32,
  under bf16 autocast, ``torch.compile``'d (fp32) and compiled with bf16;
- training steps/s at the paper's batch 160 (P-STMO-S N=243, Stage I and Stage II) with AMP
  (bf16 autocast), the step of ``benchmarks.train_step``;
- the peak GPU memory of every measurement;
- the equality of the GPU outputs with the CPU reference (max abs difference, fp32 and bf16).

Timing: ``torch.utils.benchmark.Timer.blocked_autorange`` (it synchronises CUDA around every
clock read), after a warm-up call (which also compiles). Whatever is left when the time budget
(``--budget``, 270 s) runs out is recorded as skipped, so the script always finishes and writes.

Without CUDA it prints one line, ``no GPU: ...``, and exits with code 3 (nothing is written).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from typing import Any

import torch
from torch.utils import benchmark

from benchmarks.harness import machine, spread
from benchmarks.train_step import pstmo_train_step
from pstmo.io import write_json
from pstmo.models import build_model, get_config
from pstmo.models.fast import optimize_for_inference
from pstmo.paths import results_dir

NO_GPU = 3
JOINTS = 17


@dataclasses.dataclass
class Check:
    """What to run (the defaults are the issue's; tests shrink them to run on CPU)."""

    device: str = "cuda"
    models: tuple[str, ...] = ("p-stmo-s", "p-stmo")
    frames: int = 243
    batch: int = 1024
    train_batch: int = 160
    min_run_time: float = 2.0
    budget: float = 270.0
    compile: bool = True
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)


class Budget:
    """Seconds left of the run; ``over()`` once the budget is spent."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def over(self) -> bool:
        return time.monotonic() > self.end


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(fn: Callable[[], Any], device: torch.device, work: float, min_run_time: float) -> dict[str, Any]:
    """Warm-up call, then ``blocked_autorange``: rate (``work`` per second) median and IQR, peak memory."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.monotonic()
    fn()
    _sync(device)
    warm = time.monotonic() - start
    m = benchmark.Timer(
        stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads()
    ).blocked_autorange(min_run_time=min_run_time)
    t = spread(m.times)  # seconds per call of every block
    out = {
        "rate_median": work / t["median"],
        "rate_q1": work / t["q3"],
        "rate_q3": work / t["q1"],
        "seconds_per_call": t["median"],
        "calls": len(m.times) * m.number_per_run,
        "warmup_s": warm,
    }
    if device.type == "cuda":
        out["peak_memory_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


def lifting_model(preset: str, c: Check) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(get_config(preset, frames=c.frames, **c.overrides)).eval()


def inference_checks(preset: str, c: Check, budget: Budget) -> dict[str, Any]:
    """Frames/s of the variants of one model and their max abs difference from the CPU reference."""
    device = torch.device(c.device)
    cpu_model = lifting_model(preset, c)
    x = 0.3 * torch.randn(c.batch, c.frames, JOINTS, 2, generator=torch.Generator().manual_seed(1))
    probe = x[:64]
    with torch.no_grad():
        reference = cpu_model(probe).center  # the CPU fp32 reference
    model = lifting_model(preset, c).to(device)
    xd, probe_d = x.to(device), probe.to(device)

    @torch.no_grad()
    def plain(inp: torch.Tensor) -> torch.Tensor:
        return model(inp).center

    variants: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"eval forward fp32": plain}
    variants["fast fp32"] = _fast(model, compile=False, bf16=False)
    variants["fast bf16 autocast"] = _fast(model, compile=False, bf16=True)
    if c.compile:
        variants["fast compiled fp32"] = _fast(model, compile=True, bf16=False)
        variants["fast compiled bf16"] = _fast(model, compile=True, bf16=True)
    results: dict[str, Any] = {}
    for name, fn in variants.items():
        if budget.over():
            results[name] = {"skipped": "time budget spent"}
            continue
        try:
            row = measure(lambda fn=fn: fn(xd), device, c.batch, c.min_run_time)
            row["max_abs_diff_vs_cpu"] = (fn(probe_d).float().cpu() - reference).abs().max().item()
        except Exception as exc:  # noqa: BLE001 - e.g. no compiler toolchain: record it and go on
            row = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        results[name] = row
    return results


def _fast(model: torch.nn.Module, compile: bool, bf16: bool) -> Callable[[torch.Tensor], torch.Tensor]:
    fast = optimize_for_inference(model, compile=compile, bf16=bf16)
    return lambda inp: fast(inp).center


def training_checks(c: Check, budget: Budget) -> dict[str, Any]:
    """Steps/s of P-STMO-S Stage I and II at ``train_batch`` with AMP (bf16 autocast)."""
    results: dict[str, Any] = {}
    for stage in (1, 2):
        name = f"stage {'I' if stage == 1 else 'II'} batch {c.train_batch} amp"
        if budget.over():
            results[name] = {"skipped": "time budget spent"}
            continue
        amp = c.device == "cuda"  # the trainer applies AMP on CUDA only
        step = pstmo_train_step(stage, c.frames, c.train_batch, device=c.device, amp=amp, **c.overrides)
        results[name] = measure(step.step, torch.device(c.device), 1.0, c.min_run_time)
        del step
        if c.device == "cuda":
            torch.cuda.empty_cache()
    return results


def run(c: Check) -> dict[str, Any]:
    budget = Budget(c.budget)
    device = torch.device(c.device)
    info = machine()
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(gpu=props.name, gpu_memory_gib=props.total_memory / 2**30, cuda=torch.version.cuda)
    info["tf32_matmul"] = torch.backends.cuda.matmul.allow_tf32
    result: dict[str, Any] = {"machine": info, "check": dataclasses.asdict(c), "inference": {}}
    for preset in c.models:
        result["inference"][f"{preset} N={c.frames} batch {c.batch}"] = inference_checks(preset, c, budget)
    result["training"] = training_checks(c, budget)
    result["seconds"] = c.budget - (budget.end - time.monotonic())
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__.splitlines()[0])
    p.add_argument(
        "--json", default=None, help="where to write the result (default results/bench/gpu_check.json)"
    )
    p.add_argument("--budget", type=float, default=270.0, help="seconds before the rest is skipped")
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile variants")
    args = p.parse_args(argv)
    if not torch.cuda.is_available():
        print(
            f"no GPU: torch {torch.__version__} sees no CUDA device; this check needs one (nothing written)"
        )
        return NO_GPU
    result = run(Check(budget=args.budget, compile=not args.no_compile))
    path = args.json or results_dir("bench") / "gpu_check.json"
    write_json(path, result)
    print(f"wrote {path} ({result['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
