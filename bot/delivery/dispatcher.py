"""Sending what the outbox holds.

- One message at a time per row: claimed (in_flight_since set and committed), sent, then
  marked sent. A process killed between "sent" and "marked" leaves in_flight_since set;
  the next attempt first looks in the channel for a message carrying the row's key in its
  metadata, and only sends when it isn't there — so a restart never posts twice.
- Network errors and 5xx: retried with exponential backoff (capped), for as long as
  Slack is down. 429: wait for Retry-After. Errors that retrying can't fix (the channel
  is gone, the bot was removed) end the row as dead, with the error kept.
- At most about one message a second into any one channel.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import or_, select, update

from models.delivery import OutboxMessage

log = logging.getLogger("scrutineer.delivery")

METADATA_EVENT = "scrutineer_outbox"
PERMANENT_ERRORS = {"channel_not_found", "not_in_channel", "is_archived", "user_not_found",
                    "account_inactive", "invalid_blocks", "msg_too_long", "no_text", "invalid_auth",
                    "not_authed", "user_disabled", "cannot_dm_bot", "missing_scope"}
MAX_BACKOFF = timedelta(minutes=5)


class Dispatcher:
    def __init__(self, db, client: AsyncWebClient, clock: Callable[[], datetime], *,
                 per_channel: float = 1.0, batch: int = 50, in_flight_timeout: timedelta = timedelta(seconds=60)):
        self.db = db
        self.client = client
        self.clock = clock
        self.per_channel = per_channel
        self.batch = batch
        self.in_flight_timeout = in_flight_timeout
        self._last_sent: dict[str, float] = {}  # channel -> loop time of the last send
        # async callables(row, channel, ts) run after a send is recorded (e.g. letter delivery times)
        self.on_sent: list[Callable] = []

    async def due(self) -> list[OutboxMessage]:
        now = self.clock()
        async with self.db.session() as s:
            return list(await s.scalars(
                select(OutboxMessage).where(OutboxMessage.sent_at.is_(None), OutboxMessage.dead_at.is_(None),
                                            OutboxMessage.not_before <= now, self._not_busy(now))
                .order_by(OutboxMessage.not_before, OutboxMessage.id).limit(self.batch)))

    def _not_busy(self, now: datetime):
        """Nobody is sending it right now: never attempted, or the last attempt is long dead."""
        return or_(OutboxMessage.in_flight_since.is_(None),
                   OutboxMessage.in_flight_since < now - self.in_flight_timeout)

    async def run_once(self, still_ours: Callable[[], Awaitable[bool]] | None = None) -> int:
        """Send everything that is due now, pacing each channel. Returns how many were sent.
        `still_ours` is asked before each message: a worker that lost its lease stops."""
        sent = 0
        for row in await self.due():
            await self._pace(row.channel)
            if still_ours is not None and not await still_ours():
                break
            if await self.deliver(row):
                sent += 1
        return sent

    async def _pace(self, channel: str) -> None:
        loop = asyncio.get_running_loop()
        last = self._last_sent.get(channel)
        if last is not None:
            wait = last + self.per_channel - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        self._last_sent[channel] = loop.time()

    async def deliver(self, row: OutboxMessage) -> bool:
        # Claim: record that an attempt is starting, so a crash from here on is detectable.
        now = self.clock()
        async with self.db.session() as s, s.begin():
            claimed = await s.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.sent_at.is_(None),
                                            OutboxMessage.dead_at.is_(None), self._not_busy(now))
                .values(in_flight_since=now, attempts=OutboxMessage.attempts + 1))
            if claimed.rowcount != 1:
                return False
        try:
            if row.in_flight_since is not None and row.method == "chat.postMessage":
                found = await self._already_posted(row)
                if found is not None:
                    await self._mark_sent(row, *found)
                    return True
            channel, ts = await self._call(row)
        except SlackApiError as e:
            await self._failed(row, e)
            return False
        except (OSError, asyncio.TimeoutError) as e:  # network trouble: Slack may be down, or may have it
            await self._retry(row, f"network: {e!r}", self._backoff(row), uncertain=True)
            return False
        await self._mark_sent(row, channel, ts)
        return True

    async def _call(self, row: OutboxMessage) -> tuple[str | None, str | None]:
        payload = dict(row.payload)
        if row.method == "views.publish":
            await self.client.views_publish(user_id=row.channel, view=payload["view"])
            return row.channel, None
        payload["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"key": row.key}}
        resp = await self.client.chat_postMessage(channel=row.channel, **payload)
        return resp.get("channel"), resp.get("ts")

    async def _already_posted(self, row: OutboxMessage) -> tuple[str, str] | None:
        """After a crash mid-send: did Slack get it? Look for our key in recent messages."""
        channel = row.channel
        if channel.startswith(("U", "W")):
            opened = await self.client.conversations_open(users=channel)
            channel = opened["channel"]["id"]
        history = await self.client.conversations_history(channel=channel, limit=100, include_all_metadata=True,
                                                          oldest=str(row.in_flight_since.timestamp() - 60))
        for message in history.get("messages", []):
            meta = message.get("metadata") or {}
            if meta.get("event_type") == METADATA_EVENT and (meta.get("event_payload") or {}).get("key") == row.key:
                return channel, message.get("ts")
        return None

    def _backoff(self, row: OutboxMessage) -> timedelta:
        return min(timedelta(seconds=2 ** min(row.attempts, 12)), MAX_BACKOFF)

    async def _failed(self, row: OutboxMessage, e: SlackApiError) -> None:
        status = e.response.status_code
        error = (e.response.data or {}).get("error") if isinstance(e.response.data, dict) else None
        if status == 429:
            retry_after = int(e.response.headers.get("Retry-After", e.response.headers.get("retry-after", 1)) or 1)
            await self._retry(row, "ratelimited", timedelta(seconds=retry_after))
        elif status >= 500 or error in (None, "internal_error", "fatal_error", "service_unavailable",
                                        "request_timeout"):
            # A 5xx may come after Slack stored the message: check before sending again.
            await self._retry(row, f"HTTP {status}: {error}", self._backoff(row), uncertain=True)
        elif error in PERMANENT_ERRORS:
            async with self.db.session() as s, s.begin():
                await s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                    dead_at=self.clock(), in_flight_since=None, last_error=error))
            log.warning("Gave up on %s: %s", row.key, error)
        else:
            await self._retry(row, str(error), self._backoff(row))

    async def _retry(self, row: OutboxMessage, error: str, delay: timedelta, uncertain: bool = False) -> None:
        # When the attempt surely failed, clear in_flight_since so the next one needn't search history.
        values = dict(last_error=error[:500], not_before=self.clock() + delay)
        if not uncertain and row.in_flight_since is None:  # an earlier uncertain attempt stays uncertain
            values["in_flight_since"] = None
        async with self.db.session() as s, s.begin():
            await s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values))

    async def _mark_sent(self, row: OutboxMessage, channel: str | None, ts: str | None) -> None:
        async with self.db.session() as s, s.begin():
            await s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                sent_at=self.clock(), in_flight_since=None, result_channel=channel, result_ts=ts, last_error=None))
        for hook in self.on_sent:
            try:
                await hook(row, channel, ts)
            except Exception:  # the message is out; a bookkeeping hook failing must not stop the rest
                log.exception("on_sent hook failed for %s", row.key)
