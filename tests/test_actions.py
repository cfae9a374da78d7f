"""`/actions` as a member uses it: what they see, in which order, and what stays unchanged.

Data is set up through the real commands (`/scrutiny setup`, `/scrutiny role`) where that
is how an admin would do it, and through the import/action services for the bulk of items.
The clock is Monday 1 June 2026 09:30 UTC (conftest.NOW).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from bot.importing import ImportedItem
from bot.services.committees import get_or_create_role
from bot.services.imports import import_items
from bot.services.items import ItemFilter, create_action
from models.queries import committee_by_code
from models.tables import AuditEvent, Committee, Item, Review, Role, RoleHolder

CYP = "Children and Young People Scrutiny Committee"
SSC = "Safeguarding Sub-Committee"
T2_CYP = "Northshire Children's Scrutiny Committee"

# The cyp committee's items, in the order `/actions` should list the open ones
# (soonest due first, no due date last). rec-5 is closed (implemented).
CYP_OPEN_ORDER = ["rec-1", "act-1", "rec-2", "act-2", "rec-6", "rec-3", "rec-4"]
FULL = {"rec-1": "sg2010/rec-1", "rec-2": "sg2010/rec-2", "rec-3": "sg2010/rec-3", "rec-4": "sg2010/rec-4",
        "rec-5": "sg2010/rec-5", "rec-6": "sg2010/rec-6", "act-1": "cyp/act-1", "act-2": "cyp/act-2"}


# ---- helpers -------------------------------------------------------------------

@dataclass
class Row:
    emoji: str
    ref: str
    line: str  # the whole section text of the row


ROW_RE = re.compile(r"^(?P<emoji>:[a-z_]+:) \*(?P<ref>[^*]+)\* ")


def rows(reply) -> list[Row]:
    """The item rows of an `/actions` reply: sections with a "View" button."""
    found = []
    for block in reply.blocks:
        acc = block.get("accessory") or {}
        if block.get("type") == "section" and acc.get("action_id") == "item_view":
            text = block["text"]["text"]
            m = ROW_RE.match(text)
            assert m, f"row without an emoji and a ref: {text!r}"
            found.append(Row(m["emoji"], m["ref"], text))
    return found


def refs(reply) -> list[str]:
    return [r.ref for r in rows(reply)]


def row(reply, ref: str) -> Row:
    for r in rows(reply):
        if r.ref == ref:
            return r
    raise AssertionError(f"no row {ref} in {refs(reply)}")


def heading(reply) -> str:
    return reply.blocks[0]["text"]["text"]


def more_buttons(reply) -> list[dict]:
    return [b for b in reply.buttons() if b["action_id"] == "list_more"]


async def actions(h, text: str = "", *, user: str = "UDAVE", channel: str = "CCYP", team: str = "T1"):
    r = await h.command("/actions", text, user=user, channel=channel, team=team)
    assert r.ephemeral, f"/actions {text!r} answered in public"
    return r


async def audit_count(h) -> int:
    async with h.db.session() as s:
        return await s.scalar(select(func.count(AuditEvent.id)))


async def item_snapshot(h) -> list[tuple]:
    async with h.db.session() as s:
        return [(i.team_id, i.kind, i.number, i.text, i.status, i.due, i.rag_override, [o.role_id for o in i.owners])
                for i in await s.scalars(select(Item).order_by(Item.id))]


async def assign(h, role: str, user: str, name: str, *, channel: str = "CCYP", team: str = "T1",
                 admin: str = "UADMIN"):
    """`/scrutiny role "…" @user`, with the mention escaped as Slack sends it."""
    r = await h.command("/scrutiny", f'role "{role}" <@{user}|{name}>', user=admin, channel=channel, team=team)
    assert f"is now held by <@{user}>" in r.text, r.text
    return r


async def setup_cyp(h) -> None:
    r = await h.command("/scrutiny", f"setup cyp {CYP}", user="UADMIN", channel="CCYP")
    assert "bound to the new committee" in r.text, r.text


async def seed_cyp(h) -> None:
    """#cyp bound to cyp; Carol is Chairman of the ESCB, Bob the Cabinet Member; the review
    sg2010 (rec-1…rec-6, rec-5 closed) and two ad-hoc actions."""
    await setup_cyp(h)
    await assign(h, "Chairman of the ESCB", "UCAROL", "carol")
    await assign(h, "Cabinet Member", "UBOB", "bob")
    now = h.clock.now
    async with h.db.session() as s, s.begin():
        await import_items(s, team_id="T1", committee_code="cyp", review_code="sg2010", actor="UADMIN", now=now,
                           title="Position on Safeguarding Recommendations", items=[
            ImportedItem("1", "Ensure all foster carers receive safeguarding training", ["Chairman of the ESCB"],
                         due=date(2026, 5, 4), status="in progress"),
            ImportedItem("2", "Publish a decision letter after each meeting", ["Cabinet Member"],
                         due=date(2026, 6, 10), status="not started"),
            ImportedItem("3", "Review the 100% target for visits to children in care",
                         ["Director of Children's Services"], due=date(2026, 7, 15), status="needs clarification"),
            ImportedItem("4", "Carers' forum to meet quarterly", ["Cabinet Member"], due=None, status="in progress"),
            ImportedItem("5", "Foster carers handbook updated", ["Cabinet Member"], due=date(2026, 3, 1),
                         status="implemented"),
            ImportedItem("6", "Disseminate the committee's decisions to partner agencies",
                         ["ESCB Chairman", "Cabinet Member"], due=date(2026, 6, 25), status="referred",
                         position="Training for foster carers in place from June"),
        ])
        committee = await committee_by_code(s, "T1", "cyp")
        cabinet = await get_or_create_role(s, "T1", "Cabinet Member", now, "UADMIN")
        dcs = await get_or_create_role(s, "T1", "Director of Children's Services", now, "UADMIN")
        await create_action(s, team_id="T1", committee=committee, roles=[cabinet], due=date(2026, 5, 29),
                            text="Circulate the safeguarding_audit report to members", actor="UADMIN", now=now)
        await create_action(s, team_id="T1", committee=committee, roles=[dcs], due=date(2026, 6, 14),
                            text="Book a venue for the carers' conference", actor="UADMIN", now=now,
                            status="in progress")


async def seed_ssc(h) -> None:
    """#ssc (private: Admin, Alice, Bob) bound to ssc, with one action due 5 June."""
    r = await h.command("/scrutiny", f"setup ssc {SSC}", user="UADMIN", channel="CSSC")
    assert "It is private" in r.text, r.text
    now = h.clock.now
    async with h.db.session() as s, s.begin():
        committee = await committee_by_code(s, "T1", "ssc")
        head = await get_or_create_role(s, "T1", "Head of Safeguarding", now, "UADMIN")
        await create_action(s, team_id="T1", committee=committee, roles=[head], due=date(2026, 6, 5),
                            text="Audit the missing children protocol", actor="UADMIN", now=now)


def list_more_button(filt: ItemFilter) -> dict:
    """A "More" button as a crafted request would carry it."""
    return {"type": "button", "action_id": "list_more", "value": filt.to_json(),
            "text": {"type": "plain_text", "text": "More"}}


async def committee_id(h, team: str, code: str) -> int:
    async with h.db.session() as s:
        return (await committee_by_code(s, team, code)).id


# ---- the default list ------------------------------------------------------------

async def test_default_lists_open_items_soonest_due_first(harness):
    await seed_cyp(harness)
    before = await audit_count(harness)
    r = await actions(harness)

    assert refs(r) == CYP_OPEN_ORDER
    assert heading(r) == f"*7 open items — {CYP}*"
    assert "Showing 1–7 of 7, soonest due first" in r.visible
    assert "Foster carers handbook" not in r.visible          # rec-5 is implemented: closed
    assert "rec-5" not in r.text
    assert r.text.startswith(f"7 open items — {CYP}")
    assert more_buttons(r) == []
    assert [b["text"]["text"] for b in r.buttons()] == ["View"] * 7
    # Nothing was posted in public and nothing changed.
    assert harness.slack.calls_to("chat.postMessage") == []
    assert await audit_count(harness) == before


async def test_rows_show_rag_due_owners_and_status(harness):
    await seed_cyp(harness)
    r = await actions(harness)

    rec1 = row(r, "rec-1")
    assert rec1.emoji == ":red_circle:"
    assert rec1.line == (":red_circle: *rec-1* Ensure all foster carers receive safeguarding training\n"
                         "Chairman of the ESCB (<@UCAROL>) · 4 May 2026 · 4 weeks overdue · _in progress_")
    assert row(r, "act-1").emoji == ":red_circle:"
    assert "29 May 2026 · 3 days overdue" in row(r, "act-1").line
    # Not started and due within 14 days: amber.
    assert row(r, "rec-2").emoji == ":large_orange_circle:"
    assert "Cabinet Member (<@UBOB>) · 10 Jun 2026 · due in 9 days · _not started_" in row(r, "rec-2").line
    # In progress and due soon: green; no holder: just the role name.
    assert row(r, "act-2").emoji == ":large_green_circle:"
    assert "Director of Children's Services · 14 Jun 2026 · due in 13 days · _in progress_" in row(r, "act-2").line
    # Several owners, in order, each with its holder.
    assert "Chairman of the ESCB (<@UCAROL>), Cabinet Member (<@UBOB>) · 25 Jun 2026 · due in 3 weeks · _referred_" \
        in row(r, "rec-6").line
    assert "100% target" in row(r, "rec-3").line and "due in 6 weeks" in row(r, "rec-3").line
    assert row(r, "rec-3").emoji == ":large_green_circle:"
    assert row(r, "rec-4").line.endswith("Cabinet Member (<@UBOB>) · no due date · _in progress_")


async def test_rag_set_by_an_officer_shows_in_the_list(harness):
    await seed_cyp(harness)
    async with harness.db.session() as s, s.begin():
        item = (await s.scalars(select(Item).join(Review).where(Review.code == "sg2010", Item.number == "4"))).one()
        item.rag_override, item.rag_reason = "amber", "forum has not met since March"
    r = await actions(harness)
    assert row(r, "rec-4").emoji == ":large_orange_circle:"
    assert row(r, "rec-2").emoji == ":large_orange_circle:"
    assert row(r, "rec-3").emoji == ":large_green_circle:"


async def test_committee_with_no_items(harness):
    await setup_cyp(harness)
    r = await actions(harness)
    assert r.text == f"No open items in {CYP}."
    assert rows(r) == []


# ---- filters ---------------------------------------------------------------------

async def test_overdue(harness):
    await seed_cyp(harness)
    r = await actions(harness, "overdue")
    assert refs(r) == ["rec-1", "act-1"]          # rec-5 is past due but closed
    assert heading(r) == f"*2 open items overdue — {CYP}*"
    assert all(x.emoji == ":red_circle:" for x in rows(r))
    # Tomorrow act-1 is still overdue; after 25 June so is rec-6.
    harness.clock.now = harness.clock.now.replace(month=6, day=26)
    r = await actions(harness, "overdue")
    assert refs(r) == ["rec-1", "act-1", "rec-2", "act-2", "rec-6"]
    assert "rec-6" in r.text and "1 day overdue" in row(r, "rec-6").line


async def test_mine_follows_the_role_when_it_changes_hands(harness):
    await seed_cyp(harness)
    r = await actions(harness, "mine", user="UCAROL")
    assert refs(r) == ["rec-1", "rec-6"]
    assert heading(r) == f"*2 open items owned by you — {CYP}*"
    r = await actions(harness, "mine", user="UBOB")
    assert refs(r) == ["act-1", "rec-2", "rec-6", "rec-4"]
    r = await actions(harness, "mine", user="UDAVE")
    assert rows(r) == []
    assert r.text == f"No open items owned by you in {CYP}."

    # The Chairman of the ESCB changes: Dave takes over from Carol.
    r = await assign(harness, "Chairman of the ESCB", "UDAVE", "dave")
    assert "(previously <@UCAROL>)" in r.text
    r = await actions(harness, "mine", user="UDAVE")
    assert refs(r) == ["rec-1", "rec-6"]
    assert "Chairman of the ESCB (<@UDAVE>)" in row(r, "rec-1").line
    r = await actions(harness, "mine", user="UCAROL")
    assert rows(r) == [] and r.text == f"No open items owned by you in {CYP}."

    # Stored: Carol's holding is ended, not deleted; Dave's is current.
    async with harness.db.session() as s:
        role = (await s.scalars(select(Role).where(Role.team_id == "T1", Role.name == "Chairman of the ESCB"))).one()
        holders = list(await s.scalars(select(RoleHolder).where(RoleHolder.role_id == role.id)
                                       .order_by(RoleHolder.id)))
    assert [(h.user_id, h.ended_at is not None) for h in holders] == [("UCAROL", True), ("UDAVE", False)]


async def test_all_includes_closed_items(harness):
    await seed_cyp(harness)
    r = await actions(harness, "all")
    assert refs(r) == ["rec-5"] + CYP_OPEN_ORDER
    assert heading(r) == f"*8 items — {CYP}*"
    rec5 = row(r, "rec-5")
    assert rec5.emoji == ":white_circle:"                   # closed: no RAG
    assert rec5.line.endswith("Cabinet Member (<@UBOB>) · due 1 Mar 2026 · _implemented_")
    assert "overdue" not in rec5.line


async def test_by_holder_mention(harness):
    await seed_cyp(harness)
    r = await actions(harness, "<@UCAROL|carol>")
    assert refs(r) == ["rec-1", "rec-6"]
    assert heading(r) == f"*2 open items held by <@UCAROL> — {CYP}*"
    r = await actions(harness, "<@UBOB>")
    assert refs(r) == ["act-1", "rec-2", "rec-6", "rec-4"]
    r = await actions(harness, "owner <@UBOB|bob>")
    assert refs(r) == ["act-1", "rec-2", "rec-6", "rec-4"]
    r = await actions(harness, "<@UDAVE|dave>")
    assert r.text == f"No open items held by <@UDAVE> in {CYP}."
    assert r.visible == f":white_check_mark: No open items held by <@UDAVE> in {CYP}."


async def test_by_owner_role_name(harness):
    await seed_cyp(harness)
    r = await actions(harness, 'owner "Cabinet Member"')
    assert refs(r) == ["act-1", "rec-2", "rec-6", "rec-4"]
    assert heading(r) == f"*4 open items owned by “Cabinet Member” — {CYP}*"
    # Unquoted, typographic quotes, other case: the same role.
    assert refs(await actions(harness, "owner cabinet member")) == ["act-1", "rec-2", "rec-6", "rec-4"]
    assert refs(await actions(harness, "owner “Cabinet Member”")) == ["act-1", "rec-2", "rec-6", "rec-4"]
    # "ESCB Chairman" is the role "Chairman of the ESCB" (rec-6 was imported as "ESCB Chairman").
    r = await actions(harness, 'owner "ESCB Chairman"')
    assert refs(r) == ["rec-1", "rec-6"]
    assert refs(await actions(harness, 'owner "Chairman of the ESCB"')) == ["rec-1", "rec-6"]
    # A role with no items (or no such role): nothing, said plainly.
    r = await actions(harness, 'owner "Director of Public Health"')
    assert r.text == f"No open items owned by “Director of Public Health” in {CYP}."
    # One role, stored once.
    async with harness.db.session() as s:
        names = list(await s.scalars(select(Role.name).where(Role.team_id == "T1", Role.key == "chairman escb")))
    assert names == ["Chairman of the ESCB"]


async def test_due_next_week(harness):
    await seed_cyp(harness)
    r = await actions(harness, "due next week")
    # Next week is Monday 8 – Sunday 14 June 2026, both ends included.
    assert refs(r) == ["rec-2", "act-2"]
    assert heading(r) == f"*2 open items due next week (8 Jun – 14 Jun 2026) — {CYP}*"


async def test_due_before_a_date(harness):
    await seed_cyp(harness)
    r = await actions(harness, "due before 30 June")
    assert refs(r) == ["rec-1", "act-1", "rec-2", "act-2", "rec-6"]   # not rec-3 (July), not rec-4 (no date)
    assert heading(r) == f"*5 open items due before 30 Jun 2026 — {CYP}*"
    r = await actions(harness, "due before 25 June")
    assert refs(r) == ["rec-1", "act-1", "rec-2", "act-2"]            # 25 June itself is not before
    r = await actions(harness, "all due before 1 April 2026")
    assert refs(r) == ["rec-5"]
    assert heading(r) == f"*1 item due before 1 Apr 2026 — {CYP}*"


async def test_status(harness):
    await seed_cyp(harness)
    r = await actions(harness, "status needs clarification")
    assert refs(r) == ["rec-3"]
    assert heading(r) == f"*1 item status needs clarification — {CYP}*"
    # A synonym; a closed status lists closed items without needing `all`.
    r = await actions(harness, "status done")
    assert refs(r) == ["rec-5"]
    assert "status implemented" in heading(r)
    assert row(r, "rec-5").line.endswith("_implemented_")
    r = await actions(harness, "status Referred")
    assert refs(r) == ["rec-6"]
    r = await actions(harness, "status signed off")
    assert rows(r) == [] and r.text == f"No items status signed off in {CYP}."


async def test_search_matches_text_and_positions(harness):
    await seed_cyp(harness)
    r = await actions(harness, "search foster carers")
    # rec-1 by its text, rec-6 by its position; rec-5 is closed; rec-4 has "carers" but not "foster".
    assert refs(r) == ["rec-1", "rec-6"]
    assert heading(r) == f"*2 open items matching “foster carers” — {CYP}*"
    assert refs(await actions(harness, "search FOSTER")) == ["rec-1", "rec-6"]
    assert refs(await actions(harness, "all search foster carers")) == ["rec-5", "rec-1", "rec-6"]
    # Best match first (tests/test_search.py): rec-6 has "carers" only in a position.
    r = await actions(harness, "search carers")
    assert sorted(refs(r)) == ["act-2", "rec-1", "rec-4", "rec-6"] and refs(r)[-1] == "rec-6"
    assert "Showing 1–4 of 4, best match first" in r.visible
    assert "Training for *foster* *carers* in place from June" in row(
        await actions(harness, "search foster carers"), "rec-6").line
    r = await actions(harness, "search adoption")
    assert r.text == f"No open items matching “adoption” in {CYP}."
    # What was typed shows as typed: escaped for mrkdwn, not read as markup.
    r = await actions(harness, "search <b>&co")
    assert r.visible == f":white_check_mark: No open items matching “&lt;b&gt;&amp;co” in {CYP}."


async def test_search_treats_punctuation_as_no_wildcard(harness):
    """Words are searched, not characters: punctuation alone finds nothing (it is no wildcard),
    and within a word it separates words ("safeguarding_audit" is "safeguarding audit")."""
    await seed_cyp(harness)
    r = await actions(harness, "search %")
    assert rows(r) == [] and "No open items matching “%”" in r.text
    assert refs(await actions(harness, "search 100%")) == ["rec-3"]
    assert rows(await actions(harness, "search _")) == []
    assert refs(await actions(harness, "search safeguarding_audit")) == ["act-1"]
    r = await actions(harness, "search a_d")                                # not "and", "aid"…
    assert rows(r) == [] and "No open items matching “a_d”" in r.text
    r = await actions(harness, "search 1%t")
    assert rows(r) == []
    r = await actions(harness, "search \\")
    assert rows(r) == []


async def test_words_combine(harness):
    await seed_cyp(harness)
    r = await actions(harness, "mine overdue", user="UCAROL")
    assert refs(r) == ["rec-1"]
    assert heading(r) == f"*1 open item overdue, owned by you — {CYP}*"
    assert refs(await actions(harness, "overdue mine", user="UBOB")) == ["act-1"]
    assert refs(await actions(harness, "mine due before 30 June", user="UBOB")) == ["act-1", "rec-2", "rec-6"]
    assert refs(await actions(harness, 'owner "Cabinet Member" overdue')) == ["act-1"]
    assert refs(await actions(harness, "status in progress overdue")) == ["rec-1"]
    assert refs(await actions(harness, "mine search foster", user="UBOB")) == ["rec-6"]
    assert refs(await actions(harness, "mine all", user="UBOB")) == ["rec-5", "act-1", "rec-2", "rec-6", "rec-4"]


async def test_help(harness):
    await seed_cyp(harness)
    before = await audit_count(harness)
    for text in ("help", "HELP", "?"):
        r = await actions(harness, text)
        assert r.text.startswith("/actions — open items of this channel's committee")
        assert "`/actions due before 30 June`" in r.visible
        assert "`/actions mine overdue`" in r.visible
        assert rows(r) == []
    assert await audit_count(harness) == before


# ---- pagination --------------------------------------------------------------------

async def test_more_button_pages_through_45_items(harness):
    await setup_cyp(harness)
    now = harness.clock.now
    async with harness.db.session() as s, s.begin():
        committee = await committee_by_code(s, "T1", "cyp")
        role = await get_or_create_role(s, "T1", "Cabinet Member", now, "UADMIN")
        # act-45 falls due first, act-1 last: the list is by due date, not by number.
        for n in range(1, 46):
            await create_action(s, team_id="T1", committee=committee, roles=[role], text=f"Task number {n}",
                                due=date(2026, 6, 2) + timedelta(days=45 - n), actor="UADMIN", now=now)
    expected = [f"act-{n}" for n in range(45, 0, -1)]

    r = await actions(harness)
    assert refs(r) == expected[:20]
    assert heading(r) == f"*45 open items — {CYP}*"
    assert "Showing 1–20 of 45, soonest due first" in r.visible
    assert [b["text"]["text"] for b in more_buttons(r)] == ["More (25 left)"]

    r2 = await harness.reply(await harness.press(r.button("More"), user="UDAVE", channel="CCYP", message=r))
    assert r2.ephemeral
    assert refs(r2) == expected[20:40]
    assert "Showing 21–40 of 45" in r2.visible
    assert [b["text"]["text"] for b in more_buttons(r2)] == ["More (5 left)"]

    r3 = await harness.reply(await harness.press(r2.button("More"), user="UDAVE", channel="CCYP", message=r2))
    assert refs(r3) == expected[40:]
    assert "Showing 41–45 of 45" in r3.visible
    assert more_buttons(r3) == []
    assert r3.call.args.get("replace_original") is False


async def test_more_keeps_the_filter(harness):
    await seed_cyp(harness)
    now = harness.clock.now
    async with harness.db.session() as s, s.begin():
        committee = await committee_by_code(s, "T1", "cyp")
        cabinet = await get_or_create_role(s, "T1", "Cabinet Member", now, "UADMIN")
        other = await get_or_create_role(s, "T1", "Director of Public Health", now, "UADMIN")
        for n in range(22):  # 22 more overdue actions: half Bob's, half not
            await create_action(s, team_id="T1", committee=committee, roles=[cabinet if n % 2 else other],
                                text=f"Overdue chore {n}", due=date(2026, 4, 1) + timedelta(days=n),
                                actor="UADMIN", now=now)
    r = await actions(harness, "overdue")
    assert len(rows(r)) == 20 and heading(r) == f"*24 open items overdue — {CYP}*"
    r2 = await harness.reply(await harness.press(r.button("More"), user="UDAVE", channel="CCYP"))
    assert "Showing 21–24 of 24" in r2.visible
    assert all(x.emoji == ":red_circle:" for x in rows(r2))
    assert refs(r2)[-2:] == ["rec-1", "act-1"]    # 4 May and 29 May come after the April chores
    # Bob's own: 11 chores + act-1.
    r = await actions(harness, "mine overdue", user="UBOB")
    assert len(rows(r)) == 12 and more_buttons(r) == []


# ---- direct messages and private committees ------------------------------------------

async def test_dm_lists_every_committee_with_full_refs(harness):
    await seed_cyp(harness)
    await seed_ssc(harness)
    # Bob is in #ssc: both committees, merged by due date, full refs.
    r = await actions(harness, user="UBOB", channel="DUBOB")
    assert refs(r) == ["sg2010/rec-1", "cyp/act-1", "ssc/act-1", "sg2010/rec-2", "cyp/act-2", "sg2010/rec-6",
                       "sg2010/rec-3", "sg2010/rec-4"]
    assert heading(r) == "*8 open items — your committees*"
    assert "Audit the missing children protocol" in row(r, "ssc/act-1").line
    # Filters work in a DM too.
    r = await actions(harness, "mine", user="UBOB", channel="DUBOB")
    assert refs(r) == ["cyp/act-1", "sg2010/rec-2", "sg2010/rec-6", "sg2010/rec-4"]
    r = await actions(harness, "overdue", user="UBOB", channel="DUBOB")
    assert refs(r) == ["sg2010/rec-1", "cyp/act-1"]


async def test_private_committee_hidden_from_non_members_in_dm(harness):
    await seed_cyp(harness)
    await seed_ssc(harness)
    # Dave is not in #ssc: only cyp, still with full refs in a DM.
    r = await actions(harness, user="UDAVE", channel="DUDAVE")
    assert refs(r) == [FULL[x] for x in CYP_OPEN_ORDER]
    assert heading(r) == f"*7 open items — {CYP}*"
    assert "missing children" not in r.visible and "ssc/" not in r.text
    r = await actions(harness, "search missing", user="UDAVE", channel="DUDAVE")
    assert rows(r) == [] and r.text == f"No open items matching “missing” in {CYP}."
    r = await actions(harness, 'owner "Head of Safeguarding"', user="UDAVE", channel="DUDAVE")
    assert rows(r) == []
    r = await actions(harness, "all", user="UDAVE", channel="DUDAVE")
    assert "ssc/act-1" not in refs(r) and len(rows(r)) == 8

    # Members, workspace admins and SCRUTINEER_ADMINS admins see it.
    for user in ("UALICE", "UADMIN", "UENV"):
        r = await actions(harness, "search missing", user=user, channel="D" + user)
        assert refs(r) == ["ssc/act-1"], user
    # In its own channel, members see it with short refs.
    r = await actions(harness, user="UALICE", channel="CSSC")
    assert refs(r) == ["act-1"] and heading(r) == f"*1 open item — {SSC}*"


async def test_crafted_more_button_cannot_reveal_a_private_committee(harness):
    await seed_cyp(harness)
    await seed_ssc(harness)
    ssc = await committee_id(harness, "T1", "ssc")
    before = await audit_count(harness)
    r = await harness.reply(await harness.press(list_more_button(ItemFilter(committee_id=ssc)),
                                                user="UDAVE", channel="DUDAVE"))
    assert r.text == "That committee is private to its channel's members."
    assert rows(r) == [] and "missing children" not in r.visible
    # A member pressing the same button sees the list.
    r = await harness.reply(await harness.press(list_more_button(ItemFilter(committee_id=ssc)),
                                                user="UBOB", channel="DUBOB"))
    assert refs(r) == ["ssc/act-1"]
    # A garbled button is answered politely.
    bad = {**list_more_button(ItemFilter()), "value": "{not json"}
    r = await harness.reply(await harness.press(bad, user="UDAVE", channel="CCYP"))
    assert r.text == "That list is out of date. Run `/actions` again."
    assert await audit_count(harness) == before


async def test_channel_not_bound_to_a_committee(harness):
    # Nothing set up anywhere yet.
    r = await actions(harness, channel="CRANDOM")
    assert r.text.startswith("There are no committees you can see yet.")
    assert "/scrutiny setup" in r.text
    r = await actions(harness, user="UDAVE", channel="DUDAVE")
    assert r.text.startswith("There are no committees you can see yet.")

    await seed_cyp(harness)
    await seed_ssc(harness)
    # An unbound channel is not a committee's: the person sees what they may see, nothing private to others.
    r = await actions(harness, user="UDAVE", channel="CRANDOM")
    assert {x.split("/")[-1] for x in refs(r)} == set(CYP_OPEN_ORDER)
    assert "missing children" not in r.visible
    r = await actions(harness, user="UBOB", channel="CRANDOM")
    assert "ssc/act-1" in refs(r) and "sg2010/rec-1" in refs(r) and len(rows(r)) == 8


# ---- two workspaces -------------------------------------------------------------------

async def test_two_workspaces_see_nothing_of_each_other(harness):
    await seed_cyp(harness)
    # T2 binds its own channel to a committee with the same code, and imports a review with the same code.
    r = await harness.command("/scrutiny", f"setup cyp {T2_CYP}", user="UT2ADMIN", channel="CT2", team="T2")
    assert "bound to the new committee" in r.text, r.text
    r = await harness.command("/scrutiny", 'role "Cabinet Member" <@UT2ADMIN|t2admin>', user="UT2ADMIN",
                              channel="CT2", team="T2")
    assert "is now held by <@UT2ADMIN>" in r.text
    async with harness.db.session() as s, s.begin():
        await import_items(s, team_id="T2", committee_code="cyp", review_code="sg2010", actor="UT2ADMIN",
                           now=harness.clock.now, items=[
            ImportedItem("1", "Respite care for young carers", ["Cabinet Member"], due=date(2026, 5, 20),
                         status="in progress"),
            ImportedItem("2", "Foster carers allowance review", ["Cabinet Member"], due=None, status="implemented"),
        ])

    t2 = await actions(harness, "all", user="UT2ADMIN", channel="CT2", team="T2")
    assert refs(t2) == ["rec-1", "rec-2"]
    assert heading(t2) == f"*2 items — {T2_CYP}*"
    assert "Respite care" in row(t2, "rec-1").line and "foster carers receive" not in t2.visible
    t2 = await actions(harness, "", user="UT2ADMIN", channel="DUT2ADMIN", team="T2")
    assert refs(t2) == ["sg2010/rec-1"]
    t2 = await actions(harness, "mine", user="UT2ADMIN", channel="CT2", team="T2")
    assert refs(t2) == ["rec-1"]
    t2 = await actions(harness, "search foster", user="UT2ADMIN", channel="CT2", team="T2")
    assert rows(t2) == []

    t1 = await actions(harness, "all")
    assert refs(t1) == ["rec-5"] + CYP_OPEN_ORDER
    assert "Respite" not in t1.visible and "allowance" not in t1.visible
    t1 = await actions(harness, "all", user="UADMIN", channel="DUADMIN")
    assert "Respite" not in t1.visible and len(rows(t1)) == 8
    t1 = await actions(harness, 'owner "Cabinet Member" overdue')
    assert refs(t1) == ["act-1"]
    # A T1 "More" button replayed from T2 names a T1 committee: refused.
    cyp_t1 = await committee_id(harness, "T1", "cyp")
    r = await harness.reply(await harness.press(list_more_button(ItemFilter(committee_id=cyp_t1, include_closed=True)),
                                                user="UT2ADMIN", channel="CT2", team="T2"))
    assert r.text == "That committee is private to its channel's members."
    assert rows(r) == [] and "foster" not in r.visible.lower()

    async with harness.db.session() as s:
        committees = sorted((c.team_id, c.code, c.channel_id) for c in await s.scalars(select(Committee)))
        reviews = sorted((rv.team_id, rv.code) for rv in await s.scalars(select(Review)))
    assert committees == [("T1", "cyp", "CCYP"), ("T2", "cyp", "CT2")]
    assert reviews == [("T1", "sg2010"), ("T2", "sg2010")]


# ---- bad input ----------------------------------------------------------------------------

async def test_bad_input_answers_one_polite_line_and_changes_nothing(harness):
    await seed_cyp(harness)
    audit_before = await audit_count(harness)
    items_before = await item_snapshot(harness)
    cases = {
        "banana": "I don't know “banana” here.",
        "overdue banana": "I don't know “banana” here.",
        "due banana": "I couldn't read “banana” as dates.",
        "due": "I couldn't read “” as dates.",
        "status sleeping": "“sleeping” isn't a status.",
        "status": "isn't a status.",
        "owner": "Say which role, e.g. `/actions owner \"Cabinet Member\"`.",
        'owner ""': "Say which role",
        "owner overdue": "Say which role",
        "search": "Say what to look for, e.g. `/actions search foster carers`.",
        "x" * 5000: "That's too long for a command (5,000 characters): keep it under 4,000.",
        "search " + "carers " * 800: "That's too long for a command",
    }
    for text, expected in cases.items():
        r = await actions(harness, text)
        assert expected in r.text, (text[:40], r.text)
        assert "\n" not in r.text, (text[:40], r.text)
        assert len(r.text) < 300, (text[:40], r.text)
        assert rows(r) == [] and r.buttons() == [], text[:40]
        assert [b["type"] for b in r.blocks] == ["section"]
        assert r.blocks[0]["text"]["text"].startswith(":warning: ")
    # The valid words are offered in the explanation.
    r = await actions(harness, "banana")
    assert "`/actions overdue`" in r.text and "`due next week`" in r.text
    assert await audit_count(harness) == audit_before
    assert await item_snapshot(harness) == items_before
    assert harness.slack.calls_to("chat.postMessage") == []
