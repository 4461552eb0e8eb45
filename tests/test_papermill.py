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
    ours = [r for r in table["rows"] if r["Source"].startswith("ours (demo data, smoke profile)")]
    # P-STMO Table 6: P-STMO-S (N=243) has 6.2M parameters and 1482M FLOPs per frame.
    row = next(r for r in ours if r["Method"] == "P-STMO-S (N=243)")
    assert (row["Params(M)"], row["FLOPs(M)"]) == (6.2, 1482)
    assert row["FPS"] is None  # no FPS measured: fps_frames was overridden to []
    summary = json.loads((tmp_path / "08_complexity.summary.json").read_text())
    assert summary["parameters"]["seed"] == 3
    md_rows = (tmp_path / "pstmo_table6.md").read_text().splitlines()
    assert sum(r.startswith("| ours (demo data, smoke profile)") for r in md_rows) == 3
