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
    status: str | None = None   # our vocabulary (bot.core.status) or None
    position: str | None = None  # position reported against it, paragraphs joined by "\n"
    # Why the importer is unsure of this item ("owner read from the cell contents", "two
    # dates, took the revised one"): shown in the preview, never silently guessed away.
    flags: list[str] = field(default_factory=list)

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
    # Which column of the table was taken for what: one entry per column used, in the
    # table's order, e.g. {"role": "owners", "heading": "Lead Officer", "how": "heading",
    # "confidence": 0.95}. Empty for layouts that are not tables (numbered blocks, minutes).
    columns: list[dict] = field(default_factory=list)
    # How sure the importer is that it read the paper's structure right, 0..1.
    confidence: float = 1.0

    def as_json(self) -> dict:
        return {
            "title": self.title,
            "paper_date": self.paper_date.isoformat() if self.paper_date else None,
            "items": [item.as_json() for item in self.items],
            "problems": list(self.problems),
            "columns": [dict(c) for c in self.columns],
            "confidence": round(self.confidence, 2),
        }
