"""A table of indicator figures (CSV or XLSX): one row per indicator and period, with the figure
and, optionally, the target — as a performance report's appendix or an officer's spreadsheet
keeps them.

The header row names the columns, matched loosely: "Indicator" / "Measure" / "KPI", "Period" /
"Quarter" / "Month" / "Year", "Value" / "Actual" / "Figure" / "Outturn", "Target", and
optionally "Unit" and "Polarity" ("lower is better"). It is the first row (of the first 20) that
names an indicator, a period and a value column. Cells are kept as text: what they mean (a
period such as `Q1 2012/13`, a figure such as `35%`) is read by bot.services.indicators, which
knows the committee's indicators. A sheet's cell formatted as a percentage (0.35 shown as 35%)
comes as "35%".
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from .detect import decode, zip_kind
from .limits import check_office, csv_refusal
from .model import PaperFormatError

MAX_ROWS = 5000          # a performance table has tens of rows; stop a runaway sheet early
HEADER_SEARCH = 20       # rows looked at for the header

# column -> words a heading may use for it (the heading's words are compared after lowering and
# dropping punctuation; the first column that matches wins).
HEADINGS: dict[str, tuple[str, ...]] = {
    "indicator": ("indicator", "measure", "kpi", "pi", "metric", "performance indicator", "performance measure",
                  "indicator name", "measure name", "name", "description"),
    "period": ("period", "quarter", "month", "year", "reporting period", "period covered", "date", "qtr"),
    "value": ("value", "actual", "figure", "result", "outturn", "performance", "score", "actual value",
              "current value", "latest", "data"),
    "target": ("target", "goal", "target value", "standard"),
    "unit": ("unit", "units", "unit of measure"),
    "polarity": ("polarity", "good is", "better", "direction", "good performance"),
}
# Headings naming the recommendations tracker's columns: such a table is not an indicator table.
_NOT_OURS = ("recommendation", "action", "due", "status")


@dataclass
class IndicatorRow:
    line: int                 # the row's number in the file (1 = the first row)
    indicator: str
    period: str
    value: str
    target: str = ""
    unit: str = ""
    polarity: str = ""


@dataclass
class IndicatorTable:
    rows: list[IndicatorRow]
    columns: dict[str, str]                    # column -> the heading it was read from
    problems: list[str] = field(default_factory=list)


def _words(cell: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9%]+", " ", cell.lower()).split())


def column_of(heading: str) -> str | None:
    """Which column a heading names, if any: the whole heading, else its first word or two."""
    words = _words(heading)
    if not words:
        return None
    for column, names in HEADINGS.items():
        if words in names:
            return column
    for column, names in HEADINGS.items():
        if any(words.startswith(name + " ") for name in names if " " in name or len(name) > 2):
            return column
    first = words.split()[0]
    for column, names in HEADINGS.items():
        if first in names and len(first) > 2:
            return column
    return None


def header_columns(cells: list[str]) -> dict[str, int]:
    """Column -> index, when these cells are an indicator table's header (else {})."""
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        column = column_of(str(cell or ""))
        if column and column not in found:
            found[column] = i
    if not {"indicator", "period", "value"} <= set(found):
        return {}
    return found


def _find_header(rows: list[list[str]]) -> tuple[int, dict[str, int]] | None:
    for n, row in enumerate(rows[:HEADER_SEARCH]):
        found = header_columns(row)
        if found:
            return n, found
    return None


def _table(rows: list[list[str]], lines: list[int]) -> IndicatorTable:
    header = _find_header(rows)
    if header is None:
        raise PaperFormatError("Sorry, I couldn't find an indicator table there: its header row should name "
                               "the indicator, the period and the value (e.g. Measure, Quarter, Actual, Target).")
    at, columns = header
    heads = rows[at]
    table = IndicatorTable([], {c: str(heads[i]).strip() for c, i in columns.items()})
    last_name = ""
    for row, line in zip(rows[at + 1:], lines[at + 1:]):
        def cell(column: str, row=row) -> str:
            i = columns.get(column)
            return " ".join(str(row[i]).split()) if i is not None and i < len(row) and row[i] is not None else ""
        if not any(str(c).strip() for c in row):
            continue
        name = cell("indicator") or last_name       # a name written once over several periods' rows
        last_name = name
        value = cell("value")
        if not cell("period") and not value:
            continue                                 # a heading row ("Children's social care")
        if not name:
            table.problems.append(f"Row {line}: no indicator named; skipped.")
            continue
        table.rows.append(IndicatorRow(line, name, cell("period"), value, cell("target"), cell("unit"),
                                       cell("polarity")))
        if len(table.rows) >= MAX_ROWS:
            table.problems.append(f"Only the first {MAX_ROWS:,} rows were read.")
            break
    if not table.rows:
        raise PaperFormatError("That indicator table has a header but no figures under it.")
    return table


# ---- CSV -----------------------------------------------------------------------------------

def _csv_rows(text: str) -> tuple[list[list[str]], list[int]]:
    first = next((line for line in text.split("\n") if line.strip()), "")
    delimiter = max((",", "\t", ";"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, lines = [], []
    try:
        for row in reader:
            rows.append([c.lstrip("'") if c[:2] in ("'=", "'+", "'-", "'@") else c for c in row])
            lines.append(reader.line_num)
            if len(rows) > MAX_ROWS + HEADER_SEARCH:
                break
    except csv.Error as e:
        raise csv_refusal(e) from None
    return rows, lines


# ---- XLSX ----------------------------------------------------------------------------------

def _cell(cell) -> str:
    from .xlsx_format import _cell_text

    value = getattr(cell, "value", None)
    fmt = getattr(cell, "number_format", "") or ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "%" in fmt:
        shown = round(value * 100, 6)
        return f"{int(shown) if shown == int(shown) else shown}%"
    return _cell_text(value)


def _xlsx_tables(content: bytes) -> IndicatorTable:
    from openpyxl import load_workbook

    check_office(content, "xlsx")
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise PaperFormatError("Sorry, I couldn't open that Excel file; is it an .xlsx workbook?") from None
    try:
        for ws in wb.worksheets:
            rows, lines = [], []
            for n, row in enumerate(ws.iter_rows(), start=1):
                rows.append([_cell(c) for c in row])
                lines.append(n)
                if n > MAX_ROWS + HEADER_SEARCH:
                    break
            if _find_header(rows) is not None:
                return _table(rows, lines)
    finally:
        wb.close()
    raise PaperFormatError("Sorry, I couldn't find a sheet with an indicator table in that workbook: its "
                           "header row should name the indicator, the period and the value.")


# ---- either ---------------------------------------------------------------------------------

def _is_xlsx(content: str | bytes, filename: str | None) -> bool:
    if isinstance(content, (bytes, bytearray)) and bytes(content[:4]) == b"PK\x03\x04":
        kind = zip_kind(bytes(content))
        if kind != "xlsx":
            raise PaperFormatError("Sorry, an indicator table must be a CSV file or an Excel (.xlsx) workbook.")
        return True
    return False


def read_indicator_table(content: str | bytes, filename: str | None = None) -> IndicatorTable:
    """The figures of an indicator table (CSV text or an .xlsx workbook), or PaperFormatError."""
    if _is_xlsx(content, filename):
        return _xlsx_tables(bytes(content))
    if isinstance(content, (bytes, bytearray)) and bytes(content[:4]) == b"%PDF":
        raise PaperFormatError("Sorry, an indicator table must be a CSV file or an Excel (.xlsx) workbook.")
    rows, lines = _csv_rows(decode(content))
    return _table(rows, lines)


def is_indicator_table(content: str | bytes, filename: str | None = None) -> bool:
    """Whether this file is an indicator table (its header names an indicator, a period and a
    value, and no recommendation), read no further than the header."""
    try:
        if _is_xlsx(content, filename):
            read_indicator_table(content, filename)
            return True
        if isinstance(content, (bytes, bytearray)) and bytes(content[:4]) in (b"%PDF",):
            return False
        text = decode(content)
    except PaperFormatError:
        return False
    head = "\n".join(text.split("\n")[:HEADER_SEARCH])
    try:
        rows, _ = _csv_rows(head)
    except PaperFormatError:
        return False
    found = _find_header(rows)
    if found is None:
        return False
    return not any(_words(str(c)).split()[:1] and _words(str(c)).split()[0].startswith(_NOT_OURS)
                   for c in rows[found[0]])


__all__ = ["IndicatorRow", "IndicatorTable", "column_of", "header_columns", "is_indicator_table",
           "read_indicator_table"]
