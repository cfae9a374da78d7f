"""What reminders say: owners' DMs before and after an item falls due, the officers'
Monday summary, the executive-response flag, and the answer to "Snooze a week"."""
from __future__ import annotations

from datetime import date, timedelta

from bot.core import dates
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
from bot.slack_ui.carry import escalation_lines
from bot.slack_ui.items import UPDATE_ACTION
from bot.slack_ui.metadata import ItemRef
from models.reads import CommitteeRow, ItemRow
from models.tables import Committee, Item, Review

SNOOZE_ACTION = "item_snooze"   # handled in handlers/items.py
SUMMARY_LIMIT = 15              # items listed per part of a summary; the rest are counted


def _item_lines(item: Item | ItemRow, today: date, *, closed: bool = False) -> str:
    text = people_clip(item.text, 300, one_line=True)
    due = dates.describe_due(item.due, today, is_open=not closed)
    return f"*{item.full_ref}* {text}\n{due} · _{item.status}_"


def item_buttons(item: Item | ItemRow, *, snooze: bool = True) -> Actions:
    buttons = [Button("Update position", UPDATE_ACTION, ItemRef(item.id), style="primary")]
    if snooze:
        buttons.append(Button("Snooze a week", SNOOZE_ACTION, ItemRef(item.id)))
    return Actions(buttons)


def before_due(item: ItemRow, today: date) -> Message:
    """Sent to each owner some days before an open item falls due."""
    when = dates.describe_due(item.due, today).split(" · ")[-1]
    summary = f"Reminder: {item.full_ref} is {when}"
    return Message(summary).add(
        Section(f":alarm_clock: *{people_text(summary)}*"),
        Section(_item_lines(item, today)),
        Context(f"{people_text(item.committee.name)} · you're getting this because you hold a role that owns it. "
                "Record where it has got to, or snooze this reminder for a week."),
        item_buttons(item))


def overdue(item: ItemRow, today: date, week: int) -> Message:
    """Sent to each owner on the first working day after the due date, then weekly."""
    summary = f"{item.full_ref} is overdue" if week == 0 else f"{item.full_ref} is still overdue"
    return Message(summary).add(
        Section(f":red_circle: *{people_text(summary)}*"),
        Section(_item_lines(item, today)),
        Context(f"{people_text(item.committee.name)} · a weekly reminder while it stays open and overdue. "
                "Record a position or a new due date, or snooze this for a week."),
        item_buttons(item))


def snoozed(item: Item, until: date, today: date, *, already: bool) -> Message:
    """The reminder DM, replaced once "Snooze a week" is pressed."""
    when = dates.format_date(until)
    if already:
        summary = f"{item.full_ref} is already snoozed until {when}"
        note = f":zzz: *{people_text(summary)}* — pressing again doesn't extend it."
    else:
        summary = f"Snoozed until {when}"
        note = f":zzz: *{people_text(summary)}* — no reminders about {item.full_ref} until then."
    return Message(summary).add(Section(note), Section(_item_lines(item, today)), item_buttons(item, snooze=False))


def officer_summary(committee: CommitteeRow, overdue_items: list[ItemRow], soon: list[ItemRow], today: date,
                    week_label: str, soon_days: int, *, escalated: list = ()) -> Message:
    """The Monday summary to each of a committee's officers. week_label (an ISO week) only keys
    the reminder; people see the week as the date of its Monday ("week of 1 June 2026")."""
    week = dates.long_date(today - timedelta(days=today.weekday()))
    summary = (f"{committee.name}: {len(overdue_items)} overdue, {len(soon)} due in the next "
               f"{soon_days} days (week of {week})")
    msg = Message(summary).add(Header(clip(f"Weekly summary — {committee.name}", 150)),
                               Context(f"Week of {week}"))
    if escalated:   # bot.services.escalations.Escalated: still overdue since escalated
        lines = escalation_lines(list(escalated)[:SUMMARY_LIMIT])
        msg.add(Divider(), Section(f":rotating_light: *Escalated ({len(escalated)})*"))
        for start in range(0, len(lines), 8):
            msg.add(Section("\n".join(lines[start:start + 8])))
    for title, rows, emoji, more in (
            ("Overdue", overdue_items, ":red_circle:", "`/actions overdue`"),
            (f"Due in the next {soon_days} days", soon, ":large_orange_circle:",
             f"`/actions due in the next {soon_days} days`")):
        if not rows:
            continue
        msg.add(Divider(), Section(f"{emoji} *{title} ({len(rows)})*"))
        lines = [f"• *{i.full_ref}* {people_clip(i.text, 120, one_line=True)} — "
                 f"{dates.describe_due(i.due, today)} · {_owners(i)}" for i in rows[:SUMMARY_LIMIT]]
        for start in range(0, len(lines), 8):
            msg.add(Section("\n".join(lines[start:start + 8])))
        if len(rows) > SUMMARY_LIMIT:
            msg.add(Context(f"…and {len(rows) - SUMMARY_LIMIT} more: {more} in the committee's channel."))
    return msg


def _owners(item: ItemRow) -> str:
    names = []
    for o in item.owners:
        holders = [f"<@{h.user_id}>" for h in o.role.current_holders if h.user_id]
        names.append(people_text(o.role.name) if o.role.kind == "person" else
                     f"{people_text(o.role.name)}{' (' + ', '.join(holders) + ')' if holders else ''}")
    return ", ".join(names) or "_no owner_"


def exec_response(review: Review, committee: Committee, recs: list[Item], deadline: date, today: date,
                  *, late: bool) -> Message:
    """To officers: recommendations still awaiting the executive's response near (or past)
    the two-month deadline."""
    when = dates.describe_due(deadline, today).split(" · ")[-1]
    if late:
        summary = (f"The executive response to {review.code} is overdue: it was due by "
                   f"{dates.format_date(deadline)}")
    else:
        summary = f"The executive response to {review.code} is {when} ({dates.format_date(deadline)})"
    agreed = dates.format_date(review.agreed_on) if review.agreed_on else "?"
    msg = Message(summary).add(
        Section(f"{':red_circle:' if late else ':hourglass_flowing_sand:'} *{people_text(summary)}*"),
        Context(f"{people_text(review.title)} · agreed {agreed} · {people_text(committee.name)} · the executive must "
                "respond to a scrutiny report within two months"),
        Section(f"*Still awaiting a response ({len(recs)})*\n" + "\n".join(
            f"• *{r.full_ref}* {people_clip(r.text, 120, one_line=True)}" for r in recs[:SUMMARY_LIMIT])))
    if len(recs) > SUMMARY_LIMIT:
        msg.add(Context(f"…and {len(recs) - SUMMARY_LIMIT} more."))
    return msg.add(Context("Record each response with `/update rec-N response accepted` "
                           "(or `partially accepted because …`, `rejected because …`)."))


__all__ = ["SNOOZE_ACTION", "UPDATE_ACTION", "before_due", "exec_response", "item_buttons", "officer_summary",
           "overdue", "snoozed"]
