"""Updates asked for before a meeting: "Give update" and its form, Accept / Return (with the
reason's modal) on the officers' DM, and "Chase everyone outstanding" under `/meeting updates`."""
from __future__ import annotations

from bot.core.errors import UserError
from bot.services import items, updates
from bot.slack_ui import updates as render
from bot.slack_ui.forms import submitted
from bot.slack_ui.metadata import ChaseUpdates, GiveUpdate, UpdateReview
from handlers.replies import beside, tell


async def give_button(ack, action, body, client, ctx, db):
    await ack()
    meta = GiveUpdate.loads(action.get("value"))
    async with db.session() as s:
        item = await items.item_to_edit(s, ctx, item_id=meta.item_id)
        prior = await updates.returned_position(s, ctx, meta.returned_id) if meta.returned_id else None
        view = render.give_form(item, meta, prior)
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def give_submitted(ack, view, client, ctx, db):
    values = view["state"]["values"]
    try:
        meta = GiveUpdate.loads(view.get("private_metadata"))
    except UserError as e:
        return await ack(response_action="errors", errors={"position": e.message})
    rag = submitted(values, "rag") or "auto"
    proposal = updates.Proposal(text=(submitted(values, "position") or "").strip() or None,
                                status=submitted(values, "status"), due=submitted(values, "due"), rag=rag,
                                rag_reason=(submitted(values, "rag_reason") or "").strip() or None)
    if rag != "auto" and not proposal.rag_reason:
        return await ack(response_action="errors", errors={"rag_reason": "Say why you are setting the RAG by hand."})
    try:
        async with db.session() as s, s.begin():
            item = await items.load_item(s, ctx, meta.item_id)
            _, flags = await updates.submit(s, ctx, item, proposal, request_id=meta.request_id, render=render)
            msg = render.submitted(item, flags)
    except UserError as e:
        return await ack(response_action="errors", errors={"position": e.message})
    await ack()
    await tell(client, ctx.in_channel(None), msg)


async def accept_button(ack, action, respond, ctx, db):
    await ack()
    meta = UpdateReview.loads(action.get("value"))
    async with db.session() as s, s.begin():
        item, _ = await updates.accept(s, ctx, meta.position_id)
        msg = render.accepted(item)
    await respond(**beside(msg))


async def return_button(ack, action, body, client, ctx, db):
    await ack()
    meta = UpdateReview.loads(action.get("value"))
    async with db.session() as s:
        _, item = await updates._to_review(s, ctx, meta.position_id)   # refuses a non-officer before the form
        view = render.return_form(meta, item.ref)
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def return_submitted(ack, view, client, ctx, db, settings):
    from bot.export.letter_email import update_mail
    try:
        meta = UpdateReview.loads(view.get("private_metadata"))
        async with db.session() as s, s.begin():
            item, _ = await updates.return_update(s, ctx, meta.position_id, submitted(view["state"]["values"], "reason"),
                                                  render=render, mail=update_mail(settings))
            msg = render.was_returned(item)
    except UserError as e:
        return await ack(response_action="errors", errors={"reason": e.message})
    await ack()
    await tell(client, ctx.in_channel(None), msg)


async def chase_button(ack, action, respond, ctx, db):
    await ack()
    meta = ChaseUpdates.loads(action.get("value"))
    async with db.session() as s, s.begin():
        n = await updates.chase(s, ctx, meta.meeting_id, render=render)
    await respond(**beside(render.chased(n)))


def register(app) -> None:
    app.action(render.GIVE_ACTION)(give_button)
    app.action(render.ACCEPT_ACTION)(accept_button)
    app.action(render.RETURN_ACTION)(return_button)
    app.action(render.CHASE_ACTION)(chase_button)
    app.view(render.GIVE_CALLBACK)(give_submitted)
    app.view(render.RETURN_CALLBACK)(return_submitted)
