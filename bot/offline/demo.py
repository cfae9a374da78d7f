"""Demo data for `scrutineer console --demo`.

Modelled on published committee papers (the same committees, numbers, owners and
dates) but written in our own words: a fresh machine has no copy of those papers."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.workdays import next_working_day
from bot.importing import ImportedItem
from bot.services import audit, indicators
from bot.services.committees import get_or_create_role
from bot.services.imports import ImportReport, import_items
from bot.services.items import create_action
from models.indicators import Indicator, IndicatorValue
from models.meetings import Meeting
from models.queries import committee_by_code, ensure_workspace
from models.tables import Committee, Item, RoleHolder

TEAM = "T0ESSEX"
# The demo keeps its own database, apart from Slack mode's DATABASE_URL (./scrutineer.db by
# default), so trying the demo never mixes made-up committees with a real committee's data.
DEMO_DATABASE_URL = "sqlite:///scrutineer-demo.db"
DEMO_DATABASE_ENV = "SCRUTINEER_DEMO_DATABASE_URL"
CHANNELS = {"cyp": ("C0CYP", "cyp-scrutiny", False), "ssc": ("C0SSC", "safeguarding-sub", True),
            "dscb": ("C0DSCB", "derby-scb", False)}
USERS = {  # user id: (name, is_admin)
    "U0GRAHAM": ("Graham (Governance Officer)", True),
    "U0MARGARET": ("Margaret (Chairman of the ESCB)", False),
    "U0SARAH": ("Sarah (Cabinet Member)", False),
    "U0PETER": ("Peter (Chairman, CYP P&SC)", False),
    "U0DAVID": ("David (Executive Director, SCF)", False),
    "U0RACHEL": ("Rachel (member)", False),
}

# Position on Safeguarding Recommendations, reported 1 June 2010: (number, text, owners, position).
SG2010 = [
    ("1", "The committee should keep acting as a critical friend, checking every three months how the "
          "Schools, Children and Families business plan is being delivered, with a focus on the issues the "
          "Director's report raised.", ["Chairman of CYP P&SC"],
     "Lead officers of the directorate have given regular updates on how the service is managed and "
     "structured, with statistics."),
    ("2", "Ask the Chairman of the Essex Safeguarding Children Board to present the Board's annual report and "
          "business plan each year, between February and May.", ["Chairman of the ESCB"],
     "The Chairman updated the May 2010 meeting. The annual report and business plan are expected from the "
     "Board in September 2010."),
    ("3", "For continuity, the Cabinet Member may consider appointing the Board's Chairman on a three-year "
          "contract.", ["Chairman of the ESCB"],
     "Contracts remain annual, but the Chairman's time has risen from 30 to 45 days a year to reflect the "
     "extra work."),
    ("4", "The Board's Chairman and the Cabinet Member for Children's Services should review how new Board "
          "members are inducted.", ["Cabinet Member", "Chairman of the ESCB"],
     "Statutory training for Board members starts in June 2010, open to all partners and kept up to date "
     "with new legislation; new members will also get induction training. Members now have job descriptions "
     "and guidance on passing Board information back to their organisations."),
    ("5", "The Board's Chairman should look at how to keep attendance consistent and how decisions are "
          "reported back to every organisation, especially district and borough councils and their members.",
     ["ESCB Chairman"],
     "Attendance is generally high. To spread information across a large county, the Chairman proposes "
     "writing to senior officers in every member agency after each meeting with the key decisions and the "
     "actions for all agencies; the committee will get a copy through its Committee Officer."),
    ("6", "The committee should commission periodic sampling of how issues discussed at the Board are passed "
          "on between and within partner organisations.", ["Chairman CYP P&SC"],
     "For the Safeguarding Sub-Committee to consider."),
    ("7", "The committee would support the Cabinet Member in finding the best ways to involve the voluntary "
          "sector in the Board's work.", ["Cabinet Member"],
     "The Board's membership review will look at including voluntary sector representatives and at better "
     "communication with the sector. Members will be given a map of the boards and how information flows "
     "between them."),
    ("8", "The Executive Director may wish to spread the Salvation Army's approach to child protection "
          "training across the voluntary sector and use it as a benchmark.", ["Executive Director of SCF"],
     "The position on this recommendation needs clarifying. Board training is open to designated people in "
     "all organisations, and responsibility for training is moving to the Children's Trust."),
    ("9", "The committee would welcome the Cabinet Member considering ways to share lessons with every "
          "organisation that works with children and young people.", ["Cabinet Member"],
     "The Children's Trust Board is being used to pass the information on."),
    ("10", "The Board's Chairman should start a review of how lessons from Serious Case Reviews are embedded "
           "in and across partner organisations.", ["ESCB Chairman"],
     "Each Serious Case Review produces a confidential report and a published executive summary. Thirteen "
     "reviews were outstanding when the current Chairman was appointed; two remain, both due to finish by "
     "September 2010. Committee members now have a web link to the executive summaries."),
    ("11", "The Board's Chairman may wish to review with the Head of Legal Services what resources the Board "
           "needs for effective support, including audit and post-Laming requirements.", ["Chairman of the ESCB"],
     "Approval has been given to appoint extra support staff."),
    ("12", "The committee should keep monitoring social worker vacancies and how well recruitment and "
           "retention initiatives work.", ["Chairman CYP P&SC"],
     "In May 2010 the committee heard about unallocated and overall caseloads. The Cabinet Member gets a "
     "weekly report on unallocated cases; children in unallocated cases are in a managed situation."),
    ("13", "The committee should review the success of the directorate's revised foster carer recruitment "
           "campaign in September 2010.", ["Chairman CYP P&SC"],
     "Systems are in place to improve recruitment, and several new foster households have been approved "
     "recently."),
]
SG2010_DUE = {"2": date(2010, 9, 30), "10": date(2010, 9, 30), "13": date(2010, 9, 30), "4": date(2010, 6, 30)}
ROLE_HOLDERS = {"Chairman of the ESCB": "U0MARGARET", "Cabinet Member": "U0SARAH",
                "Chairman of CYP P&SC": "U0PETER", "Executive Director of SCF": "U0DAVID"}


def demo_database_url(env: dict[str, str] | None = None) -> str:
    """Where the demo's data lives: $SCRUTINEER_DEMO_DATABASE_URL, else ./scrutineer-demo.db.
    Never DATABASE_URL, which is the real committees' database."""
    import os

    env = os.environ if env is None else env
    return env.get(DEMO_DATABASE_ENV) or DEMO_DATABASE_URL


async def load_demo(session: AsyncSession, now: datetime, settings=None) -> ImportReport:
    """Create the demo committees, roles, recommendations and actions. Loaded on every start
    of the console demo: a second load adds nothing and changes nothing, whatever was done
    in between (the recommendations are imported again, which never undoes work done since,
    and the actions are made only when missing). Returns the recommendations' import report."""
    await ensure_workspace(session, TEAM, now, "Essex County Council (demo)")
    names = {"cyp": "Children and Young People Policy and Scrutiny Committee",
             "ssc": "Safeguarding Sub-Committee",
             "dscb": "Derby Safeguarding Children Board"}
    committees: dict[str, Committee] = {}
    for code, name in names.items():
        committee = await committee_by_code(session, TEAM, code)
        if committee is None:
            channel, _, private = CHANNELS[code]
            committee = Committee(team_id=TEAM, code=code, name=name, channel_id=channel, is_private=private,
                                  created_at=now)
            session.add(committee)
            await session.flush()
            audit.record(session, team_id=TEAM, actor="demo", at=now, entity="committee", entity_id=committee.id,
                         action="create", after={"code": code, "name": name})
        committees[code] = committee
    for role_name, user in ROLE_HOLDERS.items():
        role = await get_or_create_role(session, TEAM, role_name, now, "demo")
        if not role.current_holders:
            session.add(RoleHolder(role_id=role.id, user_id=user, started_at=now, assigned_by="demo"))
    for kind, user, code in (("chair", "U0PETER", "cyp"), ("officer", "U0GRAHAM", "cyp"),
                             ("officer", "U0GRAHAM", "ssc"), ("chair", "U0PETER", "ssc")):
        committee = committees[code]
        title = f"{'Chair' if kind == 'chair' else 'Officer'} of {committee.name}"
        role = await get_or_create_role(session, TEAM, title, now, "demo", kind=kind, committee=committee)
        if not role.current_holders:
            session.add(RoleHolder(role_id=role.id, user_id=user, started_at=now, assigned_by="demo"))
    await session.flush()

    items = [ImportedItem(number=n, text=t, owners=o, due=SG2010_DUE.get(n),
                          status="needs clarification" if n == "8" else None, position=p)
             for n, t, o, p in SG2010]
    report = await import_items(session, team_id=TEAM, committee_code="cyp", review_code="sg2010", items=items,
                                actor="demo", now=now, title="Position on Safeguarding Recommendations",
                                agreed_on=date(2010, 6, 3), as_of=date(2010, 6, 1), source="demo data")

    # Actions arising, some due around today so date filters have something to show.
    today = now.date()
    actions = [
        ("ssc", "Report back on periodic sampling of how Board decisions reach partner organisations.",
         "Chairman of CYP P&SC", today + timedelta(days=9), "not started"),
        ("ssc", "Circulate the map of boards and information flows to members.", "Cabinet Member",
         today - timedelta(days=12), "in progress"),
        ("dscb", "Write to the Secretary of State about the electronic social care recording system "
                 "behind the red-rated indicators NI 59 and NI 60.", "Chairman of the ESCB",
         date(2009, 3, 31), "implemented"),
        ("dscb", "Bring a detailed report on the re-referral rate to the next panel.", "Executive Director of SCF",
         today + timedelta(days=30), "in progress"),
        ("cyp", "Arrange further training on the committee's remit for members.", "Chairman of CYP P&SC",
         today + timedelta(days=4), "not started"),
    ]
    for code, text, owner, due, status in actions:
        committee = committees[code]
        if await session.scalar(select(Item.id).where(Item.committee_id == committee.id, Item.text == text)):
            continue
        role = await get_or_create_role(session, TEAM, owner, now, "demo")
        await create_action(session, team_id=TEAM, committee=committee, text=text, roles=[role], due=due,
                            status=status, actor="demo", now=now)
    await _load_indicators(session, committees["cyp"], now)
    if settings is not None:
        await _demo_meeting(session, committees["cyp"], now, settings)
    return report


DEMO_MEETING_AHEAD = 6   # working days: inside the window owners are asked for updates (10), before the chase (3)


async def _demo_meeting(session: AsyncSession, committee: Committee, now: datetime, settings) -> Meeting:
    """The demo committee's next meeting, DEMO_MEETING_AHEAD working days from today (real time), so
    a newcomer sees the request for updates go to the owners, can send one as an owner and accept
    it as the officer. Made only when the committee has no meeting to come; loading again adds
    nothing, and the requests are queued under their keys once."""
    from bot.services import updates
    from bot.slack_ui import updates as updates_ui

    meeting = (await session.scalars(select(Meeting).where(
        Meeting.committee_id == committee.id, Meeting.closed_at.is_(None), Meeting.cancelled_at.is_(None),
        Meeting.starts_at > now).order_by(Meeting.starts_at, Meeting.id).limit(1))).first()
    if meeting is None:
        day = now.astimezone(settings.tz).date()
        for _ in range(DEMO_MEETING_AHEAD):
            day = next_working_day(day)
        starts = datetime.combine(day, time(10), tzinfo=settings.tz)
        meeting = Meeting(team_id=TEAM, committee_id=committee.id, committee=committee, starts_at=starts,
                          ends_at=starts + timedelta(hours=2), created_by="demo", created_at=now)
        session.add(meeting)
        await session.flush()
        audit.record(session, team_id=TEAM, actor="demo", at=now, entity="meeting", entity_id=meeting.id,
                     action="create", after={"starts_at": starts, "committee": committee.code})
    await updates.queue_update_requests(session, now, settings, render=updates_ui, anytime=True)
    return meeting


# The committee's indicators and their figures, after a quarterly safeguarding report to a
# scrutiny panel: (name, unit, target, lower is better, {period: (value, note)}).
INDICATORS = [
    ("Re-referrals within 12 months", "%", 25.0, True,
     {"Q1 2012/13": (35.0, "13 families. Three causes: the national criterion not yet fully applied, data "
                           "needing cleansing, and re-referral decisions not always made by managers. "
                           "Improvement expected next quarter.")}),
    ("Initial assessments within 10 days", "%", None, False,
     {"Q4 2011/12": (80.0, None), "Q1 2012/13": (95.4, "Weekly monitoring and focused action.")}),
    ("Core assessments within 35 days", "%", None, False,
     {"Q4 2011/12": (57.0, None), "Q1 2012/13": (100.0, "Every core assessment on time.")}),
    ("Children looked after", "children", None, False, {"Q1 2012/13": (29.0, "At the end of June; steady.")}),
    ("Children with a child protection plan", "children", None, False,
     {"Q1 2012/13": (13.0, "At the end of June; steady.")}),
]
INDICATOR_OWNER = "Executive Director of SCF"


async def _load_indicators(session: AsyncSession, committee: Committee, now: datetime) -> None:
    """The demo committee's indicators: each made when missing, each figure recorded when its
    period has none, so loading again adds nothing (and never undoes a figure recorded since)."""
    owner = await get_or_create_role(session, TEAM, INDICATOR_OWNER, now, "demo")
    for name, unit, target, lower, figures in INDICATORS:
        key = indicators.slug(name)
        indicator = await session.scalar(select(Indicator).where(Indicator.committee_id == committee.id,
                                                                 Indicator.slug == key))
        if indicator is None:
            indicator = Indicator(team_id=TEAM, committee_id=committee.id, name=name, slug=key, unit=unit,
                                  target=target, lower_is_better=lower, owner_role_id=owner.id, created_by="demo",
                                  created_at=now)
            session.add(indicator)
            await session.flush()
            audit.record(session, team_id=TEAM, actor="demo", at=now, entity="indicator", entity_id=indicator.id,
                         action="create", after={"name": name, "committee": committee.code, "target": target})
        recorded = set(await session.scalars(select(IndicatorValue.period).where(
            IndicatorValue.indicator_id == indicator.id)))
        for label, (value, note) in figures.items():
            if label in recorded:
                continue
            period = indicators.parse_period(label)
            session.add(IndicatorValue(team_id=TEAM, indicator_id=indicator.id, period=period.label,
                                       period_start=period.start, period_end=period.end, value=value, note=note,
                                       recorded_by="demo", recorded_at=now))
    await session.flush()
