"""A council's data is its own: `scrutineer workspace export|delete`, the retention period after
an uninstall, and OAuth states forgotten after their expiry. Two councils' rows side by side, on
SQLite and PostgreSQL; the command run for real."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, timedelta

from sqlalchemy import delete, func, select

from bot.config import Settings
from bot.db import Database
from bot.scheduled import run_scheduled
from bot.services.installations import StateStore, stop_workspace
from bot.services.workspace_data import NOT_A_WORKSPACES, remove_expired_workspaces, workspace_tables
from models import (
    Agency,
    AgencyContact,
    AuditEvent,
    Committee,
    Decision,
    Escalation,
    ImportBaseline,
    Indicator,
    IndicatorValue,
    Installation,
    Item,
    ItemOwner,
    Letter,
    LetterRecipient,
    Meeting,
    OAuthState,
    OrgWorkspace,
    OutboxMessage,
    Position,
    ProcessedEvent,
    RemovedWorkspace,
    Review,
    Role,
    RoleHolder,
    SavedState,
    UpdateRequest,
    Watcher,
    Workspace,
)
from models.tables import Base
from tests.conftest import NOW
from tests.test_cli import one_clear_line, run_cli

TEAMS = ("T1", "T2")


async def seed(db: Database, team: str, *, installed: bool = True) -> None:
    """One council's rows in every kind of table: a committee with its chair, a review, a
    recommendation with owner, position, watcher and escalation, a meeting with a decision, an
    update request, a partner agency, a letter and its recipient, an indicator and its figure,
    audit, queued messages, and the app's installation (with its tokens)."""
    now = NOW
    async with db.session() as s, s.begin():
        s.add(Workspace(team_id=team, name=f"Council {team}", created_at=now))
        await s.flush()
        committee = Committee(team_id=team, code="cyp", name=f"{team} Children's Committee",
                              channel_id=f"C{team}", created_at=now)
        s.add(committee)
        await s.flush()
        chair = Role(team_id=team, name=f"Chair of {team}", key=f"chair of {team}", kind="chair",
                     committee_id=committee.id, created_at=now)
        review = Review(team_id=team, committee_id=committee.id, code="sg2010", title=f"{team} review", created_at=now)
        meeting = Meeting(team_id=team, committee_id=committee.id, starts_at=now, ends_at=now + timedelta(hours=2),
                          created_by=f"U{team}", created_at=now)
        s.add_all([chair, review, meeting])
        await s.flush()
        s.add(RoleHolder(role_id=chair.id, user_id=f"U{team}", name="Chair", email=f"chair@{team}.gov.uk",
                         started_at=now))
        item = Item(team_id=team, committee_id=committee.id, review_id=review.id, kind="rec", number="1",
                    text=f"{team}: train foster carers", meeting_id=meeting.id, due=date(2026, 5, 1),
                    created_at=now, updated_at=now)
        request = UpdateRequest(team_id=team, committee_id=committee.id, meeting_id=meeting.id, user_id=f"U{team}",
                                requested_at=now)
        agency = Agency(team_id=team, committee_id=committee.id, name="Police", created_at=now)
        letter = Letter(team_id=team, committee_id=committee.id, meeting_id=meeting.id, text=f"{team} letter",
                        sent_by=f"U{team}", sent_at=now)
        indicator = Indicator(team_id=team, committee_id=committee.id, name="Re-referrals", slug="re-referrals",
                              created_by=f"U{team}", created_at=now)
        s.add_all([item, request, agency, letter, indicator])
        await s.flush()
        s.add_all([
            ItemOwner(item_id=item.id, role_id=chair.id),
            Position(item_id=item.id, text=f"{team}: training booked", as_of=date(2026, 5, 20), created_at=now,
                     request_id=request.id),
            Position(item_id=item.id, text=f"{team}: training done", as_of=date(2026, 5, 30), created_at=now),
            Decision(meeting_id=meeting.id, number=1, text=f"{team} resolved", created_by=f"U{team}", created_at=now),
            AgencyContact(agency_id=agency.id, name="PC Plod", email=f"pc@{team}.police.uk", created_at=now),
            LetterRecipient(letter_id=letter.id, kind="contact", email=f"pc@{team}.police.uk",
                            ack_token_hash=f"ackhash-{team}-0123456789"),
            IndicatorValue(team_id=team, indicator_id=indicator.id, period="Q1 2026/27", period_start=date(2026, 4, 1),
                           period_end=date(2026, 6, 30), value=21.5, recorded_by=f"U{team}", recorded_at=now),
            Watcher(team_id=team, item_id=item.id, user_id=f"W{team}", created_at=now),
            Escalation(team_id=team, committee_id=committee.id, item_id=item.id, due=date(2026, 5, 1),
                       escalated_on=date(2026, 5, 20), days_late=13, created_at=now),
            ImportBaseline(item_id=item.id, field="text", value=f"{team} as imported", imported_at=now),
            AuditEvent(team_id=team, at=now, actor=f"U{team}", entity="item", entity_id=item.id, action="update",
                       before={"status": "not started"}, after={"status": "in progress"}),
            SavedState(key=f"saved-{team}", team_id=team, kind="item_filter", payload={"q": "overdue"}, created_at=now),
            ProcessedEvent(event_id=f"Ev{team}", team_id=team, received_at=now),
            OutboxMessage(team_id=team, key=f"{team}:hello", method="chat.postMessage", channel=f"C{team}",
                          payload={"text": f"{team} hello"}, created_at=now, not_before=now),
            Installation(team_id=team, enterprise_id="", team_name=f"Council {team}", is_enterprise_install=False,
                         bot_token=f"xoxb-{team}-SECRET", bot_refresh_token=f"xoxe-{team}-REFRESH", scopes="commands",
                         installed_at=now, uninstalled_at=None if installed else now),
        ])


async def rows_of(db: Database, team: str) -> dict[str, int]:
    """How many rows each table holds for the workspace (tables with none left out)."""
    out = {}
    async with db.session() as s:
        for table, condition in workspace_tables(team):
            n = await s.scalar(select(func.count()).select_from(table).where(condition))
            if n:
                out[table.name] = n
    return out


async def two_councils(database_url: str, **installed) -> Database:
    db = Database(database_url)
    await db.upgrade()
    for team in TEAMS:
        await seed(db, team, installed=installed.get(team, True))
    return db


def read_zip(path) -> tuple[dict, dict[str, list[dict]], bytes]:
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        tables = {name[:-4]: list(csv.DictReader(io.TextIOWrapper(zf.open(name), encoding="utf-8")))
                  for name in zf.namelist() if name.endswith(".csv")}
        raw = b"".join(zf.read(name) for name in zf.namelist())
    return manifest, tables, raw


# ---------------------------------------------------------------- export

def test_every_table_is_some_workspaces_or_none():
    """A table added later must hold team_id, or hang from one that does, to be exported and
    deleted with its workspace."""
    import models  # noqa: F401
    covered = {t.name for t, _ in workspace_tables("T1")}
    assert covered == set(Base.metadata.tables) - NOT_A_WORKSPACES
    assert {"committees", "items", "positions", "meetings", "letters", "letter_recipients", "audit_events",
            "indicators", "indicator_values", "update_requests", "watchers", "installations"} <= covered


async def test_export_holds_exactly_that_workspaces_rows_and_no_tokens(database_url, tmp_path):
    db = await two_councils(database_url)
    try:
        expected = await rows_of(db, "T1")
        before_t2 = await rows_of(db, "T2")
    finally:
        await db.dispose()
    out = tmp_path / "council.zip"
    done = run_cli("workspace", "export", "T1", "--out", str(out), database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert "Wrote" in done.stdout and "tokens left out" in done.stdout

    manifest, tables, raw = read_zip(out)
    assert manifest["team_id"] == "T1" and manifest["exported_at"]
    assert manifest["schema_revision"]
    assert {name: t["rows"] for name, t in manifest["tables"].items() if t["rows"]} == expected
    assert {name: len(rows) for name, rows in tables.items() if rows} == expected
    assert manifest["rows"] == sum(expected.values())
    # Only T1's rows: by team, by text, and through parents (positions of T1's item).
    for name, rows in tables.items():
        assert all(r["team_id"] == "T1" for r in rows if "team_id" in r), name
    assert [r["name"] for r in tables["committees"]] == ["T1 Children's Committee"]
    assert sorted(r["text"] for r in tables["positions"]) == ["T1: training booked", "T1: training done"]
    assert tables["decisions"][0]["text"] == "T1 resolved"
    assert json.loads(tables["audit_events"][0]["after"]) == {"status": "in progress"}
    assert b"T2 " not in raw and b"T2:" not in raw and b"@T2." not in raw   # nothing of the other council …
    # … and no token: not the bot's, not the refresh token, not an acknowledgement link's hash.
    assert b"xoxb-" not in raw and b"xoxe-" not in raw and b"ackhash-" not in raw
    assert "bot_token" not in tables["installations"][0] and "bot_refresh_token" not in tables["installations"][0]
    assert manifest["left_out"]["installations"] == ["bot_token", "bot_refresh_token"]
    # Exporting changes nothing.
    db = Database(database_url)
    try:
        assert await rows_of(db, "T1") == expected and await rows_of(db, "T2") == before_t2
    finally:
        await db.dispose()


async def test_export_of_an_unknown_workspace_is_one_line_and_writes_nothing(sqlite_url, tmp_path):
    db = await two_councils(sqlite_url)
    await db.dispose()
    out = tmp_path / "nobody.zip"
    done = run_cli("workspace", "export", "T9", "--out", str(out), database_url=sqlite_url)
    assert done.returncode == 2
    assert one_clear_line(done.stderr) == "Nothing is stored for workspace T9 here."
    assert not out.exists() and not list(tmp_path.glob("*.part"))
    done = run_cli("workspace", "export", "not a team!", "--out", str(out), database_url=sqlite_url)
    assert done.returncode == 2 and "isn't a Slack workspace ID" in one_clear_line(done.stderr)
    done = run_cli("workspace", "export", "T1", "--out", str(tmp_path / "no-such-dir" / "x.zip"),
                   database_url=sqlite_url)
    assert done.returncode == 2 and one_clear_line(done.stderr).startswith("Can't write ")


# ---------------------------------------------------------------- delete

async def test_delete_is_refused_while_installed_and_then_removes_only_that_workspace(database_url):
    db = await two_councils(database_url)
    try:
        t1, t2 = await rows_of(db, "T1"), await rows_of(db, "T2")
        done = run_cli("workspace", "delete", "T1", database_url=database_url)
        assert done.returncode == 2
        assert one_clear_line(done.stderr) == ("Scrutineer is still installed in workspace T1: uninstall it there "
                                               "first, or add --force to remove its data anyway.")
        assert await rows_of(db, "T1") == t1

        await stop_workspace(db, "T1", "app_uninstalled", NOW + timedelta(days=1))
        done = run_cli("workspace", "delete", "T1", database_url=database_url)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"Removed workspace T1's data: {sum(t1.values())} rows")
        assert await rows_of(db, "T1") == {}
        assert await rows_of(db, "T2") == t2
        async with db.session() as s:
            record = (await s.scalars(select(RemovedWorkspace))).one()
            assert record.team_id == "T1" and record.reason == "deleted by an operator"
            assert record.row_counts == t1
            assert await s.scalar(select(func.count()).select_from(Committee).where(Committee.team_id == "T2")) == 1
        # Again: nothing left to remove, said in one line, no second record.
        done = run_cli("workspace", "delete", "T1", database_url=database_url)
        assert done.returncode == 2 and "Nothing is stored for workspace T1" in one_clear_line(done.stderr)
        async with db.session() as s:
            assert await s.scalar(select(func.count()).select_from(RemovedWorkspace)) == 1
    finally:
        await db.dispose()


async def test_forced_delete_keeps_the_installation_in_use(sqlite_url):
    db = await two_councils(sqlite_url)
    try:
        t2 = await rows_of(db, "T2")
        done = run_cli("workspace", "delete", "T1", "--force", database_url=sqlite_url)
        assert done.returncode == 0, done.stderr
        assert await rows_of(db, "T1") == {"installations": 1}   # the app stays installed, starts afresh
        assert await rows_of(db, "T2") == t2
        async with db.session() as s:
            record = (await s.scalars(select(RemovedWorkspace))).one()
        assert record.reason == "deleted by an operator (forced while installed)"
        assert "installations" not in record.row_counts
    finally:
        await db.dispose()


# ---------------------------------------------------------------- retention and states

def test_retention_days_from_the_environment():
    assert Settings.from_env({}).retention_days == 90
    assert Settings.from_env({"SCRUTINEER_RETENTION_DAYS": "30"}).retention_days == 30
    assert Settings.from_env({"SCRUTINEER_RETENTION_DAYS": "off"}).retention_days is None


async def test_an_uninstalled_workspace_is_removed_after_the_retention_period(database_url):
    db = await two_councils(database_url, T2=True)
    settings = Settings.from_env({"SCRUTINEER_RETENTION_DAYS": "90"}, database_url=database_url)
    try:
        uninstalled = NOW + timedelta(days=1)
        await stop_workspace(db, "T1", "app_uninstalled", uninstalled)
        core = {"committees": 1, "items": 1, "positions": 2, "letters": 1, "installations": 1}

        await run_scheduled(db, settings, uninstalled + timedelta(days=89))
        assert core.items() <= (await rows_of(db, "T1")).items()   # within the period: kept
        await run_scheduled(db, settings, uninstalled + timedelta(days=90, minutes=1))
        assert await rows_of(db, "T1") == {}
        assert core.items() <= (await rows_of(db, "T2")).items()   # still installed: kept however long
        async with db.session() as s:
            record = (await s.scalars(select(RemovedWorkspace))).one()
        assert record.team_id == "T1" and record.reason == "retention: uninstalled 2026-06-02, kept 90 days"
        assert core.items() <= record.row_counts.items()
        # The next round finds nothing more to do.
        await run_scheduled(db, settings, uninstalled + timedelta(days=200))
        assert core.items() <= (await rows_of(db, "T2")).items()
        async with db.session() as s:
            assert await s.scalar(select(func.count()).select_from(RemovedWorkspace)) == 1
    finally:
        await db.dispose()


async def test_installed_again_or_retention_off_keeps_the_data(sqlite_url):
    db = await two_councils(sqlite_url, T1=False)
    try:
        t1 = await rows_of(db, "T1")
        later = NOW + timedelta(days=365)
        async with db.session() as s, s.begin():
            assert await remove_expired_workspaces(s, later, Settings.from_env(
                {"SCRUTINEER_RETENTION_DAYS": "off"})) == 0
        assert await rows_of(db, "T1") == t1
        async with db.session() as s, s.begin():   # installed again (a new row for the org): kept
            s.add(Installation(team_id="T1", enterprise_id="E1", bot_token="xoxb-T1-new", scopes="",
                               is_enterprise_install=False, installed_at=later))
        async with db.session() as s, s.begin():
            await remove_expired_workspaces(s, later, Settings.from_env({}))
        assert await rows_of(db, "T1") == {**t1, "installations": 2}
    finally:
        await db.dispose()


async def test_expired_oauth_states_are_forgotten(database_url):
    db = Database(database_url)
    await db.upgrade()
    try:
        old = await StateStore(db, clock=lambda: NOW - timedelta(minutes=11)).async_issue()
        fresh = await StateStore(db, clock=lambda: NOW - timedelta(minutes=1)).async_issue()
        await run_scheduled(db, Settings.from_env({}, database_url=database_url), NOW)
        async with db.session() as s:
            assert list(await s.scalars(select(OAuthState.state))) == [fresh]
        assert old != fresh
        assert await StateStore(db, clock=lambda: NOW).async_consume(fresh)
    finally:
        await db.dispose()


async def test_a_workspace_of_an_org_wide_install_goes_with_the_org(sqlite_url):
    """Enterprise Grid: a workspace served by its org's install is "installed" while the org's
    install is, and its data goes the retention period after the org's install was removed."""
    db = Database(sqlite_url)
    await db.upgrade()
    try:
        await seed(db, "T1", installed=False)
        async with db.session() as s, s.begin():
            await s.execute(delete(Installation))
            s.add(Installation(team_id="", enterprise_id="E1", bot_token="xoxb-E1-org", scopes="",
                               is_enterprise_install=True, installed_at=NOW))
            s.add(OrgWorkspace(team_id="T1", enterprise_id="E1", seen_at=NOW))
        done = run_cli("workspace", "delete", "T1", database_url=sqlite_url)
        assert done.returncode == 2 and "still installed" in one_clear_line(done.stderr)

        await stop_workspace(db, "", "app_uninstalled", NOW, enterprise_id="E1")
        settings = Settings.from_env({"SCRUTINEER_RETENTION_DAYS": "30"})
        async with db.session() as s, s.begin():
            await remove_expired_workspaces(s, NOW + timedelta(days=29), settings)
        assert (await rows_of(db, "T1"))["committees"] == 1
        async with db.session() as s, s.begin():
            await remove_expired_workspaces(s, NOW + timedelta(days=31), settings)
        assert await rows_of(db, "T1") == {}
        async with db.session() as s:   # the org's own installation is no one workspace's: kept
            assert await s.scalar(select(func.count()).select_from(Installation)) == 1
    finally:
        await db.dispose()
