"""What our numbers say about a paper's claim: seed statistics, verdicts and sentences from numbers.

A demo-scale ablation cell is a distribution, not a number: each "ours" cell is trained with
several seeds (the profile's ``seeds``) and reported as mean ± std. A paper's claim about two
rows ("B is better than A by d mm") is then judged from our numbers:

- **agrees**: our difference has the paper's sign and exceeds the noise;
- **disagrees**: our difference has the opposite sign and exceeds the noise;
- **within noise**: |difference| <= ``noise`` x its standard error (seeds too few or too close to
  tell); with one seed nothing can be told apart and every comparison is "within noise".

The standard error of a difference of two means is ``sqrt(s_a^2 / n_a + s_b^2 / n_b)``; the
threshold ``noise=2`` is about a 95% two-sided test for normal errors. Every sentence a notebook
prints about a result is made here, from the numbers it states: a verdict's sentence
(:func:`compare`), why it may differ from the paper (:func:`explain`, :func:`disagreement_sentence`),
how many claims agree (:func:`tally`), what the seeds can resolve (:func:`noise_sentence`), how far a
model got (:func:`scale_sentence`, :func:`spread_sentence`, :func:`trend_sentence`) and whether a
printed Params/FLOPs figure is our exact count (:func:`printed_match`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

VERDICTS = ("agrees", "disagrees", "within noise", "no claim")


@dataclass(frozen=True)
class SeedStats:
    """Mean, sample standard deviation and count of one cell over seeds."""

    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return sum(self.values) / self.n if self.n else math.nan

    @property
    def std(self) -> float:
        if self.n < 2:
            return math.nan
        m = self.mean
        return math.sqrt(sum((v - m) ** 2 for v in self.values) / (self.n - 1))

    @property
    def sem(self) -> float:
        """Standard error of the mean (NaN with one seed)."""
        return self.std / math.sqrt(self.n) if self.n >= 2 else math.nan

    def __str__(self) -> str:
        return format_stats(self)


def seed_stats(values: Iterable[float]) -> SeedStats:
    """The statistics of a cell's per-seed values (non-finite values are an error)."""
    vals = tuple(float(v) for v in values)
    if not vals:
        raise ValueError("no values: a cell needs at least one seed")
    if not all(math.isfinite(v) for v in vals):
        raise ValueError(f"non-finite value among the seeds: {vals}")
    return SeedStats(vals)


def format_stats(s: SeedStats, decimals: int = 1) -> str:
    """``"110.9 ± 2.3 (3 seeds)"``, or ``"110.9 (1 seed)"``."""
    if s.n < 2:
        return f"{s.mean:.{decimals}f} (1 seed)"
    return f"{s.mean:.{decimals}f} ± {s.std:.{decimals}f} ({s.n} seeds)"


def format_cell(s: SeedStats, decimals: int = 1) -> str:
    """A table cell: ``"110.9 ± 2.3"`` (mean ± sample std over the seeds), ``"110.9"`` with one seed."""
    return f"{s.mean:.{decimals}f}" if s.n < 2 else f"{s.mean:.{decimals}f} ± {s.std:.{decimals}f}"


@dataclass(frozen=True)
class Verdict:
    """Our difference ``ours_diff = b - a`` against the paper's ``paper_diff`` (None: no claim)."""

    verdict: str
    ours_diff: float
    se: float
    paper_diff: float | None
    sentence: str


def compare(
    a: SeedStats,
    b: SeedStats,
    paper_a: float | None = None,
    paper_b: float | None = None,
    *,
    name_a: str = "A",
    name_b: str = "B",
    lower_is_better: bool = True,
    unit: str = "mm",
    noise: float = 2.0,
    paper_diff: float | None = None,
    paper_direction: int | None = None,
    source: str = "",
) -> Verdict:
    """Judge the paper's claim about rows ``a`` and ``b`` from our per-seed values.

    The claim is the sign of ``paper_b - paper_a``; when the paper prints no row values, give
    the difference it states (``paper_diff``, e.g. "0.3 mm better": ``-0.3``) or only its
    direction (``paper_direction`` -1: B lower than A, +1: higher; for a curve whose values are
    not printed). No claim when none is given or the difference is 0. ``source`` (e.g.
    ``"Fig. 4a"``) is named in the sentence. The sentence states both differences with their numbers.
    """
    diff = b.mean - a.mean
    se = math.sqrt(a.std**2 / a.n + b.std**2 / b.n) if a.n >= 2 and b.n >= 2 else math.nan
    if paper_a is not None and paper_b is not None:
        paper_diff = paper_b - paper_a
    better = "lower" if lower_is_better else "higher"
    ours = f"ours: {name_b} {_signed(diff)} {unit} vs {name_a}" + (
        f" (± {se:.1f} {unit} s.e.)" if se == se else ""
    )
    where = f" ({source})" if source else ""
    if paper_diff is not None and paper_diff != 0:
        sign = 1.0 if paper_diff > 0 else -1.0
        claim = f"paper{where}: {name_b} {_signed(paper_diff)} {unit} vs {name_a}"
    elif paper_direction:
        sign = 1.0 if paper_direction > 0 else -1.0
        claim = (
            f"paper{where}: {name_b} {'higher' if sign > 0 else 'lower'} than {name_a} (value not printed)"
        )
    else:
        return Verdict("no claim", diff, se, paper_diff, f"{ours}; the paper gives no difference to test")
    if not separated(a, b, noise):
        why = "one seed cannot separate them" if not se == se else f"|difference| <= {noise:g} s.e."
        return Verdict("within noise", diff, se, paper_diff, f"{claim}; {ours}: within noise ({why})")
    word = "agrees" if (diff > 0) == (sign > 0) else "disagrees"
    direction = "better" if (diff < 0) == lower_is_better else "worse"
    return Verdict(
        word, diff, se, paper_diff,
        f"{claim}; {ours}: {word} ({name_b} is {direction} here, {better} is better)",
    )  # fmt: skip


def separated(a: SeedStats, b: SeedStats, noise: float = 2.0) -> bool:
    """Whether the means differ by more than ``noise`` standard errors (False with one seed)."""
    if a.n < 2 or b.n < 2:
        return False
    return abs(b.mean - a.mean) > noise * math.sqrt(a.std**2 / a.n + b.std**2 / b.n)


def tally(verdicts: Iterable[Verdict]) -> str:
    """``"of 5 claims of the paper tested here: 1 agrees, 0 disagree, 4 are within noise"``."""
    vs = [v for v in verdicts if v.verdict != "no claim"]
    if not vs:
        return "no claim of the paper is tested here"
    count = {k: sum(v.verdict == k for v in vs) for k in ("agrees", "disagrees", "within noise")}
    return (
        f"of {len(vs)} claim{'s' if len(vs) != 1 else ''} of the paper tested here: "
        f"{count['agrees']} agree{'s' if count['agrees'] == 1 else ''}, "
        f"{count['disagrees']} disagree{'s' if count['disagrees'] == 1 else ''}, "
        f"{count['within noise']} {'is' if count['within noise'] == 1 else 'are'} within noise"
    )


def noise_sentence(
    cells: Sequence[SeedStats], paper_diffs: Sequence[float], unit: str = "mm", noise: float = 2.0
) -> str:
    """How our seed noise compares with the differences the paper reports between the same rows.

    ``cells``: our per-seed statistics of the rows; ``paper_diffs``: the paper's differences
    between the rows it compares (any sign). The sentence says which paper differences are
    larger than what our seeds can resolve (``noise`` x the standard error of a difference of
    two typical cells).
    """
    multi = [c for c in cells if c.n >= 2]
    if not multi:
        return "one seed per cell: no difference between rows can be told from noise"
    stds = [c.std for c in multi]
    n = min(c.n for c in multi)
    typical = sorted(stds)[len(stds) // 2]
    resolvable = noise * math.sqrt(2 * typical**2 / n)
    diffs = sorted(abs(d) for d in paper_diffs if d is not None)
    text = (
        f"our seed-to-seed standard deviations are {min(stds):.1f}-{max(stds):.1f} {unit}, so with {n} seeds "
        f"two rows are told apart only when they differ by more than about {resolvable:.1f} {unit}"
    )
    if not diffs:
        return text
    text += f"; the paper's differences between these rows are {diffs[0]:.1f}-{diffs[-1]:.1f} {unit}"
    above = sum(d > resolvable for d in diffs)
    if above == 0:
        return (
            text
            + ", all below that: none of them could show at this scale even if our models matched the paper's"
        )
    if above < len(diffs):
        return text + f", and only {above} of {len(diffs)} exceed it"
    return text + ", all above it"


def scale_sentence(
    ours: float,
    paper: float | None = None,
    baseline: float | None = None,
    *,
    steps: int | None = None,
    batch_size: int | None = None,
    train_frames: int | None = None,
    what: str = "our model",
    unit: str = "mm",
) -> str:
    """Why an absolute number of ours differs from the paper's, from the numbers.

    ``baseline``: the error of predicting the average training pose (``pstmo.evaluate.mean_pose_baseline``)
    on the same test set, which says how much the model has learned at all; ``steps``,
    ``batch_size``, ``train_frames``: what it trained on (the paper: about 80 epochs over about
    1.5 million Human3.6M training frames).
    """
    text = f"{what} scores {ours:.1f} {unit}"
    if paper is not None and paper > 0:
        text += f", {ours / paper:.1f}x the paper's {paper:.1f} {unit} (on Human3.6M)"
    if baseline is not None:
        gain = baseline - ours
        if gain <= 0:
            text += (
                f"; predicting the average training pose for every frame scores {baseline:.1f} {unit}, "
                "so it has not yet learned to lift"
            )
        else:
            text += (
                f"; predicting the average training pose for every frame scores {baseline:.1f} {unit}, so training "
                f"removed {gain:.1f} {unit} ({gain / baseline:.0%}) of that error"
            )
    if steps is not None:
        seen = f"{steps} optimizer steps" + (f" of {batch_size} windows" if batch_size else "")
        if train_frames is not None:
            seen += f" drawn from {train_frames:,} training frames"
            if batch_size:
                seen += f" ({steps * batch_size / train_frames:.2f} passes over them)"
        text += f". It trained {seen}, where the paper trains about 80 epochs over about 1.5 million frames"
    return text


def spread_sentence(
    cells: Sequence[tuple[str, SeedStats]], baseline: float | None = None, unit: str = "mm"
) -> str:
    """How far apart the rows are compared with how far they are from the trivial answer.

    When all rows lie close together but far below the average-pose ``baseline``, the variants
    differ mostly in how fast they start to learn, not (yet) in what they can represent.
    """
    if not cells:
        return "no rows"
    means = [c.mean for _, c in cells]
    lo, hi = min(means), max(means)
    low_name = next(n for n, c in cells if c.mean == lo)
    high_name = next(n for n, c in cells if c.mean == hi)
    text = f"our rows span {hi - lo:.1f} {unit}, from {low_name} ({lo:.1f}) to {high_name} ({hi:.1f})"
    if baseline is None:
        return text
    stuck = [n for n, c in cells if c.mean >= 0.97 * baseline]
    learned = [(n, c) for n, c in cells if c.mean < 0.97 * baseline]
    if stuck:
        text += (
            f"; {', '.join(stuck)} {'is' if len(stuck) == 1 else 'are'} within 3% of the error of predicting the "
            f"average training pose ({baseline:.1f}), i.e. {'it has' if len(stuck) == 1 else 'they have'} not "
            "started to lift at all"
        )
    if learned:
        l_lo = min(c.mean for _, c in learned)
        l_hi = max(c.mean for _, c in learned)
        text += (
            f"; {'the others are' if stuck else 'all are'} {baseline - l_hi:.1f}-{baseline - l_lo:.1f} {unit} below "
            + (
                "that baseline"
                if stuck
                else f"the error of predicting the average training pose ({baseline:.1f})"
            )
        )
        if len(learned) > 1 and l_hi - l_lo < 0.25 * (baseline - l_lo):
            text += (
                ", much closer to each other than to it: early in training the variants differ more in how fast they "
                "start to learn than in what they can represent"
            )
    return text


def bullet(
    v: Verdict, a: SeedStats | None = None, b: SeedStats | None = None, baseline: float | None = None
) -> str:
    """One Markdown list item for a verdict: ``- **within noise**: <sentence>``, followed by a
    warning when one row is no better than the average-pose ``baseline`` (it has not started to
    lift, so the verdict tests nothing), else :func:`explain`'s reason when the paper's difference
    is one our seeds would have resolved
    (the informative case; a difference below our resolution is said once for all rows by
    :func:`noise_sentence`, a disagreement by :func:`disagreement_sentence`)."""
    text = f"- **{v.verdict}**: {v.sentence}"
    if a is not None and b is not None and baseline is not None and max(a.mean, b.mean) >= 0.97 * baseline:
        return text + (
            f"; but one of the two is no better than predicting the average training pose ({baseline:.1f}), so it "
            "has not started to lift and this verdict cannot test the claim"
        )
    resolvable = v.se == v.se and v.paper_diff is not None and abs(v.paper_diff) > 2.0 * v.se
    if a is not None and b is not None and v.verdict == "within noise" and resolvable:
        why = explain(v, a, b, baseline)
        if why:
            text += f"; {why}"
    return text


def disagreement_sentence(
    rows: Sequence[tuple[str, Verdict, SeedStats]],
    baseline: float | None = None,
    setting: str = "these short runs",
    unit: str = "mm",
) -> str:
    """Why we think our rows disagree with the paper, from the numbers: ``rows`` are
    ``(name of the row, its verdict, its seed statistics)`` for the disagreeing rows only.

    A row no better than the average-pose ``baseline`` (within 3 %) has not started to lift, so it
    cannot test the paper's ranking; the others are read as differences in early learning speed
    in ``setting`` (e.g. "100 steps of a width-32 model at N=9")."""
    rows = [r for r in rows if r[1].verdict == "disagrees"]
    if not rows:
        return ""
    stuck = [(n, s) for n, _, s in rows if baseline is not None and s.mean >= 0.97 * baseline]
    other = [(n, v) for n, v, s in rows if not (baseline is not None and s.mean >= 0.97 * baseline)]
    parts = [
        f"{n} ({s.mean:.1f} {unit}) is no better than predicting the average training pose ({baseline:.1f} {unit}): "
        f"in {setting} it has not started to lift, so its row cannot test the paper's ranking"
        for n, s in stuck
    ]
    if other:
        diffs = ", ".join(
            f"{n} {_signed(v.ours_diff)} {unit} where the paper has {_signed(v.paper_diff or 0.0)}"
            for n, v in other
        )
        parts.append(
            f"{'the other disagreement' if stuck else 'where we disagree'} ({diffs}), we read "
            f"{'it' if len(other) == 1 else 'them'} as a difference in how fast the variants start to learn in "
            f"{setting}, not as evidence against the paper's ranking of converged models"
        )
    return "; ".join(parts)


def trend_sentence(values: Sequence[float], what: str = "the training loss", fraction: float = 0.1) -> str:
    """How a logged curve went: the mean of its first and last ``fraction`` of entries, and
    whether it was still falling at the end (the last stretch more than 2 % below the one
    before it)."""
    vals = [float(v) for v in values]
    if len(vals) < 4:
        return f"{what} has too few logged values ({len(vals)}) to tell a trend"
    k = max(1, int(len(vals) * fraction))
    first, last, before = vals[:k], vals[-k:], vals[-2 * k : -k]
    m_first, m_last, m_before = (sum(x) / len(x) for x in (first, last, before))
    verb = "rose" if m_last > m_first else "fell"
    text = f"{what} {verb} from {m_first:.3g} (mean of the first {k} logged steps) to {m_last:.3g} (the last {k})"
    if m_last < 0.98 * m_before:
        return (
            text
            + f", and was still falling at the end ({m_before:.3g} just before): training had not converged"
        )
    return text + f"; it had flattened at the end ({m_before:.3g} just before)"


def printed_match(printed: float | None, exact: float, scale: float = 1e6, decimals: int = 1) -> bool:
    """Whether a figure printed in a paper (e.g. Params 2.2 in millions) is our ``exact`` count
    divided by ``scale`` and either truncated or rounded to ``decimals`` places (the papers do both,
    docs/FIDELITY.md "Counting conventions"). False when nothing is printed."""
    if printed is None or printed != printed:
        return False
    q = 10**decimals
    value = exact / scale * q
    candidates = {math.floor(value + 1e-9) / q, round(value) / q}
    return any(abs(printed - c) < 0.5 / q for c in candidates)


def count_columns(table: Any, reported: Any, counts: dict, keys: list, names: dict) -> list[str]:
    """Add a paper table's Params(M) / FLOPs(M) columns to ``table`` (a DataFrame, in place): the
    paper's figure, then our exact count at the paper's size (``counts[key]`` from
    :func:`pstmo.complexity.count`; ``keys`` the table's rows in order). Returns ``names[key]`` of
    the rows whose printed figures our counts do not reproduce (:func:`printed_match`: Params to
    0.1M, FLOPs to 1M)."""
    table["Params(M) (paper)"] = reported["Params(M)"]
    table["Params(M) (ours, exact)"] = [round(counts[k]["params_paper"] / 1e6, 2) for k in keys]
    table["FLOPs(M) (paper)"] = reported["FLOPs(M)"].astype("Int64")
    table["FLOPs(M) (ours, exact)"] = [round(counts[k]["flops_paper"] / 1e6, 1) for k in keys]
    return [
        names[k]
        for k, (_, row) in zip(keys, reported.iterrows())
        if not (
            printed_match(row["Params(M)"], counts[k]["params_paper"], 1e6, 1)
            and printed_match(row["FLOPs(M)"], counts[k]["flops_paper"], 1e6, 0)
        )
    ]


def sentence(text: str) -> str:
    """``text`` as a sentence: first letter upper-case (the rest untouched, unlike ``str.capitalize``)
    and a final full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def best(cells: Sequence[tuple[str, SeedStats]], lower_is_better: bool = True) -> str:
    """A sentence naming the best row by mean and whether the runner-up is within noise of it."""
    if not cells:
        return "no rows"
    ordered = sorted(cells, key=lambda c: c[1].mean, reverse=not lower_is_better)
    name, top = ordered[0]
    text = f"best here: {name} ({format_stats(top)})"
    if len(ordered) > 1:
        second, s2 = ordered[1]
        text += f"; {second} is {'within noise of it' if separated(top, s2) is False else 'clearly behind'}"
    return text


def explain(
    v: Verdict,
    a: SeedStats,
    b: SeedStats,
    baseline: float | None = None,
    noise: float = 2.0,
    unit: str = "mm",
) -> str:
    """Why our comparison may not show the paper's claim, in one sentence made from the numbers
    ("" when it agrees or the paper makes no claim).

    ``baseline``: the same metric for predicting the mean training pose for every frame
    (``pstmo.evaluate.mean_pose_baseline``). Models that barely beat it (by less than a quarter
    of it) are far from converged, the likeliest reason for an effect that differs from a
    converged model's.
    """
    if v.verdict in ("agrees", "no claim") or v.paper_diff is None:
        return ""
    resolution = noise * v.se
    best = min(a.mean, b.mean)
    undertrained = baseline is not None and baseline - best < 0.25 * baseline
    if not undertrained:
        why_small = ""
    elif baseline - best <= 0:
        why_small = (
            f"neither beats predicting the mean training pose ({baseline:.2f} {unit}): not learned yet"
        )
    else:
        why_small = (
            f"both are only {baseline - best:.1f} {unit} better than predicting the mean training pose "
            f"({baseline:.1f} {unit}), far from converged"
        )
    if v.verdict == "within noise":
        if v.se != v.se:  # one seed: the verdict's sentence already says so
            return ""
        if abs(v.paper_diff) <= resolution:
            return (
                f"the paper's difference ({abs(v.paper_diff):.1f} {unit}) is smaller than what {a.n}+{b.n} seeds "
                f"resolve here ({noise:g} s.e. = {resolution:.1f} {unit}), so it could not show at this scale"
            )
        return (
            f"a difference as large as the paper's ({abs(v.paper_diff):.1f} {unit}) would be resolved here "
            f"({noise:g} s.e. = {resolution:.1f} {unit}), but ours is {v.ours_diff:+.1f} {unit}"
            + (f": {why_small}" if undertrained else ": the effect does not appear at this scale")
        )
    if undertrained:
        return f"{why_small}: a change that speeds up early training wins here, whatever it does after full training"
    return "our data, model size and training length differ from the paper's, and the ranking can differ with them"


def _signed(x: float) -> str:
    return f"{x:+.1f}"


__all__ = [
    "VERDICTS", "SeedStats", "Verdict", "best", "compare", "explain", "format_cell", "format_stats", "seed_stats",
    "separated",
]  # fmt: skip
__all__ += [
    "bullet", "disagreement_sentence", "noise_sentence", "printed_match", "scale_sentence", "sentence",
    "spread_sentence", "tally", "trend_sentence",
]  # fmt: skip
