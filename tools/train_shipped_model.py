"""Train the model the package ships (``pstmo.data.demo_model_path()``): P-STMO-S, N = 27, on
the embedded demo data; the interactive explorer (notebook 11) opens on it.

    python tools/train_shipped_model.py            # writes pstmo/data/demo/p-stmo-s_demo_f27.pt
    python tools/train_shipped_model.py --out /tmp/model.pt --profile smoke

As the paper (P-STMO Sec. 3): Stage I (masked pose modeling) on the training subjects, then
Stage II initialised from its encoder. Both with the ``demo`` training profile
(``pstmo.config.PROFILES``: early stopping on a held-out part of the training subjects), or,
where that profile is missing, the ``smoke`` profile run for 3,000 steps.

The file is a ``pstmo`` checkpoint of the Stage II model (``pstmo.checkpoint.payload``, read by
``checkpoint.load_model``, ``pstmo evaluate``, ``pstmo lift``) with the Stage I model in the same
format under the extra key ``"mpm"`` (the explorer's reconstruction panel). The temporary run
folders are not recorded in it (``results_dir``, ``run_name``, ``pretrained`` reset). The run
ends by loading the file back and scoring it on the demo test split beside the mean training
pose (``pstmo.evaluate.mean_pose_baseline``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

from pstmo import checkpoint
from pstmo.config import PROFILES, TrainConfig, get_profile
from pstmo.data import demo_model_path
from pstmo.evaluate import evaluate, mean_pose_baseline
from pstmo.train import pretrain, train

FRAMES = 27
NAME = "p-stmo-s_demo_f27"


def profile_config(stage: str, profile: str, **fields) -> TrainConfig:
    """``get_profile(<profile>, stage, "p-stmo-s", frames=27)``; ``auto``: ``demo`` when that
    profile exists, else ``smoke`` for 3,000 steps."""
    if profile == "auto":
        profile = "demo" if "demo" in PROFILES else "smoke"
    if profile == "smoke":
        fields = dict(max_steps=3000, epochs=1000, eval_every=1000, eval_max_frames=None) | fields
    return get_profile(profile, stage, "p-stmo-s", frames=FRAMES, **fields)


def shippable(cfg: TrainConfig) -> TrainConfig:
    """``cfg`` without the paths of this machine's temporary run folders."""
    return cfg.replace(results_dir=None, run_name=NAME, pretrained=None, init_from=None, overwrite=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=demo_model_path(), help="default: %(default)s")
    parser.add_argument("--profile", default="auto", help="auto (demo, else smoke), demo or smoke")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--max-steps", type=int, help="cap each stage's optimizer steps (quicker, rougher)")
    parser.add_argument(
        "--pretrained", type=Path, help="Stage I checkpoint to start Stage II from (no Stage I)"
    )
    parser.add_argument(
        "--stage2", type=Path,
        help="a trained Stage II checkpoint of --pretrained (no training: e.g. the runs of notebook 00's demo run)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    start = time.perf_counter()
    common = dict(seed=args.seed, device=args.device, progress=False, overwrite=True)
    if args.max_steps:
        common["max_steps"] = args.max_steps
    with tempfile.TemporaryDirectory(prefix="pstmo_shipped_") as tmp:
        if args.pretrained is None:
            cfg1 = profile_config("pretrain", args.profile, results_dir=tmp, run_name="stage1", **common)
            print(f"Stage I: {cfg1.name} ...", flush=True)
            stage1_path = pretrain(cfg1).checkpoint
        else:
            stage1_path = args.pretrained
        mpm, info1 = checkpoint.load_model(stage1_path)
        if info1.stage != "pretrain" or info1.config is None or info1.frames != FRAMES:
            parser.error(f"--pretrained {stage1_path}: not a pstmo Stage I checkpoint with N = {FRAMES}")
        if args.stage2 is None:
            cfg2 = profile_config(
                "lift", args.profile, results_dir=tmp, run_name="stage2", pretrained=str(stage1_path), **common
            )
            print(f"Stage II: {cfg2.name}, from {stage1_path} ...", flush=True)
            lifter, info2 = checkpoint.load_model(train(cfg2).checkpoint)
        else:
            if args.pretrained is None:
                parser.error("--stage2 needs --pretrained (the Stage I run it started from)")
            lifter, info2 = checkpoint.load_model(args.stage2)
            cfg2 = info2.config
            if info2.stage != "lift" or cfg2 is None or info2.frames != FRAMES:
                parser.error(f"--stage2 {args.stage2}: not a pstmo Stage II checkpoint with N = {FRAMES}")
        payload = checkpoint.payload(lifter, shippable(cfg2), info2.skeleton)
        payload["mpm"] = checkpoint.payload(mpm, shippable(info1.config), info1.skeleton)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        checkpoint.save(args.out, payload)
    trained_s = time.perf_counter() - start

    torch.manual_seed(0)
    model, info = checkpoint.load_model(args.out)  # the check: it loads as any checkpoint
    assert info.stage == "lift" and info.frames == FRAMES, info
    assert checkpoint.is_pstmo_checkpoint(checkpoint.load_checkpoint(args.out)["mpm"])
    ours = evaluate(model, "demo")
    base = mean_pose_baseline("demo")
    size = args.out.stat().st_size
    print(
        f"wrote {args.out} ({size / 1024:.0f} KiB) in {trained_s:.0f} s; demo test split: MPJPE "
        f"{ours.mpjpe:.1f} mm (mean training pose: {base.mpjpe:.1f} mm); {ours.protocol}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
