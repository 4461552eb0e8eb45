"""Execute every notebook once, as a reader's "Run All" would, and check what it shows.

One papermill run per notebook (smoke profile, demo data, a temporary results folder; the one
executor of ``pstmo``, :func:`pstmo.experiments.sweep.execute_notebook`) serves three checks:

- it runs without an error output (papermill raises on the first failing cell);
- every figure or animation it saved (``<out_dir>/figures/*.png|gif``) is also an image output
  of the executed notebook, byte for byte (inline in JupyterLab, not ``<Figure size ...>``);
- the cells marked ``# NBVAL_CHECK_OUTPUT`` print exactly what the stored notebook holds (what
  ``pytest --nbval-lax`` checks; exact counts such as Params/FLOPs at the papers' sizes).

``make test`` runs this instead of a second execution by nbval.
"""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import pytest

from pstmo.experiments.sweep import execute_notebook, notebook_parameters

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
CHECK = "# NBVAL_CHECK_OUTPUT"
IMAGE_TYPES = {".png": "image/png", ".gif": "image/gif"}
CELL_TIMEOUT_S = 900

#: Lighter parameters for this run (CI: 2 cores): one seed per ablation cell instead of the smoke
#: profile's 3. Every cell and code path still runs
#: (tables, verdicts and sentences from one seed are what a reader with ``seeds=1`` gets);
#: ``make reproduce`` and the stored notebooks use the notebooks' own defaults.
TEST_PARAMETERS: dict[str, dict] = {
    **{
        stem: {"seeds": 1}
        for stem in (
            "01_masked_pose_modeling",
            "02_h36m_results",
            "03_mpi_inf_3dhp",
            "04_humaneva",
            "05_components",
            "06_sem_backbone",
            "07_tds_rate",
            "09_liftformer_ablations",
            "12_liftformer_results",
        )
    },
}


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")


def _images(nb) -> dict[str, list[bytes]]:
    """Decoded image outputs of the executed notebook, by MIME type."""
    found: dict[str, list[bytes]] = {mime: [] for mime in IMAGE_TYPES.values()}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for mime in found:
                if mime in out.get("data", {}):
                    found[mime].append(base64.b64decode(out["data"][mime]))
    return found


def unshown_figures(executed: nbformat.NotebookNode, figures: Path) -> list[str]:
    """What a reader would miss: files under ``figures`` that are not an image output of
    ``executed`` (same bytes), and figures displayed only as ``<Figure size ...>`` text."""
    shown = _images(executed)
    saved = sorted(p for p in figures.glob("*") if p.suffix in IMAGE_TYPES)
    problems = [
        f"{p.name} saved but not shown inline"
        for p in saved
        if p.read_bytes() not in shown[IMAGE_TYPES[p.suffix]]
    ]
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            text = "".join(out.get("data", {}).get("text/plain", ""))
            if text.startswith("<Figure size") and "image/png" not in out["data"]:
                problems.append(f"a figure is displayed as text: {text}")
    return problems


def test_unshown_figures_are_reported(tmp_path):
    """The check itself: a shown PNG passes, a saved-only PNG and a text-only figure are reported."""
    (tmp_path / "shown.png").write_bytes(b"\x89PNG shown")
    (tmp_path / "hidden.png").write_bytes(b"\x89PNG hidden")
    (tmp_path / "notes.txt").write_text("not a figure")
    cell = nbformat.v4.new_code_cell("nb.figure(fig, 'shown'); display(fig)")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"image/png": base64.b64encode(b"\x89PNG shown").decode()}
        ),
        nbformat.v4.new_output("display_data", data={"text/plain": "<Figure size 960x340 with 3 Axes>"}),
    ]
    problems = unshown_figures(nbformat.v4.new_notebook(cells=[cell]), tmp_path)
    assert problems == [
        "hidden.png saved but not shown inline",
        "a figure is displayed as text: <Figure size 960x340 with 3 Axes>",
    ]


def test_test_parameters_are_parameters_of_their_notebooks():
    """A renamed notebook parameter must not silently leave the test run at full cost."""
    for stem, params in TEST_PARAMETERS.items():
        path = NB_DIR / f"{stem}.ipynb"
        assert path.is_file(), stem
        assert set(params) <= set(notebook_parameters(path)), (stem, params)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_shows_every_figure_it_saves(path, tmp_path, monkeypatch):
    # anything written through pstmo.paths (not only via out_dir) lands in tmp_path too
    monkeypatch.setenv("PSTMO_ROOT", str(tmp_path))
    executed_path = tmp_path / "executed.ipynb"
    parameters = {"out_dir": str(tmp_path), **TEST_PARAMETERS.get(path.stem, {})}
    execute_notebook(path, executed_path, parameters, timeout=CELL_TIMEOUT_S)
    executed = nbformat.read(executed_path, as_version=4)

    problems = unshown_figures(executed, tmp_path / "figures")
    assert not problems, f"{path.name}: " + "; ".join(problems)

    stored = {c.id: c for c in nbformat.read(path, as_version=4).cells}
    checked = [c for c in executed.cells if c.cell_type == "code" and c.source.startswith(CHECK)]
    for cell in checked:
        assert _stdout(cell) == _stdout(stored[cell.id]), (
            f"{path.name} cell {cell.id}: printed output differs from the stored one\n"
            f"--- stored\n{_stdout(stored[cell.id])}--- now\n{_stdout(cell)}"
        )
