"""/meeting and the post-meeting digest, through the real app over signed HTTP against the
fake Slack; the digest and DMs leave through the outbox and a Dispatcher run against the
same fake, so the tests see what actually arrives."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select

from bot.delivery.dispatcher import Dispatcher
from bot.scheduled import home_builder, run_scheduled
from bot.services import items
from bot.services.directory import Directory
from bot.services.meetings import send_overdue_digests
from bot.slack_ui import meetings as meetings_ui
from models.delivery import OutboxMessage
from models.meetings import Decision, Meeting
from models.queries import committee_by_code, role_key
from models.tables import AuditEvent, Item, Position, Role
from tests.harness import Reply

CYP = "Children and Young People Scrutiny Committee"
CABINET = "Cabinet Member for Children"
# conftest's NOW is Monday 1 June 2026, 09:30 UTC = 10:30 in London (BST).
MEETING_START = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)   # "1 June 2026 10:00"


# ---- helpers ------------------------------------------------------------------------------

async def ok(h, text, user, channel="CCYP", team="T1", command="/meeting") -> Reply:
    return await h.command(command, text, user=user, channel=channel, team=team)


async def set_up(h) -> None:
    """#cyp bound to the committee; Alice chairs, Bob is the officer, Carol the Cabinet Member."""
    await ok(h, f"setup cyp {CYP}", "UADMIN", command="/scrutiny")
    await ok(h, "role chair <@UALICE|alice>", "UADMIN", command="/scrutiny")
    await ok(h, "role officer <@UBOB|bob>", "UADMIN", command="/scrutiny")
    await ok(h, f'role "{CABINET}" <@UCAROL|carol>', "UADMIN", command="/scrutiny")
    await ok(h, 'role "Director of Children\'s Services" Dan Director <mailto:dan@essex.gov.uk|dan@essex.gov.uk>',
             "UADMIN", command="/scrutiny")


def dispatcher(h) -> Dispatcher:
    client = AsyncWebClient(token="xoxb-test", base_url=h.slack.api_url, retry_handlers=[])
    return Dispatcher(h.db, client, h.clock, per_channel=0.0, build_view=home_builder(Directory(client)))


def posts(h, channel: str) -> list[Reply]:
    """Digest messages posted to a channel or DM (reminders may be sent there too)."""
    def key(c) -> str:
        meta = c.args.get("metadata") or {}
        if isinstance(meta, str):
            import json
            meta = json.loads(meta)
        return (meta.get("event_payload") or {}).get("key", "")
    return [Reply(c) for c in h.slack.calls_to("chat.postMessage")
            if not c.failed and c.args.get("channel") == channel and key(c).startswith("digest:")]


async def count(h, model, *where) -> int:
    async with h.db.session() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def meetings_of(h, team="T1") -> list[Meeting]:
    async with h.db.session() as s:
        return list(await s.scalars(select(Meeting).where(Meeting.team_id == team).order_by(Meeting.starts_at)))


async def outbox_keys(h) -> list[str]:
    async with h.db.session() as s:
        return sorted(await s.scalars(select(OutboxMessage.key).where(OutboxMessage.key.like("digest:%"))))


async def add_old_meeting_and_items(h) -> int:
    """A previous meeting (1 May, closed) and two items from before it: act-1 owned by the
    Cabinet Member, overdue, with a position from April; act-2 owned by an outside person."""
    may = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)
    async with h.db.session() as s, s.begin():
        committee = await committee_by_code(s, "T1", "cyp")
        old = Meeting(team_id="T1", committee_id=committee.id, starts_at=may, ends_at=may + timedelta(hours=2),
                      created_by="UBOB", created_at=may, closed_at=may + timedelta(hours=2), closed_by="UBOB")
        s.add(old)
        cabinet = await s.scalar(select(Role).filter_by(team_id="T1", key=role_key(CABINET)))
        director = await s.scalar(select(Role).filter_by(team_id="T1", key=role_key("Director of Children's Services")))
        first = await items.create_action(s, team_id="T1", committee=committee, text="Arrange foster carer training",
                                          roles=[cabinet], due=date(2026, 5, 15), actor="UBOB",
                                          now=may - timedelta(days=20))
        await items.create_action(s, team_id="T1", committee=committee, text="Name a safeguarding lead",
                                  roles=[director], due=date(2026, 12, 31), actor="UBOB", now=may - timedelta(days=20))
        s.add(Position(item_id=first.id, text="April position: a provider is being sought", as_of=date(2026, 4, 20),
                       author_name="Bob Officer", source="slack", created_at=may - timedelta(days=11)))
        await s.flush()
        return old.id


# ---- scheduling and showing ---------------------------------------------------------------

async def test_schedule_and_show(harness):
    h = harness
    await set_up(h)
    r = await ok(h, "", "UDAVE")
    assert "no meeting scheduled" in r.text and r.ephemeral

    r = await ok(h, "help", "UDAVE")
    assert "/meeting new 3 June 2026 10:00" in r.visible and "/meeting close" in r.visible

    r = await ok(h, "new 3 June 2026 10:00", "UDAVE")
    assert "Only the chair and officers" in r.text
    assert await count(h, Meeting) == 0

    r = await ok(h, "new 3 June 2026 10:00", "UBOB")
    assert "Scheduled a meeting of *Children and Young People Scrutiny Committee*: Wed 3 Jun 2026, 10:00–12:00" in r.visible
    [meeting] = await meetings_of(h)
    assert meeting.starts_at == datetime(2026, 6, 3, 9, 0, tzinfo=timezone.utc)   # 10:00 BST
    assert meeting.ends_at - meeting.starts_at == timedelta(hours=2)
    assert meeting.created_by == "UBOB" and meeting.closed_at is None
    assert await count(h, AuditEvent, AuditEvent.entity == "meeting", AuditEvent.action == "create") == 1

    # Anyone sees the next meeting.
    r = await ok(h, "", "UDAVE")
    assert "Wed 3 Jun 2026, 10:00" in r.visible and "next meeting" in r.visible

    # A chair may use other wordings; a time is needed; duplicate meetings are refused (a past one is
    # recorded as held: tests/test_corrections.py).
    r = await ok(h, "new next Monday at 2pm", "UALICE")
    assert "Mon 8 Jun 2026, 14:00" in r.visible
    for text, expect in [("new 10 June 2026", "Add a start time"),
                         ("new someday soon", "couldn't read"),
                         ("new 3/6/2026 10am", "already has a meeting"),
                         ("adjourn", "I don't know `/meeting adjourn`")]:
        r = await ok(h, text, "UALICE")
        assert expect in r.text, (text, r.text)
    assert len(await meetings_of(h)) == 2
    # The admin may schedule too; the channel must be bound.
    r = await ok(h, "new 10 June 2026 18:30", "UENV")
    assert "Wed 10 Jun 2026, 18:30" in r.visible
    r = await ok(h, "new 10 June 2026 10:00", "UBOB", channel="CSSC")
    assert "isn't bound to a committee" in r.text


# ---- decisions and actions arising --------------------------------------------------------

async def test_decisions_numbered_and_actions_arising(harness):
    h = harness
    await set_up(h)
    await ok(h, "new 8 June 2026 10:00", "UBOB")           # the next one
    await ok(h, "new 1 June 2026 10:00", "UBOB")           # started at 10:00, now 10:30: current
    r = await ok(h, "decision Resolved – That the Cabinet Member report back on training in September", "UALICE")
    assert "Resolved – That (1) the Cabinet Member report back on training in September" in r.visible
    r = await ok(h, "decision partner agencies confirm their safeguarding leads", "UBOB")
    assert "Resolved – That (2) partner agencies confirm" in r.visible
    async with h.db.session() as s:
        rows = list(await s.scalars(select(Decision).order_by(Decision.number)))
        current = (await s.scalars(select(Meeting).where(Meeting.starts_at == MEETING_START))).one()
    assert [(d.number, d.meeting_id) for d in rows] == [(1, current.id), (2, current.id)]
    assert rows[0].text.startswith("the Cabinet Member")

    r = await ok(h, f'action Arrange foster carer training owner "{CABINET}" due 30 September', "UBOB")
    assert "Recorded action act-1" in r.visible and "<@UCAROL>" in r.visible and "30 Sep 2026" in r.visible
    r = await ok(h, "action Write to the schools forum owner <@UDAVE|dave> due end of June", "UALICE")
    assert "act-2" in r.visible and "<@UDAVE>" in r.visible
    async with h.db.session() as s:
        acts = list(await s.scalars(select(Item).where(Item.kind == "act").order_by(Item.seq)))
        assert [(i.ref, i.due, i.meeting_id, i.status) for i in acts] == [
            ("act-1", date(2026, 9, 30), current.id, "not started"),
            ("act-2", date(2026, 6, 30), current.id, "not started")]
        assert [o.role.name for o in acts[0].owners] == [CABINET]
        assert [h_.user_id for h_ in acts[1].owners[0].role.current_holders] == ["UDAVE"]

    # An unreadable due date: one polite line, nothing stored.
    r = await ok(h, "action Visit the children's homes owner <@UDAVE|dave> due whenever", "UBOB")
    assert "couldn't read “whenever” as a due date" in r.text and "30/9/2026" in r.text
    r = await ok(h, "action Visit the children's homes due next week", "UBOB")
    assert "Say who owns the action" in r.text
    # A member who isn't chair or officer: refused, nothing stored.
    r = await ok(h, "decision we all go home", "UDAVE")
    assert "Only the chair and officers" in r.text
    r = await ok(h, "action Something owner <@UDAVE|dave> due Friday", "UDAVE")
    assert "Only the chair and officers" in r.text
    r = await ok(h, "close", "UDAVE")
    assert "Only the chair and officers" in r.text
    assert await count(h, Decision) == 2
    assert await count(h, Item) == 2
    assert await count(h, Meeting, Meeting.closed_at.is_not(None)) == 0
    assert await count(h, AuditEvent, AuditEvent.entity == "decision") == 2
    assert await count(h, AuditEvent, AuditEvent.entity == "meeting", AuditEvent.action == "add_action") == 2

    r = await ok(h, "", "UDAVE")
    assert "Mon 1 Jun 2026, 10:00" in r.visible and "in progress" in r.visible
    assert "Resolved – That (1)" in r.visible and "(2) partner agencies" in r.visible
    assert "act-1" in r.visible and "act-2" in r.visible


# ---- closing and the digest ---------------------------------------------------------------

async def test_close_posts_one_digest_and_one_dm_per_owner(harness):
    h = harness
    await set_up(h)
    await add_old_meeting_and_items(h)
    # Another council has a meeting in progress too: it must be left alone.
    await ok(h, "setup cyp Their Committee", "UT2ADMIN", channel="CT2", team="T2", command="/scrutiny")
    r = await ok(h, "new 1 June 2026 10:00", "UT2ADMIN", channel="CT2", team="T2")
    assert "Scheduled" in r.text

    # Since the previous meeting: a position and a status change on act-1.
    r = await ok(h, "act-1 position Training booked for July", "UCAROL", command="/update")
    r = await ok(h, "act-1 status in progress", "UCAROL", command="/update")
    assert "in progress" in r.visible

    await ok(h, "new 1 June 2026 10:00", "UBOB")
    await ok(h, "decision the Cabinet Member report back on foster carer training by September", "UALICE")
    await ok(h, "decision partner agencies confirm their safeguarding leads", "UALICE")
    await ok(h, f'action Report training numbers owner "{CABINET}" due 30 September', "UBOB")
    await ok(h, "action Write to the schools forum owner <@UDAVE|dave> due end of June", "UBOB")

    r = await ok(h, "close", "UALICE")
    assert "Closed the meeting of Mon 1 Jun 2026, 10:00" in r.visible and "<#CCYP>" in r.visible
    assert "2 owners will get a direct message" in r.visible
    [t1_old, t1_meeting] = await meetings_of(h)
    assert t1_meeting.closed_by == "UALICE" and t1_meeting.closed_at == h.clock.now
    assert await count(h, AuditEvent, AuditEvent.entity == "meeting", AuditEvent.action == "close") == 1
    m = t1_meeting.id
    assert await outbox_keys(h) == sorted([f"digest:meeting:{m}", f"digest:meeting:{m}:UCAROL",
                                           f"digest:meeting:{m}:UDAVE"])
    [t2_meeting] = await meetings_of(h, "T2")
    assert t2_meeting.closed_at is None

    # Closing again, and the scheduled job long after: nothing more.
    r = await ok(h, "close", "UBOB")
    assert "already closed" in r.text
    h.clock.now += timedelta(hours=6)
    assert await run_scheduled(h.db, h.settings, h.clock.now) >= 1   # T2's meeting gets its own digest now
    h.clock.now += timedelta(minutes=5)
    await run_scheduled(h.db, h.settings, h.clock.now)
    keys = await outbox_keys(h)
    assert [k for k in keys if k.startswith(f"digest:meeting:{m}")] == sorted(
        [f"digest:meeting:{m}", f"digest:meeting:{m}:UCAROL", f"digest:meeting:{m}:UDAVE"])
    assert f"digest:meeting:{t2_meeting.id}" in keys

    d = dispatcher(h)
    await d.run_once()
    await d.run_once()
    [digest] = posts(h, "CCYP")
    [t2_digest] = posts(h, "CT2")
    assert "Their Committee" in t2_digest.text and "closed automatically" in t2_digest.visible
    text = digest.visible
    assert f"Meeting digest: {CYP}" in text and "Meeting of Mon 1 Jun 2026, 10:00" in text
    assert "closed by <@UALICE>" in text
    assert "Resolved – That (1) the Cabinet Member report back on foster carer training by September" in text
    assert "(2) partner agencies confirm their safeguarding leads" in text
    # Actions arising with owners (holders mentioned) and due dates.
    assert "*act-3* Report training numbers — Cabinet Member for Children (<@UCAROL>) · 30 Sep 2026" in text
    assert "*act-4* Write to the schools forum — <@UDAVE> · 30 Jun 2026" in text
    # Positions since the previous meeting (1 May), not the April one.
    assert "since the previous meeting (1 May 2026)" in text
    assert "Training booked for July" in text and "April position" not in text
    assert "status: not started → *in progress*" in text
    # What is overdue, and counts by RAG.
    assert "Overdue (1)" in text and "*act-1* Arrange foster carer training" in text
    assert "2 weeks overdue" in text
    assert ":red_circle: 1 red · :large_orange_circle: 0 amber · :large_green_circle: 3 green" in text
    assert digest.text.startswith(f"Digest of the {CYP} meeting of Mon 1 Jun 2026, 10:00: 2 decisions, 2 actions")
    assert "act-3" in digest.text  # the fallback carries the content too

    # One DM per owner, with their own new or changed items.
    [carol] = posts(h, "UCAROL")
    assert "2 items of yours are new or changed" in carol.text
    assert "*act-3* (new action arising) Report training numbers" in carol.visible
    assert "*act-1* (changed) Arrange foster carer training" in carol.visible
    assert "Status: not started → *in progress*" in carol.visible and "Training booked for July" in carol.visible
    assert "act-4" not in carol.visible
    assert carol.button("Update")["action_id"] == "item_update"
    [dave] = posts(h, "UDAVE")
    assert "1 item of yours is new or changed" in dave.text
    assert "act-4" in dave.visible and "act-3" not in dave.visible and "act-1" not in dave.visible
    assert posts(h, "UBOB") == [] and posts(h, "UALICE") == []   # they own nothing here
    # Nothing twice, however often the dispatcher runs.
    await d.run_once()
    assert len(posts(h, "CCYP")) == 1 and len(posts(h, "UCAROL")) == 1 and len(posts(h, "UDAVE")) == 1


async def test_auto_digest_after_the_delay_when_nobody_closed(harness):
    h = harness
    await set_up(h)
    await ok(h, "new 1 June 2026 10:00", "UBOB")              # ends 12:00 BST = 11:00 UTC
    await ok(h, "decision the report be noted", "UBOB")
    await ok(h, "action Send the report to the Board owner <@UCAROL|carol> due 30 June", "UBOB")
    [meeting] = await meetings_of(h)
    assert h.settings.digest_delay_minutes == 120

    h.clock.now = meeting.ends_at + timedelta(minutes=119)
    assert await run_scheduled(h.db, h.settings, h.clock.now) == 0
    assert (await meetings_of(h))[0].closed_at is None
    h.clock.now = meeting.ends_at + timedelta(minutes=120)
    assert await run_scheduled(h.db, h.settings, h.clock.now) == 2     # the channel and Carol
    [closed] = await meetings_of(h)
    assert closed.closed_by == "auto" and closed.closed_at == h.clock.now
    # Run twice (or in another process), then someone tries to close it: still one digest.
    h.clock.now += timedelta(seconds=5)
    assert await run_scheduled(h.db, h.settings, h.clock.now) == 0
    async with h.db.session() as s, s.begin():
        assert await send_overdue_digests(s, h.clock.now, h.settings, render=meetings_ui) == 0
    r = await ok(h, "close", "UALICE")
    assert "already closed" in r.text
    d = dispatcher(h)
    await d.run_once()
    await d.run_once()
    [digest] = posts(h, "CCYP")
    assert "closed automatically" in digest.visible and "Resolved – That (1) the report be noted" in digest.visible
    assert "act-1" in digest.visible and "<@UCAROL>" in digest.visible
    [dm] = posts(h, "UCAROL")
    assert "act-1" in dm.visible
    assert await count(h, AuditEvent, AuditEvent.entity == "meeting", AuditEvent.action == "close",
                       AuditEvent.actor == "auto") == 1


async def test_close_racing_the_scheduled_job_sends_one_digest(harness):
    h = harness
    await set_up(h)
    await ok(h, "new 1 June 2026 10:00", "UBOB")
    await ok(h, "action Send the report to the Board owner <@UCAROL|carol> due 30 June", "UBOB")
    [meeting] = await meetings_of(h)
    h.clock.now = meeting.ends_at + timedelta(hours=3)
    key = "race"
    from bot.offline import slack_payloads as payloads
    body = payloads.slash_command_body("/meeting", "close", user_id="UALICE", team_id="T1", channel_id="CCYP",
                                       response_url=h.slack.response_url(key))
    await asyncio.gather(h.post(body), run_scheduled(h.db, h.settings, h.clock.now),
                         run_scheduled(h.db, h.settings, h.clock.now))
    reply = await h.reply(key)
    assert "Closed the meeting" in reply.text or "already closed" in reply.text or "a moment ago" in reply.text
    await h.settle()
    assert await outbox_keys(h) == sorted([f"digest:meeting:{meeting.id}", f"digest:meeting:{meeting.id}:UCAROL"])
    d = dispatcher(h)
    await d.run_once()
    assert len(posts(h, "CCYP")) == 1 and len(posts(h, "UCAROL")) == 1
    assert await count(h, AuditEvent, AuditEvent.entity == "meeting", AuditEvent.action == "close") == 1


async def test_meetings_stay_in_their_workspace(harness):
    h = harness
    await set_up(h)
    await ok(h, "setup cyp Their Committee", "UT2ADMIN", channel="CT2", team="T2", command="/scrutiny")
    await ok(h, "new 1 June 2026 10:00", "UT2ADMIN", channel="CT2", team="T2")
    await ok(h, "decision their own business", "UT2ADMIN", channel="CT2", team="T2")
    # T1's committee of the same code sees none of it.
    r = await ok(h, "", "UDAVE")
    assert "no meeting scheduled" in r.text
    r = await ok(h, "decision ours", "UBOB")
    assert "no meeting in progress or scheduled" in r.text
    r = await ok(h, "close", "UBOB")
    assert "no meeting to close" in r.text
    [theirs] = await meetings_of(h, "T2")
    assert theirs.closed_at is None and await count(h, Decision) == 1
    assert await outbox_keys(h) == []
