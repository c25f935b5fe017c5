"""Helpers for the second hostile corpus (issue 25): the real command run with a bound on its
time, a PostgreSQL server per test module, a snapshot of everything a run could change (files,
every table of every database, replication slots and origins, large objects), and every byte a
run wrote, zip members included."""

from __future__ import annotations

import hashlib
import os
import pwd
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..databases import Server, server_binaries, start_server
from .cli import ROOT, Ran, in_process


@dataclass
class Timed(Ran):
    """A run of the command, and how long it took (seconds, wall clock)."""

    seconds: float = 0.0


def run(
    *args: object,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    timeout: float | None = None,
    preexec: Any = None,
) -> Timed:
    """`segscope ARGS`: in this process through the same entry point (no second import of the
    libraries; what stderr would show captured, and a bound on its time: cli.in_process),
    unless the test needs a process of its own: a time limit of its own (`timeout` seconds,
    killed and failed past it), a limit set before it starts (`preexec`), another working
    folder (`cwd`). Arguments may be bytes (a file name that is not UTF-8)."""
    begun = time.monotonic()
    if timeout is None and preexec is None and cwd == Path.cwd():
        ran = in_process(*args, env=env)
        return Timed(ran.code, ran.out, ran.err, ran.peak_mib, time.monotonic() - begun)
    argv = [os.fsencode(a) if isinstance(a, bytes) else str(a) for a in args]
    timeout = timeout or 120
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "segscope.tui.cli", *argv],
            capture_output=True,
            cwd=cwd,
            env={**os.environ, "COLUMNS": "160", **(env or {})},
            preexec_fn=preexec,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        err = (exc.stderr or b"").decode(errors="replace")[-1500:]
        raise AssertionError(f"segscope ran over {timeout} s and was killed: {err}") from None
    return Timed(
        proc.returncode,
        proc.stdout.decode(errors="replace"),
        proc.stderr.decode(errors="replace"),
        float("nan"),
        time.monotonic() - begun,
    )


def handled(ran: Ran, *needles: str) -> None:
    """The run either worked (exit 0) or refused the input as the README promises (exit 3, at
    most three lines on stderr naming what it should); never a traceback."""
    assert "Traceback" not in ran.text, ran.err[-3000:]
    if ran.code == 0:
        return
    refused(ran, *needles)


def refused(ran: Ran, *needles: str, codes: tuple[int, ...] = (3,)) -> None:
    """Exit in `codes`, at most three lines on stderr, the refusal said last, no traceback."""
    assert ran.code in codes, (ran.code, ran.err[-3000:])
    assert "Traceback" not in ran.text, ran.err[-3000:]
    lines = ran.err.strip().splitlines()
    assert lines and lines[-1].startswith("segscope: "), ran.err[-3000:]
    assert len(lines) <= 3, ran.err[-3000:]
    for needle in needles:
        assert needle in ran.err, (needle, ran.err)


# --- a PostgreSQL server, one per module ---------------------------------------------------------


def postgres() -> Iterator[Server]:
    """A module's own PostgreSQL server (skipped, saying why, where the machine has none)."""
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server on this machine (.ci/run installs it)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a 'postgres' user to run the server")
    pytest.importorskip("duckdb", reason="the 'db' extra is not installed")
    pytest.importorskip("adbc_driver_postgresql", reason="the 'db' extra is not installed")
    yield from start_server(binaries)


def pg_rows(url: str, sql: str) -> list[dict[str, Any]]:
    """The rows of `sql` run on the database at `url` (as dicts)."""
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(url) as con, con.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetch_arrow_table().to_pylist()
        con.rollback()
    return rows


def _digest(rows: list[Any]) -> str:
    return hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()


def pg_state(server: Server) -> dict[str, Any]:
    """Everything a query could have changed on the server: every table, view and sequence of
    every database (contents, comments), replication slots and origins, large objects, roles
    and when the statistics were last reset."""
    import adbc_driver_postgresql.dbapi as pg

    def rows(cur: Any, sql: str) -> list[dict[str, Any]]:
        cur.execute(sql)
        return cur.fetch_arrow_table().to_pylist()  # type: ignore[no-any-return]

    state: dict[str, Any] = {}
    with pg.connect(server.url("postgres"), autocommit=True) as con, con.cursor() as cur:
        state["slots"] = rows(
            cur, "SELECT slot_name, slot_type FROM pg_replication_slots ORDER BY 1"
        )
        state["origins"] = rows(cur, "SELECT roname FROM pg_replication_origin ORDER BY 1")
        state["roles"] = rows(cur, "SELECT rolname, rolsuper, rolcanlogin FROM pg_roles ORDER BY 1")
        databases = [r["datname"] for r in rows(
            cur, "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1"
        )]  # fmt: skip
    for name in databases:
        with pg.connect(server.url(name), autocommit=True) as con, con.cursor() as cur:
            state[f"{name}.largeobjects"] = rows(
                cur, "SELECT oid::bigint AS o FROM pg_largeobject_metadata ORDER BY 1"
            )
            state[f"{name}.stats_reset"] = rows(
                cur,
                "SELECT stats_reset::text AS t FROM pg_stat_database "
                "WHERE datname = current_database()",
            )
            relations = rows(
                cur,
                "SELECT n.nspname AS s, c.relname AS r, c.relkind::text AS k, "
                "obj_description(c.oid, 'pg_class') AS comment FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'v', 'm', 'p', 'S') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2",
            )
            state[f"{name}.relations"] = relations
            for rel in relations:
                if rel["k"] in ("r", "m", "p"):
                    q = f'"{rel["s"]}"."{rel["r"]}"'
                    found = rows(cur, f"SELECT t::text AS row FROM {q} t")
                    state[f"{name}.{rel['s']}.{rel['r']}"] = _digest([r["row"] for r in found])
    return state


def duck_state(path: Path) -> dict[str, Any]:
    """Every table and view of a DuckDB file, with its contents and comment."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.sql(
            "SELECT schema_name, table_name, comment FROM duckdb_tables() "
            "WHERE database_name = current_database() ORDER BY 1, 2"
        ).fetchall()
        views = con.sql(
            "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal "
            "AND database_name = current_database() ORDER BY 1, 2"
        ).fetchall()
        state: dict[str, Any] = {"tables": tables, "views": views}
        for schema, table, _ in tables:
            rows = con.sql(f'SELECT * FROM "{schema}"."{table}"').fetchall()
            state[f"{schema}.{table}"] = _digest(rows)
    return state


def changes(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[str]:
    """What differs between two states (as paths of keys), to say what a run changed."""
    out = []
    for key in sorted(set(before) | set(after), key=str):
        a, b = before.get(key), after.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += changes(a, b, f"{prefix}{key} / ")
        elif a != b:
            out.append(f"{prefix}{key}: {str(a)[:200]} -> {str(b)[:200]}")
    return out


def files_state(*folders: Path) -> dict[str, str]:
    """Every file under `folders`: its path and a hash of its bytes (a folder: its listing)."""
    state = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                state[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                state[str(path)] = "folder" if path.is_dir() else "other"
    return state


def every_byte(*places: Path) -> bytes:
    """Every byte of every file under `places`, with the members of zip files (a workbook, a
    model) unpacked beside them, so that text compressed inside them is searched too."""
    out = []
    for place in places:
        paths = [place] if place.is_file() else sorted(p for p in place.rglob("*") if p.is_file())
        for path in paths:
            data = path.read_bytes()
            out.append(data)
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as zf:
                    out.extend(zf.read(name) for name in zf.namelist())
            out.append(path.name.encode(errors="surrogateescape"))
    return b"\n".join(out)


def hidden(folder: Path) -> list[str]:
    """Temporary folders segscope left in `folder` (names starting with a dot)."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".")] if folder.exists() else []
