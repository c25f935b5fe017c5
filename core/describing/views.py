"""Figures become text here, and only here: every table segscope shows, as rows and columns.

A View holds raw values and, per column, how to write them (segscope.core.text's one style per
figure); text from the data is made visible on the way. The CLI (Rich), the app (Textual) and
report.md (Markdown) lay views out; the workbook writes their raw values (and the profiles
table of outputs.folders) into cells."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from segscope.core.describing.words import apart, notable_categories
from segscope.core.roles import FEATURE_ROLES
from segscope.core.text import (
    agreement,
    fixed,
    gap,
    number,
    one_line,
    percent,
    signed,
    silhouette,
)

if TYPE_CHECKING:  # the app shows views before pandas and scikit-learn are imported
    import pandas as pd

    from segscope.core.clustering.gap import GapFigures
    from segscope.core.clustering.sweep import KResult
    from segscope.core.clustering.vote import Vote
    from segscope.core.describing.profiles import SegmentProfile
    from segscope.core.describing.relevance import Relevance
    from segscope.core.describing.rfm import Rfm
    from segscope.core.preparing.preprocess import Gap
    from segscope.core.roles import Schema
    from segscope.core.timings import Timings


NUMBERS = (  # right-aligned
    "int",
    "number",
    "score2",
    "score3",
    "silhouette",
    "gap",
    "agreement",
    "percent",
    "percent0",
    "signed",
    "moved",
)  # right-aligned


@dataclass(frozen=True)
class Column:
    """One column of a view: its key, header and how its values are written."""

    key: str
    header: str
    kind: str = "text"  # text (from the data), words (ours), or one of NUMBERS
    blank: str = "–"  # how a missing value is written

    def __post_init__(self) -> None:  # a header can be a column's name from the data
        object.__setattr__(self, "header", one_line(self.header))

    @property
    def right(self) -> bool:
        return self.kind in NUMBERS


@dataclass
class View:
    """A table: columns, rows of raw values, and what to mark."""

    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]
    keys: list[str] = field(default_factory=list)  # a key per row (k, segment, column name)
    highlight: str | None = None  # the key of the row to mark (the chosen k)
    dim: set[str] = field(default_factory=set)  # keys of rows to show faintly
    note: str = ""  # a line under the table
    start: str | None = None  # the row a fresh table's cursor starts on (None: the first)

    def cells(self) -> list[list[str]]:
        """Every cell written out."""
        return [[cell(v, c.kind, c.blank) for v, c in zip(row, self.columns, strict=True)]
                for row in self.rows]  # fmt: skip

    def frame(self) -> pd.DataFrame:
        """The raw values under the headers (for a spreadsheet)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=[c.header for c in self.columns])


def cell(value: Any, kind: str, blank: str = "–") -> str:
    """One value written as its column says (`blank` for a missing one)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return blank
    if kind == "int":
        return f"{int(value):,}"
    if kind == "number":
        return number(value)
    if kind == "score2":
        return fixed(value, 2)
    if kind == "score3":
        return fixed(value, 3)
    if kind == "silhouette":
        return silhouette(value)
    if kind == "gap":
        return gap(value)
    if kind == "agreement":
        return agreement(value)
    if kind == "percent":
        return percent(value)
    if kind == "percent0":
        return percent(value, 0)
    if kind == "signed":
        return signed(value)
    if kind == "sizes":
        return "/".join(f"{int(v):,}" for v in value)
    if kind == "moved":  # customers, and (for those in both runs) their share of the row
        if not isinstance(value, tuple):
            return f"{int(value):,}"
        count, share = value
        return f"{int(count):,} ({percent(share, 0)})" if count else "–"
    if isinstance(value, datetime):  # pandas' Timestamp too
        return str(value.date()) if value.time() == time(0) else str(value)
    return one_line(value)


def sweep_view(
    results: Sequence[KResult], rows: int, chosen: int | None, one: GapFigures | None = None
) -> View:
    """One row per k: the fit's figures and the scores; first, when the gap statistic was
    measured (`one`: its figures at k = 1), the row of one segment, which has only those."""
    sample = min((r.silhouette_sample_size for r in results), default=rows)
    sil = "silhouette" if sample >= rows else f"silhouette (n={sample:,})"
    extra = list(results[0].extra) if results else []
    gaps = any(r.gap is not None for r in results)
    columns = (
        Column("k", "k", "int"),
        Column("inertia", "inertia", "number"),
        Column("silhouette", sil, "silhouette"),
        Column("stability", "stability", "agreement"),
        Column("calinski_harabasz", "Calinski-H.", "number"),
        Column("davies_bouldin", "Davies-B.", "score2"),
        *((Column("gap", "gap", "gap"), Column("gap_s", "± s", "gap")) if gaps else ()),
        Column("seconds", "seconds", "score2"),
        Column("sizes", "sizes", "sizes"),  # last: the longest
        *(Column(e, e.replace("_", " "), "score3") for e in extra),
    )

    def gap_cells(figures: GapFigures | None) -> tuple[float | None, ...]:
        if not gaps:
            return ()
        return (None, None) if figures is None else (figures.gap, figures.s)

    data = [
        (
            r.k,
            r.inertia,
            r.silhouette,
            r.stability,
            r.calinski_harabasz,
            r.davies_bouldin,
            *gap_cells(r.gap),
            r.seconds,
            sorted(r.sizes, reverse=True),
            *(r.extra.get(e) for e in extra),
        )  # fmt: skip
        for r in results
    ]
    keys = [str(r.k) for r in results]
    if gaps and one is not None:
        blank = (None,) * len(extra)
        data.insert(0, (1, None, None, None, None, None, *gap_cells(one), None, None, *blank))
        keys.insert(0, "1")
    return View(
        "Sweep (computed on the transformed matrix)",
        columns,
        data,
        keys=keys,
        highlight=None if chosen is None else str(chosen),
        dim={"1"} & set(keys),
        start=keys[1] if "1" in keys[:1] and len(keys) > 1 else None,
        note="k=1 is one segment: only the gap statistic is measured there, so that its rule "
        "can say the data holds no segments."
        if "1" in keys
        else "",
    )


def tally(votes: Sequence[Vote]) -> dict[int, int]:
    """Votes per k, the most first (ties: the smaller k first); abstentions not counted."""
    counts = Counter(v.k for v in votes if v.k is not None)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def tally_text(votes: Sequence[Vote]) -> str:
    """The votes per k in one line: "k=4: 5 votes, k=6: 1 vote; 1 abstains"."""
    counts = tally(votes)
    parts = [f"k={k}: {n} vote{'s' if n != 1 else ''}" for k, n in counts.items()]
    abstain = sum(v.k is None for v in votes)
    text = ", ".join(parts) or "no index prefers a k"
    return text + (f"; {abstain} abstain{'s' if abstain == 1 else ''}" if abstain else "")


def vote_view(votes: Sequence[Vote]) -> View:
    """Which k each index prefers, its figure there and its rule; the votes per k below."""
    columns = (
        Column("index", "index", "words"),
        Column("k", "k", "int", blank="none"),
        Column("figure", "figure", "words"),
        Column("rule", "rule", "words"),
    )
    rows = [(v.index, v.k, cell(v.value, v.kind), v.rule) for v in votes]
    return View(
        "Which k each index prefers",
        columns,
        rows,
        [v.index for v in votes],
        dim={v.index for v in votes if v.k is None},
        note=f"Votes: {tally_text(votes)}" if votes else "",
    )


def segments_view(profiles: Sequence[SegmentProfile]) -> View:
    """One row per segment: size, stability, the suggestion, its most common RFM cell (when the
    data has RFM cells) and what sets it apart."""
    rfm = any(p.rfm for p in profiles)
    columns = (
        Column("segment", "seg", "int"),
        Column("customers", "customers", "int"),
        Column("share", "share", "percent"),
        Column("stability", "stab.", "agreement"),
        Column("action", "action (heuristic)", "words"),
        *((Column("rfm", "RFM cell (share)", "words"),) if rfm else ()),
        Column("apart", "what sets it apart", "words"),
        Column("recommendation", "recommendation (heuristic)", "words"),
    )
    data = [
        (
            p.segment,
            p.size,
            p.share,
            p.stability,
            p.action,
            *((dominant_cell(p),) if rfm else ()),
            apart(p),
            p.recommendation,
        )  # fmt: skip
        for p in profiles
    ]
    return View("Segments", columns, data, keys=[str(p.segment) for p in profiles])


def dominant_cell(p: SegmentProfile) -> str:
    """A segment's most common RFM cell and its share of the segment."""
    if not p.rfm:
        return ""
    cell, share = p.rfm[0]
    return f"{cell} {percent(share, 0)}"


def rules_view(profiles: Sequence[SegmentProfile]) -> View:
    """Each segment's short rule with its precision and recall (a rule that does not describe
    its segment well is not shown: its figures say how far the best one found got)."""
    columns = (
        Column("segment", "seg", "int"),
        Column("rule", "rule (features in their own units)", "text"),
        Column("precision", "precision", "percent"),
        Column("recall", "recall", "percent"),
        Column("picked", "customers picked", "int"),
    )
    rows, keys, dim = [], [], set()
    for p in profiles:
        r = p.rule
        if r is None:
            continue
        text = r.words() if r.good else "no short rule describes it well"
        rows.append((r.segment, text, r.precision, r.recall, r.picked))
        keys.append(str(r.segment))
        if not r.good:
            dim.add(str(r.segment))
    return View(
        "A rule per segment",
        columns,
        rows,
        keys,
        dim=dim,
        note="Precision: of the customers a rule picks, the share in its segment. Recall: of "
        "the segment, the share the rule picks. A rule is shown when both reach "
        "70% and 50%; rules.sql holds them as SQL.",
    )


def rfm_mix_view(profiles: Sequence[SegmentProfile]) -> View:
    """Each segment's mix of RFM cells (shares of the segment)."""
    from segscope.core.describing.rfm import ORDER, OTHERS

    present = {cell for p in profiles for cell, _ in p.rfm}
    cells = [n.name for n in ORDER if n.name in present]
    cells += [c for c in (OTHERS, "not scored") if c in present]
    columns = (
        Column("segment", "seg", "int"),
        *(Column(c, c, "percent0") for c in cells),
    )
    rows = [(p.segment, *(dict(p.rfm).get(c, 0.0) for c in cells)) for p in profiles]
    return View(
        "RFM cells in each segment (share of the segment)",
        columns,
        rows,
        [str(p.segment) for p in profiles],
    )


def rfm_cells_view(profiles: Sequence[SegmentProfile]) -> View:
    """Each segment's RFM cells in one line, the largest share first (narrow screens)."""
    columns = (
        Column("segment", "seg", "int"),
        Column("cells", "RFM cells (share of the segment, largest first)", "words"),
    )
    rows = [(p.segment, cells_line(p.rfm)) for p in profiles]
    return View("RFM cells in each segment", columns, rows, [str(p.segment) for p in profiles])


def cells_line(mix: Sequence[tuple[str, float]]) -> str:
    """RFM cells and their shares, largest first (those under half a percent left out)."""
    return ", ".join(f"{cell} {percent(share, 0)}" for cell, share in mix if share >= 0.005)


def rfm_bounds_view(rfm: Rfm) -> View:
    """The values each score covers, per measure (ties can leave a score empty)."""
    from segscope.core.describing.rfm import LETTERS, SCORES

    columns = (
        Column("score", "score", "int"),
        *(Column(m, f"{LETTERS[m]}: {rfm.titles[m]}", "words") for m in rfm.measures),
        *(Column(f"{m}_n", f"{LETTERS[m]} customers", "int") for m in rfm.measures),
    )
    bounds = {(b.measure, b.score): b for b in rfm.bounds}
    rows = []
    for score in range(SCORES, 0, -1):
        ranges, counts = [], []
        for m in rfm.measures:
            b = bounds[(m, score)]
            if b.low is None or b.high is None:
                ranges.append("none (ties)")
            elif b.low == b.high:
                ranges.append(number(b.low))
            else:
                ranges.append(f"{number(b.low)} to {number(b.high)}")
            counts.append(b.customers)
        rows.append((score, *ranges, *counts))
    return View(
        "RFM scores: the values each covers",
        columns,
        rows,
        [str(r[0]) for r in rows],
        note="5 is the best fifth of customers (the most recent, the most frequent, the "
        "largest spenders). Customers with the same value share a score, so a score can hold "
        "more or fewer than a fifth of them, or none.",
    )


def rfm_table_view(measures: Sequence[str]) -> View:
    """The named RFM cells with their bounds, in the order they are tried."""
    from segscope.core.describing.rfm import table_rows

    columns = (
        Column("cell", "cell", "words"),
        Column("r", "R", "words"),
        Column("f", "F", "words"),
        Column("m", "M", "words"),
        Column("description", "description", "words"),
    )
    rows = table_rows(tuple(measures))
    return View(
        "RFM cells: the names and their bounds (tried top to bottom; none: others)",
        columns,
        rows,
        [r[0] for r in rows],
        note="The table of the R package rfm (its vignette 'RFM - Customer Level Data'), the "
        "most specific box first; Lost as its description says: R, F and M all 1.",
    )


def movement_view(table: pd.DataFrame, new: pd.Series, gone: pd.Series) -> View:
    """Customers of each earlier segment (rows) now in each segment (columns), with their share
    of the earlier segment; customers new since then, and gone."""
    totals = table.sum(axis=1)
    columns = (
        Column("earlier", "earlier segment", "words"),
        *(Column(str(c), f"now {c}", "moved") for c in table.columns),
        Column("gone", "gone", "int"),
    )
    rows: list[tuple[Any, ...]] = []
    for b, row in table.iterrows():
        total = totals[b] or 1
        cells = [(int(n), n / total) for n in row]
        rows.append((str(b), *cells, int(gone.get(b, 0))))
    rows.append(("new", *(int(new.get(c, 0)) for c in table.columns), None))
    return View(
        "Who moved: customers of each earlier segment (rows) now in each segment (columns)",
        columns,
        rows,
        [str(r[0]) for r in rows],
        note="Shares are of the earlier segment's customers found in both runs; new: customers "
        "not in the earlier labels; gone: customers not in this run.",
    )


def numbers_view(p: SegmentProfile) -> View:
    """A segment's numbers against the whole base, largest difference first."""
    diffs = sorted(p.numeric, key=lambda d: -abs(d.z))
    columns = (
        Column("feature", "feature", "text"),
        Column("mean", "segment", "number"),
        Column("median", "median", "number"),
        Column("base", "all", "number"),
        Column("z", "z", "signed"),
    )
    rows = [(d.label, d.mean, d.median, d.base_mean, d.z) for d in diffs]
    faint = {d.feature for d in diffs if abs(d.z) < 0.4}
    return View("Numbers vs the whole base", columns, rows, [d.feature for d in diffs], None, faint)


def categories_view(p: SegmentProfile, top: int = 12) -> View:
    """A segment's categories against the whole base, by lift."""
    cats = sorted(p.categories, key=lambda c: -c.lift)[:top]
    notable = {(c.feature, c.category) for c in notable_categories(p)}
    columns = (
        Column("feature", "feature", "text"),
        Column("category", "category", "text"),
        Column("share", "segment", "percent"),
        Column("base", "all", "percent"),
        Column("lift", "lift", "score2"),
    )
    rows = [(c.label, c.category, c.share, c.base_share, c.lift) for c in cats]
    keys = [f"{c.feature}={c.category}" for c in cats]
    faint = {k for k, c in zip(keys, cats, strict=True) if (c.feature, c.category) not in notable}
    return View("Categories vs the whole base", columns, rows, keys, None, faint)


def relevance_view(relevance: Sequence[Relevance]) -> View:
    """Features by how much they separate the segments."""
    columns = (
        Column("feature", "feature", "text"),
        Column("measure", "measure", "words"),
        Column("score", "relevance", "agreement"),
        Column("separates", "separates", "words"),
    )
    rows = [
        (
            r.feature,
            "eta²" if r.kind == "numeric" else "Cramér's V",
            r.score,
            "nothing" if r.weak else "yes",
        )  # fmt: skip
        for r in relevance
    ]
    return View(
        "Features by how much they separate the segments",
        columns,
        rows,
        [r.feature for r in relevance],
        dim={r.feature for r in relevance if r.weak},
        note="Relevance: the share of a number's variance the segments explain (eta²), or "
        "bias-corrected Cramér's V for a category.",
    )


def crosstab_view(table: pd.DataFrame, text: Sequence[str]) -> View:
    """Customers in each pair of segments of two k."""
    a, b = str(table.index.name), str(table.columns.name)
    columns = (Column("row", a, "int"), *(Column(str(c), str(c), "int") for c in table.columns))
    rows = [(int(i), *(int(v) for v in row)) for i, row in table.iterrows()]
    return View(
        f"How the segments at {a} (rows) become {b} (columns)",
        columns,
        rows,
        [str(i) for i in table.index],
        note="\n".join(text),
    )


def score_sizes_view(sizes: Sequence[int], trained: Sequence[int]) -> View:
    """Segment sizes of a scoring run against training."""
    now, then = sum(sizes) or 1, sum(trained) or 1
    rows = [
        (i + 1, n, n / now, trained[i] / then if i < len(trained) else None)
        for i, n in enumerate(sizes)
    ]
    columns = (
        Column("segment", "segment", "int"),
        Column("customers", "customers", "int"),
        Column("share", "share", "percent"),
        Column("trained", "share at training", "percent"),
    )
    return View("Segment sizes now and at training", columns, rows, [str(r[0]) for r in rows])


def drift_view(moved: Sequence[tuple[str, float]]) -> View:
    """The features that moved most since training."""
    columns = (Column("feature", "feature", "text"), Column("moved", "moved", "score2"))
    return View(
        "Features that moved most since training",
        columns,
        list(moved),
        [m[0] for m in moved],
        note="Numbers: shift of the mean in training standard deviations; categories: share of "
        "customers whose category would have to change (total variation distance).",
    )


def roles_view(schema: Schema, weights: Mapping[str, float], gaps: Mapping[str, Gap]) -> View:
    """Every column: its role (? a guess, * yours), weight, gaps and why."""
    columns = (
        Column("column", "column", "text"),
        Column("role", "role", "words"),
        Column("weight", "weight", "number", blank=""),
        Column("missing", "missing", "percent0", blank=""),
        Column("why", "why", "text"),
    )
    rows = []
    for col in schema.columns:
        mark = "*" if col.overridden else "?" if col.guess else ""
        weight = weights.get(col.name, 1.0) if col.role in FEATURE_ROLES else None
        gap = gaps.get(col.name)
        why = col.reason + (f"; gaps filled with {gap.filled}" if gap else "")
        why += "; a 0/1 column marks them" if gap and gap.indicator else ""
        rows.append((col.name, col.role.value + mark, weight, gap.share if gap else None, why))
    return View("Columns", columns, rows, [c.name for c in schema.columns])


def gaps_view(gaps: dict[str, Gap]) -> View:
    """The features with missing values, and what filled them."""
    from segscope.core.preparing.preprocess import INDICATOR_SHARE
    from segscope.core.preparing.schema import MOSTLY_MISSING

    columns = (
        Column("feature", "feature", "text"),
        Column("missing", "missing", "int"),
        Column("share", "share", "percent"),
        Column("filled", "filled with", "words"),
        Column("indicator", "0/1 column", "words"),
    )
    rows = [
        (c, g.missing, g.share, g.filled, "yes" if g.indicator else "no") for c, g in gaps.items()
    ]
    return View(
        "Missing values",
        columns,
        rows,
        list(gaps),
        note=f"A feature missing on {INDICATOR_SHARE:.0%} of rows or more keeps where its gaps "
        "were (a 0/1 column for a number, a category of its own for a category); a column "
        f"missing on more than {MOSTLY_MISSING:.0%} of rows is left out unless you choose its "
        "role.",
    )


PREVIEW_COLUMNS = 100  # a preview shows a wider table's first columns (Columns lists them all)


def preview_view(data: pd.DataFrame, rows: int = 200, columns: int = PREVIEW_COLUMNS) -> View:
    """The first rows of the customer table, as they are, in its first `columns` columns: a wider
    table's preview ends in a column saying how many more there are (its cells empty), so that a
    table of thousands of columns is set out in a moment, not cell by cell for minutes."""
    import pandas as pd

    head = data.iloc[:rows, :columns]
    shown = tuple(
        Column(str(c), str(c), "number" if pd.api.types.is_numeric_dtype(head[c]) else "text")
        for c in head.columns
    )
    values = [tuple(None if pd.isna(v) else v for v in row) for row in head.itertuples(index=False)]
    rest = data.shape[1] - head.shape[1]
    if rest:
        key = "…"
        while key in {c.key for c in shown}:  # a key of its own, whatever the data's names
            key += "…"
        shown += (Column(key, f"+{rest:,} more columns (Columns lists them)", blank=""),)
        values = [(*row, None) for row in values]
    return View(f"The first {len(head):,} customers", shown, values)


def timings_line(timings: Timings) -> str:
    """Where the time went, in one line: the total, the cores and each stage (the sweep runs on
    as many threads or helper processes as it was given cores: core.threads, core.processes)."""
    stages = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.seconds.items())
    cores = f"{timings.threads} core{'s' if timings.threads != 1 else ''}"
    return f"Done in {timings.total:.1f} s on {cores} ({stages})."
