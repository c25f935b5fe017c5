"""Deterministic sample data with planted segments.

`python -m sample_data.generate` rewrites the bundled files:
- shop.xlsx: the same sheets and columns as the user's coupon workbook (customers, genders,
  cities, transactions, branches, merchants), with four behaviour segments planted in it;
- customers.csv: a flat customer table with four planted segments;
- orders.csv: a plain transaction log (customer_id, date, number_of_items, dollar_value).
"""

from __future__ import annotations

import string
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
END = pd.Timestamp("2024-10-31")
CITIES = [
    "Cairo", "Alexandria", "Giza", "Shubra El-Kheima", "Port Said", "Suez", "Mansoura",
    "El-Mahalla El-Kubra", "Tanta", "Asyut", "Ismailia", "Faiyum", "Zagazig", "Damietta",
    "Aswan", "Minya", "Beni Suef", "Qena", "Sohag", "Hurghada",
]  # fmt: skip
MERCHANTS = [f"Merchant {c}" for c in string.ascii_uppercase[:12]]

# name, share, transactions (Poisson mean), burn probability, days since last active, join age
SHOP_SEGMENTS = [
    ("loyal redeemers", 0.30, 10.0, 0.85, (0, 60), (500, 1000)),
    ("coupon collectors", 0.25, 8.0, 0.05, (0, 90), (400, 1000)),
    ("lapsed", 0.25, 2.5, 0.40, (300, 600), (650, 1000)),
    ("newcomers", 0.20, 2.0, 0.50, (0, 45), (20, 150)),
]


def shop_tables(n_customers: int = 2000, seed: int = 7) -> dict[str, pd.DataFrame]:
    """The workbook's sheets; the planted segment is returned as customers['planted']."""
    rng = np.random.default_rng(seed)
    shares = [s[1] for s in SHOP_SEGMENTS]
    planted = rng.choice(len(SHOP_SEGMENTS), n_customers, p=shares)
    city_w = 1 / np.arange(1, len(CITIES) + 1)
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(1, n_customers + 1),
            "join_date": pd.NaT,
            "city_id": rng.choice(len(CITIES), n_customers, p=city_w / city_w.sum()) + 1,
            "gender_id": rng.integers(1, 3, n_customers),
        }
    )
    rows = []
    joins = []
    for cid, seg in zip(customers["customer_id"], planted, strict=True):
        _, _, lam, burn_p, (last_lo, last_hi), (join_lo, join_hi) = SHOP_SEGMENTS[seg]
        join_age = int(rng.integers(join_lo, join_hi))
        joins.append(END - pd.Timedelta(days=join_age))
        last_age = min(int(rng.integers(last_lo, last_hi)), join_age)
        for _ in range(max(1, rng.poisson(lam))):
            age = int(rng.integers(last_age, join_age + 1))
            when = END - pd.Timedelta(days=age)
            burned = rng.random() < burn_p
            burn = when + pd.Timedelta(days=int(rng.integers(1, 30))) if burned else pd.NaT
            rows.append(
                (cid, when, "burned" if burned else "subscribed", burn, rng.integers(1, 16))
            )
    customers["join_date"] = pd.to_datetime(joins).astype("datetime64[s]")
    tx = pd.DataFrame(rows, columns=["customer_id", "transaction_date", "transaction_status",
                                     "burn_date", "branch_id"])  # fmt: skip
    tx.insert(0, "transaction_id", np.arange(1, len(tx) + 1))
    letters = np.array(list(string.ascii_letters))
    tx.insert(
        4,
        "coupon_name",
        ["".join(rng.choice(letters, 3)) + f"-{rng.integers(100, 999)}" for _ in range(len(tx))],
    )
    tx["transaction_date"] = tx["transaction_date"].astype("datetime64[s]")
    tx["burn_date"] = tx["burn_date"].astype("datetime64[s]")
    branches = pd.DataFrame(
        {"branch_id": np.arange(1, 16), "merchant_id": rng.integers(1, len(MERCHANTS) + 1, 15)}
    )
    return {
        "customers": customers.assign(planted=planted + 1),
        "genders": pd.DataFrame({"gender_id": [1, 2], "gender_name": ["Male", "Female"]}),
        "cities": pd.DataFrame({"city_id": np.arange(1, len(CITIES) + 1), "city_name": CITIES}),
        "transactions": tx,
        "branches": branches,
        "merchants": pd.DataFrame(
            {"merchant_id": np.arange(1, len(MERCHANTS) + 1), "merchant_name": MERCHANTS}
        ),
    }


def write_workbook(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """Write sheets to .xlsx with fixed document dates, so the file is reproducible."""
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in tables.items():
            df.to_excel(xw, sheet_name=name, index=False)
        fixed = datetime(2024, 11, 1)
        xw.book.properties.created = fixed
        xw.book.properties.modified = fixed


def planted_customers(
    n: int = 3000, k: int = 4, seed: int = 11, noise_categoricals: bool = True
) -> pd.DataFrame:
    """A flat customer table with `k` planted segments in 5 numeric behaviour columns.

    gender_id (2 codes) and city_id (50 skewed codes) are noise unless they are the segment.
    The true segment is in column 'planted' (not a feature: drop it before segmenting).
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4.0, size=(k, 5))
    planted = rng.integers(0, k, n)
    values = centres[planted] + rng.normal(0, 1.0, size=(n, 5))
    scale = np.array([12, 8_000, 20, 3, 60])
    base = np.array([40, 30_000, 50, 6, 120])
    values = base + values * scale / 4
    df = pd.DataFrame(
        {
            "customer_id": np.arange(100_001, 100_001 + n),
            "age": values[:, 0].round(0).clip(18, 90),
            "annual_income": values[:, 1].round(-2).clip(5_000, None),
            "spending_score": values[:, 2].round(1).clip(0, 100),
            "visits_per_month": values[:, 3].round(1).clip(0, None),
            "days_since_last_visit": values[:, 4].round(0).clip(0, None),
        }
    )
    if noise_categoricals:
        city_w = 1 / np.arange(1, 51) ** 1.1
        df["gender_id"] = rng.integers(1, 3, n)
        df["city_id"] = rng.choice(50, n, p=city_w / city_w.sum()) + 1
    df["planted"] = planted + 1
    return df


def orders_log(n_customers: int = 500, seed: int = 5) -> pd.DataFrame:
    """A plain transaction log: customer_id, date, number_of_items, dollar_value."""
    rng = np.random.default_rng(seed)
    rows = []
    for cid in range(1, n_customers + 1):
        heavy = rng.random() < 0.3
        for _ in range(1 + rng.poisson(8 if heavy else 1.5)):
            items = int(rng.integers(1, 6))
            rows.append(
                (
                    cid,
                    (END - pd.Timedelta(days=int(rng.integers(0, 540)))).date().isoformat(),
                    items,
                    round(items * float(rng.gamma(4, 4 if heavy else 2.5)), 2),
                )
            )
    return pd.DataFrame(rows, columns=["customer_id", "date", "number_of_items", "dollar_value"])


def main() -> None:
    shop = shop_tables()
    shop["customers"] = shop["customers"].drop(columns="planted")
    write_workbook(shop, HERE / "shop.xlsx")
    planted_customers().drop(columns="planted").to_csv(HERE / "customers.csv", index=False)
    orders_log().to_csv(HERE / "orders.csv", index=False)
    print(f"wrote shop.xlsx, customers.csv and orders.csv to {HERE}")


if __name__ == "__main__":
    main()
