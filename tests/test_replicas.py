"""Several `scrutineer serve` processes on one PostgreSQL database (replicas behind a load
balancer): every queued message reaches Slack exactly once, even when one is killed."""
import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from bot.config import normalise_database_url
from bot.db import Database
from bot.delivery import enqueue


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_replica(database_url: str, slack) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(free_port()), "SLACK_BOT_TOKEN": "xoxb-test",
           "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": slack.api_url, "SCRUTINEER_WORKER_INTERVAL": "0.1",
           "SCRUTINEER_LEASE_SECONDS": "3"}
    env.pop("SLACK_APP_TOKEN", None)
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def queue_many(database_url: str, n: int, prefix: str, slack) -> None:
    for i in range(n):
        slack.add_user(f"U{i:05d}", f"person{i}", team_id="T1")
    db = Database(normalise_database_url(database_url))
    await db.upgrade()
    now = datetime.now(timezone.utc)
    async with db.session() as s, s.begin():
        for i in range(n):
            # Each message to its own DM, so pacing per channel doesn't slow the test.
            await enqueue(s, team_id="T1", key=f"{prefix}:{i}", channel=f"U{i:05d}", now=now,
                          payload={"text": f"message {i}"})
    await db.dispose()


async def wait_for_keys(slack, keys: set[str], timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        seen = {c.args["metadata"]["event_payload"]["key"] for c in slack.calls_to("chat.postMessage") if not c.failed}
        if keys <= seen:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{len(keys - seen)} messages never arrived")


def delivered_keys(slack) -> list[str]:
    return [c.args["metadata"]["event_payload"]["key"] for c in slack.calls_to("chat.postMessage") if not c.failed]


@pytest.fixture
def pg_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("replicas share a PostgreSQL database")
    return database_url


async def test_two_replicas_send_each_message_once(pg_url, slack):
    await queue_many(pg_url, 150, "two", slack)
    replicas = [start_replica(pg_url, slack) for _ in range(2)]
    try:
        await wait_for_keys(slack, {f"two:{i}" for i in range(150)})
        await asyncio.sleep(0.5)  # give a wrong second send the chance to show
    finally:
        for p in replicas:
            p.terminate()
        for p in replicas:
            p.wait(timeout=10)
    keys = delivered_keys(slack)
    assert len(keys) == 150 and len(set(keys)) == 150


async def test_killed_mid_broadcast_the_rest_goes_out_once(pg_url, slack):
    await queue_many(pg_url, 300, "kill", slack)
    first = start_replica(pg_url, slack)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while len(delivered_keys(slack)) < 20 and loop.time() < deadline:
            await asyncio.sleep(0.01)
        first.send_signal(signal.SIGKILL)  # no chance to tidy up
        first.wait(timeout=10)
        sent_before_restart = len(delivered_keys(slack))
        assert 0 < sent_before_restart < 300
        second = start_replica(pg_url, slack)
        try:
            # The dead process's lease must run out (3 s here) before the new one takes over.
            await wait_for_keys(slack, {f"kill:{i}" for i in range(300)}, timeout=60)
        finally:
            second.terminate()
            second.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    keys = delivered_keys(slack)
    assert len(keys) == len(set(keys)) == 300
