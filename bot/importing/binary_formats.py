"""PDF, Word (.docx), Excel (.xlsx) and HTML documents, turned into tables or text.

Tables with a header row naming their columns go to grid.rows_to_paper;
anything else becomes text for the text layouts (text_layouts.parse_text).
"""
from __future__ import annotations

import io
import zipfile
from datetime import date
from html.parser import HTMLParser

from .common import find_paper_date
from .grid import rows_to_paper
from .limits import MAX_PDF_PAGES, check_text, too_large
from .model import PaperFormatError, ParsedPaper


def _best(candidates: list[ParsedPaper | None]) -> ParsedPaper | None:
    found = [c for c in candidates if c is not None and c.items]
    return max(found, key=lambda p: len(p.items)) if found else None


# -- HTML -------------------------------------------------------------------------

class _Tables(HTMLParser):
    """Every outermost table as rows of cells (paragraphs joined by newlines), and the
    text outside tables as lines."""

    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "title", "tr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.lines: list[str] = [""]
        self.depth = 0
        self.cell: list[str] | None = None
        self.skip = 0
        self.spans: dict[int, tuple[str, int]] = {}   # column -> (text, rows still to fill)

    def _fill_spans(self) -> None:
        """Put the text of cells spanning from rows above into this row's next columns."""
        row = self.tables[-1][-1] if self.tables and self.tables[-1] else None
        if row is None:
            return
        while len(row) in self.spans:
            text, left = self.spans.pop(len(row))
            row.append(text)
            if left > 1:
                self.spans[len(row) - 1] = (text, left - 1)

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "table":
            self.depth += 1
            if self.depth == 1:
                self.tables.append([])
                self.spans = {}
        elif self.depth == 1 and tag == "tr":
            self.tables[-1].append([])
            self._fill_spans()
        elif self.depth == 1 and tag in ("td", "th"):
            if not self.tables[-1]:
                self.tables[-1].append([])
            self.cell = [""]
            self.tables[-1][-1].append("")
            span = dict(attrs).get("colspan")
            self._span = int(span) if span and span.isdigit() else 1
            down = dict(attrs).get("rowspan")
            self._down = min(int(down), 500) if down and down.isdigit() else 1
        elif tag in self._BLOCK:
            if self.cell is not None:
                self.cell.append("")
            elif self.depth == 0:
                self.lines.append("")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag == "table":
            self.depth = max(0, self.depth - 1)
            if self.depth == 0:
                self.lines.append("")
        elif self.depth == 1 and tag in ("td", "th") and self.cell is not None:
            text = "\n".join(" ".join(p.split()) for p in self.cell if p.strip())
            row = self.tables[-1][-1]
            row[-1] = text
            row.extend([text] * (getattr(self, "_span", 1) - 1))
            if getattr(self, "_down", 1) > 1:
                # A cell spanning several rows (one officer or date for a group of
                # actions) applies to each of them.
                start = len(row) - getattr(self, "_span", 1)
                for col in range(start, len(row)):
                    self.spans[col] = (text, self._down - 1)
            self.cell = None
            self._fill_spans()
        elif tag == "tr" and self.depth == 1:
            self._fill_spans()
        elif tag in self._BLOCK and self.depth == 0:
            self.lines.append("")

    def handle_data(self, data):
        if self.skip:
            return
        if self.cell is not None:
            self.cell[-1] += data
        elif self.depth == 0:
            self.lines[-1] += data


def parse_html_tables(text: str, today: date) -> ParsedPaper | None:
    parser = _Tables()
    parser.feed(text)
    parser.close()
    lines = [" ".join(line.split()) for line in parser.lines if line.strip()]
    paper_date = find_paper_date(lines, today)
    return _best([rows_to_paper(t, today, paper_date=paper_date, tracker_only=True) for t in parser.tables])


# -- Word ---------------------------------------------------------------------------

def docx_content(content: bytes) -> tuple[list[str], list[list[list[str]]]]:
    """(paragraph lines with tables as tab-separated lines, tables as rows of cells)."""
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError:  # pragma: no cover - python-docx is a dependency
        raise PaperFormatError("Sorry, I can't read Word files here; please paste the text.")
    try:
        document = docx.Document(io.BytesIO(content))
    except Exception:
        raise PaperFormatError("Sorry, I couldn't open that Word file; is it a .docx document?")
    lines: list[str] = []
    tables: list[list[list[str]]] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(block, document).text)
        elif tag == "tbl":
            rows = []
            for row in Table(block, document).rows:
                cells = ["\n".join(p.text for p in cell.paragraphs if p.text.strip())
                         for cell in row.cells]
                rows.append(cells)
            tables.append(rows)
            lines.extend("\t".join(c.replace("\n", " ") for c in row) for row in rows)
            lines.append("")
    return lines, tables


def parse_docx(content: bytes, today: date, parse_text) -> ParsedPaper:
    lines, tables = docx_content(content)
    paper_date = find_paper_date(lines, today)
    found = _best([rows_to_paper(t, today, paper_date=paper_date, tracker_only=True) for t in tables])
    return found or parse_text(check_text("\n".join(lines)), today)


# -- PDF -----------------------------------------------------------------------------

def pdf_tables(content: bytes, today: date) -> ParsedPaper | None:
    """The PDF's tables from its page layout (pdfplumber: ruling lines and text
    alignment), a heading row repeated on every page read once; None when it has none."""
    try:
        import pdfplumber
    except ImportError:  # pragma: no cover - pdfplumber is a dependency
        return None
    rows: list[list[str]] = []
    lines: list[str] = []
    try:
        with pdfplumber.open(io.BytesIO(content)) as pdf:
            if len(pdf.pages) > MAX_PDF_PAGES:
                raise too_large(f"more than {MAX_PDF_PAGES} pages")
            for page in pdf.pages:
                if not lines:
                    lines = (page.extract_text() or "").split("\n")
                for table in page.extract_tables():
                    rows.extend([c or "" for c in row] for row in table)
    except PaperFormatError:
        raise
    except MemoryError:
        raise too_large("it needs too much memory") from None
    except Exception:
        return None
    if not rows:
        return None
    return rows_to_paper(rows, today, paper_date=find_paper_date(lines, today), wrapped=True,
                         tracker_only=True)


def pdf_text(content: bytes) -> str:
    """The PDF's text with its layout kept (columns stay lined up), page by page."""
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - pypdf is a dependency
        raise PaperFormatError("Sorry, I can't read PDF files here; please paste the text.")
    try:
        reader = PdfReader(io.BytesIO(content))
        if len(reader.pages) > MAX_PDF_PAGES:
            raise too_large(f"more than {MAX_PDF_PAGES} pages")
        pages = []
        for page in reader.pages:
            try:
                pages.append(page.extract_text(extraction_mode="layout"))
            except Exception:
                pages.append(page.extract_text() or "")
    except PaperFormatError:
        raise
    except MemoryError:
        raise too_large("it needs too much memory") from None
    except Exception:
        raise PaperFormatError("Sorry, I couldn't open that PDF; is it a complete PDF file?")
    text = "\n".join(pages)
    if not text.strip():
        raise PaperFormatError(
            "That PDF has no text I can read (it may be a scan); please paste the text.")
    return text


# -- Excel ---------------------------------------------------------------------------

def parse_xlsx_any(content: bytes, today: date) -> ParsedPaper:
    """A workbook: the first sheet with a header row near its top (trackers often
    have a title above the table). A sheet laid out exactly as our own export
    (number,text,owners,due,status,position) is read by xlsx_format, unchanged."""
    from .xlsx_format import _cell_text, parse_xlsx
    try:
        from openpyxl import load_workbook
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise PaperFormatError("Sorry, I can't read Excel files here; please save the sheet as CSV.")
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise PaperFormatError("Sorry, I couldn't open that Excel file; is it an .xlsx workbook?")
    with_header = None
    try:
        for ws in wb.worksheets:
            rows = [[_cell_text(v) for v in values]
                    for values in ws.iter_rows(values_only=True, max_row=5000)]
            first = next((r for r in rows if any(c.strip() for c in r)), [])
            if {c.strip().lower() for c in first if c.strip()} <= _EXPORT_COLUMNS and first:
                with_header = True  # our own export: read exactly as it was written
                break
            lines = [" ".join(c for c in row if c) for row in rows[:20]]
            paper = rows_to_paper(rows, today, paper_date=find_paper_date(lines, today))
            if paper is not None and paper.items:
                return paper
    finally:
        wb.close()
    if with_header:
        return parse_xlsx(content, today)
    raise PaperFormatError(
        "Sorry, I couldn't find a sheet with a header row naming at least the "
        "recommendation (or action) column in that workbook.")


_EXPORT_COLUMNS = {"number", "text", "owners", "due", "status", "position"}
