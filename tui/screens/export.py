"""Screen 4: write the output folder; copy the segment table."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Input, Label, Static

from segscope.core.errors import DataError
from segscope.core.files import OUTPUT_FILES, OutputFolder, default_out_dir
from segscope.core.text import one_line
from segscope.tui.messages import CopySegments, ExportTo
from segscope.tui.screens.base import SessionScreen
from segscope.tui.screens.dialogs import ConfirmScreen
from segscope.tui.widgets.bar import AppBar


class ExportScreen(SessionScreen):
    """Write labels, profiles, sweep, summary, report and model into a folder."""

    HOME = "#write"
    BINDINGS = [
        Binding("w", "write", "Write files"),
        Binding("e", "edit", "Edit folder"),
        Binding("c", "copy", "Copy table"),
        SessionScreen.LEAVE_INPUT,
    ]

    def compose(self) -> ComposeResult:
        yield AppBar()
        yield Static("", id="export-intro")
        with Horizontal(id="export-row"):
            yield Label("folder", classes="field-label")
            yield Input(id="out-path")
            yield Button("Write (w)", id="write", variant="primary")
        yield Static("", id="export-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#write", Button).focus()

    def action_write(self) -> None:
        value = self.query_one("#out-path", Input).value.strip()
        if not value:
            self.notify("Type an output folder first (e).", severity="warning")
            return
        target = Path(value).expanduser()
        run = self.session.run
        if run is None or self.session.segmentation is None:
            self.notify("Nothing to export yet: run a sweep (screen 2).", severity="warning")
            return
        try:  # the engine that ran the sweep says whether its outputs may be written there
            replaces = run.engine.check_outputs(OutputFolder(target, True, self.session.inputs))
        except DataError as exc:
            self.notify(one_line(exc), title="Not written", severity="error", markup=False)
            return
        if not replaces:
            self.post_message(ExportTo(target, False))
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.post_message(ExportTo(target, True))

        question = f"{one_line(target, 80)} holds an earlier segscope output. Replace it?"
        self.app.push_screen(ConfirmScreen(question), answer)

    def action_edit(self) -> None:
        self.query_one("#out-path", Input).focus()

    def action_copy(self) -> None:
        self.post_message(CopySegments())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "write":
            self.action_write()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_leave_input()
        self.action_write()

    def sync(self) -> None:
        s = self.session
        seg = s.segmentation
        intro = self.query_one("#export-intro", Static)
        if seg is None:
            intro.update("Nothing to export yet: load a file (1) and run the sweep (2).")
        else:
            intro.update(
                f"Writes {', '.join(OUTPUT_FILES)} for k={seg.choice.k} "
                f"({seg.prepared.rows:,} customers). An earlier output is never replaced "
                "without asking; other folders never."
            )
        path = self.query_one("#out-path", Input)
        if not path.value and s.location is not None:
            path.value = str(default_out_dir(s.location))
        status = self.query_one("#export-status", Static)
        written = "\n".join(f"  ✔ {one_line(p)}" for p in s.exported)
        status.update(Text("Written:\n" + written) if s.exported else "")
