"""segments.xlsx: the result as a workbook for a marketing colleague (written by XlsxWriter).

Sheets: Segments (the table and the words), Rules (a short rule per segment, its precision and
recall), RFM (each segment's mix of RFM cells, the bounds used, the named cells), Moved (who
moved since an earlier run's labels, when given), Profiles (every figure, the segments.csv
table), Sweep (the table, and the elbow, silhouette and gap as native Excel charts), Which k
(each index's preferred k and the votes per k), Relevance (how much each feature separates the
segments), Warnings (with the sampling notes and what the words rest on) and How it was built.
Every sheet has a frozen header, column widths that fit, and percentages formatted as
percentages. Text from the data is written as text (never a formula), control characters made
visible."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import pandas as pd

from segscope.core.describing.views import (
    View,
    relevance_view,
    rfm_bounds_view,
    rfm_mix_view,
    rfm_table_view,
    rules_view,
    segments_view,
    sweep_view,
    tally,
    vote_view,
)
from segscope.core.engines.results import Segmentation
from segscope.core.files import write_bytes_atomic
from segscope.core.text import visible

WIDEST = 60  # characters a column may take before its text wraps


def write_workbook(seg: Segmentation, path: Path, profiles: pd.DataFrame) -> None:
    """Write segments.xlsx for `seg` (`profiles`: the segments.csv table) atomically."""
    import xlsxwriter

    buffer = io.BytesIO()
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(buffer, options)
    formats = _formats(book)
    prep = seg.prepared
    _sheet(book, formats, "Segments", _segment_rows(seg))
    if seg.rules is not None:
        rules = rules_view(seg.profiles).frame()
        rules[rules.columns[1]] = [
            p.rule.words() if p.rule.good else p.rule.sentence() for p in seg.profiles if p.rule
        ]
        _sheet(book, formats, "Rules", rules, percent={"precision", "recall"},
               notes=[seg.rules.summary_line(), *seg.rules.notes])  # fmt: skip
    if seg.rfm is not None:
        mix = rfm_mix_view(seg.profiles).frame()
        _sheet(book, formats, "RFM", mix, percent=set(map(str, mix.columns[1:])),
               notes=[seg.rfm.what(), *seg.rfm.notes],
               below=[rfm_bounds_view(seg.rfm).frame(),
                      rfm_table_view(seg.rfm.measures).frame()])  # fmt: skip
    if seg.movement is not None:
        _sheet(book, formats, "Moved", _moved(seg), notes=[*seg.movement.lines(),
               *(f"warning: {w}" for w in seg.movement.warnings)])  # fmt: skip
    _sheet(book, formats, "Profiles", profiles, percent={"share"})
    sweep = sweep_view(seg.results, prep.rows, seg.choice.k, seg.setup.one)
    table = sweep.frame().drop(columns="sizes")
    _sheet(book, formats, "Sweep", table)
    _charts(book, table, first=1 + ("1" in sweep.keys))  # k = 1 has no inertia to draw
    _sheet(book, formats, "Which k", _vote_rows(seg))
    _sheet(book, formats, "Relevance", relevance_view(seg.relevance).frame())
    notes = [
        *([("no clear segments", seg.choice.headline)] if seg.choice.headline else []),
        *(("warning", w) for w in seg.warnings),
        *(("note", n) for n in seg.setup.notes()),
        ("what the words rest on", prep.words_rest_on()),
        ("chosen k", f"{seg.choice.k}: {seg.choice.reason}"),
    ]
    _sheet(book, formats, "Warnings", pd.DataFrame(notes, columns=["kind", "what"]))
    built = pd.DataFrame({"step": prep.frame.decisions})
    _sheet(book, formats, "How it was built", built)
    book.close()
    write_bytes_atomic(path, buffer.getvalue())


def _formats(book: Any) -> dict[str, Any]:
    return {
        "header": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
        "percent": book.add_format({"num_format": "0.0%"}),
        "number": book.add_format({"num_format": "#,##0.###"}),
        "text": book.add_format({"text_wrap": True, "valign": "top"}),
    }


def _vote_rows(seg: Segmentation) -> pd.DataFrame:
    """Each index's preferred k with its figure (a number), then the votes per k."""
    votes = seg.choice.votes
    frame = vote_view(votes).frame()
    frame["figure"] = [v.value for v in votes]
    counts = tally(votes)
    below = pd.DataFrame(
        [{"index": f"votes for k={k}", "k": k, "figure": n} for k, n in counts.items()]
    )
    return pd.concat([frame, below], ignore_index=True) if counts else frame


def _segment_rows(seg: Segmentation) -> pd.DataFrame:
    view: View = segments_view(seg.profiles)
    frame = view.frame()
    frame["description"] = [p.description for p in seg.profiles]
    return frame


def _moved(seg: Segmentation) -> pd.DataFrame:
    """The movement table: customers and shares of each earlier segment now in each segment."""
    m = seg.movement
    assert m is not None
    shares = m.shares()
    rows: list[tuple[object, object, int, float | None]] = []
    for b in m.table.index:
        for a in m.table.columns:
            rows.append((int(b), int(a), int(m.table.at[b, a]), float(shares.at[b, a])))
        rows.append((int(b), "gone", int(m.gone.get(b, 0)), None))
    rows += [("new", int(a), int(m.new.get(a, 0)), None) for a in m.table.columns]
    columns = ["earlier segment", "segment now", "customers", "share of the earlier segment"]
    return pd.DataFrame(rows, columns=columns)


def _sheet(
    book: Any,
    formats: dict[str, Any],
    name: str,
    frame: pd.DataFrame,
    percent: set[str] | None = None,
    notes: list[str] | None = None,
    below: list[pd.DataFrame] | None = None,
) -> None:
    """One table: a bold frozen header, widths that fit, shares as percentages; `notes` in
    lines under it, then the `below` tables (each with its header)."""
    sheet = book.add_worksheet(name)
    percent = (percent or set()) | {c for c in frame.columns if str(c) in ("share",)}
    sheet.freeze_panes(1, 0)
    for col, header in enumerate(frame.columns):
        sheet.write_string(0, col, visible(str(header)), formats["header"])
        values = frame.iloc[:, col]
        widest = max([len(str(header)), *(len(str(v)) for v in values.head(200))], default=8)
        kind = "percent" if header in percent else _kind(values)
        sheet.set_column(col, col, min(WIDEST, widest + 2), formats[kind])
        for row, value in enumerate(values, start=1):
            _cell(sheet, row, col, value, formats[kind])
    row = len(frame) + 2
    for note in notes or []:
        sheet.write_string(row, 0, visible(note))
        row += 1
    for table in below or []:
        row += 1
        for col, header in enumerate(table.columns):
            sheet.write_string(row, col, visible(str(header)), formats["header"])
        for values in table.itertuples(index=False):
            row += 1
            for col, value in enumerate(values):
                _cell(sheet, row, col, value, None)
        row += 1


def _kind(values: pd.Series) -> str:
    return "number" if pd.api.types.is_numeric_dtype(values) else "text"


def _cell(sheet: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, float(value), fmt)
    else:
        sheet.write_string(row, col, visible(str(value)), fmt)


def _charts(book: Any, table: pd.DataFrame, first: int) -> None:
    """The elbow and the silhouette (rows `first`.. of the Sweep sheet) and the gap statistic
    with its standard errors (every row) as native line charts beside the table."""
    sheet = book.get_worksheet_by_name("Sweep")
    rows, beside = len(table), len(table.columns) + 1
    charts: list[tuple[str, int, int, dict[str, Any]]] = [
        ("Elbow: inertia vs k", 1, first, {}),
        ("Silhouette vs k", 2, first, {}),
    ]
    if "gap" in table.columns:
        s = [float(v) if math.isfinite(v) else 0.0 for v in table["± s"]]
        bars = {"type": "custom", "plus_values": s, "minus_values": s}
        gap = int(table.columns.get_loc("gap"))
        charts.append(("Gap statistic vs k (± s)", gap, 1, bars))
    for i, (title, column, start, errors) in enumerate(charts):
        chart = book.add_chart({"type": "line"})
        series = {
            "name": title,
            "categories": ["Sweep", start, 0, rows, 0],
            "values": ["Sweep", start, column, rows, column],
            "marker": {"type": "circle"},
        }
        if errors:
            series["y_error_bars"] = errors
        chart.add_series(series)
        chart.set_title({"name": title})
        chart.set_x_axis({"name": "k"})
        chart.set_legend({"none": True})
        sheet.insert_chart(1 + 18 * i, beside, chart)
