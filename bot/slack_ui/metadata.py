"""Typed metadata carried in button values and modal private_metadata.

Slack hands these strings back verbatim; parsing them through a dataclass means a
stale or tampered value fails loudly in one place instead of half-working."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from bot.core.errors import UserError

MAX_TEXT = 3000   # Slack's own limit for private_metadata and a button's value

# What each field type may hold: JSON can carry anything, and a tampered value must fail here
# (as "out of date") rather than deep in a query.
_CHECKS = {
    "int": lambda v: type(v) is int and 0 < v < 2**31,
    "int | None": lambda v: v is None or (type(v) is int and 0 < v < 2**31),
    "str": lambda v: isinstance(v, str),
    "str | None": lambda v: v is None or isinstance(v, str),
    "bool": lambda v: type(v) is bool,
    # {role: heading} as parse_paper's `columns` takes it (the import preview's column choices)
    "dict[str, str] | None": lambda v: v is None or (
        isinstance(v, dict) and len(v) <= 20 and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items())),
}


class Meta:
    def dumps(self) -> str:
        # Unescaped: "Ŵ" is one character of Slack's 3,000, where "\\u0174" would be six.
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)

    def fits(self) -> bool:
        return len(self.dumps()) <= MAX_TEXT

    @classmethod
    def loads(cls, text: str | None, *, limit: int | None = MAX_TEXT):
        """limit: None for metadata kept server-side (bot.services.saved), not carried by Slack."""
        try:
            if not isinstance(text, str) or (limit is not None and len(text) > limit):
                raise ValueError("not metadata")
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            names = {f.name for f in fields(cls)}
            meta = cls(**{k: v for k, v in data.items() if k in names})
            for f in fields(cls):
                if not _CHECKS[f.type](getattr(meta, f.name)):
                    raise TypeError(f.name)
            return meta
        except (TypeError, ValueError, AttributeError, RecursionError):
            raise UserError("That button or form is out of date. Run the command again.") from None


@dataclass(frozen=True)
class ItemRef(Meta):
    """Which item a button on a card is about."""
    item_id: int


@dataclass(frozen=True)
class UpdateForm(Meta):
    """The update modal: which item, and where to say what changed."""
    item_id: int
    channel_id: str | None = None


@dataclass(frozen=True)
class LetterForm(Meta):
    """The decision-letter modal: which committee and meeting, where it was opened, and a
    hash of the text last previewed (None before the first preview)."""
    committee_id: int
    meeting_id: int | None = None
    channel_id: str | None = None
    previewed: str | None = None


@dataclass(frozen=True)
class LetterAck(Meta):
    """The "Acknowledge receipt" button on a decision letter: which recipient row."""
    recipient_id: int


@dataclass(frozen=True)
class ImportForm(Meta):
    """The /scrutiny import modal, and its preview: where it was opened and, on the preview,
    what to import again on confirm (the file id, or the pasted text zlib-packed when it fits;
    longer pastes ride in the preview's own input blocks)."""
    channel_id: str | None = None
    review: str | None = None
    title: str | None = None
    file_id: str | None = None
    filename: str | None = None
    packed: str | None = None
    # Set when the rest is too long for private_metadata even so (a very long title): the rest
    # is kept server-side under this key (bot.services.saved), and only the key goes to Slack.
    saved: str | None = None
    # The officer's reading of the table ({role: heading or column number}) the preview was
    # made with, from its column selects and "Preview again"; the import reads the paper so too.
    columns: dict[str, str] | None = None

    def dumps(self) -> str:
        if self.saved:
            return json.dumps({"saved": self.saved}, separators=(",", ":"))
        return super().dumps()


@dataclass(frozen=True)
class ImportChoice(Meta):
    """An option of a conflict's choice in the import preview: which item and field, and
    whether to take the paper's value (False: keep Scrutineer's, the default)."""
    ref: str
    field: str
    take: bool = False


@dataclass(frozen=True)
class CommitteeRename(Meta):
    """The "Rename" / "Keep the name" buttons under `/scrutiny setup`'s question: which committee,
    the name it had when asked (a rename meanwhile voids the question), the new name and the
    channel to bind it to."""
    committee_id: int
    old_name: str
    new_name: str
    channel_id: str | None = None


@dataclass(frozen=True)
class GiveUpdate(Meta):
    """"Give update" on an update request (or a returned update): which item, which request, and
    the returned update to prefill the form from."""
    item_id: int
    request_id: int | None = None
    returned_id: int | None = None


@dataclass(frozen=True)
class UpdateReview(Meta):
    """Accept / Return on an officer's DM, and the return-reason modal: which submitted update."""
    position_id: int


@dataclass(frozen=True)
class ChaseUpdates(Meta):
    """"Chase everyone outstanding" under `/meeting updates`: which meeting."""
    meeting_id: int
