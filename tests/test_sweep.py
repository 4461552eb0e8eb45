"""pstmo.experiments.sweep: resumable papermill sweeps over a tiny throwaway notebook."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from pstmo.experiments.sweep import grid_points, parse_grid, point_name, run_sweep  # noqa: E402
from pstmo.options import parse_value  # noqa: E402

NOTEBOOK_CODE = """
import json, pathlib
pathlib.Path(out_dir, "runs.txt").open("a").write("run\\n")
if fail_at is not None and x == fail_at:
    raise RuntimeError(f"planned failure at x={x}")
from pstmo.report.tables import write_summary
write_summary(out_dir, {"x": x, "y": y, "profile": profile}, {"score": 10 * x + y})
"""


def _notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "smoke"\nx = 0\ny = 0\nfail_at = None\nout_dir = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(NOTEBOOK_CODE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_parse_values_and_grid():
    assert [parse_value(v) for v in ["3", "0.9", "True", "None", "mlp", "1e-3"]] == [
        3,
        0.9,
        True,
        None,
        "mlp",
        1e-3,
    ]
    assert parse_grid(["frames=9,27", "backbone=mlp,fc"]) == {"frames": [9, 27], "backbone": ["mlp", "fc"]}
    assert parse_grid(["rates=[1,3],[1, 9]", "name='a,b',c"]) == {
        "rates": [[1, 3], [1, 9]],
        "name": ["a,b", "c"],
    }
    with pytest.raises(ValueError, match="key=v1,v2"):
        parse_grid(["frames"])
    assert grid_points({"a": [1, 2], "b": ["u"]}) == [{"a": 1, "b": "u"}, {"a": 2, "b": "u"}]
    assert point_name({"q": 0.9, "m": "a/b"}) == "q=0.9__m=a_b"


def test_sweep_resumes_records_failures_and_aggregates(tmp_path):
    nb = _notebook(tmp_path)
    out = tmp_path / "sweep"
    grid = {"x": [1, 2], "y": [5]}
    table = run_sweep(nb, grid, out=out, parameters={"fail_at": 2}, progress=False)

    # the failed point is recorded and did not stop the other one
    ok, bad = out / "x=1__y=5", out / "x=2__y=5"
    assert (ok / "DONE").is_file() and (ok / "executed.ipynb").is_file()
    assert not (bad / "DONE").exists()
    status = json.loads((bad / "status.json").read_text())
    assert status["status"] == "failed" and "planned failure at x=2" in status["error"]
    assert "RuntimeError" in (bad / "error.txt").read_text()
    assert list(table["status"]) == ["done", "failed"]
    assert table.loc[0, "score"] == 15  # 10 * 1 + 5, computed by the notebook

    # parameters reached the notebook, the profile included
    summary = json.loads((ok / "summary.json").read_text())
    assert summary["parameters"] == {"x": 1, "y": 5, "profile": "smoke"}

    # aggregate table on disk
    assert (out / "summary.csv").read_text().splitlines()[0].startswith("x,y,status")
    assert "| 1 | 5 | done |" in (out / "summary.md").read_text()
    assert (out / "summary.png").is_file()

    # second run: the finished point is skipped, the failed one is retried (and now passes)
    table2 = run_sweep(nb, grid, out=out, parameters={"fail_at": None}, progress=False)
    assert (ok / "runs.txt").read_text().count("run") == 1
    assert (bad / "runs.txt").read_text().count("run") == 2
    assert list(table2["status"]) == ["done", "done"]
    assert list(table2["score"]) == [15, 25]


def test_missing_notebook_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.ipynb"):
        run_sweep(tmp_path / "nope.ipynb", {"x": [1]}, out=tmp_path)


def test_cli_sweep_runs_the_grid(tmp_path, capsys):
    from pstmo.cli import main

    nb = _notebook(tmp_path)
    code = main(["sweep", str(nb), "--grid", "x=3", "--grid", "y=1,2", "--out", str(tmp_path / "cli")])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "cli").iterdir() if p.is_dir()) == ["x=3__y=1", "x=3__y=2"]
    assert "31" in capsys.readouterr().out  # score = 10 * 3 + 1 in the printed table


def test_reproduce_only_accepts_names_and_table_ids():
    from pstmo.experiments.reproduce import NOTEBOOKS, resolve_only

    assert resolve_only(None) == list(NOTEBOOKS)
    assert resolve_only(["table3", "fig4", "liftformer_table6", "08"]) == [
        "01_masked_pose_modeling",
        "05_components",
        "08_complexity",
        "09_liftformer_ablations",
    ]
    assert resolve_only(["P-STMO Table 1", "00_quickstart.ipynb"]) == ["00_quickstart", "02_h36m_results"]
    with pytest.raises(ValueError, match="table9"):
        resolve_only(["table9"])


#: Every LiftFormer table and figure, and the P-STMO items made beside them, -> its notebook.
LIFTFORMER_ITEMS = {
    **{f"liftformer_table{n}": "12_liftformer_results" for n in (1, 2, 3, 4, 7, 8)},
    "liftformer_table5": "04_humaneva",
    "liftformer_table6": "09_liftformer_ablations",
    "liftformer_fig2": "12_liftformer_results",
    "table1": "02_h36m_results",
    "pstmo_table2": "03_mpi_inf_3dhp",
}


@pytest.mark.parametrize("item", sorted(LIFTFORMER_ITEMS))
def test_each_liftformer_item_maps_to_the_notebook_that_makes_it(item):
    from pstmo.experiments.reproduce import TABLE_TO_NOTEBOOK, resolve_only

    assert TABLE_TO_NOTEBOOK[item] == LIFTFORMER_ITEMS[item]
    assert resolve_only([item]) == [LIFTFORMER_ITEMS[item]]
    assert resolve_only([item.replace("_", " ").replace("liftformer", "LiftFormer")]) == [
        LIFTFORMER_ITEMS[item]
    ]


def test_reproduce_only_runs_the_selected_notebook(tmp_path, monkeypatch, capsys):
    """`pstmo reproduce --only liftformer_table5` executes 04_humaneva alone, with the parameters."""
    import pstmo.experiments.sweep
    from pstmo import paths
    from pstmo.cli import main

    calls = []
    monkeypatch.setattr(
        pstmo.experiments.sweep, "execute_notebook", lambda src, dst, params, **kw: calls.append((src, params))
    )
    monkeypatch.setattr(paths, "results_dir", lambda *parts, create=True: tmp_path.joinpath(*parts))
    (tmp_path / "notebooks").mkdir()
    assert main(["reproduce", "--only", "liftformer_table5", "--seed", "2"]) == 0
    ((source, params),) = calls
    assert Path(source).name == "04_humaneva.ipynb" and params["seed"] == 2 and params["profile"] == "smoke"
    assert "ok" in capsys.readouterr().out


def test_reproduce_runs_notebooks_in_parallel_reports_failures_and_keeps_their_order(tmp_path):
    from pstmo.experiments.reproduce import run_reproduce

    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    for name, code in (("00_quickstart", "x = 1"), ("08_complexity", "raise ValueError('frames=0: broken')")):
        nb = nbformat.v4.new_notebook()
        params = nbformat.v4.new_code_cell(
            'profile = "smoke"\ndataset = "demo"\ndata_dir = None\ndevice = "cpu"\nseed = 0'
        )
        params.metadata["tags"] = ["parameters"]
        nb.cells = [params, nbformat.v4.new_code_cell(code)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, nb_dir / f"{name}.ipynb")
    runs = run_reproduce(
        only=["08", "00"], notebooks_dir=nb_dir, out=tmp_path / "out", jobs=2, progress=False
    )
    assert [r.name for r in runs] == ["00_quickstart", "08_complexity"]
    assert runs[0].ok and not runs[1].ok and runs[1].error == "ValueError: frames=0: broken"
    assert (tmp_path / "out" / "08_complexity.ipynb").is_file()  # the failed copy is kept for reading
    assert not list(nb_dir.glob("kernel-ipc*")) and not list((tmp_path / "out").glob(".*partial"))
