"""Reading what people type after a slash command.

Slack sends mentions escaped (`<@U123|alice>`) because the manifest sets should_escape,
and people quote multi-word role names ("Cabinet Member") or type them bare.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from bot.core import dates
from bot.core.errors import UserError
from bot.core.status import STATUSES, normalise_rag, normalise_status
from bot.services.committees import Holder
from bot.services.items import ItemChanges, ItemFilter

MAX_INPUT = 4000
USER_RE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
MAILTO_RE = re.compile(r"<mailto:([^|>]+)(?:\|[^>]*)?>")
QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})


def clean(text: str | None) -> str:
    """Command text as the person typed it. Slack sends `&`, `<` and `>` as HTML entities
    (its own mention markup like `<@U123|alice>` stays as real brackets)."""
    text = (text or "").strip()
    if len(text) > MAX_INPUT:
        raise UserError(f"That's too long for a command ({len(text):,} characters): keep it under {MAX_INPUT:,}.")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def split_words(text: str) -> list[str]:
    """Split on spaces, keeping "quoted phrases" together. Typographic quotes count too."""
    text = text.translate(QUOTES)
    try:
        return shlex.split(text)
    except ValueError:  # an unbalanced quote: fall back to plain words
        return text.replace('"', " ").split()


def is_help(text: str) -> bool:
    return text.strip().lower() in ("help", "-h", "--help", "?")


def mentioned_users(text: str) -> list[str]:
    return USER_RE.findall(text)


# ---- /actions -----------------------------------------------------------------

ACTION_KEYWORDS = {"overdue", "mine", "all", "owner", "due", "status", "search"}


def parse_actions(text: str, today) -> ItemFilter:
    filt = ItemFilter()
    words = split_words(clean(text))
    i = 0
    while i < len(words):
        word, low = words[i], words[i].lower()
        i += 1
        if low == "overdue":
            filt.overdue = True
        elif low in ("mine", "my", "me"):
            filt.mine = True
        elif low in ("all", "closed"):
            filt.include_closed = True
        elif USER_RE.fullmatch(word):
            filt.holder = USER_RE.fullmatch(word).group(1)
        elif low == "owner":
            rest, i = _until_keyword(words, i)
            if not rest:
                raise UserError('Say which role, e.g. `/actions owner "Cabinet Member"`.')
            users = mentioned_users(rest)
            if users:
                filt.holder = users[0]
            else:
                filt.owner = rest
        elif low == "status":
            rest, i = _until_keyword(words, i)
            status = normalise_status(rest)
            if status is None:
                raise UserError(f"“{rest[:60]}” isn't a status. Try one of: {', '.join(STATUSES)}.")
            filt.status = status
            filt.include_closed = True
        elif low == "due":
            rest = " ".join(words[i:])
            i = len(words)
            rng = dates.parse_range(rest, today)
            if rng is None:
                raise UserError(f"I couldn't read “{rest[:60]}” as dates. Try `/actions due next week` or `/actions due before 30 June`.")
            filt.due_start = rng.start.isoformat() if rng.start else None
            filt.due_end = rng.end.isoformat() if rng.end else None
            filt.due_label = rng.label
        elif low == "search":
            filt.search = [w for w in words[i:] if w.strip()][:10]
            i = len(words)
            if not filt.search:
                raise UserError("Say what to look for, e.g. `/actions search foster carers`.")
        else:
            raise UserError(f"I don't know “{word[:40]}” here. Try `/actions overdue`, `mine`, `all`, `@someone`, "
                            '`owner "Cabinet Member"`, `due next week`, `status in progress` or `search foster carers`.')
    return filt


def _until_keyword(words: list[str], i: int) -> tuple[str, int]:
    taken = []
    while i < len(words) and words[i].lower() not in ACTION_KEYWORDS:
        taken.append(words[i])
        i += 1
    return " ".join(taken), i


# ---- /update ------------------------------------------------------------------

UPDATE_FIELDS = ("position", "status", "due", "owner", "owners", "rag", "response")


@dataclass
class UpdateRequest:
    ref: str
    changes: ItemChanges | None   # None: open the form


def parse_update(text: str, today) -> UpdateRequest:
    text = clean(text)
    if not text:
        raise UserError("Say which item, e.g. `/update rec-10 position Training in place from June`, or `/update rec-10` for the form.")
    ref, _, rest = text.partition(" ")
    rest = rest.strip()
    if not rest:
        return UpdateRequest(ref, None)
    field, _, value = rest.partition(" ")
    field, value = field.lower(), value.strip()
    ch = ItemChanges()
    if field == "position":
        if not value:
            raise UserError(f"Add the position text: `/update {ref} position Training in place from June`.")
        ch.position = value
    elif field == "status":
        status = normalise_status(value)
        if status is None and (held := _parse_pause(ref, value, today)):
            status, ch.paused_until, ch.pause_reason = held
        if status is None:
            raise UserError(f"“{value[:60]}” isn't a status. Use one of: {', '.join(STATUSES)}.")
        ch.status = status
    elif field == "due":
        if value.lower() in ("none", "clear", "no date", "-"):
            ch.clear_due = True
        else:
            due = dates.parse_date(value, today) if value else None
            if due is None:
                raise UserError(f"I couldn't read “{value[:60]}” as a date. {dates.DATE_EXAMPLES}")
            ch.due = due
    elif field in ("owner", "owners"):
        ch.owners = parse_owners(value)
        if not ch.owners:
            raise UserError(f'Name the owner: `/update {ref} owner "Cabinet Member"` or `/update {ref} owner @alice`.')
    elif field == "rag":
        colour, _, reason = value.partition(" ")
        if colour.lower() == "auto":
            ch.rag = "auto"
        else:
            rag = normalise_rag(colour)
            if rag is None:
                raise UserError(f"RAG is red, amber, green or auto, e.g. `/update {ref} rag red because funding is delayed`.")
            reason = re.sub(r"^(because|as|since|-|:)\s*", "", reason.strip(), flags=re.I)
            ch.rag, ch.rag_reason = rag, reason
    elif field == "response":
        m = re.match(r"(partially accepted|accepted|rejected|awaiting)\b\s*(?:because\s+)?(.*)$", value, re.I | re.S)
        if not m:
            raise UserError(f"The executive response is accepted, partially accepted, rejected or awaiting, e.g. `/update {ref} response rejected because no budget`.")
        ch.exec_response, ch.exec_response_reason = m.group(1).lower(), (m.group(2).strip() or None)
    else:
        raise UserError(f"I can update {', '.join(UPDATE_FIELDS[:3])}, owner, rag or response: e.g. `/update {ref} status in progress`.")
    return UpdateRequest(ref, ch)


_PAUSE_RE = re.compile(r"^(paused|pause|on hold|deferred|defer|postponed)\b\s*(?:until\s+(.*?))?\s*"
                       r"(?:\b(?:because|as|since)\b\s*(.*))?$", re.I | re.S)


def _parse_pause(ref: str, value: str, today) -> tuple[str, object, str] | None:
    """`paused until March because …` / `deferred until 1 April because …`: (status, the day it
    resumes, why), or None when the value isn't a pause."""
    m = _PAUSE_RE.match(value.strip())
    if not m:
        return None
    status = "deferred" if m.group(1).lower().startswith(("defer", "postpone")) else "paused"
    example = f"`/update {ref} status {status} until March because the budget is frozen`"
    when, reason = (m.group(2) or "").strip(), (m.group(3) or "").strip()
    if not when:
        raise UserError(f"Say until when, and why: {example}.")
    until = dates.parse_date(when, today)
    if until is None:
        raise UserError(f"I couldn't read “{when[:60]}” as a date. {dates.DATE_EXAMPLES}")
    if until <= today:
        raise UserError(f"The day it resumes has to be after today: {example}.")
    if not reason:
        raise UserError(f"Say why it is {status}: {example}.")
    return status, until, reason


def parse_owners(value: str) -> list:
    """Owners as mentions and/or role names: `@alice "Cabinet Member"`, `Cabinet Member; ESCB Chairman`."""
    owners: list = [("user", u) for u in mentioned_users(value)]
    rest = USER_RE.sub(" ", value).strip()
    if not rest:
        return owners
    if '"' in rest.translate(QUOTES):
        names = split_words(rest)
    else:
        names = re.split(r"\s*[;,]\s*|\s+and\s+", rest)
    owners += [n.strip() for n in names if n.strip()]
    return owners


# ---- /scrutiny ----------------------------------------------------------------

# "@nobody" as typed text: Slack turns a person picked from its list into `<@U123|name>`, so a
# bare @word is someone it didn't recognise (not an email address: no dot-word after it).
_RAW_AT = re.compile(r"(?:(?<=\s)|^)@[\w.'-]+(?![\w.-]*@)")
MENTION_HELP = ("Type @ and pick them from the list Slack offers, so their name turns into a mention; "
                "someone outside Slack can be named with their email: `Jane Smith jane.smith@essex.gov.uk`.")


def _refuse_unknown_person(text: str) -> None:
    raw = _RAW_AT.search(USER_RE.sub(" ", MAILTO_RE.sub(" ", text)))
    if raw:
        raise UserError(f"I don't recognise “{raw.group(0)[:40]}” as a person in this workspace. {MENTION_HELP}")


def parse_holders(text: str) -> list[Holder]:
    """Holders of a role: Slack mentions, or an outside person `Jane Smith <mailto:jane@x.gov.uk|…>`."""
    _refuse_unknown_person(text)
    holders = [Holder(user_id=u) for u in mentioned_users(text)]
    rest = USER_RE.sub(" ", text)
    emails = MAILTO_RE.findall(rest)
    rest = MAILTO_RE.sub(" ", rest)
    rest = re.sub(r"\S+@\S+\.\S+", lambda m: emails.append(m.group(0)) or " ", rest)
    name = " ".join(rest.replace('"', " ").split())
    if name or emails:
        holders.append(Holder(name=name or None, email=emails[0] if emails else None))
    return holders


def parse_role_command(text: str) -> tuple[str, list[Holder]]:
    """`"Chairman of the ESCB" @alice` or `Cabinet Member @bob`."""
    text = text.translate(QUOTES).strip()
    m = re.match(r'^"([^"]+)"\s*(.*)$', text, re.S)
    if m:
        return m.group(1).strip(), parse_holders(m.group(2))
    first_mention = USER_RE.search(text)
    if first_mention:
        return text[:first_mention.start()].strip(), parse_holders(text[first_mention.start():])
    _refuse_unknown_person(text)
    if not text:
        raise UserError('Name the role and then the person: `/scrutiny role "Chairman of the ESCB" @alice`.')
    raise UserError('Put the role in quotes and then the person: `/scrutiny role "Chairman of the ESCB" @alice`.')
