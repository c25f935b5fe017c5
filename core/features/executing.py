"""What every executor of the feature plan shares (pandas, SQL and Spark): which tables are
lookups, a log column's distinct values, the reference date, the refusal of a key that repeats,
what customers without transactions get, and the last step that makes the CustomerFrame."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping

import pandas as pd

from segscope.core.errors import DataError
from segscope.core.features.findings import Findings
from segscope.core.features.frame import CustomerFrame, described
from segscope.core.features.measures import STATUS_MAX_VALUES, Kind
from segscope.core.features.plan import FeaturePlan
from segscope.core.features.tables import PEEK_ROWS, all_different
from segscope.core.text import quoted

LOOKUP_LIMIT = 100_000  # a bigger table is not a lookup (lookups are held whole in memory)
VALUES_WANTED = STATUS_MAX_VALUES + 1  # distinct values looked for: one more says "too many"


def lookup_tables(
    peeks: Mapping[str, pd.DataFrame],
    skip: Iterable[str | None],
    rows: Callable[[str], int],
    whole: Callable[[str], pd.DataFrame],
) -> dict[str, pd.DataFrame]:
    """The tables small enough to be lookups (at most LOOKUP_LIMIT rows), whole: a peek that
    holds fewer than PEEK_ROWS rows is the whole table; `rows` counts a larger one and `whole`
    reads it. The customers table and the log (`skip`) are never lookups."""
    skipped = set(skip)
    out = {}
    for name, peek in peeks.items():
        if name in skipped:
            continue
        if len(peek) < PEEK_ROWS:
            out[name] = peek
        elif rows(name) <= LOOKUP_LIMIT:
            out[name] = whole(name)
    return out


def distinct_values(
    column: str,
    log_columns: Iterable[str],
    lookups: Mapping[str, pd.DataFrame],
    from_log: Callable[[str], Iterable[object]],
) -> list[str]:
    """A log column's distinct values as text, sorted (VALUES_WANTED of them at most: enough to
    know a status from a column of many values): `from_log` reads them from the log; a column a
    lookup adds to the log has those of the lookup."""
    if column in set(log_columns):
        found = {str(v) for v in from_log(column)}
    else:
        found = {str(v) for lk in lookups.values() if column in lk for v in lk[column].dropna()}
    return sorted(found)[:VALUES_WANTED]


def reference_date(
    frames: Iterable[pd.DataFrame], maxima: Iterable[pd.Timestamp] = ()
) -> pd.Timestamp | None:
    """The latest date in the data (dates are measured back from it): of the frames' date
    columns and of `maxima` (latest dates an executor found elsewhere)."""
    found = [pd.Timestamp(m) for m in maxima if pd.notna(m)]
    found += [
        df[c].max()
        for df in frames
        for c in df.columns
        if pd.api.types.is_datetime64_any_dtype(df[c]) and df[c].notna().any()
    ]
    return pd.Timestamp(max(found)) if found else None


def repeated_key(key: str, repeats: int, table: str | None, noun: str = "sheet") -> DataError:
    """The refusal of a customers table whose key repeats (`repeats` rows or customers)."""
    return DataError(
        f"{quoted(key)} repeats on {repeats:,} rows of {quoted(table)}: a customer table needs "
        f"one row per customer. Choose it as the transactions {noun} instead."
    )


def check_unique(base: pd.DataFrame, key: str | None, table: str | None, noun: str) -> None:
    """Refuse a customers table whose key repeats."""
    if key is not None and not all_different(base[key]):
        raise repeated_key(key, int(base[key].duplicated().sum()), table, noun)


def since_joining(
    plan: FeaturePlan, base: pd.DataFrame, ref: pd.Timestamp | None
) -> pd.Series | None:
    """Each customer's days since joining (for dates of customers without transactions)."""
    if plan.join_date is None or ref is None:
        return None
    return (ref - base[plan.join_date]).dt.days.astype(float)


def attach(
    base: pd.DataFrame, behaviour: pd.DataFrame, plan: FeaturePlan, ref: pd.Timestamp | None
) -> tuple[pd.DataFrame, int, int]:
    """Left-join the measures per customer (indexed by key) onto the customers. A customer with
    no transactions gets what each measure's kind says: 0 for a count or a total, days since
    joining for a date (where a join date is known: 0 would read as "bought today"), nothing
    for an average or a share. Returns the table, how many customers have no transactions and
    how many keys of the log are not customers."""
    key = plan.key or ""
    if base[key].dtype != behaviour.index.dtype:  # the log's keys as the customers' (where
        with contextlib.suppress(TypeError, ValueError, OverflowError):  # they convert)
            behaviour.index = behaviour.index.astype(base[key].dtype)
    merged = base.merge(behaviour, left_on=key, right_index=True, how="left")
    none = int(merged[next(iter(behaviour.columns))].isna().sum())
    orphans = int((~behaviour.index.isin(base[key])).sum())
    joined = since_joining(plan, base, ref)
    for m in plan.measures:
        if m.name not in merged:
            continue
        if m.kind.zero_when_absent:
            merged[m.name] = merged[m.name].fillna(0)
        elif m.kind.dated and joined is not None:
            merged[m.name] = merged[m.name].fillna(joined)
    return merged, none, orphans


def combined(
    base: pd.DataFrame | None,
    behaviour: pd.DataFrame | None,
    plan: FeaturePlan,
    ref: pd.Timestamp | None,
    log_rows: int,
    unmatched: dict[str, int],
    log_unmatched: dict[str, int],
) -> CustomerFrame:
    """The last step of the pandas and SQL executors: the customers and the log's measures per
    customer as one frame, described with what was found on the way."""
    without = orphans = 0
    if behaviour is not None and plan.key is not None:
        if base is None:
            base = behaviour.reset_index()
        else:
            base, without, orphans = attach(base, behaviour, plan, ref)
    if base is None:
        raise DataError("nothing to segment: choose the customers table.")
    findings = Findings(
        customer_rows=len(base),
        log_rows=log_rows,
        unmatched=unmatched,
        log_unmatched=log_unmatched,
        reference_date=ref,
        without_transactions=without,
        orphans=orphans,
    )
    return described(base, plan, findings)


def counted(kind: Kind) -> bool:
    """Whether a kind's figure is a whole count (a database returns it as an integer)."""
    return kind in (Kind.ROWS, Kind.COUNT_OF, Kind.DISTINCT)
