"""Items: /actions, /position, /update, the buttons on item messages and reminders
(View, History, Update, More, Snooze) and the update form's submission."""
from __future__ import annotations

import re
from dataclasses import replace

from bot.core.errors import UserError
from bot.services import items, reminders, saved
from bot.services.items import ItemChanges, ItemFilter
from bot.services.parsing import clean, is_help, parse_actions, parse_update
from bot.slack_ui import items as render
from bot.slack_ui import reminders as reminder_render
from bot.slack_ui.forms import UPDATE_CALLBACK, submitted, update_form
from bot.slack_ui.metadata import ItemRef, UpdateForm
from handlers.replies import beside, ephemeral, tell


async def actions_command(ack, command, ctx, db):
    if is_help(command.get("text", "")):
        return await ack(**ephemeral(render.help_for("actions")))
    filt = parse_actions(command.get("text", ""), ctx.today)
    page = await items.list_items(db, ctx, filt)
    await ack(**ephemeral(render.item_list(page, ctx.today, in_dm=ctx.in_dm, more_value=await _more_value(db, ctx, page))))


BUTTON_ROOM = 2000   # a button's value holds 2,000 characters
SAVED_FILTER = "item_filter"


async def _more_value(db, ctx, page) -> str | None:
    """The More button's value when the next page's filter is too long for a button (a long
    search, say): kept server-side, and the button carries its key. None when it fits."""
    if not page.has_more:
        return None
    value = replace(page.filter, offset=page.offset + len(page.items)).to_json()
    if len(value) <= BUTTON_ROOM:
        return None
    async with db.session() as s, s.begin():
        return await saved.save(s, team_id=ctx.team_id, kind=SAVED_FILTER, payload=value, now=ctx.now)


async def position_command(ack, command, ctx, db):
    text = clean(command.get("text", ""))
    if not text or is_help(text):
        return await ack(**ephemeral(render.help_for("position")))
    words = text.split()
    want_history = len(words) > 1 and words[-1].lower() == "history"
    ref = " ".join(words[:-1] if want_history else words)
    item = await items.find(db, ctx, ref)
    if want_history:
        msg = render.history(item, await items.positions_of(db, item), ctx.today)
    else:
        msg = render.item_card(item, item.latest, ctx.today)
    await ack(**ephemeral(msg))


async def update_command(ack, command, client, ctx, db):
    if is_help(command.get("text", "")):
        return await ack(**ephemeral(render.help_for("update")))
    req = parse_update(command.get("text", ""), ctx.today)
    if req.changes is not None:
        msg = render.update_result(*await items.update(db, ctx, req.ref, req.changes), ctx.today)
        return await ack(**ephemeral(msg))
    async with db.session() as s:
        item = await items.item_to_edit(s, ctx, ref=req.ref)
        view = update_form(item, UpdateForm(item.id, ctx.channel_id))
    await ack()
    await client.views_open(trigger_id=command["trigger_id"], view=view)


async def view_button(ack, action, respond, ctx, db):
    await ack()
    item = await items.find_by_id(db, ctx, ItemRef.loads(action.get("value")).item_id)
    await respond(**beside(render.item_card(item, item.latest, ctx.today)))


async def history_button(ack, action, respond, ctx, db):
    await ack()
    item = await items.find_by_id(db, ctx, ItemRef.loads(action.get("value")).item_id)
    await respond(**beside(render.history(item, await items.positions_of(db, item), ctx.today)))


async def update_button(ack, action, body, client, ctx, db):
    await ack()
    ref = ItemRef.loads(action.get("value"))
    async with db.session() as s:
        item = await items.item_to_edit(s, ctx, item_id=ref.item_id)
        view = update_form(item, UpdateForm(item.id, ctx.channel_id))
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def more_button(ack, action, respond, ctx, db):
    await ack()
    value = action.get("value") or ""
    if saved.is_key(value):   # a long filter, kept server-side (checked against the team)
        async with db.session() as s:
            value = await saved.load(s, value, team_id=ctx.team_id, kind=SAVED_FILTER, now=ctx.now)
    try:
        filt = ItemFilter.from_json(value if isinstance(value, str) else "")
    except (TypeError, ValueError):
        raise UserError("That list is out of date. Run `/actions` again.") from None
    page = await items.list_items(db, ctx, filt)
    await respond(**beside(render.item_list(page, ctx.today, in_dm=ctx.in_dm,
                                            more_value=await _more_value(db, ctx, page))))


async def snooze_button(ack, action, respond, ctx, db):
    await ack()
    ref = ItemRef.loads(action.get("value"))
    async with db.session() as s, s.begin():
        item = await items.load_item(s, ctx, ref.item_id)
        until, newly = await reminders.snooze(s, ctx, item)
        msg = reminder_render.snoozed(item, until, ctx.today, already=not newly)
    await respond(**msg.payload(replace_original=True))


async def update_submitted(ack, view, client, ctx, db):
    values = view["state"]["values"]
    try:
        meta = UpdateForm.loads(view.get("private_metadata"))
    except UserError as e:  # stale or tampered: say so in the form rather than close it silently
        return await ack(response_action="errors", errors={"position": e.message})
    rag = submitted(values, "rag") or "auto"
    reason = (submitted(values, "rag_reason") or "").strip()
    if rag != "auto" and not reason:
        return await ack(response_action="errors", errors={"rag_reason": "Say why you are setting the RAG by hand."})
    # One role per ";" (or line), as the form's hint says: names such as "Cabinet Member for
    # Children and Young People" keep their "and" and commas.
    owners = [n.strip().strip('"“”').strip() for n in re.split(r"[;\n]", submitted(values, "owners") or "")]
    owners = [n for n in owners if n] + [("user", u) for u in submitted(values, "people") or []]
    if not owners:
        return await ack(response_action="errors", errors={"owners": "Name at least one owning role or person."})
    try:
        due = submitted(values, "due")
    except UserError as e:
        return await ack(response_action="errors", errors={"due": e.message})
    changes = ItemChanges(position=(submitted(values, "position") or "").strip() or None,
                          status=submitted(values, "status"), due=due, clear_due=due is None,
                          owners=owners, rag=rag, rag_reason=reason or None)
    ctx = ctx.in_channel(meta.channel_id)
    try:
        async with db.session() as s, s.begin():
            item = await items.load_item(s, ctx, meta.item_id)
            changed = await items.apply_changes(s, ctx, item, changes)
            msg = render.update_result(item, changed, await items.latest_position(s, item), ctx.today)
    except UserError as e:
        return await ack(response_action="errors", errors={"position": e.message})
    await ack()
    await tell(client, ctx, msg)


def register(app) -> None:
    app.command("/actions")(actions_command)
    app.command("/position")(position_command)
    app.command("/update")(update_command)
    app.action(render.VIEW_ACTION)(view_button)
    app.action(render.HISTORY_ACTION)(history_button)
    app.action(render.UPDATE_ACTION)(update_button)
    app.action(render.MORE_ACTION)(more_button)
    app.action(reminder_render.SNOOZE_ACTION)(snooze_button)
    app.view(UPDATE_CALLBACK)(update_submitted)
