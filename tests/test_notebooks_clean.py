"""The stored notebooks: small, no images, one papermill `parameters` cell, all in `pstmo reproduce`."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from pstmo.experiments.reproduce import NOTEBOOKS, TABLE_TO_NOTEBOOK

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
REQUIRED = {"profile", "dataset", "data_dir", "device", "seed"}
MAX_OUTPUT_BYTES = 50_000
MAX_NOTEBOOK_BYTES = 8_000_000  # a stored demo run: figures and a GIF
NOTEBOOK_FILES = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_notebooks_exist_and_are_listed_in_reproduce_order():
    names = [p.stem for p in NOTEBOOK_FILES if not p.stem.startswith("11_")]
    assert names == list(NOTEBOOKS), "every notebook except 11_explorer must be in pstmo.experiments.reproduce.NOTEBOOKS"
    assert set(TABLE_TO_NOTEBOOK.values()) <= set(NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_stored_outputs_are_a_demo_runs_with_provenance(path):
    """A stored notebook either carries the outputs of a full demo run (what a reader sees on
    opening it), with their provenance, or only the printed output of the cells nbval checks."""
    nb = _load(path)
    provenance = nb["metadata"].get("pstmo")
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES, f"{path.name}: {path.stat().st_size} bytes"
    if provenance is not None:
        assert provenance.get("profile") == "demo", f"{path.name}: stored outputs of a {provenance.get('profile')} run"
        assert {"commit", "command", "machine", "finished", "seconds", "parameters"} <= set(provenance)
        outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
        assert outputs and not any(o.get("output_type") == "error" for o in outputs), f"{path.name}: no outputs or an error"
        return
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            size = len(json.dumps(out))
            assert size <= MAX_OUTPUT_BYTES, f"{path.name} cell {i}: output of {size} bytes"
            data = out.get("data", {})
            assert not any(k.startswith("image/") for k in data), f"{path.name} cell {i}: stored image output"
        if cell["cell_type"] == "code" and cell.get("outputs"):
            assert "".join(cell["source"]).startswith("# NBVAL_CHECK_OUTPUT"), (
                f"{path.name} cell {i}: outputs are only stored for cells nbval checks"
            )


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_one_parameters_cell_with_the_required_names(path):
    cells = [c for c in _load(path)["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged 'parameters'"
    tree = ast.parse("".join(cells[0]["source"]))
    names = {
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    assert REQUIRED <= names, f"{path.name}: parameters cell lacks {sorted(REQUIRED - names)}"
    values = {
        t.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name) and t.id in REQUIRED
    }
    assert values["profile"] in ("smoke", "paper") and values["dataset"] in (
        "demo",
        "h36m",
        "3dhp",
        "humaneva",
    )


@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOK_FILES if not p.stem.startswith("11_")], ids=lambda p: p.stem
)
def test_opens_with_the_papers_claim_and_is_thin(path):
    cells = _load(path)["cells"]
    assert cells[0]["cell_type"] == "markdown" and "claim" in "".join(cells[0]["source"]).lower()
    assert cells[-1]["cell_type"] == "markdown", f"{path.name}: should end with what our numbers show"
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    for forbidden in ("class ", "nn.Module", "optimizer.step", ".backward("):
        assert forbidden not in code, f"{path.name}: defines {forbidden!r}; notebooks call pstmo"


def _clean_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "clean_notebooks", NB_DIR.parent / "tools" / "clean_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kernel_metadata() -> dict:
    return _clean_tool().kernel_metadata()


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_metadata_is_what_jupyterlab_writes_on_opening(path):
    """JupyterLab replaces ``kernelspec`` and ``language_info`` with the kernel's own as soon as
    it answers, and a notebook whose values differ opens marked modified; ``make notebooks``
    (tools/clean_notebooks.py) stores them (the Python version: only major.minor is compared
    here, a patch release elsewhere is a one-key change on first save)."""
    expected, meta = _kernel_metadata(), _load(path)["metadata"]
    meta = {k: v for k, v in meta.items() if k != "pstmo"}  # a stored demo run's provenance (kept by JupyterLab)
    assert set(meta) == set(expected), f"{path.name}: metadata keys {sorted(meta)}; run `make notebooks`"
    assert meta["kernelspec"] == expected["kernelspec"], f"{path.name}: run `make notebooks`"
    assert meta["jupytext"] == expected["jupytext"]
    version = lambda info: info.get("version", "").split(".")[:2]  # noqa: E731
    assert version(meta["language_info"]) == version(expected["language_info"])
    drop = lambda info: {k: v for k, v in info.items() if k != "version"}  # noqa: E731
    assert drop(meta["language_info"]) == drop(expected["language_info"]), (
        f"{path.name}: run `make notebooks`"
    )


def test_clean_keeps_a_demo_runs_outputs_and_strips_the_rest():
    import nbformat

    tool = _clean_tool()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output("stream", text="1\n")])]
    smoke = nbformat.reads(nbformat.writes(nb), as_version=4)
    assert tool.clean(smoke) and smoke.cells[0].outputs == []
    nb.metadata["pstmo"] = {"profile": "demo"}
    demo = nbformat.reads(nbformat.writes(nb), as_version=4)
    tool.clean(demo)
    assert demo.cells[0].outputs[0]["text"] == "1\n" and demo.metadata["pstmo"] == {"profile": "demo"}
    assert tool.clean(demo, strip=True) and demo.cells[0].outputs == [] and "pstmo" not in demo.metadata
