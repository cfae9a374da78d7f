"""/watch: be told of an item's changes without owning it; the Watch button on an item card; and
the buttons on an escalation (Chase the owner; Record a revised date is the update form's)."""
from __future__ import annotations

from bot.core.errors import UserError
from bot.services import escalations, items, watchers
from bot.services.parsing import clean, is_help
from bot.slack_ui import carry as render
from bot.slack_ui import items as item_render
from bot.slack_ui import reminders as reminder_render
from bot.slack_ui.metadata import ItemRef
from handlers.replies import beside, ephemeral

OFF_WORDS = ("off", "stop", "unwatch", "remove", "no")


async def watch_command(ack, command, ctx, db):
    text = clean(command.get("text", ""))
    if is_help(text):
        return await ack(**ephemeral(item_render.help_for("watch")))
    if not text:
        return await ack(**ephemeral(render.watch_list(await watchers.watched(db, ctx), ctx.today)))
    words = text.split()
    off = len(words) > 1 and words[-1].lower() in OFF_WORDS
    ref = " ".join(words[:-1] if off else words)
    if len(ref.split()) > 1:
        raise UserError("Name one item: `/watch rec-10`, or `/watch rec-10 off` to stop.")
    item = await items.find(db, ctx, ref)
    await ack(**ephemeral(await _set_watching(db, ctx, item, not off)))


async def _set_watching(db, ctx, item, on: bool):
    """Start or stop watching an item; the reply to show."""
    async with db.session() as s, s.begin():
        if on:
            return render.now_watching(item, newly=await watchers.watch(s, ctx, item))
        return render.stopped_watching(item, was=await watchers.unwatch(s, ctx, item))


async def watch_button(ack, action, respond, ctx, db):
    await ack()
    item = await items.find_by_id(db, ctx, ItemRef.loads(action.get("value")).item_id)
    await respond(**beside(await _set_watching(db, ctx, item, True)))


async def unwatch_button(ack, action, respond, ctx, db):
    await ack()
    item = await items.find_by_id(db, ctx, ItemRef.loads(action.get("value")).item_id)
    await respond(**beside(await _set_watching(db, ctx, item, False)))


async def chase_button(ack, action, respond, ctx, db):
    await ack()
    item = await items.find_by_id(db, ctx, ItemRef.loads(action.get("value")).item_id)
    async with db.session() as s, s.begin():
        users = await escalations.chase(s, ctx, item, render=reminder_render)
    await respond(**beside(render.chased(item, users)))


def register(app) -> None:
    watchers.use_renderer(render)   # how watchers' DMs, queued by the rules, are drawn
    app.command("/watch")(watch_command)
    app.action(item_render.WATCH_ACTION)(watch_button)
    app.action(render.UNWATCH_ACTION)(unwatch_button)
    app.action(render.CHASE_ACTION)(chase_button)
