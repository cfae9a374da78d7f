"""The export `--since-last-meeting`: what changed since the committee's last meeting — new
positions, status changes and items closed — as Markdown or Word. The content is
bot.services.agenda's (the same as `/meeting agenda`'s "Changes since the last meeting"), so the
two never disagree. Positions shown are accepted ones; updates awaiting review are labelled so."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.dates import long_date
from bot.services.agenda import Agenda, since_last_meeting
from models.tables import Position

FORMATS = ("md", "docx")
MIMETYPES = {"md": "text/markdown",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@dataclass
class Change:
    ref: str
    text: str                   # the item's text
    what: str                   # "New position (3 June 2026)" / "Status: in progress → implemented" / "Closed"
    detail: str = ""            # a position's text


@dataclass
class ChangesPaper:
    committee: str
    committee_code: str
    as_of: date
    since: str                  # "the meeting of 3 June 2026"
    next_meeting: str | None    # "the meeting of 1 July 2026", when one is scheduled
    changes: list[Change] = field(default_factory=list)
    awaiting: list[Change] = field(default_factory=list)   # updates submitted, not yet accepted

    @property
    def title(self) -> str:
        return f"Changes since {self.since} – {self.committee}"

    @property
    def file_stem(self) -> str:
        return f"changes-{self.committee_code}-{self.as_of.isoformat()}"


def _day(at: datetime, tz) -> str:
    return long_date(at.astimezone(tz).date())


def from_agenda(a: Agenda, tz) -> ChangesPaper:
    since = f"the meeting of {_day(a.previous.starts_at, tz)}" if a.previous is not None else "the start"
    upcoming = f"the meeting of {_day(a.meeting.starts_at, tz)}" if a.meeting is not None else None
    paper = ChangesPaper(a.committee.name, a.committee.code, a.today, since, upcoming)
    for r, p in a.positions:
        if getattr(p, "review_state", "accepted") != "accepted":
            continue
        paper.changes.append(Change(r.ref, r.text, f"New position ({long_date(p.as_of)})", p.text))
    for r, before, after in a.status_changes:
        if r in a.closed:
            continue
        paper.changes.append(Change(r.ref, r.text, f"Status: {before or '—'} → {after}"))
    for r in a.closed:
        paper.changes.append(Change(r.ref, r.text, f"Closed: {r.status} — drops off the next agenda"))
    return paper


async def build_changes(session: AsyncSession, team_id: str, committee_code: str, now: datetime, tz) -> ChangesPaper:
    a = await since_last_meeting(session, team_id, committee_code, now, tz)
    paper = from_agenda(a, tz)
    ids = {r.id: r for r in a.carried + a.new + a.closed}
    if ids:
        for p in await session.scalars(select(Position).where(
                Position.item_id.in_(list(ids)), Position.review_state == "submitted")
                .order_by(Position.created_at, Position.id)):
            r = ids[p.item_id]
            paper.awaiting.append(Change(r.ref, r.text, f"Update awaiting review (submitted {long_date(p.as_of)})",
                                         p.text))
    return paper


# ---- Markdown ---------------------------------------------------------------------------------

def _md(text: str) -> str:
    """People's text on one line, with what Markdown would act on escaped."""
    out = " ".join((text or "").split())
    for ch in "\\`*_[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return out


def render_markdown(paper: ChangesPaper) -> bytes:
    lines = [f"# {_md(paper.title)}", "", f"**Committee:** {_md(paper.committee)}  ",
             f"**Date:** {long_date(paper.as_of)}" + (f"  \n**For:** {paper.next_meeting}" if paper.next_meeting else ""),
             "", "## What changed", ""]
    if not paper.changes:
        lines += ["_No changes._", ""]
    for c in paper.changes:
        lines.append(f"- **{_md(c.ref)}** {_md(c.what)} — {_md(c.text)[:300]}")
        if c.detail:
            lines.append(f"  > {_md(c.detail)}")
    if paper.awaiting:
        lines += ["", "## Updates awaiting review (not yet accepted: not the latest position)", ""]
        for c in paper.awaiting:
            lines += [f"- **{_md(c.ref)}** {_md(c.what)}", f"  > {_md(c.detail)}"]
    return ("\n".join(lines).rstrip() + "\n").encode("utf-8")


# ---- Word -------------------------------------------------------------------------------------

def _clean(text: str) -> str:
    """Text Word can hold: control characters (but tab and newline) dropped."""
    return "".join(ch for ch in (text or "") if ch in "\t\n" or ord(ch) >= 32)


def render_docx(paper: ChangesPaper) -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading(_clean(paper.title), level=1)
    doc.add_paragraph(f"{_clean(paper.committee)} · {long_date(paper.as_of)}"
                      + (f" · for {paper.next_meeting}" if paper.next_meeting else ""))
    doc.add_heading("What changed", level=2)
    if not paper.changes:
        doc.add_paragraph("No changes.").runs[0].italic = True
    for c in paper.changes:
        p = doc.add_paragraph(style="List Bullet")
        p.add_run(c.ref).bold = True
        p.add_run(f" {_clean(c.what)} — {_clean(' '.join(c.text.split()))[:300]}")
        if c.detail:
            doc.add_paragraph(_clean(c.detail), style="Quote")
    if paper.awaiting:
        doc.add_heading("Updates awaiting review (not yet accepted)", level=2)
        for c in paper.awaiting:
            p = doc.add_paragraph(style="List Bullet")
            p.add_run(c.ref).bold = True
            p.add_run(f" {_clean(c.what)}")
            doc.add_paragraph(_clean(c.detail), style="Quote")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def render(paper: ChangesPaper, fmt: str) -> tuple[bytes, str, str]:
    fmt = {"markdown": "md"}.get(fmt.lower().lstrip("."), fmt.lower().lstrip("."))
    if fmt not in FORMATS:
        raise ValueError(f"the changes since the last meeting come as {' or '.join(FORMATS)}, not {fmt!r}")
    data = render_markdown(paper) if fmt == "md" else render_docx(paper)
    return data, f"{paper.file_stem}.{fmt}", MIMETYPES[fmt]


__all__ = ["ChangesPaper", "build_changes", "from_agenda", "render", "render_docx", "render_markdown"]
