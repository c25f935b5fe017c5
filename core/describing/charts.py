"""Elbow and silhouette charts drawn with plotext; the same code serves the CLI, report and TUI."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from segscope.core.text import number

if TYPE_CHECKING:
    from segscope.core.clustering.sweep import KResult


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round, evenly spaced values within low..high, about `count` of them (steps of 1, 2, 2.5
    or 5 times a power of ten)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        return [low]
    raw = (high - low) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = min((m * power for m in (1, 2, 2.5, 5, 10)), key=lambda s: abs(s - raw))
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(round(value, 10))
        value += step
    return ticks


def _draw(
    plt: Any, xs: list[int], ys: list[float], title: str, mark: int | None, color: str
) -> None:
    plt.clear_data()
    plt.title(title)
    if not xs:
        return
    plt.plot(xs, ys, marker="hd", color=color)
    plt.scatter(xs, ys, marker="hd", color=color)
    if mark in xs:
        plt.vline(mark, color="orange")
    plt.xticks(xs)
    ticks = nice_ticks(min(ys), max(ys))
    if ticks:
        plt.yticks(ticks, [number(v) for v in ticks])


def draw_elbow(plt: Any, results: Sequence[KResult], knee: int | None = None) -> None:
    """Inertia vs k on a plotext-like `plt`, the knee marked."""
    title = "Elbow: inertia vs k" + (f" (knee k={knee})" if knee else "")
    _draw(plt, [r.k for r in results], [r.inertia for r in results], title, knee, "cyan")


def draw_silhouette(plt: Any, results: Sequence[KResult], chosen: int | None = None) -> None:
    """Silhouette vs k on a plotext-like `plt`, the chosen k marked."""
    pts = [(r.k, r.silhouette) for r in results if math.isfinite(r.silhouette)]
    title = "Silhouette vs k" + (f" (chosen k={chosen})" if chosen else "")
    _draw(plt, [k for k, _ in pts], [s for _, s in pts], title, chosen, "green")


def charts_text(
    results: Sequence[KResult],
    knee: int | None,
    chosen: int | None,
    width: int = 70,
    color: bool = False,
) -> str:
    """Both charts as text for a terminal (`color`) or for report.md (plain)."""
    import plotext as plt

    out = []
    for draw, mark in ((draw_elbow, knee), (draw_silhouette, chosen)):
        plt.clear_figure()
        plt.plotsize(width, 16)
        plt.theme("clear")
        draw(plt, results, mark)
        text = plt.build()
        out.append(text if color else plt.uncolorize(text))
    plt.clear_figure()
    return "\n".join(out)
