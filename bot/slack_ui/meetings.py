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
from bot.slack_ui import indicators as indicators_ui
from bot.slack_ui.blocks import (
    Button,
    Context,
    Divider,
    Header,
    Message,
    Section,
    clip,
    people_clip,
    people_text,
    plural,
)
from bot.slack_ui.carry import escalation_lines
from bot.slack_ui.items import UPDATE_ACTION, due_line, owners_line, rag_emoji, vacant_warning
from bot.slack_ui.metadata import ItemRef

CHUNK = 2800              # keep each section under Block Kit's 3000 characters
CARD_DECISION_BLOCKS = 30  # of the /meeting card's 50 blocks, the most its decisions take


def when(starts_at: datetime, tz: ZoneInfo) -> str:
    local = starts_at.astimezone(tz)
    return f"{local:%a} {dates.format_date(local.date())}, {local:%H:%M}"


def _one_line(text: str, limit: int) -> str:
    return people_clip(text, limit, one_line=True)


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


def decision_lines(decisions, shorten: int | None = None) -> list[str]:
    """"Resolved – That (1) …", the following decisions numbered under it (each cut to
    `shorten` characters when given)."""
    lines = []
    for n, dec in enumerate(decisions):
        text = " ".join(dec.text.split())
        body = f"({dec.number}) {people_text(clip(text, shorten) if shorten else text)}"
        if getattr(dec, "withdrawn_at", None) is not None:   # kept, numbered, struck through
            body = f"~{body}~ _(withdrawn)_"
        elif getattr(dec, "corrected_at", None) is not None:
            body += " _(corrected)_"
        lines.append(f"Resolved – That {body}" if n == 0 else body)
    return lines


def _cancelled_line(meetings, tz: ZoneInfo) -> str:
    return "Cancelled: " + "; ".join(
        f"~{when(m.starts_at, tz)}~ (by <@{m.cancelled_by}>)" if m.cancelled_by else f"~{when(m.starts_at, tz)}~"
        for m in meetings)


def action_line(item, today) -> str:
    return f"• *{item.ref}* {_one_line(item.text, 200)} — {owners_line(item)} · {due_line(item, today)}"


# ---- /meeting replies -----------------------------------------------------------------

def meeting_card(view, tz: ZoneInfo) -> Message:
    """`/meeting`: the current or next meeting, its decisions and actions so far."""
    committee, meeting = view.committee, view.meeting
    cancelled = getattr(view, "cancelled", None) or []
    if meeting is None:
        text = (f"{committee.name} has no meeting scheduled. A chair or officer can schedule one with "
                "`/meeting new 3 June 2026 10:00`.")
        msg = Message(text).add(Section(f":calendar: {people_text(text)}"))
        return msg.add(Context(_cancelled_line(cancelled, tz))) if cancelled else msg
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
        Section(f":calendar: *{people_text(committee.name)}*\n{when(meeting.starts_at, tz)}–{local_end:%H:%M} · _{state}_"))
    if view.decisions:
        msg.add(*_card_decisions(view.decisions))
    else:
        msg.add(Context("No decisions yet: `/meeting decision <text>` records one."))
    if view.actions:
        msg.add(*_sections("Actions arising", [action_line(i, today) for i in view.actions]))
    else:
        msg.add(Context('No actions arising yet: `/meeting action <text> owner "Cabinet Member" due 30 September`.'))
    if state != "next meeting":
        msg.add(Context("`/meeting close` marks it held and posts the digest."))
    msg.add(Context("Corrections: `/meeting move <when>` · `/meeting cancel` · "
                    "`/meeting decision <number> correct <text>` · `/meeting decision <number> withdraw`"))
    if cancelled:
        msg.add(Context(_cancelled_line(cancelled, tz)))
    return msg


def _card_decisions(decisions) -> list:
    """The card's decisions, every one listed by number. The card is one message: when the
    decisions in full would take more than CARD_DECISION_BLOCKS sections of it, each is
    shortened, and a note says where they are in full."""
    for shorten in (None, 300, 120, 60):
        sections = _sections("Decisions", decision_lines(decisions, shorten))
        if len(sections) <= CARD_DECISION_BLOCKS:
            break
    if shorten is None:
        return sections
    return [*sections, Context(f"_The {len(decisions)} decisions are shortened here to fit one message; "
                               "the meeting's digest gives each in full._")]


def scheduled(meeting, committee, tz: ZoneInfo) -> Message:
    local_end = meeting.ends_at.astimezone(tz)
    if meeting.recorded_at is not None and meeting.ends_at <= meeting.recorded_at:   # written up afterwards
        text = (f":memo: Recorded a meeting of *{people_text(committee.name)}* held "
                f"{when(meeting.starts_at, tz)}–{local_end:%H:%M}. It stays open so you can write it up.")
        return Message(f"Recorded a meeting of {committee.name} held {when(meeting.starts_at, tz)}").add(
            Section(text),
            Context("Add `/meeting decision <text>` and `/meeting action <text> owner <who> due <when>`, then "
                    "`/meeting close` to post its digest. If nobody closes it, the digest goes on its own after "
                    "the usual delay, counted from now."))
    text = (f":calendar: Scheduled a meeting of *{people_text(committee.name)}*: "
            f"{when(meeting.starts_at, tz)}–{local_end:%H:%M}.")
    return Message(f"Scheduled a meeting of {committee.name}: {when(meeting.starts_at, tz)}").add(
        Section(text),
        Context("During it: `/meeting decision <text>`, `/meeting action <text> owner <who> due <when>`, "
                "then `/meeting close`."))


def decision_recorded(meeting, decision, tz: ZoneInfo) -> Message:
    text = f"Recorded decision ({decision.number}) for the meeting of {when(meeting.starts_at, tz)}"
    return Message(text).add(
        Section(f":white_check_mark: {text}:\nResolved – That ({decision.number}) "
                f"{people_text(' '.join(decision.text.split()))}"))


def action_recorded(meeting, item, today, tz: ZoneInfo) -> Message:
    text = f"Recorded action {item.ref} for the meeting of {when(meeting.starts_at, tz)}"
    msg = Message(text).add(Section(f":white_check_mark: {text}:\n{action_line(item, today)}"))
    warning = vacant_warning(item)
    return msg.add(Section(warning)) if warning else msg


def cancelled(meeting, tz: ZoneInfo) -> Message:
    text = f"Cancelled the meeting of {when(meeting.starts_at, tz)}"
    return Message(text).add(Section(
        f":no_entry_sign: {text}. It stays in the record as cancelled, and no digest will be sent for it."))


def moved(result, tz: ZoneInfo) -> Message:
    meeting = result.meeting
    local_end = meeting.ends_at.astimezone(tz)
    text = (f"Moved the meeting of {when(result.was_starts_at, tz)} to "
            f"{when(meeting.starts_at, tz)}–{local_end:%H:%M}")
    msg = Message(text).add(Section(f":calendar: {text}."))
    if meeting.recorded_at is not None and meeting.ends_at <= meeting.recorded_at:
        msg.add(Context("That time has passed, so it is recorded as held and stays open to be written up: "
                        "`/meeting close` posts its digest."))
    return msg


def decision_edited(edit, tz: ZoneInfo) -> Message:
    meeting, dec = edit.meeting, edit.decision
    held = when(meeting.starts_at, tz)
    if edit.verb == "withdraw":
        text = f"Withdrew decision ({dec.number}) of the meeting of {held}"
        body = (f":wastebasket: {text}. It keeps its number and shows as withdrawn; "
                "it stays in the history and leaves the decision letter.")
    else:
        text = f"Corrected decision ({dec.number}) of the meeting of {held}"
        body = (f":pencil2: {text}:\nResolved – That ({dec.number}) {people_text(' '.join(dec.text.split()))}\n"
                f"_Was: {people_clip(edit.before or '', 300, one_line=True)}_")
    msg = Message(text).add(Section(body))
    if meeting.closed_at is not None:
        msg.add(Context("Its digest has already gone out; `/letter` uses the decisions as they now stand."))
    return msg


def closed(result, tz: ZoneInfo) -> Message:
    meeting = result.meeting
    where = f"<#{meeting.committee.channel_id}>" if meeting.committee.channel_id else "nowhere (no channel is bound)"
    owners = plural(result.dms_queued, "owner")
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
               f"{plural(len(d.decisions), 'decision')}, "
               f"{plural(len(d.actions), 'action')} arising, {d.overdue_count} overdue")
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
        author = f" ({people_text(pos.author_name)})" if pos.author_name else ""
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
    # Updates submitted by owners and not yet accepted: not the latest position yet
    waiting = getattr(d, "awaiting_review", [])
    if waiting:
        lines = [f"• *{item.ref}* {dates.format_date(pos.as_of)} _awaiting review_: {_one_line(pos.text, 200)}"
                 + (f" ({people_text(pos.author_name)})" if pos.author_name else "") for item, pos in waiting]
        msg.add(*_sections(f"Updates awaiting review ({len(waiting)})",
                           _limited(lines[:LIST_LIMIT], len(lines), "`/meeting updates`")))
    # Escalated (still overdue on the date they were escalated for)
    escalated = getattr(d, "escalated", [])
    if escalated:
        msg.add(*_sections(f"Escalated ({len(escalated)})",
                           _limited(escalation_lines(escalated[:LIST_LIMIT]), len(escalated), "`/actions overdue`")))
    # Overdue
    if d.overdue:
        lines = [f"• {rag_emoji(i, today)} *{i.ref}* {_one_line(i.text, 150)} — {owners_line(i)} · {due_line(i, today)}"
                 for i in d.overdue[:LIST_LIMIT]]
        msg.add(*_sections(f"Overdue ({d.overdue_count})", _limited(lines, d.overdue_count, "`/actions overdue`")))
    else:
        msg.add(Section("*Overdue*\n_Nothing is overdue._ :tada:"))
    msg.add(*indicators_ui.digest_section(getattr(d, "indicators", [])))
    counts = " · ".join(f"{RAG_EMOJI[r]} {d.rag_counts.get(r, 0)} {r}" for r in ("red", "amber", "green"))
    msg.add(Divider(), Context(f"Open items by RAG: {counts}"))
    return msg


def owner_digest(d, entries) -> Message:
    """One owner's DM after the meeting: their actions arising and their items that changed."""
    committee, today, tz = d.committee, d.today, d.tz
    held = when(d.meeting.starts_at, tz)
    n = len(entries)
    summary = (f"After the {committee.name} meeting of {held}: {plural(n, 'item')} of yours "
               f"{'is' if n == 1 else 'are'} new or changed")
    msg = Message(summary).add(Section(f"*{people_text(summary)}*"))
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


__all__ = ["cancelled", "decision_edited", "moved", "action_recorded", "closed", "decision_lines", "decision_recorded", "meeting_card", "meeting_digest",
           "owner_digest", "scheduled", "when"]
