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
            return cls(**{k: v for k, v in data.items() if k in names})
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
