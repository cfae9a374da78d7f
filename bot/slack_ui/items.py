"""What Scrutineer says: every reply built as a Message (bot/slack_ui/blocks.py)."""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date

from bot.core import dates
from bot.core.status import RAG_EMOJI, STATUSES, is_open, item_overdue
from bot.services.committees import holder_text
from bot.services.items import Change, ItemPage, rag_of
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
    plural,
)
from bot.slack_ui.metadata import CommitteeRename, ItemRef
from models.reads import END, MATCH, ItemRow, PositionRow, RoleRow
from models.tables import Item, Role

# Buttons on item messages (handlers/items.py answers them).
VIEW_ACTION = "item_view"
HISTORY_ACTION = "item_history"
UPDATE_ACTION = "item_update"   # opens the update form
WATCH_ACTION = "item_watch"     # /watch from the card (handlers/watch.py)
MORE_ACTION = "list_more"

NO_RAG = ":white_circle:"


def owner_label(role: Role | RoleRow) -> str:
    if role.kind == "person":
        return people_text(role.name)
    holders = role.current_holders
    if not holders:
        return people_text(role.name)
    return f"{people_text(role.name)} ({', '.join(holder_label(h) for h in holders)})"


def owners_line(item: Item | ItemRow) -> str:
    return ", ".join(owner_label(o.role) for o in item.owners) or "_no owner_"


def rag_emoji(item: Item | ItemRow, today: date) -> str:
    rag = rag_of(item, today)
    return RAG_EMOJI.get(rag, NO_RAG) if rag else NO_RAG


def due_line(item: Item | ItemRow, today: date) -> str:
    if item.due is not None and item.due < today and is_open(item.status) and not item_overdue(item, today):
        until = getattr(item, "paused_until", None)   # on hold: past its date, but not overdue
        return f"{dates.format_date(item.due)} · {item.status}" + (f" until {dates.format_date(until)}" if until else "")
    return dates.describe_due(item.due, today, is_open=rag_of(item, today) is not None)


def _kind_word(item: Item | ItemRow) -> str:
    return "Recommendation" if item.kind == "rec" else "Action"


def item_list(page: ItemPage, today: date, *, in_dm: bool, more_value: str | None = None) -> Message:
    """A page of items. more_value: what the More button carries, when the next page's filter
    is too long for a button's value and was kept server-side (handlers/items.py)."""
    filt = page.filter
    scope = page.committees[0].name if len(page.committees) == 1 else "your committees"
    what = filt.describe()
    kind = "items" if filt.include_closed else "open items"
    if not page.items:
        detail = f" {what}" if what else ""
        if not page.committees:
            return Message("There are no committees you can see yet. An admin can bind a channel with `/scrutiny setup`.")
        return Message(f"No {kind}{detail} in {scope}.").add(
            Section(f":white_check_mark: No {kind}{people_text(detail)} in {people_text(scope)}."))
    first, last = page.offset + 1, page.offset + len(page.items)
    heading = f"{plural(page.total, kind[:-1])}{' ' + what if what else ''} — {scope}"
    msg = Message(heading).add(
        Section(f"*{people_text(heading)}*"),
        Context(f"Showing {first}–{last} of {page.total}, {'best match' if filt.search else 'soonest due'} first"
                if page.total > 1 else "The only one"), Divider())
    for item in page.items:
        ref = item.full_ref if len(page.committees) > 1 or in_dm else item.ref
        found = f"\n_Found:_ {matched_words(item.match)}" if item.match else ""
        msg.add(Section(
            f"{rag_emoji(item, today)} *{ref}* {people_clip(item.text, 180, one_line=True)}\n"
            f"{owners_line(item)} · {due_line(item, today)} · _{item.status}_{found}",
            button=Button("View", VIEW_ACTION, ItemRef(item.id))))
    if page.has_more:
        more = type(filt)(**{**filt.__dict__, "offset": page.offset + len(page.items)})
        msg.add(Actions([Button(f"More ({page.total - last} left)", MORE_ACTION, more_value or more.to_json())]))
    return msg


def matched_words(excerpt: str, limit: int = 240) -> str:
    """A search's excerpt (models/reads.py: the matched words between MATCH and END) for
    mrkdwn: on one line, at most `limit` characters, the matched words in bold and the rest
    escaped as people's text."""
    text = clip(" ".join(excerpt.split()), limit)
    out = []
    for n, part in enumerate(text.replace(END, MATCH).split(MATCH)):
        part = people_text(part)
        out.append(f"*{part}*" if n % 2 and part.strip() else part)
    return "".join(out)


def item_card(item: Item | ItemRow, latest: PositionRow | None, today: date) -> Message:
    title = f"{item.full_ref} · {_kind_word(item)} {item.number}"
    rag = rag_of(item, today)
    rag_text = f"{RAG_EMOJI[rag]} {rag.capitalize()}" if rag else f"{NO_RAG} Closed"
    if item.rag_override and rag:
        rag_text += f" (set by hand: {people_text(item.rag_reason)})"
    # A closed item's due date is just a date ("Due: 31 Mar 2027", not "Due: due 31 Mar 2027").
    due = due_line(item, today) if rag or item.due is None else dates.format_date(item.due)
    status = item.status
    if getattr(item, "paused_until", None) is not None:
        status += f" until {dates.format_date(item.paused_until)} — {people_text(item.pause_reason)}"
    fields = [f"*Owners*\n{owners_line(item)}", f"*Status*\n{status}", f"*RAG*\n{rag_text}",
              f"*Due*\n{due}"]
    if item.kind == "rec":
        response = item.exec_response
        if item.exec_response_reason:
            response += f" — {people_text(item.exec_response_reason)}"
        fields.append(f"*Executive response*\n{response}")
    msg = Message(f"{title}: {clip(item.text, 200)}").add(
        Header(title), Section(people_text(item.text)), Section(fields=fields))
    if latest is not None:
        by = _author(latest)
        msg.add(Section(f"*Latest position* ({dates.format_date(latest.as_of)}{by})\n{people_text(latest.text)}"))
    else:
        msg.add(Section("*Latest position*\n_No position recorded yet._"))
    # The paper it came from and the committee; an action from a meeting names the committee once.
    footer = [item.review.title] if item.review is not None else []
    msg.add(Context(" · ".join(people_text(s) for s in footer + [item.committee.name])),
            Actions([Button("Update", UPDATE_ACTION, ItemRef(item.id), style="primary"),
                     Button("History", HISTORY_ACTION, ItemRef(item.id)),
                     Button("Watch", WATCH_ACTION, ItemRef(item.id))]))
    return msg


def _author(pos: PositionRow, sep: str = " ") -> str:
    if pos.source == "import":
        return f"{sep}from the paper"
    return f"{sep}by {people_text(pos.author_name)}" if pos.author_name else ""


def _review_label(pos: PositionRow) -> str:
    """An owner's update not (yet) accepted is no position of the committee's: say so."""
    state = getattr(pos, "review_state", "accepted")
    if state == "submitted":
        return " · _awaiting review_ (not yet the latest position)"
    if state == "returned":
        return " · _returned to its author_ (not a position)"
    return ""


def history(item: ItemRow, positions: list[PositionRow], today: date) -> Message:
    title = f"History of {item.full_ref}"
    msg = Message(f"{title} ({plural(len(positions), 'position')})").add(
        Header(title), Context(people_clip(item.text, 300)))
    if not positions:
        return msg.add(Section("_No position recorded yet._"))
    for pos in reversed(positions[-40:]):  # newest first; Block Kit allows 50 blocks
        msg.add(Section(f"*{dates.format_date(pos.as_of)}*{_author(pos, ' · ')}{_review_label(pos)}\n"
                        f"{people_text(pos.text)}"))
    if len(positions) > 40:
        msg.add(Context(f"{plural(len(positions) - 40, 'older position')} not shown: the export has them all."))
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
            lines.append(f"• New position recorded for {dates.format_date(today)}: {people_clip(c.after, 300)}")
        elif c.field in ("rag_reason", "exec_response_reason"):
            if c.after:
                lines.append(f"• Reason: {people_text(c.after)}")
        else:
            label = {"exec_response": "Executive response", "rag": "RAG", "due": "Due"}.get(c.field, c.field.capitalize())
            if c.field == "owners":  # a person owner's name is their mention: show it as one
                before, after = (", ".join(people_text(n) for n in names) or "none"
                                 for names in (c.before, c.after))
                lines.append(f"• {label}: {before} → *{after}*")
                continue
            before, after = ("auto" if c.field == "rag" and v is None else _show(v) for v in (c.before, c.after))
            lines.append(f"• {label}: {people_text(before)} → *{people_text(after)}*")
    summary = f"Updated {item.full_ref}"
    msg = Message(summary).add(Section(f":white_check_mark: *{summary}*\n" + "\n".join(lines)))
    if any(c.field == "owners" for c in changes) and (warning := vacant_warning(item)):
        msg.add(Section(warning))   # never left with no holder without a word
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
        lines.append(f"• *{people_text(role.name)}*: {holders}{note}")
    msg = Message(plural(len(roles), "role")).add(Section(f"*Roles ({len(roles)})*"))
    for chunk_start in range(0, len(lines), 30):
        msg.add(Section("\n".join(lines[chunk_start:chunk_start + 30])))
    return msg


def holder_label(h) -> str:
    """A role holder as shown: a live mention for a Slack user, else the name and email a
    person typed, escaped (so `<!channel>` or a disguised link in it stays plain text)."""
    if h.user_id:
        return f"<@{h.user_id}>"
    return people_text(holder_text(h))


def committee_bound(committee, created: bool) -> Message:
    privacy = " It is private: only this channel's members (and admins) see its items." if committee.is_private else ""
    return notice(f":white_check_mark: This channel is now {'bound to the new' if created else 'bound to the'} "
                  f"committee *{people_text(committee.name)}* (`{people_text(committee.code)}`).{privacy}")


RENAME_ACTION = "committee_rename"          # handlers/admin.py answers these
KEEP_NAME_ACTION = "committee_keep_name"


def rename_question(setup, channel_id: str | None) -> Message:
    """`/scrutiny setup cyp <another name>` on an existing committee: what would change, and a
    button to do it (nothing changes until it is pressed)."""
    committee = setup.committee
    lines = [f"• Name: {people_text(committee.name)} → *{people_text(setup.rename_to)}*"]
    if setup.moves_channel:
        was = f"<#{committee.channel_id}>" if committee.channel_id else "no channel"
        lines.append(f"• Channel: {was} → *this channel*")
    text = f"Rename the committee `{committee.code}`?"
    # Two names of up to 300 characters each fit a button's 2,000 when not \u-escaped.
    meta = json.dumps(asdict(CommitteeRename(committee.id, committee.name, setup.rename_to, channel_id)),
                      ensure_ascii=False, separators=(",", ":"))
    return Message(f"{text} {committee.name} → {setup.rename_to}").add(
        Section(f":question: *{people_text(text)}* Nothing has changed yet.\n" + "\n".join(lines)),
        Context("Its items, meetings and letters stay as they are; its chair and officer roles keep their names."),
        Actions([Button("Rename", RENAME_ACTION, meta, style="primary"),
                 Button("Keep the name", KEEP_NAME_ACTION, meta)]))


def renamed(committee) -> Message:
    return notice(f":white_check_mark: Renamed: this channel's committee is now *{people_text(committee.name)}* "
                  f"(`{people_text(committee.code)}`).")


def role_assigned(role, ended, started) -> Message:
    if not started:
        return notice(f"Nothing changed: {people_text(role.name)} is already held by "
                      f"{', '.join(holder_label(h) for h in role.current_holders)}.")
    was = f" (previously {', '.join(holder_label(h) for h in ended)})" if ended else ""
    return notice(f":white_check_mark: *{people_text(role.name)}* is now held by "
                  f"{', '.join(holder_label(h) for h in started)}{was}.")


def vacant_owners(item) -> list[str]:
    """The names of an item's owning roles that nobody holds (so nobody would be reminded)."""
    return [o.role.name for o in item.owners if o.role.kind != "person" and not o.role.current_holders]


def vacant_warning(item) -> str | None:
    vacant = vacant_owners(item)
    if not vacant:
        return None
    names = ", ".join(f"*{people_text(n)}*" for n in vacant)
    first = people_text(vacant[0]).replace('"', "'")
    who = ("Nobody will be reminded" if len(vacant) == len(item.owners)
           else "Only the other owners will be reminded")
    return (f":bell: Nobody holds {names}. {who} about {item.ref} until an admin maps "
            f"{'it' if len(vacant) == 1 else 'them'}: `/scrutiny role \"{first}\" @someone`.")


def notice(text: str) -> Message:
    return Message(text).add(Section(text))


HELP = {
    "actions": ("*/actions* — open items of this channel's committee (in a DM: all yours to see), soonest due first\n"
                "• `/actions overdue` · `/actions mine` · `/actions all` (closed too)\n"
                "• `/actions @alice` · `/actions owner \"Cabinet Member\"` · `/actions owner chair` (also `officers`, `vice chair`: this committee's)\n"
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
               "• `/update rec-10 owner \"Cabinet Member\"` · `owner @alice` · `owner chair` — a role the workspace has "
               "(an admin creates one with `/scrutiny role`); you are told when nobody holds it\n"
               "• `/update rec-10 rag red because funding is delayed` · `rag auto`\n"
               "• `/update rec-10 response partially accepted because …`\n"
               "• `/update rec-2 status paused until March because …` · `status deferred until 1 April because …` — "
               "on hold with a reason and a day to resume: not overdue and not chased until then"),
    "watch": ("*/watch* — a DM when an item's position or status changes, without owning it\n"
              "• `/watch rec-10` — start watching (or press *Watch* on an item)\n"
              "• `/watch` — what you watch\n"
              "• `/watch rec-10 off` — stop"),
    "scrutiny": ("*/scrutiny* — set up (workspace admins)\n"
                 "• `/scrutiny setup cyp Children and Young People Scrutiny Committee` — bind this channel (a new name for an existing committee is asked first: *Rename* or *Keep the name*)\n"
                 "• `/scrutiny role \"Chairman of the ESCB\" @alice` — who holds a role (the last holder is kept in history)\n"
                 "• `/scrutiny role chair @alice` · `/scrutiny role \"vice chair\" @dave` · `/scrutiny role officers @bob @carol` — this committee's chair, vice chair and officers (type @ and pick the person, so they become a mention)\n"
                 "• `/scrutiny roles` — every role and its holders\n"
                 "• `/scrutiny settings` — the council's settings (a form): council name, time zone, bank holidays (England and Wales, Scotland, Northern Ireland), digest delay, reminder lead time, escalation days and whom to escalate to, meeting length; in a committee's channel also that committee's own update-request days and escalation\n"
                 "• `/scrutiny admin add @someone` · `admin remove @someone` · `admin list` — admins besides the workspace's own admins and owners (this workspace only)\n"
                 "• `/scrutiny export` — upload this committee's “Position on recommendations” paper here: `docx` (default), `md`, `csv` or `xlsx`\n"
                 "• `/scrutiny report` · `/scrutiny report since 1 March 2026` · `/scrutiny report cyp` — how the recommendations fare (made, accepted, implemented, signed off, overdue, time to implement, by owner and partner agency, the change since the last report), with a chart posted here; for the agenda pack: `scrutineer report --committee cyp --format docx`\n"
                 "• `/scrutiny agency add \"Essex Police\" @bob` (or `Jane Smith jane@essex.police.uk`) · `/scrutiny agencies` — partner agencies whose contacts receive decision letters\n"
                 "• `/scrutiny agency remove \"Essex Police\"` · `/scrutiny agency remove-contact \"Essex Police\" @bob` — no letters to them from now on (kept in the letters already sent)\n"
                 "• `/scrutiny import [sg2010]` — paste a paper or attach its file (chair, officers, admins); preview, then confirm\n"
                 "• `/scrutiny publish on` · `publish off` — a public web page of this committee's recommendations (owners by role, status, RAG, latest position, CSV download); chair, officers, admins; never for a private committee\n"
                 "• Import a paper from the command line: `scrutineer import paper.txt --committee cyp --review sg2010`"),
    "meeting": ("*/meeting* — this channel's committee meetings (the chair, officers and admins make changes)\n"
                "• `/meeting` — the current or next meeting, its decisions and actions so far\n"
                "• `/meeting new 3 June 2026 10:00` — schedule one (`next Tuesday 2pm` works too; two hours long unless the council's settings say otherwise); a time already past records a meeting held, to write it up\n"
                "• `/meeting decision the Cabinet Member report back in September` — numbered (1), (2), … as “Resolved – That …”\n"
                "• `/meeting action Report foster carer numbers owner \"Cabinet Member\" due 30 September` — creates `act-N` (or `owner @alice`)\n"
                "• `/meeting agenda` — items due for report (carried forward and new), changes since the last meeting, overdue; **Post to channel**\n"
                "• `/meeting drop rec-3 not due until spring` · `/meeting undrop rec-3` — drop an open item from the next meeting's agenda (its owners aren't asked for an update for it, nor chased) · put it back\n"
                "• `/meeting close` — mark it held, post its digest here and DM each owner their new or changed items\n"
                "• `/meeting move 10 June 2026 14:00` · `/meeting cancel` — the meeting `/meeting` shows (a cancelled one never gets a digest)\n"
                "• `/meeting decision 3 correct <text>` · `/meeting decision 3 withdraw` — the old text stays in the history; withdrawn ones keep their number\n"
                "• `/meeting updates` — who has sent the update asked of owners before the meeting and who has not, with *Chase everyone outstanding*\n"
                "If nobody closes a meeting, its digest goes on its own a while after it ends."),
    "indicator": ("*/indicator* — this channel's committee's performance indicators (the chair, officers and admins make changes)\n"
                  "• `/indicator` — every indicator: latest figure, target, RAG (green meets the target, amber misses it by no more than 10%, red otherwise) and direction of travel (↑/↓, better or worse than the period before)\n"
                  "• `/indicator add \"Re-referrals within 12 months\" unit % target 25 lower-is-better owner \"Head of Service\"` — `unit`, `target`, `lower-is-better` and `owner` are optional (the owner is a role the workspace has)\n"
                  "• `/indicator set re-referrals owner \"Head of Service\" target 20` — change an indicator's owner, target, unit or direction (`lower-is-better` / `higher-is-better`)\n"
                  "• `/indicator rec re-referrals Q1 2012/13 35 note \"13 families\"` — a figure for a period (the indicator's owner may record too); the name can be shortened to any unique start\n"
                  "• Periods: `Q1 2012/13` (financial-year quarter: Q1 is April–June 2012), `June 2012`, `2012/13` (financial year), `2012` (calendar year)\n"
                  "• Recording a period again corrects it; the earlier figure stays in the history\n"
                  "• `/indicator re-referrals history` — the figures by period, with a chart posted here\n"
                  "• When a period closes, the owner's holders get a DM on the first working day after it asking for the figure (once more 10 working days later if there's still none)\n"
                  "• A table of figures (indicator, period, value, target; CSV or XLSX): `scrutineer import indicators.csv --committee cyp` (`--dry-run` first); the indicators appear in the meeting digest and in `scrutineer report`"),
}


def help_for(command: str) -> Message:
    text = HELP[command]
    return Message(text.splitlines()[0].replace("*", "")).add(Section(text))
