"""The `scrutineer` command."""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import sys
from pathlib import Path

from bot.config import Settings

log = logging.getLogger("scrutineer")
CLI_PARSE_TIMEOUT = 60.0   # seconds `scrutineer import` may take to read a paper (the server allows 20)
CLI_MAX_FILE = 100 * 1024 * 1024   # bytes of it read at most (the server downloads 20 MB at most)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scrutineer", description=(
        "Scrutiny committee recommendations and actions, tracked in Slack. With no command: Slack when "
        "tokens are set (Socket Mode when SLACK_APP_TOKEN is set, else HTTP), otherwise the console demo."))
    sub = parser.add_subparsers(dest="cmd")
    sub.add_parser("serve", help="HTTP mode: POST /slack/events and GET /healthz on $PORT")
    sub.add_parser("socket", help="Socket Mode with SLACK_APP_TOKEN")
    console = sub.add_parser("console", help="type slash commands without Slack")
    console.add_argument("--demo", action="store_true", help="load demo committees and recommendations")
    console.add_argument("--user", help="act as this person (e.g. sarah)")
    console.add_argument("--channel", help="start in this channel (e.g. cyp-scrutiny, or dm)")
    imp = sub.add_parser("import", help="import a paper's recommendations")
    imp.add_argument("path")
    imp.add_argument("--committee", required=True, help="committee code, e.g. cyp")
    imp.add_argument("--review", help="review code, e.g. sg2010 (not needed for a table of indicator figures)")
    imp.add_argument("--indicators", action="store_true",
                     help="the file is a table of indicator figures (indicator, period, value, target: CSV or XLSX);"
                     " found by its headings without this")
    imp.add_argument("--title")
    imp.add_argument("--agreed", help="the date the report was agreed")
    imp.add_argument("--format", default="auto", choices=["auto", "csv", "text", "html", "pdf", "docx", "xlsx"])
    imp.add_argument("--team", help="Slack team ID (needed only when the database serves several workspaces)")
    imp.add_argument("--dry-run", action="store_true", help="show what would be imported; store nothing")
    imp.add_argument("--json", action="store_true", help="print the items found as JSON")
    imp.add_argument("--columns", help='which column is which, overriding the importer\'s reading, '
                     'e.g. "owner=Lead Officer,due=Target date" (roles: number, text, owner, due, '
                     'revised, status, rag, position, ignore)')
    imp.add_argument("--take-paper", metavar="REF:FIELD,...",
                     help="where the paper and Scrutineer both changed a field since the last import (a conflict, "
                     "which keeps Scrutineer's value), take the paper's instead, e.g. \"rec-3:due,rec-5:owner\" "
                     "(fields: text, due, status, owner); see the conflicts with --dry-run first")
    exp = sub.add_parser("export", help="write the \"Position on recommendations\" paper to a file")
    exp.add_argument("--committee", required=True, help="committee code, e.g. cyp")
    exp.add_argument("--review", help="review code, e.g. sg2010 (default: the committee's recommendations)")
    exp.add_argument("--format", choices=["docx", "md", "csv", "xlsx"],
                     help="default: from --out's extension, else docx")
    exp.add_argument("--out", help="file to write (default: position-<review>-<date>.<format> here); - for stdout")
    exp.add_argument("--team", help="Slack team ID (needed only when the database serves several workspaces)")
    exp.add_argument("--since-last-meeting", action="store_true",
                     help="instead of the paper: what changed since the committee's last meeting (new positions, "
                     "status changes, items closed), as md or docx")
    rep = sub.add_parser("report", help="write the recommendations report (figures and chart) to a file")
    rep.add_argument("--committee", required=True, help="committee code, e.g. cyp")
    rep.add_argument("--since", help="compare with this date (default: the previous report's)")
    rep.add_argument("--format", choices=["docx", "xlsx", "md"], help="default: from --out's extension, else docx")
    rep.add_argument("--out", help="file to write (default: report-<committee>-<date>.<format> here); "
                     "md writes the chart as a PNG beside it")
    rep.add_argument("--team", help="Slack team ID (needed only when the database serves several workspaces)")
    ws = sub.add_parser("workspace", help="a council's data: export it, or remove it after an uninstall")
    ws_sub = ws.add_subparsers(dest="ws_cmd", required=True)
    ws_exp = ws_sub.add_parser("export", help="everything the workspace stored, as CSV per table in one zip")
    ws_exp.add_argument("team", help="Slack team ID, e.g. T0123ABCD")
    ws_exp.add_argument("--out", help="the zip to write (default: workspace-<team>-<date>.zip here)")
    ws_del = ws_sub.add_parser("delete", help="remove everything the workspace stored (a record of it is kept)")
    ws_del.add_argument("team", help="Slack team ID, e.g. T0123ABCD")
    ws_del.add_argument("--force", action="store_true", help="even while the app is still installed there")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()

    cmd = args.cmd
    if cmd is None:
        if settings.bot_token and settings.app_token:
            cmd = "socket"
        elif (settings.bot_token or settings.multi_workspace) and settings.signing_secret:
            cmd = "serve"   # (many workspaces, installed by OAuth: no bot token of its own)
        elif settings.bot_token or settings.app_token or settings.signing_secret:
            # Some Slack settings but not a whole mode: say what is missing rather than quietly
            # starting the demo.
            print(_missing_for_slack(settings), file=sys.stderr)
            return 2
        else:
            cmd, args.demo, args.user, args.channel = "console", True, None, None
    if cmd == "console":
        from bot.offline.console import run_console
        logging.getLogger().setLevel(logging.WARNING)
        if args.demo:
            from bot.offline.demo import demo_database_url
            settings = Settings.from_env(database_url=demo_database_url())
        return run_console(settings, demo=args.demo, user=args.user, channel=args.channel)
    if cmd in ("serve", "socket"):
        return asyncio.run(_run_slack(settings, cmd))
    if cmd == "import":
        # stderr is for the one-line answer and warnings, not schema-upgrade chatter.
        logging.getLogger().setLevel(logging.WARNING)
        return asyncio.run(_import(settings, args))
    if cmd == "export":
        logging.getLogger().setLevel(logging.WARNING)
        return asyncio.run(_export(settings, args))
    if cmd == "report":
        logging.getLogger().setLevel(logging.WARNING)
        return asyncio.run(_report(settings, args))
    if cmd == "workspace":
        logging.getLogger().setLevel(logging.WARNING)
        return asyncio.run(_workspace(settings, args))
    parser.print_help()
    return 2


def _missing_for_slack(settings: Settings) -> str:
    """One line naming what is missing for Socket Mode and for HTTP mode."""
    if not settings.bot_token:
        mode = "Socket Mode" if settings.app_token else "HTTP mode"
        return f"scrutineer: SLACK_BOT_TOKEN is not set ({mode} needs it with " + (
            "SLACK_APP_TOKEN" if settings.app_token else "SLACK_SIGNING_SECRET") + \
            "). Unset the Slack settings to try the console demo (see README)."
    return ("scrutineer: SLACK_BOT_TOKEN is set but not how to reach Slack: set SLACK_APP_TOKEN for "
            "Socket Mode, or SLACK_SIGNING_SECRET and run `scrutineer serve` for HTTP mode (see README). "
            "Unset SLACK_BOT_TOKEN to try the console demo.")


async def _run_slack(settings: Settings, mode: str) -> int:
    from bot.app import build_app
    from bot.core import dates
    from bot.db import Database
    from bot.scheduled import build_worker
    from bot.server import serve_http, serve_socket

    missing = [name for name, value in (("SLACK_BOT_TOKEN", settings.bot_token),
                                        ("SLACK_SIGNING_SECRET" if mode == "serve" else "SLACK_APP_TOKEN",
                                         settings.signing_secret if mode == "serve" else settings.app_token))
               if not value]
    if mode == "serve" and settings.multi_workspace:
        # Many workspaces: each workspace's token comes from its installation, not SLACK_BOT_TOKEN.
        missing = [] if settings.signing_secret else ["SLACK_SIGNING_SECRET"]
    if missing:
        print(f"scrutineer {mode}: set {' and '.join(missing)} first (see README).", file=sys.stderr)
        return 2
    db = Database(settings.database_url)

    async def prepare():
        await upgrade_when_reachable(db)
        dates.warm()  # heavy imports now, not during someone's first command
        app, deps = build_app(settings, db)
        worker = build_worker(settings, db, deps.clock) if settings.worker else None
        # What exists now (modules, the app) lives as long as the process: keep it out of the
        # cyclic collector's full passes, each of which would otherwise walk all of it and stall
        # whatever request is running.
        gc.collect()
        gc.freeze()
        return app, worker

    if mode == "serve":
        await serve_http(prepare, db, settings.port, settings.host, signing_secret=settings.signing_secret,
                         tz=settings.tz)
    else:
        app, worker = await prepare()
        await serve_socket(app, settings.app_token, worker=worker)
    return 0


async def upgrade_when_reachable(db, *, first_wait: float = 0.5, longest_wait: float = 30.0) -> None:
    """Bring the schema up to date, waiting (with backoff) while the database can't be reached:
    a replica started during a database outage keeps trying instead of exiting."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    wait = first_wait
    while True:
        try:
            await db.upgrade()
            return
        except (OSError, OperationalError, InterfaceError, DBAPIError, asyncio.TimeoutError) as e:
            log.warning("Database not reachable (%s); trying again in %.0f s", str(e).splitlines()[0][:200], wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, longest_wait)


async def _import(settings: Settings, args) -> int:
    from datetime import datetime, timezone

    from bot.core import dates
    from bot.importing import PaperFormatError
    from bot.importing.sandbox import parse_in_sandbox

    now = datetime.now(timezone.utc)
    today = now.astimezone(settings.tz).date()
    try:
        with open(args.path, "rb") as f:
            content = f.read(CLI_MAX_FILE + 1)
    except OSError as e:
        print(f"Can't read {args.path}: {e.strerror}.", file=sys.stderr)
        return 2
    if len(content) > CLI_MAX_FILE:
        print(f"{args.path} is too large to import ({CLI_MAX_FILE // 1024 // 1024} MB at most).", file=sys.stderr)
        return 2
    from bot.importing.indicator_table import is_indicator_table
    if getattr(args, "indicators", False) or is_indicator_table(content, args.path):
        return await _import_indicators(settings, args, content, now, today)
    if not args.review:
        print("Say which review the recommendations belong to with --review (e.g. --review sg2010).", file=sys.stderr)
        return 2
    from bot.core.errors import UserError
    from bot.services.imports import parse_take
    try:
        args.take = parse_take(getattr(args, "take_paper", None))
    except UserError as e:
        print(e.message, file=sys.stderr)
        return 2
    agreed = None
    if args.agreed:
        agreed = dates.parse_date(args.agreed, today, prefer="past")
        if agreed is None:
            print(f"Can't read --agreed “{args.agreed}” as a date. {dates.DATE_EXAMPLES}", file=sys.stderr)
            return 2
    try:
        # In a separate process, limited in time and memory: a hostile file is one line and exit 2.
        paper = await parse_in_sandbox(content, args.path, today, fmt=args.format, timeout=CLI_PARSE_TIMEOUT,
                                       columns=getattr(args, "columns", None))
    except PaperFormatError as e:
        print(str(e).splitlines()[0] if str(e) else "I couldn't read that paper.", file=sys.stderr)
        return 2
    for problem in paper.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps([i.as_json() for i in paper.items], indent=2, ensure_ascii=False))
    elif args.dry_run:
        _print_reading(paper)
        for i in paper.items:
            print(f"rec-{i.number}: {i.text[:70].replace(chr(10), ' ')} | owners: {'; '.join(i.owners) or '-'} | due: {i.due or '-'}"
                  f" | status: {i.status or '-'}" + (f" | CHECK: {'; '.join(i.flags)}" if i.flags else ""))
    if args.dry_run:
        await _compare_with_database(settings, args, paper, now, agreed)
        n = len(paper.items)
        print(f"{n} item{'' if n == 1 else 's'} found; nothing stored (dry run).", file=sys.stderr)
        return 0
    return await _store_import(settings, args, paper, now, agreed)


def _print_reading(paper) -> None:
    """How the importer read the paper's columns, and how sure it is (the dry run's preview)."""
    if paper.columns:
        print("Columns:")
        for c in paper.columns:
            how = {"heading": "by its heading", "contents": "by what its cells hold",
                   "officer": "as you said"}.get(c["how"], c["how"])
            print(f"  {c['column']}. {c['heading'] or '(no heading)'} -> {c['role']} "
                  f"({how}, {round(100 * c['confidence'])}% sure)")
    else:
        print("Columns: none (the paper is not a table; items read by their numbering)")
    print(f"Confidence: {round(100 * paper.confidence)}%"
          + ("" if paper.confidence >= 0.8 else " - please check, and use --columns to correct"))
    unsure = sum(1 for i in paper.items if i.flags)
    if unsure:
        print(f"{unsure} item(s) to check (marked CHECK)")


async def _store_import(settings, args, paper, now, agreed) -> int:

    from bot.core.errors import UserError
    from bot.db import Database
    from bot.services.imports import import_items

    db = Database(settings.database_url)
    try:
        await db.upgrade()
        try:
            # The transaction is inside the try: a refusal rolls back everything it began.
            async with db.session() as s, s.begin():
                team = await _team_of(s, args.team)
                report = await import_items(
                    s, team_id=team, committee_code=args.committee, review_code=args.review, items=paper.items,
                    actor="cli", now=now, title=args.title or paper.title, agreed_on=agreed,
                    as_of=paper.paper_date, source=Path(args.path).name, take=getattr(args, "take", frozenset()))
        except UserError as e:
            print(e.message, file=sys.stderr)
            return 2
        print(report.summary(), file=sys.stderr if args.json else sys.stdout)
        return 0
    finally:
        await db.dispose()


async def _compare_with_database(settings, args, paper, now, agreed) -> None:
    """`import --dry-run`: what importing would change in the database, with every conflict (a
    field changed both in the paper and in Scrutineer since the last import, where Scrutineer's
    value would be kept). Nothing is written; a SQLite file that isn't there is not made."""
    from sqlalchemy import select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from bot.core.errors import UserError
    from bot.db import Database
    from bot.services.imports import import_items
    from models.tables import Workspace

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and (url.database in (None, "", ":memory:")
                                               or not Path(url.database).exists()):
        return
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        async with db.session() as s:
            team = args.team
            if not team:
                teams = list(await s.scalars(select(Workspace.team_id)))
                if len(teams) != 1:
                    raise UserError("no workspace in the database yet." if not teams else
                                    f"{len(teams)} workspaces in the database: say which with --team.")
                team = teams[0]
            report = await import_items(
                s, team_id=team, committee_code=args.committee, review_code=args.review, items=paper.items,
                actor="cli", now=now, title=args.title or paper.title, agreed_on=agreed,
                as_of=paper.paper_date, source=Path(args.path).name, dry_run=True,
                take=getattr(args, "take", frozenset()))
    except UserError as e:
        print(f"warning: not compared with the database: {e.message}", file=sys.stderr)
        return
    except (OSError, SQLAlchemyError) as e:
        print(f"warning: couldn't compare with the database ({str(e).splitlines()[0][:200]})", file=sys.stderr)
        return
    finally:
        await db.dispose()
    out = sys.stderr if args.json else sys.stdout
    print(f"If imported: {report.counts()}", file=out)
    if report.conflicts:
        print(f"{report.conflicts_heading()}:", file=out)
        for conflict in report.conflicts:
            print(f"  conflict: {conflict.describe()}", file=out)
    for taken in report.taken:   # --take-paper
        print(f"  the paper's value, as you chose: {taken.describe_taken()}", file=out)


async def _export(settings: Settings, args) -> int:
    """`scrutineer export`: the position paper from the database into a file."""
    from datetime import datetime, timezone

    from bot.core.errors import UserError
    from bot.db import Database
    from bot.export import FORMATS, build_position_paper, render

    fmt = _format_of(args, FORMATS)
    today = datetime.now(timezone.utc).astimezone(settings.tz).date()
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        async with db.session() as s:
            team = await _only_workspace(s, args.team)
            if team is None:
                return 2
            try:
                if getattr(args, "since_last_meeting", False):
                    from bot.export import changes
                    if fmt not in changes.FORMATS:
                        print(f"--since-last-meeting writes md or docx, not {fmt}.", file=sys.stderr)
                        return 2
                    paper = await changes.build_changes(s, team, args.committee, datetime.now(timezone.utc),
                                                        settings.tz)
                else:
                    paper = await build_position_paper(s, team, args.committee, args.review, today=today)
            except UserError as e:
                print(e.message, file=sys.stderr)
                return 2
    finally:
        await db.dispose()
    if getattr(args, "since_last_meeting", False):
        data, filename, _ = changes.render(paper, fmt)
        counted = f"{len(paper.changes)} changes"
    else:
        data, filename, _ = render(paper, fmt)
        counted = f"{len(paper.rows)} recommendations"
    if args.out == "-":
        sys.stdout.buffer.write(data)
        return 0
    out = Path(args.out or filename)
    try:
        out.write_bytes(data)
    except OSError as e:
        print(f"Can't write {out}: {e.strerror}.", file=sys.stderr)
        return 2
    print(f"Wrote {out} ({fmt}, {counted}): {paper.title}")
    return 0


def _format_of(args, formats) -> str:
    """--format, else the --out file's extension when it is one of `formats`, else docx."""
    if args.format:
        return args.format
    if args.out and args.out != "-":
        ext = Path(args.out).suffix.lower().lstrip(".")
        ext = {"markdown": "md"}.get(ext, ext)
        if ext in formats:
            return ext
    return "docx"


async def _team_of(session, team: str | None) -> str:
    """--team, else the database's one workspace; UserError (saying why) when there are none or
    several."""
    from sqlalchemy import select

    from bot.core.errors import UserError
    from models.tables import Workspace

    if team:
        return team
    teams = list(await session.scalars(select(Workspace.team_id)))
    if len(teams) == 1:
        return teams[0]
    raise UserError("This database has " + ("no workspace yet: run /scrutiny setup in Slack first."
                    if not teams else f"{len(teams)} workspaces: say which with --team ({', '.join(teams)})."))


async def _only_workspace(session, team: str | None = None) -> str | None:
    """_team_of, saying why on stderr and giving None when it can't be chosen."""
    from bot.core.errors import UserError

    try:
        return await _team_of(session, team)
    except UserError as e:
        print(e.message, file=sys.stderr)
        return None


async def _report(settings: Settings, args) -> int:
    """`scrutineer report`: the recommendations report from the database into a file."""
    from datetime import datetime, timezone

    from bot.core import dates
    from bot.db import Database
    from bot.export.report import REPORT_FORMATS, render_report
    from bot.services import reports
    from bot.services.indicators import standings_of
    from models.queries import committee_by_code

    fmt = _format_of(args, REPORT_FORMATS)
    now = datetime.now(timezone.utc)
    today = now.astimezone(settings.tz).date()
    since = None
    if args.since:
        since = dates.parse_date(args.since, today, prefer="past")
        if since is None or since > today:
            print(f"Can't read --since {args.since!r} as a date before today (e.g. 2026-03-01 or \"1 March 2026\").",
                  file=sys.stderr)
            return 2
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        async with db.session() as s, s.begin():
            team = await _only_workspace(s, args.team)
            if team is None:
                return 2
            committee = await committee_by_code(s, team, args.committee)
            if committee is None:
                print(f"There is no committee `{args.committee}` in {team}.", file=sys.stderr)
                return 2
            report = await reports.build_report(s, team, [committee], now=now, tz=settings.tz, since=since)
            data, filename, beside = render_report(report, fmt, Path(args.out).stem if args.out else None,
                                                   indicators=await standings_of(s, committee))
            out = Path(args.out or filename)
            try:
                out.write_bytes(data)
                for name, content in beside.items():
                    (out.parent / name).write_bytes(content)
            except OSError as e:
                print(f"Can't write {out}: {e.strerror}.", file=sys.stderr)
                return 2
            reports.record_report(s, team_id=team, actor="cli", now=now, committees=[committee], report=report)
    finally:
        await db.dispose()
    extra = f" and its chart {out.with_suffix('.png')}" if beside else ""
    if len(beside) > 1:
        extra += f" (and {len(beside) - 1} indicator chart{'s' if len(beside) > 2 else ''} beside it)"
    print(f"Wrote {out}{extra} ({fmt}): {report.title}")
    return 0


async def _import_indicators(settings: Settings, args, content: bytes, now, today) -> int:
    """`scrutineer import <table> --committee CODE`: a table of indicator figures (CSV or XLSX).
    New indicators and figures are added; figures already recorded are never replaced (a
    different one in the table is listed as a conflict). --dry-run: what would happen."""
    from sqlalchemy.engine import make_url

    from bot.core.errors import UserError
    from bot.db import Database
    from bot.importing import PaperFormatError
    from bot.importing.indicator_table import read_indicator_table
    from bot.services.indicators import import_table

    try:
        table = read_indicator_table(content, args.path)
    except PaperFormatError as e:
        print(str(e).splitlines()[0] if str(e) else "I couldn't read that table.", file=sys.stderr)
        return 2
    print("Read as a table of indicator figures: " + ", ".join(
        f"{heading or '(no heading)'} -> {column}" for column, heading in table.columns.items()) + ".")
    for problem in table.problems:
        print(f"warning: {problem}", file=sys.stderr)
    url = make_url(settings.database_url)
    if args.dry_run and url.get_backend_name() == "sqlite" and (
            url.database in (None, "", ":memory:") or not Path(url.database).exists()):
        for row in table.rows:
            print(f"  {row.indicator} | {row.period} | {row.value}" + (f" | target {row.target}" if row.target else ""))
        print(f"{len(table.rows)} figures found; nothing stored (dry run, no database to compare with).",
              file=sys.stderr)
        return 0
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        try:
            async with db.session() as s:      # committed only when it is not a dry run
                team = await _team_of(s, args.team)
                result = await import_table(s, team_id=team, committee_code=args.committee, rows=table.rows,
                                            actor="cli", now=now, today=today, dry_run=args.dry_run)
                if not args.dry_run:
                    await s.commit()
        except UserError as e:
            print(e.message, file=sys.stderr)
            return 2
    finally:
        await db.dispose()
    for name in result.new_indicators:
        print(f"  new indicator: {name}")
    for name, period, value in result.added:
        print(f"  {'would add' if args.dry_run else 'added'}: {name}, {period}: {value:g}")
    for conflict in result.conflicts:
        print(f"  conflict: {conflict.describe()}")
    for problem in result.problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(result.summary() + (" Nothing stored (dry run)." if args.dry_run else ""))
    return 0


async def _workspace(settings: Settings, args) -> int:
    """`scrutineer workspace export|delete T123`: a council's data, out or gone."""
    from datetime import datetime, timezone

    from bot.core.errors import UserError
    from bot.db import Database
    from bot.services import workspace_data

    now = datetime.now(timezone.utc)
    out = Path(getattr(args, "out", None) or f"workspace-{args.team.strip().upper()}-{now:%Y-%m-%d}.zip")
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        if args.ws_cmd == "export":
            done = await workspace_data.export_workspace(db, args.team, out, now)
            print(f"Wrote {out}: {done.rows} rows from {sum(1 for n in done.counts.values() if n)} tables "
                  f"of workspace {done.team_id} (tokens left out).")
        else:
            removal = await workspace_data.remove_workspace(db, args.team, now, force=args.force)
            print(f"Removed workspace {removal.team_id}'s data: {removal.rows} rows from {len(removal.counts)} "
                  "tables. A record of the removal is kept.")
        return 0
    except UserError as e:
        print(e.message, file=sys.stderr)
        return 2
    except OSError as e:
        if e.filename is None:   # not the file: the database (say) out of reach
            raise
        print(f"Can't write {out}: {e.strerror}.", file=sys.stderr)
        return 2
    finally:
        await db.dispose()


if __name__ == "__main__":
    sys.exit(main())
