"""What a demo-profile training step costs inside the ablation runner's worker processes.

    python benchmarks/bench_worker_env.py [--rounds 5] [--steps 100] [--frames 9]

Each configuration takes ``--steps`` optimizer steps of P-STMO-S at the CPU profiles' size (N =
``--frames``, batch 128, one thread; ``benchmarks.train_step.pstmo_train_step`` on a fixed batch) in a
fresh process and reports milliseconds per step (after 10 warm-up
steps). Rounds are interleaved (round r starts at configuration r mod k), and the speed-ups are
medians of per-round ratios against the first configuration, with their min-max:

- ``dask default``: the environment Dask's nannies give their workers unless told otherwise
  (``MALLOC_TRIM_THRESHOLD_=65536``, which turns off glibc's adaptive mmap threshold), with Adam's
  per-tensor loop: how the runner's workers trained before;
- ``no trim threshold``: the runner's own cluster now (``runner.WORKER_DASK_CONFIG``);
- ``+ fused Adam``: and Adam's fused kernel (``pstmo.train.stages.fused_adam``), what the runner
  trains with now.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the child imports benchmarks.train_step from here
CONFIGS = {
    "dask default": ({"MALLOC_TRIM_THRESHOLD_": "65536"}, False),
    "no trim threshold": ({}, False),
    "+ fused Adam": ({}, True),
}

CHILD = """
import json, sys, time
import torch
import pstmo.train.stages as stages
from benchmarks.train_step import pstmo_train_step
from pstmo.config import SMALL_MODELS
frames, steps, fused = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
stages.fused_adam = lambda device: fused
torch.set_num_threads(1)
step = pstmo_train_step(2, frames, 128, **SMALL_MODELS["p-stmo-s"]).step
for _ in range(10):
    step()
start = time.perf_counter()
for _ in range(steps):
    step()
print(json.dumps({"ms": (time.perf_counter() - start) / steps * 1e3}))
"""


def one(name: str, frames: int, steps: int) -> float:
    extra, fused = CONFIGS[name]
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    env.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **extra})
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(frames), str(steps), "1" if fused else "0"],
        env=env, capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])["ms"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--frames", type=int, default=9)
    args = ap.parse_args()
    names = list(CONFIGS)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            times[name].append(one(name, args.frames, args.steps))
        print(
            f"round {r + 1}/{args.rounds}: " + ", ".join(f"{n} {times[n][-1]:.1f}" for n in names),
            file=sys.stderr,
        )
    base = times[names[0]]
    print(
        f"P-STMO-S at the CPU profiles' size, N={args.frames}, batch 128, 1 thread; ms per step over {args.rounds} rounds"
    )
    print(f"{'configuration':<20}{'median':>8}{'min':>8}{'max':>8}{'speed-up':>10}{'(min-max)':>14}")
    for name in names:
        ratios = [b / t for b, t in zip(base, times[name])]
        print(
            f"{name:<20}{statistics.median(times[name]):>8.1f}{min(times[name]):>8.1f}{max(times[name]):>8.1f}"
            f"{statistics.median(ratios):>9.2f}x{f'({min(ratios):.2f}-{max(ratios):.2f})':>14}"
        )


if __name__ == "__main__":
    main()
