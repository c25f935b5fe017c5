"""segments.xlsx: the result as a workbook for a marketing colleague (written by XlsxWriter).

Sheets: Segments (the table and the words), Profiles (every figure, the segments.csv table),
Sweep (the table, and the elbow and silhouette as native Excel charts), Which k (each index's
preferred k and the votes per k), Relevance (how much each feature separates the segments),
Warnings (with the sampling notes and what the words rest on) and How it was built. Every sheet
has a frozen header, column widths that fit, and percentages formatted as percentages. Text from
the data is written as text (never a formula), control characters made visible."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import pandas as pd

from segscope.core.describing.views import (
    View,
    relevance_view,
    segments_view,
    sweep_view,
    tally,
    vote_view,
)
from segscope.core.describing.words import what_can_be_said
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
        ("what the words rest on", what_can_be_said(prep.frame.meanings)),
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


def _sheet(
    book: Any,
    formats: dict[str, Any],
    name: str,
    frame: pd.DataFrame,
    percent: set[str] | None = None,
) -> None:
    """One table: a bold frozen header, widths that fit, shares as percentages."""
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
