"""Events: the App Home tab."""
from __future__ import annotations

from bot.services import home


def register(app, deps) -> None:
    @app.event("app_home_opened")
    async def home_opened(event, client, context):
        if event.get("tab") not in (None, "home"):
            return
        ctx = deps.ctx(context, channel_id=None)
        async with deps.db.session() as s:
            view = await home.home_view(s, ctx.team_id, ctx.user_id, ctx.now, ctx.tz, ctx.directory)
        await client.views_publish(user_id=ctx.user_id, view=view)
