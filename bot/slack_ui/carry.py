"""What carrying items forward says: watchers' DMs and answers to `/watch`, and escalations to
a committee's chair and officers."""
from __future__ import annotations

from datetime import date

from bot.core import dates
from bot.slack_ui.blocks import Actions, Button, Context, Message, Section, people_clip, people_text, plural
from bot.slack_ui.items import UPDATE_ACTION, VIEW_ACTION, owners_line
from bot.slack_ui.metadata import ItemRef
from models.reads import ItemRow

CHASE_ACTION = "item_chase"     # on an escalation: DM the owners now (handlers/watch.py)
UNWATCH_ACTION = "item_unwatch"


def _line(item: ItemRow, today: date) -> str:
    return (f"*{item.full_ref}* {people_clip(item.text, 160, one_line=True)}\n"
            f"{owners_line(item)} · {dates.describe_due(item.due, today)} · _{item.status}_")


def watched_change(item: ItemRow, changes: list, actor: str, today: date) -> Message:
    """To each watcher of an item: its new position or status."""
    said = []
    for c in changes:
        if c.field == "status":
            said.append(f"status *{people_text(str(c.before))}* → *{people_text(str(c.after))}*")
        elif c.field == "position":
            said.append(f"a new position: {people_clip(str(c.after), 600)}")
    summary = f"{item.full_ref} changed: " + "; ".join(s.replace("*", "") for s in said)
    return Message(people_clip(summary, 300)).add(
        Section(f":eyes: <@{actor}> updated *{item.full_ref}* — " + "; ".join(said)),
        Section(_line(item, today)),
        Context(f"{people_text(item.committee.name)} · you watch this item. `/watch {item.ref} off` stops these."),
        Actions([Button("View", VIEW_ACTION, ItemRef(item.id)),
                 Button("Stop watching", UNWATCH_ACTION, ItemRef(item.id))]))


def now_watching(item, *, newly: bool) -> Message:
    text = (f":eyes: You're watching *{item.full_ref}*: you'll get a DM when its position or status changes. "
            f"`/watch {item.ref} off` stops it." if newly else f"You already watch *{item.full_ref}*.")
    return Message(text.replace("*", "")).add(Section(text))


def stopped_watching(item, *, was: bool) -> Message:
    text = f"You no longer watch *{item.full_ref}*." if was else f"You weren't watching *{item.full_ref}*."
    return Message(text.replace("*", "")).add(Section(text))


def watch_list(rows: list[ItemRow], today: date) -> Message:
    if not rows:
        text = "You don't watch any items. `/watch rec-10` tells you when rec-10's position or status changes."
        return Message(text).add(Section(text))
    heading = f"You watch {plural(len(rows), 'item')}"
    msg = Message(heading).add(Section(f"*{heading}*"))
    for item in rows[:40]:
        msg.add(Section(_line(item, today), button=Button("Stop", UNWATCH_ACTION, ItemRef(item.id))))
    if len(rows) > 40:
        msg.add(Context(f"…and {len(rows) - 40} more."))
    return msg


def escalation(item: ItemRow, days_late: int, today: date) -> Message:
    """To a committee's chair and officers, once, when an item is overdue by more than N working days."""
    summary = f"Escalated: {item.full_ref} is {plural(days_late, 'working day')} overdue"
    return Message(summary).add(
        Section(f":rotating_light: *{people_text(summary)}*"),
        Section(_line(item, today)),
        Context(f"{people_text(item.committee.name)} · owner: {owners_line(item)} · was due "
                f"{dates.format_date(item.due)}. Chase the owner now, or record a revised date."),
        Actions([Button("Chase the owner", CHASE_ACTION, ItemRef(item.id), style="primary"),
                 Button("Record a revised date", UPDATE_ACTION, ItemRef(item.id))]))


def escalation_lines(entries) -> list[str]:
    """One line per standing escalation (bot.services.escalations.Escalated): the item, its owner,
    how many working days late it is and since when it is escalated — for the digest and the
    officers' Monday summary."""
    return [f"• :rotating_light: *{e.item.full_ref}* — {owners_line(e.item)} · "
            f"{plural(e.days_late, 'working day')} late · escalated since {dates.format_date(e.escalated_on)}"
            for e in entries]


def chased(item, users: list[str]) -> Message:
    if not users:
        text = f"Nobody holds the roles that own *{item.full_ref}*, so there is nobody to chase."
    else:
        text = f":outbox_tray: Chased {', '.join(f'<@{u}>' for u in users)} about *{item.full_ref}*."
    return Message(text.replace("*", "")).add(Section(text))
