"""A corpus of hostile and broken inputs, made at test time (small files, deterministic).

Every bug found with a hostile file becomes a case here, so the corpus grows with the bugs.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

MARKUP = ["[/]", "[bold red]x[/]", "[link=http://evil.example]click[/link]"]
ESCAPES = [
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52: write the clipboard
    "\x1b]0;pwned\x07",  # OSC 0: retitle the window
    "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",  # OSC 8: a hyperlink
    "\x1b[2J",  # clear the screen
    "\x9b2J",  # the same, as a C1 control
]
FORMULAS = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"]
CONTROL = [chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)]]


def base_table(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """A small customer table with two clear groups, to carry hostile names and values."""
    rng = np.random.default_rng(seed)
    group, other = np.arange(n) % 2, (np.arange(n) // 2) % 2
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "spend": np.round(100 + 400 * group + rng.normal(0, 20, n), 2),
            "visits": np.round(2 + 8 * other + rng.normal(0, 1, n), 1),
        }
    )


def hostile_text_table(n: int = 60) -> pd.DataFrame:
    """Column names and values carrying markup, escapes and formulas."""
    df = base_table(n)
    rng = np.random.default_rng(1)
    words = MARKUP + ESCAPES + FORMULAS
    df[f"{MARKUP[1]} {ESCAPES[1]}"] = rng.normal(50, 10, n).round(1)  # a hostile feature name
    df[f"{FORMULAS[3]}age"] = rng.integers(20, 70, n)
    df["plan"] = [words[i % len(words)] for i in range(n)]  # hostile categories
    df["customer_id"] = [f"{FORMULAS[i % 3]}{i}" for i in range(n)]  # hostile keys
    return df


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """A well-formed CSV: text quoted, so a CR inside a value stays inside it."""
    path.write_text(df.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC), encoding="utf-8")
    return path


def truncated_gz(path: Path) -> Path:
    data = gzip.compress(base_table(400).to_csv(index=False).encode())
    path.write_bytes(data[: len(data) // 2])
    return path


def bad_crc_gz(path: Path) -> Path:
    data = bytearray(gzip.compress(base_table(400).to_csv(index=False).encode()))
    data[-8] ^= 0xFF  # the CRC32 in the gzip trailer
    path.write_bytes(bytes(data))
    return path


def huge_numbers_csv(path: Path) -> Path:
    df = base_table()
    df["spend"] = df["spend"].where(df.index % 7 != 0, 1e308)
    df.loc[3, "visits"] = -1.7e308
    return write_csv(df, path)


def spaced_headers_csv(path: Path) -> Path:
    df = base_table()
    text = df.to_csv(index=False).replace("spend,visits", " age,age ", 1)
    path.write_text(text)
    return path


def repeated_text_parquet(
    path: Path, rows: int = 100_000, length: int = 50_000, as_category: bool = False
) -> Path:
    """A column whose every row holds one text of `length` characters, stored once in Parquet's
    dictionary (a few hundred kilobytes on disk, rows x length bytes read); `as_category`: with
    the Arrow schema, which reads it back as a dictionary (a category)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)), ["x" * length])
    table = pa.table({"customer_id": np.arange(rows), "note": text, "spend": np.arange(rows) % 7})
    pq.write_table(table, path, store_schema=as_category)
    return path


def delta_text_parquet(path: Path, rows: int = 100, length: int = 2_000_000) -> Path:
    """Rows of one long text (with a last character of three kinds), delta-encoded: each
    repeat stored as the length of the prefix it shares, so the file holds about one copy."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = ["a" * length + str(i % 3) for i in range(rows)]
    table = pa.table({"note": texts, "x": np.arange(rows) % 7, "y": np.arange(rows) % 5})
    encoding = {"note": "DELTA_BYTE_ARRAY"}
    pq.write_table(table, path, use_dictionary=False, column_encoding=encoding)
    return path


def nested_bomb_parquet(path: Path, rows: int = 400_000, length: int = 10_000) -> Path:
    """A list column whose every row holds one text of `length` characters (stored once), beside
    usable numbers: gigabytes when read, and never usable as a feature."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)), ["x" * length])
    lists = pa.ListArray.from_arrays(pa.array(np.arange(rows + 1, dtype=np.int32)), text)
    numbers = np.random.default_rng(0).normal(size=(2, rows))
    table = pa.table({"a": numbers[0], "b": numbers[1], "notes": lists})
    pq.write_table(table, path, store_schema=False, compression="zstd")
    return path


def parquet_with_odd_types(path: Path) -> Path:
    """Nested, binary, duration and timezone-aware columns beside usable ones."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = base_table()
    n = len(df)
    table = pa.table(
        {
            "customer_id": df["customer_id"],
            "spend": df["spend"],
            "visits": df["visits"],
            "tags": pa.array([["a", "b"][: i % 3] for i in range(n)], pa.list_(pa.string())),
            "address": pa.array([{"city": "x", "zip": i} for i in range(n)]),
            "blob": pa.array([bytes([i % 256]) * 3 for i in range(n)], pa.binary()),
            "wait": pa.array(
                [(i * 7919 % 97) * 3_600_000_000 for i in range(n)], pa.duration("us")
            ),
            "seen": pa.array(pd.date_range("2024-01-01", periods=n, freq="D", tz="Europe/Berlin")),
        }
    )
    pq.write_table(table, path)
    return path


def _xlsx(parts: dict[str, bytes], path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def _valid_xlsx_parts(df: pd.DataFrame | None = None) -> dict[str, bytes]:
    buf = io.BytesIO()
    (df if df is not None else base_table()).to_excel(buf, index=False, engine="openpyxl")
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def malformed_xml_xlsx(path: Path) -> Path:
    parts = _valid_xlsx_parts()
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"][:300] + b"<row><c"
    return _xlsx(parts, path)


def entity_bomb_xlsx(path: Path, part: str = "xl/worksheets/sheet1.xml") -> Path:
    """A workbook part declaring nested XML entities ("billion laughs": a few hundred bytes
    that expand to gigabytes where entities are expanded), the last of them used: in the first
    text of a sheet, or in the first sheet's name in the workbook's part."""
    parts = _valid_xlsx_parts()
    xml = parts[part].decode()
    body = xml[xml.index("<", xml.index("?>") + 2) if xml.startswith("<?xml") else 0 :]
    levels = "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "lol"}">' for i in range(10)
    )
    root = body[1 : body.index(" ")]
    used = re.sub(r'(<t>|<sheet name=")', r"\1&lol9;", body, count=1)
    assert used != body, f"no text or sheet name in {part} to use the entity in"
    parts[part] = f'<?xml version="1.0"?><!DOCTYPE {root} [{levels}]>{used}'.encode()
    return _xlsx(parts, path)


def shared_string_bomb_xlsx(path: Path, size: int = 1_200_000_000) -> Path:
    """One shared string that unpacks to about `size` bytes (the zip itself stays small)."""
    parts = _valid_xlsx_parts()
    head = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        b'2006/main" count="1" uniqueCount="1"><si><t>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            if name != "xl/sharedStrings.xml":
                zf.writestr(name, data)
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(head)
            block = b"A" * (8 * 1024 * 1024)
            for _ in range(size // len(block)):
                fh.write(block)
            fh.write(b"</t></si></sst>")
    return path


def many_rows_xlsx(path: Path, rows: int = 12_000_000) -> Path:
    """A sheet whose dimension says it has more rows than Excel allows."""
    parts = _valid_xlsx_parts()
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    start = sheet.index("<dimension")
    end = sheet.index("/>", start) + 2
    parts["xl/worksheets/sheet1.xml"] = (
        sheet[:start] + f'<dimension ref="A1:C{rows}"/>' + sheet[end:]
    ).encode()
    return _xlsx(parts, path)


def far_cell_xlsx(
    path: Path,
    place: str = "XFD1048576",
    quoted: str = '="{}"',
    part: str = "sheet1.xml",
    reference: bool = False,
) -> Path:
    """A valid table and one more cell far away (`place`), in a few kilobytes: a reader sets
    out every row and column up to it. `quoted`: how the places are written (XML allows either
    quote and spaces around the =); `part`: the sheet's name in the zip (any name the workbook's
    relationships give it); `reference`: each place's first character written as a character
    reference (&#88;FD1048576)."""
    parts = _valid_xlsx_parts()
    sheet = parts.pop("xl/worksheets/sheet1.xml").decode()
    end = sheet.index("</sheetData>")
    number = "".join(c for c in place if c.isdigit())
    spelt = [f"&#{ord(p[0])};{p[1:]}" if reference else p for p in (number, place)]
    row, cell = (quoted.format(p) for p in spelt)
    far = f'<row r{row}><c r{cell} t="inlineStr"><is><t>x</t></is></c></row>'
    parts[f"xl/worksheets/{part}"] = (sheet[:end] + far + sheet[end:]).encode()
    for name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
        parts[name] = parts[name].replace(b"sheet1.xml", part.encode())
    return _xlsx(parts, path)


def row_xlsx(path: Path, row: str) -> Path:
    """A valid table and one more row, written as `row` (XML), at the end of its sheet."""
    parts = _valid_xlsx_parts()
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    end = sheet.index("</sheetData>")
    parts["xl/worksheets/sheet1.xml"] = (sheet[:end] + row + sheet[end:]).encode()
    return _xlsx(parts, path)


# Far cells written as XML allows and openpyxl reads, each at Excel's last row and column
FLOAT_ROW = """<row r="1.048576e6"><c r="XFD1_048_576"><v>1</v></c></row>"""  # no row number
FAR_ROWS = [
    """<row r="1048576"><c foo=" r='A1'" r="XFD1048576"><v>1</v></c></row>""",  # r= in a value
    """<row r="1048576"><c x=">" r="XFD1048576"><v>1</v></c></row>""",  # > in a value
    f"""<row r="1048576"><c r="XFD{"0" * 3000}1048576"><v>1</v></c></row>""",  # leading zeros
    f"""<row r="{"0" * 5000}1048576"><c r="XFD1048576"><v>1</v></c></row>""",  # past int()'s 4,300
]


def counted_far_xlsx(path: Path) -> Path:
    """A valid table, then a row of 16,384 cells that give no place (a reader counts them off:
    the last is at column XFD) and a row at Excel's last, in a few kilobytes."""
    parts = _valid_xlsx_parts()
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    end = sheet.index("</sheetData>")
    far = "<row>" + "<c><v>1</v></c>" * 16_384 + '</row><row r="1048576"><c><v>1</v></c></row>'
    parts["xl/worksheets/sheet1.xml"] = (sheet[:end] + far + sheet[end:]).encode()
    return _xlsx(parts, path)


def unreadable_zip(path: Path, how: str) -> Path:
    """The zip at `path` made to say its parts are compressed by a method Python's zipfile lacks
    (`how` "method": Deflate64) or encrypted with a password (`how` "password")."""
    raw = bytearray(path.read_bytes())
    for header, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local, central
        at = raw.find(header)
        while at >= 0:
            if how == "method":
                raw[at + flags + 2 : at + flags + 4] = (9).to_bytes(2, "little")
            else:
                raw[at + flags : at + flags + 2] = (1).to_bytes(2, "little")
            at = raw.find(header, at + 4)
    path.write_bytes(bytes(raw))
    return path


def valid_xlsx(path: Path) -> Path:
    """A valid workbook (the base table)."""
    return _xlsx(_valid_xlsx_parts(), path)


def password_xlsx(path: Path) -> Path:
    """What Excel saves a workbook with a password as: an OLE compound file (its header, then
    sectors), not a zip."""
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + bytes(2048))
    return path


def long_line_csv(path: Path, length: int) -> Path:
    """A header line of `length` bytes (one enormous column name)."""
    with path.open("w") as fh:
        fh.write("customer_id,spend," + "x" * length + "\n")
        for i in range(10):
            fh.write(f"{i},{i},{i}\n")
    return path


def long_field_csv(path: Path, length: int) -> Path:
    """An ordinary table with one field of `length` bytes."""
    df = base_table(20)
    text = df.to_csv(index=False).splitlines()
    text[5] = text[5] + ",x"
    text[0] = text[0] + ",note"
    with path.open("w") as fh:
        fh.write("\n".join(text[:5]) + "\n")
        fh.write(text[5].removesuffix(",x") + ",")
        fh.write("y" * length)
        fh.write("\n" + "\n".join(t + "," for t in text[6:]) + "\n")
    return path


def gzip_bomb(path: Path, size: int) -> Path:
    """A small .gz that expands to `size` bytes of one long CSV column."""
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(b"customer_id,spend\n")
        line = b"1,2\n" * 262_144
        for _ in range(size // len(line)):
            fh.write(line)
    return path


def model_with_meta(template: Path, path: Path, change: dict[str, object] | None = None,
                    drop: str | None = None) -> Path:  # fmt: skip
    """A copy of a model file with its metadata changed."""
    with zipfile.ZipFile(template) as zf:
        meta, blob = json.loads(zf.read("meta.json")), zf.read("pipeline.skops")
    meta.update(change or {})
    if drop:
        meta.pop(drop)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("meta.json", json.dumps(meta))
        zf.writestr("pipeline.skops", blob)
    return path


def model_with_pipeline(template: Path, path: Path, pipeline: object) -> Path:
    """A copy of a model file with another object where its pipeline was."""
    import skops.io as sio

    with zipfile.ZipFile(template) as zf:
        meta = zf.read("meta.json")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("meta.json", meta)
        zf.writestr("pipeline.skops", sio.dumps(pipeline))
    return path


def metadata_bomb(template: Path, path: Path, size: int = 200_000_000) -> Path:
    """A model whose meta.json unpacks to `size` bytes."""
    with zipfile.ZipFile(template) as zf:
        blob = zf.read("pipeline.skops")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("meta.json", "w", force_zip64=True) as fh:
            fh.write(b'{"format": "segscope-model", "pad": "')
            block = b" " * (8 * 1024 * 1024)
            for _ in range(size // len(block)):
                fh.write(block)
            fh.write(b'"}')
        zf.writestr("pipeline.skops", blob)
    return path


def pipeline_bomb(template: Path, path: Path, size: int = 600_000_000) -> Path:
    """A model whose pipeline part (itself a zip: skops' schema and arrays) holds a schema.json
    padded to `size` bytes of spaces before the real one: a few kilobytes on disk."""
    with zipfile.ZipFile(template) as zf:
        meta, blob = zf.read("meta.json"), zf.read("pipeline.skops")
    inner = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(blob)) as old,
        zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as new,
    ):
        for info in old.infolist():
            data = old.read(info)
            if info.filename != "schema.json":
                new.writestr(info, data)
                continue
            with new.open("schema.json", "w", force_zip64=True) as fh:
                block = b" " * (8 * 1024 * 1024)
                for _ in range(size // len(block)):
                    fh.write(block)
                fh.write(data)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.json", meta)
        zf.writestr("pipeline.skops", inner.getvalue())
    return path


# --- issue 25: Markdown and the HTML it renders to (report.md) ---------------------------------

MARKDOWN = [  # text from the data that Markdown or its HTML would run, each with a marker (XSS)
    "<img src=x onerror=alert(1) alt=XSS1>",
    "<script>alert('XSS2')</script>",
    "[click XSS3](javascript:alert(3))",
    "`XSS4` and ```fence",
    "*XSS5* **strong** _XSS6_ __under__",
    "# XSS7 heading",
    "XSS8 | a pipe",
    "XSS9 line\n# XSS10 injected heading\n<b onmouseover=alert(10)>x</b>",
    "<!-- XSS11",
    "![XSS12](http://evil.example/pixel.png)",
    "<https://evil.example/XSS13>",
]


def hostile_markdown_table(n: int = 60) -> pd.DataFrame:
    """Column names and category values written to be read as Markdown or HTML: features (so
    that they are named in the report's lists and tables), and categories that follow the two
    planted groups (so that they are each segment's top category, shown in the profiles)."""
    df = base_table(n)
    group = np.arange(n) % 2
    rng = np.random.default_rng(2)
    df[MARKDOWN[0]] = np.round(30 + 20 * group + rng.normal(0, 2, n), 1)  # a numeric feature
    df[MARKDOWN[5]] = rng.integers(18, 80, n)  # another, whose name starts like a heading
    df[MARKDOWN[6]] = np.round(rng.normal(5, 1, n), 2)
    df["plan " + MARKDOWN[3]] = np.where(group == 0, MARKDOWN[1], MARKDOWN[2])  # categories
    df[MARKDOWN[4]] = np.where(group == 0, MARKDOWN[7], MARKDOWN[9])
    df["note " + MARKDOWN[8]] = [MARKDOWN[10] if i % 3 else MARKDOWN[5] for i in range(n)]
    return df
