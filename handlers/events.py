"""Events: the App Home tab."""
from __future__ import annotations

from bot import messages
from bot.services import items
from bot.services.items import ItemFilter


def register(app, deps) -> None:
    @app.event("app_home_opened")
    async def home_opened(event, client, context):
        if event.get("tab") not in (None, "home"):
            return
        ctx = deps.ctx(context, channel_id=None)
        async with deps.db.session() as s:
            mine = await items.list_items(s, ctx, ItemFilter(mine=True))
            overdue = [i for i in mine.items if items.rag_of(i, ctx.today) == "red" and i.due and i.due < ctx.today]
            rest = [i for i in mine.items if i not in overdue]
            mine.items = overdue + rest
            msg = messages.home(mine, ctx.today)
        await client.views_publish(user_id=ctx.user_id, view={"type": "home", "blocks": msg.to_blocks()})
