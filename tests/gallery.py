"""The gallery's truth tables (tests/data/gallery/*.toml) and segscope's decisions on the same
table, in the truth tables' words: a role per column of a customers table, a measure per column
of a log. See tests/data/gallery/README.md for the vocabulary."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from segscope.core.engines.local import prepare_tables
from segscope.core.engines.results import Prepared
from segscope.core.features.measures import Kind
from segscope.core.roles import Role
from segscope.core.settings import DataChoices
from segscope.core.sources.reading import read_source

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest brings tomli where Python has no tomllib
    import tomli as tomllib

GALLERY = Path(__file__).parent / "data" / "gallery"
ROLE_WORDS = {
    Role.KEY: "key",
    Role.NUMERIC: "numeric",
    Role.CATEGORICAL: "categorical",
    Role.DATETIME: "date",
    Role.IGNORED: "excluded",
}


def options(text: str) -> set[str]:
    """The alternatives a truth table accepts ("numeric | categorical")."""
    return {part.strip() for part in str(text).split("|")}


@dataclass(frozen=True)
class Truth:
    """One table's truth table."""

    name: str
    table: dict[str, Any]
    roles: dict[str, dict[str, Any]]  # customers-table column -> its entry (role, reason, ...)
    measures: dict[str, dict[str, Any]]  # log column -> its entry (measure, as, ...)

    @property
    def path(self) -> Path:
        return GALLERY / self.table["file"]

    @property
    def shape(self) -> str:
        return str(self.table["shape"])

    @property
    def held_out(self) -> bool:
        return bool(self.table.get("held_out"))


def truths() -> list[Truth]:
    """Every truth table of the gallery, by name."""
    out = []
    for path in sorted(GALLERY.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if "table" not in data:
            continue  # differences.toml
        table = data["table"]
        if table["shape"] == "customers":
            roles, measures = data.get("columns", {}), {}
        elif table["shape"] == "log":
            roles, measures = {}, data.get("columns", {})
        else:
            roles, measures = data.get("customers", {}), data.get("log", {})
        out.append(Truth(path.stem, table, roles, measures))
    return out


@cache
def prepared(name: str) -> Prepared:
    """The table as segscope prepares it with no choice made (as `segscope sweep FILE` does)."""
    truth = next(t for t in truths() if t.name == name)
    return prepare_tables(read_source(truth.path), DataChoices())


def measure_words(kinds: set[Kind]) -> str:
    """What a log column gave, in the truth tables' words."""
    if not kinds:
        return "none"
    if kinds & {Kind.LATEST, Kind.EARLIEST}:
        return "recency+tenure"
    if Kind.ATTRIBUTE in kinds:
        return "attribute"
    if Kind.COUNT_OF in kinds:
        return "count_per_value"
    if kinds & {Kind.SHARE, Kind.SHARE_OF}:
        return "share"
    if Kind.DISTINCT in kinds:
        return "distinct"
    if Kind.SUM in kinds:
        return "sum+mean"
    return "mean"


@dataclass
class Verdict:
    """segscope's decisions beside the truth table's, column by column."""

    truth: Truth
    key: str | None
    log: str | None
    agree: dict[str, bool] = field(default_factory=dict)  # column -> decided as the analyst did
    said: dict[str, str] = field(default_factory=dict)  # column -> segscope's decision in words

    @property
    def disagreements(self) -> dict[str, str]:
        want = {**self.truth.roles, **self.truth.measures}
        return {
            c: f"segscope: {self.said.get(c, '?')}; analyst: "
            f"{want[c].get('role', want[c].get('measure'))}"
            for c, ok in self.agree.items()
            if not ok
        }


def verdict(truth: Truth) -> Verdict:
    """segscope's decisions on `truth`'s table, compared with the analyst's."""
    prep = prepared(truth.name)
    plan, schema = prep.frame.plan, prep.schema
    out = Verdict(truth, plan.key, plan.transactions)
    features = set(schema.features)
    for column, entry in truth.roles.items():
        role = ROLE_WORDS[schema[column].role] if column in schema else "missing"
        out.said[column] = role
        out.agree[column] = role in options(entry["role"])
    kinds = {m.name: m.kind for m in plan.measures}
    uses = {u.column: u for u in plan.log_columns}
    for column, entry in truth.measures.items():
        if column == plan.key:
            out.said[column] = "none"
            out.agree[column] = "none" in options(entry["measure"])
            continue
        use = uses.get(column)
        built = list(use.built) if use else []
        kept = [b for b in built if b in features]
        words = measure_words({kinds[b] for b in built}) if kept else "none"
        ok = words in options(entry["measure"])
        if ok and words == "attribute" and "as" in entry:
            role = ROLE_WORDS[schema[kept[0]].role]
            ok = role in options(entry["as"])
            words += f" as {role}"
        out.said[column] = words
        out.agree[column] = ok
    return out
