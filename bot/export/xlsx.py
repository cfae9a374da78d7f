"""The paper as an Excel workbook: the importer's columns on the first sheet
(number, text, owners, due, status, position) with a styled header, widths and
wrapped text, so an officer can keep working in it and import it again; a second
sheet says what the paper is."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from bot.core.dates import long_date

from .content import PositionPaper
from .csv_format import COLUMNS, neutralise

WIDTHS = {"number": 9, "text": 70, "owners": 32, "due": 12, "status": 20, "position": 80}
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
THIN = Side(style="thin", color="BFBFBF")
TOP_WRAP = Alignment(wrap_text=True, vertical="top")


def clean_cell(text: str) -> str:
    """Text without the control characters an XLSX file cannot hold (they would stop the
    whole committee's export)."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def render_xlsx(paper: PositionPaper) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Position"
    ws.append(list(COLUMNS))
    for row in paper.rows:
        ws.append([neutralise(clean_cell(row.number)), neutralise(clean_cell(row.text)),
                   neutralise(clean_cell("; ".join(row.owners))), row.due, neutralise(clean_cell(row.status)),
                   neutralise(clean_cell(row.position or ""))])
    for cell in ws[1]:
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(vertical="center")
    for n, name in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(n)].width = WIDTHS[name]
    due_col = COLUMNS.index("due") + 1
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = TOP_WRAP
            cell.border = Border(bottom=THIN)
            if cell.column == 1:
                cell.number_format = "@"        # "10a" and "10" both stay text
            if cell.column == due_col:
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "Page &P of &N"

    about = wb.create_sheet("About")
    facts = [("Title", paper.title), ("Council", paper.council), ("Committee", paper.committee),
             ("Review", f"{paper.review_title} ({paper.review_code})" if paper.review_title else "all reviews"),
             ("Date", long_date(paper.as_of)), ("Summary", paper.summary())]
    for label, value in facts:
        about.append([label, neutralise(clean_cell(value or ""))])
    for cell in about["A"]:
        cell.font = Font(bold=True)
    for cells in about.iter_rows():
        for cell in cells:
            cell.alignment = TOP_WRAP
    about.column_dimensions["A"].width, about.column_dimensions["B"].width = 14, 100

    wb.properties.title, wb.properties.creator = paper.title, "Scrutineer"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
