"""Modal submissions."""
from __future__ import annotations

import re

from slack_sdk.errors import SlackApiError

from bot import messages
from bot.forms import UPDATE_CALLBACK, submitted
from bot.metadata import UpdateForm
from bot.services import items
from bot.services.errors import UserError
from bot.services.items import ItemChanges


def register(app, deps) -> None:
    @app.view(UPDATE_CALLBACK)
    async def update_submitted(ack, view, client, context):
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
        owners = [n for n in owners if n] + [("user", u) for u in submitted(values, "people")]
        if not owners:
            return await ack(response_action="errors", errors={"owners": "Name at least one owning role or person."})
        due = submitted(values, "due")
        changes = ItemChanges(position=(submitted(values, "position") or "").strip() or None,
                              status=submitted(values, "status"), due=due, clear_due=due is None,
                              owners=owners, rag=rag, rag_reason=reason or None)
        ctx = deps.ctx(context, channel_id=meta.channel_id)
        try:
            async with deps.db.session() as s, s.begin():
                item = await items.load_item(s, ctx, meta.item_id)
                changed = await items.apply_changes(s, ctx, item, changes)
                msg = messages.update_result(item, changed, await items.latest_position(s, item), ctx.today)
        except UserError as e:
            return await ack(response_action="errors", errors={"position": e.message})
        await ack()
        await tell(client, ctx, msg)


async def tell(client, ctx, msg) -> None:
    """Say something privately to the person, where they were if we know, else in a DM."""
    if ctx.channel_id:
        try:
            await client.chat_postEphemeral(channel=ctx.channel_id, user=ctx.user_id, **msg.payload())
            return
        except SlackApiError:
            pass
    await client.chat_postMessage(channel=ctx.user_id, **msg.payload())
