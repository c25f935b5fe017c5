"""Broken files: exit 3 with a short message naming the file, within bounded memory and time;
or, where the file is usable, a run that says what it left out."""

from __future__ import annotations

import json
from pathlib import Path

from .cli import assert_refused, in_process, segscope, segscope_each
from .corpus import (
    FAR_ROWS,
    FLOAT_ROW,
    bad_crc_gz,
    base_table,
    counted_far_xlsx,
    delta_text_parquet,
    entity_bomb_xlsx,
    far_cell_xlsx,
    gzip_bomb,
    huge_numbers_csv,
    long_field_csv,
    long_line_csv,
    malformed_xml_xlsx,
    many_rows_xlsx,
    nested_bomb_parquet,
    parquet_with_odd_types,
    password_xlsx,
    repeated_text_parquet,
    row_xlsx,
    shared_string_bomb_xlsx,
    spaced_headers_csv,
    truncated_gz,
    unreadable_zip,
    valid_xlsx,
)

BOUNDED_MIB = 1_000  # no broken file may make segscope use more memory than this


def _refused(
    path: Path, tmp_path: Path, *needles: str, env: dict[str, str] | None = None, fresh: bool = True
) -> None:
    """Refused; in a fresh process (`fresh`) its peak memory is checked too."""
    run = segscope if fresh else in_process
    ran = run("sweep", path, "--k", "2-3", "--out", tmp_path / "out", env=env)
    assert_refused(ran, path.name, *needles)
    assert not fresh or ran.peak_mib < BOUNDED_MIB, ran.peak_mib
    assert not (tmp_path / "out").exists()


def _each_refused(tmp_path: Path, *cases: tuple[Path, tuple[str, ...]]) -> None:
    """Each file refused saying what it should, one after another in one fresh process whose
    peak memory stays bounded throughout (one start of the interpreter for them all)."""
    out = tmp_path / "out"
    runs = segscope_each(*(("sweep", path, "--k", "2-3", "--out", out) for path, _ in cases))
    for (path, needles), ran in zip(cases, runs, strict=True):
        assert_refused(ran, path.name, *needles)
        assert ran.peak_mib < BOUNDED_MIB, (path.name, ran.peak_mib)
    assert not out.exists()


def test_a_truncated_gzip(tmp_path: Path) -> None:
    _refused(truncated_gz(tmp_path / "cut.csv.gz"), tmp_path, "broken or cut short", fresh=False)


def test_a_gzip_with_a_bad_checksum(tmp_path: Path) -> None:
    _refused(bad_crc_gz(tmp_path / "crc.csv.gz"), tmp_path, "broken or cut short", fresh=False)


def test_a_gzip_that_expands_without_end(tmp_path: Path) -> None:
    bomb = gzip_bomb(tmp_path / "bomb.csv.gz", 200_000_000)
    assert bomb.stat().st_size < 1_000_000
    env = {"SEGSCOPE_MAX_BYTES": str(20_000_000)}
    _refused(bomb, tmp_path, "SEGSCOPE_MAX_BYTES", env=env)


def test_a_header_line_of_many_megabytes(tmp_path: Path) -> None:
    _refused(long_line_csv(tmp_path / "wide.csv", 20_000_000), tmp_path, "SEGSCOPE_MAX_FIELD")


def test_one_field_of_many_megabytes(tmp_path: Path) -> None:
    _refused(long_field_csv(tmp_path / "field.csv", 20_000_000), tmp_path, "SEGSCOPE_MAX_FIELD")


def test_columns_are_counted_past_the_sniffed_head(tmp_path: Path) -> None:
    """50,000 more columns after a first name the head read to sniff the delimiter does not show
    whole: every column counts, as the parser reads the header (pandas took minutes over them);
    a header as long with 2,001 columns is read."""
    rows = "".join(f"{v}{f',{v}' * 50_000}\n" for v in "1234")
    # a first name past the head, after a line of spaces; a name that quotes a line end; a form
    # feed (a line end to Python's splitlines, not to a CSV parser)
    wide = []
    for i, first in enumerate(("  \n" + "a" * 70_000, '"x\ny"', "a\x0cb")):
        wide.append(tmp_path / f"wide{i}.csv")
        wide[-1].write_text(first + ",x" * 50_000 + "\n" + rows)
    commas = tmp_path / "commas.csv"  # a header of empty names: pandas reads 50,001 columns
    commas.write_text("," * 50_000 + "\n" + "1,2\n" * 3)
    said = ("the header names 50,001 columns", "SEGSCOPE_MAX_COLUMNS")
    _each_refused(tmp_path, *((path, said) for path in [*wide, commas]))
    names = ",".join(f"measure_with_a_long_descriptive_name_{i:05d}" for i in range(2_000))
    long = tmp_path / "long.csv"
    long.write_text(
        f"id,{names}\n" + "".join(f"{r},{f'{r % 7},' * 1_999}{r % 5}\n" for r in range(60))
    )
    ran = in_process("sweep", long, "--k", "2", "--out", tmp_path / "long")
    assert ran.code == 0, ran.err


def test_too_many_cells_say_which_limit(tmp_path: Path) -> None:
    from .corpus import base_table, write_csv

    table = write_csv(base_table(5_000), tmp_path / "rows.csv")
    env = {"SEGSCOPE_MAX_CELLS": "3000"}
    _refused(table, tmp_path, "SEGSCOPE_MAX_CELLS=", env=env, fresh=False)


def test_malformed_workbook_xml(tmp_path: Path) -> None:
    path = malformed_xml_xlsx(tmp_path / "broken.xlsx")
    _refused(path, tmp_path, "not a readable .xlsx", fresh=False)


def test_a_workbook_with_a_password_or_an_unknown_compression(tmp_path: Path) -> None:
    """Saved with a password (not a zip at all), or a zip whose parts are encrypted or compressed
    by a method Python lacks: each said, never a traceback."""
    _refused(password_xlsx(tmp_path / "locked.xlsx"), tmp_path, "password-protected", fresh=False)
    for how, said in (("password", "is encrypted"), ("method", "compression method")):
        odd = unreadable_zip(valid_xlsx(tmp_path / f"{how}.xlsx"), how)
        _refused(odd, tmp_path, "not a readable .xlsx", said, fresh=False)


def test_text_repeated_from_a_parquet_dictionary_counts_as_read(tmp_path: Path) -> None:
    """One long text on every row, stored once: 5 GB when read from a file of a few hundred KB,
    refused by the byte limit before it is written out, whether it reads back as text or as a
    category; a value past the field limit is refused by it; within the limits it is read."""
    for as_category in (False, True):
        bomb = repeated_text_parquet(tmp_path / "notes.parquet", as_category=as_category)
        assert bomb.stat().st_size < 2_000_000
        said = "its text comes to at least 5,000,000,000 bytes"
        _refused(bomb, tmp_path, said, "SEGSCOPE_MAX_BYTES")
    delta = delta_text_parquet(tmp_path / "delta.parquet")  # 200 MB read from a few KB
    env = {"SEGSCOPE_MAX_BYTES": "100000000"}
    _refused(delta, tmp_path, "its text comes to at least", "SEGSCOPE_MAX_BYTES", env=env)
    long = repeated_text_parquet(tmp_path / "long.parquet", rows=400, length=20_000_000)
    _refused(long, tmp_path, "a text value is 20,000,000 bytes long", "SEGSCOPE_MAX_FIELD")
    small = repeated_text_parquet(tmp_path / "few.parquet", rows=400, length=100)
    ran = in_process("sweep", small, "--k", "2", "--out", tmp_path / "few")
    assert ran.code == 0, ran.err


def test_a_parquet_column_that_cannot_be_a_feature_is_not_read(tmp_path: Path) -> None:
    """Lists of a 10 KB text on 400,000 rows (4 GB when read, 7 MB on disk): left out, as it
    would be once read, without reading it."""
    out = tmp_path / "out"
    ran = segscope(
        "sweep", nested_bomb_parquet(tmp_path / "lists.parquet"), "--k", "2", "--out", out
    )
    assert ran.code == 0, ran.err
    assert ran.peak_mib < BOUNDED_MIB, ran.peak_mib
    assert "nested" in json.loads((out / "summary.json").read_text())["left_out"]["notes"]


def test_xml_entities_in_a_workbook_are_never_expanded(tmp_path: Path) -> None:
    """Nested entities in a sheet (where a cell uses them) and in the workbook's own part:
    refused as unreadable, in bounded memory, and nothing is expanded."""
    for part in ("xl/worksheets/sheet1.xml", "xl/workbook.xml"):
        bomb = entity_bomb_xlsx(tmp_path / "laughs.xlsx", part)
        assert bomb.stat().st_size < 10_000
        _refused(bomb, tmp_path, "not a readable .xlsx")


def test_a_shared_string_of_a_gigabyte(tmp_path: Path) -> None:
    bomb = shared_string_bomb_xlsx(tmp_path / "strings.xlsx", 1_000_000_000)
    assert bomb.stat().st_size < 10_000_000
    smaller = shared_string_bomb_xlsx(tmp_path / "string.xlsx", 30_000_000)
    _each_refused(
        tmp_path,
        (bomb, ("over the limit", "SEGSCOPE_MAX_BYTES")),
        (smaller, ("a cell or string is longer", "SEGSCOPE_MAX_FIELD")),
    )


def test_a_sheet_whose_dimension_claims_twelve_million_rows_is_read_as_it_is(
    tmp_path: Path,
) -> None:
    """The dimension a sheet opens with is a claim, not its cells: the rows it holds are read
    (and bounded by where its cells reach), whatever it claims."""
    path = many_rows_xlsx(tmp_path / "rows.xlsx")
    ran = in_process("sweep", path, "--k", "2-3", "--out", tmp_path / "out")
    assert ran.code == 0, ran.err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["rows"] == len(base_table())


def test_a_cell_far_away_is_refused_before_the_sheet_is_set_out(tmp_path: Path) -> None:
    """One cell at Excel's last row and column, in a 6 KB file: the sheet would span 17 billion
    cells (openpyxl set out 4.6 GB before giving up), so it is refused by the cell limit before
    parsing; a place beyond Excel's last column, or written as no row number is, is refused as
    malformed. A far cell within the limit is read."""
    corner = far_cell_xlsx(tmp_path / "corner.xlsx")
    assert corner.stat().st_size < 10_000
    reach = ("cells reach 1,048,576 rows by 16,384 columns",)
    cases = [
        (corner, (*reach, "SEGSCOPE_MAX_CELLS")),
        (  # past Excel's last column
            far_cell_xlsx(tmp_path / "wide.xlsx", "ZZZZZZ1"),
            ("not a readable .xlsx", "'ZZZZZZ1', which is no place in an Excel sheet"),
        ),
    ]
    # however the place is written (quotes, spaces, references), whatever the sheet's part is
    # called, and where cells give no place (each grew openpyxl to the machine's 24 GB, or until
    # a memory limit stopped it)
    for i, (quoted, part, reference) in enumerate(
        (
            (" = '{}'", "sheet1.xml", False),
            ('="{}"', "sheet1.dat", False),
            ('="{}"', "sheet1.xml", True),
        )
    ):
        odd = far_cell_xlsx(
            tmp_path / f"odd{i}.xlsx", quoted=quoted, part=part, reference=reference
        )
        cases.append((odd, reach))
    cases.append((counted_far_xlsx(tmp_path / "counted.xlsx"), reach))  # counted as a reader does
    rows = ("cells reach 1,048,576 rows",)
    for i, row in enumerate(FAR_ROWS):  # places as an XML parser reads them
        cases.append((row_xlsx(tmp_path / f"far{i}.xlsx", row), rows))
    written = ("not a readable .xlsx", "'1.048576e6', which is no place in an Excel sheet")
    cases.append((row_xlsx(tmp_path / "float.xlsx", FLOAT_ROW), written))
    cases.append((row_xlsx(tmp_path / "broken.xlsx", FAR_ROWS[0] + "<<<"), rows))  # XML breaks
    _each_refused(tmp_path, *cases)
    # within the cell limit, 26 million cells set out at 64 bytes each: over a 1 GiB byte limit
    sparse = far_cell_xlsx(tmp_path / "sparse.xlsx", "Z1000000")
    said = ("cells reach 1,000,000 rows by 26 columns", "as the reader sets them out")
    _refused(sparse, tmp_path, *said, "SEGSCOPE_MAX_BYTES", env={"SEGSCOPE_MAX_BYTES": "1G"})
    near = in_process(
        "sweep",
        far_cell_xlsx(tmp_path / "near.xlsx", "H99"),
        "--k",
        "2-3",
        "--out",
        tmp_path / "near",
    )
    assert near.code == 0, near.err


def test_numbers_near_the_float_limit(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ran = in_process("sweep", huge_numbers_csv(tmp_path / "big.csv"), "--k", "2-3", "--out", out)
    assert ran.code == 0, ran.err
    assert "Traceback" not in ran.text


def test_headers_that_differ_only_by_spaces(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ran = in_process("sweep", spaced_headers_csv(tmp_path / "spaced.csv"), "--k", "2", "--out", out)
    assert ran.code == 0, ran.err
    numeric = json.loads((out / "summary.json").read_text())["features"]["numeric"]
    assert sorted(numeric) == ["age", "age.1"]


def test_parquet_columns_that_are_not_values(tmp_path: Path) -> None:
    """Nested and binary columns are left out with their reason; durations become days and
    timezone-aware dates become UTC; the rest is used."""
    out = tmp_path / "out"
    ran = in_process("sweep", parquet_with_odd_types(tmp_path / "odd.parquet"), "--k", "2",
                   "--out", out)  # fmt: skip
    assert ran.code == 0, ran.err
    summary = json.loads((out / "summary.json").read_text())
    assert "nested" in summary["left_out"]["tags"] and "nested" in summary["left_out"]["address"]
    assert "binary" in summary["left_out"]["blob"]
    assert {"spend", "visits", "wait", "seen"} <= set(summary["features"]["numeric"])
