"""The papers' claims as data: which two rows a claim compares, the paper's numbers, in words.

A :class:`Claim` says "row ``b`` of a paper table is better (or worse) than row ``a``", with the
paper's printed values (read from :mod:`pstmo.report.papers`, never retyped) and the cells of our runs
that stand for the two rows. :func:`pstmo.report.findings.judge` decides one claim from the tidy table
of a runner (columns ``cell``, ``seed`` and metric columns); :data:`CLAIMS` holds every claim a
notebook judges, :func:`claims_for` those of one table.

**Cell names.** ``a`` and ``b`` are the names of the runner's cells (the notebooks' run tags), and
they name the *paper's* configuration. A reduced runner that trains a smaller stand-in (notebook
07's smoke N = 9, 27 for the paper's 27, 81; notebook 12's n = 9, 27 for 81, 243; notebook 09's
scaled-down grid) names each cell by the paper row it stands for and says the stand-in in its notes.

=====================  =============================================================  ========
table                  cells                                                          notebook
=====================  =============================================================  ========
``pstmo_table1``       ``p-stmo-s``, ``p-stmo``, ``p-stmo (*)`` (N = 243 rows)        02
``pstmo_table3``       ``sem``, ``tem``, ``sem+tem``, ``stmo`` (SEM+TEM+MOFA),        05
                       ``stmo+mpm``, ``stmo+mpm+tds``
``pstmo_table4``       ``fc``, ``transformer``, ``mlp-l1``, ``mlp-l2``, ``mlp-l3``    06
``pstmo_table5``       ``N{N}-s{s}``, e.g. ``N27-s3`` (N frames every s-th)           07
``pstmo_fig4``         ``scratch`` (no Stage I), ``t{q^T}`` (temporal masking, e.g.    01
                       ``t0.9``), ``s{m^S}`` (spatial, ``s7``), ``st{q^T}-{m^S}``
                       (spatio-temporal, ``st0.8-2``)
``liftformer_table1``  ``det-n{n}`` (detected 2D, n frames, no weight sharing)        12
``liftformer_table2``  ``gt-n{n}`` (ground-truth 2D)                                  12
``liftformer_table3``  ``gt-n{n}``, ``gt-n{n}-ws`` (P-MPJPE)                          12
``liftformer_table4``  ``det-n{n}`` (MPJVE)                                           12
``liftformer_table5``  ``gt-n{n}``, ``det-n{n}`` on HumanEva (P-MPJPE)                04
``liftformer_table6``  ``d{hidden}-h{heads}-b{blocks}``, e.g. ``d512-h8-b6``          09
``liftformer_table7``  ``gt-n{n}``, ``gt-n{n}-ws``, ``gt-small-ws`` (4 blocks),        12
                       ``gt-tiny-ws`` (2 blocks of width 256), all with weight sharing
``liftformer_table8``  ``det-n243``, ``gt-n243``                                      12
=====================  =============================================================  ========

Where the paper prints no row values, a claim carries the difference its text states
(``stated_diff``: Sec. 4.3's gains of spatio-temporal masking, stored in ``pstmo_fig4``) or only
the direction of a curve (``direction``: Fig. 4a/b, whose values are not printed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pstmo.report.papers import TABLES

#: The unit of each metric a claim can be about (our MPJVE is in mm per frame, notebook 12).
UNITS: dict[str, str] = {"mpjpe": "mm", "p_mpjpe": "mm", "n_mpjpe": "mm", "mpjve": "mm/frame", "pck": "%", "auc": "%"}  # fmt: skip


@dataclass(frozen=True)
class PaperCell:
    """Where one printed number is: ``table`` (a :mod:`pstmo.report.papers` name), the ``row`` (the
    ``(column, value)`` pairs that pick it; the first match) and the ``column``."""

    table: str
    row: tuple[tuple[str, Any], ...]
    column: str

    def value(self) -> float:
        """The printed number (KeyError when no row matches or the column is absent)."""
        t = TABLES[self.table]
        if self.column not in t.columns:
            raise KeyError(f"{self.table} has no column {self.column!r}")
        col = {c: i for i, c in enumerate(t.columns)}
        for r in t.rows:
            if all(r[col[c]] == v for c, v in self.row):
                return float(r[col[self.column]])
        raise KeyError(f"{self.table} has no row {dict(self.row)}")


@dataclass(frozen=True)
class Claim:
    """The paper's claim that row ``b`` differs from row ``a`` by ``paper_diff = b - a`` in ``metric``.

    ``paper_a`` / ``paper_b``: the printed values (``printed``: where they are read in
    :mod:`pstmo.report.papers`); ``stated_diff``: a difference stated without both rows printed;
    ``direction``: -1 / +1 for a curve whose values are not printed (``b`` lower / higher).
    """

    id: str
    table: str
    a: str
    b: str
    metric: str = "mpjpe"
    paper_a: float | None = None
    paper_b: float | None = None
    lower_is_better: bool = True
    source: str = ""
    text: str = ""
    stated_diff: float | None = None
    direction: int = 0
    printed: tuple[PaperCell, PaperCell] | None = None

    @property
    def paper_diff(self) -> float | None:
        """``paper_b - paper_a`` (rounded to 1e-6), else the stated difference, else None."""
        if self.paper_a is not None and self.paper_b is not None:
            return round(self.paper_b - self.paper_a, 6)
        return self.stated_diff

    @property
    def sign(self) -> int:
        """-1: the paper has ``b`` lower than ``a``, +1: higher, 0: no direction (equal rows)."""
        d = self.paper_diff
        if d:
            return 1 if d > 0 else -1
        return 1 if self.direction > 0 else -1 if self.direction < 0 else 0

    @property
    def unit(self) -> str:
        return UNITS.get(self.metric, "")


#: how each table's cells are found among the paper's rows: cell -> {column: value}
PAPER_ROWS: dict[str, dict[str, dict[str, Any]]] = {
    "pstmo_table1": {
        "p-stmo-s": {"Method": "P-STMO-S (N=243)"},
        "p-stmo": {"Method": "P-STMO (N=243)"},
        "p-stmo (*)": {"Method": "P-STMO (N=243)(*)"},
    },
    "pstmo_table3": {
        name: dict(zip(("SEM", "TEM", "MOFA", "MPM", "TDS"), flags))
        for name, flags in {
            "sem": (True, False, False, False, False),
            "tem": (False, True, False, False, False),
            "sem+tem": (True, True, False, False, False),
            "stmo": (True, True, True, False, False),
            "stmo+mpm": (True, True, True, True, False),
            "stmo+mpm+tds": (True, True, True, True, True),
        }.items()
    },
    "pstmo_table4": {
        "fc": {"Backbone": "fc"},
        "transformer": {"Backbone": "Transformer"},
        **{f"mlp-l{n}": {"Backbone": f"MLP (L = {n})"} for n in (1, 2, 3)},
    },
    "pstmo_table5": {
        f"N{n}-s{s}": {"N": n, "s": s}
        for n, s in ((27, 1), (27, 3), (27, 9), (81, 1), (81, 3), (243, 1), (243, 2))
    },
    "liftformer_table1": {f"det-n{n}": {"Method": f"Liftformer (n={n} CPN)"} for n in (27, 81, 243)},
    "liftformer_table2": {f"gt-n{n}": {"Method": f"Liftformer (n={n} GT)"} for n in (27, 81, 243)},
    "liftformer_table3": {
        f"gt-n{n}{ws}": {"Method": f"Liftformer (n={n} GT{' + WS' if ws else ''})"}
        for n in (27, 81, 243)
        for ws in ("", "-ws")
    },
    "liftformer_table4": {f"det-n{n}": {"Method": f"Liftformer (n={n})"} for n in (27, 81, 243)},
    "liftformer_table5": {
        f"{kp}-n{n}": {"Method": f"Liftformer ({n} {'GT' if kp == 'gt' else 'MRCNN'})"}
        for n in (27, 81, 243)
        for kp in ("gt", "det")
    },
    "liftformer_table6": {
        f"d{d}-h{h}-b{b}": {"Hidden dimension": d, "Multi head": h, "Blocks": b}
        for d, h, b in (
            (128, 8, 6),
            (256, 8, 6),
            (512, 8, 6),
            (768, 8, 6),
            (512, 4, 6),
            (512, 16, 6),
            (512, 8, 4),
            (512, 8, 8),
        )
    },
    "liftformer_table7": {
        **{
            f"gt-n{n}{'-ws' if ws else ''}": {"N": n, "Weight sharing": ws, "Blocks": 6}
            for n in (27, 81, 243)
            for ws in (False, True)
        },
        "gt-small-ws": {"N": 243, "Weight sharing": True, "Blocks": 4},
        "gt-tiny-ws": {"N": 243, "Weight sharing": True, "Blocks": 2, "Hidden dimension": 256},
    },
    # Table 8's rows are methods and its columns detectors: our detected-2D cell is the CPN FT column
    "liftformer_table8": {"det-n243": {"Method": "Liftformer (n=243)"}},
}

#: the column each table's claims read, by metric
COLUMNS: dict[str, dict[str, str]] = {
    "pstmo_table1": {"mpjpe": "Avg"},
    "pstmo_table3": {"mpjpe": "MPJPE"},
    "pstmo_table4": {"mpjpe": "MPJPE"},
    "pstmo_table5": {"mpjpe": "MPJPE"},
    "liftformer_table1": {"mpjpe": "Avg"},
    "liftformer_table2": {"mpjpe": "Avg"},
    "liftformer_table3": {"p_mpjpe": "Avg"},
    "liftformer_table4": {"mpjve": "Avg"},
    "liftformer_table5": {"p_mpjpe": "Avg"},
    "liftformer_table6": {"mpjpe": "MPJPE", "p_mpjpe": "P-MPJPE", "n_mpjpe": "N-MPJPE", "mpjve": "MPJVE"},
    "liftformer_table7": {"mpjpe": "MPJPE", "p_mpjpe": "P-MPJPE", "n_mpjpe": "N-MPJPE"},
    "liftformer_table8": {"mpjpe": "CPN FT"},
}


def paper_cell(table: str, cell: str, metric: str = "mpjpe") -> PaperCell:
    """Where the paper prints ``metric`` of our ``cell`` in ``table`` (KeyError: not printed there)."""
    return PaperCell(table, tuple(PAPER_ROWS[table][cell].items()), COLUMNS[table][metric])


def _rows(table: str, a: str, b: str, metric: str = "mpjpe") -> tuple[PaperCell, PaperCell]:
    return paper_cell(table, a, metric), paper_cell(table, b, metric)


def _claim(
    table: str,
    a: str,
    b: str,
    text: str,
    source: str,
    *,
    metric: str = "mpjpe",
    id: str | None = None,
    rows: tuple[PaperCell, PaperCell] | tuple[()] | None = None,
    **kw: Any,
) -> Claim:
    """A claim whose values are read from ``rows`` (default: the two cells' rows of ``table``);
    ``rows=()`` for a claim without printed rows (``stated_diff`` / ``direction`` in ``kw``)."""
    if rows is None:
        rows = _rows(table, a, b, metric)
    values = dict(paper_a=rows[0].value(), paper_b=rows[1].value(), printed=rows) if rows else {}
    return Claim(id or f"{table}/{b}", table, a, b, metric, source=source, text=text, **values, **kw)


T1, T3, T4, T5, F4 = "pstmo_table1", "pstmo_table3", "pstmo_table4", "pstmo_table5", "pstmo_fig4"
L3, L5, L6, L7 = "liftformer_table3", "liftformer_table5", "liftformer_table6", "liftformer_table7"

# (table, a, b, the claim in words, where the paper makes it, options); fmt: off keeps one claim a line
# fmt: off
_PAPER_ROWS_CLAIMS: list[tuple[str, str, str, str, str, dict[str, Any]]] = [
    (T1, "p-stmo-s", "p-stmo", "P-STMO (4 TEM layers) is more accurate than P-STMO-S (3)", "P-STMO Table 1, rows P-STMO-S (N=243) and P-STMO (N=243)", {}),
    (T1, "p-stmo", "p-stmo (*)", "The refining module of [3] lowers the error of P-STMO", "P-STMO Table 1, rows P-STMO (N=243) and (*)", {}),
    (T3, "sem", "tem", "TEM alone is more accurate than SEM alone", "P-STMO Table 3, rows 1-2", {}),
    (T3, "tem", "sem+tem", "SEM in front of TEM lowers the error of TEM", "P-STMO Table 3, rows 2-3", {}),
    (T3, "sem+tem", "stmo", "MOFA lowers the error of SEM+TEM", "P-STMO Table 3, rows 3-4", {}),
    (T3, "stmo", "stmo+mpm", "MPM pre-training lowers the error of STMO", "P-STMO Table 3, rows 4-5", {}),
    (T3, "stmo+mpm", "stmo+mpm+tds", "TDS lowers the error of pre-trained STMO", "P-STMO Table 3, rows 5-6", {}),
    (T3, "sem", "sem+tem", "TEM after SEM lowers the error of SEM alone", "P-STMO Table 3, rows 1 and 3", {"id": f"{T3}/sem+tem vs sem"}),
    (T4, "fc", "transformer", "A Transformer SEM is more accurate than an fc SEM", "P-STMO Table 4, rows 1-2 (the Transformer at N=81)", {}),
    (T4, "fc", "mlp-l1", "An MLP SEM (L=1) is more accurate than an fc SEM", "P-STMO Table 4, rows 1 and 3", {}),
    (T4, "mlp-l1", "mlp-l2", "A second MLP sub-block lowers the error a little", "P-STMO Table 4, rows 3-4", {}),
    (T4, "mlp-l1", "mlp-l3", "A third MLP sub-block does not help: L=3 is a little worse than L=1", "P-STMO Table 4, rows 3 and 5", {}),
    (T4, "transformer", "mlp-l1", "An MLP SEM is more accurate than a Transformer SEM", "P-STMO Table 4, rows 2-3", {"id": f"{T4}/mlp-l1 vs transformer"}),
    (T5, "N27-s1", "N27-s3", "TDS (s=3) lowers the error of N=27", "P-STMO Table 5, rows 1-2", {}),
    (T5, "N27-s1", "N27-s9", "TDS (s=9) lowers the error of N=27 further", "P-STMO Table 5, rows 1 and 3", {}),
    (T5, "N81-s1", "N81-s3", "TDS (s=3) lowers the error of N=81", "P-STMO Table 5, rows 4-5", {}),
    (T5, "N243-s1", "N243-s2", "TDS (s=2) lowers the error of N=243, only a little", "P-STMO Table 5, rows 6-7", {}),
    (T5, "N27-s3", "N81-s1", "At the same receptive field (81), 81 frames beat 27 frames taken every 3rd", "P-STMO Table 5, rows 2 and 4", {"id": f"{T5}/N81-s1 vs N27-s3"}),
    *[
        (L6, a, b, text, "LiftFormer Table 6 (CPN, n=27, no weight sharing)", {"id": f"{L6}/{b}" + (f" vs {a}" if vs else "")})
        for a, b, text, vs in (  # notebook 09: one setting changed from a to b
            ("d128-h8-b6", "d256-h8-b6", "A hidden size of 256 beats 128", False),
            ("d256-h8-b6", "d512-h8-b6", "A hidden size of 512 beats 256", False),
            ("d512-h8-b6", "d768-h8-b6", "A hidden size of 768 is no better than 512 (equal rows, 75% more parameters)", False),
            ("d512-h4-b6", "d512-h8-b6", "8 heads beat 4, a little", True),
            ("d512-h8-b6", "d512-h16-b6", "16 heads are a little worse than 8", False),
            ("d512-h8-b4", "d512-h8-b6", "6 blocks beat 4, a little", True),
            ("d512-h8-b6", "d512-h8-b8", "8 blocks are no better than 6 (equal rows)", False),
        )
    ],
    *[
        row
        for na, nb in ((27, 81), (81, 243))
        for row in (
            ("liftformer_table1", f"det-n{na}", f"det-n{nb}", f"A longer window (n={na} -> {nb}) lowers the error, detected 2D", f"LiftFormer Table 1, n={na} and n={nb} CPN", {}),
            ("liftformer_table2", f"gt-n{na}", f"gt-n{nb}", f"A longer window (n={na} -> {nb}) lowers the error, ground-truth 2D", f"LiftFormer Table 2, n={na} and n={nb} GT", {}),
            ("liftformer_table4", f"det-n{na}", f"det-n{nb}", f"A longer window (n={na} -> {nb}) lowers the velocity error", f"LiftFormer Table 4, n={na} and n={nb}", {"metric": "mpjve"}),
            (L5, f"gt-n{nb}", f"gt-n{na}", f"On HumanEva a shorter window (n={nb} -> {na}) lowers the error, ground-truth 2D", f"LiftFormer Table 5, {nb} GT and {na} GT", {"metric": "p_mpjpe"}),
        )
    ],
    (L7, "gt-n27", "gt-n27-ws", "Weight sharing leaves the error of n=27 unchanged (equal rows), with fewer parameters", "LiftFormer Table 7 (= Table 2), n=27 GT without and with WS", {}),
    (L7, "gt-n81", "gt-n81-ws", "Weight sharing costs n=81 a little accuracy", "LiftFormer Table 7 (= Table 2), n=81 GT without and with WS", {}),
    (L7, "gt-n243", "gt-n243-ws", "Weight sharing lowers the error of n=243 a little", "LiftFormer Table 7 (= Table 2), n=243 GT without and with WS", {}),
    (L7, "gt-n243-ws", "gt-small-ws", "4 blocks instead of 6 (9.5M parameters) cost a little accuracy", "LiftFormer Table 7, rows 243 and 243 (B=4)", {}),
    (L7, "gt-n243-ws", "gt-tiny-ws", "2 blocks of width 256 (2.4M parameters) cost much accuracy", "LiftFormer Table 7, rows 243 and 243 (B=2, hd=256)", {}),
    *[
        (L3, f"gt-n{n}", f"gt-n{n}-ws", f"Weight sharing costs n={n} a little P-MPJPE", f"LiftFormer Table 3, n={n} GT and GT + WS", {"metric": "p_mpjpe"})
        for n in (27, 81, 243)
    ],
    ("liftformer_table8", "det-n243", "gt-n243", "Ground-truth 2D inputs beat detected (CPN) ones", "LiftFormer Table 8 (CPN FT) and Table 2 (n=243 GT without WS; Table 8's GT cell is the WS model)",
     {"rows": (paper_cell("liftformer_table8", "det-n243"), paper_cell("liftformer_table2", "gt-n243"))}),
    *[
        (L5, f"det-n{n}", f"gt-n{n}", f"On HumanEva ground-truth 2D beats detected (Mask-RCNN) 2D at n={n}",
         f"LiftFormer Table 5, {n} MRCNN and {n} GT" + (" (its printed Avg, 25.7, counts the corrupted S3 Walk)" if n == 243 else ""),
         {"metric": "p_mpjpe", "id": f"{L5}/gt-n{n} vs det-n{n}"})
        for n in (27, 81, 243)
    ],
]
# fmt: on


def _fig4_claims() -> list[Claim]:
    """Fig. 4 and Sec. 4.3 (notebook 01): a curve's direction (values not printed), the stated gains
    of spatio-temporal masking (``pstmo_fig4``'s "ST gain (mm)" column; a gain is minus the
    difference) and pre-training against scratch (Table 3's STMO rows without and with MPM)."""
    gain = {k: -PaperCell(F4, (("Strategy", k),), "ST gain (mm)").value() for k in ("temporal", "spatial")}
    return [
        _claim(F4, "t0.5", "t0.9", "Temporal masking: q^T = 90% (the optimum) is better than 50%",
               "P-STMO Fig. 4a", rows=(), direction=-1),
        _claim(F4, "s2", "s7", "Spatial masking: m^S = 7 masked joints (the optimum) is better than 2",
               "P-STMO Fig. 4b", rows=(), direction=-1),
        _claim(F4, "t0.9", "st0.8-2", "Spatio-temporal masking (0.8, 2) beats the best temporal masking (0.9)",
               "P-STMO Sec. 4.3 (the gain over temporal masking)", rows=(), stated_diff=gain["temporal"],
               id=f"{F4}/st0.8-2 vs t0.9"),
        _claim(F4, "s7", "st0.8-2", "Spatio-temporal masking (0.8, 2) beats the best spatial masking (7 joints)",
               "P-STMO Sec. 4.3 (the gain over spatial masking)", rows=(), stated_diff=gain["spatial"],
               id=f"{F4}/st0.8-2 vs s7"),
        _claim(F4, "scratch", "st0.8-2", "MPM pre-training (q^T = 0.8, m^S = 2) beats training from scratch",
               "P-STMO Table 3, rows 4-5 (STMO without and with MPM)", rows=_rows(T3, "stmo", "stmo+mpm")),
    ]  # fmt: skip


def _all_claims() -> tuple[Claim, ...]:
    claims = [_claim(t, a, b, text, source, **kw) for t, a, b, text, source, kw in _PAPER_ROWS_CLAIMS]
    claims += _fig4_claims()
    order = list(TABLES)
    # sorted is stable: within a table, the order of the list above
    return tuple(sorted(claims, key=lambda c: order.index(c.table)))


#: Every claim a notebook judges (notebooks 01, 02, 04, 05, 06, 07, 09, 12), in the papers' order.
CLAIMS: tuple[Claim, ...] = _all_claims()


def claims_for(table: str) -> list[Claim]:
    """The claims of one paper table (a :mod:`pstmo.report.papers` name, e.g. ``"pstmo_table3"``), in order."""
    if table not in TABLES:
        raise KeyError(f"unknown paper table {table!r}; expected one of {', '.join(TABLES)}")
    return [c for c in CLAIMS if c.table == table]


def get_claim(claim_id: str) -> Claim:
    """The claim with this id (KeyError naming the ids of its table otherwise)."""
    for c in CLAIMS:
        if c.id == claim_id:
            return c
    table = claim_id.split("/")[0]
    known = [c.id for c in CLAIMS if c.table == table]
    raise KeyError(f"no claim {claim_id!r}; {table} has {', '.join(known) or 'no claims'}")


__all__ = [
    "CLAIMS",
    "COLUMNS",
    "PAPER_ROWS",
    "UNITS",
    "Claim",
    "PaperCell",
    "claims_for",
    "get_claim",
    "paper_cell",
]
