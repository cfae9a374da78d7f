"""Reading a committee's recommendations out of a paper someone uploads or pastes.

Pure functions: no database and no Slack. Each format has its own module
(csv_format, xlsx_format, binary_formats for PDF/Word/Excel/HTML tables) and
each text layout too (position_paper, layout_tables, layout_lines, minutes;
text_layouts chooses among them). Tables of any origin are read by grid.py.
detect.py decides which format reads an upload; parse_paper() below is the
one entry point. Numbers keep their written form: see common.py. limits.py
refuses, before parsing, papers too large to read; sandbox.py runs parse_paper
in a separate process limited in time and memory (what the server and the
command line call).
"""
from __future__ import annotations

from datetime import date

from .binary_formats import parse_docx, parse_html_tables, parse_xlsx_any, pdf_text
from .classify import OVERRIDES, parse_overrides
from .csv_format import parse_csv
from .detect import choose_format, decode, is_html_document, sniff_binary
from .html_table import flatten_html
from .limits import check_office, check_text
from .model import ImportedItem, PaperFormatError, ParsedPaper
from .text_layouts import parse_text

__all__ = ["ImportedItem", "ParsedPaper", "PaperFormatError", "parse_paper"]


def parse_paper(content: str | bytes, filename: str | None = None, fmt: str = "auto", *,
                today: date, columns: str | dict | None = None) -> ParsedPaper:
    """Recommendations (or minutes' decisions) from a paper.

    fmt is "auto" (by the file's first bytes, its name, then its content),
    "text", "html", "csv", "pdf", "docx" or "xlsx". Raises PaperFormatError (a
    ValueError with a one-line message fit to show the person importing) when
    nothing can be read. Smaller things that need a look, such as a missing
    owner or an unreadable date, are in .problems. ParsedPaper.kind says whether
    the items are recommendations/actions or decisions from minutes. `today` (the caller's,
    in the committee's time zone) gives a year to dates written without one.

    Papers larger than limits.py allows are refused before they are parsed. A server reads
    papers through sandbox.parse_in_sandbox (another process, limited in time and memory),
    never by calling this on its event loop.

    columns: the officer's reading of the table, {role: heading} or "owner=Lead Officer,
    due=Target date" (roles: number, text, owner, due, revised, status, rag, position,
    ignore); it wins over the importer's own. The importer's reading is in
    ParsedPaper.columns with ParsedPaper.confidence; items it is unsure of carry flags.
    """
    try:
        overrides = parse_overrides(columns)
    except ValueError as e:
        raise PaperFormatError(f"--columns: {e}") from None
    token = OVERRIDES.set(overrides or None)
    try:
        return _parse(content, filename, fmt, today, overrides)
    except ValueError as e:
        if isinstance(e, PaperFormatError) or not overrides:
            raise
        raise PaperFormatError(f"Sorry, I couldn't use those columns: {e}") from None
    finally:
        OVERRIDES.reset(token)


def _parse(content: str | bytes, filename: str | None, fmt: str, today: date,
           overrides: dict[str, str]) -> ParsedPaper:
    binary = sniff_binary(content, filename, fmt)
    if binary == "pdf":
        from .binary_formats import pdf_tables
        if (paper := pdf_tables(bytes(content), today)) is not None and paper.items:
            return paper
        return parse_text(check_text(pdf_text(bytes(content))), today)
    if binary in ("docx", "xlsx"):
        check_office(bytes(content), binary)   # sizes and counts, before anything is unpacked
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
