"""The background loop every process runs: whoever holds the lease does the scheduled
work (digests, reminders) every `interval` and dispatches the outbox; the others wait their
turn. Between rounds the holder sleeps the interval, or less when a queued retry falls due
sooner, so a message waiting out a Retry-After goes when it may, not up to an interval later."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import aiohttp

from bot.delivery import lease
from bot.delivery.dispatcher import Dispatcher

log = logging.getLogger("scrutineer.worker")
LEASE = "dispatcher"
MIN_WAKE = 0.05   # seconds: the shortest sleep between rounds, so a row due now can't make it spin


class Worker:
    def __init__(self, db, dispatcher: Dispatcher, clock: Callable[[], datetime],
                 scheduled: Callable[[datetime], Awaitable[None]] | None = None, *,
                 interval: float = 5.0, lease_ttl: timedelta = timedelta(seconds=30)):
        self.db = db
        self.dispatcher = dispatcher
        self.clock = clock
        self.scheduled = scheduled
        self.interval = interval
        self.lease_ttl = lease_ttl
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        # A row left in flight by a holder whose lease ran out is the dead holder's: fair to retry.
        dispatcher.in_flight_timeout = lease_ttl
        self._renewed = 0.0
        self._renewing = asyncio.Lock()

    async def step(self, *, scheduled: bool = True) -> int:
        """One round: returns messages sent (0 when another process holds the lease).
        `scheduled=False` only delivers (a wake-up for a retry falling due)."""
        if not await self._renew():
            return 0
        if scheduled and self.scheduled is not None:
            try:
                await self.scheduled(self.clock())
            except Exception:  # a broken job must not hold up delivery of what is already queued
                log.exception("Scheduled work failed")
        return await self.dispatcher.run_once(still_ours=self._still_ours)

    async def _renew(self) -> bool:
        ok = await lease.acquire(self.db, LEASE, self.holder, self.clock(), self.lease_ttl)
        self._renewed = time.monotonic() if ok else 0.0
        return ok

    async def _still_ours(self) -> bool:
        """Renew the lease during a long batch, well before it could run out."""
        if time.monotonic() - self._renewed < self.lease_ttl.total_seconds() / 3:
            return True
        async with self._renewing:   # messages go out concurrently: one renewal for all of them
            if time.monotonic() - self._renewed < self.lease_ttl.total_seconds() / 3:
                return True
            return await self._renew()

    async def _next_wake(self) -> float:
        """Seconds to sleep: the interval, or less when a queued row (a retry waiting out its
        Retry-After or backoff) falls due sooner. Only the lease holder looks."""
        if not self._renewed:
            return self.interval
        soon = await self.dispatcher.next_due()
        if soon is None:
            return self.interval
        return min(self.interval, max(soon, MIN_WAKE))

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        # One HTTP session for the life of the loop: connections to Slack are kept and reused,
        # where the client alone would open (and TLS-handshake) a new one for every message.
        client = self.dispatcher.client
        own_session = None
        if getattr(client, "session", False) is None:
            own_session = client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=getattr(client, "timeout", 30)))
        try:
            await self._loop(stop)
        finally:
            if own_session is not None:
                client.session = None
                await own_session.close()

    async def _loop(self, stop: asyncio.Event) -> None:
        next_scheduled = 0.0
        while not stop.is_set():
            wait = self.interval
            try:
                scheduled = time.monotonic() >= next_scheduled   # scheduled work once an interval
                if scheduled:
                    next_scheduled = time.monotonic() + self.interval
                await self.step(scheduled=scheduled)
                wait = max(MIN_WAKE, min(await self._next_wake(), next_scheduled - time.monotonic()))
            except Exception:  # keep the loop alive through a database blip; log and go on
                log.exception("Worker step failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass
        await lease.release(self.db, LEASE, self.holder)
