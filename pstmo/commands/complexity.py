"""``pstmo complexity``: parameters and FLOPs counted as the P-STMO and LiftFormer papers count.

Examples::

    pstmo complexity --model p-stmo-s --frames 243 --json
    pstmo complexity --model p-stmo-s --frames 243 --set components=sem,tem        # Table 3 row
    pstmo complexity --model liftformer --frames 27 --set dim=256 --set weight_sharing=true

``--set KEY=VALUE`` sets a field of the model configuration, as for ``pstmo train``; the fields
keep the papers' names (P-STMO: ``layers``, ``channel``, ``hidden``, ``sem``, ``sem_blocks``,
``components``; LiftFormer: ``dim``, ``ff_dim``, ``blocks``, ``weight_sharing``; ``heads`` both).
"""

from __future__ import annotations

import argparse
import json

from pstmo.commands import MAX_FRAMES, check_device, check_model, int_in
from pstmo.errors import ConfigError
from pstmo.models.config import get_config
from pstmo.options import field_types, parse_assignments
from pstmo.registry import PRESETS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "complexity",
        help="parameters and FLOPs per output frame, counted as in the papers' tables",
        description="Build a model and count its parameters and FLOPs for one N-frame clip (one output "
        "frame): params_total (every parameter), params_paper / flops_paper (P-STMO: thop's convention, "
        "Conv/Linear/BatchNorm only, FLOPs = 2 x MACs; LiftFormer: all parameters) and flops_total "
        "(torch FlopCounterMode, attention included). See pstmo.complexity for the exact rules.",
    )
    p.add_argument("--model", required=True, choices=tuple(PRESETS), help="model preset")
    p.add_argument(
        "--frames", type=int_in(1, MAX_FRAMES), default=243, help="N, input frames per clip (default 243)"
    )
    p.add_argument("--set", dest="model_set", action="append", default=[], metavar="KEY=VALUE",
                   help="a field of the model configuration, e.g. --set layers=4 (repeatable)")  # fmt: skip
    p.add_argument(
        "--device",
        default="meta",
        help="meta (default): count on shapes only, no arithmetic; cpu / cuda: run a real forward pass",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=main)


def model_config(model: str, frames: int, assignments: list[str]):
    """The model config of ``--model``, ``--frames`` and the ``--set`` assignments; a value the
    config refuses is a :class:`~pstmo.errors.ConfigError` naming it."""
    own = field_types(type(get_config(model)))
    other = next(p for p in PRESETS.values() if p.family != PRESETS[model].family)
    for item in assignments:
        key = str(item).partition("=")[0].strip()
        if key not in own and key in field_types(type(get_config(other.name))):
            raise ConfigError(
                f"--set {key}: a field of {other.title}'s configuration, not of {PRESETS[model].title}'s"
            )
    overrides = parse_assignments(assignments, own, what="--set")
    overrides.setdefault("frames", frames)
    try:
        return get_config(model, **overrides)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None


def main(args: argparse.Namespace) -> int:
    from pstmo.complexity import count, format_table
    from pstmo.runtime import resolve_device

    cfg = model_config(args.model, args.frames, args.model_set)
    check_model(cfg)  # sizes within the memory budget, before anything is built (even on meta)
    device = check_device(args.device, extra=("meta",))
    device = "meta" if device == "meta" else resolve_device(device)
    result = {"preset": args.model, **count(cfg, device=device)}
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0
