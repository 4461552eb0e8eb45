"""Every notebook is a jupytext pair (``NAME.ipynb`` + ``NAME.py`` in the percent format) and the
two halves hold the same cells. After editing a ``.py`` outside JupyterLab, ``make notebooks``
(``jupytext --sync``) updates its ``.ipynb``; JupyterLab (jupytext's contents manager) saves both."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import jupytext
import pytest
from jupytext.config import load_jupytext_config

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
SCRIPTS = sorted(NB_DIR.glob("[0-9][0-9]_*.py"))


def pair_diff(ipynb: Path) -> str:
    """The unified diff between ``ipynb`` written as py:percent (with the folder's jupytext
    config) and its ``.py`` pair; empty when the pair is in sync."""
    config = load_jupytext_config(str(ipynb))
    expected = jupytext.writes(jupytext.read(ipynb), fmt="py:percent", config=config)
    script = ipynb.with_suffix(".py")
    actual = script.read_text(encoding="utf-8") if script.is_file() else ""
    return "".join(
        difflib.unified_diff(
            actual.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            fromfile=f"{script.name} (stored)",
            tofile=f"{script.name} (from {ipynb.name})",
        )
    )


def test_the_folder_pairs_ipynb_with_percent_scripts():
    config = load_jupytext_config(str(NB_DIR / "00_quickstart.ipynb"))
    assert config is not None, "notebooks/jupytext.toml is missing"
    assert config.formats in ("ipynb,py:percent", ["ipynb,py:percent"])
    assert len(NOTEBOOKS) == 13, [p.name for p in NOTEBOOKS]


def test_every_script_has_its_notebook():
    assert [p.stem for p in SCRIPTS] == [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_pair_is_in_sync(path):
    assert path.with_suffix(".py").is_file(), f"{path.name} has no .py pair; run `make notebooks`"
    diff = pair_diff(path)
    assert not diff, f"{path.name} and its .py differ; run `make notebooks` (jupytext --sync):\n{diff}"


def test_an_edit_on_either_side_is_caught(tmp_path):
    for name in ("jupytext.toml", "00_quickstart.ipynb", "00_quickstart.py"):
        shutil.copy(NB_DIR / name, tmp_path / name)
    ipynb, script = tmp_path / "00_quickstart.ipynb", tmp_path / "00_quickstart.py"
    assert pair_diff(ipynb) == ""
    script.write_text(script.read_text().replace("seed = 0", "seed = 1"))
    assert "+seed = 0" in pair_diff(ipynb) and "-seed = 1" in pair_diff(ipynb)
    shutil.copy(NB_DIR / "00_quickstart.py", script)
    nb = jupytext.read(ipynb)
    nb.cells[0].source += "\nan edit made in JupyterLab without the pairing"
    jupytext.write(nb, ipynb, fmt="ipynb")
    assert "+# an edit made in JupyterLab" in pair_diff(ipynb)


def _clean_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "clean_notebooks", NB_DIR.parent / "tools" / "clean_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_clean_keeps_only_the_checked_printed_output():
    import nbformat

    tool = _clean_tool()
    checked = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(6.2)\nfig")
    checked.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="6.2\n"),
        nbformat.v4.new_output("stream", name="stderr", text="a warning\n"),
        nbformat.v4.new_output("stream", name="stdout", text="1482\n"),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBOR"}),
    ]
    plain = nbformat.v4.new_code_cell("nb.figure(fig, 'x')", execution_count=7)
    plain.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBOR"})]
    plain.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    nb = nbformat.v4.new_notebook(cells=[checked, plain])
    assert tool.clean(nb) is True
    assert [(o.output_type, o.text) for o in checked.outputs] == [("stream", "6.2\n1482\n")]
    assert plain.outputs == [] and plain.execution_count is None and "execution" not in plain.metadata
    assert tool.clean(nb) is False  # idempotent
