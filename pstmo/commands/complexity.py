"""``pstmo complexity``: parameters and FLOPs counted as the P-STMO and LiftFormer papers count."""

from __future__ import annotations

import argparse
import json

from pstmo.commands import MAX_COUNT, MAX_FRAMES, check_device, check_model, int_in
from pstmo.complexity import MODEL_CHOICES, config_from_options, count, format_table
from pstmo.models.config import COMPONENTS, SEM_KINDS
from pstmo.runtime import resolve_device

size = int_in(1, MAX_COUNT)


def _components(text: str) -> tuple[str, ...]:
    parts = tuple(c.strip() for c in text.split(",") if c.strip())
    bad = [c for c in parts if c not in COMPONENTS]
    if bad or not parts:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated subset of {','.join(COMPONENTS)}, got {text!r}"
        )
    return parts


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "complexity",
        help="parameters and FLOPs per output frame, counted as in the papers' tables",
        description="Build a model and count its parameters and FLOPs for one N-frame clip (one output "
        "frame): params_total (every parameter), params_paper / flops_paper (P-STMO: thop's convention, "
        "Conv/Linear/BatchNorm only, FLOPs = 2 x MACs; LiftFormer: all parameters) and flops_total "
        "(torch FlopCounterMode, attention included). See pstmo.complexity for the exact rules. "
        "Each model keeps its paper's names: P-STMO --layers/--channel/--hidden/--sem/--sem-blocks/"
        "--components, LiftFormer --dim/--ff-dim/--blocks/--weight-sharing; --heads both.",
    )
    p.add_argument("--model", required=True, choices=MODEL_CHOICES)
    p.add_argument(
        "--frames", type=int_in(1, MAX_FRAMES), default=243, help="N, input frames per clip (default 243)"
    )
    p.add_argument("--heads", type=size, default=None, help="attention heads (default 8)")
    stmo = p.add_argument_group("P-STMO (p-stmo-s, p-stmo)")
    stmo.add_argument("--layers", type=size, default=None, help="TEM layers (preset: 3 for -s, 4)")
    stmo.add_argument("--channel", type=size, default=None, help="C, token width (default 256)")
    stmo.add_argument("--hidden", type=size, default=None, help="H, FFN hidden size (default 512)")
    stmo.add_argument("--sem", choices=SEM_KINDS, default=None, help="SEM backbone (Table 4)")
    stmo.add_argument("--sem-blocks", type=size, default=None, help="L, sub-blocks of the SEM")
    stmo.add_argument(
        "--components",
        type=_components,
        default=None,
        help="comma-separated subset of sem,tem,mofa (Table 3)",
    )
    lf = p.add_argument_group("LiftFormer")
    lf.add_argument("--dim", type=size, default=None, help="d, the model width ('hd', default 512)")
    lf.add_argument("--ff-dim", type=size, default=None, help="feed-forward width (default 2048)")
    lf.add_argument("--blocks", type=size, default=None, help="B, encoder blocks (default 6)")
    lf.add_argument("--weight-sharing", action="store_true", help="share the attention layers across blocks")
    p.add_argument(
        "--device",
        default="meta",
        help="meta (default): count on shapes only, no arithmetic; cpu / cuda: run a real forward pass",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    cfg = config_from_options(
        args.model, args.frames, heads=args.heads, layers=args.layers, channel=args.channel,
        hidden=args.hidden, sem=args.sem, sem_blocks=args.sem_blocks, components=args.components,
        dim=args.dim, ff_dim=args.ff_dim, blocks=args.blocks, weight_sharing=args.weight_sharing,
    )  # fmt: skip
    check_model(cfg)  # sizes within the memory budget, before anything is built (even on meta)
    device = check_device(args.device, extra=("meta",))
    device = "meta" if device == "meta" else resolve_device(device)
    result = {"preset": args.model, **count(cfg, device=device)}
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0
