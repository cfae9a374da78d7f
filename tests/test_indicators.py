"""/indicator: the rules (periods, RAG, direction of travel) as plain functions, and the command
end to end through the real app against the fake Slack, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from bot.core.errors import UserError
from bot.services import indicators as ind
from models.indicators import Indicator, IndicatorValue
from models.tables import AuditEvent, Role

TODAY = date(2026, 6, 1)
CYP = "Children and Young People Scrutiny Committee"
HEAD = "Head of Children's Social Care"
ADD = f'add "Re-referrals within 12 months" unit % target 25 lower-is-better owner "{HEAD}"'


# ---- periods ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, label, start, end, kind", [
    ("Q1 2012/13", "Q1 2012/13", date(2012, 4, 1), date(2012, 6, 30), "quarter"),
    ("q2 2012-13", "Q2 2012/13", date(2012, 7, 1), date(2012, 9, 30), "quarter"),
    ("Q3 2012/2013", "Q3 2012/13", date(2012, 10, 1), date(2012, 12, 31), "quarter"),
    ("Q4 2012/13", "Q4 2012/13", date(2013, 1, 1), date(2013, 3, 31), "quarter"),
    ("Q4 1999/00", "Q4 1999/00", date(2000, 1, 1), date(2000, 3, 31), "quarter"),
    ("June 2012", "June 2012", date(2012, 6, 1), date(2012, 6, 30), "month"),
    ("feb 2012", "February 2012", date(2012, 2, 1), date(2012, 2, 29), "month"),
    ("2012-09", "September 2012", date(2012, 9, 1), date(2012, 9, 30), "month"),
    ("2012/13", "2012/13", date(2012, 4, 1), date(2013, 3, 31), "financial year"),
    ("2012", "2012", date(2012, 1, 1), date(2012, 12, 31), "year"),
])
def test_periods_as_councils_write_them(text, label, start, end, kind):
    assert ind.parse_period(text, TODAY) == ind.Period(label, start, end, kind)


@pytest.mark.parametrize("text, says", [
    ("Q5 2012/13", "isn't a period"), ("Q1 2012", "Which financial year"), ("2012/14", "second year follows"),
    ("Smarch 2012", "isn't a period"), ("2012-13-01", "isn't a period"), ("Q1 2026/27", None),
    ("Q2 2026/27", "hasn't begun"), ("July 2026", "hasn't begun"), ("2027", "hasn't begun"),
])
def test_periods_refused_politely(text, says):
    if says is None:          # the quarter in progress may have a figure
        assert ind.parse_period(text, TODAY).label == "Q1 2026/27"
        return
    with pytest.raises(UserError, match=says):
        ind.parse_period(text, TODAY)


# ---- RAG and direction -----------------------------------------------------------------------

@pytest.mark.parametrize("value, target, lower, expected", [
    (25, 25, True, "green"), (20, 25, True, "green"), (27.5, 25, True, "amber"), (27.6, 25, True, "red"),
    (35, 25, True, "red"),
    (95.4, 95, False, "green"), (85.5, 95, False, "amber"), (85.4, 95, False, "red"), (100, 95, False, "green"),
    (29, None, False, None),
])
def test_rag_against_the_target(value, target, lower, expected):
    assert ind.rag(value, target, lower) == expected


def _point(label: str, value: float) -> ind.PeriodValue:
    return ind.PeriodValue(ind.parse_period(label), value, None, "U1", datetime(2026, 1, 1, tzinfo=timezone.utc))


def test_direction_of_travel_respects_lower_is_better():
    before = _point("Q4 2011/12", 30)
    assert ind.direction(35, before, lower_is_better=True).arrow == "↑"
    assert ind.direction(35, before, lower_is_better=True).word == "worse"
    assert ind.direction(35, before, lower_is_better=False).word == "better"
    assert ind.direction(20, before, lower_is_better=True).arrow == "↓"
    assert ind.direction(20, before, lower_is_better=True).better is True
    assert ind.direction(30, before, lower_is_better=True).word == "no change"
    assert ind.direction(30, None, lower_is_better=True) is None


def test_previous_period_is_of_the_same_kind():
    points = [_point("2011/12", 50), _point("Q3 2011/12", 40), _point("Q4 2011/12", 30), _point("Q1 2012/13", 35)]
    points = sorted(points, key=lambda p: (p.period.end, p.period.start))
    assert ind.previous_of(points, points[-1]).period.label == "Q4 2011/12"
    year = next(p for p in points if p.period.kind == "financial year")
    assert ind.previous_of(points, year) is None


def test_reading_the_commands():
    new = ind.parse_add(ADD[len("add "):])
    assert (new.name, new.unit, new.target, new.lower_is_better, new.owner) == (
        "Re-referrals within 12 months", "%", 25, True, HEAD)
    assert ind.parse_add("Children looked after unit children").name == "Children looked after"
    rec = ind.parse_rec('re-referrals Q1 2012/13 35 note "13 families; data cleansing under way"', TODAY)
    assert (rec.ref, rec.period.label, rec.value, rec.note) == (
        "re-referrals", "Q1 2012/13", 35, "13 families; data cleansing under way")
    rec = ind.parse_rec("initial assessments 2012/13 95.4%", TODAY)
    assert (rec.ref, rec.period.label, rec.value, rec.note) == ("initial assessments", "2012/13", 95.4, None)
    with pytest.raises(UserError, match="isn't a number"):
        ind.parse_rec("re-referrals Q1 2012/13 lots", TODAY)
    with pytest.raises(UserError, match="takes one value"):
        ind.parse_add("Re-referrals target")


# ---- end to end --------------------------------------------------------------------------------

async def cmd(h, text, user="UBOB", channel="CCYP"):
    return await h.command("/indicator", text, user=user, channel=channel)


async def set_up(h) -> None:
    """#cyp bound to the committee; Alice chairs, Bob is the officer, Carol the Head of Service."""
    for text, user in ((f"setup cyp {CYP}", "UADMIN"), ("role chair <@UALICE|alice>", "UADMIN"),
                       ("role officer <@UBOB|bob>", "UADMIN"), (f'role "{HEAD}" <@UCAROL|carol>', "UADMIN")):
        await h.command("/scrutiny", text, user=user, channel="CCYP")


async def counts(h) -> tuple[int, int, int]:
    async with h.db.session() as s:
        return (await s.scalar(select(func.count()).select_from(Indicator)),
                await s.scalar(select(func.count()).select_from(IndicatorValue)),
                await s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "indicator")))


async def test_add_record_list_history_and_correct(harness):
    h = harness
    await set_up(h)
    r = await cmd(h, ADD)
    assert "Added *Re-referrals within 12 months*" in r.visible, r.visible
    assert "target 25% (lower is better)" in r.visible
    r = await cmd(h, 'add "Initial assessments within 10 days" unit % target 95', user="UALICE")
    assert "Added" in r.visible, r.visible
    r = await cmd(h, "add Children looked after unit children", user="UADMIN")
    assert "no target" in r.visible, r.visible

    r = await cmd(h, "rec re-referrals Q4 2011/12 30")
    assert "Recorded *Re-referrals within 12 months* for Q4 2011/12: 30%" in r.visible, r.visible
    assert "first figure" in r.visible
    r = await cmd(h, 'rec re-referrals Q1 2012/13 33 note "13 families; data cleansing under way"', user="UCAROL")
    assert ":red_circle: Red against target 25%" in r.visible, r.visible
    assert "↑ worse (from 30% in Q4 2011/12)" in r.visible
    r = await cmd(h, "rec initial 2012/13 95.4%")
    assert ":large_green_circle: Green" in r.visible, r.visible
    r = await cmd(h, "rec children June 2012 29")
    assert "29 children" in r.visible and "No target, so no RAG" in r.visible, r.visible

    # Recorded again for the same period: a correction, the earlier figure kept.
    h.clock.now = h.clock.now.replace(day=3)
    r = await cmd(h, "rec re-referrals Q1 2012/13 35")
    assert "Corrected *Re-referrals within 12 months* for Q1 2012/13: 35% (was 33%, recorded 1 Jun 2026" in r.visible, r.visible

    r = await cmd(h, "")
    board = r.visible
    assert "Indicators — " + CYP in board
    assert "35% (Q1 2012/13)" in board and "↑ worse (from 30% in Q4 2011/12)" in board, board
    assert "95.4% (2012/13)" in board and "first figure" in board
    assert "Re-referrals" in board.split("Initial")[0]      # in the order added
    assert f"owner {HEAD}" in board

    r = await cmd(h, "re-referrals history", user="UDAVE")     # anyone in the channel may read
    hist = r.visible
    assert hist.index("Q1 2012/13") < hist.index("Q4 2011/12"), hist      # newest first
    assert "35%" in hist and "corrected from 33%" in hist
    assert "13 families; data cleansing under way" in hist

    async with h.db.session() as s:
        values = list(await s.scalars(select(IndicatorValue).order_by(IndicatorValue.id)))
        assert [(v.period, v.value) for v in values] == [
            ("Q4 2011/12", 30), ("Q1 2012/13", 33), ("2012/13", 95.4), ("June 2012", 29), ("Q1 2012/13", 35)]
        audits = list(await s.scalars(select(AuditEvent).where(AuditEvent.entity == "indicator")
                                      .order_by(AuditEvent.id)))
        assert [a.action for a in audits].count("create") == 3
        correction = audits[-1]
        assert correction.action == "correct value" and correction.actor == "UBOB"
        assert correction.before["value"] == 33 and correction.after["value"] == 35


async def test_refusals_change_nothing(harness):
    h = harness
    await set_up(h)
    await cmd(h, ADD)
    await cmd(h, "rec re-referrals Q1 2012/13 35")
    before = await counts(h)

    r = await cmd(h, 'add "Core assessments within 35 days" target 100', user="UDAVE")
    assert "Only the chair and officers" in r.visible, r.visible
    r = await cmd(h, "rec re-referrals Q2 2012/13 30", user="UDAVE")
    assert "Only the chair and officers" in r.visible, r.visible
    for text, says in (("rec re-referrals Q5 2012/13 30", "isn't a period"),
                       ("rec re-referrals Q2 2012/13 thirty", "isn't a number"),
                       ("rec re-referrals Q2 2030/31 30", "hasn't begun"),
                       ("rec nothing Q2 2012/13 30", "no indicator"),
                       (ADD, "already has an indicator"),
                       ('add "Timeliness" owner "Head of Nothing"', "no role called"),
                       ("frobnicate", "don't know")):
        r = await cmd(h, text)
        assert says in r.visible, (text, r.visible)
        assert len(r.visible.splitlines()) == 1, r.visible
    r = await cmd(h, "", channel="CGENERAL")
    assert "isn't bound to a committee" in r.visible, r.visible
    assert await counts(h) == before


async def test_help(harness):
    r = await harness.command("/indicator", "help", user="UDAVE", channel="CCYP")
    assert "/indicator" in r.text and "Q1 2012/13" in r.visible


async def test_demo_has_the_seed_indicators_once(database_url):
    from bot.db import Database
    from bot.offline.demo import TEAM, load_demo
    from models.queries import committee_by_code

    db = Database(database_url)
    try:
        await db.upgrade()
        start = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)
        for day in (0, 1, 2):
            async with db.session() as s, s.begin():
                await load_demo(s, start.replace(day=1 + day))
            async with db.session() as s:
                n = (await s.scalar(select(func.count()).select_from(Indicator)),
                     await s.scalar(select(func.count()).select_from(IndicatorValue)))
            assert n == (5, 7)
        async with db.session() as s:
            inds = await ind.indicators_of(s, await committee_by_code(s, TEAM, "cyp"))
            values = await ind.values_of(s, TEAM, [i.id for i in inds])
        by_name = {i.name: ind.standing(i, values[i.id]) for i in inds}
        rerefs = by_name["Re-referrals within 12 months"]
        assert (rerefs.latest.value, rerefs.rag) == (35, "red")
        initial = by_name["Initial assessments within 10 days"]
        assert (initial.latest.value, initial.direction.arrow, initial.direction.better) == (95.4, "↑", True)
        assert by_name["Children looked after"].latest.value == 29
    finally:
        await db.dispose()


async def test_an_indicators_owner_and_target_changed_and_audited(harness):
    h = harness
    await set_up(h)
    r = await cmd(h, 'add "Children looked after" unit children')
    assert "no owner" in r.visible or "owner" not in r.visible.split("Record")[0], r.visible
    r = await cmd(h, f'set children owner "{HEAD}" target 30 lower-is-better')
    assert "Changed *Children looked after*" in r.visible and f"owner {HEAD}" in r.visible, r.visible
    assert "target 30 children (lower is better)" in r.visible, r.visible
    r = await cmd(h, "set children target 30 lower-is-better")
    assert "already reads so" in r.visible, r.visible
    before = await counts(h)
    for text, user, says in (("set children target 25", "UDAVE", "Only the chair and officers"),
                             ("set nothing target 25", "UBOB", "no indicator"),
                             ("set children", "UBOB", "what to change"),
                             ("set children target lots", "UBOB", "isn't a number"),
                             ('set children owner "Head of Nothing"', "UBOB", "no role called")):
        r = await cmd(h, text, user=user)
        assert says in r.visible and len(r.visible.splitlines()) == 1, (text, r.visible)
    assert await counts(h) == before
    async with h.db.session() as s:
        ind = await s.scalar(select(Indicator))
        owner = await s.get(Role, ind.owner_role_id)
        change = await s.scalar(select(AuditEvent).where(AuditEvent.entity == "indicator",
                                                         AuditEvent.action == "update"))
    assert (owner.name, ind.target, ind.lower_is_better) == (HEAD, 30, True)
    assert change.actor == "UBOB" and change.before["target"] is None and change.after["target"] == 30
