"""Elbow and silhouette charts drawn with plotext; the same code serves the CLI, report and TUI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from segscope.core.sweep import KResult


def draw_elbow(plt: Any, results: Sequence[KResult], knee: int | None = None) -> None:
    """Inertia vs k on a plotext-like `plt`, the knee marked."""
    plt.clear_data()
    plt.title("Elbow: inertia vs k" + (f" (knee k={knee})" if knee else ""))
    ks = [r.k for r in results]
    if not ks:
        return
    plt.plot(ks, [r.inertia for r in results], marker="braille", color="cyan")
    plt.scatter(ks, [r.inertia for r in results], marker="●", color="cyan")
    if knee in ks:
        plt.vline(knee, color="orange")
    plt.xticks(ks)
    plt.xlabel("k")


def draw_silhouette(plt: Any, results: Sequence[KResult], chosen: int | None = None) -> None:
    """Silhouette vs k on a plotext-like `plt`, the chosen k marked."""
    plt.clear_data()
    plt.title("Silhouette vs k" + (f" (chosen k={chosen})" if chosen else ""))
    pts = [(r.k, r.silhouette) for r in results if np.isfinite(r.silhouette)]
    if not pts:
        return
    ks, sil = zip(*pts, strict=True)
    plt.plot(list(ks), list(sil), marker="braille", color="green")
    plt.scatter(list(ks), list(sil), marker="●", color="green")
    if chosen in ks:
        plt.vline(chosen, color="orange")
    plt.xticks(list(ks))
    plt.xlabel("k")


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
