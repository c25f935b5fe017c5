"""The elbow and silhouette charts as textual-plotext widgets, drawn by core.describing.charts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual_plotext import PlotextPlot

from segscope.core.describing.charts import draw_elbow, draw_silhouette

if TYPE_CHECKING:
    from segscope.core.clustering.sweep import KResult


class SweepChart(PlotextPlot):
    """Inertia (elbow) or silhouette against k, with one k marked."""

    def __init__(self, kind: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.kind = kind

    def show(self, results: Sequence[KResult], mark: int | None) -> None:
        """Redraw with these results."""
        draw = draw_elbow if self.kind == "elbow" else draw_silhouette
        draw(self.plt, results, mark)
        self.refresh()
