"""Scoring new customers with a saved model, and choosing a model to number segments like."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from segscope.core.describing.views import drift_view, movement_view, score_sizes_view
from segscope.core.files import default_out_dir
from segscope.core.text import one_line
from segscope.tui.messages import ScoreWith
from segscope.tui.widgets.files import PathInput
from segscope.tui.widgets.tables import ViewTable

if TYPE_CHECKING:
    from segscope.core.models.model import SegmentModel
    from segscope.core.models.scoring import ScoreResult


class PathPrompt(ModalScreen[Path | None]):
    """Ask for one path; Enter answers, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = "") -> None:
        super().__init__()
        self.question, self.value = question, value

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Label(Text(self.question))
            yield PathInput(self.value, id="answer")
            yield Label("Enter accepts, Tab completes, Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#answer", Input).focus()  # typing goes to the path at once

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(Path(event.value.strip()).expanduser() if event.value.strip() else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ScoreScreen(ModalScreen[None]):
    """Label a file's customers with a saved model; show how they compare with training."""

    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="score") as box:
            box.border_title = "Score new customers with a saved model"
            yield Label("model file (model.segscope)")
            yield PathInput(id="model")
            yield Label("customer data (same layout as the training data)")
            yield PathInput(id="data")
            yield Label("earlier labels, to say who moved (optional: an earlier labels.csv)")
            yield PathInput(id="previous")
            yield Label("output folder")
            yield Input(id="out")
            yield Button("Score (Enter)", id="go", variant="primary")
            yield Static("", id="score-result")
            yield ViewTable(id="sizes")
            yield Static("", id="moved-text")
            yield ViewTable(id="moved")
            yield ViewTable(id="drift")
            yield Label("Esc closes", classes="hint")

    def on_mount(self) -> None:
        for table in self.query(ViewTable):
            table.display = False
        self.query_one("#model", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "data" and event.value and not self.query_one("#out", Input).value:
            self.query_one("#out", Input).value = str(default_out_dir(event.value))
        self.focus_next()
        if event.input.id == "out":
            self.run_score()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.run_score()

    def run_score(self) -> None:
        fields = ("model", "data", "out", "previous")
        values = [self.query_one(f"#{i}", Input).value.strip() for i in fields]
        if not all(values[:2]):
            self.notify("Give a model file and a data file.", severity="warning")
            return
        model_text, data_text, out_text, previous_text = values
        model_path, data_path = Path(model_text).expanduser(), Path(data_text).expanduser()
        target = Path(out_text).expanduser() if out_text else default_out_dir(data_path)
        previous = Path(previous_text).expanduser() if previous_text else None
        self.query_one("#score-result", Static).update("Scoring…")
        self.post_message(ScoreWith(model_path, data_path, target, previous))

    def show(self, model: SegmentModel, result: ScoreResult, written: list[Path]) -> None:
        """The scoring run's result (the app calls this when its worker is done)."""
        sizes, drift = self.query_one("#sizes", ViewTable), self.query_one("#drift", ViewTable)
        sizes.show(score_sizes_view(result.sizes, model.segment_sizes))
        drift.show(drift_view(result.moved(10)))
        sizes.display = drift.display = True
        moved, moved_text = (
            self.query_one("#moved", ViewTable),
            self.query_one("#moved-text", Static),
        )
        m = result.movement
        moved.display = m is not None
        if m is not None:
            moved.show(movement_view(m.table, m.new, m.gone))
            said = [*m.lines(), *(f"⚠ {w}" for w in m.warnings)]
            moved_text.update(Text("\n".join(one_line(line) for line in said)))
        else:
            moved_text.update("")
        lines = [
            f"Far from every segment: {result.outliers:,}",
            *[f"⚠ {one_line(w)}" for w in result.warnings],
            f"Wrote {', '.join(p.name for p in written)} to {one_line(written[0].parent)}",
        ]
        self.query_one("#score-result", Static).update(Text("\n".join(lines)))
        sizes.focus()
