"""/meeting: schedule, show, record decisions and actions arising, close (which queues the digest)."""
from __future__ import annotations

from bot import digest as render
from bot import messages
from bot.parsing import clean, is_help
from bot.services import meetings
from bot.services.errors import UserError

VERBS = {"new": "new", "schedule": "new", "decision": "decision", "resolved": "decision",
         "action": "action", "close": "close", "closed": "close", "held": "close"}


def register(app, deps) -> None:
    @app.command("/meeting")
    async def meeting_command(ack, command, context):
        ctx = deps.ctx(context)
        text = clean(command.get("text", ""))
        word, _, rest = text.partition(" ")
        verb, rest = VERBS.get(word.lower()), rest.strip()
        if is_help(text):
            return await ack(**messages.help_for("meeting").payload(response_type="ephemeral"))
        if not text:
            async with deps.db.session() as s:
                msg = render.meeting_card(await meetings.show(s, ctx), ctx.tz)
            return await ack(**msg.payload(response_type="ephemeral"))
        if verb is None:
            raise UserError(f"I don't know `/meeting {word[:30]}`. Try `/meeting`, `new`, `decision`, `action`, "
                            "`close` or `help`.")
        if verb == "close" and rest:
            raise UserError("`/meeting close` takes nothing after it: it closes the current meeting.")
        async with deps.db.session() as s, s.begin():
            if verb == "new":
                meeting = await meetings.schedule(s, ctx, rest)
                msg = render.scheduled(meeting, meeting.committee, ctx.tz)
            elif verb == "decision":
                meeting, decision = await meetings.add_decision(s, ctx, rest)
                msg = render.decision_recorded(meeting, decision, ctx.tz)
            elif verb == "action":
                meeting, item = await meetings.add_action(s, ctx, rest)
                msg = render.action_recorded(meeting, item, ctx.today, ctx.tz)
            else:
                msg = render.closed(await meetings.close(s, ctx), ctx.tz)
        await ack(**msg.payload(response_type="ephemeral"))
