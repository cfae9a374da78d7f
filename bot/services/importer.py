"""Storing an imported paper: create what is new, update what changed, append positions.

Importing the same paper twice changes nothing the second time; items are matched by
review and number, never duplicated."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.importing import ImportedItem
from bot.services import audit
from bot.services.committees import get_or_create_role
from bot.services.errors import UserError
from models.queries import committee_by_code
from models.reads import latest_positions
from models.tables import Committee, Item, ItemOwner, Position, Review


@dataclass
class ImportReport:
    review: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    positions_added: int = 0

    def summary(self) -> str:
        return (f"{self.review}: {len(self.created)} new, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged, {self.positions_added} positions added")


def _seq(number: str) -> int:
    m = re.match(r"\d+", number)
    return int(m.group()) if m else 0


REVIEW_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def check_review_code(code: str) -> str:
    """The review code, lower-cased, or a one-line UserError."""
    code = (code or "").strip().lower()
    if not REVIEW_CODE_RE.match(code):
        raise UserError(f"“{code[:40]}” can't be a review code: use letters and digits, e.g. `sg2010`.")
    return code


async def import_items(session: AsyncSession, *, team_id: str, committee_code: str, review_code: str,
                       items: list[ImportedItem], actor: str, now: datetime, title: str | None = None,
                       agreed_on: date | None = None, as_of: date | None = None, source: str | None = None) -> ImportReport:
    committee: Committee | None = await committee_by_code(session, team_id, committee_code)
    if committee is None:
        raise UserError(f"There is no committee `{committee_code}` yet: bind its channel first with "
                        f"`/scrutiny setup {committee_code} <name>`.")
    review_code = check_review_code(review_code)
    review = (await session.scalars(select(Review).where(
        Review.team_id == team_id, Review.code == review_code))).first()
    if review is None:
        review = Review(team_id=team_id, committee_id=committee.id, code=review_code,
                        title=title or review_code, agreed_on=agreed_on, source=source, created_at=now)
        session.add(review)
        await session.flush()
        audit.record(session, team_id=team_id, actor=actor, at=now, entity="review", entity_id=review.id,
                     action="create", after={"code": review_code, "title": review.title, "agreed_on": agreed_on})
    elif review.committee_id != committee.id:
        raise UserError(f"Review `{review_code}` belongs to another committee.")
    else:
        before = {"title": review.title, "agreed_on": review.agreed_on}
        review.title = title or review.title
        review.agreed_on = agreed_on or review.agreed_on
        if before != {"title": review.title, "agreed_on": review.agreed_on}:
            audit.record(session, team_id=team_id, actor=actor, at=now, entity="review", entity_id=review.id,
                         action="update", before=before, after={"title": review.title, "agreed_on": review.agreed_on})

    existing = {i.number: i for i in await session.scalars(
        select(Item).where(Item.review_id == review.id, Item.kind == "rec"))}
    latest = await session.run_sync(latest_positions, [i.id for i in existing.values()])
    report = ImportReport(review=review_code)
    position_date = as_of or now.date()
    roles_by_name: dict[str, object] = {}

    async def role(name: str):
        if name not in roles_by_name:
            roles_by_name[name] = await get_or_create_role(session, team_id, name, now, actor)
        return roles_by_name[name]

    # New items are added together and flushed once (ids for their audit events and
    # positions), rather than one round trip each: a 100-row tracker is one import.
    changed_refs: dict[int, bool] = {}
    created: list[tuple[Item, ImportedItem]] = []
    for imported in items:
        roles = [await role(name) for name in imported.owners]
        roles = list({r.id: r for r in roles}.values())
        item = existing.get(imported.number)
        if item is not None and item.id is None:   # the same number twice in one paper
            await session.flush()
        if item is None:
            item = Item(team_id=team_id, committee=committee, review=review, kind="rec",
                        number=imported.number, seq=_seq(imported.number), text=imported.text,
                        status=imported.status or ("in progress" if imported.position else "not started"),
                        due=imported.due, created_at=now, updated_at=now,
                        owners=[ItemOwner(role_id=r.id, ordinal=n, role=r) for n, r in enumerate(roles)])
            session.add(item)
            existing[imported.number] = item
            created.append((item, imported))
            continue
        before, after = {}, {}
        for name, value in (("text", imported.text), ("due", imported.due), ("status", imported.status)):
            if value is not None and getattr(item, name) != value:
                before[name], after[name] = getattr(item, name), value
                setattr(item, name, value)
        if roles and [o.role_id for o in item.owners] != [r.id for r in roles]:
            before["owners"] = [o.role.name for o in item.owners]
            after["owners"] = [r.name for r in roles]
            item.owners.clear()
            await session.flush()
            for n, r in enumerate(roles):
                item.owners.append(ItemOwner(role_id=r.id, ordinal=n, role=r))
        changed_refs[id(item)] = bool(after)
        if after:
            item.updated_at = now
            audit.record(session, team_id=team_id, actor=actor, at=now, entity="item", entity_id=item.id,
                         action="import", before=before, after=after)
    if created:
        await session.flush()
        for item, imported in created:
            audit.record(session, team_id=team_id, actor=actor, at=now, entity="item", entity_id=item.id,
                         action="import", after=imported.as_json())
            report.created.append(item.ref)

    for imported in items:
        item = existing[imported.number]
        last = latest.get(item.id)
        if imported.position and (last is None or last.text.strip() != imported.position.strip()):
            pos = Position(item_id=item.id, text=imported.position, as_of=position_date, author_name="Imported",
                           source="import", created_at=now)
            session.add(pos)
            latest[item.id] = pos
            audit.record(session, team_id=team_id, actor=actor, at=now, entity="item", entity_id=item.id,
                         action="position", after={"text": imported.position, "as_of": position_date})
            report.positions_added += 1
            changed_refs[id(item)] = True
        if id(item) in changed_refs and item.ref not in report.created:
            (report.updated if changed_refs.pop(id(item)) else report.unchanged).append(item.ref)
    await session.flush()
    return report
