"""Admin set-up (`/scrutiny setup|role|roles|help`) and the HTTP boundary: signatures,
stale and malformed requests, retries, /healthz, ack-before-work, and two workspaces
that never see each other's items."""
from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from datetime import timedelta

import aiohttp
from aiohttp import web
from sqlalchemy import func, select

from bot.app import build_app
from bot.db import Database
from bot.importing import ImportedItem
from bot.offline import slack_payloads as payloads
from bot.server import web_app
from bot.services.imports import import_items
from models.delivery import ProcessedEvent
from models.tables import AuditEvent, Committee, Item, Position, Role, RoleHolder, Workspace
from tests.conftest import NOW

CYP_NAME = "Children and Young People Scrutiny Committee"
ALL_TABLES = (Workspace, Committee, Role, RoleHolder, Item, Position, AuditEvent)


# ---------------------------------------------------------------- local helpers

async def count(h, model, *where) -> int:
    async with h.db.session() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def row_counts(h) -> dict[str, int]:
    return {m.__tablename__: await count(h, m) for m in ALL_TABLES}


async def committees(h, **where) -> list[Committee]:
    async with h.db.session() as s:
        q = select(Committee).filter_by(**where).order_by(Committee.team_id, Committee.code)
        return list(await s.scalars(q))


async def holders_of(h, role_name: str) -> list[RoleHolder]:
    async with h.db.session() as s:
        role = (await s.scalars(select(Role).where(Role.name == role_name))).one()
        return list(await s.scalars(select(RoleHolder).where(RoleHolder.role_id == role.id)
                                    .order_by(RoleHolder.id)))


async def setup_cyp(h, user="UADMIN", channel="CCYP", team="T1", name=CYP_NAME):
    return await h.command("/scrutiny", f"setup cyp {name}", user=user, channel=channel, team=team)


def refused_in_one_line(reply) -> None:
    """Privately, in one line of what the person sees (the blocks)."""
    assert reply.ephemeral
    shown = reply.visible.strip()
    assert shown and "\n" not in shown, shown
    assert reply.text.splitlines()[0] in shown


async def no_response_url_calls(h, wait: float = 0.4) -> bool:
    await asyncio.sleep(wait)
    return not h.slack.calls_to("response_url")


def scrutiny_body(text: str, *, user="UADMIN", channel="CCYP", team="T1", key=None) -> str:
    return payloads.slash_command_body("/scrutiny", text, user_id=user, team_id=team, channel_id=channel,
                                       response_url="http://127.0.0.1:9/never-called/" + (key or uuid.uuid4().hex))


# ---------------------------------------------------------------- /scrutiny setup

async def test_setup_binds_public_channel(harness):
    r = await setup_cyp(harness)
    assert r.ephemeral
    assert "bound to the new committee" in r.text and CYP_NAME in r.text and "`cyp`" in r.text
    [c] = await committees(harness)
    assert (c.team_id, c.code, c.name, c.channel_id, c.is_private) == ("T1", "cyp", CYP_NAME, "CCYP", False)
    assert await count(harness, Workspace, Workspace.team_id == "T1") == 1
    assert await count(harness, AuditEvent, AuditEvent.entity == "committee", AuditEvent.action == "create",
                       AuditEvent.actor == "UADMIN") == 1


async def test_setup_in_private_channel_marks_committee_private(harness):
    r = await harness.command("/scrutiny", "setup ssc Safeguarding Sub-Committee", user="UADMIN", channel="CSSC")
    assert "private" in r.text.lower()
    [c] = await committees(harness)
    assert (c.code, c.channel_id, c.is_private) == ("ssc", "CSSC", True)


async def test_setup_by_non_admin_is_refused_and_stores_nothing(harness):
    before = await row_counts(harness)
    r = await setup_cyp(harness, user="UDAVE")
    refused_in_one_line(r)
    assert "admin" in r.text.lower()
    assert await row_counts(harness) == before
    assert await committees(harness) == []


async def test_setup_by_env_admin_is_allowed(harness):
    r = await setup_cyp(harness, user="UENV")   # not a Slack admin; listed in SCRUTINEER_ADMINS
    assert "bound to the new committee" in r.text
    [c] = await committees(harness)
    assert c.channel_id == "CCYP"


async def test_setup_bad_input_is_refused(harness):
    cases = [
        ("setup 9$ x", "CCYP", "9$"),                 # not a code
        ("setup cyp", "CCYP", "name"),                # no name for a new committee
        ("setup", "CCYP", "code"),                    # nothing at all
        (f"setup cyp {CYP_NAME}", "DUADMIN", "direct message"),   # in a DM
    ]
    for text, channel, hint in cases:
        r = await harness.command("/scrutiny", text, user="UADMIN", channel=channel)
        refused_in_one_line(r)
        assert hint in r.text, (text, r.text)
    assert await committees(harness) == []
    assert await count(harness, AuditEvent) == 0


async def test_setup_again_renames_and_audits(harness):
    await setup_cyp(harness)
    r = await setup_cyp(harness, name="Children and Young People Policy and Scrutiny Committee")
    assert "Rename the committee" in r.text          # asked first (tests/test_corrections.py)
    key = await harness.press(r.button("Rename"), user="UADMIN", channel="CCYP", message=r)
    assert "is now *Children and Young People Policy and Scrutiny Committee*" in (await harness.reply(key)).visible
    [c] = await committees(harness)
    assert c.name == "Children and Young People Policy and Scrutiny Committee"
    async with harness.db.session() as s:
        events = list(await s.scalars(select(AuditEvent).where(AuditEvent.entity == "committee",
                                                               AuditEvent.entity_id == c.id).order_by(AuditEvent.id)))
    assert [e.action for e in events] == ["create", "update"]
    assert events[1].before["name"] == CYP_NAME
    assert events[1].after["name"] == "Children and Young People Policy and Scrutiny Committee"
    assert events[1].actor == "UADMIN"
    # The same again changes nothing and writes nothing.
    await setup_cyp(harness, name="Children and Young People Policy and Scrutiny Committee")
    assert await count(harness, AuditEvent, AuditEvent.entity == "committee") == 2


async def test_channel_bound_to_another_code_is_refused(harness):
    await setup_cyp(harness)
    before = await row_counts(harness)
    r = await harness.command("/scrutiny", "setup ssc Safeguarding Sub-Committee", user="UADMIN", channel="CCYP")
    refused_in_one_line(r)
    assert "already bound" in r.text and "cyp" in r.text
    assert await row_counts(harness) == before
    assert [c.code for c in await committees(harness)] == ["cyp"]


# ---------------------------------------------------------------- roles

async def test_role_mapping_hands_over_and_keeps_history(harness):
    await setup_cyp(harness)
    r = await harness.command("/scrutiny", 'role "Chairman of the ESCB" <@UCAROL|carol>', user="UADMIN", channel="CCYP")
    assert "Chairman of the ESCB" in r.text and "<@UCAROL>" in r.text
    [carol] = await holders_of(harness, "Chairman of the ESCB")
    assert carol.user_id == "UCAROL" and carol.ended_at is None and carol.assigned_by == "UADMIN"

    r = await harness.command("/scrutiny", 'role "Chairman of the ESCB" <@UDAVE|dave>', user="UADMIN", channel="CCYP")
    assert "<@UDAVE>" in r.text
    assert "previously <@UCAROL>" in r.text
    carol, dave = await holders_of(harness, "Chairman of the ESCB")
    assert carol.user_id == "UCAROL" and carol.ended_at is not None     # ended, row kept
    assert dave.user_id == "UDAVE" and dave.ended_at is None
    assert await count(harness, AuditEvent, AuditEvent.entity == "role", AuditEvent.action == "assign") == 2

    # Mapping it to the same person again changes nothing.
    r = await harness.command("/scrutiny", 'role "Chairman of the ESCB" <@UDAVE|dave>', user="UADMIN", channel="CCYP")
    assert "Nothing changed" in r.text
    assert len(await holders_of(harness, "Chairman of the ESCB")) == 2

    r = await harness.command("/scrutiny", "roles", user="UADMIN", channel="CCYP")
    assert r.ephemeral
    line = next(ln for ln in r.visible.splitlines() if "Chairman of the ESCB" in ln)
    assert "<@UDAVE>" in line and "previously <@UCAROL>" in line


async def test_role_held_by_outside_person(harness):
    r = await harness.command(
        "/scrutiny", 'role "Cabinet Member" Jane Smith <mailto:jane@essex.gov.uk|jane@essex.gov.uk>',
        user="UADMIN", channel="CCYP")
    assert "Jane Smith" in r.text and "jane@essex.gov.uk" in r.text
    [jane] = await holders_of(harness, "Cabinet Member")
    assert (jane.user_id, jane.name, jane.email, jane.ended_at) == (None, "Jane Smith", "jane@essex.gov.uk", None)
    r = await harness.command("/scrutiny", "roles", user="UDAVE", channel="CCYP")   # anyone may read
    assert "Cabinet Member" in r.visible and "Jane Smith (jane@essex.gov.uk)" in r.visible


async def test_role_by_non_admin_is_refused(harness):
    before = await row_counts(harness)
    r = await harness.command("/scrutiny", 'role "Chairman of the ESCB" <@UDAVE|dave>', user="UDAVE", channel="CCYP")
    refused_in_one_line(r)
    assert "admin" in r.text.lower()
    assert await row_counts(harness) == before


async def test_roles_when_there_are_none(harness):
    r = await harness.command("/scrutiny", "roles", user="UDAVE", channel="CCYP")
    assert "No roles yet" in r.text


async def test_scrutiny_help_and_unknown_verb(harness):
    for text in ("help", ""):
        r = await harness.command("/scrutiny", text, user="UDAVE", channel="CCYP")
        assert r.ephemeral
        assert "/scrutiny setup" in r.visible and "/scrutiny role" in r.visible
    before = await row_counts(harness)
    r = await harness.command("/scrutiny", "frobnicate now", user="UADMIN", channel="CCYP")
    refused_in_one_line(r)
    assert "frobnicate" in r.text and "setup" in r.text
    assert await row_counts(harness) == before


# ---------------------------------------------------------------- the HTTP boundary

async def test_forged_signature_is_rejected_and_nothing_happens(harness):
    status, _ = await harness.post(scrutiny_body(f"setup cyp {CYP_NAME}"), secret="not-the-secret")
    assert status == 401
    # A body signed correctly but then altered is forged too.
    body = scrutiny_body(f"setup cyp {CYP_NAME}")
    headers = payloads.sign(body, "test-signing-secret")
    tampered = body.replace("UADMIN", "UDAVE")
    async with harness.http.post(harness.url + "/slack/events", data=tampered.encode(), headers=headers) as resp:
        assert resp.status == 401
    # No signature at all.
    async with harness.http.post(harness.url + "/slack/events", data=body.encode(),
                                 headers={"Content-Type": payloads.FORM}) as resp:
        assert resp.status == 401
    assert await no_response_url_calls(harness)
    assert not [c for c in harness.slack.calls if c.method != "auth.test"]
    assert all(n == 0 for n in (await row_counts(harness)).values())


async def test_stale_timestamp_is_rejected(harness):
    status, _ = await harness.post(scrutiny_body(f"setup cyp {CYP_NAME}"), timestamp=int(time.time()) - 600)
    assert status == 401
    assert await no_response_url_calls(harness)
    assert all(n == 0 for n in (await row_counts(harness)).values())


async def test_malformed_payloads_do_not_crash_the_server(harness):
    await setup_cyp(harness)
    before = await row_counts(harness)
    for body, ctype in (("payload=notjson", payloads.FORM),
                        ("payload=%7B%22type%22%3A", payloads.FORM),      # payload={"type":   (cut short)
                        ("{not json", payloads.JSON),
                        ("[1, 2]", payloads.JSON),
                        ("payload=%5B1%5D", payloads.FORM),                # payload=[1]
                        ('payload="x"', payloads.FORM),
                        ("\x00\xff garbage", "application/octet-stream"),
                        ("", payloads.FORM)):
        status, _ = await harness.post(body, content_type=ctype)
        assert status < 500 and status in (200, 400, 401, 404, 415, 422), (body, status)
    # The server is still up and answering.
    r = await harness.command("/actions", "", user="UDAVE", channel="CCYP")
    assert "No open items" in r.text
    assert await row_counts(harness) == before


async def test_event_retry_is_handled_once(harness, caplog):
    caplog.set_level(logging.WARNING)
    event = {"type": "app_home_opened", "user": "UDAVE", "channel": "DUDAVE", "tab": "home",
             "event_ts": f"{time.time():.6f}"}
    body = payloads.event_body(event, team_id="T1", event_id="Ev0RETRY01")
    status, _ = await harness.post(body, content_type=payloads.JSON)
    assert status == 200
    await harness.slack.wait_for("views.publish", 1)
    status, _ = await harness.post(body, content_type=payloads.JSON,
                                   headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert status == 200
    await harness.settle(0.3)
    # The retry carries the same event_id: acknowledged, and not handled a second time.
    published = harness.slack.calls_to("views.publish")
    assert len(published) == 1 and not published[0].failed
    async with harness.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(ProcessedEvent)) == 1
    assert not harness.slack.calls_to("chat.postMessage")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_event_ids_are_forgotten_once_slack_can_no_longer_retry_them(harness):
    from bot.scheduled import run_scheduled

    for n, hours_ago in enumerate((30, 2)):
        event = {"type": "app_home_opened", "user": "UDAVE", "channel": "DUDAVE", "tab": "home",
                 "event_ts": f"{time.time():.6f}"}
        harness.clock.now = NOW - timedelta(hours=hours_ago)
        status, _ = await harness.post(payloads.event_body(event, team_id="T1", event_id=f"Ev0OLD{n}"),
                                       content_type=payloads.JSON)
        assert status == 200
    harness.clock.now = NOW
    await run_scheduled(harness.db, harness.settings, NOW)
    async with harness.db.session() as s:
        assert list(await s.scalars(select(ProcessedEvent.event_id))) == ["Ev0OLD1"]   # a day old: gone


async def test_healthz(harness):
    async with harness.http.get(harness.url + "/healthz") as resp:
        assert resp.status == 200
        assert await resp.json() == {"ok": True}


async def test_healthz_is_503_when_the_database_is_unreachable(harness):
    dead = Database("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    app, _ = build_app(harness.settings, dead)
    runner = web.AppRunner(web_app(app, dead))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as http:
            started = time.monotonic()
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 503
                assert (await resp.json())["ok"] is False
            assert time.monotonic() - started < 5
    finally:
        await runner.cleanup()
        await dead.dispose()


async def test_slash_command_is_answered_in_its_acknowledgement(harness):
    """The HTTP answer is the ack, and the reply rides in it: nothing goes to the
    response_url. Even the very first request (with date parsing still to load) answers
    well within Slack's 3 s."""
    key = uuid.uuid4().hex
    body = payloads.slash_command_body("/actions", "due next week", user_id="UDAVE", team_id="T1",
                                       channel_id="CCYP", response_url=harness.slack.response_url(key))
    started = time.monotonic()
    status, text = await harness.post(body)
    elapsed = time.monotonic() - started
    assert status == 200
    assert elapsed < 1.0, f"the ack took {elapsed:.2f}s"
    answer = json.loads(text)
    assert answer["response_type"] == "ephemeral" and "no committees you can see" in answer["text"]
    assert not harness.slack.calls_to("response_url")


async def test_refusals_are_acknowledged_promptly(harness):
    """A command refused after ack() must still answer HTTP 200 at once: Bolt clears the
    ack when the error handler returns, so a fast failure once became a 404 after 3 s
    (Slack then shows "dispatch_failed" on top of our polite answer)."""
    for text, user in ((f"setup cyp {CYP_NAME}", "UDAVE"), ("setup 9$ x", "UADMIN"), ("frobnicate", "UADMIN")):
        key = uuid.uuid4().hex
        body = payloads.slash_command_body("/scrutiny", text, user_id=user, team_id="T1", channel_id="CCYP",
                                           response_url=harness.slack.response_url(key))
        started = time.monotonic()
        status, _ = await harness.post(body)
        elapsed = time.monotonic() - started
        assert status == 200 and elapsed < 1.0, (text, status, f"{elapsed:.2f}s")
        assert ":warning:" in (await harness.reply(key)).visible


# ---------------------------------------------------------------- two workspaces

async def _import(h, team: str, texts: list[str]) -> None:
    items = [ImportedItem(number=str(n), text=t, owners=["Cabinet Member"]) for n, t in enumerate(texts, 1)]
    async with h.db.session() as s, s.begin():
        await import_items(s, team_id=team, committee_code="cyp", review_code="sg2010", items=items,
                           actor="test", now=NOW)


async def test_two_workspaces_never_cross(harness):
    await setup_cyp(harness)
    r = await setup_cyp(harness, user="UT2ADMIN", channel="CT2", team="T2", name="Other Council CYP Committee")
    assert "bound to the new committee" in r.text
    both = await committees(harness, code="cyp")
    assert [(c.team_id, c.channel_id, c.name) for c in both] == [
        ("T1", "CCYP", CYP_NAME), ("T2", "CT2", "Other Council CYP Committee")]

    t1_text, t2_text = "Essex foster carer recruitment review", "Other council unallocated cases audit"
    await _import(harness, "T1", [t1_text])
    await _import(harness, "T2", [t2_text])

    # T1 people, in the channel and in a DM, see only T1.
    for channel in ("CCYP", "DUDAVE"):
        r = await harness.command("/actions", "all", user="UDAVE", channel=channel)
        assert t1_text in r.visible and t2_text not in r.visible
    r = await harness.command("/position", "sg2010/rec-1", user="UDAVE", channel="DUDAVE")
    assert t1_text in r.visible and t2_text not in r.visible
    r = await harness.command("/actions", "search unallocated", user="UADMIN", channel="DUADMIN")
    assert t2_text not in r.visible

    # And T2 sees only T2.
    r = await harness.command("/actions", "all", user="UT2ADMIN", channel="CT2", team="T2")
    assert t2_text in r.visible and t1_text not in r.visible
    r = await harness.command("/position", "rec-1", user="UT2ADMIN", channel="CT2", team="T2")
    assert t2_text in r.visible and t1_text not in r.visible
    r = await harness.command("/actions", "search foster", user="UT2ADMIN", channel="DUT2ADMIN", team="T2")
    assert t1_text not in r.visible

    # Roles are per workspace too: the same name is two roles, mapped separately.
    await harness.command("/scrutiny", 'role "Cabinet Member" <@UCAROL|carol>', user="UADMIN", channel="CCYP")
    r = await harness.command("/scrutiny", "roles", user="UT2ADMIN", channel="CT2", team="T2")
    assert "UCAROL" not in r.visible
    assert await count(harness, Role, Role.name == "Cabinet Member") == 2
