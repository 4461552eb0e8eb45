"""What our numbers say about a paper's claim: seed statistics, verdicts and sentences from numbers.

A demo-scale ablation cell is a distribution, not a number: each "ours" cell is trained with
several seeds (the profile's ``seeds``) and reported as mean ± std. A paper's claim about two
rows ("B is better than A by d mm", a :class:`pstmo.report.claims.Claim`) is judged from our numbers by
one function, :func:`judge` (:func:`judge_all` for a list of claims, one tidy row each), with
these rules, in this order:

1. **no claim**: the paper gives neither two rows, nor a difference, nor a direction: nothing to
   test. Rows the paper prints *equal* are a claim too, "no difference": judged by rules 2-4, and
   **disagrees** when our rows differ by more than the resolution.
2. **not judged**, flagged instead of judged, when a row has not learned what the claim is about:
   "not judged: at the average-pose level" when ``baseline`` (the same metric for predicting the
   average training pose for every frame, ``pstmo.evaluate.mean_pose_baseline``) is given and
   either row's mean is not clearly below it, i.e. above ``BASELINE_MARGIN`` x baseline (0.8: a
   row must remove at least a fifth of the trivial answer's error); for ``metric == "mpjve"``,
   "not judged: no better than a still pose" when either row's MPJVE is above 0.8 x ``static``
   (the MPJVE of a pose that does not move, i.e. the mean ground-truth velocity). Both rules apply
   to lower-is-better metrics only.
3. **no verdict (one seed)**: a row with fewer than 2 seeds has no spread to measure, so nothing
   can be told apart; never "within noise".
4. **within noise**: ``|ours_diff| <= resolution``;
5. **agrees** / **disagrees**: our difference exceeds the resolution with the paper's sign / the
   opposite sign (for a "no difference" claim: **disagrees**, whatever the sign) (the sign of ``paper_b - paper_a``, of a stated difference or of a stated
   direction; "better" follows ``lower_is_better``).

The **resolution** is ``noise`` x the standard error of the difference of the two means,
``sqrt(s_a^2 / n_a + s_b^2 / n_b)`` (sample standard deviations over the seeds), in the metric's
unit: differences smaller than it cannot be told apart with these seeds. ``noise = 2`` is about a
95% two-sided test for normal errors. Every :class:`Verdict` carries it and its sentence states it.

Every sentence a notebook prints about a result is made here, from the numbers it states: a
verdict's sentence (:func:`judge`, :func:`compare` for one pair of rows given by hand), why it may
differ from the paper (:func:`explain`, :func:`disagreement_sentence`), how many claims agree
(:func:`tally`), what the seeds can resolve (:func:`noise_sentence`, :func:`resolution_sentence`),
how far a model got (:func:`scale_sentence`, :func:`spread_sentence`, :func:`trend_sentence`) and
whether a printed Params/FLOPs figure is our exact count (:func:`printed_match`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pandas is imported lazily: `import pstmo.report.findings` stays cheap
    import pandas as pd

ONE_SEED = "no verdict (one seed)"
AT_BASELINE = "not judged: at the average-pose level"
STILL_POSE = "not judged: no better than a still pose"
VERDICTS = ("agrees", "disagrees", "within noise", ONE_SEED, AT_BASELINE, STILL_POSE, "no claim")
#: a row is judged only when its mean is below this fraction of the average-pose (or still-pose) error
BASELINE_MARGIN = 0.8


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
    """Our difference ``ours_diff = b - a`` against the paper's ``paper_diff`` (None: no claim).

    ``se``: the standard error of our difference (NaN with one seed); ``resolution``: ``noise`` x
    ``se``, the smallest difference these seeds tell apart; ``claim``: the judged claim, if any."""

    verdict: str
    ours_diff: float
    se: float
    paper_diff: float | None
    sentence: str
    resolution: float = math.nan
    claim: Any = None


def standard_error(a: SeedStats, b: SeedStats) -> float:
    """``sqrt(s_a^2 / n_a + s_b^2 / n_b)``, the standard error of ``b.mean - a.mean`` (NaN with one seed)."""
    if a.n < 2 or b.n < 2:
        return math.nan
    return math.sqrt(a.std**2 / a.n + b.std**2 / b.n)


def resolution_sentence(resolution: float, unit: str = "mm") -> str:
    """``"resolution 3.3 mm: differences smaller than this cannot be told apart with these seeds"``."""
    if resolution != resolution:
        return (
            "no resolution with one seed: there is no spread to measure, so no difference can be told apart"
        )
    return (
        f"resolution {resolution:.{_decimals(unit)}f} {unit}: differences smaller than this cannot be told "
        "apart with these seeds"
    )


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
    """Judge the paper's claim about rows ``a`` and ``b`` from our per-seed values (rules 1 and 3-5
    of the module docstring; :func:`judge` adds rule 2 for a :class:`pstmo.report.claims.Claim`).

    The claim is the sign of ``paper_b - paper_a``; when the paper prints no row values, give
    the difference it states (``paper_diff``, e.g. "0.3 mm better": ``-0.3``) or only its
    direction (``paper_direction`` -1: B lower than A, +1: higher; for a curve whose values are
    not printed). No claim when none is given; a difference of 0 (equal rows) is the claim "no
    difference" (within noise, or disagrees when ours exceeds the resolution). ``source`` (e.g.
    ``"Fig. 4a"``) is named in the sentence. The sentence states both differences with their
    numbers, and the resolution.
    """
    diff, se = b.mean - a.mean, standard_error(a, b)
    resolution = noise * se
    if paper_a is not None and paper_b is not None:
        paper_diff = paper_b - paper_a
    claim, ours, sign = _parts(a, b, name_a, name_b, unit, paper_diff, paper_direction, source)
    res = resolution_sentence(resolution, unit)
    if not sign and paper_diff != 0:
        none = "the paper gives no difference to test"
        return Verdict("no claim", diff, se, paper_diff, f"{ours}; {none}; {res}", resolution)
    if se != se:
        word, why = ONE_SEED, ""
    elif abs(diff) <= resolution:
        word, why = "within noise", f"|difference| <= {noise:g} s.e."
    elif not sign:  # the paper's rows are equal: "no difference"
        word, why = "disagrees", "ours separates two rows the paper prints equal"
    else:
        word = "agrees" if (diff > 0) == (sign > 0) else "disagrees"
        better = "lower" if lower_is_better else "higher"
        why = f"{name_b} is {'better' if (diff < 0) == lower_is_better else 'worse'} here, {better} is better"
    why = f" ({why})" if why else ""
    return Verdict(word, diff, se, paper_diff, f"{claim}; {ours}: {word}{why}; {res}", resolution)


def _parts(
    a: SeedStats,
    b: SeedStats,
    name_a: str,
    name_b: str,
    unit: str,
    paper_diff: float | None,
    paper_direction: int | None,
    source: str,
) -> tuple[str, str, int]:
    """The paper's claim in words, ours in words, and the claim's sign (0: no claim)."""
    dec = _decimals(unit)
    diff, se = b.mean - a.mean, standard_error(a, b)
    ours = f"ours: {name_b} {_signed(diff, dec)} {unit} vs {name_a}" + (
        f" (± {se:.{dec}f} {unit} s.e., {a.n}+{b.n} seeds)" if se == se else f" ({a.n}+{b.n} seeds)"
    )
    where = f" ({source})" if source else ""
    if paper_diff is not None and paper_diff != 0:
        sign = 1 if paper_diff > 0 else -1
        return f"paper{where}: {name_b} {_signed(paper_diff, dec)} {unit} vs {name_a}", ours, sign
    if paper_direction:
        sign = 1 if paper_direction > 0 else -1
        higher = "higher" if sign > 0 else "lower"
        return f"paper{where}: {name_b} {higher} than {name_a} (value not printed)", ours, sign
    if paper_diff == 0:
        return f"paper{where}: {name_b} equal to {name_a} (no difference)", ours, 0
    return "", ours, 0


class ClaimLike(Protocol):
    """What :func:`judge` reads of a claim: a :class:`pstmo.report.claims.Claim` (``findings`` sits below
    ``claims`` in the layers, so it names the fields instead of importing the class)."""

    id: str
    a: str
    b: str
    metric: str
    lower_is_better: bool
    source: str
    text: str
    direction: int

    @property
    def paper_diff(self) -> float | None: ...

    @property
    def unit(self) -> str: ...


def cell_stats(runs: pd.DataFrame, cell: str, metric: str = "mpjpe") -> SeedStats:
    """The seed statistics of one cell of a runner's tidy table (columns ``cell``, ``seed``, ``metric``)."""
    if metric not in runs.columns:
        raise KeyError(f"the runs have no column {metric!r} (columns: {', '.join(map(str, runs.columns))})")
    rows = runs[runs["cell"] == cell]
    if rows.empty:
        raise KeyError(
            f"no runs of cell {cell!r} (cells: {', '.join(map(str, dict.fromkeys(runs['cell'])))})"
        )
    if "seed" in rows.columns and rows["seed"].duplicated().any():
        raise ValueError(f"cell {cell!r} has a seed twice: one row per cell and seed")
    return seed_stats(rows[metric])


def judge(
    claim: ClaimLike,
    runs: pd.DataFrame,
    *,
    baseline: float | None = None,
    static: float | None = None,
    noise: float = 2.0,
) -> Verdict:
    """Judge one claim from a runner's tidy table ``runs`` (one row per cell and seed), by the rules
    of the module docstring. ``baseline``: the claim's metric for predicting the average training
    pose; ``static``: the MPJVE of a pose that does not move (used when ``claim.metric == "mpjve"``)."""
    a, b = cell_stats(runs, claim.a, claim.metric), cell_stats(runs, claim.b, claim.metric)
    c, unit = claim, claim.unit
    v = compare(a, b, name_a=c.a, name_b=c.b, lower_is_better=c.lower_is_better, unit=unit, noise=noise,
                paper_diff=c.paper_diff, paper_direction=c.direction, source=c.source)  # fmt: skip
    flag = _not_judged(claim, a, b, static if claim.metric == "mpjve" else baseline)
    if flag is not None and v.verdict != "no claim":
        paper, ours, _ = _parts(a, b, c.a, c.b, unit, c.paper_diff, c.direction, c.source)
        res = resolution_sentence(v.resolution, unit)
        v = replace(v, verdict=flag[0], sentence=f"{paper}; {ours}: {flag[0]} ({flag[1]}); {res}")
    return replace(v, claim=claim)


def _not_judged(
    claim: ClaimLike, a: SeedStats, b: SeedStats, reference: float | None
) -> tuple[str, str] | None:
    """(verdict, why) when a row is not clearly below the trivial answer's error, else None."""
    if reference is None or not claim.lower_is_better:
        return None
    limit, unit, dec = BASELINE_MARGIN * reference, claim.unit, _decimals(claim.unit)
    high = [(name, s.mean) for name, s in ((claim.a, a), (claim.b, b)) if s.mean > limit]
    if not high:
        return None
    if claim.metric == "mpjve":
        verdict, what = STILL_POSE, "a pose that does not move"
    else:
        verdict, what = AT_BASELINE, "predicting the average training pose"
    rows = " and ".join(f"{name} {m:.{dec}f} {unit}" for name, m in high)
    return verdict, (
        f"{rows}: not clearly below the {reference:.{dec}f} {unit} of {what}; a row is judged only below "
        f"{BASELINE_MARGIN:g} x that = {limit:.{dec}f} {unit}"
    )


def _baseline_for(baseline: float | Mapping[str, float] | None, metric: str) -> float | None:
    if isinstance(baseline, Mapping):
        return baseline.get(metric)
    return baseline if metric == "mpjpe" else None


#: the columns of :func:`judge_all`'s table
JUDGED_COLUMNS = (
    "id", "source", "text", "a", "b", "metric", "ours_a", "ours_b", "ours_diff", "paper_diff", "resolution",
    "n_a", "n_b", "verdict", "sentence",
)  # fmt: skip


def judge_all(
    claims: Iterable[ClaimLike],
    runs: pd.DataFrame,
    *,
    baseline: float | Mapping[str, float] | None = None,
    static: float | None = None,
    noise: float = 2.0,
) -> pd.DataFrame:
    """:func:`judge` every claim whose two cells and metric are in ``runs``; one row per claim
    (:data:`JUDGED_COLUMNS`; ``ours_a`` / ``ours_b`` as "mean ± std"). A claim the runner did not
    run is left out. ``baseline``: a number is the average pose's MPJPE (used for ``mpjpe``
    claims); a mapping gives it per metric (``{"mpjpe": ..., "p_mpjpe": ...}``)."""
    import pandas as pd

    cells, rows = set(runs["cell"]), []
    for c in claims:
        if c.a not in cells or c.b not in cells or c.metric not in runs.columns:
            continue
        v = judge(c, runs, baseline=_baseline_for(baseline, c.metric), static=static, noise=noise)
        a, b = cell_stats(runs, c.a, c.metric), cell_stats(runs, c.b, c.metric)
        dec = _decimals(c.unit)
        rows.append(
            dict(id=c.id, source=c.source, text=c.text, a=c.a, b=c.b, metric=c.metric, ours_a=format_cell(a, dec),
                 ours_b=format_cell(b, dec), ours_diff=v.ours_diff, paper_diff=v.paper_diff, resolution=v.resolution,
                 n_a=a.n, n_b=b.n, verdict=v.verdict, sentence=v.sentence)
        )  # fmt: skip
    return pd.DataFrame(rows, columns=list(JUDGED_COLUMNS))


def separated(a: SeedStats, b: SeedStats, noise: float = 2.0) -> bool:
    """Whether the means differ by more than ``noise`` standard errors (False with one seed)."""
    if a.n < 2 or b.n < 2:
        return False
    return abs(b.mean - a.mean) > noise * standard_error(a, b)


def tally(verdicts: Iterable[Verdict | str] | pd.DataFrame) -> str:
    """``"of 5 claims of the paper tested here: 1 agrees, 0 disagree, 4 are within noise"``, then the
    claims with one seed and those not judged, when there are any. ``verdicts``: Verdicts, verdict
    words, or :func:`judge_all`'s table."""
    if hasattr(verdicts, "columns"):
        verdicts = list(verdicts["verdict"])
    words = [v if isinstance(v, str) else v.verdict for v in verdicts]
    vs = [w for w in words if w != "no claim"]
    if not vs:
        return "no claim of the paper is tested here"
    count = Counter(vs)
    text = (
        f"of {len(vs)} claim{'s' if len(vs) != 1 else ''} of the paper tested here: "
        f"{count['agrees']} agree{'s' if count['agrees'] == 1 else ''}, "
        f"{count['disagrees']} disagree{'s' if count['disagrees'] == 1 else ''}, "
        f"{count['within noise']} {'is' if count['within noise'] == 1 else 'are'} within noise"
    )
    if count[ONE_SEED]:
        text += f", {count[ONE_SEED]} {'has' if count[ONE_SEED] == 1 else 'have'} one seed (no verdict)"
    flagged = count[AT_BASELINE] + count[STILL_POSE]
    if flagged:
        text += (
            f", {flagged} {'is' if flagged == 1 else 'are'} not judged (a row no better than the average "
            "pose or a still pose)"
        )
    return text


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
            text += ", much closer to each other than to it"
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
    if v.verdict not in ("within noise", "disagrees") or v.paper_diff is None:
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
        if v.paper_diff == 0:
            return (
                f"as the paper's equal rows: no difference larger than what {a.n}+{b.n} seeds resolve here "
                f"({noise:g} s.e. = {resolution:.1f} {unit})"
            )
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


def _signed(x: float, decimals: int = 1) -> str:
    return f"{x:+.{decimals}f}"


def _decimals(unit: str) -> int:
    """Decimals of a number in ``unit``: 2 for a velocity (mm/frame, a few mm), else 1."""
    return 2 if "/" in unit else 1


__all__ = [
    "VERDICTS", "SeedStats", "Verdict", "best", "compare", "explain", "format_cell", "format_stats", "seed_stats",
    "separated",
]  # fmt: skip
__all__ += [
    "bullet", "disagreement_sentence", "noise_sentence", "scale_sentence", "sentence",
    "spread_sentence", "tally", "trend_sentence",
]  # fmt: skip
__all__ += [
    "AT_BASELINE", "BASELINE_MARGIN", "JUDGED_COLUMNS", "ONE_SEED", "STILL_POSE", "ClaimLike", "cell_stats", "judge",
    "judge_all", "resolution_sentence", "standard_error",
]  # fmt: skip
