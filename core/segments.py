"""Segments: the final fit, numbering by size, profiles against the whole base, words and advice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from segscope.core.schema import Schema
from segscope.core.sweep import KResult

NOTABLE_Z = 0.4  # a numeric feature sets a segment apart when its mean is this many SDs off
NOTABLE_LIFT = 1.5  # a category sets a segment apart at this lift ...
NOTABLE_SHARE = 0.25  # ... when it also holds this share of the segment


def final_model(X: np.ndarray, result: KResult, seed: int) -> tuple[KMeans, np.ndarray]:
    """The K-Means for the chosen k on all rows, segments renumbered 0.. by size (largest first).

    A sweep that fitted on a sample is refined on all rows from its centres.
    """
    km = result.model
    if len(result.labels) != getattr(km, "labels_", np.empty(0)).shape[0]:
        km = KMeans(n_clusters=result.k, init=km.cluster_centers_, n_init=1, random_state=seed)
        km.fit(X)
    renumber(km, by_size(km.labels_, result.k))
    return km, km.labels_


def by_size(labels: np.ndarray, k: int) -> np.ndarray:
    """order[i] = the cluster that becomes segment i (largest first)."""
    return size_order(np.bincount(labels, minlength=k))


def size_order(sizes: Sequence[int] | np.ndarray) -> np.ndarray:
    """order[i] = the cluster that becomes segment i, given each cluster's size."""
    return np.argsort(-np.asarray(sizes), kind="stable")


def inverse_order(order: np.ndarray) -> np.ndarray:
    """remap[c] = the segment (0-based) that cluster c becomes, for order[i] = cluster of i."""
    remap = np.empty_like(order)
    remap[order] = np.arange(len(order))
    return remap


def renumber(km: KMeans, order: np.ndarray) -> None:
    """Reorder a fitted K-Means so that cluster order[i] becomes cluster i."""
    km.cluster_centers_ = km.cluster_centers_[order]
    km.labels_ = inverse_order(order)[km.labels_].astype(np.int32)


@dataclass
class NumericDiff:
    """How a segment's mean of one numeric feature compares with the whole base."""

    feature: str
    label: str
    mean: float
    median: float
    base_mean: float
    z: float

    @property
    def ratio(self) -> float:
        return self.mean / self.base_mean if self.base_mean else float("nan")


@dataclass
class CategoryDiff:
    """How common one category is in a segment compared with the whole base."""

    feature: str
    label: str
    category: str
    share: float
    base_share: float

    @property
    def lift(self) -> float:
        return self.share / self.base_share if self.base_share else float("nan")


@dataclass
class SegmentProfile:
    """One segment: size, how it differs from the base, in figures and words."""

    segment: int
    size: int
    share: float
    numeric: list[NumericDiff] = field(default_factory=list)
    categories: list[CategoryDiff] = field(default_factory=list)
    description: str = ""
    action: str = ""
    recommendation: str = ""
    stability: float = float("nan")  # mean Jaccard with its best match across resampled fits

    def standouts(self, n: int = 3) -> list[str]:
        """Short figures that set the segment apart, strongest first."""
        nums = sorted((d for d in self.numeric if abs(d.z) >= NOTABLE_Z), key=lambda d: -abs(d.z))
        out = [f"{d.label} {_fmt(d.mean)} (avg {_fmt(d.base_mean)})" for d in nums[:n]]
        for c in self.notable_categories()[: max(0, n - len(out))]:
            out.append(f"{c.category} {c.share:.0%} (avg {c.base_share:.0%})")
        return out

    def notable_categories(self) -> list[CategoryDiff]:
        cats = [c for c in self.categories if c.lift >= NOTABLE_LIFT and c.share >= NOTABLE_SHARE]
        return sorted(cats, key=lambda c: -c.lift)


@dataclass
class SegmentStats:
    """Per-segment aggregates of the feature table, and the same over the whole base.

    Computed by pandas here (segment_stats) or by Spark; profiles are made from these alone.
    """

    rows: int
    sizes: dict[int, int]  # segment (1..k) -> customers
    means: pd.DataFrame  # segment x numeric feature
    medians: pd.DataFrame
    base_mean: pd.Series
    base_std: pd.Series  # population SD (ddof 0)
    base_shares: dict[str, pd.Series]  # categorical feature -> share of each category
    shares: dict[int, dict[str, pd.Series]]  # segment -> feature -> its top categories' shares


TOP_CATEGORIES = 5  # categories kept per segment and feature


def segment_stats(features: pd.DataFrame, labels: np.ndarray, schema: Schema) -> SegmentStats:
    """SegmentStats of the prepared feature frame; `labels` are 0-based."""
    seg = pd.Series(labels + 1, index=features.index, name="segment")
    num = features[schema.numeric].astype("float64")
    sizes = {int(s): int(n) for s, n in seg.value_counts().sort_index().items()}
    return SegmentStats(
        rows=len(features),
        sizes=sizes,
        means=num.groupby(seg).mean(),
        medians=num.groupby(seg).median(),
        base_mean=num.mean(),
        base_std=num.std(ddof=0),
        base_shares={c: features[c].value_counts(normalize=True) for c in schema.categorical},
        shares={
            s: {
                c: features.loc[seg == s, c].value_counts(normalize=True).head(TOP_CATEGORIES)
                for c in schema.categorical
            }
            for s in sizes
        },
    )


def profile_segments(
    stats: SegmentStats,
    schema: Schema,
    names: dict[str, str] | None = None,
    semantics: dict[str, str] | None = None,
) -> list[SegmentProfile]:
    """Per-segment profiles against the whole base, in figures and words."""
    names = names or {}
    semantics = semantics or {}

    def label(column: str) -> str:
        return names.get(column, column.replace("_", " "))

    base_std = stats.base_std.replace(0, np.nan)
    profiles = []
    for s, size in stats.sizes.items():
        p = SegmentProfile(s, size, size / stats.rows)
        for c in schema.numeric:
            mean = float(stats.means.at[s, c])
            z = (mean - stats.base_mean[c]) / base_std[c]
            p.numeric.append(
                NumericDiff(
                    c, label(c), mean, float(stats.medians.at[s, c]), stats.base_mean[c], _finite(z)
                )
            )
        for c in schema.categorical:
            for cat, share in stats.shares[s][c].items():
                base = float(stats.base_shares[c].get(cat, np.nan))
                p.categories.append(CategoryDiff(c, label(c), str(cat), float(share), base))
        p.description = describe(p, semantics)
        p.action, p.recommendation = recommend(p, semantics)
        profiles.append(p)
    return profiles


def _finite(x: float) -> float:
    return float(x) if np.isfinite(x) else 0.0


def _fmt(x: float) -> str:
    if abs(x) < 1:
        return f"{x:.2f}"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"


def describe(p: SegmentProfile, semantics: dict[str, str]) -> str:
    """A plain-language sentence of what sets the segment apart."""
    words = {v: k for k, v in semantics.items()}
    parts = []
    nums = sorted((d for d in p.numeric if abs(d.z) >= NOTABLE_Z), key=lambda d: -abs(d.z))
    for d in nums[:3]:
        high = d.z > 0
        role = words.get(d.feature)
        if role == "recency":
            head = "lapsed: last active" if high else "recently active: last active"
            parts.append(f"{head} {_fmt(d.mean)} days ago (avg {_fmt(d.base_mean)})")
        elif role == "tenure":
            head = "long-standing" if high else "newer customers"
            parts.append(f"{head} ({_fmt(d.mean)} days vs {_fmt(d.base_mean)})")
        elif d.base_mean > 0 and d.mean >= 0 and (d.ratio >= 1.5 or d.ratio <= 0.67):
            parts.append(
                f"{d.label} {d.ratio:.1f}× the average ({_fmt(d.mean)} vs {_fmt(d.base_mean)})"
            )
        else:
            parts.append(
                f"{'higher' if high else 'lower'} {d.label} ({_fmt(d.mean)} vs {_fmt(d.base_mean)})"
            )
    for c in p.notable_categories()[:2]:
        lead = "mostly" if c.share >= 0.5 else "more often"
        parts.append(f"{lead} {c.category} ({c.share:.0%} vs {c.base_share:.0%})")
    if not parts:
        return "close to the average customer on every feature"
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def recommend(p: SegmentProfile, semantics: dict[str, str]) -> tuple[str, str]:
    """A short action and a targeting suggestion from the behaviour figures (a heuristic)."""
    z = {
        role: next((d.z for d in p.numeric if d.feature == col), 0.0)
        for role, col in semantics.items()
    }
    recency, freq = z.get("recency", 0.0), z.get("frequency", 0.0)
    burn, money, tenure = z.get("burn_rate", 0.0), z.get("monetary", 0.0), z.get("tenure", 0.0)
    if not {"recency", "frequency", "burn_rate", "monetary"} & semantics.keys():
        return (
            "see traits",
            "No behaviour columns (recency, frequency, coupon use, spend) to judge targeting; "
            "use the traits above to pick a message.",
        )
    if recency >= 0.5:
        tail = " They do redeem coupons, so a coupon is likely to work." if burn >= 0 else ""
        return "win-back coupon", "At risk of lapsing: send a win-back coupon soon." + tail
    if burn >= 0.5 and freq >= 0.3:
        return (
            "best coupon audience",
            "Engaged and coupon-responsive: the best coupon audience; keep a hold-out group to "
            "check the coupons add sales.",
        )
    if burn >= 0.5:
        return "coupon target", "Coupon-responsive: a prime target for coupon campaigns."
    if burn <= -0.5:
        return (
            "fewer, better coupons",
            "Subscribe but rarely redeem: fewer, more relevant or higher-value coupons.",
        )
    if tenure <= -0.5:
        return "onboarding coupon", "Newer customers: an onboarding coupon to build the habit."
    if freq >= 0.5 or money >= 0.5:
        return (
            "reward loyalty",
            "High value: reward loyalty (points, early access) rather than discounts.",
        )
    if freq <= -0.5:
        return (
            "low-cost reactivation",
            "Low activity: a low-cost reactivation offer; limit spend here.",
        )
    return "standard campaigns", "Close to the average customer: include in standard campaigns."


def profiles_frame(profiles: list[SegmentProfile]) -> pd.DataFrame:
    """Profiles as one row per segment (segments.csv)."""
    rows = []
    for p in profiles:
        row: dict[str, object] = {
            "segment": p.segment,
            "customers": p.size,
            "share": round(p.share, 4),
        }
        for d in p.numeric:
            row[f"{d.feature}_mean"] = round(d.mean, 4)
            row[f"{d.feature}_median"] = round(d.median, 4)
            row[f"{d.feature}_z"] = round(d.z, 3)
        seen: set[str] = set()
        for c in p.categories:
            if c.feature in seen:
                continue
            seen.add(c.feature)
            row[f"{c.feature}_top"] = c.category
            row[f"{c.feature}_top_share"] = round(c.share, 4)
            row[f"{c.feature}_top_lift"] = round(c.lift, 3)
        row["stability"] = round(p.stability, 3)
        row["description"] = p.description
        row["action_heuristic"] = p.action
        row["recommendation_heuristic"] = p.recommendation
        rows.append(row)
    return pd.DataFrame(rows)
