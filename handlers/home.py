"""Events: the App Home tab."""
from __future__ import annotations

from bot.services import home
from bot.slack_ui.home import home_view


async def home_opened(event, client, ctx, db):
    if event.get("tab") not in (None, "home"):
        return
    ctx = ctx.in_channel(None)
    async with db.session() as s:
        view = home_view(await home.home_data(s, ctx.team_id, ctx.user_id, ctx.now, ctx.tz, ctx.directory))
    await client.views_publish(user_id=ctx.user_id, view=view)


def register(app) -> None:
    app.event("app_home_opened")(home_opened)
