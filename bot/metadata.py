"""Typed metadata carried in button values and modal private_metadata.

Slack hands these strings back verbatim; parsing them through a dataclass means a
stale or tampered value fails loudly in one place instead of half-working."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from bot.services.errors import UserError


class Meta:
    def dumps(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def loads(cls, text: str | None):
        try:
            data = json.loads(text or "")
            names = {f.name for f in fields(cls)}
            meta = cls(**{k: v for k, v in data.items() if k in names})
            for f in fields(cls):  # JSON can carry any type: an id must be an int a database accepts
                value = getattr(meta, f.name)
                if f.type == "int" and (type(value) is not int or not 0 < value < 2**31):
                    raise TypeError(f.name)
                if f.type == "str | None" and value is not None and not isinstance(value, str):
                    raise TypeError(f.name)
            return meta
        except (TypeError, ValueError, AttributeError):
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
