"""What the output folder says of each customer beyond the segment: features.csv (the features in
their own units, which rules.sql runs on, and the RFM scores and cell) and rules.sql (the rules
as one CASE expression a person can paste into a SELECT)."""

from __future__ import annotations

import pandas as pd

from segscope.core.describing.rfm import LETTERS
from segscope.core.describing.rules import own_unit_columns, sql_identifier
from segscope.core.engines.results import Labelled, Segmentation
from segscope.core.locations import display_name
from segscope.core.roles import Role
from segscope.core.text import one_line, percent

FEATURES_FILE = "features.csv"
RULES_FILE = "rules.sql"


def _free(name: str, taken: set[str]) -> str:
    """`name`, or `name_segscope` (then with a number) when the data already has a column so
    named."""
    out, n = name, 0
    while out in taken:
        n += 1
        out = f"{name}_segscope" + (f"{n}" if n > 1 else "")
    taken.add(out)
    return out


def _segment_column(seg: Segmentation) -> str:
    return str(customers_frame(seg.labelled(), head=True).columns[1])


def customers_frame(customers: Labelled, head: bool = False) -> pd.DataFrame:
    """features.csv: each customer's key (or row), segment, features in their own units (the
    columns rules.sql reads), and RFM scores and cell when the data has them."""
    prep = customers.prepared
    rows = 0 if head else None  # head: the columns only
    labels = customers.labels_frame(rows)
    typed, data = prep.typed.iloc[:rows], prep.frame.data.iloc[:rows]
    features = own_unit_columns(typed, data, prep.schema)
    taken = set(map(str, features)) | {str(labels.columns[0])}
    columns = {labels.columns[0]: labels.iloc[:, 0].to_numpy()}
    columns[_free("segment", taken)] = labels["segment"].to_numpy()
    # each column as held, not copied (a category: codes into its values, 10 MB for ten million)
    columns.update({column: values.array for column, values in features.items()})
    out = pd.DataFrame(columns, copy=False)  # at once, and not copied into blocks
    if (rfm := customers.rfm) is not None:
        for m in rfm.measures:
            scores = rfm.scores[m].iloc[: len(out)].reset_index(drop=True)  # Int8, <NA> kept
            out[_free(f"rfm_{LETTERS[m].lower()}", taken)] = scores
        out[_free("rfm_cell", taken)] = rfm.cell_names(len(out))
    return out


def column_lines(seg: Segmentation) -> list[str]:
    """What each feature column holds and in which unit (a comment line each)."""
    prep = seg.prepared
    ref = prep.frame.reference_date
    out = []
    for name in prep.schema.features:
        role = prep.schema[name].role
        title = prep.frame.title(name)
        if role is Role.DATETIME:
            since = f"as of {ref.date()}" if ref is not None else "before its latest date"
            unit = f"whole days, {since}"
        elif role is Role.CATEGORICAL:
            unit = "text"
        else:
            unit = "a number"
        out.append(f"{sql_identifier(name)}: {title} ({unit})")
    return out


def rules_sql(seg: Segmentation) -> str:
    """rules.sql: the rules as one CASE expression, with what it needs and how well it fits in
    comments (text from the data on one line, made visible)."""
    rules = seg.rules
    if rules is None:
        return "-- segscope: no rules were learnt for this run\nCAST(NULL AS INTEGER)\n"
    prep = seg.prepared
    key = str(seg.labels_frame(0).columns[0])
    where = one_line(display_name(prep.source) or "the data", 120)
    head = [
        f"segscope: a short rule per segment of {where} (k={seg.choice.k}, seed "
        f"{seg.setup.seed}), as one SQL CASE expression giving each customer's segment.",
        "Paste it into a SELECT over a table with these columns (features.csv beside this "
        "file holds them for each customer):",
        *(f"  {line}" for line in column_lines(seg)),
        "For example, in DuckDB:",
        f"  SELECT {sql_identifier(key)}, {sql_identifier(_segment_column(seg))}, "
        f"(<the CASE below>) AS rule_segment FROM read_csv('{FEATURES_FILE}');",
        f"The rules put {percent(rules.agreement)} of customers in the segment K-Means put them "
        f"in; {percent(rules.covered)} are picked by some rule, the rest get NULL. The first "
        "rule that picks a customer gives the segment (the most precise rule first).",
    ]
    for r in rules.rules:
        if not r.good:
            head.append(
                f"Segment {r.segment} is left out: no short rule describes it well (the best "
                f"found: precision {percent(r.precision)}, recall {percent(r.recall)})."
            )
    head += [f"Measured {note}." for note in rules.notes]
    if any(c.op in ("in", "not in") for r in rules.order for a in r.alternatives for c in a):
        head.append(
            "Text values are listed as in the data and as features.csv writes them (with an "
            "apostrophe before a leading = + - @)."
        )
    lines = [f"-- {one_line(line)}" for line in head]
    return "\n".join([*lines, rules.case_sql(), ""])
