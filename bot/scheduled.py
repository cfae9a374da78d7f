"""Scheduled work: everything that happens because time passed, as one function of `now`.

Each part only queues messages through the outbox under deterministic keys, so running
it twice, or in two processes at once, queues each message once."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.config import Settings

log = logging.getLogger("scrutineer.scheduled")


async def run_scheduled(db, settings: Settings, now: datetime) -> int:
    from bot.services import letters, meetings, reminders

    queued = 0
    for job in (meetings.send_overdue_digests, letters.chase_unacknowledged, reminders.queue_reminders):
        async with db.session() as s, s.begin():
            queued += await job(s, now, settings) or 0
    return queued


def build_worker(settings: Settings, db, clock, *, interval: float | None = None):
    """The background worker for a process: scheduled work plus the outbox dispatcher."""
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.delivery.dispatcher import Dispatcher
    from bot.delivery.worker import Worker

    kwargs = {"token": settings.bot_token, "retry_handlers": []}  # the dispatcher does its own retrying
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    dispatcher = Dispatcher(db, AsyncWebClient(**kwargs), clock)

    async def letter_delivered(row, channel, ts) -> None:
        from bot.services import letters
        await letters.record_delivery(db, row, channel, ts)

    dispatcher.on_sent.append(letter_delivered)

    async def scheduled(now: datetime) -> None:
        await run_scheduled(db, settings, now)

    return Worker(db, dispatcher, clock, scheduled,
                  interval=settings.worker_interval if interval is None else interval,
                  lease_ttl=timedelta(seconds=settings.lease_seconds))
