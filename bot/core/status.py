"""The status and RAG vocabulary, and the words people type for them."""
from __future__ import annotations

import re

STATUSES = (
    "not started",
    "in progress",
    "needs clarification",
    "referred",
    "paused",
    "deferred",
    "implemented",
    "signed off",
    "not accepted",
    "withdrawn",
)
CLOSED = frozenset({"implemented", "signed off", "not accepted", "withdrawn"})
OPEN = tuple(s for s in STATUSES if s not in CLOSED)
# Open but on hold until a date to resume (items.paused_until): not overdue, not chased.
PAUSED = frozenset({"paused", "deferred"})
ACTIVE = tuple(s for s in OPEN if s not in PAUSED)   # open and counted: overdue, reminded, escalated

# Close synonyms a member or a published paper may use. Keys are compared after
# lower-casing and squeezing punctuation and spaces.
SYNONYMS = {
    "not started": "not started", "new": "not started", "not yet started": "not started",
    "not yet due": "not started", "pending": "not started", "proposed": "not started",
    "todo": "not started", "to do": "not started", "open": "in progress",
    "in progress": "in progress", "started": "in progress", "ongoing": "in progress",
    "on going": "in progress", "underway": "in progress", "under way": "in progress",
    "on track": "in progress", "2 on track": "in progress", "progressing": "in progress",
    "wip": "in progress", "slipped": "in progress", "3 slipped": "in progress",
    "paused": "paused", "on hold": "in progress", "deferred": "deferred", "postponed": "deferred", "agreed": "in progress",
    "accepted": "in progress", "partially accepted": "in progress",
    "needs clarification": "needs clarification", "needs clarifying": "needs clarification",
    "unclear": "needs clarification", "clarification needed": "needs clarification",
    "query": "needs clarification",
    "referred": "referred", "referred on": "referred", "escalated": "referred",
    "implemented": "implemented", "done": "implemented", "complete": "implemented",
    "completed": "implemented", "achieved": "implemented", "1 achieved": "implemented",
    "1 achieved fully": "implemented", "actioned": "implemented", "finished": "implemented",
    "delivered": "implemented", "proposed for closure": "implemented",
    "signed off": "signed off", "signedoff": "signed off", "closed": "signed off",
    "approved": "signed off",
    "not accepted": "not accepted", "rejected": "not accepted", "declined": "not accepted",
    "4 not achieved": "not accepted", "not achieved": "not accepted",
    "withdrawn": "withdrawn", "cancelled": "withdrawn", "canceled": "withdrawn",
    "dropped": "withdrawn", "superseded": "withdrawn",
}

RAGS = ("red", "amber", "green")
RAG_EMOJI = {"red": ":red_circle:", "amber": ":large_orange_circle:", "green": ":large_green_circle:"}
RAG_SYNONYMS = {"r": "red", "red": "red", "a": "amber", "amber": "amber", "yellow": "amber",
                "orange": "amber", "g": "green", "green": "green"}


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def normalise_status(text: str | None) -> str | None:
    """Our status word for what a person typed or a paper printed, or None."""
    if not text:
        return None
    return SYNONYMS.get(_key(text))


def normalise_rag(text: str | None) -> str | None:
    if not text:
        return None
    return RAG_SYNONYMS.get(_key(text))


def is_open(status: str) -> bool:
    return status not in CLOSED


def is_paused(status: str) -> bool:
    return status in PAUSED


def status_from_paper(text: str | None) -> str | None:
    """A status a paper prints, in our words. A paper's "paused" or "deferred" carries no date to
    resume, and a paused item is never chased: until an officer pauses it with a date
    (`/update … status paused until …`), it is in progress."""
    found = normalise_status(text)
    return "in progress" if found in PAUSED else found


# ---- overdue: the ONE definition every surface uses ----------------------------------------------
# (the digest, the Home tab, reports, `/actions overdue`, the agenda, the public page's RAG,
# reminders, escalations and the update flags). The database-side twin is
# bot.services.items.overdue_where / counted (models may not import bot.core).

def on_hold(status: str, paused_until, today) -> bool:
    """Paused or deferred and not yet resumed (no day to resume, or that day still to come)."""
    return status in PAUSED and (paused_until is None or paused_until > today)


def is_overdue(status: str, due, today, paused_until=None) -> bool:
    """Open, past its due date, and not on hold (paused or deferred till a later day)."""
    return (status not in CLOSED and due is not None and due < today
            and not on_hold(status, paused_until, today))


def item_overdue(item, today) -> bool:
    """is_overdue for anything with status, due and (optionally) paused_until: an Item, an ItemRow,
    a plain row of those columns."""
    return is_overdue(item.status, item.due, today, getattr(item, "paused_until", None))
