"""Loading files: formats, awkward encodings and delimiters, and bad input with clear messages."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from segscope.core import files
from segscope.core.errors import DataError, OutputExists
from segscope.core.files import (
    CSV_BLOCK_ROWS,
    OutputFolder,
    write_bytes_atomic,
    write_csv_atomic,
    write_text_atomic,
)
from segscope.core.sources.reading import read_source
from segscope.core.sources.text_files import run_over


def load_tables(path: Path) -> dict[str, pd.DataFrame]:
    return read_source(path).tables


def _only(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    assert len(tables) == 1
    return next(iter(tables.values()))


def test_workbook_loads_every_sheet_by_name(shop_xlsx: Path) -> None:
    tables = load_tables(shop_xlsx)
    assert list(tables) == [
        "customers",
        "genders",
        "cities",
        "transactions",
        "branches",
        "merchants",
    ]
    assert list(tables["customers"].columns) == ["customer_id", "join_date", "city_id", "gender_id"]


def test_semicolon_with_decimal_commas(tmp_path: Path) -> None:
    p = tmp_path / "eu.csv"
    p.write_text("id;spend;city\n1;12,5;Köln\n2;3,25;Bonn\n3;7,0;Köln\n", encoding="utf-8")
    df = _only(load_tables(p))
    assert df["spend"].tolist() == [12.5, 3.25, 7.0]


def test_latin1_file_is_read(tmp_path: Path) -> None:
    p = tmp_path / "latin.csv"
    p.write_bytes("id,city,spend\n1,Málaga,3\n2,Córdoba,4\n".encode("latin-1"))
    assert _only(load_tables(p))["city"].tolist() == ["Málaga", "Córdoba"]


def test_bom_and_crlf(tmp_path: Path) -> None:
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffcustomer_id,spend\r\n1,2\r\n2,3\r\n".encode())
    df = _only(load_tables(p))
    assert list(df.columns) == ["customer_id", "spend"]
    assert df["spend"].tolist() == [2, 3]


@pytest.mark.parametrize("sep", ["\t", "|", ";"])
def test_delimiters_are_sniffed(tmp_path: Path, sep: str) -> None:
    p = tmp_path / "t.txt"
    p.write_text(sep.join(["a", "b", "c"]) + "\n" + sep.join(["1", "2", "3"]) + "\n")
    assert list(_only(load_tables(p)).columns) == ["a", "b", "c"]


def test_blank_lines_before_the_header_are_passed_over(tmp_path: Path) -> None:
    p = tmp_path / "blank.csv"
    p.write_text("\n  \ncustomer_id;spend\n1;1,5\n2;2,5\n")
    frame = _only(load_tables(p))
    assert list(frame.columns) == ["customer_id", "spend"] and frame["spend"].tolist() == [1.5, 2.5]


def test_gzip_tsv_and_parquet(tmp_path: Path) -> None:
    frame = pd.DataFrame({"customer_id": [1, 2, 3], "spend": [1.5, 2.5, 3.5]})
    gz = tmp_path / "c.tsv.gz"
    with gzip.open(gz, "wt") as fh:
        frame.to_csv(fh, sep="\t", index=False)
    pq = tmp_path / "c.parquet"
    frame.to_parquet(pq)
    pd.testing.assert_frame_equal(_only(load_tables(gz)), frame)
    pd.testing.assert_frame_equal(_only(load_tables(pq)), frame)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "is empty"),
        ("header.csv", b"customer_id,spend\n", "header but no rows"),
        ("blank_first.csv", b"\n\x01\x1f\x01", "header but no rows"),  # found by fuzzing
        ("junk.csv", bytes(range(256)) * 10, "binary"),
        ("fake.parquet", b"not parquet at all", "not a readable Parquet"),
        ("fake.xlsx", b"PK\x03\x04 not really a zip", "not a readable .xlsx"),
        ("table.dat", b"a,b\n1,2\n", "unsupported file type"),
        ("old.xls", b"\xd0\xcf\x11\xe0", "Save it as .xlsx"),
    ],
)
def test_bad_files_name_the_file(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(DataError) as err:
        load_tables(p)
    assert name in str(err.value)
    assert expected in str(err.value)
    assert p.read_bytes() == content  # the input is never changed


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_tables(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a folder"):
        load_tables(tmp_path)


def test_output_dir_is_atomic_and_refuses_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with pytest.raises(RuntimeError), OutputFolder(target).writing(["a.txt"]) as tmp:
        write_text_atomic(tmp / "a.txt", "half")
        raise RuntimeError("boom")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # a failed run leaves nothing behind
    with OutputFolder(target).writing(["a.txt"]) as tmp:
        write_text_atomic(tmp / "a.txt", "one")
    with pytest.raises(OutputExists, match="--force"), OutputFolder(target).writing([]):
        pass
    with OutputFolder(target, force=True).writing(["b.txt"]) as tmp:
        write_text_atomic(tmp / "b.txt", "two")
    assert sorted(p.name for p in target.iterdir()) == [".segscope-output", "b.txt"]


def test_a_table_arrow_holds_but_cannot_write_as_csv_is_written_by_pandas(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [1, 2], "bought": [["tea", "jam"], ["milk"]]})
    write_csv_atomic(tmp_path / "a.csv", frame)
    assert (tmp_path / "a.csv").read_text() == frame.to_csv(index=False)


def test_long_tables_are_written_block_by_block_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks are formatted side by side (four at once, whatever cores are free) and written in
    order: the file is pandas' own."""
    monkeypatch.setattr(files, "CSV_BLOCK_ROWS", 1_000)
    monkeypatch.setattr(files, "thread_count", lambda tasks: 4)
    frame = pd.DataFrame({"id": range(20 * 1_000 + 7), "name": "a,b", "x": 0.1})
    write_csv_atomic(tmp_path / "a.csv", frame, exact=True)
    same = (tmp_path / "a.csv").read_text() == frame.to_csv(index=False)
    assert same


def test_whole_decimals_are_written_as_arrow_writes_decimals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decimals that are whole are held as integers where every value of a block allows it, and
    written as the same text as Arrow's writer gives the decimals themselves: gaps empty, a
    NaN as nan, 1e+10 from 1e10 on, -0 for a negative zero; each read back as the same number."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    monkeypatch.setattr(files, "CSV_BLOCK_ROWS", 4)
    frame = pd.DataFrame(
        {
            "age": [44.0, 19.0, None, 70.0, 3.0, -5.0, 0.0, 8.0],
            "amount": [1.0, 9_999_999_999.0, -9_999_999_999.0, 2.0, 1e10, 1e15, 3.0, 4.0],
            "score": [1.0, -0.0, 3.0, 4.0, 0.5, 2.0, 1.0, 0.0],
            "ratio": pd.arrays.ArrowExtensionArray(  # a NaN beside a gap, as Arrow holds them
                pa.array([1.0, float("nan"), None, 2.0, 1, 2, 3, 4])
            ),
        }
    )
    held = [files._arrow_block(frame, start).schema.types for start in (0, 4)]
    assert [[str(t) for t in types] for types in held] == [
        ["int64", "int64", "double", "double"],
        ["int64", "double", "double", "int64"],
    ]
    write_csv_atomic(tmp_path / "a.csv", frame, exact=True)
    out = pa.BufferOutputStream()
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), out, options)
    header, rows = (tmp_path / "a.csv").read_text().split("\n", 1)
    assert header == "age,amount,score,ratio"
    assert rows == out.getvalue().to_pybytes().decode()
    numbers = ["age", "amount", "score"]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv")[numbers], frame[numbers])


def test_a_column_of_text_and_numbers_is_written_by_pandas_whole(tmp_path: Path) -> None:
    """A long table is converted for Arrow block by block, so a column whose blocks Arrow would
    type apart (text in the first, a number and a list in the last) is written by pandas, whole:
    each value as pandas writes it (3.0, never 3), the file pandas' own."""
    cells: list[object] = ["tea"] * CSV_BLOCK_ROWS + [3.0, ["tea", "jam"], "milk"]
    frame = pd.DataFrame({"id": range(len(cells)), "bought": pd.Series(cells, dtype=object)})
    write_csv_atomic(tmp_path / "a.csv", frame)
    same = (tmp_path / "a.csv").read_text() == frame.to_csv(index=False)
    assert same


def test_text_held_as_codes_is_written_as_the_same_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text held as codes (a categorical: an RFM cell, a city on millions of rows) is written
    by Arrow's writer, made spreadsheet-safe, gaps empty: the same bytes as the same column held
    as text, and read back as the safe text."""
    from segscope.core.text import spreadsheet_cell

    cells = ["=cmd|' /C calc'!A0", 'say "hi"', "a,b", None, "ok", "-2+3", None]
    frame = pd.DataFrame({"id": range(len(cells)), "spend": [0.1, 2.5, None, 1e-7, 3, -1, 7]})
    as_text = frame.assign(cell=pd.Series(cells, dtype="str"))
    as_codes = frame.assign(cell=pd.Categorical(cells))
    monkeypatch.setattr(pd.DataFrame, "to_csv", None)  # pandas' writer is not what writes them
    write_csv_atomic(tmp_path / "text.csv", as_text, exact=True)
    write_csv_atomic(tmp_path / "codes.csv", as_codes, exact=True)
    assert (tmp_path / "codes.csv").read_bytes() == (tmp_path / "text.csv").read_bytes()
    back = pd.read_csv(tmp_path / "codes.csv", dtype={"cell": object})["cell"]
    assert back.where(back.notna(), None).tolist() == [c and spreadsheet_cell(c) for c in cells]


def test_a_write_that_fails_part_way_lets_go_of_the_parts_and_leaves_no_file(
    tmp_path: Path,
) -> None:
    """A part the file refuses (here: text, not bytes; a full disk alike) ends the parts still
    being made (their threads and blocks), and the temporary file is gone."""
    closed = []

    def parts() -> Iterator[bytes | str]:
        try:
            yield b"id\n"
            yield "1\n"
            yield b"2\n"
        finally:
            closed.append(True)

    with pytest.raises(TypeError) as failed:
        write_bytes_atomic(tmp_path / "a.csv", parts())  # type: ignore[arg-type]
    assert failed.value is not None and closed == [True]
    assert list(tmp_path.iterdir()) == []


@given(
    st.binary(max_size=200).map(lambda b: bytes(x % 4 + 10 for x in b)),  # \n, \r among others
    st.integers(0, 50),
    st.integers(0, 60),
)
def test_a_run_is_over_the_limit_exactly_when_the_longest_line_is(
    data: bytes, carry: int, limit: int
) -> None:
    """run_over (which skips measuring runs that cannot be long enough) says what measuring
    every line says: whether one is longer than the limit, and the line still open (measured
    with the next block, or at the end of the file with an empty one)."""
    *ended, still_open = re.split(rb"[\n\r]", b"x" * carry + data)
    assert run_over(data, b"\n\r", carry, limit) == (
        max(map(len, ended or [still_open])) > limit,
        len(still_open),
    )


def test_reading_a_csv_leaves_the_csv_modules_field_limit_as_it_was() -> None:
    """The header is counted with the csv module under segscope's field limit, which is the
    module's one for the whole process: reading the real credit table gives it back."""
    import csv

    before = csv.field_size_limit()
    read_source(Path(__file__).parent / "data" / "credit_data.csv.gz")
    assert csv.field_size_limit() == before
