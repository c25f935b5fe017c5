"""Choosing k: the highest silhouette, the elbow and the other indices' votes beside it, the
reasons to doubt the choice, and whether the data shows segments at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segscope.core.clustering.gap import GapFigures, rule
from segscope.core.clustering.stability import UNSTABLE
from segscope.core.clustering.sweep import KResult
from segscope.core.clustering.vote import Vote, dissent, gap_figures, index_votes
from segscope.core.errors import DataError
from segscope.core.text import agreement, below, gap, silhouette

WEAK = 0.25  # a best silhouette under this is weak structure


@dataclass(frozen=True)
class Choice:
    """The chosen k, the knee beside it, and why."""

    k: int
    best_silhouette_k: int
    knee: int | None
    reason: str
    warnings: list[str]
    votes: tuple[Vote, ...] = ()  # which k each index prefers (clustering.vote)
    no_segments: str = ""  # why the data shows no clear segments; empty when it shows some

    @property
    def headline(self) -> str:
        """The sentence said first, everywhere, when the data shows no clear segments."""
        if not self.no_segments:
            return ""
        return (
            f"The data shows no clear segments ({self.no_segments}): the segments are a "
            "partition for convenience, not groups that exist."
        )


def knee_of(results: Sequence[KResult]) -> int | None:
    """The elbow of inertia vs k (kneed), or None when the curve has no clear knee."""
    if len(results) < 3:
        return None
    from kneed import KneeLocator

    ks = [r.k for r in results]
    inertia = [r.inertia for r in results]
    knee = KneeLocator(ks, inertia, curve="convex", direction="decreasing").knee
    return int(knee) if knee is not None else None


def choose_k(
    results: Sequence[KResult], override: int | None = None, one: GapFigures | None = None
) -> Choice:
    """Highest silhouette by default; the knee and every index's vote reported beside it;
    `override` wins. `one`: the gap statistic at k = 1 (SweepSetup.one), so that the gap rule
    can answer that the data holds one group."""
    scored = [r for r in results if np.isfinite(r.silhouette)]
    if not scored:
        raise DataError("no k could be scored: the sweep produced no segments with a silhouette.")
    best = max(scored, key=lambda r: (r.silhouette, -r.k))
    knee = knee_of(results)
    ks = [r.k for r in results]
    if override is not None and override not in ks:
        raise DataError(f"k={override} was not in the sweep (k = {ks[0]}..{ks[-1]}).")
    if override is not None and override != best.k:
        k = override
        reason = (
            f"k={k} chosen by you (highest silhouette: k={best.k}, {silhouette(best.silhouette)})"
        )
    else:
        k = best.k
        reason = f"highest silhouette {silhouette(best.silhouette)} at k={k}"
    if knee is not None:
        reason += f"; elbow of inertia at k={knee}"
    chosen = next(r for r in results if r.k == k)
    votes = index_votes(results, one, knee)
    warnings = doubt_warnings(results, chosen, best, knee)
    warnings += [w for w in (dissent(votes, k), *gap_doubts(results, one)) if w]
    return Choice(k, best.k, knee, reason, warnings, tuple(votes), no_segments(results, one))


def one_group(figures: Sequence[GapFigures]) -> bool:
    """Whether the gap statistic says one group: the paper's rule answers k = 1, and no k's gap
    exceeds Gap(1) by more than its own standard error. The rule alone stops at the first k
    not clearly beaten by the next, so on data whose segments do not split cleanly in two it
    can answer 1 while the gap at the true k is tens of standard errors above Gap(1): that is
    not a table without segments."""
    if rule(figures) != 1:
        return False
    first = figures[0]
    return all(first.gap >= f.gap - f.s for f in figures[1:])


def weak_everywhere(results: Sequence[KResult]) -> bool:
    """Whether every k scored has a weak silhouette (under WEAK) and low stability (under
    UNSTABLE) together."""
    scored = [r for r in results if np.isfinite(r.silhouette)]
    return bool(scored) and all(r.silhouette < WEAK and r.stability < UNSTABLE for r in scored)


def no_segments(results: Sequence[KResult], one: GapFigures | None) -> str:
    """Why the data shows no clear segments, in a few words; empty when it shows some."""
    reasons = []
    if one_group(gap_figures(results, one)):
        reasons.append("the gap statistic prefers one group")
    if weak_everywhere(results):
        reasons.append("every k is weak and unstable")
    return "; ".join(reasons)


def gap_doubts(results: Sequence[KResult], one: GapFigures | None) -> list[str]:
    """What the gap statistic adds to the doubts, with its figures: that it prefers one group,
    or that its rule stopped at k = 1 while a larger k is clearly better."""
    figures = gap_figures(results, one)
    if len(figures) < 2 or rule(figures) != 1:
        return []
    first, after = figures[0], figures[1]
    top = max(figures[1:], key=lambda f: f.gap - f.s)
    if one_group(figures):
        scored = [r for r in results if np.isfinite(r.silhouette)]
        return [
            f"the gap statistic prefers one group: Gap(1) {gap(first.gap)} is not exceeded by "
            f"more than its standard error at any k (highest at another k: Gap({top.k}) "
            f"{gap(top.gap)}, s {gap(top.s)})"
            + (
                f"; best silhouette {silhouette(max(r.silhouette for r in scored))}, highest "
                f"stability {agreement(max(r.stability for r in scored))}"
                if scored
                else ""
            )
        ]
    return [
        f"the gap rule stops at k=1 (Gap(1) {gap(first.gap)} ≥ Gap(2) − s(2) = {gap(after.gap)} "
        f"− {gap(after.s)}: two segments fit no better than one), yet Gap({top.k}) "
        f"{gap(top.gap)} exceeds Gap(1) by more than its standard error ({gap(top.s)}): not "
        "read as a table without segments"
    ]


def near_tie(results: Sequence[KResult], best: KResult) -> str:
    """A warning when the runner-up's silhouette is within the silhouette's own sampling noise
    of the best's: two standard errors of their paired difference over the silhouette's rows."""
    others = [r for r in results if r.k != best.k and np.isfinite(r.silhouette)]
    if not others or len(best.silhouettes) < 2:
        return ""
    second = max(others, key=lambda r: r.silhouette)
    if len(second.silhouettes) != len(best.silhouettes):
        return ""
    diff = (best.silhouettes - second.silhouettes).astype(np.float64)
    noise = 2 * float(diff.std(ddof=1)) / np.sqrt(len(diff))
    lead = best.silhouette - second.silhouette
    if lead >= noise:
        return ""
    return (
        f"k={best.k} and k={second.k} are a near tie: silhouette {silhouette(best.silhouette)} "
        f"vs {silhouette(second.silhouette)}, a lead of {lead:.4f} within the silhouette's "
        f"sampling noise (±{noise:.4f}); look at both"
    )


def doubt_warnings(
    results: Sequence[KResult], chosen: KResult, best: KResult, knee: int | None
) -> list[str]:
    """Reasons to doubt the choice, each with the figure behind it."""
    out = []
    ks = [r.k for r in results]
    if len(ks) > 2 and best.k == ks[-1]:
        out.append(f"best silhouette is at the highest k tried (k={best.k}); try higher k to check")
    elif len(ks) > 2 and best.k == ks[0] > 2:
        out.append(f"best silhouette is at the lowest k tried (k={best.k}); try lower k to check")
    elif len(ks) > 2 and best.k == 2:
        out.append(
            "best silhouette is at k=2, the fewest segments there can be: the customers may form "
            "no clear groups"
        )
    if knee is not None and knee != best.k:
        out.append(f"silhouette (k={best.k}) and the elbow (k={knee}) disagree")
    tie = near_tie(results, best)
    if tie:
        out.append(tie)
    if best.silhouette < WEAK:
        out.append(
            f"weak structure: best silhouette is {below(best.silhouette, WEAK, 3)} (under {WEAK})"
        )
    if chosen.stability < UNSTABLE:
        out.append(
            f"k={chosen.k} is unstable: resampled fits agree only "
            f"{below(chosen.stability, UNSTABLE)} "
            f"(adjusted Rand, under {UNSTABLE})"
        )
    total = sum(chosen.sizes)
    small = [i for i, s in enumerate(sorted(chosen.sizes, reverse=True), 1) if s < 0.02 * total]
    if small:
        out.append(
            f"{len(small)} segment(s) at k={chosen.k} hold under 2% of customers "
            f"(smallest: {min(chosen.sizes):,})"
        )
    return out
