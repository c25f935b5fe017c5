"""The feature plan carried out with Spark SQL: lookups joined, the log aggregated.

The plan is made from the first rows of each table, as for every executor; Spark runs it on the
whole tables and reports its Findings; the sentences come from features.decisions. It takes
the lookups, distinct values and the repeated-key check from features.executing; joining and
the unique-key check are Spark's own."""

from __future__ import annotations

from typing import Any

import pandas as pd
from pyspark.sql import functions as F

from segscope.core.engines.spark.tables import SparkTables, from_pandas
from segscope.core.features.executing import (
    LOOKUP_LIMIT,
    VALUES_WANTED,
    distinct_values,
    lookup_tables,
    repeated_key,
)
from segscope.core.features.findings import Findings
from segscope.core.features.measures import Kind, Measure
from segscope.core.features.plan import FeaturePlan, LookupJoin, make_plan
from segscope.core.features.tables import PEEK_ROWS, pick_tables
from segscope.core.settings import DataChoices

TEXT_FORMATS = (None, "M/d/yyyy", "M/d/yyyy H:mm", "d.M.yyyy")  # tried in turn on text dates
MONTH_FORMATS = ("MMM-yyyy", "MMMM-yyyy", "MMM yyyy", "MMMM yyyy", "MMM/yyyy", "MMM-yy", "yyyy-MM")
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


def spark_plan(tables: SparkTables, choices: DataChoices) -> tuple[FeaturePlan, dict[str, Any]]:
    """The plan, made from a peek at each table (lookups whole: they are small)."""
    peeks = {name: peek(df) for name, df in tables.items()}
    chosen = pick_tables(peeks, choices, noun="table")
    skip = (chosen.customers, chosen.transactions)
    lookups = lookup_tables(
        peeks, skip, lambda n: int(tables[n].count()), lambda n: peek(tables[n], LOOKUP_LIMIT)
    )
    log = tables.get(chosen.transactions or "")

    def from_log(column: str) -> list[object]:
        assert log is not None
        rows = log.select(column).where(F.col(column).isNotNull()).distinct()
        return [r[0] for r in rows.limit(VALUES_WANTED).collect()]

    def values(column: str) -> list[str]:
        return distinct_values(column, [] if log is None else log.columns, lookups, from_log)

    plan = make_plan(peeks, choices, lookups=lookups, values=values, noun="table")
    return plan, lookups


def build_customer_table(
    tables: SparkTables, plan: FeaturePlan, lookups: dict[str, pd.DataFrame]
) -> tuple[Any, Findings]:
    """Carry `plan` out in Spark: the customers table (in Spark) and what was found."""
    key = plan.key
    base = tables[plan.customers] if plan.customers else None
    log = tables[plan.transactions] if plan.transactions else None
    unmatched: dict[str, int] = {}
    log_unmatched: dict[str, int] = {}
    latest: list[pd.Timestamp] = []
    rows = log_rows = 0
    if base is not None:
        _check_unique(base, key, plan.customers)
        base = _join(base, plan.customer_joins, lookups)
        base = _with_dates(base, plan.date_columns(plan.customers or ""))
        rows, latest = _survey(base, plan.customer_joins, lookups, unmatched)
    if log is not None and key is not None:
        log = _join(log, plan.log_joins, lookups)
        log = _with_dates(log, plan.date_columns(plan.transactions or ""))
        log = log.filter(F.col(key).isNotNull())
        log_rows, dates = _survey(log, plan.log_joins, lookups, log_unmatched)
        latest += dates
    ref = max(latest) if latest else None
    without = orphans = 0
    if log is not None and key is not None:
        behaviour = _aggregate(log, key, plan, ref)
        if base is None:
            base = behaviour
            rows = base.count()
        else:
            base, without, orphans = _attach(base, behaviour, key, plan, ref)
    assert base is not None
    findings = Findings(
        customer_rows=rows,
        log_rows=log_rows,
        unmatched=unmatched,
        log_unmatched=log_unmatched,
        reference_date=ref,
        without_transactions=without,
        orphans=orphans,
    )
    return base, findings


def _check_unique(base: Any, key: str | None, name: str | None) -> None:
    if key is None:
        return
    repeats = base.groupBy(key).count().filter("count > 1")
    found = repeats.agg(F.sum(F.col("count") - 1).alias("n")).collect()[0]["n"]
    if found:
        raise repeated_key(key, int(found), name, "table")


def _join(df: Any, joins: tuple[LookupJoin, ...], lookups: dict[str, pd.DataFrame]) -> Any:
    """Left-join the planned lookups (broadcast), keeping pandas' column order."""
    spark = df.sparkSession
    for j in joins:
        right = from_pandas(spark, lookups[j.lookup][[j.code, *j.extra]])
        right = right.withColumn(j.code, F.col(j.code).cast(dict(df.dtypes)[j.code]))
        columns = [*df.columns, *j.extra]
        df = df.join(F.broadcast(right), on=j.code, how="left").select(*columns)
    return df


def _survey(
    df: Any,
    joins: tuple[LookupJoin, ...],
    lookups: dict[str, pd.DataFrame],
    unmatched: dict[str, int],
) -> tuple[int, list[pd.Timestamp]]:
    """One pass over a table: its rows, the codes each join did not find (into `unmatched`),
    and the latest value of each date column."""
    dates = _date_columns(df)
    aggs = [F.count(F.lit(1)).alias("__rows")]
    aggs += [
        F.sum(F.col(j.extra[0]).isNull().cast("int")).alias(f"__gaps{i}")
        for i, j in enumerate(joins)
    ]
    aggs += [F.max(c).alias(f"__max{i}") for i, c in enumerate(dates)]
    row = to_pandas(df.agg(*aggs)).iloc[0]
    for i, j in enumerate(joins):
        had = int(lookups[j.lookup][j.extra[0]].isna().sum())
        unmatched[j.lookup] = int(row[f"__gaps{i}"] or 0) - had
    latest = [pd.Timestamp(row[f"__max{i}"]) for i in range(len(dates))]
    return int(row["__rows"]), [t for t in latest if pd.notna(t)]


def _date_columns(df: Any) -> list[str]:
    return [c for c, t in df.dtypes if t in ("timestamp", "timestamp_ntz", "date")]


def _with_dates(df: Any, rules: dict[str, str]) -> Any:
    """The plan's date columns as timestamps, each read by its rule (features.dates)."""
    for col, rule in rules.items():
        if col in df.columns:
            df = df.withColumn(col, spark_date(F.col(col), rule))
    return df


def spark_date(c: Any, rule: str) -> Any:
    """A column read as timestamps by a features.dates rule (what does not parse: null)."""
    if rule == "datetime":
        return c.cast("timestamp")
    if rule == "yyyymmdd":
        return F.try_to_timestamp(c.cast("long").cast("string"), F.lit("yyyyMMdd"))
    if rule == "year":
        return F.try_to_timestamp(c.cast("long").cast("string"), F.lit("yyyy"))
    if rule == "epoch_s":
        return F.timestamp_seconds(c.cast("long"))
    if rule == "epoch_ms":
        return F.timestamp_millis(c.cast("long"))
    formats = MONTH_FORMATS if rule == "month" else TEXT_FORMATS
    text = F.trim(c.cast("string"))
    return F.coalesce(
        *[F.try_to_timestamp(text, F.lit(f)) if f else F.try_to_timestamp(text) for f in formats]
    )


def days_before(ref: pd.Timestamp, when: Any) -> Any:
    """Whole days from `when` (a timestamp column) to `ref`, as pandas' (ref - when).days."""
    seconds = F.lit(int(ref.value // 10**9)) - when.cast("long")
    return F.floor(seconds / 86_400).cast("double")


def _finite(column: Any) -> Any:
    """A column as a double, NaN and infinities missing (as pandas reads them)."""
    number = column.cast("double")
    return F.when(F.isnan(number) | (F.abs(number) == float("inf")), None).otherwise(number)


def _expression(m: Measure, ref: pd.Timestamp | None) -> Any:
    """The Spark aggregate of one measure."""
    col = F.col(m.column) if m.column is not None else F.lit(None)
    hit = F.when(col.cast("string") == F.lit(m.value), 1).otherwise(0)
    if m.kind is Kind.ROWS:
        return F.count(F.lit(1))
    if m.kind.dated:
        assert ref is not None
        return days_before(ref, F.max(col) if m.kind is Kind.LATEST else F.min(col))
    if m.kind is Kind.COUNT_OF:
        return F.sum(hit)
    if m.kind is Kind.SHARE_OF:
        return F.avg(hit)
    if m.kind is Kind.SHARE:
        return F.avg(_finite(col))
    if m.kind is Kind.DISTINCT:
        return F.count_distinct(col)
    if m.kind is Kind.ATTRIBUTE:
        return F.min(col)
    return F.sum(_finite(col)) if m.kind is Kind.SUM else F.avg(_finite(col))


def _aggregate(log: Any, key: str, plan: FeaturePlan, ref: pd.Timestamp | None) -> Any:
    """Behaviour per customer, as the plan's measures say, in one Spark job."""
    aggs = [
        _expression(m, ref).alias(m.name)
        for m in plan.measures
        if not (m.kind.dated and ref is None)
    ]
    return log.groupBy(key).agg(*aggs)


def _attach(
    base: Any, behaviour: Any, key: str, plan: FeaturePlan, ref: pd.Timestamp | None
) -> tuple[Any, int, int]:
    """Left-join behaviour onto customers; no transactions: zeros, and days since joining."""
    behaviour = behaviour.withColumn(key, F.col(key).cast(dict(base.dtypes)[key]))
    merged = base.join(behaviour.withColumn("__seen", F.lit(1)), on=key, how="left")
    joined = plan.join_date
    since_join = days_before(ref, F.col(joined)) if joined and ref is not None else None
    for m in plan.measures:
        if m.name not in behaviour.columns:
            continue
        if m.kind.zero_when_absent:
            merged = merged.withColumn(m.name, F.coalesce(F.col(m.name), F.lit(0)))
        elif m.kind.dated and since_join is not None:
            merged = merged.withColumn(m.name, F.coalesce(F.col(m.name), since_join))
    none = merged.filter(F.col("__seen").isNull()).count()
    orphans = behaviour.join(base.select(key), on=key, how="left_anti").count()
    return merged.drop("__seen"), none, orphans
