"""The decision lines: what was done to get one row per customer, in sentences, from the plan
and what carrying it out found (every executor's sentences come from here)."""

from __future__ import annotations

from segscope.core.features.findings import Findings
from segscope.core.features.plan import FeaturePlan
from segscope.core.text import quoted


def decision_lines(plan: FeaturePlan, findings: Findings) -> list[str]:
    """What was done to get one row per customer, in sentences."""
    lines = []
    key = f"key {quoted(plan.key)}" if plan.key else "no key column (customers are numbered)"
    if plan.customers is not None:
        lines.append(
            f"customers: {findings.customer_rows:,} rows from {quoted(plan.customers)}, {key}"
        )
    elif plan.transactions is not None:
        lines.append(
            f"customers: {findings.customer_rows:,} built from the log {quoted(plan.transactions)}"
            f" per {quoted(plan.key)}"
        )
    if plan.key_why:
        lines.append(f"the key: {plan.key_why}")
    lines += like_key_lines(plan)
    for joins, into, gaps in (
        (plan.customer_joins, plan.customers, findings.unmatched),
        (plan.log_joins, plan.transactions, findings.log_unmatched),
    ):
        for j in joins:
            missing = gaps.get(j.lookup, 0)
            note = f" ({missing:,} codes not found)" if missing > 0 else ""
            lines.append(
                f"joined {quoted(j.lookup)} into {quoted(into)} on {j.code}: added "
                f"{', '.join(j.extra)}{note}"
            )
    if plan.transactions is not None and plan.measures:
        made = ", ".join(m.name for m in plan.measures)
        lines.append(
            f"aggregated {findings.log_rows:,} rows of {quoted(plan.transactions)} per "
            f"{plan.key} into: {made}"
        )
        lines += [
            f"log column {quoted(u.column)} gave {', '.join(u.built) or 'nothing'}: {u.why}"
            for u in plan.log_columns
        ]
    if findings.without_transactions:
        how = f"taken from {plan.join_date}" if plan.join_date else "left empty (imputed)"
        lines.append(
            f"{findings.without_transactions:,} customers have no transactions: counts set to 0, "
            f"days since last/first transaction {how}"
        )
    if findings.orphans:
        lines.append(
            f"{findings.orphans:,} customer keys in the log are not in the customers table"
        )
    lines += [
        f"left out table {quoted(table)}: {why}" for table, why in findings.tables_left_out.items()
    ]
    if findings.reference_date is not None:
        lines.append(
            f"dates are measured in days before {findings.reference_date.date()}, the latest "
            "date in the data"
        )
    return lines


def like_key_lines(plan: FeaturePlan) -> list[str]:
    """What to say of columns that repeat like a log's key in a table read as customers."""
    return [
        f"{quoted(c)} repeats like a key (many values, each on several rows at different "
        f"times): if each row is an event of one {c}, choose {quoted(c)} as the key (--key "
        f"{c}, or k on the Data screen) to segment {c} rather than rows"
        for c in plan.like_keys
    ]
