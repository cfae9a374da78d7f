"""`/scrutiny report` and `scrutineer report`: the figures, checked against counts made here
independently from the stored rows (SQL counts for now; a forward replay of the audit trail
for the earlier date, where the report undoes it backwards); the chart uploaded with alt
text; the papers written by the CLI. On SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.core.status import CLOSED
from bot.export.report import alt_text, draw_chart
from bot.importing import ImportedItem
from bot.services.imports import import_items
from bot.services.reports import build_report
from models.queries import committee_by_code
from models.tables import AuditEvent, Item, ItemOwner, Role

TZ = ZoneInfo("Europe/London")
ROOT = Path(__file__).resolve().parents[1]
AGREED = date(2025, 12, 1)
SINCE = date(2026, 4, 1)
CM, POLICE, DCS = "Cabinet Member", "Chief Constable, Essex Police", "Director of Children's Services"
ITEMS = [  # number, owners, due, status at import
    ("1", [CM], date(2026, 3, 31), "in progress"),
    ("2", [CM], date(2026, 2, 28), "not started"),
    ("3", [POLICE], date(2026, 5, 31), "in progress"),
    ("4", [POLICE, CM], date(2026, 9, 30), "not started"),
    ("5", [DCS], date(2026, 4, 30), "in progress"),
    ("6", [DCS], None, "implemented"),
    ("7", [CM], date(2026, 12, 31), "not started"),
]


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ).astimezone(timezone.utc)


async def update(h, text: str) -> None:
    r = await h.command("/update", text, user="UADMIN", channel="CCYP")
    assert "rec-" in r.text, r.text


async def build_history(h) -> None:
    """Seven recommendations imported in January, their responses in March, progress in April
    and May, an eighth added in May; the report is asked for on 1 June 2026 (NOW)."""
    now = h.clock.now
    r = await h.command("/scrutiny", "setup cyp Children and Young People Scrutiny Committee", user="UADMIN",
                        channel="CCYP")
    assert "bound" in r.text
    r = await h.command("/scrutiny", 'agency add "Essex Police" <@UCAROL|carol>', user="UADMIN", channel="CCYP")
    assert "Essex Police" in r.text, r.text
    h.clock.now = at(date(2026, 1, 5))
    async with h.db.session() as s, s.begin():
        await import_items(s, team_id="T1", committee_code="cyp", review_code="fc2026", actor="UADMIN",
                           now=h.clock.now, title="Foster Care", agreed_on=AGREED,
                           items=[ImportedItem(number=n, text=f"Recommendation {n}.", owners=o, due=d, status=st)
                                  for n, o, d, st in ITEMS])
    h.clock.now = at(date(2026, 3, 10))
    for text in ("rec-1 response accepted", "rec-2 response accepted",
                 "rec-3 response partially accepted because only in the north", "rec-4 response rejected because cost",
                 "rec-1 status implemented"):
        await update(h, text)
    h.clock.now = at(date(2026, 4, 20))
    for text in ("rec-5 status implemented", "rec-1 status signed off"):
        await update(h, text)
    h.clock.now = at(date(2026, 5, 20))
    async with h.db.session() as s, s.begin():
        await import_items(s, team_id="T1", committee_code="cyp", review_code="fc2026", actor="UADMIN",
                           now=h.clock.now, items=[ImportedItem(number="8", text="Recommendation 8.", owners=[CM],
                                                                due=date(2026, 5, 25), status="not started")])
    for text in ("rec-3 status implemented", "rec-2 due 30 September 2026"):
        await update(h, text)
    h.clock.now = now


# ---- independent counts ---------------------------------------------------------------

async def counts_now(h, today: date, owner: str | None = None) -> dict[str, int]:
    """Straight SQL counts over the items table (and item_owners for one owner)."""
    async with h.db.session() as s:
        def q(*where):
            stmt = select(func.count(Item.id)).where(Item.kind == "rec", *where)
            if owner is not None:
                stmt = stmt.join(ItemOwner, ItemOwner.item_id == Item.id).join(Role, Role.id == ItemOwner.role_id) \
                    .where(Role.name == owner)
            return s.scalar(stmt)
        return {
            "made": await q(),
            "accepted": await q(Item.exec_response == "accepted"),
            "partially": await q(Item.exec_response == "partially accepted"),
            "not_accepted": await q((Item.exec_response == "rejected") | (
                (Item.status == "not accepted") & Item.exec_response.notin_(("accepted", "partially accepted")))),
            "implemented": await q(Item.status.in_(("implemented", "signed off"))),
            "signed_off": await q(Item.status == "signed off"),
            "overdue": await q(Item.status.notin_(CLOSED), Item.due < today),
        }


async def counts_then(h, day: date) -> dict[str, int]:
    """A forward replay: each item from its creating import event, each later change applied
    in order, up to the end of `day`."""
    cutoff = datetime.combine(day + timedelta(days=1), time(0), tzinfo=TZ)
    async with h.db.session() as s:
        events = list(await s.scalars(select(AuditEvent).where(AuditEvent.entity == "item")
                                      .order_by(AuditEvent.at, AuditEvent.id)))
    state: dict[int, dict] = {}
    for e in events:
        if e.at >= cutoff:
            break
        if e.action == "import" and e.before is None:
            state[e.entity_id] = {"status": e.after["status"], "response": "awaiting",
                                  "due": date.fromisoformat(e.after["due"]) if e.after["due"] else None}
        elif e.entity_id in state:
            st = state[e.entity_id]
            for key, field in (("status", "status"), ("exec_response", "response")):
                if key in (e.after or {}):
                    st[field] = e.after[key]
            if "due" in (e.after or {}):
                st["due"] = date.fromisoformat(e.after["due"]) if e.after["due"] else None
    items = list(state.values())
    return {
        "made": len(items),
        "accepted": sum(i["response"] == "accepted" for i in items),
        "partially": sum(i["response"] == "partially accepted" for i in items),
        "not_accepted": sum(i["response"] == "rejected" for i in items),
        "implemented": sum(i["status"] in ("implemented", "signed off") for i in items),
        "signed_off": sum(i["status"] == "signed off" for i in items),
        "overdue": sum(i["status"] not in CLOSED and i["due"] is not None and i["due"] < day for i in items),
    }


def figures(tally) -> dict[str, int]:
    return {k: getattr(tally, k) for k in ("made", "accepted", "partially", "not_accepted", "implemented",
                                           "signed_off", "overdue")}


async def report_of(h, since: date | None = SINCE, now: datetime | None = None):
    async with h.db.session() as s:
        committee = await committee_by_code(s, "T1", "cyp")
        return await build_report(s, "T1", [committee], now=now or h.clock.now, tz=TZ, since=since)


# ---- the figures ------------------------------------------------------------------------

async def test_figures_match_the_stored_rows(harness):
    await build_history(harness)
    today = harness.clock.now.astimezone(TZ).date()
    report = await report_of(harness)
    assert figures(report.total.now) == await counts_now(harness, today)
    assert figures(report.total.then) == await counts_then(harness, SINCE)
    # What the story above makes them, so neither side can drift unnoticed.
    assert figures(report.total.now) == dict(made=8, accepted=2, partially=1, not_accepted=1, implemented=4,
                                             signed_off=1, overdue=1)
    assert figures(report.total.then) == dict(made=7, accepted=2, partially=1, not_accepted=1, implemented=2,
                                              signed_off=0, overdue=1)
    assert report.total.now.awaiting == 4 and report.total.then.awaiting == 3
    # Time to implement: agreed 1 Dec 2025; implemented 10 Mar, 20 Apr, 20 May 2026 (rec-6 came in done).
    assert sorted(report.total.now.days) == [(date(2026, 3, 10) - AGREED).days, (date(2026, 4, 20) - AGREED).days,
                                             (date(2026, 5, 20) - AGREED).days]
    assert report.total.now.longest_days == 170 and round(report.total.now.average_days) == 136
    assert report.total.then.days == [99] and report.undated_implemented == 1
    assert report.total.change("implemented") == 2 and report.total.change("made") == 1
    by_owner = {x.label: x for x in report.by_owner}
    assert set(by_owner) == {CM, POLICE, DCS}
    for name, line in by_owner.items():
        assert figures(line.now) == await counts_now(harness, today, owner=name), name
    agencies = {x.label: x for x in report.by_agency}
    assert list(agencies) == ["Essex Police"]       # rec-3 and rec-4: "Chief Constable, Essex Police"
    assert figures(agencies["Essex Police"].now) == await counts_now(harness, today, owner=POLICE)
    assert report.rag == {"red": 1, "amber": 0, "green": 3}    # open: rec-2, rec-4, rec-7 green; rec-8 red


async def test_first_report_has_no_comparison(harness):
    await build_history(harness)
    report = await report_of(harness, since=None)
    assert report.since is None and report.total.then is None
    assert report.total.change("made") is None and "bracket" not in alt_text(report)


# ---- Slack ---------------------------------------------------------------------------------

async def test_slash_report_uploads_the_chart_and_answers(harness):
    await build_history(harness)
    r = await harness.command("/scrutiny", "report since 1 April 2026", user="UDAVE", channel="CCYP")
    assert r.ephemeral
    text = r.visible
    assert "8 recommendations made: 2 accepted, 1 partially accepted, 1 not accepted, 4 awaiting" in text, text
    assert "4 implemented (1 of them signed off); 1 overdue" in text
    assert "since 1 April 2026" in text and "made +1" in text and "implemented +2" in text
    assert "Essex Police" in text and CM in text
    assert "average 136 days, longest 170 days" in text
    (file_id, stored), = harness.slack.files.items()
    assert stored["filename"].endswith(".png")
    assert harness.slack.file_content(file_id)[:8] == b"\x89PNG\r\n\x1a\n"
    alt = stored["alt_txt"]
    assert alt and "Accepted 2" in alt and "Implemented 4 (+2)" in alt and "Red – overdue or at risk 1" in alt
    shared = [m for m in harness.slack.messages_in("CCYP") if m.get("subtype") == "file_share"]
    assert len(shared) == 1 and shared[0]["files"][0]["id"] == file_id and "<@UDAVE>" in shared[0]["text"]

    # The next report compares with this one, from the audit trail.
    r = await harness.command("/scrutiny", "report", user="UDAVE", channel="CCYP")
    assert "since 1 June 2026 (the last report)" in r.visible and "no change" in r.visible, r.visible
    assert len(harness.slack.files) == 2


async def test_slash_report_words_and_privacy(harness):
    await build_history(harness)
    r = await harness.command("/scrutiny", "report since someday soonish", user="UDAVE", channel="CCYP")
    assert "can't read" in r.visible
    r = await harness.command("/scrutiny", "setup ssc Safeguarding Sub-Committee", user="UADMIN", channel="CSSC")
    r = await harness.command("/scrutiny", "report ssc", user="UALICE", channel="CCYP")
    assert "own channel" in r.visible or "private" in r.visible, r.visible
    r = await harness.command("/scrutiny", "report nope", user="UDAVE", channel="CCYP")
    assert "no committee `nope`" in r.visible
    r = await harness.command("/scrutiny", "help", user="UDAVE", channel="CCYP")
    assert "/scrutiny report" in r.visible
    assert harness.slack.files == {}


async def test_chart_draws_for_an_empty_committee(harness):
    r = await harness.command("/scrutiny", "setup cyp Children and Young People Scrutiny Committee", user="UADMIN",
                              channel="CCYP")
    assert "bound" in r.text
    report = await report_of(harness, since=None)
    assert report.total.now.made == 0
    assert draw_chart(report)[:4] == b"\x89PNG"


# ---- CLI -----------------------------------------------------------------------------------

async def test_cli_report_writes_each_format(harness, database_url, tmp_path):
    await build_history(harness)
    expected = await report_of(harness, now=datetime.now(timezone.utc))   # the CLI reports as of today
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(DATABASE_URL=database_url, SCRUTINEER_TZ="Europe/London")
    t = expected.total.now
    for fmt in ("docx", "xlsx", "md"):
        out = tmp_path / f"report.{fmt}"
        args = [sys.executable, "-m", "bot.cli", "report", "--committee", "cyp", "--since", "2026-04-01",
                "--format", fmt, "--out", str(out), "--team", "T1"]
        done = await asyncio.to_thread(subprocess.run, args, cwd=ROOT, env=env, capture_output=True, text=True,
                                       timeout=180)
        assert done.returncode == 0, done.stderr
        assert f"Wrote {out}" in done.stdout
        data = out.read_bytes()
        if fmt == "docx":
            doc = Document(io.BytesIO(data))
            assert len(doc.inline_shapes) == 1
            body = "\n".join(p.text for p in doc.paragraphs)
            assert f"{t.made} recommendations made: {t.accepted} accepted" in body
            rows = {r.cells[0].text: [c.text for c in r.cells] for r in doc.tables[0].rows}
            assert rows["Recommendations made"] == ["Recommendations made", "8", "7", "+1"]
            assert rows["Overdue"][1] == str(t.overdue)
            owners = {r.cells[0].text: r.cells[1].text for r in doc.tables[1].rows}
            assert owners[CM] == "5"
        elif fmt == "xlsx":
            wb = load_workbook(io.BytesIO(data))
            ws = wb["Report"]
            rows = {row[0]: row for row in ws.iter_rows(values_only=True) if row and row[0]}
            assert rows["Recommendations made"][:4] == ("Recommendations made", 8, 7, "+1")
            assert rows["Implemented (including signed off)"][1] == 4 and rows["Overdue"][1] == t.overdue
            assert len(wb["Chart"]._images) == 1
        else:
            text = data.decode()
            assert "| Recommendations made | 8 | 7 | +1 |" in text
            assert "![Bar charts of the 8 recommendations" in text and "(report.png)" in text
            assert (tmp_path / "report.png").read_bytes()[:4] == b"\x89PNG"
    bad = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "bot.cli", "report", "--committee", "nope",
                                                   "--team", "T1", "--out", str(tmp_path / "x.md")],
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert bad.returncode == 2 and "no committee `nope`" in bad.stderr
