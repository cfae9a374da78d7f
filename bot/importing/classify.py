"""Deciding what each column of a recovered table holds.

A table (rows of cells, from any format) is first given a role per column by its
heading (columns.py's vocabulary, then key words inside a longer heading such as
"Lead Officer / Cabinet Member" or "Revised target date (if applicable)"). A column
whose heading says nothing we know, or a table without a heading row, is then
judged by what its cells hold: dates, owners (initials, job titles), a small
vocabulary of status words, references, or long prose (the recommendation).

Each decision carries how it was made ("heading", "contents", "officer") and a
confidence 0..1; the paper's confidence is the lowest of the columns that matter.
The officer can override any of it with `columns` ({role: heading}), e.g. from
`scrutineer import --columns "owner=Lead Officer,due=Target date"`.
"""
from __future__ import annotations

import re
from contextvars import ContextVar

from .cleaning import squeeze
from .columns import column_role
from .common import _DATE_IN, clean_ref, key, read_status

# The officer's choices for the paper being read ({role: heading}); parse_paper sets it.
OVERRIDES: ContextVar[dict[str, str] | None] = ContextVar("column_overrides", default=None)

ROLES = ("number", "text", "owners", "due", "new_due", "status", "rag", "position", "ignore")
# What an officer may type for a role in --columns.
ROLE_WORDS = {
    "number": "number", "no": "number", "ref": "number", "reference": "number",
    "text": "text", "recommendation": "text", "action": "text", "description": "text",
    "owner": "owners", "owners": "owners", "lead": "owners", "officer": "owners",
    "due": "due", "target": "due", "deadline": "due", "date": "due",
    "new_due": "new_due", "revised": "new_due", "revised_due": "new_due", "new date": "new_due",
    "new_date": "new_due", "revised date": "new_due",
    "status": "status", "rag": "rag", "position": "position", "progress": "position",
    "update": "position", "comments": "position",
    "ignore": "ignore", "skip": "ignore", "none": "ignore",
}
# Key words inside a heading, most telling first: (pattern, role).
_HEADING_WORDS = (
    (r"\b(?:revised|new|amended|updated|extended)\b.*\b(?:date|deadline|target|timescale)", "new_due"),
    (r"\brag\b", "rag"),
    (r"\b(?:ref|reference|rec(?:ommendation)?\s*no|no\.?|number|id)\b$", "number"),
    (r"\b(?:lead|owner|responsib|made to|by whom|cabinet member|portfolio|officer|who\b|"
     r"accountable|action by)", "owners"),
    (r"\b(?:target|due|deadline|timescale|timeline|by when|completion date|date for)", "due"),
    (r"\b(?:status|outcome|accepted|rejected|agreed\?)", "status"),
    (r"\b(?:progress|update|comment|position|response|commentary|notes?)\b", "position"),
    (r"\b(?:recommendation|action|description|finding|decision|resolution|issue|task)", "text"),
    (r"^date$|\bexec(?:utive)? date\b|\b(?:origin|originating)\b", "ignore"),
    (r"\b(?:committee|meeting|date raised|date agreed|minute|source|theme|category|area|"
     r"priority|directorate|service)\b", "ignore"),
)


def heading_role(cell: str) -> tuple[str | None, float]:
    """(role, confidence) for one heading cell; (None, 0) if it names nothing we know."""
    role = column_role(cell)
    if role:
        return role, 0.95
    k = key(cell)
    if not k or len(k) > 80:
        return None, 0.0
    first = re.split(r"\s*/\s*", squeeze(cell), maxsplit=1)
    if len(first) == 2 and (column_role(first[0]) == "text" or re.fullmatch(
            r"(?:agreed\s+)?(?:recommendations?|actions?)", key(first[0]))):
        return "text", 0.8   # "Action / Progress": the action comes first, its progress under it
    for pattern, found in _HEADING_WORDS:
        if re.search(pattern, k):
            return found, 0.8
    return None, 0.0


def _text_rank(heading: str) -> int:
    k = key(heading)
    for rank, word in enumerate(("recommendation", "action", "decision", "resolution", "task",
                                 "description", "issue", "finding")):
        if word in k:
            return rank
    return 99


# -- contents ---------------------------------------------------------------------

_INITIALS = re.compile(r"^(?:[A-Z]{2,4}|[A-Z][a-z]?[A-Z]{1,3})(?:\s*[/,&;]\s*(?:[A-Z]{2,4}|[A-Z][a-z]?[A-Z]{1,3}))*$")
_TITLE = re.compile(
    r"\b(?:head|director|manager|officer|chief|executive|lead|chair|cabinet member|portfolio|"
    r"clerk|board|team|group|service|council|cllr|councillor|commissioner|secretary|"
    r"coordinator|co-ordinator|adviser|advisor|nurse|consultant|partnership)\b", re.I)


def _is_date(cell: str) -> bool:
    c = squeeze(cell)
    if not c or len(c) > 40:
        return False
    if key(c) in ("ongoing", "tbc", "n a", "asap", "immediate", "complete", "completed"):
        return True
    m = _DATE_IN.search(c)
    return bool(m) and len(m.group(0)) >= len(c) * 0.4


def _is_owner(cell: str) -> bool:
    c = squeeze(cell)
    if not c or len(c) > 80 or len(c.split()) > 10 or c.endswith("."):
        return False
    return bool(_INITIALS.match(c) or _TITLE.search(c))


def _is_status(cell: str) -> bool:
    c = squeeze(cell)
    return bool(c) and len(c.split()) <= 4 and read_status(c) is not None


def _is_prose(cell: str) -> bool:
    return len(squeeze(cell).split()) >= 8


def _is_number(cell: str) -> bool:
    c = squeeze(cell)
    return bool(c) and len(c) <= 16 and clean_ref(c) is not None


_JUDGES = (("number", _is_number), ("due", _is_date), ("status", _is_status),
           ("owners", _is_owner), ("text", _is_prose))


def content_role(cells: list[str]) -> tuple[str | None, float]:
    """(role, share of the filled cells that look like it) for a column judged by contents."""
    filled = [c for c in cells if squeeze(c)]
    if not filled:
        return None, 0.0
    best, share = None, 0.0
    for role, judge in _JUDGES:
        s = sum(1 for c in filled if judge(c)) / len(filled)
        if s > share + 0.05:
            best, share = role, s
    return (best, share) if share >= 0.6 else (None, share)


# -- the table --------------------------------------------------------------------

def parse_overrides(spec: str | dict | None) -> dict[str, str]:
    """{role: heading} from "owner=Lead Officer,due=Target date" (or such a dict).
    Raises ValueError with a readable message for a role we don't know."""
    if not spec:
        return {}
    pairs = spec.items() if isinstance(spec, dict) else (
        part.split("=", 1) for part in re.split(r"\s*[,;]\s*(?=[\w ]+=)", spec.strip()) if part)
    out: dict[str, str] = {}
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"'{'='.join(pair)}' should be role=heading, e.g. owner=Lead Officer")
        role_word, heading = (squeeze(str(x)) for x in pair)
        role = ROLE_WORDS.get(role_word.lower().replace("-", "_"))
        if role is None:
            raise ValueError(f"unknown column role '{role_word}'; use one of "
                             "number, text, owner, due, revised, status, rag, position, ignore")
        if role == "ignore" and out.get("ignore"):
            out["ignore"] = f"{out['ignore']}|{heading}"   # several columns may be left out
        else:
            out[role] = heading
    return out


def classify(header: list[str] | None, body: list[list[str]],
             overrides: dict[str, str] | None = None) -> tuple[dict[str, int], list[dict], float]:
    """(role -> column index, description of each column used, confidence).

    header: the heading row's cells, or None when the table has none.
    body: the rows under it (used to judge columns the heading leaves open).
    """
    width = max([len(header or [])] + [len(r) for r in body[:200]] or [0])
    heads = [squeeze(header[i]) if header and i < len(header) else "" for i in range(width)]
    decided: dict[int, tuple[str, str, float]] = {}   # column -> (role, how, confidence)
    taken: set[str] = set()
    for i, h in enumerate(heads):
        role, conf = heading_role(h) if h else (None, 0.0)
        if role == "text" and "text" in taken:
            # Two text-like columns ("Finding" and "Agreed action"): the recommendation or
            # action wins over a description or finding; the other is left out.
            other = next(k for k, v in decided.items() if v[0] == "text")
            if _text_rank(h) < _text_rank(heads[other]):
                decided[other] = ("ignore", "heading", 0.8)
                decided[i] = (role, "heading", conf)
            else:
                decided[i] = ("ignore", "heading", 0.8)
            continue
        if role and (role not in taken or role == "ignore"):
            decided[i] = (role, "heading", conf)
            taken.add(role)
    for i in range(width):
        if i in decided:
            continue
        column = [r[i] if i < len(r) else "" for r in body[:200]]
        role, share = content_role(column)
        if role and role not in taken:
            decided[i] = (role, "contents", round(0.5 + 0.4 * share, 2))
            taken.add(role)
    wishes = [(role, wanted) for role, value in (overrides or {}).items()
              for wanted in (value.split("|") if role == "ignore" else [value])]
    for role, wanted in wishes:
        col = next((i for i, h in enumerate(heads) if key(h) == key(wanted)), None)
        if col is None:
            col = next((i for i, h in enumerate(heads) if key(wanted) and key(wanted) in key(h)),
                       None)
        if col is None and wanted.isdigit() and 1 <= int(wanted) <= width:
            col = int(wanted) - 1     # "owner=3": the third column
        if col is None:
            raise ValueError(f"no column headed '{wanted}' (the columns are: "
                             f"{', '.join(h for h in heads if h) or 'unnamed'})")
        for i, (r, _how, _c) in list(decided.items()):
            if r == role and role != "ignore":
                del decided[i]
        decided[col] = (role, "officer", 1.0)
    roles = {r: i for i, (r, _h, _c) in sorted(decided.items()) if r != "ignore"}
    # Every column is described, those left unread too, so the officer can give each a role.
    unread = {i: ("ignore", "unrecognised", 0.0) for i in range(width) if i not in decided and heads[i]}
    described = [{"column": i + 1, "heading": heads[i], "role": r, "how": how, "confidence": c}
                 for i, (r, how, c) in sorted({**decided, **unread}.items())]
    important = [c for i, (r, _h, c) in decided.items() if r in ("text", "owners", "due", "status")]
    confidence = min(important) if important else 0.3
    if "text" not in roles:
        confidence = min(confidence, 0.3)
    return roles, described, confidence
