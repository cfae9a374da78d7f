"""The decision letter: /letter (form, preview, send), /letter status, and the
"Acknowledge receipt" button on each partner-agency contact's copy."""
from __future__ import annotations

from bot import letter_messages as render
from bot.forms import submitted
from bot.metadata import LetterAck, LetterForm
from bot.parsing import clean, is_help
from bot.render import Message, Section
from bot.services import letters
from bot.services.errors import UserError
from models.meetings import Meeting
from models.tables import Committee


def _form_meta(text: str | None) -> LetterForm:
    meta = LetterForm.loads(text)
    if meta.meeting_id is not None and (type(meta.meeting_id) is not int or not 0 < meta.meeting_id < 2**31):
        raise UserError("That form is out of date. Run `/letter` again.")
    return meta


def register(app, deps) -> None:
    @app.command("/letter")
    async def letter_command(ack, command, context, client):
        ctx = deps.ctx(context)
        text = clean(command.get("text", ""))
        if is_help(text):
            return await ack(**Message("/letter — the decision letter").add(Section(render.LETTER_HELP))
                                 .payload(response_type="ephemeral"))
        if text.lower() == "status":
            async with deps.db.session() as s:
                committee, letter = await letters.latest_letter(s, ctx)
                meeting = await s.get(Meeting, letter.meeting_id) if letter and letter.meeting_id else None
                msg = render.status_message(committee, letter, meeting, ctx.tz)
            return await ack(**msg.payload(response_type="ephemeral"))
        if text:
            raise UserError(f"I don't know `/letter {text[:30]}`. Try `/letter`, `/letter status` or `/letter help`.")
        async with deps.db.session() as s:
            draft = await letters.draft_letter(s, ctx)
            meta = LetterForm(draft.committee.id, draft.meeting.id if draft.meeting else None, ctx.channel_id)
            view = render.letter_view(draft.committee, draft.meeting, draft.text, draft.recipients, meta, ctx.tz,
                                      preview=False)
        await ack()
        await client.views_open(trigger_id=command["trigger_id"], view=view)

    @app.view(render.LETTER_CALLBACK)
    async def letter_submitted(ack, view, context):
        """First submit: preview. Send with the previewed text: send. Send with changed text: preview again."""
        try:
            meta = _form_meta(view.get("private_metadata"))
            ctx = deps.ctx(context, channel_id=meta.channel_id)
            text = letters.clean_letter(submitted(view["state"]["values"], "letter"))
            async with deps.db.session() as s, s.begin():
                committee, meeting, recipients = await letters.load_for_form(s, ctx, meta.committee_id, meta.meeting_id)
                digest = letters.text_hash(text)
                if meta.previewed != digest:
                    note = None if meta.previewed is None else (
                        "You changed the letter, so here is the new preview. Press Send when it reads right.")
                    new_meta = LetterForm(meta.committee_id, meta.meeting_id, meta.channel_id, digest)
                    answer = render.letter_view(committee, meeting, text, recipients, new_meta, ctx.tz,
                                                preview=True, note=note)
                else:
                    letter, _ = await letters.send_letter(s, ctx, committee, meeting, text)
                    answer = render.sent_view(letter, committee)
        except UserError as e:  # say so in the form rather than close it
            return await ack(response_action="errors", errors={"letter": e.message})
        await ack(response_action="update", view=answer)

    @app.action(render.ACK_ACTION)
    async def acknowledge(ack, action, respond, context):
        await ack()
        ctx = deps.ctx(context)
        meta = LetterAck.loads(action.get("value"))
        async with deps.db.session() as s, s.begin():
            letter, recipient, newly = await letters.acknowledge(s, ctx, meta.recipient_id)
            committee = await s.get(Committee, letter.committee_id)
            meeting = await s.get(Meeting, letter.meeting_id) if letter.meeting_id else None
            msg = render.ack_result(letter, committee, meeting, recipient, newly, ctx.tz)
        await respond(**msg.payload(replace_original=True))
