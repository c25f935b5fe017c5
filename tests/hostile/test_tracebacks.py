"""Issue 25, section 6: never a traceback, and no message that misleads. Each case ends with exit
0, or 3 with at most three lines naming the file, table or column (2 for a setting that cannot
work, naming it); a database column gives the decision its file export gives; what is left out
is said by the command itself."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ..databases import Server, load_duckdb, load_postgres, run_sql
from .cli import in_process
from .corpus import base_table, write_csv
from .harness import handled, hidden, pg_rows, postgres, refused, run


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    yield from postgres()


def _log(n: int = 300, customers: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "transaction_id": np.arange(1, n + 1),
            "customer_id": rng.integers(1, customers + 1, n),
            "date": pd.date_range("2024-01-01", periods=n, freq="D"),
            "amount": rng.normal(50, 10, n).round(2),
        }
    )


def _summary(ran) -> dict:  # type: ignore[no-untyped-def]
    assert ran.code == 0, ran.err[-2000:]
    return json.loads(ran.out)  # type: ignore[no-any-return]


# --- keys, dates and database types -------------------------------------------------------------


def test_a_log_whose_key_has_one_empty_cell(tmp_path: Path) -> None:
    log = _log()
    log["customer_id"] = log["customer_id"].astype("float64")
    log.loc[17, "customer_id"] = np.nan
    book = tmp_path / "shop.xlsx"
    with pd.ExcelWriter(book) as writer:
        base_table(60).to_excel(writer, sheet_name="customers", index=False)
        log.to_excel(writer, sheet_name="transactions", index=False)
    handled(run("sweep", book, "--k", "3", "--out", tmp_path / "out"), "shop.xlsx")


def test_a_postgres_schema_keyed_by_integer_works(server: Server, tmp_path: Path) -> None:
    url = server.create("integer_keys")
    run_sql(
        url,
        "CREATE TABLE customers (customer_id integer PRIMARY KEY, spend double precision, "
        "visits double precision)",
        "INSERT INTO customers SELECT g, 100 + 400 * (g % 2) + (g * 7919) % 20, "
        "2 + 8 * ((g / 2) % 2) FROM generate_series(1, 60) g",
        "CREATE TABLE transactions (transaction_id integer PRIMARY KEY, "
        "customer_id integer REFERENCES customers, date date, amount numeric(10,2))",
        "INSERT INTO transactions SELECT g, 1 + (g * 31) % 60, DATE '2024-01-01' + g, "
        "20 + (g * 17) % 50 FROM generate_series(1, 300) g",
    )
    ran = run("sweep", url, "--k", "3", "--out", tmp_path / "out")
    assert ran.code == 0, ran.err[-2000:]
    assert "Traceback" not in ran.text


def _mixed_offsets(n: int = 60, mixed: bool = True) -> pd.DataFrame:
    df = base_table(n)
    offsets = ["+02:00", "-05:00"] if mixed else ["+02:00"]
    df["joined"] = [
        f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00{offsets[i % len(offsets)]}"
        for i in range(n)
    ]
    return df


def test_dates_mixing_utc_offsets_in_a_sweep(tmp_path: Path) -> None:
    path = write_csv(_mixed_offsets(), tmp_path / "offsets.csv")
    handled(run("sweep", path, "--k", "3", "--out", tmp_path / "out"), "offsets.csv", "joined")


def test_dates_mixing_utc_offsets_when_scoring(tmp_path: Path) -> None:
    trained = write_csv(_mixed_offsets(mixed=False), tmp_path / "october.csv")
    out = tmp_path / "out"
    assert run("sweep", trained, "--k", "3", "--out", out).code == 0
    scored = write_csv(_mixed_offsets(), tmp_path / "november.csv")
    ran = run("score", out / "model.segscope", scored, "--out", tmp_path / "scored")
    handled(ran, "november.csv", "joined")


ODD_COLUMNS = {  # PostgreSQL types that arrive as bytes, in a table of their own or the customers'
    "inet-elsewhere": [
        "CREATE TABLE sessions (session_id bigint, ip inet)",
        "INSERT INTO sessions SELECT g, ('192.168.1.' || (100 + g))::inet "
        "FROM generate_series(1, 50) g",
    ],
    "inet-in-customers": [
        "ALTER TABLE customers ADD COLUMN ip inet",
        "UPDATE customers SET ip = ('192.168.1.' || (100 + customer_id % 100))::inet",
    ],
    "tsrange-elsewhere": [
        "CREATE TABLE periods (period_id bigint, during tsrange)",
        "INSERT INTO periods SELECT g, tsrange(TIMESTAMP '2024-01-01' + g * INTERVAL '1 day', "
        "TIMESTAMP '2024-03-01') FROM generate_series(1, 5) g",
    ],
    "int4range-in-customers": [
        "ALTER TABLE customers ADD COLUMN band int4range",
        "UPDATE customers SET band = int4range(customer_id::int * 300, customer_id::int * 300 + 9)",
    ],
}


@pytest.mark.parametrize("case", list(ODD_COLUMNS))
def test_an_inet_or_range_column_anywhere_in_postgres(
    server: Server, tmp_path: Path, case: str
) -> None:
    url = server.create(case.replace("-", "_"))
    load_postgres(url, {"customers": base_table(60)})
    run_sql(url, *ODD_COLUMNS[case])
    ran = run("sweep", url, "--sheet", "customers", "--k", "3", "--out", tmp_path / "out")
    assert ran.code == 0, ran.err[-2000:]  # the column is left out, the customers are usable
    assert "Traceback" not in ran.text


def test_a_timestamp_of_infinity(server: Server, tmp_path: Path) -> None:
    url = server.create("infinity")
    load_postgres(url, {"customers": base_table(60)})
    run_sql(
        url,
        "ALTER TABLE customers ADD COLUMN last_seen timestamp",
        "UPDATE customers SET last_seen = TIMESTAMP '2024-01-01' + customer_id * INTERVAL '1 day'",
        "UPDATE customers SET last_seen = 'infinity' WHERE customer_id = 7",
    )
    ran = run("sweep", url, "--k", "3", "--out", tmp_path / "out")
    handled(ran, "last_seen")


def test_a_postgres_money_column_is_a_number_as_in_its_csv_export(
    server: Server, tmp_path: Path
) -> None:
    url = server.create("money")
    run_sql(
        url,
        "CREATE TABLE customers (customer_id bigint PRIMARY KEY, spend numeric(10,2), "
        "visits double precision)",
        "INSERT INTO customers SELECT g, (100 + 400 * (g % 2) + (g * 7919) % 20 + g / 100.0)"
        "::numeric(10,2), 2 + 8 * ((g / 2) % 2) FROM generate_series(1, 200) g",
    )
    export = pd.DataFrame(pg_rows(url, "SELECT * FROM customers ORDER BY customer_id"))
    csv = tmp_path / "customers.csv"
    export.to_csv(csv, index=False)  # what psql's \copy ... csv header writes
    from_db = _summary(run("sweep", url, "--k", "3", "--json", "--out", tmp_path / "a"))
    from_csv = _summary(run("sweep", csv, "--k", "3", "--json", "--out", tmp_path / "b"))
    assert "spend" in from_csv["features"]["numeric"]
    assert from_db["features"] == from_csv["features"]
    assert from_db["left_out"] == from_csv["left_out"]


def test_a_sixty_byte_amount_column_keeps_its_spend_feature(server: Server, tmp_path: Path) -> None:
    """A log whose amount column's name is 60 bytes: every feature made from it (the total,
    the average) is used or said to be left out, as from the same log in a file."""
    name = "amount_paid_in_egyptian_pounds_including_value_added_tax_xyz"
    assert len(name.encode()) == 60
    log = _log().rename(columns={"amount": name})
    url = server.create("long_amount")
    load_postgres(url, {"orders": log})
    csv = write_csv(log, tmp_path / "orders.csv")
    from_db = _summary(run("sweep", url, "--k", "3", "--json", "--out", tmp_path / "a"))
    from_csv = _summary(run("sweep", csv, "--k", "3", "--json", "--out", tmp_path / "b"))

    def named(summary: dict) -> list[str]:  # type: ignore[type-arg]
        return sorted([*summary["features"]["numeric"], *summary["left_out"]])

    assert any(name in n for n in named(from_csv))
    assert named(from_db) == named(from_csv)


def test_a_cr_only_csv_is_read_as_the_table_it_is(tmp_path: Path) -> None:
    """Old Mac line ends on 3,000 rows of 9 short columns: the sniffed head holds no newline."""
    df = base_table(3_000)
    rng = np.random.default_rng(4)
    for c in "abcdef":
        df[f"score_{c}"] = rng.integers(0, 9, len(df))
    path = tmp_path / "classic-mac.csv"
    path.write_text(df.to_csv(index=False, lineterminator="\r"))
    summary = _summary(run("sweep", path, "--k", "3", "--json", "--out", tmp_path / "out"))
    assert summary["rows"] == 3_000
    assert "spend" in summary["features"]["numeric"]


def test_the_command_names_the_columns_it_left_out_and_why(tmp_path: Path) -> None:
    df = base_table(60)
    df["comment"] = [f"called on day {i}, said {i * 7} things" for i in range(60)]
    df["constant"] = 1
    path = write_csv(df, tmp_path / "notes.csv")
    out = tmp_path / "out"
    ran = run("sweep", path, "--k", "3", "--out", out)
    assert ran.code == 0, ran.err[-2000:]
    excluded = json.loads((out / "summary.json").read_text())["left_out"]
    assert {"comment", "constant"} <= set(excluded)
    said = ran.out + ran.err
    for column in ("comment", "constant"):
        assert column in said, f"the command does not say it left {column!r} out"


# --- the disk and the file system ---------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 KB tmpfs (needs the right to mount: root or CAP_SYS_ADMIN)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        why = mounted.stderr.decode().strip()
        pytest.skip(f"cannot mount a tmpfs here ({why}); the file-size-limit test covers it")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_full_disk_is_said_and_leaves_nothing(small_disk: Path, tmp_path: Path) -> None:
    """A real full disk: the outputs go to a 16 KB tmpfs."""
    table = write_csv(base_table(2_000), tmp_path / "customers.csv")
    ran = run("sweep", table, "--k", "3", "--out", small_disk / "out")
    refused(ran)
    assert any(w in ran.err.lower() for w in ("full", "no space")), ran.err
    assert os.listdir(small_disk) == [], "something partial was left on the full disk"


def test_a_file_size_limit_is_said_and_leaves_nothing(tmp_path: Path) -> None:
    """The same failure where no tmpfs can be mounted: RLIMIT_FSIZE (ulimit -f) of 8 KB in the
    command's process, so that a write past it fails (EFBIG) as a full disk's would."""
    table = write_csv(base_table(2_000), tmp_path / "customers.csv")
    disk = tmp_path / "disk"
    disk.mkdir()

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    ran = run("sweep", table, "--k", "3", "--out", disk / "out", preexec=limited)
    refused(ran)
    assert os.listdir(disk) == [], "something partial was left"


def test_a_245_character_out_is_handled_before_the_sweep(tmp_path: Path) -> None:
    table = write_csv(base_table(60), tmp_path / "customers.csv")
    out = tmp_path / ("o" * 245)
    ran = run("sweep", table, "--k", "3", "--out", out)
    handled(ran)
    if ran.code == 0:
        assert (out / "labels.csv").exists()
    else:
        assert not out.exists() and hidden(tmp_path) == []


def test_an_unreadable_input_is_refused(tmp_path: Path) -> None:
    table = write_csv(base_table(60), tmp_path / "customers.csv")
    table.chmod(0)
    try:
        if os.access(table, os.R_OK):
            pytest.skip("running as root (or with CAP_DAC_OVERRIDE): a chmod 000 file is readable")
        ran = run("sweep", table, "--k", "3", "--out", tmp_path / "out")
        refused(ran, "customers.csv")
        assert not (tmp_path / "out").exists()
    finally:
        table.chmod(0o644)


def test_an_immutable_target_is_refused(tmp_path: Path) -> None:
    """An empty --out that cannot be replaced: immutable (chattr +i) when running as root, else
    in a folder without write permission."""
    table = write_csv(base_table(60), tmp_path / "customers.csv")
    holder = tmp_path / "holder"
    out = holder / "out"
    out.mkdir(parents=True)
    root = os.geteuid() == 0
    if root:
        made = subprocess.run(["chattr", "+i", str(out)], capture_output=True)
        if made.returncode != 0:
            pytest.skip(f"running as root and chattr +i is refused: {made.stderr.decode()}")
    else:
        holder.chmod(0o555)
    try:
        ran = run("sweep", table, "--k", "3", "--out", out)
        refused(ran, "out")
        assert os.listdir(out) == [] and hidden(holder) == []
    finally:
        if root:
            subprocess.run(["chattr", "-i", str(out)], check=True)
        else:
            holder.chmod(0o755)


@pytest.mark.parametrize("where", ["--out", "default"])
def test_a_file_name_that_is_not_utf8(tmp_path: Path, where: str) -> None:
    name = b"caf\xe9-customers.csv"  # Latin-1, as an old system names it
    folder = tmp_path / "data"
    folder.mkdir()
    path = bytes(folder) + b"/" + name
    with open(path, "wb") as fh:
        fh.write(base_table(60).to_csv(index=False).encode())
    args = ["--out", tmp_path / "out"] if where == "--out" else []
    ran = run("sweep", path, "--k", "3", *args, cwd=tmp_path)
    handled(ran, "caf")


def test_a_malformed_ipv6_url_is_refused(tmp_path: Path) -> None:
    ran = run("sweep", "postgresql://analyst@[::1:5432/crm", "--k", "3", "--out", tmp_path / "o")
    refused(ran, codes=(2, 3))


# --- settings in the environment ----------------------------------------------------------------

SETTINGS = [
    *[("SEGSCOPE_MAX_BYTES", v) for v in ("²", "100KB", "0", "-1")],
    *[
        (variable, v)
        for variable in (
            "SEGSCOPE_MAX_CELLS",
            "SEGSCOPE_MAX_COLUMNS",
            "SEGSCOPE_MAX_FIELD",
            "SEGSCOPE_DB_TIMEOUT",
            "SEGSCOPE_THREADS",
        )
        for v in ("²", "0", "abc")
    ],
]


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return load_duckdb(
        tmp_path_factory.mktemp("env") / "shop.duckdb", {"customers": base_table(60)}
    )


@pytest.mark.parametrize(("variable", "value"), SETTINGS, ids=[f"{v}={x}" for v, x in SETTINGS])
def test_a_setting_that_cannot_work_is_a_usage_error_naming_it(
    duck: Path, tmp_path: Path, variable: str, value: str
) -> None:
    """In this process (the command's own entry point): the check comes before anything is read,
    so the 19 cases cost milliseconds, not a process each."""
    ran = in_process("sweep", duck, "--k", "3", "--out", tmp_path / "out", env={variable: value})
    refused(ran, variable, codes=(2,))
    assert not (tmp_path / "out").exists()


def test_a_db_timeout_beyond_what_postgres_accepts_is_a_usage_error(
    server: Server, tmp_path: Path
) -> None:
    url = server.create("timeouts")
    load_postgres(url, {"customers": base_table(60)})
    env = {"SEGSCOPE_DB_TIMEOUT": "3000000"}  # 3e9 ms: PostgreSQL takes at most 2^31-1 ms
    ran = run("sweep", url, "--k", "3", "--out", tmp_path / "out", env=env)
    refused(ran, "SEGSCOPE_DB_TIMEOUT", codes=(2,))
