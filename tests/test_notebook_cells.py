"""The ablation notebooks train each model once, and train what their paper's claims compare.

Each notebook's cells are read where the notebook makes them: its code cells run (parameters as
given, a temporary ``out_dir``) up to its first ``nb.run(...)``, which is intercepted; nothing is
trained. Then:

- cells of different notebooks that train the same model plan the same run folder (the runner's
  fingerprint), so the runner trains it once: notebook 05's STMO row is 07's ``N27-s1`` (our
  N = 9, s = 1) and 01's ``scratch``; 05's SEM + TEM is 06's MLP L = 1; 05's +MPM (and its Stage I)
  is 01's spatio-temporal optimum ``st0.8-2``;
- the default grid of each notebook has the two cells of every claim of its paper table
  (:mod:`pstmo.report.claims`) that it means to judge.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import matplotlib as mpl
import pytest
import torch

from pstmo.experiments import notebook
from pstmo.experiments.runner import plan_runs
from pstmo.report import claims

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
#: notebook -> the paper table its verdicts judge
TABLES = {
    "01_masked_pose_modeling": "pstmo_fig4",
    "05_components": "pstmo_table3",
    "06_sem_backbone": "pstmo_table4",
    "07_tds_rate": "pstmo_table5",
}
#: claims of a table its notebook's default grid leaves out on purpose (07: our N = 9, 27 stand in
#: for the paper's 27, 81; no s = 9 and no N = 243 cell at demo scale)
NOT_IN_GRID = {
    "pstmo_table5": {"pstmo_table5/N27-s9", "pstmo_table5/N243-s2"},
}


class _Planned(Exception):
    """Raised by the intercepted ``Notebook.run``: the cells are known, stop the notebook."""


def notebook_cells(stem: str, out_dir: Path, **parameters):
    """The cells notebook ``stem`` hands to its first ``nb.run``, executing its code cells until then."""
    captured: list = []

    def intercept(self, cells, seeds=None, curves=None):
        captured.extend(cells)
        raise _Planned

    threads = torch.get_num_threads()  # setup() sets one thread for the smoke/demo profiles
    namespace: dict = {"__name__": f"notebook_{stem}"}
    with pytest.MonkeyPatch.context() as mp, mpl.rc_context():
        mp.setattr(notebook.Notebook, "run", intercept)
        try:
            for cell in jupytext.read(NB_DIR / f"{stem}.py").cells:
                if cell.cell_type != "code":
                    continue
                exec(compile(cell.source, f"{stem}.py", "exec"), namespace)  # noqa: S102 - our own notebook
                if "parameters" in cell.metadata.get("tags", []):
                    namespace.update(out_dir=str(out_dir / stem), **parameters)
        except _Planned:
            return captured
        finally:
            torch.set_num_threads(threads)
    raise AssertionError(f"{stem} never calls nb.run")


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    out = tmp_path_factory.mktemp("notebooks")
    return {stem: notebook_cells(stem, out) for stem in TABLES}


@pytest.mark.parametrize("profile", ["smoke", "demo"])
def test_the_same_model_is_one_run_across_notebooks(cells, profile, tmp_path):
    run_of = {}
    for stem, cs in cells.items():
        for run in plan_runs(cs, [0], profile=profile, results_dir=tmp_path):
            for name in run.requested_as:
                if run.seed == 0:  # a row with seeds of its own (Cell.seeds) also has others
                    run_of[(stem[:2], name)] = run.name
    assert run_of[("05", "stmo")] == run_of[("07", "N27-s1")] == run_of[("01", "scratch")]
    assert run_of[("05", "sem+tem")] == run_of[("06", "mlp-l1")]
    # the same fingerprint: the same Stage I run (its fingerprint is part of the Stage II one)
    assert run_of[("05", "stmo+mpm")] == run_of[("01", "st0.8-2")]
    # and different models are different runs
    assert len({run_of[("07", n)] for n in ("N27-s1", "N27-s3", "N81-s1", "N81-s3")}) == 4


@pytest.mark.parametrize("stem", sorted(TABLES))
def test_the_default_grid_has_the_cells_of_the_claims(cells, stem):
    table = TABLES[stem]
    names = {c.name for c in cells[stem]}
    missing = [
        f"{c.id} ({c.a} vs {c.b})"
        for c in claims.claims_for(table)
        if c.id not in NOT_IN_GRID.get(table, ()) and not {c.a, c.b} <= names
    ]
    assert not missing, f"{stem}: its default cells {sorted(names)} leave out the claims {missing}"
