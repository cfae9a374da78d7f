"""The officer stays in charge of an import: in the /scrutiny import preview, a select per column
of the table (its role, preselected with the importer's reading, and how sure it is), "Preview
again" reading the paper the officer's way, items the importer is unsure of flagged, and a
choice per conflict (keep Scrutineer's value, the default, or take the paper's) that the import
applies and audits. Through the real boundary (signed requests, the fake Slack Web API), on
SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import random
from datetime import date

import pytest_asyncio
from sqlalchemy import select

from bot.importing import ImportedItem, PaperFormatError, ParsedPaper, parse_paper
from bot.offline import slack_payloads as payloads
from bot.services.imports import COLUMN_ROLES, Conflict, ImportReport, column_overrides, column_role_word
from bot.slack_ui.import_form import AGAIN_ACTION, MAX_BLOCKS, preview_view
from bot.slack_ui.metadata import ImportForm
from models.tables import AuditEvent, Item
from tests.test_cli import run_cli, write_csv
from tests.test_import_form import confirm, open_form, read, visible

CYP = "Children and Young People Scrutiny Committee"
TODAY = date(2026, 6, 1)
HEADINGS = ["Ref", "Recommendation", "Response from", "Target date", "Status"]


def html_paper(due_1: str = "30/09/2026", due_2: str = "31/03/2027") -> str:
    """Our own tracker as an HTML table, pasted: the third column ("Response from") holds who
    owns each recommendation, and its heading alone doesn't say so."""
    rows = [HEADINGS,
            ["1", "Review how new Board members are inducted into their role.", "Head of Governance", due_1,
             "Ongoing"],
            ["2", "Publish the annual report of the Board each spring.", "Director of Children's Services",
             due_2, "Not started"]]
    cells = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<html><body><table>{cells}</table></body></html>"


@pytest_asyncio.fixture
async def h(harness):
    r = await harness.command("/scrutiny", f"setup cyp {CYP}", user="UADMIN", channel="CCYP")
    assert "bound to the new committee" in r.text
    await harness.command("/scrutiny", "role officer <@UBOB|bob>", user="UADMIN", channel="CCYP")
    return harness


def selects(view: dict) -> dict[str, dict]:
    """Column heading (the select's label) -> the select."""
    return {b["label"]["text"]: b["element"] for b in view["blocks"]
            if b.get("block_id", "").startswith("col_")}


def column_block(view: dict, heading: str) -> str:
    return next(b["block_id"] for b in view["blocks"]
                if b.get("block_id", "").startswith("col_") and b["label"]["text"].endswith(": " + heading))


def choices(view: dict) -> list[dict]:
    return [b for b in view["blocks"] if b.get("block_id", "").startswith("conflict_")]


async def preview_paste(h, text: str, *, n: int = 1, user: str = "UBOB") -> dict:
    view = await open_form(h, user=user, n=n)
    shown = await read(h, view, {("review", "value"): "sg2026", ("paste", "value"): text}, user=user)
    assert shown["callback_id"] == "import_confirm", visible(shown)
    return shown


async def preview_again(h, view: dict, answers: dict, *, user: str = "UBOB") -> dict:
    """Change selects in the preview (answers: {(block_id, "value"): option value}) and press
    Preview again, as Slack sends it: block_actions with the modal's view and its state."""
    before = len(h.slack.calls_to("views.update"))
    pressed = dict(view, state={"values": payloads.input_values_from_view(view, answers)})
    body = payloads.block_actions_body(action_id=AGAIN_ACTION, value="again", user_id=user, team_id="T1",
                                       channel_id=None, response_url=None, trigger_id=payloads.new_trigger_id(),
                                       view=pressed)
    status, _ = await h.post(body)
    assert status == 200
    call = (await h.slack.wait_for("views.update", before + 1, timeout=30))[before]
    assert call.args["view_id"] == view["id"] and call.args["hash"] == view["hash"] and not call.failed, call
    return call.response["view"]


async def item(h, number: str) -> Item:
    async with h.db.session() as s:
        found = (await s.scalars(select(Item).where(Item.kind == "rec", Item.number == number))).one()
        await s.refresh(found, ["owners"])
        return found


def owners(it: Item) -> list[str]:
    return [o.role.name for o in it.owners]


async def test_a_select_per_column_then_preview_again_with_the_officers_reading_and_import(h):
    importer = parse_paper(html_paper(), today=TODAY)   # what the importer makes of it by itself
    assert [c["heading"] for c in importer.columns] == HEADINGS
    view = await preview_paste(h, html_paper())
    found = selects(view)
    assert list(found) == [f"Column {n}: {head}" for n, head in enumerate(HEADINGS, start=1)]
    for c in importer.columns:   # preselected with the importer's reading, and how sure it is
        select_ = found[f"Column {c['column']}: {c['heading']}"]
        assert [o["value"] for o in select_["options"]] == list(COLUMN_ROLES)
        assert select_["initial_option"]["value"] == column_role_word(c["role"])
    text = visible(view)
    assert f"How I read the table* ({round(100 * importer.confidence)}% sure)" in text
    assert "Read by its heading, 95% sure." in text

    # "Response from" holds the owners: the officer says so and previews again.
    block = column_block(view, "Response from")
    was = found["Column 3: Response from"]["initial_option"]["value"]
    role = "owner" if was != "owner" else "position"
    expected = parse_paper(html_paper(), today=TODAY, columns={role: "Response from"})
    again = await preview_again(h, view, {(block, "value"): role})
    assert again["callback_id"] == "import_confirm"
    shown = visible(again)
    assert "Read again with the columns you chose." in shown
    assert selects(again)["Column 3: Response from"]["initial_option"]["value"] == role
    assert "As you chose, 100% sure." in shown
    for it in expected.items:
        assert f"Owners: {', '.join(it.owners) if it.owners else ':warning: no owner'}" in shown
    assert ImportForm.loads(again["private_metadata"]).columns == {role: "Response from"}
    async with h.db.session() as s:
        assert not list(await s.scalars(select(Item)))   # nothing stored by previewing

    # Import: the paper is read as previewed, the officer's columns and all.
    said = await confirm(h, again)
    assert said.startswith(":white_check_mark: Imported sg2026: 2 new items")
    for it in expected.items:
        assert owners(await item(h, it.number)) == it.owners
    if role == "owner":
        assert owners(await item(h, "1")) == ["Head of Governance"]
        assert owners(await item(h, "2")) == ["Director of Children's Services"]


async def test_a_column_changed_but_not_previewed_is_not_imported(h):
    view = await preview_paste(h, html_paper())
    block = column_block(view, "Target date")
    status, body = await h.submit(view, {(block, "value"): "ignore"}, user="UBOB")
    assert status == 200 and body["response_action"] == "errors"
    assert "press Preview again" in body["errors"][block]
    await h.settle()
    async with h.db.session() as s:
        assert not list(await s.scalars(select(Item)))


async def test_a_column_that_cannot_be_used_keeps_the_preview_and_says_why(h):
    view = await preview_paste(h, html_paper())
    block = column_block(view, "Recommendation")
    try:   # what the importer says of the paper with no recommendation column
        parse_paper(html_paper(), today=TODAY, columns={"ignore": "Recommendation"})
        problem = None
    except PaperFormatError as e:
        problem = str(e)
    again = await preview_again(h, view, {(block, "value"): "ignore"})
    assert again["callback_id"] == "import_confirm"
    if problem:   # the preview as it was, saying why
        assert visible(again).startswith(f":warning: {problem}")
        assert selects(again)["Column 2: Recommendation"]["initial_option"]["value"] == "text"
        assert ImportForm.loads(again["private_metadata"]).columns is None
        said = await confirm(h, again)   # and importing it imports what it shows
        assert said.startswith(":white_check_mark: Imported sg2026: 2 new items")


async def test_items_the_importer_is_unsure_of_are_flagged_with_the_reason(h):
    paper = html_paper(due_2="when the budget allows")
    importer = parse_paper(paper, today=TODAY)
    flagged = [i for i in importer.items if i.flags]
    assert flagged, "the test paper should leave the importer unsure of something"
    view = await preview_paste(h, paper)
    text = visible(view)
    assert f":warning: {len(flagged)} item{'' if len(flagged) == 1 else 's'} to check" in text
    for i in flagged:
        for flag in i.flags:
            assert f":warning: _Check:_ {flag.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}" \
                in text


async def update(h, text: str) -> None:
    r = await h.command("/update", text, user="UADMIN", channel="CCYP")
    assert ":warning:" not in r.visible, r.visible


async def conflicted(h) -> dict:
    """Imported once; the officer moves both due dates; the paper moves both too: two conflicts."""
    said = await confirm(h, await preview_paste(h, html_paper(), user="UADMIN"), user="UADMIN")
    assert "Imported sg2026: 2 new items" in said
    await update(h, "rec-1 due 31 October 2026")
    await update(h, "rec-2 due 30 April 2027")
    view = await preview_paste(h, html_paper("30/11/2026", "31/05/2027"), n=2, user="UADMIN")
    text = visible(view)
    assert "rec-1 due date: the paper says 30 Nov 2026, Scrutineer has 31 Oct 2026" in text
    assert "rec-2 due date: the paper says 31 May 2027, Scrutineer has 30 Apr 2027" in text
    found = choices(view)
    assert len(found) == 2
    for block in found:   # keep Scrutineer's value unless the officer chooses otherwise
        options = block["element"]["options"]
        assert [o["text"]["text"].split(":")[0] for o in options] == ["Keep Scrutineer's", "Take the paper's"]
        assert block["element"]["initial_option"] == options[0]
    return view


async def events(h, action: str) -> list[AuditEvent]:
    async with h.db.session() as s:
        return list(await s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


async def test_taking_the_papers_value_changes_exactly_that_field_and_is_audited(h):
    view = await conflicted(h)
    one = next(b for b in choices(view) if b["label"]["text"].startswith("rec-1 "))
    take = one["element"]["options"][1]["value"]
    status, body = await h.submit(view, {(one["block_id"], "value"): take}, user="UADMIN")
    assert status == 200 and not body
    said = (await h.slack.wait_for("chat.postEphemeral", 2, timeout=30))[1].args["text"]
    assert "The paper's value, as you chose: rec-1 due date is now 30 Nov 2026" in said
    assert "1 conflict" in said and "rec-2 due date: the paper says 31 May 2027, Scrutineer has 30 Apr 2027" in said
    one_, two = await item(h, "1"), await item(h, "2")
    assert one_.due == date(2026, 11, 30)   # the paper's, as chosen
    assert two.due == date(2027, 4, 30)     # the officer's, kept by default
    assert one_.text == "Review how new Board members are inducted into their role."
    chosen = await events(h, "import_choice")
    assert [(e.entity_id, e.actor, e.before, e.after) for e in chosen] == [
        (one_.id, "UADMIN", {"due": "2026-10-31"}, {"due": "2026-11-30"})]
    assert [e.entity_id for e in await events(h, "import_conflict")] == [two.id]


async def test_keeping_the_defaults_changes_nothing(h):
    view = await conflicted(h)
    status, body = await h.submit(view, {}, user="UADMIN")
    assert status == 200 and not body
    said = (await h.slack.wait_for("chat.postEphemeral", 2, timeout=30))[1].args["text"]
    assert "Scrutineer's value was kept" in said and "as you chose" not in said
    assert (await item(h, "1")).due == date(2026, 10, 31)
    assert (await item(h, "2")).due == date(2027, 4, 30)
    assert not await events(h, "import_choice")


async def test_a_tampered_choice_imports_nothing(h):
    view = await conflicted(h)
    one = choices(view)[0]
    one["element"]["options"][1]["value"] = '{"ref":1}'
    status, body = await h.submit(view, {(one["block_id"], "value"): '{"ref":1}'}, user="UADMIN")
    assert status == 200 and not body
    said = (await h.slack.wait_for("chat.postEphemeral", 2, timeout=30))[1].args["text"]
    assert said.startswith(":warning:") and "out of date" in said
    assert (await item(h, "1")).due == date(2026, 10, 31)


# ---------------------------------------------------------------- the rules and the limits

def test_column_overrides_keep_earlier_choices_and_name_columns_safely():
    columns = [{"column": 1, "heading": "Ref", "role": "number"},
               {"column": 2, "heading": "Action", "role": "text"},
               {"column": 3, "heading": "Date", "role": "due"},
               {"column": 4, "heading": "Date", "role": None},
               {"column": 5, "heading": "", "role": "position"}]
    assert column_overrides(columns, {1: "number", 2: "text", 3: "due"}) == {}
    assert column_overrides(columns, {4: "revised"}) == {"revised": "4"}   # a heading two columns share
    assert column_overrides(columns, {5: "owner"}, {"revised": "4"}) == {"revised": "4", "owner": "5"}
    assert column_overrides(columns, {2: "position"}, {"owner": "Action"}) == {"position": "Action"}


def test_a_big_paper_with_many_conflicts_stays_within_slacks_block_limit():
    items = [ImportedItem(number=str(n), text=f"Recommendation {n}.", flags=["owner read from the cell contents"])
             for n in range(1, 60)]
    columns = [{"column": n, "heading": f"Heading {n}", "role": "ignore", "how": "heading", "confidence": 0.5}
               for n in range(1, 31)]
    paper = ParsedPaper(items=items, columns=columns, confidence=0.5,
                        problems=[f"problem {n}" for n in range(40)])
    report = ImportReport("r1", unchanged=[f"rec-{n}" for n in range(1, 60)], dry_run=True,
                          conflicts=[Conflict(f"rec-{n}", "due", date(2026, 1, n % 28 + 1), date(2026, 2, 1))
                                     for n in range(1, 60)])
    view = preview_view(ImportForm("C1", "r1"), paper, ["x" * 2900] * 10, report=report)
    assert len(view["blocks"]) <= MAX_BLOCKS
    assert sum(1 for b in view["blocks"] if b.get("block_id", "").startswith("kept_")) == 10
    assert len(choices(view)) == 15 and len(selects(view)) == 15
    text = visible(view)
    assert "…and 44 more, where Scrutineer's value will be kept" in text and "rec-59 due date" in text
    assert "Please check the columns" in text and "…and 15 more columns" in text


async def test_preview_again_reads_an_attached_file_again(h):
    h.slack.add_file("F0COLUMNS1", "tracker.html", html_paper().encode(), "text/html")
    view = await open_form(h, user="UBOB")
    view = await read(h, view, {("review", "value"): "sg2026",
                                ("file", "value"): [{"id": "F0COLUMNS1", "name": "tracker.html"}]})
    assert view["callback_id"] == "import_confirm", visible(view)
    downloads = len(h.slack.calls_to("file_download"))
    again = await preview_again(h, view, {(column_block(view, "Response from"), "value"): "owner"})
    assert len(h.slack.calls_to("file_download")) > downloads   # asked of Slack again, never kept here
    assert "Owners: Head of Governance" in visible(again)
    said = await confirm(h, again)
    assert said.startswith(":white_check_mark: Imported sg2026: 2 new items")
    assert owners(await item(h, "2")) == ["Director of Children's Services"]


def long_paper(rows: int = 60) -> str:
    """A tracker too long to ride in private_metadata, even packed: it rides in the preview's
    input blocks, and must survive Preview again."""
    words = ["induction", "annual", "report", "budget", "training", "carers", "partners", "audit", "review",
             "schools", "health", "housing", "transport", "youth", "safeguarding", "board", "survey"]
    pick = random.Random(12)
    body = ""
    for n in range(1, rows + 1):
        text = " ".join(pick.choice(words) for _ in range(12)).capitalize()
        body += (f"<tr><td>{n}</td><td>{text} ref {pick.randrange(10**8)}.</td><td>Head of Service {n}</td>"
                 f"<td>{n % 28 + 1}/0{n % 9 + 1}/2027</td><td>Ongoing</td></tr>")
    head = "".join(f"<td>{c}</td>" for c in HEADINGS)
    return f"<html><body><table><tr>{head}</tr>{body}</table></body></html>"


async def test_a_long_paste_survives_preview_again(h):
    paper = long_paper()
    view = await preview_paste(h, paper)
    assert any(b.get("block_id", "").startswith("kept_") for b in view["blocks"])
    again = await preview_again(h, view, {(column_block(view, "Response from"), "value"): "owner"})
    assert any(b.get("block_id", "").startswith("kept_") for b in again["blocks"])
    assert "Owners: Head of Service 1 " in visible(again) or "Owners: Head of Service 1\n" in visible(again)
    said = await confirm(h, again)
    assert said.startswith(":white_check_mark: Imported sg2026: 60 new items")
    assert owners(await item(h, "60")) == ["Head of Service 60"]


# ---------------------------------------------------------------- the command line: --take-paper

async def test_cli_take_paper_takes_exactly_the_named_conflicts(h, database_url, tmp_path):
    rows = [("1", "Review how new Board members are inducted.", "Cabinet Member", "30/09/2026", "Ongoing", ""),
            ("2", "Publish the annual report each spring.", "Chairman of the ESCB", "31/03/2027", "", "")]
    path = write_csv(tmp_path / "tracker.csv", rows)
    args = ("import", str(path), "--committee", "cyp", "--review", "sg2026")
    result = await asyncio.to_thread(run_cli, *args, database_url=database_url)
    assert result.returncode == 0, result.stderr
    await update(h, "rec-1 due 31 October 2026")
    await update(h, "rec-2 due 30 April 2027")
    write_csv(path, [(*rows[0][:3], "30/11/2026", *rows[0][4:]), (*rows[1][:3], "31/05/2027", *rows[1][4:])])

    bad = await asyncio.to_thread(run_cli, *args, "--take-paper", "rec-1:colour", database_url=database_url)
    assert bad.returncode == 2 and "--take-paper: “rec-1:colour” should be ref:field" in bad.stderr
    dry = await asyncio.to_thread(run_cli, *args, "--dry-run", "--take-paper", "rec-1:due", database_url=database_url)
    assert dry.returncode == 0, dry.stderr
    assert "the paper's value, as you chose: rec-1 due date is now 30 Nov 2026" in dry.stdout
    assert "conflict: rec-2 due date: the paper says 31 May 2027, Scrutineer has 30 Apr 2027" in dry.stdout
    assert (await item(h, "1")).due == date(2026, 10, 31)   # a dry run stores nothing

    result = await asyncio.to_thread(run_cli, *args, "--take-paper", "rec-1:due", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "The paper's value, as you chose: rec-1 due date is now 30 Nov 2026" in result.stdout
    assert (await item(h, "1")).due == date(2026, 11, 30)
    assert (await item(h, "2")).due == date(2027, 4, 30)
    assert [(e.actor, e.before, e.after) for e in await events(h, "import_choice")] == [
        ("cli", {"due": "2026-10-31"}, {"due": "2026-11-30"})]
