"""What Scrutineer says about partner agencies and decision letters, and the letter form."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.services.letters import PlannedRecipient, contact_label, long_date
from bot.slack_ui.blocks import Actions, Button, Context, Divider, Header, Message, Section, clip, escape
from bot.slack_ui.metadata import LetterAck, LetterForm
from models.meetings import Agency, Letter, LetterRecipient, Meeting
from models.reads import CommitteeRow
from models.tables import Committee

LETTER_CALLBACK = "letter_form"
ACK_ACTION = "letter_ack"
# The letter's input block. A form opened before every name was known shows the draft in
# LETTER_DRAFT_BLOCK; the named text that replaces it (views.update) is in LETTER_BLOCK.
# Slack keeps what an input shows while its block_id stays the same, so a new initial_value
# only appears under a new block_id.
LETTER_BLOCK = "letter"
LETTER_DRAFT_BLOCK = "letter_draft"
NAMES_PENDING_BLOCK = "names_pending"
CHUNK = 2900

LETTER_HELP = ("*/letter* — the decision letter after a meeting (the committee's chair and officers)\n"
               "• `/letter` — a form prefilled from the last meeting: decisions, then actions by owner; "
               "edit, preview, send to the channel, each partner-agency contact (with an “Acknowledge receipt” "
               "button) and the committee officers\n"
               "• `/letter status` — who has received and acknowledged the last letter\n"
               "• Partner agencies and their contacts: `/scrutiny agency add \"Essex Police\" @bob` · `/scrutiny agencies`\n"
               "The chair gets a DM listing who hasn't acknowledged after 3 working days.")

# Mentions of people and channels survive escaping; @here/@channel deliberately do not.
_ESCAPED_MENTION = re.compile(r"&lt;((?:@[UW][A-Z0-9]+|#C[A-Z0-9]+)(?:\|[^&<>]*)?)&gt;")


def letter_mrkdwn(text: str) -> str:
    """The chair's text, escaped for mrkdwn, but with Slack mentions (<@U123>) kept working."""
    return _ESCAPED_MENTION.sub(r"<\1>", escape(text))


def _chunks(text: str, size: int = CHUNK) -> list[str]:
    """Paragraph-sized pieces that fit a section block."""
    out, current = [], ""
    for para in text.split("\n\n"):
        while len(para) > size:
            out.append(para[:size])
            para = para[size:]
        if current and len(current) + 2 + len(para) > size:
            out.append(current)
            current = para
        else:
            current = f"{current}\n\n{para}" if current else para
    if current:
        out.append(current)
    return out or [" "]


def letter_sections(text: str) -> list[Section]:
    return [Section(chunk) for chunk in _chunks(letter_mrkdwn(text))]


def local_time(at: datetime | None, tz: ZoneInfo) -> str:
    if at is None:
        return ""
    local = at.astimezone(tz)
    return f"{local.day} {local:%b %Y %H:%M}"


def meeting_phrase(meeting: Meeting | None, tz: ZoneInfo) -> str:
    return f"the meeting of {long_date(meeting.starts_at.astimezone(tz).date())}" if meeting else "the meeting"


def _agencies_of(recipients) -> list[str]:
    return list(dict.fromkeys(r.agency for r in recipients if r.kind == "contact" and r.agency))


def recipient_line(r) -> str:
    who = f"<@{r.user_id}>" if r.user_id else escape(contact_label(r))
    if r.kind == "channel":
        return f"• <#{r.channel_id}> — posted in the committee channel"
    if r.kind == "officer":
        return f"• Committee officer: {who} — " + ("copy by DM" if r.user_id else "*send by email*")
    return f"• {escape(r.agency or 'Partner agency')}: {who} — " + (
        "DM with “Acknowledge receipt”" if r.user_id else "*send by email*")


# ---- agencies -----------------------------------------------------------------------------

def agency_added(agency: Agency, created: bool, added: list) -> Message:
    contacts = ", ".join(recipient_label(c) for c in agency.contacts if c.active) or "_no contacts yet_"
    if created:
        head = f":white_check_mark: Added partner agency *{escape(agency.name)}*."
    elif added:
        head = f":white_check_mark: Added {len(added)} contact{'s' if len(added) != 1 else ''} to *{escape(agency.name)}*."
    else:
        head = f"Nothing changed: *{escape(agency.name)}* already has those contacts."
    text = f"{head}\nContacts: {contacts}"
    if not any(c.active for c in agency.contacts):
        text += '\nAdd one with `/scrutiny agency add "' + escape(agency.name) + '" @someone`.'
    return Message(re.sub(r"[*_]", "", head)).add(Section(text))


def recipient_label(c) -> str:
    """A contact for Slack: a mention, or the escaped name and address, marked email-only."""
    if c.user_id:
        return f"<@{c.user_id}>"
    return f"{escape(contact_label(c))} (send by email)"


def agencies_list(committee: CommitteeRow, agencies: list[Agency]) -> Message:
    if not agencies:
        return Message(f"No partner agencies for {committee.name} yet.").add(Section(
            f"No partner agencies for *{escape(committee.name)}* yet. Add one with "
            '`/scrutiny agency add "Essex Police" @bob`.'))
    lines = []
    for a in agencies:
        contacts = ", ".join(recipient_label(c) for c in a.contacts if c.active) or "_no contacts yet_"
        lines.append(f"• *{escape(a.name)}*: {contacts}")
    heading = f"Partner agencies of {committee.name} ({len(agencies)})"
    msg = Message(heading).add(Section(f"*{escape(heading)}*"))
    for start in range(0, len(lines), 25):
        msg.add(Section("\n".join(lines[start:start + 25])))
    return msg.add(Context("Their contacts receive the decision letter after each meeting (`/letter`)."))


# ---- the form -------------------------------------------------------------------------------

def letter_block(values: dict) -> str:
    """The block_id of the letter's input in a submitted form's state values."""
    return LETTER_DRAFT_BLOCK if LETTER_DRAFT_BLOCK in values and LETTER_BLOCK not in values else LETTER_BLOCK


def letter_view(committee: Committee | CommitteeRow, meeting: Meeting | None, text: str,
                recipients: list[PlannedRecipient], meta: LetterForm, tz: ZoneInfo, *, preview: bool,
                note: str | None = None, names_pending: bool = False) -> dict:
    """Step 1 (edit; submit = Preview) or step 2 (the letter as sent, its recipients; submit = Send).
    The text stays editable in step 2: changing it and pressing Send shows a fresh preview first.
    names_pending: step 1 opened while some names are still being looked up (they show as
    mentions, and a note says they will be filled in)."""
    about = f"*{escape(committee.name)}* · decision letter after {meeting_phrase(meeting, tz)}"
    blocks: list[dict] = []
    if preview:
        blocks.append({"type": "section", "block_id": "preview_head", "text": {"type": "mrkdwn", "text": clip(
            f"*Preview* — {about}\n{note or 'This is what recipients will see. Press Send to send it.'}", 3000)}})
        blocks.append({"type": "divider"})
        blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": s.text}} for s in letter_sections(text)]
        blocks.append({"type": "divider"})
        lines = [recipient_line(r) for r in recipients] or ["_Nobody yet: add partner agencies with `/scrutiny agency add`._"]
        for start in range(0, len(lines), 30):
            head = f"*Recipients ({len(recipients)})*\n" if start == 0 else ""
            blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                       "text": clip(head + "\n".join(lines[start:start + 30]), 3000)}})
    else:
        blocks.append({"type": "section", "block_id": "about", "text": {"type": "mrkdwn", "text": clip(about, 3000)}})
    element = {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 3000,
               "initial_value": text}
    pending = names_pending and not preview
    blocks.append({"type": "input", "block_id": LETTER_DRAFT_BLOCK if pending else LETTER_BLOCK, "optional": False,
                   "label": {"type": "plain_text", "text": "Letter"}, "element": element,
                   "hint": {"type": "plain_text", "text": (
                       "Change the text and press Send to see a new preview first." if preview else
                       "Edit freely. Preview shows it as recipients will see it, and who gets it.")}})
    if pending:
        blocks.append({"type": "context", "block_id": NAMES_PENDING_BLOCK, "elements": [{"type": "mrkdwn", "text":
                       ":hourglass_flowing_sand: Looking up names: each `&lt;@U…&gt;` in the letter becomes "
                       "the person's name in a moment."}]})
    if not preview:
        contacts = sum(1 for r in recipients if r.kind == "contact")
        officers = sum(1 for r in recipients if r.kind == "officer")
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text":
                       f"Goes to the committee channel, {contacts} partner-agency contact{'s' if contacts != 1 else ''} "
                       f"and {officers} committee officer{'s' if officers != 1 else ''}."}]})
    return {
        "type": "modal",
        "callback_id": LETTER_CALLBACK,
        "private_metadata": meta.dumps(),
        "title": {"type": "plain_text", "text": "Decision letter"},
        "submit": {"type": "plain_text", "text": "Send" if preview else "Preview"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def sent_view(letter: Letter, committee: Committee) -> dict:
    by_email = [r for r in letter.recipients if r.kind != "channel" and not r.user_id]
    dms = [r for r in letter.recipients if r.kind != "channel" and r.user_id]
    text = (f":white_check_mark: The decision letter of *{escape(committee.name)}* is on its way: "
            f"a post in the committee channel and {len(dms)} direct message{'s' if len(dms) != 1 else ''}.")
    if by_email:
        text += "\nSend it by email to: " + ", ".join(escape(contact_label(r)) for r in by_email) + "."
    text += "\n`/letter status` shows who has received and acknowledged it."
    return {"type": "modal", "callback_id": "letter_sent", "title": {"type": "plain_text", "text": "Decision letter"},
            "close": {"type": "plain_text", "text": "Done"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}}]}


# ---- the messages a letter sends -------------------------------------------------------------

def _letter_message(letter: Letter, committee: Committee, meeting: Meeting | None, tz: ZoneInfo,
                    summary: str, header: str, context: str) -> Message:
    return Message(summary).add(Header(header), Context(context), *letter_sections(letter.text))


def contact_message(letter: Letter, committee: Committee, meeting: Meeting | None, recipient: LetterRecipient,
                    tz: ZoneInfo, *, acknowledged: str | None = None) -> Message:
    """The DM to a partner-agency contact: the letter, with the button (or the thank-you once pressed)."""
    msg = _letter_message(letter, committee, meeting, tz, f"Decision letter from the {committee.name}",
                          f"Decision letter — {committee.name}",
                          f"After {meeting_phrase(meeting, tz)} · sent by <@{letter.sent_by}> · "
                          f"to you as the contact for *{escape(recipient.agency or 'your agency')}*")
    if acknowledged is None:
        return msg.add(Actions([Button("Acknowledge receipt", ACK_ACTION, LetterAck(recipient.id), style="primary")]))
    msg.summary = acknowledged
    return msg.add(Divider(), Section(f":white_check_mark: {acknowledged}"))


def letter_payload(kind: str, letter: Letter, committee: Committee, meeting: Meeting | None,
                   recipient: LetterRecipient, recipients: list[LetterRecipient], tz: ZoneInfo | None = None) -> dict:
    tz = tz or ZoneInfo("Europe/London")
    if kind == "contact":
        return contact_message(letter, committee, meeting, recipient, tz).payload()
    # (Only the channel's post and the officers' copies name the agencies: working them out for
    # each of a thousand contacts would make sending a letter quadratic in its recipients.)
    to = ", ".join(escape(a) for a in _agencies_of(recipients)) or "no partner agencies yet"
    if kind == "officer":
        msg = _letter_message(letter, committee, meeting, tz, f"Your copy: decision letter from the {committee.name}",
                              f"Your copy: decision letter — {committee.name}",
                              f"Sent by <@{letter.sent_by}> after {meeting_phrase(meeting, tz)} to {to}. "
                              "You receive this copy as a committee officer.")
        return msg.payload()
    msg = _letter_message(letter, committee, meeting, tz, f"Decision letter sent: {committee.name}",
                          f"Decision letter — {committee.name}",
                          f"Sent by <@{letter.sent_by}> after {meeting_phrase(meeting, tz)} to the partner agencies "
                          f"({to}); the committee officers have a copy.")
    return msg.add(Context("`/letter status` shows who has received and acknowledged it.")).payload()


def ack_result(letter: Letter, committee: Committee, meeting: Meeting | None, recipient: LetterRecipient,
               newly: bool, tz: ZoneInfo) -> Message:
    when = local_time(recipient.acknowledged_at, tz)
    if newly:
        text = f"Thank you — you acknowledged receipt on {when}. The chair can see it."
    else:
        text = f"You had already acknowledged this letter on {when}, so nothing more is needed. Thank you."
    return contact_message(letter, committee, meeting, recipient, tz, acknowledged=text)


# ---- /letter status and the chase -------------------------------------------------------------

def status_message(committee: CommitteeRow, letter: Letter | None, meeting: Meeting | None, tz: ZoneInfo) -> Message:
    if letter is None:
        return Message(f"No decision letter has been sent for {committee.name} yet.").add(Section(
            f"No decision letter has been sent for *{escape(committee.name)}* yet. "
            "The chair or an officer can write one with `/letter`."))
    contacts = [r for r in letter.recipients if r.kind == "contact"]
    in_slack = [r for r in contacts if r.user_id]
    acked = [r for r in in_slack if r.acknowledged_at]
    heading = f"Decision letter after {meeting_phrase(meeting, tz)} — {committee.name}"
    lines = []
    for r in letter.recipients:
        if r.kind == "channel":
            who = f"Channel <#{r.channel_id}>"
        elif r.kind == "officer":
            who = f"Committee officer · {'<@' + r.user_id + '>' if r.user_id else escape(contact_label(r))}"
        else:
            who = f"{escape(r.agency or 'Partner agency')} · {'<@' + r.user_id + '>' if r.user_id else escape(contact_label(r))}"
        if r.kind != "channel" and not r.user_id:
            state = "*send by email*"
        else:
            state = f"delivered {local_time(r.delivered_at, tz)}" if r.delivered_at else "_queued, not delivered yet_"
            if r.kind == "contact":
                state += (f" · acknowledged {local_time(r.acknowledged_at, tz)}" if r.acknowledged_at
                          else " · _not acknowledged yet_")
        lines.append(f"• {who} · {state}")
    msg = Message(f"{heading}: {len(acked)} of {len(in_slack)} contacts acknowledged").add(
        Section(f"*{escape(heading)}*"),
        Context(f"Sent by <@{letter.sent_by}> on {local_time(letter.sent_at, tz)} · "
                f"{len(acked)} of {len(in_slack)} contacts in Slack acknowledged"
                + (f" · {len(contacts) - len(in_slack)} to send by email" if len(contacts) > len(in_slack) else "")))
    for start in range(0, len(lines), 20):
        msg.add(Section("\n".join(lines[start:start + 20])))
    return msg


def chase_message(letter: Letter, committee: Committee, missing: list[LetterRecipient],
                  email_only: list[LetterRecipient], tz: ZoneInfo) -> dict:
    sent = local_time(letter.sent_at, tz)
    heading = (f"{len(missing)} partner contact{'s have' if len(missing) != 1 else ' has'} not acknowledged "
               f"the decision letter of {committee.name} sent {sent}")
    lines = [f"• {escape(r.agency or 'Partner agency')}: <@{r.user_id}>"
             + (f" (delivered {local_time(r.delivered_at, tz)})" if r.delivered_at else " (_not delivered yet_)")
             for r in missing]
    msg = Message(heading).add(Section(f"*{escape(heading)}*\n" + "\n".join(lines[:40])))
    if email_only:
        msg.add(Section("Sent by email, so not acknowledged in Slack:\n" + "\n".join(
            f"• {escape(r.agency or 'Committee officer')}: {escape(contact_label(r))}" for r in email_only[:20])))
    where = f" in <#{committee.channel_id}>" if committee.channel_id else ""
    msg.add(Context(f"`/letter status`{where} shows the full record of who received and acknowledged it."))
    return msg.payload()
