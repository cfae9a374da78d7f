"""What asking for updates says (bot.services.updates): the owners' request DM, the update form,
the officers' review DM, the return-reason modal, the returned note and `/meeting updates`."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.core import dates
from bot.core.status import RAGS, STATUSES
from bot.slack_ui.blocks import Actions, Button, Context, Message, Section, clip, people_clip, people_text
from bot.slack_ui.metadata import ChaseUpdates, GiveUpdate, UpdateReview

GIVE_ACTION = "update_give"
ACCEPT_ACTION = "update_accept"
RETURN_ACTION = "update_return"
CHASE_ACTION = "update_chase"
GIVE_CALLBACK = "update_give_form"
RETURN_CALLBACK = "update_return_form"
ITEMS_LISTED = 40   # one section and button each: within a message's 50 blocks


def _when(meeting, tz: ZoneInfo) -> str:
    return dates.long_date(meeting.starts_at.astimezone(tz).date())


def request(meeting, items: list, request_id: int, tz: ZoneInfo, today: date, *, chase: bool) -> Message:
    """One DM per owner: every open item of theirs, each with "Give update"."""
    committee = items[0].committee.name if items else "the committee"
    summary = (f"{'Reminder: ' if chase else ''}Please give an update on {len(items)} item"
               f"{'' if len(items) == 1 else 's'} before {committee} meets on {_when(meeting, tz)}")
    msg = Message(summary).add(Section(f":memo: *{people_text(summary)}*"))
    for item in items[:ITEMS_LISTED]:
        due = dates.describe_due(item.due, today)
        msg.add(Section(f"*{item.full_ref}* {people_clip(item.text, 250, one_line=True)}\n{due} · _{item.status}_",
                        button=Button("Give update", GIVE_ACTION, GiveUpdate(item.id, request_id))))
    if len(items) > ITEMS_LISTED:
        msg.add(Context(f"…and {len(items) - ITEMS_LISTED} more: `/actions mine` lists them all."))
    msg.add(Context("Your update goes to the committee's officer to accept before it is the item's latest position."))
    return msg


def _option(value: str, label: str | None = None) -> dict:
    return {"text": {"type": "plain_text", "text": clip(label or value.capitalize(), 75)}, "value": value}


def give_form(item, meta: GiveUpdate, prior=None) -> dict:
    """The update form: position, status, revised date, RAG with reason; prefilled from a returned update."""
    proposed = (prior.proposed or {}) if prior is not None else {}
    status = proposed.get("status") or item.status
    rag_options = [_option("auto", "Automatic (from due date)")] + [_option(r) for r in RAGS]
    rag = proposed.get("rag") or item.rag_override
    position = {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 3000}
    if prior is not None and prior.text:
        position["initial_value"] = prior.text
    due = {"type": "datepicker", "action_id": "value"}
    if proposed.get("due") or item.due:
        due["initial_date"] = proposed.get("due") or item.due.isoformat()
    reason = {"type": "plain_text_input", "action_id": "value"}
    if proposed.get("rag_reason") or item.rag_reason:
        reason["initial_value"] = proposed.get("rag_reason") or item.rag_reason

    def block(block_id, label, element, optional=True):
        return {"type": "input", "block_id": block_id, "optional": optional,
                "label": {"type": "plain_text", "text": label}, "element": element}

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": clip(f"*{item.full_ref}* {people_text(item.text)}", 3000)}}]
    if prior is not None and prior.review_note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(
            f"Returned: {people_text(prior.review_note)}", 3000)}]})
    blocks += [
        block("position", "Position", position, optional=False),
        block("status", "Status", {"type": "static_select", "action_id": "value", "options": [_option(s) for s in STATUSES],
                                   "initial_option": _option(status)}, optional=False),
        block("due", "Revised date", due),
        block("rag", "RAG", {"type": "static_select", "action_id": "value", "options": rag_options,
                             "initial_option": _option(rag) if rag in RAGS else rag_options[0]}, optional=False),
        block("rag_reason", "Reason for a RAG set by hand", reason),
    ]
    return {"type": "modal", "callback_id": GIVE_CALLBACK, "private_metadata": meta.dumps(),
            "title": {"type": "plain_text", "text": clip(f"Update {item.ref}", 24)},
            "submit": {"type": "plain_text", "text": "Send"}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": blocks}


def _day(value) -> str:
    try:
        return dates.format_date(date.fromisoformat(str(value)[:10]))
    except ValueError:
        return people_text(str(value))


def _proposed_lines(position) -> str:
    p = position.proposed or {}
    bits = [f"Status: {p['status']}" if p.get("status") else None,
            f"Revised date: {_day(p['due'])}" if p.get("due") else None,
            f"RAG: {p['rag']}" + (f" ({people_text(p['rag_reason'])})" if p.get("rag_reason") else "")
            if p.get("rag") else None]
    return " · ".join(b for b in bits if b)


def review(item, position, flags: list[str], author: str | None, today: date, *,
           author_name: str | None = None) -> Message:
    """To the committee's officers and chair: a submitted update, Accept / Return. author: the
    Slack user; or author_name, an owner outside Slack who answered by email."""
    who = f"<@{author}>" if author else f"{people_text(author_name or 'An owner')} (by email)"
    summary = f"{who} sent an update on {item.full_ref} for review"
    msg = Message(summary).add(
        Section(f":inbox_tray: *{summary}*"),
        Section(f"*{item.full_ref}* {people_clip(item.text, 250, one_line=True)}\n"
                f"> {people_clip(position.text or '(no position)', 2000)}"))
    if (lines := _proposed_lines(position)):
        msg.add(Context(lines))
    if flags:
        msg.add(Section(":warning: *This update says nothing the committee can use:* " + "; ".join(flags) + "."))
    msg.add(Actions([Button("Accept", ACCEPT_ACTION, UpdateReview(position.id), style="primary"),
                     Button("Return", RETURN_ACTION, UpdateReview(position.id))]))
    return msg


def return_form(meta: UpdateReview, ref: str) -> dict:
    return {"type": "modal", "callback_id": RETURN_CALLBACK, "private_metadata": meta.dumps(),
            "title": {"type": "plain_text", "text": clip(f"Return {ref}", 24)},
            "submit": {"type": "plain_text", "text": "Return"}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [{"type": "input", "block_id": "reason", "label": {"type": "plain_text", "text": "Why?"},
                        "element": {"type": "plain_text_input", "action_id": "value", "multiline": True,
                                    "max_length": 2000}}]}


def returned(item, position, reason: str, by: str) -> Message:
    """To the owner: their update came back, with the reason and the form to send it again."""
    summary = f"Your update on {item.full_ref} was returned by <@{by}>"
    return Message(summary).add(
        Section(f":leftwards_arrow_with_hook: *{summary}*"),
        Section(f"*Why:* {people_clip(reason, 2000)}"),
        Actions([Button("Give update", GIVE_ACTION, GiveUpdate(item.id, position.request_id, position.id),
                        style="primary")]))


def submitted(item, flags: list[str]) -> Message:
    note = " It is flagged: " + "; ".join(flags) + "." if flags else ""
    return Message(f"Update on {item.full_ref} sent for review").add(
        Section(f":white_check_mark: Your update on *{item.full_ref}* went to the committee's officer to accept.{note}"))


def accepted(item) -> Message:
    return Message(f"Update on {item.full_ref} accepted").add(
        Section(f":white_check_mark: Accepted: it is now the latest position of *{item.full_ref}*."))


def was_returned(item) -> Message:
    return Message(f"Update on {item.full_ref} returned").add(
        Section(f":leftwards_arrow_with_hook: Returned the update on *{item.full_ref}* to its author, with your reason."))


def _who(u: str) -> str:
    """A Slack user as a mention; an owner outside Slack by their address."""
    return f"{people_text(u)} (by email)" if "@" in u else f"<@{u}>"


def round_card(r, tz: ZoneInfo) -> Message:
    """`/meeting updates`: who has answered and who has not."""
    if r.meeting is None:
        return Message("No meeting").add(Section(f"{people_text(r.committee.name)} has no meeting scheduled."))
    summary = f"Updates for {r.committee.name} on {_when(r.meeting, tz)}"
    msg = Message(summary).add(Section(f"*{people_text(summary)}*"))
    if not r.answered and not r.outstanding:
        return msg.add(Context("Nobody has been asked yet: owners are asked before the meeting."))
    msg.add(Section("*Answered:* " + (", ".join(_who(u) for u in r.answered) or "nobody yet")))
    msg.add(Section("*Outstanding:* " + (", ".join(_who(u) for u in r.outstanding) or "nobody")))
    if r.awaiting_review:
        msg.add(Context(f"{r.awaiting_review} update{'' if r.awaiting_review == 1 else 's'} awaiting review."))
    if r.outstanding:
        msg.add(Actions([Button("Chase everyone outstanding", CHASE_ACTION, ChaseUpdates(r.meeting.id))]))
    return msg


def chased(n: int) -> Message:
    return Message(f"Chased {n}").add(Section(
        f":bell: Chased {n} owner{'' if n == 1 else 's'}." if n else "Nobody new to chase today."))
