"""Escalation and resuming: scheduled work, plain functions of `now`.

- An open item overdue by more than `escalate_days` working days (SCRUTINEER_ESCALATE_DAYS) is
  escalated once — on the first working day's round after that — to its committee's chair and
  officers: a DM naming the item, its owner and how late it is. One Escalation row per item
  and due date (a revised date that slips again escalates again); the DMs are queued under
  keys naming it, so running twice, or in two processes, escalates once.
- A paused or deferred item whose day to resume has come goes back to "in progress" (audited),
  and from then on counts as overdue and is chased again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.status import PAUSED
from bot.core.workdays import holidays_of, working_days_between
from bot.delivery import enqueue_many
from bot.services import audit
from bot.services import settings as council_settings
from bot.services.context import Ctx
from bot.services.items import overdue_where, require_can_update
from bot.services.reminders import local_today, working_hours
from models import reads
from models.carry import Escalation
from models.tables import Item, Role, RoleHolder

SYSTEM_ACTOR = audit.SYSTEM


class EscalationRenderer(Protocol):
    def escalation(self, item: reads.ItemRow, days_late: int, today: date): ...


def days_late(due: date, today: date) -> int:
    """Working days overdue: the working days after the due date up to today."""
    return working_days_between(due, today)


async def _chair_and_officers(session: AsyncSession, committee_ids: list[int],
                              kinds_of=lambda committee_id: ("chair", "officer")) -> dict[int, list[str]]:
    """committee id -> the Slack users holding the roles it escalates to (kinds_of: its settings'
    escalate_roles; the chair and officers unless a council or committee says otherwise)."""
    kinds = {committee_id: kinds_of(committee_id) for committee_id in committee_ids}
    rows = await session.execute(
        select(Role.committee_id, Role.kind, RoleHolder.user_id).join(RoleHolder, RoleHolder.role_id == Role.id).where(
            Role.committee_id.in_(committee_ids), Role.kind.in_(sorted({k for ks in kinds.values() for k in ks})),
            RoleHolder.ended_at.is_(None),
            RoleHolder.user_id.is_not(None)).order_by(Role.kind, RoleHolder.started_at, RoleHolder.id))
    found: dict[int, list[str]] = {}
    for committee_id, kind, user_id in rows:
        if kind not in kinds[committee_id]:
            continue
        users = found.setdefault(committee_id, [])
        if user_id not in users:
            users.append(user_id)
    return found


async def queue_escalations(session: AsyncSession, now: datetime, settings, *, render: EscalationRenderer) -> int:
    """Escalate every item overdue by more than its committee's escalate_days working days (its
    own, its council's, else settings.escalate_days) not yet escalated for its due date, to the
    roles its settings name. Only in working hours on a working day, in each council's time zone
    and bank holidays. Returns DMs queued."""
    resolver = await council_settings.Resolver.load(session, settings)
    queued = 0
    for council in resolver.profiles("tz_name", "holiday_region"):
        with holidays_of(council.region):
            queued += await _queue_escalations(session, now, council, resolver, render=render)
    return queued


async def _queue_escalations(session: AsyncSession, now: datetime, council, resolver, *,
                             render: EscalationRenderer) -> int:
    if not working_hours(now, council.tz):
        return 0
    today = local_today(now, council.tz)
    t = reads.items
    rows, _ = await session.run_sync(lambda s: reads.item_rows(
        s.connection(), [overdue_where(t, today)],
        order_by=(t.c.due, t.c.id)))
    rows = [r for r in rows if council.includes(r.team_id)]
    await resolver.load_committees(session, {r.committee_id for r in rows})
    late = [(r, days_late(r.due, today)) for r in rows]
    late = [(r, n) for r, n in late if n > resolver.committee(r.team_id, r.committee_id).escalate_days]
    if not late:
        return 0
    done = set((await session.execute(select(Escalation.item_id, Escalation.due).where(
        Escalation.item_id.in_([r.id for r, _ in late])))).all())
    late = [(r, n) for r, n in late if (r.id, r.due) not in done]
    if not late:
        return 0
    team_of = {r.committee_id: r.team_id for r, _ in late}
    people = await _chair_and_officers(session, list(team_of), lambda committee_id: resolver.committee(
        team_of[committee_id], committee_id).escalate_roles)
    messages = []
    for row, n in late:
        session.add(Escalation(team_id=row.team_id, committee_id=row.committee_id, item_id=row.id, due=row.due,
                               escalated_on=today, days_late=n, created_at=now))
        audit.record(session, team_id=row.team_id, actor=SYSTEM_ACTOR, at=now, entity="item", entity_id=row.id,
                     action="escalate", after={"due": row.due, "days_late": n})
        payload = render.escalation(row, n, today).payload()
        messages += [dict(team_id=row.team_id, key=f"escalate:{row.id}:{row.due.isoformat()}:{user}", channel=user,
                          payload=payload) for user in people.get(row.committee_id, [])]
    await session.flush()
    return await enqueue_many(session, messages, now=now)


async def chase(session: AsyncSession, ctx: Ctx, item: reads.ItemRow, *, render) -> list[str]:
    """"Chase the owner" on an escalation: the owners get the overdue reminder now (the chair,
    officers, owners and admins may press it). Returns the users chased."""
    await require_can_update(session, ctx, item)
    users: list[str] = []
    for owner in item.owners:
        for h in owner.role.current_holders:
            if h.user_id and h.user_id not in users:
                users.append(h.user_id)
    if users:
        payload = render.overdue(item, ctx.today, 1).payload()
        await enqueue_many(session, [dict(team_id=ctx.team_id, key=f"chase:{item.id}:{ctx.now.isoformat()}:{u}",
                                          channel=u, payload=payload) for u in users], now=ctx.now)
        audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="item", entity_id=item.id,
                     action="chase", after={"chased": users})
    return users


async def resume_paused(session: AsyncSession, now: datetime, settings) -> int:
    """Paused and deferred items whose day to resume has come (in their council's time zone):
    back to "in progress"."""
    resumed: list[Item] = []
    for council in await council_settings.profiles(session, settings, "tz_name"):
        today = local_today(now, council.tz)
        resumed += await session.scalars(select(Item).where(
            Item.status.in_(PAUSED), Item.paused_until.is_not(None), Item.paused_until <= today,
            council.where(Item.team_id)))
    for item in resumed:
        audit.record(session, team_id=item.team_id, actor=SYSTEM_ACTOR, at=now, entity="item", entity_id=item.id,
                     action="update", before={"status": item.status, "paused_until": item.paused_until,
                                              "pause_reason": item.pause_reason},
                     after={"status": "in progress", "paused_until": None, "pause_reason": None})
        item.status, item.paused_until, item.pause_reason, item.updated_at = "in progress", None, None, now
    return 0


@dataclass(frozen=True)
class Escalated:
    """An escalation still standing: the item is still overdue on the date it was escalated for."""
    item: reads.ItemRow
    escalated_on: date
    days_late: int          # working days late today


async def standing(session: AsyncSession, committee_ids: list[int], today: date) -> dict[int, list[Escalated]]:
    """Committee id -> its items escalated and still overdue on the same due date (a revised date
    that has not passed, a pause, or closing the item ends the escalation), oldest first."""
    if not committee_ids:
        return {}
    found = list(await session.scalars(select(Escalation).where(Escalation.committee_id.in_(committee_ids))
                                       .order_by(Escalation.escalated_on, Escalation.id)))
    if not found:
        return {}
    t = reads.items
    rows, _ = await reads.in_session(session, reads.item_rows,
                                     [t.c.id.in_(list({e.item_id for e in found})), overdue_where(t, today)],
                                     order_by=(t.c.due, t.c.id))
    by_id = {r.id: r for r in rows}
    out: dict[int, list[Escalated]] = {}
    for e in found:
        row = by_id.get(e.item_id)
        if row is not None and row.due == e.due:
            out.setdefault(e.committee_id, []).append(Escalated(row, e.escalated_on, days_late(row.due, today)))
    return out


async def escalations_since(session: AsyncSession, committee_ids: list[int], since: date | None) -> list[Escalation]:
    """Escalations of these committees on or after `since` (all, when None), oldest first."""
    if not committee_ids:
        return []
    query = select(Escalation).where(Escalation.committee_id.in_(committee_ids))
    if since is not None:
        query = query.where(Escalation.escalated_on >= since)
    return list(await session.scalars(query.order_by(Escalation.escalated_on, Escalation.id)))


__all__ = ["Escalated", "standing", "chase", "days_late", "escalations_since", "queue_escalations", "resume_paused"]
