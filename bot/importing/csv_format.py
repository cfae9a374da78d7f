"""CSV: Scrutineer's own export (number,text,owners,due,status,position) read exactly, and
any other tracker saved as CSV read as a table like any other (grid.rows_to_paper): its
headings in its own words, columns judged by what they hold, the officer's --columns.
"""
from __future__ import annotations

import csv
import io
from datetime import date

from bot.core.status import status_from_paper

from .classify import OVERRIDES
from .cleaning import clean_number, parse_when, plain_lines, split_owners
from .columns import header_roles
from .common import clean_ref, key
from .detect import csv_header
from .grid import rows_to_paper
from .limits import csv_refusal
from .model import ImportedItem, PaperFormatError, ParsedPaper

# The columns Scrutineer's own CSV export writes (bot.export.csv_format): such a file is read
# exactly, owners split only on ";".
OWN_COLUMNS = frozenset({"number", "text", "owners", "due", "status", "position"})


def parse_csv(text: str, today: date) -> ParsedPaper:
    # Excel in some locales saves with ";" or tabs; the header line tells us which.
    first = next((line for line in text.split("\n") if line.strip()), "")
    found = csv_header(first)
    delimiter = found[0] if found else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    try:
        rows = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as e:   # e.g. a cell longer than csv.field_size_limit()
        raise csv_refusal(e) from None
    own = bool(rows) and all(key(c) in OWN_COLUMNS for c in rows[0] if c.strip())
    if rows and (not own or OVERRIDES.get()):
        # A tracker kept in a spreadsheet: read as any table (headings in its own words,
        # columns judged by what they hold, the officer's --columns), not only our own export.
        paper = rows_to_paper(rows, today, wrapped=False)
        if paper is not None and paper.items:
            return paper
    roles: dict[str, int] | None = None
    items: list[ImportedItem] = []
    problems: list[str] = []
    seen: set[str] = set()
    try:
        for row in rows:
            if roles is None:
                # The header must be the first row with anything in it.
                roles = header_roles(row)
                if "number" not in roles or "text" not in roles:
                    raise PaperFormatError(
                        "Sorry, I couldn't read that CSV: its first row should be a header "
                        "with at least 'number' and 'text' columns.")
                continue
            take_row(row, roles, today, problems, len(items) + 2, items, seen)
    except csv.Error as e:   # e.g. a cell longer than csv.field_size_limit()
        raise csv_refusal(e) from None

    if roles is None:
        raise PaperFormatError("Sorry, I couldn't find a header row in that CSV.")
    if not items:
        raise PaperFormatError("That CSV has a header but no recommendations under it.")
    return ParsedPaper(items=items, problems=problems)


def take_row(row: list[str], roles: dict[str, int], today: date, problems: list[str], line: int,
             items: list[ImportedItem], seen: set[str]) -> None:
    """A table row (CSV or spreadsheet) as an item, if it is one; a number seen before is flagged."""
    item = _row_item(row, roles, today, problems, line)
    if item is None:
        return
    if item.number in seen:
        problems.append(f"Recommendation {item.number}: appears more than once")
    seen.add(item.number)
    items.append(item)


def unneutralise(value: str) -> str:
    """A cell our export wrote with an apostrophe so no spreadsheet runs it as a formula
    (bot.export.csv_format.neutralise), as the person wrote it."""
    if value.startswith("'") and value[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return value[1:]
    return value


def _row_item(row: list[str], roles: dict[str, int], today: date,
              problems: list[str], line_num: int) -> ImportedItem | None:
    def cell(role: str) -> str:
        i = roles.get(role)
        return unneutralise(row[i]).strip() if i is not None and i < len(row) else ""

    # Numbers keep their written form ("R1", "SC7"; see common.py), tidied of brackets.
    number = clean_ref(cell("number")) or clean_number(cell("number"))
    text = "\n".join(plain_lines(cell("text")))
    if not number and not text:
        return None  # a spacer row, or one with only notes in other columns
    if not number:
        problems.append(f"Row {line_num}: has text but no recommendation number, so it was skipped")
        return None
    label = f"Recommendation {number}"
    if not text:
        problems.append(f"{label}: no recommendation text")

    due = None
    if due_text := cell("due"):
        due = parse_when(due_text, today, prefer="future")
        if due is None:
            problems.append(f"{label}: due date '{due_text}' not understood")

    status = None
    if status_text := cell("status"):
        status = status_from_paper(status_text)
        if status is None:
            problems.append(f"{label}: status '{status_text}' not recognised")

    position = "\n".join(plain_lines(cell("position"))) or None
    return ImportedItem(number=number, text=text,
                        owners=split_owners(cell("owners"), words=False),
                        due=due, status=status, position=position)
