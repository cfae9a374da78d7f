"""A committee's public tracker page: `/scrutiny publish on|off`, and what the page may show.

Off by default. Only a public committee can be published (a private one is refused, and its
page answers "not found" even if it was published before it became private). The page shows
the committee's recommendations with their owners as role names only, status, RAG and the
latest position with its date: never a Slack user ID or a person's name, and nothing else of
the workspace. Anything not published answers the same "not found" as anything that doesn't exist.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotAllowed, UserError
from bot.services import audit
from bot.services.committees import committee_roles_of, require_channel_committee
from bot.services.context import Ctx
from bot.services.items import rag_of
from bot.services.settings import council_name
from models.reads import latest_positions
from models.tables import Committee, Item, Review, Workspace

PERSON_OWNER = "A named officer"   # an item owned by a person directly: who it is stays private

_SLUG_WORDS = re.compile(r"[a-z0-9]+")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,199}$")
# Slack's markup in stored text: <@U123|name>, <#C123|name>, <!subteam^S1|@team>, <!here>, <url|label>.
_MENTION = re.compile(r"<([@#!])([^<>|]*)(?:\|([^<>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^<>|\s]+)(?:\|([^<>]*))?>")
_BARE_ID = re.compile(r"\b[UW][A-Z0-9]{8,}\b")


def name_slug(name: str | None) -> str:
    """"Essex County Council" → "essex-county-council"; "" when nothing is left."""
    return "-".join(_SLUG_WORDS.findall((name or "").lower()))[:200]


def public_text(text: str | None) -> str:
    """Stored text as the public may read it: Slack mentions of people become "a named person",
    channels their name, links their label and address; any bare user ID is removed."""
    if not text:
        return ""

    def mention(m: re.Match) -> str:
        sigil, label = m.group(1), m.group(3)
        if sigil == "@":
            return "a named person"
        if sigil == "#":
            return f"#{label}" if label else "a channel"
        return "a group" if m.group(2).startswith("subteam") else ""
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    text = _MENTION.sub(mention, text)
    return _BARE_ID.sub("a named person", text)


async def workspace_slug(session: AsyncSession, team_id: str) -> str:
    """The workspace's part of the page's address: its name made into a slug when it has a name
    no other workspace shares (and that is no workspace's team ID), else its team ID lowercased."""
    rows = (await session.execute(select(Workspace.team_id, Workspace.name))).all()
    mine = next((name for tid, name in rows if tid == team_id), None)
    slug = name_slug(mine)
    if not slug:
        return team_id.lower()
    clashes = sum(1 for _tid, name in rows if name_slug(name) == slug)
    if clashes > 1 or any(tid.lower() == slug for tid, _name in rows):
        return team_id.lower()
    return slug


async def _team_for_slug(session: AsyncSession, slug: str) -> str | None:
    if not _SLUG.match(slug):
        return None
    rows = (await session.execute(select(Workspace.team_id, Workspace.name))).all()
    for tid, _name in rows:
        if tid.lower() == slug:
            return tid
    matches = [tid for tid, name in rows if name_slug(name) == slug]
    if len(matches) == 1 and await workspace_slug(session, matches[0]) == slug:
        return matches[0]
    return None


def page_path(slug: str, code: str) -> str:
    return f"/public/{slug}/{code}"


@dataclass
class Publication:
    """What `/scrutiny publish` did."""
    committee_name: str
    published: bool
    changed: bool
    path: str
    url: str | None            # the full address when SCRUTINEER_PUBLIC_URL is set


async def set_published(session: AsyncSession, ctx: Ctx, on: bool, public_url: str | None) -> Publication:
    """Publish (or take down) this channel's committee's tracker page: its chair, officers and
    admins; never a private committee."""
    row = await require_channel_committee(session, ctx)
    if not (await committee_roles_of(session, ctx, row) or await ctx.directory.is_admin(ctx.user_id, ctx.team_id)):
        raise NotAllowed("Only this committee's chair and officers, or a workspace admin, can publish its tracker.")
    committee = await session.get(Committee, row.id)
    if on and committee.is_private:
        raise UserError(f"{committee.name} is a private committee, so its tracker can't be published: "
                        "its work stays with its channel's members.")
    was = committee.published_at
    changed = (was is None) == on
    if changed:
        committee.published_at = ctx.now if on else None
        audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="committee",
                     entity_id=committee.id, action="publish" if on else "unpublish",
                     before={"published_at": was}, after={"published_at": committee.published_at})
        await session.flush()
    path = page_path(await workspace_slug(session, ctx.team_id), committee.code)
    return Publication(committee_name=committee.name, published=on, changed=changed, path=path,
                       url=(public_url.rstrip("/") + path) if public_url else None)


@dataclass
class PublicRow:
    ref: str                    # rec-10, or sg2010/rec-10 when the committee has several reviews
    text: str
    owners: list[str]           # role names
    status: str
    rag: str | None             # None once closed
    position: str | None
    position_date: date | None


@dataclass
class PublicTracker:
    committee: str
    committee_code: str
    council: str
    as_of: date
    rows: list[PublicRow] = field(default_factory=list)
    published_at: datetime | None = None


async def public_tracker(session: AsyncSession, slug: str, code: str, today: date) -> PublicTracker | None:
    """The published committee's tracker, or None for anything not to be shown (unknown
    workspace or committee, not published, private)."""
    code = code.lower()
    if not _CODE.match(code):
        return None
    team_id = await _team_for_slug(session, slug.lower())
    if team_id is None:
        return None
    committee = (await session.scalars(select(Committee).where(
        Committee.team_id == team_id, Committee.code == code))).first()
    if committee is None or committee.is_private or committee.published_at is None:
        return None
    review_codes = set(await session.scalars(
        select(Review.code).join(Item, Item.review_id == Review.id)
        .where(Item.committee_id == committee.id, Item.kind == "rec").distinct()))
    items = list(await session.scalars(
        select(Item).where(Item.team_id == team_id, Item.committee_id == committee.id, Item.kind == "rec")))
    review_order = {}
    for item in items:
        if item.review is not None:
            review_order.setdefault(item.review.code, (item.review.agreed_on is None, item.review.agreed_on,
                                                       item.review.code))
    items.sort(key=lambda i: (review_order.get(i.review.code if i.review else "", (True, None, "")),
                              i.seq, i.number, i.id))
    latest = await session.run_sync(lambda s: latest_positions(s.connection(), [i.id for i in items]))
    rows = []
    for item in items:
        owners = []
        for o in item.owners:
            name = PERSON_OWNER if o.role.kind == "person" else public_text(o.role.name)
            if name not in owners:
                owners.append(name)
        pos = latest.get(item.id)
        rows.append(PublicRow(
            ref=item.full_ref if len(review_codes) > 1 else item.ref, text=public_text(item.text),
            owners=owners, status=item.status, rag=rag_of(item, today),
            position=public_text(pos.text) if pos else None, position_date=pos.as_of if pos else None))
    return PublicTracker(committee=public_text(committee.name), committee_code=committee.code,
                         council=public_text(await council_name(session, team_id)),
                         as_of=today, rows=rows, published_at=committee.published_at)
