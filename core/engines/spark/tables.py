"""Reading the input with Spark: a Parquet or CSV dataset, a folder of them, or a workbook."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from segscope.core.engines.spark.session import spark_message
from segscope.core.errors import DataError
from segscope.core.locations import URL, file_kind, table_name
from segscope.core.sources.reading import Tables, read_source
from segscope.core.sources.text_files import read_head_text, sniff_delimiter
from segscope.core.text import one_line

SparkTables = dict[str, Any]  # table name -> Spark DataFrame
PART_FILE = re.compile(r"^(part-|_SUCCESS$|_committed|_started|\.)")


def read_spark_tables(spark: Any, source: str, tables: Tables | None = None) -> SparkTables:
    """Named Spark tables from `source` (a path or any URL Spark understands).

    A Parquet or CSV/TSV (.gz) file or dataset folder is one table; a folder of several is one
    table per entry (named by its stem, like a workbook's sheets); a workbook is read here and
    handed to Spark (workbooks are small).
    """
    if not URL.match(source) and file_kind(Path(source)) == "excel":
        return {
            name: from_pandas(spark, df)
            for name, df in (tables or read_source(source).tables).items()
        }
    entries = _list(spark, source)
    if entries is None:
        raise DataError(
            f"{one_line(source, 200)}: no such file or folder (as Spark sees it). Check the path."
        )
    if entries and not all(PART_FILE.match(name) or not _kind(name) for name in entries):
        named = {
            table_name(Path(name)): f"{source.rstrip('/')}/{name}"
            for name in entries
            if _kind(name)
        }
        return {name: _read_one(spark, uri) for name, uri in sorted(named.items())}
    return {table_name(Path(source.rstrip("/").rsplit("/", 1)[-1])): _read_one(spark, source)}


def from_pandas(spark: Any, df: Any) -> Any:
    """A small pandas table into Spark through Arrow (not pyspark's pandas path)."""
    return spark.createDataFrame(pa.Table.from_pandas(df, preserve_index=False))


def _list(spark: Any, source: str) -> list[str] | None:
    """The names in folder `source`, [] for a file, None when it does not exist (Hadoop FS)."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(source)
    try:
        fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        if not fs.exists(path):
            return None
        if not fs.getFileStatus(path).isDirectory():
            return []
        return sorted(str(s.getPath().getName()) for s in fs.listStatus(path))
    except Exception as exc:  # no file system for the scheme, no access, ...
        raise DataError(
            f"{one_line(source, 200)}: Spark cannot open it ({spark_message(exc)})."
        ) from exc


def _kind(name: str) -> str | None:
    """'parquet', 'text' or None (not a table), from a file or folder name; a name without a
    suffix is a Parquet dataset folder."""
    if name.startswith(("_", ".")):
        return None
    if not Path(name).suffix:
        return "parquet"
    kind = file_kind(Path(name))
    return kind if kind in ("parquet", "text") else None


def _read_one(spark: Any, uri: str) -> Any:
    """One table: CSV/TSV with a header (delimiter sniffed where the file is local) or Parquet."""
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    try:
        if _kind(name) == "text":
            local = Path(uri)
            if URL.match(uri) or not local.is_file():
                sep = "\t" if ".tsv" in name.lower() or ".tab" in name.lower() else ","
            else:
                sep = sniff_delimiter(read_head_text(local))
            df = spark.read.csv(uri, header=True, inferSchema=True, sep=sep)
        else:
            df = spark.read.parquet(uri)
        empty = not df.columns or df.limit(1).count() == 0
    except DataError:
        raise
    except Exception as exc:  # Spark's AnalysisException, a bad file, ...
        raise DataError(
            f"{one_line(name, 80)}: Spark cannot read it as a table ({spark_message(exc)}). "
            "Give a Parquet or CSV/TSV (.gz) file or folder."
        ) from exc
    if empty:
        raise DataError(f"{one_line(name, 80)} has no rows.")
    return df.toDF(*[str(c).strip() for c in df.columns])
