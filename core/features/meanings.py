"""What the customer table's columns mean: a title in words for each, and which of them holds a
behaviour the words rest on (recency, frequency, spend, coupon redemption, tenure)."""

from __future__ import annotations

from segscope.core.features.measures import Kind
from segscope.core.features.names import (
    AMOUNT_PATTERN,
    JOIN_PATTERN,
    MEANING_NAMES,
)
from segscope.core.features.plan import FeaturePlan


def column_meanings(
    plan: FeaturePlan, columns: list[str], numeric: list[str], dates: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Human titles of the customer table's columns, and their behaviour meanings
    (recency, frequency, monetary, burn_rate, tenure -> column)."""
    titles = {m.name: m.title for m in plan.measures}
    meanings: dict[str, str] = {}
    for m in plan.measures:
        if m.kind is Kind.ROWS:
            meanings["frequency"] = m.name
        elif m.kind is Kind.LATEST:
            meanings["recency"] = m.name
        elif m.kind is Kind.SHARE_OF:
            meanings.setdefault("burn_rate", m.name)
        elif m.kind is Kind.SUM and m.column and AMOUNT_PATTERN.search(m.column):
            meanings.setdefault("monetary", m.name)
    for col in dates:
        titles.setdefault(col, f"days since {col.replace('_', ' ')}")
        if JOIN_PATTERN.search(col):
            meanings.setdefault("tenure", col)
    first = next((m.name for m in plan.measures if m.kind is Kind.EARLIEST), None)
    if first is not None:  # without a join date, the first transaction says how long
        meanings.setdefault("tenure", first)
    for meaning, pattern in MEANING_NAMES.items():
        if meaning not in meanings:
            found = next((c for c in columns if pattern.search(c)), None)
            if found is not None and found != plan.key and found in numeric:
                meanings[meaning] = found
    return titles, meanings
