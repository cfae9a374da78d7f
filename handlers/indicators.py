"""/indicator: a committee's performance indicators — list them, add one, change one's owner or
target, record a figure for a period (again for the same period: a correction), and one
indicator's figures by period."""
from __future__ import annotations

from bot.core.errors import UserError
from bot.export.indicator_chart import upload_history_chart
from bot.services import indicators
from bot.services.parsing import clean, is_help
from bot.slack_ui import indicators as render
from bot.slack_ui import items as item_render
from handlers.replies import ephemeral


async def indicator_command(ack, command, client, ctx, db):
    text = clean(command.get("text", ""))
    word, _, rest = text.partition(" ")
    verb, rest = word.lower(), rest.strip()
    if is_help(text):
        return await ack(**ephemeral(item_render.help_for("indicator")))
    if verb in ("add", "new", "rec", "record", "set", "change"):
        async with db.session() as s, s.begin():
            if verb in ("add", "new"):
                msg = render.added(await indicators.add(s, ctx, rest))
            elif verb in ("set", "change"):
                msg = render.changed(await indicators.change(s, ctx, rest))
            else:
                msg = render.recorded(await indicators.record(s, ctx, rest))
        return await ack(**ephemeral(msg))
    chart_of = None
    async with db.session() as s:
        if not text:
            msg = render.board(await indicators.board(s, ctx))
        elif text.lower().endswith(" history") or text.lower() == "history":
            chart_of = await indicators.history(s, ctx, text[:-len("history")].strip())
            msg = render.history(chart_of)
        else:
            raise UserError(f"I don't know `/indicator {text[:40]}`. Try `/indicator`, `add`, `rec`, `set`, "
                            "`<name> history` or `help`.")
    await ack(**ephemeral(msg))
    # The figures answer at once; their chart then goes to the channel (files upload v2).
    if chart_of is not None and (note := await upload_history_chart(ctx, client, chart_of)):
        await client.chat_postEphemeral(channel=ctx.channel_id, user=ctx.user_id, text=note)


def register(app) -> None:
    app.command("/indicator")(indicator_command)
