"""The feature plan (core.plan) carried out with Spark SQL: lookups joined, the log aggregated.

The plan is made from the first rows of each table, as for every engine; Spark runs it on the
whole tables and reports its Findings. No sentence is written here: core.plan writes them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pyspark.sql import functions as F

from segscope.core.errors import DataError
from segscope.core.plan import (
    PEEK_ROWS,
    STATUS_MAX_VALUES,
    FeaturePlan,
    Findings,
    LookupJoin,
    make_plan,
    pick_tables,
)
from segscope.core.settings import DataChoices
from segscope.core.spark.tables import SparkTables, from_pandas
from segscope.core.text import quoted

LOOKUP_LIMIT = 100_000  # a table bigger than this is not a lookup table (lookups go to the driver)
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
    lookups = _lookups(tables, peeks, {chosen.customers, chosen.transactions})

    def values(column: str) -> list[str]:
        table = tables.get(chosen.transactions or "")
        if table is None or column not in table.columns:
            return sorted({str(v) for lk in lookups.values() if column in lk
                           for v in lk[column].dropna()})[: STATUS_MAX_VALUES + 1]  # fmt: skip
        rows = table.select(column).where(F.col(column).isNotNull()).distinct()
        return sorted(str(r[0]) for r in rows.limit(STATUS_MAX_VALUES + 1).collect())

    plan = make_plan(peeks, choices, lookups=lookups, values=values, noun="table")
    return plan, lookups


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
    findings = Findings(rows, log_rows, unmatched, log_unmatched, ref, without, orphans)
    return base, findings


def _check_unique(base: Any, key: str | None, name: str | None) -> None:
    if key is None:
        return
    dup = base.groupBy(key).count().filter("count > 1").count()
    if dup:
        raise DataError(
            f"{quoted(key)} repeats for {dup:,} customers of {quoted(name)}: a customer table "
            "needs one row per customer. Choose it as the transactions table instead."
        )


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
    """The plan's date columns as timestamps, each read by its rule (core.dates)."""
    for col, rule in rules.items():
        if col in df.columns:
            df = df.withColumn(col, spark_date(F.col(col), rule))
    return df


def spark_date(c: Any, rule: str) -> Any:
    """A column read as timestamps by a core.dates rule (what does not parse: null)."""
    if rule == "datetime":
        return c.cast("timestamp")
    if rule == "yyyymmdd":
        return F.try_to_timestamp(c.cast("long").cast("string"), F.lit("yyyyMMdd"))
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


def _aggregate(log: Any, key: str, plan: FeaturePlan, ref: pd.Timestamp | None) -> Any:
    """Behaviour per customer, as the plan's measures say, in one Spark job."""
    aggs = []
    for m in plan.measures:
        col = F.col(m.column) if m.column is not None else None
        if m.kind == "count":
            agg = F.count(F.lit(1))
        elif m.kind in ("last", "first"):
            assert col is not None
            if ref is None:
                continue
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
            number = col.cast("double")
            clean = F.when(F.isnan(number) | (F.abs(number) == float("inf")), None).otherwise(
                number
            )
            agg = F.sum(clean) if m.kind == "sum" else F.avg(clean)
        aggs.append(agg.alias(m.name))
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
        if m.kind in ("last", "first"):
            if since_join is not None:
                merged = merged.withColumn(m.name, F.coalesce(F.col(m.name), since_join))
        elif m.kind in ("count", "status", "distinct", "sum"):
            merged = merged.withColumn(m.name, F.coalesce(F.col(m.name), F.lit(0)))
    none = merged.filter(F.col("__seen").isNull()).count()
    orphans = behaviour.join(base.select(key), on=key, how="left_anti").count()
    return merged.drop("__seen"), none, orphans
