"""``pstmo lift``: lift your own 2D keypoints (COCO results JSON, .npy, .npz) to 3D poses."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pstmo.commands import (
    MAX_COUNT,
    MAX_FPS,
    MAX_PIXELS,
    MAX_TDS,
    add_inference_arguments,
    check_bounds,
    check_device,
    float_in,
    int_in,
)
from pstmo.registry import LAYOUTS, MAX_GAP

if TYPE_CHECKING:  # pstmo.lift imports torch: the command line imports it only when it runs
    from pstmo.lift import LiftOptions


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "lift",
        help="lift 2D keypoints of your own video (COCO JSON / .npy / .npz) to 3D with a checkpoint",
        description="Read COCO-17 keypoints (a COCO results JSON ordered by image_id = frame, or an "
        ".npy/.npz array (T, 17, 2|3)), convert them to the Human3.6M-17 layout, fill low-confidence "
        "joints by temporal interpolation, normalise, lift every frame (window centred on it, edge "
        "padding) and write DIR/poses_3d.npz (key poses_3d (T, 17, 3), metres, root-relative) and "
        "DIR/poses_3d.gif.",
    )
    p.add_argument("keypoints", metavar="KEYPOINTS", help="COCO results .json, .npy or .npz")
    p.add_argument(
        "--checkpoint", required=True, help="pstmo best.pt/last.pt or an official P-STMO checkpoint"
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--width",
        type=float_in(0, MAX_PIXELS),
        default=None,
        help="image width in pixels (required for .json/.npy)",
    )
    p.add_argument("--height", type=float_in(0, MAX_PIXELS), default=None, help="image height in pixels")
    p.add_argument(
        "--fps",
        type=float_in(0, MAX_FPS),
        default=None,
        help="frame rate of the keypoints (models expect 50)",
    )
    p.add_argument(
        "--tds",
        type=int_in(1, MAX_TDS),
        default=None,
        help="temporal downsampling rate (default: from --fps)",
    )
    p.add_argument(
        "--min-score", type=float, default=0.3, help="joints below this confidence are interpolated"
    )
    p.add_argument("--max-gap", type=int, default=MAX_GAP,
                   help=f"longest run of missing frames to interpolate (default {MAX_GAP})")  # fmt: skip
    p.add_argument("--layout", choices=LAYOUTS, default="coco",
                   help="joint layout of the input (native: the model's own; coco-native: COCO-17 as they are, "
                   "for a model trained on COCO-ordered 2D such as the official in-the-wild checkpoint)")  # fmt: skip
    add_inference_arguments(p)
    p.add_argument("--no-animation", action="store_true", help="skip the GIF")
    p.add_argument(
        "--anim-stride", type=int_in(1, MAX_COUNT), default=1, help="draw every k-th frame in the GIF"
    )
    p.set_defaults(func=main)


def options_from_args(args: argparse.Namespace) -> LiftOptions:
    """The :class:`~pstmo.lift.LiftOptions` of parsed ``pstmo lift`` flags (checked when made)."""
    from pstmo.lift import LiftOptions

    return LiftOptions(
        width=args.width, height=args.height, fps=args.fps, tds=args.tds, min_score=args.min_score,
        max_gap=args.max_gap, layout=args.layout, flip=args.flip, fast=args.fast, batch_size=args.batch_size,
        seq2seq=args.seq2seq, device=args.device, animation=not args.no_animation, anim_stride=args.anim_stride,
    )  # fmt: skip


def main(args: argparse.Namespace) -> int:
    from pstmo.data.files import check_regular_file
    from pstmo.lift import lift_keypoints

    check_device(args.device)
    # --max-gap: its memory (the frames a gap adds) is checked by pstmo.data.keypoints before allocating
    check_bounds({"max_gap": args.max_gap}, {"max_gap": (0, MAX_COUNT)}, prefix="")
    check_regular_file(args.keypoints, "a keypoint file (.json, .npy or .npz)")
    check_regular_file(args.checkpoint, "a checkpoint (.pt / .pth / .bin)")
    res = lift_keypoints(args.keypoints, args.checkpoint, args.out, options_from_args(args))
    print(f"lifted {len(res.poses_3d)} frames ({int(res.filled.sum())} joints interpolated)")
    print(f"wrote {res.npz_path}")
    if res.animation_path is not None:
        print(f"wrote {res.animation_path}")
    return 0
