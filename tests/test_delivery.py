"""The outbox and dispatcher: every message once, through 429s, 500s and crashes."""
import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, update

from bot.db import Database
from bot.delivery import enqueue
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.worker import Worker
from models.delivery import OutboxMessage
from tests.conftest import NOW
from tests.harness import Clock


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    await database.upgrade()
    yield database
    await database.dispose()


def dispatcher(db, slack, clock, **kw):
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
    return Dispatcher(db, client, clock, per_channel=kw.pop("per_channel", 0.0), **kw)


async def queue(db, clock, key, channel="CCYP", text="hello"):
    async with db.session() as s, s.begin():
        return await enqueue(s, team_id="T1", key=key, channel=channel, now=clock(),
                             payload={"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]})


async def rows(db):
    async with db.session() as s:
        return list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_same_key_is_queued_once_and_sent_once(db, slack):
    clock = Clock(NOW)
    assert await queue(db, clock, "digest:1") is True
    assert await queue(db, clock, "digest:1") is False
    d = dispatcher(db, slack, clock)
    assert await d.run_once() == 1
    assert await d.run_once() == 0
    posted = slack.calls_to("chat.postMessage")
    assert len(posted) == 1
    assert posted[0].args["metadata"]["event_payload"]["key"] == "digest:1"
    [row] = await rows(db)
    assert row.sent_at == NOW and row.result_ts == posted[0].response["ts"]


async def test_rolled_back_change_sends_nothing(db, slack):
    clock = Clock(NOW)
    with pytest.raises(RuntimeError):
        async with db.session() as s, s.begin():
            await enqueue(s, team_id="T1", key="k", channel="CCYP", now=clock(), payload={"text": "x"})
            raise RuntimeError("the change failed")
    assert await dispatcher(db, slack, clock).run_once() == 0
    assert slack.calls_to("chat.postMessage") == []


async def test_429_waits_for_retry_after(db, slack):
    clock = Clock(NOW)
    await queue(db, clock, "k1")
    slack.fail_next("chat.postMessage", status=429, retry_after=30)
    d = dispatcher(db, slack, clock)
    assert await d.run_once() == 0
    [row] = await rows(db)
    assert row.not_before == NOW + timedelta(seconds=30) and row.last_error == "ratelimited"
    clock.now = NOW + timedelta(seconds=29)
    assert await d.run_once() == 0
    clock.now = NOW + timedelta(seconds=30)
    assert await d.run_once() == 1
    assert len([c for c in slack.calls_to("chat.postMessage") if not c.failed]) == 1


async def test_500_is_retried_without_posting_twice(db, slack):
    clock = Clock(NOW)
    await queue(db, clock, "k1")
    slack.fail_next("chat.postMessage", status=500, times=3)
    d = dispatcher(db, slack, clock)
    for minute in range(1, 8):
        await d.run_once()
        clock.now = NOW + timedelta(minutes=minute * 2)
    ok = [c for c in slack.calls_to("chat.postMessage") if not c.failed]
    assert len(ok) == 1
    [row] = await rows(db)
    assert row.sent_at is not None and row.attempts == 4


async def test_crash_after_slack_accepted_does_not_post_again(db, slack):
    """The process died after Slack stored the message but before it was marked sent."""
    clock = Clock(NOW)
    await queue(db, clock, "letter:7:UCAROL", channel="CCYP")
    d = dispatcher(db, slack, clock)
    await d.run_once()
    # Recreate the state a kill would leave: sent in Slack, not marked in the outbox.
    async with db.session() as s, s.begin():
        row = (await s.scalars(select(OutboxMessage))).one()
        row.sent_at, row.in_flight_since = None, NOW
    clock.now = NOW + timedelta(minutes=5)
    assert await d.run_once() == 1
    assert len(slack.calls_to("chat.postMessage")) == 1
    [row] = await rows(db)
    assert row.sent_at is not None


async def test_crash_before_slack_got_it_sends_after_checking(db, slack):
    clock = Clock(NOW)
    await queue(db, clock, "k1")
    async with db.session() as s, s.begin():
        row = (await s.scalars(select(OutboxMessage))).one()
        row.in_flight_since, row.attempts = NOW, 1
    d = dispatcher(db, slack, clock)
    assert await d.run_once() == 0  # still looks busy: another process may be sending it
    clock.now = NOW + timedelta(minutes=2)
    assert await d.run_once() == 1
    assert len(slack.calls_to("conversations.history")) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_gone_channel_is_given_up_with_the_error_kept(db, slack):
    clock = Clock(NOW)
    await queue(db, clock, "k1", channel="#no-such-channel")
    assert await dispatcher(db, slack, clock).run_once() == 0
    [row] = await rows(db)
    assert row.dead_at is not None and row.last_error == "channel_not_found"


async def test_one_channel_gets_about_one_message_a_second(db, slack):
    clock = Clock(NOW)
    for n in range(3):
        await queue(db, clock, f"k{n}", channel="CCYP")
    await queue(db, clock, "dm", channel="UCAROL")
    d = dispatcher(db, slack, clock, per_channel=0.2)
    assert await d.run_once() == 4
    times = [c.at for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "CCYP"]
    assert all(b - a >= 0.18 for a, b in zip(times, times[1:]))


async def test_a_claim_takes_only_rows_still_as_they_were_read(db, slack):
    """Rows are read ahead and claimed as their sends start, several in one statement when
    they start together. One that another process attempted meanwhile (here: a 500, so Slack
    may have it) isn't claimed from the stale copy, which would post it without looking."""
    clock = Clock(NOW)
    for n in range(3):
        await queue(db, clock, f"k{n}", channel="UCAROL")
    d = dispatcher(db, slack, clock)
    read = await d.due()
    async with db.session() as s, s.begin():
        await s.execute(update(OutboxMessage).where(OutboxMessage.key == "k1").values(
            attempts=1, in_flight_since=NOW, last_error="HTTP 500: fatal_error"))
    assert not await d._claim_one(read[1])
    assert await d._claim_rows(read, None) == {read[0].id, read[2].id}
    assert [(r.key, r.attempts) for r in await rows(db)] == [("k0", 1), ("k1", 1), ("k2", 1)]


async def test_500_is_retried_at_once_after_looking_in_the_channel(db, slack):
    """A 500 among successes is a blip: the row goes again in the same run (it used to wait out
    the in-flight timeout), first checking the channel, so a message Slack kept isn't posted twice."""
    clock = Clock(NOW)
    await queue(db, clock, "k1", channel="UCAROL")
    await queue(db, clock, "k2", channel="UDAVE")
    slack.fail_next("chat.postMessage", status=500)
    assert await dispatcher(db, slack, clock).run_once() == 2
    assert len(slack.calls_to("conversations.history")) == 1
    keys = [c.args["metadata"]["event_payload"]["key"] for c in slack.calls_to("chat.postMessage") if not c.failed]
    assert sorted(keys) == ["k1", "k2"]


async def test_stored_500_is_found_not_posted_again(db, slack):
    clock = Clock(NOW)
    await queue(db, clock, "k1", channel="UCAROL")
    slack.inject_faults(1.0, share_429=0.0, stored_500=1.0)   # every post: stored, then answered 500
    d = dispatcher(db, slack, clock)
    assert await d.run_once() == 1
    slack.inject_faults(0)
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert len(slack.messages_in("UCAROL")) == 1
    [row] = await rows(db)
    assert row.sent_at is not None and row.result_ts == slack.messages_in("UCAROL")[0]["ts"]


async def test_channels_are_sent_to_concurrently(db, slack):
    clock = Clock(NOW)
    for n in range(16):
        slack.add_user(f"U{n:03d}", f"person{n}", team_id="T1")
        await queue(db, clock, f"k{n}", channel=f"U{n:03d}")
    slack.latency = 0.2
    started = asyncio.get_running_loop().time()
    assert await dispatcher(db, slack, clock).run_once() == 16
    # 16 answers of 0.2 s each, 8 at a time: about 0.4 s, not 3.2 s
    assert asyncio.get_running_loop().time() - started < 1.6


async def test_worker_wakes_when_a_retry_is_due(db, slack):
    """A 429's Retry-After is waited out, not the worker's whole interval."""
    now = lambda: datetime.now(timezone.utc)  # noqa: E731
    async with db.session() as s, s.begin():
        await enqueue(s, team_id="T1", key="k1", channel="CCYP", now=now(), payload={"text": "hello"})
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
    worker = Worker(db, Dispatcher(db, client, now), now, interval=30)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop))
    try:
        ok = await slack.wait_for("chat.postMessage", count=2, timeout=5)
    finally:
        stop.set()
        await task
    assert [c.failed for c in ok] == [True, False]
    assert 1.0 <= ok[1].at - ok[0].at < 2.5
