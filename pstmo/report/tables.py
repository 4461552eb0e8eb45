"""Our side of a table: how our numbers are labelled (data, profile, 2D input) and how tables are
written (JSON + CSV + Markdown, atomically) and shown in a notebook (folded to fit its width).

The papers' numbers themselves are :mod:`pstmo.report.papers`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pstmo.io import write_json, write_text
from pstmo.registry import DATASETS

if TYPE_CHECKING:  # pandas is imported lazily: `import pstmo.report.tables` stays cheap
    import pandas as pd


def ours_label(dataset: str = "demo", profile: str = "smoke") -> str:
    """How our numbers are labelled next to the paper's, e.g. ``"ours (demo data, smoke profile)"``.

    The label always names the data and the profile, so numbers from the bundled demo data
    are never read as Human3.6M numbers.
    """
    info = DATASETS.get(dataset)
    return f"ours ({info.title if info else dataset} data, {profile} profile)"


def _is_missing(value: Any) -> bool:
    """None, NaN or pandas' NA (an ``Int64`` column's empty cell)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def keypoints_label(dataset: str, keypoints: str) -> str:
    """What the 2D inputs are, in words, for table labels: on the demo data ``"det"`` is the
    documented noise model (``pstmo/data/demo/README.md``), never called CPN."""
    if keypoints == "gt":
        return "ground-truth 2D"
    if dataset == "demo":
        return "demo 'det' 2D (simulated detector noise on the ground truth, not CPN)"
    info = DATASETS.get(dataset)
    detector = info.detector(keypoints) if info else keypoints
    if detector == "cpn_ft_h36m_dbb":
        return "CPN-detected 2D (cpn_ft_h36m_dbb)"
    return f"detected 2D ({detector})"


def _cell(value: Any, decimals: int) -> str:
    if _is_missing(value):
        return "-"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, float):
        text = f"{value:.{decimals}f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    return str(value).replace("|", "\\|")


def _whole_number_columns(df: pd.DataFrame) -> set[int]:
    """Positions of the numeric columns whose values are all whole numbers (``N``, ``FLOPs(M)``,
    a column of counts that became float because another row has no value)."""
    out = set()
    for i, (_, col) in enumerate(df.items()):
        values = [v for v in col.tolist() if not _is_missing(v)]
        if values and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() for v in values
        ):
            out.add(i)
    return out


def _formatted(df: pd.DataFrame, decimals: int) -> list[list[str]]:
    """The cells of ``df`` as :func:`to_markdown` writes them, row by row."""
    whole = _whole_number_columns(df)
    return [
        [str(int(v)) if i in whole and not _is_missing(v) else _cell(v, decimals) for i, v in enumerate(row)]
        for row in df.itertuples(index=False)
    ]


def to_markdown(df: pd.DataFrame, decimals: int = 2) -> str:
    """A GitHub Markdown table of ``df`` (booleans as ✓/✗, NaN as ``-``, a column of whole
    numbers as integers; no extra dependency)."""
    header = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "| " + " | ".join("---" for _ in df.columns) + " |"
    lines = [header, rule] + ["| " + " | ".join(cells) + " |" for cells in _formatted(df, decimals)]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ displayed tables

#: Width budget of a table shown in a notebook, in characters of :func:`table_width` (about
#: 7.4 px each, measured in JupyterLab 4): a table of at most this many fits JupyterLab's output
#: area at a 1,150 px wide window even with the file browser open (716 px; 970 px with it closed).
DISPLAY_WIDTH = 96
#: The suffix :func:`beside` gives the paper's columns that our rows do not have.
PAPER_SUFFIX = " (paper)"


def _longest_word(text: str) -> int:
    return max((len(w) for w in str(text).split()), default=1)


def table_width(df: pd.DataFrame, decimals: int = 2) -> int:
    """The narrowest ``df`` renders as an HTML table, estimated in characters: per column the
    longest unbreakable word of its header and cells (a browser wraps at spaces, never inside a
    word or number) plus 2 for the cell padding. A table overflows a notebook when this is wider
    than the output area, whatever the window; see :data:`DISPLAY_WIDTH`."""
    rows = _formatted(df, decimals)
    return sum(
        max([_longest_word(c)] + [_longest_word(r[i]) for r in rows]) + 2 for i, c in enumerate(df.columns)
    )


def _label_columns(df: pd.DataFrame) -> list:
    """The leading columns that name a row: up to the last text column among the first four
    (``Source, Method``; ``cell``; the configuration columns ``hidden, heads, blocks, "ours:
    hidden / heads / blocks"``), else the first column."""
    import pandas as pd

    text = [
        i for i, c in enumerate(df.columns[:4])
        if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))
    ]  # fmt: skip
    return list(df.columns[: (text[-1] if text else 0) + 1])


def split_for_display(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``(summary, paper_only)`` of a per-action table stacked by :func:`beside` (a ``Source``
    column of ``"paper"`` or our label, the paper's actions as ``"<action> (paper)"``).

    ``summary``: the row labels, then our columns (those the paper's rows leave empty, e.g.
    ``"Walk (demo)"``; a spread ``"std ..."`` after the column it describes), then the columns
    both have (``"Avg"``), every row. ``paper_only``: the paper's rows with the columns only they
    have, headers without ``" (paper)"``. A table of another shape comes back whole, with None.
    """
    paper_cols = [c for c in df.columns if str(c).endswith(PAPER_SUFFIX)]
    if "Source" not in df.columns or not paper_cols:
        return df, None
    is_paper = (df["Source"] == "paper").to_numpy()
    if is_paper.all() or not is_paper.any() or df.loc[~is_paper, paper_cols].notna().to_numpy().any():
        return df, None  # a (paper) column our rows fill is a side-by-side column: keep it
    labels = _label_columns(df)
    rest = [c for c in df.columns if c not in labels and c not in paper_cols]
    ours = [c for c in rest if df.loc[is_paper, c].isna().all()]
    spread = [c for c in ours if str(c).lower().startswith("std")]
    shared = [c for c in rest if c not in ours]
    summary = df[labels + [c for c in ours if c not in spread] + shared + spread]
    detail_labels = [c for c in labels if df.loc[is_paper, c].nunique() > 1]  # not "Source": all "paper"
    detail = df.loc[is_paper, detail_labels + paper_cols].reset_index(drop=True)
    detail = detail.rename(columns={c: str(c)[: -len(PAPER_SUFFIX)] for c in paper_cols})
    return summary, detail


def column_chunks(df: pd.DataFrame, width: int = DISPLAY_WIDTH, decimals: int = 2) -> list[pd.DataFrame]:
    """``df`` cut into as few tables of consecutive columns as fit ``width`` characters
    (:func:`table_width`; a single column wider than that gets a table of its own), of about
    equal widths, each repeating the row-label columns."""
    labels = _label_columns(df)
    rest = [c for c in df.columns if c not in labels]
    if not rest:
        return [df]
    base = table_width(df[labels], decimals) if labels else 0
    widths = [table_width(df[[c]], decimals) for c in rest]

    def cut(limit: int) -> list[list]:
        chunks: list[list] = [[]]
        used = base
        for c, w in zip(rest, widths):
            if chunks[-1] and used + w > limit:
                chunks.append([])
                used = base
            chunks[-1].append(c)
            used += w
        return chunks

    chunks = cut(width)
    limit = width
    while limit > base + max(widths) and len(cut(limit - 1)) == len(chunks):
        limit -= 1  # the narrowest limit with as many tables: balanced widths
    return [df[labels + cols] for cols in cut(limit)]


def display_markdown(
    df: pd.DataFrame, decimals: int = 2, width: int = DISPLAY_WIDTH, note: str | None = None
) -> str:
    """What a notebook shows of ``df`` (:meth:`pstmo.experiments.notebook.Notebook.table`): one Markdown
    table when it fits ``width`` characters (:func:`table_width`), else

    - a per-action table of :func:`beside`: the summary (row labels, our columns, then the
      shared ``Avg``), ``note``, then the paper's per-action columns folded in a collapsed
      ``<details>`` block, cut into tables that fit;
    - any other table: cut into tables of consecutive columns that fit, each repeating the
      row labels, then ``note``.

    The stored files (:func:`write_table`) keep every column in one table.
    """
    after = f"\n{note}\n" if note else ""
    if table_width(df, decimals) <= width:
        return to_markdown(df, decimals) + after
    summary, detail = split_for_display(df)
    if detail is None:
        return "\n".join(to_markdown(t, decimals) for t in column_chunks(df, width, decimals)) + after
    parts = [to_markdown(t, decimals) for t in column_chunks(summary, width, decimals)]
    names = [c for c in detail.columns if c not in _label_columns(detail)]
    folded = "\n".join(to_markdown(t, decimals) for t in column_chunks(detail, width, decimals))
    fold = (
        f"\n<details>\n<summary>The paper's numbers in its {len(names)} other columns "
        f"({names[0]} … {names[-1]}): click to show</summary>\n\n{folded}\n</details>\n"
    )
    return "\n".join(parts) + after + fold


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    whole = _whole_number_columns(df)
    for row in df.to_dict(orient="records"):
        clean = {}
        for i, (k, v) in enumerate(row.items()):
            if hasattr(v, "item"):
                v = v.item()
            if _is_missing(v):
                v = None
            elif isinstance(v, float) and v.is_integer() and i in whole:
                v = int(v)
            clean[str(k)] = v
        out.append(clean)
    return out


def write_table(
    df: pd.DataFrame,
    name: str,
    out_dir: str | os.PathLike | None = None,
    meta: dict[str, Any] | None = None,
    decimals: int = 2,
) -> dict[str, Path]:
    """Write ``df`` as ``<out_dir>/<name>.json``, ``.csv`` and ``.md``, each atomically.

    ``out_dir`` defaults to :func:`pstmo.paths.results_dir`. ``meta`` (e.g. profile, dataset,
    seed, the label of our numbers) is stored in the JSON and printed under the Markdown table.
    Returns the three paths.
    """
    from pstmo.paths import results_dir

    out = Path(out_dir) if out_dir is not None else results_dir()
    meta = dict(meta or {})
    paths = {ext: out / f"{name}.{ext}" for ext in ("json", "csv", "md")}
    write_json(
        paths["json"],
        {"name": name, "meta": meta, "columns": [str(c) for c in df.columns], "rows": _records(df)},
    )
    write_text(paths["csv"], df.to_csv(index=False))
    md = to_markdown(df, decimals)
    if meta:
        md += "\n" + "; ".join(f"{k}: {v}" for k, v in meta.items()) + "\n"
    write_text(paths["md"], md)
    return paths


#: ``[<notebook>.]summary.json``: the scalars of one run that ``pstmo sweep`` aggregates.
SUMMARY_FILE = "summary.json"


def write_summary(
    out_dir: str | os.PathLike,
    parameters: Mapping[str, Any],
    metrics: Mapping[str, Any],
    name: str | None = None,
) -> Path:
    """Write ``<out_dir>/[<name>.]summary.json`` = {"parameters", "metrics"}: the scalars a sweep aggregates.

    Notebooks pass their own name, so several notebooks can share ``results/``; ``pstmo sweep``
    aggregates these files over a grid.
    """
    path = Path(out_dir) / (f"{name}.{SUMMARY_FILE}" if name else SUMMARY_FILE)
    write_json(path, {"parameters": dict(parameters), "metrics": dict(metrics)})
    return path


def size_table(preds: Sequence[Any]) -> pd.DataFrame:
    """How much of the error is the body's size, per subject and action: MPJPE, N-MPJPE (each pose
    scaled by its least-squares factor) and the one factor ``s*`` that best scales all of the
    clip's predicted poses onto the truth (``sum <pred, target> / sum <pred, pred>`` over its
    frames and cameras: below 1 when the model predicts a larger body than the subject's).
    ``preds``: ``pstmo.evaluate.SequencePrediction`` (``EvalResult.predictions``)."""
    import numpy as np
    import pandas as pd

    from pstmo import metrics as M

    groups: dict[tuple[str, str], list[Any]] = {}
    for p in preds:
        groups.setdefault((p.subject, p.action), []).append(p)
    rows = []
    for (subject, action), group in groups.items():
        pred = np.concatenate([p.pred for p in group])
        target = np.concatenate([p.target for p in group])
        rows.append({
            "Subject": subject, "Action": action, "Frames": len(pred),
            "MPJPE (mm)": float(M.mpjpe(pred, target, scale=1000.0)),
            "N-MPJPE (mm)": float(M.n_mpjpe(pred, target, scale=1000.0)),
            "s*": float((pred * target).sum() / (pred * pred).sum()),
        })  # fmt: skip
    return pd.DataFrame(rows)
