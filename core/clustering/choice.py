"""Choosing k: the highest silhouette, the elbow beside it, and the reasons to doubt the choice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segscope.core.clustering.stability import UNSTABLE
from segscope.core.clustering.sweep import KResult
from segscope.core.errors import DataError
from segscope.core.text import below, silhouette

WEAK = 0.25  # a best silhouette under this is weak structure


@dataclass(frozen=True)
class Choice:
    """The chosen k, the knee beside it, and why."""

    k: int
    best_silhouette_k: int
    knee: int | None
    reason: str
    warnings: list[str]


def knee_of(results: Sequence[KResult]) -> int | None:
    """The elbow of inertia vs k (kneed), or None when the curve has no clear knee."""
    if len(results) < 3:
        return None
    from kneed import KneeLocator

    ks = [r.k for r in results]
    inertia = [r.inertia for r in results]
    knee = KneeLocator(ks, inertia, curve="convex", direction="decreasing").knee
    return int(knee) if knee is not None else None


def choose_k(results: Sequence[KResult], override: int | None = None) -> Choice:
    """Highest silhouette by default; the knee reported beside it; `override` wins."""
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
    return Choice(k, best.k, knee, reason, doubt_warnings(results, chosen, best, knee))


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
