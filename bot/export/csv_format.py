"""The paper as CSV, in exactly the columns bot.importing's CSV format reads
(number,text,owners,due,status,position), so importing it again changes nothing."""
from __future__ import annotations

import csv
import io

from .content import PaperRow, PositionPaper

COLUMNS = ("number", "text", "owners", "due", "status", "position")
# A cell a spreadsheet would read as a formula (OWASP's CSV injection list). Such cells are
# written with a leading apostrophe, which spreadsheets show as text and bot.importing removes.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """A cell's text as a spreadsheet will show it but never run it."""
    return "'" + value if value.startswith(FORMULA_START) else value


def row_values(row: PaperRow) -> list[str]:
    """One recommendation as the importer expects it: owners joined with "; ", due ISO."""
    return [neutralise(v) for v in (row.number, row.text, "; ".join(row.owners),
                                     row.due.isoformat() if row.due else "", row.status, row.position or "")]


def render_csv(paper: PositionPaper) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in paper.rows:
        writer.writerow(row_values(row))
    # A BOM so Excel opens it as UTF-8 (curly quotes, £); the importer skips it.
    return ("\ufeff" + out.getvalue()).encode("utf-8")
