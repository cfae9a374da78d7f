"""Wiring: the Bolt app, its Slack client, the database and the clock."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.core.errors import NotAllowed, UserError
from bot.db import Database
from bot.services.context import Ctx
from bot.services.directory import Directory
from bot.services.events import RecentSignatures, remember_event
from bot.slack_ui.blocks import Message, Section, people_text
from handlers.boundary import well_formed

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

    def ctx(self, context, body: dict) -> Ctx:
        team_id = signed_team(body) or context.enterprise_id or ""
        directory = self.directory
        if self.settings.multi_workspace and context.client is not None:
            # Many workspaces: ask Slack with this request's own workspace token (Bolt's authorize).
            directory = directory.with_client(context.client, team_id)
        return Ctx(team_id=team_id, user_id=context.user_id, channel_id=context.channel_id,
                   now=self.clock(), tz=self.settings.tz, directory=directory,
                   user_team_id=acting_team(body), enterprise_id=context.enterprise_id or None)


def acting_team(body: dict) -> str | None:
    """The acting person's own workspace, where Slack says it: a button's or form's `user.team_id`,
    a command's `user_team`, an event's `event.user_team` (Slack Connect: another organisation's)."""
    user = body.get("user")
    for team in (user.get("team_id") if isinstance(user, dict) else None, body.get("user_team"),
                 (body.get("event") or {}).get("user_team") if isinstance(body.get("event"), dict) else None):
        if isinstance(team, str) and team:
            return team
    return None


def signed_team(body: dict) -> str | None:
    """The workspace Slack sent this request for: the team Slack names at the top of the body
    (or the acting person's team), never one named inside a view, which Bolt would prefer
    (`view.app_installed_team_id`) and which must not let one workspace act on another's rows."""
    team = body.get("team")
    if isinstance(team, dict) and isinstance(team.get("id"), str):
        return team["id"]
    if isinstance(team, str):
        return team
    if isinstance(body.get("team_id"), str):
        return body["team_id"]
    user = body.get("user")
    if isinstance(user, dict) and isinstance(user.get("team_id"), str):
        return user["team_id"]
    return None


def make_client(settings: Settings) -> AsyncWebClient:
    # Many workspaces: no token of its own; each request's client carries its workspace's.
    kwargs = {"token": None if settings.multi_workspace else settings.bot_token}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    return AsyncWebClient(**kwargs)


def oauth_settings(settings: Settings, db: Database, client: AsyncWebClient):
    """Many workspaces: Bolt's OAuth flow (GET /slack/install, GET /slack/oauth_redirect) with the
    installations and single-use states in our database, and an authorize step that finds each
    request's workspace token there (refreshing a rotating one) — every call through `client`'s
    base URL (SLACK_API_URL), the code exchange and the refresh included."""
    from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
    from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings

    from bot.services.installations import BOT_SCOPES, InstallationStore, StateStore

    store = InstallationStore(db)
    oauth = AsyncOAuthSettings(
        client_id=settings.client_id, client_secret=settings.client_secret, scopes=list(BOT_SCOPES),
        redirect_uri=f"{settings.public_url}/slack/oauth_redirect" if settings.public_url else None,
        installation_store=store, installation_store_bot_only=True, state_store=StateStore(db))
    oauth.authorize = AsyncInstallationStoreAuthorize(
        installation_store=store, client_id=settings.client_id, client_secret=settings.client_secret,
        bot_only=True, client=client, cache_enabled=False, logger=log)
    return oauth


def build_app(settings: Settings, db: Database, *, clock: Callable[[], datetime] = utc_now) -> tuple[AsyncApp, Deps]:
    """The Bolt app and what its listeners share.

    Listeners run before the HTTP answer goes back (process_before_response), so a slash
    command's answer rides in its acknowledgement: one round trip instead of an empty
    acknowledgement followed by a POST to the response_url, and no 10 ms polling for the
    acknowledgement inside Bolt. Every listener here finishes well within Slack's 3 s."""
    import handlers

    client = make_client(settings)
    from bot.core.workdays import holidays_of
    from bot.services.settings import locale_for, named_admin_check

    deps = Deps(settings=settings, db=db, clock=clock,
                directory=Directory(client, settings.admins, named_admins=named_admin_check(db)))
    app = AsyncApp(client=client, signing_secret=settings.signing_secret,
                   process_before_response=True,
                   oauth_settings=oauth_settings(settings, db, client) if settings.multi_workspace else None,
                   # Our own /healthz answers for liveness; Bolt's url_verification stays on.
                   raise_error_for_unhandled_request=False)

    app.middleware(well_formed)

    @app.middleware
    async def once_per_event(body, next):
        """Handle each event once: a retried event (X-Slack-Retry-Num) that was already
        handled, here or on another replica, is acknowledged and dropped."""
        if body.get("type") == "event_callback" and body.get("event_id"):
            if not await remember_event(db, body["event_id"], body.get("team_id") or "", clock()):
                return BoltResponse(status=200, body="")
        await next()

    recent = RecentSignatures()

    @app.middleware
    async def once_per_request(req, body, next):
        """A signed command, button or form acts once: the same signature sent again within
        Slack's five-minute window (a replay) is acknowledged and does nothing. (Events are
        handled once by their event_id above; Socket Mode requests carry no signature.)"""
        signature = (req.headers.get("x-slack-signature") or [""])[0]
        if signature and body.get("type") != "event_callback":
            key = "sig:" + signature[-58:]
            # Replicas share PostgreSQL, so a replay to another replica is caught there; SQLite
            # has one process, which remembers the signatures itself.
            first = (await remember_event(db, key, signed_team(body) or "", clock()) if db.is_postgres
                     else recent.first_time(key, clock()))
            if not first:
                log.warning("Replayed request ignored (%s)", body.get("type") or body.get("command"))
                return BoltResponse(status=200, body="")
        await next()

    @app.middleware
    async def request_context(context, body, next):
        """What a listener may name besides Slack's own arguments: `ctx`, `db`, `settings`."""
        ctx = deps.ctx(context, body)
        # The council's own time zone and bank holidays (`/scrutiny settings`), else the defaults.
        tz, region = await locale_for(db, settings, ctx.team_id)
        context["ctx"] = replace(ctx, tz=tz)
        context["db"] = db
        context["settings"] = settings
        with holidays_of(region):
            await next()

    handlers.register(app)

    @app.error
    async def polite_errors(error, body, respond, logger, response, context):
        """Turn any exception into a one-line private answer; log the ones that are our fault."""
        if isinstance(error, UserError):
            text = error.message
            ctx = context.get("ctx") if context is not None else None
            if isinstance(error, NotAllowed) and ctx is not None:
                # A refused change: someone from another organisation (Slack Connect) is told so.
                from bot.services.committees import refusal
                async with db.session() as s:
                    text = await refusal(s, ctx, error)
        else:
            logger.exception("Unhandled error", exc_info=error)
            text = "Sorry, something went wrong on our side and nothing was changed. Please try again in a minute."
        # A UserError's message is plain text and may echo what the person typed: escaped here,
        # mentions kept; our own `code` formatting is untouched by escaping.
        message = Message(text).add(Section(f":warning: {people_text(text)}"))
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
