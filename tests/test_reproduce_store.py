"""`pstmo reproduce --profile demo`: one shared Dask cluster for every notebook (address exported
to the kernels, runs counted for the ETA) and the outputs stored in the notebooks with provenance."""

from __future__ import annotations

import os

import nbformat
import papermill as pm
import pytest

from pstmo.experiments import runner
from pstmo.experiments.reproduce import NotebookRun, _provenance, default_jobs, shared_cluster, store_outputs


def _notebook(path, extra=""):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("profile = 'smoke'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# title"),
        params,
        nbformat.v4.new_code_cell(f"print(profile){extra}"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def test_store_outputs_copies_a_runs_outputs_and_its_provenance(tmp_path):
    stored = _notebook(tmp_path / "nb.ipynb")
    executed = tmp_path / "executed.ipynb"
    pm.execute_notebook(str(stored), str(executed), parameters={"profile": "demo"}, progress_bar=False)
    assert len(nbformat.read(executed, 4).cells) == 4  # papermill injected a parameters cell
    run = NotebookRun("nb", True, 12.3, executed)
    store_outputs(executed, stored, _provenance("demo", run, {"profile": "demo"}))
    nb = nbformat.read(stored, 4)
    assert len(nb.cells) == 3 and nb.cells[2].outputs[0]["text"] == "demo\n"
    prov = nb.metadata["pstmo"]
    assert prov["profile"] == "demo" and prov["seconds"] == 12.3 and prov["commit"] and prov["machine"]
    assert "finished" in prov and "command" in prov
    assert nb.metadata["kernelspec"]["display_name"] == "Python 3 (ipykernel)"  # the stored metadata stays


def test_store_outputs_refuses_a_run_of_another_notebook(tmp_path):
    stored = _notebook(tmp_path / "nb.ipynb")
    other = _notebook(tmp_path / "other.ipynb", extra="; print(1)")
    before = stored.read_bytes()
    with pytest.raises(ValueError, match="cells differ"):
        store_outputs(other, stored, {})
    assert stored.read_bytes() == before


def test_demo_reproduction_shares_one_cluster_and_counts_its_runs():
    assert default_jobs("demo", 12) == 12 and default_jobs("paper") == 1
    with shared_cluster("smoke") as counts:
        assert counts is None and runner.ADDRESS_ENV not in os.environ
    from distributed import Client

    with shared_cluster("demo") as counts:
        address = os.environ[runner.ADDRESS_ENV]
        with Client(address) as client:
            assert client.submit(sum, [1, 2], pure=False).result() == 3
            assert client.submit(sum, [3, 4], pure=False).result() == 7
        assert counts() == (2, 2)
    assert runner.ADDRESS_ENV not in os.environ
