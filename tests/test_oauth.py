"""Many workspaces: installed through Bolt's OAuth flow, each workspace's calls with its own token."""
from __future__ import annotations

import dataclasses
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.delivery import enqueue
from bot.offline import slack_payloads as payloads
from bot.scheduled import build_worker
from bot.services.home import queue_home_refresh
from bot.services.installations import BOT_SCOPES
from models.delivery import OutboxMessage
from models.installations import Installation
from tests.harness import Harness


@pytest.fixture
async def many(slack, database_url, clock):
    h = Harness(slack, database_url, clock)
    h.settings = dataclasses.replace(h.settings, bot_token=None, client_id="111.222", client_secret="shh")
    await h.start()
    yield h
    await h.stop()


async def start_install(h: Harness) -> tuple[str, str]:
    """GET /slack/install: the "Add to Slack" page, its state and the browser's state cookie."""
    async with h.http.get(h.url + "/slack/install", allow_redirects=False) as resp:
        assert resp.status == 200, await resp.text()
        page = await resp.text()
        cookie = resp.headers["Set-Cookie"].split(";", 1)[0]
    url = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "scope=" + "%2C".join(s.replace(":", "%3A") for s in BOT_SCOPES) in url or \
        "scope=" + ",".join(BOT_SCOPES) in url, url
    return re.search(r"state=([^&]+)", url).group(1), cookie


async def finish_install(h: Harness, code: str, state: str, cookie: str) -> int:
    async with h.http.get(h.url + "/slack/oauth_redirect", params={"code": code, "state": state},
                          headers={"Cookie": cookie}, allow_redirects=False) as resp:
        return resp.status


async def install(h: Harness, team: str, **kw) -> str:
    state, cookie = await start_install(h)
    assert await finish_install(h, h.slack.install_code(team, **kw), state, cookie) == 200
    async with h.db.session() as s:
        row = await s.scalar(select(Installation).where(Installation.team_id == team))
    assert row.bot_token.startswith(f"xoxb-{team}-")
    return row.bot_token


def team_of(slack, call) -> str | None:
    """The workspace a recorded call is about: its channel's or person's."""
    for name in ("channel", "user", "user_id", "users"):
        value = call.args.get(name)
        if not isinstance(value, str):
            continue
        if value in slack.channels:
            return slack.channels[value].team_id
        if value in slack.users and value != "UBOT":
            return slack.users[value].get("team_id")
    return None


def assert_tokens_match(slack) -> set[str]:
    """Every call carried a token of an installed workspace, and each call about a workspace's
    channel or person carried that workspace's token. The teams seen."""
    seen = set()
    for call in slack.calls:
        if call.method in ("oauth.v2.access", "response_url", "ack"):
            continue
        assert call.token in slack.token_teams, (call.method, call.token)
        team = team_of(slack, call)
        if team is not None:
            assert slack.token_teams[call.token] == team, (call.method, call.args, call.token)
            seen.add(team)
    return seen


async def queue(h: Harness, team: str, channel: str, key: str) -> None:
    async with h.db.session() as s, s.begin():
        await enqueue(s, team_id=team, key=key, channel=channel, now=h.clock(), payload={"text": key})


async def outbox(h: Harness) -> dict[str, OutboxMessage]:
    async with h.db.session() as s:
        return {r.key: r for r in await s.scalars(select(OutboxMessage))}


async def test_two_workspaces_each_with_its_own_token(many):
    h, slack = many, many.slack
    t1, t2 = await install(h, "T1"), await install(h, "T2")
    assert t1 != t2

    reply = await h.command("/scrutiny", "setup cyp Children and Young People", user="UADMIN", channel="CCYP", team="T1")
    assert "cyp" in reply.text.lower() or "cyp" in reply.visible.lower()
    reply = await h.command("/scrutiny", "setup cyp Other council's committee", user="UT2ADMIN", channel="CT2", team="T2")
    assert "sorry" not in reply.text.lower()
    assert any(c.method == "users.info" and c.token == t1 for c in slack.calls)
    assert any(c.method == "users.info" and c.token == t2 for c in slack.calls)

    await queue(h, "T1", "CCYP", "t1:hello")
    await queue(h, "T2", "CT2", "t2:hello")
    async with h.db.session() as s, s.begin():
        await queue_home_refresh(s, "T1", ["UALICE"], h.clock())
        await queue_home_refresh(s, "T2", ["UT2ADMIN"], h.clock())
    worker = build_worker(h.settings, h.db, h.clock)
    assert await worker.dispatcher.run_once() == 4
    posts = {c.args["channel"]: c.token for c in slack.calls_to("chat.postMessage")}
    assert posts == {"CCYP": t1, "CT2": t2}
    assert {c.args["user_id"]: c.token for c in slack.calls_to("views.publish")} == {"UALICE": t1, "UT2ADMIN": t2}
    assert assert_tokens_match(slack) == {"T1", "T2"}
    assert all(r.sent_at is not None for r in (await outbox(h)).values())


async def test_a_state_is_good_once_and_only_if_issued(many):
    h, slack = many, many.slack
    state, cookie = await start_install(h)
    assert await finish_install(h, slack.install_code("T1"), state, cookie) == 200
    exchanged = len(slack.calls_to("oauth.v2.access"))
    # The same state again, and one never issued (with a cookie naming it): refused, no code exchanged.
    assert await finish_install(h, slack.install_code("T2"), state, cookie) >= 400
    assert await finish_install(h, slack.install_code("T2"), "made-up", "slack-app-oauth-state=made-up") >= 400
    assert len(slack.calls_to("oauth.v2.access")) == exchanged
    async with h.db.session() as s:
        assert [r.team_id for r in await s.scalars(select(Installation))] == ["T1"]


async def test_uninstalled_workspace_stops_at_once_and_others_carry_on(many):
    h, slack = many, many.slack
    t1, _t2 = await install(h, "T1"), await install(h, "T2")
    await queue(h, "T1", "CCYP", "t1:a")
    await queue(h, "T2", "CT2", "t2:a")
    async with h.db.session() as s, s.begin():
        await queue_home_refresh(s, "T2", ["UT2ADMIN"], h.clock())
    status, _ = await h.post(payloads.event_body({"type": "app_uninstalled"}, team_id="T2"),
                             content_type=payloads.JSON)
    assert status == 200
    rows = await outbox(h)
    assert rows["t2:a"].dead_at is not None and rows["t2:a"].last_error == "app_uninstalled"
    assert all(r.dead_at is not None for r in rows.values() if r.team_id == "T2")
    # Queued after the uninstall (a scheduled reminder, a Home refresh): given up when its turn comes.
    await queue(h, "T2", "CT2", "t2:b")
    async with h.db.session() as s, s.begin():
        await queue_home_refresh(s, "T2", ["UT2ADMIN"], h.clock() + timedelta(seconds=1))
    slack.clear_calls()
    worker = build_worker(h.settings, h.db, h.clock)
    assert await worker.dispatcher.run_once() == 1
    assert [(c.method, c.args.get("channel"), c.token) for c in slack.calls] == [("chat.postMessage", "CCYP", t1)]
    rows = await outbox(h)
    assert rows["t1:a"].sent_at is not None
    assert all(r.dead_at is not None and r.sent_at is None for r in rows.values() if r.team_id == "T2")


async def test_a_revoked_token_stops_its_workspace(many):
    h, slack = many, many.slack
    t1, t2 = await install(h, "T1"), await install(h, "T2")
    for n in range(3):
        await queue(h, "T1", "CCYP", f"t1:{n}")
    await queue(h, "T2", "CT2", "t2:0")
    slack.revoked_tokens.add(t1)
    worker = build_worker(h.settings, h.db, h.clock)
    await worker.dispatcher.run_once()
    rows = await outbox(h)
    assert all(r.dead_at is not None and r.last_error == "token_revoked" for k, r in rows.items() if k.startswith("t1:"))
    assert rows["t2:0"].sent_at is not None
    assert len([c for c in slack.calls_to("chat.postMessage") if c.token == t1]) == 1   # then no more tries
    async with h.db.session() as s:
        assert (await s.scalar(select(Installation).where(Installation.team_id == "T1"))).uninstalled_at is not None
    assert {c.token for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "CT2"} == {t2}


async def test_an_expired_token_is_refreshed_once_and_used(many):
    h, slack = many, many.slack
    old = await install(h, "T1", rotating=True)
    async with h.db.session() as s, s.begin():
        await s.execute(update(Installation).values(
            bot_token_expires_at=datetime.fromtimestamp(time.time() - 60, timezone.utc)))
    for n in range(3):
        await queue(h, "T1", "CCYP", f"t1:{n}")
    worker = build_worker(h.settings, h.db, h.clock)
    assert await worker.dispatcher.run_once() == 3
    refreshes = [c for c in slack.calls_to("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"]
    assert len(refreshes) == 1
    tokens = {c.token for c in slack.calls_to("chat.postMessage")}
    assert len(tokens) == 1 and old not in tokens and slack.token_teams[tokens.pop()] == "T1"
    async with h.db.session() as s:
        row = await s.scalar(select(Installation))
    assert row.bot_token != old and row.bot_token_expires_at > datetime.now(timezone.utc) + timedelta(hours=1)


async def test_one_workspace_has_no_install_pages(harness):
    async with harness.http.get(harness.url + "/slack/install", allow_redirects=False) as resp:
        assert resp.status == 404


def test_scopes_asked_for_are_the_manifests():
    import yaml
    manifest = yaml.safe_load((Path(__file__).parents[1] / "manifest.yml").read_text())
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES
