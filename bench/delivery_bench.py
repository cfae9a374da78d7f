"""The post-meeting digest of a big committee, and a decision letter to 1,000 people.

    .venv/bin/python bench/delivery_bench.py [--store sqlite|postgresql|both] [--json PATH]
                                             [--items 1000] [--recipients 1000] [--runs 10]
                                             [--seed 1] [--fault-rate 0.10] [--latency 0.1]
                                             [--only digest|letter] [--profile] [--quick]

--quick: 200 items, 200 recipients, 3 runs — to check the benchmark runs, not the numbers.

Run on SQLite (a temp file) and on the local PostgreSQL (a database of its own,
bench_delivery_<pid>, created and dropped here; skipped, saying why, when it can't be
reached: SCRUTINEER_BENCH_PG, default postgresql://postgres@127.0.0.1:5432/test, is where
it connects to create it). Everything goes through the real service code against the fake
Slack Web API (bot/offline/local_slack.py) on 127.0.0.1; nothing here stands in for the app.

(a) The digest. A committee with 1,000 items is set up through the services behind the
commands its officers would use: the channel bound (/scrutiny setup), the chair, the officer
and 20 owning roles mapped (/scrutiny role), 950 recommendations imported
(bot.services.imports) with owners, due dates (a third overdue), statuses and a position
each, a previous meeting held and closed, newer positions for a third of the items imported
after it, 50 items updated by the officer (status and position,
bot.services.items.apply_changes), then a meeting scheduled, 10 decisions and 50 actions
arising recorded (/meeting decision, /meeting action) and the meeting closed (/meeting
close). Timed: what closing the meeting does to build the channel's digest —
bot.services.meetings.build_digest in a fresh session, then
bot.slack_ui.meetings.meeting_digest(...).payload(), the Block Kit message the outbox stores — and the
same plus every owner's DM (owner_digest), which closing also builds. Median and max of
--runs runs after one warm-up run (reported as "first run"), with what the process made
before them frozen out of the cyclic garbage collector, as `scrutineer serve` does once
started (bot/cli.py). Target: under 200 ms.

(b) The letter. The committee gets 10 partner agencies of 100 contacts, every one a Slack
user (/scrutiny agency add), and the chair sends the decision letter
(bot.services.letters.send_letter): a post in the committee channel, a DM to each of the
1,000 contacts and a copy to the officer — 1,002 messages, each to a channel of its own, so
Slack's one-message-a-second-per-channel limit never makes anyone wait. The app's own
background worker (bot.scheduled.build_worker: lease, scheduled work, dispatcher, default
settings) delivers them to the fake Slack, which here
  - enforces one message per second per channel (LocalSlack(per_channel_interval=1.0): a
    second chat.postMessage into a channel within a second is answered 429, Retry-After: 1);
  - fails 10% of chat.postMessage calls (LocalSlack.inject_faults, seeded): half 429 with
    Retry-After: 1, half HTTP 500, and half of those 500s come after the message was stored
    (so a sender that resends blindly posts it twice). Whether a call fails depends only on
    the seed, the channel and how many posts that channel has had, not on timing or order;
  - takes --latency (0.1 s) to answer every call, as a round trip to Slack does (with an
    instant fake the benchmark would measure this machine's CPU instead: see below).
Messages queued while setting up (Home tabs, the digest, today's reminders) are marked sent
before the letter, so only the letter is measured.

The ideal schedule. Each message goes to a channel of its own, so the per-channel limit
never binds, and the dispatcher applies no workspace-wide pacing of its own: what bounds a
sender is how many calls it keeps in flight — the dispatcher deliberately keeps at most C
(Dispatcher.concurrency, 8) — and how long Slack takes to answer each. The ideal is the
schedule of a perfect sender with the same C, against the same fake, meeting exactly the
same failures:
  - it never leaves one of its C slots idle while a message may be sent, taking messages in
    the order they became ready (the outbox order, then retries as they fall due);
  - a channel's messages go one at a time, a post no sooner than 1 s after Slack's answer to
    the channel's previous one;
  - a 429 makes the message ready again Retry-After (1 s) after the answer;
  - a 500 makes it ready again at once; that attempt first looks in the channel
    (conversations.open for a DM, then conversations.history: a call each) and posts only if
    the message isn't there — the message a "stored" 500 left is found, and that is that;
  - it keeps no books: no database, nothing but the calls.
The ideal time is measured by running exactly that (`bare_sender`) just before the
dispatcher, on a fresh fake with the same users, limit, latency and seeded faults, so both
pay the same cost of making the calls on this machine. Reported beside it: the same
schedule if the sender itself took no time at all (`ideal_schedule`, an event simulation:
every call exactly --latency), and the "zero-cost bound" with instant calls and unlimited
slots (just the Retry-After waits: about 2 s, as some channel draws two 429s in a row).
Measured: from starting the worker until the outbox knew every message was sent (the last
row marked sent). Targets: within 10% of the ideal; zero lost (every recipient has exactly
one message carrying its outbox key in its metadata, in the right channel) and zero
duplicated (no key in Slack twice); no 429 from the per-channel limit.
For information, a second letter goes the same way through an instant fake (--latency 0),
sent by the dispatcher and by the bare sender: there this machine's CPU is the limit, and
the pair shows what the dispatcher's bookkeeping (claiming, marking, delivery times) costs.

Output: a table on stdout; --json PATH writes the rows as a JSON list of
{"benchmark", "store", "measure", "value", "unit", "target", "ok"}.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import pstats
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from results import row  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.core.dates import long_date  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.delivery.dispatcher import METADATA_EVENT  # noqa: E402
from bot.importing import ImportedItem  # noqa: E402
from bot.offline.local_slack import LocalSlack  # noqa: E402
from bot.scheduled import build_worker, run_scheduled  # noqa: E402
from bot.services import items as item_service  # noqa: E402
from bot.services import letters, meetings  # noqa: E402
from bot.services.committees import Holder, assign_role, setup_committee  # noqa: E402
from bot.services.context import Ctx  # noqa: E402
from bot.services.directory import Directory  # noqa: E402
from bot.services.imports import import_items  # noqa: E402
from bot.slack_ui import letters as letters_ui  # noqa: E402
from bot.slack_ui import meetings as render  # noqa: E402
from models.delivery import OutboxMessage  # noqa: E402
from models.meetings import LetterRecipient, Meeting  # noqa: E402
from models.queries import committee_by_code  # noqa: E402
from models.tables import Item  # noqa: E402

TEAM = "T1"
CHANNEL = "CBENCH"
CODE = "bench"
NAME = "Overview and Scrutiny Committee"
ADMIN, CHAIR, OFFICER = "UADMIN", "UCHAIR", "UOFFICER"
OWNER_ROLES = 20
DECISIONS = 10
ACTIONS = 50
UPDATES = 50
AGENCIES = 10
TOKEN = "xoxb-bench"
DIGEST_TARGET_MS = 200.0
LETTER_SLACK = 0.10          # within 10% of the ideal
RETRY_AFTER = 1              # seconds, in the injected 429s
PG_ADMIN = os.environ.get("SCRUTINEER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
TOPICS = ("housing allocations", "care leavers", "safeguarding", "home to school transport", "the budget",
          "apprenticeships", "libraries", "parking", "flood defences", "school places", "recycling",
          "domestic abuse", "foster carers", "air quality", "youth services", "adult social care")
STATUSES = ("not started", "in progress", "in progress", "needs clarification", "implemented")


def role_name(k: int) -> str:
    return f"Head of Service {k}"


def owner_user(k: int) -> str:
    return f"UOWN{k:02d}"


def contact_user(n: int) -> str:
    return f"UC{n:04d}"


# ---- the committee, through the services ------------------------------------------------

class Setup:
    """The committee of (a), built through the real services; reused by (b)."""

    def __init__(self, db: Database, slack: LocalSlack, settings: Settings, items: int):
        self.db = db
        self.slack = slack
        self.settings = settings
        self.tz: ZoneInfo = settings.tz
        self.items = items
        self.client = AsyncWebClient(token=TOKEN, base_url=slack.api_url, retry_handlers=[])
        self.directory = Directory(self.client)
        now = datetime.now(timezone.utc)
        local = now.astimezone(self.tz)
        # The meeting was yesterday, 10:00-12:00 local; the one before five weeks earlier.
        day = local.date() - timedelta(days=1)
        self.meeting_start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=self.tz)
        prev = day - timedelta(days=35)
        self.previous_start = datetime(prev.year, prev.month, prev.day, 10, 0, tzinfo=self.tz)
        self.today = local.date()
        self.meeting_id: int | None = None
        self.closed_at = self.meeting_start + timedelta(hours=2, minutes=30)

    def ctx(self, user: str, at: datetime, channel: str | None = CHANNEL) -> Ctx:
        return Ctx(team_id=TEAM, user_id=user, channel_id=channel, now=at.astimezone(timezone.utc), tz=self.tz,
                   directory=self.directory)

    def populate_slack(self) -> None:
        s = self.slack
        s.add_user(ADMIN, "admin", real_name="Ada Admin", is_admin=True, team_id=TEAM)
        s.add_user(CHAIR, "chair", real_name="Carla Chair", team_id=TEAM)
        s.add_user(OFFICER, "officer", real_name="Oscar Officer", team_id=TEAM)
        for k in range(OWNER_ROLES):
            s.add_user(owner_user(k), f"owner{k}", real_name=f"Owner {k}", team_id=TEAM)
        s.add_channel(CHANNEL, "overview-scrutiny", members=[ADMIN, CHAIR, OFFICER], team_id=TEAM)

    def paper(self, round_: int, recs: int, as_of: date) -> list[ImportedItem]:
        out = []
        for n in range(1, recs + 1):
            overdue = n % 3 == 0
            due = self.today - timedelta(days=1 + n % 90) if overdue else self.today + timedelta(days=1 + n % 200)
            owners = [role_name((n - 1) % OWNER_ROLES)]
            if n % 4 == 0:
                owners.append(role_name((n + 6) % OWNER_ROLES))
            text = (f"Recommendation {n}: the council should review {TOPICS[n % len(TOPICS)]} and report its effect "
                    f"on {TOPICS[(n * 7) % len(TOPICS)]} to the committee within six months.")
            position = (f"Position at {long_date(as_of)}: work on {TOPICS[n % len(TOPICS)]} "
                        f"{['has begun', 'is on track and was reported to the cabinet'][round_]}.")
            if round_ == 1 and n % 3 != 1:
                position = None   # after the previous meeting only a third have something new
            out.append(ImportedItem(number=str(n), text=text, owners=owners, due=due,
                                    status="in progress" if overdue else STATUSES[n % len(STATUSES)],
                                    position=position))
        return out

    async def build(self) -> dict:
        """Returns counts of what was made."""
        self.populate_slack()
        recs = self.items - ACTIONS
        t0 = self.previous_start - timedelta(days=30)
        async with self.db.session() as s, s.begin():
            await setup_committee(s, self.ctx(ADMIN, t0), CODE, NAME)
            await assign_role(s, self.ctx(ADMIN, t0), "chair", [Holder(user_id=CHAIR)])
            await assign_role(s, self.ctx(ADMIN, t0), "officer", [Holder(user_id=OFFICER)])
            for k in range(OWNER_ROLES):
                holder = (Holder(user_id=owner_user(k)) if k % 5 else
                          Holder(name=f"Outside Owner {k}", email=f"owner{k}@partner.example.org"))
                if k == 10:   # a role with two holders, one of them outside Slack
                    await assign_role(s, self.ctx(ADMIN, t0), role_name(k),
                                      [holder, Holder(name="Deputy", email="deputy@partner.example.org")])
                else:
                    await assign_role(s, self.ctx(ADMIN, t0), role_name(k), [holder])
        # The tracker before the previous meeting, and the positions since.
        for round_, at in ((0, self.previous_start - timedelta(days=20)), (1, self.previous_start + timedelta(days=10))):
            async with self.db.session() as s, s.begin():
                await import_items(s, team_id=TEAM, committee_code=CODE, review_code="r2026",
                                   items=self.paper(round_, recs, at.astimezone(self.tz).date()), actor=OFFICER,
                                   now=at.astimezone(timezone.utc), title="Annual scrutiny review",
                                   as_of=at.astimezone(self.tz).date(), source="bench")
        # The previous meeting, held and closed.
        async with self.db.session() as s, s.begin():
            ctx = self.ctx(OFFICER, self.previous_start - timedelta(days=7))
            await meetings.schedule(s, ctx, self.when(self.previous_start))
        async with self.db.session() as s, s.begin():
            await meetings.close(s, self.ctx(OFFICER, self.previous_start + timedelta(hours=2, minutes=10)),
                                 render=render)
        # Between meetings the officer records progress on some items.
        at = self.previous_start + timedelta(days=20)
        async with self.db.session() as s, s.begin():
            ctx = self.ctx(OFFICER, at)
            refs = list(await s.scalars(select(Item).where(Item.kind == "rec").order_by(Item.seq)
                                        .limit(UPDATES * 7)))
            for item in refs[::7][:UPDATES]:
                await item_service.apply_changes(s, ctx, item, item_service.ItemChanges(
                    status="implemented" if item.seq % 2 else "needs clarification",
                    position=f"Officer's note: {item.ref} reviewed with the owner; see the cabinet report."))
        # This meeting: scheduled, decisions and actions recorded during it, then closed.
        async with self.db.session() as s, s.begin():
            meeting = await meetings.schedule(s, self.ctx(OFFICER, self.meeting_start - timedelta(days=7)),
                                              self.when(self.meeting_start))
            self.meeting_id = meeting.id
        during = self.meeting_start + timedelta(minutes=30)
        async with self.db.session() as s, s.begin():
            for n in range(1, DECISIONS + 1):
                await meetings.add_decision(s, self.ctx(OFFICER, during + timedelta(minutes=n)),
                                            f"Resolved – That the committee note the report on {TOPICS[n % len(TOPICS)]} "
                                            f"and ask the Cabinet Member to report back in {['March', 'June', 'September'][n % 3]}.")
            for n in range(1, ACTIONS + 1):
                due = self.today + timedelta(days=14 + 3 * n) if n % 5 else self.today - timedelta(days=n)
                await meetings.add_action(
                    s, self.ctx(CHAIR, during + timedelta(minutes=10 + n)),
                    f"Report on {TOPICS[n % len(TOPICS)]} in ward {n} owner \"{role_name(n % OWNER_ROLES)}\" "
                    f"due {long_date(due)}")
        async with self.db.session() as s, s.begin():
            closed = await meetings.close(s, self.ctx(CHAIR, self.closed_at), render=render)
        async with self.db.session() as s:
            counts = {
                "items": await s.scalar(select(func.count()).select_from(Item)),
                "owner_dms": closed.dms_queued,
            }
        return counts

    def when(self, start: datetime) -> str:
        local = start.astimezone(self.tz)
        return f"{long_date(local.date())} {local:%H:%M}"


# ---- (a) the digest ---------------------------------------------------------------------

async def build_once(setup: Setup, with_owners: bool) -> tuple[float, dict]:
    started = time.perf_counter()
    async with setup.db.session() as s:
        meeting = await s.get(Meeting, setup.meeting_id)
        d = await meetings.build_digest(s, meeting, setup.closed_at.astimezone(timezone.utc), setup.tz)
        payload = render.meeting_digest(d).payload()
        if with_owners:
            for entries in d.owners.values():
                render.owner_digest(d, entries).payload()
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, {"payload": payload, "digest": d}


async def bench_digest(setup: Setup, store: str, runs: int, profile: bool, items: int) -> list[dict]:
    rows = []
    name = f"post-meeting digest, {items:,} items"
    # As `scrutineer serve` does once started (bot/cli.py): what exists now is kept out of the
    # cyclic collector's full passes, which would otherwise add ~0.1 s to a run now and then.
    gc.collect()
    gc.freeze()
    first_ms, built = await build_once(setup, False)
    d = built["digest"]
    blocks = built["payload"]["blocks"]
    print(f"  digest: {items} items, {len(d.decisions)} decisions, {len(d.actions)} actions, "
          f"{len(d.positions)} positions and {sum(1 for a, b in d.status_changes.values() if a != b)} status changes "
          f"since the previous meeting, {d.overdue_count} overdue, {len(d.owners)} owners to DM; "
          f"{len(blocks)} blocks, {len(json.dumps(built['payload'])):,} bytes")
    for with_owners in (False, True):
        times = [(await build_once(setup, with_owners))[0] for _ in range(runs)]
        what = "channel digest" if not with_owners else f"channel digest + {len(d.owners)} owner DMs"
        median, worst = statistics.median(times), max(times)
        for measure, value in ((f"{what}: median of {runs}", median), (f"{what}: max of {runs}", worst)):
            rows.append(row(name, store, measure, value, "ms",
                            f"< {DIGEST_TARGET_MS:.0f} ms", value < DIGEST_TARGET_MS))
    rows.append(row(name, store, "channel digest: first run (cold)",
                    first_ms, "ms", "info", True))
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(3):
            await build_once(setup, True)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue())
    return rows


# ---- (b) the letter -----------------------------------------------------------------------

async def mark_everything_sent(db: Database) -> int:
    async with db.session() as s, s.begin():
        result = await s.execute(update(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
                                 .values(sent_at=datetime.now(timezone.utc)))
        return result.rowcount


def plan_faults(slack: LocalSlack, seed: int, fault_rate: float) -> None:
    slack.inject_faults(fault_rate, seed=seed, share_429=0.5, retry_after=RETRY_AFTER, stored_500=0.5)


def zero_cost_bound(slack: LocalSlack, channels: Counter) -> tuple[float, dict]:
    """Instant calls, unlimited slots: max over channels of the Retry-After waits the planned
    faults force, plus a second between a channel's messages. Also: channels by that wait."""
    worst, chains = 0.0, Counter()
    for channel, messages in channels.items():
        wait, n = 0.0, 0
        for m in range(messages):
            if m:
                wait += slack.per_channel_interval or 0
            while True:
                fault = slack.planned_fault("chat.postMessage", channel, n)
                n += 1
                if fault == "429":
                    wait += RETRY_AFTER
                    continue
                if fault == "500":
                    continue
                break   # delivered (a stored 500 is delivered too; the sender learns it on its check)
        chains[wait] += 1
        worst = max(worst, wait)
    return worst, dict(sorted(chains.items()))


def ideal_schedule(slack: LocalSlack, messages: list[tuple[str, str]], concurrency: int, latency: float,
                   per_channel: float = 1.0) -> float:
    """The perfect sender of the module docstring, simulated: `messages` are (outbox channel,
    Slack channel) in outbox order. Returns when Slack has answered the last of them."""
    import heapq

    posts: Counter = Counter()         # Slack channel -> posts so far (the fault plan's n)
    channel_free: dict[str, float] = {}
    uncertain: set[int] = set()
    stored: set[int] = set()
    ready = [(0.0, i) for i in range(len(messages))]   # (ready at, outbox order)
    heapq.heapify(ready)
    slots = [0.0] * concurrency
    done = 0.0
    while ready:
        at, i = heapq.heappop(ready)
        target, channel = messages[i]
        if i not in uncertain:              # a post waits for its channel; a check needn't
            at = max(at, channel_free.get(channel, 0.0))
            if ready and at > ready[0][0]:    # the channel isn't free yet: others go first
                heapq.heappush(ready, (at, i))
                continue
        start = max(at, heapq.heappop(slots))
        end = start
        if i in uncertain:                  # look before posting again
            end += latency * (2 if target.startswith(("U", "W")) else 1)
            if i in stored:
                heapq.heappush(slots, end)
                done = max(done, end)
                continue
            end = max(end, channel_free.get(channel, 0.0))   # (holding the slot, as the senders do)
        end += latency
        fault = slack.planned_fault("chat.postMessage", channel, posts[channel])
        posts[channel] += 1
        channel_free[channel] = end + per_channel
        heapq.heappush(slots, end)
        if fault is None:
            done = max(done, end)
        elif fault == "429":
            heapq.heappush(ready, (end + RETRY_AFTER, i))
        else:
            uncertain.add(i)
            if fault == "500-stored":
                stored.add(i)
            heapq.heappush(ready, (end, i))
    return done


async def bare_sender(rows: list[OutboxMessage], users: list[str], seed: int, fault_rate: float,
                      concurrency: int, latency: float) -> tuple[float, int]:
    """The perfect sender's policy, run for real with no books kept: a fresh fake Slack with the
    same users, per-channel limit, latency and planned faults; the same payloads (and metadata)
    in the same order, `concurrency` at a time. Returns (seconds until every message was known
    to be in Slack, messages Slack has)."""
    import aiohttp
    from slack_sdk.errors import SlackApiError

    slack = LocalSlack(team_id=TEAM, per_channel_interval=1.0, latency=latency)
    for user in users:
        slack.add_user(user, user.lower(), team_id=TEAM)
    await slack.start()
    plan_faults(slack, seed, fault_rate)
    session = aiohttp.ClientSession()
    client = AsyncWebClient(token=TOKEN, base_url=slack.api_url, retry_handlers=[], session=session)
    slots = asyncio.Semaphore(concurrency)
    last: dict[str, float] = {}
    lanes: dict[str, list[OutboxMessage]] = {}
    for r in rows:
        lanes.setdefault(r.channel, []).append(r)

    async def send(row: OutboxMessage) -> None:
        payload = dict(row.payload, metadata={"event_type": METADATA_EVENT, "event_payload": {"key": row.key}})
        uncertain = False
        while True:
            if not uncertain:
                await pace(row.channel)
            async with slots:
                try:
                    if uncertain:
                        channel = row.channel
                        if channel.startswith(("U", "W")):
                            channel = (await client.conversations_open(users=channel))["channel"]["id"]
                        history = await client.conversations_history(channel=channel, limit=100,
                                                                     include_all_metadata=True)
                        if any(((m.get("metadata") or {}).get("event_payload") or {}).get("key") == row.key
                               for m in history["messages"]):
                            return
                        await pace(row.channel)
                    await client.chat_postMessage(channel=row.channel, **payload)
                    return
                except SlackApiError as e:
                    if e.response.status_code == 429:
                        delay = float(e.response.headers.get("Retry-After", RETRY_AFTER))
                    else:
                        delay, uncertain = 0.0, True
                finally:
                    last[row.channel] = time.monotonic()
            await asyncio.sleep(delay)

    async def pace(channel: str) -> None:
        wait = last.get(channel, -1e9) + 1.0 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def lane(queue: list[OutboxMessage]) -> None:
        for message in queue:
            await send(message)

    started = time.monotonic()
    try:
        await asyncio.gather(*(lane(q) for q in lanes.values()))
        elapsed = time.monotonic() - started
        delivered = sum(len(slack.messages_in(ch)) for ch in list(slack._messages))
    finally:
        await session.close()
        await slack.stop()
    return elapsed, delivered


async def queue_letter(setup: Setup, greeting: str = "Dear colleagues,") -> tuple[int, float, list[OutboxMessage], dict]:
    """The chair sends the letter (through the service). Returns (letter id, seconds it took,
    its outbox rows in outbox order, its recipients by outbox key)."""
    db = setup.db
    started = time.perf_counter()
    async with db.session() as s, s.begin():
        ctx = setup.ctx(CHAIR, datetime.now(timezone.utc))
        committee = await committee_by_code(s, TEAM, CODE)
        meeting = await s.get(Meeting, setup.meeting_id)
        text = (await letters.compose(s, ctx, committee, meeting)).replace("Dear colleagues,", greeting, 1)
        letter, sent = await letters.send_letter(s, ctx, committee, meeting, text, render=letters_ui)
        assert sent
        letter_id = letter.id
    seconds = time.perf_counter() - started
    async with db.session() as s:
        queued = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
                                      .order_by(OutboxMessage.not_before, OutboxMessage.id)))
        wanted = {r.outbox_key: r for r in await s.scalars(
            select(LetterRecipient).where(LetterRecipient.letter_id == letter_id,
                                          LetterRecipient.outbox_key.is_not(None)))}
    assert {q.key for q in queued} == set(wanted), "only the letter should be waiting"
    return letter_id, seconds, queued, wanted


async def deliver(setup: Setup, letter_id: int, queued: list[OutboxMessage], wanted: dict, seed: int,
                  fault_rate: float, latency: float, timeout: float) -> dict:
    """Deliver the queued letter with the app's own worker, as `scrutineer serve` runs it, and
    read back what Slack got. Returns the measurements."""
    db, slack = setup.db, setup.slack
    targets = {q.key: slack._resolve_channel(q.channel) or q.channel for q in queued}
    slack.clear_calls()
    slack.latency = latency
    plan_faults(slack, seed, fault_rate)
    worker = build_worker(setup.settings, db, lambda: datetime.now(timezone.utc))
    marked: dict[str, float] = {}
    done = asyncio.Event()

    async def note(row, channel, ts) -> None:
        if row.key in wanted:
            marked.setdefault(row.key, time.monotonic())
            if len(marked) == len(wanted):
                done.set()

    worker.dispatcher.on_sent.append(note)
    stop = asyncio.Event()
    started = time.monotonic()
    task = asyncio.create_task(worker.run_forever(stop))
    try:
        await asyncio.wait_for(done.wait(), timeout)
        finished = True
    except asyncio.TimeoutError:
        finished = False
    elapsed = (max(marked.values()) if finished else time.monotonic()) - started
    stop.set()
    await task
    slack.inject_faults(0)
    slack.latency = 0.0

    found: Counter = Counter()
    misplaced = 0
    for channel in list(slack._messages):
        for m in slack.messages_in(channel):
            meta = m.get("metadata") or {}
            key = (meta.get("event_payload") or {}).get("key")
            if meta.get("event_type") == METADATA_EVENT and key in wanted:
                found[key] += 1
                misplaced += channel != targets[key]
    async with db.session() as s:
        undelivered = await s.scalar(select(func.count()).select_from(LetterRecipient).where(
            LetterRecipient.letter_id == letter_id, LetterRecipient.outbox_key.is_not(None),
            LetterRecipient.delivered_at.is_(None)))
        dead = await s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.key.in_(list(wanted)), OutboxMessage.dead_at.is_not(None)))
    posts = slack.calls_to("chat.postMessage")
    arrived = [c.at for c in posts if not c.failed or c.stored]
    firsts: dict[str, float] = {}
    for c in posts:
        firsts.setdefault(slack._resolve_channel(c.args.get("channel")) or "", c.at - started)
    return {
        "finished": finished, "elapsed": elapsed, "concurrency": worker.dispatcher.concurrency,
        "lost": sum(1 for k in wanted if found[k] == 0), "duplicated": sum(n - 1 for n in found.values() if n > 1),
        "misplaced": misplaced, "undelivered": undelivered, "dead": dead,
        "last_arrival": (max(arrived) - started) if arrived else float("nan"),
        "first_pass": max(firsts.values()) if firsts else float("nan"),
        "posts": len(posts), "limited": sum(c.limited for c in posts),
        "injected": Counter("429" if c.response.get("error") == "ratelimited" else "stored 500" if c.stored
                            else "500" for c in posts if c.failed and not c.limited),
        "checks": len(slack.calls_to("conversations.history")),
    }


async def bench_letter(setup: Setup, store: str, recipients: int, seed: int, fault_rate: float, latency: float,
                       timeout: float) -> list[dict]:
    db, slack = setup.db, setup.slack
    name = f"decision letter, {recipients:,} recipients, {fault_rate:.0%} of posts failing"
    now = datetime.now(timezone.utc)
    # Today's scheduled work (reminders, the officers' Monday summary) and everything queued while
    # setting up are not what is measured: queue today's now, and mark it all sent.
    await run_scheduled(db, setup.settings, now)
    await mark_everything_sent(db)
    for n in range(recipients):
        slack.add_user(contact_user(n), f"contact{n}", real_name=f"Contact {n}", team_id=TEAM)
    per_agency = -(-recipients // AGENCIES)
    async with db.session() as s, s.begin():
        ctx = setup.ctx(CHAIR, now)
        for a in range(AGENCIES):
            contacts = [letters.ContactSpec(user_id=contact_user(n))
                        for n in range(a * per_agency, min(recipients, (a + 1) * per_agency))]
            if contacts:
                await letters.add_agency(s, ctx, f"Partner Agency {a + 1}", contacts)

    letter_id, queue_seconds, queued, wanted = await queue_letter(setup)
    channels = [(q.channel, slack._resolve_channel(q.channel) or q.channel) for q in queued]
    users = sorted({q.channel for q in queued if q.channel.startswith(("U", "W"))})
    plan_faults(slack, seed, fault_rate)
    bound, chains = zero_cost_bound(slack, Counter(c for _, c in channels))
    concurrency = build_worker(setup.settings, db, lambda: now).dispatcher.concurrency
    simulated = ideal_schedule(slack, channels, concurrency, latency)
    print(f"  letter {letter_id}: {len(queued)} messages to {len(set(c for _, c in channels))} channels, queued in "
          f"{queue_seconds:.2f} s; zero-cost bound {bound:g} s (channels by Retry-After wait: "
          + ", ".join(f"{k:g} s: {v}" for k, v in chains.items()) + ")")
    ideal, bare_delivered = await bare_sender(queued, users, seed, fault_rate, concurrency, latency)
    print(f"  ideal: the bare sender took {ideal:.2f} s ({bare_delivered} messages in Slack); with no time of its own "
          f"it would take {simulated:.2f} s ({concurrency} calls of {latency:g} s in flight)")
    m = await deliver(setup, letter_id, queued, wanted, seed, fault_rate, latency, timeout)
    inj = m["injected"]
    print(f"  {m['posts']} chat.postMessage calls: {inj['429']} injected 429s, {inj['500']} 500s, "
          f"{inj['stored 500']} 500s after storing, {m['limited']} 429s from the per-channel limit; "
          f"{m['checks']} history checks; {m['dead']} dead; {m['undelivered']} recipients without delivered_at")
    print(f"  dispatcher: first attempt in every channel after {m['first_pass']:.2f} s; last message arrived after "
          f"{m['last_arrival']:.2f} s; outbox drained after {m['elapsed']:.2f} s"
          + ("" if m["finished"] else f" (gave up after {timeout:.0f} s)") + f" = {m['elapsed'] / ideal:.3f} x ideal")

    # The same with an instant fake, where this machine's CPU is the limit: for information.
    letter2, _, queued2, wanted2 = await queue_letter(setup, "Dear partners,")   # a second letter
    bare, bare_delivered = await bare_sender(queued2, users, seed, fault_rate, concurrency, 0.0)
    fast = await deliver(setup, letter2, queued2, wanted2, seed, fault_rate, 0.0, timeout)
    print(f"  instant fake: the dispatcher drained the outbox after {fast['elapsed']:.2f} s, the bare sender "
          f"({bare_delivered} delivered) took {bare:.2f} s; lost {fast['lost']}, duplicated {fast['duplicated']}")

    limit = ideal * (1 + LETTER_SLACK)
    ok = m["finished"] and m["elapsed"] <= limit
    lost = m["lost"] + fast["lost"]
    duplicated = m["duplicated"] + fast["duplicated"]
    misplaced = m["misplaced"] + fast["misplaced"]
    limited = m["limited"] + fast["limited"]
    undelivered = m["undelivered"] + fast["undelivered"]
    return [
        row(name, store, f"ideal schedule (bare sender, {concurrency} calls of {latency:g} s in flight)", ideal, "s",
            "definition", True),
        row(name, store, "completion (outbox drained)", m["elapsed"], "s", f"<= {limit:.2f} s (ideal + 10%)", ok),
        row(name, store, "completion / ideal", m["elapsed"] / ideal, "x", "<= 1.10", ok),
        row(name, store, "last message arrived in Slack", m["last_arrival"], "s", "info", True),
        row(name, store, "ideal schedule if the sender took no time itself", simulated, "s", "info", True),
        row(name, store, "zero-cost bound (Retry-After waits only)", bound, "s", "info", True),
        row(name, store, "instant fake: dispatcher, outbox drained", fast["elapsed"], "s", "info", True),
        row(name, store, "instant fake: bare sender, no bookkeeping", bare, "s", "info", True),
        row(name, store, "queueing the letter (send_letter)", queue_seconds, "s", "info", True),
        row(name, store, "lost messages (both runs)", lost, "messages", "0", lost == 0),
        row(name, store, "duplicated messages (both runs)", duplicated, "messages", "0", duplicated == 0),
        row(name, store, "messages in the wrong channel (both runs)", misplaced, "messages", "0", misplaced == 0),
        row(name, store, "429s from the per-channel limit (both runs)", limited, "calls", "0", limited == 0),
        row(name, store, "recipients without a delivery time (both runs)", undelivered, "recipients", "0",
            undelivered == 0),
    ]


# ---- stores and running -----------------------------------------------------------------

async def run_store(store: str, url: str, args) -> list[dict]:
    print(f"\n== {store} ==")
    slack = LocalSlack(team_id=TEAM, per_channel_interval=1.0)
    await slack.start()
    settings = Settings.from_env({}, database_url=url, bot_token=TOKEN, slack_api_url=slack.api_url)
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        setup = Setup(db, slack, settings, args.items)
        started = time.perf_counter()
        counts = await setup.build()
        print(f"  set up {counts['items']} items through the services in {time.perf_counter() - started:.1f} s")
        rows = []
        if args.only in (None, "digest"):
            rows += await bench_digest(setup, store, args.runs, args.profile, counts["items"])
        if args.only in (None, "letter"):
            rows += await bench_letter(setup, store, args.recipients, args.seed, args.fault_rate, args.latency,
                                       args.letter_timeout)
        return rows
    finally:
        await db.dispose()
        await slack.stop()


def pg_reachable() -> str | None:
    """None when PostgreSQL answers; else why not."""
    from urllib.parse import urlparse
    u = urlparse(PG_ADMIN)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), timeout=1):
            return None
    except OSError as e:
        return f"PostgreSQL is not reachable at {u.hostname}:{u.port or 5432} ({e})"


async def pg_admin(sql: str) -> None:
    import asyncpg
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main_async(args) -> list[dict]:
    rows: list[dict] = []
    if args.store in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="bench_delivery_") as tmp:
            rows += await run_store("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", args)
    if args.store in ("postgresql", "both"):
        why = pg_reachable()
        name = f"bench_delivery_{os.getpid()}"
        if why is None:
            try:
                await pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                await pg_admin(f"CREATE DATABASE {name}")
            except Exception as e:   # reachable but refusing us: say so and skip
                why = f"could not create database {name} via {PG_ADMIN}: {e}"
        if why is not None:
            print(f"\n== postgresql == skipped: {why}")
        else:
            try:
                base = PG_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0]
                rows += await run_store("postgresql", f"{base}/{name}", args)
            finally:
                await pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return rows


def print_table(rows: list[dict]) -> None:
    if not rows:
        return
    headers = ("benchmark", "store", "measure", "value", "unit", "target", "ok")
    cells = [[r["benchmark"], r["store"], r["measure"], f"{r['value']:,.3f}".rstrip("0").rstrip("."), r["unit"],
              r["target"], "yes" if r["ok"] else "NO"] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths)))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--json", metavar="PATH", help="also write the rows as a JSON list")
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--recipients", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fault-rate", type=float, default=0.10)
    ap.add_argument("--latency", type=float, default=0.1, help="seconds the fake Slack takes to answer a call")
    ap.add_argument("--letter-timeout", type=float, default=300.0, help="give up on the letter after this long")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of the digest build")
    ap.add_argument("--only", choices=("digest", "letter"), help="run one of the two")
    ap.add_argument("--quick", action="store_true", help="200 items, 200 recipients, 3 runs: a smoke test")
    args = ap.parse_args(argv)
    if args.quick:
        args.items, args.recipients, args.runs = 200, 200, 3
    rows = asyncio.run(main_async(args))
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
        print(f"\nwrote {len(rows)} rows to {args.json}")
    return 0 if rows and all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
