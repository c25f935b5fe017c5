"""The benchmarks' data: planted customer tables of any size."""

from __future__ import annotations

import pandas as pd

from sample_data.generate import planted_customers

KS = list(range(2, 11))


def table(n: int) -> pd.DataFrame:
    """`gender_id` (2 codes), `city_id` (50 skewed codes), 5 numbers, 4 planted segments (the
    truth in `planted`, not a feature)."""
    return planted_customers(n=n, k=4, seed=1)
