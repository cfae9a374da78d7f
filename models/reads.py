"""The read models: the one place that answers the questions people ask (which committee is
this channel's, which committees are there, which item does this ref name, a page of items,
an item's positions), as plain rows filled by a few Core queries. Run through
Database.read, or with in_session() inside a transaction that is about to change what it read.

Loading ORM objects (an item, its committee, review, owners, their roles and holders,
through selectin loads) cost 15-25 ms of Python per command where the database needed
under one; these rows carry the same attributes the messages read (`ref`, `full_ref`,
`owners[].role.current_holders`, ...), so a message renders either. Writes keep the ORM:
a writer looks a thing up here and loads the ORM object by the id it got back.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import Connection, Integer, Text, and_, bindparam, column, func, literal_column, select, table
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import Committee, Item, ItemOwner, Position, Review, Role, RoleHolder

committees, items, reviews = Committee.__table__, Item.__table__, Review.__table__
owners, roles, holders, positions = ItemOwner.__table__, Role.__table__, RoleHolder.__table__, Position.__table__

T = TypeVar("T")


async def in_session(session: AsyncSession, fn: Callable[..., T], /, *args, **kwargs) -> T:
    """fn(connection, *args, **kwargs), a read of this module, on the session's connection and in
    its transaction: for a change that must see what it is about to change. (Unlike an ORM
    query, a Core read doesn't flush the session first.)"""
    return await session.run_sync(lambda s: fn(s.connection(), *args, **kwargs))


@dataclass(frozen=True, slots=True)
class CommitteeRow:
    id: int
    team_id: str
    code: str
    name: str
    channel_id: str | None
    is_private: bool


@dataclass(frozen=True, slots=True)
class ReviewRow:
    code: str
    title: str


@dataclass(frozen=True, slots=True)
class HolderRow:
    user_id: str | None
    name: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class RoleRow:
    id: int
    name: str
    kind: str
    current_holders: tuple[HolderRow, ...]


@dataclass(frozen=True, slots=True)
class OwnerRow:
    role_id: int
    role: RoleRow


@dataclass(frozen=True, slots=True)
class PositionRow:
    id: int
    item_id: int
    text: str
    as_of: date
    author_user_id: str | None
    author_name: str | None
    source: str
    review_state: str = "accepted"   # or "submitted" / "returned": an update awaiting or failing review


@dataclass(slots=True)
class ItemRow:
    id: int
    team_id: str
    committee_id: int
    kind: str
    number: str
    text: str
    status: str
    rag_override: str | None
    rag_reason: str | None
    due: date | None
    exec_response: str
    exec_response_reason: str | None
    snoozed_until: date | None
    paused_until: date | None
    pause_reason: str | None
    committee: CommitteeRow
    review: ReviewRow | None
    owners: tuple[OwnerRow, ...] = ()
    latest: PositionRow | None = None   # its newest position, when asked for
    match: str | None = None   # found by a search: an excerpt, the words it matched between MATCH and END

    @property
    def ref(self) -> str:
        return f"{self.kind}-{self.number}"

    @property
    def full_ref(self) -> str:
        return f"{(self.review or self.committee).code}/{self.ref}"


_COMMITTEE_COLS = (committees.c.id, committees.c.team_id, committees.c.code, committees.c.name,
                   committees.c.channel_id, committees.c.is_private)
_ITEM_COLS = (items.c.id, items.c.team_id, items.c.committee_id, items.c.kind, items.c.number, items.c.text,
              items.c.status, items.c.rag_override, items.c.rag_reason, items.c.due, items.c.exec_response,
              items.c.exec_response_reason, items.c.snoozed_until, items.c.paused_until,
              items.c.pause_reason)
IDS_AT_ONCE = 1000   # ids per IN (...): the drivers cap a statement's parameters (asyncpg at 32,767)
_I = len(_ITEM_COLS)                 # where a joined row's committee columns start
_C = _I + len(_COMMITTEE_COLS)       # and its review's
_POSITION_COLS = (positions.c.id, positions.c.item_id, positions.c.text, positions.c.as_of,
                  positions.c.author_user_id, positions.c.author_name, positions.c.source, positions.c.review_state)


# Built once: the statements every command runs, so each costs only its execution.
_COMMITTEE_BY_CHANNEL = select(*_COMMITTEE_COLS).where(committees.c.team_id == bindparam("team_id"),
                                                       committees.c.channel_id == bindparam("channel_id")).limit(1)
_COMMITTEE_BY_ID = select(*_COMMITTEE_COLS).where(committees.c.id == bindparam("id"),
                                                  committees.c.team_id == bindparam("team_id"))
_COMMITTEES_OF = select(*_COMMITTEE_COLS).where(committees.c.team_id == bindparam("team_id")) \
    .order_by(committees.c.code)
_OWNERS_OF = select(owners.c.item_id, roles.c.id, roles.c.name, roles.c.kind,
                    holders.c.user_id, holders.c.name, holders.c.email) \
    .select_from(owners.join(roles, roles.c.id == owners.c.role_id)
                 .outerjoin(holders, and_(holders.c.role_id == roles.c.id, holders.c.ended_at.is_(None)))) \
    .where(owners.c.item_id.in_(bindparam("ids", expanding=True))) \
    .order_by(owners.c.item_id, owners.c.ordinal, holders.c.started_at, holders.c.id)
# The latest is the newest *accepted* one: an update awaiting review is not yet the committee's position.
_POSITIONS_OF_ITEMS = select(*_POSITION_COLS).where(positions.c.item_id.in_(bindparam("ids", expanding=True)),
                                                    positions.c.review_state == "accepted") \
    .order_by(positions.c.item_id, positions.c.as_of, positions.c.id)
_POSITIONS_OF_ITEM = select(*_POSITION_COLS).where(positions.c.item_id == bindparam("id")) \
    .order_by(positions.c.as_of, positions.c.id)


def committees_for(conn: Connection, team_id: str, channel_id: str | None, committee_id: int | None = None
                   ) -> tuple[CommitteeRow | None, list[CommitteeRow]]:
    """(the committee asked about, every committee of the workspace when there is none):
    by id when given (a More button), else the one bound to the channel."""
    if committee_id is not None:
        row = conn.execute(_COMMITTEE_BY_ID, {"id": committee_id, "team_id": team_id}).first()
        return (CommitteeRow(*row) if row is not None else None), []
    here = committee_for_channel(conn, team_id, channel_id)
    if here is not None:
        return here, []
    return None, committees_of(conn, team_id)


def committees_of(conn: Connection, team_id: str) -> list[CommitteeRow]:
    """Every committee of the workspace, by code (which of them a person may see is for the
    rules to say)."""
    return [CommitteeRow(*r) for r in conn.execute(_COMMITTEES_OF, {"team_id": team_id})]


def committee_for_channel(conn: Connection, team_id: str, channel_id: str | None) -> CommitteeRow | None:
    """The committee bound to the channel: the one look-up, for showing and for changing."""
    if not channel_id:
        return None
    row = conn.execute(_COMMITTEE_BY_CHANNEL, {"team_id": team_id, "channel_id": channel_id}).first()
    return CommitteeRow(*row) if row is not None else None


# ---- search --------------------------------------------------------------------------------
# Each store's own full-text search (migration 0010): one document per item, its text and all
# its positions, kept in step by triggers. SQLite: an FTS5 table (rowid = item id, porter
# stemming over unicode61), ranked by bm25; PostgreSQL: a tsvector of the English configuration
# with a GIN index, ranked by ts_rank. Not in the models: neither is a table the ORM writes.
SEARCH_TABLES = frozenset({"item_search"})


def modelled(name: str | None, type_: str, parent_names=None) -> bool:
    """Alembic's include_name: False for the search tables and SQLite's FTS5 shadow tables
    (item_search_data, …), which autogenerate must neither drop nor compare with the models."""
    return not (type_ == "table" and name is not None
                and any(name == t or name.startswith(t + "_") for t in SEARCH_TABLES))


MATCH, END = "\x02", "\x03"   # around each matched word of ItemRow.match
_FTS = table("item_search", column("rowid", Integer), column("text", Text), column("positions", Text))
_TSV = table("item_search", column("item_id", Integer), column("positions", Text), column("document", TSVECTOR))
_ENGLISH = literal_column("'english'::regconfig")
_LT = "\ue000"   # stands in for "<" while PostgreSQL makes the excerpt (ts_headline drops <tags>)
_HEADLINE = f"StartSel={MATCH},StopSel={END},MaxWords=20,MinWords=6,MaxFragments=2,FragmentDelimiter=\" … \""


def searchable(words) -> list[str]:
    """The typed words that have something to search for (a letter or a digit)."""
    return [w for w in words if any(ch.isalnum() for ch in w)]


def _search(dialect: str, words: list[str]):
    """(the items joined to their search documents, the match condition, the ranking to order
    by, the excerpt) for items that have every word (each typed word a phrase: "a_b" is "a b")."""
    if dialect == "sqlite":
        # In a subquery of its own: FTS5's bm25() and snippet() can't be used beside a window
        # function (the page's count) in the query that has the MATCH.
        fts = literal_column("item_search")
        query = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        found = select(_FTS.c.rowid, func.bm25(fts, 2.0, 1.0).label("rank"),
                       func.snippet(fts, -1, MATCH, END, "…", 16).label("excerpt")) \
            .where(fts.op("MATCH")(query)).subquery("found")
        return items.join(found, found.c.rowid == items.c.id), None, found.c.rank, found.c.excerpt
    tsquery = None
    for w in words:
        phrase = func.phraseto_tsquery(_ENGLISH, w)
        tsquery = phrase if tsquery is None else tsquery.op("&&")(phrase)
    excerpt = func.ts_headline(_ENGLISH, func.replace(func.concat_ws(" … ", items.c.text, func.nullif(_TSV.c.positions, "")), "<", _LT),
                               tsquery, _HEADLINE)
    return (items.join(_TSV, _TSV.c.item_id == items.c.id), _TSV.c.document.op("@@")(tsquery),
            func.ts_rank(_TSV.c.document, tsquery).desc(), excerpt)


def item_rows(conn: Connection, where, *, order_by=(), offset: int = 0, limit: int | None = None,
              counted: bool = False, with_owners: bool = True, with_latest: bool = False,
              search: list[str] | None = None) -> tuple[list[ItemRow], int]:
    """Items matching `where` (conditions on the items table) in `order_by` order, with their
    committee and review, their owners (roles and current holders) unless not `with_owners`
    (then `owners` is empty: for a look-up that only needs to know which item), and their
    newest position when `with_latest`; and, when `counted`, how many match in all (a window
    count, so the page and its total come in one query). Owners and positions come in one
    query each, for the whole page. search: words (see searchable()) every item must have in
    its text or its positions; then the best matches come first (`order_by` breaks ties) and
    each row's `match` is an excerpt with the matched words marked."""
    cols = [*_ITEM_COLS, *_COMMITTEE_COLS, reviews.c.code, reviews.c.title]
    source = items
    if search:
        source, matches, rank, excerpt = _search(conn.dialect.name, search)
        where, order_by = (*where, *([] if matches is None else [matches])), (rank, *order_by)
        cols.append(excerpt)
    if counted:
        cols.append(func.count().over())
    query = select(*cols).select_from(
        source.join(committees, committees.c.id == items.c.committee_id)
        .outerjoin(reviews, reviews.c.id == items.c.review_id)) \
        .where(*where).order_by(*order_by).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    found: dict[int, ItemRow] = {}
    total = 0
    for r in conn.execute(query):
        committee, review = r[_I:_C], r[_C:_C + 2]
        found[r[0]] = row = ItemRow(*r[:_I], committee=CommitteeRow(*committee),
                                    review=ReviewRow(*review) if review[0] is not None else None)
        if search:
            row.match = (r[_C + 2] or "").replace(_LT, "<")
        if counted:
            total = r[-1]
    if not found:
        return [], total
    ids = list(found)
    if with_owners:
        _add_owners(conn, found)
    if with_latest:
        for item_id, position in latest_positions(conn, ids).items():
            found[item_id].latest = position
    return list(found.values()), total


def _add_owners(conn: Connection, found: dict[int, ItemRow]) -> None:
    ids = list(found)
    owned: dict[int, dict[int, tuple[tuple, list[HolderRow]]]] = {i: {} for i in ids}  # item -> role -> (cols, holders)
    for start in range(0, len(ids), IDS_AT_ONCE):
        for item_id, role_id, role_name, role_kind, *holder in conn.execute(
                _OWNERS_OF, {"ids": ids[start:start + IDS_AT_ONCE]}):
            _, role_holders = owned[item_id].setdefault(role_id, ((role_id, role_name, role_kind), []))
            if any(v is not None for v in holder):
                role_holders.append(HolderRow(*holder))
    for item_id, item in found.items():
        item.owners = tuple(OwnerRow(cols[0], RoleRow(*cols, tuple(hs))) for cols, hs in owned[item_id].values())


def count_items(conn: Connection, where, search: list[str] | None = None) -> int:
    source = items
    if search:
        source, matches, _, _ = _search(conn.dialect.name, search)
        where = (*where, *([] if matches is None else [matches]))
    return conn.scalar(select(func.count()).select_from(source).where(*where)) or 0


def latest_positions(conn: Connection, item_ids: list[int]) -> dict[int, PositionRow]:
    """The newest accepted position of each item."""
    if not item_ids:
        return {}
    latest: dict[int, PositionRow] = {}
    ids = list(item_ids)
    for start in range(0, len(ids), IDS_AT_ONCE):
        for r in conn.execute(_POSITIONS_OF_ITEMS, {"ids": ids[start:start + IDS_AT_ONCE]}):
            latest[r[1]] = PositionRow(*r)
    return latest


def positions_of(conn: Connection, item_id: int) -> list[PositionRow]:
    """Every position of an item, oldest first."""
    return [PositionRow(*r) for r in conn.execute(_POSITIONS_OF_ITEM, {"id": item_id})]
