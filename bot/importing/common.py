"""Helpers shared by the table and text layouts: numbers, statuses, dates, owners.

Numbering rule (every layout follows it): an item's ``number`` keeps its written
form, minus the brackets around the whole of it, a trailing "." or ")", and a
leading word such as "Recommendation", "Rec." or "Action". So "(1)" -> "1",
"1." -> "1", "a)" -> "a", "R1" -> "R1", "Recommendation 3" -> "3", "SC7" -> "SC7",
"02.11" -> "02.11", "41.3" -> "41.3", "BD 12/19(c)" -> "BD 12/19(c)" and
"SR (24/25) 07" -> "SR (24/25) 07". Brackets inside a reference are part of it.
"""
from __future__ import annotations

import re
from datetime import date

from bot.core.status import status_from_paper

from .cleaning import parse_when, split_owners, squeeze
from .model import ImportedItem

_WORD = r"(?:Recommendation|Rec|Action|Item|Ref|No)\.?\s*"
# The shapes of a reference, most specific first. Each group is the number as kept.
_REF = (
    r"(?:[A-Z]{1,4}\s?\(\d{2}/\d{2}\)\s?\d{1,3})"          # SR (24/25) 07
    r"|(?:[A-Z]{1,4}\s?\d{1,3}/\d{1,3}(?:\([a-z0-9]{1,3}\))?)"  # BD 12/19(c), F19/2
    r"|(?:\d{1,3}/(?:19|20)\d{2}(?:/[A-Z]{1,3})?)"                 # 14/2018/P
    r"|(?:[A-Z]{1,4}\d{1,3}(?:-\d{1,3})+)"                        # DB10-01
    r"|(?:[A-Z]{1,4}-?\d{1,3}(?:\.\d{1,3})*[a-z]?)"         # R1, SC7, A12, CR-4, R2.1
    r"|(?:\d{1,3}\.\d{1,3}[a-z]?)"                          # 02.11, 41.3, 1.1 (not 17.7.12)
    r"|(?:\d{1,3}[a-z]?)"                                   # 1, 12b
)
NUMBER_CELL = re.compile(
    rf"^(?:{_WORD})?(?:\((?P<br>{_REF}|[a-z]|[ivx]{{1,4}})\)|(?P<ref>{_REF}|[a-z])[.)]?)$")
# A number at the start of a line of prose, followed by its text. Plain "1" and
# letters need "." or ")" (or brackets) after them so that a sentence beginning
# "2 weeks later" is not item 2; coded references (R1, SC7) may be followed by
# a space, a dash or a colon.
LINE_START = re.compile(
    r"^\s*(?:(?P<word>Recommendation|Rec\.?|Action|Minute|Min\.?)\s+(?P<w>[A-Z]{0,4}\d{1,3}(?:[.-]\d{1,3})*[a-z]?)"
    r"\b\s*[.:)\u2013\u2014-]?"
    r"|\((?P<br>\d{1,3}[a-z]?|[a-z]|[ivx]{1,4})\)"
    r"|(?P<code>[A-Z]{1,4}\s?\(\d{2}/\d{2}\)\s?\d{1,3}|[A-Z]{1,4}\s?\d{1,3}/\d{1,3}(?:\([a-z0-9]{1,3}\))?"
    r"|\d{1,3}/(?:19|20)\d{2}(?:/[A-Z]{1,3})?|[A-Z]{1,4}\d{1,3}(?:-\d{1,3})+"
    r"|[A-Z]{1,4}-?\d{1,3}(?:\.\d{1,3})*[a-z]?)(?=[\s:.\u2013\u2014-])\.?"
    r"|(?P<dotted>\d{1,3}\.\d{1,3})(?!\.?\d)\.?"
    r"|(?P<plain>\d{1,3}[a-z]?|[a-z])[.)](?!\d))"
    r"[\s:\u2013\u2014-]*")
_LEAD_WORD = re.compile(r"^(?:Recommendation|Rec|Action|Item|Ref|No)\.?\s*", re.I)

_MONTHS = ("jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|"
           "april|june|july|august|september|october|november|december")
MONTH_HEADING = re.compile(rf"^(?:{_MONTHS})\.?(?:\s+\d{{2,4}})?$", re.I)
# A date somewhere in a longer cell ("Ongoing - revised to 30 Sept").
_DATE_IN = re.compile(
    rf"\b\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\.?(?:,?\s+\d{{4}})?\b"
    rf"|\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
    rf"|\b(?:end\s+of\s+)?(?:{_MONTHS})\.?(?:\s+\d{{4}})?\b"
    r"|\bQ[1-4](?:\s+\d{4}(?:/\d{2,4})?)?\b"
    r"|\b\d{1,2}/\d{1,2}\b", re.I)
_HAS_YEAR = re.compile(r"\b(?:19|20)\d{2}\b|\d[./-]\d{1,2}[./-]\d{2,4}")
_FULL_DATE = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\.?,?\s+(?:19|20)\d{{2}}\b"
    rf"|\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}}\b"
    r"|\b\d{1,2}[./]\d{1,2}[./](?:19|20)\d{2}\b", re.I)

# Status words that bot.core.status does not know but published trackers print.
# RAG colours are read as progress: a colour alone says work is under way
# (green = on track, amber = some slippage, red = off track); blue, where a
# tracker uses BRAG, means done.
_EXTRA_STATUS = {
    "red": "in progress", "amber": "in progress", "green": "in progress",
    "r": "in progress", "a": "in progress", "g": "in progress", "amber green": "in progress",
    "amber red": "in progress", "red amber": "in progress", "blue": "implemented",
    "achieved fully": "implemented", "fully achieved": "implemented",
    "partially achieved": "in progress", "partly achieved": "in progress",
    "accepted in part": "in progress", "partly accepted": "in progress",
    "agreed in part": "in progress", "partially agreed": "in progress",
    "part accepted": "in progress", "accepted in principle": "in progress",
    "not agreed": "not accepted", "overdue": "in progress", "in hand": "in progress",
    "partially implemented": "in progress", "partly implemented": "in progress",
    "implemented in part": "in progress", "part implemented": "in progress",
    "partially complete": "in progress", "partially completed": "in progress",
    "partly complete": "in progress", "partly completed": "in progress",
    "substantially complete": "in progress", "substantially implemented": "in progress",
    "on target": "in progress", "behind schedule": "in progress", "delayed": "in progress",
    "complete proposed for closure": "implemented", "completed proposed for closure": "implemented",
    "compete": "implemented", "not due": "not started", "not yet started": "not started",
    "no longer required": "withdrawn", "no longer applicable": "withdrawn",
}
# A later date that replaces the one first set: "target 31 July, revised date 31 Oct",
# "30 June (now 30 Sept)", "deadline extended to 14 May". The date after the last such
# word is the one that counts.
_REVISED = re.compile(
    r"\b(?:revised|new|amended|extended|moved|deferred|re-?scheduled|put back|now)"
    r"(?:\s+(?:target|due|completion|deadline|date|timescale|to|until|for|by|:|-|\u2013))*"
    r"\s*[:\-\u2013]?\s*", re.I)
# Lines that end a table or list of items: the date of the next meeting, a signature
# line, "The meeting closed at …". They start with a capital, so that a wrapped cell
# going on "next meeting of the Board." is not taken for one.
END_MATTER = re.compile(
    r"^\s*(?:(?:The\s+|THE\s+)?(?:Date|DATE)\s+"
    r"(?i:(?:and\s+time\s+)?of\s+(?:the\s+)?next\s+meeting)\b"
    r"|(?:Next|NEXT)\s+(?i:meeting)\b"
    r"|(?:Signed|SIGNED)\s*(?::|\.{3,}|_{3,}|$)"
    r"|(?:The|THE)\s+(?i:meeting\s+(?:closed|ended|finished))\b)")
# Page furniture: a line that is only a page number ("Page 3 of 7", "- 4 -", "12").
PAGE_LINE = re.compile(r"^\s*(?:page\s+\d+(?:\s+of\s+\d+)?|-\s*\d+\s*-|\d{1,3})\s*$", re.I)
_STATUS_SPLIT = re.compile(r"\s*(?:[\u2013\u2014:;,(/]|\s-\s|\.\s|\n)\s*")


def key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def clean_ref(text: str) -> str | None:
    """The number as kept (see the module's rule), or None if this isn't one."""
    text = squeeze(text).strip()
    if re.fullmatch(r"\d+\.0+", text):
        return text.split(".")[0]
    m = NUMBER_CELL.match(text)
    if not m:
        return None
    return squeeze(m.group("br") or m.group("ref"))


def line_number(line: str) -> tuple[str, str] | None:
    """(number, rest of the line) if a line of prose starts with an item number."""
    m = LINE_START.match(line)
    if not m:
        return None
    number = (m.group("w") or m.group("br") or m.group("code") or m.group("dotted")
              or m.group("plain"))
    return squeeze(number), line[m.end():]


_PERCENT_DONE = re.compile(r"\b(\d{1,3})\s*%\s*(?:complete|completed|done|implemented|delivered)\b", re.I)
# An audit tracker's reference quoted in prose or a bullet: "21 BCFU 07" (year, audit, number),
# "IA 23/24-05".
TRACKER_REF = re.compile(r"(?P<ref>(?:19|2\d)\s[A-Z]{2,6}\s\d{2,3}|[A-Z]{2,6}\s?\d{2}/\d{2}[-/]\d{1,3})(?![\w/])")
_REF_BULLET = re.compile(rf"^\s*(?:[o\u00b7\u2022\u25aa\u25cf*\-\u2013]\s+)?{TRACKER_REF.pattern}\s*[:\u2013\u2014-]?\s+(?P<rest>\S.*)$")


def tracker_ref_items(lines: list[str]) -> list[ImportedItem]:
    """Items a paper names by their tracker reference, one per line: "o 21 BCFU 07 was now 90%
    completed". The recommendation's own text is not printed; what is said of it is the text."""
    items = []
    for line in lines:
        m = _REF_BULLET.match(line)
        if m:
            # "(Payroll) was now 60% complete;": the audit's name is not what is said of it
            rest = re.sub(r"^\([^()]{1,40}\)\s*", "", m.group("rest").strip())
            rest = re.sub(r"\s*[;,]\s*(?:and|or)?\s*$", "", rest)
            items.append(ImportedItem(number=m.group("ref"), text=rest, status=read_status(rest),
                                      flags=["only the tracker reference is printed; the text is "
                                             "what the paper says of it"]))
    return items


def read_status(text: str | None) -> str | None:
    """Our status for a status cell as a tracker prints it ("2 On Track",
    "Complete – proposed for closure", "Amber", "e.g. Paused"), or None."""
    if not text:
        return None
    t = squeeze(text)
    t = re.sub(r"^(?:e\.g\.|status)\s*:?\s*", "", t, flags=re.I)
    if pct := _PERCENT_DONE.search(t):
        # "was now 90% completed": under way until it is all done.
        return "implemented" if int(pct.group(1)) >= 100 else "in progress"
    for candidate in (t, *_STATUS_SPLIT.split(t)):
        if not candidate:
            continue
        found = status_from_paper(candidate) or _EXTRA_STATUS.get(key(candidate))
        if found:
            return found
    words = key(t).split()
    for n in range(min(4, len(words)), 0, -1):
        head = " ".join(words[:n])
        found = status_from_paper(head) or _EXTRA_STATUS.get(head)
        if found:
            return found
    return None


def year_base(paper_date: date | None, today: date) -> date:
    """The day a date written without a year is read from.

    A tracker's dates without a year are in the paper's own year, so they are
    read forward from 1 January of that year; without a paper date, from today.
    """
    return date(paper_date.year, 1, 1) if paper_date else today


def read_due(text: str | None, paper_date: date | None, today: date) -> date | None:
    """A due date as written in a cell: "June", "30 Sept", "17.7.12", "by 28 February 2014".
    A revised date in the same words overrides the first ("target 31 July, revised 31 Oct")."""
    if not text:
        return None
    t = squeeze(text).strip(" .,;:")
    if not t or key(t) in ("ongoing", "n a", "na", "tbc", "complete", "completed"):
        return None
    base = year_base(paper_date, today)
    for m in reversed(list(_REVISED.finditer(t))):
        # "target 31 July, revised date 31 Oct": the revised date overrides the target.
        later = _DATE_IN.match(t, m.end())
        found = parse_when(later.group(0), base, prefer="future") if later else None
        if found:
            return found
    whole = parse_when(t, base, prefer="future") if len(t) < 40 else None
    if whole:
        return whole
    for m in _DATE_IN.finditer(t):
        found = parse_when(m.group(0), base, prefer="future")
        if found:
            return found
    return None


def find_due_in_prose(text: str, paper_date: date | None, today: date) -> date | None:
    """A deadline stated in a sentence: "… by 28 February 2014", "by the end of June"."""
    m = re.search(rf"\b(?:by|before|no later than)\s+(?:the\s+)?((?:end\s+of\s+)?"
                  rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?(?:{_MONTHS})\.?(?:\s+\d{{4}})?"
                  r"|\d{1,2}[./]\d{1,2}[./]\d{2,4})\b", text, re.I)
    if m:
        return read_due(m.group(1), paper_date, today)
    # "by the end of 2025": the year's last day
    if y := re.search(r"\b(?:by|before)\s+the\s+end\s+of\s+((?:19|20)\d{2})\b(?![/-]\d)", text, re.I):
        return date(int(y.group(1)), 12, 31)
    return None


def find_paper_date(lines: list[str], today: date) -> date | None:
    """The paper's own date: the first full date (with a year) near its top."""
    for line in lines[:40]:
        if line.startswith("SOURCE:"):
            continue
        m = _FULL_DATE.search(line)
        if m:
            found = parse_when(m.group(0), today, prefer="past")
            if found:
                return found
    return None


def owners_from(text: str | None) -> list[str]:
    """Owners in a cell: job titles, names or initials, split on "/", ";" and "and"."""
    if not text:
        return []
    text = re.sub(r"\s*\n\s*", " ", text) if ";" in text or "/" in text else text
    return [o for o in split_owners(text) if key(o) not in ("", "n a", "na", "tbc", "all")]
