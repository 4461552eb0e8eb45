"""``pstmo sweep`` (papermill grids over one notebook) and ``pstmo reproduce`` (all notebooks)."""

from __future__ import annotations

import argparse

from pstmo.commands import MAX_JOBS, MAX_SEED, check_device, int_in
from pstmo.config import PROFILES
from pstmo.registry import DATASETS


def register(subparsers: argparse._SubParsersAction) -> None:
    sweep = subparsers.add_parser(
        "sweep",
        help="run a notebook once per grid point (papermill), resumable, aggregated into one table",
        description="Example: pstmo sweep notebooks/00_quickstart.ipynb --grid frames=9,27 --grid seed=0,1 "
        "(the grid keys are the notebook's parameters; --set fixes one for every point)",
    )
    sweep.add_argument("notebook", help="path of the .ipynb to run")
    sweep.add_argument(
        "--grid", action="append", default=[], metavar="KEY=V1,V2",
        help="a parameter and its values (Python literals when possible); repeat for more keys",
    )  # fmt: skip
    sweep.add_argument("--profile", default="smoke", choices=tuple(PROFILES))
    sweep.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a fixed parameter")
    sweep.add_argument("--out", default=None, help="sweep folder (default results/<notebook>-<keys>/)")
    sweep.add_argument("--name", default=None, help="sweep name (folder under results/)")
    sweep.set_defaults(func=_sweep)

    rep = subparsers.add_parser(
        "reproduce",
        help="run every notebook in order and write all tables and figures",
        description="Runs every notebook (00-12 but the interactive 11) with papermill into results/notebooks/.",
    )
    rep.add_argument("--profile", default="smoke", choices=tuple(PROFILES))
    rep.add_argument(
        "--only", nargs="+", default=None, metavar="TABLE", help="notebook names or ids like table3 fig4"
    )
    rep.add_argument("--dataset", default="demo", choices=tuple(DATASETS))
    rep.add_argument("--data-dir", default=None)
    rep.add_argument("--device", default="auto")
    rep.add_argument("--seed", type=int_in(0, MAX_SEED), default=0)
    rep.add_argument(
        "--jobs", type=int_in(1, MAX_JOBS), default=None,
        help="notebooks run at once (default: one per core, at most 4, in the smoke profile; 1 in paper)",
    )  # fmt: skip
    rep.add_argument(
        "--address", default=None,
        help="a Dask scheduler (tcp://host:8786) to run the trainings on (default: a local cluster, demo profile)",
    )  # fmt: skip
    rep.add_argument(
        "--store", action=argparse.BooleanOptionalAction, default=None,
        help="copy each notebook's outputs into notebooks/ with their provenance (default: on for demo)",
    )  # fmt: skip
    rep.set_defaults(func=_reproduce)


def _sweep(args: argparse.Namespace) -> int:
    from pstmo.data.files import check_regular_file
    from pstmo.errors import ConfigError
    from pstmo.experiments.sweep import parse_grid, run_sweep

    check_regular_file(args.notebook, "a notebook (.ipynb)")
    if not args.grid:
        raise ConfigError("give at least one --grid key=v1,v2")
    grid = parse_grid(args.grid)
    fixed = {k: v[0] for k, v in parse_grid(args.set).items()} if args.set else {}
    table = run_sweep(
        args.notebook, grid, profile=args.profile, out=args.out, parameters=fixed, name=args.name
    )
    print(table.to_string(index=False))
    return 0 if (table["status"] == "done").all() else 1


def _reproduce(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pstmo.data.files import check_data_dir
    from pstmo.errors import ConfigError
    from pstmo.experiments.reproduce import report, resolve_only, run_reproduce
    from pstmo.runtime import resolve_device

    resolve_only(args.only)  # an unknown table or notebook is refused before anything runs
    resolve_device(check_device(args.device))
    check_data_dir(args.data_dir)
    if args.dataset != "demo" and not args.data_dir:
        raise ConfigError(f"--dataset {args.dataset} needs --data-dir (the folder with its .npz files)")
    if args.data_dir and not Path(args.data_dir).is_dir():
        raise ConfigError(f"--data-dir {args.data_dir}: data folder not found")

    runs = run_reproduce(
        profile=args.profile, only=args.only, dataset=args.dataset, data_dir=args.data_dir,
        device=args.device, seed=args.seed, jobs=args.jobs, store=args.store, address=args.address,
    )  # fmt: skip
    print(report(runs))
    return 0 if all(r.ok for r in runs) else 1
