"""Committees, roles and who may do what."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotAllowed, NotVisible, UserError
from bot.services import audit
from bot.services.context import Ctx
from models import reads
from models.queries import committee_by_code, ensure_workspace, role_key
from models.reads import CommitteeRow
from models.tables import Committee, Item, ItemOwner, Role, RoleHolder

C = TypeVar("C", Committee, CommitteeRow)

CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# Role names that mean "this committee's chair / officers" rather than an office of their own.
COMMITTEE_ROLE_WORDS = {"chair": "chair", "chairman": "chair", "chairperson": "chair",
                        "officer": "officer", "officers": "officer", "committee officer": "officer",
                        "committee officers": "officer",
                        "vice chair": "vice_chair", "vice-chair": "vice_chair", "vice chairman": "vice_chair",
                        "vice-chairman": "vice_chair", "vice chairperson": "vice_chair",
                        "deputy chair": "vice_chair"}
COMMITTEE_ROLE_TITLES = {"chair": "Chair", "vice_chair": "Vice Chair", "officer": "Officer"}
# The kinds that give rights on their committee (act on its items, meetings, letters).
COMMITTEE_KINDS = ("chair", "vice_chair", "officer")


def committee_role_kind(name: str) -> str | None:
    """"chair", "vice_chair" or "officer" when a typed role name means one of the channel
    committee's own roles ("chair", "Officers", "vice chair"), else None."""
    return COMMITTEE_ROLE_WORDS.get(" ".join(name.lower().strip(" .,;:\"'").split()))


def committee_role_name(kind: str, committee: Committee | CommitteeRow) -> str:
    return f"{COMMITTEE_ROLE_TITLES[kind]} of {committee.name}"


@dataclass
class Holder:
    """A role holder as given in a command: a Slack user, or an outside person."""
    user_id: str | None = None
    name: str | None = None
    email: str | None = None


async def require_admin(ctx: Ctx, what: str) -> None:
    if not await ctx.directory.is_admin(ctx.user_id, ctx.team_id):
        raise NotAllowed(f"Only workspace admins can {what}. Ask an admin, or have your user ID added to SCRUTINEER_ADMINS.")


async def channel_committee(session: AsyncSession, ctx: Ctx) -> CommitteeRow | None:
    """The committee bound to the channel asked in (models/reads.committee_for_channel, the one
    look-up), read in the session's transaction. A writer that needs the ORM object (to change
    the committee, or to hang a new row on it) loads it by the row's id."""
    return await reads.in_session(session, reads.committee_for_channel, ctx.team_id, ctx.channel_id)


async def require_channel_committee(session: AsyncSession, ctx: Ctx) -> CommitteeRow:
    committee = await channel_committee(session, ctx)
    if committee is None:
        raise UserError("This channel isn't bound to a committee yet. An admin can bind it with "
                        "`/scrutiny setup cyp Children and Young People Scrutiny Committee`.")
    return committee


async def can_see(ctx: Ctx, committee: Committee | CommitteeRow) -> bool:
    if not committee.is_private or committee.channel_id == ctx.channel_id:
        return True
    if committee.channel_id and committee.channel_id in await ctx.directory.private_channels_of(ctx.user_id):
        return True
    return await ctx.directory.is_admin(ctx.user_id, ctx.team_id)


async def visible(ctx: Ctx, committees: list[C]) -> list[C]:
    """Those of the committees the person may see, in the same order."""
    if not any(c.is_private for c in committees):
        return committees
    return [c for c in committees if await can_see(ctx, c)]


async def visible_committees(session: AsyncSession, ctx: Ctx) -> list[CommitteeRow]:
    """Every committee of the workspace the person may see, by code."""
    return await visible(ctx, await reads.in_session(session, reads.committees_of, ctx.team_id))


async def committee_roles_of(session: AsyncSession, ctx: Ctx, committee: Committee | CommitteeRow) -> set[str]:
    """The kinds ("chair", "officer") the person holds on this committee."""
    rows = await session.scalars(
        select(Role.kind).join(RoleHolder, RoleHolder.role_id == Role.id).where(
            Role.committee_id == committee.id, Role.kind.in_(COMMITTEE_KINDS),
            RoleHolder.user_id == ctx.user_id, RoleHolder.ended_at.is_(None)))
    return set(rows)


async def require_committee_officer(session: AsyncSession, ctx: Ctx, committee: Committee | CommitteeRow,
                                   what: str) -> None:
    """The person is one of the committee's chair or officers, or an admin; else NotAllowed saying
    who may `what` ("schedule its meetings", "add indicators")."""
    if await committee_roles_of(session, ctx, committee):
        return
    if await ctx.directory.is_admin(ctx.user_id, ctx.team_id):
        return
    raise NotAllowed(f"Only the chair and officers of {committee.name} (or an admin) can {what}.")


async def can_update_item(session: AsyncSession, ctx: Ctx, item: Item | reads.ItemRow) -> bool:
    """Its owners (the current holders of its roles, loaded with it), the committee's chair
    and officers, and admins. item: an Item, or a read row (models/reads.py)."""
    if any(h.user_id == ctx.user_id for o in item.owners for h in o.role.current_holders):
        return True
    if await committee_roles_of(session, ctx, item.committee):
        return True
    return await ctx.directory.is_admin(ctx.user_id, ctx.team_id)


FROM_ELSEWHERE = "You're in this channel from another organisation, so you can read the tracker but not change it."


async def refusal(session: AsyncSession, ctx: Ctx, error: NotAllowed) -> str:
    """What a refused change says. Every change is granted only to item owners, committee role
    holders and the workspace's admins (can_update_item, committee_roles_of, require_admin and
    the checks built on them), so someone from another organisation in a Slack Connect channel
    can read but not change, unless they hold a role here. Such a person, refused, is told why in
    one line rather than which office could have done it."""
    if isinstance(error, NotVisible) or not await ctx.from_another_organisation():
        return error.message
    holds_role = await session.scalar(
        select(RoleHolder.id).join(Role, Role.id == RoleHolder.role_id).where(
            Role.team_id == ctx.team_id, RoleHolder.user_id == ctx.user_id, RoleHolder.ended_at.is_(None)).limit(1))
    return error.message if holds_role is not None else FROM_ELSEWHERE


@dataclass
class Setup:
    """What `/scrutiny setup` did: created or bound the committee, or (rename_to set) changed
    nothing because it would rename an existing committee, which is asked first."""
    committee: Committee
    created: bool = False
    rename_to: str | None = None
    moves_channel: bool = False     # the rename would also bind it here from another channel


async def setup_committee(session: AsyncSession, ctx: Ctx, code: str, name: str, *,
                          rename: bool = False) -> Setup:
    """Bind the current channel to a committee, creating it if new. Giving an existing
    committee another name changes nothing unless rename=True (the person confirmed it)."""
    await require_admin(ctx, "set up committees")
    code = code.lower()
    if not CODE_RE.match(code):
        raise UserError(f"“{code}” can't be a committee code: use a short word of letters and digits, e.g. `cyp`.")
    if ctx.in_dm:
        raise UserError("Run `/scrutiny setup` in the committee's channel, not in a direct message.")
    name = " ".join(name.split())
    if len(name) > 300:
        raise UserError("That committee name is too long: keep it under 300 characters.")
    await ensure_workspace(session, ctx.team_id, ctx.now)
    is_private = await ctx.directory.channel_is_private(ctx.channel_id)
    bound_here = await channel_committee(session, ctx)
    if bound_here is not None and bound_here.code != code:
        raise UserError(f"This channel is already bound to `{bound_here.code}` ({bound_here.name}).")
    committee = await committee_by_code(session, ctx.team_id, code)   # the ORM object, to change
    if committee is None:
        if not name:
            raise UserError("Give the committee a name too, e.g. `/scrutiny setup cyp Children and Young People Scrutiny Committee`.")
        committee = Committee(team_id=ctx.team_id, code=code, name=name, channel_id=ctx.channel_id,
                              is_private=is_private, created_at=ctx.now)
        session.add(committee)
        await session.flush()
        audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="committee",
                     entity_id=committee.id, action="create",
                     after={"code": code, "name": name, "channel_id": ctx.channel_id, "is_private": is_private})
        return Setup(committee, created=True)
    if name and name != committee.name and not rename:
        return Setup(committee, rename_to=name, moves_channel=committee.channel_id != ctx.channel_id)
    before = {"name": committee.name, "channel_id": committee.channel_id, "is_private": committee.is_private}
    committee.name = name or committee.name
    committee.channel_id = ctx.channel_id
    committee.is_private = is_private
    after = {"name": committee.name, "channel_id": committee.channel_id, "is_private": committee.is_private}
    if after != before:
        audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="committee",
                     entity_id=committee.id, action="update", before=before, after=after)
    return Setup(committee)


async def confirm_rename(session: AsyncSession, ctx: Ctx, committee_id: int, old_name: str, new_name: str,
                         channel_id: str | None) -> Setup:
    """The admin pressed "Rename" under `/scrutiny setup`'s question: rename (and bind) it now,
    audited, unless someone renamed it meanwhile."""
    await require_admin(ctx, "set up committees")
    committee = await session.get(Committee, committee_id)
    if committee is None or committee.team_id != ctx.team_id:
        raise UserError("That committee no longer exists. Run `/scrutiny setup` again.")
    if committee.name == new_name and committee.channel_id == channel_id:
        return Setup(committee)
    if committee.name != old_name:
        raise UserError(f"Someone renamed it to “{committee.name}” meanwhile, so nothing changed. "
                        "Run `/scrutiny setup` again if it still needs a new name.")
    return await setup_committee(session, ctx.in_channel(channel_id), committee.code, new_name, rename=True)


async def get_or_create_role(session: AsyncSession, ctx_team: str, name: str, now, actor: str,
                             kind: str = "role", committee: Committee | CommitteeRow | None = None) -> Role:
    name = " ".join(name.split()).strip(" .,;:")
    if not name:
        raise UserError("A role needs a name, e.g. `\"Chairman of the ESCB\"`.")
    if len(name) > 200:
        raise UserError("That role name is too long: keep it under 200 characters.")
    if kind in COMMITTEE_KINDS:
        key = f"{kind}:{committee.code}"
    elif kind == "person":
        key = f"person:{name}"
    else:
        key = role_key(name)
    role = (await session.scalars(select(Role).where(Role.team_id == ctx_team, Role.key == key))).first()
    if role is None:
        role = Role(team_id=ctx_team, name=name, key=key, kind=kind,
                    committee_id=committee.id if committee else None, created_at=now, holders=[])
        session.add(role)
        await session.flush()
        audit.record(session, team_id=ctx_team, actor=actor, at=now, entity="role", entity_id=role.id,
                     action="create", after={"name": name, "kind": kind})
    return role


async def person_role(session: AsyncSession, ctx: Ctx, user_id: str) -> Role:
    """An item owned by a person directly is owned by their own one-person role."""
    role = await get_or_create_role(session, ctx.team_id, f"<@{user_id}>", ctx.now, ctx.user_id, kind="person")
    if not role.current_holders:
        session.add(RoleHolder(role_id=role.id, user_id=user_id, started_at=ctx.now, assigned_by=ctx.user_id))
        await session.flush()
        await session.refresh(role, ["holders"])
    return role


async def find_role(session: AsyncSession, team_id: str, name: str) -> Role | None:
    """The workspace's role a typed name means (case, filler words and word order aside)."""
    key = role_key(name)
    if not key:
        return None
    return (await session.scalars(select(Role).where(Role.team_id == team_id, Role.key == key))).first()


async def close_role_names(session: AsyncSession, team_id: str, name: str, n: int = 1) -> list[str]:
    """The workspace's role names nearest a mistyped one (difflib), for "did you mean …?"."""
    names = list(await session.scalars(
        select(Role.name).where(Role.team_id == team_id, Role.kind == "role").order_by(Role.name)))
    by_lower = {}
    for known in names:
        by_lower.setdefault(known.lower(), known)
    found = difflib.get_close_matches(" ".join(name.lower().split()), list(by_lower), n=n, cutoff=0.6)
    return [by_lower[f] for f in found]


async def owner_role(session: AsyncSession, ctx: Ctx, committee: Committee | CommitteeRow, owner) -> Role:
    """The role an item's owner as typed names: ("user", U123) is that person's own role;
    "chair", "officers", "vice chair" are the committee's own; any other name must be a role the
    workspace has. An unknown name is refused with the nearest role and how to create it,
    rather than made into a role nobody holds (so nobody would be reminded)."""
    if isinstance(owner, tuple):
        return await person_role(session, ctx, owner[1])
    kind = committee_role_kind(owner)
    if kind:
        return await get_or_create_role(session, ctx.team_id, committee_role_name(kind, committee), ctx.now,
                                        ctx.user_id, kind=kind, committee=committee)
    name = " ".join(owner.split()).strip(" .,;:")
    if not name:
        raise UserError("A role needs a name, e.g. `\"Cabinet Member\"`.")
    role = await find_role(session, ctx.team_id, name)
    if role is not None and role.kind != "person":
        return role
    shown = name if len(name) <= 80 else name[:79] + "…"
    near = await close_role_names(session, ctx.team_id, name)
    hint = f" — did you mean {near[0]}?" if near else "."
    raise UserError(f"There's no role called “{shown}”{hint} Create it with "
                    f"`/scrutiny role \"{shown}\" @someone`.")


async def assign_role(session: AsyncSession, ctx: Ctx, name: str, holders: list[Holder]) -> tuple[Role, list[RoleHolder], list[RoleHolder]]:
    """Give a role to new holders; previous holders are ended, not deleted.
    Returns (role, ended, started)."""
    await require_admin(ctx, "map roles to people")
    await ensure_workspace(session, ctx.team_id, ctx.now)
    if not holders:
        raise UserError('Say who holds the role, e.g. `/scrutiny role "Chairman of the ESCB" @alice`.')
    kind = committee_role_kind(name)
    committee = None
    if kind:
        committee = await require_channel_committee(session, ctx)
        name = committee_role_name(kind, committee)
    role = await get_or_create_role(session, ctx.team_id, name, ctx.now, ctx.user_id,
                                    kind=kind or "role", committee=committee)
    current = role.current_holders
    wanted = {(h.user_id, (h.name or "").lower()) for h in holders}
    have = {(h.user_id, (h.name or "").lower()) for h in current}
    if wanted == have:
        return role, [], []
    ended = []
    for h in current:
        h.ended_at = ctx.now
        ended.append(h)
    started = []
    for h in holders:
        row = RoleHolder(role_id=role.id, user_id=h.user_id, name=h.name, email=h.email,
                         started_at=ctx.now, assigned_by=ctx.user_id)
        session.add(row)
        started.append(row)
    await session.flush()
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="role", entity_id=role.id,
                 action="assign",
                 before={"holders": [holder_text(h) for h in ended]},
                 after={"holders": [holder_text(h) for h in started]})
    await session.refresh(role, ["holders"])
    return role, ended, started


def holder_text(h: RoleHolder | reads.HolderRow) -> str:
    """Who holds a role, as plain text for the audit trail (shown to people through
    bot.slack_ui.items.holder_label, which escapes it)."""
    if h.user_id:
        return f"<@{h.user_id}>"
    if h.name and h.email:
        return f"{h.name} ({h.email})"
    return h.name or h.email or "someone"


async def list_roles(session: AsyncSession, ctx: Ctx) -> list[Role]:
    """The workspace's roles the person may know of. A role that belongs to a committee they
    can't see (its chair, its officers), or that owns items only in such committees, is left
    out: outsiders learn nothing of a private committee, not even its name."""
    roles = list(await session.scalars(
        select(Role).where(Role.team_id == ctx.team_id, Role.kind != "person").order_by(Role.name)))
    all_ids = {c.id for c in await reads.in_session(session, reads.committees_of, ctx.team_id)}
    seen = {c.id for c in await visible_committees(session, ctx)}
    if seen == all_ids:
        return roles
    owned_in: dict[int, set[int]] = {}
    for role_id, committee_id in await session.execute(
            select(ItemOwner.role_id, Item.committee_id).join(Item, Item.id == ItemOwner.item_id)
            .where(Item.team_id == ctx.team_id).distinct()):
        owned_in.setdefault(role_id, set()).add(committee_id)

    def shown(role: Role) -> bool:
        if role.committee_id is not None:
            return role.committee_id in seen
        committees = owned_in.get(role.id)
        return not committees or bool(committees & seen)
    return [r for r in roles if shown(r)]


__all__ = ["COMMITTEE_KINDS", "close_role_names", "committee_role_kind", "committee_role_name", "find_role",
           "confirm_rename", "owner_role", "Setup",
           "Holder", "assign_role", "can_see", "can_update_item", "channel_committee",
           "list_roles", "person_role", "require_admin", "require_channel_committee", "setup_committee",
           "visible", "visible_committees", "committee_roles_of", "get_or_create_role", "holder_text"]
