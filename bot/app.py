"""Wiring: the Bolt app, its Slack client, the database and the clock."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.db import Database
from bot.directory import Directory
from bot.render import Message, Section
from bot.services.context import Ctx
from bot.services.events import remember_event
from bot.services.errors import UserError

log = logging.getLogger("scrutineer")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Deps:
    """What every handler needs; built once per process."""
    settings: Settings
    db: Database
    directory: Directory
    clock: Callable[[], datetime] = field(default=utc_now)

    def ctx(self, context, channel_id: str | None | type(...) = ...) -> Ctx:
        return Ctx(team_id=context.team_id or context.enterprise_id or "",
                   user_id=context.user_id,
                   channel_id=context.channel_id if channel_id is ... else channel_id,
                   now=self.clock(), tz=self.settings.tz, directory=self.directory)


def make_client(settings: Settings) -> AsyncWebClient:
    kwargs = {"token": settings.bot_token}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    return AsyncWebClient(**kwargs)


def build_app(settings: Settings, db: Database, *, clock: Callable[[], datetime] = utc_now) -> tuple[AsyncApp, Deps]:
    """The Bolt app and what its listeners share.

    Listeners run before the HTTP answer goes back (process_before_response), so a slash
    command's answer rides in its acknowledgement: one round trip instead of an empty
    acknowledgement followed by a POST to the response_url, and no 10 ms polling for the
    acknowledgement inside Bolt. Every listener here finishes well within Slack's 3 s."""
    import handlers

    client = make_client(settings)
    deps = Deps(settings=settings, db=db, directory=Directory(client, settings.admins), clock=clock)
    app = AsyncApp(client=client, signing_secret=settings.signing_secret,
                   process_before_response=True,
                   # Our own /healthz answers for liveness; Bolt's url_verification stays on.
                   raise_error_for_unhandled_request=False)
    handlers.register(app, deps)

    @app.middleware
    async def once_per_event(body, next):
        """Handle each event once: a retried event (X-Slack-Retry-Num) that was already
        handled, here or on another replica, is acknowledged and dropped."""
        if body.get("type") == "event_callback" and body.get("event_id"):
            if not await remember_event(db, body["event_id"], body.get("team_id") or "", clock()):
                return BoltResponse(status=200, body="")
        await next()

    @app.error
    async def polite_errors(error, body, respond, logger, response):
        """Turn any exception into a one-line private answer; log the ones that are our fault."""
        if isinstance(error, UserError):
            text = error.message
        else:
            logger.exception("Unhandled error", exc_info=error)
            text = "Sorry, something went wrong on our side and nothing was changed. Please try again in a minute."
        message = Message(text).add(Section(f":warning: {text}"))
        if response is not None and body.get("command"):
            # A slash command not yet answered: the apology is the answer.
            return BoltResponse(status=200, headers={"content-type": "application/json; charset=utf-8"},
                                body=json.dumps(message.payload(response_type="ephemeral")))
        if respond is not None:
            try:
                await respond(**message.payload(response_type="ephemeral", replace_original=False))
            except Exception:  # the response_url may have expired; nothing more we can do
                logger.warning("Could not deliver error reply: %s", text)
        if response is None:
            # Nothing to shape (an error outside a listener); Bolt refuses a BoltResponse then.
            return None
        # Answered politely above; while the request is still open, Slack must not see a failure.
        return BoltResponse(status=200, body="")

    return app, deps
