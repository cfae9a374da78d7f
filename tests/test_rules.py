"""The pure rules, called directly: no HTTP, no Slack, and a database only for who receives a
letter. Each runs in milliseconds, so a rule can be checked without starting the app."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import pytest_asyncio

from bot.core.dates import add_months, describe_due, long_date, parse_date, parse_range
from bot.core.errors import UserError
from bot.core.status import is_open, normalise_rag, normalise_status
from bot.core.workdays import is_working_day, next_working_day, working_days_between
from bot.db import Database
from bot.services.items import rag_of
from bot.services.letters import plan_recipients
from bot.services.parsing import parse_actions, parse_update
from models.meetings import Agency, AgencyContact
from models.tables import Committee, Item, Role, RoleHolder, Workspace

TODAY = date(2026, 6, 3)  # a Wednesday
NOW = datetime(2026, 6, 3, 9, 0, tzinfo=timezone.utc)


def item(status="not started", due=None, rag_override=None) -> Item:
    return Item(status=status, due=due, rag_override=rag_override)


# ---- RAG and statuses ------------------------------------------------------------------------

def test_rag_overdue_open_item_is_red():
    assert rag_of(item("in progress", TODAY - timedelta(days=1)), TODAY) == "red"


def test_rag_due_today_is_not_yet_overdue():
    assert rag_of(item("in progress", TODAY), TODAY) == "green"


@pytest.mark.parametrize("days, status, expected", [
    (14, "not started", "amber"),
    (15, "not started", "green"),
    (3, "in progress", "green"),      # started: only lateness makes it red
])
def test_rag_amber_is_due_within_fourteen_days_and_not_started(days, status, expected):
    assert rag_of(item(status, TODAY + timedelta(days=days)), TODAY) == expected


def test_rag_without_due_date_is_green():
    assert rag_of(item("not started", None), TODAY) == "green"


def test_rag_set_by_an_officer_wins_over_the_derived_one():
    assert rag_of(item("in progress", TODAY - timedelta(days=30), rag_override="amber"), TODAY) == "amber"


def test_closed_items_have_no_rag_even_overdue_or_overridden():
    assert rag_of(item("implemented", TODAY - timedelta(days=30), rag_override="red"), TODAY) is None
    assert rag_of(item("withdrawn", TODAY - timedelta(days=1)), TODAY) is None


@pytest.mark.parametrize("typed, expected", [
    ("Done", "implemented"), ("  COMPLETED. ", "implemented"), ("2 On Track", "in progress"),
    ("on-hold", "in progress"), ("Rejected", "not accepted"), ("closed", "signed off"),
    ("sideways", None), ("", None),
])
def test_status_words_people_type(typed, expected):
    assert normalise_status(typed) == expected


def test_rag_words_and_open_statuses():
    assert [normalise_rag(w) for w in ("R", "yellow", "Green", "blue")] == ["red", "amber", "green", None]
    assert is_open("needs clarification") and is_open("referred")
    assert not is_open("signed off") and not is_open("not accepted")


# ---- reading dates ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("3/6/2010", date(2010, 6, 3)),          # day first, as a UK officer writes it
    ("12/1/26", date(2026, 1, 12)),
    ("30/9", date(2026, 9, 30)),             # no year: the next one to come
    ("1 June", date(2027, 6, 1)),            # 1 June 2026 has passed
    ("September 2010", date(2010, 9, 30)),   # a month means its last day
    ("end of June", date(2026, 6, 30)),
    ("by next Friday", date(2026, 6, 5)),
    ("in 3 weeks", date(2026, 6, 24)),
    ("a fortnight tomorrow", date(2026, 6, 18)),
    ("Q3", date(2026, 12, 31)),              # financial-year quarters: Q3 is Oct–Dec
    ("31/2/2026", None),
    ("whenever", None),
])
def test_parse_date_from_a_given_today(text, expected):
    assert parse_date(text, TODAY) == expected


def test_parse_date_prefer_past_reads_last_occurrence():
    assert parse_date("30 Sep", TODAY, prefer="past") == date(2025, 9, 30)
    assert parse_date("Friday", TODAY, prefer="past") == date(2026, 5, 29)


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 12, 31), 2) == date(2026, 2, 28)
    assert add_months(date(2026, 3, 15), -2) == date(2026, 1, 15)


def test_date_ranges_and_wording():
    before = parse_range("due before 30 June", TODAY)
    assert (before.start, before.end) == (None, date(2026, 6, 29))
    week = parse_range("next week", TODAY)
    assert (week.start, week.end) == (date(2026, 6, 8), date(2026, 6, 14))
    assert describe_due(date(2026, 6, 1), TODAY) == "1 Jun 2026 · 2 days overdue"
    assert describe_due(date(2026, 6, 4), TODAY) == "4 Jun 2026 · due tomorrow"
    assert long_date(date(2010, 6, 1)) == "1 June 2010"


# ---- working days ----------------------------------------------------------------------------

def test_bank_holidays_and_weekends_are_not_working_days():
    assert not is_working_day(date(2026, 5, 25))    # Spring Bank Holiday (Monday)
    assert not is_working_day(date(2026, 4, 3))     # Good Friday
    assert not is_working_day(date(2026, 6, 6))     # Saturday
    assert is_working_day(date(2026, 5, 26))


def test_next_working_day_skips_weekend_and_bank_holiday():
    assert next_working_day(date(2026, 5, 22)) == date(2026, 5, 26)              # Fri → Tue
    assert next_working_day(date(2026, 12, 24)) == date(2026, 12, 29)            # Christmas, Boxing Day (observed)
    assert next_working_day(date(2026, 6, 3), include_today=True) == date(2026, 6, 3)
    assert next_working_day(date(2026, 6, 3)) == date(2026, 6, 4)


def test_working_days_between_counts_after_start_up_to_end():
    assert working_days_between(date(2026, 5, 22), date(2026, 5, 29)) == 4       # Tue–Fri
    assert working_days_between(date(2026, 4, 2), date(2026, 4, 7)) == 1        # Easter
    assert working_days_between(date(2026, 6, 3), date(2026, 6, 3)) == 0


# ---- command text ----------------------------------------------------------------------------

def test_update_with_only_a_ref_opens_the_form():
    req = parse_update("rec-10", TODAY)
    assert (req.ref, req.changes) == ("rec-10", None)


def test_update_status_and_position():
    assert parse_update("rec-10 status Done", TODAY).changes.status == "implemented"
    ch = parse_update("sg2010/rec-10 position Police &amp; social care trained", TODAY).changes
    assert ch.position == "Police & social care trained" and ch.only_position


def test_update_due_date_and_clearing_it():
    assert parse_update("rec-10 due 30/9", TODAY).changes.due == date(2026, 9, 30)
    ch = parse_update("rec-10 due none", TODAY).changes
    assert ch.clear_due and ch.due is None


def test_update_owners_mentions_and_quoted_roles():
    ch = parse_update('act-3 owner <@U123|alice> "Cabinet Member"', TODAY).changes
    assert ch.owners == [("user", "U123"), "Cabinet Member"]


def test_update_rag_with_reason_and_exec_response():
    ch = parse_update("rec-10 rag Red because funding is delayed", TODAY).changes
    assert (ch.rag, ch.rag_reason) == ("red", "funding is delayed")
    ch = parse_update("rec-10 response partially accepted because no budget", TODAY).changes
    assert (ch.exec_response, ch.exec_response_reason) == ("partially accepted", "no budget")


@pytest.mark.parametrize("text, says", [
    ("rec-10 colour blue", "I can update"),
    ("rec-10 status sideways", "isn't a status"),
    ("rec-10 due someday soon", "couldn't read"),
    ("rec-10 rag purple", "RAG is red, amber, green or auto"),
    ("", "Say which item"),
])
def test_update_mistakes_are_explained(text, says):
    with pytest.raises(UserError, match=says):
        parse_update(text, TODAY)


def test_actions_filters_combine():
    f = parse_actions('overdue owner "Cabinet Member" status referred', TODAY)
    assert (f.overdue, f.owner, f.status, f.include_closed) == (True, "Cabinet Member", "referred", True)
    f = parse_actions("<@U42|bob> search foster carers", TODAY)
    assert (f.holder, f.search) == ("U42", ["foster", "carers"])


def test_actions_due_range_is_read_from_today():
    f = parse_actions("due next week", TODAY)
    assert (f.due_start, f.due_end) == ("2026-06-08", "2026-06-14")


def test_actions_unknown_word_is_explained():
    with pytest.raises(UserError, match="I don't know “sideways”"):
        parse_actions("mine sideways", TODAY)


# ---- who receives a decision letter ----------------------------------------------------------

@pytest_asyncio.fixture
async def db(sqlite_url):
    database = Database(sqlite_url)
    await database.upgrade()
    yield database
    await database.dispose()


async def _committee(s, code: str, channel_id: str | None) -> Committee:
    committee = Committee(team_id="T1", code=code, name=f"{code} committee", channel_id=channel_id, created_at=NOW)
    s.add(committee)
    await s.flush()
    return committee


def _role(committee: Committee, kind: str, holders: list[RoleHolder]) -> Role:
    return Role(team_id="T1", name=f"{committee.code} {kind}", key=f"{committee.code} {kind}", kind=kind,
                committee_id=committee.id, created_at=NOW, holders=holders)


async def test_letter_goes_to_channel_then_agency_contacts_then_officers_each_once(db):
    async with db.session() as s, s.begin():
        s.add(Workspace(team_id="T1", created_at=NOW))
        await s.flush()
        cyp = await _committee(s, "cyp", "CCYP")

        def contact(user_id=None, email=None, active=True):
            return AgencyContact(user_id=user_id, email=email, name=email, active=active, created_at=NOW)

        s.add_all([
            Agency(team_id="T1", committee_id=cyp.id, name="Essex Police", created_at=NOW, contacts=[
                contact("UBOB"), contact(email="jones@essex.police.uk"), contact("UOLD", active=False)]),
            Agency(team_id="T1", committee_id=cyp.id, name="Action for Children", created_at=NOW, contacts=[
                contact(email="JONES@essex.police.uk"), contact("UCAROL")]),
            _role(cyp, "officer", [
                RoleHolder(user_id="UCAROL", started_at=NOW),                   # already a contact
                RoleHolder(user_id="UGRAHAM", started_at=NOW),
                RoleHolder(user_id="UFORMER", started_at=NOW, ended_at=NOW),   # no longer an officer
                RoleHolder(name="Nobody Reachable", started_at=NOW)]),          # no Slack user, no email
            _role(cyp, "chair", [RoleHolder(user_id="UALICE", started_at=NOW)]),
        ])

    async with db.session() as s:
        cyp = await s.get(Committee, 1)
        planned = await plan_recipients(s, cyp)
    assert [(p.kind, p.agency, p.user_id or p.channel_id or p.email) for p in planned] == [
        ("channel", None, "CCYP"),
        ("contact", "Action for Children", "JONES@essex.police.uk"),  # agencies by name
        ("contact", "Action for Children", "UCAROL"),
        ("contact", "Essex Police", "UBOB"),                          # the same email again is skipped
        ("officer", None, "UGRAHAM"),
    ]
    assert [p.by_email for p in planned] == [False, True, False, False, False]


async def test_letter_of_a_committee_without_channel_or_agencies_goes_to_its_officers(db):
    async with db.session() as s, s.begin():
        s.add(Workspace(team_id="T1", created_at=NOW))
        await s.flush()
        ssc = await _committee(s, "ssc", None)
        s.add(_role(ssc, "officer", [RoleHolder(name="Jane Smith", email="jane@example.gov.uk", started_at=NOW)]))

    async with db.session() as s:
        planned = await plan_recipients(s, await s.get(Committee, 1))
    assert [(p.kind, p.email, p.by_email) for p in planned] == [("officer", "jane@example.gov.uk", True)]
