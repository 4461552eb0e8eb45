"""``pstmo pretrain | train | evaluate``: P-STMO Stage I / Stage II / LiftFormer runs and evaluation.

Examples::

    pstmo pretrain --profile smoke                        # Stage I (MPM) on the demo data
    pstmo train --profile smoke --pretrained results/pretrain-p-stmo-s-demo-f27/best.pt
    pstmo train --profile smoke --model liftformer        # LiftFormer (Noam schedule)
    pstmo train --profile paper --dataset h36m --data-dir DATA --keypoints cpn_ft_h36m_dbb
    pstmo train ... --resume                              # continue a killed run from last.pt
    torchrun --nproc_per_node 2 -m pstmo train ...        # data-parallel (DDP)
    pstmo evaluate --checkpoint results/<run>/best.pt     # or a released official .pth/.bin

Every training flag is generated from :class:`pstmo.config.TrainConfig` (its help text is the
field's); ``--set KEY=VALUE`` sets a field of the model configuration (typed: ``--set
weight_sharing=false`` is False).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from pstmo.commands import (
    MAX_BATCH,
    MAX_COUNT,
    MAX_REAL,
    MAX_SEED,
    MAX_TDS,
    MAX_THREADS,
    add_inference_arguments,
    check_bounds,
    check_device,
    check_model,
    int_in,
)
from pstmo.config import PROFILES, STAGES, TrainConfig
from pstmo.models.config import PRESETS
from pstmo.options import add_dataclass_arguments, field_types, parse_assignments
from pstmo.registry import DATASETS

#: Bounds of the numeric training options (TrainConfig checks the low ends and the ranges of
#: fractions; these keep huge values from overflowing or allocating: --tds 1e30, --threads 10**12).
TRAIN_BOUNDS: dict[str, tuple[float, float]] = {
    "tds": (1, MAX_TDS), "batch_size": (1, MAX_BATCH), "threads": (1, MAX_THREADS), "seed": (0, MAX_SEED),
    "epochs": (1, MAX_COUNT), "max_steps": (1, MAX_COUNT), "epoch_steps": (1, MAX_COUNT),
    "eval_every": (1, MAX_COUNT), "eval_max_frames": (1, MAX_COUNT), "patience": (0, MAX_COUNT),
    "warmup": (1, MAX_COUNT), "checkpoint_every": (0, MAX_COUNT),
    "lr": (0, MAX_REAL), "noam_factor": (0, MAX_REAL), "lambda_multi": (0, MAX_REAL),
}  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    for name, text in (
        ("pretrain", "P-STMO Stage I: masked pose modeling (MPM) pre-training"),
        ("train", "P-STMO Stage II (or LiftFormer with --model liftformer; --stage refine for the (*) rows)"),
    ):
        p = subparsers.add_parser(name, help=text, description=text + ". Writes results/<run>/.")
        p.add_argument(
            "--profile", default="smoke", choices=tuple(PROFILES), help="base settings (default smoke)"
        )
        p.add_argument("--model", default="p-stmo-s", choices=PRESETS, help="model preset")
        p.add_argument("--frames", type=int, default=None, help="window size N (odd; default: the profile's)")
        skip = ["model", "preset"] + (["stage"] if name == "pretrain" else [])
        dests = add_dataclass_arguments(p, TrainConfig, skip=skip)
        p.add_argument("--set", dest="model_set", action="append", default=[], metavar="KEY=VALUE",
                       help="a field of the model configuration, e.g. --set channel=64 (repeatable)")  # fmt: skip
        p.set_defaults(
            func=_train, command_stage="pretrain" if name == "pretrain" else None, config_dests=dests
        )

    e = subparsers.add_parser(
        "evaluate",
        help="evaluate a checkpoint (pstmo or released official P-STMO) on a data set",
        description="MPJPE, P-MPJPE, N-MPJPE, MPJVE per action (the papers' protocol: every frame of the "
        "split, per-action means then their mean) of a checkpoint.",
    )
    e.add_argument("--checkpoint", required=True, help="pstmo best.pt/last.pt or an official checkpoint")
    e.add_argument("--dataset", default="demo", choices=tuple(DATASETS))
    e.add_argument("--data-dir", default=None)
    e.add_argument("--keypoints", default="gt")
    e.add_argument("--split", default="test", choices=("test", "train"))
    e.add_argument("--tds", type=int_in(1, MAX_TDS), default=None,
                   help="TDS rate of the windows (default: the checkpoint's; official 243-frame models: 2)")  # fmt: skip
    e.add_argument("--pck", action="store_true", help="also PCK@150mm and AUC (MPI-INF-3DHP)")
    e.add_argument("--max-frames", type=int_in(1, MAX_COUNT), default=None,
                   help="score only the first frames of each sequence (not the papers' protocol)")  # fmt: skip
    e.add_argument("--p-mpjpe", choices=("correct", "official"), default="correct",
                   help="official: the official code's batch-mean P-MPJPE, to reproduce its printed numbers")  # fmt: skip
    add_inference_arguments(e)
    e.add_argument("--output", default=None, help="write the metrics as JSON to this file")
    e.set_defaults(func=_evaluate)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` of parsed ``pstmo train``/``pretrain`` flags."""
    from pstmo.config import get_profile
    from pstmo.models import get_config

    overrides: dict[str, Any] = {
        d: getattr(args, d) for d in args.config_dests if getattr(args, d) is not None
    }
    stage = args.command_stage or overrides.pop("stage", None) or "lift"
    overrides.pop("stage", None)
    model_cls = type(get_config(args.model))
    model_overrides = parse_assignments(args.model_set, field_types(model_cls), what="--set")
    if "frames" in model_overrides:
        overrides.setdefault("frames", model_overrides.pop("frames"))
    frames = args.frames if args.frames is not None else overrides.pop("frames", None)
    return get_profile(
        args.profile, stage, model=args.model, frames=frames, model_overrides=model_overrides, **overrides
    )


def check_config(cfg: TrainConfig) -> None:
    """What the command layer checks of a :class:`TrainConfig` before training starts (and
    before the run folder exists): numeric options within :data:`TRAIN_BOUNDS`, a device that
    can run a model, the model's window and weights within the memory budget (estimated from the
    config, nothing built), and regular files only (checkpoints, the data folder's files)."""
    from pstmo.data.files import check_data_dir, check_regular_file

    check_bounds(vars(cfg), TRAIN_BOUNDS)
    check_device(cfg.device)
    check_model(cfg.model, cfg.stage)
    for key in ("pretrained", "init_from"):
        if getattr(cfg, key):
            check_regular_file(getattr(cfg, key), "a checkpoint (.pt / .pth)")
    check_data_dir(cfg.data_dir)


def _train(args: argparse.Namespace) -> int:
    from pstmo.train import train

    cfg = config_from_args(args)
    check_config(cfg)
    args.interrupt_hint = f"resume with the same command and --resume (run folder {cfg.run_dir})"
    run = train(cfg)
    if run.metrics:
        print(json.dumps(run.metrics, indent=2))
        print(f"results in {run.run_dir}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from pstmo.data.files import check_data_dir, check_regular_file
    from pstmo.evaluate import evaluate
    from pstmo.io import check_writable, write_json

    check_device(args.device)
    check_regular_file(args.checkpoint, "a checkpoint (.pt / .pth / .bin)")
    check_data_dir(args.data_dir)
    if args.output:
        check_writable(args.output)
    res = evaluate(
        args.checkpoint, dataset=args.dataset, split=args.split, flip=args.flip, data_dir=args.data_dir,
        keypoints=args.keypoints, pck=args.pck, device=args.device, max_frames=args.max_frames, tds=args.tds,
        fast=args.fast, batch_size=args.batch_size, p_mpjpe=args.p_mpjpe, seq2seq=args.seq2seq,
    )  # fmt: skip
    print(res.per_action.round(1).to_string())
    print(f"protocol: {res.protocol}")
    print(json.dumps(res.metrics, indent=2))
    if args.output:
        write_json(args.output, res.metrics)
    return 0


__all__ = ["STAGES", "TRAIN_BOUNDS", "check_config", "config_from_args", "register"]
