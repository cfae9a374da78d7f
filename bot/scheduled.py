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
    from bot.services import events, letters, meetings, reminders
    from bot.slack_ui import letters as letters_ui
    from bot.slack_ui import meetings as meetings_ui
    from bot.slack_ui import reminders as reminders_ui

    queued = 0
    jobs = [partial(meetings.send_overdue_digests, render=meetings_ui),
            partial(letters.chase_unacknowledged, render=letters_ui), events.forget_old_events]
    if reminders_too:
        jobs.append(partial(reminders.queue_reminders, render=reminders_ui))
    for job in jobs:
        async with db.session() as s, s.begin():
            queued += await job(s, now, settings) or 0
    return queued


# Reminders are by the day (their keys carry the date or the week), but finding them reads
# every open item that is due soon or overdue, in every workspace: at a hosted service's
# scale, too much to read every few seconds.
REMINDERS_EVERY = timedelta(minutes=10)


def home_builder(directory):
    """How the dispatcher builds a queued Home refresh (bot.services.home.queue_home_refresh):
    the person's Home as it is when sent, seeing private committees through `directory`."""
    from bot.services import home
    from bot.slack_ui.home import home_view

    async def build_home(session, row, now: datetime) -> dict:
        return home_view(await home.queued_home_data(session, row, now, directory))

    return build_home


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
    client = AsyncWebClient(**kwargs)
    # Home views are built as they are sent: they see private committees as the app does.
    dispatcher = Dispatcher(db, client, clock, build_view=home_builder(Directory(client, settings.admins)))

    async def letters_delivered(session, sent) -> None:
        from bot.services import letters
        await letters.record_deliveries(session, sent)

    # Letter delivery times are written in the transaction that marks the messages sent.
    dispatcher.on_sent_in_transaction.append(letters_delivered)

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
