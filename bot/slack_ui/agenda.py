"""What `/meeting agenda` shows, and what "Post to channel" posts."""
from __future__ import annotations

import json

from bot.core import dates
from bot.core.errors import UserError
from bot.slack_ui.blocks import (
    Actions,
    Button,
    Context,
    Divider,
    Header,
    Message,
    Section,
    clip,
    people_clip,
    people_text,
)
from bot.slack_ui.items import due_line, owners_line, rag_emoji
from bot.slack_ui.meetings import _sections, when

POST_ACTION = "agenda_post"   # handlers/meetings.py
UNDROP_ACTION = "agenda_undrop"   # Undo on a drop (handlers/meetings.py)
LIST_LIMIT = 30               # lines per part; the rest are counted


def _item(r, today) -> str:
    held = f" until {dates.format_date(r.paused_until)}" if getattr(r, "paused_until", None) else ""
    return (f"{rag_emoji(r, today)} *{r.ref}* {people_clip(r.text, 140, one_line=True)} — {owners_line(r)} · "
            f"{due_line(r, today)} · _{r.status}{held}_")


def _limit(lines: list[str], more: str) -> list[str]:
    if len(lines) > LIST_LIMIT:
        return lines[:LIST_LIMIT] + [f"_…and {len(lines) - LIST_LIMIT} more: {more}_"]
    return lines


def agenda(a, tz, *, for_channel: bool = False) -> Message:
    today = a.today
    title = f"Agenda — {a.committee.name}, {when(a.meeting.starts_at, tz)}"
    since = (f"Changes since the last meeting ({dates.format_date(a.previous.starts_at.astimezone(tz).date())})"
             if a.previous is not None else "Changes (no earlier meeting)")
    summary = (f"{title}: {len(a.due_for_report)} items for report ({len(a.carried)} carried forward, "
               f"{len(a.new)} new), {len(a.overdue)} overdue")
    msg = Message(clip(summary, 300)).add(Header(clip(title, 150)),
                                          Context(people_text(summary.split(": ", 1)[1])))
    if a.carried:
        msg.add(Divider(), *_sections(f"Carried forward ({len(a.carried)})",
                                      _limit([_item(r, today) for r in a.carried], "`/actions`")))
    if a.new:
        msg.add(Divider(), *_sections(f"New since the last meeting ({len(a.new)})",
                                      _limit([_item(r, today) for r in a.new], "`/actions`")))
    if not a.due_for_report:
        msg.add(Divider(), *_sections("Due for report", ["_Nothing open._"]))
    dropped = getattr(a, "dropped", [])
    if dropped:
        lines = [f"• *{r.ref}* {people_clip(r.text, 100, one_line=True)} — _dropped from this agenda_ by <@{d.dropped_by}> "
                 f"on {dates.format_date(d.dropped_at.astimezone(tz).date())}"
                 + (f": {people_clip(d.reason, 200, one_line=True)}" if d.reason else "") for r, d in dropped]
        msg.add(Divider(), *_sections(f"Dropped from this agenda ({len(dropped)})",
                                      _limit(lines, "`/meeting undrop <ref>`")))
    changed = [f"• *{r.ref}* {'update _awaiting review_' if p.review_state == 'submitted' else 'new position'} "
               f"({dates.format_date(p.as_of)}): {people_clip(p.text, 160, one_line=True)}"
               for r, p in a.positions]
    changed += [f"• *{r.ref}* status {people_text(str(before or '—'))} → *{people_text(after)}*"
                for r, before, after in a.status_changes if r not in a.closed]
    changed += [f"• *{r.ref}* closed: _{people_text(r.status)}_ — drops off the next agenda" for r in a.closed]
    msg.add(Divider(), *_sections(since, _limit(changed, "`/position <ref> history`") or ["_No changes._"]))
    if a.overdue:
        msg.add(Divider(), *_sections(f":red_circle: Overdue ({len(a.overdue)})",
                                      _limit([_item(r, today) for r in a.overdue], "`/actions overdue`")))
    if not for_channel:
        msg.add(Context("`/meeting drop rec-3 [reason]` drops an item from this agenda (no update asked, no chase); "
                        "`/meeting undrop rec-3` puts it back."),
                Actions([Button("Post to channel", POST_ACTION, {"meeting_id": a.meeting.id}, style="primary")]))
    return msg


def meeting_id_of(value) -> int:
    """The meeting a "Post to channel" button names; a tampered value is refused."""
    try:
        data = json.loads(value or "")
        meeting_id = data["meeting_id"]
        if type(meeting_id) is not int or not 0 < meeting_id < 2**31:
            raise ValueError
        return meeting_id
    except (TypeError, ValueError, KeyError, RecursionError):
        raise UserError("That button is out of date. Run `/meeting agenda` again.") from None


def posted(a, *, newly: bool) -> Message:
    text = (f":white_check_mark: The agenda goes to <#{a.committee.channel_id}> now." if newly
            else "The agenda was already posted to the channel today.")
    return Message(text).add(Context(text))


def _ids_of(value) -> tuple[int, int]:
    """The meeting and item an Undo button names; a tampered value is refused."""
    try:
        data = json.loads(value or "")
        ids = data["meeting_id"], data["item_id"]
        if any(type(i) is not int or not 0 < i < 2**31 for i in ids):
            raise ValueError
        return ids
    except (TypeError, ValueError, KeyError, RecursionError):
        raise UserError("That button is out of date. Run `/meeting agenda` again.") from None


undrop_ids_of = _ids_of


def dropped(result, tz) -> Message:
    """The answer to `/meeting drop`."""
    item, meeting = result.item, result.meeting
    on = when(meeting.starts_at, tz)
    if not result.newly:
        text = f"*{item.ref}* was already dropped from the agenda of the meeting of {on}."
        return Message(text.replace("*", "")).add(Section(text))
    reason = f" Reason: {people_text(result.drop.reason)}" if result.drop.reason else ""
    text = (f":wastebasket: *{item.ref}* is dropped from the agenda of the meeting of {on}: its owners are not "
            f"asked for an update for it, nor chased.{reason}")
    return Message(f"{item.ref} is dropped from the agenda of the meeting of {on}").add(
        Section(text), Actions([Button("Undo", UNDROP_ACTION, {"meeting_id": meeting.id, "item_id": item.id})]))


def undropped(result, tz) -> Message:
    item, on = result.item, when(result.meeting.starts_at, tz)
    text = (f":leftwards_arrow_with_hook: *{item.ref}* is back on the agenda of the meeting of {on}." if result.newly
            else f"*{item.ref}* wasn't dropped from the agenda of the meeting of {on}.")
    return Message(text.replace("*", "")).add(Section(text))
