"""Commands that forgive or warn (issue 13): an unknown owner role, an unknown person, renaming
a committee, `/actions owner chair`, cancelling and moving meetings, correcting and withdrawing
decisions, writing up a meeting after it was held, removing agencies and contacts, and the Home
tab after a letter is acknowledged. Each through the real app over signed HTTP: what the person
sees, and what is stored (nothing deleted, every correction audited)."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select

from bot.services import items
from bot.services.meetings import send_overdue_digests
from bot.slack_ui import meetings as meetings_ui
from bot.slack_ui.letters import ACK_ACTION
from bot.slack_ui.metadata import LetterAck
from models.delivery import OutboxMessage
from models.meetings import Agency, AgencyContact, Decision, Letter, LetterRecipient, Meeting
from models.queries import committee_by_code, role_key
from models.tables import AuditEvent, Committee, Item, ItemOwner, Role, RoleHolder
from tests.harness import Reply, visible_text

CYP = "Children and Young People Scrutiny Committee"
CABINET = "Cabinet Member"


# ---- helpers ------------------------------------------------------------------------------

async def say(h, command, text, user, channel="CCYP") -> Reply:
    return await h.command(command, text, user=user, channel=channel)


async def set_up(h) -> int:
    """#cyp bound; Alice chairs, Bob is the officer, Carol the Cabinet Member; act-1 owned by the
    Cabinet Member; a role nobody holds (Director of Public Health). Returns act-1's id."""
    await say(h, "/scrutiny", f"setup cyp {CYP}", "UADMIN")
    await say(h, "/scrutiny", "role chair <@UALICE|alice>", "UADMIN")
    await say(h, "/scrutiny", "role officer <@UBOB|bob>", "UADMIN")
    await say(h, "/scrutiny", f'role "{CABINET}" <@UCAROL|carol>', "UADMIN")
    async with h.db.session() as s, s.begin():
        committee = await committee_by_code(s, "T1", "cyp")
        cabinet = await s.scalar(select(Role).filter_by(team_id="T1", key=role_key(CABINET)))
        s.add(Role(team_id="T1", name="Director of Public Health", key=role_key("Director of Public Health"),
                   kind="role", created_at=h.clock.now))
        item = await items.create_action(s, team_id="T1", committee=committee, text="Arrange foster carer training",
                                         roles=[cabinet], due=date(2026, 9, 30), actor="UBOB", now=h.clock.now)
        return item.id


async def count(h, model, *where) -> int:
    async with h.db.session() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def audits(h, entity: str) -> list[AuditEvent]:
    async with h.db.session() as s:
        return list(await s.scalars(select(AuditEvent).where(AuditEvent.entity == entity).order_by(AuditEvent.id)))


async def owner_names(h, item_id: int) -> list[str]:
    async with h.db.session() as s:
        return list(await s.scalars(select(Role.name).join(ItemOwner, ItemOwner.role_id == Role.id)
                                    .where(ItemOwner.item_id == item_id).order_by(ItemOwner.ordinal)))


async def meetings_of(h) -> list[Meeting]:
    async with h.db.session() as s:
        return list(await s.scalars(select(Meeting).order_by(Meeting.id)))


async def digest_text(h) -> str:
    async with h.db.session() as s:
        rows = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.key.like("digest:meeting:%"),
                                                                OutboxMessage.channel == "CCYP")
                                    .order_by(OutboxMessage.id)))
    return "\n".join(visible_text(r.payload.get("blocks") or []) + "\n" + (r.payload.get("text") or "")
                     for r in rows)


async def overdue_digests(h) -> int:
    async with h.db.session() as s, s.begin():
        return await send_overdue_digests(s, h.clock.now, h.settings, render=meetings_ui)


# ---- owners: a typo is refused, a vacant role is warned of --------------------------------

async def test_unknown_owner_role_is_refused_with_a_suggestion(harness):
    h = harness
    act1 = await set_up(h)
    roles_before = await count(h, Role)
    r = await say(h, "/update", 'act-1 owner "Cabinet Membr"', "UBOB")
    assert r.ephemeral
    assert ("There's no role called “Cabinet Membr” — did you mean Cabinet Member? Create it with "
            '`/scrutiny role "Cabinet Membr" @someone`.') in r.text
    assert await count(h, Role) == roles_before          # no vacant role was made
    assert await owner_names(h, act1) == [CABINET]

    # Nothing near it: no guess, still how to create it.
    r = await say(h, "/update", 'act-1 owner "Zebra Keeper"', "UBOB")
    assert "There's no role called “Zebra Keeper”. Create it with" in r.text
    # The same at a meeting: an action arising's owner must exist too.
    await say(h, "/meeting", "new 1 June 2026 10:00", "UBOB")
    r = await say(h, "/meeting", 'action Report numbers owner "Cabinet Membr" due 30 September', "UBOB")
    assert "did you mean Cabinet Member?" in r.text
    assert await count(h, Item) == 1
    assert await count(h, Role) == roles_before


async def test_vacant_owner_role_is_warned_of(harness):
    h = harness
    act1 = await set_up(h)
    r = await say(h, "/update", 'act-1 owner "Director of Public Health"', "UBOB")
    assert "Updated" in r.text
    assert (":bell: Nobody holds *Director of Public Health*. Nobody will be reminded about act-1 until an "
            "admin maps it: `/scrutiny role \"Director of Public Health\" @someone`.") in r.visible
    assert await owner_names(h, act1) == ["Director of Public Health"]

    r = await say(h, "/update", f'act-1 owners "{CABINET}" "Director of Public Health"', "UBOB")
    assert "Nobody holds *Director of Public Health*. Only the other owners will be reminded" in r.visible
    # A held role: no warning.
    r = await say(h, "/update", f'act-1 owner "{CABINET}"', "UBOB")
    assert "Nobody holds" not in r.visible
    # An action arising owned by a vacant role says so too.
    await say(h, "/meeting", "new 1 June 2026 10:00", "UBOB")
    r = await say(h, "/meeting", 'action Report numbers owner "Director of Public Health"', "UBOB")
    assert "Nobody holds *Director of Public Health*" in r.visible


async def test_owner_chair_means_the_committee_chair(harness):
    h = harness
    act1 = await set_up(h)
    r = await say(h, "/update", "act-1 owner chair", "UBOB")
    assert "Nobody holds" not in r.visible
    assert await owner_names(h, act1) == [f"Chair of {CYP}"]
    assert await count(h, Role, Role.name == "chair") == 0
    r = await say(h, "/actions", "owner chair", "UDAVE")
    assert "act-1" in r.visible and "1 open item" in r.text
    r = await say(h, "/actions", "owner Chair", "UDAVE")
    assert "act-1" in r.visible
    r = await say(h, "/actions", "owner officers", "UDAVE")
    assert "act-1" not in r.visible and r.text.startswith("No open items")
    # A vice chair is this committee's own role too.
    r = await say(h, "/scrutiny", 'role "vice chair" <@UDAVE|dave>', "UADMIN")
    assert f"*Vice Chair of {CYP}* is now held by <@UDAVE>" in r.visible
    await say(h, "/update", "act-1 owner vice chair", "UBOB")
    r = await say(h, "/actions", "owner vice chair", "UCAROL")
    assert "act-1" in r.visible


# ---- /scrutiny role with someone Slack didn't recognise ------------------------------------

async def test_role_for_an_unknown_person_says_so(harness):
    h = harness
    await set_up(h)
    holders_before = await count(h, RoleHolder)
    for text in ("chair @nobody", '"Chairman of the ESCB" @nobody'):
        r = await say(h, "/scrutiny", f"role {text}", "UADMIN")
        assert "I don't recognise “@nobody” as a person in this workspace." in r.text, r.text
        assert "pick them from the list" in r.text and "quotes" not in r.text
    assert await count(h, RoleHolder) == holders_before


# ---- /scrutiny setup on a bound channel asks before renaming ---------------------------------

async def test_setup_with_a_new_name_asks_before_renaming(harness):
    h = harness
    await set_up(h)
    new = "Children and Young People Policy and Scrutiny Committee"
    r = await say(h, "/scrutiny", f"setup cyp {new}", "UADMIN")
    assert "Rename the committee `cyp`?" in r.visible and "Nothing has changed yet" in r.visible
    assert f"Name: {CYP} → *{new}*" in r.visible
    async with h.db.session() as s:
        assert (await committee_by_code(s, "T1", "cyp")).name == CYP
    assert [e.action for e in await audits(h, "committee")] == ["create"]

    # Keep the name: nothing changes.
    key = await h.press(r.button("Keep the name"), user="UADMIN", channel="CCYP", message=r)
    kept = await h.reply(key)
    assert "Nothing changed: the committee keeps its name" in kept.visible
    assert [e.action for e in await audits(h, "committee")] == ["create"]

    # A non-admin pressing Rename changes nothing.
    r = await say(h, "/scrutiny", f"setup cyp {new}", "UADMIN")
    key = await h.press(r.button("Rename"), user="UDAVE", channel="CCYP", message=r)
    assert "admin" in (await h.reply(key)).text.lower()
    async with h.db.session() as s:
        assert (await committee_by_code(s, "T1", "cyp")).name == CYP

    key = await h.press(r.button("Rename"), user="UADMIN", channel="CCYP", message=r)
    done = await h.reply(key)
    assert f"this channel's committee is now *{new}*" in done.visible
    async with h.db.session() as s:
        assert (await committee_by_code(s, "T1", "cyp")).name == new
    [_, ev] = await audits(h, "committee")
    assert (ev.action, ev.actor, ev.before["name"], ev.after["name"]) == ("update", "UADMIN", CYP, new)
    # The same name again: nothing to ask, nothing written.
    r = await say(h, "/scrutiny", f"setup cyp {new}", "UADMIN")
    assert "bound to the committee" in r.text
    assert len(await audits(h, "committee")) == 2


# ---- meetings: cancel, move, correct, withdraw, write up afterwards ---------------------------

async def test_cancel_a_meeting_scheduled_by_mistake(harness):
    h = harness
    await set_up(h)
    await say(h, "/meeting", "new 3 June 2026 10:00", "UBOB")
    r = await say(h, "/meeting", "cancel", "UDAVE")
    assert "Only the chair and officers" in r.text
    r = await say(h, "/meeting", "cancel", "UBOB")
    assert "Cancelled the meeting of Wed 3 Jun 2026, 10:00" in r.text and "no digest" in r.visible
    [m] = await meetings_of(h)
    assert m.cancelled_at == h.clock.now and m.cancelled_by == "UBOB" and m.closed_at is not None
    [ev] = [e for e in await audits(h, "meeting") if e.action == "cancel"]
    assert ev.actor == "UBOB"
    r = await say(h, "/meeting", "", "UDAVE")
    assert "no meeting scheduled" in r.text and "Cancelled: ~Wed 3 Jun 2026, 10:00~ (by <@UBOB>)" in r.visible
    # Its time passes and the digest delay too: still no digest, ever.
    h.clock.now = datetime(2026, 6, 4, 12, 0, tzinfo=timezone.utc)
    assert await overdue_digests(h) == 0
    assert await count(h, OutboxMessage, OutboxMessage.key.like("digest:%")) == 0
    assert await count(h, Meeting) == 1                  # kept
    # A meeting with decisions was held: cancelling it is refused.
    await say(h, "/meeting", "new 4 June 2026 13:00", "UBOB")
    await say(h, "/meeting", "decision the report be noted", "UBOB")
    r = await say(h, "/meeting", "cancel", "UBOB")
    assert "has 1 decision recorded, so it was held" in r.text
    assert (await meetings_of(h))[1].cancelled_at is None


async def test_move_a_meeting(harness):
    h = harness
    await set_up(h)
    await say(h, "/meeting", "new 3 June 2026 10:00", "UBOB")
    r = await say(h, "/meeting", "move 10 June 2026 14:00", "UBOB")
    assert "Moved the meeting of Wed 3 Jun 2026, 10:00 to Wed 10 Jun 2026, 14:00–16:00" in r.text
    [m] = await meetings_of(h)
    assert m.starts_at == datetime(2026, 6, 10, 13, 0, tzinfo=timezone.utc)
    assert m.ends_at - m.starts_at == timedelta(hours=2)
    [ev] = [e for e in await audits(h, "meeting") if e.action == "move"]
    assert ev.before["starts_at"].startswith("2026-06-03T09:00") and ev.after["starts_at"].startswith("2026-06-10T13:00")
    r = await say(h, "/meeting", "move banana", "UBOB")
    assert "I couldn't read “banana”" in r.text
    r = await say(h, "/meeting", "", "UDAVE")
    assert "Wed 10 Jun 2026, 14:00–16:00" in r.visible


async def test_correct_and_withdraw_decisions(harness):
    h = harness
    await set_up(h)
    await say(h, "/meeting", "new 1 June 2026 10:00", "UBOB")     # in progress (10:30 in London)
    for text in ("the report be noted", "the Cabinet Member report back in Setpember",
                 "officers circulate the figures"):
        await say(h, "/meeting", f"decision {text}", "UBOB")
    r = await say(h, "/meeting", "decision 2 correct the Cabinet Member report back in September", "UBOB")
    assert "Corrected decision (2)" in r.text
    assert "Resolved – That (2) the Cabinet Member report back in September" in r.visible
    assert "Was: the Cabinet Member report back in Setpember" in r.visible
    r = await say(h, "/meeting", "decision 3 withdraw", "UALICE")
    assert "Withdrew decision (3)" in r.text
    r = await say(h, "/meeting", "decision 3 correct something else", "UBOB")
    assert "was withdrawn" in r.text
    r = await say(h, "/meeting", "decision 9 withdraw", "UBOB")
    assert "has no decision (9)" in r.text
    r = await say(h, "/meeting", "decision 1 withdraw", "UDAVE")
    assert "Only the chair and officers" in r.text

    async with h.db.session() as s:
        decisions = list(await s.scalars(select(Decision).order_by(Decision.number)))
    assert len(decisions) == 3                                       # nothing deleted
    assert decisions[1].text == "the Cabinet Member report back in September" and decisions[1].corrected_at
    assert decisions[2].withdrawn_at == h.clock.now and decisions[2].withdrawn_by == "UALICE"
    events = await audits(h, "decision")
    correct = next(e for e in events if e.action == "correct")
    assert correct.before == {"text": "the Cabinet Member report back in Setpember"}
    assert any(e.action == "withdraw" and e.actor == "UALICE" for e in events)

    r = await say(h, "/meeting", "", "UDAVE")
    assert "(2) the Cabinet Member report back in September _(corrected)_" in r.visible
    assert "~(3) officers circulate the figures~ _(withdrawn)_" in r.visible
    h.clock.now = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
    await say(h, "/meeting", "close", "UBOB")
    digest = await digest_text(h)
    assert "the Cabinet Member report back in September" in digest and "Setpember" not in digest
    assert "~(3) officers circulate the figures~ _(withdrawn)_" in digest
    # After the close the decisions of the meeting just held can still be corrected.
    r = await say(h, "/meeting", "decision 1 correct the report be noted and published", "UBOB")
    assert "Corrected decision (1)" in r.text and "already gone out" in r.visible


async def test_a_past_meeting_is_recorded_open_not_digested_at_once(harness):
    h = harness
    await set_up(h)
    h.clock.now = datetime(2026, 6, 10, 9, 0, tzinfo=timezone.utc)     # a week after 3 June
    r = await say(h, "/meeting", "new 3 June 2026 10:00", "UBOB")       # the README's example
    assert "Recorded a meeting of *Children and Young People Scrutiny Committee* held Wed 3 Jun 2026, " \
           "10:00–12:00" in r.visible
    [m] = await meetings_of(h)
    assert m.recorded_at == h.clock.now and m.closed_at is None
    assert await overdue_digests(h) == 0                               # not closed the moment it is made
    r = await say(h, "/meeting", "decision the report be noted", "UBOB")
    assert "Recorded decision (1) for the meeting of Wed 3 Jun 2026, 10:00" in r.text
    h.clock.now += timedelta(minutes=h.settings.digest_delay_minutes - 1)
    assert await overdue_digests(h) == 0
    h.clock.now += timedelta(minutes=2)                                # the delay counts from when recorded
    assert await overdue_digests(h) >= 1
    [m] = await meetings_of(h)
    assert m.closed_by == "auto"
    assert "the report be noted" in await digest_text(h)


# ---- agencies and contacts are removed softly ----------------------------------------------

async def test_remove_agency_contacts_and_agencies(harness):
    h = harness
    await set_up(h)
    r = await say(h, "/scrutiny", 'agency add "Essex Police" <@UDAVE|dave> Jane Smith jane@essex.police.uk', "UBOB")
    assert "Added partner agency" in r.text
    r = await say(h, "/scrutiny", 'agency remove-contact "Essex Police" <@UDAVE|dave>', "UDAVE")
    assert "Only the chair and officers" in r.text
    r = await say(h, "/scrutiny", 'agency remove-contact "Essex Police" <@UDAVE|dave>', "UBOB")
    assert "Removed <@UDAVE> from *Essex Police*" in r.visible and "jane@essex.police.uk" in r.visible
    r = await say(h, "/scrutiny", 'agency remove-contact "Essex Police" nobody@x.gov.uk', "UBOB")
    assert "not a contact of Essex Police" in r.text
    async with h.db.session() as s:
        dave = await s.scalar(select(AgencyContact).where(AgencyContact.user_id == "UDAVE"))
    assert dave.active is False and dave.removed_at == h.clock.now         # kept
    r = await say(h, "/scrutiny", "agencies", "UDAVE")
    assert "<@UDAVE>" not in r.visible and "Jane Smith" in r.visible

    r = await say(h, "/scrutiny", 'agency remove "Essex Plice"', "UBOB")
    assert "no partner agency called “Essex Plice”" in r.text and "“Essex Police”" in r.text
    r = await say(h, "/scrutiny", 'agency remove "Essex Police"', "UBOB")
    assert "Removed partner agency *Essex Police*" in r.visible
    async with h.db.session() as s:
        agency = await s.scalar(select(Agency))
    assert agency.removed_at == h.clock.now                                 # kept, not deleted
    r = await say(h, "/scrutiny", "agencies", "UDAVE")
    assert "No partner agencies" in r.text
    assert [e.action for e in await audits(h, "agency")] == ["create", "add_contacts", "remove_contacts", "remove"]

    # The letter goes to nobody at the removed agency.
    await say(h, "/meeting", "new 1 June 2026 10:00", "UBOB")
    async with h.db.session() as s:
        from bot.services.letters import plan_recipients
        committee = await committee_by_code(s, "T1", "cyp")
        planned = await plan_recipients(s, committee)
    assert [p.kind for p in planned] == ["channel", "officer"]
    # Added again: back on the letters (with the contacts it had).
    r = await say(h, "/scrutiny", 'agency add "Essex Police"', "UBOB")
    assert "Added partner agency" in r.text
    r = await say(h, "/scrutiny", "agencies", "UDAVE")
    assert "Jane Smith" in r.visible


# ---- acknowledging a letter refreshes the Home tab -------------------------------------------

async def test_acknowledging_a_letter_refreshes_home(harness):
    h = harness
    await set_up(h)
    async with h.db.session() as s, s.begin():
        committee = await s.scalar(select(Committee))
        letter = Letter(team_id="T1", committee_id=committee.id, text="Dear colleagues", sent_by="UALICE",
                        sent_at=h.clock.now, recipients=[])
        s.add(letter)
        await s.flush()
        row = LetterRecipient(letter_id=letter.id, kind="contact", agency="Essex Police", user_id="UDAVE")
        s.add(row)
        await s.flush()
        rid = row.id
    button = {"action_id": ACK_ACTION, "value": LetterAck(rid).dumps(), "text": {"type": "plain_text",
                                                                                 "text": "Acknowledge receipt"}}
    key = await h.press(button, user="UDAVE", channel="DUDAVE")
    await h.reply(key)
    async with h.db.session() as s:
        assert (await s.get(LetterRecipient, rid)).acknowledged_at == h.clock.now
        homes = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.key.like("home:UDAVE:%"))))
    assert len(homes) == 1 and homes[0].method == "views.publish" and homes[0].channel == "UDAVE"
    assert json.loads(json.dumps(homes[0].payload))["home"]
