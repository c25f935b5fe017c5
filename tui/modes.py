"""The app's screens (its modes), in the order of the flow: the one list the bar, the bindings
and the command palette are made from."""

from __future__ import annotations

from typing import NamedTuple


class Mode(NamedTuple):
    """One of the app's main screens: the key that shows it, its title and its mode name."""

    key: str
    title: str
    name: str


SCREENS = (
    Mode("1", "Data", "data"),
    Mode("2", "Sweep", "sweep"),
    Mode("3", "Segments", "segments"),
    Mode("4", "Export", "export"),
)
