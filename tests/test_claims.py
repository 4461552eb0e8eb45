"""The papers' claims as data (pstmo.report.claims): every claim names a table that exists, its paper values
are the printed ones (read back through pstmo.report.papers.paper_table, and a few typed here from the papers),
and the registry covers the comparisons the notebooks judge."""

from __future__ import annotations

import dataclasses

import pytest

from pstmo.report import papers
from pstmo.report.claims import CLAIMS, PAPER_ROWS, Claim, claims_for, get_claim


def _printed_value(cell) -> float:
    """The number a PaperCell points at, found with pandas in the paper's table (not via PaperCell.value)."""
    df = papers.paper_table(cell.table)
    hit = df.index == df.index  # every row
    for column, value in cell.row:
        hit &= (df[column] == value).to_numpy()
    assert hit.any(), f"{cell.table} has no row {dict(cell.row)}"
    return float(df.loc[hit, cell.column].iloc[0])


def test_every_table_exists_and_ids_are_unique():
    names = set(list(papers.TABLES))
    assert all(c.table in names for c in CLAIMS)
    assert all(cell.table in names for c in CLAIMS for cell in c.printed or ())
    assert len({c.id for c in CLAIMS}) == len(CLAIMS)
    assert all(c.id.startswith(c.table + "/") for c in CLAIMS)
    assert set(PAPER_ROWS) <= names


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_paper_values_are_the_printed_ones(claim):
    if claim.printed is None:  # a curve's direction or a difference stated in the text
        assert claim.paper_a is None and claim.paper_b is None
        assert claim.stated_diff is not None or claim.direction in (-1, 1)
        return
    cell_a, cell_b = claim.printed
    assert claim.paper_a == _printed_value(cell_a) and claim.paper_b == _printed_value(cell_b)
    assert claim.paper_diff == pytest.approx(claim.paper_b - claim.paper_a)
    rows = PAPER_ROWS.get(claim.table, {})
    for name, cell in ((claim.a, cell_a), (claim.b, cell_b)):
        if cell.table == claim.table:  # the cell's row is the one its name stands for in that table
            assert dict(cell.row) == rows[name]


def test_cell_names_say_their_rows():
    """The names are read independently of PAPER_ROWS: the configuration is in the name."""
    for name, row in PAPER_ROWS["pstmo_table5"].items():
        n, s = name[1:].split("-s")
        assert row == {"N": int(n), "s": int(s)}
    for name, row in PAPER_ROWS["liftformer_table6"].items():
        d, h, b = (int(part[1:]) for part in name.split("-"))
        assert row == {"Hidden dimension": d, "Multi head": h, "Blocks": b}
    for table in ("liftformer_table1", "liftformer_table2", "liftformer_table3", "liftformer_table4"):
        for name, row in PAPER_ROWS[table].items():
            n = name.split("-n")[1].split("-")[0]
            assert f"(n={n}" in row["Method"] and ("WS" in row["Method"]) == name.endswith("-ws")
    table3 = {"sem": "SEM", "tem": "TEM", "stmo": "MOFA", "mpm": "MPM", "tds": "TDS"}
    for name, row in PAPER_ROWS["pstmo_table3"].items():
        parts = set(name.split("+"))
        used = {flag for key, flag in table3.items() if key in parts}
        used |= {"SEM", "TEM", "MOFA"} if "stmo" in parts else set()
        assert {k for k, v in row.items() if v} == used, name


def test_values_typed_from_the_papers():
    """A few claims checked against the papers' numbers typed here (independent of pstmo.report.papers)."""
    expected = {
        "pstmo_table3/stmo+mpm": (44.2, 43.2),  # P-STMO Table 3: MPM 44.2 -> 43.2
        "pstmo_table3/sem+tem vs sem": (51.0, 46.0),
        "pstmo_table4/mlp-l1 vs transformer": (48.8, 46.0),
        "pstmo_table5/N81-s1 vs N27-s3": (46.8, 45.6),  # same RF 81
        "pstmo_fig4/st0.8-2": (44.2, 43.2),  # scratch vs pre-trained (Table 3)
        "pstmo_table1/p-stmo (*)": (42.8, 42.1),
        "liftformer_table1/det-n243": (46.0, 44.8),
        "liftformer_table3/gt-n81-ws": (25.4, 26.1),
        "liftformer_table4/det-n81": (1.6, 1.4),
        "liftformer_table5/gt-n27": (11.0, 10.5),
        "liftformer_table6/d512-h8-b6 vs d512-h4-b6": (48.8, 48.6),
        "liftformer_table7/gt-tiny-ws": (31.9, 37.5),
        "liftformer_table8/gt-n243": (44.8, 32.5),  # CPN (Table 8) vs GT without WS (Table 2)
    }
    for claim_id, (a, b) in expected.items():
        c = get_claim(claim_id)
        assert (c.paper_a, c.paper_b) == (a, b), claim_id
    assert get_claim("pstmo_fig4/st0.8-2 vs t0.9").paper_diff == -0.3  # Sec. 4.3: 0.3 mm better
    assert get_claim("pstmo_fig4/st0.8-2 vs s7").paper_diff == -0.33
    fig4a = get_claim("pstmo_fig4/t0.9")
    assert (fig4a.a, fig4a.b, fig4a.paper_diff, fig4a.sign) == ("t0.5", "t0.9", None, -1)


def test_registry_covers_the_notebooks_comparisons():
    counts = {t: len(claims_for(t)) for t in list(papers.TABLES)}
    assert counts == {
        "pstmo_table1": 2, "pstmo_table2": 0, "pstmo_table3": 6, "pstmo_table4": 5, "pstmo_table5": 5,
        "pstmo_table6": 0, "pstmo_fig4": 5, "liftformer_table1": 2, "liftformer_table2": 2,
        "liftformer_table3": 3, "liftformer_table4": 2, "liftformer_table5": 5, "liftformer_table6": 7,
        "liftformer_table7": 5, "liftformer_table8": 1,
    }  # fmt: skip
    table3 = [(c.a, c.b) for c in claims_for("pstmo_table3")]
    rows = ["sem", "tem", "sem+tem", "stmo", "stmo+mpm", "stmo+mpm+tds"]
    assert table3 == list(zip(rows, rows[1:])) + [
        ("sem", "sem+tem")
    ]  # each vs the row above, and SEM vs SEM+TEM
    assert {c.metric for c in CLAIMS} == {"mpjpe", "p_mpjpe", "mpjve"}
    assert [c.unit for c in claims_for("liftformer_table4")] == ["mm/frame", "mm/frame"]
    equal = [c.id for c in CLAIMS if c.sign == 0]  # the paper's rows are equal: "no difference"
    assert equal == [
        "liftformer_table6/d768-h8-b6", "liftformer_table6/d512-h8-b8", "liftformer_table7/gt-n27-ws"
    ]  # fmt: skip
    assert all(c.text and c.source and c.lower_is_better for c in CLAIMS)


def test_claim_is_frozen_data_and_lookups_fail_clearly():
    c = Claim("t/b", "pstmo_table3", "a", "b", paper_a=44.2, paper_b=43.2)
    assert c.metric == "mpjpe" and c.paper_diff == -1.0 and c.sign == -1 and c.unit == "mm"
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.a = "x"  # type: ignore[misc]
    assert Claim("t/b", "pstmo_table3", "a", "b", stated_diff=0.3).sign == 1
    with pytest.raises(KeyError, match="unknown paper table"):
        claims_for("pstmo_table9")
    with pytest.raises(KeyError, match="pstmo_table3/stmo"):
        get_claim("pstmo_table3/nothing")
