"""What `/indicator` says: a committee's indicators with their latest figure, RAG and direction
of travel, one indicator's figures by period, and the answers to `add` and `rec`.

The data comes from bot.services.indicators (Standing, Board, Added, Recorded); nothing here
touches the database."""
from __future__ import annotations

from bot.core import dates
from bot.core.status import RAG_EMOJI
from bot.services.indicators import rag as rag_of
from bot.slack_ui.blocks import Context, Header, Message, Section, escape, people_clip

NO_RAG = ":white_circle:"
MAX_LISTED = 40


def number(value: float) -> str:
    """35 → "35", 95.4 → "95.4", 1234.5 → "1,234.5"."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def figure(value: float | None, unit: str | None) -> str:
    if value is None:
        return "—"
    if not unit:
        return number(value)
    return f"{number(value)}{unit}" if unit == "%" else f"{number(value)} {escape(unit)}"


def target_text(ind) -> str:
    if ind.target is None:
        return "no target"
    return f"target {figure(ind.target, ind.unit)} ({'lower' if ind.lower_is_better else 'higher'} is better)"


def rag_text(rag: str | None) -> str:
    return f"{RAG_EMOJI[rag]} {rag.capitalize()}" if rag else f"{NO_RAG} no RAG (no target)"


def direction_text(st) -> str:
    d = st.direction
    if d is None:
        return "first figure" if st.latest else ""
    was = f"{figure(d.previous.value, st.indicator.unit)} in {d.previous.period.label}"
    if d.better is None:
        return f"→ no change from {was}"
    return f"{d.arrow} {d.word} (from {was})"


def _name(ind) -> str:
    return escape(ind.name)


def _owner(ind) -> str:
    return f"owner {escape(ind.owner_role.name)}" if ind.owner_role else "no owner"


def standing_line(st) -> str:
    ind = st.indicator
    if st.latest is None:
        return f"*{_name(ind)}* — no figures yet · {target_text(ind)} · {_owner(ind)}"
    parts = [f"{figure(st.latest.value, ind.unit)} ({st.latest.period.label})", target_text(ind)]
    if st.rag:
        parts.append(rag_text(st.rag))
    if trend := direction_text(st):
        parts.append(trend)
    return f"*{_name(ind)}* — " + " · ".join(parts) + f"\n_{_owner(ind)} · `{ind.slug}`_"


def board(b) -> Message:
    msg = Message(f"Indicators of {b.committee.name}").add(Header(f"Indicators — {b.committee.name}"))
    if not b.standings:
        return msg.add(Section("No indicators yet. The chair or an officer adds one with "
                               "`/indicator add \"Re-referrals within 12 months\" unit % target 25 lower-is-better`."))
    for st in b.standings[:MAX_LISTED]:
        msg.add(Section(standing_line(st)))
    if len(b.standings) > MAX_LISTED:
        msg.add(Context(f"_…and {len(b.standings) - MAX_LISTED} more._"))
    return msg.add(Context("RAG: green meets the target, amber misses it by no more than 10%, red otherwise. "
                           "`/indicator <name> history` for the figures by period."))


def history(st) -> Message:
    ind = st.indicator
    msg = Message(f"{ind.name}: figures by period").add(
        Header(ind.name), Context(f"{target_text(ind)} · {_owner(ind)} · `{ind.slug}`"))
    if not st.points:
        return msg.add(Section(f"No figures yet: `/indicator rec {ind.slug} Q1 2012/13 35`."))
    lines = []
    for p in reversed(st.points):
        r = rag_of(p.value, ind.target, ind.lower_is_better)
        line = f"• *{p.period.label}* — {figure(p.value, ind.unit)} {RAG_EMOJI.get(r, '') if r else ''}".rstrip()
        if p.corrected:
            was = ", ".join(figure(c.value, ind.unit) for c in p.corrected)
            line += f" _(corrected from {was})_"
        if p.note:
            line += f"\n    {people_clip(p.note, 300, one_line=True)}"
        lines.append(line)
    chunk = ""
    for line in lines:
        if len(chunk) + len(line) > 2800:
            msg.add(Section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    return msg.add(Section(chunk))


def added(a) -> Message:
    ind = a.indicator
    text = (f"Added *{_name(ind)}* to {escape(a.committee.name)}: {target_text(ind)}, {_owner(ind)}.\n"
            f"Record a figure with `/indicator rec {ind.slug} Q1 2012/13 35`.")
    if a.owner is not None and not a.owner.current_holders:
        text += f"\n:warning: Nobody holds {escape(a.owner.name)} yet."
    return Message(f"Added indicator {ind.name}").add(Section(text))


def changed(c) -> Message:
    ind = c.indicator
    if c.after == c.before:
        text = f"*{_name(ind)}* already reads so: {target_text(ind)}, {_owner(ind)}."
    else:
        text = f"Changed *{_name(ind)}*: now {target_text(ind)}, {_owner(ind)}."
        if c.owner is not None and not c.owner.current_holders:
            text += f"\n:warning: Nobody holds {escape(c.owner.name)} yet."
    return Message(f"Indicator {ind.name}").add(Section(text))


def recorded(r) -> Message:
    st, p, ind = r.standing, r.point, r.standing.indicator
    verb = "Corrected" if r.replaced is not None else "Recorded"
    text = f"{verb} *{_name(ind)}* for {p.period.label}: {figure(p.value, ind.unit)}"
    if r.replaced is not None:
        text += (f" (was {figure(r.replaced.value, ind.unit)}, recorded "
                 f"{dates.format_date(r.replaced.recorded_at.date())}; kept in the history)")
    text += "."
    if st.latest is p:
        text += f"\n{rag_text(st.rag)} against {target_text(ind)}" if st.rag else "\nNo target, so no RAG"
        if trend := direction_text(st):
            text += f" · {trend}"
    else:
        text += f"\nThe latest figure is still {st.latest.period.label}'s."
    if p.note:
        text += f"\n_{people_clip(p.note, 300, one_line=True)}_"
    return Message(f"{verb} {ind.name} for {p.period.label}").add(Section(text))


# ---- the owner's reminder when a period closes ------------------------------------------------

def figure_due(due) -> Message:
    """A DM to each holder of an indicator's owner role on the first working day after a period
    closes without a figure (and once more, as a chase, some working days later)."""
    ind, period, committee = due.indicator, due.period, due.committee
    summary = (f"{'Still no' if due.chase else 'Time for the'} {period.label} figure for {ind.name}")
    where = f" in <#{committee.channel_id}>" if committee.channel_id else ""
    lead = (f"{period.label} ended on {dates.format_date(period.end)} and no figure has been recorded for it yet."
            if due.chase else f"{period.label} ended on {dates.format_date(period.end)}: please record its figure.")
    msg = Message(summary).add(
        Section(f":bar_chart: *{escape(summary)}*\n{lead}"),
        Section(f"*{_name(ind)}* · {target_text(ind)}\nRecord it{where} with:\n```{escape(due.command)}```"
                "\n(replace `<figure>` with the number; add `note \"…\"` to explain it)"),
        Context(f"{escape(committee.name)} · you're getting this because you hold {escape(ind.owner_role.name)}, "
                "which owns this indicator." if ind.owner_role else escape(committee.name)))
    return msg


# ---- the post-meeting digest's section --------------------------------------------------------

def digest_section(standings) -> list:
    """The digest's "Indicators" section: each indicator's latest figure, target, RAG and
    direction of travel, one line each (nothing when the committee has no indicators)."""
    if not standings:
        return []
    lines = []
    for st in standings[:MAX_LISTED]:
        ind = st.indicator
        if st.latest is None:
            lines.append(f"• {NO_RAG} *{_name(ind)}* — no figures yet · {target_text(ind)}")
            continue
        parts = [f"{figure(st.latest.value, ind.unit)} ({st.latest.period.label})", target_text(ind),
                 rag_text(st.rag)]
        if trend := direction_text(st):
            parts.append(trend)
        lines.append(f"• {RAG_EMOJI.get(st.rag, NO_RAG) if st.rag else NO_RAG} *{_name(ind)}* — " + " · ".join(parts))
    if len(standings) > MAX_LISTED:
        lines.append(f"_…and {len(standings) - MAX_LISTED} more: `/indicator` lists them all._")
    out, chunk = [], "*Indicators*"
    for line in lines:
        if len(chunk) + len(line) > 2800:
            out.append(Section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    out.append(Section(chunk))
    return out
