"""Speed benchmark: inference, training and evaluation throughput, FLOPs and peak fraction.

One call of ``run(BenchConfig(...))`` measures, on one device, for each model in
``PAPER_MODELS`` (P-STMO-S N=243, P-STMO N=243, P-STMO-S N=81, LiftFormer N=243):

- inference throughput in *output frames per second* (one output frame per window) at
  several batch sizes, flip test-time augmentation off and on, for the **reference** path
  (``attention="reference"``, plain eval forward, flip as a second forward: what the
  official test loop does) and the **fast** path (``pstmo.models.fast``), with the ratio
  fast/reference and the max abs output difference measured in the same run;
- training-step throughput (samples/s) for Stage I (MPM) and Stage II, and the share of a
  step spent building the batch with ``pstmo.data.WindowBatcher``;
- the time to evaluate a Human3.6M-sized test set (543,344 output frames, flip on),
  measured on a subset and extrapolated when the subset is smaller (column "measured on");
- FLOPs per output frame (``pstmo.complexity``, else ``torch.utils.flop_counter``) and the
  achieved fraction of the device's peak, itself measured with a large matmul in the run.

Timing rules: warm-up before timing, median of repeats, device synchronised before every
clock read, inputs drawn from a standard normal (never zeros).

The result is a list of ``Row`` (one long table: model x metric x setting) returned inside
a JSON-able dict and printed by ``format_table``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from pstmo.io import write_json
from pstmo.skeleton import NUM_JOINTS

#: Output frames of the Human3.6M test set (S9 + S11, all 4 cameras) as evaluated by
#: VideoPose3D / P-STMO ("Testing on 543344 frames").
H36M_TEST_FRAMES = 543_344


@dataclass(frozen=True)
class ModelSpec:
    """A model to benchmark: a preset of ``pstmo.models.get_config`` plus overrides."""

    name: str
    preset: str
    frames: int
    overrides: dict[str, Any] = field(default_factory=dict)
    #: paper's FPS on an RTX 3080 Ti (P-STMO Table 6), for reference only.
    paper_fps: float | None = None


PAPER_MODELS: dict[str, ModelSpec] = {
    "p-stmo-s-243": ModelSpec("p-stmo-s-243", "p-stmo-s", 243, paper_fps=3504.0),
    "p-stmo-243": ModelSpec("p-stmo-243", "p-stmo", 243, paper_fps=3040.0),
    "p-stmo-s-81": ModelSpec("p-stmo-s-81", "p-stmo-s", 81, paper_fps=7824.0),
    "liftformer-243": ModelSpec("liftformer-243", "liftformer", 243),
}


@dataclass
class BenchConfig:
    """What to measure. ``resolved()`` applies ``quick`` and device-dependent defaults."""

    models: tuple[str, ...] = tuple(PAPER_MODELS)
    device: str = "auto"  # "cpu" | "cuda" | "auto"
    threads: int | None = None  # torch intra-op threads (CPU); None = torch default
    quick: bool = False
    batches: tuple[int, ...] = (1, 64, 1024)
    flips: tuple[bool, ...] = (False, True)
    warmup: int = 2
    repeats: int = 5
    #: Stage I / II training batch (P-STMO trains with 160 at N=243) and timed steps.
    train_batch: int = 160
    train_steps: int = 5
    stages: tuple[str, ...] = ("stage1", "stage2")
    #: Output frames actually run for the test-set evaluation (<= eval_total: extrapolated).
    eval_frames: int = 16_384
    eval_total: int = H36M_TEST_FRAMES
    eval_batch: int = 1024
    peak_size: int = 4096  # matmul size for the peak measurement
    compile: bool = False  # torch.compile the fast path
    bf16: bool | None = None  # bf16 autocast in the fast path; None = on for CUDA
    max_batch_frames_cpu_quick: int = 64 * 243  # skip larger batch x frames on CPU, quick
    json_path: str | None = "results/bench/bench.json"
    seed: int = 0
    specs: dict[str, ModelSpec] = field(default_factory=lambda: dict(PAPER_MODELS))

    def resolved(self) -> BenchConfig:
        """A copy with the device resolved and ``quick`` applied."""
        cfg = dataclasses.replace(self, device=pick_device(self.device).type)
        if cfg.bf16 is None:
            cfg.bf16 = cfg.device == "cuda"
        if cfg.quick:
            cfg.warmup = min(cfg.warmup, 1)
            cfg.repeats = min(cfg.repeats, 1 if cfg.device == "cpu" else 5)
            cfg.train_steps = min(cfg.train_steps, 1 if cfg.device == "cpu" else 5)
            cfg.peak_size = min(cfg.peak_size, 2048 if cfg.device == "cpu" else 8192)
            if cfg.device == "cpu":
                cfg.train_batch = min(cfg.train_batch, 16)
                cfg.eval_frames = min(cfg.eval_frames, 64)
                cfg.eval_batch = min(cfg.eval_batch, 64)
            else:
                cfg.eval_frames = min(cfg.eval_frames, 16_384)
        elif cfg.device == "cpu":  # the reference path runs ~30 frames/s on 2 cores: extrapolate
            cfg.eval_frames = min(cfg.eval_frames, 512)
        for name in cfg.models:
            if name not in cfg.specs:
                raise ValueError(f"unknown model {name!r}; choose from {sorted(cfg.specs)}")
        return cfg


@dataclass
class Row:
    """One line of the benchmark table. Values are ``None`` where not applicable."""

    model: str
    metric: str  # "inference", "train stage1", "train stage2", "test-set eval", "flops"
    setting: str
    unit: str
    reference: float | None = None
    fast: float | None = None
    ratio: float | None = None  # fast / reference, from the same run
    peak_fraction: float | None = None  # of the fast path, achieved FLOP/s / measured peak
    max_abs_diff: float | None = None
    measured_on: str = "measured"
    note: str = ""


# --------------------------------------------------------------------------------------
# Timing primitives


def pick_device(name: str = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU. Asking for CUDA without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda requested but torch.cuda.is_available() is False")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"device must be cpu, cuda or auto, got {name!r}")
    return torch.device(name)


def synchronize(device: torch.device | str) -> None:
    """Wait for queued device work before reading a clock (no-op on CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def time_call(fn: Callable[[], Any], device: torch.device | str, warmup: int, repeats: int) -> list[float]:
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times; seconds of each timed call."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(max(1, repeats)):
        synchronize(device)
        t0 = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - t0)
    return times


def time_pair(
    fn_a: Callable[[], Any], fn_b: Callable[[], Any], device: torch.device | str, warmup: int, repeats: int
) -> tuple[list[float], list[float]]:
    """Like ``time_call`` for two functions, alternating a, b, a, b, ... so that both see the
    same machine load (the fast/reference ratio is then measured under equal conditions)."""
    for _ in range(warmup):
        fn_a()
        fn_b()
    times_a, times_b = [], []
    for _ in range(max(1, repeats)):
        for fn, times in ((fn_a, times_a), (fn_b, times_b)):
            synchronize(device)
            t0 = time.perf_counter()
            fn()
            synchronize(device)
            times.append(time.perf_counter() - t0)
    return times_a, times_b


def measure_peak_flops(
    device: torch.device | str, size: int = 4096, dtype: torch.dtype = torch.float32, repeats: int = 3
) -> float:
    """Achievable FLOP/s of a ``size x size`` matmul (2 size^3 FLOPs) on ``device``, median."""
    gen = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(size, size, generator=gen).to(device=device, dtype=dtype)
    b = torch.randn(size, size, generator=gen).to(device=device, dtype=dtype)
    times = time_call(lambda: a @ b, device, warmup=1, repeats=repeats)
    return 2.0 * size**3 / statistics.median(times)


# --------------------------------------------------------------------------------------
# Models


def build(
    spec: ModelSpec, attention: str = "reference", device: torch.device | str = "cpu", seed: int = 0
) -> nn.Module:
    """Build the lifting model of ``spec`` (random weights, randomized BN statistics), eval mode."""
    from pstmo.models import build_model, get_config

    torch.manual_seed(seed)
    cfg = get_config(spec.preset, frames=spec.frames, attention=attention, **spec.overrides)
    model = build_model(cfg)
    randomize_batchnorm(model, seed)
    return model.to(device).eval()


def randomize_batchnorm(model: nn.Module, seed: int = 0) -> None:
    """Give every BatchNorm non-trivial running statistics and affine parameters, so that
    folding them is actually exercised (fresh BN is the identity)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
                n = m.num_features
                m.running_mean.copy_(0.1 * torch.randn(n, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(n, generator=gen))
                if m.affine:
                    m.weight.copy_(1 + 0.1 * torch.randn(n, generator=gen))
                    m.bias.copy_(0.1 * torch.randn(n, generator=gen))


def flops_per_frame(model: nn.Module, frames: int, device: torch.device | str) -> tuple[float, str]:
    """FLOPs for one N-frame window (= one output frame) and where the number comes from.

    Prefers ``pstmo.complexity.count(model, frames)["flops_total"]``; falls back to
    ``torch.utils.flop_counter`` on one forward (counts matmuls/convs, incl. attention).
    """
    try:
        from pstmo.complexity import count

        return float(count(model, frames)["flops_total"]), "pstmo.complexity"
    except Exception:  # not there yet, or cannot count this model: measure it directly
        pass
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.randn(1, frames, NUM_JOINTS, 2, device=device)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    return float(counter.get_total_flops()), "torch.utils.flop_counter"


# --------------------------------------------------------------------------------------
# Measurements


def _skip_reason(cfg: BenchConfig, batch: int, frames: int) -> str | None:
    if cfg.quick and cfg.device == "cpu" and batch * frames > cfg.max_batch_frames_cpu_quick:
        return f"skipped: batch {batch} x N={frames} too large for --quick on CPU"
    return None


def bench_inference(
    spec: ModelSpec, reference: nn.Module, fast: nn.Module, cfg: BenchConfig, flops: float, peak: float
) -> list[Row]:
    """Output frames/s of the reference and fast paths at each batch size and flip setting."""
    from pstmo.models.fast import fast_predict, reference_predict

    rows = []
    gen = torch.Generator().manual_seed(cfg.seed)
    for batch in cfg.batches:
        for flip in cfg.flips:
            setting = f"batch {batch}, flip {'on' if flip else 'off'}"
            skip = _skip_reason(cfg, batch, spec.frames)
            if skip:
                rows.append(
                    Row(spec.name, "inference", setting, "frames/s", measured_on="skipped", note=skip)
                )
                continue
            x = torch.randn(batch, spec.frames, NUM_JOINTS, 2, generator=gen).to(cfg.device)
            outs: dict[str, torch.Tensor] = {}

            def ref_call(x=x, flip=flip, outs=outs) -> None:
                outs["ref"] = reference_predict(reference, x, flip)

            def fast_call(x=x, flip=flip, outs=outs) -> None:
                outs["fast"] = fast_predict(fast, x, flip)

            t_ref, t_fast = time_pair(ref_call, fast_call, cfg.device, cfg.warmup, cfg.repeats)
            diff = (outs["ref"] - outs["fast"]).abs().max().item()  # outputs of the timed calls
            fps_ref = batch / statistics.median(t_ref)
            fps_fast = batch / statistics.median(t_fast)
            passes = 2 if flip else 1  # flip runs every window twice
            rows.append(
                Row(
                    spec.name,
                    "inference",
                    setting,
                    "frames/s",
                    fps_ref,
                    fps_fast,
                    fps_fast / fps_ref,
                    peak_fraction=flops * passes * fps_fast / peak if peak else None,
                    max_abs_diff=diff,
                    note=f"median of {len(t_fast)}"
                    + (
                        ""
                        if spec.paper_fps is None or flip or batch == 1
                        else f"; paper {spec.paper_fps:g} on RTX 3080 Ti"
                    ),
                )
            )
    return rows


def random_sequences(count: int, length: int, seed: int = 0) -> list[Any]:
    """``count`` random ``pstmo.data.Sequence`` of ``length`` frames (never zeros)."""
    from pstmo.data import Sequence

    gen = torch.Generator().manual_seed(seed)
    return [
        Sequence(
            subject="S9",
            action=f"Random {i}",
            camera=i % 4,
            pose_2d=torch.randn(length, NUM_JOINTS, 2, generator=gen).numpy(),
            pose_3d=torch.randn(length, NUM_JOINTS, 3, generator=gen).numpy(),
            res_w=1000,
            res_h=1002,
        )
        for i in range(count)
    ]


def _batcher(
    sequences: list[Any], frames: int, batch_size: int, shuffle: bool, seed: int, flip: bool = False
) -> Iterable[Any] | None:
    """A ``pstmo.data.WindowBatcher`` on CPU with reusable output buffers."""
    from pstmo.data import WindowBatcher

    return WindowBatcher(
        sequences, frames=frames, batch_size=batch_size, shuffle=shuffle, seed=seed, flip=flip,
        reuse_buffers=True,
    )  # fmt: skip


def _endless(batcher: Any) -> Iterable[Any]:
    epoch = 0
    while True:
        batcher.set_epoch(epoch)
        yield from batcher
        epoch += 1


def _to(batch: Any, device: str) -> Any:
    non_blocking = device == "cuda"
    return {
        k: getattr(batch, k).to(device, non_blocking=non_blocking)
        for k in ("pose_2d", "pose_3d", "center_3d")
    }


def _mpjpe(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).norm(dim=-1).mean()


def _build_train_model(
    spec: ModelSpec, stage: str, attention: str, device: str, seed: int
) -> nn.Module | None:
    from pstmo.models import STMOConfig, build_model, get_config

    torch.manual_seed(seed)
    cfg = get_config(spec.preset, frames=spec.frames, attention=attention, **spec.overrides)
    if stage == "stage1":
        if not isinstance(cfg, STMOConfig):
            return None  # Stage I (masked pose modeling) exists for P-STMO only
        from pstmo.models import MPM

        return MPM(cfg).to(device).train()
    return build_model(cfg).to(device).train()


def bench_training(spec: ModelSpec, stage: str, cfg: BenchConfig) -> Row:
    """Samples/s of one optimiser step (reference vs sdpa attention) and the batch share."""
    setting = f"batch {cfg.train_batch}"
    name = "train " + stage
    seqs = random_sequences(4, max(4 * spec.frames, 2000), cfg.seed)
    batcher = _batcher(seqs, spec.frames, cfg.train_batch, shuffle=True, seed=cfg.seed, flip=True)
    results: dict[str, tuple[float, float]] = {}
    for attention in ("reference", "sdpa"):
        model = _build_train_model(spec, stage, attention, cfg.device, cfg.seed)
        if model is None:
            return Row(
                spec.name, name, setting, "samples/s", measured_on="n/a", note="no Stage I for this model"
            )
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        stream = iter(_endless(batcher))
        gen = torch.Generator().manual_seed(cfg.seed)
        masks = _masks(spec.frames, gen) if stage == "stage1" else None

        def next_batch(stream=stream) -> dict[str, torch.Tensor]:
            return _to(next(stream), cfg.device)

        def step(batch: dict[str, torch.Tensor], model=model, opt=opt, masks=masks) -> None:
            opt.zero_grad(set_to_none=True)
            if masks is not None:
                rec = model(batch["pose_2d"], masks[0].to(cfg.device), masks[1].to(cfg.device))
                loss = _mpjpe(rec, batch["pose_2d"])
            else:
                out = model(batch["pose_2d"])
                loss = _mpjpe(out.center, batch["center_3d"])
                if getattr(out, "frames", None) is not None:
                    loss = loss + _mpjpe(out.frames, batch["pose_3d"])
            loss.backward()
            opt.step()

        data_t, step_t = [], []
        for i in range(cfg.warmup + max(1, cfg.train_steps)):
            synchronize(cfg.device)
            t0 = time.perf_counter()
            batch = next_batch()
            synchronize(cfg.device)
            t1 = time.perf_counter()
            step(batch)
            synchronize(cfg.device)
            t2 = time.perf_counter()
            if i >= cfg.warmup:
                data_t.append(t1 - t0)
                step_t.append(t2 - t1)
        results[attention] = (statistics.median(data_t), statistics.median(step_t))
    ref_data, ref_step = results["reference"]
    fast_data, fast_step = results["sdpa"]
    sps_ref = cfg.train_batch / (ref_data + ref_step)
    sps_fast = cfg.train_batch / (fast_data + fast_step)
    share = fast_data / (fast_data + fast_step)
    note = f"batch building {100 * share:.1f}% of the sdpa step (WindowBatcher, flip aug)"
    if cfg.quick and cfg.device == "cpu":
        note += "; reduced batch (--quick on CPU)"
    return Row(
        spec.name,
        name,
        setting,
        "samples/s",
        sps_ref,
        sps_fast,
        sps_fast / sps_ref,
        note=note + "; fast = attention sdpa",
    )


def _masks(frames: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Stage I masks: P-STMO's defaults, 80% of frames and 2 joints per frame."""
    from pstmo.masking import spatio_temporal_mask

    return spatio_temporal_mask(frames, NUM_JOINTS, 0.8, 2, gen)


def bench_eval(spec: ModelSpec, reference: nn.Module, fast: nn.Module, cfg: BenchConfig) -> Row:
    """Seconds to evaluate ``eval_total`` output frames (flip on) through the whole pipeline
    (WindowBatcher windows -> device -> model), measured on ``eval_frames`` and scaled."""
    from pstmo.models.fast import fast_predict, reference_predict

    frames = min(cfg.eval_frames, cfg.eval_total)
    seqs = random_sequences(1, frames, cfg.seed)
    batcher = _batcher(seqs, spec.frames, cfg.eval_batch, shuffle=False, seed=cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)

    def windows() -> Iterable[torch.Tensor]:
        for b in batcher:
            yield b.pose_2d.to(cfg.device, non_blocking=cfg.device == "cuda")

    def run(predict: Callable, model: nn.Module) -> float:
        synchronize(cfg.device)
        t0 = time.perf_counter()
        done = 0
        for x in windows():
            predict(model, x, True)
            done += x.shape[0]
        synchronize(cfg.device)
        return (time.perf_counter() - t0) * cfg.eval_total / done

    # warm-up: one batch through each path
    x0 = torch.randn(2, spec.frames, NUM_JOINTS, 2, generator=gen).to(cfg.device)
    reference_predict(reference, x0, True)
    fast_predict(fast, x0, True)
    t_ref, t_fast = run(reference_predict, reference), run(fast_predict, fast)
    extrapolated = frames < cfg.eval_total
    return Row(
        spec.name,
        "test-set eval",
        f"{cfg.eval_total:,} frames, flip on, batch {cfg.eval_batch}",
        "s",
        t_ref,
        t_fast,
        t_ref / t_fast,
        measured_on=(
            f"extrapolated from {frames:,} frames" if extrapolated else f"measured ({frames:,} frames)"
        ),
        note="ratio = reference time / fast time (speed-up); WindowBatcher windows",
    )


# --------------------------------------------------------------------------------------
# Suite


def environment(cfg: BenchConfig) -> dict[str, Any]:
    dev = torch.device(cfg.device)
    info = {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "device": cfg.device,
        "device_name": torch.cuda.get_device_name(dev)
        if dev.type == "cuda"
        else (platform.processor() or platform.machine()),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "quick": cfg.quick,
    }
    return info


def run(cfg: BenchConfig, log: Callable[[str], None] | None = print) -> dict[str, Any]:
    """Run the whole suite; returns ``{"environment", "config", "peak_flops", "rows"}`` and
    writes it to ``cfg.json_path`` (atomically) unless that is None."""
    from pstmo.models.fast import optimize_for_inference

    cfg = cfg.resolved()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.device == "cuda":
        torch.backends.cudnn.benchmark = True
    say = log or (lambda s: None)
    device = torch.device(cfg.device)

    say(f"peak: {cfg.peak_size}x{cfg.peak_size} matmul on {cfg.device}")
    peak = {"float32": measure_peak_flops(device, cfg.peak_size, torch.float32)}
    if cfg.device == "cuda":
        peak["bfloat16"] = measure_peak_flops(device, cfg.peak_size, torch.bfloat16)
    fast_peak = peak["bfloat16"] if cfg.bf16 and cfg.device == "cuda" else peak["float32"]

    rows: list[Row] = []
    for name in cfg.models:
        spec = cfg.specs[name]
        say(f"{name}: building")
        reference = build(spec, "reference", device, cfg.seed)
        fast = optimize_for_inference(reference, compile=cfg.compile, bf16=cfg.bf16)
        flops, source = flops_per_frame(reference, spec.frames, device)
        rows.append(
            Row(
                name,
                "flops",
                f"N={spec.frames}, one output frame",
                "GFLOP",
                flops / 1e9,
                note=f"from {source}",
            )
        )
        say(f"{name}: inference")
        rows += bench_inference(spec, reference, fast, cfg, flops, fast_peak)
        say(f"{name}: test-set evaluation")
        rows.append(bench_eval(spec, reference, fast, cfg))
        for stage in cfg.stages:
            say(f"{name}: training {stage}")
            rows.append(bench_training(spec, stage, cfg))
        del reference, fast

    result = {
        "environment": environment(cfg),
        "config": {k: v for k, v in dataclasses.asdict(cfg).items() if k != "specs"},
        "peak_flops": peak,
        "rows": [dataclasses.asdict(r) for r in rows],
    }
    if cfg.json_path:
        write_json(cfg.json_path, result)
    return result


def _fmt(v: float | None, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


COLUMNS = (
    "model",
    "metric",
    "setting",
    "unit",
    "reference",
    "fast",
    "fast/ref",
    "% peak",
    "max|diff|",
    "measured on",
    "note",
)


def format_table(result: dict[str, Any]) -> str:
    """The rows as one fixed-width text table, with a header naming device and peak."""
    env, peak = result["environment"], result["peak_flops"]
    lines = [
        f"pstmo bench  {env['date']}  device={env['device']} ({env['device_name']})  "
        f"threads={env['torch_threads']}  torch {env['torch']}  quick={env['quick']}",
        "measured peak: " + ", ".join(f"{k} {v / 1e9:,.0f} GFLOP/s" for k, v in peak.items()),
    ]
    table = [COLUMNS]
    for r in result["rows"]:
        table.append(
            (
                r["model"],
                r["metric"],
                r["setting"],
                r["unit"],
                _fmt(r["reference"]),
                _fmt(r["fast"]),
                "-" if r["ratio"] is None else f"{r['ratio']:.2f}x",
                "-" if r["peak_fraction"] is None else f"{100 * r['peak_fraction']:.1f}%",
                "-" if r["max_abs_diff"] is None else f"{r['max_abs_diff']:.1e}",
                r["measured_on"],
                r["note"],
            )
        )
    widths = [max(len(str(row[i])) for row in table) for i in range(len(COLUMNS))]
    for k, row in enumerate(table):
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
