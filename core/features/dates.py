"""Recognising dates however a file holds them, judged on the values (and, where the values
alone are ambiguous, on the name too).

Rules: 'datetime' (already dates), 'text' (2024-01-31, 31/01/2024, 2024-01-31 10:00, ...),
'month' (Jan-2015, January 2015, 2015-01), 'yyyymmdd' (whole numbers such as 19970101),
'epoch_s' and 'epoch_ms' (seconds or milliseconds since 1970, only in a column named like a
time: timestamp, time, date, *_at, epoch)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

SAMPLE = 500  # values looked at to decide
TEXT_DATE = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?")
MONTH_TEXT = re.compile(r"^\s*([A-Za-z]{3,9}[-/ ]\d{2}(\d{2})?|\d{4}-\d{2})\s*$")
YEAR_NAME = re.compile(r"year|^yr$|_yr$", re.IGNORECASE)
TIME_NAME = re.compile(r"time|date|day|_at$|_on$|epoch|when|^ts$|_ts$", re.IGNORECASE)
EPOCH_RANGE = {"epoch_s": (3.2e8, 4.2e9), "epoch_ms": (3.2e11, 4.2e12)}  # 1980 .. 2100
RULE_WORDS = {
    "datetime": "dates",
    "text": "dates",
    "month": "months written as text, like Jan-2015",
    "yyyymmdd": "dates written as whole numbers, like 19970101",
    "epoch_s": "times in seconds since 1970",
    "epoch_ms": "times in milliseconds since 1970",
    "year": "years (each row's year, counted from its start)",
}


def date_rule(name: str, s: pd.Series, in_log: bool = False) -> str | None:
    """How column `name` holds dates, or None when it does not. With `in_log` (a log that
    holds no other date), whole numbers named like a year (1800-2100) are the year each row
    happened: the log's time; elsewhere they stay numbers (a year of birth, a year built)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    if pd.api.types.is_bool_dtype(s):
        return None
    if pd.api.types.is_numeric_dtype(s):  # in numpy: a wide table has thousands of these
        numbers = s.to_numpy(dtype="float64", na_value=np.nan)
        numbers = numbers[~np.isnan(numbers)]
        if not len(numbers):
            return None
        x = numbers[:: max(1, len(numbers) // SAMPLE)][:SAMPLE]
        return _number_rule(name, x) or (_year_rule(name, x) if in_log else None)
    values = s.dropna()
    if values.empty:
        return None
    sample = values.iloc[:: max(1, len(values) // SAMPLE)].head(SAMPLE)
    if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
        return _text_rule(sample)
    return None


def _within(x: np.ndarray, low: float, high: float) -> bool:
    return bool(((x >= low) & (x <= high)).all())


def _varies(x: np.ndarray) -> bool:
    return bool((x != x[0]).any())


def _number_rule(name: str, x: np.ndarray) -> str | None:
    """yyyymmdd or epoch times, on a sample of a column's numbers (float64, none missing)."""
    if not np.isfinite(x).all():
        return None
    whole = bool((x % 1 == 0).all())
    if whole and _within(x, 19_000_101, 21_001_231) and _varies(x):
        text = pd.Series(x.astype("int64")).astype(str)
        if pd.to_datetime(text, format="%Y%m%d", errors="coerce").notna().all():
            return "yyyymmdd"
    if TIME_NAME.search(name):
        for rule, (lo, hi) in EPOCH_RANGE.items():
            if _within(x, lo, hi):
                return rule
    return None


def _year_rule(name: str, x: np.ndarray) -> str | None:
    """Years, on a sample of a column's numbers named like a year."""
    whole = bool(np.isfinite(x).all() and (x % 1 == 0).all())
    if whole and YEAR_NAME.search(name) and _within(x, 1800, 2100) and _varies(x):
        return "year"
    return None


def _text_rule(sample: pd.Series) -> str | None:
    text = sample.astype(str)
    if text.str.match(TEXT_DATE).all():
        parsed = _parse_text(text)
        return "text" if parsed.notna().mean() > 0.95 else None
    if text.str.match(MONTH_TEXT).all():
        return "month" if _parse_month(text).notna().mean() > 0.95 else None
    return None


def parse_dates(s: pd.Series, rule: str) -> pd.Series:
    """`s` as datetimes, read by `rule` (values that do not parse become missing)."""
    if rule == "datetime":
        return s
    if rule == "text":
        return _parse_text(s)
    if rule == "month":
        return _parse_month(s)
    if rule == "year":
        whole = pd.to_numeric(s, errors="coerce").astype("Int64").astype("string")
        return pd.to_datetime(whole, format="%Y", errors="coerce")
    if rule == "yyyymmdd":
        whole = pd.to_numeric(s, errors="coerce").astype("Int64").astype("string")
        return pd.to_datetime(whole, format="%Y%m%d", errors="coerce")
    unit = "s" if rule == "epoch_s" else "ms"
    return pd.to_datetime(pd.to_numeric(s, errors="coerce"), unit=unit, errors="coerce")


def _parse_text(s: pd.Series) -> pd.Series:
    """Dates written as text; dates with different UTC offsets (+02:00 beside -05:00) are the
    instants they name, in UTC, as a database's timestamps with a time zone are read."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format": mixed is meant
        try:
            return pd.to_datetime(s, errors="coerce", format="mixed")
        except (ValueError, TypeError):  # offsets that differ: one instant each, in UTC
            parsed = pd.to_datetime(s, errors="coerce", format="mixed", utc=True)
            return parsed.dt.tz_convert("UTC").dt.tz_localize(None)


def _parse_month(s: pd.Series) -> pd.Series:
    text = s.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    for fmt in ("%b-%Y", "%B-%Y", "%b %Y", "%B %Y", "%b/%Y", "%b-%y", "%Y-%m"):
        missing = out.isna()
        if not missing.any():
            break
        out[missing] = pd.to_datetime(text[missing], format=fmt, errors="coerce")
    return out


def date_rules(df: pd.DataFrame, skip: str | None = None, log: bool = False) -> dict[str, str]:
    """Every date column of `df` (but `skip`) and its rule; a log that holds no other date has
    its year columns as its time."""
    columns = [str(c) for c in df.columns if c != skip]
    out = {c: rule for c in columns if (rule := date_rule(c, df[c]))}
    if log and not out:
        out = {c: rule for c in columns if (rule := date_rule(c, df[c], in_log=True))}
    return out
