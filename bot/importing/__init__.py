"""Reading a committee's recommendations out of a paper someone uploads or pastes.

Pure functions: no database and no Slack. Each format has its own module
(csv_format, xlsx_format, binary_formats for PDF/Word/Excel/HTML tables) and
each text layout too (position_paper, layout_tables, layout_lines, minutes;
text_layouts chooses among them). Tables of any origin are read by grid.py.
detect.py decides which format reads an upload; parse_paper() below is the
one entry point. Numbers keep their written form: see common.py.
"""
from __future__ import annotations

from datetime import date

from .binary_formats import parse_docx, parse_html_tables, parse_xlsx_any, pdf_text
from .csv_format import parse_csv
from .detect import choose_format, decode, is_html_document, sniff_binary
from .html_table import flatten_html
from .model import ImportedItem, PaperFormatError, ParsedPaper
from .text_layouts import parse_text

__all__ = ["ImportedItem", "ParsedPaper", "PaperFormatError", "parse_paper"]


def parse_paper(content: str | bytes, filename: str | None = None, fmt: str = "auto",
                today: date | None = None) -> ParsedPaper:
    """Recommendations (or minutes' decisions) from a paper.

    fmt is "auto" (by the file's first bytes, its name, then its content),
    "text", "html", "csv", "pdf", "docx" or "xlsx". Raises PaperFormatError (a
    ValueError with a one-line message fit to show the person importing) when
    nothing can be read. Smaller things that need a look, such as a missing
    owner or an unreadable date, are in .problems. ParsedPaper.kind says whether
    the items are recommendations/actions or decisions from minutes.
    """
    today = today or date.today()
    binary = sniff_binary(content, filename, fmt)
    if binary == "pdf":
        return parse_text(pdf_text(bytes(content)), today)
    if binary == "docx":
        return parse_docx(bytes(content), today, parse_text)
    if binary == "xlsx":
        return parse_xlsx_any(bytes(content), today)
    text = decode(content)
    if choose_format(text, filename, fmt) == "csv":
        return parse_csv(text, today)
    if is_html_document(text, fmt):
        if (paper := parse_html_tables(text, today)) is not None:
            return paper
        text = flatten_html(text)
        return parse_text(text, today)
    return parse_text(text, today)
