"""Verdicts from per-seed numbers: the sign of the paper's claim against ours, with the noise."""

from __future__ import annotations

import math

import pytest

from pstmo.complexity import printed_match
from pstmo.report.findings import (
    best,
    bullet,
    compare,
    disagreement_sentence,
    explain,
    format_stats,
    noise_sentence,
    scale_sentence,
    seed_stats,
    sentence,
    spread_sentence,
    tally,
    trend_sentence,
)


def test_seed_statistics_closed_form():
    s = seed_stats([1.0, 2.0, 3.0])
    assert (s.mean, s.std, s.n) == (2.0, 1.0, 3)
    assert s.sem == pytest.approx(1 / math.sqrt(3))
    assert format_stats(s) == "2.0 ± 1.0 (3 seeds)" and format_stats(seed_stats([5])) == "5.0 (1 seed)"
    with pytest.raises(ValueError, match="non-finite"):
        seed_stats([1.0, float("nan")])


def test_agrees_disagrees_and_within_noise():
    a, b_better, b_worse, b_same = (
        seed_stats(v) for v in ([100, 101, 102], [90, 91, 92], [110, 111, 112], [100.5, 101.5, 99.5])
    )
    # paper: B is 5 mm better (lower) than A
    assert compare(a, b_better, 50, 45).verdict == "agrees"
    v = compare(a, b_worse, 50, 45, name_a="fc", name_b="MLP")
    assert v.verdict == "disagrees" and v.ours_diff == pytest.approx(10.0)
    assert "MLP is worse here" in v.sentence and "paper: MLP -5.0 mm vs fc" in v.sentence
    assert compare(a, b_same, 50, 45).verdict == "within noise"
    one = compare(seed_stats([100]), seed_stats([90]), 50, 45)  # one seed: no spread, nothing told apart
    assert one.verdict == "no verdict (one seed)" and math.isnan(one.resolution)
    assert compare(a, b_better).verdict == "no claim"
    # higher is better (PCK): a higher B agrees with a paper whose B is higher
    assert compare(a, b_worse, 80, 90, lower_is_better=False).verdict == "agrees"


def test_best_names_the_leader_and_whether_it_is_separated():
    text = best(
        [
            ("L=1", seed_stats([114, 115, 113])),
            ("fc", seed_stats([118, 117, 119])),
            ("L=2", seed_stats([121, 120, 122])),
        ]
    )
    assert text.startswith("best here: L=1 (114.0 ± 1.0 (3 seeds)); fc is clearly behind")
    assert "within noise" in best([("a", seed_stats([10, 12, 14])), ("b", seed_stats([11, 13, 15]))])


def test_cells_and_explanations_come_from_the_numbers():
    from pstmo.report.findings import format_cell

    assert format_cell(seed_stats([1.0, 2.0, 3.0])) == "2.0 ± 1.0" and format_cell(seed_stats([5.0])) == "5.0"
    a, b = seed_stats([160, 170, 165]), seed_stats([158, 168, 163])
    small = compare(a, b, 48.6, 48.4)  # paper: 0.2 mm, far below our resolution
    text = explain(small, a, b)
    assert small.verdict == "within noise" and "0.2 mm" in text and "could not show" in text
    tight_a, tight_b = seed_stats([160, 160.5, 159.5]), seed_stats([160.2, 159.8, 160.4])
    big = compare(tight_a, tight_b, 44.8, 31.9)  # paper: 12.9 mm, which we would resolve
    assert "would be resolved" in explain(big, tight_a, tight_b)
    assert "mean training pose (177.1 mm)" in explain(big, tight_a, tight_b, baseline=177.1)
    worse = seed_stats([170, 171, 172])
    against = compare(tight_a, worse, 50, 45)
    assert against.verdict == "disagrees" and "speeds up early training" in explain(
        against, tight_a, worse, 177.1
    )
    assert "ranking can differ" in explain(against, tight_a, worse, baseline=400.0)
    assert "neither beats" in explain(big, tight_a, tight_b, baseline=150.0)
    assert explain(compare(a, seed_stats([100, 101, 102]), 50, 45), a, seed_stats([100, 101, 102])) == ""
    one = compare(seed_stats([1.0]), seed_stats([2.0]), 1, 2)
    assert "one seed" in one.sentence and explain(one, seed_stats([1.0]), seed_stats([2.0])) == ""


def test_claims_given_as_a_difference_or_a_direction():
    a, b = seed_stats([100, 101, 102]), seed_stats([90, 91, 92])
    v = compare(a, b, paper_diff=-0.3, name_a="temporal", name_b="spatio-temporal", source="Sec. 4.3")
    assert v.verdict == "agrees" and "paper (Sec. 4.3): spatio-temporal -0.3 mm vs temporal" in v.sentence
    v = compare(a, b, paper_direction=+1, name_a="q=0.5", name_b="q=0.9", source="Fig. 4a")
    assert v.verdict == "disagrees" and "q=0.9 higher than q=0.5 (value not printed)" in v.sentence
    assert compare(a, b).verdict == "no claim"
    # rows the paper prints equal: the claim "no difference"; ours 10 mm apart (s.e. 0.8) disagrees
    v = compare(a, b, 48.6, 48.6, name_a="d512", name_b="d768")
    assert v.verdict == "disagrees" and "paper: d768 equal to d512 (no difference)" in v.sentence
    assert "separates two rows the paper prints equal" in v.sentence
    close = seed_stats([100.4, 101.4, 102.4])  # 0.4 mm from a, resolution 1.6 mm
    assert compare(a, close, paper_diff=0.0).verdict == "within noise"
    same = compare(a, close, paper_diff=0.0)
    assert explain(same, a, close).startswith(
        "as the paper's equal rows: no difference larger than what 3+3 seeds"
    )
    assert compare(seed_stats([1.0]), seed_stats([2.0]), 5.0, 5.0).verdict == "no verdict (one seed)"


def test_tally_counts_only_tested_claims():
    a, b, c = seed_stats([100, 101, 102]), seed_stats([90, 91, 92]), seed_stats([100.5, 99.5, 101.5])
    vs = [compare(a, b, 50, 45), compare(a, b, 45, 50), compare(a, c, 50, 45), compare(a, c)]
    assert tally(vs) == "of 3 claims of the paper tested here: 1 agrees, 1 disagrees, 1 is within noise"
    assert tally([compare(a, c)]) == "no claim of the paper is tested here"
    one = compare(seed_stats([1.0]), seed_stats([2.0]), 1, 2)
    words = ["agrees", "no verdict (one seed)", "not judged: at the average-pose level", "no claim"]
    assert tally([one]) == (
        "of 1 claim of the paper tested here: 0 agree, 0 disagree, 0 are within noise, 1 has one seed (no verdict)"
    )
    assert tally(words).endswith(
        "1 agrees, 0 disagree, 0 are within noise, 1 has one seed (no verdict), 1 is not judged (a row no better "
        "than the average pose or a still pose)"
    )


def test_noise_sentence_says_which_paper_differences_could_show():
    cells = [seed_stats([10, 12, 14]), seed_stats([20, 22, 24])]  # std 2 -> 2 * sqrt(2 * 4 / 3) = 3.27
    text = noise_sentence(cells, [-0.2, 1.0])
    assert "2.0-2.0 mm" in text and "more than about 3.3 mm" in text and "none of them could show" in text
    assert "only 1 of 2 exceed it" in noise_sentence(cells, [0.2, -5.0])
    assert "all above it" in noise_sentence(cells, [4.0])
    assert "one seed per cell" in noise_sentence([seed_stats([1.0])], [1.0])


def test_scale_and_spread_sentences_state_the_numbers():
    text = scale_sentence(134.0, 43.0, 177.0, steps=100, batch_size=32, train_frames=6400, what="P-STMO-S")
    assert text.startswith("P-STMO-S scores 134.0 mm, 3.1x the paper's 43.0 mm")
    assert "removed 43.0 mm (24%)" in text and "100 optimizer steps of 32 windows" in text
    assert "(0.50 passes over them)" in text
    assert "not yet learned to lift" in scale_sentence(180.0, baseline=177.0)
    cells = [("SEM", seed_stats([128, 129, 130])), ("SEM+TEM", seed_stats([133, 134, 135]))]
    text = spread_sentence(cells, baseline=177.0)
    assert text.startswith("our rows span 5.0 mm, from SEM (129.0) to SEM+TEM (134.0)")
    assert "all are 43.0-48.0 mm below the error of predicting the average training pose (177.0)" in text
    assert "much closer to each other than to it" in text
    cells.append(("Transformer", seed_stats([176, 178, 180])))
    text = spread_sentence(cells, baseline=177.0)
    assert "Transformer is within 3% of the error of predicting the average training pose (177.0)" in text
    assert "the others are 43.0-48.0 mm below that baseline" in text


def test_sentence_keeps_names_as_written():
    assert sentence("our rows span 5.0 mm, from SEM (129.0)") == "Our rows span 5.0 mm, from SEM (129.0)."
    assert sentence("of 3 claims:") == "Of 3 claims:" and sentence("") == ""


def test_printed_match_accepts_truncated_or_rounded_counts():
    # FIDELITY.md: 6,750,310 parameters are printed 6.7 (truncated), 2,796,851 are printed 2.8 (rounded)
    assert printed_match(6.7, 6_750_310) and printed_match(2.8, 2_796_851)
    assert printed_match(2.2, 2_269_491) and printed_match(2.3, 2_269_491)  # Table 3 and Table 4
    assert not printed_match(1.1, 691_251)  # Table 3 "SEM only": 0.69M, printed 1.1
    assert printed_match(1482, 1_481_867_264, decimals=0) and not printed_match(
        1350, 1_351_200_000, decimals=0
    )
    assert not printed_match(None, 1.0) and not printed_match(float("nan"), 1.0)


def test_disagreement_sentence_tells_stuck_rows_from_slow_ones():
    fc, tr, l2 = seed_stats([138, 139, 140]), seed_stats([176, 178, 180]), seed_stats([134, 135, 136])
    l1 = seed_stats([130, 131, 132])
    rows = [("Transformer", compare(fc, tr, 49.6, 48.8), tr), ("MLP L=2", compare(l1, l2, 46.0, 45.9), l2)]
    text = disagreement_sentence(rows, baseline=177.0, setting="100 steps")
    assert text.startswith(
        "Transformer (178.0 mm) is no better than predicting the average training pose (177.0 mm)"
    )
    assert "the other disagreement (MLP L=2 +4.0 mm where the paper has -0.1), we read it" in text
    assert disagreement_sentence([("L=3", compare(l1, l1, 46.0, 46.1), l1)]) == ""  # not a disagreement


def test_trend_sentence_tells_falling_from_flat():
    falling = [10.0 - 0.1 * i for i in range(50)]
    text = trend_sentence(falling, "the loss")
    assert text.startswith("the loss fell from 9.8 (mean of the first 5 logged steps) to 5.3 (the last 5)")
    assert "still falling" in text
    flat = [10.0 - 0.1 * i for i in range(25)] + [7.5] * 25
    assert "flattened" in trend_sentence(flat)
    assert "too few" in trend_sentence([1.0, 2.0])


def test_bullet_explains_only_a_difference_our_seeds_would_resolve():
    a, b = seed_stats([130, 131, 132]), seed_stats([130.5, 131.5, 129.5])  # s.e. 0.8
    big = compare(a, b, 51.0, 46.0, name_a="SEM", name_b="SEM+TEM")  # paper -5.0: resolvable, not seen
    text = bullet(big, a, b, baseline=177.0)
    assert (
        text.startswith("- **within noise**: paper: SEM+TEM -5.0 mm vs SEM") and "would be resolved" in text
    )
    small = compare(a, b, 46.0, 45.9)  # paper -0.1: below our resolution, said once elsewhere
    assert bullet(small, a, b, 177.0) == f"- **within noise**: {small.sentence}"
    stuck = seed_stats([176, 178, 180])
    v = compare(stuck, a, 48.8, 46.0, name_a="Transformer", name_b="MLP")
    assert v.verdict == "agrees" and "cannot test the claim" in bullet(v, stuck, a, baseline=177.0)


def test_count_columns_put_ours_beside_the_paper_and_name_the_rows_we_do_not_reproduce():
    import pandas as pd

    from pstmo.complexity import count_columns

    reported = pd.DataFrame({"Params(M)": [6.2, 1.1], "FLOPs(M)": [1482, 536]})
    counts = {  # the first reproduces the printed figures (truncated / rounded), the second does not
        "a": {"params_paper": 6_219_000, "flops_paper": 1_481_900_000},
        "b": {"params_paper": 691_251, "flops_paper": 329_979_392},
    }
    table = pd.DataFrame(index=reported.index)
    unmatched = count_columns(table, reported, counts, ["a", "b"], {"a": "row a", "b": "row b"})
    assert unmatched == ["row b"]
    assert list(table.columns) == [
        "Params(M) (paper)", "Params(M) (ours, exact)", "FLOPs(M) (paper)", "FLOPs(M) (ours, exact)",
    ]  # fmt: skip
    assert table.loc[0, "Params(M) (ours, exact)"] == 6.22 and table.loc[1, "FLOPs(M) (ours, exact)"] == 330.0


# --- judge: one claim of pstmo.report.claims against a runner's tidy table (cell, seed, metric columns) ---


def _runs(cells: dict[str, list[float]], metric: str = "mpjpe"):
    import pandas as pd

    return pd.DataFrame(
        [{"cell": c, "seed": i, metric: v} for c, values in cells.items() for i, v in enumerate(values)]
    )


def _claim(paper_a=44.2, paper_b=43.2, metric="mpjpe", **kw):
    from pstmo.report.claims import Claim

    return Claim("test/b", "pstmo_table3", "a", "b", metric, paper_a, paper_b, source="Table 3", **kw)


def test_judge_states_the_resolution_and_agrees_beyond_it():
    from pstmo.report.findings import judge

    # by hand: means 82 and 78, diff -4; s = 2 for both; SE = sqrt(4/3 + 4/3) = 1.633; resolution 3.266
    v = judge(_claim(), _runs({"a": [80, 82, 84], "b": [76, 78, 80]}))
    assert v.verdict == "agrees" and v.ours_diff == pytest.approx(-4.0)
    assert v.se == pytest.approx(math.sqrt(8 / 3)) and v.resolution == pytest.approx(3.26599, abs=1e-4)
    assert v.paper_diff == pytest.approx(-1.0) and v.claim.id == "test/b"
    assert (
        "resolution 3.3 mm: differences smaller than this cannot be told apart with these seeds" in v.sentence
    )
    assert "paper (Table 3): b -1.0 mm vs a" in v.sentence and "3+3 seeds" in v.sentence
    # the same numbers with the rows swapped: +4 mm against the paper's -1.0, beyond the resolution
    w = judge(_claim(), _runs({"a": [76, 78, 80], "b": [80, 82, 84]}))
    assert w.verdict == "disagrees" and w.resolution == pytest.approx(v.resolution)
    # a difference of 2 mm is inside the resolution of 3.27 mm
    assert judge(_claim(), _runs({"a": [80, 82, 84], "b": [78, 80, 82]})).verdict == "within noise"


def test_judge_one_seed_is_no_verdict_never_within_noise():
    from pstmo.report.findings import judge

    for cells in ({"a": [80], "b": [76, 78, 80]}, {"a": [80], "b": [79.9]}, {"a": [80, 82], "b": [60]}):
        v = judge(_claim(), _runs(cells))
        assert v.verdict == "no verdict (one seed)" and math.isnan(v.resolution)
        assert "no resolution with one seed" in v.sentence


def test_judge_flags_rows_at_the_average_pose_level():
    from pstmo.report.findings import BASELINE_MARGIN, judge

    assert BASELINE_MARGIN == 0.8
    runs = _runs({"a": [88, 90, 92], "b": [60, 62, 64]})  # a at 0.9 x the baseline of 100 mm
    v = judge(_claim(), runs, baseline=100.0)
    assert v.verdict == "not judged: at the average-pose level"
    assert "a 90.0 mm" in v.sentence and "0.8 x that = 80.0 mm" in v.sentence and "resolution" in v.sentence
    assert v.resolution == pytest.approx(2 * math.sqrt(8 / 3))
    assert judge(_claim(), runs, baseline=150.0).verdict == "agrees"  # 90 < 120: judged
    assert judge(_claim(), runs).verdict == "agrees"  # no baseline: judged
    # one seed and at the baseline: the baseline flag comes first
    assert judge(_claim(), _runs({"a": [95], "b": [60]}), baseline=100.0).verdict.startswith("not judged")


def test_judge_flags_a_velocity_no_better_than_a_still_pose():
    from pstmo.report.findings import judge

    claim = _claim(1.6, 1.4, metric="mpjve")
    runs = _runs({"a": [9.4, 9.5, 9.6], "b": [4.0, 4.1, 4.2]}, metric="mpjve")  # a at 0.95 x static
    v = judge(claim, runs, static=10.0)
    assert v.verdict == "not judged: no better than a still pose" and "mm/frame" in v.sentence
    assert judge(claim, runs, static=20.0).verdict == "agrees"  # 9.5 < 16
    assert judge(claim, runs, baseline=5.0).verdict == "agrees"  # the MPJPE baseline is not a velocity


def test_judge_direction_equal_rows_and_higher_is_better():
    from pstmo.report.findings import judge

    runs = _runs({"a": [80, 82, 84], "b": [76, 78, 80]})
    assert judge(_claim(None, None, direction=-1), runs).verdict == "agrees"
    assert judge(_claim(None, None, stated_diff=0.3), runs).verdict == "disagrees"
    # equal rows: the claim "no difference"; ours 4 mm apart at resolution 3.3 mm
    assert judge(_claim(48.6, 48.6), runs).verdict == "disagrees"
    # PCK: higher is better; b higher than a, as in the paper
    pck = _claim(80.0, 90.0, metric="pck", lower_is_better=False)
    v = judge(pck, _runs({"a": [76, 78, 80], "b": [80, 82, 84]}, metric="pck"), baseline=200.0)
    assert v.verdict == "agrees" and "b is better here, higher is better" in v.sentence


def test_judge_all_one_row_per_claim_run_and_tally():
    from pstmo.report.claims import CLAIMS, get_claim
    from pstmo.report.findings import JUDGED_COLUMNS, cell_stats, judge_all

    runs = _runs(
        {"stmo": [80, 82, 84], "stmo+mpm": [76, 78, 80], "stmo+mpm+tds": [77], "sem+tem": [90, 91, 92]}
    )
    table = judge_all(CLAIMS, runs, baseline={"mpjpe": 200.0})
    assert list(table.columns) == list(JUDGED_COLUMNS)
    assert list(table["id"]) == [  # the claims whose two cells ran
        "pstmo_table3/stmo", "pstmo_table3/stmo+mpm", "pstmo_table3/stmo+mpm+tds"
    ]  # fmt: skip
    row = table.set_index("id").loc["pstmo_table3/stmo+mpm"]
    assert (
        row["ours_a"] == "82.0 ± 2.0" and row["ours_b"] == "78.0 ± 2.0" and (row["n_a"], row["n_b"]) == (3, 3)
    )
    assert row["resolution"] == pytest.approx(3.26599, abs=1e-4) and row["verdict"] == "agrees"
    assert row["text"] == get_claim("pstmo_table3/stmo+mpm").text
    assert tally(table) == (
        "of 3 claims of the paper tested here: 2 agree, 0 disagree, 0 are within noise, 1 has one seed (no verdict)"
    )
    flagged = judge_all(CLAIMS, runs, baseline=100.0)  # a number: the average pose's MPJPE
    assert list(flagged["verdict"]) == [  # rows above 80 mm are flagged; 78 and 77 mm are judged (one seed)
        "not judged: at the average-pose level", "not judged: at the average-pose level", "no verdict (one seed)"
    ]  # fmt: skip
    with pytest.raises(KeyError, match="no runs of cell 'fc'"):
        cell_stats(runs, "fc")
    with pytest.raises(ValueError, match="a seed twice"):
        cell_stats(runs.assign(seed=0), "stmo")


def test_compare_reports_the_resolution():
    a, b = seed_stats([80, 82, 84]), seed_stats([76, 78, 80])
    v = compare(a, b, 44.2, 43.2)
    assert v.resolution == pytest.approx(2 * math.sqrt(8 / 3)) and "resolution 3.3 mm" in v.sentence
    assert compare(a, b, 44.2, 43.2, noise=3.0).resolution == pytest.approx(3 * math.sqrt(8 / 3))
    assert "resolution 3.3 mm" in compare(a, b).sentence  # no claim: still stated
