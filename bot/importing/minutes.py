"""Decisions in minutes: "RESOLVED: 1. … 2. …", "Resolved – That (1) … (2) …",
"AGREED that …" lines. The paper's kind is "decisions"; each one can become an action.

Text rule: a decision's text is what follows its number, as written ("That the
policy be approved."). Where the stem "That" is shared by numbered parts
("Resolved – That (1) … (2) …") it is left off the parts; an unnumbered
"AGREED that X" or "RESOLVED – That X" keeps only X. Unnumbered decisions are
numbered 1, 2, 3 … in the order they appear. "(Action: Head of X)" names owners,
"… by 30 June" a due date.

Parts may be numbered "1.", "(1)" or, where "That"/"To" follows, a bare "1 That …"
(read only while the numbers go 1, 2, 3 …). Two resolutions in one set of minutes
may both number their parts from 1: every part is kept, in the order printed, with
its number as written, and the repeat is reported in .problems. A resolution
printed twice in a row with the same numbered parts (a decision panel and then
the minutes) is read once.
"""
from __future__ import annotations

import re
from datetime import date

from .cleaning import ends_sentence, squeeze
from .common import LINE_START, find_due_in_prose, find_paper_date, key, line_number, owners_from, tracker_ref_items
from .model import ImportedItem, ParsedPaper

_TRIGGER = re.compile(
    r"^\s*(?:\d+(?:\.\d+)*\.?\s+)?(?P<word>RESOLVED|Resolved|AGREED|Agreed|DECIDED|Decided"
    r"|RESOLVED\s+UNANIMOUSLY|NOTED)\b(?:\s*(?:[:\u2013\u2014-]|\b(?i:that)\b)\s*)*(?P<rest>.*)$")
_THAT = re.compile(r"^(?:that|That|THAT)\b[\s:\u2013\u2014-]*")
_BULLET = re.compile(r"^\s*[\u00b7\u2022\u25aa\u25cf*\-\u2013]\s+")
_INLINE_PARTS = re.compile(r"(?:^|\s)\((\d{1,2}|[a-z]|[ivx]{1,4})\)\s+")
# "1 That the report be noted." — a resolution's part numbered without a dot. A bare
# number is only read so when "That"/"To" follows and the parts go 1, 2, 3 …, so a
# minute heading ("35 Business Rates Relief") or a wrapped "2 May" is not one.
_BARE_PART = re.compile(r"^\s*(?P<n>\d{1,2})\s+(?P<rest>(?:That|THAT|To|TO)\b.*)$")
# "RECOMMENDED TO CABINET:" / "Recommendations to Council –": the committee refers numbered
# recommendations to another body, which owns them (status "referred"). A heading, not prose:
# the words are capitals or end with a colon or dash.
_REFERRAL = re.compile(
    r"^\s*(?P<head>RECOMMEND(?:ED|ATIONS?)|Recommend(?:ed|ations?))\s+(?i:to)\s+(?:(?i:the)\s+)?"
    r"(?P<to>[A-Za-z][\w&',\- ]{1,60}?)\s*(?P<mark>[:\u2013\u2014-]|$)\s*(?P<rest>.*)$")
_ACTION = re.compile(r"\s*\(?\b(?:Action|Lead|Owner)s?\s*(?:by)?\s*:\s*(?P<who>[^()]+?)\)?\s*\.?\s*$")


def parse_minutes(text: str, today: date) -> ParsedPaper | None:
    lines = text.split("\n")
    paper_date = find_paper_date(lines, today)
    blocks: list[list[tuple[str | None, str]]] = []   # each resolution's (number or None, text)
    referred_to: list[str | None] = []   # per block: the body it is referred to, if any
    i = 0
    while i < len(lines):
        if (body := _referral(lines[i])) is not None:
            rest = _REFERRAL.match(lines[i]).group("rest").strip()
            parts, i = _block(rest, lines, i + 1, False)
            parts = [(n, b.strip()) for n, b in parts if b.strip()]
            if parts:
                blocks.append(parts)
                referred_to.append(body)
            continue
        m = _TRIGGER.match(lines[i])
        if not m or not _is_trigger(m):
            i += 1
            continue
        # "NOTED" over the words noted ("the tracking report …") stands for "That … be noted".
        stem_that = bool(re.search(r"(?i)\bthat\b", lines[i][:m.start("rest")])) or m.group("word") == "NOTED"
        rest = m.group("rest").strip()
        i += 1
        parts, i = _block(rest, lines, i, stem_that)
        parts = [(n, b) for n, b in ((n, re.sub(r"[;,]\s*(?:and|or)?\s*$", "", b.strip()).strip())
                                     for n, b in parts) if b]
        if parts and blocks and _same(parts, blocks[-1]) and all(n for n, _ in parts):
            continue  # the same resolution printed twice (decision and minutes panels)
        if parts:
            blocks.append(parts)
            referred_to.append(None)
    if not blocks:
        return None
    problems: list[str] = []
    if any(to and all(n for n, _ in parts) for to, parts in zip(referred_to, blocks)):
        # A referral paper: its items are the numbered recommendations; the committee's
        # own unnumbered resolution ("RESOLVED: That the Committee noted …") is not one.
        kept = [(to, parts) for to, parts in zip(referred_to, blocks) if to or all(n for n, _ in parts)]
        if len(kept) < len(blocks):
            problems.append("The committee's own unnumbered resolution was left out: only the "
                            "numbered recommendations were read")
        referred_to, blocks = [to for to, _ in kept], [parts for _, parts in kept]
    items: list[ImportedItem] = []
    block_of: dict[str, int] = {}   # number -> the resolution it was first used in
    counter = 0
    for b, parts in enumerate(blocks):
        for number, body in parts:
            if number is None:
                counter += 1
                number = str(counter)
            if block_of.setdefault(number, b) != b:
                # Two resolutions in one set of minutes both numbered 1, 2 …: each
                # part is kept with its number as written, in the order printed.
                problems.append(f"Decision {number}: the number is used again by a later "
                                "resolution")
            owners: list[str] = []
            if (a := _ACTION.search(body)) and "\n" not in a.group("who"):
                owners = owners_from(a.group("who"))
                body = body[:a.start()].rstrip()
            to = referred_to[b]
            items.append(ImportedItem(number=number, text=body, owners=owners or ([to] if to else []),
                                      due=find_due_in_prose(body, paper_date, today),
                                      status="referred" if to else None))
    if not items:
        return None
    problems += [f"Decision {i.number}: no owner found" for i in items if not i.owners]
    # Recommendations the minutes name by their tracker reference ("o 21 BCFU 07 was now 90%
    # completed") come first, as printed before the resolution.
    taken = {i.number for i in items}
    items = [i for i in tracker_ref_items(lines) if i.number not in taken] + items
    kind = "recommendations" if all(referred_to) else "decisions"
    return ParsedPaper(items=items, paper_date=paper_date, problems=problems, kind=kind)


def _referral(line: str) -> str | None:
    """The body a "RECOMMENDED TO CABINET:" heading refers its recommendations to."""
    m = _REFERRAL.match(line)
    if not m:
        return None
    heading = line[:m.start("rest")].strip()
    if not (m.group("head").isupper() or m.group("mark")):
        return None
    if m.group("rest") and not heading.isupper() and m.group("mark") == "":
        return None
    to = m.group("to").strip(" ,-")
    if len(to.split()) > 6 or re.search(r"(?i)\b(?:that|be|is|are|was)\b", to):
        return None   # prose: "recommended to the Cabinet that it be …"
    return to.title() if to.isupper() else to


def _same(a: list[tuple[str | None, str]], b: list[tuple[str | None, str]]) -> bool:
    return [(n, key(t)) for n, t in a] == [(n, key(t)) for n, t in b]


def _is_trigger(m: re.Match) -> bool:
    word = m.group("word")
    rest = m.group("rest")
    if word.isupper() or word.startswith("Resolved") or word.startswith("Decided"):
        return True
    # "Agreed that …" in prose is a decision only when it starts the line.
    return bool(re.match(r"(?i)that\b", rest)) or not rest or bool(line_number(rest))


def _block(rest: str, lines: list[str], i: int, stem_that: bool):
    parts: list[tuple[str | None, str]] = []
    current: list[str] | None = None
    number: str | None = None
    family = None

    def flush():
        if current is not None:
            parts.append((number, "\n".join(current)))

    if rest:
        inline = _split_inline(rest)
        if inline:
            return inline, i
        found = line_number(rest) or _bare_part(rest, None)
        if found:
            number, current = found[0], [found[1]]
            family = _family(rest) if line_number(rest) else "bare"
        else:
            return [(None, _THAT.sub("", rest))], i
    while i < len(lines):
        s = lines[i].strip()
        if not s:
            i += 1
            continue
        if _TRIGGER.match(lines[i]) and _is_trigger(_TRIGGER.match(lines[i])):
            break
        found = line_number(s)
        if found and (family is None or _family(s) == family):
            flush()
            family = family or _family(s)
            number, current = found[0], [found[1]]
            i += 1
            continue
        if family in (None, "bare") and (bare := _bare_part(s, number)):
            flush()
            family = "bare"
            number, current = bare[0], [bare[1]]
            i += 1
            continue
        if current is None:
            if stem_that or re.match(r"(?i)that\b", s):
                # "Resolved\nThat the report be noted." — one unnumbered decision.
                inline = _split_inline(s)
                if inline:
                    return inline, i + 1
                current, number = [_THAT.sub("", s)], None
                i += 1
                continue
            break
        if _BULLET.match(s):
            current.append(s)
        elif not ends_sentence(current[-1]) or s[:1].islower():
            current[-1] = f"{current[-1]} {s}"
        else:
            break
        i += 1
    flush()
    return parts, i


def _bare_part(line: str, previous: str | None) -> tuple[str, str] | None:
    """(number, text) for "2 That …" when it is the part after `previous` (or the first)."""
    m = _BARE_PART.match(line)
    if not m:
        return None
    expected = int(previous) + 1 if previous and previous.isdigit() else 1
    return (m.group("n"), m.group("rest")) if int(m.group("n")) == expected else None


def _family(line: str) -> str:
    m = LINE_START.match(line)
    if not m:
        return ""
    for group in ("w", "br", "code", "dotted", "plain"):
        if m.group(group):
            return group + (":a" if m.group(group)[:1].isalpha() else "")
    return ""


def _split_inline(text: str) -> list[tuple[str, str]] | None:
    """ "That (1) the report be noted; (2) the Director report back." in one paragraph."""
    marks = list(_INLINE_PARTS.finditer(text))
    if len(marks) < 2 or marks[0].start() > 12:
        return None
    out = []
    for m, nxt in zip(marks, marks[1:] + [None]):
        out.append((m.group(1), squeeze(text[m.end():nxt.start() if nxt else len(text)])))
    return out


# -- action notes: numbered minute paragraphs, each followed by "ACTION: who" -------------

_ACTION_LINE = re.compile(r"^\s*(?:ACTIONS?|Actions?)\s*(?:by|BY)?\s*[:\u2013\u2014-]\s*(?P<who>\S.{0,80}?)\s*$")


def parse_action_notes(text: str, today: date) -> ParsedPaper | None:
    """Minutes written as numbered paragraphs ("5.2 The Chair asked that …") where those that
    call for something are followed by an "ACTION: Director of Nursing" line. Each such
    paragraph is an item owned by whoever the line names; the rest are the record."""
    lines = text.split("\n")
    paper_date = find_paper_date(lines, today)
    items: list[ImportedItem] = []
    current: tuple[str, list[str]] | None = None
    for line in lines:
        s = line.strip()
        if m := _ACTION_LINE.match(s):
            if current and current[1]:
                body = squeeze(" ".join(current[1]))
                items.append(ImportedItem(number=current[0], text=body, owners=owners_from(m.group("who")),
                                          due=find_due_in_prose(body, paper_date, today)))
            current = None
            continue
        found = line_number(s) if s else None
        if found and _family(s) == "dotted":
            current = (found[0], [found[1]] if found[1].strip() else [])
        elif found:
            current = None   # a minute's heading ("5. Infection control report")
        elif current is not None and s:
            current[1].append(s)
    if not items:
        return None
    return ParsedPaper(items=items, paper_date=paper_date, kind="decisions")
