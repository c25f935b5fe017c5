"""A real PostgreSQL server for the tests, started on a free local port in a folder of its own
(the machine's initdb and pg_ctl: on PATH or Debian's /usr/lib/postgresql/*/bin), and tables
loaded into PostgreSQL and DuckDB exactly as a file holds them."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

SUPERUSER = "segscope"
ANALYST, ANALYST_PASSWORD = "analyst", "s3cret-Pa55"  # a role that signs in with a password


def server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, if the machine has PostgreSQL."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running PostgreSQL server: its port, and URLs for new databases on it."""

    port: int
    folder: Path

    def url(self, database: str, user: str = SUPERUSER, password: str | None = None) -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://{user}{secret}@127.0.0.1:{self.port}/{database}"

    def create(self, database: str) -> str:
        """A new empty database; its URL (as the superuser)."""
        run_sql(self.url("postgres"), f'CREATE DATABASE "{database}"', autocommit=True)
        return self.url(database)


def run_sql(url: str, *statements: str, autocommit: bool = False) -> None:
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(url, autocommit=autocommit) as con, con.cursor() as cur:
        for sql in statements:
            cur.execute(sql)
        if not autocommit:
            con.commit()


def _as_postgres(cmd: list[str]) -> list[str]:
    """Run as the 'postgres' user when we are root (the server refuses to run as root)."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def start_server(binaries: Path) -> Generator[Server, None, None]:
    """initdb a cluster in a temporary folder, start it, yield it, stop it and remove it."""
    folder = Path(tempfile.mkdtemp(prefix="segscope-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", _free_port()
    subprocess.run(
        _as_postgres([str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust"]),
        check=True,
        capture_output=True,
    )
    hba = data / "pg_hba.conf"  # the analyst signs in with a password; the superuser is trusted
    hba.write_text(f"host all {ANALYST} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_postgres(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(folder / "log"),
                "-w",
                "start",
            ]
        ),  # fmt: skip
        check=True,
        capture_output=True,
    )
    server = Server(port, folder)
    try:
        run_sql(
            server.url("postgres"),
            f"CREATE ROLE {ANALYST} LOGIN PASSWORD '{ANALYST_PASSWORD}'",
            autocommit=True,
        )
        yield server
    finally:
        subprocess.run(
            _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def load_postgres(url: str, tables: dict[str, pd.DataFrame]) -> None:
    """Each table into PostgreSQL as it is (names and types kept)."""
    import adbc_driver_postgresql.dbapi as pg
    import pyarrow as pa

    with pg.connect(url) as con, con.cursor() as cur:
        for name, frame in tables.items():
            cur.adbc_ingest(name, pa.Table.from_pandas(frame, preserve_index=False), mode="create")
        con.commit()


def load_duckdb(path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """Each table into a new DuckDB file as it is."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")
    return path
