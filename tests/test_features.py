"""Customer frames: lookups joined, transaction logs aggregated, nothing silently dropped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sample_data.generate import shop_tables
from segscope.core.errors import DataError
from segscope.core.features.pandas_executor import build_customer_frame
from segscope.core.features.tables import guess_sheets
from segscope.core.settings import DataChoices
from segscope.core.sources.reading import read_source


def load_tables(path: Path) -> dict[str, pd.DataFrame]:
    return read_source(path).tables


def test_workbook_guess_joins_and_behaviour(shop_xlsx: Path) -> None:
    tables = load_tables(shop_xlsx)
    guess = guess_sheets(tables)
    assert (guess.customers, guess.transactions, guess.key) == (
        "customers",
        "transactions",
        "customer_id",
    )
    frame = build_customer_frame(tables)
    data = frame.data
    assert len(data) == len(tables["customers"])
    assert {"gender_name", "city_name"} <= set(data.columns)
    tx = tables["transactions"]
    counts = tx.groupby("customer_id").size()
    burned = tx[tx["transaction_status"] == "burned"].groupby("customer_id").size()
    row = data.set_index("customer_id").loc[counts.index[0]]
    assert row["transactions"] == counts.iloc[0]
    assert row["n_burned"] == burned.get(counts.index[0], 0)
    assert row["burned_rate"] == pytest.approx(row["n_burned"] / row["transactions"])
    last = tx.loc[tx["customer_id"] == counts.index[0], "transaction_date"].max()
    assert row["days_since_last"] == (frame.reference_date - last).days
    assert frame.meanings["burn_rate"] == "burned_rate"
    assert frame.plan.coded == {"gender_id": "gender_name", "city_id": "city_name"}
    assert any("joined 'cities'" in d for d in frame.decisions)


def test_customers_without_transactions_get_zeros_not_dropped() -> None:
    tables = shop_tables(n_customers=60, seed=1)
    tables["customers"] = tables["customers"].drop(columns="planted")
    quiet = tables["customers"]["customer_id"].iloc[:5]
    tables["transactions"] = tables["transactions"][
        ~tables["transactions"]["customer_id"].isin(quiet)
    ]
    frame = build_customer_frame(tables)
    assert len(frame.data) == 60
    rows = frame.data[frame.data["customer_id"].isin(quiet)]
    assert (rows["transactions"] == 0).all() and (rows["n_burned"] == 0).all()
    joined = (frame.reference_date - rows["join_date"]).dt.days
    assert (rows["days_since_last"] == joined).all()
    assert any("5 customers have no transactions" in d for d in frame.decisions)


def test_plain_transaction_log_becomes_rfm(orders_csv: Path) -> None:
    tables = load_tables(orders_csv)
    frame = build_customer_frame(tables)
    log = tables["orders"]
    assert len(frame.data) == log["customer_id"].nunique()
    one = frame.data.set_index("customer_id").loc[1]
    mine = log[log["customer_id"] == 1]
    assert one["transactions"] == len(mine)
    assert one["total_dollar_value"] == pytest.approx(mine["dollar_value"].sum())
    assert one["avg_dollar_value"] == pytest.approx(mine["dollar_value"].mean())
    assert frame.meanings == {
        "frequency": "transactions",
        "recency": "days_since_last",
        "monetary": "total_dollar_value",
        "tenure": "days_since_first",  # no join date: the first transaction says how long
    }


def test_a_repeating_key_cannot_be_the_customer_table() -> None:
    tables = {"c": pd.DataFrame({"customer_id": [1, 1, 2], "spend": [1.0, 2.0, 3.0]})}
    with pytest.raises(DataError, match="repeats on 1 rows"):
        build_customer_frame(tables, DataChoices(customers="c"))


def test_unknown_sheet_is_named(shop_xlsx: Path) -> None:
    with pytest.raises(DataError, match="no sheet 'clients'"):
        build_customer_frame(load_tables(shop_xlsx), DataChoices(customers="clients"))


def test_text_dates_in_a_customer_table_become_days(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    rows = [f"{i},{2020 + i % 4}-0{1 + i % 9}-1{i % 9},{i * 1.5}" for i in range(1, 41)]
    path.write_text("customer_id,joined_on,spend\n" + "\n".join(rows) + "\n")
    tables = load_tables(path)
    frame = build_customer_frame(tables)
    assert frame.reference_date == pd.Timestamp("2023-09-18")
    assert pd.api.types.is_datetime64_any_dtype(frame.data["joined_on"])
    assert tables["c"]["joined_on"].dtype != frame.data["joined_on"].dtype  # input untouched
    assert any("days before 2023-09-18" in d for d in frame.decisions)


def test_measures_are_named_by_what_they_count(shop_xlsx: Path) -> None:
    frame = build_customer_frame(load_tables(shop_xlsx))
    assert frame.title("n_subscribed") == "transactions 'subscribed'"
    assert frame.title("burned_rate") == "share of transactions 'burned'"


def test_a_table_without_a_key_says_so() -> None:
    table = pd.DataFrame({"spend": [1.0, 2.0, 3.0, 4.0], "visits": [1, 2, 2, 3]})
    frame = build_customer_frame({"t": table})
    assert frame.key is None
    assert (
        frame.decisions[0] == "customers: 4 rows from 't', no key column (customers are numbered)"
    )
