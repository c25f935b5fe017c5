"""Issue 25, section 4: every text format is safe. Text from the data in `report.md` (the sweep's
and the scoring's) is escaped for Markdown and for the HTML it renders to, as the CSVs are
neutralised for spreadsheets (test_text.py): rendered as CommonMark with tables and raw HTML
allowed (as many viewers render it), the report holds no tag, attribute, link, image, comment,
heading or emphasis that came from the data, and shows the data's names as written."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from .corpus import MARKDOWN, hostile_markdown_table, write_csv
from .harness import run

SAFE_TAGS = {  # what segscope's own Markdown renders to: sections, lists, tables, a code block
    "h1", "h2", "h3", "p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "code", "pre",
    "strong", "em", "br", "hr",
}  # fmt: skip
FILE_NAME = "<b title=XSS0 onmouseover=alert(0)>shop.csv"  # a file name can hold markup too


@dataclass
class Rendered(HTMLParser):
    """What a Markdown viewer shows: the tags and attributes, the text, and the text of each
    heading, emphasis and link."""

    tags: list[tuple[str, list[tuple[str, str | None]]]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    elements: list[tuple[str, str]] = field(default_factory=list)  # (tag, its text)
    _open: list[tuple[str, list[str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag not in ("br", "hr", "img"):
            self._open.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            name, text = self._open.pop()
            self.elements.append((name, "".join(text)))
            if name == tag:
                break

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for _, text in self._open:
            text.append(data)


def render(markdown: str) -> Rendered:
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    page = Rendered()
    page.feed(html)
    page.close()
    return page


def assert_safe(markdown: str) -> Rendered:
    page = render(markdown)
    for tag, attrs in page.tags:
        assert tag in SAFE_TAGS, f"a <{tag}> tag from the data: {attrs}"
        for name, value in attrs:
            assert name in ("style", "class"), f"<{tag} {name}={value!r}> from the data"
    assert not page.comments, f"an HTML comment from the data hides the text: {page.comments}"
    for tag, text in page.elements:
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") and text.startswith("segscope "):
            continue  # the report's title names the input: the file name is text in it
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "a"):
            assert "XSS" not in text, f"data text made into <{tag}>: {text[:300]}"
    return page


@pytest.fixture(scope="module")
def hostile_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("markdown")
    return write_csv(hostile_markdown_table(), folder / FILE_NAME)


@pytest.fixture(scope="module")
def swept(hostile_csv: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("run") / "out"
    ran = run("sweep", hostile_csv, "--k", "2-3", "--out", out)
    assert ran.code == 0, ran.err[-2000:]
    return ran, out


def test_the_report_renders_no_tag_link_or_heading_from_the_data(swept) -> None:  # type: ignore[no-untyped-def]
    _, out = swept
    assert_safe((out / "report.md").read_text())


def test_the_report_shows_the_datas_names_as_written(swept) -> None:  # type: ignore[no-untyped-def]
    """Every column name (one line each) reads in the rendered report exactly as in the file."""
    _, out = swept
    text = "".join(render((out / "report.md").read_text()).text)
    for name in hostile_markdown_table().columns:
        if "\n" not in name:
            assert name in text, f"{name!r} is not shown as written"
    assert FILE_NAME in text


def test_the_scoring_report_renders_nothing_from_the_data(
    swept, hostile_csv: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Scored customers with categories never seen in training, themselves hostile."""
    _, out = swept
    new = hostile_markdown_table()
    plan = next(c for c in new.columns if c.startswith("plan "))
    new[plan] = np.where(np.arange(len(new)) % 4 == 0, MARKDOWN[0] + " new", new[plan])
    scored_csv = write_csv(new, tmp_path / FILE_NAME.replace("shop", "next-month"))
    scored = tmp_path / "scored"
    ran = run("score", out / "model.segscope", scored_csv, "--out", scored)
    assert ran.code == 0, ran.err[-2000:]
    page = assert_safe((scored / "report.md").read_text())
    assert re.search(r"unseen", "".join(page.text)), "the unseen categories are not reported"
