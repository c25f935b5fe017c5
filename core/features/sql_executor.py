"""The feature plan carried out as SQL, in the database (PostgreSQL, DuckDB).

The plan is made from a peek at each table, as for every executor. The database joins the
lookups and aggregates the transaction log per customer; what comes back is the peeks, the small
lookup tables, the customers table and one aggregated row per customer (and, for a log's dates
held as text, each customer's distinct dates, read here as pandas reads them). It finds what the
pandas executor finds, and ends in the same last step (features.executing.combined)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from segscope.core.errors import DataError, OverLimit
from segscope.core.features.dates import parse_dates
from segscope.core.features.executing import (
    LOOKUP_LIMIT,
    VALUES_WANTED,
    check_unique,
    combined,
    distinct_values,
    lookup_tables,
    reference_date,
)
from segscope.core.features.frame import CustomerFrame
from segscope.core.features.measures import Kind, Measure
from segscope.core.features.pandas_executor import with_dates
from segscope.core.features.plan import FeaturePlan, LookupJoin, make_plan
from segscope.core.features.tables import PEEK_ROWS, pick_tables
from segscope.core.settings import DataChoices
from segscope.core.sources.database import QUERY_TABLE, Database, ident, literal

VALUES_SCAN = 100_000  # leading rows of the log looked at first for a column's distinct values
# rules under which the extremes of the values are the extremes of the dates
ORDERED_RULES = ("datetime", "yyyymmdd", "epoch_s", "epoch_ms", "year")


def database_frame(
    db: Database, choices: DataChoices
) -> tuple[CustomerFrame, dict[str, dict[str, str]]]:
    """The customer frame the plan builds, and the columns of each table that cannot be used.
    With a query among the choices, its result is the customers table (unless one is named)."""
    if choices.query is not None:
        db.add_query(choices.query)
        if choices.customers is None:
            choices = replace(choices, customers=QUERY_TABLE)
    peeks: dict[str, pd.DataFrame] = {}
    left_out: dict[str, dict[str, str]] = {}
    chosen_names = {choices.customers, choices.transactions}
    for name in db.tables:
        try:
            peeks[name], columns_left_out = db.peek(name, PEEK_ROWS)
        except OverLimit:
            raise  # a table over a limit is refused, as a workbook's sheet is
        except DataError:
            if name in chosen_names:
                raise
            continue  # a table this user may not read plays no part unless it is asked for
        if columns_left_out:
            left_out[name] = columns_left_out
    chosen = pick_tables(peeks, choices, noun="table")
    lookups = lookup_tables(
        peeks,
        (chosen.customers, chosen.transactions),
        db.count,
        lambda n: db.peek(n, LOOKUP_LIMIT)[0],
    )
    log = chosen.transactions

    def from_log(column: str) -> pd.Series:
        # First the leading rows: more values than a status has there settles it, without the
        # database reading a large table through; only a column with few values there is read
        # whole (cheap: few groups).
        assert log is not None
        rows = f"{db.tables[log].sql} AS t WHERE {ident(column)} IS NOT NULL"
        text = f"CAST({ident(column)} AS VARCHAR)"
        lead = f"SELECT DISTINCT v FROM (SELECT {text} AS v FROM {rows} LIMIT {VALUES_SCAN}) AS s"
        found = db.frame(f"{lead} LIMIT {VALUES_WANTED}", log)["v"]
        if len(found) < VALUES_WANTED:
            found = db.frame(f"SELECT DISTINCT {text} AS v FROM {rows} LIMIT {VALUES_WANTED}", log)
            return found["v"]
        return found

    def values(column: str) -> list[str]:
        columns = peeks[log].columns if log is not None else []
        return distinct_values(column, columns, lookups, from_log)

    plan = make_plan(peeks, choices, lookups=lookups, values=values, noun="table")
    frame = execute(db, plan, lookups)
    if db.left_out:  # tables never read (segscope's own labels), said with the decisions
        frame.findings = replace(frame.findings, tables_left_out=dict(db.left_out))
    return frame, left_out


def execute(db: Database, plan: FeaturePlan, lookups: dict[str, pd.DataFrame]) -> CustomerFrame:
    """Carry `plan` out in the database."""
    key = plan.key
    base = None
    unmatched: dict[str, int] = {}
    if plan.customers is not None:
        sql = _joined(db, plan.customers, plan.customer_joins, "c")
        order = f" ORDER BY {ident(key)}" if key else ""  # rows in one order, run after run
        base = db.frame(f"SELECT * FROM ({sql}) AS customers_joined{order}", plan.customers)
        check_unique(base, key, plan.customers, "table")
        for j in plan.customer_joins:
            first = j.extra[0]
            found = int(base[first].isna().sum()) - int(lookups[j.lookup][first].isna().sum())
            unmatched[j.lookup] = found
        base = with_dates(base, plan.date_columns(plan.customers))
    log_rows = 0
    log_unmatched: dict[str, int] = {}
    behaviour = None
    dates: list[pd.Timestamp] = []
    log_sql = None
    if plan.transactions is not None and key is not None:
        log_sql = _joined(db, plan.transactions, plan.log_joins, "t")
        log_rows, log_unmatched, dates = _log_survey(db, plan, log_sql, lookups)
    ref = reference_date([base] if base is not None else [], dates)
    if log_sql is not None:
        behaviour = _aggregate(db, plan, log_sql, ref)
    return combined(base, behaviour, plan, ref, log_rows, unmatched, log_unmatched)


def _joined(db: Database, table: str, joins: Sequence[LookupJoin], alias: str) -> str:
    """SELECT of `table` with the planned lookups left-joined (each on its code column, found
    in the table or in a lookup joined before it)."""
    holder = {c: alias for c in _columns(db, table)}
    selects = [f"{alias}.*"]
    froms = f"{db.tables[table].sql} AS {alias}"
    for i, j in enumerate(joins):
        a = f"j{i}"
        froms += (
            f" LEFT JOIN {db.tables[j.lookup].sql} AS {a} "
            f"ON {holder[j.code]}.{ident(j.code)} = {a}.{ident(j.code)}"
        )
        selects += [f"{a}.{ident(c)}" for c in j.extra]
        holder.update({c: a for c in j.extra})
    return f"SELECT {', '.join(selects)} FROM {froms}"


def _columns(db: Database, table: str) -> list[str]:
    return list(db.frame(f"SELECT * FROM {db.tables[table].sql} AS t LIMIT 0", table).columns)


def _log_survey(
    db: Database, plan: FeaturePlan, log_sql: str, lookups: dict[str, pd.DataFrame]
) -> tuple[int, dict[str, int], list[pd.Timestamp]]:
    """In one pass over the log: its rows with a key, the codes each log lookup did not find,
    and the latest date of each date column (as pandas reads it; a date held as text is read
    from its distinct values, in a query of its own)."""
    keyed = ident(plan.key or "")
    parts = [f"COUNT(*) FILTER (WHERE {keyed} IS NOT NULL) AS rows"]
    parts += [
        f"SUM(CASE WHEN {ident(j.extra[0])} IS NULL THEN 1 ELSE 0 END) AS {ident(f'miss{i}')}"
        for i, j in enumerate(plan.log_joins)
    ]
    dates = plan.date_columns(plan.transactions or "")
    ordered = [c for c, rule in dates.items() if rule in ORDERED_RULES]
    parts += [
        f"MAX(CASE WHEN {keyed} IS NOT NULL THEN {ident(c)} END) AS {ident(f'max{i}')}"
        for i, c in enumerate(ordered)
    ]
    row = db.frame(f"SELECT {', '.join(parts)} FROM ({log_sql}) AS log", plan.transactions or "")
    missing = {
        j.lookup: int(row[f"miss{i}"].iloc[0] or 0)
        - int(lookups[j.lookup][j.extra[0]].isna().sum())
        for i, j in enumerate(plan.log_joins)
    }
    latest = [parse_dates(row[f"max{i}"], dates[c]).max() for i, c in enumerate(ordered)]
    for column, rule in dates.items():
        if column not in ordered:
            c = ident(column)
            sql = f"SELECT DISTINCT {c} AS v FROM ({log_sql}) AS log WHERE {keyed} IS NOT NULL "
            found = db.frame(sql + f"AND {c} IS NOT NULL", plan.transactions or "")["v"]
            latest.append(parse_dates(found, rule).max())
    return int(row["rows"].iloc[0]), missing, [pd.Timestamp(d) for d in latest if pd.notna(d)]


def _float(dialect: str) -> str:
    return "DOUBLE PRECISION" if dialect == "postgres" else "DOUBLE"


def _number(column: str, dialect: str) -> str:
    """A log column as a finite number (infinities and NaN are missing, as pandas reads them)."""
    x = f"CAST({ident(column)} AS {_float(dialect)})"
    return f"NULLIF(NULLIF(NULLIF({x}, 'Infinity'), '-Infinity'), 'NaN')"


def _double(aggregate: str, value: str, db: Database) -> str:
    """An aggregate as a double (PostgreSQL's AVG of numbers is an exact numeric)."""
    return f"CAST({aggregate}({value}) AS {_float(db.dialect)})"


def _expression(m: Measure, db: Database) -> str | None:
    """The SQL aggregate of one measure (None: a date, read in pandas from what comes back)."""
    col = ident(m.column or "")
    hit = f"CAST({col} AS VARCHAR) = {literal(m.value or '')}"
    if m.kind is Kind.ROWS:
        return "COUNT(*)"
    if m.kind is Kind.COUNT_OF:
        return f"CAST(SUM(CASE WHEN {hit} THEN 1 ELSE 0 END) AS BIGINT)"
    if m.kind is Kind.SHARE_OF:
        return _double("AVG", f"CASE WHEN {hit} THEN 1.0 ELSE 0.0 END", db)
    if m.kind is Kind.SHARE:
        return _double("AVG", f"CASE WHEN {col} THEN 1.0 WHEN NOT {col} THEN 0.0 END", db)
    if m.kind is Kind.DISTINCT:
        return f"CAST(COUNT(DISTINCT {col}) AS BIGINT)"
    if m.kind is Kind.ATTRIBUTE:
        return f"MIN({col})"
    if m.kind in (Kind.SUM, Kind.MEAN):
        number = _number(m.column or "", db.dialect)
        return _double("SUM" if m.kind is Kind.SUM else "AVG", number, db)
    return None


def _aggregate(
    db: Database, plan: FeaturePlan, log_sql: str, ref: pd.Timestamp | None
) -> pd.DataFrame:
    """Behaviour per customer (indexed by key), the plan's measures computed by the database;
    days back to a date are counted here from the extreme the database found (a date held as
    text: from each customer's distinct dates, read as pandas reads them)."""
    key = plan.key or ""
    log = plan.transactions or ""
    rules = plan.date_columns(log)
    # Each measure comes back under an alias of its own (m0, m1, ...), named in pandas: a
    # database cuts a long name (PostgreSQL keeps 63 bytes), so a measure's name is never SQL.
    parts = [f"{ident(key)} AS {ident(key)}"]
    aliases: dict[str, str] = {}
    dated: list[Measure] = []
    for i, m in enumerate(plan.measures):
        alias = f"m{i}"
        if m.kind.dated:
            if ref is None:
                continue
            if rules.get(m.column or "") in ORDERED_RULES:
                extreme = "MAX" if m.kind is Kind.LATEST else "MIN"
                parts.append(f"{extreme}({ident(m.column or '')}) AS {ident(alias)}")
                aliases[alias] = m.name
            dated.append(m)
        else:
            parts.append(f"{_expression(m, db)} AS {ident(alias)}")
            aliases[alias] = m.name
    sql = (
        f"SELECT {', '.join(parts)} FROM ({log_sql}) AS log WHERE {ident(key)} IS NOT NULL "
        f"GROUP BY {ident(key)} ORDER BY {ident(key)}"
    )
    out = db.frame(sql, log).set_index(key).rename(columns=aliases)
    for m in dated:
        column = m.column or ""
        rule = rules.get(column, "text")
        if rule in ORDERED_RULES:
            when = parse_dates(out[m.name], rule)
        else:
            pairs = db.frame(
                f"SELECT {ident(key)} AS k, {ident(column)} AS v FROM ({log_sql}) AS log "
                f"WHERE {ident(key)} IS NOT NULL AND {ident(column)} IS NOT NULL "
                f"GROUP BY {ident(key)}, {ident(column)}",
                log,
            )
            parsed = parse_dates(pairs["v"], rule).groupby(pairs["k"])
            extreme = parsed.max() if m.kind is Kind.LATEST else parsed.min()
            when = extreme.reindex(out.index)
        assert ref is not None
        out[m.name] = (ref - pd.to_datetime(when)).dt.days.astype(float)
    ordered = [m.name for m in plan.measures if m.name in out.columns]
    return out[ordered]
