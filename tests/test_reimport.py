"""Importing a paper again never undoes work done in Scrutineer: a three-way merge of the last
imported value, the paper's value now and Scrutineer's value; positions never recorded twice;
conflicts reported (and previewed) with Scrutineer's value kept; the demo loaded on every start
duplicates nothing. On SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest
import pytest_asyncio
from alembic import command
from alembic.config import Config
from sqlalchemy import func, select

from bot.db import MIGRATIONS, Database
from bot.importing import ImportedItem
from bot.offline.demo import TEAM, load_demo
from bot.services.imports import Conflict, ImportReport, import_items
from models.imports import ImportBaseline
from models.queries import ensure_workspace, role_key
from models.tables import AuditEvent, Committee, Item, ItemOwner, Position, Review, Role, RoleHolder
from tests.conftest import NOW
from tests.test_cli import run_cli, sqlite_url_for, write_csv
from tests.test_import_form import confirm, preview, visible

CYP = "Children and Young People Scrutiny Committee"
PAPER_DATE = date(2026, 6, 1)
COUNTED = (Item, ItemOwner, Position, AuditEvent, Role, RoleHolder, Review, ImportBaseline)


def paper(**changes) -> list[ImportedItem]:
    """Our own three-item tracker; changes: {"2": {"due": ...}} replaces fields of an item."""
    items = [
        ImportedItem(number="1", text="Review how new Board members are inducted.",
                     owners=["Cabinet Member", "ESCB Chairman"], due=date(2026, 9, 30), status="in progress",
                     position="Statutory training starts in June."),
        ImportedItem(number="2", text="Publish the Board's annual report each spring.",
                     owners=["Chairman of the ESCB"], due=date(2027, 3, 31), status="not started"),
        ImportedItem(number="3", text="Sample how decisions reach partner agencies.",
                     owners=["Executive Director of SCF"], position="For the sub-committee."),
    ]
    for item in items:
        for name, value in changes.get(item.number, {}).items():
            setattr(item, name, value)
    return items


async def run_import(h, items, *, as_of=PAPER_DATE, dry_run=False, now=NOW) -> ImportReport:
    """h: the harness, or a Database."""
    db = getattr(h, "db", h)
    async with db.session() as s, s.begin():
        return await import_items(s, team_id="T1", committee_code="cyp", review_code="sg2026", items=items,
                                  actor="UADMIN", now=now, title="Safeguarding 2026", as_of=as_of,
                                  source="test", dry_run=dry_run)


async def counts(db: Database) -> dict[str, int]:
    async with db.session() as s:
        return {m.__tablename__: await s.scalar(select(func.count()).select_from(m)) for m in COUNTED}


async def item(h, number: str) -> Item:
    async with getattr(h, "db", h).session() as s:
        return (await s.scalars(select(Item).where(Item.kind == "rec", Item.number == number))).one()


async def positions(h, number: str) -> list[tuple[str, date]]:
    it = await item(h, number)
    async with h.db.session() as s:
        return [(p.text, p.as_of) for p in await s.scalars(
            select(Position).where(Position.item_id == it.id).order_by(Position.as_of, Position.id))]


async def update(h, text: str) -> str:
    r = await h.command("/update", text, user="UADMIN", channel="CCYP")
    assert ":warning:" not in r.visible, r.visible
    return r.visible


@pytest_asyncio.fixture
async def h(harness):
    r = await harness.command("/scrutiny", f"setup cyp {CYP}", user="UADMIN", channel="CCYP")
    assert "bound to the new committee" in r.text
    report = await run_import(harness, paper())
    assert report.summary() == "sg2026: 3 new items, 2 positions added"
    return harness


async def test_unchanged_paper_again_changes_nothing(h):
    before = await counts(h.db)
    for _ in range(2):
        report = await run_import(h, paper())
        assert report.summary() == "sg2026: nothing changed (3 items unchanged)"
        assert (report.created, report.updated, report.positions_added, report.conflicts) == ([], [], 0, [])
        assert report.unchanged == ["rec-1", "rec-2", "rec-3"]
        assert await counts(h.db) == before   # no positions, audit events, roles or baselines
    # A later paper date, nothing else changed: still nothing (the same position isn't news).
    report = await run_import(h, paper(), as_of=PAPER_DATE + timedelta(days=90))
    assert not report.changed and await counts(h.db) == before


async def test_officers_later_due_date_survives_the_unchanged_paper(h):
    await update(h, "rec-1 due 31 October 2026")
    await update(h, "rec-2 status in progress")
    await update(h, 'rec-3 owner "Cabinet Member"')
    before = await counts(h.db)
    report = await run_import(h, paper())
    assert report.summary() == "sg2026: nothing changed (3 items unchanged)"
    assert await counts(h.db) == before
    assert (await item(h, "1")).due == date(2026, 10, 31)
    assert (await item(h, "2")).status == "in progress"
    assert [o.role.name for o in (await item(h, "3")).owners] == ["Cabinet Member"]


async def test_paper_change_is_taken_where_nobody_changed_the_field(h):
    await update(h, "rec-1 due 31 October 2026")   # the officer's, on another item
    changed = paper(**{"2": {"due": date(2027, 6, 30), "status": "in progress",
                             "owners": ["Chairman of the ESCB", "Cabinet Member"]},
                       "3": {"text": "Sample how Board decisions reach partner agencies."}})
    preview_report = await run_import(h, changed, dry_run=True)
    before = await counts(h.db)
    report = await run_import(h, changed)
    assert report.summary() == "sg2026: 2 items updated, 1 unchanged"
    assert preview_report.counts() == "sg2026: 2 items to update, 1 unchanged"
    assert (report.updated, report.unchanged, report.conflicts) == (["rec-2", "rec-3"], ["rec-1"], [])
    two = await item(h, "2")
    assert (two.due, two.status) == (date(2027, 6, 30), "in progress")
    # "Chairman of the ESCB" is the role rec-1 brought in as "ESCB Chairman".
    assert [o.role.name for o in two.owners] == ["ESCB Chairman", "Cabinet Member"]
    assert (await item(h, "3")).text == "Sample how Board decisions reach partner agencies."
    assert (await item(h, "1")).due == date(2026, 10, 31)
    after = await counts(h.db)
    assert after["audit_events"] == before["audit_events"] + 2 and after["positions"] == before["positions"]
    async with h.db.session() as s:
        event = (await s.scalars(select(AuditEvent).where(
            AuditEvent.entity == "item", AuditEvent.entity_id == two.id, AuditEvent.action == "import")
            .order_by(AuditEvent.id.desc()))).first()
    assert event.actor == "UADMIN"
    assert event.before == {"due": "2027-03-31", "status": "not started", "owners": ["ESCB Chairman"]}
    assert event.after == {"due": "2027-06-30", "status": "in progress", "owners": ["ESCB Chairman", "Cabinet Member"]}
    # ...and the same changed paper again changes nothing more.
    again = await run_import(h, changed)
    assert again.summary() == "sg2026: nothing changed (3 items unchanged)" and await counts(h.db) == after


async def test_both_changed_is_a_conflict_and_the_officers_value_stays(h):
    await update(h, "rec-1 due 31 October 2026")
    await update(h, "rec-2 status in progress")
    changed = paper(**{"1": {"due": date(2026, 11, 30)}, "2": {"status": "implemented", "due": date(2027, 6, 30)}})
    before = await counts(h.db)
    dry = await run_import(h, changed, dry_run=True)
    assert await counts(h.db) == before   # the preview writes nothing
    expected = [Conflict("rec-1", "due", date(2026, 11, 30), date(2026, 10, 31)),
                Conflict("rec-2", "status", "implemented", "in progress")]
    assert dry.conflicts == expected
    assert "will be kept" in dry.summary()

    report = await run_import(h, changed)
    assert report.conflicts == expected
    assert report.summary() == (
        "sg2026: 1 item updated, 2 unchanged. 2 conflicts (changed in the paper and in Scrutineer since the last "
        "import): Scrutineer's value was kept: rec-1 due date: the paper says 30 Nov 2026, Scrutineer has "
        "31 Oct 2026; rec-2 status: the paper says implemented, Scrutineer has in progress")
    assert (await item(h, "1")).due == date(2026, 10, 31)
    two = await item(h, "2")
    assert (two.status, two.due) == ("in progress", date(2027, 6, 30))   # the due date nobody here touched
    async with h.db.session() as s:
        kept = list(await s.scalars(select(AuditEvent).where(AuditEvent.action == "import_conflict")
                                    .order_by(AuditEvent.id)))
    assert [(e.before, e.after) for e in kept] == [({"due": "2026-10-31"}, {"due": "2026-11-30"}),
                                                   ({"status": "in progress"}, {"status": "implemented"})]
    # Reported once: the same paper again is nothing new, and keeps the officer's values.
    after = await counts(h.db)
    again = await run_import(h, changed)
    assert again.summary() == "sg2026: nothing changed (3 items unchanged)" and await counts(h.db) == after
    assert (await item(h, "1")).due == date(2026, 10, 31)
    # A paper that changes the field once more is a conflict again.
    third = await run_import(h, paper(**{"1": {"due": date(2026, 12, 31)},
                                         "2": {"status": "implemented", "due": date(2027, 6, 30)}}))
    assert [c.ref for c in third.conflicts] == ["rec-1"]


async def test_a_new_position_is_added_once(h):
    changed = paper(**{"2": {"position": "The report is being drafted."}})
    before = await counts(h.db)
    report = await run_import(h, changed)
    assert report.summary() == "sg2026: 1 item updated, 2 unchanged, 1 position added"
    assert await positions(h, "2") == [("The report is being drafted.", PAPER_DATE)]
    for as_of in (PAPER_DATE, PAPER_DATE + timedelta(days=30), None):
        again = await run_import(h, changed, as_of=as_of)
        assert again.positions_added == 0 and not again.changed
    assert await positions(h, "2") == [("The report is being drafted.", PAPER_DATE)]
    assert (await counts(h.db))["positions"] == before["positions"] + 1


async def test_the_papers_old_position_never_comes_back_as_the_latest(h):
    """The demo's rec-10, three times after two restarts: a newer position recorded in
    Scrutineer, then the unchanged paper again, must not re-add the paper's old one."""
    await update(h, "rec-1 position Induction training in place since September.")
    for _ in range(3):
        report = await run_import(h, paper())
        assert report.positions_added == 0 and not report.changed
    recorded = await positions(h, "1")
    assert [t for t, _ in recorded] == ["Statutory training starts in June.",
                                         "Induction training in place since September."]
    # A paper repeating what is recorded already (same text, same date) adds nothing either.
    report = await run_import(h, paper(**{"1": {"position": "Induction training in place since September."}}),
                              as_of=recorded[-1][1])
    assert report.positions_added == 0 and len(await positions(h, "1")) == 2


async def test_a_field_the_paper_leaves_empty_clears_nothing(h):
    report = await run_import(h, paper(**{"1": {"due": None, "status": None, "owners": [], "position": None}}))
    assert not report.changed and not report.conflicts
    one = await item(h, "1")
    assert (one.due, one.status, len(one.owners)) == (date(2026, 9, 30), "in progress", 2)


async def test_the_same_number_twice_in_one_paper(h):
    twice = paper() + [ImportedItem(number="4", text="First wording."),
                       ImportedItem(number="4", text="Second wording.", due=date(2026, 12, 1))]
    report = await run_import(h, twice)
    assert report.created == ["rec-4"] and report.unchanged == ["rec-1", "rec-2", "rec-3"]
    four = await item(h, "4")
    assert (four.text, four.due) == ("Second wording.", date(2026, 12, 1))
    again = await run_import(h, twice)
    assert again.summary() == "sg2026: nothing changed (4 items unchanged)"


def test_summary_wording_counts_in_english():
    one = ImportReport("r1", created=["rec-1"], updated=["rec-2"], unchanged=["rec-3"], positions_added=1)
    assert one.summary() == "r1: 1 new item, 1 item updated, 1 unchanged, 1 position added"
    many = ImportReport("r1", created=["rec-1", "rec-2"], updated=["rec-3", "rec-4"], positions_added=2)
    assert many.summary() == "r1: 2 new items, 2 items updated, 2 positions added"
    assert ImportReport("r1", unchanged=["rec-1"]).summary() == "r1: nothing changed (1 item unchanged)"
    assert ImportReport("r1").summary() == "r1: nothing changed"
    dry = ImportReport("r1", updated=["rec-1"], positions_added=1, dry_run=True,
                       conflicts=[Conflict("rec-2", "owners", ["Cabinet Member"], [])])
    assert dry.summary() == (
        "r1: 1 item to update, 1 position to add. 1 conflict (changed in the paper and in Scrutineer since the "
        "last import): Scrutineer's value will be kept: rec-2 owners: the paper says Cabinet Member, Scrutineer "
        "has no owner")


# ---------------------------------------------------------------- the preview shows the conflicts

CSV_HEAD = "Ref,Recommendation,Owner,Due date,Status,Position\n"


def csv_paper(due_1: str) -> str:
    return CSV_HEAD + (f'1,"Review how new Board members are inducted.",Cabinet Member,{due_1},Ongoing,'
                       '"Statutory training starts in June."\n'
                       '2,"Publish the annual report each spring.",Chairman of the ESCB,31/03/2027,Ongoing,\n')


async def test_slack_preview_lists_conflicts_before_anything_is_stored(harness):
    h = harness
    r = await h.command("/scrutiny", f"setup cyp {CYP}", user="UADMIN", channel="CCYP")
    assert "bound to the new committee" in r.text
    view = await preview(h, {("review", "value"): "sg2026", ("paste", "value"): csv_paper("30/09/2026")},
                         user="UADMIN")
    assert "*If you import this:* sg2026: 2 new items, 1 position to add." in visible(view)
    said = await confirm(h, view, user="UADMIN")
    assert "Imported sg2026: 2 new items, 1 position added" in said
    await update(h, "rec-1 due 31 October 2026")
    before = await counts(h.db)

    view = await preview(h, {("review", "value"): "sg2026", ("paste", "value"): csv_paper("30/11/2026")},
                         user="UADMIN", n=2)
    text = visible(view)
    assert "*If you import this:* sg2026: nothing to change (2 items unchanged)." in text
    assert "1 conflict (changed in the paper and in Scrutineer since the last import): Scrutineer's value " \
           "will be kept:*" in text
    assert "rec-1 due date: the paper says 30 Nov 2026, Scrutineer has 31 Oct 2026" in text
    assert await counts(h.db) == before
    said = await confirm(h, view, user="UADMIN", n=2)
    assert "rec-1 due date: the paper says 30 Nov 2026, Scrutineer has 31 Oct 2026" in said
    assert (await item(h, "1")).due == date(2026, 10, 31)


# ---------------------------------------------------------------- the command line's dry run

async def test_cli_dry_run_lists_conflicts_and_stores_nothing(harness, database_url, tmp_path):
    h = harness
    await h.command("/scrutiny", f"setup cyp {CYP}", user="UADMIN", channel="CCYP")
    rows = [("1", "Review how new Board members are inducted.", "Cabinet Member", "30/09/2026", "Ongoing",
             "Statutory training starts in June."),
            ("2", "Publish the annual report each spring.", "Chairman of the ESCB", "31/03/2027", "", "")]
    path = write_csv(tmp_path / "tracker.csv", rows)
    args = ("import", str(path), "--committee", "cyp", "--review", "sg2026")
    result = await asyncio.to_thread(run_cli, *args, database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "sg2026: 2 new items, 1 position added" in result.stdout
    await update(h, "rec-1 due 31 October 2026")
    write_csv(path, [("1", *rows[0][1:3], "30/11/2026", *rows[0][4:]), rows[1]])
    before = await counts(h.db)
    result = await asyncio.to_thread(run_cli, *args, "--dry-run", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "If imported: sg2026: nothing to change (2 items unchanged)" in result.stdout
    assert "conflict: rec-1 due date: the paper says 30 Nov 2026, Scrutineer has 31 Oct 2026" in result.stdout
    assert "2 items found; nothing stored (dry run)." in result.stderr
    assert await counts(h.db) == before


def test_cli_dry_run_without_a_database_makes_none(tmp_path):
    path = write_csv(tmp_path / "tracker.csv", [("1", "Publish the annual report.", "Cabinet Member", "", "", "")])
    db_path = tmp_path / "none.db"
    result = run_cli("import", str(path), "--committee", "cyp", "--review", "r1", "--dry-run",
                     database_url=sqlite_url_for(db_path))
    assert result.returncode == 0, result.stderr
    assert "1 item found; nothing stored (dry run)." in result.stderr and "If imported" not in result.stdout
    assert not db_path.exists()


# ---------------------------------------------------------------- the demo, loaded on every start

async def test_demo_loaded_three_times_duplicates_nothing(database_url):
    db = Database(database_url)
    try:
        await db.upgrade()
        start = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)
        async with db.session() as s, s.begin():
            first = await load_demo(s, start)
        assert first.summary() == "sg2010: 13 new items, 13 positions added"
        after_first = await counts(db)
        reports = []
        for day in (1, 2):
            async with db.session() as s, s.begin():
                reports.append(await load_demo(s, start + timedelta(days=day)))
            assert await counts(db) == after_first
        assert [r.summary() for r in reports] == ["sg2010: nothing changed (13 items unchanged)"] * 2

        # Someone records a newer position on rec-10 and moves its due date; restarts keep both.
        async with db.session() as s, s.begin():
            ten = (await s.scalars(select(Item).join(Committee).where(
                Committee.team_id == TEAM, Item.kind == "rec", Item.number == "10"))).one()
            ten.due = date(2010, 12, 31)
            s.add(Position(item_id=ten.id, text="Both remaining reviews are finished.", as_of=date(2010, 11, 1),
                           author_name="Graham", source="slack", created_at=start))
        changed = await counts(db)
        for day in (3, 4):
            async with db.session() as s, s.begin():
                report = await load_demo(s, start + timedelta(days=day))
            assert report.summary() == "sg2010: nothing changed (13 items unchanged)"
            assert await counts(db) == changed
        async with db.session() as s:
            ten = await s.get(Item, ten.id)
            texts = list(await s.scalars(select(Position.text).where(Position.item_id == ten.id)
                                         .order_by(Position.as_of, Position.id)))
        assert ten.due == date(2010, 12, 31)
        assert len(texts) == 2 and texts[-1] == "Both remaining reviews are finished."
    finally:
        await db.dispose()


# ---------------------------------------------------------------- items imported before baselines were kept

def _downgrade_to(sync_conn, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = sync_conn
    command.downgrade(cfg, revision)


def _upgrade_to(sync_conn, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, revision)


async def test_items_imported_before_the_migration_get_baselines_from_the_audit_trail(database_url):
    """0007 replays the import events of the audit trail, so a review imported by the old code
    is merged like any other: an officer's change survives, the paper's change is taken."""
    if database_url.startswith("sqlite"):
        pytest.skip("needs a downgrade to 0006, and SQLite can't rebuild `items` (0014's downgrade) while "
                    "rows reference it; run on PostgreSQL")
    db = Database(database_url)
    try:
        # The rows the old code wrote are written with today's models (so at the newest schema),
        # then the schema goes back to 0006 (dropping only what came later, baselines included)
        # and forward again, so 0007 meets exactly what it met on a database of the time.
        async with db.engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "head")
        async with db.session() as s, s.begin():
            await ensure_workspace(s, "T1", NOW)
            committee = Committee(team_id="T1", code="cyp", name=CYP, channel_id="CCYP", is_private=False,
                                  created_at=NOW)
            s.add(committee)
            await s.flush()
            review = Review(team_id="T1", committee_id=committee.id, code="sg2026", title="Safeguarding 2026",
                            created_at=NOW)
            s.add(review)
            await s.flush()
            # What the old import wrote for our paper() (creation: the whole item), then an
            # officer's later due date on rec-1 and a later status on rec-2.
            for imported in paper():
                roles = []
                for name in imported.owners:
                    key = role_key(name)
                    role = (await s.scalars(select(Role).where(Role.key == key))).first()
                    if role is None:
                        role = Role(team_id="T1", name=name, key=key, kind="role", created_at=NOW, holders=[])
                        s.add(role)
                        await s.flush()
                    roles.append(role)
                it = Item(team_id="T1", committee_id=committee.id, review_id=review.id, kind="rec",
                          number=imported.number, seq=int(imported.number), text=imported.text,
                          status=imported.status or ("in progress" if imported.position else "not started"),
                          due=imported.due, created_at=NOW, updated_at=NOW,
                          owners=[ItemOwner(role_id=r.id, ordinal=n) for n, r in enumerate(roles)])
                s.add(it)
                await s.flush()
                s.add(AuditEvent(team_id="T1", at=NOW, actor="cli", entity="item", entity_id=it.id, action="import",
                                 after=imported.as_json()))
                if imported.position:
                    s.add(Position(item_id=it.id, text=imported.position, as_of=PAPER_DATE, author_name="Imported",
                                   source="import", created_at=NOW))
                if imported.number == "1":
                    it.due = date(2026, 10, 31)
                    s.add(AuditEvent(team_id="T1", at=NOW, actor="UADMIN", entity="item", entity_id=it.id,
                                     action="update", before={"due": "2026-09-30"}, after={"due": "2026-10-31"}))
        async with db.engine.begin() as conn:
            await conn.run_sync(_downgrade_to, "0006")
        await db.upgrade()
        async with db.session() as s:
            fields = {b.field: b.value for b in await s.scalars(
                select(ImportBaseline).join(Item, Item.id == ImportBaseline.item_id).where(Item.number == "1"))}
        assert fields == {"text": "Review how new Board members are inducted.", "due": "2026-09-30",
                          "status": "in progress", "owners": ["Cabinet Member", "ESCB Chairman"],
                          "position": "Statutory training starts in June."}
        before = await counts(db)
        report = await run_import(db, paper())
        assert report.summary() == "sg2026: nothing changed (3 items unchanged)"
        assert await counts(db) == before
        report = await run_import(db, paper(**{"1": {"due": date(2026, 11, 30)}, "3": {"status": "implemented"}}))
        assert [c.ref for c in report.conflicts] == ["rec-1"] and report.updated == ["rec-3"]
        assert (await item(db, "1")).due == date(2026, 10, 31)
        assert (await item(db, "3")).status == "implemented"
    finally:
        await db.dispose()


def test_conflict_describes_text_briefly():
    long = "A recommendation whose wording runs on for a good deal longer than anyone would want to read."
    c = Conflict("rec-1", "text", long, "Short.")
    assert c.describe().startswith("rec-1 text: the paper says “A recommendation whose wording runs on")
    assert "…”, Scrutineer has “Short.”" in c.describe()
