"""The `scrutineer` command run for real, as a subprocess: import (dry run, CSV, errors),
the console demo fed on stdin, and `serve` answering /healthz and a signed command."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from bot.db import Database
from bot.offline import slack_payloads as payloads
from bot.offline.demo import SG2010
from bot.offline.local_slack import LocalSlack
from models.queries import ensure_workspace
from models.tables import AuditEvent, Committee, Item, Position, Review, Role, RoleHolder, Workspace
from tests.conftest import populate_slack

PROJECT = Path(__file__).resolve().parents[1]
CYP_NAME = "Children and Young People Scrutiny Committee"
COUNTED = (Workspace, Committee, Review, Item, Position, Role, RoleHolder, AuditEvent)


# ---------------------------------------------------------------- local helpers

def cli_env(database_url: str | None, **extra: str) -> dict[str, str]:
    """This process's environment without anything Scrutineer reads, plus what the test says."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "SCRUTINEER_")) and k not in ("DATABASE_URL", "PORT")}
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def run_cli(*args: str, database_url: str | None, stdin: str | None = None, timeout: float = 60,
            command: list[str] | None = None, cwd: Path = PROJECT, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*(command or [sys.executable, "-m", "bot.cli"]), *args], cwd=cwd,
                          env=cli_env(database_url, **extra_env), input=stdin, capture_output=True,
                          text=True, timeout=timeout)


def scrutineer_command() -> list[str]:
    """The installed `scrutineer` entry point of this venv, or the module when not installed."""
    script = Path(sys.executable).with_name("scrutineer")
    found = str(script) if script.exists() else shutil.which("scrutineer")
    return [found] if found else [sys.executable, "-m", "bot.cli"]


def sqlite_url_for(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def counts(database_url: str) -> dict[str, int]:
    db = Database(database_url)
    try:
        async with db.session() as s:
            return {m.__tablename__: await s.scalar(select(func.count()).select_from(m)) for m in COUNTED}
    finally:
        await db.dispose()


def counts_sync(database_url: str) -> dict[str, int]:
    return asyncio.run(counts(database_url))


def one_clear_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert "Traceback" not in stderr
    return lines[0]


def write_csv(path: Path, rows: list[tuple]) -> Path:
    import csv
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["number", "text", "owners", "due", "status", "position"])
        w.writerows(rows)
    return path


CSV_ROWS = [
    ("1", "Review how new Board members are inducted.", "Cabinet Member;Chairman of the ESCB", "30/9/2026",
     "in progress", "Statutory training starts in June."),
    ("2", "Report annually on the Board's business plan.", "Chairman of the ESCB", "31/3/2027", "not started", ""),
    ("3", "Sample how decisions reach partner agencies.", "Executive Director of SCF", "", "", "For the sub-committee."),
]


# ---------------------------------------------------------------- import --dry-run --json

def test_import_dry_run_json_of_the_seed_paper(seed_002, tmp_path):
    db_path = tmp_path / "dry.db"
    result = run_cli("import", str(seed_002), "--committee", "cyp", "--review", "sg2010", "--dry-run", "--json",
                     database_url=sqlite_url_for(db_path))
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)          # stdout is the JSON and nothing else
    assert isinstance(items, list) and len(items) == 13
    for item in items:
        assert set(item) == {"number", "text", "owners", "due", "status", "position"}, item
        assert item["text"] and isinstance(item["owners"], list)
    assert [i["number"] for i in items] == [str(n) for n in range(1, 14)]
    rec10 = items[9]
    assert "Serious Case Review" in rec10["text"] and rec10["owners"] == ["ESCB Chairman"]
    assert "nothing stored" in result.stderr
    # Nothing stored: no database at all, or one without items.
    if db_path.exists():
        assert counts_sync(sqlite_url_for(db_path))["items"] == 0


# ---------------------------------------------------------------- CSV import, on both databases

def _import_csv(path: Path, database_url: str, *more: str) -> subprocess.CompletedProcess:
    return run_cli("import", str(path), "--committee", "cyp", "--review", "sg2026", *more, database_url=database_url)


async def _items(db: Database) -> dict[str, Item]:
    async with db.session() as s:
        return {i.number: i for i in await s.scalars(select(Item).where(Item.kind == "rec"))}


async def _positions(db: Database, item: Item) -> list[Position]:
    async with db.session() as s:
        return list(await s.scalars(select(Position).where(Position.item_id == item.id).order_by(Position.id)))


async def test_csv_import_is_idempotent_and_appends_positions(harness, database_url, tmp_path):
    # The committee is made the real way: an admin binds the channel in Slack.
    r = await harness.command("/scrutiny", f"setup cyp {CYP_NAME}", user="UADMIN", channel="CCYP")
    assert "bound to the new committee" in r.text
    db = harness.db
    csv_path = write_csv(tmp_path / "cli_recs.csv", CSV_ROWS)

    result = await asyncio.to_thread(_import_csv, csv_path, database_url, "--title", "Safeguarding 2026",
                                     "--agreed", "3/6/2026")
    assert result.returncode == 0, result.stderr
    assert "sg2026: 3 new items, 2 positions added" in result.stdout
    items = await _items(db)
    assert sorted(items) == ["1", "2", "3"]
    one = items["1"]
    assert one.text == "Review how new Board members are inducted."
    assert [o.role.name for o in one.owners] == ["Cabinet Member", "Chairman of the ESCB"]
    assert one.due == date(2026, 9, 30) and one.status == "in progress"
    assert items["2"].due == date(2027, 3, 31) and items["2"].status == "not started"
    assert items["3"].due is None
    assert [p.text for p in await _positions(db, one)] == ["Statutory training starts in June."]
    async with db.session() as s:
        review = (await s.scalars(select(Review))).one()
        assert (review.code, review.title, review.agreed_on, review.source) == (
            "sg2026", "Safeguarding 2026", date(2026, 6, 3), "cli_recs.csv")
        events = list(await s.scalars(select(AuditEvent).where(AuditEvent.actor == "cli")))
    assert {(e.entity, e.action) for e in events} >= {("review", "create"), ("item", "import"), ("item", "position"),
                                                     ("role", "create")}
    assert sum(1 for e in events if (e.entity, e.action) == ("item", "import")) == 3
    before = await counts(database_url)

    # The same file again adds nothing.
    result = await asyncio.to_thread(_import_csv, csv_path, database_url)
    assert result.returncode == 0, result.stderr
    assert "sg2026: nothing changed (3 items unchanged)" in result.stdout
    assert await counts(database_url) == before

    # A changed file updates fields and appends a position, keeping the old one.
    changed = [list(row) for row in CSV_ROWS]
    changed[0][1] = "Review how new Board members are inducted and trained."
    changed[0][3] = "31/10/2026"
    changed[0][5] = "Induction training in place since September."
    changed[1][4] = "implemented"
    write_csv(csv_path, [tuple(r) for r in changed])
    result = await asyncio.to_thread(_import_csv, csv_path, database_url)
    assert result.returncode == 0, result.stderr
    assert "sg2026: 2 items updated, 1 unchanged, 1 position added" in result.stdout
    items = await _items(db)
    assert len(items) == 3
    one = items["1"]
    assert one.text == "Review how new Board members are inducted and trained." and one.due == date(2026, 10, 31)
    assert items["2"].status == "implemented"
    assert [p.text for p in await _positions(db, one)] == [
        "Statutory training starts in June.", "Induction training in place since September."]
    after = await counts(database_url)
    assert after["positions"] == before["positions"] + 1 and after["items"] == before["items"]
    async with db.session() as s:
        update = (await s.scalars(select(AuditEvent).where(
            AuditEvent.entity == "item", AuditEvent.entity_id == one.id, AuditEvent.action == "import")
            .order_by(AuditEvent.id.desc()))).first()
    assert update.before["text"] == "Review how new Board members are inducted."
    assert update.after["due"] == "2026-10-31"

    # And the app sees what the command line stored.
    r = await harness.command("/position", "rec-1 history", user="UDAVE", channel="CCYP")
    assert "Statutory training starts in June." in r.visible
    assert "Induction training in place since September." in r.visible


# ---------------------------------------------------------------- errors: exit 2, one line, nothing stored

async def _workspace_with_cyp(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.upgrade()
        now = datetime.now(timezone.utc)
        async with db.session() as s, s.begin():
            await ensure_workspace(s, "T1", now)
            s.add(Committee(team_id="T1", code="cyp", name=CYP_NAME, channel_id="CCYP", is_private=False,
                            created_at=now))
    finally:
        await db.dispose()


def test_import_errors_exit_2_with_one_line(tmp_path):
    url = sqlite_url_for(tmp_path / "errors.db")
    asyncio.run(_workspace_with_cyp(url))
    before = counts_sync(url)
    good = write_csv(tmp_path / "cli_good.csv", CSV_ROWS)
    empty = tmp_path / "cli_empty.csv"
    empty.write_text("")
    cases = [
        (("import", str(tmp_path / "cli_missing.csv"), "--committee", "cyp", "--review", "r1"), "Can't read"),
        (("import", str(good), "--committee", "cyp", "--review", "r1", "--agreed", "the twelfth of never"),
         "--agreed"),
        (("import", str(good), "--committee", "nope", "--review", "r1"), "no committee `nope`"),
        (("import", str(empty), "--committee", "cyp", "--review", "r1"), "empty"),
    ]
    for args, hint in cases:
        result = run_cli(*args, database_url=url)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        line = one_clear_line(result.stderr)
        assert hint in line, (args, line)
        assert result.stdout == ""
    assert counts_sync(url) == before


def test_import_into_a_database_without_a_workspace(tmp_path):
    url = sqlite_url_for(tmp_path / "blank.db")
    good = write_csv(tmp_path / "cli_good.csv", CSV_ROWS)
    result = run_cli("import", str(good), "--committee", "cyp", "--review", "r1", database_url=url)
    assert result.returncode == 2
    assert "/scrutiny setup" in one_clear_line(result.stderr)
    assert counts_sync(url)["items"] == 0


# ---------------------------------------------------------------- the console demo

CONSOLE_INPUT = "/position rec-10\n/actions overdue\n:quit\n"


def run_demo(db: Path, stdin: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    """The console demo on stdin, its data in `db` (the demo never uses DATABASE_URL)."""
    return run_cli("console", "--demo", *args, database_url=None, stdin=stdin, command=scrutineer_command(),
                   SCRUTINEER_DEMO_DATABASE_URL=sqlite_url_for(db), **extra_env)


def test_console_demo_on_stdin(tmp_path):
    url = sqlite_url_for(tmp_path / "console.db")
    result = run_demo(tmp_path / "console.db", CONSOLE_INPUT)
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    rec10_text = next(text for number, text, _owners, _position in SG2010 if number == "10")
    assert " ".join(rec10_text.split()) in out
    assert "Chairman of the ESCB" in out
    assert "overdue" in out
    assert "Traceback" not in result.stderr
    first = counts_sync(url)
    assert first["items"] > 13

    # A second run on the same database loads the demo again without duplicating anything.
    again = run_demo(tmp_path / "console.db", CONSOLE_INPUT)
    assert again.returncode == 0, again.stderr
    assert " ".join(rec10_text.split()) in " ".join(again.stdout.split())
    assert counts_sync(url) == first


def _clean_run(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    return result.stdout


async def _rec10(url: str) -> Item:
    db = Database(url)
    try:
        async with db.session() as s:
            return (await s.scalars(select(Item).where(Item.kind == "rec", Item.number == "10"))).one()
    finally:
        await db.dispose()


async def _positions_of(url: str, item_id: int) -> list[str]:
    db = Database(url)
    try:
        async with db.session() as s:
            return list(await s.scalars(select(Position.text).where(Position.item_id == item_id)
                                        .order_by(Position.id)))
    finally:
        await db.dispose()


# The update form's fields, in order: position, status, due, owners, people, RAG, RAG reason; then Save.
def test_console_update_form_reads_dates_and_asks_again_on_a_typo(tmp_path):
    db = tmp_path / "demo.db"
    out = _clean_run(run_demo(db, "/update rec-10\nTraining in place\nin progess\nin progress\n"
                                  "the twelfth of never\n31 March 2027\n\n\n\n\n\n:quit\n"))
    assert "did you mean in progress?" in out                       # the typo is asked again
    assert "can't read “the twelfth of never” as a date" in out     # so is a date nobody can read
    assert "Updated sg2010/rec-10" in out
    item = asyncio.run(_rec10(sqlite_url_for(db)))
    assert item.due == date(2027, 3, 31) and item.status == "in progress"
    assert asyncio.run(_positions_of(sqlite_url_for(db), item.id))[-1] == "Training in place"


def test_console_form_errors_are_shown_beside_the_field(tmp_path):
    # A RAG set by hand without a reason: the form's own error, and a second try.
    out = _clean_run(run_demo(tmp_path / "demo.db", "/update rec-10\n\n\n\n\n\nred\n\n\n"
                                                      "Board has not met since May\n\n:quit\n"))
    assert "Reason for a RAG set by hand: Say why you are setting the RAG by hand." in out
    assert '{"' not in out                                          # no raw JSON
    item = asyncio.run(_rec10(sqlite_url_for(tmp_path / "demo.db")))
    assert item.rag_override == "red" and item.rag_reason == "Board has not met since May"


def test_console_eof_in_a_form_cancels_it_and_ends_cleanly(tmp_path):
    db = tmp_path / "demo.db"
    out = _clean_run(run_demo(db, "/update rec-10\nHalf a position"))   # stdin ends mid-form (Ctrl-D)
    assert "nothing was sent" in out
    assert asyncio.run(_positions_of(sqlite_url_for(db), asyncio.run(_rec10(sqlite_url_for(db))).id))[-1] \
        != "Half a position"
    # 'cancel' closes the form and the console carries on.
    out = _clean_run(run_demo(db, "/update rec-10\ncancel\n:users\n:quit\n"))
    assert "nothing was sent" in out and "Sarah (Cabinet Member)" in out


def test_console_users_buttons_and_unknown_commands(tmp_path):
    out = _clean_run(run_demo(tmp_path / "demo.db", ":users\n/position rec-10\n/actoins\n:user sarah\n"
                                                      "/position rec-2 history\n1\n:quit\n"))
    assert "Graham (Governance Officer)" in out and "Rachel (member)" in out
    assert "You are now Sarah" in out                                # :users listed, :user switched
    assert "There's no /actoins — did you mean /actions?" in out
    assert "HTTP 404" not in out and "developer" not in out.lower()
    assert "buttons of earlier replies can't be pressed" in out.lower()   # the history has no buttons


def test_console_home_tab(tmp_path):
    out = _clean_run(run_demo(tmp_path / "demo.db", ":user margaret\n:home\n:quit\n"))
    assert "== Home: Margaret" in out
    assert "YOUR OPEN ITEMS" in out and "rec-10" in out


def test_console_letter_is_walked_to_sent(tmp_path):
    db = tmp_path / "demo.db"
    out = _clean_run(run_demo(db, "/meeting new yesterday 10:00\n/meeting decision Ask the Board for its "
                                  "annual report\n/letter\n\n\n\n\n:quit\n"))
    assert "Preview" in out and "Recipients" in out                  # step 1, then the preview
    assert "is on its way" in out                                    # sent
    assert "(posted in #cyp-scrutiny) DECISION LETTER" in out


def test_console_import_by_paste_and_export_saves_the_file(tmp_path):
    db = tmp_path / "demo.db"
    paper = ("1. Recruit more foster carers.\nOwner: Cabinet Member\n"
             "2. Report on retention each year.\nOwner: Executive Director of SCF\n")
    out = _clean_run(run_demo(db, f"/scrutiny import\nfc2026\nFoster care\n<<\n{paper}.\n\n\n\n"
                                  "/scrutiny export md\n:quit\n", TMPDIR=str(tmp_path)))
    assert "Reading the pasted paper" in out and "Found 2 recommendations" in out
    assert "Imported fc2026: 2 new items" in out
    saved = [line.split("saved to ", 1)[1].strip() for line in out.splitlines() if "saved to " in line]
    assert saved and Path(saved[0]).read_text(encoding="utf-8").startswith("#")


def test_console_demo_keeps_its_own_database(tmp_path):
    real = tmp_path / "scrutineer.db"
    result = run_cli("console", "--demo", database_url=sqlite_url_for(real), stdin=":quit\n",
                     command=scrutineer_command(), cwd=tmp_path)
    _clean_run(result)
    assert not real.exists()                                           # the real database is untouched
    assert counts_sync(sqlite_url_for(tmp_path / "scrutineer-demo.db"))["items"] > 13


def test_bot_token_alone_names_what_is_missing(tmp_path):
    result = run_cli(database_url=sqlite_url_for(tmp_path / "none.db"), stdin=":quit\n", timeout=30,
                     command=scrutineer_command(), SLACK_BOT_TOKEN="xoxb-x")
    assert result.returncode == 2
    line = one_clear_line(result.stderr)
    assert "SLACK_APP_TOKEN" in line and "SLACK_SIGNING_SECRET" in line and "scrutineer serve" in line
    assert "Scrutineer console" not in result.stdout and not (tmp_path / "none.db").exists()


# ---------------------------------------------------------------- serve

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_serve_answers_healthz_and_a_signed_command(tmp_path):
    slack = LocalSlack(team_id="T1")
    populate_slack(slack)
    await slack.start()
    port = _free_port()
    url = sqlite_url_for(tmp_path / "serve.db")
    env = cli_env(url, PORT=str(port), SLACK_BOT_TOKEN="xoxb-x", SLACK_SIGNING_SECRET="s",
                  SLACK_API_URL=slack.api_url)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "serve", cwd=PROJECT, env=env,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 10
            health = None
            while time.monotonic() < deadline and proc.returncode is None:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        health = (resp.status, await resp.json())
                    if health[0] == 200:
                        break
                    assert health[0] == 503, health   # listening, still upgrading the schema
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
            assert health == (200, {"ok": True}), f"no /healthz within 10 s (exit {proc.returncode})"

            # A signed slash command goes through the real process end to end.
            key = uuid.uuid4().hex
            body = payloads.slash_command_body("/scrutiny", f"setup cyp {CYP_NAME}", user_id="UADMIN",
                                               team_id="T1", channel_id="CCYP",
                                               response_url=slack.response_url(key))
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body.encode(),
                                 headers=payloads.sign(body, "s")) as resp:
                assert resp.status == 200
                reply = await resp.json()   # the answer rides in the acknowledgement
            assert "bound to the new committee" in reply["text"] and reply["response_type"] == "ephemeral"
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body.encode(),
                                 headers=payloads.sign(body, "wrong")) as resp:
                assert resp.status == 401
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        await slack.stop()
    assert (await counts(url))["committees"] == 1


def test_serve_without_tokens_exits_2(tmp_path):
    result = run_cli("serve", database_url=sqlite_url_for(tmp_path / "none.db"), timeout=30)
    assert result.returncode == 2
    line = one_clear_line(result.stderr)
    assert "SLACK_BOT_TOKEN" in line and "SLACK_SIGNING_SECRET" in line
    assert not (tmp_path / "none.db").exists()


async def test_serve_started_during_a_database_outage_waits_for_it(tmp_path):
    """A replica started while the database refuses connections stays up, reports 503 on
    /healthz and refuses Slack's requests with 503, instead of exiting with a traceback."""
    port = _free_port()
    env = cli_env("postgresql://postgres@127.0.0.1:1/nowhere", PORT=str(port), SLACK_BOT_TOKEN="xoxb-x",
                  SLACK_SIGNING_SECRET="s")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "serve", cwd=PROJECT, env=env,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as http:
            deadline, health = time.monotonic() + 10, None
            while time.monotonic() < deadline and proc.returncode is None and health is None:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        health = resp.status
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            assert health == 503
            body = payloads.slash_command_body("/actions", "", user_id="UADMIN", team_id="T1", channel_id="CCYP",
                                               response_url="http://127.0.0.1:9/never")
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body.encode(),
                                 headers=payloads.sign(body, "s")) as resp:
                assert resp.status == 503
        await asyncio.sleep(1.0)
        assert proc.returncode is None, "the replica gave up instead of waiting for the database"
    finally:
        if proc.returncode is None:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 10)
    stderr = (await proc.stderr.read()).decode()
    assert "Traceback" not in stderr
    assert "Database not reachable" in stderr
