"""The dispatcher's lease: the database's clock, the generation that fences a holder that lost
it, the holder's own deadline, and what a takeover leaves the next holder to do.

Holders here are Workers (or Tenures) in one process, each with its own fake monotonic clock,
so "20 seconds pass" is a number, not a sleep. A black-holed database is a wrapper whose
sessions wait until it heals (or fail once "killed"); a takeover after the lease ran out is
the lease row's expiry moved into the past, then another holder taking it."""
import asyncio
import contextlib
from datetime import datetime, timedelta, timezone

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, text, update

from bot.db import Database
from bot.delivery import lease
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.worker import Worker
from models.delivery import Lease, OutboxMessage
from tests.conftest import NOW
from tests.harness import Clock
from tests.test_delivery import queue, rows

TTL = timedelta(seconds=30)


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    await database.upgrade()
    yield database
    await database.dispose()


class Mono:
    """A process's monotonic clock, moved by hand."""

    def __init__(self, start: float = 1000.0):
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class Link:
    """One process's way to the database. cut(): its statements wait (packets black-holed)
    until heal(); kill(): they fail, as for a process that is gone. Covers sessions and the
    connections the dispatcher keeps for its claims (engine.connect)."""

    def __init__(self, db: Database):
        self._db = db
        self._open = asyncio.Event()
        self._open.set()
        self.killed = False
        self.waiting = 0

    def __getattr__(self, name):
        return getattr(self._db, name)

    def cut(self) -> None:
        self._open.clear()

    def heal(self) -> None:
        self._open.set()

    def kill(self) -> None:
        self.killed = True
        self._open.set()

    async def through(self) -> None:
        self.waiting += 1
        try:
            await self._open.wait()
        finally:
            self.waiting -= 1
        if self.killed:
            raise OSError("killed")

    @contextlib.asynccontextmanager
    async def session(self):
        await self.through()
        async with self._db.session() as s:
            yield s

    @property
    def engine(self):
        return _Engine(self)


class _Engine:
    def __init__(self, link: Link):
        self._link = link

    def __getattr__(self, name):
        return getattr(self._link._db.engine, name)

    async def connect(self):
        await self._link.through()
        return _Connection(self._link, await self._link._db.engine.connect())


class _Connection:
    def __init__(self, link: Link, conn):
        self._link, self._conn = link, conn

    async def execution_options(self, **options):
        return _Connection(self._link, await self._conn.execution_options(**options))

    async def execute(self, *args, **kwargs):
        await self._link.through()
        return await self._conn.execute(*args, **kwargs)

    async def close(self):
        await self._conn.close()


class Client:
    """A Slack client whose calls pass through `around(method, kwargs, forward)` first."""

    def __init__(self, slack, token: str, around=None):
        self._client = AsyncWebClient(token=token, base_url=slack.api_url, retry_handlers=[])
        self.around = around

    def __getattr__(self, name):
        method = getattr(self._client, name)

        async def call(**kwargs):
            if self.around is None:
                return await method(**kwargs)
            return await self.around(name, kwargs, lambda: method(**kwargs))
        return call


def worker(db, slack, clock, token: str, mono: Mono, *, around=None, concurrency: int = 2) -> Worker:
    d = Dispatcher(db, Client(slack, token, around), clock, per_channel=0.0, concurrency=concurrency)
    return Worker(db, d, clock, interval=5, lease_ttl=TTL, monotonic=mono)


async def run_out(db, name: str = "dispatcher") -> None:
    """As if the lease's time had passed, by any clock: its expiry moved into the past."""
    async with db.session() as s, s.begin():
        await s.execute(update(Lease).where(Lease.name == name)
                        .values(expires_at=datetime(2000, 1, 1, tzinfo=timezone.utc)))


async def lease_row(db, name: str = "dispatcher") -> Lease:
    async with db.session() as s:
        return (await s.scalars(select(Lease).where(Lease.name == name))).one()


async def letter(db, slack, clock, n: int) -> list[str]:
    """A letter's DMs: n messages, each to a person of its own."""
    keys = []
    for i in range(n):
        slack.add_user(f"UR{i:03d}", f"reader{i}", team_id="T1")
        keys.append(f"letter:1:UR{i:03d}")
        await queue(db, clock, keys[-1], channel=f"UR{i:03d}")
    return keys


def posts(slack, token: str | None = None) -> list[str]:
    """Keys of the messages Slack accepted (from one holder, by its token)."""
    return [c.args["metadata"]["event_payload"]["key"] for c in slack.calls_to("chat.postMessage")
            if not c.failed and (token is None or c.token == token)]


# ---- the lease itself -----------------------------------------------------------------------


async def test_only_one_process_holds_the_lease(db):
    a = await lease.acquire(db, "dispatcher", "a", NOW, TTL)
    assert a is not None
    assert await lease.acquire(db, "dispatcher", "b", NOW + timedelta(seconds=10), TTL) is None
    assert await lease.acquire(db, "dispatcher", "a", NOW + timedelta(seconds=10), TTL) == lease.Grant(
        a.generation, (await lease_row(db)).expires_at)   # a renewal: the same generation
    await run_out(db)   # a dies: b takes over once the lease runs out
    b = await lease.acquire(db, "dispatcher", "b", NOW + timedelta(seconds=41), TTL)
    assert b is not None and b.generation == a.generation + 1
    assert await lease.acquire(db, "dispatcher", "a", NOW + timedelta(seconds=41), TTL) is None
    await lease.release(db, "dispatcher", "b")
    again = await lease.acquire(db, "dispatcher", "a", NOW + timedelta(seconds=42), TTL)
    assert again is not None and again.generation == b.generation + 1


async def test_the_expiry_is_set_by_the_database_clock(db):
    """A renewal held up on its way commits an expiry from when it ran, not from when it left:
    on PostgreSQL the local time passed in is ignored (here, a minute stale)."""
    stale = datetime.now(timezone.utc) - timedelta(minutes=1)
    grant = await lease.acquire(db, "dispatcher", "a", stale, TTL)
    if db.is_postgres:
        async with db.session() as s:
            db_now = await s.scalar(text("SELECT clock_timestamp()"))
        assert db_now + TTL - timedelta(seconds=20) < grant.expires_at <= db_now + TTL
    else:   # SQLite, one machine: the local clock is the database's
        assert grant.expires_at == stale + TTL


async def test_generation_goes_up_on_takeover_and_a_stale_claim_claims_nothing(db, slack):
    """(b) The old holder still believes it holds the lease (its own deadline hasn't passed),
    but the lease changed hands: its claims, fenced by the generation, find nothing."""
    clock = Clock(NOW)
    keys = await letter(db, slack, clock, 4)
    a = worker(db, slack, clock, "xoxb-a", Mono())
    b = worker(db, slack, clock, "xoxb-b", Mono())
    assert await a.tenure.renew()
    first = a.tenure.generation
    assert await a.tenure.renew() and a.tenure.generation == first   # renewing keeps the generation
    await run_out(db)
    assert await b.tenure.renew() and b.tenure.generation == first + 1
    assert (await lease_row(db)).generation == first + 1
    assert a.tenure.confirmed()   # a can't know yet
    assert not await lease.held(db, "dispatcher", a.holder, first, clock())

    assert await a.dispatcher.run_once(tenure=a.tenure) == 0
    assert slack.calls == []
    assert all(r.attempts == 0 and r.in_flight_since is None for r in await rows(db))
    assert a.tenure.generation is None and not a.tenure.confirmed()   # told by the failed claim: a stops
    [row, *_] = await rows(db)
    assert not await a.dispatcher.deliver(row, tenure=a.tenure)

    assert await b.step() == 4
    assert sorted(posts(slack)) == sorted(keys)


async def test_taking_back_a_lease_that_ran_out_is_a_new_generation(db):
    """A holder whose lease ran out (a renewal delayed past its expiry) gets a new generation
    even when nobody took over meanwhile: what it claimed under the old one is fenced off."""
    clock = Clock(NOW)
    old = await lease.acquire(db, "dispatcher", "a", clock(), TTL)
    await run_out(db)
    new = await lease.acquire(db, "dispatcher", "a", clock(), TTL)
    assert new.generation == old.generation + 1
    assert not await lease.held(db, "dispatcher", "a", old.generation, clock())
    assert await lease.held(db, "dispatcher", "a", new.generation, clock())


async def test_a_renewal_that_answers_late_confirms_nothing(db):
    """The deadline counts from when the renewal was sent, and a renewal whose round trip took
    longer than a fraction of the ttl doesn't extend it, even though the database took it."""
    clock, mono, link = Clock(NOW), Mono(), Link(db)
    tenure = lease.Tenure(link, "dispatcher", "a", TTL, clock, monotonic=mono)
    assert await tenure.renew() and tenure.confirmed()
    link.cut()
    renewal = asyncio.create_task(tenure.renew())
    while not link.waiting:
        await asyncio.sleep(0)
    mono.advance(20)                  # the statement is stuck on the way (a 20 s round trip)
    assert tenure.confirmed()         # the last renewal's deadline still holds...
    mono.advance(5)
    assert not tenure.confirmed()     # ...until sent + ttl - margin
    link.heal()
    assert await renewal is False     # the database renewed it, but too late to vouch for
    assert not tenure.confirmed() and tenure.generation is not None
    assert await tenure.renew() and tenure.confirmed()   # a prompt renewal confirms it again


# ---- a partitioned holder, and takeovers ---------------------------------------------------------


async def test_a_partitioned_holder_stops_sending_and_the_new_one_sends_each_once(db, slack):
    """(a) Finding 11. The database is black-holed for A mid-letter: its renewal can't get
    through, its deadline passes, B takes over. A sends nothing after that, and when the
    link heals it doesn't go on with the rows it had read; every message reaches Slack once."""
    clock = Clock(NOW)
    keys = await letter(db, slack, clock, 12)
    link, mono_a = Link(db), Mono()
    partitioned = asyncio.Event()
    late: list[str] = []   # A's posts started after the partition began
    answered = 0
    b = worker(db, slack, clock, "xoxb-b", Mono(5000.0))

    async def around(method, kwargs, forward):
        nonlocal answered
        if method == "chat_postMessage" and partitioned.is_set():
            late.append(kwargs["metadata"]["event_payload"]["key"])
        answer = await forward()   # (a send that started before the partition is legitimately out)
        answered += method == "chat_postMessage"
        if answered == 3 and not partitioned.is_set():
            partitioned.set()
            link.cut()
            mono_a.advance(25)     # 25 s black-holed: past A's deadline (renewed at 1000, ttl 30)
            await run_out(db)      # A's lease runs out by the database's clock...
            assert await b.step() > 0   # ...and B takes over, sending what A hadn't started
            assert slack.calls_to("conversations.history") == []   # nothing B sent needed a check
            link.heal()
        return answer

    a = worker(link, slack, clock, "xoxb-a", mono_a, around=around)
    sent_by_a = await a.step()
    assert partitioned.is_set() and late == []
    assert sent_by_a == len(posts(slack, "xoxb-a")) >= 3
    await a.tenure.settle()
    assert not await a.tenure.renew() and a.tenure.generation is None   # B holds the lease now
    # Rows A had in flight when cut off are B's once the in-flight timeout has passed.
    clock.now = NOW + TTL + timedelta(seconds=1)
    await b.step()
    assert sorted(posts(slack)) == sorted(keys)   # every message once
    assert all(r.sent_at is not None for r in await rows(db))


async def test_deadline_passing_during_the_history_check_stops_the_send(db, slack):
    """The deadline is checked right before the call to Slack, not only when the row is
    claimed: here it passes while the channel is being searched. The row is put back as it
    was (still to be checked first), and goes once the lease is confirmed again."""
    clock, mono = Clock(NOW), Mono()
    await queue(db, clock, "k1", channel="UCAROL")
    async with db.session() as s, s.begin():   # an earlier attempt ended in a 500: Slack may have it
        row = (await s.scalars(select(OutboxMessage))).one()
        row.in_flight_since, row.attempts, row.last_error = NOW, 1, "HTTP 500: fatal_error"

    async def around(method, kwargs, forward):
        if method == "conversations_history" and len(slack.calls_to("conversations.history")) == 0:
            mono.advance(25)   # the search was slow: A's deadline passed meanwhile
        return await forward()

    a = worker(db, slack, clock, "xoxb-a", mono, around=around)
    assert await a.step() == 0
    assert slack.calls_to("chat.postMessage") == []
    [row] = await rows(db)
    assert (row.attempts, row.in_flight_since, row.last_error) == (1, NOW, "HTTP 500: fatal_error")
    assert await a.step() == 1   # renewed (confirmed): checked again, then sent
    assert len(slack.calls_to("conversations.history")) == 2 and posts(slack) == ["k1"]


async def test_takeover_checks_the_channel_only_for_rows_that_were_in_flight(db, slack):
    """(c) Finding 12. A dies mid-letter. It had read every row, but only the rows whose sends had
    started are marked: B sends the others at once, without looking in the channel; the ones
    in flight wait out the in-flight timeout and are looked for first (one found, not resent)."""
    clock = Clock(NOW)
    keys = await letter(db, slack, clock, 12)
    link = Link(db)
    answered = 0

    async def around(method, kwargs, forward):
        nonlocal answered
        if link.killed:
            raise OSError("killed")   # a dead process calls nobody
        answer = await forward()
        answered += method == "chat_postMessage"
        if answered == 3:
            link.kill()               # dies right after Slack took its third message
            raise OSError("killed")
        return answer

    a = worker(link, slack, clock, "xoxb-a", Mono(), around=around)
    with pytest.raises(OSError):
        await a.step()
    state = await rows(db)
    in_flight = [r for r in state if r.sent_at is None and r.in_flight_since is not None]
    untouched = [r for r in state if r.sent_at is None and r.in_flight_since is None]
    # In flight: sent but not yet marked, or started; at most the 3 answered and one more.
    assert 1 <= len(in_flight) <= 4 and len(untouched) >= 12 - 4
    assert all(r.attempts == 0 and r.last_error is None for r in untouched)

    await run_out(db)
    b = worker(db, slack, clock, "xoxb-b", Mono(5000.0))
    assert await b.step() == len(untouched)   # at once, without looking
    assert slack.calls_to("conversations.history") == []
    assert sorted(posts(slack, "xoxb-b")) == sorted(r.key for r in untouched)

    clock.now = NOW + TTL + timedelta(seconds=1)   # the in-flight timeout has passed
    await b.step()
    assert len(slack.calls_to("conversations.history")) == len(in_flight)
    assert sorted(posts(slack)) == sorted(keys)   # the one Slack had is found, not posted again
    assert all(r.sent_at is not None for r in await rows(db))


async def test_a_stopped_run_puts_back_what_it_claimed(db, slack):
    """A claim that can't be sent (the deadline passed in between) is undone, not left to
    look like a send in flight: the next holder sends it without a check."""
    clock, mono = Clock(NOW), Mono()
    await queue(db, clock, "k1", channel="UCAROL")
    a = worker(db, slack, clock, "xoxb-a", mono)
    assert await a.tenure.renew()
    [row] = await rows(db)
    original = a.dispatcher._claim_rows

    async def claim_then_stall(*args):
        got = await original(*args)
        mono.advance(25)   # the claim's answer took long: the deadline passed meanwhile
        return got

    a.dispatcher._claim_rows = claim_then_stall
    assert await a.dispatcher.run_once(tenure=a.tenure) == 0
    [row] = await rows(db)
    assert (row.attempts, row.in_flight_since, row.last_error) == (0, None, None)
    assert slack.calls == []
    await run_out(db)
    b = worker(db, slack, clock, "xoxb-b", Mono(5000.0))
    assert await b.step() == 1 and slack.calls_to("conversations.history") == []

