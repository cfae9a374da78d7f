"""The background loop every process runs: whoever holds the lease does the scheduled
work (digests, reminders) and dispatches the outbox; the others wait their turn."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.delivery import lease
from bot.delivery.dispatcher import Dispatcher

log = logging.getLogger("scrutineer.worker")
LEASE = "dispatcher"


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

    async def step(self) -> int:
        """One round: returns messages sent (0 when another process holds the lease)."""
        if not await self._renew():
            return 0
        if self.scheduled is not None:
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
        return await self._renew()

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self.step()
            except Exception:  # keep the loop alive through a database blip; log and go on
                log.exception("Worker step failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
            except asyncio.TimeoutError:
                pass
        await lease.release(self.db, LEASE, self.holder)
