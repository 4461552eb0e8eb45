"""``pstmo.official.recipes.OFFICIAL_RECIPES`` = the table of docs/FIDELITY.md = the flags of both commands.

With a clone of the official code at ``OFFICIAL`` the cited README lines are checked too.
"""

from __future__ import annotations

import argparse
import shlex

import pytest
from conftest import OFFICIAL, ROOT

from pstmo.cli import build_parser
from pstmo.official.recipes import OFFICIAL_DEFAULTS, OFFICIAL_RECIPES, RECIPE_FIELDS

FIDELITY = ROOT / "docs" / "FIDELITY.md"
COLUMNS = [
    "stage", "model", "keypoints", "layers", "frames", "tds", "stride", "batch_size", "lr", "lr_decay",
    "epochs", "mask_ratio", "mask_joints", "refine",
]  # fmt: skip


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _table() -> dict[str, list[str]]:
    lines = FIDELITY.read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("| recipe | README | official command |"))
    rows = {}
    for ln in lines[start + 2 :]:
        if not ln.startswith("|"):
            break
        cells = [c.strip() for c in ln.strip().strip("|").split(" | ")]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_every_recipe_has_values_of_its_fields_types():
    import typing

    from pstmo.official.recipes import Recipe

    assert len(OFFICIAL_RECIPES) == 15 and RECIPE_FIELDS[:3] == ("script", "stage", "model")
    hints = typing.get_type_hints(Recipe)
    for name, r in OFFICIAL_RECIPES.items():
        for field in RECIPE_FIELDS:
            allowed = tuple(t for t in typing.get_args(hints[field]) or (hints[field],))
            allowed = tuple(typing.get_origin(t) or t for t in allowed)
            assert isinstance(getattr(r, field), allowed), (name, field, getattr(r, field))


def test_fidelity_table_matches_the_dict():
    rows = _table()
    assert list(rows) == list(OFFICIAL_RECIPES)
    for name, r in OFFICIAL_RECIPES.items():
        cells = rows[name]
        src = f"l.{r.readme[0]}" + (f" + l.{r.readme_table[0]}" if r.readme_table else "")
        assert cells[0] == src, name
        assert cells[1] == f"`{r.official}`", name
        assert cells[2:-1] == [_fmt(getattr(r, c)) for c in COLUMNS], name
        assert cells[-1] == (f"`{r.pstmo}`" if r.pstmo else "-"), name


def _official_args(command: str) -> argparse.Namespace:
    """The flags of an official command with the defaults of the official common/opt.py."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("-k", default=OFFICIAL_DEFAULTS["keypoints"])
    p.add_argument("-f", type=int, default=243)
    p.add_argument("-b", type=int, default=OFFICIAL_DEFAULTS["batch_size"])
    p.add_argument("-s", type=int, default=OFFICIAL_DEFAULTS["stride"])
    p.add_argument("-tds", type=int, default=OFFICIAL_DEFAULTS["tds"])
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("-lrd", type=float, default=OFFICIAL_DEFAULTS["lr_decay"])
    p.add_argument("-tmr", type=float, default=0.0)
    p.add_argument("-smn", type=int, default=0)
    p.add_argument("--MAE", action="store_true")
    p.add_argument("--refine", action="store_true")
    for flag in ("--train", "--reload", "--refine_reload", "--MAE_reload"):
        p.add_argument(flag, type=int, default=0)
    for flag in ("--previous_dir", "--previous_refine_name"):
        p.add_argument(flag, default="")
    tokens = shlex.split(command)
    assert tokens[0] == "python"
    args = p.parse_args(tokens[2:])
    args.script = tokens[1]
    return args


@pytest.mark.parametrize("name", list(OFFICIAL_RECIPES))
def test_official_command_flags_match_the_fields(name):
    r = OFFICIAL_RECIPES[name]
    a = _official_args(r.official)
    assert a.script == r.script
    stage = "pretrain" if a.MAE else "train" if a.train else "evaluate"
    assert stage == r.stage and (a.reload == 1) == (stage == "evaluate")
    # run_3dhp.py ignores -k: its loader reads the ground-truth 2D of data_*_3dhp.npz.
    keypoints = "gt" if a.script == "run_3dhp.py" else a.k
    assert (keypoints, a.f, a.b, a.s, a.tds, a.layers) == (
        r.keypoints, r.frames, r.batch_size, r.stride, r.tds, r.layers
    )  # fmt: skip
    assert r.model == {3: "p-stmo-s", 4: "p-stmo"}[a.layers]
    assert a.refine == r.refine
    if stage == "evaluate":
        assert r.lr is r.lr_decay is r.mask_ratio is r.mask_joints is None and r.epochs == 0
        return
    assert (a.lr, a.lrd) == (r.lr, r.lr_decay)
    assert r.epochs == OFFICIAL_DEFAULTS["nepoch"] - 1  # range(1, nepoch)
    if stage == "pretrain":
        assert (a.tmr, a.smn) == (r.mask_ratio, r.mask_joints)
        assert a.MAE_reload == 0
    else:
        assert r.mask_ratio is None and r.mask_joints is None
        assert a.MAE_reload == 1  # Stage II starts from the Stage I encoder


@pytest.mark.parametrize("name", [n for n, r in OFFICIAL_RECIPES.items() if r.pstmo])
def test_pstmo_command_flags_match_the_fields(name):
    r = OFFICIAL_RECIPES[name]
    tokens = shlex.split(r.pstmo)
    assert tokens[0] == "pstmo" and tokens[1] == r.stage
    args = build_parser().parse_args(tokens[1:])  # every flag is a real pstmo flag
    assert args.dataset == r.dataset and args.keypoints == r.keypoints
    if r.stage == "evaluate":
        assert args.tds == r.tds
        return
    assert args.profile == "paper" and args.model == r.model
    assert (args.frames, args.tds, args.batch_size, args.lr, args.lr_decay, args.epochs) == (
        r.frames,
        r.tds,
        r.batch_size,
        r.lr,
        r.lr_decay,
        r.epochs,
    )
    if r.stage == "pretrain":
        assert (args.mask_ratio, args.mask_joints) == (r.mask_ratio, r.mask_joints)
        assert args.mask_mode == "official"
    else:
        assert args.pretrained == "STAGE_I.pth"


def test_per_model_stage1_settings_of_the_readme():
    """The README's per-model tables (issue 11 item 3): P-STMO pre-trains with q^T 0.6 / m^S 3,
    P-STMO-S with GT 2D with 0.8 / 7, P-STMO-S with CPN 0.8 / 2; Stage II lr 1e-3 except
    P-STMO-S with CPN (7e-4); every training run 79 epochs."""
    r = OFFICIAL_RECIPES
    assert (r["h36m-p-stmo-cpn-stage1"].mask_ratio, r["h36m-p-stmo-cpn-stage1"].mask_joints) == (0.6, 3)
    assert (r["h36m-p-stmo-s-gt-stage1"].mask_ratio, r["h36m-p-stmo-s-gt-stage1"].mask_joints) == (
        0.8,
        7,
    )
    assert (r["h36m-p-stmo-s-cpn-stage1"].mask_ratio, r["h36m-p-stmo-s-cpn-stage1"].mask_joints) == (
        0.8,
        2,
    )
    assert [r[f"h36m-{m}-stage2"].lr for m in ("p-stmo-s-gt", "p-stmo-s-cpn", "p-stmo-cpn")] == [
        1e-3,
        7e-4,
        1e-3,
    ]
    assert {v.epochs for v in r.values() if v.stage != "evaluate"} == {79}


def test_cited_readme_lines_when_the_clone_is_present():
    readme = OFFICIAL / "README.md"
    if not readme.is_file():
        pytest.skip(f"no clone of the official P-STMO code at {OFFICIAL}")
    lines = readme.read_text().splitlines()
    for name, r in OFFICIAL_RECIPES.items():
        line, text = r.readme
        assert lines[line - 1].strip() == text, name
        if r.readme_table:
            line, row = r.readme_table
            assert lines[line - 1].strip() == row, name
