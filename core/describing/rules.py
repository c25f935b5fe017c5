"""A short rule for each segment, on the features in their own units, with its fit measured.

K-Means puts a customer in the segment of the nearest centre in a scaled space nobody outside
segscope can use. A rule says the same in the units people keep ("days since the last
transaction more than 300 and transactions at most 4", "city name is Cairo or Giza"), and as SQL
a person can paste. A rule is a description of a segment, not the segment: beside each one
stand its precision (of the customers it picks, the share in the segment) and recall (of the
segment, the share it picks), and for the rules together the share of customers they put in the
same segment as K-Means. A segment no short rule describes well gets a sentence saying so, with
the best figures found, instead of a misleading rule. The fit is measured and shown, never
implied (the lesson of explainable k-means).

How a rule is found: one shallow decision tree per segment, that segment against the rest
(scikit-learn's CART, `class_weight="balanced"` so that a small segment weighs as much as the
rest), on the features in their own units. Every node of the tree is the conjunction of the
splits above it; the node with the best F1 (ties: fewer conditions, then a simpler rule within
SIMPLER of it) is the rule, and a second tree on the customers the rule misses may add one
alternative ("... or ...") when it raises F1 by MIN_GAIN, within MAX_CONDITIONS conditions in
all. Thresholds are then moved to the roundest number whose F1 stays within SIMPLER of the
exact split (400, not 399.517; whole numbers for counts), and the figures are those of the
rounded rule. A category enters a tree ranked by how common the segment is in each of its
values, so one split is a set of named values ("is Cairo or Giza"; for a binary target the best
split of a category is always such a prefix: Breiman et al. 1984, section 9.4).

Why not one threshold tree for all segments (IMM, Dasgupta et al. 2020; ExKMC, Frost et al.
2020), the known way to explain k-means? Such a tree has k leaves (ExKMC: a few more), so some
segment's path holds up to k-1 conditions, more than the three a person can take in; one split
serves every segment at once, so a split good for one can cost another; and it splits numbers
only, where customers' data holds cities and genders. One tree per segment keeps each rule to
three conditions whatever k is, and names categories. What it costs, two rules may pick the
same customer and some customers no rule picks, is measured: the rules are applied in order,
most precise first (the SQL's CASE), and their agreement with K-Means counts every customer.

Rules are learnt on at most RULE_ROWS customers (a random sample above that) and measured on all
of them. A missing value meets no condition (as SQL's NULL does) but "is missing" (IS NULL),
so the Python and SQL forms of a rule pick the same customers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from segscope.core.preparing.preprocess import beyond_float32
from segscope.core.roles import Role, Schema
from segscope.core.sampling import row_sample
from segscope.core.text import one_line, percent, spreadsheet_cell, visible

MAX_CONDITIONS = 3  # conditions in a segment's rule, all alternatives together
MAX_ALTERNATIVES = 2  # "... or ...": at most two conjunctions
MIN_PRECISION = 0.7  # a rule describes its segment well from this precision ...
MIN_RECALL = 0.5  # ... and this recall
RULE_ROWS = 20_000  # rules are learnt on at most this many customers (measured on every one)
MAX_NAMES = 5  # a condition on a category names at most this many of its values
SIMPLER = 0.01  # a shorter rule or a rounder threshold is taken when its F1 is at most this lower
MIN_GAIN = 0.02  # a second alternative is added when it raises F1 by at least this
SHORTLIST = 3  # first conjunctions tried with a second alternative (and the best of each length)
RETRIES = 3  # categories too long to say that a tree is fitted again without, at most
YEARS = (1800, 2200)  # whole numbers all within these are years
CHECK_ROWS = 1_000_000  # a column's values are checked this many at a time

Column = Callable[[str], pd.Series]  # a feature's values in its own unit, by column name


# --- the features in their own units ------------------------------------------------------------


def own_units(typed: pd.DataFrame, data: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The features as people keep them, one row per customer of `typed`: numbers as they are in
    the data (float64; inf and values beyond float32's range missing, as for the segments),
    dates as whole days before the reference date, categories as text (missing stays missing).
    `typed` is the pipeline's feature table; `data` the customer table it was typed from."""
    columns = own_unit_columns(typed, data, schema)
    return pd.DataFrame(columns, index=typed.index, copy=False)  # no copy into one block


def own_unit_columns(
    typed: pd.DataFrame, data: pd.DataFrame, schema: Schema
) -> dict[str, pd.Series]:
    """own_units' columns, not yet one frame (for a caller that makes a frame of its own)."""
    aligned = len(data) == len(typed) and data.index.equals(typed.index)
    out: dict[str, pd.Series] = {}
    for name in schema.features:
        role = schema[name].role
        if role is Role.NUMERIC and aligned and name in data.columns:
            column = data[name]  # numbers held as float64 are not copied (to_numeric copies)
            if not pd.api.types.is_numeric_dtype(column):
                column = pd.to_numeric(column, errors="coerce")
            values = column.astype("float64")
            beyond = beyond_float32(values.to_numpy())
            out[name] = values if beyond is None else values.mask(beyond)
        elif role is Role.CATEGORICAL:
            out[name] = typed[name]
        else:
            out[name] = typed[name].astype("float64")
    return out


# --- conditions and rules ------------------------------------------------------------------------


def _is_whole(values: pd.Series) -> bool:
    """Whether the finite values are all whole numbers (and there is one)."""
    return _all_finite(values, lambda v: v == np.round(v))


def _is_year(values: pd.Series) -> bool:
    """Whole numbers that are all years (written 2002, never 2,002)."""
    return _all_finite(values, lambda v: (v >= YEARS[0]) & (v <= YEARS[1]))


def _all_finite(values: pd.Series, holds: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Whether `holds` is true of every finite value, and there is one: looked at CHECK_ROWS
    values at a time (each block's copies stay small), stopping at the first that fails."""
    v = values.to_numpy(dtype="float64", na_value=np.nan)
    seen = False
    for start in range(0, len(v), CHECK_ROWS):
        block = v[start : start + CHECK_ROWS]
        block = block[np.isfinite(block)]
        if not holds(block).all():
            return False
        seen = seen or bool(len(block))
    return seen


@dataclass(frozen=True)
class Condition:
    """One condition on one feature: a number above or at most a threshold, or a category among
    (or not among) named values. A missing value meets no condition but "missing"."""

    feature: str
    title: str  # what the feature holds, in words
    op: str  # ">", "<=", "in", "not in"; "known", "missing" (a value, or a gap)
    threshold: float = 0.0  # of a number's condition
    values: tuple[str, ...] = ()
    whole: bool = False  # the feature holds whole numbers: its thresholds are written whole
    year: bool = False  # ... and they are years: written without a thousands separator

    def mask(self, column: Column) -> np.ndarray:
        s = column(self.feature)
        if self.op in ("known", "missing"):
            return s.notna().to_numpy() == (self.op == "known")
        if self.op in (">", "<="):
            v = s.to_numpy(dtype="float64", na_value=np.nan)
            with np.errstate(invalid="ignore"):
                return v > self.threshold if self.op == ">" else v <= self.threshold
        known = s.notna().to_numpy()
        inside = s.isin(self.values).to_numpy()
        return inside if self.op == "in" else known & ~inside

    def words(self) -> str:
        if self.op in ("known", "missing"):
            return f"{self.title} is {'known' if self.op == 'known' else 'missing'}"
        if self.op == ">":
            return f"{self.title} more than {_number_words(self.threshold, self.year)}"
        if self.op == "<=":
            return f"{self.title} at most {_number_words(self.threshold, self.year)}"
        names = [one_line(v) for v in self.values]
        if self.op == "in":
            listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
            return f"{self.title} is {listed}"
        if len(names) == 1:
            return f"{self.title} is not {names[0]}"
        if len(names) == 2:
            return f"{self.title} is neither {names[0]} nor {names[1]}"
        return f"{self.title} is none of {', '.join(names)}"

    def sql(self) -> str:
        column = sql_identifier(self.feature)
        if self.op in ("known", "missing"):
            return f"{column} IS {'NOT NULL' if self.op == 'known' else 'NULL'}"
        if self.op in (">", "<="):
            return f"{column} {self.op} {sql_number(self.threshold)}"
        literals = dict.fromkeys(
            lit for v in self.values for lit in (v, str(spreadsheet_cell(v)))
        )  # a value as in the data, and as features.csv writes it (a formula's apostrophe)
        keyword = "IN" if self.op == "in" else "NOT IN"
        return f"{column} {keyword} ({', '.join(sql_text(v) for v in literals)})"


def _number_words(x: float, year: bool = False) -> str:
    if float(x).is_integer():
        return f"{x:.0f}" if year else f"{x:,.0f}"
    return f"{x:,.{_decimals(x)}f}"


def _decimals(x: float) -> int:
    """The decimals `x` needs (a threshold rounded to a few significant digits)."""
    text = repr(float(x))
    if "e" in text or "." not in text:
        return 0 if "e" not in text else 10
    return len(text.split(".")[1].rstrip("0"))


Conjunction = tuple[Condition, ...]


@dataclass(frozen=True)
class Rule:
    """A segment's rule: one or two conjunctions ("... or ..."), and how well it fits."""

    segment: int
    alternatives: tuple[Conjunction, ...]
    precision: float  # of the customers the rule picks, the share in the segment
    recall: float  # of the segment, the share the rule picks
    picked: int  # customers the rule picks
    size: int  # customers in the segment

    @property
    def conditions(self) -> int:
        return sum(len(a) for a in self.alternatives)

    @property
    def good(self) -> bool:
        """Whether the rule describes its segment well enough to be shown as its rule."""
        return (
            bool(self.alternatives)
            and self.precision >= MIN_PRECISION
            and self.recall >= MIN_RECALL
        )

    def mask(self, column: Column, rows: int) -> np.ndarray:
        out = np.zeros(rows, dtype=bool)
        for conjunction in self.alternatives:
            part = np.ones(rows, dtype=bool)
            for condition in conjunction:
                part &= condition.mask(column)
            out |= part
        return out

    def words(self) -> str:
        """The rule in words (the conditions, 'and' within an alternative, 'or' between)."""
        parts = [" and ".join(c.words() for c in a) for a in self.alternatives]
        if len(parts) == 1:
            return parts[0]
        return " or ".join(f"({p})" if len(a) > 1 else p
                           for p, a in zip(parts, self.alternatives, strict=True))  # fmt: skip

    def sql(self) -> str:
        parts = [" AND ".join(c.sql() for c in a) for a in self.alternatives]
        if len(parts) == 1:
            return parts[0]
        return " OR ".join(f"({p})" for p in parts)

    def fit(self) -> str:
        """Precision and recall in words."""
        return (
            f"precision {percent(self.precision)} (of the customers it picks, the share in "
            f"segment {self.segment}), recall {percent(self.recall)} (of segment {self.segment}, "
            "the share it picks)"
        )

    def sentence(self) -> str:
        """The rule with its figures, or why there is none."""
        if self.good:
            return f"Rule: {self.words()}; {self.fit()}."
        if not self.alternatives:
            return (
                f"No short rule describes segment {self.segment}: no rule of at most "
                f"{MAX_CONDITIONS} conditions (a category named by at most {MAX_NAMES} values) "
                "picks its customers apart from the rest. Use its profile instead."
            )
        return (
            f"No short rule describes segment {self.segment} well: the best of at most "
            f"{MAX_CONDITIONS} conditions picks customers of whom {percent(self.precision)} are "
            f"in it (precision) and finds {percent(self.recall)} of it (recall); a rule is "
            f"shown from {MIN_PRECISION:.0%} precision and {MIN_RECALL:.0%} recall. Use its "
            "profile instead."
        )


@dataclass(frozen=True)
class Rules:
    """Every segment's rule, in segment order; the good ones, applied most precise first, assign
    customers (the first rule that picks a customer gives its segment; none: no segment)."""

    rules: tuple[Rule, ...]
    agreement: float  # share of customers the rules put in K-Means' segment
    covered: float  # share of customers some rule picks
    customers: int  # how many they were measured on
    learnt_on: int  # how many they were learnt from (a sample above RULE_ROWS)
    notes: tuple[str, ...] = field(default=())

    @property
    def order(self) -> tuple[Rule, ...]:
        """The rules that assign customers, in the order they are tried."""
        good = [r for r in self.rules if r.good]
        return tuple(sorted(good, key=lambda r: (-r.precision, r.segment)))

    def rule(self, segment: int) -> Rule | None:
        return next((r for r in self.rules if r.segment == segment), None)

    def assign(self, column: Column, rows: int) -> np.ndarray:
        """Each customer's segment by the rules (0: no rule picks them)."""
        out = np.zeros(rows, dtype=np.int64)
        for rule in reversed(self.order):  # the first rule that picks a customer wins
            np.putmask(out, rule.mask(column, rows), rule.segment)
        return out

    def case_sql(self) -> str:
        """One CASE expression giving each customer's segment by the rules (NULL: none)."""
        if not self.order:
            return "CAST(NULL AS INTEGER)  -- no segment has a short rule that describes it well"
        lines = ["CASE"]
        for r in self.order:
            lines.append(
                f"  WHEN {r.sql()} THEN {r.segment}"
                f"  -- precision {percent(r.precision)}, recall {percent(r.recall)}"
            )
        lines.append("END")
        return "\n".join(lines)

    def summary_line(self) -> str:
        """The rules' agreement with K-Means, in one line."""
        shown = sum(r.good for r in self.rules)
        return (
            f"Rules: {shown} of {len(self.rules)} segments have a short rule; together they put "
            f"{percent(self.agreement)} of customers in K-Means' segment "
            f"({percent(self.covered)} are picked by a rule)"
        )


# --- learning ------------------------------------------------------------------------------


def learn_rules(
    features: pd.DataFrame,
    labels: np.ndarray,
    titles: Mapping[str, str] | None = None,
    seed: int = 0,
    notes: Iterable[str] = (),
) -> Rules:
    """A rule for every segment of `labels` (1..k, one per row of `features`, the features in
    their own units: see own_units), learnt on a sample of RULE_ROWS customers at most and
    measured on every one."""
    titles = titles or {}
    labels = np.asarray(labels)
    n = len(features)
    wholes = {c: _is_whole(features[c]) for c in features.columns if _numeric(features[c])}
    years = {c for c, whole in wholes.items() if whole and _is_year(features[c])}
    universe = {c: _categories(features[c]) for c in features.columns if not _numeric(features[c])}
    rows = row_sample(n, RULE_ROWS, seed)
    sample = features.iloc[rows].reset_index(drop=True)
    sample_labels = labels[rows]
    learner = _Learner(sample, titles, wholes, universe, seed, years)
    found = {}
    present = np.bincount(labels.astype(np.intp, copy=False))  # customers per segment number
    for s in np.flatnonzero(present).tolist():
        found[s] = learner.rule_for(sample_labels == s)

    def column(name: str) -> pd.Series:
        return features[name]

    rules = []
    for s, alternatives in found.items():
        rules.append(_measured(s, alternatives, column, labels))
    out = Rules(tuple(rules), 0.0, 0.0, n, len(rows), tuple(notes))
    assigned = out.assign(column, n)
    return replace(
        out,
        agreement=float(np.mean(assigned == labels)) if n else 0.0,
        covered=float(np.mean(assigned > 0)) if n else 0.0,
    )


def _measured(
    segment: int, alternatives: tuple[Conjunction, ...], column: Column, labels: np.ndarray
) -> Rule:
    size = int(np.sum(labels == segment))
    if not alternatives:
        return Rule(segment, (), 0.0, 0.0, 0, size)
    rule = Rule(segment, alternatives, 0.0, 0.0, 0, size)
    picked = rule.mask(column, len(labels))
    hits = int(np.sum(picked & (labels == segment)))
    count = int(picked.sum())
    return replace(
        rule,
        precision=hits / count if count else 0.0,
        recall=hits / size if size else 0.0,
        picked=count,
    )


def _numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _categories(s: pd.Series) -> tuple[str, ...]:
    return tuple(str(v) for v in s.unique() if not pd.isna(v))  # the gap dropped from a few


def _f1(picked: np.ndarray, y: np.ndarray) -> float:
    hits = float(np.sum(picked & y))
    total = float(picked.sum() + y.sum())
    return 2 * hits / total if total else 0.0


def _simplest(options: list[tuple[float, tuple[Conjunction, ...]]]) -> tuple[Conjunction, ...]:
    """Of rules and their F1, the one with the fewest conditions among those within SIMPLER of
    the best (then the best F1, then the first)."""
    top = max(score for score, _ in options)
    near = [
        (sum(len(a) for a in rule), -score, i)
        for i, (score, rule) in enumerate(options)
        if score >= top - SIMPLER
    ]
    return options[min(near)[2]][1]


class _Learner:
    """Finds a segment's rule on the sample (features in their own units)."""

    def __init__(
        self,
        sample: pd.DataFrame,
        titles: Mapping[str, str],
        wholes: Mapping[str, bool],
        universe: Mapping[str, tuple[str, ...]],
        seed: int,
        years: set[str] | None = None,
    ) -> None:
        self.sample, self.titles, self.wholes = sample, titles, wholes
        self.years = years or set()
        self.universe, self.seed = universe, seed
        self.n = len(sample)
        self.columns = list(sample.columns)
        self.masks: dict[Condition, np.ndarray] = {}

    def column(self, name: str) -> pd.Series:
        return self.sample[name]

    def mask(self, conjunction: Conjunction) -> np.ndarray:
        out = np.ones(self.n, dtype=bool)
        for c in conjunction:
            if c not in self.masks:
                self.masks[c] = c.mask(self.column)
            out &= self.masks[c]
        return out

    def picks(self, alternatives: tuple[Conjunction, ...]) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for a in alternatives:
            out |= self.mask(a)
        return out

    def rule_for(self, y: np.ndarray) -> tuple[Conjunction, ...]:
        """The best rule for target `y` (a segment against the rest), or () when none.

        A few first conjunctions are tried (the best few, and the best of each length): a
        shorter first one may leave room for a second alternative that together beats a
        longer one alone."""
        if not y.any() or y.all():
            return ()
        candidates = self._candidates(y, np.ones(self.n, dtype=bool), MAX_CONDITIONS)
        if not candidates:
            return ()
        scored = sorted(
            ((_f1(self.mask(c), y), c) for c in candidates), key=lambda sc: (-sc[0], len(sc[1]))
        )
        shortlist = [c for _, c in scored[:SHORTLIST]]
        for size in range(1, MAX_CONDITIONS + 1):
            shortlist += [c for _, c in scored if len(c) == size][:1]
        options = []
        for candidate in dict.fromkeys(shortlist):
            first = self._rounded(candidate, (), y)
            rule: tuple[Conjunction, ...] = (first,)
            score = _f1(self.picks(rule), y)
            budget = MAX_CONDITIONS - len(first)
            if budget > 0 and MAX_ALTERNATIVES > 1 and score < 1.0:
                second = self._best(y, ~self.mask(first), budget, rule)
                if second is not None:
                    both = (*rule, second)
                    if _f1(self.picks(both), y) >= score + MIN_GAIN:
                        rule, score = both, _f1(self.picks(both), y)
            options.append((score, rule))
        return _simplest(options)

    def _best(
        self, y: np.ndarray, rows: np.ndarray, budget: int, before: tuple[Conjunction, ...]
    ) -> Conjunction | None:
        """The best conjunction of at most `budget` conditions to add to `before`, from a tree
        fitted on `rows`; its thresholds rounded."""
        candidates = self._candidates(y, rows, budget)
        if not candidates:
            return None
        chosen = _simplest([(_f1(self.picks((*before, c)), y), (c,)) for c in candidates])
        return self._rounded(chosen[0], before, y)

    def _candidates(
        self, y: np.ndarray, rows: np.ndarray, budget: int, left_out: frozenset[str] = frozenset()
    ) -> list[Conjunction]:
        """Every node of a tree fitted on `rows` (its path as conditions), within `budget`
        conditions. A category the tree splits into sets too long to say is left out and the
        tree fitted again without it (the next best splits), at most RETRIES times."""
        from sklearn.tree import DecisionTreeClassifier

        target = y[rows]
        if rows.sum() < 2 or not target.any() or target.all():
            return []
        X, decode = self._encoded(target, rows, left_out)
        if not decode:
            return []
        tree = DecisionTreeClassifier(
            max_depth=budget,
            class_weight="balanced",
            min_samples_leaf=max(1, int(0.002 * rows.sum())),
            random_state=self.seed,
        ).fit(X, target)
        t = tree.tree_
        out: list[Conjunction] = []
        unsayable: set[str] = set()
        stack: list[tuple[int, list[tuple[int, bool, float]]]] = [(0, [])]
        while stack:
            node, path = stack.pop()
            if path:
                conjunction = self._conjunction(path, decode, unsayable)
                if conjunction is None:
                    continue  # nothing below can be said either
                if 0 < len(conjunction) <= budget:
                    out.append(conjunction)
            left, right = t.children_left[node], t.children_right[node]
            if left == right:  # a leaf
                continue
            f, threshold = int(t.feature[node]), float(t.threshold[node])
            stack.append((left, [*path, (f, True, threshold)]))
            stack.append((right, [*path, (f, False, threshold)]))
        if unsayable and len(left_out) < RETRIES:
            out += self._candidates(y, rows, budget, left_out | unsayable)
        return list(dict.fromkeys(out))

    def _encoded(
        self, target: np.ndarray, rows: np.ndarray, left_out: frozenset[str] = frozenset()
    ) -> tuple[np.ndarray, list[tuple[str, tuple[str, ...] | None]]]:
        """The rows as numbers for a tree: a category as the rank of its values by how common
        the target is in them (so a split is a set of named values)."""
        columns: list[np.ndarray] = []
        decode: list[tuple[str, tuple[str, ...] | None]] = []
        for name in (c for c in self.columns if c not in left_out):
            s = self.sample[name][rows]
            if name in self.wholes:
                columns.append(s.to_numpy(dtype="float64", na_value=np.nan))
                decode.append((name, None))
                continue
            codes, uniques = pd.factorize(s)
            known = codes >= 0
            if not known.any():  # no value among these rows: nothing to split on
                continue
            counts = np.bincount(codes[known], minlength=len(uniques))
            hits = np.bincount(codes[known], weights=target[known], minlength=len(uniques))
            rate = np.divide(hits, counts, out=np.zeros(len(uniques)), where=counts > 0)
            order = np.argsort(rate, kind="stable")
            rank = np.empty(len(uniques), dtype="float64")
            rank[order] = np.arange(len(uniques))
            columns.append(np.where(known, rank[np.maximum(codes, 0)], np.nan))
            decode.append((name, tuple(str(uniques[i]) for i in order)))
        X = np.column_stack(columns) if columns else np.empty((int(rows.sum()), 0))
        return X, decode

    def _conjunction(
        self,
        path: list[tuple[int, bool, float]],
        decode: list[tuple[str, tuple[str, ...] | None]],
        unsayable: set[str],
    ) -> Conjunction | None:
        """A path of splits as conditions: bounds on a number merged, sets of a category
        intersected; None when it picks no one or cannot be said in few names (the category
        is then added to `unsayable`)."""
        lows: dict[str, float] = {}
        highs: dict[str, float] = {}
        sets: dict[str, set[str]] = {}
        presence: dict[str, str] = {}  # "known" or "missing": a split of values from gaps
        order: list[str] = []
        for f, left, threshold in path:
            name, ranked = decode[f]
            if name not in order:
                order.append(name)
            if not math.isfinite(threshold):  # every value to the left, the gaps to the right
                presence[name] = "known" if left else "missing"
                continue
            if ranked is None:
                if left:
                    highs[name] = min(highs.get(name, math.inf), threshold)
                else:
                    lows[name] = max(lows.get(name, -math.inf), threshold)
                continue
            cut = int(math.floor(threshold)) + 1  # ranks 0..cut-1 go left
            chosen = set(ranked[:cut] if left else ranked[cut:])
            sets[name] = sets[name] & chosen if name in sets else chosen
        out: list[Condition] = []
        for name in order:
            title = self.titles.get(name, name.replace("_", " "))
            bounded = name in sets or name in lows or name in highs  # a value: known
            if presence.get(name) == "missing":
                if bounded:
                    return None
                out.append(Condition(name, title, "missing"))
                continue
            if presence.get(name) == "known" and not bounded:
                out.append(Condition(name, title, "known"))
                continue
            if name in sets:
                condition = self._category(name, title, sets[name])
                if condition is False:
                    if sets[name]:
                        unsayable.add(name)
                    return None
                if isinstance(condition, Condition):
                    out.append(condition)
                continue
            whole, year = self.wholes[name], name in self.years
            low, high = lows.get(name), highs.get(name)
            if low is not None and high is not None and low >= high:
                return None
            if low is not None:
                out.append(Condition(name, title, ">", low, whole=whole, year=year))
            if high is not None:
                out.append(Condition(name, title, "<=", high, whole=whole, year=year))
        return tuple(out)

    def _category(self, name: str, title: str, chosen: set[str]) -> Condition | None | bool:
        """`name` among `chosen`, said by the shorter list (False: too many names to say;
        None: no restriction)."""
        every = sorted(self.universe[name])  # names said in alphabetical order
        inside = tuple(v for v in every if v in chosen)
        outside = tuple(v for v in every if v not in chosen)
        if not inside:
            return False
        if not outside:
            return None
        if min(len(inside), len(outside)) > MAX_NAMES:
            return False
        if len(inside) <= len(outside):
            return Condition(name, title, "in", values=inside)
        return Condition(name, title, "not in", values=outside)

    def _rounded(
        self, conjunction: Conjunction, before: tuple[Conjunction, ...], y: np.ndarray
    ) -> Conjunction:
        """Each threshold moved to the roundest number that keeps F1 within SIMPLER."""
        current = list(conjunction)

        def score(conditions: list[Condition]) -> float:
            return _f1(self.picks((*before, tuple(conditions))), y)

        exact = score(current)
        for i, c in enumerate(conjunction):
            if c.op not in (">", "<="):
                continue
            for value in nice_numbers(c.threshold, c.whole):
                trial = [*current[:i], replace(c, threshold=value), *current[i + 1 :]]
                if score(trial) >= exact - SIMPLER:
                    current = trial
                    break
            else:  # no rounder number will do: the exact split, a little rounded
                value = nice_numbers(c.threshold, c.whole)[-1]
                current[i] = replace(c, threshold=value)
        return tuple(current)


def nice_numbers(x: float, whole: bool = False) -> list[float]:
    """Numbers near `x` from the roundest to the closest (1, 1.5 and 2-4 significant digits);
    for a feature of whole numbers, whole numbers (x > 5.5 picks what x > 5 picks)."""
    if not math.isfinite(x):
        return [x]
    out: list[float] = []
    if x != 0:
        e = math.floor(math.log10(abs(x)))
        for digits in range(0, 4):
            for unit, power in ((1, e - digits), (5, e - digits - 1)):
                step = unit * 10.0**power
                out.append(round(round(x / step) * step, max(0, -power)))
    out.append(round(x, 6))
    if whole:
        out = [float(math.floor(v)) for v in out]
    return list(dict.fromkeys(float(v) for v in out))


# --- SQL -------------------------------------------------------------------------------------

_CONTROL = re.compile("([\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\t\n])")


def sql_identifier(name: str) -> str:
    """A column name quoted for SQL (control characters shown as visible placeholders)."""
    return '"' + visible(name).replace('"', '""') + '"'


def sql_text(value: str) -> str:
    """A text literal for SQL: quotes doubled; control characters as chr(n), so the file holds
    none and the literal still equals the value."""
    pieces = []
    for part in _CONTROL.split(value):
        if not part:
            continue
        if _CONTROL.fullmatch(part):
            pieces.append(f"chr({ord(part)})")
        else:
            pieces.append("'" + part.replace("'", "''") + "'")
    return " || ".join(pieces) if pieces else "''"


def sql_number(x: float) -> str:
    """A number literal for SQL that reads back as exactly `x`."""
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))
