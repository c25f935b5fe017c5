"""Which k each index prefers, and the votes per k (the idea R's NbClust made the standard).

Six indices vote, each by its own rule: silhouette (highest), Calinski-Harabasz (highest),
Davies-Bouldin (lowest), the gap statistic (the paper's rule, which can answer k = 1), the elbow
(the knee of inertia) and stability (the most stable k, when it is stable at all; among k as
stable as it, the largest). An index that prefers no k of this sweep abstains, saying why.
Ties go to the smaller k, except stability's (see `stability_k`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from segscope.core.clustering.gap import GapFigures, rule
from segscope.core.clustering.stability import UNSTABLE
from segscope.core.clustering.sweep import KResult
from segscope.core.text import gap

STABLE_TIE = 0.02  # stabilities this close to the highest count as just as stable


@dataclass(frozen=True)
class Vote:
    """The k one index prefers, with its figure there and the rule it follows."""

    index: str
    k: int | None  # None: it prefers no k of this sweep
    value: float  # its figure at that k (NaN when it abstains)
    kind: str  # how the figure is written (a column kind of describing.views)
    rule: str  # how the index prefers a k, and why this one (or why none)


def _finite(results: Sequence[KResult], attr: str) -> list[KResult]:
    return [r for r in results if math.isfinite(getattr(r, attr))]


def _extreme(results: Sequence[KResult], attr: str, index: str, kind: str, highest: bool) -> Vote:
    scored = _finite(results, attr)
    word = "highest" if highest else "lowest"
    if not scored:
        return Vote(index, None, math.nan, kind, f"{word}; none could be computed")
    sign = 1.0 if highest else -1.0
    best = max(scored, key=lambda r: (sign * getattr(r, attr), -r.k))
    return Vote(index, best.k, float(getattr(best, attr)), kind, word)


def gap_figures(results: Sequence[KResult], one: GapFigures | None) -> list[GapFigures]:
    """The gap statistic at every k it was measured at, k = 1 first."""
    figures = [r.gap for r in results if r.gap is not None]
    return ([one] if one is not None and figures else []) + figures


def gap_vote(results: Sequence[KResult], one: GapFigures | None) -> Vote:
    """The paper's rule: the smallest k with Gap(k) >= Gap(k+1) - s(k+1)."""
    figures = gap_figures(results, one)
    name = "first k with Gap(k) ≥ Gap(k+1) − s(k+1)"
    if not figures:
        return Vote("gap statistic", None, math.nan, "gap", f"{name}; not measured")
    k = rule(figures)
    if k is None:
        finite = {f.k for f in figures if math.isfinite(f.gap)}
        if len(finite) < len(figures):
            why = "not defined where the segments fit the sampled rows exactly"
        elif any(j + 1 in finite for j in finite):
            why = f"none: the gap still rises at k={max(finite)}"
        else:
            why = "needs consecutive k"
        return Vote("gap statistic", None, math.nan, "gap", f"{name}; {why}")
    by_k = {f.k: f for f in figures}
    here, after = by_k[k], by_k[k + 1]
    return Vote(
        "gap statistic",
        k,
        here.gap,
        "gap",
        f"{name}: {gap(here.gap)} ≥ {gap(after.gap)} − {gap(after.s)}",
    )


def stability_k(results: Sequence[KResult]) -> int | None:
    """The most stable k, if it is stable (mean adjusted Rand at least UNSTABLE); among the k
    within STABLE_TIE of it, the largest: fewer segments that merge real ones are often just as
    reproducible, and the finest partition the data reproduces as well is the one it supports
    (Ben-Hur, Elisseeff & Guyon 2002: the largest k before stability drops). An absolute
    threshold alone would let a k that barely passes it outvote one that reproduces perfectly."""
    scored = _finite(results, "stability")
    if not scored:
        return None
    top = max(r.stability for r in scored)
    if top < UNSTABLE:
        return None
    return max(r.k for r in scored if r.stability >= top - STABLE_TIE)


def stability_vote(results: Sequence[KResult]) -> Vote:
    name = f"most stable (≥ {UNSTABLE}); the largest k within {STABLE_TIE} of it"
    k = stability_k(results)
    if k is None:
        scored = _finite(results, "stability")
        why = "no k is stable" if scored else "not measured"
        return Vote("stability", None, math.nan, "agreement", f"{name}; {why}")
    value = next(r.stability for r in results if r.k == k)
    return Vote("stability", k, value, "agreement", name)


def elbow_vote(results: Sequence[KResult], knee: int | None) -> Vote:
    name = "knee of inertia"
    if knee is None:
        why = "the curve has no clear knee" if len(results) >= 3 else "needs three k or more"
        return Vote("elbow", None, math.nan, "number", f"{name}; {why}")
    value = next((r.inertia for r in results if r.k == knee), math.nan)
    return Vote("elbow", knee, value, "number", name)


def index_votes(results: Sequence[KResult], one: GapFigures | None, knee: int | None) -> list[Vote]:
    """Each index's preferred k, with its figure: the vote table."""
    return [
        _extreme(results, "silhouette", "silhouette", "silhouette", highest=True),
        _extreme(results, "calinski_harabasz", "Calinski-Harabasz", "number", highest=True),
        _extreme(results, "davies_bouldin", "Davies-Bouldin", "score2", highest=False),
        gap_vote(results, one),
        elbow_vote(results, knee),
        stability_vote(results),
    ]


def dissent(votes: Sequence[Vote], chosen: int) -> str:
    """A doubt warning when most indices that vote prefer a k other than the chosen one (named,
    each with its k); empty otherwise."""
    voting = [v for v in votes if v.k is not None]
    others = [v for v in voting if v.k != chosen]
    if not voting or 2 * len(others) <= len(voting):
        return ""
    ks = {v.k for v in others}
    named = ", ".join(f"{v.index} k={v.k}" for v in others)
    lead = (
        f"most indices prefer k={others[0].k}" if len(ks) == 1 else "most indices prefer another k"
    )
    return f"{lead} to the chosen k={chosen} ({len(others)} of {len(voting)}: {named})"
