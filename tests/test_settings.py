"""Per-council settings (`/scrutiny settings`), admins named per workspace (`/scrutiny admin`),
and the scheduled rounds reading each council's and committee's own settings: through signed
requests into the real app and the fake Slack, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.core.workdays import NORTHERN_IRELAND, SCOTLAND, is_working_day, next_working_day, working_days_between
from bot.scheduled import run_scheduled
from bot.services import items
from bot.services import settings as council_settings
from models.carry import Escalation
from models.delivery import OutboxMessage
from models.meetings import Meeting
from models.queries import committee_by_code, role_key
from models.settings import CommitteeSettings, WorkspaceAdmin, WorkspaceSettings
from models.tables import AuditEvent, Committee, Item, Role

CYP = "Children and Young People Scrutiny Committee"


# ---------------------------------------------------------------- local helpers

async def setup_cyp(h, *, team="T1", channel="CCYP", user="UADMIN"):
    await h.command("/scrutiny", f"setup cyp {CYP}", user=user, channel=channel, team=team)


async def open_settings(h, *, user="UADMIN", channel="CCYP", team="T1", count=1) -> dict:
    await h.command("/scrutiny", "settings", user=user, channel=channel, team=team, expect_reply=False)
    return await h.opened_view(count)


def block_ids(view: dict) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b.get("type") == "input"]


def initial(view: dict, block_id: str):
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    el = block["element"]
    if "initial_option" in el:
        return el["initial_option"]["value"]
    if el.get("type") == "multi_static_select":
        return [o["value"] for o in el.get("initial_options") or []]
    return el.get("initial_value")


async def rows(h, model, *where):
    async with h.db.session() as s:
        return list(await s.scalars(select(model).where(*where)))


async def count(h, model, *where) -> int:
    async with h.db.session() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where)) or 0


# ---------------------------------------------------------------- working days per region

def test_bank_holidays_follow_the_region():
    # 2 January 2026 (a Friday) and St Andrew's Day 2026 (Monday 30 November): Scotland only.
    for d in (date(2026, 1, 2), date(2026, 11, 30)):
        assert is_working_day(d)
        assert not is_working_day(d, SCOTLAND)
    assert not is_working_day(date(2026, 3, 17), NORTHERN_IRELAND) and is_working_day(date(2026, 3, 17))
    assert not is_working_day(date(2026, 4, 6)) and is_working_day(date(2026, 4, 6), SCOTLAND)  # Easter Monday
    assert next_working_day(date(2026, 11, 27)) == date(2026, 11, 30)
    assert next_working_day(date(2026, 11, 27), region=SCOTLAND) == date(2026, 12, 1)
    assert working_days_between(date(2026, 11, 27), date(2026, 12, 1)) == 2
    assert working_days_between(date(2026, 11, 27), date(2026, 12, 1), SCOTLAND) == 1


# ---------------------------------------------------------------- the form

async def test_settings_form_opens_prefilled_and_saves_audited(harness):
    h = harness
    await setup_cyp(h)
    view = await open_settings(h)
    assert view["callback_id"] == "council_settings"
    # The council's name from Slack's team.info; the rest empty, meaning the defaults (shown as hints).
    assert h.slack.calls_to("team.info")
    assert initial(view, "council_name") == "Essex County Council"
    assert initial(view, "tz_name") is None and initial(view, "holiday_region") == "default"
    # In a committee's channel, that committee's own part too.
    assert {"committee_update_days", "committee_escalate_days", "committee_escalate_roles"} <= set(block_ids(view))

    status, body = await h.submit(view, {("tz_name", "value"): "Europe/London",
                                         ("holiday_region", "value"): "scotland",
                                         ("remind_days", "value"): "5",
                                         ("escalate_roles", "value"): ["chair"],
                                         ("committee_escalate_days", "value"): "3"}, user="UADMIN")
    assert (status, body) == (200, None)
    [said] = await h.slack.wait_for("chat.postEphemeral")
    assert "Council settings saved" in said.args["text"] and "bank holidays the default → Scotland" in said.args["text"]
    [ws] = await rows(h, WorkspaceSettings)
    assert (ws.team_id, ws.council_name, ws.tz_name, ws.holiday_region, ws.remind_days, ws.escalate_roles,
            ws.escalate_days) == ("T1", "Essex County Council", "Europe/London", "scotland", 5, ["chair"], None)
    [cs] = await rows(h, CommitteeSettings)
    assert (cs.escalate_days, cs.update_days, cs.escalate_roles) == (3, None, None)
    audits = await rows(h, AuditEvent, AuditEvent.action.in_(("update", "settings")),
                        AuditEvent.entity.in_(("settings", "committee")))
    ws_audit = next(a for a in audits if a.entity == "settings")
    assert ws_audit.before["holiday_region"] is None and ws_audit.after["holiday_region"] == "scotland"
    assert next(a for a in audits if a.action == "settings").after == {"escalate_days": 3}

    # Opened again: what was saved is shown; the effective settings resolve committee over council.
    again = await open_settings(h, count=2)
    assert initial(again, "holiday_region") == "scotland" and initial(again, "remind_days") == "5"
    assert initial(again, "committee_escalate_days") == "3"
    async with h.db.session() as s:
        cyp = (await s.scalars(select(Committee))).one()
        eff = await council_settings.effective(s, h.settings, "T1", cyp.id)
        ws_eff = await council_settings.effective(s, h.settings, "T1")
        assert await council_settings.council_name(s, "T1") == "Essex County Council"
    assert (eff.escalate_days, eff.escalate_roles, eff.region, eff.remind_days) == (3, ("chair",), SCOTLAND, 5)
    assert (ws_eff.escalate_days, ws_eff.update_days) == (h.settings.escalate_days, h.settings.update_days)


async def test_bad_values_are_field_errors_and_nothing_is_stored(harness):
    h = harness
    await setup_cyp(h)
    view = await open_settings(h)
    status, body = await h.submit(view, {("tz_name", "value"): "Europe/Londn",
                                         ("remind_days", "value"): "-3",
                                         ("committee_update_days", "value"): "soon"}, user="UADMIN")
    assert status == 200 and body["response_action"] == "errors"
    assert set(body["errors"]) == {"tz_name", "remind_days", "committee_update_days"}
    assert "isn't a time zone" in body["errors"]["tz_name"]
    assert await count(h, WorkspaceSettings) == 0 and await count(h, CommitteeSettings) == 0
    assert h.slack.calls_to("chat.postEphemeral") == []


async def test_non_admins_are_refused_in_one_line_and_nothing_changes(harness):
    h = harness
    await setup_cyp(h)
    reply = await h.command("/scrutiny", "settings", user="UDAVE", channel="CCYP")
    assert reply.ephemeral and "Only workspace admins" in reply.visible and "\n" not in reply.visible
    assert h.slack.calls_to("views.open") == []
    # A form an admin opened, submitted by someone who isn't one: refused, nothing stored.
    view = await open_settings(h)
    status, body = await h.submit(view, {("remind_days", "value"): "3"}, user="UDAVE")
    assert body["response_action"] == "errors" and "Only workspace admins" in body["errors"]["council_name"]
    reply = await h.command("/scrutiny", "admin add <@UCAROL|carol>", user="UDAVE", channel="CCYP")
    assert "Only workspace admins" in reply.visible
    assert await count(h, WorkspaceSettings) == 0 and await count(h, WorkspaceAdmin) == 0


async def test_team_info_failing_leaves_the_name_empty(harness):
    h = harness
    h.slack.fail_next("team.info", error="missing_scope")
    view = await open_settings(h, channel="CDM")
    assert initial(view, "council_name") is None
    assert "committee_update_days" not in block_ids(view)   # no committee here


# ---------------------------------------------------------------- admins per workspace

async def test_admins_named_per_workspace(harness):
    h = harness
    await setup_cyp(h)
    # Dave is nobody's admin yet.
    reply = await h.command("/scrutiny", "setup env Environment", user="UDAVE", channel="CENV")
    assert "Only workspace admins" in reply.visible
    reply = await h.command("/scrutiny", "admin add <@UDAVE|dave>", user="UADMIN", channel="CCYP")
    assert "is now an admin" in reply.visible
    reply = await h.command("/scrutiny", "admin add <@UDAVE|dave>", user="UADMIN", channel="CCYP")
    assert "already an admin" in reply.visible
    assert await count(h, WorkspaceAdmin) == 1
    # Named in T1, Dave can set up there — and he, in turn, can name others.
    reply = await h.command("/scrutiny", "setup env Environment", user="UDAVE", channel="CENV")
    assert "bound to the new" in reply.visible
    listed = await h.command("/scrutiny", "admin list", user="UDAVE", channel="CCYP")
    assert "<@UDAVE>" in listed.visible and "named by <@UADMIN>" in listed.visible and "<@UENV>" in listed.visible
    # …but not in T2: no admin of one workspace is an admin of another.
    assert await h.deps.directory.is_admin("UDAVE", "T1")
    assert not await h.deps.directory.is_admin("UDAVE", "T2")
    reply = await h.command("/scrutiny", "setup cyp Other", user="UDAVE", channel="CT2", team="T2")
    assert "Only workspace admins" in reply.visible or "another organisation" in reply.visible
    assert await count(h, Committee, Committee.team_id == "T2") == 0
    reply = await h.command("/scrutiny", "settings", user="UDAVE", channel="CT2", team="T2")
    assert "Only workspace admins" in reply.visible or "another organisation" in reply.visible
    t2 = await h.command("/scrutiny", "admin list", user="UT2ADMIN", channel="CT2", team="T2")
    assert "UDAVE" not in t2.visible
    # T2's admin names their own admin there: T1 is untouched.
    reply = await h.command("/scrutiny", "admin add <@UCAROL|carol>", user="UT2ADMIN", channel="CT2", team="T2")
    assert "is now an admin" in reply.visible
    assert await h.deps.directory.is_admin("UCAROL", "T2") and not await h.deps.directory.is_admin("UCAROL", "T1")
    # Removed: kept in the history, and no longer an admin.
    reply = await h.command("/scrutiny", "admin remove <@UDAVE|dave>", user="UADMIN", channel="CCYP")
    assert "no longer an admin" in reply.visible
    [row] = await rows(h, WorkspaceAdmin, WorkspaceAdmin.team_id == "T1")
    assert (row.team_id, row.user_id, row.added_by, row.removed_by) == ("T1", "UDAVE", "UADMIN", "UADMIN")
    reply = await h.command("/scrutiny", "settings", user="UDAVE", channel="CCYP")
    assert "Only workspace admins" in reply.visible
    actions = [a.action for a in await rows(h, AuditEvent, AuditEvent.entity == "admin", AuditEvent.team_id == "T1")]
    assert actions == ["add", "remove"]
    reply = await h.command("/scrutiny", "admin add dave", user="UADMIN", channel="CCYP")
    assert "/scrutiny admin add @someone" in reply.visible
    reply = await h.command("/scrutiny", "admin add <@UNOBODY|nobody>", user="UADMIN", channel="CCYP")
    assert "can't find that person" in reply.visible
    assert await count(h, WorkspaceAdmin, WorkspaceAdmin.user_id == "UNOBODY") == 0


# ---------------------------------------------------------------- the scheduled rounds

LONDON = ZoneInfo("Europe/London")
CABINET = "Cabinet Member for Children"


def at(d: date, hh: int = 9, mm: int = 30, tz=LONDON) -> datetime:
    return datetime.combine(d, time(hh, mm), tzinfo=tz).astimezone(timezone.utc)


async def save_settings(h, answers: dict, *, user="UADMIN", channel="CCYP", team="T1") -> None:
    view = await open_settings(h, user=user, channel=channel, team=team,
                               count=len(h.slack.calls_to("views.open")) + 1)
    status, body = await h.submit(view, {(k, "value"): v for k, v in answers.items()}, user=user, team=team)
    assert (status, body) == (200, None), body


async def two_councils(h) -> None:
    """T1: #cyp and the private #ssc (Alice chairs both, Bob their officer, Carol the Cabinet
    Member). T2: its own #cyp, where its admin holds every role."""
    for text in (f"setup cyp {CYP}", "role chair <@UALICE|alice>", "role officer <@UBOB|bob>",
                 f'role "{CABINET}" <@UCAROL|carol>'):
        await h.command("/scrutiny", text, user="UADMIN", channel="CCYP")
    for text in ("setup ssc Safeguarding Sub-Committee", "role chair <@UALICE|alice>", "role officer <@UBOB|bob>"):
        await h.command("/scrutiny", text, user="UADMIN", channel="CSSC")
    for text in (f"setup cyp {CYP}", "role chair <@UT2ADMIN|t2admin>", f'role "{CABINET}" <@UT2ADMIN|t2admin>'):
        await h.command("/scrutiny", text, user="UT2ADMIN", channel="CT2", team="T2")


async def action(h, due: date, *, team="T1", code="cyp", text="Arrange foster carer training") -> int:
    async with h.db.session() as s, s.begin():
        committee = await committee_by_code(s, team, code)
        role = await s.scalar(select(Role).filter_by(team_id=team, key=role_key(CABINET)))
        item = await items.create_action(s, team_id=team, committee=committee, text=text, roles=[role], due=due,
                                         actor="UADMIN", now=h.clock.now, status="in progress")
        return item.id


async def keys(h, prefix: str) -> list[str]:
    async with h.db.session() as s:
        return sorted(await s.scalars(select(OutboxMessage.key).where(OutboxMessage.key.startswith(prefix))))


async def rounds(h, now: datetime) -> None:
    await run_scheduled(h.db, h.settings, now)


async def test_scottish_bank_holidays_and_a_councils_time_zone_move_its_rounds(harness):
    h = harness
    await two_councils(h)
    # Both councils have an action due Friday 27 November 2026, overdue from Monday 30 November —
    # St Andrew's Day, a bank holiday in Scotland only.
    t1 = await action(h, date(2026, 11, 27))
    t2 = await action(h, date(2026, 11, 27), team="T2")
    await save_settings(h, {"holiday_region": "scotland"})
    await rounds(h, at(date(2026, 11, 30)))
    # T2 (England and Wales, the default) is reminded on Monday; T1 (Scotland) is not.
    assert await keys(h, "remind:overdue:") == [f"remind:overdue:{t2}:2026-11-27:UT2ADMIN:0"]
    await rounds(h, at(date(2026, 12, 1)))
    assert await keys(h, "remind:overdue:") == sorted([f"remind:overdue:{t1}:2026-11-27:UCAROL:0",
                                                       f"remind:overdue:{t2}:2026-11-27:UT2ADMIN:0"])
    # Back to England and Wales: the form's "Default" choice clears the council's own setting.
    await save_settings(h, {"holiday_region": "default"})
    async with h.db.session() as s:
        assert (await s.get(WorkspaceSettings, "T1")).holiday_region is None


async def test_a_councils_time_zone_decides_its_working_hours(harness):
    h = harness
    await two_councils(h)
    t1 = await action(h, date(2026, 11, 27))
    t2 = await action(h, date(2026, 11, 27), team="T2")
    await save_settings(h, {"tz_name": "Asia/Tokyo"})
    # 09:30 on Monday in Tokyo is 00:30 in London: T1's reminder goes, T2's waits for 09:00 London.
    await rounds(h, at(date(2026, 11, 30), tz=ZoneInfo("Asia/Tokyo")))
    assert await keys(h, "remind:overdue:") == [f"remind:overdue:{t1}:2026-11-27:UCAROL:0"]
    await rounds(h, at(date(2026, 11, 30)))
    assert f"remind:overdue:{t2}:2026-11-27:UT2ADMIN:0" in await keys(h, "remind:overdue:")


async def test_escalation_counts_the_councils_bank_holidays(harness):
    h = harness
    await two_councils(h)
    # Due Friday 13 November 2026: ten working days late on Friday 27th. Monday 30th is the
    # eleventh in England and Wales, but a holiday in Scotland, where Tuesday is the eleventh.
    t1 = await action(h, date(2026, 11, 13))
    t2 = await action(h, date(2026, 11, 13), team="T2")
    await save_settings(h, {"holiday_region": "scotland"})
    await rounds(h, at(date(2026, 11, 27)))
    assert await keys(h, "escalate:") == []
    await rounds(h, at(date(2026, 11, 30)))
    assert await keys(h, "escalate:") == [f"escalate:{t2}:2026-11-13:UT2ADMIN"]
    await rounds(h, at(date(2026, 12, 1)))
    assert await keys(h, "escalate:") == sorted([f"escalate:{t1}:2026-11-13:UALICE", f"escalate:{t1}:2026-11-13:UBOB",
                                                 f"escalate:{t2}:2026-11-13:UT2ADMIN"])
    async with h.db.session() as s:
        days = {e.item_id: (e.escalated_on, e.days_late) for e in await s.scalars(select(Escalation))}
    assert days == {t1: (date(2026, 12, 1), 11), t2: (date(2026, 11, 30), 11)}


async def test_a_committees_escalation_days_and_roles_win_over_the_councils(harness):
    h = harness
    await two_councils(h)
    # The council escalates after 20 working days; #cyp after 3, to its chair only.
    await save_settings(h, {"escalate_days": "20", "committee_escalate_days": "3",
                            "committee_escalate_roles": ["chair"]})
    cyp = await action(h, date(2026, 5, 14))
    ssc = await action(h, date(2026, 5, 14), code="ssc")
    t2 = await action(h, date(2026, 5, 14), team="T2")
    # Working days after Thursday 14 May: 15th 1, 18th 2, 19th 3, 20th 4.
    await rounds(h, at(date(2026, 5, 19)))
    assert await keys(h, "escalate:") == []
    await rounds(h, at(date(2026, 5, 20)))
    assert await keys(h, "escalate:") == [f"escalate:{cyp}:2026-05-14:UALICE"]
    # T2 keeps the default (10): the 1st of June is its eleventh working day (25 May a holiday).
    await rounds(h, at(date(2026, 6, 1)))
    assert await keys(h, "escalate:") == sorted([f"escalate:{cyp}:2026-05-14:UALICE",
                                                 f"escalate:{t2}:2026-05-14:UT2ADMIN"])
    # #ssc has no settings of its own: the council's 20 working days (12 June is the 20th, 15 June the 21st).
    await rounds(h, at(date(2026, 6, 12)))
    assert not [k for k in await keys(h, "escalate:") if k.startswith(f"escalate:{ssc}:")]
    await rounds(h, at(date(2026, 6, 15)))
    assert [k for k in await keys(h, "escalate:") if k.startswith(f"escalate:{ssc}:")] == [
        f"escalate:{ssc}:2026-05-14:UALICE", f"escalate:{ssc}:2026-05-14:UBOB"]


async def test_meeting_length_and_update_days_and_digest_delay(harness):
    h = harness
    await two_councils(h)
    await save_settings(h, {"meeting_minutes": "90", "digest_delay_minutes": "30", "committee_update_days": "2"})
    reply = await h.command("/meeting", "new 10 June 2026 10:00", user="UADMIN", channel="CCYP")
    assert reply is not None
    async with h.db.session() as s:
        [meeting] = list(await s.scalars(select(Meeting).where(Meeting.team_id == "T1")))
    assert meeting.ends_at - meeting.starts_at == timedelta(minutes=90)
    await action(h, date(2026, 9, 30))
    # Asked 2 working days before the meeting (Monday 8 June), not 10 (27 May).
    await rounds(h, at(date(2026, 6, 5)))
    assert await keys(h, "updates:request:") == []
    await rounds(h, at(date(2026, 6, 8)))
    assert await keys(h, "updates:request:") == [f"updates:request:{meeting.id}:UCAROL"]
    # Nobody closed it: its digest goes 30 minutes after it ended (11:30), not two hours.
    await rounds(h, at(date(2026, 6, 10), 11, 59))
    assert await keys(h, "digest:") == []
    await rounds(h, at(date(2026, 6, 10), 12, 0))
    assert f"digest:meeting:{meeting.id}" in await keys(h, "digest:")


# ---------------------------------------------------------------- the council's name

async def test_council_name_heads_the_paper_and_signs_the_letter(harness):
    from bot.importing import ImportedItem
    from bot.services.imports import import_items

    h = harness
    await two_councils(h)
    await save_settings(h, {"council_name": "Borough of Testford"})
    async with h.db.session() as s, s.begin():
        await import_items(s, team_id="T1", committee_code="cyp", review_code="sg2010", actor="UADMIN",
                           now=h.clock.now, title="Safeguarding", agreed_on=date(2026, 3, 1),
                           items=[ImportedItem(number="1", text="Train every foster carer.", owners=[CABINET])])
    await h.command("/scrutiny", "export md", user="UADMIN", channel="CCYP")
    [paper] = [f for f in h.slack.files.values() if (f.get("filename") or "").endswith(".md")]
    assert "**Council:** Borough of Testford" in paper["content"].decode()
    # T2 set nothing: no council's name is made up for it.
    async with h.db.session() as s:
        assert await council_settings.council_name(s, "T2") == ""
    # The decision letter is signed for the committee, then the council.
    await h.command("/meeting", "new 28 May 2026 10:00", user="UALICE", channel="CCYP")
    await h.command("/meeting", "decision the Cabinet Member report back in September", user="UALICE", channel="CCYP")
    before = len(h.slack.calls_to("views.open"))
    await h.command("/letter", "", user="UALICE", channel="CCYP", expect_reply=False)
    view = await h.opened_view(before + 1)
    letter = "\n".join(b["element"].get("initial_value") or "" for b in view["blocks"] if b.get("type") == "input")
    assert f"Chair, {CYP}\nBorough of Testford" in letter


async def test_help_tells_of_settings_and_admins(harness):
    reply = await harness.command("/scrutiny", "help", user="UDAVE", channel="CCYP")
    assert "/scrutiny settings" in reply.visible and "/scrutiny admin add @someone" in reply.visible


async def test_a_paused_item_resumes_on_its_councils_day(harness):
    h = harness
    await two_councils(h)
    t1 = await action(h, date(2026, 12, 31))
    t2 = await action(h, date(2026, 12, 31), team="T2")
    async with h.db.session() as s, s.begin():
        for item_id in (t1, t2):
            item = await s.get(Item, item_id)
            item.status, item.paused_until = "paused", date(2026, 12, 2)
    await save_settings(h, {"tz_name": "Pacific/Auckland"})
    # 14:00 on 1 December in London is 03:00 on 2 December in Auckland: T1's day to resume has
    # come, T2's (London) not yet.
    await run_scheduled(h.db, h.settings, datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc))
    async with h.db.session() as s:
        statuses = {i: (await s.get(Item, i)).status for i in (t1, t2)}
    assert statuses == {t1: "in progress", t2: "paused"}
