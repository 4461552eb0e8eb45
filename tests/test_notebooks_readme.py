"""notebooks/README.md maps every table and figure of both papers to the notebook that makes it,
the same notebook ``pstmo reproduce --only <id>`` runs (``pstmo.experiments.reproduce.TABLE_TO_NOTEBOOK``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pstmo.experiments.reproduce import TABLE_TO_NOTEBOOK
from pstmo.report import papers

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
README = NB_DIR / "README.md"
#: the figures of both papers (papers.TABLES holds every table; Fig. 1 of each is the architecture)
FIGURES = (
    "P-STMO Fig. 1",
    "P-STMO Fig. 2",
    "P-STMO Fig. 3",
    "P-STMO Fig. 4",
    "LiftFormer Fig. 1",
    "LiftFormer Fig. 2",
)


def readme_rows() -> dict[str, tuple[str, str]]:
    """``{id: (paper item, notebook)}`` from the map's rows (rows without an id are keyed by their item)."""
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or cells[0] in ("id", "---"):
            continue
        key, item, notebook = cells[0].strip("`"), cells[1], cells[2].split()[0].strip("`")
        rows[key if key != "—" else item.split(":")[0]] = (item, notebook)
    return rows


def test_every_table_and_figure_of_both_papers_has_a_row():
    rows = readme_rows()
    items = [item.split(":")[0] for item, _ in rows.values()]
    tables = [f"{t.paper} {t.number}" for name, t in papers.TABLES.items() if "fig" not in name]
    missing = [x for x in (*tables, *FIGURES) if x not in items]
    assert not missing, f"notebooks/README.md has no row for {missing}"
    ids = {k for k in TABLE_TO_NOTEBOOK if not re.match(r"pstmo_", k)}
    assert ids <= set(rows), f"ids of TABLE_TO_NOTEBOOK without a row: {sorted(ids - set(rows))}"


@pytest.mark.parametrize("key", sorted(k for k in TABLE_TO_NOTEBOOK if not k.startswith("pstmo_")))
def test_the_row_names_the_notebook_reproduce_runs(key):
    rows = readme_rows()
    if key not in rows:
        pytest.fail(f"notebooks/README.md has no row for {key}")
    notebook = rows[key][1]
    if not (NB_DIR / f"{notebook}.ipynb").is_file():
        pytest.skip(f"{notebook} is not in this branch (yet)")
    assert notebook == TABLE_TO_NOTEBOOK[key]


def test_every_named_notebook_is_a_pair_here_or_mapped():
    names = {nb for _, nb in readme_rows().values()}
    known = {p.stem for p in NB_DIR.glob("[0-9][0-9]_*.ipynb")} | set(TABLE_TO_NOTEBOOK.values())
    assert names <= known | {"12_liftformer_results"}, sorted(names - known)
