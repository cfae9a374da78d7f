"""Storing a paper: the rules of an import (create what is new, update what the paper
changed, add positions not yet recorded) and the Slack form's side of it (who may import,
where the paper comes from).

A re-import never undoes work done in Scrutineer. Items are matched by review and number,
never duplicated. What each import brought in is kept per item and field (import_baselines),
so a re-import is a three-way merge: a field is taken from the paper only where the paper
changed it since the last import and nobody changed it here since; where both changed it,
Scrutineer's value stays and the import reports a conflict (the preview shows them before
anything is stored). A field the paper leaves empty clears nothing. A position the item has
recorded already (the same text on the same date, or the paper's position unchanged since
the last import) is never added again. So the same paper imported twice changes nothing.

Nothing is stored at the preview step. To import on confirm exactly what was previewed
without keeping anything server-side (no table for pending imports), the preview view
carries its source: an uploaded file's id (downloaded and parsed again on confirm), or
pasted text, zlib-packed into private_metadata when it fits and otherwise split over
input blocks of the preview ("Paper text (kept for the import)"). Parsing is pure and
deterministic, so the confirm step reads the same items the preview showed.

Papers are read in a separate process (bot.importing.sandbox), limited in time and memory,
so a hostile upload can't hold up the server; a paste is limited to MAX_PASTE characters
and the packed one never unpacks beyond that."""
from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotAllowed, UserError
from bot.importing import ImportedItem, PaperFormatError, ParsedPaper
from bot.importing.sandbox import parse_in_sandbox
from bot.services import audit
from bot.services.committees import committee_roles_of, get_or_create_role, require_channel_committee
from bot.services.context import Ctx
from models.imports import ImportBaseline
from models.queries import committee_by_code, role_key
from models.reads import IDS_AT_ONCE
from models.tables import Committee, Item, ItemOwner, Position, Review, Role

FIELDS = ("text", "due", "status", "owners")
_LABELS = {"text": "text", "due": "due date", "status": "status", "owners": "owners"}


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def _shown(field_name: str, value) -> str:
    if field_name == "due":
        return value.strftime("%-d %b %Y") if value else "no date"
    if field_name == "owners":
        return "; ".join(value) if value else "no owner"
    if field_name == "text":
        text = " ".join(str(value or "").split())
        return f"“{text[:57]}…”" if len(text) > 60 else f"“{text}”"
    return str(value) if value else "none"


@dataclass(frozen=True)
class Conflict:
    """A field the paper changed since the last import while someone changed it in
    Scrutineer too: Scrutineer's value is kept."""
    ref: str
    field: str
    paper: object      # the paper's value now (a date for due, a list of names for owners)
    current: object    # Scrutineer's value, kept

    def describe(self) -> str:
        return (f"{self.ref} {_LABELS[self.field]}: the paper says {_shown(self.field, self.paper)}, "
                f"Scrutineer has {_shown(self.field, self.current)}")

    @property
    def what(self) -> str:
        """e.g. "rec-3 due date"."""
        return f"{self.ref} {_LABELS[self.field]}"

    def describe_taken(self) -> str:
        return f"{self.what} is now {_shown(self.field, self.paper)}"

    def shown(self, which: str) -> str:
        """"paper" or "current", as the preview's choice shows it."""
        return _shown(self.field, self.paper if which == "paper" else self.current)


@dataclass
class ImportReport:
    """What an import did (or, with dry_run, would do): refs of the items created, updated
    (a field or a position from the paper) and left as they were, and the conflicts."""
    review: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    positions_added: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    dry_run: bool = False
    # Conflicts where the officer chose the paper's value (import_items' `take`): applied.
    taken: list[Conflict] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.positions_added)

    def counts(self) -> str:
        """e.g. "sg2010: 1 new item, 2 items updated, 10 unchanged, 1 position added"."""
        if not self.changed:
            return f"{self.review}: nothing " + ("to change" if self.dry_run else "changed") + (
                f" ({_count(len(self.unchanged), 'item')} unchanged)" if self.unchanged else "")
        parts = []
        if self.created:
            parts.append(_count(len(self.created), "new item"))
        if self.updated:
            parts.append(_count(len(self.updated), "item") + (" to update" if self.dry_run else " updated"))
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} unchanged")
        if self.positions_added:
            parts.append(_count(self.positions_added, "position") + (" to add" if self.dry_run else " added"))
        return f"{self.review}: " + ", ".join(parts)

    def conflicts_heading(self) -> str:
        return (_count(len(self.conflicts), "conflict") + " (changed in the paper and in Scrutineer since the "
                "last import): Scrutineer's value " + ("will be" if self.dry_run else "was") + " kept")

    def summary(self, most: int = 5) -> str:
        """One line: the counts, then the conflicts (the first `most` of them)."""
        text = self.counts()
        if self.conflicts:
            shown = "; ".join(c.describe() for c in self.conflicts[:most])
            more = f"; and {len(self.conflicts) - most} more" if len(self.conflicts) > most else ""
            text += f". {self.conflicts_heading()}: {shown}{more}"
        if self.taken:
            shown = "; ".join(c.describe_taken() for c in self.taken[:most])
            more = f"; and {len(self.taken) - most} more" if len(self.taken) > most else ""
            text += f". The paper's value, as you chose: {shown}{more}"
        return text


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


_MISSING = object()   # no baseline: the item was never imported, or not since baselines were kept


def _owner_name(name: str) -> str:
    return " ".join(name.split()).strip(" .,;:")


def _owner_names(names) -> list[str]:
    """Names as written, tidied as roles are named, one per role."""
    out, keys = [], set()
    for name in names or []:
        name = _owner_name(str(name))
        if name and role_key(name) not in keys:
            keys.add(role_key(name))
            out.append(name)
    return out


def _comparable(field_name: str, value):
    """A field's value reduced to what matters for "did it change": spacing in text, how an
    owner's role is spelt ("ESCB Chairman" is "Chairman of the ESCB")."""
    if field_name == "text":
        return " ".join((value or "").split())
    if field_name == "owners":
        return tuple(role_key(n) for n in _owner_names(value))
    return value


def _stored(field_name: str, value):
    """A field's value as a baseline keeps it (JSON)."""
    if field_name == "due":
        return value.isoformat() if value else None
    return list(value) if field_name == "owners" else value


def _loaded(field_name: str, value):
    if field_name == "due":
        return date.fromisoformat(value) if value else None
    return value


def _merge(field_name: str, base, new, current) -> str:
    """The three-way merge of one field: base is what the last import brought in (or _MISSING),
    new what the paper says now, current what Scrutineer has.
      "same":     nothing to do (the paper says nothing, or nothing new);
      "take":     the paper changed it and nobody here did: the paper's value replaces it;
      "agree":    Scrutineer already has the paper's new value;
      "conflict": both changed it: Scrutineer's value stays."""
    if new is None or (field_name == "owners" and not new) or (field_name == "text" and not new.strip()):
        return "same"    # a field the paper leaves empty clears nothing
    new_c, current_c = _comparable(field_name, new), _comparable(field_name, current)
    if base is _MISSING:
        return "agree" if new_c == current_c else "conflict"
    base_c = _comparable(field_name, base)
    if new_c == base_c:
        return "same"
    if current_c == base_c:
        return "take"
    return "agree" if new_c == current_c else "conflict"


@dataclass
class _Entry:
    """One numbered item of the paper as the import goes: the stored item (None while new)
    and, for the planning, its values, baselines, known positions and what is to be done."""
    number: str
    item: Item | None
    values: dict                      # field -> Scrutineer's value (owners: names)
    base: dict                        # field -> the last imported value, or _MISSING
    positions: list                   # (as_of, order, comparable text), oldest first
    new: bool = False
    changes: dict = field(default_factory=dict)      # field -> (before, after)
    conflicts: dict = field(default_factory=dict)    # field -> (current, paper)
    baselines: dict = field(default_factory=dict)    # field -> value to keep (JSON form)
    added: list = field(default_factory=list)        # position texts to add
    taken: set = field(default_factory=set)          # fields whose conflict the officer gave to the paper
    first: ImportedItem | None = None                # the paper's item that created it

    @property
    def ref(self) -> str:
        return f"rec-{self.number}"


def _plan(entry: _Entry, imported: ImportedItem, position_date: date, dated: bool) -> None:
    """Merge one item of the paper into its entry (an item may be listed twice in a paper:
    the second merges into what the first left)."""
    paper = {"text": imported.text, "due": imported.due, "status": imported.status,
             "owners": _owner_names(imported.owners)}
    for name in FIELDS:
        outcome = _merge(name, entry.base.get(name, _MISSING), paper[name], entry.values[name])
        if outcome == "same":
            continue
        entry.base[name] = paper[name]
        entry.baselines[name] = _stored(name, paper[name])
        if outcome == "take":
            before = entry.changes[name][0] if name in entry.changes else entry.values[name]
            entry.changes[name] = (before, paper[name])
            entry.values[name] = paper[name]
            entry.conflicts.pop(name, None)
        elif outcome == "conflict":
            entry.conflicts[name] = (entry.values[name], paper[name])
    text = (imported.position or "").strip()
    if not text:
        return
    said = " ".join(text.split())
    last = entry.base.get("position", _MISSING)
    if last is not _MISSING and " ".join((last or "").split()) == said:
        return   # the paper says what it said last time
    entry.base["position"] = entry.baselines["position"] = imported.position
    latest = max(entry.positions, default=None)
    if (latest is not None and latest[2] == said) or any(
            t == said and (d == position_date or not dated) for d, _, t in entry.positions):
        return   # recorded already: never twice
    entry.positions.append((position_date, 10**18 + len(entry.positions), said))   # after any stored one
    entry.added.append(imported.position)


async def _baselines_of(session: AsyncSession, item_ids: list[int]) -> dict[tuple[int, str], ImportBaseline]:
    found = {}
    for start in range(0, len(item_ids), IDS_AT_ONCE):
        for b in await session.scalars(select(ImportBaseline).where(
                ImportBaseline.item_id.in_(item_ids[start:start + IDS_AT_ONCE]))):
            found[(b.item_id, b.field)] = b
    return found


async def _positions_of(session: AsyncSession, item_ids: list[int]) -> dict[int, list]:
    """Each item's positions as (as_of, order, text with spacing reduced), oldest first."""
    found: dict[int, list] = {}
    for start in range(0, len(item_ids), IDS_AT_ONCE):
        rows = await session.execute(
            select(Position.item_id, Position.as_of, Position.id, Position.text)
            .where(Position.item_id.in_(item_ids[start:start + IDS_AT_ONCE]))
            .order_by(Position.item_id, Position.as_of, Position.id))
        for item_id, as_of, pid, text in rows:
            found.setdefault(item_id, []).append((as_of, pid, " ".join(text.split())))
    return found


async def import_items(session: AsyncSession, *, team_id: str, committee_code: str, review_code: str,
                       items: list[ImportedItem], actor: str, now: datetime, title: str | None = None,
                       agreed_on: date | None = None, as_of: date | None = None, source: str | None = None,
                       dry_run: bool = False, take: frozenset | set = frozenset()) -> ImportReport:
    """Store a paper's items in a review: create the new ones; in the others, take a field from
    the paper only where the paper changed it since the last import and nobody changed it in
    Scrutineer since (both changed: a conflict, reported, and Scrutineer's value kept); add a
    position the item hasn't recorded yet. dry_run: what would happen, nothing written.

    take: (ref, field) pairs, e.g. ("rec-3", "due"), where the officer chose the paper's value
    over Scrutineer's in a conflict (the preview's choice): that field takes the paper's value,
    audited as the officer's choice ("import_choice"). A pair that is no conflict does nothing."""
    committee: Committee | None = await committee_by_code(session, team_id, committee_code)
    if committee is None:
        raise UserError(f"There is no committee `{committee_code}` yet: bind its channel first with "
                        f"`/scrutiny setup {committee_code} <name>`.")
    review_code = check_review_code(review_code)
    review = (await session.scalars(select(Review).where(
        Review.team_id == team_id, Review.code == review_code))).first()
    if review is not None and review.committee_id != committee.id:
        raise UserError(f"Review `{review_code}` belongs to another committee.")
    if review is None and not dry_run:
        review = Review(team_id=team_id, committee_id=committee.id, code=review_code,
                        title=title or review_code, agreed_on=agreed_on, source=source, created_at=now)
        session.add(review)
        await session.flush()
        audit.record(session, team_id=team_id, actor=actor, at=now, entity="review", entity_id=review.id,
                     action="create", after={"code": review_code, "title": review.title, "agreed_on": agreed_on})
    elif review is not None and not dry_run:
        before = {"title": review.title, "agreed_on": review.agreed_on}
        review.title = title or review.title
        review.agreed_on = agreed_on or review.agreed_on
        if before != {"title": review.title, "agreed_on": review.agreed_on}:
            audit.record(session, team_id=team_id, actor=actor, at=now, entity="review", entity_id=review.id,
                         action="update", before=before, after={"title": review.title, "agreed_on": review.agreed_on})

    stored = [] if review is None else list(await session.scalars(
        select(Item).where(Item.review_id == review.id, Item.kind == "rec")))
    ids = [i.id for i in stored]
    baselines = await _baselines_of(session, ids)
    positions = await _positions_of(session, ids)
    entries: dict[str, _Entry] = {}
    by_id: dict[int, _Entry] = {}
    for item in stored:
        entries[item.number] = by_id[item.id] = _Entry(
            item.number, item, {"text": item.text, "due": item.due, "status": item.status,
                                "owners": [o.role.name for o in item.owners]},
            {}, positions.get(item.id, []))
    for (item_id, name), b in baselines.items():
        by_id[item_id].base[name] = _loaded(name, b.value)

    # Plan: every item of the paper merged into its entry, nothing written yet.
    position_date = as_of or now.date()
    order: list[_Entry] = []
    listed: set[str] = set()
    for imported in items:
        entry = entries.get(imported.number)
        if entry is None:
            status = imported.status or ("in progress" if (imported.position or "").strip() else "not started")
            values = {"text": imported.text, "due": imported.due, "status": status,
                      "owners": _owner_names(imported.owners)}
            entry = entries[imported.number] = _Entry(imported.number, None, values, dict(values), [], new=True,
                                                      first=imported)
            entry.baselines = {name: _stored(name, values[name]) for name in FIELDS}
            for name in FIELDS:
                entry.base[name] = values[name]
        if imported.number not in listed:
            listed.add(imported.number)
            order.append(entry)
        _plan(entry, imported, position_date, dated=as_of is not None)

    report = ImportReport(review=review_code, dry_run=dry_run)
    for entry in order:
        for name in [n for n in entry.conflicts if (entry.ref, n) in take]:
            current, paper_value = entry.conflicts.pop(name)
            entry.changes[name] = (current, paper_value)
            entry.values[name] = paper_value
            entry.taken.add(name)
            report.taken.append(Conflict(entry.ref, name, paper_value, current))
        entry.changes = {name: (before, after) for name, (before, after) in entry.changes.items()
                         if _comparable(name, before) != _comparable(name, after)}   # listed twice, undone
        for name, (current, paper) in entry.conflicts.items():
            report.conflicts.append(Conflict(entry.ref, name, paper, current))
        report.positions_added += len(entry.added)
        if entry.new:
            report.created.append(entry.ref)
        else:
            (report.updated if entry.changes or entry.added else report.unchanged).append(entry.ref)
    if dry_run:
        return report

    # Store what the plan says.
    roles_by_key: dict[str, Role] = {}

    async def roles_for(names: list[str]) -> list[Role]:
        roles = []
        for name in names:
            key = role_key(name)
            if key not in roles_by_key:
                roles_by_key[key] = await get_or_create_role(session, team_id, name, now, actor)
            roles.append(roles_by_key[key])
        return list({r.id: r for r in roles}.values())

    # New items are added together and flushed once (ids for their audit events and
    # positions), rather than one round trip each: a 100-row tracker is one import.
    created = [e for e in order if e.new]
    for entry in created:
        v = entry.values
        roles = await roles_for(v["owners"])
        entry.item = Item(team_id=team_id, committee=committee, review=review, kind="rec", number=entry.number,
                          seq=_seq(entry.number), text=v["text"], status=v["status"], due=v["due"],
                          created_at=now, updated_at=now,
                          owners=[ItemOwner(role_id=r.id, ordinal=n, role=r) for n, r in enumerate(roles)])
        session.add(entry.item)
    if created:
        await session.flush()
    for entry in order:
        item = entry.item
        if entry.new:
            after = entry.first.as_json()
            if entry.changes:   # listed again further down the paper
                after.update({name: v for name, (_, v) in entry.changes.items()})
            audit.record(session, team_id=team_id, actor=actor, at=now, entity="item", entity_id=item.id,
                         action="import", after=after)
        elif entry.changes:
            before, after = {}, {}
            for name, (old, value) in entry.changes.items():
                if name == "owners":
                    roles = await roles_for(value)
                    if [o.role_id for o in item.owners] == [r.id for r in roles]:
                        continue
                    before[name], after[name] = [o.role.name for o in item.owners], [r.name for r in roles]
                    item.owners.clear()
                    await session.flush()
                    for n, r in enumerate(roles):
                        item.owners.append(ItemOwner(role_id=r.id, ordinal=n, role=r))
                else:
                    before[name], after[name] = old, value
                    setattr(item, name, value)
            if after:
                item.updated_at = now
            chosen = [n for n in after if n in entry.taken]
            if len(chosen) < len(after):
                audit.record(session, team_id=team_id, actor=actor, at=now, entity="item", entity_id=item.id,
                             action="import", before={n: v for n, v in before.items() if n not in entry.taken},
                             after={n: v for n, v in after.items() if n not in entry.taken})
            if chosen:   # a conflict the officer gave to the paper: their choice, not the import's
                audit.record(session, team_id=team_id, actor=actor, at=now, entity="item", entity_id=item.id,
                             action="import_choice", before={n: before[n] for n in chosen},
                             after={n: after[n] for n in chosen})
        if entry.conflicts:
            audit.record(session, team_id=team_id, actor=actor, at=now, entity="item", entity_id=item.id,
                         action="import_conflict", before={n: c for n, (c, _) in entry.conflicts.items()},
                         after={n: p for n, (_, p) in entry.conflicts.items()})
        for text in entry.added:
            session.add(Position(item_id=item.id, text=text, as_of=position_date, author_name="Imported",
                                 source="import", created_at=now))
            audit.record(session, team_id=team_id, actor=actor, at=now, entity="item", entity_id=item.id,
                         action="position", after={"text": text, "as_of": position_date})
        for name, value in entry.baselines.items():
            kept = baselines.get((item.id, name))
            if kept is None:
                session.add(ImportBaseline(item_id=item.id, field=name, value=value, imported_at=now))
            elif kept.value != value:
                kept.value, kept.imported_at = value, now
    await session.flush()
    return report


METADATA_ROOM = 2800     # private_metadata may hold 3,000 characters; keep room for the rest
CHUNK = 2900             # a plain_text_input holds 3,000 characters
MAX_CHUNKS = 10
MAX_DOWNLOAD = 20 * 1024 * 1024
MAX_PASTE = 200_000      # characters of pasted text (Slack's own field holds far fewer)
PARSE_TIMEOUT = 20.0     # seconds a paper may take to read (bot.importing.sandbox)
PARSE_MEMORY_MB = 768    # memory the reader may use
_OUT_OF_DATE = "That form is out of date. Run `/scrutiny import` again."


async def require_importer(session: AsyncSession, ctx: Ctx) -> Committee:
    """The channel's committee, if the person may import into it: admins, its chair and officers."""
    committee = await require_channel_committee(session, ctx)
    if await ctx.directory.is_admin(ctx.user_id, ctx.team_id) or await committee_roles_of(session, ctx, committee):
        return committee
    raise NotAllowed("Only the committee's chair and officers, or an admin, can import a paper.")


def pack(text: str) -> str:
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")


def check_paste(text: str) -> str:
    """The pasted text, if it isn't longer than a paste may be."""
    if len(text) > MAX_PASTE:
        raise UserError(f"That is too long to paste here ({MAX_PASTE:,} characters at most): "
                        "attach the paper as a file instead.")
    return text


def unpack(packed: str) -> str:
    """The text pack() packed; never inflating beyond what a paste may be (a tampered form
    could carry a few kilobytes that inflate to many megabytes)."""
    most = 4 * MAX_PASTE   # bytes: UTF-8 takes at most four a character
    try:
        inflate = zlib.decompressobj()
        data = inflate.decompress(base64.b64decode(packed.encode("ascii"), validate=True), most + 1)
        if len(data) > most or inflate.unconsumed_tail or not inflate.eof:
            raise ValueError("too long, or cut short")
        text = data.decode("utf-8")
    except (ValueError, zlib.error, UnicodeError):
        raise UserError(_OUT_OF_DATE) from None
    if len(text) > MAX_PASTE:
        raise UserError(_OUT_OF_DATE)
    return text


def chunks(text: str) -> list[str]:
    """Text split at line ends into pieces an input block holds; joined again with "\\n"."""
    out, rest = [], text
    while len(rest) > CHUNK:
        cut = rest.rfind("\n", 0, CHUNK)
        if cut <= 0:
            cut = CHUNK
            out.append(rest[:cut])
            rest = rest[cut:]
        else:
            out.append(rest[:cut])
            rest = rest[cut + 1:]
    out.append(rest)
    if len(out) > MAX_CHUNKS:
        raise UserError("That is too long to paste here: attach the paper as a file instead.")
    return out


def join_chunks(parts: list[str]) -> str:
    """The pasted text chunks() split, as the preview's input blocks sent it back."""
    if len(parts) > MAX_CHUNKS or sum(len(p) + 1 for p in parts) > MAX_PASTE + MAX_CHUNKS:
        raise UserError(_OUT_OF_DATE)
    return "\n".join(parts)


async def parse(content: str | bytes, filename: str | None, ctx: Ctx,
                columns: dict[str, str] | None = None) -> ParsedPaper:
    """parse_paper in the sandbox (another process, PARSE_TIMEOUT and PARSE_MEMORY_MB at most),
    with "nothing found" as a one-line UserError for the form. columns: the officer's reading
    of the table ({role: heading or column number}, see column_overrides)."""
    try:
        paper = await parse_in_sandbox(content, filename, ctx.today, timeout=PARSE_TIMEOUT,
                                       memory_mb=PARSE_MEMORY_MB, columns=columns or None)
    except PaperFormatError as e:
        raise UserError(str(e).splitlines()[0] if str(e) else "I couldn't read that paper.") from None
    if not paper.items:
        raise UserError("I found no numbered recommendations or actions in that paper.")
    return paper


SLACK_FILE_HOSTS = ("files.slack.com",)


def may_carry_token(url: str, api_url: str | None = None) -> bool:
    """Only Slack's own file host (or, in tests, the host of SLACK_API_URL) is sent the bot token."""
    parts = urlsplit(url)
    if api_url:
        api = urlsplit(api_url)
        if (parts.scheme, parts.hostname, parts.port) == (api.scheme, api.hostname, api.port):
            return True
    return parts.scheme == "https" and parts.hostname in SLACK_FILE_HOSTS and parts.port in (None, 443)


async def fetch_file(client, token: str | None, file_id: str, *, api_url: str | None = None
                     ) -> tuple[str | None, bytes]:
    """(name, bytes) of a file shared through the form's file input. Where to download it is
    asked of Slack (files.info for its id), never taken from the submitted form, and the whole
    file is read, up to MAX_DOWNLOAD."""
    if not isinstance(file_id, str) or not re.fullmatch(r"F[A-Z0-9]{2,30}", file_id):
        raise UserError("I couldn't find that file in Slack. Try attaching it again.")
    try:
        info = (await client.files_info(file=file_id))["file"]
    except SlackApiError:
        raise UserError("I couldn't find that file in Slack. Try attaching it again.") from None
    url, name = info.get("url_private_download") or info.get("url_private"), info.get("name")
    if (info.get("size") or 0) > MAX_DOWNLOAD:
        raise UserError(f"That file is too large to import ({MAX_DOWNLOAD // 1024 // 1024} MB at most).")
    if not url or not may_carry_token(url, api_url):
        raise UserError("I couldn't download that file from Slack. Try attaching it again.")
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={"Authorization": f"Bearer {token or ''}"}, allow_redirects=False) as resp:
            # Slack answers a request it won't serve with its sign-in page (HTML, status 200).
            login_page = "text/html" in resp.headers.get("Content-Type", "") \
                and not (name or "").lower().endswith((".html", ".htm"))
            if resp.status != 200 or login_page:
                raise UserError("I couldn't download that file from Slack. Try attaching it again.")
            chunks, size = [], 0
            async for chunk in resp.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > MAX_DOWNLOAD:
                    raise UserError(f"That file is too large to import ({MAX_DOWNLOAD // 1024 // 1024} MB at most).")
                chunks.append(chunk)
    return name, b"".join(chunks)


async def store(session: AsyncSession, ctx: Ctx, committee: Committee, review: str, title: str | None,
                paper: ParsedPaper, source: str | None, *, dry_run: bool = False,
                take: frozenset | set = frozenset()) -> ImportReport:
    return await import_items(session, team_id=ctx.team_id, committee_code=committee.code, review_code=review,
                              items=paper.items, actor=ctx.user_id, now=ctx.now, title=title or paper.title,
                              as_of=paper.paper_date, source=source, dry_run=dry_run, take=take)


async def compare(session: AsyncSession, ctx: Ctx, committee: Committee, review: str, title: str | None,
                  paper: ParsedPaper) -> ImportReport:
    """What storing the paper would do, for the preview: nothing is written."""
    return await store(session, ctx, committee, review, title, paper, None, dry_run=True)


# -- the officer's reading of a table (the preview's column selects) ---------------------------

# What the preview's select offers for a column: the words parse_paper's `columns` takes
# (bot.importing.classify.ROLE_WORDS), one per role the importer gives a column.
COLUMN_ROLES = ("number", "text", "owner", "due", "revised", "status", "rag", "position", "ignore")
_ROLE_WORD = {"number": "number", "text": "text", "owners": "owner", "due": "due", "new_due": "revised",
              "status": "status", "rag": "rag", "position": "position", "ignore": "ignore"}


def column_role_word(role: str | None) -> str:
    """The select's word for a role in ParsedPaper.columns ("owners" is "owner"); anything the
    importer did not take for one of our roles is "ignore"."""
    return _ROLE_WORD.get(role or "", "ignore")


def _column_ref(columns: list[dict], number: int) -> str:
    """How to name a column to parse_paper: its heading when no other column has it, else its
    number ("3": the third column)."""
    def spelt(h) -> str:
        return " ".join(str(h or "").split()).casefold()
    heading = next((c.get("heading") or "" for c in columns if c.get("column") == number), "")
    if spelt(heading) and sum(1 for c in columns if spelt(c.get("heading")) == spelt(heading)) == 1:
        return " ".join(heading.split())
    return str(number)


def column_overrides(columns: list[dict], chosen: dict[int, str],
                     previous: dict[str, str] | None = None) -> dict[str, str]:
    """parse_paper's `columns` ({role word: heading or column number}) for the officer's reading:
    what they chose before (previous), and each column whose chosen role differs from the
    reading the preview showed (columns: ParsedPaper.columns). A role given to one column is
    taken from any other, except "ignore", which any number of columns may have ("A|B").
    Raises UserError for a role the preview never offered (a tampered or stale form)."""
    out = dict(previous or {})
    shown = {c.get("column"): c for c in columns}
    for number, word in sorted(chosen.items()):
        if word not in COLUMN_ROLES:
            raise UserError(_OUT_OF_DATE)
        column = shown.get(number)
        if column is None or column_role_word(column.get("role")) == word:
            continue   # not a column of this reading, or not changed
        ref = _column_ref(columns, number)
        out = _without_column(out, ref)   # this column's earlier choice
        out[word] = f"{out['ignore']}|{ref}" if word == "ignore" and out.get("ignore") else ref
    return out


def _without_column(chosen: dict[str, str], ref: str) -> dict[str, str]:
    kept: dict[str, str] = {}
    for role, at in chosen.items():
        rest = [a for a in at.split("|") if a != ref] if role == "ignore" else ([at] if at != ref else [])
        if rest:
            kept[role] = "|".join(rest)
    return kept


_TAKE_FIELDS = {"text": "text", "due": "due", "status": "status", "owner": "owners", "owners": "owners"}


def parse_take(spec: str | None) -> frozenset:
    """(ref, field) pairs for import_items' `take` from the command line's --take-paper, e.g.
    "rec-3:due,rec-5:owner" (fields: text, due, status, owner). Raises UserError, one line."""
    take = set()
    for part in (p.strip() for p in (spec or "").split(",")):
        if not part:
            continue
        ref, _, word = part.rpartition(":")
        name = _TAKE_FIELDS.get(word.strip().lower())
        ref = ref.strip()
        if not ref or name is None:
            raise UserError(f"--take-paper: “{part[:60]}” should be ref:field, e.g. rec-3:due "
                            "(fields: text, due, status, owner).")
        take.add((ref if ref.startswith("rec-") else f"rec-{ref}", name))
    return frozenset(take)
