"""Who moved between segments since an earlier run: the earlier run's labels matched to this
run's by the customer key.

The earlier labels are a file another person may have opened and saved: they are read within
segscope's input limits, in any of the encodings and delimiters a text table is read in, every
cell as text (a key "007" stays "007"), and the apostrophe segscope puts before a key that
starts like a formula is taken off again (a key written '=1 is the key =1). What is checked
before any work: a `segment` column of whole numbers from 1 to MAX_K, a key column (a file of
row numbers has none: its customers cannot be matched), no key twice, no key empty.

Segment numbers mean the same segments only when both runs were numbered alike: this run like
an earlier model (`--like MODEL`, or scoring with MODEL) and the earlier labels by the same
model. segscope records a model's fingerprint in every summary, so the labels of an output
folder say which model numbered them; when that cannot be confirmed, a warning says that the
numbers may not mean the same segments (the table then says where customers went, not whether
a segment changed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segscope.core.errors import DataError
from segscope.core.files import marked_files
from segscope.core.limits import MAX_K, limits
from segscope.core.locations import first_line
from segscope.core.sources.text_files import read_text
from segscope.core.text import from_spreadsheet, one_line, percent, quoted, visible

LABELS_FILE = "labels.csv"
RUN_SUMMARIES = ("summary.json", "score.json")  # what an output folder says about its labels
MAX_SUMMARY_BYTES = 10 * 1024**2
SEGMENT = "segment"
NO_KEY = "row"  # the first column of labels written without a customer key
SHOWN_MOVES = 3  # the largest movements said in words


@dataclass(frozen=True)
class EarlierLabels:
    """An earlier run's labels: each customer's key (as text) and segment."""

    location: str  # where they were read from, as shown
    key: str  # the key column's name
    keys: pd.Index  # each customer's key, as text (see key_text)
    segments: np.ndarray  # each customer's segment, 1..k
    names: dict[int, str] = field(default_factory=dict)  # segment -> its action, from the run
    numbered_by: str | None = None  # the fingerprint of the model that numbered them
    run: str | None = None  # the summary beside the labels that said so


def key_text(keys: pd.Series) -> pd.Index:
    """Keys as the text labels.csv holds them (control characters made visible), so that a key
    read back from a file matches the key in the data: whole numbers without decimals."""
    if pd.api.types.is_integer_dtype(keys):
        text = keys.astype("int64").astype(str)
    elif pd.api.types.is_float_dtype(keys) and np.all(np.mod(keys.dropna(), 1) == 0):
        text = keys.map(lambda v: str(int(v)) if pd.notna(v) else "")
    else:
        text = keys.map(lambda v: "" if v is None or v is pd.NA else _whole(visible(str(v))))
    return pd.Index(text.to_numpy(dtype=object))


_WHOLE = re.compile(r"-?\d+\.0+")


def _whole(text: str) -> str:
    return text.split(".", 1)[0] if _WHOLE.fullmatch(text) else text


def read_earlier(path: Path) -> EarlierLabels:
    """An earlier run's labels (a labels.csv, its output folder, or Parquet labels written by
    Spark), checked; with the segment names and numbering its output folder records."""
    path = Path(path)
    if path.is_dir() and path.suffix.lower() != ".parquet":
        path = path / LABELS_FILE
    shown = one_line(path if path.name != LABELS_FILE else f"{path.parent.name}/{path.name}", 120)
    if not path.exists():
        raise DataError(f"{one_line(path, 200)}: no such labels file. Give an earlier run's "
                        f"{LABELS_FILE} or its output folder.")  # fmt: skip
    frame = _read_table(path, shown)
    columns = [from_spreadsheet(str(c)) for c in frame.columns]
    frame.columns = pd.Index(columns)
    if SEGMENT not in columns:
        raise DataError(
            f"{shown} has no {quoted(SEGMENT)} column, so it is not labels written by segscope "
            f"(columns: the customer key and {SEGMENT})."
        )
    key = next((c for c in columns if c != SEGMENT), None)
    if key is None or key == NO_KEY:
        raise DataError(
            f"{shown} has no customer key (only {'row numbers' if key else 'segments'}), so its "
            "customers cannot be matched with this run's. Segment both runs with a key column."
        )
    keys = frame[key].map(lambda v: _whole(from_spreadsheet(str(v).strip())))
    empty = np.flatnonzero((keys == "").to_numpy())
    if len(empty):
        raise DataError(f"{shown}: row {empty[0] + 2:,} has no {quoted(key, 40)}; "
                        f"{len(empty):,} row(s) lack a key.")  # fmt: skip
    repeated = keys[keys.duplicated()]
    if len(repeated):
        raise DataError(
            f"{shown}: the key {quoted(repeated.iloc[0], 40)} appears more than once "
            f"({len(repeated):,} repeated keys), so these are not one run's labels."
        )
    segments = _segments(frame[SEGMENT], shown)
    names, numbered_by, run = _run_summary(path)
    return EarlierLabels(
        shown, key, pd.Index(keys.to_numpy(dtype=object)), segments, names, numbered_by, run
    )


def _read_table(path: Path, shown: str) -> pd.DataFrame:
    lim = limits()
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException, ValueError) as exc:
            raise DataError(f"{shown} cannot be read as Parquet ({first_line(exc)}).") from exc
        if table.num_rows * max(table.num_columns, 1) > lim.cells.value:
            raise DataError(lim.cells.exceeded(shown, f"{table.num_rows:,} rows"))
        return table.to_pandas().astype(str)
    if not path.is_file():
        raise DataError(f"{shown} is not a file. Give an earlier run's {LABELS_FILE}.")
    if path.stat().st_size == 0:
        raise DataError(f"{shown} is empty (0 bytes).")
    return read_text(path, lim, as_text=True)


def _segments(values: pd.Series, shown: str) -> np.ndarray:
    text = values.astype(str).str.strip().map(from_spreadsheet)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(numbers) | (numbers != np.round(numbers)) | (numbers < 1)
    bad |= numbers > MAX_K
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{shown}: row {row + 2:,} has segment {quoted(text.iloc[row], 20)}, not a whole "
            f"number from 1 to {MAX_K}; {int(bad.sum()):,} row(s) are like it."
        )
    return numbers.astype(np.int64)


def _run_summary(labels: Path) -> tuple[dict[int, str], str | None, str | None]:
    """The segment names and numbering a segscope output folder records beside its labels."""
    folder = labels.parent
    ours = marked_files(folder) if labels.name == LABELS_FILE else None
    for name in RUN_SUMMARIES:
        file = folder / name
        if ours is None or name not in ours or not file.is_file() or file.is_symlink():
            continue
        try:
            if file.stat().st_size > MAX_SUMMARY_BYTES:
                continue
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            return _names(data), _fingerprint(data), name
    return {}, None, None


def _names(data: Mapping[str, Any]) -> dict[int, str]:
    out = {}
    for s in data.get("segments") or []:
        if not isinstance(s, dict):
            continue
        number, action = s.get("segment"), s.get("action_heuristic", s.get("action"))
        if type(number) is int and isinstance(action, str) and action:
            out[number] = action
    return out


def _fingerprint(data: Mapping[str, Any]) -> str | None:
    like = data.get("numbered_like")
    if isinstance(like, dict) and isinstance(like.get("fingerprint"), str):
        return str(like["fingerprint"])
    value = data.get("model_fingerprint")
    return value if isinstance(value, str) else None


# --- the movement -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """Customers of one earlier segment now in another."""

    before: int
    now: int
    customers: int
    share: float  # of the earlier segment's customers in both runs


@dataclass
class Movement:
    """Where the customers of an earlier run's segments are now."""

    earlier: str  # where the earlier labels were read from
    table: pd.DataFrame  # customers in both runs: earlier segment (rows) x new segment (columns)
    new: pd.Series  # new segment -> customers not in the earlier labels
    gone: pd.Series  # earlier segment -> customers not in this run
    names_before: dict[int, str] = field(default_factory=dict)
    names_now: dict[int, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return int(self.table.to_numpy().sum())

    @property
    def same(self) -> int:
        """Customers in both runs whose segment has the same number."""
        return int(sum(self.table.at[s, s] for s in self.table.index if s in self.table.columns))

    def shares(self) -> pd.DataFrame:
        """The table as shares of each earlier segment's customers in both runs."""
        totals = self.table.sum(axis=1).replace(0, np.nan)
        return self.table.div(totals, axis=0).fillna(0.0)

    def moves(self) -> list[Move]:
        """Customers who changed segment number, the largest movements first."""
        shares = self.shares()
        out = [
            Move(int(b), int(a), int(self.table.at[b, a]), float(shares.at[b, a]))
            for b in self.table.index
            for a in self.table.columns
            if a != b and self.table.at[b, a] > 0
        ]
        return sorted(out, key=lambda m: (-m.customers, m.before, m.now))

    def _name(self, segment: int, names: Mapping[int, str]) -> str:
        name = names.get(segment)
        return f"segment {segment}" + (f", {one_line(name, 40)}" if name else "")

    def lines(self, shown: int = SHOWN_MOVES) -> list[str]:
        """The movement in sentences: how many matched and stayed, new and gone, the largest
        movements with their figures and the segments' names."""
        matched, same = self.matched, self.same
        out = [
            f"{matched:,} customers are in both runs; {same:,} of them "
            f"({percent(same / matched) if matched else '–'}) are in the segment of the same "
            f"number; {int(self.new.sum()):,} are new since {self.earlier} and "
            f"{int(self.gone.sum()):,} are gone"
        ]
        for m in self.moves()[:shown]:
            name = self.names_before.get(m.before)
            before = f"{percent(m.share, 0)} of segment {m.before}" + (
                f", {one_line(name, 40)}" if name else ""
            )
            out.append(
                f"{m.customers:,} customers ({before}) are now in "
                f"{self._name(m.now, self.names_now)}"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (summary.json, score.json)."""
        shares = self.shares()
        return {
            "earlier": self.earlier,
            "matched": self.matched,
            "same_segment": self.same,
            "new": int(self.new.sum()),
            "gone": int(self.gone.sum()),
            "earlier_segments": [int(s) for s in self.table.index],
            "segments": [int(s) for s in self.table.columns],
            "customers": self.table.to_numpy().astype(int).tolist(),
            "shares_of_earlier_segment": shares.to_numpy().round(6).tolist(),
            "new_by_segment": {str(int(s)): int(n) for s, n in self.new.items()},
            "gone_by_earlier_segment": {str(int(s)): int(n) for s, n in self.gone.items()},
            "earlier_names": {str(s): n for s, n in self.names_before.items()},
            "names": {str(s): n for s, n in self.names_now.items()},
            "largest": [m.__dict__ for m in self.moves()[:SHOWN_MOVES]],
            "text": self.lines(),
            "warnings": self.warnings,
        }


def who_moved(
    earlier: EarlierLabels,
    now: pd.DataFrame,
    k: int,
    names_now: Mapping[int, str] | None = None,
    numbered_like: str | None = None,
    numbering: str = "",
    data: str = "this run's data",
) -> Movement:
    """The movement from `earlier` to `now` (this run's labels: the key column and `segment`,
    1..k, of the customers in `data`). `numbered_like`: the fingerprint of the model this run's
    numbers follow (None: they follow none, they are by size), named `numbering` in the warning
    when the earlier labels were not numbered by it."""
    key = str(now.columns[0])
    if key == NO_KEY or now.shape[1] < 2:
        raise DataError(
            f"{data} has no customer key, so its customers cannot be matched with "
            f"{earlier.location} (which has {quoted(earlier.key, 40)}). Choose the key column "
            "(--key)."
        )
    keys = key_text(now[key])
    segments = now[SEGMENT].to_numpy(dtype=np.int64)
    where = earlier.keys.get_indexer(keys)
    found = where >= 0
    before_k = int(earlier.segments.max()) if len(earlier.segments) else 1
    pairs = (earlier.segments[where[found]] - 1) * k + (segments[found] - 1)
    counts = np.bincount(pairs, minlength=before_k * k).reshape(before_k, k)
    table = pd.DataFrame(counts, index=range(1, before_k + 1), columns=range(1, k + 1))
    table.index.name, table.columns.name = "earlier segment", "segment now"
    new = pd.Series(np.bincount(segments[~found] - 1, minlength=k), index=range(1, k + 1))
    kept = np.zeros(len(earlier.segments), dtype=bool)
    kept[where[found]] = True
    gone = pd.Series(
        np.bincount(earlier.segments[~kept] - 1, minlength=before_k), index=range(1, before_k + 1)
    )
    warnings = []
    if not found.any():
        warnings.append(
            f"no customer of {earlier.location} is in this run: are the keys the same "
            f"({quoted(earlier.key, 40)} then, {quoted(key, 40)} now)?"
        )
    elif earlier.key != key:
        warnings.append(
            f"customers matched by key values: {quoted(earlier.key, 40)} in "
            f"{earlier.location}, {quoted(key, 40)} now"
        )
    said = numbering_warning(earlier, numbered_like, numbering)
    if said:
        warnings.append(said)
    return Movement(
        earlier.location,
        table,
        new,
        gone,
        dict(earlier.names),
        dict(names_now or {}),
        warnings,
    )


def numbering_warning(earlier: EarlierLabels, numbered_like: str | None, how: str) -> str | None:
    """Why the segment numbers may not mean the same segments in both runs (None: they do)."""
    if numbered_like is None:
        return (
            f"this run's segments are numbered by size, not like an earlier model (--like "
            f"MODEL): the numbers in {earlier.location} may not mean the same segments; the "
            "table says where customers went, not whether a segment changed"
        )
    if earlier.numbered_by is None:
        return (
            f"cannot tell which model numbered {earlier.location} (no segscope summary beside "
            f"it): if it was not numbered by {how or 'the same model'}, the numbers may not "
            "mean the same segments"
        )
    if earlier.numbered_by != numbered_like:
        return (
            f"{earlier.location} was numbered by another model than {how or 'this run'}: the "
            "numbers may not mean the same segments"
        )
    return None
