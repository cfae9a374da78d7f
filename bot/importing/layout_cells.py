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

Some logs print no number at all (an NHS board's action log: Meeting, Item, Action /
Progress, Outcome). Their rows are found by the shape of the cells instead: a short
title in capitals ("Volunteering Strategy") starts a row, the sentence after it is the
action, and whatever follows (a date cell such as "Board 06/10/09", "Completed as …",
a note) is its outcome. Rows are numbered 1, 2, 3 … in the order printed and flagged so.
"""
from __future__ import annotations

import re
from datetime import date

from .classify import _is_date, _is_owner, _is_status, heading_role
from .cleaning import squeeze
from .common import END_MATTER, MONTH_HEADING, PAGE_LINE, clean_ref, read_status
from .grid import rows_to_paper
from .layout_lines import actor_owner
from .model import ImportedItem, ParsedPaper


def _is_date_only(line: str) -> bool:
    return _is_date(line) and not _is_status(line)   # "Ongoing" is a status, when there is one


_NUMERIC_DATE = re.compile(r"\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b")
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
    if not any(clean_ref(line) is not None and len(line) <= 16 for line in lines[start:]):
        return _unnumbered(lines[start:], names, today)
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


_SMALL = {"of", "and", "the", "to", "for", "in", "on", "at", "a", "an", "&", "-", "\u2013", "with", "by"}
_ENDS = (".", "!", "?", ";")


def _title_line(line: str) -> bool:
    """ "Mental Health of Children and", "Road Risk": a short line of capitalised words."""
    words = line.split()
    if not words or len(words) > 7 or line.endswith(_ENDS) or line.endswith(":"):
        return False
    big = [w for w in words if w.lower() not in _SMALL]
    return bool(big) and all(w[:1].isupper() or w[:1] in "(&" or w[:1].isdigit() for w in big)


def _date_cell(line: str) -> bool:
    """ "Board 02/09/08", "CEs Report 11/08/09", "Board 07/04/09 – deferred"."""
    return len(line.split()) <= 6 and (_is_date(line) or bool(_NUMERIC_DATE.search(line)))


def _unnumbered(lines: list[str], names: list[str], today: date) -> ParsedPaper | None:
    rows: list[dict] = []
    cur: dict | None = None
    cell: list[str] | None = None    # the cell the last line went to
    mode = ""
    for line in lines:
        if not line or line in names or PAGE_LINE.match(line):
            continue
        if END_MATTER.match(line):
            break
        if cell is not None and not cell[-1].endswith(_ENDS) and not _date_cell(line) and (
                mode != "title" or _title_line(line)):
            cell.append(line)            # a wrapped line of the cell it follows
            continue
        if _date_cell(line):
            if cur is not None:
                cur["outcome"].append([line])
            mode, cell = "after", None
        elif _title_line(line) and not _is_status(line.split()[0]):
            cur = {"title": [line], "text": [], "outcome": []}
            rows.append(cur)
            mode, cell = "title", cur["title"]
        elif cur is None:
            continue
        elif mode == "title":
            cur["text"] = [line]
            mode, cell = "text", cur["text"]
        else:
            cur["outcome"].append([line])
            mode, cell = "after", cur["outcome"][-1]
    rows = [r for r in rows if r["text"]]
    if len(rows) < 2:
        return None
    items = []
    for n, row in enumerate(rows, 1):
        text = squeeze(" ".join(row["text"]))
        outcome = [squeeze(" ".join(c)) for c in row["outcome"]]
        status = next((read_status(c) for c in outcome if not _date_cell(c) and _is_status(
            " ".join(c.split()[:2]))), None)
        owner = actor_owner(text)
        items.append(ImportedItem(
            number=str(n), text=text, owners=[owner] if owner else [], status=status,
            position="\n".join(outcome) or None,
            flags=[f"no number printed: row {n}, titled \"{squeeze(' '.join(row['title']))}\""]
            + (["owner taken from the action's own words"] if owner else [])))
    return ParsedPaper(items=items, paper_date=None,
                       problems=["The table has no numbers: its rows were numbered 1, 2, 3 … "
                                 "in the order printed"],
                       confidence=0.6)
