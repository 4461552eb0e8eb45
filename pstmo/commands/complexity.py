"""``pstmo complexity``: parameters and FLOPs counted as the P-STMO and LiftFormer papers count."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "complexity",
        help="parameters and FLOPs per output frame, counted as in the papers' tables",
        description="Build a model and count its parameters and FLOPs for one N-frame clip (one output "
        "frame): params_total (every parameter), params_paper / flops_paper (P-STMO: thop's convention, "
        "Conv/Linear/BatchNorm only, FLOPs = 2 x MACs; LiftFormer: all parameters) and flops_total "
        "(torch FlopCounterMode, attention included). See pstmo.complexity for the exact rules.",
    )
    p.add_argument("--model", required=True, choices=("p-stmo-s", "p-stmo", "liftformer"))
    p.add_argument("--frames", type=int, default=243, help="N, input frames per clip (default 243)")
    p.add_argument("--layers", type=int, default=None, help="P-STMO: TEM layers (preset: 3 for -s, 4)")
    p.add_argument("--sem", choices=("mlp", "fc", "transformer"), default=None, help="P-STMO: SEM backbone")
    p.add_argument("--sem-blocks", type=int, default=None, help="P-STMO: L, sub-blocks of the SEM")
    p.add_argument(
        "--components",
        default=None,
        help="P-STMO: comma-separated subset of sem,tem,mofa (Table 3 ablations; default all)",
    )
    p.add_argument(
        "--hidden",
        type=int,
        default=None,
        help="liftformer: the model dim d (default 512); P-STMO: the FFN hidden size H (default 512)",
    )
    p.add_argument("--heads", type=int, default=None, help="attention heads (default 8)")
    p.add_argument("--blocks", type=int, default=None, help="liftformer: encoder blocks B (default 6)")
    p.add_argument(
        "--weight-sharing", action="store_true", help="liftformer: share the attention layers across blocks"
    )
    p.add_argument(
        "--device",
        default="meta",
        help="meta (default): count on shapes only, no arithmetic; cpu / cuda: run a real forward pass",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from pstmo.complexity import config_from_options, count, format_table

    components = None
    if args.components is not None:
        components = tuple(c.strip() for c in args.components.split(",") if c.strip())
    try:
        cfg = config_from_options(
            args.model,
            args.frames,
            layers=args.layers,
            sem=args.sem,
            sem_blocks=args.sem_blocks,
            components=components,
            hidden=args.hidden,
            heads=args.heads,
            blocks=args.blocks,
            weight_sharing=args.weight_sharing,
        )
    except ValueError as err:
        raise SystemExit(f"pstmo complexity: {err}") from None
    result = {"preset": args.model, **count(cfg, device=args.device)}
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0
