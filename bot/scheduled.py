"""Scheduled work: everything that happens because time passed, as one function of `now`.

Each part only queues messages through the outbox under deterministic keys, so running
it twice, or in two processes at once, queues each message once."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.config import Settings

log = logging.getLogger("scrutineer.scheduled")


async def run_scheduled(db, settings: Settings, now: datetime, *, reminders_too: bool = True) -> int:
    from bot.services import events, letters, meetings, reminders

    queued = 0
    jobs = [meetings.send_overdue_digests, letters.chase_unacknowledged, events.forget_old_events]
    if reminders_too:
        jobs.append(reminders.queue_reminders)
    for job in jobs:
        async with db.session() as s, s.begin():
            queued += await job(s, now, settings) or 0
    return queued


# Reminders are by the day (their keys carry the date or the week), but finding them reads
# every open item that is due soon or overdue, in every workspace: at a hosted service's
# scale that is tens of thousands of rows, too much to read every few seconds.
REMINDERS_EVERY = timedelta(minutes=10)


def build_worker(settings: Settings, db, clock, *, interval: float | None = None,
                 reminders_every: timedelta = REMINDERS_EVERY):
    """The background worker for a process: scheduled work plus the outbox dispatcher.
    Reminders are looked for at most every `reminders_every` (the console: every step)."""
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.delivery.dispatcher import Dispatcher
    from bot.delivery.worker import Worker
    from bot.directory import Directory

    kwargs = {"token": settings.bot_token, "retry_handlers": []}  # the dispatcher does its own retrying
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    client = AsyncWebClient(**kwargs)
    # Home views are built as they are sent: they see private committees as the app does.
    dispatcher = Dispatcher(db, client, clock, directory=Directory(client, settings.admins))

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
