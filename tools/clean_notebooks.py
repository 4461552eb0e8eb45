"""Keep the stored notebooks small: strip every output except those nbval-style tests compare.

    python tools/clean_notebooks.py                 # clean notebooks/NN_*.ipynb in place
    python tools/clean_notebooks.py --refresh 05 08 # first re-execute these (smoke profile, in a
                                                    # temporary folder) and store the new printed
                                                    # output of their checked cells

A notebook that stores the outputs of the last full demo reproduction (``pstmo reproduce
--profile demo`` writes them, with their provenance under the metadata key ``pstmo``) keeps
them: that is what a reader sees on opening it (``--strip`` removes them too). Otherwise:
a code cell whose first line is ``# NBVAL_CHECK_OUTPUT`` keeps its printed (stdout) output:
tests/test_notebooks_run.py (and ``pytest --nbval-lax``) compare it with a fresh run, so it
must be deterministic text (parameter counts, FLOPs at the papers' sizes). Every other output,
execution count and JupyterLab's per-cell run metadata is removed. Only the ``.ipynb`` changes;
its jupytext ``.py`` pair has no outputs. ``make notebooks`` runs this after ``jupytext --sync``.

The notebook metadata is set to what JupyterLab itself writes when it opens the notebook with
the project's kernel (``kernel_metadata``): the ``python3`` kernelspec as installed
(``"Python 3 (ipykernel)"``), the kernel's whole ``language_info`` (with this interpreter's
Python version) and jupytext's ``notebook_metadata_filter``. JupyterLab replaces any other
value as soon as the kernel answers, which marks a freshly opened notebook modified; with
these, opening one changes nothing (``tools/browser_check.py`` checks it in a browser).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
CHECK = "# NBVAL_CHECK_OUTPUT"
VOLATILE_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def kernel_metadata() -> dict:
    """The notebook metadata JupyterLab writes on opening a notebook with the project's kernel:
    ``kernelspec`` of the installed ``python3`` kernel, its ``language_info`` (ipykernel's, the
    running Python's version), and the ``jupytext`` key jupytext adds when it saves a pair."""
    from ipykernel.ipkernel import IPythonKernel
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    return {
        "jupytext": {"notebook_metadata_filter": "-all"},
        "kernelspec": {"display_name": spec.display_name, "language": spec.language, "name": "python3"},
        "language_info": json.loads(json.dumps(IPythonKernel.language_info)),
    }


def _stdout_only(outputs: list) -> list:
    text = "".join(
        o.get("text", "") for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stdout"
    )
    return [nbformat.v4.new_output("stream", name="stdout", text=text)] if text else []


def clean(nb: nbformat.NotebookNode, fresh: nbformat.NotebookNode | None = None, strip: bool = False) -> bool:
    """Strip ``nb`` in place (checked cells keep stdout, from ``fresh`` when given, matched by
    cell id). A notebook that stores the outputs of a full demo run (its metadata has ``pstmo``
    provenance, written by ``pstmo reproduce --profile demo``) keeps them unless ``strip``.
    Returns True when something changed."""
    before = nbformat.writes(nb)
    nb.metadata.update(kernel_metadata())
    if nb.metadata.get("pstmo", {}).get("profile") == "demo" and not strip:
        for cell in nb.cells:
            for key in VOLATILE_METADATA:
                cell.metadata.pop(key, None)
        return nbformat.writes(nb) != before
    nb.metadata.pop("pstmo", None)
    fresh_cells = {c.get("id"): c for c in fresh.cells} if fresh is not None else {}
    for cell in nb.cells:
        for key in VOLATILE_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        if cell.source.startswith(CHECK):
            source = fresh_cells.get(cell.get("id"), cell)
            cell.outputs = _stdout_only(source.get("outputs", []))
            cell.execution_count = 1 if cell.outputs else None
        else:
            cell.outputs, cell.execution_count = [], None
    return nbformat.writes(nb) != before


def execute(path: Path) -> nbformat.NotebookNode:
    """Run ``path`` in the smoke profile into a temporary folder and return the executed notebook."""
    from pstmo.experiments.sweep import execute_notebook

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "executed.ipynb"
        execute_notebook(path, out, {"out_dir": tmp})
        return nbformat.read(out, as_version=4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--refresh", nargs="+", default=[], metavar="NAME", help="notebooks to re-execute first"
    )
    parser.add_argument("--strip", action="store_true", help="also strip the stored outputs of a demo run")
    args = parser.parse_args(argv)
    paths = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
    unknown = [r for r in args.refresh if not any(p.stem == r or p.stem.startswith(r) for p in paths)]
    if unknown:
        parser.error(f"no notebook named {unknown}; names: {[p.stem for p in paths]}")
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        refresh = any(path.stem == r or path.stem.startswith(r) for r in args.refresh)
        if clean(nb, execute(path) if refresh else None, strip=args.strip):
            nbformat.write(nb, path)
            print(f"cleaned {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
