"""Text layouts read line by line rather than as a grid.

- rows: one row per line with no delimiter at all, under a header line naming
  the columns ("Ref Action Owner Due Status"). The fields after the text are
  peeled off from the right: the status words, then the date, then the owner
  (initials such as "AB/CD", or a job title starting with a word like "Head").
  A title ending in a head noun ("Officer", "Manager", "Group", "Panel") takes up to
  three capitalised words before it ("Amenities Officer", "Allotments Working Group"),
  unless they follow "on", "the", "to" … and so belong to the action ("… on Mill
  Lane" + "Clerk"). The rows end at the end matter ("Next meeting: …", "Date of next
  meeting", "Signed: …"); page numbers between rows are skipped.
- blocks: each item starts with its number ("R1 -", "Recommendation 3",
  "(1)", "SC7", "02.11", …) and runs to the next one. Inside it:
    * labelled lines ("Owner: …", "Target date: …", "Status: …");
    * an inline "Status: Ongoing / AB/CD" line (status, then owners' initials
      after the spaced slash);
    * prose ending in a bracketed response "(Accepted)", after which the
      paragraphs are comments on it (kept as the position).
  An agenda report's "RECOMMENDATIONS" section, when present, is the only part read.
  The end matter ("Next meeting: …") ends the last block; page numbers are skipped.
"""
from __future__ import annotations

import re
from datetime import date

from bot.core.status import status_from_paper

from .cleaning import squeeze
from .columns import column_role
from .common import (
    _EXTRA_STATUS,
    END_MATTER,
    MONTH_HEADING,
    PAGE_LINE,
    clean_ref,
    find_due_in_prose,
    find_paper_date,
    key,
    line_number,
    owners_from,
    read_due,
    read_status,
)
from .model import ImportedItem, ParsedPaper

# -- one row per line, no delimiter -------------------------------------------

_TITLE_WORDS = {"head", "director", "assistant", "chief", "cabinet", "corporate", "executive",
                "service", "services", "strategic", "lead", "team", "programme", "chair",
                "chairman", "chairwoman", "portfolio", "deputy", "senior", "group", "principal",
                "manager", "officer", "commissioner", "clerk", "monitoring", "council",
                "scrutiny", "democratic", "all", "cllr", "councillor", "interim"}
_JOINERS = {"of", "and", "for", "the", "&", "/", "-", "\u2013"}
# Words that end a job title or a body and take the capitalised words before them as
# part of its name ("Amenities Officer", "Economic Development Manager", "Allotments
# Working Group", "ICT Team"). Those in _STANDS_ALONE make an owner on their own too.
_HEAD_NOUNS = {"officer", "officers", "manager", "managers", "group", "team", "board", "panel",
               "committee", "partnership", "forum", "unit", "section", "department",
               "directorate", "coordinator", "co-ordinator", "adviser", "advisor", "engineer",
               "surveyor", "administrator", "clerk", "partner", "champion", "trust", "network"}
# Those naming a person, which start an owner as the words in _TITLE_WORDS do.
_PERSON_HEADS = {"officers", "managers", "coordinator", "co-ordinator", "adviser", "advisor",
                 "engineer", "surveyor", "administrator", "partner", "champion"}
_STANDS_ALONE = {"clerk", "board", "panel", "committee", "partnership", "forum", "trust"}
# A capitalised run straight after one of these is the object of the action's words
# ("flooding on Station Road"), not the start of an owner's title.
_FUNCTION_WORDS = {"a", "an", "the", "on", "in", "at", "to", "with", "about", "from", "for",
                   "by", "of", "near", "beside", "into", "onto", "across", "around", "behind",
                   "outside", "inside", "between", "along", "off", "over", "under", "via",
                   "and", "or", "towards", "within", "against"}
_INITIALS = re.compile(r"^[A-Z][A-Za-z]{0,3}(?:/[A-Z][A-Za-z]{0,3})*[,;]?$")
_DUE_WORDS = {"ongoing", "tbc", "n/a", "asap", "immediate", "complete", "completed"}
_DATE_TOKENS = re.compile(
    r"^(?:by|end|of|\d{1,2}(?:st|nd|rd|th)?|\d{4}|\d{1,2}[./]\d{1,2}[./]\d{2,4}|q[1-4]|"
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|"
    r"june|july|august|september|october|november|december)\.?,?$", re.I)


def _split_header_words(line: str) -> list[str] | None:
    """Column names in a header line with no delimiter ("Ref Action Lead Officer Due"):
    of the ways to cut it into names, the one with a text column and the most names."""
    words = line.split()
    if not 3 <= len(words) <= 16:
        return None
    best: list[str] | None = None

    def walk(i: int, names: list[str]) -> None:
        nonlocal best
        if i == len(words):
            roles = [column_role(n) for n in names]
            if "text" in roles and (best is None or len(names) > len(best)):
                best = list(names)
            return
        for j in range(i + 1, min(len(words), i + 4) + 1):
            name = " ".join(words[i:j])
            if column_role(name):
                walk(j, names + [name])

    walk(0, [])
    return best


def _status_exact(phrase: str) -> bool:
    k = key(phrase)
    return bool(k) and bool(status_from_paper(phrase) or _EXTRA_STATUS.get(k))


def parse_rows(text: str, today: date) -> ParsedPaper | None:
    lines = text.split("\n")
    header_at = names = None
    for i, line in enumerate(lines):
        got = _split_header_words(line.strip()) if line.strip() else None
        got_roles = [column_role(n) for n in got] if got else []
        if got and len(got) >= 3 and "text" in got_roles and len(set(got_roles)) == len(got):
            following = [s.strip() for s in lines[i + 1:i + 12] if s.strip()]
            numbered = sum(1 for s in following if line_number(s) or clean_ref(s.split(" ")[0]))
            if numbered >= 2:
                header_at, names = i, got
                break
    if names is None:
        return None
    roles = [column_role(n) for n in names]
    paper_date = find_paper_date(lines[:header_at], today)
    after_text = roles[roles.index("text") + 1:]
    items: list[ImportedItem] = []
    problems: list[str] = []
    for line in lines[header_at + 1:]:
        s = line.strip()
        if not s or PAGE_LINE.match(s):
            continue
        if END_MATTER.match(s):
            break  # "Next meeting: …", a signature line: the list has ended
        found = line_number(s) if "number" in roles else None
        if found is None and "number" in roles:
            first = s.split(" ", 1)
            if clean_ref(first[0]) and len(first) > 1:
                found = (clean_ref(first[0]), first[1])
        if found is None:
            if items and not (MONTH_HEADING.match(s) or s.isupper()):
                items[-1].text = squeeze(f"{items[-1].text} {s}")
            continue
        number, rest = found
        fields = _peel(rest.split(), after_text)
        owners = owners_from(fields.get("owners", ""))
        status_text = fields.get("status") or fields.get("rag")
        due = None
        for role in ("new_due", "due"):
            if fields.get(role):
                due = read_due(fields[role], paper_date, today)
                if due:
                    break
        if not owners:
            problems.append(f"Recommendation {number}: no owner found")
        items.append(ImportedItem(number=number, text=fields["text"], owners=owners, due=due,
                                  status=read_status(status_text),
                                  position=fields.get("position") or status_text or None))
    if not items:
        return None
    return ParsedPaper(items=items, paper_date=paper_date, problems=problems)


def _peel(tokens: list[str], roles: list[str]) -> dict[str, str]:
    """Take the columns after the text off the end of a row, right to left."""
    fields: dict[str, str] = {}
    for role in reversed(roles):
        if not tokens:
            break
        take = 0
        if role in ("status", "rag"):
            for n in range(min(5, len(tokens) - 1), 0, -1):
                if _status_exact(" ".join(tokens[-n:])):
                    take = n
                    break
        elif role in ("due", "new_due"):
            n = 0
            while n < min(5, len(tokens) - 1) and _DATE_TOKENS.match(tokens[-1 - n]):
                n += 1
            while n and tokens[-n].lower() in ("of", "end"):
                n -= 1
            if n and tokens[-n - 1].lower() in ("by", "end") if n < len(tokens) else False:
                n += 1
            if n == 0 and tokens[-1].lower() in _DUE_WORDS:
                n = 1
            take = n
        elif role == "owners":
            take = _owner_length(tokens)
        if take:
            fields[role] = " ".join(tokens[-take:])
            tokens = tokens[:-take]
    fields["text"] = " ".join(tokens)
    return fields


def _owner_length(tokens: list[str]) -> int:
    n = 0
    while n < len(tokens) - 1 and _INITIALS.match(tokens[-1 - n]) and (
            tokens[-1 - n].isupper() or "/" in tokens[-1 - n] or len(tokens[-1 - n]) <= 3):
        n += 1
    if n and tokens[-1 - n + 1].lower() not in _JOINERS:
        # Initials, unless what we took is the end of a capitalised title ("Head of HR").
        if not (n < len(tokens) and tokens[-n - 1].lower() in _JOINERS):
            return n
    # A job title: the capitalised run at the end, from its first title word.
    run = 0
    while run < len(tokens) - 1:
        tok = tokens[-1 - run]
        if tok[:1].isupper() or tok.lower() in _JOINERS or tok[:1] in "(&/":
            run += 1
        else:
            break
    while run and tokens[-run].lower() in _JOINERS:
        run -= 1
    for k in range(run, 0, -1):
        if tokens[-k].lower().strip("'\u2019s") in _TITLE_WORDS | _PERSON_HEADS:
            return _with_qualifiers(tokens, k) if _bare(tokens[-k]) in _HEAD_NOUNS else k
    if run and _bare(tokens[-1]) in _HEAD_NOUNS and _after_function_word(tokens, run):
        return _with_qualifiers(tokens, 1)   # "… on Station Road Panel": not all of it
    return run


def _bare(token: str) -> str:
    return token.lower().strip(",;:'\u2019")


def _after_function_word(tokens: list[str], k: int) -> bool:
    return len(tokens) > k and _bare(tokens[-k - 1]) in _FUNCTION_WORDS


def _with_qualifiers(tokens: list[str], k: int) -> int:
    """The owner ending at tokens[-k:] extended leftwards over the capitalised words
    that name it ("Amenities" + "Officer"), at most three, leaving the action at
    least two words. Where those words follow "on", "the", "to" … they belong to the
    action ("on Station Road" + "Clerk"), so only a head that cannot stand alone
    ("Officer") takes the nearest one."""
    extra = words = 0
    while words < 3 and len(tokens) - k - extra > 2:
        tok = tokens[-k - extra - 1]
        if tok == "&":
            extra += 1
        elif tok[:1].isupper() and _bare(tok) not in _JOINERS:
            extra += 1
            words += 1
        else:
            break
    while extra and tokens[-k - extra] == "&":
        extra -= 1
    if _after_function_word(tokens, k + extra):
        extra = 0 if _bare(tokens[-k]) in _STANDS_ALONE else min(extra, 1)
    return k + extra


# -- numbered blocks -----------------------------------------------------------

_FIELD = re.compile(r"^\s*(?P<label>[A-Za-z][A-Za-z /'\u2019()&-]{1,40}?)\s*:\s*(?P<value>.*)$")
_INLINE_STATUS = re.compile(r"^\s*Status\s*[:\u2013-]\s*(?P<status>.+?)\s+/\s+(?P<owners>\S.*)$",
                            re.I)
# "Government response", "Cabinet response:", "Management response – Agreed": what the body
# the recommendation was made to said of it, printed under the recommendation.
_RESPONSE_HEAD = re.compile(
    r"^\s*(?:(?:the\s+)?(?:government|cabinet|executive|management|council|officers?|trust|board|"
    r"department|mayor|commissioner)(?:\u2019s|'s)?\s+)?response\s*(?:[:\u2013\u2014-]\s*(?P<value>.*))?$", re.I)
_VERDICT_START = re.compile(
    r"^(?:(?:We|The\s+(?:Government|Department|Council|Executive|Board|Trust)|Cabinet|Officers?)\s+)?"
    r"(?:do\s+not\s+|does\s+not\s+|partially\s+|partly\s+|fully\s+)?"
    r"(?:agrees?|accepts?|rejects?|disagrees?|agreed|accepted|rejected|not\s+agreed|not\s+accepted)\b", re.I)
_REFUSED = re.compile(r"\b(?:does not|do not|did not|cannot|can ?not)\s+(?:accept|agree)|\b(?:rejects?|rejected|"
                      r"not accepted|not agreed|disagrees?|declines?)\b", re.I)
_ACCEPTED = re.compile(r"\b(?:accepts?|accepted|agrees?|agreed)\b", re.I)
_BRACKETED = re.compile(r"\((?P<response>[^()]{3,40})\)\s*\.?\s*$")
_RECS_HEADING = re.compile(r"^[\s#*\-\d.]*\**\s*recommendations?\s*\**\s*:?\s*$", re.I)
_SECTION = re.compile(r"^[\s#*]*(?:\d+(?:\.\d+)?\.?\s+)?[A-Z][A-Z &,'\u2019()/-]{3,}\**\s*$")
_BULLET = re.compile(r"^\s*[\u00b7\u2022\u25aa\u25cf*\-\u2013]\s+")


def _family(line: str) -> str | None:
    from .common import LINE_START
    m = LINE_START.match(line)
    if not m:
        return None
    for group in ("w", "br", "code", "dotted"):
        if m.group(group):
            value = m.group(group)
            return f"{group}:{'a' if value[0].isalpha() and group == 'br' else ''}"
    plain = m.group("plain")
    return "plain:a" if plain.isalpha() else "plain"


def _recommendations_section(lines: list[str]) -> list[str] | None:
    for i, line in enumerate(lines):
        if _RECS_HEADING.match(line):
            section = []
            for follow in lines[i + 1:]:
                if _SECTION.match(follow) and follow.strip() and not line_number(follow.strip()):
                    break
                section.append(follow)
            if any(line_number(s.strip()) for s in section):
                return section
    return None


def parse_blocks(text: str, today: date) -> ParsedPaper | None:
    # "(Paragraph" / "23)" wrapped over a line break: one reference, not item 23.
    text = re.sub(r"\((paragraphs?|paras?\.?)[ \t]*\n\s*(?=\d)", r"(\1 ", text, flags=re.I)
    lines = text.split("\n")
    paper_date = find_paper_date(lines, today)
    body = _recommendations_section(lines) or lines
    blocks: list[tuple[str, list[str]]] = []
    family = None
    parent = None   # the lettered item whose nested (i), (ii) … are items of their own
    ended = False   # past "Next meeting: …" or a signature: nothing more for the last item
    for line in body:
        s = line.strip()
        found = line_number(s) if s else None
        if found and blocks and _nested_roman(found[0], blocks[0][0], parent or blocks[-1][0]):
            if _owns_itself(found[1], paper_date, today):
                # "(ii) … (Lead: Head of Housing) by 30 June": its own item, under its letter
                parent = parent or blocks[-1][0]
                rest = found[1]
                lines_of = [rest]
                if m := _BRACKET_OWNER.search(rest):
                    lines_of = [(rest[:m.start()] + rest[m.end():]).strip(), m.group(1)]
                blocks.append((f"{parent}({found[0]})", lines_of))
                continue
            if parent:
                # another part of the lettered item, after one that is an item of its own
                next(b for n, b in reversed(blocks) if n == parent).append(s)
                continue
            found = None   # "(i)" under "(a)": part of the lettered item
        if found:
            parent = None
        if found and (family is None or _family(s) == family):
            family = family or _family(s)
            blocks.append((found[0], [found[1]] if found[1].strip() else []))
            ended = False
        elif END_MATTER.match(s) or (s and PAGE_LINE.match(s)):
            ended = ended or bool(END_MATTER.match(s))
        elif blocks and not ended:
            blocks[-1][1].append(s)
    if not blocks:
        return None
    items: list[ImportedItem] = []
    problems: list[str] = []
    for number, block in blocks:
        item = _block_item(number, block, paper_date, today)
        if item.text:
            items.append(item)
            if not item.owners:
                problems.append(f"Recommendation {number}: no owner found")
    if not items:
        return None
    return ParsedPaper(items=items, paper_date=paper_date, problems=problems)


_BRACKET_OWNER = re.compile(r"\s*\(\s*((?:Action|Lead|Owner|Responsible)s?\s*(?:by|officer)?\s*:\s*[^()]+?)\s*\)", re.I)
_OWN_OWNER = re.compile(r"\(?\b(?:Action|Lead|Owner|Responsible)s?\s*(?:by|officer)?\s*:\s*\S", re.I)


def _owns_itself(text: str, paper_date, today) -> bool:
    """A nested part naming its own owner or deadline is tracked as an item of its own."""
    return bool(_OWN_OWNER.search(text) or find_due_in_prose(text, paper_date, today))


def _nested_roman(number: str, first: str, last: str) -> bool:
    """(i)-(x) inside a list lettered (a), (b), …: nested under the letter above, unless
    it is the next letter ((h) then (i)) or the list itself is numbered in roman."""
    if not re.fullmatch(r"[ivx]{1,4}", number) or first in ("i",) or not re.fullmatch(r"[a-z]", last):
        return False
    return not (len(number) == 1 and ord(number) == ord(last) + 1)


# "(Paragraph 12)", "(paras 4.1-4.3)": where the recommendation sits in the report. It
# ends the recommendation; a heading may follow it before the next one.
_PARA_REF = re.compile(r"\s*\(\s*(?:see\s+)?(?:paragraphs?|paras?\.?)\s+[\d.,\s\u2013-]+(?:and\s+[\d.]+)?\)\s*\.?",
                       re.I)
# 'The action as agreed.' then what was done; a short title may come first ("Bereavement
# Services Update \u201ca briefing note would be provided …\u201d \u2013 an email was sent …").
_QUOTED = re.compile(r"^(?:[^\u2018\u201c'\"\n]{1,60}?\s+)?[\u2018\u201c'\"](?P<quote>.{10,}?)[\u2019\u201d'\"](?=[\s,;.]|$)"
                     r"[\s,;.]*(?P<dash>[\u2013\u2014-]\s*)?(?P<rest>.*)$", re.S)
# "Officials to prepare …", "Director of Community Care to liaise …": the actor named at
# the start of an action, taken as its owner when the paper has no owner of its own.
_ACTOR = re.compile(r"^(?P<who>[A-Z][\w&'\u2019-]*(?:\s+(?:of|and|for|&|the|[A-Z][\w&'\u2019-]*)){0,5})"
                    r"\s+to\s+(?!be\b)[a-z]{3,}\b")
# "The Mental Health Action Group had not yet …", "Skills and Enterprise Partnership (SEP) had
# set …": a body named as the subject of a position is whose item it is. Only names ending in a
# word for a body (group, board, team …) count, so "Performance relating to X was …" does not.
_BODY = (r"Group|Partnership|Board|Services?|Team|Committee|Panel|Trust|Cabinet|Council|Authority|"
         r"Directorate|Department|Forum|Executive|Unit|Agency|Network|Office|Commissioners?|"
         r"Alliance|Collaborative|Steering Group")
_SUBJECT = re.compile(
    r"^(?:The\s+)?(?P<who>[A-Z][\w&'\u2019-]*(?:\s+(?:of|and|for|&|[A-Z][\w&'\u2019-]*)){0,6}?\s+"
    rf"(?:{_BODY}))(?:\s*\([A-Z][A-Za-z&]{{1,7}}\))?\s+"
    r"(?:had|has|have|was|were|is|are|will|would|should|must|could|agreed|reported|confirmed)\b")
_POST = re.compile(r"\b(?:Head|Director|Manager|Officer|Chief|Executive|Lead|Chair|Commissioner|Clerk|"
                   r"Secretary|Coordinator|Co-ordinator|Adviser|Advisor|Leader|Mayor|Member|Group|Board|"
                   r"Team|Panel|Partnership|Service|Department|Directorate)s?\b")
_NOT_ACTORS = {"a", "an", "the", "this", "that", "these", "those", "we", "it", "there", "any",
               "all", "each", "our", "its", "their", "in", "on", "to", "for", "and", "as", "if"}
_CLOSING_STATUS = re.compile(r"(?:^|[.;]\s+)(?P<words>(?:action|item|recommendation)\s+"
                             r"(?:closed|complete|completed|ongoing|open|in progress|superseded|"
                             r"withdrawn|deferred))\s*\.?\s*$", re.I)


def actor_owner(text: str) -> str | None:
    """The owner an action or a position names itself: "Director of X to liaise …" or
    "The X Group had not yet …"."""
    text = text or ""
    m = _ACTOR.match(text) or _SUBJECT.match(text)
    if (not m or m.group("who").startswith("The ")) and (the := re.match(r"The\s+", text)):
        # "The Chief Executive to share …": after "The", only a post or a body.
        m = _ACTOR.match(text[the.end():])
        if m and not _POST.search(m.group("who")):
            m = None
    if not m:
        return None
    who = m.group("who")
    if who.split()[0].lower() in _NOT_ACTORS or who.split()[-1].lower() in _JOINERS:
        return None
    return who


def _paragraphs(lines: list[str]) -> list[str]:
    paras: list[str] = []
    current: list[str] = []
    for line in lines + [""]:
        if line.strip() and not _BULLET.match(line):
            current.append(line.strip())
        else:
            if current:
                paras.append(" ".join(current))
                current = []
            if line.strip():
                paras.append(line.strip())
    return paras


def _block_item(number: str, block: list[str], paper_date, today) -> ImportedItem:
    joined = "\n".join(block)
    cut = _PARA_REF.search(joined)
    if cut:
        # The recommendation ends at its paragraph reference; what follows is a heading
        # (or blank), except labelled fields.
        after = joined[cut.end():].split("\n")
        start = next((k for k, t in enumerate(after) if _RESPONSE_HEAD.match(t)), len(after))
        verdict = next((k for k, t in enumerate(after[:start]) if t.strip()), None)
        if verdict is not None and _VERDICT_START.match(after[verdict].strip()):
            # "We agree. Ofsted will consult …" straight after the recommendation: the response
            after[verdict] = "Response: " + after[verdict].strip()
            start = verdict
        tail = [t for t in after[:start] if (m := _FIELD.match(t)) and column_role(m.group("label"))]
        block = joined[:cut.start()].split("\n") + tail + after[start:]
    lines = [b for b in block if b.strip()]
    title = None
    if len(lines) >= 2 and _is_title(lines[0], lines[1]):
        # "14/2023/P – Stop and search data" over the recommendation: a title, not its text.
        title = squeeze(lines[0])
        block = block[block.index(lines[0]) + 1:]
        joined = "\n".join(block)
    quoted = _QUOTED.match(squeeze(joined)) if not cut else None
    if quoted and quoted.start("quote") > 1 and not (
            quoted.group("dash") and squeeze(joined)[:1].isupper()
            and len(squeeze(joined)[:quoted.start("quote")].split()) <= 6):
        quoted = None   # a quotation inside the sentence ("that the \u201cpriority one\u201d findings …")
    if quoted and quoted.group("rest").strip():
        # 'The action as agreed.' followed by what has been done about it.
        return _quoted_item(number, quoted.group("quote"), quoted.group("rest"), paper_date, today)
    text_lines: list[str] = []
    fields: dict[str, list[str]] = {}
    comments: list[str] = []
    if len(lines) == 1 and (cells := _dash_cells(lines[0])):
        # "Circulate the briefing – Scrutiny Officer – 30 May 2025 – Complete": a row typed
        # on one line with its cells between dashes.
        block, fields = [cells[0]], cells[1]
    response = None
    in_text = True
    answer: list[str] | None = None   # the lines under a "Government response" heading
    for line in block:
        s = line.strip()
        if (head := _RESPONSE_HEAD.match(s)) and text_lines:
            answer = fields.setdefault("position", [])
            if head.group("value"):
                answer.append(head.group("value"))
            in_text = False
            continue
        if answer is not None:
            m = _FIELD.match(s)
            if not (m and column_role(m.group("label")) in ("owners", "due", "new_due", "rag")):
                if s:
                    answer.append(s)
                continue
            answer = None   # "Lead: …", "Timescale: …" after the response: fields again
        if m := _INLINE_STATUS.match(s):
            fields.setdefault("status", []).append(m.group("status"))
            fields.setdefault("owners", []).append(m.group("owners"))
            continue
        m = _FIELD.match(s)
        role = column_role(m.group("label")) if m else None
        if role and role not in ("text", "number"):
            fields.setdefault(role, []).append(m.group("value"))
            continue
        if not in_text:
            comments.append(s)
            continue
        text_lines.append(line)
        if (b := _BRACKETED.search(s)) and read_status(b.group("response")):
            response = b.group("response")
            text_lines[-1] = s[:b.start()].rstrip(" .")
            if not text_lines[-1]:
                text_lines.pop()
            in_text = False
    paras = _paragraphs(text_lines)
    if len(paras) > 1 and all(not p for p in paras[1:]):
        paras = paras[:1]
    text = "\n".join(p for p in paras if p)
    # "(a) that officers report …; and": the list's joining words are not the item's.
    text = re.sub(r"\s*;\s*(?:and|or)?\s*$", "", text)
    owners = [o for value in fields.get("owners", []) for o in owners_from(value)]
    status_text = "; ".join(fields.get("status", []) or fields.get("rag", [])) or response
    answered = None
    if fields.get("position") and not status_text:
        # "The Government does not accept this recommendation." / "… accepts this recommendation."
        first = re.split(r"(?<=[.;\u2013])\s", " ".join(fields["position"]), maxsplit=1)[0]
        answered = ("not accepted" if _REFUSED.search(first) else
                    "in progress" if _ACCEPTED.search(first) else None)
    due = None
    for role in ("new_due", "due"):
        for value in fields.get(role, []):
            due = read_due(value, paper_date, today)
            if due:
                break
        if due:
            break
    if due is None and status_text:
        due = read_due(status_text, paper_date, today) if re.search(r"\d|date", status_text) else None
    if due is None and not fields.get("due"):
        due = find_due_in_prose(text, paper_date, today)
    position = "\n".join(fields.get("position", []) + comments) or None
    if status_text:
        # The status as written is kept as the position text (before any comments).
        position = "\n".join(filter(None, [status_text, position]))
    flags = [f"titled \u201c{title}\u201d in the paper (the title is not part of the text)"] if title else []
    if not owners and not fields.get("owners") and (actor := actor_owner(text)):
        owners = [actor]
        flags.append("owner taken from the action's own words")
    return ImportedItem(number=number, text=text, owners=owners, due=due,
                        status=read_status(status_text) or answered, position=position, flags=flags)


_NOT_TITLE = re.compile(r"(?i)\b(?:that|which|who|we|is|are|be|been|was|were|would|should|will|must|"
                        r"to|has|have|had|can|could|may|this|these|there)\b")
_TITLE_END = {"of", "and", "the", "a", "an", "to", "for", "in", "on", "at", "with", "by", "or", "its",
              "their", "our", "from", "as"}


def _dash_cells(line: str) -> tuple[str, dict[str, list[str]]] | None:
    """(text, fields) of a row whose cells are separated by " – ", read from the right: a
    status, a date, an owner. None unless at least two of the trailing cells are such."""
    from .classify import _is_date, _is_owner, _is_status
    parts = [p.strip() for p in re.split(r"\s+[\u2013\u2014-]\s+", line)]
    if len(parts) < 3:
        return None
    fields: dict[str, list[str]] = {}
    while len(parts) > 1:
        cell = parts[-1]
        if "status" not in fields and "due" not in fields and "owners" not in fields and _is_status(cell):
            fields["status"] = [cell]
        elif "due" not in fields and "owners" not in fields and _is_date(cell):
            fields["due"] = [cell]
        elif "owners" not in fields and (_is_owner(cell) or re.fullmatch(
                r"(?:[A-Z][\w&'-]*)(?:\s+(?:of|for|and|&|[A-Z][\w&'-]*)){0,5}", cell)):
            fields["owners"] = [cell]
        else:
            break
        parts.pop()
    if len(fields) < 2:
        return None
    return " \u2013 ".join(parts), fields


def _is_title(first: str, second: str) -> bool:
    """A short heading line over the recommendation ("Taxi licensing"), not the first line of a
    wrapped sentence ("We concur with the conclusions of the")."""
    words = first.split()
    return (len(words) <= 6 and not first.rstrip().endswith((".", ",", ";", ":", "-", "\u2013"))
            and words[0][:1].isupper() and words[0].lower() not in ("the", "a", "an", "it")
            and words[-1].lower() not in _TITLE_END and second.strip()[:1].isupper()
            and not _FIELD.match(first) and not _RESPONSE_HEAD.match(second)
            and len(second.split()) >= 5 and not _NOT_TITLE.search(first))


def _quoted_item(number: str, quote: str, rest: str, paper_date, today) -> ImportedItem:
    text = squeeze(quote)
    position = squeeze(rest)
    m = _CLOSING_STATUS.search(position)
    status = read_status(re.sub(r"^(?:action|item|recommendation)\s+", "", m.group("words"), flags=re.I)) if m else None
    owners, flags = [], []
    if actor := actor_owner(text):
        owners = [actor]
        flags.append("owner taken from the action's own words")
    return ImportedItem(number=number, text=text, owners=owners, due=None, status=status,
                        position=position or None, flags=flags)
