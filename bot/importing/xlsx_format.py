"""Format: an Excel workbook (.xlsx) laid out like the CSV format — a header row
naming at least number and text (owners, due, status, position optional, any order)
with one recommendation per row below it.

Reads the first sheet that has such a header, so the workbook `scrutineer export
--format xlsx` writes (its "Position" sheet, then an "About" sheet) comes back
unchanged, and so does an officer's own tracker saved as .xlsx. Dates typed as
Excel dates, numbers Excel stored as 3.0, and text all read as the CSV cells would.
"""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time

from .columns import header_roles
from .csv_format import take_row
from .model import PaperFormatError, ParsedPaper

MAX_ROWS = 5000   # a paper has tens of recommendations; stop a runaway sheet early


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def parse_xlsx(content: bytes, today: date) -> ParsedPaper:
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise PaperFormatError("Sorry, I can't read Excel files here; please save the sheet as CSV.")
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise PaperFormatError("Sorry, I couldn't open that Excel file; is it an .xlsx workbook?")
    try:
        for ws in wb.worksheets:
            found = _read_sheet(ws, today)
            if found is not None:
                return found
    finally:
        wb.close()
    raise PaperFormatError(
        "Sorry, I couldn't find a sheet whose first row is a header with at least "
        "'number' and 'text' columns in that workbook.")


def _read_sheet(ws, today: date) -> ParsedPaper | None:
    roles: dict[str, int] | None = None
    items, problems, seen = [], [], set()
    for line_num, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if line_num > MAX_ROWS:
            problems.append(f"Only the first {MAX_ROWS} rows of sheet '{ws.title}' were read")
            break
        row = [_cell_text(v) for v in values]
        if not any(cell.strip() for cell in row):
            continue
        if roles is None:
            roles = header_roles(row)
            if "number" not in roles or "text" not in roles:
                return None   # not a table of recommendations: try the next sheet
            continue
        take_row(row, roles, today, problems, line_num, items, seen)
    if roles is None:
        return None
    if not items:
        raise PaperFormatError(f"Sheet '{ws.title}' has a header but no recommendations under it.")
    return ParsedPaper(items=items, problems=problems)
