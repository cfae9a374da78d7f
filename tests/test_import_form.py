"""/scrutiny import: the form, its preview, and confirming or cancelling it — as the chair,
officers, admins and a member who may not import use it, with pasted text and a file.

Sending the form is answered at once with a "Reading…" view; the preview (or the form again,
saying what was wrong) replaces it by views.update once the paper has been read."""
from __future__ import annotations

from datetime import date

import pytest_asyncio
from sqlalchemy import func, select

from bot.core.text import clean_text
from bot.importing import PaperFormatError, parse_paper
from models.tables import Item, Position
from tests.harness import visible_text

CYP = "Children and Young People Scrutiny Committee"
# Our own test paper (not a published one): 13 recommendations as a CSV tracker.
CSV_PAPER = "Ref,Recommendation,Owner,Due date,Status,Position\n" + "".join(
    f'{n},"Test recommendation number {n} about foster carer training, part {n}.",'
    f'{"Cabinet Member" if n % 2 else "Chairman of the ESCB"},30/09/2010,'
    f'{"Completed" if n % 3 == 0 else "Ongoing"},"Position {n}: work reported to the committee."\n'
    for n in range(1, 14))
JUNK = "\x00\x01 nothing here at all \x02"


@pytest_asyncio.fixture
async def world(harness):
    h = harness
    r = await h.command("/scrutiny", f"setup cyp {CYP}", user="UADMIN", channel="CCYP")
    assert "bound to the new committee" in r.text
    await h.command("/scrutiny", "role chair <@UALICE|alice>", user="UADMIN", channel="CCYP")
    await h.command("/scrutiny", "role officer <@UBOB|bob>", user="UADMIN", channel="CCYP")
    return h


async def count(h, model=Item) -> int:
    async with h.db.session() as s:
        return await s.scalar(select(func.count()).select_from(model))


async def open_form(h, user="UBOB", text="import sg2010", n=1) -> dict:
    await h.command("/scrutiny", text, user=user, channel="CCYP", expect_reply=False)
    view = await h.opened_view(n)
    assert view["callback_id"] == "import_paper"
    return view


async def read(h, view: dict, answers: dict, user="UBOB") -> dict:
    """Send the form: the answer is the Reading view; return the view that replaces it."""
    before = len(h.slack.calls_to("views.update"))
    status, body = await h.submit(view, answers, user=user)
    assert status == 200 and body and body["response_action"] == "update", body
    assert body["view"]["callback_id"] == "import_reading" and "submit" not in body["view"]
    assert "Reading" in visible(body["view"])
    call = (await h.slack.wait_for("views.update", before + 1, timeout=30))[before]
    assert call.args["view_id"] == view["id"] and not call.failed
    return call.response["view"]


async def preview(h, answers: dict, user="UBOB", n=1) -> dict:
    view = await open_form(h, user=user, n=n)
    shown = await read(h, view, answers, user=user)
    assert shown["callback_id"] == "import_confirm", visible(shown)
    return shown


def visible(view: dict) -> str:
    return visible_text(view["blocks"])


async def confirm(h, view: dict, user="UBOB", n=1) -> str:
    status, body = await h.submit(view, {}, user=user)
    assert status == 200 and not body, body
    calls = await h.slack.wait_for("chat.postEphemeral", n, timeout=30)
    call = calls[n - 1]
    assert call.args["channel"] == "CCYP" and call.args["user"] == user
    return call.args["text"]


def check_preview(view: dict) -> None:
    assert len(view["blocks"]) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in view["blocks"])
    assert view["submit"]["text"] == "Import" and view["close"]["text"] == "Cancel"


async def test_member_who_is_not_chair_officer_or_admin_is_refused(world):
    h = world
    r = await h.command("/scrutiny", "import sg2010", user="UDAVE", channel="CCYP")
    assert r.ephemeral and r.visible.startswith(":warning: Only the committee's chair and officers, or an admin")
    assert not h.slack.calls_to("views.open")


async def test_paste_csv_preview_then_confirm_then_again(world):
    h = world
    view = await preview(h, {("review", "value"): "sg2010", ("paste", "value"): CSV_PAPER})
    check_preview(view)
    text = visible(view)
    assert "Found 13 recommendations" in text and "`sg2010`" in text
    assert "*7* Test recommendation number 7" in text and "Cabinet Member" in text and "30 Sep 2010" in text
    assert await count(h) == 0  # nothing stored yet
    said = await confirm(h, view)
    assert said.startswith(":white_check_mark: Imported sg2010: 13 new items, 13 positions added")
    assert await count(h) == 13 and await count(h, Position) == 13
    said = await confirm(h, view, n=2)  # the same paper again changes nothing
    assert "sg2010: nothing changed (13 items unchanged)" in said
    assert await count(h) == 13


async def test_paste_seed_paper(world, seed_002):
    h = world
    text = seed_002.read_text(encoding="utf-8")
    view = await preview(h, {("review", "value"): "sg2010", ("paste", "value"): text}, user="UALICE")
    check_preview(view)
    assert "Found 13 recommendations" in visible(view)
    assert any(b.get("block_id", "").startswith("kept_") for b in view["blocks"])  # too long for metadata
    assert await count(h) == 0
    said = await confirm(h, view, user="UALICE")
    assert "Imported sg2010: 13 new" in said
    assert await count(h) == 13


async def test_file_upload_is_downloaded_with_the_bot_token(world):
    h = world
    h.slack.add_file("F0IMPORT1", "tracker.csv", CSV_PAPER.encode(), "text/csv")
    view = await preview(h, {("review", "value"): "SG2010", ("file", "value"): [{"id": "F0IMPORT1", "name": "tracker.csv"}]},
                         user="UADMIN")
    check_preview(view)
    assert "Found 13 recommendations" in visible(view)
    assert h.slack.calls_to("files.info")
    downloads = h.slack.calls_to("file_download")
    assert downloads and downloads[-1].token == "xoxb-test" and not downloads[-1].failed
    assert await count(h) == 0
    said = await confirm(h, view, user="UADMIN")
    assert "Imported sg2010: 13 new" in said
    assert await count(h) == 13


async def test_neither_or_both_is_a_form_error(world):
    h = world
    view = await open_form(h)
    status, body = await h.submit(view, {("review", "value"): "sg2010"}, user="UBOB")
    assert body["response_action"] == "errors" and "paste" in body["errors"]
    h.slack.add_file("F0IMPORT2", "tracker.csv", CSV_PAPER.encode(), "text/csv")
    status, body = await h.submit(view, {("review", "value"): "sg2010", ("paste", "value"): CSV_PAPER,
                                         ("file", "value"): [{"id": "F0IMPORT2", "name": "tracker.csv"}]}, user="UBOB")
    assert body["response_action"] == "errors" and "not both" in body["errors"]["paste"]
    status, body = await h.submit(view, {("review", "value"): "no good!", ("paste", "value"): CSV_PAPER}, user="UBOB")
    assert body["response_action"] == "errors" and "review" in body["errors"]
    assert await count(h) == 0


async def test_unreadable_paper_is_a_form_error_with_the_one_line_message(world):
    h = world
    try:   # the paste as the app receives it: control characters are dropped at the boundary
        parse_paper(clean_text(JUNK), today=date(2026, 6, 1))
        expected = None
    except PaperFormatError as e:
        expected = str(e)
    view = await open_form(h)
    shown = await read(h, view, {("review", "value"): "sg2010", ("paste", "value"): JUNK})
    assert shown["callback_id"] == "import_paper"   # the form again, filled in, saying why
    said = shown["blocks"][0]["text"]["text"]
    assert said.startswith(":warning: ")
    message = said.removeprefix(":warning: ").split("\n\n")[0]
    assert "\n" not in message
    if expected:
        assert message == expected
    review = next(b for b in shown["blocks"] if b.get("block_id") == "review")
    assert review["element"]["initial_value"] == "sg2010"
    assert await count(h) == 0


async def test_cancel_after_preview_stores_nothing(world):
    h = world
    await preview(h, {("review", "value"): "sg2010", ("paste", "value"): CSV_PAPER})
    await h.settle()
    assert await count(h) == 0
    assert not h.slack.calls_to("chat.postEphemeral")
