"""The indicators' cycle: owners reminded when a period closes (a plain function of `now`, across
weekends and bank holidays), a table of figures imported (CSV and XLSX, again without doubling
anything), the indicators in the post-meeting digest and in the report paper, the console's
`:report`, and `/indicator … history`'s chart. On SQLite and PostgreSQL.

The figures are modelled on a quarterly children's services performance report to a scrutiny
panel: re-referrals 35% against a target of 25%, initial assessments within 10 days 95.4% (up
from 80%), core assessments within 35 days 100% (up from 57%)."""
from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from datetime import date, datetime, time, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from bot.importing.indicator_table import column_of, is_indicator_table, read_indicator_table
from bot.importing.model import PaperFormatError
from bot.services import indicators as ind
from bot.slack_ui import indicators as indicators_ui
from models.delivery import OutboxMessage
from models.indicators import Indicator, IndicatorValue
from models.tables import AuditEvent, Workspace
from tests.harness import visible_text

LONDON = ZoneInfo("Europe/London")
ROOT = Path(__file__).resolve().parents[1]
CYP = "Children and Young People Scrutiny Committee"
HEAD = "Head of Children's Social Care"


def at(d: date, hh: int = 9, mm: int = 30) -> datetime:
    return datetime.combine(d, time(hh, mm), tzinfo=LONDON).astimezone(timezone.utc)


async def cmd(h, text, user="UBOB", channel="CCYP"):
    return await h.command("/indicator", text, user=user, channel=channel)


async def set_up(h) -> None:
    for text in (f"setup cyp {CYP}", "role chair <@UALICE|alice>", "role officer <@UBOB|bob>",
                 f'role "{HEAD}" <@UCAROL|carol>'):
        await h.command("/scrutiny", text, user="UADMIN", channel="CCYP")


async def remind(h, now: datetime) -> int:
    async with h.db.session() as s, s.begin():
        return await ind.queue_figure_reminders(s, now, h.settings, render=indicators_ui)


async def reminder_rows(h) -> list[OutboxMessage]:
    async with h.db.session() as s:
        return list(await s.scalars(select(OutboxMessage).where(OutboxMessage.key.like("indicator:due:%"))
                                    .order_by(OutboxMessage.id)))


# ---- periods and reminder days, as plain functions ---------------------------------------------

def test_the_period_just_closed_and_the_day_its_owner_is_reminded():
    assert ind.last_closed("quarter", date(2026, 7, 1)).label == "Q1 2026/27"
    assert ind.last_closed("quarter", date(2027, 1, 4)).label == "Q3 2026/27"
    assert ind.last_closed("quarter", date(2027, 4, 1)).label == "Q4 2026/27"
    assert ind.last_closed("month", date(2027, 1, 4)).label == "December 2026"
    assert ind.last_closed("financial year", date(2027, 4, 1)).label == "2026/27"
    assert ind.last_closed("year", date(2027, 1, 4)).label == "2026"
    # Q3 ends Thursday 31 December 2026; 1 January is a bank holiday, then a weekend.
    assert ind.reminder_days(ind.parse_period("Q3 2026/27")) == (date(2027, 1, 4), date(2027, 1, 18))
    # Q4 2025/26 ends Tuesday 31 March 2026: the next day.
    assert ind.reminder_days(ind.parse_period("Q4 2025/26"))[0] == date(2026, 4, 1)
    # Q1 2028/29 ends Friday 30 June 2028: the Monday.
    assert ind.reminder_days(ind.parse_period("Q1 2028/29"))[0] == date(2028, 7, 3)


# ---- the reminder round -------------------------------------------------------------------------

async def test_owner_reminded_once_on_the_first_working_day_after_the_quarter(harness):
    h = harness
    h.clock.now = at(date(2026, 12, 1), 10)
    await set_up(h)
    r = await cmd(h, f'add "Re-referrals within 12 months" unit % target 25 lower-is-better owner "{HEAD}"')
    assert "Added" in r.visible, r.visible
    r = await cmd(h, f'add "Initial assessments within 10 days" unit % target 95 owner "{HEAD}"')
    assert "Added" in r.visible, r.visible
    await cmd(h, "add Children looked after unit children")          # no owner: nobody to remind
    for text in ("rec re-referrals Q2 2026/27 31", "rec initial Q2 2026/27 80", "rec initial Q3 2026/27 95.4"):
        assert "Recorded" in (await cmd(h, text)).visible

    # Thursday 31 December: Q3 hasn't closed. 1 January is a bank holiday, then a weekend.
    for moment in (at(date(2026, 12, 31), 10), at(date(2027, 1, 1), 10), at(date(2027, 1, 2), 10),
                   at(date(2027, 1, 3), 12), at(date(2027, 1, 4), 8, 45)):
        assert await remind(h, moment) == 0, moment
    # Monday 4 January from 09:00: one DM to Carol, for re-referrals only (initial assessments
    # has its Q3 figure) — and two workers at once (replicas) queue it once.
    results = await asyncio.gather(remind(h, at(date(2027, 1, 4), 9, 5)), remind(h, at(date(2027, 1, 4), 9, 5)))
    assert sum(results) == 1
    [row] = await reminder_rows(h)
    async with h.db.session() as s:
        rerefs = (await s.scalars(select(Indicator).where(Indicator.slug == "re-referrals-within-12-months"))).one()
    assert row.key == f"indicator:due:{rerefs.id}:2026-10-01:2026-12-31:UCAROL" and row.channel == "UCAROL"
    text = visible_text(row.payload["blocks"])
    assert "Q3 2026/27" in text and "Re-referrals within 12 months" in text, text
    assert "/indicator rec re-referrals-within-12-months Q3 2026/27 &lt;figure&gt;" in text, text
    assert "<#CCYP>" in text
    # Later the same day, and the next days: nothing more.
    for moment in (at(date(2027, 1, 4), 15), at(date(2027, 1, 5)), at(date(2027, 1, 15))):
        assert await remind(h, moment) == 0
    # The command in the reminder works as written.
    h.clock.now = at(date(2027, 1, 6), 11)
    r = await cmd(h, "rec re-referrals-within-12-months Q3 2026/27 35", user="UCAROL")
    assert "Recorded *Re-referrals within 12 months* for Q3 2026/27: 35%" in r.visible, r.visible
    # Recorded: no chase ten working days on.
    assert await remind(h, at(date(2027, 1, 18), 10)) == 0
    assert len(await reminder_rows(h)) == 1


async def test_chased_once_when_still_missing_and_never_for_a_newer_indicator(harness):
    h = harness
    h.clock.now = at(date(2026, 5, 6), 10)
    await set_up(h)
    await cmd(h, f'add "Core assessments within 35 days" unit % target 100 owner "{HEAD}"')
    # Q1 2026/27 (April–June) ends Tuesday 30 June: reminded Wednesday 1 July.
    assert await remind(h, at(date(2026, 6, 30), 16)) == 0
    assert await remind(h, at(date(2026, 7, 1), 9, 1)) == 1
    # Ten working days later (15 July), still no figure: one chase, then nothing.
    assert await remind(h, at(date(2026, 7, 14), 10)) == 0
    assert await remind(h, at(date(2026, 7, 15), 10)) == 1
    assert await remind(h, at(date(2026, 7, 22), 10)) == 0
    keys = [r.key for r in await reminder_rows(h)]
    assert [k.rsplit(":", 1)[-1] for k in keys] == ["UCAROL", "chase"]
    assert "Still no Q1 2026/27 figure" in visible_text((await reminder_rows(h))[-1].payload["blocks"])
    # An indicator added after the quarter closed is not chased for it.
    h.clock.now = at(date(2026, 7, 20), 10)
    await cmd(h, f'add "Children on a child protection plan" owner "{HEAD}"')
    assert await remind(h, at(date(2026, 7, 21), 10)) == 0


async def test_scheduled_work_runs_the_round(harness):
    from bot.scheduled import run_scheduled

    h = harness
    h.clock.now = at(date(2026, 5, 6), 10)
    await set_up(h)
    await cmd(h, f'add "Core assessments within 35 days" unit % target 100 owner "{HEAD}"')
    await run_scheduled(h.db, h.settings, at(date(2026, 7, 1), 10))
    assert len(await reminder_rows(h)) == 1


# ---- importing a table of figures -------------------------------------------------------------

CSV_TABLE = (
    "Measure,Quarter,Actual,Target,Polarity\n"
    "Re-referrals within 12 months,Q4 2011/12,30%,25%,lower is better\n"
    ",Q1 2012/13,35%,25%,\n"
    "Initial assessments within 10 days,Q4 2011/12,80%,95%,higher is better\n"
    "Initial assessments within 10 days,Q1 2012/13,95.4%,95%,higher is better\n"
    "Core assessments within 35 days,Q4 2011/12,57,100,\n"
    "Core assessments within 35 days,Q1 2012/13,100,100,\n"
    "Children looked after,Q7 2012/13,29,,\n"
)


def xlsx_table() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Performance"
    ws.append(["Children's services performance, quarter 1"])
    ws.append([])
    ws.append(["Performance Indicator", "Period", "Value", "Target"])
    for name, period, value, target in (("Re-referrals within 12 months", "Q1 2012/13", 0.35, 0.25),
                                        ("Initial assessments within 10 days", "Q1 2012/13", 0.954, 0.95),
                                        ("Core assessments within 35 days", "Q1 2012/13", 1.0, 1.0),
                                        ("Children looked after", "June 2012", 29, None)):
        ws.append([name, period, value, target])
        if name != "Children looked after":
            for col in "CD":
                ws[f"{col}{ws.max_row}"].number_format = "0.0%"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_reading_tables_loosely():
    assert [column_of(h) for h in ("Measure", "Quarter", "Actual", "Target", "Performance Indicator",
                                   "Outturn 2012/13", "Reporting period", "Notes")] == [
        "indicator", "period", "value", "target", "indicator", "value", "period", None]
    table = read_indicator_table(CSV_TABLE.encode(), "kpis.csv")
    assert table.columns == {"indicator": "Measure", "period": "Quarter", "value": "Actual", "target": "Target",
                             "polarity": "Polarity"}
    assert [(r.indicator, r.period, r.value) for r in table.rows][:2] == [
        ("Re-referrals within 12 months", "Q4 2011/12", "30%"), ("Re-referrals within 12 months", "Q1 2012/13", "35%")]
    x = read_indicator_table(xlsx_table(), "kpis.xlsx")
    assert [(r.indicator, r.value, r.target) for r in x.rows][:2] == [
        ("Re-referrals within 12 months", "35%", "25%"), ("Initial assessments within 10 days", "95.4%", "95%")]
    assert is_indicator_table(CSV_TABLE.encode()) and is_indicator_table(xlsx_table())
    assert not is_indicator_table(b"number,text,owners,due\n1,Train foster carers,Cabinet Member,2026-09-30\n")
    with pytest.raises(PaperFormatError, match="indicator table"):
        read_indicator_table(b"name,colour\nred,#f00\n")


async def stored(h) -> dict[tuple[str, str], list[float]]:
    """(indicator name, period) -> every figure stored for it, oldest first, read straight from the rows."""
    async with h.db.session() as s:
        rows = (await s.execute(select(Indicator.name, IndicatorValue.period, IndicatorValue.value)
                                .join(Indicator, Indicator.id == IndicatorValue.indicator_id)
                                .order_by(IndicatorValue.id))).all()
    out: dict[tuple[str, str], list[float]] = {}
    for name, period, value in rows:
        out.setdefault((name, period), []).append(value)
    return out


async def run_import(h, content: bytes, *, dry_run=False):
    table = read_indicator_table(content)
    async with h.db.session() as s, s.begin():
        return await ind.import_table(s, team_id="T1", committee_code="cyp", rows=table.rows, actor="cli",
                                      now=h.clock.now, today=h.clock.now.astimezone(LONDON).date(), dry_run=dry_run)


async def test_import_csv_then_xlsx_adds_nothing_twice_and_keeps_recorded_figures(harness):
    h = harness
    await set_up(h)
    await cmd(h, f'add "Re-referrals within 12 months" unit % target 25 lower-is-better owner "{HEAD}"')
    r = await cmd(h, "rec re-referrals Q1 2012/13 36")                # an officer's figure, before the table
    assert "Recorded" in r.visible

    preview = await run_import(h, CSV_TABLE.encode(), dry_run=True)
    assert await stored(h) == {("Re-referrals within 12 months", "Q1 2012/13"): [36]}   # nothing stored
    result = await run_import(h, CSV_TABLE.encode())
    assert (preview.new_indicators, preview.added, preview.conflicts[0].describe()) == (
        result.new_indicators, result.added, result.conflicts[0].describe())
    assert result.new_indicators == ["Initial assessments within 10 days", "Core assessments within 35 days"]
    assert len(result.added) == 5 and result.already == 0
    assert [c.describe() for c in result.conflicts] == [
        "Re-referrals within 12 months, Q1 2012/13: the table says 35%, Scrutineer has 36% (kept)"]
    assert any("Q7 2012/13" in p for p in result.problems)
    figures = await stored(h)
    assert figures == {("Re-referrals within 12 months", "Q1 2012/13"): [36],
                       ("Re-referrals within 12 months", "Q4 2011/12"): [30],
                       ("Initial assessments within 10 days", "Q4 2011/12"): [80],
                       ("Initial assessments within 10 days", "Q1 2012/13"): [95.4],
                       ("Core assessments within 35 days", "Q4 2011/12"): [57],
                       ("Core assessments within 35 days", "Q1 2012/13"): [100]}
    async with h.db.session() as s:
        initial = (await s.scalars(select(Indicator).where(Indicator.slug.like("initial%")))).one()
        core = (await s.scalars(select(Indicator).where(Indicator.slug.like("core%")))).one()
        assert (initial.unit, initial.target, initial.lower_is_better) == ("%", 95, False)
        assert (core.unit, core.target) == (None, 100)
        imported = await s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == "indicator", AuditEvent.action == "import value"))
    assert imported == 5

    # Again, and the same quarter from a workbook: nothing added twice.
    again = await run_import(h, CSV_TABLE.encode())
    assert (again.new_indicators, again.added, again.already, len(again.conflicts)) == ([], [], 5, 1)
    from_xlsx = await run_import(h, xlsx_table())
    assert from_xlsx.new_indicators == ["Children looked after"]
    assert from_xlsx.added == [("Children looked after", "June 2012", 29)]
    assert from_xlsx.already == 2 and len(from_xlsx.conflicts) == 1
    figures = await stored(h)
    assert sum(len(v) for v in figures.values()) == 7 and figures[("Children looked after", "June 2012")] == [29]
    # The board reads the imported figures: 95.4% against 95 is green, up from 80%.
    r = await cmd(h, "")
    assert "95.4% (Q1 2012/13)" in r.visible and "↑ better (from 80% in Q4 2011/12)" in r.visible, r.visible


async def test_cli_imports_an_indicator_table_found_by_its_headings(harness, database_url, tmp_path):
    h = harness
    await set_up(h)
    path = tmp_path / "performance.csv"
    path.write_text(CSV_TABLE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(DATABASE_URL=database_url, SCRUTINEER_TZ="Europe/London")

    def run(*extra):
        return subprocess.run([sys.executable, "-m", "bot.cli", "import", str(path), "--committee", "cyp",
                               "--team", "T1", *extra], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=180)

    dry = await asyncio.to_thread(run, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Read as a table of indicator figures: Measure -> indicator, Quarter -> period" in dry.stdout
    assert "Would import indicator figures into" in dry.stdout and "6 new figures" in dry.stdout, dry.stdout
    assert await stored(h) == {}
    done = await asyncio.to_thread(run)
    assert done.returncode == 0, done.stderr
    assert "3 new indicators, 6 new figures, 0 already recorded" in done.stdout, done.stdout
    again = await asyncio.to_thread(run)
    assert "0 new indicators, 0 new figures, 6 already recorded" in again.stdout, again.stdout
    assert sum(len(v) for v in (await stored(h)).values()) == 6
    async with h.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Workspace)) >= 1


# ---- the digest, the report paper, the console ------------------------------------------------

async def seed_figures(h) -> None:
    await set_up(h)
    await cmd(h, f'add "Re-referrals within 12 months" unit % target 25 lower-is-better owner "{HEAD}"')
    await cmd(h, 'add "Initial assessments within 10 days" unit % target 95')
    await cmd(h, "add Children looked after unit children")
    for text in ("rec re-referrals Q4 2011/12 30", "rec re-referrals Q1 2012/13 35", "rec initial Q4 2011/12 80",
                 "rec initial Q1 2012/13 95.4"):
        assert "Recorded" in (await cmd(h, text)).visible


async def expected_lines(h) -> dict[str, tuple]:
    """name -> (latest period, latest figure, target) read straight from the stored rows."""
    async with h.db.session() as s:
        inds = list(await s.scalars(select(Indicator)))
        out = {}
        for i in inds:
            latest = (await s.execute(select(IndicatorValue.period, IndicatorValue.value)
                                      .where(IndicatorValue.indicator_id == i.id)
                                      .order_by(IndicatorValue.period_end.desc(), IndicatorValue.id.desc())
                                      .limit(1))).first()
            out[i.name] = (tuple(latest) if latest else (None, None), i.target)
    return out


async def test_digest_has_an_indicators_section(harness):
    h = harness
    await seed_figures(h)
    await h.command("/meeting", "new 1 June 2026 10:00", user="UBOB", channel="CCYP")
    r = await h.command("/meeting", "close", user="UALICE", channel="CCYP")
    assert "Closed" in r.visible, r.visible
    async with h.db.session() as s:
        [row] = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.key.like("digest:meeting:%"),
                                                                 OutboxMessage.channel == "CCYP")))
    text = visible_text(row.payload["blocks"])
    section = text[text.index("*Indicators*"):]
    expected = await expected_lines(h)
    (period, value), target = expected["Re-referrals within 12 months"]
    assert (period, value, target) == ("Q1 2012/13", 35, 25)
    assert "*Re-referrals within 12 months* — 35% (Q1 2012/13) · target 25% (lower is better) · " \
           ":red_circle: Red · ↑ worse (from 30% in Q4 2011/12)" in section, section
    assert "*Initial assessments within 10 days* — 95.4% (Q1 2012/13)" in section
    assert ":large_green_circle: Green · ↑ better (from 80% in Q4 2011/12)" in section
    assert "*Children looked after* — no figures yet" in section


async def test_report_paper_has_the_indicator_table_and_charts(harness, database_url, tmp_path):
    h = harness
    await seed_figures(h)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(DATABASE_URL=database_url, SCRUTINEER_TZ="Europe/London")
    expected = await expected_lines(h)
    for fmt in ("md", "docx", "xlsx"):
        out = tmp_path / f"report.{fmt}"
        done = await asyncio.to_thread(subprocess.run, [
            sys.executable, "-m", "bot.cli", "report", "--committee", "cyp", "--format", fmt, "--out", str(out),
            "--team", "T1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr
        if fmt == "md":
            text = out.read_text()
            assert "## Indicators" in text
            assert "| Indicator | Latest period | Latest figure | Target | RAG | Direction of travel | Owner |" in text
            for name, ((period, value), target) in expected.items():
                if period is None:
                    assert f"| {name} | — | no figures yet |" in text
                    continue
                shown = f"{value:g}%"
                assert f"| {name} | {period} | {shown} | {target:g}% (" in text, (name, text)
            assert "| Re-referrals within 12 months | Q1 2012/13 | 35% | 25% (lower is better) | Red | " \
                   f"↑ worse (from 30% in Q4 2011/12) | {HEAD} |" in text
            charts = sorted(p.name for p in tmp_path.glob("report-*.png"))
            assert charts == ["report-initial-assessments-within-10-days.png", "report-re-referrals-within-12-months.png"]
            assert "(report-re-referrals-within-12-months.png)" in text
            assert "![Line chart of Re-referrals within 12 months" in text
            assert (tmp_path / charts[0]).read_bytes()[:4] == b"\x89PNG"
        elif fmt == "docx":
            from docx import Document
            doc = Document(io.BytesIO(out.read_bytes()))
            assert len(doc.inline_shapes) == 3                  # the report's chart and two indicators'
            table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Indicator")
            rows = {r.cells[0].text: [c.text for c in r.cells] for r in table.rows[1:]}
            assert rows["Re-referrals within 12 months"][1:5] == ["Q1 2012/13", "35%", "25% (lower is better)", "Red"]
        else:
            wb = load_workbook(io.BytesIO(out.read_bytes()))
            ws = wb["Indicators"]
            rows: dict = {}
            for row in ws.iter_rows(values_only=True):
                if row and row[0]:
                    rows.setdefault(row[0], row)      # the table's row, before the indicator's own heading
            assert rows["Initial assessments within 10 days"][1:5] == ("Q1 2012/13", "95.4%", "95% (higher is better)",
                                                                      "Green")
            assert rows["Q4 2011/12"][1] in (30, 80)           # the figures by period, as numbers
            assert len(ws._images) == 2


async def test_console_report_prints_the_report_and_where_the_charts_are(database_url, tmp_path):
    from bot.config import Settings
    from bot.offline.console import Console

    settings = Settings.from_env({}, database_url=database_url)
    console = Console(settings, demo=True, files_dir=tmp_path)
    out = io.StringIO()
    console.out = out
    session = await console.start()
    try:
        await console.handle(session, ":report", None)
    finally:
        await console.slack.stop()
        await console.db.dispose()
    text = out.getvalue()
    assert "Scrutiny recommendations: " in text and "## Indicators" in text, text
    assert "Re-referrals within 12 months" in text and "35%" in text
    paths = [line.split(" written to ", 1)[1].strip() for line in text.splitlines() if " written to " in line]
    assert len(paths) >= 3, text
    for p in paths:
        assert Path(p).exists(), p
    assert any(p.endswith(".png") and "Chart" in line for line in text.splitlines() for p in paths if p in line)
    assert Path(paths[0]).read_bytes()[:4] == b"\x89PNG"


async def test_history_posts_its_chart(harness):
    h = harness
    await seed_figures(h)
    r = await cmd(h, "re-referrals history", user="UDAVE")
    assert "Q1 2012/13" in r.visible
    await h.settle()
    (file_id, stored_file), = h.slack.files.items()
    assert stored_file["filename"] == "indicator-re-referrals-within-12-months.png"
    assert h.slack.file_content(file_id)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Q4 2011/12 30% red; Q1 2012/13 35% red" in stored_file["alt_txt"]
    # An indicator with no figures: no chart.
    await cmd(h, "children history", user="UDAVE")
    await h.settle()
    assert len(h.slack.files) == 1
