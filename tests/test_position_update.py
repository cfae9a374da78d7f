"""/position and /update — command and modal — as members, owners, chairs, officers and
admins use them: what the person sees, and what is stored (positions, audit, owners)."""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone

import pytest_asyncio
from sqlalchemy import func, select

from bot.core.status import STATUSES
from bot.importing import ImportedItem
from bot.offline import slack_payloads as payloads
from bot.services.imports import import_items
from models.tables import AuditEvent, Item, ItemOwner, Position, Review, Role, RoleHolder

CYP = "Children and Young People Scrutiny Committee"
PAPER = "Position on Safeguarding Recommendations – 1 June 2010"
REC10_TEXT = "Ensure that all foster carers receive safeguarding training within six months."
REC10_POSITION = "Training programme agreed by the ESCB."
REFUSED = "Only the owners of rec-10, the committee's chair and officers, or an admin can update it."
DATE_HELP = "Try a date like 30/9/2026, 30 September, end of June, next Friday, in 3 weeks or Q3."


# ---- helpers ------------------------------------------------------------------------

async def load(h, review: str, items: list[ImportedItem], *, committee="cyp", team="T1",
               title=PAPER, as_of=date(2010, 6, 1)) -> None:
    async with h.db.session() as s, s.begin():
        await import_items(s, team_id=team, committee_code=committee, review_code=review, items=items,
                           actor="UADMIN", now=h.clock.now, title=title, as_of=as_of)


async def item_id(h, review: str, number: str, team="T1") -> int:
    async with h.db.session() as s:
        found = await s.scalar(select(Item.id).join(Review, Review.id == Item.review_id).where(
            Review.code == review, Item.number == number, Item.team_id == team))
    assert found is not None
    return found


async def get_item(h, iid: int) -> Item:
    async with h.db.session() as s:
        item = await s.get(Item, iid)
        item.owner_names = [o.role.name for o in item.owners]
        return item


async def positions(h, iid: int) -> list[tuple]:
    async with h.db.session() as s:
        rows = await s.scalars(select(Position).where(Position.item_id == iid).order_by(Position.as_of, Position.id))
        return [(p.text, p.as_of, p.author_user_id, p.author_name, p.source) for p in rows]


async def last_update(h, iid: int) -> AuditEvent:
    async with h.db.session() as s:
        ev = await s.scalar(select(AuditEvent).where(
            AuditEvent.entity == "item", AuditEvent.entity_id == iid, AuditEvent.action == "update")
            .order_by(AuditEvent.id.desc()).limit(1))
    assert ev is not None, "no update audit event"
    return ev


async def snapshot(h) -> tuple:
    """Everything an update could touch, to prove that a refusal changed nothing."""
    async with h.db.session() as s:
        items = {i.id: (i.status, i.due, i.rag_override, i.rag_reason, i.exec_response, i.exec_response_reason,
                        i.text, tuple(o.role_id for o in i.owners))
                 for i in await s.scalars(select(Item))}
        pos = [(p.id, p.item_id, p.text, p.as_of) for p in await s.scalars(select(Position).order_by(Position.id))]
        audit = await s.scalar(select(func.count(AuditEvent.id)))
        roles = await s.scalar(select(func.count(Role.id)))
        holders = await s.scalar(select(func.count(RoleHolder.id)))
    return items, pos, audit, roles, holders


def refused_with(reply, message: str) -> None:
    """A polite one-line private answer."""
    assert reply.ephemeral
    assert reply.visible == f":warning: {message}"
    assert reply.text.splitlines()[0] == message


def field(reply, name: str) -> str:
    for block in reply.blocks:
        for f in block.get("fields", []):
            head, _, rest = f["text"].partition("\n")
            if head == f"*{name}*":
                return rest
    raise AssertionError(f"no field {name!r} in {reply.visible}")


async def add_role(h, name: str) -> None:
    """A role the workspace has (as an import makes them), nobody holding it."""
    from models.queries import role_key
    async with h.db.session() as s, s.begin():
        s.add(Role(team_id="T1", name=name, key=role_key(name), kind="role", created_at=h.clock.now))


def latest_section(reply) -> str:
    for block in reply.blocks:
        text = (block.get("text") or {}).get("text", "")
        if text.startswith("*Latest position*"):
            return text
    raise AssertionError(f"no latest position in {reply.visible}")


def change_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("• ")]


async def slash(h, command: str, text: str, *, user: str, channel: str, team="T1") -> tuple[str, str]:
    """A slash command with a trigger_id we know; returns (trigger_id, response_url key)."""
    trigger, key = payloads.new_trigger_id(), uuid.uuid4().hex
    body = payloads.slash_command_body(command, text, user_id=user, team_id=team, channel_id=channel,
                                       response_url=h.slack.response_url(key), trigger_id=trigger)
    status, _ = await h.post(body)
    assert status == 200
    return trigger, key


def replies_to(h, key: str) -> list:
    return [c for c in h.slack.calls_to("response_url") if c.path == key]


def element(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)["element"]


def with_metadata(view: dict, metadata: str) -> dict:
    return {**view, "private_metadata": metadata}


@pytest_asyncio.fixture
async def world(harness):
    """#cyp bound to the CYP committee; Carol chairs the ESCB, Alice chairs the committee, Bob
    is its officer; sg2010 rec-10 (overdue, one position from the paper) and rec-1 (not started)."""
    h = harness
    r = await h.command("/scrutiny", f"setup cyp {CYP}", user="UADMIN", channel="CCYP")
    assert "bound to the new committee" in r.text
    r = await h.command("/scrutiny", 'role "Chairman of the ESCB" <@UCAROL|carol>', user="UADMIN", channel="CCYP")
    assert "*Chairman of the ESCB* is now held by <@UCAROL>" in r.visible
    r = await h.command("/scrutiny", "role chair <@UALICE|alice>", user="UADMIN", channel="CCYP")
    assert f"*Chair of {CYP}* is now held by <@UALICE>" in r.visible
    r = await h.command("/scrutiny", "role officer <@UBOB|bob>", user="UADMIN", channel="CCYP")
    assert f"*Officer of {CYP}* is now held by <@UBOB>" in r.visible
    await load(h, "sg2010", [
        ImportedItem("10", REC10_TEXT, owners=["Chairman of the ESCB", "Cabinet Member"],
                     due=date(2010, 9, 30), position=REC10_POSITION),
        ImportedItem("1", "Publish the Board's annual report.", owners=["Cabinet Member"]),
    ])
    h.rec10 = await item_id(h, "sg2010", "10")
    h.rec1 = await item_id(h, "sg2010", "1")
    return h


# ---- /position ------------------------------------------------------------------------

async def test_position_card_shows_item_owners_status_rag_due_and_latest_position(world):
    h = world
    r = await h.command("/position", "rec-10", user="UDAVE", channel="CCYP")
    assert r.ephemeral
    assert r.text.startswith(f"sg2010/rec-10 · Recommendation 10: {REC10_TEXT}")
    assert r.blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "sg2010/rec-10 · Recommendation 10",
                                                       "emoji": True}}
    assert r.blocks[1]["text"]["text"] == REC10_TEXT
    assert field(r, "Owners") == "Chairman of the ESCB (<@UCAROL>), Cabinet Member"
    assert field(r, "Status") == "in progress"
    assert field(r, "RAG") == ":red_circle: Red"
    assert field(r, "Due") == "30 Sep 2010 · 15 years overdue"
    assert field(r, "Executive response") == "awaiting"
    assert latest_section(r) == f"*Latest position* (1 Jun 2010 from the paper)\n{REC10_POSITION}"
    assert f"{PAPER} · {CYP}" in r.visible
    update, history = r.button("Update"), r.button("History")
    assert (update["action_id"], json.loads(update["value"])) == ("item_update", {"item_id": h.rec10})
    assert (history["action_id"], json.loads(history["value"])) == ("item_history", {"item_id": h.rec10})

    # A position recorded in Slack shows its date and its author.
    h.clock.now = datetime(2026, 6, 2, 14, 0, tzinfo=timezone.utc)
    await h.command("/update", "rec-10 position Forty carers trained so far", user="UBOB", channel="CCYP")
    r = await h.command("/position", "rec-10", user="UDAVE", channel="CCYP")
    assert latest_section(r) == "*Latest position* (2 Jun 2026 by Bob Officer)\nForty carers trained so far"

    # Not started, due within 14 days: amber; no position yet.
    await h.command("/update", "rec-1 due 10 June", user="UBOB", channel="CCYP")
    r = await h.command("/position", "rec-1", user="UDAVE", channel="CCYP")
    assert field(r, "RAG") == ":large_orange_circle: Amber"
    assert field(r, "Due") == "10 Jun 2026 · due in 8 days"
    assert field(r, "Owners") == "Cabinet Member"
    assert latest_section(r) == "*Latest position*\n_No position recorded yet._"


async def test_position_history_lists_every_dated_position_newest_first(world):
    h = world
    await h.command("/update", "rec-10 position First cohort trained", user="UBOB", channel="CCYP")
    h.clock.now = datetime(2026, 6, 15, 10, 0, tzinfo=timezone.utc)
    await h.command("/update", "rec-10 position Second cohort booked", user="UALICE", channel="CCYP")
    r = await h.command("/position", "rec-10 history", user="UDAVE", channel="CCYP")
    assert r.text.startswith("History of sg2010/rec-10 (3 positions)")
    assert r.blocks[0]["text"]["text"] == "History of sg2010/rec-10"
    sections = [b["text"]["text"] for b in r.blocks if b["type"] == "section"]
    assert sections == [
        "*15 Jun 2026* · by Alice Chair\nSecond cohort booked",
        "*1 Jun 2026* · by Bob Officer\nFirst cohort trained",
        f"*1 Jun 2010* · from the paper\n{REC10_POSITION}",
    ]
    # Also with a full ref, and for an item with none yet.
    r = await h.command("/position", "sg2010/rec-10 HISTORY", user="UDAVE", channel="CCYP")
    assert r.text.startswith("History of sg2010/rec-10 (3 positions)")
    r = await h.command("/position", "rec-1 history", user="UDAVE", channel="CCYP")
    assert r.text.startswith("History of sg2010/rec-1 (0 positions)")
    assert "_No position recorded yet._" in r.visible


async def test_position_accepts_full_ref_and_loose_forms(world):
    h = world
    for ref in ("sg2010/rec-10", "rec10", "REC-10", "SG2010/REC-10", "rec 10", "r10"):
        r = await h.command("/position", ref, user="UDAVE", channel="CCYP")
        assert r.blocks[0]["text"]["text"] == "sg2010/rec-10 · Recommendation 10", ref
    # In a DM there is no channel committee: the short ref is looked up in every visible one.
    r = await h.command("/position", "rec-10", user="UDAVE", channel="D0DAVE")
    assert r.blocks[0]["text"]["text"] == "sg2010/rec-10 · Recommendation 10"


async def test_ambiguous_short_ref_lists_the_full_refs(world):
    h = world
    await load(h, "sg2011", [ImportedItem("1", "Review the thresholds document.", owners=["Cabinet Member"])],
               title="Thresholds review 2011")
    r = await h.command("/position", "rec-1", user="UDAVE", channel="CCYP")
    refused_with(r, "rec-1 is ambiguous: did you mean `sg2010/rec-1`, `sg2011/rec-1`?")
    r = await h.command("/position", "sg2011/rec-1", user="UDAVE", channel="CCYP")
    assert r.blocks[1]["text"]["text"] == "Review the thresholds document."
    # /update refuses the same way, and changes nothing.
    before = await snapshot(h)
    r = await h.command("/update", "rec-1 status in progress", user="UBOB", channel="CCYP")
    refused_with(r, "rec-1 is ambiguous: did you mean `sg2010/rec-1`, `sg2011/rec-1`?")
    assert await snapshot(h) == before


async def test_unknown_garbage_and_help(world):
    h = world
    r = await h.command("/position", "rec-99", user="UDAVE", channel="CCYP")
    refused_with(r, f"I can't find rec-99 in {CYP}. `/actions all` lists every ref.")
    r = await h.command("/position", "xx2020/rec-10", user="UDAVE", channel="CCYP")
    refused_with(r, "I can't find xx2020/rec-10 in the committees you can see. `/actions all` lists every ref.")
    r = await h.command("/position", "banana", user="UDAVE", channel="CCYP")
    refused_with(r, "“banana” isn't a reference I know. Refs look like `rec-10`, `act-3` or `sg2010/rec-10`.")
    r = await h.command("/position", "rec-10 please", user="UDAVE", channel="CCYP")
    refused_with(r, "“rec-10 please” isn't a reference I know. Refs look like `rec-10`, `act-3` or `sg2010/rec-10`.")
    for text in ("help", "", "?"):
        r = await h.command("/position", text, user="UDAVE", channel="CCYP")
        assert r.text.startswith("/position — one recommendation or action"), text
        assert "`/position rec-10 history` — every dated position" in r.visible
    r = await h.command("/update", "help", user="UDAVE", channel="CCYP")
    assert r.text.startswith("/update — record progress")
    assert "`/update rec-10 rag red because funding is delayed`" in r.visible
    assert ", ".join(STATUSES) in r.visible


async def test_private_committee_item_is_hidden_from_non_members(world):
    h = world
    r = await h.command("/scrutiny", "setup ssc Safeguarding Sub-Committee", user="UADMIN", channel="CSSC")
    assert "It is private" in r.text
    await load(h, "ssc2026", [ImportedItem("3", "Audit the sub-committee's case files.", owners=["Cabinet Member"])],
               committee="ssc", title="Case file audit")
    # Dave is not in #safeguarding-sub: in a DM, and from #cyp, the item does not exist for him.
    for ref, where in (("ssc2026/rec-3", "in the committees you can see"), ("rec-3", "in the committees you can see")):
        r = await h.command("/position", ref, user="UDAVE", channel="D0DAVE")
        refused_with(r, f"I can't find {ref} {where}. `/actions all` lists every ref.")
    r = await h.command("/position", "ssc2026/rec-3", user="UDAVE", channel="CCYP")
    refused_with(r, "I can't find ssc2026/rec-3 in the committees you can see. `/actions all` lists every ref.")
    before = await snapshot(h)
    r = await h.command("/update", "ssc2026/rec-3 position I was here", user="UDAVE", channel="D0DAVE")
    refused_with(r, "I can't find ssc2026/rec-3 in the committees you can see. `/actions all` lists every ref.")
    assert await snapshot(h) == before
    # Alice is a member: she sees it in a DM. Ambiguity only counts what the person may see.
    r = await h.command("/position", "rec-3", user="UALICE", channel="D0ALICE")
    assert r.blocks[0]["text"]["text"] == "ssc2026/rec-3 · Recommendation 3"
    await load(h, "sg2011", [ImportedItem("3", "Public item three.", owners=["Cabinet Member"])], title="Other")
    r = await h.command("/position", "rec-3", user="UDAVE", channel="D0DAVE")
    assert r.blocks[0]["text"]["text"] == "sg2011/rec-3 · Recommendation 3"
    r = await h.command("/position", "rec-3", user="UALICE", channel="D0ALICE")
    refused_with(r, "rec-3 is ambiguous: did you mean `sg2011/rec-3`, `ssc2026/rec-3`?")


async def test_another_workspace_cannot_see_or_update_the_item(world):
    h = world
    r = await h.command("/scrutiny", "setup oc Other Council Scrutiny", user="UT2ADMIN", channel="CT2", team="T2")
    assert "bound to the new committee" in r.text
    await load(h, "oc2026", [ImportedItem("10", "The other council's tenth.", owners=["Cabinet Member"])],
               committee="oc", team="T2", title="Other council review")
    r = await h.command("/position", "sg2010/rec-10", user="UT2ADMIN", channel="CT2", team="T2")
    refused_with(r, "I can't find sg2010/rec-10 in the committees you can see. `/actions all` lists every ref.")
    r = await h.command("/position", "rec-10", user="UT2ADMIN", channel="CT2", team="T2")
    assert r.blocks[0]["text"]["text"] == "oc2026/rec-10 · Recommendation 10"
    assert r.blocks[1]["text"]["text"] == "The other council's tenth."
    before = await snapshot(h)
    r = await h.command("/update", "sg2010/rec-10 position Not yours", user="UT2ADMIN", channel="CT2", team="T2")
    refused_with(r, "I can't find sg2010/rec-10 in the committees you can see. `/actions all` lists every ref.")
    assert await snapshot(h) == before
    # T1's rec-10 is untouched when T2 updates its own.
    await h.command("/update", "rec-10 position Ours", user="UT2ADMIN", channel="CT2", team="T2")
    assert await positions(h, h.rec10) == [(REC10_POSITION, date(2010, 6, 1), None, "Imported", "import")]
    t2 = await item_id(h, "oc2026", "10", team="T2")
    assert [p[0] for p in await positions(h, t2)] == ["Ours"]


# ---- /update by command -----------------------------------------------------------------

async def test_update_position_appends_a_dated_position_and_audits_it(world):
    h = world
    r = await h.command("/update", "rec-10 position Training in place from June", user="UBOB", channel="CCYP")
    assert r.ephemeral
    assert r.text.startswith("Updated sg2010/rec-10")
    assert change_lines(r.visible) == ["• New position recorded for 1 Jun 2026: Training in place from June"]
    assert latest_section(r) == "*Latest position* (1 Jun 2026 by Bob Officer)\nTraining in place from June"
    ev = await last_update(h, h.rec10)
    assert (ev.team_id, ev.actor, ev.before, ev.after) == ("T1", "UBOB", {}, {"position": "Training in place from June"})

    h.clock.now = datetime(2026, 7, 1, 8, 0, tzinfo=timezone.utc)
    await h.command("/update", "rec-10 position All carers booked", user="UALICE", channel="CCYP")
    assert await positions(h, h.rec10) == [
        (REC10_POSITION, date(2010, 6, 1), None, "Imported", "import"),
        ("Training in place from June", date(2026, 6, 1), "UBOB", "Bob Officer", "slack"),
        ("All carers booked", date(2026, 7, 1), "UALICE", "Alice Chair", "slack"),
    ]
    ev = await last_update(h, h.rec10)
    assert (ev.actor, ev.after) == ("UALICE", {"position": "All carers booked"})
    # The same position again is a new dated entry, not "nothing changed": positions are reports.
    r = await h.command("/update", "rec-10 position All carers booked", user="UALICE", channel="CCYP")
    assert change_lines(r.visible) == ["• New position recorded for 1 Jul 2026: All carers booked"]
    assert len(await positions(h, h.rec10)) == 4


async def test_update_status_with_synonyms_and_unknown_words(world):
    h = world
    r = await h.command("/update", "rec-10 status needs clarification", user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == ["• Status: in progress → *needs clarification*"]
    ev = await last_update(h, h.rec10)
    assert (ev.before, ev.after) == ({"status": "in progress"}, {"status": "needs clarification"})

    r = await h.command("/update", "rec-10 status done", user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == ["• Status: needs clarification → *implemented*"]
    assert field(r, "Status") == "implemented"
    assert field(r, "RAG") == ":white_circle: Closed"
    assert field(r, "Due") == "30 Sep 2010"              # closed: no longer "overdue", nor "Due: due …"
    assert (await get_item(h, h.rec10)).status == "implemented"

    audit_before = (await snapshot(h))[2]
    r = await h.command("/update", "rec-10 status complete", user="UBOB", channel="CCYP")
    assert r.visible == "Nothing changed on *sg2010/rec-10*: it already says that."
    assert r.text.startswith("Nothing changed on sg2010/rec-10: it already says that.")
    assert (await snapshot(h))[2] == audit_before

    before = await snapshot(h)
    r = await h.command("/update", "rec-10 status banana", user="UBOB", channel="CCYP")
    refused_with(r, f"“banana” isn't a status. Use one of: {', '.join(STATUSES)}.")
    r = await h.command("/update", "rec-10 status", user="UBOB", channel="CCYP")
    refused_with(r, f"“” isn't a status. Use one of: {', '.join(STATUSES)}.")
    assert await snapshot(h) == before

    r = await h.command("/update", "rec-10 status In Progress", user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == ["• Status: implemented → *in progress*"]
    assert field(r, "RAG") == ":red_circle: Red"


async def test_update_due_dates(world):
    h = world
    r = await h.command("/update", "rec-10 due 30 September", user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == ["• Due: 30 Sep 2010 → *30 Sep 2026*"]
    assert field(r, "Due") == "30 Sep 2026 · due in 3 months"
    assert field(r, "RAG") == ":large_green_circle: Green"
    assert (await get_item(h, h.rec10)).due == date(2026, 9, 30)
    ev = await last_update(h, h.rec10)
    assert (ev.actor, ev.before, ev.after) == ("UBOB", {"due": "2010-09-30"}, {"due": "2026-09-30"})

    r = await h.command("/update", "rec-10 due end of June", user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == ["• Due: 30 Sep 2026 → *30 Jun 2026*"]
    assert (await get_item(h, h.rec10)).due == date(2026, 6, 30)

    r = await h.command("/update", "rec-10 due none", user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == ["• Due: 30 Jun 2026 → *none*"]
    assert field(r, "Due") == "no due date"
    assert (await get_item(h, h.rec10)).due is None
    r = await h.command("/update", "rec-10 due none", user="UBOB", channel="CCYP")
    assert r.visible == "Nothing changed on *sg2010/rec-10*: it already says that."

    before = await snapshot(h)
    r = await h.command("/update", "rec-10 due banana", user="UBOB", channel="CCYP")
    refused_with(r, f"I couldn't read “banana” as a date. {DATE_HELP}")
    r = await h.command("/update", "rec-10 due 31/2/2027", user="UBOB", channel="CCYP")
    refused_with(r, f"I couldn't read “31/2/2027” as a date. {DATE_HELP}")
    assert await snapshot(h) == before


async def test_update_owners_roles_people_and_several(world):
    h = world
    r = await h.command("/update", 'rec-10 owner "Cabinet Member"', user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == ["• Owners: Chairman of the ESCB, Cabinet Member → *Cabinet Member*"]
    assert field(r, "Owners") == "Cabinet Member"
    ev = await last_update(h, h.rec10)
    assert (ev.before, ev.after) == ({"owners": ["Chairman of the ESCB", "Cabinet Member"]},
                                     {"owners": ["Cabinet Member"]})

    r = await h.command("/update", "rec-10 owner <@UDAVE|dave>", user="UBOB", channel="CCYP")
    # A person owner shows as a mention, not as the escaped text "&lt;@UDAVE&gt;".
    assert change_lines(r.visible) == ["• Owners: Cabinet Member → *<@UDAVE>*"]
    assert field(r, "Owners") == "<@UDAVE>"
    async with h.db.session() as s:
        role = await s.scalar(select(Role).join(ItemOwner, ItemOwner.role_id == Role.id)
                              .where(ItemOwner.item_id == h.rec10))
        assert (role.kind, role.name, [x.user_id for x in role.current_holders]) == ("person", "<@UDAVE>", ["UDAVE"])
    # Dave owns it now, so he may update it.
    r = await h.command("/update", "rec-10 position Dave's first report", user="UDAVE", channel="CCYP")
    assert change_lines(r.visible) == ["• New position recorded for 1 Jun 2026: Dave's first report"]

    r = await h.command("/update", 'rec-10 owners "Chairman of the ESCB" "Cabinet Member" <@UDAVE|dave>',
                        user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == ["• Owners: <@UDAVE> → *<@UDAVE>, Chairman of the ESCB, Cabinet Member*"]
    assert field(r, "Owners") == "<@UDAVE>, Chairman of the ESCB (<@UCAROL>), Cabinet Member"
    assert (await get_item(h, h.rec10)).owner_names == ["<@UDAVE>", "Chairman of the ESCB", "Cabinet Member"]

    # The same owners (in another order, or another spelling of a role) is no change.
    audit_before = (await snapshot(h))[2]
    r = await h.command("/update", 'rec-10 owner Cabinet Member; ESCB Chairman; <@UDAVE|dave>', user="UBOB", channel="CCYP")
    assert r.visible == "Nothing changed on *sg2010/rec-10*: it already says that."
    assert (await snapshot(h))[2] == audit_before

    await add_role(h, "Director of Children's Services")   # an owner must be a role the workspace has
    r = await h.command("/update", "rec-1 owner Director of Children's Services, Chairman of the ESCB",
                        user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == [
        "• Owners: Cabinet Member → *Director of Children's Services, Chairman of the ESCB*"]
    before = await snapshot(h)
    r = await h.command("/update", "rec-1 owner", user="UBOB", channel="CCYP")
    refused_with(r, 'Name the owner: `/update rec-1 owner "Cabinet Member"` or `/update rec-1 owner @alice`.')
    assert await snapshot(h) == before


async def test_update_rag_by_hand_needs_a_reason_and_auto_derives_it_again(world):
    h = world
    before = await snapshot(h)
    refusal = "Say why when setting RAG by hand, e.g. `/update rec-10 rag red because funding is delayed`."
    for text in ("rec-10 rag red", "rec-10 rag red because", "rec-10 rag red   "):
        refused_with(await h.command("/update", text, user="UBOB", channel="CCYP"), refusal)
    r = await h.command("/update", "rec-10 rag purple because it is", user="UBOB", channel="CCYP")
    refused_with(r, "RAG is red, amber, green or auto, e.g. `/update rec-10 rag red because funding is delayed`.")
    assert await snapshot(h) == before

    r = await h.command("/update", "rec-10 rag green because recovery plan agreed by the Board",
                        user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == ["• RAG: auto → *green*", "• Reason: recovery plan agreed by the Board"]
    assert field(r, "RAG") == ":large_green_circle: Green (set by hand: recovery plan agreed by the Board)"
    item = await get_item(h, h.rec10)
    assert (item.rag_override, item.rag_reason) == ("green", "recovery plan agreed by the Board")
    ev = await last_update(h, h.rec10)
    assert (ev.before, ev.after) == ({"rag": None, "rag_reason": None},
                                     {"rag": "green", "rag_reason": "recovery plan agreed by the Board"})

    r = await h.command("/update", "rec-10 rag auto", user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == ["• RAG: green → *auto*"]
    assert field(r, "RAG") == ":red_circle: Red"
    item = await get_item(h, h.rec10)
    assert (item.rag_override, item.rag_reason) == (None, None)
    r = await h.command("/update", "rec-10 rag auto", user="UBOB", channel="CCYP")
    assert r.visible == "Nothing changed on *sg2010/rec-10*: it already says that."

    r = await h.command("/update", "rec-1 rag A: waiting on the publisher", user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == ["• RAG: auto → *amber*", "• Reason: waiting on the publisher"]


async def test_update_executive_response(world):
    h = world
    r = await h.command("/update", "rec-10 response partially accepted because budget only covers two areas",
                        user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == ["• Executive response: awaiting → *partially accepted*",
                                       "• Reason: budget only covers two areas"]
    assert field(r, "Executive response") == "partially accepted — budget only covers two areas"
    item = await get_item(h, h.rec10)
    assert (item.exec_response, item.exec_response_reason) == ("partially accepted", "budget only covers two areas")
    audit_before = (await snapshot(h))[2]
    r = await h.command("/update", "rec-10 response partially accepted because budget only covers two areas",
                        user="UBOB", channel="CCYP")
    assert r.visible == "Nothing changed on *sg2010/rec-10*: it already says that."
    assert (await snapshot(h))[2] == audit_before
    before = await snapshot(h)
    r = await h.command("/update", "rec-10 response maybe", user="UBOB", channel="CCYP")
    refused_with(r, "The executive response is accepted, partially accepted, rejected or awaiting, "
                    "e.g. `/update rec-10 response rejected because no budget`.")
    assert await snapshot(h) == before
    r = await h.command("/update", "rec-10 response accepted", user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == ["• Executive response: partially accepted → *accepted*"]
    assert field(r, "Executive response") == "accepted"


# ---- who may update ---------------------------------------------------------------------

async def test_a_plain_member_is_refused_and_nothing_changes(world):
    h = world
    before = await snapshot(h)
    for text in ("rec-10 position I think it's done", "rec-10 status done", "rec-10 due none",
                 'rec-10 owner <@UDAVE|dave>', "rec-10 rag green because I say so"):
        refused_with(await h.command("/update", text, user="UDAVE", channel="CCYP"), REFUSED)
    # The form is refused too: no modal opens.
    _, key = await slash(h, "/update", "rec-10", user="UDAVE", channel="CCYP")
    refused_with(await h.reply(key), REFUSED)
    assert h.slack.calls_to("views.open") == []
    assert await snapshot(h) == before
    assert await positions(h, h.rec10) == [(REC10_POSITION, date(2010, 6, 1), None, "Imported", "import")]


async def test_owner_chair_officer_and_admins_may_update(world):
    h = world
    people = [("UCAROL", "Carol Cabinet"), ("UALICE", "Alice Chair"), ("UBOB", "Bob Officer"),
              ("UENV", "Eve Env-Admin"), ("UADMIN", "Ada Admin")]
    for user, _ in people:
        r = await h.command("/update", f"rec-10 position Report from {user}", user=user, channel="CCYP")
        assert change_lines(r.visible) == [f"• New position recorded for 1 Jun 2026: Report from {user}"], user
    stored = (await positions(h, h.rec10))[1:]
    assert [(p[0], p[2], p[3]) for p in stored] == [(f"Report from {u}", u, n) for u, n in people]
    async with h.db.session() as s:
        actors = list(await s.scalars(select(AuditEvent.actor).where(
            AuditEvent.entity_id == h.rec10, AuditEvent.action == "update").order_by(AuditEvent.id)))
    assert actors == [u for u, _ in people]


async def test_officer_of_another_committee_may_not_update(world):
    h = world
    await h.command("/scrutiny", "setup ssc Safeguarding Sub-Committee", user="UADMIN", channel="CSSC")
    r = await h.command("/scrutiny", "role officer <@UDAVE|dave>", user="UADMIN", channel="CSSC")
    assert "*Officer of Safeguarding Sub-Committee* is now held by <@UDAVE>" in r.visible
    before = await snapshot(h)
    refused_with(await h.command("/update", "rec-10 status done", user="UDAVE", channel="CCYP"), REFUSED)
    assert await snapshot(h) == before


async def test_role_handover_moves_the_right_to_update(world):
    h = world
    r = await h.command("/update", "rec-10 position Carol's report", user="UCAROL", channel="CCYP")
    assert r.text.startswith("Updated sg2010/rec-10")
    r = await h.command("/scrutiny", 'role "Chairman of the ESCB" <@UDAVE|dave>', user="UADMIN", channel="CCYP")
    assert "*Chairman of the ESCB* is now held by <@UDAVE> (previously <@UCAROL>)" in r.visible

    before = await snapshot(h)
    refused_with(await h.command("/update", "rec-10 position Carol again", user="UCAROL", channel="CCYP"), REFUSED)
    assert await snapshot(h) == before
    r = await h.command("/update", "rec-10 position Dave takes over", user="UDAVE", channel="CCYP")
    assert field(r, "Owners") == "Chairman of the ESCB (<@UDAVE>), Cabinet Member"
    assert [(p[0], p[2]) for p in (await positions(h, h.rec10))[1:]] == [
        ("Carol's report", "UCAROL"), ("Dave takes over", "UDAVE")]
    async with h.db.session() as s:   # the past holder stays in the history
        holders = [(x.user_id, x.ended_at is None) for x in await s.scalars(
            select(RoleHolder).join(Role, Role.id == RoleHolder.role_id)
            .where(Role.name == "Chairman of the ESCB").order_by(RoleHolder.id))]
    assert holders == [("UCAROL", False), ("UDAVE", True)]


# ---- the form ---------------------------------------------------------------------------

async def test_update_form_opens_prefilled_and_saves_position_and_status(world):
    h = world
    trigger, key = await slash(h, "/update", "rec-10", user="UBOB", channel="CCYP")
    [call] = await h.slack.wait_for("views.open")
    assert call.args["trigger_id"] == trigger
    view = await h.opened_view()
    assert view["callback_id"] == "update_item"
    assert json.loads(view["private_metadata"]) == {"item_id": h.rec10, "channel_id": "CCYP"}
    assert view["title"]["text"] == "Update rec-10"
    assert view["blocks"][0]["text"]["text"] == f"*sg2010/rec-10* {REC10_TEXT}"
    assert element(view, "status")["initial_option"]["value"] == "in progress"
    assert element(view, "due")["initial_date"] == "2010-09-30"
    assert element(view, "owners")["initial_value"] == "Chairman of the ESCB; Cabinet Member"
    assert "initial_users" not in element(view, "people")
    assert element(view, "rag")["initial_option"]["value"] == "auto"
    assert "initial_value" not in element(view, "position")
    await h.settle()
    assert replies_to(h, key) == []        # the form is the answer: no message as well

    status, body = await h.submit(view, {("position", "value"): "All carers trained by May",
                                         ("status", "value"): "implemented"}, user="UBOB")
    assert (status, body) == (200, None)
    [posted] = await h.slack.wait_for("chat.postEphemeral")
    assert (posted.args["channel"], posted.args["user"]) == ("CCYP", "UBOB")
    [shown] = h.slack.ephemeral_in("CCYP", "UBOB")
    assert shown["text"].startswith("Updated sg2010/rec-10")
    assert change_lines(shown["text"]) == ["• Status: in progress → *implemented*",
                                           "• New position recorded for 1 Jun 2026: All carers trained by May"]
    item = await get_item(h, h.rec10)
    assert (item.status, item.due, item.owner_names, item.rag_override) == (
        "implemented", date(2010, 9, 30), ["Chairman of the ESCB", "Cabinet Member"], None)
    assert (await positions(h, h.rec10))[-1] == ("All carers trained by May", date(2026, 6, 1), "UBOB",
                                                 "Bob Officer", "slack")
    ev = await last_update(h, h.rec10)
    assert (ev.actor, ev.before, ev.after) == ("UBOB", {"status": "in progress"},
                                               {"status": "implemented", "position": "All carers trained by May"})

    # Saving the form again untouched changes nothing.
    audit_before = (await snapshot(h))[2]
    await h.command("/update", "rec-10", user="UBOB", channel="CCYP", expect_reply=False)
    again = await h.opened_view(2)
    assert element(again, "status")["initial_option"]["value"] == "implemented"
    assert (await h.submit(again, {}, user="UBOB")) == (200, None)
    await h.slack.wait_for("chat.postEphemeral", 2)
    assert h.slack.ephemeral_in("CCYP", "UBOB")[-1]["text"].startswith(
        "Nothing changed on sg2010/rec-10: it already says that.")
    assert (await snapshot(h))[2] == audit_before


async def test_form_keeps_owner_names_with_and_and_commas_and_people(world):
    """Saving a position must not rewrite the owners: role names with "and" or a comma
    survive the round trip through the form, and so does a person owner."""
    h = world
    await load(h, "sg2010", [ImportedItem("7", "Joint protocol.", owners=[
        "Cabinet Member for Children and Young People", "Director, Children's Services"])])
    rec7 = await item_id(h, "sg2010", "7")
    await h.command("/update", 'rec-7 owner <@UDAVE|dave> "Cabinet Member for Children and Young People" '
                               '"Director, Children\'s Services"', user="UBOB", channel="CCYP")
    before = await get_item(h, rec7)
    assert before.owner_names == ["<@UDAVE>", "Cabinet Member for Children and Young People",
                                  "Director, Children's Services"]
    async with h.db.session() as s:
        roles_before = await s.scalar(select(func.count(Role.id)))

    await h.command("/update", "rec-7", user="UBOB", channel="CCYP", expect_reply=False)
    view = await h.opened_view()
    assert element(view, "owners")["initial_value"] == (
        "Cabinet Member for Children and Young People; Director, Children's Services")
    assert element(view, "people")["initial_users"] == ["UDAVE"]
    assert (await h.submit(view, {("position", "value"): "Protocol drafted"}, user="UBOB")) == (200, None)
    await h.slack.wait_for("chat.postEphemeral")
    [shown] = h.slack.ephemeral_in("CCYP", "UBOB")
    assert change_lines(shown["text"]) == ["• New position recorded for 1 Jun 2026: Protocol drafted"]
    after = await get_item(h, rec7)
    assert after.owner_names == before.owner_names
    async with h.db.session() as s:
        assert await s.scalar(select(func.count(Role.id))) == roles_before

    # Changing owners in the form: one role per ";", people from the picker.
    await h.command("/update", "rec-7", user="UBOB", channel="CCYP", expect_reply=False)
    view = await h.opened_view(2)
    assert (await h.submit(view, {("owners", "value"): "Cabinet Member ; Chairman of the ESCB",
                                  ("people", "value"): []}, user="UBOB")) == (200, None)
    await h.slack.wait_for("chat.postEphemeral", 2)
    assert change_lines(h.slack.ephemeral_in("CCYP", "UBOB")[-1]["text"]) == [
        "• Owners: <@UDAVE>, Cabinet Member for Children and Young People, Director, Children's Services"
        " → *Cabinet Member, Chairman of the ESCB*"]
    assert (await get_item(h, rec7)).owner_names == ["Cabinet Member", "Chairman of the ESCB"]

    # No owner at all is refused in the form.
    await h.command("/update", "rec-7", user="UBOB", channel="CCYP", expect_reply=False)
    view = await h.opened_view(3)
    snap = await snapshot(h)
    assert (await h.submit(view, {("owners", "value"): " ; "}, user="UBOB")) == (
        200, {"response_action": "errors", "errors": {"owners": "Name at least one owning role or person."}})
    assert await snapshot(h) == snap


async def test_form_rag_by_hand_without_reason_is_an_error_in_the_form(world):
    h = world
    await h.command("/update", "rec-10", user="UBOB", channel="CCYP", expect_reply=False)
    view = await h.opened_view()
    before = await snapshot(h)
    status, body = await h.submit(view, {("position", "value"): "Should not be saved",
                                         ("rag", "value"): "red"}, user="UBOB")
    assert (status, body) == (200, {"response_action": "errors",
                                    "errors": {"rag_reason": "Say why you are setting the RAG by hand."}})
    await h.settle()
    assert await snapshot(h) == before
    assert h.slack.calls_to("chat.postEphemeral") == []

    status, body = await h.submit(view, {("rag", "value"): "amber", ("rag_reason", "value"): "Trainer off sick",
                                         ("due", "value"): "2026-07-31"}, user="UBOB")
    assert (status, body) == (200, None)
    await h.slack.wait_for("chat.postEphemeral")
    assert change_lines(h.slack.ephemeral_in("CCYP", "UBOB")[-1]["text"]) == [
        "• Due: 30 Sep 2010 → *31 Jul 2026*", "• RAG: auto → *amber*", "• Reason: Trainer off sick"]
    item = await get_item(h, h.rec10)
    assert (item.due, item.rag_override, item.rag_reason) == (date(2026, 7, 31), "amber", "Trainer off sick")


async def test_card_buttons_open_the_form_and_show_history(world):
    h = world
    card = await h.command("/position", "rec-10", user="UBOB", channel="CCYP")
    key = await h.press(card.button("Update"), user="UBOB", channel="CCYP", message=card)
    view = await h.opened_view()
    assert view["callback_id"] == "update_item"
    assert json.loads(view["private_metadata"]) == {"item_id": h.rec10, "channel_id": "CCYP"}
    assert element(view, "owners")["initial_value"] == "Chairman of the ESCB; Cabinet Member"
    await h.settle()
    assert replies_to(h, key) == []
    assert (await h.submit(view, {("position", "value"): "From the button"}, user="UBOB")) == (200, None)
    assert (await positions(h, h.rec10))[-1][:3] == ("From the button", date(2026, 6, 1), "UBOB")

    # Anyone who can see it may read the history.
    member_card = await h.command("/position", "rec-10", user="UDAVE", channel="CCYP")
    key = await h.press(member_card.button("History"), user="UDAVE", channel="CCYP", message=member_card)
    r = await h.reply(key)
    assert r.text.startswith("History of sg2010/rec-10 (2 positions)")
    assert [b["text"]["text"] for b in r.blocks if b["type"] == "section"] == [
        "*1 Jun 2026* · by Bob Officer\nFrom the button", f"*1 Jun 2010* · from the paper\n{REC10_POSITION}"]

    # A member who may not update gets one polite line and no form.
    key = await h.press(member_card.button("Update"), user="UDAVE", channel="CCYP", message=member_card)
    refused_with(await h.reply(key), REFUSED)
    await h.settle()
    assert len(h.slack.calls_to("views.open")) == 1

    # A tampered button value is refused politely, not a crash.
    key = await h.press({**member_card.button("History"), "value": '{"item_id":"x"}'}, user="UDAVE", channel="CCYP")
    refused_with(await h.reply(key), "That button or form is out of date. Run the command again.")


async def test_tampered_or_foreign_form_metadata_changes_nothing(world):
    h = world
    await h.command("/scrutiny", "setup oc Other Council Scrutiny", user="UT2ADMIN", channel="CT2", team="T2")
    await load(h, "oc2026", [ImportedItem("10", "The other council's tenth.", owners=["Cabinet Member"])],
               committee="oc", team="T2", title="Other council review")
    foreign = await item_id(h, "oc2026", "10", team="T2")
    await h.command("/update", "rec-10", user="UBOB", channel="CCYP", expect_reply=False)
    view = await h.opened_view()
    answers = {("position", "value"): "Sneaky", ("status", "value"): "withdrawn"}
    stale = "That button or form is out of date. Run the command again."
    gone = "That item no longer exists, or you can't see it."
    before = await snapshot(h)
    for metadata, message in (
        ('{"item_id": "x"}', stale),
        ('{"item_id": "1 OR 1=1"}', stale),
        ('{"item_id": 99999999999}', stale),
        ("not json at all", stale),
        ("{}", stale),
        (json.dumps({"item_id": foreign, "channel_id": "CCYP"}), gone),
        (json.dumps({"item_id": 987654, "channel_id": "CCYP"}), gone),
    ):
        status, body = await h.submit(with_metadata(view, metadata), answers, user="UBOB")
        assert (status, body) == (200, {"response_action": "errors", "errors": {"position": message}}), metadata
    # The genuine form submitted by someone who may not update it.
    status, body = await h.submit(view, answers, user="UDAVE")
    assert (status, body) == (200, {"response_action": "errors", "errors": {"position": REFUSED}})
    await h.settle()
    assert await snapshot(h) == before
    assert h.slack.calls_to("chat.postEphemeral") == []


# ---- edge input -------------------------------------------------------------------------

async def test_empty_and_incomplete_update_commands(world):
    h = world
    before = await snapshot(h)
    refused_with(await h.command("/update", "", user="UBOB", channel="CCYP"),
                 "Say which item, e.g. `/update rec-10 position Training in place from June`, "
                 "or `/update rec-10` for the form.")
    refused_with(await h.command("/update", "rec-10 position", user="UBOB", channel="CCYP"),
                 "Add the position text: `/update rec-10 position Training in place from June`.")
    refused_with(await h.command("/update", "rec-10 position    ", user="UBOB", channel="CCYP"),
                 "Add the position text: `/update rec-10 position Training in place from June`.")
    refused_with(await h.command("/update", "rec-10 colour red", user="UBOB", channel="CCYP"),
                 "I can update position, status, due, owner, rag or response: e.g. `/update rec-10 status in progress`.")
    refused_with(await h.command("/update", "banana position hello", user="UBOB", channel="CCYP"),
                 "“banana” isn't a reference I know. Refs look like `rec-10`, `act-3` or `sg2010/rec-10`.")
    assert await snapshot(h) == before
    assert h.slack.calls_to("views.open") == []


async def test_long_positions(world):
    h = world
    before = await snapshot(h)
    words = ("The safeguarding training programme continues across all districts. " * 80)[:4999] + "."
    assert len(words) == 5000
    r = await h.command("/update", f"rec-10 position {words}", user="UBOB", channel="CCYP")
    refused_with(r, "That's too long for a command (5,016 characters): keep it under 4,000.")
    assert await snapshot(h) == before

    # Under the command limit it is stored whole, and shown whole: split over as many blocks as
    # it needs (a block holds 3,000 characters), nothing cut.
    long = words[:3900].rstrip()
    r = await h.command("/update", f"rec-10 position {long}", user="UBOB", channel="CCYP")
    assert r.text.startswith("Updated sg2010/rec-10")
    stored = (await positions(h, h.rec10))[-1][0]
    assert stored == long and len(stored) == len(long) > 3800
    card = await h.command("/position", "rec-10", user="UDAVE", channel="CCYP")
    shown = latest_section(card)
    assert len(shown) <= 3000 and shown.startswith("*Latest position* (1 Jun 2026 by Bob Officer)")
    assert " ".join(long.split()) in " ".join(card.visible.split())
    assert all(len((b.get("text") or {}).get("text", "")) <= 3000 for b in card.blocks)

    # Through the form (which allows 3,000 characters) it is stored whole too.
    await h.command("/update", "rec-10", user="UBOB", channel="CCYP", expect_reply=False)
    view = await h.opened_view()
    assert element(view, "position")["max_length"] == 3000
    text = words[:3000]
    assert (await h.submit(view, {("position", "value"): text}, user="UBOB")) == (200, None)
    assert (await positions(h, h.rec10))[-1][0] == text.strip()


async def test_markup_in_positions_and_names_is_shown_escaped(world):
    h = world
    nasty = "<script>alert(1)</script> & <!channel> <http://evil.example|click> *bold*"
    r = await h.command("/update", f"rec-10 position {nasty}", user="UBOB", channel="CCYP")
    escaped = ("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt; "
               "&lt;http://evil.example|click&gt; *bold*")
    assert change_lines(r.visible) == [f"• New position recorded for 1 Jun 2026: {escaped}"]
    assert latest_section(r) == f"*Latest position* (1 Jun 2026 by Bob Officer)\n{escaped}"
    assert (await positions(h, h.rec10))[-1][0] == nasty       # stored as typed
    r = await h.command("/position", "rec-10 history", user="UDAVE", channel="CCYP")
    assert f"*1 Jun 2026* · by Bob Officer\n{escaped}" in r.visible
    assert "<script>" not in r.visible and "<!channel>" not in r.visible

    await add_role(h, "Head of <b>Services</b> & Quality")
    r = await h.command("/update", 'rec-10 owner "Head of <b>Services</b> & Quality"', user="UBOB", channel="CCYP")
    assert change_lines(r.visible) == [
        "• Owners: Chairman of the ESCB, Cabinet Member → *Head of &lt;b&gt;Services&lt;/b&gt; &amp; Quality*"]
    assert field(r, "Owners") == "Head of &lt;b&gt;Services&lt;/b&gt; &amp; Quality"

    r = await h.command("/update", "rec-10 rag red because <!here> budget & staffing", user="UBOB", channel="CCYP")
    assert "• Reason: &lt;!here&gt; budget &amp; staffing" in r.visible
    assert field(r, "RAG") == ":red_circle: Red (set by hand: &lt;!here&gt; budget &amp; staffing)"

    # Item text from a paper is escaped on the card and in the form.
    await load(h, "sg2010", [ImportedItem("12", "Report <b>quarterly</b> to the Board & partners.",
                                          owners=["Cabinet Member"])])
    r = await h.command("/position", "rec-12", user="UBOB", channel="CCYP")
    assert r.blocks[1]["text"]["text"] == "Report &lt;b&gt;quarterly&lt;/b&gt; to the Board &amp; partners."
    await h.command("/update", "rec-12", user="UBOB", channel="CCYP", expect_reply=False)
    view = await h.opened_view()
    assert view["blocks"][0]["text"]["text"] == (
        "*sg2010/rec-12* Report &lt;b&gt;quarterly&lt;/b&gt; to the Board &amp; partners.")


async def test_ampersands_arrive_escaped_and_are_stored_as_typed(harness):
    """Slack sends `&` in command text as `&amp;`; the position keeps the `&` the officer typed."""
    await harness.command("/scrutiny", "setup cyp Children and Young People Scrutiny Committee", user="UADMIN", channel="CCYP")
    from bot.importing import ImportedItem
    from bot.services.imports import import_items
    async with harness.db.session() as s, s.begin():
        await import_items(s, team_id="T1", committee_code="cyp", review_code="hw2026",
                           items=[ImportedItem("1", "Review health and wellbeing support", ["Cabinet Member"], None, None, None)],
                           actor="test", now=harness.clock.now)
    reply = await harness.command("/update", "rec-1 position Health &amp; Wellbeing Board agreed &lt;in principle&gt;",
                                  user="UADMIN", channel="CCYP")
    assert "Updated" in reply.text
    from sqlalchemy import select

    from models.tables import Position
    async with harness.db.session() as s:
        texts = list(await s.scalars(select(Position.text)))
    assert texts == ["Health & Wellbeing Board agreed <in principle>"]
