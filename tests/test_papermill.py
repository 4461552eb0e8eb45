"""papermill runs a notebook with overridden parameters, and they reach the results JSON."""

from __future__ import annotations

import json
from pathlib import Path

import papermill as pm
import pytest

NB = Path(__file__).resolve().parents[1] / "notebooks" / "08_complexity.ipynb"


@pytest.mark.slow
def test_parameters_reach_the_results_json(tmp_path):
    if not NB.is_file():
        pytest.skip(f"{NB} not found")
    pm.execute_notebook(
        str(NB),
        str(tmp_path / "executed.ipynb"),
        parameters={"seed": 3, "fps_frames": [], "out_dir": str(tmp_path)},
        cwd=str(NB.parent),
        progress_bar=False,
    )
    table = json.loads((tmp_path / "pstmo_table6.json").read_text())
    meta = table["meta"]
    assert meta["seed"] == 3 and meta["fps_frames"] == [] and meta["profile"] == "smoke"
    assert meta["notebook"] == "08_complexity" and meta["ours"] == "ours (demo data, smoke profile)"
    rows = {r["Method"]: r for r in table["rows"]}
    ours = [m for m, r in rows.items() if r["Params(M) (ours, exact)"] is not None]
    assert ours == ["P-STMO-S (N=81)", "P-STMO-S (N=243)", "P-STMO (N=243)"]
    # P-STMO Table 6: P-STMO-S (N=243) has 6.2M parameters and 1482M FLOPs per frame.
    row = rows["P-STMO-S (N=243)"]
    assert round(row["Params(M) (ours, exact)"], 1) == 6.2 and round(row["FLOPs(M) (ours, exact)"]) == 1482
    fps = [k for k in row if k.startswith("FPS (ours")]
    assert fps and row[fps[0]] is None  # no FPS measured: fps_frames was overridden to []
    summary = json.loads((tmp_path / "08_complexity.summary.json").read_text())
    assert summary["parameters"]["seed"] == 3
    md = (tmp_path / "pstmo_table6.md").read_text()
    line = next(r for r in md.splitlines() if r.startswith("| P-STMO-S (N=243) |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[1] == "6.2" and round(float(cells[2]), 1) == 6.2  # paper, ours
