"""What `/meeting agenda` shows, and what "Post to channel" posts."""
from __future__ import annotations

import json

from bot.core import dates
from bot.core.errors import UserError
from bot.slack_ui.blocks import Actions, Button, Context, Divider, Header, Message, clip, people_clip, people_text
from bot.slack_ui.items import due_line, owners_line, rag_emoji
from bot.slack_ui.meetings import _sections, when

POST_ACTION = "agenda_post"   # handlers/meetings.py
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
    changed = [f"• *{r.ref}* new position ({dates.format_date(p.as_of)}): {people_clip(p.text, 160, one_line=True)}"
               for r, p in a.positions]
    changed += [f"• *{r.ref}* status {people_text(str(before or '—'))} → *{people_text(after)}*"
                for r, before, after in a.status_changes if r not in a.closed]
    changed += [f"• *{r.ref}* closed: _{people_text(r.status)}_ — drops off the next agenda" for r in a.closed]
    msg.add(Divider(), *_sections(since, _limit(changed, "`/position <ref> history`") or ["_No changes._"]))
    if a.overdue:
        msg.add(Divider(), *_sections(f":red_circle: Overdue ({len(a.overdue)})",
                                      _limit([_item(r, today) for r in a.overdue], "`/actions overdue`")))
    if not for_channel:
        msg.add(Actions([Button("Post to channel", POST_ACTION, {"meeting_id": a.meeting.id}, style="primary")]))
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
