"""What the "Position on recommendations" paper says, built once from the database.

Every format renders this same PositionPaper, so the DOCX for the agenda pack, the
Markdown, the CSV and the XLSX never disagree. Plain data: no Slack, no files."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.dates import long_date
from bot.core.errors import NotFound, UserError
from bot.core.status import RAGS, STATUSES
from bot.services.items import rag_of
from bot.services.settings import council_name
from models.queries import committee_by_code
from models.reads import latest_positions
from models.tables import Item, Position, Review

_PERSON = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass
class PaperRow:
    ref: str                    # rec-10
    number: str                 # "10"; "sg2010/10" in a paper that covers several reviews
    text: str                   # paragraphs joined by "\n"
    owners: list[str]           # role names, in the item's order
    due: date | None
    status: str
    rag: str | None             # red/amber/green; None once closed
    position: str | None        # the latest position, paragraphs joined by "\n"
    position_date: date | None
    review_code: str | None = None
    full_ref: str = ""          # sg2010/rec-10
    # An owner's update submitted and not yet accepted: shown labelled "awaiting review", never as
    # the position (the CSV and XLSX, which import back, leave it out).
    awaiting: str | None = None
    awaiting_date: date | None = None


@dataclass
class PositionPaper:
    council: str                # the workspace (council) name; may be empty
    committee: str              # committee name
    committee_code: str
    heading: str                # "Position on Safeguarding Recommendations"
    as_of: date                 # the date the paper reports at
    rows: list[PaperRow] = field(default_factory=list)
    review_code: str | None = None
    review_title: str | None = None
    agreed_on: date | None = None

    @property
    def title(self) -> str:
        return f"{self.heading} – {long_date(self.as_of)}"

    @property
    def file_stem(self) -> str:
        scope = self.review_code or self.committee_code
        return f"position-{scope}-{self.as_of.isoformat()}"

    @property
    def status_counts(self) -> dict[str, int]:
        """How many rows have each status, in the vocabulary's order (only those present)."""
        counts = Counter(r.status for r in self.rows)
        ordered = {s: counts[s] for s in STATUSES if counts[s]}
        ordered.update({s: n for s, n in counts.items() if s not in ordered})
        return ordered

    @property
    def rag_counts(self) -> dict[str, int]:
        """Red, amber and green among the open rows (closed ones have no RAG)."""
        counts = Counter(r.rag for r in self.rows if r.rag)
        return {rag: counts[rag] for rag in RAGS}

    def summary(self) -> str:
        """One sentence: "13 recommendations: 12 in progress, 1 needs clarification. RAG: 0 red, …"."""
        n = len(self.rows)
        statuses = ", ".join(f"{c} {s}" for s, c in self.status_counts.items())
        rag = ", ".join(f"{c} {r}" for r, c in self.rag_counts.items())
        open_rows = sum(1 for r in self.rows if r.rag)
        out = f"{n} recommendation{'s' if n != 1 else ''}: {statuses}."
        if open_rows:
            out += f" RAG of the {open_rows} open: {rag}."
        return out


def heading_for(review_title: str | None, review_code: str | None, committee_name: str) -> str:
    """"Position on <review title>", without saying "Position on" twice."""
    if review_title is None:
        return f"Position on {committee_name} Recommendations"
    title = " ".join(review_title.split())
    if not title or title.lower() == (review_code or "").lower():
        return f"Position on {(review_code or 'the').upper()} Recommendations"
    if title.lower().startswith("position on "):
        return "Position on " + title[len("position on "):]
    return f"Position on {title}"


async def build_position_paper(session: AsyncSession, team_id: str, committee_code: str,
                               review_code: str | None = None, *, today: date,
                               directory=None) -> PositionPaper:
    """The paper for one review, or for a committee.

    Without a review code: the committee's only review when it has one; when it has
    several, every recommendation of the committee, numbered "sg2010/10" so they
    stay apart. Recommendations only (not actions), closed ones too, in number order.
    `directory` (bot.services.directory.Directory), when given, names people who own an
    item directly instead of printing their Slack ID. `today` is the caller's (in the
    committee's time zone): the paper's date and what counts as overdue.
    """
    committee = await committee_by_code(session, team_id, committee_code)
    if committee is None:
        raise NotFound(f"There is no committee `{committee_code}` in this workspace.")
    reviews = list(await session.scalars(
        select(Review).where(Review.team_id == team_id, Review.committee_id == committee.id)
        .order_by(Review.agreed_on.is_(None), Review.agreed_on, Review.code)))
    if review_code:
        chosen = [r for r in reviews if r.code == review_code.lower()]
        if not chosen:
            known = ", ".join(f"`{r.code}`" for r in reviews) or "none yet"
            raise NotFound(f"{committee.name} has no review `{review_code}` (its reviews: {known}).")
    else:
        with_recs = set(await session.scalars(
            select(Item.review_id).where(Item.committee_id == committee.id, Item.kind == "rec").distinct()))
        chosen = [r for r in reviews if r.id in with_recs]
    if not chosen:
        raise UserError(f"{committee.name} has no recommendations to report on yet: import a paper first.")
    single = chosen[0] if len(chosen) == 1 else None

    items = list(await session.scalars(
        select(Item).where(Item.team_id == team_id, Item.kind == "rec",
                           Item.review_id.in_([r.id for r in chosen]))
        .order_by(Item.review_id, Item.seq, Item.number, Item.id)))
    order = {r.id: n for n, r in enumerate(chosen)}
    items.sort(key=lambda i: (order.get(i.review_id, 0), i.seq, i.number, i.id))
    latest = await session.run_sync(latest_positions, [i.id for i in items])
    waiting: dict[int, Position] = {}
    for p in await session.scalars(select(Position).where(
            Position.item_id.in_([i.id for i in items] or [0]), Position.review_state == "submitted")
            .order_by(Position.created_at, Position.id)):
        waiting[p.item_id] = p   # the newest submitted one of each item

    rows = []
    for item in items:
        owners = [await _owner_name(o.role, directory) for o in item.owners]
        pos = latest.get(item.id)
        code = item.review.code if item.review is not None else None
        rows.append(PaperRow(
            ref=item.ref, number=item.number if single else f"{code}/{item.number}", text=item.text,
            owners=owners, due=item.due, status=item.status, rag=rag_of(item, today),
            position=pos.text if pos else None, position_date=pos.as_of if pos else None,
            review_code=code, full_ref=item.full_ref,
            awaiting=waiting[item.id].text if item.id in waiting else None,
            awaiting_date=waiting[item.id].as_of if item.id in waiting else None))
    return PositionPaper(
        council=await council_name(session, team_id),   # `/scrutiny settings`, else Slack's name for it
        committee=committee.name, committee_code=committee.code,
        heading=heading_for(single.title if single else None, single.code if single else None, committee.name),
        as_of=today, rows=rows,
        review_code=single.code if single else None, review_title=single.title if single else None,
        agreed_on=single.agreed_on if single else None)


async def _owner_name(role, directory) -> str:
    """A role's name; a person who owns an item directly by their display name when we can."""
    m = _PERSON.match(role.name)
    if role.kind == "person" and m:
        holder = next((h for h in role.holders if h.name), None)
        if holder is not None:
            return holder.name
        if directory is not None:
            try:
                return await directory.display_name(m.group(1))
            except Exception:  # a Slack hiccup shouldn't stop the paper; the ID still says who
                return role.name
    return role.name
