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

from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.status import PAUSED
from bot.core.workdays import working_days_between
from bot.delivery import enqueue_many
from bot.services import audit
from bot.services.context import Ctx
from bot.services.items import counted, require_can_update
from bot.services.reminders import local_today, working_hours
from models import reads
from models.carry import Escalation
from models.tables import Item, Role, RoleHolder

SYSTEM_ACTOR = "scrutineer"


class EscalationRenderer(Protocol):
    def escalation(self, item: reads.ItemRow, days_late: int, today: date): ...


def days_late(due: date, today: date) -> int:
    """Working days overdue: the working days after the due date up to today."""
    return working_days_between(due, today)


async def _chair_and_officers(session: AsyncSession, committee_ids: list[int]) -> dict[int, list[str]]:
    rows = await session.execute(
        select(Role.committee_id, RoleHolder.user_id).join(RoleHolder, RoleHolder.role_id == Role.id).where(
            Role.committee_id.in_(committee_ids), Role.kind.in_(("chair", "officer")), RoleHolder.ended_at.is_(None),
            RoleHolder.user_id.is_not(None)).order_by(Role.kind, RoleHolder.started_at, RoleHolder.id))
    found: dict[int, list[str]] = {}
    for committee_id, user_id in rows:
        users = found.setdefault(committee_id, [])
        if user_id not in users:
            users.append(user_id)
    return found


async def queue_escalations(session: AsyncSession, now: datetime, settings, *, render: EscalationRenderer) -> int:
    """Escalate every item overdue by more than settings.escalate_days working days not yet
    escalated for its due date. Only in working hours on a working day. Returns DMs queued."""
    if not working_hours(now, settings.tz):
        return 0
    today = local_today(now, settings.tz)
    t = reads.items
    rows, _ = await session.run_sync(lambda s: reads.item_rows(
        s.connection(), [counted(t, today), t.c.due.is_not(None), t.c.due < today],
        order_by=(t.c.due, t.c.id)))
    late = [(r, days_late(r.due, today)) for r in rows]
    late = [(r, n) for r, n in late if n > settings.escalate_days]
    if not late:
        return 0
    done = set((await session.execute(select(Escalation.item_id, Escalation.due).where(
        Escalation.item_id.in_([r.id for r, _ in late])))).all())
    late = [(r, n) for r, n in late if (r.id, r.due) not in done]
    if not late:
        return 0
    people = await _chair_and_officers(session, list({r.committee_id for r, _ in late}))
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
    """Paused and deferred items whose day to resume has come: back to "in progress"."""
    today = local_today(now, settings.tz)
    resumed = list(await session.scalars(select(Item).where(
        Item.status.in_(PAUSED), Item.paused_until.is_not(None), Item.paused_until <= today)))
    for item in resumed:
        audit.record(session, team_id=item.team_id, actor=SYSTEM_ACTOR, at=now, entity="item", entity_id=item.id,
                     action="update", before={"status": item.status, "paused_until": item.paused_until,
                                              "pause_reason": item.pause_reason},
                     after={"status": "in progress", "paused_until": None, "pause_reason": None})
        item.status, item.paused_until, item.pause_reason, item.updated_at = "in progress", None, None, now
    return 0


async def escalations_since(session: AsyncSession, committee_ids: list[int], since: date | None) -> list[Escalation]:
    """Escalations of these committees on or after `since` (all, when None), oldest first."""
    if not committee_ids:
        return []
    query = select(Escalation).where(Escalation.committee_id.in_(committee_ids))
    if since is not None:
        query = query.where(Escalation.escalated_on >= since)
    return list(await session.scalars(query.order_by(Escalation.escalated_on, Escalation.id)))


__all__ = ["chase", "days_late", "escalations_since", "queue_escalations", "resume_paused"]
