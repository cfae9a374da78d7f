"""Buttons on reminder DMs: "Snooze a week". ("Update position" is item_update in actions.py.)"""
from __future__ import annotations

from bot import reminder_messages as render
from bot.metadata import ItemRef
from bot.services import items, reminders


def register(app, deps) -> None:
    @app.action(render.SNOOZE_ACTION)
    async def item_snooze(ack, action, respond, context):
        await ack()
        ctx = deps.ctx(context)
        ref = ItemRef.loads(action.get("value"))
        async with deps.db.session() as s, s.begin():
            item = await items.load_item(s, ctx, ref.item_id)
            until, newly = await reminders.snooze(s, ctx, item)
            msg = render.snoozed(item, until, ctx.today, already=not newly)
        await respond(**msg.payload(replace_original=True))
