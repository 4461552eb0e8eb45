"""Batch reruns of a notebook over a parameter grid (papermill), resumable.

``run_sweep("notebooks/07_tds_rate.ipynb", {"frames": [9, 27], "tds": [1, 3]})`` executes
the notebook once per grid point into ``results/<sweep>/<point>/`` (the executed notebook
is kept there as ``executed.ipynb``). Each point gets ``out_dir=<point folder>`` as a
parameter, so the notebook writes its tables and ``summary.json`` beside its executed copy.

Resumable: a point is finished when its done-file ``DONE`` exists (written atomically after
a successful run); finished points are skipped on the next call. A failed point gets
``status.json`` (``"status": "failed"``) and ``error.txt`` with the traceback, and the
sweep goes on with the other points. At the end the grid is aggregated into
``summary.csv`` / ``summary.md`` / ``summary.json`` and one plot ``summary.png``.

A notebook reports its scalar numbers for the aggregation with :func:`pstmo.report.tables.write_summary`
(``nb.summary`` in :mod:`pstmo.experiments.notebook`).
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import re
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pstmo.errors import ConfigError, DataError
from pstmo.io import check_writable_dir, exclusive_lock, write_json, write_text
from pstmo.options import parse_value
from pstmo.report.tables import SUMMARY_FILE

if TYPE_CHECKING:
    import pandas as pd

DONE_FILE = "DONE"
STATUS_FILE = "status.json"
EXECUTED = "executed.ipynb"


def notebook_parameters(notebook: str | os.PathLike) -> dict[str, Any]:
    """``{name: default}`` of a notebook's ``parameters`` cell (papermill's reading of it).

    :class:`DataError` when the file is not a Jupyter notebook or has no parameters cell.
    """
    import papermill as pm

    path = Path(notebook)
    if not path.is_file():
        raise FileNotFoundError(f"notebook not found: {path}")
    try:
        info = pm.inspect_notebook(str(path))
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for a non-notebook
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise DataError(f"not a Jupyter notebook (.ipynb): {reason}", path=str(path)) from None
    if not info:
        raise DataError("no cell tagged 'parameters': papermill cannot set its parameters", path=str(path))
    out = {}
    for name, entry in info.items():
        try:
            out[name] = ast.literal_eval(entry.get("default", "None"))
        except (ValueError, SyntaxError):
            out[name] = None  # an expression: no type to check against
    return out


def check_grid(notebook: str | os.PathLike, values: Mapping[str, Any]) -> None:
    """Refuse keys that are not parameters of ``notebook`` and values of another type than the
    parameter's default (an int parameter given text, a bool given a number), one sentence each."""
    params = notebook_parameters(notebook)
    for key, value in values.items():
        if key not in params:
            raise ConfigError(
                f"{key}: not a parameter of {Path(notebook).name}; its parameters: {', '.join(params)}"
            )
        default = params[key]
        ok = (
            default is None or isinstance(default, (list, tuple, dict)) or value is None
            or (isinstance(default, bool) and isinstance(value, bool))
            or (not isinstance(default, bool) and isinstance(default, int) and isinstance(value, int) and not isinstance(value, bool))
            or (isinstance(default, float) and isinstance(value, (int, float)) and not isinstance(value, bool))
            or (isinstance(default, str) and isinstance(value, str))
        )  # fmt: skip
        if not ok:
            raise ConfigError(
                f"{key}={value!r}: {Path(notebook).name} expects {type(default).__name__} values for {key} "
                f"(default {default!r})"
            )


def parse_grid(items: Iterable[str]) -> dict[str, list[Any]]:
    """``["frames=9,27", "tds=1,3"]`` -> ``{"frames": [9, 27], "tds": [1, 3]}``.

    Commas inside brackets or quotes do not split: ``"rates=[1,3],[1,9]"`` gives two lists.
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise ValueError(f"grid item {item!r}: expected key=v1,v2,...")
        grid[key.strip()] = [parse_value(v) for v in _split_top_level(values)]
    return grid


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets and quotes: ``"[9,27],[81]"`` -> ``["[9,27]", "[81]"]``."""
    parts, depth, quote, current = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """All combinations of the grid, in the order the keys and values were given."""
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def point_name(point: Mapping[str, Any]) -> str:
    """A folder name for one grid point, e.g. ``frames=9__tds=3``."""
    name = "__".join(f"{k}={v}" for k, v in point.items()) or "default"
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", name)


def _status(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def execute_notebook(
    source: str | os.PathLike,
    target: str | os.PathLike,
    parameters: Mapping[str, Any],
    kernel_name: str | None = None,
    timeout: int | None = None,
) -> None:
    """Run ``source`` with papermill into ``target`` (cwd: the notebook's folder); raises on error.

    The one place where ``pstmo`` executes notebooks (sweeps, ``pstmo reproduce``, the notebook
    tests): a local kernel over a Unix socket in a private temporary folder, no progress bar.
    The executed copy is written beside ``target`` and renamed over it when complete, so a full
    disk or a killed run never leaves a truncated ``target`` (a failed run still leaves its
    executed copy, with the error, for reading).
    """
    import papermill as pm

    source, target = Path(source).resolve(), Path(target)
    partial = target.with_name(f".{target.stem}.partial{target.suffix}")  # papermill wants .ipynb
    try:
        pm.execute_notebook(
            str(source), str(partial), parameters=dict(parameters), kernel_name=kernel_name, cwd=str(source.parent),
            progress_bar=False, execution_timeout=timeout, kernel_manager_class="pstmo.experiments._kernel.LocalKernelManager",
        )  # fmt: skip
    except BaseException:
        if partial.is_file() and partial.stat().st_size > 0:
            os.replace(partial, target)
        else:
            partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)


def describe_error(exc: BaseException) -> str:
    """One line naming the cause of a failed notebook: the exception raised in the cell
    (``ConfigError: frames=0: ...``) rather than papermill's wrapper."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    text = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {exc}"
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:500]


def run_point(
    notebook: str | os.PathLike,
    folder: str | os.PathLike,
    parameters: Mapping[str, Any],
    kernel_name: str | None = None,
    timeout: int | None = None,
) -> dict[str, Any]:
    """Execute ``notebook`` once with ``parameters`` into ``folder``; never raises for notebook errors.

    Returns the status record (also written to ``folder/status.json``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    notebook = Path(notebook).resolve()
    params = {**parameters, "out_dir": str(folder.resolve())}
    start = time.perf_counter()
    try:
        execute_notebook(notebook, folder / EXECUTED, params, kernel_name=kernel_name, timeout=timeout)
    except Exception as exc:  # a failed point is recorded, the sweep goes on
        status = {
            "status": "failed",
            "parameters": params,
            "error": describe_error(exc),
            "seconds": round(time.perf_counter() - start, 2),
        }
        write_text(folder / "error.txt", traceback.format_exc())
        write_json(folder / STATUS_FILE, status)
        return status
    status = {"status": "ok", "parameters": params, "seconds": round(time.perf_counter() - start, 2)}
    write_json(folder / STATUS_FILE, status)
    write_text(folder / DONE_FILE, f"finished {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    return status


def run_sweep(
    notebook: str | os.PathLike,
    grid: Mapping[str, Sequence[Any]],
    profile: str = "smoke",
    out: str | os.PathLike | None = None,
    parameters: Mapping[str, Any] | None = None,
    name: str | None = None,
    kernel_name: str | None = None,
    timeout: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run ``notebook`` at every point of ``grid`` and return the aggregated table.

    Args:
        notebook: path of the ``.ipynb`` (its ``parameters`` cell must name the grid keys).
        grid: ``{parameter: [values...]}``; every combination is one run.
        profile: passed to the notebook as ``profile`` (``"smoke"`` or ``"paper"``).
        out: sweep folder; default ``results/<name>/`` with ``name`` = ``<notebook>-<keys>``.
        parameters: fixed extra parameters for every point (e.g. ``{"dataset": "demo"}``).
    """
    from tqdm.auto import tqdm

    from pstmo.paths import results_dir

    notebook = Path(notebook)
    if not grid:
        raise ConfigError("the grid is empty; give at least one --grid key=v1,v2")
    fixed = {**(parameters or {}), "profile": profile}
    check_grid(notebook, {**fixed, **{k: v for k, vs in grid.items() for v in vs}})
    for point in grid_points(grid):
        check_grid(notebook, point)
    name = name or f"{notebook.stem}-{'-'.join(grid)}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+=-]*", name) or ".." in name:
        raise ConfigError(
            f"name={name!r}: use letters, digits and . _ + = - only, so the sweep stays in results/"
        )
    out_dir = check_writable_dir(out, "sweep folder") if out is not None else results_dir(name, create=False)
    with exclusive_lock(out_dir, "sweep folder"):
        points = grid_points(grid)
        bar = tqdm(points, desc=f"sweep {notebook.stem}", unit="point", disable=not progress)
        for point in bar:
            folder = out_dir / point_name(point)
            if (folder / DONE_FILE).is_file():
                bar.set_postfix_str(f"{point_name(point)}: done, skipped")
                continue
            bar.set_postfix_str(point_name(point))
            run_point(notebook, folder, {**fixed, **point}, kernel_name, timeout)
        table = aggregate(out_dir, grid)
        write_aggregate(table, out_dir, grid)
    return table


def aggregate(out_dir: str | os.PathLike, grid: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """One row per grid point: the grid values, ``status``, ``seconds`` and the notebook's metrics."""
    import pandas as pd

    rows = []
    for point in grid_points(grid):
        folder = Path(out_dir) / point_name(point)
        status = _status(folder)
        row: dict[str, Any] = {k: v if _scalar(v) else repr(v) for k, v in point.items()}  # lists as text
        row["status"] = "done" if (folder / DONE_FILE).is_file() else status.get("status", "missing")
        row["seconds"] = status.get("seconds")
        for summary in sorted(folder.glob(f"*{SUMMARY_FILE}")):
            metrics = json.loads(summary.read_text(encoding="utf-8")).get("metrics", {})
            row.update(
                {k: v for k, v in metrics.items() if isinstance(v, (int, float, str, bool)) or v is None}
            )
        if row["status"] == "failed":  # one line, no table separators: the Markdown table stays a table
            row["error"] = " ".join(str(status.get("error", "")).split()).replace("|", "/")
        rows.append(row)
    return pd.DataFrame(rows)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (int, float, str, bool))


def _metric_columns(table: pd.DataFrame, grid: Mapping[str, Sequence[Any]]) -> list[str]:
    skip = set(grid) | {"status", "seconds", "error"}
    return [
        c for c in table.columns if c not in skip and table[c].dtype.kind in "if" and table[c].notna().any()
    ]


def write_aggregate(
    table: pd.DataFrame, out_dir: str | os.PathLike, grid: Mapping[str, Sequence[Any]]
) -> dict:
    """Write ``summary.{json,csv,md}`` and (when there is a numeric metric) ``summary.png``."""
    from pstmo.report.tables import write_table

    out_dir = Path(out_dir)
    paths: dict[str, Any] = write_table(table, "summary", out_dir=out_dir, meta={"grid": dict(grid)})
    metrics = _metric_columns(table, grid)
    if metrics:
        paths["png"] = plot_sweep(table, grid, metrics[0], out_dir / "summary.png")
    return paths


def plot_sweep(table: pd.DataFrame, grid: Mapping[str, Sequence[Any]], metric: str, path: Path) -> Path:
    """A line plot of ``metric`` over the first grid key (hue = second key), or a heat map when
    the first two keys both have several values. Uses :mod:`pstmo.report.viz` (seaborn underneath)."""
    from pstmo.report import viz

    keys = list(grid)
    data = table[table[metric].notna()]
    if len(keys) >= 2 and len(grid[keys[0]]) > 1 and len(grid[keys[1]]) > 1:
        fig = viz.plot_ablation_heatmap(data, index=keys[1], columns=keys[0], values=metric)
    else:
        hue = keys[1] if len(keys) > 1 else None
        fig = viz.plot_masking_ratio_curve(data, x=keys[0], y=metric, hue=hue, ylabel=metric)
    fig.axes[0].set_title(f"{metric} over {', '.join(keys)}")
    return viz.save_figure(fig, path.stem, out_dir=path.parent)
