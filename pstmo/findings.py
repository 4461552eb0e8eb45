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
prints about a result is made here, from the numbers it states.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
) -> Verdict:
    """Judge the paper's claim about rows ``a`` and ``b`` from our per-seed values.

    The claim is the sign of ``paper_b - paper_a`` (None when either is missing or they are
    equal). The sentence states both differences with their numbers.
    """
    diff = b.mean - a.mean
    se = math.sqrt(a.std**2 / a.n + b.std**2 / b.n) if a.n >= 2 and b.n >= 2 else math.nan
    paper_diff = None if paper_a is None or paper_b is None else paper_b - paper_a
    better = "lower" if lower_is_better else "higher"
    ours = f"ours: {name_b} {_signed(diff)} {unit} vs {name_a}" + (
        f" (± {se:.1f} {unit} s.e.)" if se == se else ""
    )
    if paper_diff is None or paper_diff == 0:
        return Verdict("no claim", diff, se, paper_diff, f"{ours}; the paper gives no difference to test")
    claim = f"paper: {name_b} {_signed(paper_diff)} {unit} vs {name_a}"
    if not separated(a, b, noise):
        why = "one seed cannot separate them" if not se == se else f"|difference| <= {noise:g} s.e."
        return Verdict("within noise", diff, se, paper_diff, f"{claim}; {ours}: within noise ({why})")
    same = (diff > 0) == (paper_diff > 0)
    word = "agrees" if same else "disagrees"
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
