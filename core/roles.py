"""The roles columns play (key, numeric or categorical feature, dates, ignored) and a table's
set of them: the vocabulary shared by inference, the engines, the report and the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Role(str, Enum):
    """What a column is used for."""

    KEY = "key"
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    DATETIME = "datetime"
    IGNORED = "ignored"


FEATURE_ROLES = (Role.NUMERIC, Role.CATEGORICAL, Role.DATETIME)


@dataclass(frozen=True)
class ColumnRole:
    """A column's role and why it was given (`guess`: the values could be read either way)."""

    name: str
    role: Role
    reason: str
    overridden: bool = False
    guess: bool = False


@dataclass
class Schema:
    """The role of every column of a customer table."""

    columns: list[ColumnRole] = field(default_factory=list)

    def __getitem__(self, name: str) -> ColumnRole:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def with_roles(self, *roles: Role) -> list[str]:
        """Column names having any of `roles`."""
        return [c.name for c in self.columns if c.role in roles]

    @property
    def key(self) -> str | None:
        keys = self.with_roles(Role.KEY)
        return keys[0] if keys else None

    @property
    def numeric(self) -> list[str]:
        """Features scaled as numbers (dates included: they become days)."""
        return self.with_roles(Role.NUMERIC, Role.DATETIME)

    @property
    def categorical(self) -> list[str]:
        return self.with_roles(Role.CATEGORICAL)

    @property
    def features(self) -> list[str]:
        return self.with_roles(*FEATURE_ROLES)

    @property
    def left_out(self) -> dict[str, str]:
        """The columns not used as features (the key among them), each with its reason."""
        return {c.name: c.reason for c in self.columns if c.role in (Role.IGNORED, Role.KEY)}

    def to_dict(self) -> dict[str, dict[str, str | bool]]:
        return {
            c.name: {
                "role": c.role.value,
                "reason": c.reason,
                "overridden": c.overridden,
                "guess": c.guess,
            }
            for c in self.columns
        }

    @classmethod
    def from_dict(cls, data: dict[str, dict[str, str | bool]]) -> Schema:
        return cls(
            [
                ColumnRole(
                    name,
                    Role(str(d["role"])),
                    str(d["reason"]),
                    bool(d.get("overridden")),
                    bool(d.get("guess")),
                )
                for name, d in data.items()
            ]
        )
