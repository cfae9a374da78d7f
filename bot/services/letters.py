"""Partner agencies and the chair's decision letter (seeds/002 recommendations 5 and 6).

After each meeting the chair writes to senior officers of every member agency with the
key decisions and the action to be taken; the committee gets a copy through its
officers, and the app keeps the evidence of dissemination: per recipient, when the
letter was delivered and when it was acknowledged.

Sending only *queues* messages in the outbox, in the same transaction that records the
letter and its recipients; the dispatcher delivers them, and `record_deliveries` (run in
the transaction that marks them sent) notes each delivery time. `chase_unacknowledged` is scheduled work: a
plain function of `now` with deterministic outbox keys, safe to run twice or in two
processes at once. What the messages say is the caller's: both take a LetterRenderer
(the callers pass the Slack rendering of letters).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Mapping, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotAllowed, NotFound, NotVisible, UserError
from bot.core.workdays import WORKING_HOUR, holidays_of, is_working_day, working_days_between
from bot.delivery import enqueue, enqueue_many
from bot.services import audit
from bot.services import settings as council_settings
from bot.services.committees import can_see, committee_roles_of, require_channel_committee
from bot.services.context import Ctx
from bot.services.home import queue_home_refresh
from bot.services.parsing import QUOTES
from models.delivery import OutboxMessage
from models.meetings import Agency, AgencyContact, Letter, LetterRecipient, Meeting
from models.tables import Committee, Item, Role, RoleHolder

CHASE_AFTER_WORKING_DAYS = 3
ACK_LINK_DAYS = 60   # an emailed acknowledgement link works this long
EMAIL_METHOD = "email"   # the outbox method of an email (bot.delivery.mail sends it)
MAX_LETTER = 30000  # ten of the form's inputs (a plain_text_input holds 3,000 characters)
AGENCY_EXAMPLE = '`/scrutiny agency add "Essex Police" @bob`'

# A contact in `/scrutiny agency add`: a mention, a Slack-escaped mailto, or a plain address.
_CONTACT_RE = re.compile(
    r"<@(?P<user>[UW][A-Z0-9]+)(?:\|[^>]*)?>"
    r"|<mailto:(?P<mailto>[^|>]+)(?:\|[^>]*)?>"
    r"|(?P<email>[^\s<>\"',;()]+@[^\s<>\"',;()]+\.[^\s<>\"',;()]+)")
_EMAIL_OK = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# ---- agencies -----------------------------------------------------------------------

@dataclass
class ContactSpec:
    """A contact as typed: a Slack user, or a person known only by name and email."""
    user_id: str | None = None
    name: str | None = None
    email: str | None = None


def _leftover_name(text: str) -> str:
    text = " ".join(text.replace('"', " ").split())
    text = re.sub(r"^(?:and\b|[,;:()&]|\s)+|(?:\band|[,;:()&]|\s)+$", "", text, flags=re.I)
    return text.strip()


def parse_agency_add(text: str) -> tuple[str, list[ContactSpec]]:
    """`"Essex Police" @bob Jane Smith <mailto:jane@essex.police.uk|jane@essex.police.uk>`."""
    text = (text or "").translate(QUOTES).strip()
    m = re.match(r'^"([^"]+)"\s*(.*)$', text, re.S)
    if m:
        name, rest = m.group(1), m.group(2)
    else:
        first = _CONTACT_RE.search(text)
        name, rest = (text[:first.start()], text[first.start():]) if first else (text, "")
    name = " ".join(name.split()).strip(" ,;:")
    if not name:
        raise UserError(f"Name the agency, then its contacts: {AGENCY_EXAMPLE}.")
    if len(name) > 200:
        raise UserError("That agency name is too long: keep it under 200 characters.")
    contacts: list[ContactSpec] = []
    pos = 0
    for token in _CONTACT_RE.finditer(rest):
        label = _leftover_name(rest[pos:token.start()])
        pos = token.end()
        if token.group("user"):
            if label:
                raise UserError(f"I need an email address for “{label[:60]}”, e.g. "
                                f"`Jane Smith jane.smith@essex.police.uk`, or mention a Slack user.")
            contacts.append(ContactSpec(user_id=token.group("user")))
            continue
        email = (token.group("mailto") or token.group("email")).strip().lower()
        if not _EMAIL_OK.match(email) or len(email) > 320:
            raise UserError(f"“{email[:60]}” doesn't look like an email address.")
        contacts.append(ContactSpec(name=label[:200] or None, email=email))
    tail = _leftover_name(rest[pos:])
    if tail:
        raise UserError(f"I need an email address for “{tail[:60]}”, e.g. `Jane Smith jane.smith@essex.police.uk`, "
                        f"or mention a Slack user: {AGENCY_EXAMPLE}.")
    return name, contacts


async def _may_manage_agencies(session: AsyncSession, ctx: Ctx, committee: Committee) -> bool:
    if await committee_roles_of(session, ctx, committee):
        return True
    return await ctx.directory.is_admin(ctx.user_id, ctx.team_id)


async def add_agency(session: AsyncSession, ctx: Ctx, name: str,
                     contacts: list[ContactSpec]) -> tuple[Agency, bool, list[AgencyContact]]:
    """Add a partner agency to this channel's committee (or contacts to an existing one).
    Returns (agency, created, contacts added). Admins, the chair and officers only."""
    committee = await require_channel_committee(session, ctx)
    if not await _may_manage_agencies(session, ctx, committee):
        raise NotAllowed(f"Only the chair and officers of {committee.name}, or an admin, can add partner agencies.")
    agencies = list(await session.scalars(select(Agency).where(Agency.committee_id == committee.id)))
    agency = next((a for a in agencies if a.name.lower() == name.lower()), None)
    created = agency is None
    if agency is not None and agency.removed_at is not None:   # added again: back on the letters
        audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="agency",
                     entity_id=agency.id, action="restore", before={"removed_at": agency.removed_at},
                     after={"removed_at": None})
        agency.removed_at = None
        created = True
    if agency is None:
        agency = Agency(team_id=ctx.team_id, committee_id=committee.id, name=name, created_at=ctx.now, contacts=[])
        session.add(agency)
        await session.flush()
        audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="agency",
                     entity_id=agency.id, action="create", after={"name": name, "committee": committee.code})
    added: list[AgencyContact] = []
    for spec in contacts:
        same = next((c for c in agency.contacts + added if c.active and (
            (spec.user_id and c.user_id == spec.user_id) or
            (spec.email and c.email and c.email.lower() == spec.email))), None)
        if same is not None:
            if spec.name and not same.name:
                same.name = spec.name
            continue
        contact = AgencyContact(agency_id=agency.id, user_id=spec.user_id, name=spec.name, email=spec.email,
                                active=True, created_at=ctx.now)
        session.add(contact)
        added.append(contact)
    if added:
        await session.flush()
        audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="agency",
                     entity_id=agency.id, action="add_contacts",
                     after={"contacts": [contact_label(c) for c in added]})
        await session.refresh(agency, ["contacts"])
    return agency, created, added


async def list_agencies(session: AsyncSession, ctx: Ctx) -> tuple[Committee, list[Agency]]:
    """The committee's partner agencies (not the removed ones, which stay in the letters sent)."""
    committee = await require_channel_committee(session, ctx)
    if not await can_see(ctx, committee):
        raise NotVisible("You can't see this committee.")
    agencies = list(await session.scalars(
        select(Agency).where(Agency.committee_id == committee.id, Agency.team_id == ctx.team_id,
                             Agency.removed_at.is_(None))
        .order_by(Agency.name)))
    return committee, agencies


REMOVE_EXAMPLE = '`/scrutiny agency remove "Essex Police"`'
REMOVE_CONTACT_EXAMPLE = '`/scrutiny agency remove-contact "Essex Police" @bob`'


async def _agency_to_change(session: AsyncSession, ctx: Ctx, name: str, what: str) -> tuple[Committee, Agency]:
    committee = await require_channel_committee(session, ctx)
    if not await _may_manage_agencies(session, ctx, committee):
        raise NotAllowed(f"Only the chair and officers of {committee.name}, or an admin, can {what}.")
    agencies = list(await session.scalars(
        select(Agency).where(Agency.committee_id == committee.id, Agency.team_id == ctx.team_id,
                             Agency.removed_at.is_(None)).order_by(Agency.name)))
    agency = next((a for a in agencies if a.name.lower() == " ".join(name.split()).lower()), None)
    if agency is None:
        known = ", ".join(f"“{a.name}”" for a in agencies[:10]) or "none yet"
        raise UserError(f"{committee.name} has no partner agency called “{name[:80]}”. Its agencies: {known}.")
    return committee, agency


async def remove_agency(session: AsyncSession, ctx: Ctx, text: str) -> Agency:
    """`/scrutiny agency remove "Essex Police"`: no letters to it from now on. Soft: the agency
    and its contacts stay in the letters already sent and in the audit trail."""
    name = " ".join((text or "").translate(QUOTES).replace('"', " ").split())
    if not name:
        raise UserError(f"Say which agency: {REMOVE_EXAMPLE}.")
    _, agency = await _agency_to_change(session, ctx, name, "remove partner agencies")
    agency.removed_at = ctx.now
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="agency",
                 entity_id=agency.id, action="remove", before={"removed_at": None},
                 after={"name": agency.name, "removed_at": ctx.now,
                        "contacts": [contact_label(c) for c in agency.contacts if c.active]})
    await session.flush()
    return agency


async def remove_contacts(session: AsyncSession, ctx: Ctx, text: str) -> tuple[Agency, list[AgencyContact]]:
    """`/scrutiny agency remove-contact "Essex Police" @bob` (or an email address): those contacts
    get no letters from now on; kept in history. Returns (agency, contacts removed)."""
    name, specs = parse_agency_add(text)
    if not specs:
        raise UserError(f"Say which contact: {REMOVE_CONTACT_EXAMPLE} (or their email address).")
    _, agency = await _agency_to_change(session, ctx, name, "remove agency contacts")
    removed, missing = [], []
    for spec in specs:
        found = [c for c in agency.contacts if c.active and (
            (spec.user_id and c.user_id == spec.user_id) or
            (spec.email and c.email and c.email.lower() == spec.email))]
        if not found:
            missing.append(contact_label(spec))
        removed += [c for c in found if c not in removed]
    if missing:
        raise UserError(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not a contact of "
                        f"{agency.name}, so nothing was removed. `/scrutiny agencies` lists its contacts.")
    for c in removed:
        c.active, c.removed_at = False, ctx.now
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="agency",
                 entity_id=agency.id, action="remove_contacts",
                 before={"contacts": [contact_label(c) for c in removed]}, after={"removed_at": ctx.now})
    await session.flush()
    return agency, removed


def contact_label(c) -> str:
    """A contact or recipient for people to read: a mention, or "Name <email>"."""
    if c.user_id:
        return f"<@{c.user_id}>"
    if c.name and c.email:
        return f"{c.name} <{c.email}>"
    return c.name or c.email or "someone"


# ---- who a letter goes to -------------------------------------------------------------

@dataclass
class PlannedRecipient:
    kind: str                  # channel | contact | officer
    agency: str | None = None
    user_id: str | None = None
    channel_id: str | None = None
    name: str | None = None
    email: str | None = None

    @property
    def by_email(self) -> bool:
        return self.kind != "channel" and not self.user_id


async def committee_role_holders(session: AsyncSession, committee_id: int, kind: str) -> list[RoleHolder]:
    """Current holders of the committee's chair or officer role(s)."""
    return list(await session.scalars(
        select(RoleHolder).join(Role, Role.id == RoleHolder.role_id).where(
            Role.committee_id == committee_id, Role.kind == kind, RoleHolder.ended_at.is_(None))
        .order_by(RoleHolder.started_at, RoleHolder.id)))


async def plan_recipients(session: AsyncSession, committee: Committee) -> list[PlannedRecipient]:
    """The channel, each active agency contact, then each committee officer — each person once."""
    planned: list[PlannedRecipient] = []
    if committee.channel_id:
        planned.append(PlannedRecipient(kind="channel", channel_id=committee.channel_id))
    seen_users: set[str] = set()
    seen_emails: set[str] = set()

    def fresh(user_id, email) -> bool:
        if user_id:
            if user_id in seen_users:
                return False
            seen_users.add(user_id)
            return True
        key = (email or "").lower()
        if key and key in seen_emails:
            return False
        seen_emails.add(key)
        return True

    agencies = await session.scalars(select(Agency).where(Agency.committee_id == committee.id,
                                                          Agency.removed_at.is_(None)).order_by(Agency.name))
    for agency in agencies:
        for c in agency.contacts:
            if c.active and (c.user_id or c.email) and fresh(c.user_id, c.email):
                planned.append(PlannedRecipient(kind="contact", agency=agency.name, user_id=c.user_id,
                                                name=c.name, email=c.email))
    for h in await committee_role_holders(session, committee.id, "officer"):
        if (h.user_id or h.email) and fresh(h.user_id, h.email):
            planned.append(PlannedRecipient(kind="officer", user_id=h.user_id, name=h.name, email=h.email))
    return planned


# ---- the letter -------------------------------------------------------------------------

@dataclass
class Draft:
    committee: Committee
    meeting: Meeting | None
    text: str
    recipients: list[PlannedRecipient] = field(default_factory=list)
    facts: LetterFacts | None = None
    # People whose names weren't known without asking Slack (draft_letter(look_up=False)): the
    # text shows them as mentions until `named_text` fills the names in.
    pending: frozenset[str] = frozenset()


async def require_letter_writer(session: AsyncSession, ctx: Ctx, committee: Committee) -> None:
    """Chairs and officers of the committee write and send its letters."""
    if not await committee_roles_of(session, ctx, committee):
        raise NotAllowed(f"Only the chair or an officer of {committee.name} can send its decision letter.")


async def last_meeting(session: AsyncSession, committee: Committee, now: datetime) -> Meeting | None:
    """The most recent meeting that has started (closed or not; not a cancelled one)."""
    return (await session.scalars(
        select(Meeting).where(Meeting.committee_id == committee.id, Meeting.team_id == committee.team_id,
                              Meeting.starts_at <= now, Meeting.cancelled_at.is_(None))
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(1))).first()


def long_date(d) -> str:
    return f"{d.day} {d:%B %Y}"


@dataclass(frozen=True)
class Holder:
    """Who holds an owning role, for a letter: a Slack user (named when the letter is written)
    or a person known by name or email."""
    user_id: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Owner:
    kind: str            # the role's kind: "person" names only its holders
    role: str
    holders: tuple[Holder, ...] = ()


@dataclass(frozen=True)
class Action:
    owners: tuple[Owner, ...]
    ref: str
    text: str
    due: date | None


@dataclass(frozen=True)
class LetterFacts:
    """What the letter says, read from the database; `write_letter` turns it into text once
    the people in it have names. Plain data, so it outlives the session it was read in."""
    committee: str
    met_on: date
    decisions: tuple[tuple[int, str], ...]
    actions: tuple[Action, ...]
    signer_id: str
    chair: bool
    council: str = ""    # the council's name (`/scrutiny settings`), under the committee's in the sign-off

    @property
    def people(self) -> list[str]:
        """The Slack users the letter names, each once: owners in order, then the signer."""
        ids = [h.user_id for a in self.actions for o in a.owners for h in o.holders if h.user_id]
        return list(dict.fromkeys([*ids, self.signer_id]))


def pending_name(user_id: str) -> str:
    """How the letter shows a person whose name isn't known (yet): their mention, which Slack
    shows as their name wherever the letter is posted."""
    return f"<@{user_id}>"


def _found(names: Mapping[str, str | None]) -> dict[str, str]:
    """The names Slack gave; someone it couldn't name (display_name answers their id) keeps
    their mention in the letter."""
    return {u: n for u, n in names.items() if n and n != u}


def _owner_phrase(owners: tuple[Owner, ...], names: Mapping[str, str]) -> str:
    """Plain words for an item's owners ("Cabinet Member (Carol Cabinet)"), for a letter."""
    parts = []
    for o in owners:
        holders = [names.get(h.user_id) or pending_name(h.user_id) if h.user_id else h.label
                   for h in o.holders]
        if o.kind == "person":
            parts.append(", ".join(holders) or o.role)
        else:
            parts.append(f"{o.role} ({', '.join(holders)})" if holders else o.role)
    return " and ".join(parts) or "No owner yet"


async def letter_facts(session: AsyncSession, ctx: Ctx, committee: Committee, meeting: Meeting) -> LetterFacts:
    """Read what the letter after `meeting` says (no Slack calls)."""
    decisions = tuple((d.number, " ".join(d.text.split())) for d in meeting.decisions if d.withdrawn_at is None)
    items = await session.scalars(
        select(Item).where(Item.meeting_id == meeting.id, Item.team_id == committee.team_id)
        .order_by(Item.seq, Item.id))
    actions = []
    for item in items:
        owners = tuple(
            Owner(o.role.kind, o.role.name, tuple(
                Holder(user_id=h.user_id) if h.user_id else Holder(label=h.name or h.email)
                for h in o.role.current_holders if h.user_id or h.name or h.email))
            for o in item.owners)
        actions.append(Action(owners, item.ref, " ".join(item.text.split()), item.due))
    roles = await committee_roles_of(session, ctx, committee)
    return LetterFacts(committee.name, meeting.starts_at.astimezone(ctx.tz).date(), decisions, tuple(actions),
                       ctx.user_id, "chair" in roles, await council_settings.council_name(session, ctx.team_id))


def write_letter(facts: LetterFacts, names: Mapping[str, str]) -> str:
    """The letter as the form prefills it: decisions, then actions arising by owner. A person
    missing from `names` appears as their mention (pending_name)."""
    lines = ["Dear colleagues,", "",
             f"The {facts.committee} met on {long_date(facts.met_on)}. This letter sets out the key decisions "
             "and the action to be taken.", ""]
    if facts.decisions:
        lines.append("Resolved – That")
        lines += [f"({number}) {text}" for number, text in facts.decisions]
    else:
        lines.append("No decisions were recorded at this meeting.")
    lines.append("")
    if facts.actions:
        lines.append("Actions arising")
        groups: OrderedDict[str, list[Action]] = OrderedDict()
        for action in facts.actions:
            groups.setdefault(_owner_phrase(action.owners, names), []).append(action)
        for owner, owned in groups.items():
            lines.append(f"{owner}:")
            for action in owned:
                due = f"by {long_date(action.due)}" if action.due else "no due date yet"
                lines.append(f"• {action.ref}: {action.text} — {due}")
        lines.append("")
    else:
        lines += ["No new actions arose from this meeting.", ""]
    signer = names.get(facts.signer_id) or pending_name(facts.signer_id)
    lines += ["Please acknowledge receipt of this letter.", "", "Yours sincerely,", signer,
              f"{'Chair' if facts.chair else 'on behalf of the Chair'}, {facts.committee}"]
    if facts.council and facts.council.lower() not in facts.committee.lower():
        lines.append(facts.council)
    text = "\n".join(lines)
    if len(text) > MAX_LETTER:
        text = text[:MAX_LETTER - 1].rstrip() + "…"
    return text


async def compose(session: AsyncSession, ctx: Ctx, committee: Committee, meeting: Meeting) -> str:
    """The letter as the form prefills it, every person named (their names looked up together:
    one round trip to Slack at most, however many people the letter names)."""
    facts = await letter_facts(session, ctx, committee, meeting)
    return write_letter(facts, _found(await ctx.directory.display_names(facts.people)))


async def draft_letter(session: AsyncSession, ctx: Ctx, *, look_up: bool = True) -> Draft:
    """What `/letter` opens: a letter prefilled from the committee's last meeting.

    look_up=False asks Slack nothing: people whose names the directory hasn't cached appear as
    mentions, listed in Draft.pending; `named_text` later writes the text with their names."""
    committee = await require_channel_committee(session, ctx)
    await require_letter_writer(session, ctx, committee)
    meeting = await last_meeting(session, committee, ctx.now)
    if meeting is None:
        raise UserError(f"{committee.name} has no meeting yet to write about. "
                        "Schedule one with `/meeting new 3 June 2026 10:00`.")
    facts = await letter_facts(session, ctx, committee, meeting)
    if look_up:
        names, pending = await ctx.directory.display_names(facts.people), frozenset()
    else:
        names = {u: ctx.directory.display_name_cached(u) for u in facts.people}
        pending = frozenset(u for u, name in names.items() if name is None)
    names = _found(names)
    return Draft(committee, meeting, write_letter(facts, names), await plan_recipients(session, committee),
                 facts, pending)


async def named_text(ctx: Ctx, draft: Draft) -> str:
    """The draft's text with everyone named: the pending names looked up together (one round
    trip to Slack, not one per person); names already cached cost nothing."""
    if draft.facts is None:
        return draft.text
    return write_letter(draft.facts, _found(await ctx.directory.display_names(draft.facts.people)))


async def load_for_form(session: AsyncSession, ctx: Ctx, committee_id: int,
                        meeting_id: int | None) -> tuple[Committee, Meeting | None, list[PlannedRecipient]]:
    """Check a submitted form's committee (and meeting) again: rights may have changed."""
    committee = await session.get(Committee, committee_id)
    if committee is None or committee.team_id != ctx.team_id or not await can_see(ctx, committee):
        # The same words whether it exists or is private: a tampered form learns nothing.
        raise NotFound("That committee no longer exists. Run `/letter` again.")
    await require_letter_writer(session, ctx, committee)
    meeting = await session.get(Meeting, meeting_id) if meeting_id else None
    if meeting is not None and meeting.committee_id != committee.id:
        raise NotFound("That meeting doesn't belong to this committee. Run `/letter` again.")
    return committee, meeting, await plan_recipients(session, committee)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()[:16]


def clean_letter(text: str | None) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise UserError("The letter is empty: write something to send.")
    if len(text) > MAX_LETTER:
        raise UserError(f"The letter is too long ({len(text):,} characters): keep it under {MAX_LETTER:,}.")
    return text


class LetterRenderer(Protocol):
    """What sending and chasing a letter need from the rendering the caller passes (a module
    with these functions will do). Each returns a message payload ({"text":…, "blocks":…})."""

    def letter_payload(self, kind: str, letter: Letter, committee: Committee, meeting: Meeting | None,
                       recipient: LetterRecipient, recipients: list[LetterRecipient], tz: ZoneInfo) -> dict: ...

    def chase_message(self, letter: Letter, committee: Committee, missing: list[LetterRecipient],
                      email_only: list[LetterRecipient], tz: ZoneInfo) -> dict: ...


class MailRenderer(Protocol):
    """What emailing a letter needs from the caller (bot.export.letter_email.LetterMail): the
    public address of an acknowledgement link, and the email ({"subject", "text", "html"})."""

    def ack_link(self, token: str) -> str: ...

    def letter_email(self, letter: Letter, committee: Committee, meeting: Meeting | None,
                     recipient: LetterRecipient, link: str, tz: ZoneInfo) -> dict: ...

    def chase_email(self, original: dict, letter: Letter, committee: Committee, tz: ZoneInfo) -> dict: ...


def ack_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_ack_token(recipient: LetterRecipient, now: datetime) -> str:
    """A personal, unguessable acknowledgement token for an emailed recipient; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    recipient.ack_token_hash = ack_token_hash(token)
    recipient.ack_token_expires_at = now + timedelta(days=ACK_LINK_DAYS)
    return token


def mail_lane(email: str) -> str:
    """The outbox "channel" of an email: one per address (each address's emails in order)."""
    return "mail:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]


async def send_letter(session: AsyncSession, ctx: Ctx, committee: Committee, meeting: Meeting | None,
                      text: str, *, render: LetterRenderer, mail: MailRenderer | None = None) -> tuple[Letter, bool]:
    """Record the letter and its recipients and queue every message (render.letter_payload for
    each), in one transaction. Returns (letter, sent_now); a second press of Send with the same
    text within ten minutes finds the letter already sent and queues nothing. Recipients known
    only by email are emailed (mail.letter_email, with a personal acknowledgement link) when
    `mail` is given (a mail server is configured); otherwise they are left to be sent by hand."""
    text = clean_letter(text)
    await require_letter_writer(session, ctx, committee)
    recent = (await session.scalars(
        select(Letter).where(Letter.committee_id == committee.id, Letter.sent_by == ctx.user_id,
                             Letter.sent_at >= ctx.now - timedelta(minutes=10))
        .order_by(Letter.id.desc()))).all()
    for earlier in recent:
        if earlier.text == text and earlier.meeting_id == (meeting.id if meeting else None):
            return earlier, False
    letter = Letter(team_id=ctx.team_id, committee_id=committee.id, meeting_id=meeting.id if meeting else None,
                    text=text, sent_by=ctx.user_id, sent_at=ctx.now, recipients=[])
    session.add(letter)
    await session.flush()
    rows: list[LetterRecipient] = []
    for p in await plan_recipients(session, committee):
        row = LetterRecipient(letter_id=letter.id, kind=p.kind, agency=p.agency, user_id=p.user_id,
                              channel_id=p.channel_id, name=p.name, email=p.email)
        session.add(row)
        rows.append(row)
    await session.flush()
    messages = []
    for row in rows:
        if row.kind == "channel":
            row.outbox_key = f"letter:{letter.id}:channel"
            target = row.channel_id
        elif row.user_id:
            row.outbox_key = f"letter:{letter.id}:{row.id}"
            target = row.user_id
        elif row.email and mail is not None:
            row.outbox_key = f"letter:{letter.id}:{row.id}"
            link = mail.ack_link(issue_ack_token(row, ctx.now))
            messages.append(dict(team_id=ctx.team_id, key=row.outbox_key, channel=mail_lane(row.email),
                                 method=EMAIL_METHOD, payload={"to": row.email, **mail.letter_email(
                                     letter, committee, meeting, row, link, ctx.tz)}))
            continue
        else:
            continue  # known only by email and no mail server: listed as "send by email", nothing to queue
        messages.append(dict(team_id=ctx.team_id, key=row.outbox_key, channel=target,
                             payload=render.letter_payload(row.kind, letter, committee, meeting, row, rows, ctx.tz)))
    await enqueue_many(session, messages, now=ctx.now)   # a few statements, not one per recipient
    await session.flush()
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="letter",
                 entity_id=letter.id, action="send",
                 after={"committee": committee.code, "meeting_id": letter.meeting_id, "text": text,
                        "recipients": [{"kind": r.kind, "agency": r.agency, "to": contact_label(r)
                                        if r.kind != "channel" else r.channel_id} for r in rows]})
    await session.refresh(letter, ["recipients"])
    return letter, True


async def record_delivery(db, row: OutboxMessage, channel: str | None, ts: str | None) -> None:
    """Dispatcher.on_sent hook: note when a letter's message reached its recipient."""
    if not row.key.startswith("letter:"):
        return
    async with db.session() as s, s.begin():
        sent_at = await s.scalar(select(OutboxMessage.sent_at).where(OutboxMessage.key == row.key))
        values = {"delivered_at": sent_at or datetime.now().astimezone()}
        await s.execute(update(LetterRecipient).where(
            LetterRecipient.outbox_key == row.key, LetterRecipient.delivered_at.is_(None)).values(**values))


async def record_deliveries(session: AsyncSession, sent) -> None:
    """Dispatcher.on_sent_in_transaction hook: the same as record_delivery for many rows at once,
    inside the transaction that marks them sent (each Sent has .row and .at, its sent_at)."""
    table = LetterRecipient.__table__
    by_id, by_letter = [], []   # keys are letter:<letter id>:<recipient id> or letter:<letter id>:channel
    for d in sent:
        parts = d.row.key.split(":")
        if len(parts) == 3 and parts[0] == "letter" and parts[1].isdigit():
            if parts[2].isdigit():
                by_id.append({"rid": int(parts[2]), "key": d.row.key, "at": d.at})
            else:
                by_letter.append({"lid": int(parts[1]), "key": d.row.key, "at": d.at})
    at = bindparam("at", type_=table.c.delivered_at.type)
    for params, found in ((by_id, table.c.id == bindparam("rid")), (by_letter, table.c.letter_id == bindparam("lid"))):
        if params:
            await session.execute(update(table).where(found, table.c.outbox_key == bindparam("key"),
                                                      table.c.delivered_at.is_(None)).values(delivered_at=at), params)


# ---- acknowledgement and status -------------------------------------------------------

@dataclass
class Acknowledged:
    letter: Letter
    committee: Committee
    meeting: Meeting | None
    recipient: LetterRecipient
    newly: bool


async def acknowledge(session: AsyncSession, ctx: Ctx, recipient_id: int) -> Acknowledged:
    """The contact pressed "Acknowledge receipt"."""
    recipient = await session.get(LetterRecipient, recipient_id)
    letter = await session.get(Letter, recipient.letter_id) if recipient is not None else None
    if recipient is None or letter is None or letter.team_id != ctx.team_id:
        raise NotFound("That letter no longer exists.")
    if recipient.user_id != ctx.user_id:
        raise NotAllowed("Only the person this letter was sent to can acknowledge it.")
    result = await session.execute(
        update(LetterRecipient).where(LetterRecipient.id == recipient.id, LetterRecipient.acknowledged_at.is_(None))
        .values(acknowledged_at=ctx.now))
    newly = result.rowcount == 1
    await session.refresh(recipient)
    if newly:
        audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="letter",
                     entity_id=letter.id, action="acknowledge",
                     before={"recipient_id": recipient.id, "acknowledged_at": None},
                     after={"recipient_id": recipient.id, "acknowledged_at": ctx.now})
        # Their Home tab lists letters awaiting acknowledgement: this one no longer.
        await queue_home_refresh(session, ctx.team_id, [ctx.user_id], ctx.now, tz=ctx.tz)
    committee = await session.get(Committee, letter.committee_id)
    meeting = await session.get(Meeting, letter.meeting_id) if letter.meeting_id else None
    return Acknowledged(letter, committee, meeting, recipient, newly)


@dataclass
class EmailedLetter:
    """An emailed acknowledgement link's letter, as its page shows it."""
    letter: Letter
    committee: Committee
    meeting: Meeting | None
    recipient: LetterRecipient


async def letter_for_token(session: AsyncSession, token: str, now: datetime) -> EmailedLetter | None:
    """The letter an acknowledgement link is for; None when the token is unknown or expired
    (the same None for both). Reading only: opening the link acknowledges nothing."""
    if not token or len(token) > 200:
        return None
    recipient = await session.scalar(select(LetterRecipient).where(
        LetterRecipient.ack_token_hash == ack_token_hash(token)))
    if recipient is None or recipient.ack_token_expires_at is None or recipient.ack_token_expires_at <= now:
        return None
    letter = await session.get(Letter, recipient.letter_id)
    if letter is None:
        return None
    committee = await session.get(Committee, letter.committee_id)
    meeting = await session.get(Meeting, letter.meeting_id) if letter.meeting_id else None
    return EmailedLetter(letter, committee, meeting, recipient)


async def acknowledge_by_token(session: AsyncSession, token: str, now: datetime) -> Acknowledged | None:
    """The emailed contact pressed "Acknowledge receipt" on their link's page: recorded and
    audited as the Slack button is, once (pressing again changes nothing). None for an unknown
    or expired token."""
    found = await letter_for_token(session, token, now)
    if found is None:
        return None
    recipient, letter = found.recipient, found.letter
    result = await session.execute(
        update(LetterRecipient).where(LetterRecipient.id == recipient.id, LetterRecipient.acknowledged_at.is_(None))
        .values(acknowledged_at=now))
    newly = result.rowcount == 1
    await session.refresh(recipient)
    if newly:
        audit.record(session, team_id=letter.team_id, actor=f"email:{recipient.email or recipient.id}"[:64], at=now,
                     entity="letter", entity_id=letter.id, action="acknowledge",
                     before={"recipient_id": recipient.id, "acknowledged_at": None},
                     after={"recipient_id": recipient.id, "acknowledged_at": now, "by": "email link"})
    return Acknowledged(letter, found.committee, found.meeting, recipient, newly)


async def record_refusal(session: AsyncSession, row: OutboxMessage, error: str) -> None:
    """Dispatcher.on_dead_in_transaction hook: a letter's message given up on (an email the mail
    server refused) is recorded against its recipient, for `/letter status`."""
    parts = row.key.split(":")
    if len(parts) == 3 and parts[0] == "letter" and parts[2].isdigit():
        await session.execute(update(LetterRecipient).where(
            LetterRecipient.id == int(parts[2]), LetterRecipient.outbox_key == row.key).values(
            delivery_error=error.removeprefix("refused: ")))


async def latest_letter(session: AsyncSession, ctx: Ctx) -> tuple[Committee, Letter | None, Meeting | None]:
    """The channel's committee, its newest letter and the meeting that letter follows."""
    committee = await require_channel_committee(session, ctx)
    if not await can_see(ctx, committee):
        raise NotVisible("You can't see this committee.")
    letter = (await session.scalars(
        select(Letter).where(Letter.committee_id == committee.id, Letter.team_id == ctx.team_id)
        .order_by(Letter.sent_at.desc(), Letter.id.desc()).limit(1))).first()
    meeting = await session.get(Meeting, letter.meeting_id) if letter and letter.meeting_id else None
    return committee, letter, meeting


async def letters_awaiting(session: AsyncSession, team_id: str, user_id: str) -> list[tuple[Letter, LetterRecipient]]:
    """Letters this person has been sent and not yet acknowledged (for the App Home)."""
    rows = await session.execute(
        select(Letter, LetterRecipient).join(LetterRecipient, LetterRecipient.letter_id == Letter.id).where(
            Letter.team_id == team_id, LetterRecipient.user_id == user_id, LetterRecipient.kind == "contact",
            LetterRecipient.acknowledged_at.is_(None)).order_by(Letter.sent_at.desc()))
    return [(letter, r) for letter, r in rows]


# ---- scheduled: chase the unacknowledged ------------------------------------------------

def unacknowledged(letter: Letter) -> list[LetterRecipient]:
    return [r for r in letter.recipients if r.kind == "contact" and r.user_id and r.acknowledged_at is None]


def by_email(letter: Letter) -> list[LetterRecipient]:
    return [r for r in letter.recipients if r.kind != "channel" and not r.user_id]


def emailed_unacknowledged(letter: Letter) -> list[LetterRecipient]:
    """Contacts emailed the letter with an acknowledgement link (not refused) who haven't used it."""
    return [r for r in letter.recipients if r.kind == "contact" and not r.user_id and r.outbox_key
            and r.acknowledged_at is None and not r.delivery_error]


async def chase_unacknowledged(session: AsyncSession, now: datetime, settings, *, render: LetterRenderer,
                               mail: MailRenderer | None = None) -> int:
    """On a working day from 09:00 (settings.tz): for each letter sent at least three working
    days ago and not yet chased, DM the committee's chair who hasn't acknowledged it, once
    (render.chase_message), and email each emailed contact who hasn't a reminder carrying the
    same link (mail.chase_email). Returns how many messages were queued. Runs inside the
    caller's transaction. Each council's own time zone and bank holidays count (a round each)."""
    queued = 0
    for council in await council_settings.profiles(session, settings, "tz_name", "holiday_region"):
        with holidays_of(council.region):
            queued += await _chase_letters(session, now, council, render, mail)
    return queued


async def _chase_letters(session: AsyncSession, now: datetime, council, render: LetterRenderer,
                         mail: MailRenderer | None) -> int:
    local = now.astimezone(council.tz)
    today = local.date()
    if not is_working_day(today) or local.time() < WORKING_HOUR:
        return 0
    # Three working days are at least three calendar days: a cheap filter before the exact count.
    candidates = list(await session.scalars(
        select(Letter).where(Letter.chased_at.is_(None), Letter.sent_at <= now - timedelta(days=2),
                             council.where(Letter.team_id))
        .order_by(Letter.id)))
    queued = 0
    for letter in candidates:
        sent_day = letter.sent_at.astimezone(council.tz).date()
        if working_days_between(sent_day, today) < CHASE_AFTER_WORKING_DAYS:
            continue
        claimed = await session.execute(update(Letter).where(Letter.id == letter.id, Letter.chased_at.is_(None))
                                        .values(chased_at=now))
        if claimed.rowcount != 1:
            continue  # another process chased it a moment ago
        emailed = emailed_unacknowledged(letter)
        missing = unacknowledged(letter) + emailed
        if not missing:
            continue  # everyone acknowledged: nothing to chase
        committee = await session.get(Committee, letter.committee_id)
        audit.record(session, team_id=letter.team_id, actor=audit.SYSTEM, at=now, entity="letter",
                     entity_id=letter.id, action="chase",
                     after={"automatic": True, "missing": [contact_label(r) for r in missing]})
        if mail is not None:
            for r in emailed:   # a reminder with the same personal link (only the first email has it)
                original = await session.scalar(select(OutboxMessage.payload).where(
                    OutboxMessage.key == r.outbox_key, OutboxMessage.method == EMAIL_METHOD))
                if original and await enqueue(
                        session, team_id=letter.team_id, key=f"{r.outbox_key}:chase", channel=mail_lane(r.email),
                        method=EMAIL_METHOD, now=now,
                        payload={"to": r.email, **mail.chase_email(original, letter, committee, council.tz)}):
                    queued += 1
        chairs = [h.user_id for h in await committee_role_holders(session, letter.committee_id, "chair") if h.user_id]
        chairs = list(dict.fromkeys(chairs)) or [letter.sent_by]
        by_hand = [r for r in by_email(letter) if not r.outbox_key or r.delivery_error]
        payload = render.chase_message(letter, committee, missing, by_hand, council.tz)
        for n, user_id in enumerate(chairs):
            key = f"letter:{letter.id}:chase" if n == 0 else f"letter:{letter.id}:chase:{user_id}"
            if await enqueue(session, team_id=letter.team_id, key=key, channel=user_id, payload=payload, now=now):
                queued += 1
    return queued


__all__ = ["ACK_LINK_DAYS", "EmailedLetter", "MailRenderer", "ack_token_hash", "acknowledge_by_token", "emailed_unacknowledged",
           "issue_ack_token", "letter_for_token", "mail_lane", "record_refusal", "remove_agency", "remove_contacts", "ContactSpec", "Draft", "LetterRenderer", "PlannedRecipient", "acknowledge", "add_agency", "by_email",
           "chase_unacknowledged", "clean_letter", "compose", "contact_label", "draft_letter", "last_meeting",
           "letter_facts", "named_text", "pending_name", "write_letter",
           "latest_letter", "letters_awaiting", "list_agencies", "load_for_form", "parse_agency_add",
           "plan_recipients", "record_deliveries", "record_delivery", "send_letter", "text_hash", "unacknowledged"]
