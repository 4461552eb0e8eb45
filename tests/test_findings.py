"""Verdicts from per-seed numbers: the sign of the paper's claim against ours, with the noise."""

from __future__ import annotations

import math

import pytest

from pstmo.findings import best, compare, format_stats, seed_stats


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
    assert (
        compare(seed_stats([100]), seed_stats([90]), 50, 45).verdict == "within noise"
    )  # one seed: cannot tell
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
    from pstmo.findings import explain, format_cell

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
