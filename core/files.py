"""Writing files: atomic, honouring the umask, and never over anything segscope did not write.

An output folder is filled in a hidden temporary folder beside it and renamed into place at the
end, so a failed or interrupted run leaves nothing behind. Every folder segscope writes holds a
mark (MARK) listing its files: `force` replaces such a folder, never another one, never one that
holds an input, never through a symbolic link; and the final rename never replaces a folder that
appeared while the work ran."""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Generator, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from segscope.core import __version__
from segscope.core.errors import Cancelled, DataError, OutputExists
from segscope.core.locations import POSTGRES_URL, display_name
from segscope.core.text import one_line, spreadsheet_safe
from segscope.core.threads import in_parallel, thread_count

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

MARK = ".segscope-output"
MODEL_SUFFIX = ".segscope"
MODEL_FILE = "model" + MODEL_SUFFIX
OUTPUT_FILES = (
    "labels.csv",
    "features.csv",
    "rules.sql",
    "segments.csv",
    "segments.xlsx",
    "sweep.csv",
    "summary.json",
    "report.md",
    MODEL_FILE,
)


SCORE_FILES = ("labels.csv", "score.json", "report.md")


def default_out_dir(source: str | Path, now: datetime | None = None) -> Path:
    """'segscope-<input name>-<timestamp>' in the current folder (a database: its name)."""
    name = display_name(str(source))
    if POSTGRES_URL.match(name):
        name = urlsplit(name).path.strip("/") or "database"
    stem = re.sub(r"\W+", "-", name.split(".")[0]).strip("-") or "data"
    return Path(f"segscope-{stem}-{(now or datetime.now()).strftime('%Y%m%d-%H%M%S')}")


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # elsewhere: the classic read, put back at once
    os.umask(mask)
    return mask


def _shown(path: Path) -> str:
    return one_line(path, 200)


def write_bytes_atomic(path: Path, data: bytes | Iterable[bytes | memoryview]) -> None:
    """Write `data` (or its parts in turn) to a temporary file beside `path`, then rename it
    into place (umask honoured)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as fh:
            for part in [data] if isinstance(data, bytes) else data:
                fh.write(part)
        os.replace(tmp, path)
    except BaseException:
        if isinstance(data, Generator):  # the parts still being made are let go of
            data.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Atomically write UTF-8 text."""
    write_bytes_atomic(path, text.encode("utf-8"))


CSV_BLOCK_ROWS = 125_000  # Arrow writes a long table's rows in blocks of this many
CSV_THREADS = 4  # at most this many blocks formatted at once (what waits is bounded by it)
CSV_BATCH_ROWS = 16_384  # rows Arrow's writer formats at once (its default 1,024: a third slower)
WHOLE_BELOW = 1e10  # Arrow writes a whole decimal below this as its digits, as an integer's


def write_csv_atomic(
    path: Path, frame: pd.DataFrame, exact: bool = False, stop: threading.Event | None = None
) -> None:
    """Atomically write a table as CSV, safe to open in a spreadsheet (core.text); `exact`:
    decimals too by Arrow's writer (see csv_parts); `stop`: once it is set, the writing ends at
    its next block (Cancelled), and no file is left."""
    parts = csv_parts(spreadsheet_safe(frame), exact)
    write_bytes_atomic(path, parts if stop is None else _until(stop, parts))


def _until(
    stop: threading.Event, parts: Generator[bytes | memoryview, None, None]
) -> Generator[bytes | memoryview, None, None]:
    """The parts, until `stop` is set: then Cancelled (what makes them is let go of)."""
    with contextlib.closing(parts):
        for part in parts:
            if stop.is_set():
                raise Cancelled()
            yield part


def csv_parts(
    frame: pd.DataFrame, exact: bool = False
) -> Generator[bytes | memoryview, None, None]:
    """A table as CSV, in parts. Whole numbers and text only (labels.csv, a million rows of
    them): the header by Python's csv module, the rows by Arrow's writer, several times faster,
    block by block, a few blocks side by side (at most CSV_THREADS, each with a block or two of
    text waiting its turn: neither Arrow's copy of ten million rows nor their text is held);
    anything else (decimals, dates, flags) by pandas' writer, which writes them as people read
    them.
    `exact`: decimals by Arrow's writer too, in the fewest digits that read back as the same
    number (features.csv: a rule's SQL must pick the same customers from the file)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from pandas.api.types import (
        is_float_dtype,
        is_integer_dtype,
        is_object_dtype,
        is_string_dtype,
    )

    def plain(column: pd.Series) -> bool:
        t = column.dtype
        if is_object_dtype(t):  # Arrow types each block on its own: text throughout only
            return pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty")
        return bool(
            is_integer_dtype(t)
            or is_string_dtype(t)
            or (exact and is_float_dtype(t))
            or (isinstance(t, pd.CategoricalDtype) and is_string_dtype(t.categories))
        )

    columns = (frame.iloc[:, i] for i in range(frame.shape[1]))
    if all(map(plain, columns)) and (first := _arrow_block(frame, 0)) is not None:
        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow([str(c) for c in frame.columns])
        yield header.getvalue().encode("utf-8")
        options = pacsv.WriteOptions(
            include_header=False, quoting_style="needed", batch_size=CSV_BATCH_ROWS
        )

        def block_text(start: int) -> bytes | memoryview:
            table = first if start == 0 else _arrow_block(frame, start)
            if table is None:  # values Arrow cannot hold in this block: pandas writes it
                block = frame.iloc[start : start + CSV_BLOCK_ROWS]
                return block.to_csv(index=False, header=False, lineterminator="\n").encode("utf-8")
            out = pa.BufferOutputStream()  # Arrow's own buffer: formatting leaves the interpreter
            pacsv.write_csv(table, out, options)
            return memoryview(out.getvalue())

        # blocks formatted side by side (core.threads), written in order
        starts = range(0, len(frame), CSV_BLOCK_ROWS)
        threads = min(CSV_THREADS, thread_count(len(starts))) if len(starts) > 1 else 1
        yield from in_parallel(block_text, starts, threads)
        return
    yield frame.to_csv(index=False).encode("utf-8")


def _arrow_block(frame: pd.DataFrame, start: int) -> pa.Table | None:
    """CSV_BLOCK_ROWS rows of `frame` from `start` as an Arrow table (one block at a time: a
    long table is never copied whole), or None when Arrow cannot hold them or its CSV writer would
    not write one of their columns as pandas' would."""
    import pyarrow as pa

    try:
        table = pa.Table.from_pandas(
            frame.iloc[start : start + CSV_BLOCK_ROWS], preserve_index=False
        )
    except (pa.ArrowException, TypeError, ValueError):  # values Arrow cannot hold
        return None
    return _whole_as_integers(table) if all(map(_arrow_writes, table.schema.types)) else None


def _whole_as_integers(table: pa.Table) -> pa.Table:
    """`table` with each decimal column whose values are all whole, below WHOLE_BELOW, and
    neither a negative zero nor NaN (its gaps, Arrow's nulls, stay gaps), held as integers:
    Arrow writes them as the same digits in under half the time (an age or an amount read as
    decimals, on ten million rows)."""
    import numpy as np
    import pyarrow as pa

    for i, kind in enumerate(table.schema.types):
        if not pa.types.is_float64(kind):
            continue
        column = table.column(i)
        missing = column.is_null().to_numpy()  # gaps only: a NaN is a value, and stays one
        values = column.to_numpy()
        present = values[~missing]
        if not (
            np.all((np.abs(present) < WHOLE_BELOW) & (present == np.trunc(present)))
            and not np.signbit(present[present == 0]).any()
        ):
            continue
        whole = np.where(missing, 0, values).astype(np.int64)
        table = table.set_column(i, table.field(i).name, pa.array(whole, mask=missing))
    return table


def _arrow_writes(kind: pa.DataType) -> bool:
    """Whether Arrow's CSV writer writes a column of this type as pandas' would: whole numbers,
    decimals and text (anything else, such as a list or an interval, goes to pandas)."""
    import pyarrow.types as pat

    if pat.is_dictionary(kind):  # a categorical: its values are what is written
        kind = kind.value_type
    return bool(
        pat.is_integer(kind)
        or pat.is_floating(kind)
        or pat.is_string(kind)
        or pat.is_large_string(kind)
        or pat.is_null(kind)
    )


class OutputFolder:
    """Where a run's files go: checked before any work, filled atomically at the end."""

    def __init__(self, target: Path, force: bool = False, inputs: Sequence[Path] = ()) -> None:
        self.target = Path(os.path.abspath(Path(target).expanduser()))
        self.force = force
        self.inputs = [Path(os.path.realpath(p)) for p in inputs]

    def check(self) -> bool:
        """Refuse, before any work, a target that may not be written or replaced; whether
        writing replaces an earlier segscope output (allowed only with `force`)."""
        t = self.target
        if t.is_symlink():
            raise OutputExists(
                f"{_shown(t)} is a symbolic link: give the folder itself (segscope never writes "
                "through a link)."
            )
        if not t.name or t == Path(t.anchor):
            raise OutputExists(f"{_shown(t)} cannot be an output folder. Choose a new folder.")
        replaces = t.exists() and self._check_existing(t)
        self._check_writable()
        return replaces

    def _check_existing(self, t: Path) -> bool:
        if not t.is_dir():
            raise OutputExists(f"{_shown(t)} exists and is a file. Choose another output folder.")
        real = Path(os.path.realpath(t))
        held = [p for p in self.inputs if p == real or real in p.parents]
        if held:
            raise OutputExists(
                f"{_shown(t)} holds the input {one_line(held[0].name, 80)}: segscope never "
                "replaces it. Choose another output folder."
            )
        entries = list(t.iterdir())
        if not entries:
            return False
        if not self.force:
            raise OutputExists(
                f"{_shown(t)} already exists and is not empty. Choose another folder, or allow "
                "replacing an earlier segscope output (--force)."
            )
        ours = marked_files(t)
        if ours is None:
            raise OutputExists(
                f"{_shown(t)} was not written by segscope, so it is never replaced, even with "
                "--force. Choose another folder."
            )
        others = sorted(e.name for e in entries if e.name not in ours)
        if others:
            raise OutputExists(
                f"{_shown(t)} holds files segscope did not write ({one_line(others[0], 60)}"
                f"{' and more' if len(others) > 1 else ''}), so it is not replaced. Move them "
                "or choose another folder."
            )
        return True

    def _check_writable(self) -> None:
        existing = next(p for p in (self.target.parent, *self.target.parents) if p.exists())
        try:
            Path(tempfile.mkdtemp(prefix=".segscope-probe-", dir=existing)).rmdir()
        except OSError as exc:
            raise DataError(
                f"cannot write in {_shown(existing)} ({one_line(exc.strerror or exc, 80)}). "
                "Choose an output folder you can write to."
            ) from exc

    @contextlib.contextmanager
    def writing(self, files: Sequence[str]) -> Iterator[Path]:
        """A temporary folder to fill with `files`; renamed into place when the block ends,
        removed when it fails (or the run is interrupted), with every parent folder of the
        target it created. A write the system refuses (a full disk, a file-size limit, a
        read-only or immutable folder) is said as such, naming the folder."""
        self.check()
        existed = self.target.exists()
        created = _missing_parents(self.target)
        tmp: Path | None = None
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            short = self.target.name[:40]  # temporary names stay short whatever the target's
            tmp = Path(tempfile.mkdtemp(prefix=f".{short}.segscope-", dir=self.target.parent))
            os.chmod(tmp, 0o777 & ~current_umask())
            yield tmp
            mark = {"written_by": "segscope", "version": __version__, "files": [*files, MARK]}
            write_text_atomic(tmp / MARK, json.dumps(mark, indent=2))
            self._commit(tmp, existed)
        except BaseException as exc:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            for folder in created:  # deepest first; only while empty
                with contextlib.suppress(OSError):
                    folder.rmdir()
            if isinstance(exc, OSError) and not isinstance(exc, FileExistsError):
                raise self._refused(exc) from exc
            raise

    def _refused(self, exc: OSError) -> DataError:
        why = one_line(exc.strerror or exc, 80)
        full = exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
        advice = (
            "the disk is full (or a size limit was reached): free some space"
            if full
            else "choose an output folder you can write to"
        )
        return DataError(
            f"cannot write {_shown(self.target)} ({why}): {advice}. Nothing was written."
        )

    def _commit(self, tmp: Path, existed: bool) -> None:
        t = self.target
        aside = None
        if t.exists() or t.is_symlink():
            if not existed and (t.is_symlink() or not t.is_dir() or any(t.iterdir())):
                raise self._appeared()
            self.check()  # what is there now may still be replaced
            if any(t.iterdir()):
                aside = t.with_name(f".{t.name[:40]}.segscope-old-{os.getpid()}")
                os.rename(t, aside)
        try:
            os.rename(tmp, t)
        except OSError as exc:
            if aside is not None and not t.exists():
                os.rename(aside, t)
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise self._appeared() from exc
            raise
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)

    def _appeared(self) -> OutputExists:
        return OutputExists(
            f"{_shown(self.target)} appeared while segscope was working (another run?); "
            "nothing was written. Choose another folder."
        )


def _missing_parents(target: Path) -> list[Path]:
    """The folders above `target` that do not exist yet, deepest first."""
    missing = []
    for parent in target.parents:
        if parent.exists():
            break
        missing.append(parent)
    return missing


def marked_files(folder: Path) -> set[str] | None:
    """The files a segscope output folder says it holds; None when it is not one."""
    mark = folder / MARK
    if mark.is_symlink() or not mark.is_file():
        return None
    try:
        data = json.loads(mark.read_text()[:100_000])
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if data.get("written_by") != "segscope" or not isinstance(files, list):
        return None
    return {str(f) for f in files}
