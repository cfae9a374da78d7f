"""What Scrutineer says about partner agencies and decision letters, and the letter form."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.services.letters import PlannedRecipient, contact_label, long_date
from bot.slack_ui.blocks import (
    Actions,
    Button,
    Context,
    Divider,
    Header,
    Message,
    Section,
    clip,
    people_text,
    plural,
    safe_cut,
)
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

def letter_mrkdwn(text: str) -> str:
    """The chair's text, escaped for mrkdwn, but with Slack mentions (<@U123>) kept working;
    @here/@channel deliberately not."""
    return people_text(text)


def _chunks(text: str, size: int = CHUNK) -> list[str]:
    """Paragraph-sized pieces that fit a section block."""
    out, current = [], ""
    for para in text.split("\n\n"):
        while len(para) > size:
            cut = safe_cut(para, size)  # never inside an entity or a mention
            out.append(para[:cut])
            para = para[cut:]
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
    who = f"<@{r.user_id}>" if r.user_id else people_text(contact_label(r))
    if r.kind == "channel":
        return f"• <#{r.channel_id}> — posted in the committee channel"
    if r.kind == "officer":
        return f"• Committee officer: {who} — " + ("copy by DM" if r.user_id else "*send by email*")
    return f"• {people_text(r.agency or 'Partner agency')}: {who} — " + (
        "DM with “Acknowledge receipt”" if r.user_id else "*send by email*")


# ---- agencies -----------------------------------------------------------------------------

def agency_added(agency: Agency, created: bool, added: list) -> Message:
    contacts = ", ".join(recipient_label(c) for c in agency.contacts if c.active) or "_no contacts yet_"
    if created:
        head = f":white_check_mark: Added partner agency *{people_text(agency.name)}*."
    elif added:
        head = f":white_check_mark: Added {plural(len(added), 'contact')} to *{people_text(agency.name)}*."
    else:
        head = f"Nothing changed: *{people_text(agency.name)}* already has those contacts."
    text = f"{head}\nContacts: {contacts}"
    if not any(c.active for c in agency.contacts):
        text += '\nAdd one with `/scrutiny agency add "' + people_text(agency.name) + '" @someone`.'
    return Message(re.sub(r"[*_]", "", head)).add(Section(text))


def agency_removed(agency: Agency) -> Message:
    text = (f":white_check_mark: Removed partner agency *{people_text(agency.name)}*: it and its contacts get no "
            "decision letters from now on. The letters already sent still show it, and adding it again "
            "brings it back.")
    return Message(f"Removed partner agency {agency.name}").add(Section(text))


def contacts_removed(agency: Agency, removed: list) -> Message:
    who = ", ".join(recipient_label(c) for c in removed)
    left = ", ".join(recipient_label(c) for c in agency.contacts if c.active) or "_no contacts now_"
    text = (f":white_check_mark: Removed {who} from *{people_text(agency.name)}*: no decision letters to "
            f"{'them' if len(removed) != 1 else 'this contact'} from now on (the letters already sent keep "
            f"them).\nContacts: {left}")
    return Message(f"Removed {len(removed)} contact{'s' if len(removed) != 1 else ''} from {agency.name}").add(
        Section(text))


def recipient_label(c) -> str:
    """A contact for Slack: a mention, or the escaped name and address, marked email-only."""
    if c.user_id:
        return f"<@{c.user_id}>"
    return f"{people_text(contact_label(c))} (send by email)"


def agencies_list(committee: CommitteeRow, agencies: list[Agency]) -> Message:
    if not agencies:
        return Message(f"No partner agencies for {committee.name} yet.").add(Section(
            f"No partner agencies for *{people_text(committee.name)}* yet. Add one with "
            '`/scrutiny agency add "Essex Police" @bob`.'))
    lines = []
    for a in agencies:
        contacts = ", ".join(recipient_label(c) for c in a.contacts if c.active) or "_no contacts yet_"
        lines.append(f"• *{people_text(a.name)}*: {contacts}")
    heading = f"Partner agencies of {committee.name} ({len(agencies)})"
    msg = Message(heading).add(Section(f"*{people_text(heading)}*"))
    for start in range(0, len(lines), 25):
        msg.add(Section("\n".join(lines[start:start + 25])))
    return msg.add(Context("Their contacts receive the decision letter after each meeting (`/letter`)."))


# ---- the form -------------------------------------------------------------------------------

def letter_block(values: dict) -> str:
    """The block_id of the letter's (first) input in a submitted form's state values."""
    return LETTER_DRAFT_BLOCK if LETTER_DRAFT_BLOCK in values and LETTER_BLOCK not in values else LETTER_BLOCK


# A plain_text_input holds 3,000 characters, so a longer letter is shown in several, one after
# another: the first under LETTER_BLOCK (or LETTER_DRAFT_BLOCK), then "<block>_2", "<block>_3" …,
# each put back after the one before with a line end ("<block>_<n>_glued": with nothing, where
# a line was longer than an input). letter_text joins them again: the same text exactly.
INPUT_ROOM = 3000
_PIECE_ID = re.compile(r"^(letter|letter_draft)_(\d+)(_glued)?$")


def letter_pieces(text: str, room: int = INPUT_ROOM) -> list[tuple[str, str]]:
    """(what goes before it, piece) for each input the text needs: cut at a line end (dropped,
    and put back on submit) where one fits, preferring one between two lines of text."""
    out, rest, joiner = [], text, ""
    while len(rest) > room:
        window = rest[: room + 1]
        ends = [i for i, c in enumerate(window) if c == "\n" and i > 0]
        inner = [i for i in ends if not window[i - 1].isspace() and i + 1 < len(rest) and not rest[i + 1].isspace()]
        if inner or ends:
            cut = (inner or ends)[-1]
            out.append((joiner, rest[:cut]))
            rest, joiner = rest[cut + 1:], "\n"
        else:
            out.append((joiner, rest[:room]))
            rest, joiner = rest[room:], ""
    out.append((joiner, rest))
    return out


def letter_text(values: dict) -> str | None:
    """The letter as submitted: its inputs' values joined as letter_pieces cut them."""
    first = letter_block(values)
    text = (values.get(first) or {}).get("value", {}).get("value")
    rest = []
    for block_id in values:
        m = _PIECE_ID.match(block_id)
        if m and m.group(1) == first:
            value = (values[block_id].get("value") or {}).get("value") or ""
            rest.append((int(m.group(2)), "" if m.group(3) else "\n", value))
    if not rest:
        return text
    return (text or "") + "".join(joiner + value for _, joiner, value in sorted(rest))


def letter_view(committee: Committee | CommitteeRow, meeting: Meeting | None, text: str,
                recipients: list[PlannedRecipient], meta: LetterForm, tz: ZoneInfo, *, preview: bool,
                note: str | None = None, names_pending: bool = False) -> dict:
    """Step 1 (edit; submit = Preview) or step 2 (the letter as sent, its recipients; submit = Send).
    The text stays editable in step 2: changing it and pressing Send shows a fresh preview first.
    names_pending: step 1 opened while some names are still being looked up (they show as
    mentions, and a note says they will be filled in)."""
    about = f"*{people_text(committee.name)}* · decision letter after {meeting_phrase(meeting, tz)}"
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
    pending = names_pending and not preview
    base = LETTER_DRAFT_BLOCK if pending else LETTER_BLOCK
    pieces = letter_pieces(text)
    for n, (joiner, piece) in enumerate(pieces, start=1):
        element = {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": INPUT_ROOM,
                   "initial_value": piece}
        block = {"type": "input", "block_id": base if n == 1 else f"{base}_{n}{'' if joiner else '_glued'}",
                 "optional": n > 1, "element": element,
                 "label": {"type": "plain_text", "text": "Letter" if len(pieces) == 1 else
                           f"Letter, part {n} of {len(pieces)}"}}
        if n == len(pieces):
            block["hint"] = {"type": "plain_text", "text": (
                "Change the text and press Send to see a new preview first." if preview else
                "Edit freely. Preview shows it as recipients will see it, and who gets it.")}
        blocks.append(block)
    if pending:
        blocks.append({"type": "context", "block_id": NAMES_PENDING_BLOCK, "elements": [{"type": "mrkdwn", "text":
                       ":hourglass_flowing_sand: Looking up names: each `&lt;@U…&gt;` in the letter becomes "
                       "the person's name in a moment."}]})
    if not preview:
        contacts = sum(1 for r in recipients if r.kind == "contact")
        officers = sum(1 for r in recipients if r.kind == "officer")
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text":
                       f"Goes to the committee channel, {plural(contacts, 'partner-agency contact')} "
                       f"and {plural(officers, 'committee officer')}."}]})
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
    text = (f":white_check_mark: The decision letter of *{people_text(committee.name)}* is on its way: "
            f"a post in the committee channel and {plural(len(dms), 'direct message')}.")
    emailed = [r for r in by_email if r.outbox_key]
    if emailed:
        text += ("\nEmailed, each with a link to acknowledge receipt: "
                 + ", ".join(people_text(contact_label(r)) for r in emailed) + ".")
    if len(emailed) < len(by_email):
        text += "\nSend it by email to: " + ", ".join(
            people_text(contact_label(r)) for r in by_email if not r.outbox_key) + "."
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
                          f"to you as the contact for *{people_text(recipient.agency or 'your agency')}*")
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
    to = ", ".join(people_text(a) for a in _agencies_of(recipients)) or "no partner agencies yet"
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
            f"No decision letter has been sent for *{people_text(committee.name)}* yet. "
            "The chair or an officer can write one with `/letter`."))
    contacts = [r for r in letter.recipients if r.kind == "contact"]
    in_slack = [r for r in contacts if r.user_id]
    acked = [r for r in in_slack if r.acknowledged_at]
    emailed = [r for r in contacts if not r.user_id and r.outbox_key]
    by_hand = len(contacts) - len(in_slack) - len(emailed)
    heading = f"Decision letter after {meeting_phrase(meeting, tz)} — {committee.name}"
    lines = []
    for r in letter.recipients:
        if r.kind == "channel":
            who = f"Channel <#{r.channel_id}>"
        elif r.kind == "officer":
            who = f"Committee officer · {'<@' + r.user_id + '>' if r.user_id else people_text(contact_label(r))}"
        else:
            who = f"{people_text(r.agency or 'Partner agency')} · {'<@' + r.user_id + '>' if r.user_id else people_text(contact_label(r))}"
        if r.kind != "channel" and not r.user_id and r.outbox_key:   # emailed, with an acknowledgement link
            if r.delivery_error:
                state = f"*email refused*: {people_text(clip(r.delivery_error, 200))}"
            else:
                state = f"emailed {local_time(r.delivered_at, tz)}" if r.delivered_at else "_email queued, not sent yet_"
                if r.kind == "contact":
                    state += (f" · acknowledged {local_time(r.acknowledged_at, tz)}" if r.acknowledged_at
                              else " · _not acknowledged yet_")
        elif r.kind != "channel" and not r.user_id:
            state = "*send by email*"
        elif r.delivery_error and not r.delivered_at:   # given up (the app uninstalled there, say)
            state = f"*not delivered*: {people_text(clip(r.delivery_error, 200))}"
        else:
            state = f"delivered {local_time(r.delivered_at, tz)}" if r.delivered_at else "_queued, not delivered yet_"
            if r.kind == "contact":
                state += (f" · acknowledged {local_time(r.acknowledged_at, tz)}" if r.acknowledged_at
                          else " · _not acknowledged yet_")
        lines.append(f"• {who} · {state}")
    msg = Message(f"{heading}: {len(acked)} of {len(in_slack)} contacts acknowledged").add(
        Section(f"*{people_text(heading)}*"),
        Context(f"Sent by <@{letter.sent_by}> on {local_time(letter.sent_at, tz)} · "
                f"{len(acked)} of {len(in_slack)} contacts in Slack acknowledged"
                + (f" · {sum(1 for r in emailed if r.acknowledged_at)} of {len(emailed)} emailed acknowledged"
                   + (f", {sum(1 for r in emailed if r.delivery_error)} refused"
                      if any(r.delivery_error for r in emailed) else "") if emailed else "")
                + (f" · {by_hand} to send by email" if by_hand else "")))
    for start in range(0, len(lines), 20):
        msg.add(Section("\n".join(lines[start:start + 20])))
    return msg


def chase_message(letter: Letter, committee: Committee, missing: list[LetterRecipient],
                  email_only: list[LetterRecipient], tz: ZoneInfo) -> dict:
    sent = local_time(letter.sent_at, tz)
    heading = (f"{len(missing)} partner contact{'s have' if len(missing) != 1 else ' has'} not acknowledged "
               f"the decision letter of {committee.name} sent {sent}")
    lines = [f"• {people_text(r.agency or 'Partner agency')}: "
             + (f"<@{r.user_id}>" if r.user_id else f"{people_text(contact_label(r))}, by email (reminded)")
             + (f" (delivered {local_time(r.delivered_at, tz)})" if r.delivered_at else " (_not delivered yet_)")
             for r in missing]
    msg = Message(heading).add(Section(f"*{people_text(heading)}*\n" + "\n".join(lines[:40])))
    if email_only:
        msg.add(Section("To send by email, so not acknowledged in Slack:\n" + "\n".join(
            f"• {people_text(r.agency or 'Committee officer')}: {people_text(contact_label(r))}"
            + (f" — *email refused*: {people_text(clip(r.delivery_error, 120))}" if r.delivery_error else "")
            for r in email_only[:20])))
    where = f" in <#{committee.channel_id}>" if committee.channel_id else ""
    msg.add(Context(f"`/letter status`{where} shows the full record of who received and acknowledged it."))
    return msg.payload()
