"""Scheduled work: everything that happens because time passed, as one function of `now`.

Each part only queues messages through the outbox under deterministic keys, so running
it twice, or in two processes at once, queues each message once. The services decide what
to send; here each is given the Slack rendering (bot.slack_ui) that says it."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from bot.config import Settings

log = logging.getLogger("scrutineer.scheduled")


async def run_scheduled(db, settings: Settings, now: datetime, *, reminders_too: bool = True) -> int:
    from bot.export.letter_email import letter_mail, update_mail
    from bot.services import escalations, events, indicators, letters, meetings, reminders, updates
    from bot.services.workspace_data import forget_expired_states, remove_expired_workspaces
    from bot.slack_ui import carry as carry_ui
    from bot.slack_ui import indicators as indicators_ui
    from bot.slack_ui import letters as letters_ui
    from bot.slack_ui import meetings as meetings_ui
    from bot.slack_ui import reminders as reminders_ui
    from bot.slack_ui import updates as updates_ui

    queued = 0
    jobs = [partial(meetings.send_overdue_digests, render=meetings_ui),
            partial(letters.chase_unacknowledged, render=letters_ui, mail=letter_mail(settings)),
            events.forget_old_events]
    if reminders_too:
        jobs.append(escalations.resume_paused)   # before reminders: a resumed item is chased again
        # Escalations before reminders: the Monday summary lists what was escalated that morning.
        jobs.append(partial(escalations.queue_escalations, render=carry_ui))
        jobs.append(partial(reminders.queue_reminders, render=reminders_ui))
        jobs.append(partial(updates.queue_update_requests, render=updates_ui, mail=update_mail(settings)))
        # A council's data is its own: removed SCRUTINEER_RETENTION_DAYS after an uninstall;
        # OAuth states past their expiry forgotten.
        jobs.append(remove_expired_workspaces)
        jobs.append(forget_expired_states)
        jobs.append(partial(indicators.queue_figure_reminders, render=indicators_ui))
    for job in jobs:
        async with db.session() as s, s.begin():
            queued += await job(s, now, settings) or 0
    return queued


# Reminders are by the day (their keys carry the date or the week), but finding them reads
# every open item that is due soon or overdue, in every workspace: at a hosted service's
# scale, too much to read every few seconds.
REMINDERS_EVERY = timedelta(minutes=10)


def home_builder(directory, directory_for=None):
    """How the dispatcher builds a queued Home refresh (bot.services.home.queue_home_refresh):
    the person's Home as it is when sent, seeing private committees through `directory` (many
    workspaces: through `directory_for(team_id)`, asking with that workspace's token)."""
    from bot.services import home
    from bot.slack_ui.home import home_view

    async def build_home(session, row, now: datetime) -> dict:
        seen_by = directory if directory_for is None else await directory_for(row.team_id)
        return home_view(await home.queued_home_data(session, row, now, seen_by))

    return build_home


def mail_sender(settings: Settings):
    """How the dispatcher sends "email" rows: SCRUTINEER_SMTP_URL, from SCRUTINEER_MAIL_FROM
    (None when no mail server is configured)."""
    if not settings.smtp_url:
        return None
    from bot.delivery.mail import link_key, smtp_sender
    return smtp_sender(settings.smtp_url, settings.mail_from or "scrutineer@localhost", links_key=link_key(settings))


def many_workspaces(settings: Settings, db, directory, client_kwargs: dict) -> dict:
    """The dispatcher's arguments in many workspaces: each row's token by its team (cached
    briefly, refreshed before use when it rotates), a refused token stopping its workspace,
    and Home views built with the workspace's own token."""
    from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.services.installations import InstallationStore, Tokens

    tokens = Tokens(InstallationStore(db), AsyncTokenRotator(
        client_id=settings.client_id, client_secret=settings.client_secret,
        client=AsyncWebClient(**{**client_kwargs, "token": None})))

    async def directory_for(team_id: str):
        token = await tokens.token_for(team_id)
        if token is None:
            raise LookupError(f"workspace {team_id} has no installation")
        return directory.with_client(AsyncWebClient(**{**client_kwargs, "token": token}), team_id)

    return dict(token_for=tokens.token_for, on_revoked=tokens.revoked,
                build_view=home_builder(directory, directory_for))


def build_worker(settings: Settings, db, clock, *, interval: float | None = None,
                 reminders_every: timedelta = REMINDERS_EVERY):
    """The background worker for a process: scheduled work plus the outbox dispatcher.
    Reminders are looked for at most every `reminders_every` (the console: every step)."""
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.delivery.dispatcher import Dispatcher
    from bot.delivery.worker import Worker
    from bot.services.directory import Directory

    kwargs = {"token": settings.bot_token, "retry_handlers": []}  # the dispatcher does its own retrying
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    if settings.multi_workspace:
        kwargs["token"] = None   # each row goes with its own workspace's token (token_for)
    client = AsyncWebClient(**kwargs)
    from bot.services.settings import named_admin_check
    directory = Directory(client, settings.admins, named_admins=named_admin_check(db))
    # Home views are built as they are sent: they see private committees as the app does.
    many: dict = {"build_view": home_builder(directory)}
    if settings.multi_workspace:
        many = many_workspaces(settings, db, directory, kwargs)
    dispatcher = Dispatcher(db, client, clock, send_mail=mail_sender(settings), **many)

    async def letters_delivered(session, sent) -> None:
        from bot.services import letters
        await letters.record_deliveries(session, sent)

    async def letter_refused(session, row, error) -> None:
        from bot.services import letters
        await letters.record_refusal(session, row, error)

    # Letter delivery times are written in the transaction that marks the messages sent;
    # a mail server's refusal in the one that gives the email up.
    dispatcher.on_sent_in_transaction.append(letters_delivered)
    dispatcher.on_dead_in_transaction.append(letter_refused)

    last_reminders: datetime | None = None

    async def scheduled(now: datetime) -> None:
        nonlocal last_reminders
        due = last_reminders is None or not timedelta(0) <= now - last_reminders < reminders_every \
            or now.date() != last_reminders.date()
        await run_scheduled(db, settings, now, reminders_too=due)
        if due:
            last_reminders = now

    return Worker(db, dispatcher, clock, scheduled,
                  interval=settings.worker_interval if interval is None else interval,
                  lease_ttl=timedelta(seconds=settings.lease_seconds))
