"""/meeting: schedule, show, record decisions and actions arising, close (which queues the digest),
and correct: cancel, move, correct or withdraw a decision."""
from __future__ import annotations

from bot.core.errors import UserError
from bot.services import meetings
from bot.services.parsing import clean, is_help
from bot.slack_ui import items as item_render
from bot.slack_ui import meetings as render
from handlers.replies import ephemeral

VERBS = {"new": "new", "schedule": "new", "decision": "decision", "resolved": "decision",
         "action": "action", "close": "close", "closed": "close", "held": "close",
         "cancel": "cancel", "move": "move", "reschedule": "move", "postpone": "move",
         "updates": "updates", "agenda": "agenda", "drop": "drop", "undrop": "undrop"}


async def meeting_command(ack, command, ctx, db):
    text = clean(command.get("text", ""))
    word, _, rest = text.partition(" ")
    verb, rest = VERBS.get(word.lower()), rest.strip()
    if is_help(text):
        return await ack(**ephemeral(item_render.help_for("meeting")))
    if not text:
        async with db.session() as s:
            msg = render.meeting_card(await meetings.show(s, ctx), ctx.tz)
        return await ack(**ephemeral(msg))
    if verb is None:
        raise UserError(f"I don't know `/meeting {word[:30]}`. Try `/meeting`, `new`, `decision`, `action`, "
                        "`close`, `move`, `cancel`, `updates`, `agenda`, `drop`, `undrop` or `help`.")
    if verb == "updates":
        from bot.services import updates
        from bot.slack_ui import updates as updates_render
        async with db.session() as s:
            msg = updates_render.round_card(await updates.round_of(s, ctx), ctx.tz)
        return await ack(**ephemeral(msg))
    if verb == "agenda":
        from bot.services import agenda
        from bot.slack_ui import agenda as agenda_render
        async with db.session() as s:
            msg = agenda_render.agenda(await agenda.agenda(s, ctx), ctx.tz)
        return await ack(**ephemeral(msg))
    if verb in ("drop", "undrop"):
        from bot.services import agenda
        from bot.slack_ui import agenda as agenda_render
        ref, reason = agenda.parse_drop(rest)
        if verb == "undrop" and reason:
            raise UserError("`/meeting undrop` takes only the item, e.g. `/meeting undrop rec-3`.")
        async with db.session() as s, s.begin():
            if verb == "drop":
                msg = agenda_render.dropped(await agenda.drop(s, ctx, ref, reason), ctx.tz)
            else:
                msg = agenda_render.undropped(await agenda.undrop(s, ctx, ref), ctx.tz)
        return await ack(**ephemeral(msg))
    if verb in ("close", "cancel") and rest:
        raise UserError(f"`/meeting {verb}` takes nothing after it: it {verb}s the meeting `/meeting` shows.")
    async with db.session() as s, s.begin():
        if verb == "new":
            meeting = await meetings.schedule(s, ctx, rest)
            msg = render.scheduled(meeting, meeting.committee, ctx.tz)
        elif verb == "decision" and (edit := meetings.parse_decision_edit(rest)):
            msg = render.decision_edited(await meetings.edit_decision(s, ctx, *edit), ctx.tz)
        elif verb == "decision":
            meeting, decision = await meetings.add_decision(s, ctx, rest)
            msg = render.decision_recorded(meeting, decision, ctx.tz)
        elif verb == "cancel":
            msg = render.cancelled(await meetings.cancel(s, ctx), ctx.tz)
        elif verb == "move":
            msg = render.moved(await meetings.move(s, ctx, rest), ctx.tz)
        elif verb == "action":
            meeting, item = await meetings.add_action(s, ctx, rest)
            msg = render.action_recorded(meeting, item, ctx.today, ctx.tz)
        else:
            msg = render.closed(await meetings.close(s, ctx, render=render), ctx.tz)
    await ack(**ephemeral(msg))


async def post_agenda_button(ack, action, respond, ctx, db):
    """"Post to channel" on `/meeting agenda`: queued to the committee's channel through the outbox."""
    from bot.services import agenda
    from bot.slack_ui import agenda as agenda_render
    await ack()
    meeting_id = agenda_render.meeting_id_of(action.get("value"))
    async with db.session() as s, s.begin():
        posted, newly = await agenda.post_agenda(s, ctx, meeting_id, render=agenda_render)
    await respond(**agenda_render.posted(posted, newly=newly).payload(response_type="ephemeral",
                                                                        replace_original=False))


async def undrop_button(ack, action, respond, ctx, db):
    """Undo on a `/meeting drop` answer: the item goes back on that meeting's agenda."""
    from bot.services import agenda
    from bot.slack_ui import agenda as agenda_render
    await ack()
    meeting_id, item_id = agenda_render.undrop_ids_of(action.get("value"))
    async with db.session() as s, s.begin():
        result = await agenda.undrop(s, ctx, None, meeting_id=meeting_id, item_id=item_id)
    await respond(**agenda_render.undropped(result, ctx.tz).payload(response_type="ephemeral",
                                                                   replace_original=False))


def register(app) -> None:
    app.command("/meeting")(meeting_command)
    app.action("agenda_post")(post_agenda_button)
    app.action("agenda_undrop")(undrop_button)
