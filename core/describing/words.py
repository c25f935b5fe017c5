"""Words about segments: what sets each apart, and a targeting suggestion (a heuristic).

Every sentence rests on a feature that exists and a difference that matters: a number sets a
segment apart when its mean is far from the base's in standard deviations *and* in proportion
(or when it is a multiple of the base's mean, whatever the spread); a category when it is
common in the segment and much more common than in the base. The suggestions use only the
behaviour the data holds (recency, frequency, spend, coupon redemption, tenure) and say so.

When the data shows no clear segments (clustering.choice.no_segments), a segment is a slice of a
continuum, not a kind of customer: the words say so ("slice with higher spend"), avoid words that
name a kind ("lapsed", "newer customers"), and each suggestion says it rests on a convenient cut."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from segscope.core.text import below, number, percent

if TYPE_CHECKING:
    import pandas as pd

    from segscope.core.describing.profiles import CategoryDiff, NumericDiff, SegmentProfile


NOTABLE_Z = 0.5  # a mean this many SDs from the base's ...
NOTABLE_CHANGE = 0.2  # ... and, for amounts, at least 20% above or below it
MULTIPLE = 2.0  # or twice (or half) the base's mean, when at least SOME_Z SDs off
SOME_Z = 0.25
CLOSE_RATIO = 1.5  # "close to the average": within this factor of the base's mean, and SOME_Z
UNSTABLE_SEGMENT = 0.5  # a segment whose customers come back together less often: no advice
SMALL_SEGMENT = 0.02  # ... or that holds fewer of the customers
NOTABLE_LIFT = 1.5  # a category sets a segment apart at this lift ...
NOTABLE_SHARE = 0.25  # ... when it also holds this share of the segment
BEHAVIOUR = {  # each behaviour the suggestions may rest on, named by the feature that holds it
    "recency": "how recently customers were active",
    "frequency": "how much they do",
    "monetary": "how much they spend",
    "burn_rate": "how often they redeem coupons",
    "tenure": "how long they have been customers",
}


def ratio_of(d: NumericDiff) -> float | None:
    """The segment's mean over the base's, where a ratio means something (both not negative)."""
    if d.base_mean > 0 and d.mean >= 0:
        return d.mean / d.base_mean
    return None


def is_notable(d: NumericDiff) -> bool:
    """Whether this difference matters (effect size, not just sign)."""
    ratio = ratio_of(d)
    if ratio is not None and (ratio >= MULTIPLE or ratio <= 1 / MULTIPLE):
        return abs(d.z) >= SOME_Z
    if abs(d.z) < NOTABLE_Z:
        return False
    return ratio is None or abs(ratio - 1) >= NOTABLE_CHANGE


def is_average(d: NumericDiff) -> bool:
    """Whether the segment is close to the base on this number, in spread and in proportion."""
    ratio = ratio_of(d)
    return abs(d.z) < SOME_Z and (ratio is None or 1 / CLOSE_RATIO <= ratio <= CLOSE_RATIO)


def notable_numbers(p: SegmentProfile) -> list[NumericDiff]:
    """The numbers that set the segment apart, strongest first."""
    return sorted((d for d in p.numeric if is_notable(d)), key=lambda d: -_strength(d))


def _strength(d: NumericDiff) -> float:
    return abs(d.z)


def notable_categories(p: SegmentProfile) -> list[CategoryDiff]:
    """The categories much more common in the segment than in the base, strongest first."""
    cats = [c for c in p.categories if c.lift >= NOTABLE_LIFT and c.share >= NOTABLE_SHARE]
    return sorted(cats, key=lambda c: -c.lift)


def figure(value: float, d: NumericDiff) -> str:
    """A number as its feature is read: a share as a percentage, anything else as a number."""
    return percent(value, 0) if d.share else number(value)


def apart(p: SegmentProfile, n: int = 2) -> str:
    """What sets the segment apart, in short figures; when nothing does, the same rule as the
    sentences: close to the average only when every number is, else nothing single stands out."""
    found = standouts(p, n)
    if found:
        return "; ".join(found)
    if all(is_average(d) for d in p.numeric):
        return "close to the average on every feature"
    return "no single feature sets it clearly apart"


def standouts(p: SegmentProfile, n: int = 3) -> list[str]:
    """Short figures that set the segment apart, strongest first."""
    out = [
        f"{d.label} {figure(d.mean, d)} (avg {figure(d.base_mean, d)})" for d in notable_numbers(p)
    ]
    out = out[:n]
    for c in notable_categories(p)[: max(0, n - len(out))]:
        out.append(f"{c.label} {c.category} {percent(c.share, 0)} (avg {percent(c.base_share, 0)})")
    return out


def describe(p: SegmentProfile, meanings: dict[str, str], continuum: bool = False) -> str:
    """A plain-language sentence of what sets the segment apart (`continuum`: the segment is a
    slice of a continuum, and is described as one)."""
    role_of = {column: role for role, column in meanings.items()}
    numbers = notable_numbers(p)[:3]
    parts = [_number_words(d, role_of.get(d.feature), continuum) for d in numbers]
    categories = notable_categories(p)[:2]
    for c in categories:
        lead = "mostly" if c.share >= 0.5 else "more often"
        share = f"{percent(c.share, 0)} vs {percent(c.base_share, 0)}"
        parts.append(f"{c.label}: {lead} {c.category} ({share})")
    if not parts:
        if all(is_average(d) for d in p.numeric):
            text = "Close to the average customer on every feature"
        else:
            text = "No single feature sets it clearly apart"
        return f"A slice {text[0].lower()}{text[1:]}, of a continuum" if continuum else text
    text = "; ".join(parts)
    if continuum:
        sides = [_side(d, role_of.get(d.feature)) for d in numbers[:2]]
        sides += [f"more {c.label} {c.category}" for c in categories[: 2 - len(sides)]]
        return (
            f"Slice with {' and '.join(sides)}, of a continuum rather than a kind of customer: "
            + text
        )
    return text[0].upper() + text[1:]


def _side(d: NumericDiff, role: str | None) -> str:
    """Where a slice lies on one number: "higher spend", "less recently active"."""
    high = d.mean > d.base_mean
    if role == "recency":
        return "less recently active" if high else "more recently active"
    if role == "tenure":
        return "longer tenure" if high else "shorter tenure"
    return f"{'higher' if high else 'lower'} {d.label}"


def _number_words(d: NumericDiff, role: str | None, continuum: bool = False) -> str:
    if d.share:  # a share: in percentage points, never "93x the average"
        high = d.mean > d.base_mean
        return f"{'higher' if high else 'lower'} {d.label} ({figure(d.mean, d)} vs " \
            f"{figure(d.base_mean, d)})"  # fmt: skip
    return _amount_words(d, role, continuum)


def _amount_words(d: NumericDiff, role: str | None, continuum: bool = False) -> str:
    high = d.mean > d.base_mean
    figures = f"{number(d.mean)} vs {number(d.base_mean)}"
    if role == "recency":
        head = "lapsed: last active" if high else "recently active: last active"
        head = "last active" if continuum else head  # "lapsed" names a kind of customer
        return f"{head} {number(d.mean)} days ago (avg {number(d.base_mean)})"
    if role == "tenure":
        if continuum:
            return f"{'longer' if high else 'shorter'} tenure ({d.label}: {figures})"
        return f"{'long-standing' if high else 'newer customers'} ({d.label}: {figures})"
    ratio = ratio_of(d)
    if ratio is not None and ratio >= 1.5:
        times = f"{ratio:.0f}" if ratio >= 10 else f"{ratio:.1f}"
        return f"{d.label} {times}× the average ({figures})"
    if ratio is not None and ratio < 0.05:
        return f"{d.label} near zero ({figures})"
    if ratio is not None and ratio <= 0.67:
        return f"{d.label} {percent(ratio, 0)} of the average ({figures})"
    return f"{'higher' if high else 'lower'} {d.label} ({figures})"


@dataclass(frozen=True)
class Behaviour:
    """How a segment differs on one behaviour: +1 notably higher, -1 notably lower, 0 not."""

    direction: int
    diff: NumericDiff | None

    @property
    def high(self) -> bool:
        return self.direction > 0

    @property
    def low(self) -> bool:
        return self.direction < 0

    def figures(self) -> str:
        d = self.diff
        return "" if d is None else f"{d.label} {figure(d.mean, d)} vs {figure(d.base_mean, d)}"


def behaviour(p: SegmentProfile, meanings: dict[str, str]) -> dict[str, Behaviour]:
    """Each behaviour the data holds, as it differs in this segment."""
    out = {}
    for role, column in meanings.items():
        d = next((x for x in p.numeric if x.feature == column), None)
        if d is None:
            continue
        direction = 0 if not is_notable(d) else (1 if d.mean > d.base_mean else -1)
        out[role] = Behaviour(direction, d)
    return out


CONVENIENT_CUT = (
    " This rests on a convenient cut of a continuum, not a distinct group: customers just "
    "across its edge differ little, so expect them to respond alike."
)


def recommend(
    p: SegmentProfile, meanings: dict[str, str], continuum: bool = False
) -> tuple[str, str]:
    """A short action and a targeting suggestion (a heuristic), from the behaviour the data
    holds; the figures each rests on are named. `continuum`: the suggestion says that it rests
    on a convenient cut of a continuum."""
    if p.stability < UNSTABLE_SEGMENT:
        return "too unstable to act on", (
            f"Its customers come back together in resampled fits only "
            f"{below(p.stability, UNSTABLE_SEGMENT)} of the time (stability, under "
            f"{UNSTABLE_SEGMENT}): do not target it on its own; a k with steadier segments is "
            "safer."
        )
    if p.share < SMALL_SEGMENT:
        return "too small to act on", (
            f"{p.size:,} customers ({percent(p.share)}, under {percent(SMALL_SEGMENT, 0)}): too "
            "few to act on as a segment of their own; look at them one by one."
        )
    action, text = _recommend(p, meanings)
    return action, text + (CONVENIENT_CUT if continuum else "")


def _recommend(p: SegmentProfile, meanings: dict[str, str]) -> tuple[str, str]:
    b = behaviour(p, meanings)
    if not b:
        return (
            "see traits",
            "No behaviour columns (recency, frequency, coupon use, spend) to judge targeting; "
            "use the traits above to pick a message.",
        )
    none = Behaviour(0, None)
    recency, freq, burn = b.get("recency", none), b.get("frequency", none), b.get("burn_rate", none)
    money, tenure = b.get("monetary", none), b.get("tenure", none)
    if recency.high:
        tail = f" They redeem more coupons than most ({burn.figures()})." if burn.high else ""
        return "win-back", f"At risk of lapsing ({recency.figures()}): a win-back offer soon.{tail}"
    if burn.high and freq.high:
        return "best coupon audience", (
            f"Engaged and coupon-responsive ({burn.figures()}; {freq.figures()}): the best coupon "
            "audience; keep a hold-out group to check the coupons add sales."
        )
    if burn.high:
        return "coupon target", f"Coupon-responsive ({burn.figures()}): a target for coupons."
    if burn.low:
        return "fewer, better coupons", (
            f"Redeem few of their coupons ({burn.figures()}): fewer, more relevant or "
            "higher-value coupons."
        )
    if tenure.low:
        return "onboarding", (
            f"Newer customers ({tenure.figures()}): an onboarding offer to build the habit."
        )
    if money.high:
        return "reward loyalty", (
            f"High spend ({money.figures()}): reward loyalty (points, early access) rather than "
            "discounts."
        )
    if freq.high:
        return "reward loyalty", (
            f"Frequent customers ({freq.figures()}): reward loyalty rather than discounts."
        )
    if freq.low or money.low:
        low = freq if freq.low else money
        return "low-cost reactivation", (
            f"Low activity ({low.figures()}): a low-cost reactivation offer; limit spend here."
        )
    if all(is_average(d) for d in p.numeric) and not notable_categories(p):
        return "standard campaigns", "Close to the average customer: include in standard campaigns."
    return "see traits", (
        "Its behaviour is close to the average; what sets it apart is in the traits above: "
        "use them to pick a message."
    )


def what_can_be_said(meanings: dict[str, str], titles: dict[str, str] | None = None) -> str:
    """Which behaviour the suggestions can and cannot judge, for this data: each behaviour with
    the feature it rests on (`meanings`: behaviour -> a feature in use; `titles`: its words)."""
    titles = titles or {}
    have = [
        f"{BEHAVIOUR[role]} ({titles.get(column, column.replace('_', ' '))})"
        for role, column in meanings.items()
        if role in BEHAVIOUR
    ]
    lack = [words for role, words in BEHAVIOUR.items() if role not in meanings]
    if not have:
        return (
            "The data holds no behaviour (recency, frequency, spend, coupon use, tenure): the "
            "segments are described by their traits only, and no targeting is suggested."
        )
    text = f"The suggestions rest on {', '.join(have)}"
    return text + (f"; the data says nothing of {', '.join(lack)}." if lack else ".")


def compare_text(table: pd.DataFrame) -> list[str]:
    """Plain sentences: which segments split, which merge."""
    a, b = table.index.name, table.columns.name
    lines = []
    for seg, row in table.iterrows():
        parts = row[row > 0.1 * row.sum()]
        if len(parts) > 1:
            into = ", ".join(f"{b} segment {c} ({n:,})" for c, n in parts.items())
            lines.append(f"{a} segment {seg} splits into {into}")
    for seg, col in table.items():
        parts = col[col > 0.1 * col.sum()]
        if len(parts) > 1:
            lines.append(
                f"{b} segment {seg} merges {', '.join(f'{a} segment {r}' for r in parts.index)}"
            )
    return lines or [f"the segments of {a} and {b} match one to one"]
