"""Sources: where tables come from, read within the limits.

Files (CSV/TSV and .gz in `text_files`, `parquet`, `excel`; Arrow tables in `arrow_tables`) are
read whole into pandas by `reading.read_source`; a database (`database`: PostgreSQL, DuckDB files,
globs of files through DuckDB) is opened read-only and its tables stay there; a `--query` is one
SELECT, decided by the database's own parser (`queries`). Either way the
result is a `reading.Source`: named tables, and the columns a reader could not use.

Imports only the foundation (segscope.core's top-level modules).
"""
