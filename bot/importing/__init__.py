"""Reading a committee's recommendations out of a paper someone uploads or pastes.

Pure functions: no database and no Slack. Each format has its own module
(csv_format, position_paper; pdf/docx/xlsx later); detect.py decides which one
reads a given upload, and parse_paper() below is the one entry point.
"""
from __future__ import annotations

from datetime import date

from .csv_format import parse_csv
from .detect import choose_format, decode, is_html_document
from .html_table import flatten_html
from .model import ImportedItem, PaperFormatError, ParsedPaper
from .position_paper import parse_position_paper

__all__ = ["ImportedItem", "ParsedPaper", "PaperFormatError", "parse_paper"]


def parse_paper(content: str | bytes, filename: str | None = None, fmt: str = "auto",
                today: date | None = None) -> ParsedPaper:
    """Recommendations from a paper: fmt is "auto", "csv", "text" or "html".

    Raises PaperFormatError (a ValueError with a one-line message fit to show
    the person importing) when nothing can be read. Smaller things that need a
    look, such as a missing owner or an unreadable date, are in .problems.
    """
    today = today or date.today()
    text = decode(content)
    if choose_format(text, filename, fmt) == "csv":
        return parse_csv(text, today)
    if is_html_document(text, fmt):
        text = flatten_html(text)
    return parse_position_paper(text, today)
