"""What every paper format produces: plain data, no database and no Slack."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


class PaperFormatError(ValueError):
    """The content could not be read as a paper at all.

    The message is one polite line that can be shown to the person importing.
    """


@dataclass
class ImportedItem:
    number: str                 # the recommendation number as written, e.g. "10"
    text: str                   # plain text, paragraphs joined by "\n"
    owners: list[str] = field(default_factory=list)   # role names as written
    due: date | None = None
    status: str | None = None   # our vocabulary (bot.status) or None
    position: str | None = None  # position reported against it, paragraphs joined by "\n"

    def as_json(self) -> dict:
        return {
            "number": self.number,
            "text": self.text,
            "owners": list(self.owners),
            "due": self.due.isoformat() if self.due else None,
            "status": self.status,
            "position": self.position,
        }


@dataclass
class ParsedPaper:
    items: list[ImportedItem]
    title: str | None = None
    paper_date: date | None = None   # the date the positions are reported at
    problems: list[str] = field(default_factory=list)  # one-line warnings for the preview
    # "recommendations" (a tracker or report) or "decisions" (minutes' RESOLVED/AGREED
    # blocks, each of which can become an action).
    kind: str = "recommendations"

    def as_json(self) -> dict:
        return {
            "title": self.title,
            "paper_date": self.paper_date.isoformat() if self.paper_date else None,
            "items": [item.as_json() for item in self.items],
            "problems": list(self.problems),
        }
