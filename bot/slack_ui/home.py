"""The App Home tab, drawn from what bot.services.home reads (HomeData); nothing here touches
the database. Published when the person opens the tab (handlers/home.py), and when a queued
refresh is sent (the dispatcher's view builder, wired in bot/scheduled.py)."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.core import dates
from bot.core.status import item_overdue
from bot.services.home import HomeData
from bot.slack_ui.blocks import Button, Context, Divider, Header, Message, Section, people_clip, people_text, plural
from bot.slack_ui.items import UPDATE_ACTION, due_line, rag_emoji
from bot.slack_ui.metadata import ItemRef


def home_view(data: HomeData) -> dict:
    """The Home tab as a views.publish view, as of data.now in data.tz."""
    msg = home(data, data.now.astimezone(data.tz).date(), data.tz)
    return {"type": "home", "blocks": msg.to_blocks()}


def home(data: HomeData, today: date, tz: ZoneInfo) -> Message:
    """The App Home tab: the person's own open items, overdue first; their committees' next
    meetings; letters awaiting their acknowledgement."""
    overdue = sum(1 for i in data.items if item_overdue(i, today))
    total = len(data.items) + data.more_items
    summary = f"Scrutineer: {plural(total, 'open item')} of yours" + (
        f", {overdue} overdue" if overdue else "")
    msg = Message(summary).add(Header("Your open items"))
    if not data.items:
        msg.add(Section("You don't own any open recommendations or actions. :tada:"),
                Context("Items are owned by roles; an admin maps roles to people with `/scrutiny role`."))
    elif overdue:
        msg.add(Context(f":red_circle: {overdue} overdue — shown first"))
    for item in data.items:
        msg.add(Section(f"{rag_emoji(item, today)} *{item.full_ref}* {people_clip(item.text, 150, one_line=True)}\n"
                        f"{due_line(item, today)} · _{item.status}_",
                        button=Button("Update", UPDATE_ACTION, ItemRef(item.id))))
    if data.more_items:
        msg.add(Context(f"…and {data.more_items} more: `/actions mine` lists them all."))
    msg.add(Divider(), Header("Next meetings"))
    if not data.meetings:
        msg.add(Context("No meetings scheduled. A chair or officer schedules one with `/meeting new 3 June 2026 10:00`."))
    for meeting in data.meetings:
        start = meeting.starts_at.astimezone(tz)
        now_on = " · _in progress_" if data.now is not None and meeting.starts_at <= data.now else ""
        msg.add(Section(f":calendar: *{people_text(meeting.committee.name)}*\n"
                        f"{start:%a} {dates.format_date(start.date())}, {start:%H:%M}{now_on}"))
    msg.add(Divider(), Header("Letters awaiting your acknowledgement"))
    if not data.letters:
        msg.add(Context("None — you're up to date."))
    for waiting in data.letters:
        sent = waiting.letter.sent_at.astimezone(tz)
        agency = f" ({people_text(waiting.recipient.agency)})" if waiting.recipient.agency else ""
        msg.add(Section(f":envelope: *Decision letter from {people_text(waiting.committee.name)}*{agency}\n"
                        f"Sent {dates.format_date(sent.date())} {sent:%H:%M} · press *Acknowledge receipt* "
                        "on the letter in your messages with Scrutineer"))
    if data.more_letters:
        msg.add(Context(f"…and {data.more_letters} more."))
    return msg


__all__ = ["home", "home_view"]
