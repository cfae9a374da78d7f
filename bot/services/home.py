"""The App Home tab's data: a person's own open items (overdue first), their committees' next
meetings, and the decision letters awaiting their acknowledgement (drawn by the caller).

Published directly when the person opens the tab. A change to one of their items queues a
refresh through the outbox (views.publish) in its transaction; the view is built when sent,
from queued_home_data."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.status import OPEN, item_overdue
from bot.delivery import enqueue_many
from bot.services.committees import visible_committees
from bot.services.context import Ctx
from models import reads
from models.delivery import OutboxMessage
from models.meetings import Letter, LetterRecipient, Meeting
from models.tables import Committee, Item, ItemOwner, RoleHolder

HOME_ITEMS = 15       # own items listed; the rest are counted
HOME_MEETINGS = 5
HOME_LETTERS = 5
DEFAULT_TZ = ZoneInfo("Europe/London")


class _NoDirectory:
    """Without Slack to ask, a private committee is hidden (the safe answer)."""

    async def is_admin(self, user_id: str, team_id: str | None = None) -> bool:
        return False

    async def private_channels_of(self, user_id: str) -> frozenset[str]:
        return frozenset()


@dataclass
class AwaitingLetter:
    recipient: LetterRecipient
    letter: Letter
    committee: Committee


@dataclass
class HomeData:
    items: list[Item] = field(default_factory=list)        # own open items, overdue first
    more_items: int = 0
    meetings: list[Meeting] = field(default_factory=list)  # the next meeting of each committee
    letters: list[AwaitingLetter] = field(default_factory=list)
    more_letters: int = 0
    now: datetime | None = None
    tz: ZoneInfo = DEFAULT_TZ


def overdue_first(items: list[Item], today: date) -> list[Item]:
    """Overdue (most overdue first), then the rest soonest due first, undated last."""
    def key(i: Item):
        overdue = item_overdue(i, today)
        return (not overdue, i.due is None, i.due or date.max, i.full_ref)
    return sorted(items, key=key)


async def home_data(session: AsyncSession, team_id: str, user_id: str, now: datetime, tz: ZoneInfo,
                    directory=None) -> HomeData:
    ctx = Ctx(team_id=team_id, user_id=user_id, channel_id=None, now=now, tz=tz,
              directory=directory if directory is not None else _NoDirectory())
    committees = await visible_committees(session, ctx)
    ids = [c.id for c in committees]
    data = HomeData(now=now, tz=tz)
    if ids:
        held = select(RoleHolder.role_id).where(RoleHolder.user_id == user_id, RoleHolder.ended_at.is_(None))
        mine = list(await session.scalars(select(Item).where(
            Item.team_id == team_id, Item.committee_id.in_(ids), Item.status.in_(OPEN),
            exists().where(ItemOwner.item_id == Item.id, ItemOwner.role_id.in_(held)))))
        mine = overdue_first(mine, ctx.today)
        data.items, data.more_items = mine[:HOME_ITEMS], max(0, len(mine) - HOME_ITEMS)
        meetings = await session.scalars(select(Meeting).where(
            Meeting.team_id == team_id, Meeting.committee_id.in_(ids), Meeting.closed_at.is_(None),
            Meeting.ends_at >= now).order_by(Meeting.starts_at, Meeting.id))
        seen: set[int] = set()
        for meeting in meetings:
            if meeting.committee_id not in seen and len(data.meetings) < HOME_MEETINGS:
                seen.add(meeting.committee_id)
                data.meetings.append(meeting)
    # Letters sent to them (as a partner-agency contact) that they haven't acknowledged.
    rows = list(await session.execute(
        select(LetterRecipient, Letter, Committee).join(Letter, Letter.id == LetterRecipient.letter_id)
        .join(Committee, Committee.id == Letter.committee_id)
        .where(Letter.team_id == team_id, LetterRecipient.user_id == user_id, LetterRecipient.kind == "contact",
               LetterRecipient.acknowledged_at.is_(None))
        .order_by(Letter.sent_at.desc(), Letter.id.desc())))
    data.letters = [AwaitingLetter(r, letter, c) for r, letter, c in rows[:HOME_LETTERS]]
    data.more_letters = max(0, len(rows) - HOME_LETTERS)
    return data


async def queue_home_refresh(session: AsyncSession, team_id: str, user_ids, now: datetime, *,
                             tz: ZoneInfo | None = None) -> int:
    """Queue a Home refresh for each person, inside the caller's transaction. Only the request
    to refresh is queued: the dispatcher builds the view when it sends (so it shows what is
    committed by then, and the change that asked for it pays nothing for it). One row per
    person per instant. Returns how many were new."""
    tz = tz or DEFAULT_TZ
    at = now.astimezone(timezone.utc).isoformat()
    return await enqueue_many(session, [
        dict(team_id=team_id, key=f"home:{user_id}:{at}", channel=user_id, payload={"home": {"tz": tz.key}},
             method="views.publish")
        for user_id in dict.fromkeys(u for u in user_ids if u)], now=now)


async def queued_home_data(session: AsyncSession, row: OutboxMessage, now: datetime, directory) -> HomeData:
    """The Home for a queued refresh (a row queue_home_refresh wrote), from the state now."""
    return await home_data(session, row.team_id, row.channel, now, ZoneInfo(row.payload["home"]["tz"]), directory)


async def refresh_item_owners(session: AsyncSession, ctx: Ctx, item: Item | reads.ItemRow, role_ids=()) -> int:
    """After a change to an item: refresh the Home of everyone holding one of its owning
    roles, now or (role_ids) before the change. An item read as a row (models.reads) carries
    its owners' holders, so they are taken from it; otherwise they are looked up."""
    if isinstance(item, reads.ItemRow) and not role_ids:
        users = [h.user_id for o in item.owners for h in o.role.current_holders]
        return await queue_home_refresh(session, ctx.team_id, users, ctx.now, tz=ctx.tz)
    ids = {o.role_id for o in item.owners} | set(role_ids)
    if not ids:
        return 0
    users = list(await session.scalars(
        select(RoleHolder.user_id).where(RoleHolder.role_id.in_(ids), RoleHolder.ended_at.is_(None),
                                         RoleHolder.user_id.is_not(None))
        .order_by(RoleHolder.started_at, RoleHolder.id)))
    return await queue_home_refresh(session, ctx.team_id, users, ctx.now, tz=ctx.tz)


__all__ = ["AwaitingLetter", "HomeData", "home_data", "overdue_first", "queue_home_refresh", "queued_home_data",
           "refresh_item_owners"]
