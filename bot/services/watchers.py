"""Watchers: `/watch rec-10` tells a person of an item's new positions and status changes by DM,
without owning it. The DMs are queued through the outbox in the transaction that makes the
change (bot.services.items._record calls notify), so a change rolled back tells nobody.

What a DM says is the Slack rendering's: the app registers it once (use_renderer), as the
rules never import how they are shown."""
from __future__ import annotations

from datetime import date
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import enqueue_many
from bot.services import audit
from bot.services.committees import can_see
from bot.services.context import Ctx
from models import reads
from models.carry import Watcher

NOTIFIED_FIELDS = ("position", "status")   # what a watcher is told of


class WatchRenderer(Protocol):
    def watched_change(self, item: reads.ItemRow, changes: list, actor: str, today: date): ...


_renderer: WatchRenderer | None = None


def use_renderer(render: WatchRenderer) -> None:
    """How watchers' DMs are drawn (bot.slack_ui.carry): set when the app is built."""
    global _renderer
    _renderer = render


async def watching(session: AsyncSession, team_id: str, item_id: int, user_id: str) -> Watcher | None:
    return await session.scalar(select(Watcher).where(
        Watcher.team_id == team_id, Watcher.item_id == item_id, Watcher.user_id == user_id,
        Watcher.ended_at.is_(None)).limit(1))


async def watch(session: AsyncSession, ctx: Ctx, item) -> bool:
    """Start watching an item the person may see (the caller found it through items.find or
    find_by_id). Returns False when they already were."""
    if await watching(session, ctx.team_id, item.id, ctx.user_id) is not None:
        return False
    row = Watcher(team_id=ctx.team_id, item_id=item.id, user_id=ctx.user_id, created_at=ctx.now)
    session.add(row)
    await session.flush()
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="item", entity_id=item.id,
                 action="watch", after={"watcher": ctx.user_id})
    return True


async def unwatch(session: AsyncSession, ctx: Ctx, item) -> bool:
    """Stop watching. Returns False when they weren't."""
    result = await session.execute(
        update(Watcher).where(Watcher.team_id == ctx.team_id, Watcher.item_id == item.id,
                              Watcher.user_id == ctx.user_id, Watcher.ended_at.is_(None))
        .values(ended_at=ctx.now).execution_options(synchronize_session=False))
    if not result.rowcount:
        return False
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="item", entity_id=item.id,
                 action="unwatch", before={"watcher": ctx.user_id})
    return True


def _watched_rows(conn, team_id: str, user_id: str) -> list[reads.ItemRow]:
    ids = select(Watcher.item_id).where(Watcher.team_id == team_id, Watcher.user_id == user_id,
                                        Watcher.ended_at.is_(None))
    t = reads.items
    rows, _ = reads.item_rows(conn, [t.c.team_id == team_id, t.c.id.in_(ids)],
                              order_by=(t.c.committee_id, t.c.review_id, t.c.kind.desc(), t.c.seq, t.c.id))
    return rows


async def watched(db, ctx: Ctx) -> list[reads.ItemRow]:
    """The items the person watches, those they may still see."""
    rows = await db.read(_watched_rows, ctx.team_id, ctx.user_id)
    return [r for r in rows if await can_see(ctx, r.committee)]


async def notify(session: AsyncSession, ctx: Ctx, item_id: int, changes: list) -> int:
    """Queue a DM to each watcher of the item (not the person who made the change) when the change
    has a new position or status. Returns how many were queued."""
    told = [c for c in changes if c.field in NOTIFIED_FIELDS]
    if not told or _renderer is None:
        return 0
    # Sorted here rather than by the query: ORDER BY id would walk the primary key instead of
    # looking the item up in ix_watcher_item.
    users = sorted(set(await session.scalars(
        select(Watcher.user_id).where(Watcher.item_id == item_id, Watcher.team_id == ctx.team_id,
                                      Watcher.ended_at.is_(None), Watcher.user_id != ctx.user_id))))
    if not users:
        return 0
    rows, _ = await reads.in_session(session, reads.item_rows, [reads.items.c.id == item_id])
    if not rows:
        return 0
    payload = _renderer.watched_change(rows[0], told, ctx.user_id, ctx.today).payload()
    stamp = ctx.now.isoformat()
    return await enqueue_many(session, [dict(team_id=ctx.team_id, key=f"watch:{item_id}:{stamp}:{user}",
                                             channel=user, payload=payload) for user in users], now=ctx.now)


__all__ = ["notify", "unwatch", "use_renderer", "watch", "watched", "watching"]
