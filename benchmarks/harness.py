"""Timing primitives of the benchmarks: interleaved rounds, spread, the matmul peak, machine load.

Every comparison is a *group* of callables timed in the same run: after one warm-up call
each (under ``FlopCounterMode``, which gives the FLOPs of one call), round ``r`` measures
every callable once, starting at callable ``r mod k`` so that none always runs first. A
callable whose warm-up took less than ``SHORT`` seconds is measured per round by
``torch.utils.benchmark.Timer.blocked_autorange`` (the median of many calls); a longer one
(a training step, a whole sequence) by one call on the same clock, because ``Timer.timeit`` and
``blocked_autorange`` add two warm-up calls to every measurement, which would triple the run
time of multi-second steps. The ``Timer`` sets the torch thread count in both cases. A large float32 matmul is one more member of every group, so the peak that a
result is compared with was measured under the same load. Figures are medians over rounds
with their spread (interquartile range and min-max); a speed-up is the median of the per-round
ratios (same round, same load), not a ratio of medians.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import statistics
import timeit
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils import benchmark
from torch.utils.flop_counter import FlopCounterMode

from pstmo.complexity import cpu_sdpa_flop  # counts torch's CPU fused attention like the GPU kernels

PEAK = "matmul peak"
SHORT = 0.25  # seconds: below this a round is a blocked_autorange, above it one call


def spread(values: list[float]) -> dict[str, float]:
    """``median``, ``q1``, ``q3`` (interquartile range), ``min``, ``max`` and ``n`` of ``values``."""
    v = sorted(values)
    if len(v) >= 2:
        q1, _, q3 = statistics.quantiles(v, n=4, method="inclusive")
    else:
        q1 = q3 = v[0]
    return {"median": statistics.median(v), "q1": q1, "q3": q3, "min": v[0], "max": v[-1], "n": len(v)}


def count_flops(fn: Callable[[], Any]) -> tuple[Any, int]:
    """Run ``fn`` once under ``FlopCounterMode``; its result and the FLOPs of every matmul/conv."""
    cpu_flash = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    mapping = {cpu_flash: cpu_sdpa_flop} if cpu_flash is not None else {}
    with FlopCounterMode(display=False, custom_mapping=mapping) as counter:
        out = fn()
    return out, int(counter.get_total_flops())


def _synchronize() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


class _Member:
    """One callable of a group and how a round measures it (see the module docstring)."""

    def __init__(self, name: str, fn: Callable[[], Any]):
        self.name, self.fn, self.short = name, fn, False
        self.timer = benchmark.Timer(
            stmt="call()", globals={"call": self.call}, num_threads=torch.get_num_threads(), description=name
        )

    def call(self) -> None:
        self.fn()
        _synchronize()

    def warm_up(self) -> tuple[Any, int]:
        start = timeit.default_timer()
        out, flops = count_flops(self.fn)
        _synchronize()
        self.short = timeit.default_timer() - start < SHORT
        return out, flops

    def measure(self) -> float:
        if self.short:
            return self.timer.blocked_autorange(min_run_time=SHORT).median
        start = timeit.default_timer()
        self.call()
        return timeit.default_timer() - start


@dataclass
class Group:
    """The timings of one interleaved comparison. ``times[name]``: seconds per call, one per round."""

    title: str
    times: dict[str, list[float]] = field(default_factory=dict)
    flops: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after

    def ratio(self, base: str, name: str) -> dict[str, float]:
        """Per-round speed-up of ``name`` over ``base`` (``t_base / t_name`` in the same round)."""
        return spread([b / t for b, t in zip(self.times[base], self.times[name])])

    def peak_flops(self) -> dict[str, float]:
        """The matmul peak of this group, FLOP/s per round."""
        return spread([self.flops[PEAK] / t for t in self.times[PEAK]])


def interleaved(
    title: str,
    impls: dict[str, Callable[[], Any]],
    rounds: int,
    peak_size: int = 2048,
    log: Callable[[str], None] | None = None,
) -> Group:
    """Time ``impls`` (name -> zero-argument callable) in ``rounds`` interleaved rounds.

    A ``peak_size``-square float32 matmul is added as :data:`PEAK`. The warm-up call of each
    callable is counted with :func:`count_flops`; its result is kept in ``Group.outputs``.
    """
    a = torch.randn(peak_size, peak_size, generator=torch.Generator().manual_seed(0))
    b = torch.randn(peak_size, peak_size, generator=torch.Generator().manual_seed(1))
    members = [_Member(name, fn) for name, fn in {**impls, PEAK: lambda: a @ b}.items()]
    group = Group(title, load=(os.getloadavg()[0], 0.0))
    for m in members:
        if log:
            log(f"{title}: warm-up {m.name}")
        group.outputs[m.name], group.flops[m.name] = m.warm_up()
        group.times[m.name] = []
    for r in range(rounds):
        if log:
            log(f"{title}: round {r + 1}/{rounds}")
        for m in members[r % len(members) :] + members[: r % len(members)]:
            group.times[m.name].append(m.measure())
    group.load = (group.load[0], os.getloadavg()[0])
    return group


def machine() -> dict[str, Any]:
    """Where and under which load the benchmark ran."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        affinity = os.cpu_count()
    return {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "processor": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "torch_threads": torch.get_num_threads(),
        "load_average": list(os.getloadavg()),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
