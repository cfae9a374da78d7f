"""The decision letter: /letter (form, preview, send), /letter status, and the
"Acknowledge receipt" button on each partner-agency contact's copy.

Slack's trigger_id for opening the form lasts 3 s, and a letter can name a dozen people whose
names only Slack knows. So /letter is two listeners, Bolt's ack and lazy: the quick one opens
the form at once with the names the directory has cached (anyone else shown as their mention,
with a note), and only if someone was missing, the lazy one looks them all up together and
shows the named letter with views.update, passing the form's hash so that a form which has
moved on (to the preview) is left alone."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.core.errors import UserError
from bot.export.letter_email import letter_mail
from bot.services import letters
from bot.services.context import Ctx
from bot.services.parsing import clean, is_help
from bot.slack_ui import letters as render
from bot.slack_ui.blocks import Message, Section
from bot.slack_ui.metadata import LetterAck, LetterForm
from handlers.replies import ephemeral

log = logging.getLogger("scrutineer")

NAMING = "letter_naming"   # where the quick listener leaves a _Naming for the lazy one


@dataclass
class _Naming:
    """A letter form opened before every name in it was known: what the lazy listener needs to
    fill them in. Bolt deep-copies a request's context for its lazy listeners; this goes across
    as it is (it holds the directory, whose cache the look-ups fill, and the client)."""
    ctx: Ctx
    client: Any
    draft: letters.Draft
    meta: LetterForm
    view_id: str
    hash: str | None

    def __deepcopy__(self, memo) -> "_Naming":
        return self


def _form_meta(text: str | None) -> LetterForm:
    meta = LetterForm.loads(text)
    if meta.meeting_id is not None and (type(meta.meeting_id) is not int or not 0 < meta.meeting_id < 2**31):
        raise UserError("That form is out of date. Run `/letter` again.")
    return meta


async def letter_command(ack, command, client, context, ctx, db):
    """Quick: open the form at once, asking Slack nothing but views.open."""
    text = clean(command.get("text", ""))
    if is_help(text):
        return await ack(**ephemeral(Message("/letter — the decision letter").add(Section(render.LETTER_HELP))))
    if text.lower() == "status":
        async with db.session() as s:
            msg = render.status_message(*await letters.latest_letter(s, ctx), ctx.tz)
        return await ack(**ephemeral(msg))
    if text:
        raise UserError(f"I don't know `/letter {text[:30]}`. Try `/letter`, `/letter status` or `/letter help`.")
    async with db.session() as s:
        draft = await letters.draft_letter(s, ctx, look_up=False)
        meta = LetterForm(draft.committee.id, draft.meeting.id if draft.meeting else None, ctx.channel_id)
        view = render.letter_view(draft.committee, draft.meeting, draft.text, draft.recipients, meta, ctx.tz,
                                  preview=False, names_pending=bool(draft.pending))
    await ack()
    opened = (await client.views_open(trigger_id=command["trigger_id"], view=view))["view"]
    if draft.pending:
        context[NAMING] = _Naming(ctx, client, draft, meta, opened["id"], opened.get("hash"))


async def fill_in_names(context):
    """Lazy: look up the names the form opened without (all at once), then show the named letter,
    unless the form has changed since (hash_conflict) or been closed: then leave it be."""
    job: _Naming | None = context.get(NAMING)
    if job is None:
        return   # every name was known, or the form wasn't opened
    draft = job.draft
    try:
        text = await letters.named_text(job.ctx, draft)
        view = render.letter_view(draft.committee, draft.meeting, text, draft.recipients, job.meta, job.ctx.tz,
                                  preview=False)
        await job.client.views_update(view_id=job.view_id, hash=job.hash, view=view)
    except SlackApiError as e:   # hash_conflict: moved on to the preview; not_found: closed
        log.info("Left the letter form as it was (%s)", e.response.get("error"))
    except Exception:
        log.exception("Filling the names into the letter form failed")


async def letter_submitted(ack, view, ctx, db, settings):
    """First submit: preview. Send with the previewed text: send. Send with changed text: preview again."""
    values = view["state"]["values"]
    block = render.letter_block(values)   # the draft's block if submitted before the names came
    try:
        meta = _form_meta(view.get("private_metadata"))
        ctx = ctx.in_channel(meta.channel_id)
        text = letters.clean_letter(render.letter_text(values))   # (a long letter is in several inputs)
        async with db.session() as s, s.begin():
            committee, meeting, recipients = await letters.load_for_form(s, ctx, meta.committee_id, meta.meeting_id)
            digest = letters.text_hash(text)
            if meta.previewed != digest:
                note = None if meta.previewed is None else (
                    "You changed the letter, so here is the new preview. Press Send when it reads right.")
                new_meta = LetterForm(meta.committee_id, meta.meeting_id, meta.channel_id, digest)
                answer = render.letter_view(committee, meeting, text, recipients, new_meta, ctx.tz,
                                            preview=True, note=note)
            else:
                letter, _ = await letters.send_letter(s, ctx, committee, meeting, text, render=render,
                                                      mail=letter_mail(settings))
                answer = render.sent_view(letter, committee)
    except UserError as e:  # say so in the form rather than close it
        return await ack(response_action="errors", errors={block: e.message})
    await ack(response_action="update", view=answer)


async def acknowledge_button(ack, action, respond, ctx, db):
    await ack()
    meta = LetterAck.loads(action.get("value"))
    async with db.session() as s, s.begin():
        done = await letters.acknowledge(s, ctx, meta.recipient_id)
        msg = render.ack_result(done.letter, done.committee, done.meeting, done.recipient, done.newly, ctx.tz)
    await respond(**msg.payload(replace_original=True))


def register(app) -> None:
    app.command("/letter")(ack=letter_command, lazy=[fill_in_names])
    app.view(render.LETTER_CALLBACK)(letter_submitted)
    app.action(render.ACK_ACTION)(acknowledge_button)
