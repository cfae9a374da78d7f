"""`/actions search …`: the stores' own full-text search (migration 0010) over an item's text and
its positions, on SQLite (FTS5, porter over unicode61) and PostgreSQL (tsvector, English).

Items are set up through the services (imports, /update) so the search documents are kept by
the triggers exactly as in use; lists are asked for through items.list_items and shown by
slack_ui.items.item_list."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.db import Database
from bot.importing import ImportedItem
from bot.services import committees, items
from bot.services.committees import Holder
from bot.services.imports import import_items
from bot.services.parsing import parse_actions
from bot.slack_ui.items import item_list, matched_words
from models.queries import ensure_workspace
from tests.conftest import NOW
from tests.test_query_plans import admin, chair, channel, ctx, officer, user

TODAY = NOW.date()
CYP = [
    ImportedItem("1", "Every foster carer should be offered training in therapeutic parenting", ["Director"],
                 due=TODAY + timedelta(days=30)),
    ImportedItem("2", "Review housing allocations for care leavers", ["Director"], due=TODAY + timedelta(days=5),
                 position="Staff were trained in May; foster carers asked for a briefing"),
    ImportedItem("3", "Hold ŴYL Dewi events in every library", ["Director"], due=TODAY + timedelta(days=10)),
    ImportedItem("4", "Recruit more foster carers for sibling groups", ["Director"], due=TODAY + timedelta(days=60)),
    ImportedItem("5", "Publish the safeguarding_audit & say <!channel> why", ["Director"],
                 due=TODAY + timedelta(days=70)),
]


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    await database.upgrade()
    for team in ("T1", "T2"):
        async with database.session() as s, s.begin():
            await ensure_workspace(s, team, NOW, f"Council {team}")
            for code, name in (("cyp", "Children"), ("ssc", "Safeguarding")):
                here = ctx(team, admin(team), channel(team, code))
                await committees.setup_committee(s, here, code, name)
                await committees.assign_role(s, here, "officers", [Holder(user_id=officer(team))])
                await committees.assign_role(s, here, "chair", [Holder(user_id=chair(team))])
        async with database.session() as s, s.begin():
            await import_items(s, team_id=team, committee_code="cyp", review_code="cyp26", items=CYP if team == "T1"
                               else [ImportedItem("1", "Foster carers in the other council", ["Director"])],
                               actor=officer(team), now=NOW, title="Review", as_of=TODAY)
            await import_items(s, team_id=team, committee_code="ssc", review_code="ssc26", items=[
                ImportedItem("1", "Foster carers of children at risk: a private matter", ["Director"])],
                actor=officer(team), now=NOW, title="Private review", as_of=TODAY)
    yield database
    await database.dispose()


async def search(db, words: str, who=None):
    who = who or ctx("T1", user("T1", 4), channel("T1", "cyp"))
    return await items.list_items(db, who, parse_actions(f"search {words}", who.today))


def refs(page) -> list[str]:
    return [i.full_ref for i in page.items]


async def test_words_are_found_in_any_form_and_case(db):
    # The README's example: "foster carers" finds "foster carer" (rec-1), in a position too (rec-2).
    assert sorted(refs(await search(db, "foster carers"))) == ["cyp26/rec-1", "cyp26/rec-2", "cyp26/rec-4"]
    # Stemmed: "training" finds "training" (rec-1) and "trained" (rec-2's position).
    assert sorted(refs(await search(db, "training"))) == ["cyp26/rec-1", "cyp26/rec-2"]
    assert sorted(refs(await search(db, "TRAIN"))) == ["cyp26/rec-1", "cyp26/rec-2"]
    # Welsh letters, either case: the text says "ŴYL".
    for typed in ("ŵyl", "Ŵyl", "ŴYL", "ŵyl dewi"):
        assert refs(await search(db, typed)) == ["cyp26/rec-3"], typed
    # Every word must be there (in the text or a position): rec-1 has "foster" but not "housing".
    assert refs(await search(db, "foster housing")) == ["cyp26/rec-2"]
    assert refs(await search(db, "adoption")) == []


async def test_punctuation_is_not_a_wildcard(db):
    assert refs(await search(db, "safeguarding_audit")) == ["cyp26/rec-5"]   # a phrase: "safeguarding audit"
    for typed in ("%", "_", "\\", "a_d", "1%t"):
        assert refs(await search(db, typed)) == [], typed


async def test_better_matches_come_first(db):
    # rec-1 and rec-4 have both words in their own text; rec-2 only in a position, and is due
    # soonest (without a search the list is soonest due first).
    page = await search(db, "foster carers")
    assert sorted(refs(page)[:2]) == ["cyp26/rec-1", "cyp26/rec-4"] and refs(page)[2] == "cyp26/rec-2"
    assert page.total == 3
    # Between equal matches, soonest due first: rec-2 has "foster" in its position only.
    assert refs(await search(db, "carers"))[-1] == "cyp26/rec-2"


async def test_only_the_teams_visible_committees_are_searched(db):
    # In a DM an outsider sees cyp only: not ssc's private item, not the other council's.
    outsider = ctx("T1", user("T1", 4), None)
    assert sorted(refs(await search(db, "foster", outsider))) == ["cyp26/rec-1", "cyp26/rec-2", "cyp26/rec-4"]
    # ssc's chair (a member of its private channel) finds it too; still nothing of T2's.
    member = ctx("T1", chair("T1"), None)
    assert "ssc26/rec-1" in refs(await search(db, "foster", member))
    assert refs(await search(db, "other council", member)) == []
    t2 = ctx("T2", user("T2", 4), channel("T2", "cyp"))
    assert refs(await search(db, "foster carers", t2)) == ["cyp26/rec-1"]


async def test_new_words_are_found_at_once(db):
    # The /update … position fast path (items._add_position), then an edit through the ORM
    # (apply_changes), then a re-import changing an item's text.
    officer_ = ctx("T1", officer("T1"), channel("T1", "cyp"))
    assert refs(await search(db, "kinship")) == []
    await items.update(db, officer_, "rec-3", items.ItemChanges(position="Kinship carers invited"))
    page = await search(db, "kinship")
    assert refs(page) == ["cyp26/rec-3"]
    assert "*Kinship*" in matched_words(page.items[0].match)
    await items.update(db, officer_, "rec-3", items.ItemChanges(position="Eisteddfod stall booked", status="in progress"))
    assert refs(await search(db, "eisteddfod")) == ["cyp26/rec-3"]
    assert refs(await search(db, "kinship")) == ["cyp26/rec-3"]   # earlier positions still count
    async with db.session() as s, s.begin():
        await import_items(s, team_id="T1", committee_code="cyp", review_code="cyp26", items=[
            ImportedItem("4", "Recruit more adopters for sibling groups", ["Director"], due=TODAY + timedelta(days=60))],
            actor=officer("T1"), now=NOW + timedelta(days=1), title="Review", as_of=TODAY)
    assert refs(await search(db, "adopters")) == ["cyp26/rec-4"]
    assert "cyp26/rec-4" not in refs(await search(db, "recruit foster"))


async def test_the_reply_shows_the_matching_words(db):
    page = await search(db, "foster carers")
    msg = item_list(page, TODAY, in_dm=False)
    rows = [b["text"]["text"] for b in msg.to_blocks() if b.get("type") == "section" and b.get("accessory")]
    assert len(rows) == 3
    rec4 = next(r for r in rows if "*rec-4*" in r)
    assert "_Found:_ Recruit more *foster* *carers* for sibling groups" in rec4
    rec2 = next(r for r in rows if "*rec-2*" in r)
    assert "*foster* *carers* asked" in rec2   # the position the words are in
    assert any("best match first" in b.get("elements", [{}])[0].get("text", "") for b in msg.to_blocks()
               if b.get("type") == "context")
    # The rest of the excerpt is escaped: markup in people's text shows as typed.
    line = matched_words((await search(db, "safeguarding_audit")).items[0].match)
    assert line.startswith("Publish the *safeguarding") and "audit*" in line   # one span or two
    assert "&amp; say &lt;!channel" in line and "<!channel>" not in line
