"""Recommendations and actions: finding them, listing them, changing them."""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Protocol, TypeVar

from sqlalchemy import Connection, and_, exists, func, or_, select
from sqlalchemy import update as update_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotAllowed, NotFound, NotVisible, UserError
from bot.core.status import ACTIVE, OPEN, PAUSED, RAGS, STATUSES, is_open, item_overdue
from bot.core.status import on_hold as status_on_hold
from bot.db import Database
from bot.services import audit, watchers
from bot.services.committees import (
    can_see,
    can_update_item,
    committee_role_kind,
    owner_role,
    visible,
)
from bot.services.context import Ctx
from bot.services.home import refresh_item_owners
from models import reads
from models.queries import role_key
from models.tables import Committee, Item, ItemOwner, Position, Role

PAGE_SIZE = 20
REF_RE = re.compile(r"^(?:(?P<prefix>[a-z0-9_-]+)/)?(?P<kind>rec|act|r|a)(?:[-\s]?)(?P<number>[0-9][0-9a-z.()/-]*)$", re.I)
EXEC_RESPONSES = ("awaiting", "accepted", "partially accepted", "rejected")


@dataclass(frozen=True)
class Ref:
    prefix: str | None
    kind: str
    number: str

    def __str__(self) -> str:
        return f"{self.prefix + '/' if self.prefix else ''}{self.kind}-{self.number}"


def parse_ref(text: str) -> Ref | None:
    m = REF_RE.match(text.strip().lower())
    if not m:
        return None
    kind = {"r": "rec", "a": "act"}.get(m["kind"], m["kind"])
    return Ref(m["prefix"], kind, m["number"])


class RagFacts(Protocol):
    """What RAG is worked out from: an Item, a read row (models/reads.py), or a row of just
    these columns (the meeting digest counts every item's RAG that way)."""
    @property
    def status(self) -> str: ...
    @property
    def rag_override(self) -> str | None: ...
    @property
    def due(self) -> date | None: ...


def rag_of(item: RagFacts, today: date) -> str | None:
    """Red when overdue; amber when due within 14 days and not started; otherwise green —
    unless an officer has set it. Closed items have none."""
    if not is_open(item.status):
        return None
    if item.rag_override:
        return item.rag_override
    if on_hold(item, today):
        return "amber"
    if item_overdue(item, today):
        return "red"
    if item.due is not None and item.due <= today + timedelta(days=14) and item.status == "not started":
        return "amber"
    return "green"


def on_hold(item, today: date) -> bool:
    """Paused or deferred and not yet resumed: not overdue, not chased (bot.core.status.on_hold)."""
    return status_on_hold(item.status, getattr(item, "paused_until", None), today)


def counted(table, today: date):
    """Where-clause (on the items table) for open items that count as overdue when late and are
    chased: not closed, and not paused or deferred before the day they resume (bot.core.status.on_hold
    in SQL)."""
    return or_(table.c.status.in_(ACTIVE),
               and_(table.c.status.in_(PAUSED), table.c.paused_until.is_not(None), table.c.paused_until <= today))


def overdue_where(table, today: date):
    """Where-clause (on the items table) for overdue items: bot.core.status.is_overdue in SQL —
    the one database-side definition (`/actions overdue`, escalations, the Monday summary)."""
    return and_(counted(table, today), table.c.due.is_not(None), table.c.due < today)


def _parse_or_explain(text: str) -> Ref:
    ref = parse_ref(text)
    if ref is None:
        raise UserError(f"“{text[:60]}” isn't a reference I know. Refs look like `rec-10`, `act-3` or `sg2010/rec-10`.")
    return ref


def _ref_conditions(ctx: Ctx, ref: Ref, here) -> list:
    """Where-clauses (on the items table) for the items a ref may name: in the channel's
    committee, or, with a prefix, in the review or committee of that code."""
    t = reads.items
    conds = [t.c.team_id == ctx.team_id, t.c.kind == ref.kind, t.c.number == ref.number]
    if ref.prefix:
        review_ids = select(reads.reviews.c.id).where(reads.reviews.c.team_id == ctx.team_id,
                                                      reads.reviews.c.code == ref.prefix)
        committee_ids = select(reads.committees.c.id).where(reads.committees.c.team_id == ctx.team_id,
                                                            reads.committees.c.code == ref.prefix)
        conds.append(or_(t.c.review_id.in_(review_ids),
                         and_(t.c.review_id.is_(None), t.c.committee_id.in_(committee_ids))))
    elif here is not None:
        conds.append(t.c.committee_id == here.id)
    return conds


async def _the_one(ctx: Ctx, ref: Ref, here: reads.CommitteeRow | None,
                   candidates: list[reads.ItemRow]) -> reads.ItemRow:
    found = [i for i in candidates if await can_see(ctx, i.committee)]
    if not found:
        where = f"in {here.name}" if here is not None and not ref.prefix else "in the committees you can see"
        raise NotFound(f"I can't find {ref} {where}. `/actions all` lists every ref.")
    if len(found) > 1:
        choices = ", ".join(f"`{i.full_ref}`" for i in sorted(found, key=lambda i: i.full_ref))
        raise UserError(f"{ref} is ambiguous: did you mean {choices}?")
    return found[0]


def _named(conn: Connection, ctx: Ctx, ref: Ref, *, to_show: bool
           ) -> tuple[reads.CommitteeRow | None, list[reads.ItemRow]]:
    """(the channel's committee, which a short ref is looked for in; the items the ref may
    name), as read rows. A ref with a prefix says where itself, so the channel isn't looked up.
    to_show: with their owners and newest position; else only enough to tell which item."""
    here = None if ref.prefix else reads.committee_for_channel(conn, ctx.team_id, ctx.channel_id)
    rows, _ = reads.item_rows(conn, _ref_conditions(ctx, ref, here), order_by=(reads.items.c.id,),
                              with_owners=to_show, with_latest=to_show)
    return here, rows


async def _lookup(read, ctx: Ctx, text: str, *, to_show: bool) -> reads.ItemRow:
    """The one item a typed ref names among those the person may see: the one answer, for
    showing it (find) and for changing it (resolve). read: Database.read, or a session's."""
    ref = _parse_or_explain(text)
    here, rows = await read(_named, ctx, ref, to_show=to_show)
    return await _the_one(ctx, ref, here, rows)


async def find(db: Database, ctx: Ctx, text: str) -> reads.ItemRow:
    """The item a ref names, to show it: a read row with its owners and newest position."""
    return await _lookup(db.read, ctx, text, to_show=True)


async def resolve(session: AsyncSession, ctx: Ctx, text: str) -> Item:
    """The item a ref names, to change it: looked up as find() does (in the session's
    transaction), then loaded into the ORM by the id that look-up returned."""
    row = await _lookup(partial(reads.in_session, session), ctx, text, to_show=False)
    return await load_item(session, ctx, row.id)


_I = TypeVar("_I", Item, reads.ItemRow)


async def _may_see(ctx: Ctx, item: _I | None) -> _I:
    """An item asked for by id (typed metadata: a button, a form), if it is this workspace's
    and the person may see its committee: the one check, for showing and for changing."""
    if item is None or item.team_id != ctx.team_id or not await can_see(ctx, item.committee):
        raise NotFound("That item no longer exists, or you can't see it.")
    return item


async def find_by_id(db: Database, ctx: Ctx, item_id: int) -> reads.ItemRow:
    """An item by id, to show it: a read row with its owners and newest position."""
    rows, _ = await db.read(reads.item_rows, (reads.items.c.id == item_id, reads.items.c.team_id == ctx.team_id),
                            with_latest=True)
    return await _may_see(ctx, rows[0] if rows else None)


@dataclass
class ItemFilter:
    """What `/actions` was asked for. Serialised into the "More" button, so it is plain data."""
    overdue: bool = False
    mine: bool = False
    include_closed: bool = False
    holder: str | None = None          # Slack user ID
    owner: str | None = None           # role name
    due_start: str | None = None       # ISO dates, inclusive
    due_end: str | None = None
    due_label: str | None = None
    status: str | None = None
    search: list[str] = field(default_factory=list)
    committee_id: int | None = None    # fixed by the channel it was asked in
    offset: int = 0

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v not in (None, False, [], 0)},
                          separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "ItemFilter":
        """A filter back from a "More" button. Anything but what to_json wrote (a tampered
        value, a date that doesn't exist, an absurd offset) raises ValueError."""
        try:
            data = json.loads(text)
        except RecursionError:
            raise ValueError("nested too deeply") from None
        if not isinstance(data, dict):
            raise ValueError("not a filter")
        filt = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        for name in ("overdue", "mine", "include_closed"):
            if type(getattr(filt, name)) is not bool:
                raise ValueError(name)
        for name in ("holder", "owner", "due_label", "status", "due_start", "due_end"):
            value = getattr(filt, name)
            if value is not None and (not isinstance(value, str) or len(value) > 500):
                raise ValueError(name)
        for name in ("due_start", "due_end"):
            if getattr(filt, name) is not None:
                date.fromisoformat(getattr(filt, name))
        if not isinstance(filt.search, list) or len(filt.search) > 50 or not all(
                isinstance(w, str) and len(w) <= 100 for w in filt.search):
            raise ValueError("search")
        if filt.committee_id is not None and not (type(filt.committee_id) is int and 0 < filt.committee_id < 2**31):
            raise ValueError("committee_id")
        if type(filt.offset) is not int or not 0 <= filt.offset < 1_000_000:
            raise ValueError("offset")
        return filt

    def describe(self) -> str:
        parts = []
        if self.overdue:
            parts.append("overdue")
        if self.mine:
            parts.append("owned by you")
        if self.holder:
            parts.append(f"held by <@{self.holder}>")
        if self.owner:
            parts.append(f"owned by “{self.owner}”")
        if self.due_label:
            parts.append(f"due {self.due_label}")
        if self.status:
            parts.append(f"status {self.status}")
        if self.search:
            parts.append("matching “" + " ".join(self.search) + "”")
        return ", ".join(parts)


@dataclass
class ItemPage:
    items: list[reads.ItemRow]
    total: int
    offset: int
    filter: ItemFilter
    committees: list[reads.CommitteeRow]

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


async def list_items(db: Database, ctx: Ctx, filt: ItemFilter) -> ItemPage:
    """A page of the items asked for, soonest due first, with how many there are in all."""
    asked_for = filt.committee_id
    here, every = await db.read(reads.committees_for, ctx.team_id, ctx.channel_id, asked_for)
    if here is not None:
        if not await can_see(ctx, here):
            raise NotVisible("That committee is private to its channel's members.")
        filt.committee_id = here.id
        committees = [here]
    elif asked_for is not None:
        raise NotVisible("That committee is private to its channel's members.")
    else:
        committees = await visible(ctx, every)
    if not committees:
        return ItemPage([], 0, 0, filt, [])
    t, owners = reads.items, reads.owners
    conds = [t.c.team_id == ctx.team_id, t.c.committee_id.in_([c.id for c in committees])]
    if filt.status:
        conds.append(t.c.status == filt.status)
    elif not filt.include_closed:
        conds.append(t.c.status.in_(OPEN))
    if filt.overdue:
        conds.append(overdue_where(t, ctx.today))
    if filt.due_start:
        conds.append(t.c.due >= date.fromisoformat(filt.due_start))
    if filt.due_end:
        conds.append(t.c.due <= date.fromisoformat(filt.due_end))

    def owned_by(role_ids):
        return exists().where(owners.c.item_id == t.c.id, owners.c.role_id.in_(role_ids))

    def held_by(user_id: str):
        h = reads.holders
        return select(h.c.role_id).where(h.c.user_id == user_id, h.c.ended_at.is_(None))

    if filt.mine:
        conds.append(owned_by(held_by(ctx.user_id)))
    if filt.holder:
        conds.append(owned_by(held_by(filt.holder)))
    if filt.owner:
        r = reads.roles
        if kind := committee_role_kind(filt.owner):   # "chair", "officers", "vice chair": the committees' own
            named = select(r.c.id).where(r.c.team_id == ctx.team_id, r.c.kind == kind,
                                         r.c.committee_id.in_([c.id for c in committees]))
        else:
            named = select(r.c.id).where(r.c.team_id == ctx.team_id, r.c.key == role_key(filt.owner))
        conds.append(owned_by(named))
    # Words are found by the store's own full-text search (stemmed, any case: "foster carers"
    # finds "foster carer"), in the item's text or any of its positions; best matches first.
    search = reads.searchable(filt.search)
    if filt.search and not search:   # only punctuation: nothing to look for, so nothing found
        return ItemPage([], 0, filt.offset, filt, committees)
    order = (t.c.due.is_(None), t.c.due, t.c.committee_id, t.c.review_id, t.c.kind.desc(), t.c.seq, t.c.id)
    page, total = await db.read(reads.item_rows, conds, order_by=order, offset=filt.offset, limit=PAGE_SIZE,
                                counted=True, search=search)
    if not page and filt.offset:   # past the end (items closed since): the window count saw no rows
        total = await db.read(reads.count_items, conds, search)
    return ItemPage(page, total, filt.offset, filt, committees)


async def positions_of(db: Database, item: Item | reads.ItemRow) -> list[reads.PositionRow]:
    return await db.read(reads.positions_of, item.id)


async def latest_position(session: AsyncSession, item: Item) -> reads.PositionRow | None:
    """The newest position of an item being changed, read in the changing session."""
    return (await reads.in_session(session, reads.latest_positions, [item.id])).get(item.id)


# ---- changes ----------------------------------------------------------------

@dataclass
class Change:
    field: str
    before: object
    after: object


@dataclass
class ItemChanges:
    """One person's edit of one item: any of these may be given (None = leave alone)."""
    position: str | None = None
    status: str | None = None
    due: date | None = None
    clear_due: bool = False
    owners: list[str | tuple[str, str]] | None = None   # role names, or ("user", U123)
    rag: str | None = None          # red/amber/green, or "auto" to derive it again
    rag_reason: str | None = None
    exec_response: str | None = None
    exec_response_reason: str | None = None
    paused_until: date | None = None    # with status paused or deferred: the day it resumes
    pause_reason: str | None = None

    @property
    def only_position(self) -> bool:
        return self.position is not None and not self.clear_due and all(
            getattr(self, f) is None for f in self.__dataclass_fields__ if f not in ("position", "clear_due"))


def _position_text(ch: ItemChanges, item: Item | reads.ItemRow) -> str:
    """The new position, checked; "" when none was given."""
    text = (ch.position or "").strip()
    if ch.position is not None and not text:
        raise UserError(f"The position is empty. Try `/update {item.ref} position Training in place from June`.")
    if len(text) > 10000:
        raise UserError("That position is too long for one entry: keep it under 10,000 characters.")
    return text


async def update(db: Database, ctx: Ctx, ref_text: str, ch: ItemChanges):
    """`/update <ref> …`: apply the edit in one transaction. Returns (the item as it now is,
    the changes, its newest position) for the answer."""
    if ch.only_position:
        return await _add_position(db, ctx, ref_text, ch)
    async with db.session() as s, s.begin():
        item = await resolve(s, ctx, ref_text)
        changes = await apply_changes(s, ctx, item, ch)
        return item, changes, await latest_position(s, item)


async def _add_position(db: Database, ctx: Ctx, ref_text: str, ch: ItemChanges):
    """The commonest edit, a new position, without loading the item into the ORM: the read
    row has its owners' holders (who may update it, whose Home tabs change), and the writes
    are three inserts and an update, as apply_changes would make them."""
    item = await find(db, ctx, ref_text)
    changes = [Change("position", None, _position_text(ch, item))]
    async with db.session() as s, s.begin():
        await require_can_update(s, ctx, item)
        position = await _record(s, ctx, item.id, changes)
        await s.execute(update_(Item).where(Item.id == item.id).values(updated_at=ctx.now))
        await s.flush()
        await refresh_item_owners(s, ctx, item)
    item.latest = reads.PositionRow(position.id, item.id, position.text, position.as_of, position.author_user_id,
                                    position.author_name, position.source)
    return item, changes, item.latest


async def _record(session: AsyncSession, ctx: Ctx, item_id: int, changes: list[Change]) -> Position | None:
    """What every edit writes beside the item itself: the new position, when there is one, and
    one audit event for the whole edit. Returns the position."""
    position = None
    text = next((c.after for c in changes if c.field == "position"), None)
    if text:
        author = await ctx.directory.display_name(ctx.user_id)
        position = Position(item_id=item_id, text=text, as_of=ctx.today, author_user_id=ctx.user_id,
                            author_name=author, source="slack", created_at=ctx.now)
        session.add(position)
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="item", entity_id=item_id,
                 action="update", before={c.field: c.before for c in changes if c.field != "position"},
                 after={c.field: c.after for c in changes})
    await watchers.notify(session, ctx, item_id, changes)   # DMs queued in this same transaction
    return position


async def require_can_update(session: AsyncSession, ctx: Ctx, item: Item | reads.ItemRow) -> None:
    if not await can_update_item(session, ctx, item):
        raise NotAllowed(f"Only the owners of {item.ref}, the committee's chair and officers, or an admin can update it.")


async def apply_changes(session: AsyncSession, ctx: Ctx, item: Item, ch: ItemChanges) -> list[Change]:
    """Validate and apply an edit; write one audit event for it. Raises UserError
    before changing anything when any part is wrong."""
    await require_can_update(session, ctx, item)
    changes: list[Change] = []
    if ch.status is not None:
        if ch.status not in STATUSES:
            raise UserError(f"“{ch.status}” isn't a status. Use one of: {', '.join(STATUSES)}.")
        if ch.status != item.status:
            changes.append(Change("status", item.status, ch.status))
        if ch.status in PAUSED:
            if ch.paused_until is None or not (ch.pause_reason or "").strip():
                raise UserError(f"Say until when and why: `/update {item.ref} status {ch.status} until March "
                                "because the budget is frozen`.")
            if ch.paused_until != item.paused_until:
                changes.append(Change("paused_until", item.paused_until, ch.paused_until))
            if ch.pause_reason.strip() != item.pause_reason:
                changes.append(Change("pause_reason", item.pause_reason, ch.pause_reason.strip()))
        elif item.paused_until is not None or item.pause_reason is not None:
            if ch.status != item.status:
                changes.append(Change("paused_until", item.paused_until, None))
                changes.append(Change("pause_reason", item.pause_reason, None))
    if ch.clear_due and item.due is not None:
        changes.append(Change("due", item.due, None))
    elif ch.due is not None and ch.due != item.due:
        changes.append(Change("due", item.due, ch.due))
    if ch.rag is not None:
        if ch.rag == "auto":
            if item.rag_override:
                changes.append(Change("rag", item.rag_override, None))
        elif ch.rag in RAGS:
            if not ch.rag_reason or not ch.rag_reason.strip():
                raise UserError(f"Say why when setting RAG by hand, e.g. `/update {item.ref} rag {ch.rag} because funding is delayed`.")
            if (ch.rag, ch.rag_reason.strip()) != (item.rag_override, item.rag_reason):
                changes.append(Change("rag", item.rag_override, ch.rag))
                changes.append(Change("rag_reason", item.rag_reason, ch.rag_reason.strip()))
        else:
            raise UserError("RAG is `red`, `amber`, `green` or `auto`.")
    if ch.exec_response is not None:
        if ch.exec_response not in EXEC_RESPONSES:
            raise UserError(f"The executive response is one of: {', '.join(EXEC_RESPONSES)}.")
        if ch.exec_response != item.exec_response or (ch.exec_response_reason or None) != item.exec_response_reason:
            changes.append(Change("exec_response", item.exec_response, ch.exec_response))
            changes.append(Change("exec_response_reason", item.exec_response_reason, ch.exec_response_reason or None))
    new_roles: list[Role] | None = None
    if ch.owners is not None:
        if not ch.owners:
            raise UserError('Name at least one owner, e.g. `owner "Cabinet Member"` or `owner @alice`.')
        new_roles = []
        for owner in ch.owners:   # an unknown role name is refused, not made into a vacant role
            role = await owner_role(session, ctx, item.committee, owner)
            if role.id not in {r.id for r in new_roles}:
                new_roles.append(role)
        before = [o.role.name for o in item.owners]
        after = [r.name for r in new_roles]
        # The same owners in another order is no change: the form lists roles before people.
        if {o.role_id for o in item.owners} != {r.id for r in new_roles}:
            changes.append(Change("owners", before, after))
        else:
            new_roles = None
    position_text = _position_text(ch, item)
    if position_text:
        changes.append(Change("position", None, position_text))
    if not changes:
        return []
    home_roles = {o.role_id for o in item.owners}  # their holders' Home tabs change too

    for c in changes:
        if c.field == "status":
            item.status = c.after
        elif c.field == "due":
            item.due = c.after
        elif c.field == "rag":
            item.rag_override = c.after
            if c.after is None:
                item.rag_reason = None
        elif c.field == "rag_reason":
            item.rag_reason = c.after
        elif c.field == "exec_response":
            item.exec_response = c.after
        elif c.field == "exec_response_reason":
            item.exec_response_reason = c.after
        elif c.field == "paused_until":
            item.paused_until = c.after
        elif c.field == "pause_reason":
            item.pause_reason = c.after
    if new_roles is not None:
        item.owners.clear()
        await session.flush()
        for n, role in enumerate(new_roles):
            item.owners.append(ItemOwner(role_id=role.id, ordinal=n, role=role))
    item.updated_at = ctx.now
    await _record(session, ctx, item.id, changes)
    await session.flush()
    await refresh_item_owners(session, ctx, item, home_roles)
    return changes


async def create_action(session: AsyncSession, *, team_id: str, committee: Committee, text: str,
                        roles: list[Role], due: date | None, actor: str, now, status: str = "not started") -> Item:
    """A new action, numbered act-N after the committee's highest."""
    highest = await session.scalar(select(func.max(Item.seq)).where(
        Item.committee_id == committee.id, Item.kind == "act"))
    number = (highest or 0) + 1
    item = Item(team_id=team_id, committee=committee, kind="act", number=str(number), seq=number, text=text,
                status=status, due=due, created_at=now, updated_at=now,
                owners=[ItemOwner(role_id=r.id, ordinal=n, role=r) for n, r in enumerate(roles)])
    session.add(item)
    await session.flush()
    audit.record(session, team_id=team_id, actor=actor, at=now, entity="item", entity_id=item.id, action="create",
                 after={"ref": item.ref, "text": text, "owners": [r.name for r in roles], "due": due, "status": status})
    return item


async def item_to_edit(session: AsyncSession, ctx: Ctx, *, ref: str | None = None, item_id: int | None = None) -> Item:
    """The item a person is about to change (by the ref they typed, or by id from a button),
    if they may change it."""
    item = await resolve(session, ctx, ref) if item_id is None else await load_item(session, ctx, item_id)
    await require_can_update(session, ctx, item)
    return item


async def load_item(session: AsyncSession, ctx: Ctx, item_id: int) -> Item:
    """An item by id, to change it: loaded into the ORM, checked as find_by_id checks it."""
    return await _may_see(ctx, await session.get(Item, item_id))


__all__ = ["Change", "ItemChanges", "ItemFilter", "ItemPage", "PAGE_SIZE", "Ref", "apply_changes",
           "find", "find_by_id", "item_to_edit", "latest_position", "list_items", "load_item", "parse_ref",
           "positions_of", "rag_of", "resolve", "EXEC_RESPONSES", "counted", "on_hold", "overdue_where"]
