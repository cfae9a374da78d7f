"""Flatten an HTML page (say, a report saved from Word) into the text layout.

position_paper.py reads one table row per line with cells separated by tabs and
paragraphs kept as <p> markup. A real HTML table is turned into exactly that, so
both kinds of paste go through the same parser.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_BLOCK = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
          "title", "section", "article", "header", "footer", "blockquote", "caption"}


class _Flattener(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line: list[str] = []          # the text line being built outside tables
        self.row: list[list[str]] | None = None   # cells, each a list of paragraphs
        self.cell: list[str] | None = None
        self.tables = 0                    # nesting depth; inner tables become paragraphs
        self.skip = 0                      # inside <script> or <style>

    # -- helpers
    def _break(self) -> None:
        if self.cell is not None:
            self.cell.append("")
        elif self.line:
            self.lines.append("".join(self.line).strip())
            self.line = []

    def _end_cell(self) -> None:
        if self.cell is not None and self.row is not None:
            self.row.append(self.cell)
        self.cell = None

    def _end_row(self) -> None:
        self._end_cell()
        if self.row:
            cells = ["".join(f"<p>{p.strip()}</p>" for p in cell if p.strip())
                     for cell in self.row]
            self.lines.append("\t".join(cells))
        self.row = None

    # -- parser callbacks
    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "table":
            self.tables += 1
            if self.tables == 1:
                self._break()
        elif self.tables == 1 and tag == "tr":
            self._end_row()
            self.row = []
        elif self.tables == 1 and tag in ("td", "th"):
            self._end_cell()
            if self.row is None:
                self.row = []
            self.cell = [""]
        elif tag in _BLOCK or tag in ("tr", "td", "th"):
            self._break()
        elif tag == "u" and self.cell is None:
            self.line.append("<u>")  # kept: an underlined line is the paper's title

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag == "table":
            if self.tables == 1:
                self._end_row()
            self.tables = max(0, self.tables - 1)
        elif self.tables == 1 and tag == "tr":
            self._end_row()
        elif self.tables == 1 and tag in ("td", "th"):
            self._end_cell()
        elif tag in _BLOCK:
            self._break()
        elif tag == "u" and self.cell is None:
            self.line.append("</u>")

    def handle_data(self, data):
        if self.skip:
            return
        # Escaped again so the text layout's entity decoding sees one consistent form.
        text = html.escape(re.sub(r"\s+", " ", data), quote=False)
        if self.cell is not None:
            self.cell[-1] += text
        elif self.tables == 0:
            self.line.append(text)


def flatten_html(text: str) -> str:
    parser = _Flattener()
    parser.feed(text)
    parser.close()
    parser._end_row()
    parser._break()
    return "\n".join(parser.lines)
