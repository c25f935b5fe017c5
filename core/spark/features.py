"""One row per customer, built with Spark SQL: lookups joined, the transaction log aggregated.

The same plan as the local engine (core.features decides what to join and what to measure,
from a small sample of each table); Spark executes it on the whole tables.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pyspark.sql import functions as F

from segscope.core.errors import DataError
from segscope.core.features import (
    JOIN_PATTERN,
    STATUS_MAX_VALUES,
    CustomerFrame,
    LookupJoin,
    Measure,
    aggregate_note,
    find_key,
    join_note,
    name_columns,
    pick_tables,
    plan_lookup_joins,
    plan_measures,
)
from segscope.core.schema import is_datelike
from segscope.core.spark.tables import SparkTables, from_pandas

PEEK_ROWS = 2_000  # rows of each table read to the driver to decide what to build
LOOKUP_LIMIT = 100_000  # a table bigger than this is not a lookup table (lookups go to the driver)
DATE_FORMATS = (None, "M/d/yyyy", "M/d/yyyy H:mm", "d.M.yyyy")  # tried in turn on text dates
NUMERIC_TYPES = ("int", "bigint", "smallint", "tinyint", "double", "float", "decimal", "long")


def peek(df: Any, rows: int = PEEK_ROWS) -> pd.DataFrame:
    """The first `rows` rows as pandas (only small results cross to the driver)."""
    return to_pandas(df.limit(rows))


def to_pandas(df: Any) -> pd.DataFrame:
    """A small Spark result as pandas, through Arrow; timestamps as naive UTC, as pandas reads
    them from files."""
    out = df.toArrow().to_pandas()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def is_numeric_type(dtype: str) -> bool:
    return dtype.split("(")[0] in NUMERIC_TYPES


def build_customer_table(
    tables: SparkTables,
    customers: str | None,
    transactions: str | None,
    key: str | None,
    use_transactions: bool,
) -> tuple[Any, CustomerFrame]:
    """The customers table in Spark and a CustomerFrame of its decisions (data left empty)."""
    peeks = {name: peek(df) for name, df in tables.items()}
    customers, transactions, key = pick_tables(
        peeks, customers, transactions, key, use_transactions, noun="table"
    )
    base = tables[customers] if customers else None
    log = tables[transactions] if transactions else None
    key = key or _find_key(peeks, customers, transactions)
    lookups = _lookups(tables, peeks, {customers, transactions})
    decisions: list[str] = []
    coded: dict[str, str] = {}
    latest: list[pd.Timestamp] = []
    if base is not None:
        if key is not None and key not in base.columns:
            raise DataError(f"table '{customers}' has no column '{key}'.")
        if key is not None:
            dup = base.groupBy(key).count().filter("count > 1").count()
            if dup:
                raise DataError(
                    f"'{key}' repeats for {dup:,} customers of '{customers}': a customer table "
                    "needs one row per customer. Choose it as the transactions table instead."
                )
        base, joins = _join(base, lookups, coded)
        base = _with_dates(base)
        rows, latest = _survey(base, joins, customers or "", decisions)
        decisions.insert(0, f"customers: {rows:,} rows from '{customers}', key '{key}'")
    log_rows = 0
    if log is not None:
        if key is None or key not in log.columns:
            raise DataError(f"table '{transactions}' has no customer key column '{key}'.")
        log, joins = _join(log, lookups)
        log = _with_dates(log)
        log_rows, dates = _survey(log, joins, transactions or "", decisions, key)
        latest += dates
    ref = max(latest) if latest else None
    labels: dict[str, str] = {}
    semantics: dict[str, str] = {}
    if log is not None and key is not None:
        behaviour, measures = _aggregate(log, key, ref, semantics)
        labels.update({m.name: m.label for m in measures})
        decisions.append(aggregate_note(log_rows, transactions or "", key, measures))
        if base is None:
            base = behaviour
            decisions.insert(0, f"customers: {base.count():,} built from the log '{transactions}'")
        else:
            base = _attach(base, behaviour, key, ref, measures, decisions)
    assert base is not None
    numeric = [c for c, t in base.dtypes if is_numeric_type(t)]
    name_columns(base.columns, _date_columns(base), numeric, key, ref, labels, semantics, decisions)
    frame = CustomerFrame(
        pd.DataFrame(),
        key,
        customers,
        transactions,
        ref,
        decisions,
        labels,
        semantics,
        coded,
    )
    return base, frame


def _find_key(peeks: dict[str, pd.DataFrame], *names: str | None) -> str | None:
    return next((k for n in names if n is not None and (k := find_key(peeks[n]))), None)


def _lookups(
    tables: SparkTables, peeks: dict[str, pd.DataFrame], skip: set[str | None]
) -> dict[str, pd.DataFrame]:
    """The small tables, whole on the driver (they only map codes to names)."""
    out = {}
    for name, df in tables.items():
        if name in skip:
            continue
        if len(peeks[name]) < PEEK_ROWS or df.count() <= LOOKUP_LIMIT:
            out[name] = peeks[name] if len(peeks[name]) < PEEK_ROWS else peek(df, LOOKUP_LIMIT)
    return out


def _join(
    df: Any, lookups: dict[str, pd.DataFrame], coded: dict[str, str] | None = None
) -> tuple[Any, list[tuple[LookupJoin, int]]]:
    """Left-join the lookup tables planned by core.features.plan_lookup_joins (broadcast);
    also each join with the number of gaps its lookup already had in its first added column."""
    spark = df.sparkSession
    done = []
    for join in plan_lookup_joins(list(df.columns), lookups):
        lk = lookups[join.lookup][[join.code, *join.extra]]
        right = from_pandas(spark, lk)
        right = right.withColumn(join.code, F.col(join.code).cast(dict(df.dtypes)[join.code]))
        columns = [*df.columns, *join.extra]  # as pandas' merge orders them
        df = df.join(F.broadcast(right), on=join.code, how="left").select(*columns)
        done.append((join, int(lk[join.extra[0]].isna().sum())))
        if coded is not None and join.named:
            coded[join.code] = join.named
    return df, done


def _survey(
    df: Any,
    joins: list[tuple[LookupJoin, int]],
    name: str,
    decisions: list[str],
    key: str | None = None,
) -> tuple[int, list[pd.Timestamp]]:
    """One pass over a table: its rows (with a key, when `key` is given), the codes each join
    did not find (noted in `decisions`), and the latest value of each date column."""
    dates = _date_columns(df)
    aggs = [F.count(F.col(key) if key else F.lit(1)).alias("__rows")]
    aggs += [
        F.sum(F.col(join.extra[0]).isNull().cast("int")).alias(f"__gaps{i}")
        for i, (join, _) in enumerate(joins)
    ]
    aggs += [F.max(c).alias(f"__max{i}") for i, c in enumerate(dates)]
    row = to_pandas(df.agg(*aggs)).iloc[0]
    for i, (join, had) in enumerate(joins):
        decisions.append(join_note(join, name, int(row[f"__gaps{i}"] or 0) - had))
    latest = [pd.Timestamp(row[f"__max{i}"]) for i in range(len(dates))]
    return int(row["__rows"]), [t for t in latest if pd.notna(t)]


def _date_columns(df: Any) -> list[str]:
    return [c for c, t in df.dtypes if t in ("timestamp", "timestamp_ntz", "date")]


def _with_dates(df: Any) -> Any:
    """Text columns that hold dates (judged on the first rows) parsed into timestamps."""
    sample = peek(df)
    for col, dtype in df.dtypes:
        if dtype in ("date", "timestamp_ntz"):
            df = df.withColumn(col, F.col(col).cast("timestamp"))
        elif dtype == "string" and is_datelike(sample[col]):
            parsed = [
                F.try_to_timestamp(F.col(col), F.lit(f)) if f else F.try_to_timestamp(F.col(col))
                for f in DATE_FORMATS
            ]
            df = df.withColumn(col, F.coalesce(*parsed))
    return df


def days_before(ref: pd.Timestamp, when: Any) -> Any:
    """Whole days from `when` (a timestamp column) to `ref`, as pandas' (ref - when).days."""
    seconds = F.lit(int(ref.value // 10**9)) - when.cast("long")
    return F.floor(seconds / 86_400).cast("double")


def _aggregate(
    log: Any, key: str, ref: pd.Timestamp | None, semantics: dict[str, str]
) -> tuple[Any, list[Measure]]:
    """Behaviour per customer, as planned by core.features.plan_measures, in one Spark job."""
    log = log.filter(F.col(key).isNotNull())
    sample = peek(log)
    texts = [c for c, t in log.dtypes if t == "string" and c != key and c in sample]
    distinct = {}
    for col in texts:
        if sample[col].nunique() <= STATUS_MAX_VALUES:
            rows = log.select(col).where(F.col(col).isNotNull()).distinct()
            distinct[col] = sorted(str(r[0]) for r in rows.limit(STATUS_MAX_VALUES + 1).collect())
    measures = plan_measures(sample, key, ref is not None, semantics, distinct)
    aggs = []
    for m in measures:
        col = F.col(m.column) if m.column is not None else None
        if m.kind == "count":
            agg = F.count(F.lit(1))
        elif m.kind in ("last", "first"):
            assert col is not None and ref is not None
            agg = days_before(ref, F.max(col) if m.kind == "last" else F.min(col))
        elif m.kind in ("status", "status_rate"):
            assert col is not None
            hit = F.when(col.cast("string") == F.lit(m.value), 1).otherwise(0)
            agg = F.sum(hit) if m.kind == "status" else F.avg(hit)
        elif m.kind == "distinct":
            assert col is not None
            agg = F.count_distinct(col)
        else:
            assert col is not None
            clean = F.when(F.abs(col) == float("inf"), None).otherwise(col.cast("double"))
            agg = F.sum(clean) if m.kind == "sum" else F.avg(clean)
        aggs.append(agg.alias(m.name))
    return log.groupBy(key).agg(*aggs), measures


def _attach(
    base: Any,
    behaviour: Any,
    key: str,
    ref: pd.Timestamp | None,
    measures: list[Measure],
    decisions: list[str],
) -> Any:
    """Left-join behaviour onto customers; no transactions: zeros, and days since joining."""
    key_type = dict(base.dtypes)[key]
    behaviour = behaviour.withColumn(key, F.col(key).cast(key_type))
    merged = base.join(behaviour.withColumn("__seen", F.lit(1)), on=key, how="left")
    joined = next((c for c in _date_columns(base) if JOIN_PATTERN.search(c)), None)
    since_join = days_before(ref, F.col(joined)) if joined and ref is not None else None
    for m in measures:
        if m.kind in ("last", "first"):
            if since_join is not None:
                merged = merged.withColumn(m.name, F.coalesce(F.col(m.name), since_join))
        else:
            merged = merged.withColumn(m.name, F.coalesce(F.col(m.name), F.lit(0)))
    none = merged.filter(F.col("__seen").isNull()).count()
    orphans = behaviour.join(base.select(key), on=key, how="left_anti").count()
    if none:
        how = f"taken from {joined}" if since_join is not None else "left empty (imputed)"
        decisions.append(
            f"{none:,} customers have no transactions: counts set to 0, days since "
            f"last/first transaction {how}"
        )
    if orphans:
        decisions.append(f"{orphans:,} customer keys in the log are not in the customers table")
    return merged.drop("__seen")
