"""``pstmo bench``: the speed benchmark suite (see ``pstmo.bench``)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "bench",
        help="inference/training/evaluation throughput, FLOPs and peak fraction, reference vs fast path",
        description="Measure output frames/s (reference vs fast path, batch 1/64/1024, flip off/on), "
        "training samples/s and batch-building share, Human3.6M test-set evaluation time, and FLOPs "
        "per frame against the device's measured matmul peak. Prints one table and writes JSON.",
    )
    p.add_argument("--quick", action="store_true", help="fewer repeats and smaller batches (< 5 min)")
    p.add_argument("--device", default="auto", choices=("cpu", "cuda", "auto"))
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (CPU)")
    p.add_argument("--json", default="results/bench/bench.json", help="where to write the JSON result")
    p.add_argument(
        "--models",
        nargs="+",
        default=None,
        metavar="NAME",
        help="subset of: p-stmo-s-243 p-stmo-243 p-stmo-s-81 liftformer-243",
    )
    p.add_argument(
        "--batches", nargs="+", type=int, default=None, help="inference batch sizes (default 1 64 1024)"
    )
    p.add_argument("--repeats", type=int, default=None, help="timed repeats (median is reported)")
    p.add_argument("--skip-training", action="store_true", help="do not measure training steps")
    p.add_argument("--compile", action="store_true", help="torch.compile the fast path")
    p.add_argument("--no-bf16", action="store_true", help="no bf16 autocast in the CUDA fast path")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from pstmo.bench import PAPER_MODELS, BenchConfig, format_table, run

    cfg = BenchConfig(
        device=args.device,
        threads=args.threads,
        quick=args.quick,
        json_path=args.json,
        compile=args.compile,
        bf16=False if args.no_bf16 else None,
    )
    if args.models:
        unknown = [m for m in args.models if m not in PAPER_MODELS]
        if unknown:
            raise SystemExit(f"pstmo bench: unknown model(s) {unknown}; choose from {list(PAPER_MODELS)}")
        cfg.models = tuple(args.models)
    if args.batches:
        cfg.batches = tuple(args.batches)
    if args.repeats:
        cfg.repeats = args.repeats
    if args.skip_training:
        cfg.stages = ()
    result = run(cfg, log=lambda s: print(f"[bench] {s}", flush=True))
    print(format_table(result))
    if args.json:
        print(f"wrote {args.json}")
    return 0
