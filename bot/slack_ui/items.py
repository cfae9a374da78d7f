"""What Scrutineer says: every reply built as a Message (bot/slack_ui/blocks.py)."""
from __future__ import annotations

import re
from datetime import date

from bot.core import dates
from bot.core.status import RAG_EMOJI, STATUSES
from bot.services.committees import holder_text
from bot.services.items import Change, ItemPage, rag_of
from bot.slack_ui.blocks import Actions, Button, Context, Divider, Header, Message, Section, clip, escape
from bot.slack_ui.metadata import ItemRef
from models.reads import ItemRow, PositionRow, RoleRow
from models.tables import Item, Role

# Buttons on item messages (handlers/items.py answers them).
VIEW_ACTION = "item_view"
HISTORY_ACTION = "item_history"
UPDATE_ACTION = "item_update"   # opens the update form
MORE_ACTION = "list_more"

NO_RAG = ":white_circle:"
MENTION_RE = re.compile(r"<@[UW][A-Z0-9]+>")


def owner_label(role: Role | RoleRow) -> str:
    if role.kind == "person":
        return role.name
    holders = role.current_holders
    if not holders:
        return escape(role.name)
    return f"{escape(role.name)} ({', '.join(holder_label(h) for h in holders)})"


def owners_line(item: Item | ItemRow) -> str:
    return ", ".join(owner_label(o.role) for o in item.owners) or "_no owner_"


def rag_emoji(item: Item | ItemRow, today: date) -> str:
    rag = rag_of(item, today)
    return RAG_EMOJI.get(rag, NO_RAG) if rag else NO_RAG


def due_line(item: Item | ItemRow, today: date) -> str:
    return dates.describe_due(item.due, today, is_open=rag_of(item, today) is not None)


def _kind_word(item: Item | ItemRow) -> str:
    return "Recommendation" if item.kind == "rec" else "Action"


def _keep_mentions(escaped: str) -> str:
    """Undo escape() for user mentions (`<@U123>`), so they show as mentions."""
    return re.sub(r"&lt;(@[UW][A-Z0-9]+)&gt;", r"<\1>", escaped)


def item_list(page: ItemPage, today: date, *, in_dm: bool) -> Message:
    filt = page.filter
    scope = page.committees[0].name if len(page.committees) == 1 else "your committees"
    what = filt.describe()
    kind = "items" if filt.include_closed else "open items"
    if not page.items:
        detail = f" {what}" if what else ""
        if not page.committees:
            return Message("There are no committees you can see yet. An admin can bind a channel with `/scrutiny setup`.")
        return Message(f"No {kind}{detail} in {scope}.").add(
            Section(f":white_check_mark: No {kind}{_keep_mentions(escape(detail))} in {escape(scope)}."))
    first, last = page.offset + 1, page.offset + len(page.items)
    if page.total == 1:
        kind = kind[:-1]  # "1 open item"
    heading = f"{page.total} {kind}{' ' + what if what else ''} — {scope}"
    msg = Message(heading).add(
        Section(f"*{_keep_mentions(escape(heading))}*"),
        Context(f"Showing {first}–{last} of {page.total}, soonest due first"), Divider())
    for item in page.items:
        text = clip(" ".join(item.text.split()), 180)
        ref = item.full_ref if len(page.committees) > 1 or in_dm else item.ref
        msg.add(Section(
            f"{rag_emoji(item, today)} *{ref}* {escape(text)}\n"
            f"{owners_line(item)} · {due_line(item, today)} · _{item.status}_",
            button=Button("View", VIEW_ACTION, ItemRef(item.id))))
    if page.has_more:
        more = type(filt)(**{**filt.__dict__, "offset": page.offset + len(page.items)})
        msg.add(Actions([Button(f"More ({page.total - last} left)", MORE_ACTION, more.to_json())]))
    return msg


def item_card(item: Item | ItemRow, latest: PositionRow | None, today: date) -> Message:
    title = f"{item.full_ref} · {_kind_word(item)} {item.number}"
    rag = rag_of(item, today)
    rag_text = f"{RAG_EMOJI[rag]} {rag.capitalize()}" if rag else f"{NO_RAG} Closed"
    if item.rag_override and rag:
        rag_text += f" (set by hand: {escape(item.rag_reason or '')})"
    fields = [f"*Owners*\n{owners_line(item)}", f"*Status*\n{item.status}", f"*RAG*\n{rag_text}",
              f"*Due*\n{due_line(item, today)}"]
    if item.kind == "rec":
        response = item.exec_response
        if item.exec_response_reason:
            response += f" — {escape(item.exec_response_reason)}"
        fields.append(f"*Executive response*\n{response}")
    msg = Message(f"{title}: {clip(item.text, 200)}").add(
        Header(title), Section(escape(item.text)), Section(fields=fields))
    if latest is not None:
        by = _author(latest)
        msg.add(Section(f"*Latest position* ({dates.format_date(latest.as_of)}{by})\n{escape(latest.text)}"))
    else:
        msg.add(Section("*Latest position*\n_No position recorded yet._"))
    source = item.review.title if item.review is not None else item.committee.name
    msg.add(Context(f"{escape(source)} · {escape(item.committee.name)}"),
            Actions([Button("Update", UPDATE_ACTION, ItemRef(item.id), style="primary"),
                     Button("History", HISTORY_ACTION, ItemRef(item.id))]))
    return msg


def _author(pos: PositionRow, sep: str = " ") -> str:
    if pos.source == "import":
        return f"{sep}from the paper"
    return f"{sep}by {escape(pos.author_name)}" if pos.author_name else ""


def history(item: ItemRow, positions: list[PositionRow], today: date) -> Message:
    title = f"History of {item.full_ref}"
    msg = Message(f"{title} ({len(positions)} positions)").add(
        Header(title), Context(escape(clip(item.text, 300))))
    if not positions:
        return msg.add(Section("_No position recorded yet._"))
    for pos in reversed(positions[-40:]):  # newest first; Block Kit allows 50 blocks
        msg.add(Section(f"*{dates.format_date(pos.as_of)}*{_author(pos, ' · ')}\n{escape(pos.text)}"))
    if len(positions) > 40:
        msg.add(Context(f"{len(positions) - 40} older positions not shown."))
    return msg


def _show(value) -> str:
    if value is None or value == []:
        return "none"
    if isinstance(value, date):
        return dates.format_date(value)
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


def update_result(item: Item | ItemRow, changes: list[Change], latest: PositionRow | None,
                  today: date) -> Message:
    if not changes:
        return Message(f"Nothing changed on {item.full_ref}: it already says that.").add(
            Section(f"Nothing changed on *{item.full_ref}*: it already says that."))
    lines = []
    for c in changes:
        if c.field == "position":
            lines.append(f"• New position recorded for {dates.format_date(today)}: {escape(clip(c.after, 300))}")
        elif c.field in ("rag_reason", "exec_response_reason"):
            if c.after:
                lines.append(f"• Reason: {escape(c.after)}")
        else:
            label = {"exec_response": "Executive response", "rag": "RAG", "due": "Due"}.get(c.field, c.field.capitalize())
            if c.field == "owners":  # a person owner's name is their mention: show it as one
                before, after = (", ".join(n if MENTION_RE.fullmatch(n) else escape(n) for n in names) or "none"
                                 for names in (c.before, c.after))
                lines.append(f"• {label}: {before} → *{after}*")
                continue
            before, after = ("auto" if c.field == "rag" and v is None else _show(v) for v in (c.before, c.after))
            lines.append(f"• {label}: {escape(before)} → *{escape(after)}*")
    summary = f"Updated {item.full_ref}"
    msg = Message(summary).add(Section(f":white_check_mark: *{summary}*\n" + "\n".join(lines)))
    card = item_card(item, latest, today)
    return msg.add(Divider(), *[p for p in card.parts if not isinstance(p, Header)])


def roles_list(roles: list[Role]) -> Message:
    if not roles:
        return Message("No roles yet.").add(Section(
            'No roles yet. Map one with `/scrutiny role "Chairman of the ESCB" @alice`.'))
    lines = []
    for role in roles:
        holders = ", ".join(holder_label(h) for h in role.current_holders) or "_vacant_"
        past = [h for h in role.holders if h.ended_at is not None]
        note = f" (previously {', '.join(holder_label(h) for h in past[-2:])})" if past else ""
        lines.append(f"• *{escape(role.name)}*: {holders}{note}")
    msg = Message(f"{len(roles)} roles").add(Section(f"*Roles ({len(roles)})*"))
    for chunk_start in range(0, len(lines), 30):
        msg.add(Section("\n".join(lines[chunk_start:chunk_start + 30])))
    return msg


def holder_label(h) -> str:
    """A role holder as shown: a live mention for a Slack user, else the name and email a
    person typed, escaped (so `<!channel>` or a disguised link in it stays plain text)."""
    if h.user_id:
        return f"<@{h.user_id}>"
    return escape(holder_text(h))


def committee_bound(committee, created: bool) -> Message:
    privacy = " It is private: only this channel's members (and admins) see its items." if committee.is_private else ""
    return notice(f":white_check_mark: This channel is now {'bound to the new' if created else 'bound to the'} "
                  f"committee *{escape(committee.name)}* (`{escape(committee.code)}`).{privacy}")


def role_assigned(role, ended, started) -> Message:
    if not started:
        return notice(f"Nothing changed: {escape(role.name)} is already held by "
                      f"{', '.join(holder_label(h) for h in role.current_holders)}.")
    was = f" (previously {', '.join(holder_label(h) for h in ended)})" if ended else ""
    return notice(f":white_check_mark: *{escape(role.name)}* is now held by "
                  f"{', '.join(holder_label(h) for h in started)}{was}.")


def notice(text: str) -> Message:
    return Message(text).add(Section(text))


HELP = {
    "actions": ("*/actions* — open items of this channel's committee (in a DM: all yours to see), soonest due first\n"
                "• `/actions overdue` · `/actions mine` · `/actions all` (closed too)\n"
                "• `/actions @alice` · `/actions owner \"Cabinet Member\"`\n"
                "• `/actions due next week` · `/actions due before 30 June`\n"
                "• `/actions status needs clarification` · `/actions search foster carers`\n"
                "Words combine: `/actions mine overdue`."),
    "position": ("*/position* — one recommendation or action\n"
                 "• `/position rec-10` — text, owners, status, RAG, due date, latest position\n"
                 "• `/position rec-10 history` — every dated position\n"
                 "• `/position sg2010/rec-10` — the full ref, when a short one is ambiguous"),
    "update": ("*/update* — record progress (owners, the committee's chair and officers, admins)\n"
               "• `/update rec-10` — a form\n"
               "• `/update rec-10 position Training in place from June`\n"
               f"• `/update rec-10 status in progress` — one of: {', '.join(STATUSES)}\n"
               "• `/update rec-10 due 30 September` — or `end of June`, `in 3 weeks`, `Q3`, `none`\n"
               "• `/update rec-10 owner \"Cabinet Member\"` · `owner @alice`\n"
               "• `/update rec-10 rag red because funding is delayed` · `rag auto`\n"
               "• `/update rec-10 response partially accepted because …`"),
    "scrutiny": ("*/scrutiny* — set up (workspace admins)\n"
                 "• `/scrutiny setup cyp Children and Young People Scrutiny Committee` — bind this channel\n"
                 "• `/scrutiny role \"Chairman of the ESCB\" @alice` — who holds a role (the last holder is kept in history)\n"
                 "• `/scrutiny role chair @alice` · `/scrutiny role officers @bob @carol` — this committee's chair and officers\n"
                 "• `/scrutiny roles` — every role and its holders\n"
                 "• `/scrutiny export` — upload this committee's “Position on recommendations” paper here: `docx` (default), `md`, `csv` or `xlsx`\n"
                 "• `/scrutiny agency add \"Essex Police\" @bob` (or `Jane Smith jane@essex.police.uk`) · `/scrutiny agencies` — partner agencies whose contacts receive decision letters\n"
                 "• `/scrutiny import [sg2010]` — paste a paper or attach its file (chair, officers, admins); preview, then confirm\n"
                 "• Import a paper from the command line: `scrutineer import paper.txt --committee cyp --review sg2010`"),
    "meeting": ("*/meeting* — this channel's committee meetings (the chair, officers and admins make changes)\n"
                "• `/meeting` — the current or next meeting, its decisions and actions so far\n"
                "• `/meeting new 3 June 2026 10:00` — schedule one (`next Tuesday 2pm` works too; two hours long)\n"
                "• `/meeting decision the Cabinet Member report back in September` — numbered (1), (2), … as “Resolved – That …”\n"
                "• `/meeting action Report foster carer numbers owner \"Cabinet Member\" due 30 September` — creates `act-N` (or `owner @alice`)\n"
                "• `/meeting close` — mark it held, post its digest here and DM each owner their new or changed items\n"
                "If nobody closes a meeting, its digest goes on its own a while after it ends."),
}


def help_for(command: str) -> Message:
    text = HELP[command]
    return Message(text.splitlines()[0].replace("*", "")).add(Section(text))
