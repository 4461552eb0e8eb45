"""The names of data sets, model presets and profiles are defined once (pstmo.registry, and
pstmo.config.PROFILES for the profiles); everything else reads them from there."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pstmo import registry
from pstmo.cli import build_parser
from pstmo.config import PROFILES
from pstmo.data import load_dataset
from pstmo.errors import ConfigError, DataError

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(
    p for folder in ("pstmo", "benchmarks", "tools", "notebooks") for p in (ROOT / folder).rglob("*.py")
)
#: every list of names, and the one file allowed to spell it out
NAME_LISTS = {
    "data sets": (set(registry.DATASETS), "pstmo/registry.py"),
    "presets": (set(registry.PRESETS), "pstmo/registry.py"),
    "profiles": (set(PROFILES), "pstmo/config.py"),
}


def _string_collections(tree: ast.AST):
    """Every literal tuple/list/set of strings, and the keys of every dict literal of strings to
    strings (a table of labels; a table of sizes per preset is data, not a second list)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = node.elts
        elif isinstance(node, ast.Dict) and all(
            isinstance(v, ast.Constant) and isinstance(v.value, str) for v in node.values
        ):
            items = [k for k in node.keys if k is not None]
        else:
            continue
        values = {e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str)}
        if values:
            yield node.lineno, values


def test_the_scan_finds_a_second_list():
    # the check itself: a module that lists the data sets again is found
    tree = ast.parse(
        'CHOICES = ("demo", "h36m", "3dhp", "humaneva")\nLABELS = {"p-stmo-s": "S", "p-stmo": "P", "liftformer": "L"}'
    )
    found = [values for _, values in _string_collections(tree)]
    assert set(registry.DATASETS) in found and set(registry.PRESETS) in found


@pytest.mark.parametrize("what", sorted(NAME_LISTS))
def test_names_are_listed_once(what):
    names, home = NAME_LISTS[what]
    second = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in SOURCES
        for line, values in _string_collections(ast.parse(path.read_text()))
        if names <= values and path.relative_to(ROOT).as_posix() != home
    ]
    assert not second, f"the {what} are listed again (read them from {home}): {second}"


def test_cli_choices_come_from_the_registry():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices

    def choices(command: str, dest: str) -> tuple:
        return tuple(next(a for a in sub[command]._actions if a.dest == dest).choices)

    assert choices("train", "profile") == tuple(PROFILES) == choices("sweep", "profile")
    assert choices("train", "model") == tuple(registry.PRESETS) == choices("complexity", "model")
    assert choices("train", "dataset") == tuple(registry.DATASETS) == choices("evaluate", "dataset")


def test_aliases_resolve_and_unknown_names_are_one_sentence():
    assert registry.dataset("Human3.6M".replace(".", "")).name == "h36m"  # "human36m"
    assert registry.dataset("MPI-INF-3DHP").name == "3dhp"
    assert registry.DATASETS["h36m"].detector("det") == "cpn_ft_h36m_dbb"
    assert registry.DATASETS["demo"].detector("det") == "det"  # the demo's noise model is not CPN
    with pytest.raises(
        ConfigError, match="unknown data set 'coco'; choose one of demo, h36m, 3dhp, humaneva"
    ):
        registry.dataset("coco")
    with pytest.raises(DataError, match="unknown data set 'coco'"):
        load_dataset("coco")


def test_3dhp_refuses_detected_keypoints_instead_of_ignoring_them(tmp_path):
    # MPI-INF-3DHP files hold ground-truth 2D only: "det" used to be ignored silently
    with pytest.raises(DataError, match="ground-truth 2D keypoints only"):
        load_dataset("3dhp", data_dir=tmp_path, keypoints="det")


def test_the_command_line_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, pstmo.cli as c; c.build_parser(); print(sorted(m for m in ('torch', 'pandas', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
