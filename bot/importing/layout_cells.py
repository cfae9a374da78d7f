"""A table flattened one cell per line: the headings each on a line of their own,
then each row's cells one after another, a cell wrapping over several lines.

    Ref
    Recommendation
    Lead officer
    Target date
    Status
    1
    Publish the strategy on the
    council's website.
    Head of Housing
    31 March 2024
    Complete

Rows start at a line holding only a reference. Within a row the cells come in the
headings' order, but empty cells leave no line, so each line is placed by what it
holds: a date goes to the next date column, a status word to the status column,
a job title or initials to the owner column; anything else continues the cell it
follows (a wrapped line) or, after the short cells, starts the position text.
The rows are then read as any table (grid.rows_to_paper).
"""
from __future__ import annotations

from datetime import date

from .classify import _is_date, _is_owner, _is_status, heading_role
from .cleaning import squeeze
from .common import END_MATTER, MONTH_HEADING, PAGE_LINE, clean_ref
from .grid import rows_to_paper
from .model import ParsedPaper


def _is_date_only(line: str) -> bool:
    return _is_date(line) and not _is_status(line)   # "Ongoing" is a status, when there is one


_JUDGE = {"due": _is_date_only, "new_due": _is_date_only, "status": _is_status, "rag": _is_status,
          "owners": _is_owner}


def _header(lines: list[str]) -> tuple[int, list[str], list[str]] | None:
    """(index after the headings, headings, roles) of a run of heading lines."""
    for i in range(min(len(lines), 60)):
        names: list[str] = []
        roles: list[str] = []
        j = i
        while j < len(lines) and lines[j] and len(lines[j].split()) <= 5:
            role, _conf = heading_role(lines[j])
            if role is None or role in roles and role != "ignore":
                break
            names.append(lines[j])
            roles.append(role)
            j += 1
        if len(names) >= 3 and "text" in roles and "number" in roles:
            return j, names, roles
    return None


def parse_cell_lines(text: str, today: date) -> ParsedPaper | None:
    lines = [squeeze(line) for line in text.split("\n")]
    found = _header(lines)
    if not found:
        return None
    start, names, roles = found
    number_col = roles.index("number")
    text_col = roles.index("text")
    rows: list[list[str]] = [list(names)]
    current = None
    col = text_col
    for line in lines[start:]:
        if not line or PAGE_LINE.match(line) and clean_ref(line) is None:
            continue
        if END_MATTER.match(line):
            break
        if line == names[0] and current is not None:
            col = -1   # the headings repeated after a page break: skip them
            continue
        if col == -1 and line in names:
            continue
        if clean_ref(line) is not None and len(line) <= 16:
            current = [""] * len(names)
            current[number_col] = line
            rows.append(current)
            col = text_col
            continue
        if current is None:
            continue
        if col == text_col and not current[text_col] and (MONTH_HEADING.match(line) or line.isupper()):
            continue   # a group heading between rows
        target = None
        for k in range(max(col, text_col) + 1, len(roles)):
            judge = _JUDGE.get(roles[k])
            if judge and judge(line) and not current[k]:
                target = k
                break
        if target is None and col != text_col and roles[col] in _JUDGE and len(line.split()) >= 4:
            # prose after the short cells: the position column, if there is one after them
            target = next((k for k in range(col + 1, len(roles)) if roles[k] == "position"), None)
            if target is None:
                target = next((k for k in range(len(roles)) if roles[k] == "position"
                               and not current[k]), None)
        if target is None:
            target = col if col >= 0 else text_col
        current[target] = f"{current[target]}\n{line}" if current[target] else line
        col = target
    if len(rows) < 2:
        return None
    return rows_to_paper(rows, today, wrapped=True)
