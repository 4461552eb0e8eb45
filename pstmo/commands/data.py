"""``pstmo data``: describe a data set (``info``) or validate pose files (``check``)."""

from __future__ import annotations

import argparse
import sys

from pstmo.registry import DATASETS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "data",
        help="data set summary (info) and file validation (check)",
        description="Inspect the data sets pstmo reads: the embedded CMU demo (default), Human3.6M, "
        "MPI-INF-3DHP and HumanEva-I in their VideoPose3D / P-STMO formats.",
    )
    sub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    info = sub.add_parser("info", help="subjects, clips, frames and cameras of a data set")
    info.add_argument("--dataset", default="demo", choices=tuple(DATASETS))
    info.add_argument(
        "--data-dir", default=None, help="folder with the data set's .npz files (not needed for demo)"
    )
    info.add_argument("--keypoints", default=None, help="2D keypoints: gt, det or a detector name")
    info.set_defaults(func=_info)
    check = sub.add_parser(
        "check",
        help="validate .npz pose files; exit 2 with one sentence per problem",
        description="Validate a VideoPose3D 3D file (positions_3d), 2D file (positions_2d + metadata) "
        "or P-STMO MPI-INF-3DHP file (data); with two paths the 3D/2D pair is checked together.",
    )
    check.add_argument("path", help="3D (or 2D / 3DHP) .npz file")
    check.add_argument("path_2d", nargs="?", default=None, help="2D .npz file to check against PATH")
    check.set_defaults(func=_check)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _info(args: argparse.Namespace) -> int:
    from pstmo.data import load_dataset
    from pstmo.data.files import check_data_dir, check_dataset
    from pstmo.errors import DataError

    keypoints = args.keypoints or ("det" if args.dataset == "h36m" else "gt")
    try:
        check_data_dir(args.data_dir)  # a FIFO or a device among the data files: refused before opening
        ds = load_dataset(args.dataset, data_dir=args.data_dir, keypoints=keypoints)
        problems = check_dataset(ds)  # splits, frame rate and subjects against the data
        info = ds.info()
    except DataError as exc:
        print(f"pstmo data info: {exc}", file=sys.stderr)
        return 2
    if problems:
        for problem in problems:
            print(f"pstmo data info: {problem}", file=sys.stderr)
        return 2
    print(
        f"data set {info['name']}: {info['joints']} joints, {info['fps']:g} fps, keypoints {keypoints}, fingerprint {ds.fingerprint()}"
    )
    print(f"{'subject':<14}{'split':<8}{'clips':>6}{'frames':>9}{'cameras':>9}")
    for subject, s in info["subjects"].items():
        print(f"{subject:<14}{s['split'] or '-':<8}{s['clips']:>6}{s['frames']:>9}{s['cameras']:>9}")
    print(f"{'total':<22}{info['clips']:>6}{info['frames']:>9}{info['cameras']:>9}")
    print("actions: " + ", ".join(info["actions"]))
    return 0


def _check(args: argparse.Namespace) -> int:
    from pstmo.data.files import check_files

    problems, summary = check_files(args.path, args.path_2d)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 2
    print(f"ok: {summary}")
    return 0
