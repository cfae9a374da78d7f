"""Reading a table of recommendations once its rows and cells are known.

Every tabular source ends up here: HTML and Word tables, Excel sheets, and the
text layouts that are tables in disguise (cells ending in "|", cells between
blank lines, fixed-width columns). The header row names the columns (see
columns.py); rows below it are items. A row that only carries a heading
("JUNE 2014", "Children's Services") is skipped, and a row without a number
continues the item above it (a row split over a page break).

Status rule: the status cell is read into our vocabulary, and the words as the
tracker printed them are kept as the item's position text when the table has
no position column of its own (or that cell is empty).
"""
from __future__ import annotations

import re
from datetime import date

from .classify import OVERRIDES, classify, heading_role
from .cleaning import squeeze
from .columns import header_roles
from .common import MONTH_HEADING, clean_ref, line_number, owners_from, read_due, read_status
from .model import ImportedItem, ParsedPaper

Row = list[str]


def find_header(rows: list[Row], limit: int = 40,
                tracker_only: bool = False) -> tuple[int, dict[str, int]] | None:
    """(index, roles) of the first row that names a text column and one other.

    tracker_only: the other must be a tracker's column (number, owner, date or
    status); a plain "Recommendation | Position" table is left to position_paper.
    """
    for i, row in enumerate(rows[:limit]):
        cells = [squeeze(c) for c in row]
        if sum(1 for c in cells if c) < 2:
            continue
        roles = header_roles(cells)
        if "text" in roles and len(roles) >= 2 and not (
                tracker_only and set(roles) <= {"text", "position"}):
            return i, roles
    # Headings in other words ("Lead Officer / Cabinet Member", "Agreed management action"):
    # a row of short cells, most of them naming a role by a key word.
    wanted = {key for key in (OVERRIDES.get() or {}).values()}
    for i, row in enumerate(rows[:limit]):
        cells = [squeeze(c) for c in row]
        filled = [c for c in cells if c]
        if len(filled) < 2 or any(len(c) > 60 for c in filled):
            continue
        named = {c: heading_role(c)[0] for c in filled}
        roles = {r for r in named.values() if r and r != "ignore"}
        officer = sum(1 for c in filled if any(squeeze(w).lower() == c.lower() for w in wanted))
        if officer >= max(1, len(wanted) - 1) and wanted or (
                "text" in roles and len(roles) >= 2
                and sum(1 for r in named.values() if r) >= max(2, len(filled) * 0.6)
                and not (tracker_only and roles <= {"text", "position"})):
            return i, {r: cells.index(c) for c, r in named.items() if r}
    return None


def _is_heading(cells: Row, roles: dict[str, int]) -> bool:
    filled = [c for c in cells if c.strip()]
    if not filled:
        return True
    if len(filled) >= 2 and len({squeeze(c) for c in filled}) == 1:
        return True  # a merged cell spanning the row: Word repeats its text
    if len(filled) == 1:
        only = squeeze(filled[0])
        return bool(MONTH_HEADING.match(only) or only.isupper()
                    or len(only.split()) <= 6 and not only.endswith("."))
    return False


def rows_to_paper(rows: list[Row], today: date, paper_date: date | None = None,
                  title: str | None = None, wrapped: bool = False,
                  tracker_only: bool = False) -> ParsedPaper | None:
    """Items from table rows, or None if there is no header naming the columns.

    wrapped: the cells came from text where a cell ran over several lines, so
    line breaks inside a cell are spaces, not paragraph breaks.
    """
    found = find_header(rows, tracker_only=tracker_only)
    if not found:
        return None
    start, _roles = found
    header = [squeeze(c) for c in rows[start]]
    roles, described, confidence = classify(header, [r for r in rows[start + 1:] if r != rows[start]],
                                            OVERRIDES.get())
    if "text" not in roles:
        return None
    width = len(header)
    records: list[dict[str, list[str]]] = []
    for row in rows[start + 1:]:
        cells = [(row[i] if i < len(row) else "") for i in range(max(width, len(row)))]
        squeezed = [squeeze(c) for c in cells]
        if squeezed[:width] == header:
            continue  # the header repeated after a page break
        filled = [c for c in squeezed if c]
        if not filled:
            continue
        merged = len(filled) >= 2 and len(set(filled)) == 1
        number_cell = squeezed[roles["number"]] if "number" in roles else ""
        if "number" in roles:
            others = [c for i, c in enumerate(squeezed) if c and i != roles["number"]]
            if not number_cell:
                if len(filled) == 1 and _is_heading(cells, roles) or merged:
                    continue  # a group heading between rows
                if records:  # the row above carried on over a page break
                    for role, i in roles.items():
                        if i < len(cells) and cells[i].strip():
                            records[-1].setdefault(role, []).append(cells[i].strip())
                    continue
            elif clean_ref(number_cell) is None and (not others or merged):
                continue  # "JUNE 2014" or "Children's Services" in the first column
        elif merged or len(filled) == 1 and _is_heading(cells, roles):
            continue
        record = {role: [cells[i].strip()] for role, i in roles.items()
                  if i < len(cells) and cells[i].strip()}
        if not record.get("text") and not number_cell:
            continue
        records.append(record)
    if not records:
        return None

    items: list[ImportedItem] = []
    problems: list[str] = []
    guessed = {d["role"] for d in described if d["how"] == "contents"}
    for d in described:
        if d["how"] == "contents":
            problems.append(f"Column {d['column']} ('{d['heading'] or 'no heading'}') taken as "
                            f"{d['role']} from what its cells hold; please check")
    for n, record in enumerate(records, start=1):
        item = _item(record, n, today, paper_date, problems, wrapped, "position" in roles)
        for role in ("owners", "due", "status"):
            if role in guessed and record.get(role):
                item.flags.append(f"{role} read from a column without a {role} heading")
        items.append(item)
    return ParsedPaper(items=items, title=title, paper_date=paper_date, problems=problems,
                       columns=described, confidence=confidence)


def _join(parts: list[str], wrapped: bool) -> str:
    text = "\n".join(parts)
    if wrapped:
        return squeeze(text)
    return "\n".join(p for p in (squeeze(line) for line in text.split("\n")) if p)


def _item(record: dict[str, list[str]], n: int, today: date, paper_date: date | None,
          problems: list[str], wrapped: bool, position_column: bool = False) -> ImportedItem:
    text = _join(record.get("text", []), wrapped)
    number = None
    if record.get("number"):
        raw = squeeze(record["number"][0])
        number = clean_ref(raw) or raw
    elif text and (found := line_number(text)):
        number, text = found[0], squeeze(found[1]) if wrapped else found[1].strip()
    if number is None:
        number = str(n)  # a table without references: items are numbered in order
    label = f"Recommendation {number}"
    flags: list[str] = []
    owner_text = _join(record.get("owners", []), wrapped)
    owners = owners_from(owner_text)
    if not owners:
        problems.append(f"{label}: no owner found")
    due = None
    for role in ("new_due", "due"):  # a "new date" column overrides the target date
        written = _join(record.get(role, []), True)
        if written:
            due = read_due(written, paper_date, today)
            if due:
                break
            if role == "due":
                problems.append(f"{label}: due date '{written}' not understood")
                flags.append(f"due date '{written}' not understood")
    status_text = _join(record.get("status", []), True)
    rag_text = _join(record.get("rag", []), True)
    status = read_status(status_text) or read_status(rag_text)
    position_text = _join(record.get("position", []), True)
    if (status is None and not status_text and not rag_text and position_text
            and len(position_text.split()) <= 5):
        # A "Progress" column holding only a rating ("2 On Track") is the status.
        status = read_status(position_text)
    if status is None and not status_text and not rag_text and position_text:
        # A response opening with its verdict: "Agreed. The checklist will be updated.",
        # "Agreed in part; HR will review the process."
        verdict = re.split(r"[.;:\u2013\u2014]|\s-\s", position_text, maxsplit=1)[0]
        if len(verdict.split()) <= 4:
            status = read_status(verdict)
    if status_text and status is None:
        problems.append(f"{label}: status '{status_text}' not recognised")
        flags.append(f"status '{status_text}' not recognised")
    position = _join(record.get("position", []), wrapped) or None
    if not position and not position_column:
        # The status words as printed are kept as the position text (when the table has no
        # column for positions: an empty one there means no position was reported).
        position = status_text or rag_text or None
    return ImportedItem(number=number, text=text, owners=owners, due=due, status=status,
                        position=position, flags=flags)
