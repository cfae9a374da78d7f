"""Buttons on Scrutineer's messages."""
from __future__ import annotations

from bot import messages
from bot.forms import update_form
from bot.metadata import ItemRef, UpdateForm
from bot.services import items
from bot.services.items import ItemFilter
from bot.services.errors import UserError


def register(app, deps) -> None:
    @app.action("item_view")
    async def view_item(ack, action, respond, context):
        await ack()
        ctx = deps.ctx(context)
        ref = ItemRef.loads(action.get("value"))
        item = await items.find_by_id(deps.db, ctx, ref.item_id)
        msg = messages.item_card(item, item.latest, ctx.today)
        await respond(**msg.payload(response_type="ephemeral", replace_original=False))

    @app.action("item_history")
    async def item_history(ack, action, respond, context):
        await ack()
        ctx = deps.ctx(context)
        ref = ItemRef.loads(action.get("value"))
        item = await items.find_by_id(deps.db, ctx, ref.item_id)
        msg = messages.history(item, await items.positions_of(deps.db, item), ctx.today)
        await respond(**msg.payload(response_type="ephemeral", replace_original=False))

    @app.action("item_update")
    async def item_update(ack, action, body, client, context):
        await ack()
        ctx = deps.ctx(context)
        ref = ItemRef.loads(action.get("value"))
        async with deps.db.session() as s:
            item = await items.load_item(s, ctx, ref.item_id)
            await items.require_can_update(s, ctx, item)
            view = update_form(item, UpdateForm(item.id, ctx.channel_id))
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action("list_more")
    async def list_more(ack, action, respond, context):
        await ack()
        ctx = deps.ctx(context)
        try:
            filt = ItemFilter.from_json(action.get("value") or "")
        except (TypeError, ValueError):
            raise UserError("That list is out of date. Run `/actions` again.") from None
        page = await items.list_items(deps.db, ctx, filt)
        msg = messages.item_list(page, ctx.today, in_dm=ctx.in_dm)
        await respond(**msg.payload(response_type="ephemeral", replace_original=False))
