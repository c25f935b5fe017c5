"""Text from the data made safe to show, and numbers written one way everywhere.

Anything that came from a file, a path, a database or an option passes `visible()` before it
reaches a screen, a report or a message: control characters (which could retitle a terminal,
write its clipboard or blank it) become visible placeholders. Markup is the renderer's concern:
the CLI and the app render these strings as plain text, never as markup. Cells bound for a
spreadsheet also pass `spreadsheet_safe()` (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# C0 controls (but tab and newline), DEL, C1 controls, the bidirectional overrides that can make
# text read differently from what it is, and lone surrogates (a file name's bytes that are not
# UTF-8, as Python holds them), which no text output can encode.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _placeholder(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode control pictures: ESC becomes ␛
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def visible(value: object) -> str:
    """`value` as text with every control character replaced by a visible placeholder."""
    return _CONTROL.sub(_placeholder, str(value))


def one_line(value: object, width: int = 0) -> str:
    """visible(), with newlines and tabs as spaces, cut to `width` characters (0: no cut)."""
    text = visible(value).replace("\n", " ").replace("\t", " ")
    return shorten(text, width) if width else text


_MARKDOWN_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MARKDOWN_INLINE = re.compile(r"([\\`*_~|])")  # emphasis, code, strikethrough, table cells
_MARKDOWN_LINK = re.compile(r"\](?=[(\[])")  # a link or image: [text](url), [text][ref]
_MARKDOWN_LINE_START = re.compile(r"^([-+=#\[]|\d+(?=[.)]))")  # a list, rule, heading or a
# link's definition ([ref]: url) opens at the start of a line


def markdown_text(value: object) -> str:
    """Text from the data for Markdown (report.md): one_line(), then everything Markdown or the
    HTML it renders to would read as markup made inert, so that it shows as written and makes
    nothing: &, < and > as HTML entities (no tag, comment or autolink); emphasis, code,
    strikethrough and table pipes behind a backslash; a link or image cut between its ] and its
    ( or [; and at the start, what would open a list, a rule, a heading or a link's definition.
    The one function for every piece of text in Markdown."""
    text = one_line(value).strip()
    text = "".join(_MARKDOWN_HTML.get(c, c) for c in text)
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    text = _MARKDOWN_LINK.sub("]\\\\", text)
    return _MARKDOWN_LINE_START.sub(
        lambda m: m.group(1) + "\\" if m.group(1)[0].isdigit() else "\\" + m.group(1), text
    )


def shorten(text: str, width: int) -> str:
    """`text` cut to `width` characters, ending in … when cut."""
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def quoted(name: object, width: int = 60) -> str:
    """A name from the data for a sentence: visible, on one line, short, in quotes."""
    return f"'{one_line(name, width)}'"


def names(items: Iterable[object], shown: int = 4, width: int = 40) -> str:
    """A few names, quoted, and how many more: a message stays short whatever the table."""
    items = list(items)
    text = ", ".join(quoted(n, width) for n in items[:shown])
    return text + (f" and {len(items) - shown:,} more" if len(items) > shown else "")


def number(x: Any) -> str:
    """A number as segscope writes it everywhere: thousands separated, digits by size.

    Whole numbers as whole numbers (1,234; 2); otherwise 3 decimals under 1, 2 under 10, 1 under
    1,000 and none above; NaN and None as an en dash.
    """
    if x is None or isinstance(x, str):
        return "–" if x is None else x
    if isinstance(x, bool) or getattr(getattr(x, "dtype", None), "kind", "") == "b":
        return "yes" if x else "no"
    value = float(x)
    if not math.isfinite(value):
        return "–"
    if isinstance(x, numbers.Integral) or value.is_integer():
        return f"{value:,.0f}"
    size = abs(value)
    digits = 3 if size < 1 else 2 if size < 10 else 1 if size < 1000 else 0
    return f"{value:,.{digits}f}"


def percent(x: float, digits: int = 1) -> str:
    """A share (0..1) as a percentage."""
    return "–" if not math.isfinite(x) else f"{x:.{digits}%}"


def fixed(x: float, digits: int) -> str:
    """A score with a fixed number of decimals (NaN as an en dash)."""
    return "–" if not math.isfinite(x) else f"{x:.{digits}f}"


def silhouette(x: float) -> str:
    """A silhouette, as it is written everywhere: 3 decimals."""
    return fixed(x, 3)


def gap(x: float) -> str:
    """A gap statistic or its standard error s_k, as written everywhere: 3 decimals."""
    return fixed(x, 3)


def agreement(x: float) -> str:
    """An agreement (stability: adjusted Rand, Jaccard) or a relevance, as written everywhere:
    2 decimals."""
    return fixed(x, 2)


def below(x: float, limit: float, digits: int = 2) -> str:
    """`x`, which is under `limit`, with as many decimals as it takes not to read as `limit`
    (0.7996 under 0.8 is 0.7996, not 0.80)."""
    while digits < 6 and round(x, digits) >= limit:
        digits += 1
    return fixed(x, digits)


def signed(x: float) -> str:
    """A difference with its sign (+0.42, -1.30)."""
    return "–" if not math.isfinite(x) else f"{x:+.2f}"


def spreadsheet_cell(value: object) -> object:
    """A cell for a CSV a spreadsheet will open: text is made visible and, when it starts like a
    formula, prefixed with an apostrophe; numbers (negative ones too) stay numbers."""
    if not isinstance(value, str):
        return value
    text = visible(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def from_spreadsheet(text: str) -> str:
    """A text cell of a CSV segscope wrote, as it was before spreadsheet_cell() (the apostrophe
    put before a formula's first character taken off): a key written '=1 reads back as =1."""
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells and column names are safe to open in a spreadsheet."""
    import pandas as pd
    from pandas.api.types import is_string_dtype

    out = frame.copy(deep=False)  # a column changed below is copied then (copy on write)
    out.columns = [spreadsheet_cell(str(c)) for c in frame.columns]
    for i, column in enumerate(frame.columns):
        s = frame[column]
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or is_string_dtype(s):
            out.isetitem(i, _safe_cells(s))  # the column replaced, not written into
    return out


def _safe_cells(s: pd.Series) -> pd.Series:
    """spreadsheet_cell of every cell; a column of text is made safe once per distinct value
    (a segment name or a city on millions of rows is a handful of texts) and kept as codes into
    those values (categorical), a column of anything else cell by cell, as object values."""
    import numpy as np
    import pandas as pd

    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, distinct = s.cat.codes.to_numpy(), s.cat.categories.to_numpy(dtype=object)
    elif pd.api.types.infer_dtype(s, skipna=True) == "string":
        codes, distinct = pd.factorize(s)
    else:  # numbers or mixed: cell by cell
        return s.map(spreadsheet_cell).astype(object)
    safe = [spreadsheet_cell(v) if isinstance(v, str) else v for v in distinct]
    if len(set(safe)) == len(safe):  # a gap stays a gap (both CSV writers leave it empty)
        return pd.Series(pd.Categorical.from_codes(codes, categories=safe), index=s.index)
    values = np.array([*safe, None], dtype=object)[codes]  # two made one: as text; -1: the last
    missing = codes < 0
    if missing.any():
        values[missing] = s.to_numpy(dtype=object)[missing]  # as they were
    return pd.Series(values, index=s.index, dtype=object)


def unique_names(columns: list[object]) -> list[str]:
    """Column names trimmed, made unique as pandas does for repeated ones (age, age.1)."""
    out: list[str] = []
    seen: set[str] = set()
    for c in columns:
        name = str(c).strip() or "unnamed"
        base, n = name, 0
        while name in seen:
            n += 1
            name = f"{base}.{n}"
        seen.add(name)
        out.append(name)
    return out


def plural(noun: str) -> str:
    """English plural of a simple noun (branch -> branches, city -> cities); a word already in
    the plural (genres, sales) stays as it is."""
    if re.search(r"[^s]s$", noun):
        return noun
    if re.search(r"(s|sh|ch|x|z)$", noun):
        return noun + "es"
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    return noun + "s"
