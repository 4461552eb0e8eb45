"""``pstmo pretrain | train | evaluate``: P-STMO Stage I / Stage II / LiftFormer runs and evaluation.

Examples::

    pstmo pretrain --profile smoke                        # Stage I (MPM) on the demo data
    pstmo train --profile smoke --pretrained results/pretrain-p-stmo-s-demo-f27/best.pt
    pstmo train --profile smoke --model liftformer        # LiftFormer (Noam schedule)
    pstmo train --profile paper --dataset h36m --data-dir DATA --keypoints cpn_ft_h36m_dbb
    pstmo train ... --resume                              # continue a killed run from last.pt
    torchrun --nproc_per_node 2 -m pstmo train ...        # data-parallel (DDP)
    pstmo evaluate --checkpoint results/<run>/best.pt     # or a released official .pth/.bin
"""

from __future__ import annotations

import argparse
import json
import sys

#: (flag, TrainConfig field, type, help); every default is None = "the profile's value".
_OPTIONS: list[tuple[str, str, type, str]] = [
    ("--model", "model", str, "model preset: p-stmo-s, p-stmo or liftformer"),
    ("--dataset", "dataset", str, "demo, h36m, 3dhp or humaneva"),
    ("--data-dir", "data_dir", str, "folder with the data set files (not needed for demo)"),
    ("--keypoints", "keypoints", str, "2D keypoints: gt, det or a detector name"),
    ("--frames", "frames", int, "receptive field N (odd)"),
    ("--tds", "tds", int, "temporal downsampling rate s"),
    ("--pad-mode", "pad_mode", str, "training windows: edge (default) or official"),
    ("--epochs", "epochs", int, "number of epochs"),
    ("--max-steps", "max_steps", int, "stop after this many optimizer steps"),
    ("--batch-size", "batch_size", int, "global batch size"),
    ("--lr", "lr", float, "learning rate (LiftFormer: multiplier of the Noam schedule)"),
    ("--lr-decay", "lr_decay", float, "lr decay per epoch (P-STMO)"),
    ("--lambda-multi", "lambda_multi", float, "weight of the multi-frame loss (Stage II)"),
    ("--warmup", "warmup", int, "Noam warm-up steps (LiftFormer)"),
    ("--noam-factor", "noam_factor", float, "Noam factor (LiftFormer)"),
    ("--mask-strategy", "mask_strategy", str, "Stage I: temporal, spatial or spatio-temporal"),
    ("--mask-ratio", "mask_ratio", float, "Stage I temporal masking ratio"),
    ("--mask-joints", "mask_joints", int, "Stage I joints masked per frame"),
    ("--pretrained", "pretrained", str, "Stage I checkpoint whose encoder initialises Stage II"),
    ("--eval-every", "eval_every", int, "validate every K epochs"),
    ("--eval-max-frames", "eval_max_frames", int, "cap test frames per sequence during training"),
    ("--seed", "seed", int, "random seed"),
    ("--device", "device", str, "auto, cpu, cuda or cuda:K"),
    ("--threads", "threads", int, "torch CPU threads (smoke profile: 1)"),
    ("--checkpoint-every", "checkpoint_every", int, "also checkpoint every K steps"),
    ("--results-dir", "results_dir", str, "results root (default <repo>/results)"),
    ("--run-name", "run_name", str, "run folder name"),
]
_FLAGS: list[tuple[str, str, str]] = [
    ("flip", "flip", "flip augmentation (train) and flip test-time averaging"),
    ("amp", "amp", "bf16 autocast (CUDA only)"),
    ("compile", "compile", "torch.compile (CUDA only)"),
    ("deterministic", "deterministic", "deterministic algorithms (bit-exact resume)"),
    ("resume", "resume", "continue from <run>/last.pt if present"),
    ("progress", "progress", "tqdm progress bars"),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    for name, stage, text in (
        ("pretrain", "pretrain", "P-STMO Stage I: masked pose modeling (MPM) pre-training"),
        ("train", "train", "P-STMO Stage II (or LiftFormer with --model liftformer) training"),
    ):
        p = subparsers.add_parser(name, help=text, description=text + ". Writes results/<run>/.")
        p.add_argument("--profile", default="smoke", choices=("smoke", "paper"), help="base settings")
        for flag, dest, typ, help_text in _OPTIONS:
            p.add_argument(flag, dest=dest, type=typ, default=None, help=help_text)
        for flag, dest, help_text in _FLAGS:
            p.add_argument(
                f"--{flag}", dest=dest, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        p.add_argument("--set", dest="model_set", action="append", default=[], metavar="KEY=VALUE",
                       help="model config override, e.g. --set channel=64 (repeatable)")  # fmt: skip
        p.set_defaults(func=_train, stage=stage)

    e = subparsers.add_parser(
        "evaluate",
        help="evaluate a checkpoint (pstmo or released official P-STMO) on a data set",
        description="MPJPE, P-MPJPE, N-MPJPE, MPJVE per action (papers' protocol) of a checkpoint.",
    )
    e.add_argument("--checkpoint", required=True, help="pstmo best.pt/last.pt or an official checkpoint")
    e.add_argument("--dataset", default="demo")
    e.add_argument("--data-dir", default=None)
    e.add_argument("--keypoints", default="gt")
    e.add_argument("--split", default="test")
    e.add_argument(
        "--flip", action=argparse.BooleanOptionalAction, default=True, help="test-time flip averaging"
    )
    e.add_argument("--pck", action="store_true", help="also PCK@150mm and AUC (MPI-INF-3DHP)")
    e.add_argument(
        "--max-frames", type=int, default=None, help="score only the first frames of each sequence"
    )
    e.add_argument("--device", default="auto")
    e.add_argument("--output", default=None, help="write the metrics as JSON here")
    e.set_defaults(func=_evaluate)


def _parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _model_fields(preset: str) -> list[str]:
    """Names ``--set KEY=VALUE`` accepts: the fields of the preset's model config dataclass."""
    import dataclasses

    from pstmo.models import get_config

    return [f.name for f in dataclasses.fields(get_config(preset))]


def _train(args: argparse.Namespace) -> int:
    from pstmo import engine
    from pstmo.errors import PstmoError

    stage = args.stage
    if stage == "train" and args.model == "liftformer":
        stage = "liftformer"
    overrides = {
        dest: getattr(args, dest) for _, dest, *_ in _OPTIONS + _FLAGS if getattr(args, dest) is not None
    }
    try:
        cfg = engine.get_profile(args.profile, stage=stage, **overrides)
        model_fields = _model_fields(cfg.model)
        for item in args.model_set:
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
            if key not in model_fields:
                raise ValueError(
                    f"--set {key}: not an option of the {cfg.model} model; choose from {', '.join(model_fields)}"
                )
            cfg.model_overrides[key] = _parse_value(value)
        run = engine.pretrain(cfg) if stage == "pretrain" else engine.train(cfg)
    except (PstmoError, ValueError) as exc:
        print(f"pstmo {args.stage}: {exc}", file=sys.stderr)
        return 2
    if run.metrics:
        print(json.dumps(run.metrics, indent=2))
        print(f"results in {run.run_dir}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from pstmo import engine
    from pstmo.errors import PstmoError
    from pstmo.io import write_json

    try:
        res = engine.evaluate(
            args.checkpoint, dataset=args.dataset, split=args.split, flip=args.flip, data_dir=args.data_dir,
            keypoints=args.keypoints, pck=args.pck, device=args.device, max_frames=args.max_frames,
        )  # fmt: skip
    except (PstmoError, ValueError) as exc:
        print(f"pstmo evaluate: {exc}", file=sys.stderr)
        return 2
    print(res.per_action.round(1).to_string())
    print(json.dumps(res.metrics, indent=2))
    if args.output:
        write_json(args.output, res.metrics)
    return 0
