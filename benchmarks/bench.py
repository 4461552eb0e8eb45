"""``python -m benchmarks.bench`` (``make bench``): speed of pstmo against the official P-STMO code.

A program of the repository, not of the installed package: it imports ``pstmo``, never the
other way round, and has its own options (:func:`build_parser`).

Three tasks, each one group of implementations timed in interleaved rounds in one run
(``benchmarks.harness``), with identical random weights and inputs:

- ``inference``: P-STMO-S N=243, a batch of 64 windows, one output frame each (flip off).
- ``sequence``: every frame of a 2,000-frame sequence (200 with ``--quick``), flip on: the
  official test loop (all windows, a second forward for the flipped input) against what
  ``pstmo evaluate`` / ``lift`` run and the fast paths.
- ``train``: one training step (forward, backward, ``Adam(amsgrad)``) of Stage I (MPM) and
  Stage II at N = 81 and 243, batch 32 (``benchmarks.train_step``).

With ``--official-repo PATH`` (a clone of the official code, imported from there, never
copied) the official classes are the baseline of every speed-up; outputs are checked against
them (inference: max abs difference; training: loss and gradients with dropout 0). Without
it the baseline is pstmo with ``attention="reference"``, which is *not* the official code.

Every figure is a median over rounds with its interquartile range; a speed-up is the median
of the per-round ratios. A float32 matmul timed in every group gives the peak each figure is
compared with (``% peak`` = FLOPs of one call / its median time / the group's median peak).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from benchmarks.harness import PEAK, Group, interleaved, machine, spread
from benchmarks.train_step import official_train_step, pstmo_train_step
from pstmo.commands import MAX_BATCH, MAX_FRAMES, MAX_THREADS, int_in
from pstmo.data.windows import flip_poses, window_indices
from pstmo.errors import PstmoError
from pstmo.inference import Lifter
from pstmo.io import write_json
from pstmo.models import build_model, get_config
from pstmo.official.code import OfficialCode, build_official, from_official, import_official, to_official
from pstmo.official.weights import official_to_pstmo
from pstmo.paths import results_dir
from pstmo.skeleton import flip_permutation

JOINTS = 17


@dataclass
class Settings:
    """What to run; ``quick`` shortens the sequence and the number of rounds."""

    official_repo: str | None = None
    tasks: tuple[str, ...] = ("inference", "sequence", "train")
    quick: bool = False
    rounds: int | None = None  # None: 7 / 3 / 5 (inference / sequence / train), quick 3 / 2 / 3
    preset: str = "p-stmo-s"
    frames: int = 243
    inference_batch: int = 64
    sequence_frames: int | None = None  # None: 2000, quick 200
    sequence_batch: int = 256  # windows per forward of the official loop and the fast paths
    train_frames: tuple[int, ...] = (81, 243)
    train_stages: tuple[int, ...] = (1, 2)
    train_batch: int = 32
    peak_size: int = 2048
    threads: int | None = None
    seed: int = 0
    model_overrides: dict[str, Any] = field(default_factory=dict)  # e.g. tiny widths in tests

    def rounds_for(self, task: str) -> int:
        if self.rounds:
            return self.rounds
        return {"inference": 3, "sequence": 2, "train": 3}[task] if self.quick else {
            "inference": 7, "sequence": 3, "train": 5
        }[task]  # fmt: skip

    @property
    def sequence_length(self) -> int:
        return self.sequence_frames or (200 if self.quick else 2000)


# ---------------------------------------------------------------------------------------------- models


def randomize_batchnorm(model: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial BatchNorm running statistics and affine parameters (fresh BN is the identity)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
                n = m.num_features
                m.running_mean.copy_(0.1 * torch.randn(n, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(n, generator=gen))
                m.weight.copy_(1 + 0.1 * torch.randn(n, generator=gen))
                m.bias.copy_(0.1 * torch.randn(n, generator=gen))
    return model


def lifting_model(s: Settings, attention: str = "sdpa") -> nn.Module:
    """pstmo's Stage II model as users get it (``build_model``), random weights, eval mode."""
    torch.manual_seed(s.seed)
    model = build_model(get_config(s.preset, frames=s.frames, attention=attention, **s.model_overrides))
    return randomize_batchnorm(model, s.seed).eval()


def _reference_copy(model: nn.Module) -> nn.Module:
    """The same weights with ``attention="reference"`` (the baseline without the official code)."""
    ref = type(model)(dataclasses.replace(model.cfg, attention="reference"))
    ref.load_state_dict(model.state_dict())
    return ref.eval()


# ---------------------------------------------------------------------------------------------- tasks


def task_inference(s: Settings, official: OfficialCode | None, log: Callable[[str], None]) -> list[dict]:
    """Output frames/s of one batch of windows, flip off."""
    model = lifting_model(s)
    x = 0.3 * torch.randn(s.inference_batch, s.frames, JOINTS, 2, generator=torch.Generator().manual_seed(1))
    lifter = Lifter(model, s.frames)  # what evaluate / lift run: the fast copy, batched
    impls: dict[str, Callable[[], torch.Tensor]] = {}
    if official is not None:
        off = build_official(official, 2, model)
        x_off = to_official(x)
        impls["official"] = torch.no_grad()(lambda: from_official(off(x_off)[0])[:, 0])
    else:
        ref = _reference_copy(model)
        impls["pstmo reference"] = torch.no_grad()(lambda: ref(x).center[:, 0])
    impls["pstmo eval forward"] = torch.no_grad()(lambda: model(x).center[:, 0])
    impls["pstmo"] = lambda: lifter.predict(x, flip=False)
    setting = f"{s.preset} N={s.frames}, batch {s.inference_batch} windows, flip off"
    group = interleaved("inference", impls, s.rounds_for("inference"), s.peak_size, log)
    return rows_of(group, "inference", setting, "frames/s", s.inference_batch)


def official_sequence(official: nn.Module, pose: torch.Tensor, frames: int, batch: int) -> torch.Tensor:
    """The official test loop on one sequence ``(T, J, 2) -> (T, J, 3)``: every window (edge
    padding), a second forward on the flipped windows, the flipped-back output averaged in."""
    T = pose.shape[0]
    perm = flip_permutation(pose.shape[1])
    out = []
    with torch.no_grad():
        for rows in window_indices(torch.arange(T), torch.full((T,), T), frames).split(batch):
            w = pose[rows]
            plain = from_official(official(to_official(w))[0])
            flipped = from_official(official(to_official(flip_poses(w, perm)))[0])
            out.append((plain + flip_poses(flipped, perm)) / 2)
    return torch.cat(out)[:, 0]


def task_sequence(s: Settings, official: OfficialCode | None, log: Callable[[str], None]) -> list[dict]:
    """Frames/s of lifting every frame of one sequence with flip."""
    model = lifting_model(s)
    lifter = Lifter(model, s.frames)  # what evaluate / lift run: SEM once per frame, fast copy
    T = s.sequence_length
    pose = 0.3 * torch.randn(T, JOINTS, 2, generator=torch.Generator().manual_seed(2))
    impls: dict[str, Callable[[], torch.Tensor]] = {}
    if official is not None:
        off = build_official(official, 2, model)
        impls["official"] = lambda: official_sequence(off, pose, s.frames, s.sequence_batch)
    else:
        reference = Lifter(_reference_copy(model), s.frames, fast=False)
        impls["pstmo reference"] = lambda: torch.from_numpy(reference.lift(pose))
    windows = Lifter(model, s.frames, embed_once=False)  # the fast copy, window by window
    impls["pstmo, window by window"] = lambda: torch.from_numpy(windows.lift(pose))
    impls["pstmo"] = lambda: torch.from_numpy(lifter.lift(pose))
    # a preview, other outputs (the multi-frame head): its max|diff| is a difference, not an error
    impls["pstmo seq2seq preview"] = lambda: torch.from_numpy(lifter.lift(pose, seq2seq=True))
    setting = f"{s.preset} N={s.frames}, {T:,}-frame sequence, flip on"
    group = interleaved("sequence", impls, s.rounds_for("sequence"), s.peak_size, log)
    return rows_of(group, "sequence", setting, "frames/s", T)


def check_training_equality(
    classes: OfficialCode, stage: int, frames: int, batch: int = 4, seed: int = 0, **overrides: Any
) -> dict[str, float]:
    """Loss and gradients of pstmo's and the official step on one batch, dropout 0 (train-mode
    BatchNorm), same weights and masks: ``{"loss": |diff|, "grad": max |diff| over parameters}``."""
    ours = pstmo_train_step(stage, frames, batch, seed=seed, mask_mode="official", dropout=0.0, **overrides)
    theirs = official_train_step(classes, stage, frames, batch, model=ours.model, seed=seed, dropout=False)
    loss_ours = ours.loss(torch.Generator().manual_seed(seed))
    loss_theirs = theirs.loss(torch.Generator().manual_seed(seed))
    loss_ours.backward()
    loss_theirs.backward()
    grads = dict(ours.model.named_parameters())
    worst = 0.0
    for name, p in theirs.model.named_parameters():
        mine = grads[official_to_pstmo(name)]
        if p.grad is None or mine.grad is None:
            assert p.grad is None and mine.grad is None, name  # both unused (the final LayerNorms)
            continue
        worst = max(worst, (p.grad - mine.grad).abs().max().item())
    return {"loss": abs(loss_ours.item() - loss_theirs.item()), "grad": worst}


def task_train(s: Settings, official: OfficialCode | None, log: Callable[[str], None]) -> list[dict]:
    """Steps/s of one training step per stage and N."""
    rows = []
    for frames in s.train_frames:
        for stage in s.train_stages:
            name = f"train stage {'I' if stage == 1 else 'II'}"
            setting = f"{s.preset} N={frames}, batch {s.train_batch}"
            over = dict(preset=s.preset, seed=s.seed, **s.model_overrides)
            impls: dict[str, Callable[[], float]] = {}
            check = None
            ours = pstmo_train_step(stage, frames, s.train_batch, **over)
            if official is not None:
                log(f"{name} N={frames}: loss/gradient check against the official step (dropout 0)")
                check = check_training_equality(official, stage, frames, **over)
                impls["official"] = official_train_step(
                    official, stage, frames, s.train_batch, model=ours.model, seed=s.seed
                ).step
            else:
                ref = pstmo_train_step(stage, frames, s.train_batch, attention="reference", **over)
                impls["pstmo reference"] = ref.step
            impls["pstmo"] = ours.step
            group = interleaved(f"{name} N={frames}", impls, s.rounds_for("train"), s.peak_size, log)
            new = rows_of(group, name, setting, "steps/s", 1, compare_outputs=False)
            if check is not None:
                for row in new:
                    row["check"] = {"loss_abs_diff": check["loss"], "grad_max_abs_diff": check["grad"]}
            rows += new
    return rows


# ---------------------------------------------------------------------------------------------- results


def rows_of(
    group: Group, task: str, setting: str, unit: str, work: float, compare_outputs: bool = True
) -> list[dict]:
    """One row per implementation: rate (``work`` per second) with spread, speed-up over the
    group's first implementation (the baseline), share of the peak, output difference."""
    names = [n for n in group.times if n != PEAK]
    base = names[0]
    peak = group.peak_flops()
    rows = []
    for name in names:
        rate = spread([work / t for t in group.times[name]])
        t_med = spread(group.times[name])["median"]
        row = {
            "task": task,
            "setting": setting,
            "impl": name,
            "unit": unit,
            "rate": rate,
            "baseline": base,
            "speedup": group.ratio(base, name),
            "gflop_per_call": group.flops[name] / 1e9,
            "peak_share": group.flops[name] / t_med / peak["median"] if group.flops[name] else None,
            "peak_gflops": {k: (v / 1e9 if k != "n" else v) for k, v in peak.items()},
            "load": list(group.load),
        }
        if compare_outputs:
            out, ref = group.outputs[name], group.outputs[base]
            key = "preview_abs_diff" if "preview" in name else "max_abs_diff"  # a preview computes otherwise
            row[key] = (out.float() - ref.float()).abs().max().item()
        rows.append(row)
    return rows


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def format_table(result: dict[str, Any]) -> str:
    """The rows as a fixed-width text table with a header naming the machine and its load."""
    m = result["machine"]
    lines = [
        f"python -m benchmarks.bench  {m['date']}  {m['processor']}  {m['torch_threads']} torch threads on "
        f"{m['cpus_usable']} usable CPUs  torch {m['torch']}",
        f"load average (1 min) at start {result['load_start'][0]:.2f}, at end {result['load_end'][0]:.2f}"
        f"  baseline: {result['baseline']}",
    ]
    head = (
        "task",
        "setting",
        "impl",
        "median [IQR]",
        "speed-up [IQR]",
        "% peak",
        "max|diff|",
        "peak GFLOP/s",
    )
    table = [head]
    for r in result["rows"]:
        rate, sp = r["rate"], r["speedup"]
        table.append(
            (
                r["task"],
                r["setting"],
                r["impl"],
                f"{_fmt(rate['median'])} {r['unit']} [{_fmt(rate['q1'])}-{_fmt(rate['q3'])}]",
                f"{sp['median']:.2f}x [{sp['q1']:.2f}-{sp['q3']:.2f}]",
                "-" if r["peak_share"] is None else f"{100 * r['peak_share']:.0f}%",
                f"{r['max_abs_diff']:.1e}"
                if "max_abs_diff" in r
                else f"{r['preview_abs_diff']:.1e} (preview)"
                if "preview_abs_diff" in r
                else _check_text(r),
                f"{r['peak_gflops']['median']:.0f} [{r['peak_gflops']['q1']:.0f}-{r['peak_gflops']['q3']:.0f}]",
            )
        )
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for k, row in enumerate(table):
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append(
        f"rounds interleaved per group; speed-up = median of per-round ratios over the baseline; "
        f"IQR = interquartile range over {', '.join(f'{t} {n}' for t, n in result['rounds'].items())} rounds"
    )
    return "\n".join(lines)


def _check_text(row: dict) -> str:
    c = row.get("check")
    return "-" if c is None else f"loss {c['loss_abs_diff']:.1e} grad {c['grad_max_abs_diff']:.1e}"


TASKS = {"inference": task_inference, "sequence": task_sequence, "train": task_train}


def run(s: Settings, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the selected tasks; the JSON-able result."""
    say = log or (lambda msg: None)
    if s.threads:
        torch.set_num_threads(s.threads)
    official = import_official(s.official_repo) if s.official_repo else None
    start = machine()
    rows = []
    for task in s.tasks:
        rows += TASKS[task](s, official, say)
    return {
        "machine": start,
        "load_start": start["load_average"],
        "load_end": machine()["load_average"],
        "baseline": f"official classes from {official.path}" if official else "pstmo attention='reference'",
        "settings": asdict(s),
        "rounds": {t: s.rounds_for(t) for t in s.tasks},
        "rows": rows,
    }


DESCRIPTION = (
    "Speed of pstmo against the official P-STMO code (or pstmo's reference path): inference, "
    "whole-sequence lifting with flip and training steps, timed in interleaved rounds; medians with "
    "interquartile ranges, the float32 matmul peak and the machine load of the same run."
)


def build_parser() -> argparse.ArgumentParser:
    """The options of ``python -m benchmarks.bench``."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=DESCRIPTION)
    p.add_argument(
        "--official-repo", metavar="PATH", help="a clone of the official P-STMO code to compare with"
    )
    p.add_argument(
        "--quick", action="store_true", help="fewer rounds and a 200-frame sequence (a few minutes)"
    )
    p.add_argument(
        "--json", nargs="?", const="-", default=None, metavar="PATH",
        help="write the result as JSON to PATH; without PATH print it on stdout (the table then goes to "
        "stderr). Default: the table on stdout, the JSON to <repository>/results/bench/bench.json",
    )  # fmt: skip
    p.add_argument("--tasks", nargs="+", choices=tuple(TASKS), default=list(TASKS), help="what to measure")
    p.add_argument("--threads", type=int_in(1, MAX_THREADS), default=None, help="torch intra-op threads")
    p.add_argument("--rounds", type=int_in(1, 10_000), default=None, help="interleaved rounds per comparison")
    p.add_argument("--sequence-frames", type=int_in(1, 1_000_000), default=None,
                   help="sequence length (default 2000, quick 200)")  # fmt: skip
    p.add_argument("--train-frames", type=int_in(1, MAX_FRAMES), nargs="+", default=[81, 243],
                   help="N of the training steps")  # fmt: skip
    p.add_argument("--train-batch", type=int_in(1, MAX_BATCH), default=32, help="training batch size")
    return p


def main_args(args: argparse.Namespace) -> int:
    """Run with parsed options (:func:`build_parser`)."""
    settings = Settings(
        official_repo=args.official_repo,
        tasks=tuple(args.tasks),
        quick=args.quick,
        rounds=args.rounds,
        sequence_frames=args.sequence_frames,
        train_frames=tuple(args.train_frames),
        train_batch=args.train_batch,
        threads=args.threads,
    )
    result = run(settings, log=lambda msg: print(f"[bench] {msg}", file=sys.stderr, flush=True))
    table = format_table(result)
    if args.json == "-":
        print(table, file=sys.stderr)
        print(json.dumps(result, indent=2))
        write_json(results_dir("bench") / "bench.json", result)
    else:
        path = args.json or str(results_dir("bench") / "bench.json")
        write_json(path, result)
        print(table)
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.bench [options]``; a bad ``--official-repo`` is one line, exit 2."""
    args = build_parser().parse_args(argv)
    try:
        return main_args(args)
    except PstmoError as exc:
        print(f"python -m benchmarks.bench: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
