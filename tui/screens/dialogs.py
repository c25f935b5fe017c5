"""Modal dialogs: a yes/no question, the help text, a segment's detail, why this k, two k
compared, who moved since an earlier run."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from segscope.core.describing.views import (
    categories_view,
    cells_line,
    crosstab_view,
    movement_view,
    numbers_view,
    vote_view,
)
from segscope.core.describing.words import compare_text
from segscope.core.text import agreement, one_line, percent
from segscope.tui.render import rich_table
from segscope.tui.widgets.tables import ViewTable

if TYPE_CHECKING:
    import pandas as pd

    from segscope.core.describing.profiles import SegmentProfile
    from segscope.core.describing.rules import Rule
    from segscope.core.engines.results import Segmentation
    from segscope.core.models.movement import Movement

HELP = """\
# segscope keys

| key | where | does |
|---|---|---|
| `1` `2` `3` `4` | anywhere | Data, Sweep, Segments, Export screens (always shown at the top) |
| `ctrl+p` | anywhere | command palette: every action by name |
| `?` / `f1` | anywhere | this help |
| `q` | anywhere | quit (asks while a sweep runs) |
| `[` / `]` | any table | sort by the column under the cursor, up / down (again: back) |
| `/`, `>` | any table | search every cell; the next match |
| `o` / `t` | Data | type a path (Tab completes) / go to the file tree (Backspace: up a folder) |
| `l` `p` `s` | Data | the Columns, Preview and Steps tabs |
| `n` `c` `k` `x` `a` | Data, Columns | numeric, categorical, key, exclude, back to the guess |
| `w` | Data, Columns | step a feature's weight: 1, 0.5, 0.25, 2 |
| `f` | Data, Columns | show all columns, features, numbers, categories or the left out |
| `r` | Sweep | run the sweep (`e` edits the k range and seed) |
| `Esc` | Sweep | cancel the sweep (finished rows stay) |
| `+` / `-`, Enter | Sweep | choose another k |
| `x` | Sweep | how the highlighted k splits or merges the chosen one |
| `i` | Sweep, Segments | why this k: the reason, the vote, every warning, what was sampled |
| `s` | Sweep | switch the engine: this machine, or Spark (`segscope[spark]`) |
| Enter | Segments | a segment's detail: how it differs, its rule, its RFM cells |
| `m` | Segments | who moved since an earlier run (palette: give its labels.csv) |
| `c` | Segments, Export | copy the segment table (works over SSH) |
| `w` | Export | write the output folder (and segments.xlsx) |

Segments are found with K-Means on the standardised numbers and one-hot categories.
The silhouette (higher is better, 1 at most) measures how well separated they are;
the elbow is where adding segments stops paying off; stability (1 at most) says how
often resampled data gives the same segments. Recommendations are heuristics from the
behaviour figures: check them against what you know. The palette (ctrl+p) also scores
new customers with a saved model and keeps segment numbers like an earlier model's.

Press Esc to close.
"""


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; y/n or Enter/Esc answer it."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.question))
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="warning")
                yield Button("No (n)", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class HelpScreen(ModalScreen[None]):
    """Keys and a few words on the method."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            from textual.widgets import Markdown  # markdown-it: loaded when help is asked for

            yield Markdown(HELP)


class SegmentDetailScreen(ModalScreen[None]):
    """One segment against the whole base: words, its rule, its RFM cells, advice, numbers and
    categories (the dialog scrolls; Tab reaches the tables)."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, profile: SegmentProfile, k: int, rfm: str = "") -> None:
        super().__init__()
        self.profile, self.k = profile, k
        self.rfm = rfm  # a note on what the RFM cells rest on, or why there are none

    def compose(self) -> ComposeResult:
        p = self.profile
        with VerticalScroll(classes="dialog wide", id="detail") as box:
            box.border_title = (
                f"Segment {p.segment} of {self.k}: {p.size:,} customers ({p.share:.1%})"
            )
            yield Static(Text(one_line(p.description), style="bold"))
            if p.rule is not None:
                yield Static(rule_text(p.rule), id="rule")
            if p.rfm:
                note = (f" ({one_line(self.rfm)})", "dim") if self.rfm else ""
                yield Static(
                    Text.assemble(("RFM cells: ", "bold"), cells_line(p.rfm), note), id="rfm"
                )
            elif self.rfm:
                yield Static(Text(one_line(self.rfm), style="dim"), id="rfm")
            yield Static(
                Text.assemble(("Recommendation (heuristic): ", "bold"), one_line(p.recommendation))
            )
            yield Static(
                f"Stability: {agreement(p.stability)} (how well this segment reappears when the "
                "data is resampled; 1 = always the same customers)"
            )
            yield ViewTable(id="numbers")
            if p.categories:
                yield ViewTable(id="categories")
            yield Label("Tab: the tables · [ ] sort · / search · Esc closes", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#numbers", ViewTable).show(numbers_view(self.profile))
        if self.profile.categories:
            self.query_one("#categories", ViewTable).show(categories_view(self.profile))
        self.query_one("#detail").focus()  # the top (words, rule) in view; arrows scroll


def rule_text(rule: Rule) -> Text:
    """A segment's rule and its precision and recall, or why it has none."""
    if not rule.good:
        return Text(one_line(rule.sentence()), style="dim")
    return Text.assemble(
        ("Rule: ", "bold"),
        one_line(rule.words()),
        "\n",
        (f"precision {percent(rule.precision)}", "bold"),
        f" (of the customers it picks, the share in segment {rule.segment}), ",
        (f"recall {percent(rule.recall)}", "bold"),
        f" (of segment {rule.segment}, the share it picks)",
    )


class MovementScreen(ModalScreen[None]):
    """Who moved since an earlier run: the table, the largest movements, the warnings."""

    BINDINGS = [Binding("escape,q,m", "dismiss", "Close")]

    def __init__(self, movement: Movement) -> None:
        super().__init__()
        self.movement = movement

    def compose(self) -> ComposeResult:
        m = self.movement
        text = Text("\n".join(one_line(line) for line in m.lines()))
        for w in m.warnings:
            text.append(f"\n⚠ {one_line(w)}", style="yellow")
        with VerticalScroll(classes="dialog wide", id="moved") as box:
            box.border_title = f"Who moved since {one_line(m.earlier, 60)}"
            yield Static(text)
            yield ViewTable(id="moved-table")
            yield Label("Esc closes · [ ] sort · / search", classes="hint")

    def on_mount(self) -> None:
        m = self.movement
        table = self.query_one("#moved-table", ViewTable)
        table.show(movement_view(m.table, m.new, m.gone))
        table.focus()


class WhyScreen(ModalScreen[None]):
    """Why this k: whether the data shows segments at all, the reason, each index's vote, every
    warning, what was sampled, what the words rest on."""

    BINDINGS = [Binding("escape,q,i", "dismiss", "Close")]

    def __init__(self, seg: Segmentation) -> None:
        super().__init__()
        self.seg = seg

    def compose(self) -> ComposeResult:
        seg = self.seg
        choice = seg.choice
        head = Text()
        if choice.headline:
            head.append(f"{one_line(choice.headline)}\n\n", style="bold yellow")
        head.append(f"k = {choice.k}", style="bold")
        head.append(f": {one_line(choice.reason)}")
        parts = [Text(f"⚠ {one_line(w)}", style="yellow") for w in seg.warnings]
        parts += [Text(f"ℹ {one_line(n)}", style="dim") for n in seg.setup.notes()]
        parts.append(Text(seg.prepared.words_rest_on()))
        if seg.rules is not None:
            parts.append(Text(f"{one_line(seg.rules.summary_line())}."))
        if seg.rfm is not None:
            bounds = "\n".join(f"  {one_line(line)}" for line in seg.rfm.bounds_lines())
            parts.append(Text(f"{one_line(seg.rfm.what())}. The bounds used:\n{bounds}"))
        elif seg.rfm_missing:
            parts.append(Text(one_line(seg.rfm_missing)))
        if seg.like is not None:
            parts.append(Text("\n".join(one_line(line) for line in seg.like.lines())))
        text = Text("\n") + Text("\n\n").join(parts)  # a blank line after the votes, and between
        with VerticalScroll(classes="dialog wide", id="why") as box:
            box.border_title = "Why this k"
            yield Static(head)
            if choice.votes:
                votes = vote_view(choice.votes)
                yield Static(rich_table(replace(votes, note=""), expand=True))
                yield Static(Text(votes.note, style="bold"))
            yield Static(text)
            yield Label("Esc closes · ↑↓ scroll", classes="hint")


class CompareScreen(ModalScreen[None]):
    """How the segments at one k split or merge at another."""

    BINDINGS = [Binding("escape,q,x", "dismiss", "Close")]

    def __init__(self, table: pd.DataFrame) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="compare") as box:
            box.border_title = f"Compare {self.table.index.name} with {self.table.columns.name}"
            view = crosstab_view(self.table, compare_text(self.table))
            yield Static(Text(view.title))  # title and sentences as wide as the dialog
            yield Static(rich_table(replace(view, title="", note="")))
            yield Static(Text(view.note))
            yield Label("Esc closes", classes="hint")
