"""What `/meeting` says, and the post-meeting digest: built once as a Message (bot/slack_ui/blocks.py),
sent as blocks with a plain-text fallback.

The data comes from bot.services.meetings (Digest, MeetingView); nothing here touches the
database."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core import dates
from bot.core.status import RAG_EMOJI
from bot.services.meetings import LIST_LIMIT
from bot.slack_ui.blocks import Button, Context, Divider, Header, Message, Section, clip, escape
from bot.slack_ui.items import UPDATE_ACTION, due_line, owners_line, rag_emoji
from bot.slack_ui.metadata import ItemRef

CHUNK = 2800              # keep each section under Block Kit's 3000 characters


def when(starts_at: datetime, tz: ZoneInfo) -> str:
    local = starts_at.astimezone(tz)
    return f"{local:%a} {dates.format_date(local.date())}, {local:%H:%M}"


def _one_line(text: str, limit: int) -> str:
    return escape(clip(" ".join(text.split()), limit))


def _sections(title: str, lines: list[str]) -> list[Section]:
    """A titled list, split into sections small enough for Block Kit."""
    out, chunk = [], f"*{title}*"
    for line in lines:
        if len(chunk) + len(line) + 1 > CHUNK:
            out.append(Section(chunk))
            chunk = line
        else:
            chunk += "\n" + line
    out.append(Section(chunk))
    return out


def _limited(lines: list[str], total: int, more: str) -> list[str]:
    if total > len(lines):
        lines = lines + [f"_…and {total - len(lines)} more: {more}_"]
    return lines


def decision_lines(decisions) -> list[str]:
    """"Resolved – That (1) …", the following decisions numbered under it."""
    lines = []
    for n, dec in enumerate(decisions):
        body = f"({dec.number}) {escape(' '.join(dec.text.split()))}"
        lines.append(f"Resolved – That {body}" if n == 0 else body)
    return lines


def action_line(item, today) -> str:
    return f"• *{item.ref}* {_one_line(item.text, 200)} — {owners_line(item)} · {due_line(item, today)}"


# ---- /meeting replies -----------------------------------------------------------------

def meeting_card(view, tz: ZoneInfo) -> Message:
    """`/meeting`: the current or next meeting, its decisions and actions so far."""
    committee, meeting = view.committee, view.meeting
    if meeting is None:
        text = (f"{committee.name} has no meeting scheduled. A chair or officer can schedule one with "
                "`/meeting new 3 June 2026 10:00`.")
        return Message(text).add(Section(f":calendar: {escape(text)}"))
    now = view.now
    if now is not None and meeting.starts_at > now:
        state = "next meeting"
    elif now is not None and meeting.ends_at > now:
        state = "in progress"
    else:
        state = "held, not yet closed"
    today = now.astimezone(tz).date() if now else None
    summary = f"{committee.name} — {when(meeting.starts_at, tz)} ({state})"
    local_end = meeting.ends_at.astimezone(tz)
    msg = Message(summary).add(
        Section(f":calendar: *{escape(committee.name)}*\n{when(meeting.starts_at, tz)}–{local_end:%H:%M} · _{state}_"))
    if view.decisions:
        msg.add(*_sections("Decisions", decision_lines(view.decisions)))
    else:
        msg.add(Context("No decisions yet: `/meeting decision <text>` records one."))
    if view.actions:
        msg.add(*_sections("Actions arising", [action_line(i, today) for i in view.actions]))
    else:
        msg.add(Context('No actions arising yet: `/meeting action <text> owner "Cabinet Member" due 30 September`.'))
    if state != "next meeting":
        msg.add(Context("`/meeting close` marks it held and posts the digest."))
    return msg


def scheduled(meeting, committee, tz: ZoneInfo) -> Message:
    local_end = meeting.ends_at.astimezone(tz)
    text = (f":calendar: Scheduled a meeting of *{escape(committee.name)}*: "
            f"{when(meeting.starts_at, tz)}–{local_end:%H:%M}.")
    return Message(f"Scheduled a meeting of {committee.name}: {when(meeting.starts_at, tz)}").add(
        Section(text),
        Context("During it: `/meeting decision <text>`, `/meeting action <text> owner <who> due <when>`, "
                "then `/meeting close`."))


def decision_recorded(meeting, decision, tz: ZoneInfo) -> Message:
    text = f"Recorded decision ({decision.number}) for the meeting of {when(meeting.starts_at, tz)}"
    return Message(text).add(
        Section(f":white_check_mark: {text}:\nResolved – That ({decision.number}) "
                f"{escape(' '.join(decision.text.split()))}"))


def action_recorded(meeting, item, today, tz: ZoneInfo) -> Message:
    text = f"Recorded action {item.ref} for the meeting of {when(meeting.starts_at, tz)}"
    return Message(text).add(Section(f":white_check_mark: {text}:\n{action_line(item, today)}"))


def closed(result, tz: ZoneInfo) -> Message:
    meeting = result.meeting
    where = f"<#{meeting.committee.channel_id}>" if meeting.committee.channel_id else "nowhere (no channel is bound)"
    owners = f"{result.dms_queued} owner{'' if result.dms_queued == 1 else 's'}"
    text = f"Closed the meeting of {when(meeting.starts_at, tz)}"
    return Message(text).add(Section(
        f":white_check_mark: {text}. Its digest is on its way to {where}, and {owners} will get a direct "
        "message with their new or changed items."))


# ---- the digest ----------------------------------------------------------------------

def meeting_digest(d) -> Message:
    """The post-meeting digest for the committee channel."""
    committee, meeting, today, tz = d.committee, d.meeting, d.today, d.tz
    held = when(meeting.starts_at, tz)
    summary = (f"Digest of the {committee.name} meeting of {held}: "
               f"{len(d.decisions)} decision{'' if len(d.decisions) == 1 else 's'}, "
               f"{len(d.actions)} action{'' if len(d.actions) == 1 else 's'} arising, {d.overdue_count} overdue")
    closed_by = ("closed automatically" if meeting.closed_by == "auto"
                 else f"closed by <@{meeting.closed_by}>" if meeting.closed_by else "")
    msg = Message(summary).add(
        Header(clip(f"Meeting digest: {committee.name}", 150)),
        Context(f":calendar: Meeting of {held}" + (f" · {closed_by}" if closed_by else "")))
    # Decisions
    if d.decisions:
        msg.add(*_sections("Decisions", decision_lines(d.decisions)))
    else:
        msg.add(Section("*Decisions*\n_No decisions were recorded._"))
    # Actions arising
    if d.actions:
        lines = [action_line(i, today) for i in d.actions[:LIST_LIMIT]]
        msg.add(*_sections("Actions arising", _limited(lines, len(d.actions), "`/actions` lists them all")))
    else:
        msg.add(Section("*Actions arising*\n_None._"))
    # Positions (and status changes) since the previous meeting
    since = (f" since the previous meeting ({dates.format_date(d.previous.starts_at.astimezone(tz).date())})"
             if d.previous is not None else "")
    lines = []
    for item, pos in d.positions:
        author = f" ({escape(pos.author_name)})" if pos.author_name else ""
        lines.append(f"• *{item.ref}* {dates.format_date(pos.as_of)}: {_one_line(pos.text, 300)}{author}")
    for item_id, (before, after) in d.status_changes.items():
        item = d.items.get(item_id)
        if item is not None and before != after:
            lines.append(f"• *{item.ref}* status: {before or '—'} → *{after}*")
    if lines:
        msg.add(*_sections(f"Positions recorded{since}",
                           _limited(lines[:LIST_LIMIT], len(lines), "`/position <ref> history` shows each")))
    else:
        msg.add(Section(f"*Positions recorded{since}*\n_None._"))
    # Overdue
    if d.overdue:
        lines = [f"• {rag_emoji(i, today)} *{i.ref}* {_one_line(i.text, 150)} — {owners_line(i)} · {due_line(i, today)}"
                 for i in d.overdue[:LIST_LIMIT]]
        msg.add(*_sections(f"Overdue ({d.overdue_count})", _limited(lines, d.overdue_count, "`/actions overdue`")))
    else:
        msg.add(Section("*Overdue*\n_Nothing is overdue._ :tada:"))
    counts = " · ".join(f"{RAG_EMOJI[r]} {d.rag_counts.get(r, 0)} {r}" for r in ("red", "amber", "green"))
    msg.add(Divider(), Context(f"Open items by RAG: {counts}"))
    return msg


def owner_digest(d, entries) -> Message:
    """One owner's DM after the meeting: their actions arising and their items that changed."""
    committee, today, tz = d.committee, d.today, d.tz
    held = when(d.meeting.starts_at, tz)
    n = len(entries)
    summary = (f"After the {committee.name} meeting of {held}: {n} item{'' if n == 1 else 's'} of yours "
               f"{'is' if n == 1 else 'are'} new or changed")
    msg = Message(summary).add(Section(f"*{escape(summary)}*"))
    for entry in entries[:LIST_LIMIT]:
        item = entry.item
        label = "new action arising" if entry.why == "new" else "changed"
        lines = [f"{rag_emoji(item, today)} *{item.ref}* ({label}) {_one_line(item.text, 300)}",
                 f"{owners_line(item)} · {due_line(item, today)} · _{item.status}_"]
        if entry.status_change and entry.status_change[0] != entry.status_change[1]:
            lines.append(f"Status: {entry.status_change[0] or '—'} → *{entry.status_change[1]}*")
        for pos in entry.positions[-3:]:
            lines.append(f"Position {dates.format_date(pos.as_of)}: {_one_line(pos.text, 300)}")
        msg.add(Section("\n".join(lines), button=Button("Update", UPDATE_ACTION, ItemRef(item.id))))
    if n > LIST_LIMIT:
        msg.add(Context(f"…and {n - LIST_LIMIT} more: `/actions mine` lists them all."))
    msg.add(Context(f"Record progress with `/update <ref> position …` in <#{committee.channel_id}>"
                    if committee.channel_id else "Record progress with `/update <ref> position …`."))
    return msg


__all__ = ["action_recorded", "closed", "decision_lines", "decision_recorded", "meeting_card", "meeting_digest",
           "owner_digest", "scheduled", "when"]
