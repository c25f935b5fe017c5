"""Fuzzing the readers: random bytes and random mutations of valid CSV, gzip, xlsx and Parquet
files. Whatever the file, the command ends with 0 or 3 (a short message), never a traceback,
and its memory stays bounded."""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .cli import assert_refused, in_process, peak_mib, reset_peak
from .corpus import base_table

SUFFIXES = [".csv", ".tsv", ".csv.gz", ".xlsx", ".parquet"]
FUZZ = settings(
    max_examples=int(os.environ.get("SEGSCOPE_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def valid_bytes(suffix: str) -> bytes:
    """A small valid file of this kind."""
    df = base_table(24)
    if suffix == ".csv":
        return df.to_csv(index=False).encode()
    if suffix == ".tsv":
        return df.to_csv(index=False, sep="\t").encode()
    if suffix == ".csv.gz":
        return gzip.compress(df.to_csv(index=False).encode())
    buf = io.BytesIO()
    if suffix == ".xlsx":
        df.to_excel(buf, index=False, engine="openpyxl")
    else:
        df.to_parquet(buf)
    return buf.getvalue()


VALID = {s: valid_bytes(s) for s in SUFFIXES}


PEAK_MIB = 1024  # a run on a file of at most a few KB grows by well under this
CEILING_MIB = 3072  # and this process (the whole test run) stays under this


def check(path: Path, out: Path) -> None:
    """0 or 3, never a traceback; a refusal is short and names the file; the run's own peak
    memory (the process's peak reset before it) stays bounded."""
    reset_peak()
    before = peak_mib()
    ran = in_process("sweep", path, "--k", "2-3", "--out", out, "--force")
    peak = peak_mib()
    assert peak - before < PEAK_MIB, f"the run on {path.name} took {peak - before:,.0f} MiB more"
    assert peak < CEILING_MIB, f"this process reached {peak:,.0f} MiB"
    if ran.code == 3:
        assert_refused(ran, path.name)
    else:
        assert ran.code == 0, ran.err
        assert "Traceback" not in ran.text


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(data=st.binary(max_size=2048), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(folder: Path, data: bytes, suffix: str) -> None:
    path = folder / f"random{suffix}"
    path.write_bytes(data)
    check(path, folder / "out-random")


@FUZZ
@given(
    suffix=st.sampled_from(SUFFIXES),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=12),
    cut=st.floats(0.05, 1),
)
def test_mutated_valid_files(
    folder: Path, suffix: str, flips: list[tuple[float, int]], cut: float
) -> None:
    data = bytearray(VALID[suffix])
    for where, byte in flips:
        data[int(where * len(data))] = byte
    path = folder / f"mutated{suffix}"
    path.write_bytes(bytes(data[: max(1, int(cut * len(data)))]))
    check(path, folder / "out-mutated")
