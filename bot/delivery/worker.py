"""The background loop every process runs: whoever holds the lease does the scheduled
work (digests, reminders) every `interval` and dispatches the outbox; the others wait their
turn. Between rounds the holder sleeps the interval, or less when a queued retry falls due
sooner, so a message waiting out a Retry-After goes when it may, not up to an interval later.

A round starts by renewing the lease and goes ahead only when the renewal is confirmed
(bot.delivery.lease.Tenure); while it runs the lease is renewed in the background, and the
dispatcher checks the holder's own deadline before every send, so a holder cut off from the
database stops sending before anyone else can take over."""
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
                 interval: float = 5.0, lease_ttl: timedelta = timedelta(seconds=30),
                 monotonic: Callable[[], float] = time.monotonic):
        self.db = db
        self.dispatcher = dispatcher
        self.clock = clock
        self.scheduled = scheduled
        self.interval = interval
        self.lease_ttl = lease_ttl
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        # A row left in flight by a holder whose lease ran out is the dead holder's: fair to retry.
        dispatcher.in_flight_timeout = lease_ttl
        self.tenure = lease.Tenure(db, LEASE, self.holder, lease_ttl, clock, monotonic=monotonic)

    async def step(self, *, scheduled: bool = True) -> int:
        """One round: returns messages sent (0 when another process holds the lease).
        `scheduled=False` only delivers (a wake-up for a retry falling due)."""
        await self.tenure.renew()
        if not self.tenure.confirmed():   # another process has it, or this one can't vouch for it
            return 0
        keeper = asyncio.create_task(self._keep_renewing())
        try:
            if scheduled and self.scheduled is not None:
                try:
                    await self.scheduled(self.clock())
                except Exception:  # a broken job must not hold up delivery of what is already queued
                    log.exception("Scheduled work failed")
            return await self.dispatcher.run_once(tenure=self.tenure)
        finally:
            keeper.cancel()

    async def _keep_renewing(self) -> None:
        """Renew the lease on time during a round, even while nothing asks (long scheduled work,
        a batch waiting out a Retry-After): confirmed() starts a renewal whenever one is due."""
        while True:
            await asyncio.sleep(self.lease_ttl.total_seconds() * lease.RENEW_EVERY / 4)
            self.tenure.confirmed()

    async def _next_wake(self) -> float:
        """Seconds to sleep: the interval, or less when a queued row (a retry waiting out its
        Retry-After or backoff) falls due sooner. Only the lease holder looks."""
        if not self.tenure.confirmed():
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
        await self.tenure.release()
