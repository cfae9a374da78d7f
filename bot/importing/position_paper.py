"""Format 2: the "Position on recommendations" paper, as text or HTML fragments.

The committee paper is a two-column table flattened to text, one row a line:

    <p>(1) Recommendation … <b>Owner:</b> Chairman of the ESCB</p>\t<p>(1) Position …</p>

A row that ran over a page break carries on in a line with an empty first cell
("\tall agencies. The Policy …"). Above the table are a title (often underlined)
and a heading "POSITION ON … – 1 JUNE 2010" giving the date positions are at.
The same layout typed as plain text, without any tags, reads the same way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from bot.core.status import status_from_paper

from .cleaning import (
    append_paragraphs,
    ends_sentence,
    paragraphs,
    parse_when,
    split_owners,
    squeeze,
    tidy_title,
    trim_field,
    unique_owners,
)
from .columns import header_roles
from .model import ImportedItem, PaperFormatError, ParsedPaper

# "(12) The CYP P&SC should …" starts a row.
_ROW_START = re.compile(r"^\(\s*(\d{1,3}[A-Za-z]?)\s*\)\s*")
# "12. …" or "12) …" also starts a row, but only on a line that is clearly a
# table row (it has a second cell or an owner), since numbered prose is common.
_ROW_START_LOOSE = re.compile(r"^(\d{1,3}[A-Za-z]?)[.)]\s+")
_NUMBER_CELL = re.compile(r"\(?\s*(\d{1,3}[A-Za-z]?)\s*[.)]?")
# Labelled fields inside the recommendation cell. Owner labels are matched in
# any case; the others only capitalised, so prose like "the status: …" is left.
_LABEL = re.compile(
    r"(?<![\w-])(?P<label>(?i:owners?|owner\s*\(s\)|lead\s+officers?|responsible\s+officers?)"
    r"|Due(?:\s+date)?|Target(?:\s+date)?|Deadline|Status|Position)\s*:\s*")
_LABEL_ROLE = {"due": "due", "due date": "due", "target": "due", "target date": "due",
               "deadline": "due", "status": "status", "position": "position"}
# The position text saying plainly that the position itself needs clarifying.
_CLARIFY = re.compile(
    r"\b(?:position|recommendation|this|it)\b[^.]{0,60}?\b(?:needs?|requires?)\s+"
    r"(?:further\s+|some\s+)?clarif(?:ying|ication)\b", re.I)
_HEADING_DATE = re.compile(
    r"^(?P<head>position\b.*?)[\s,:\u2013\u2014-]*(?:\bas\s+at\b|\bat\b)?\s*"
    r"(?P<when>\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\.?,?\s+\d{4}|[A-Za-z]{3,9}\s+\d{4}"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2})$", re.I)
_UNDERLINED = re.compile(r"<u>(.*?)</u>", re.I | re.S)
_PAGE_FOOTER = re.compile(r"^(?:page\s+\d+(?:\s+of\s+\d+)?|\d+|-\s*\d+\s*-)$", re.I)


@dataclass
class _Row:
    number: str
    cells: dict[int, list[str]] = field(default_factory=dict)  # column -> paragraphs

    def add(self, column: int, paras: list[str]) -> None:
        if paras:
            append_paragraphs(self.cells.setdefault(column, []), paras)

    def last_column(self) -> int:
        return max((c for c, paras in self.cells.items() if paras), default=0)

    def continued_by(self, paragraph: str) -> bool:
        """Does a line with no tab carry on this row's last cell?

        Only if it plainly does: the cell stopped mid-sentence, the line starts
        in lower case, or it is a field such as "Owner: …". Otherwise it is
        prose after the table (minutes, reasons) and must not be swallowed.
        """
        last = self.cells.get(self.last_column()) or [""]
        return (not ends_sentence(last[-1]) or paragraph[:1].islower()
                or bool(_LABEL.match(paragraph)))


def _strip_decoration(text: str) -> str:
    """A heading without its Markdown marks (### **…**)."""
    return squeeze(re.sub(r"^[#>\s]+", "", text).replace("**", "").replace("__", ""))


def _header_columns(cells: list[list[str]]) -> dict[int, str] | None:
    """Column roles if this line is a "Recommendation | Position" header row."""
    words = [_strip_decoration(" ".join(c)).strip(" :") for c in cells]
    filled = [(i, w) for i, w in enumerate(words) if w]
    if len(filled) < 2:
        return None
    roles = header_roles([w for _, w in filled])
    if len(roles) != len(filled):
        return None  # some cell is not a column name, so this is content
    return {filled[i][0]: role for role, i in roles.items()}


def _is_noise(cells: list[list[str]]) -> bool:
    """Headings and page furniture between rows, which belong to no cell."""
    text = " ".join(p for c in cells for p in c)
    return bool(_PAGE_FOOTER.match(text) or text.startswith("#")
                or (text.isupper() and len(text.split()) > 1))


def _row_start(cells: list[list[str]], columns: dict[int, str], raw: str):
    """(number, cells with the number taken off) if this line begins a row."""
    first = cells[0]
    if not first:
        return None
    if columns.get(0) == "number":
        m = _NUMBER_CELL.fullmatch(first[0])
        return (m.group(1), [[]] + cells[1:]) if m and len(first) == 1 else None
    m = _ROW_START.match(first[0])
    if not m and (len(cells) > 1 or re.search(r"(?i)\bowners?\s*:", raw)):
        m = _ROW_START_LOOSE.match(first[0])
    if not m:
        return None
    rest = first[0][m.end():]
    return m.group(1), [([rest] if rest else []) + first[1:]] + cells[1:]


def parse_position_paper(text: str, today: date) -> ParsedPaper:
    columns = {0: "text", 1: "position"}
    rows: list[_Row] = []
    preamble: list[tuple[str, list[list[str]]]] = []
    loose_ok = True  # may a line with no tab carry on the current row?
    for raw in text.split("\n"):
        if not raw.strip():
            continue
        cells = [paragraphs(c) for c in raw.split("\t")]
        if not any(cells):
            continue  # only tags or spaces
        if header := _header_columns(cells):
            columns, loose_ok = header, False
            continue
        if started := _row_start(cells, columns, raw):
            number, cells = started
            rows.append(_Row(number))
            for i, paras in enumerate(cells):
                rows[-1].add(i, paras)
            loose_ok = True
            continue
        if not rows:
            preamble.append((raw, cells))
            continue
        row = rows[-1]
        if not cells[0]:
            # Empty first cell: the row carried on over a page break.
            for i, paras in enumerate(cells):
                row.add(i, paras)
        elif _is_noise(cells):
            loose_ok = False
        elif len([c for c in cells if c]) > 1:
            for i, paras in enumerate(cells):
                row.add(i, paras)
        elif loose_ok and row.continued_by(cells[0][0]):
            # A line with no tab: a cell typed over several lines.
            row.add(row.last_column(), cells[0])
        else:
            loose_ok = False

    if not rows:
        raise PaperFormatError(
            "Sorry, I couldn't find any numbered recommendations; "
            "each one should start with its number, like (1).")

    problems: list[str] = []
    items = [_item(row, columns, today, problems) for row in rows]
    _check_numbers(items, problems)
    title, paper_date = _title_and_date(preamble, today)
    return ParsedPaper(items=items, title=title, paper_date=paper_date, problems=problems)


def _split_labels(paras: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Recommendation text, and the labelled fields (Owner:, Due:, …) found in it."""
    joined = "\n".join(paras)
    matches = list(_LABEL.finditer(joined))
    if not matches:
        return paras, {}
    text = joined[:matches[0].start()]
    fields: dict[str, list[str]] = {}
    for m, nxt in zip(matches, matches[1:] + [None]):
        value = joined[m.end():nxt.start() if nxt else len(joined)]
        role = _LABEL_ROLE.get(squeeze(m.group("label")).lower(), "owners")
        if role == "position":
            fields.setdefault(role, []).extend(value.split("\n"))
        else:
            # A field runs to the end of its paragraph; anything after is more text.
            head, _, tail = value.partition("\n")
            fields.setdefault(role, []).append(head)
            text += "\n" + tail
    lines = [squeeze(line) for line in text.split("\n")]
    return [line for line in lines if line], fields


def _item(row: _Row, columns: dict[int, str], today: date, problems: list[str]) -> ImportedItem:
    label = f"Recommendation {row.number}"
    text: list[str] = []
    position: list[str] = []
    owners: list[str] = []
    due_texts: list[str] = []
    status_texts: list[str] = []
    for col in sorted(row.cells):
        paras = row.cells[col]
        role = columns.get(col, "position" if col else "text")
        if role == "text":
            body, fields = _split_labels(paras)
            text += body
            for owner_text in fields.get("owners", []):
                owners += split_owners(owner_text)
            due_texts += fields.get("due", [])
            status_texts += fields.get("status", [])
            position += [p for p in map(squeeze, fields.get("position", [])) if p]
        elif role == "position":
            position += _strip_own_number(paras, row.number, problems)
        elif role == "owners":
            owners += split_owners("\n".join(paras))
        elif role == "due":
            due_texts.append(" ".join(paras))
        elif role == "status":
            status_texts.append(" ".join(paras))

    if not text:
        problems.append(f"{label}: no recommendation text found")
    if not owners:
        problems.append(f"{label}: no owner found")

    due = None
    for due_text in filter(None, map(trim_field, due_texts)):
        due = parse_when(due_text, today, prefer="future")
        if due is None:
            problems.append(f"{label}: due date '{due_text}' not understood")
        break

    status = None
    for status_text in filter(None, map(trim_field, status_texts)):
        status = status_from_paper(status_text)
        if status is None:
            problems.append(f"{label}: status '{status_text}' not recognised")
        break
    if status is None and position:
        joined = " ".join(position)
        if _CLARIFY.search(joined) or any(status_from_paper(p) == "needs clarification"
                                          for p in position):
            status = "needs clarification"

    return ImportedItem(number=row.number, text="\n".join(text), owners=unique_owners(owners),
                        due=due, status=status, position="\n".join(position) or None)


def _strip_own_number(paras: list[str], number: str, problems: list[str]) -> list[str]:
    """The position cell repeats the row's "(N)"; it is not part of the position."""
    if not paras:
        return []
    m = _ROW_START.match(paras[0]) or _ROW_START_LOOSE.match(paras[0])
    if not m:
        return list(paras)
    if m.group(1).lower() != number.lower():
        problems.append(f"Recommendation {number}: its position is numbered ({m.group(1)}); "
                        "check the rows line up")
    rest = paras[0][m.end():]
    return ([rest] if rest else []) + list(paras[1:])


def _check_numbers(items: list[ImportedItem], problems: list[str]) -> None:
    seen: set[str] = set()
    previous = None
    for item in items:
        if item.number in seen:
            problems.append(f"Recommendation {item.number}: appears more than once")
        seen.add(item.number)
        if item.number.isdigit():
            n = int(item.number)
            if previous is not None and n > previous + 1:
                missing = ", ".join(str(k) for k in range(previous + 1, n))
                problems.append(f"Recommendation {missing}: not found (numbers go from "
                                f"{previous} to {n})")
            previous = n


def _title_and_date(preamble: list[tuple[str, list[list[str]]]], today: date):
    """Title and the date positions are reported at, from the lines above the table."""
    underlined = heading_title = paper_date = meeting_date = None
    for raw, cells in preamble:
        filled = [" ".join(c) for c in cells if c]
        line = _strip_decoration(" ".join(filled))
        if underlined is None and (m := _UNDERLINED.search(raw)):
            inner = squeeze(" ".join(paragraphs(m.group(1))))
            if inner and inner == line:  # a whole underlined line, not a word in prose
                underlined = inner
        if paper_date is None and (m := _HEADING_DATE.match(line)):
            when = parse_when(m.group("when"), today, prefer="past")
            if when:
                paper_date = when
                heading_title = re.sub(r"(?i)[\s,:\u2013\u2014-]*\b(?:as\s+)?at$", "",
                                       m.group("head"))
        if (meeting_date is None and len(filled) >= 2
                and filled[0].strip().rstrip(":").lower() == "date"):
            meeting_date = parse_when(filled[1], today, prefer="past")
    title = underlined or heading_title
    # Without a "Position … – date" heading, the meeting's date is the best guess.
    return (tidy_title(title) if title else None), paper_date or meeting_date
