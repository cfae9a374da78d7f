"""Events: the app uninstalled from a workspace, or its tokens revoked (many workspaces)."""
from __future__ import annotations

from bot.services import installations


async def uninstalled(body, event, ctx, db):
    """Nothing more is sent to the workspace: its installation ends and what is queued for it
    is given up (dead, with the reason), its Home never published again."""
    if event.get("type") == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
        return   # only people's tokens: the bot's still works
    await installations.stop_workspace(db, ctx.team_id, event.get("type") or "app_uninstalled", ctx.now,
                                       enterprise_id=body.get("enterprise_id"))


def register(app) -> None:
    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(uninstalled)
