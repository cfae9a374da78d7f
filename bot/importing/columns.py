"""Column names people give a table of recommendations, shared by CSV and paper headers."""
from __future__ import annotations

import re

# Header words people use for each column, compared lower-cased with
# punctuation squeezed out. The canonical name comes first.
_COLUMNS = {
    "number": ("number", "no", "num", "rec no", "rec number", "recommendation no",
               "recommendation number", "ref", "reference", "ref no", "reference no",
               "reference number", "item", "item no", "action no", "action ref", "rec",
               "rec ref", "recommendation ref", "recommendation reference", "id",
               "minute", "minute no", "action number", "rec ref no"),
    "text": ("text", "recommendation", "recommendation text", "recommendations", "action",
             "actions", "action required", "agreed action", "action agreed", "description",
             "decision", "resolution", "scrutiny recommendation", "recommendation action",
             "action description", "actions agreed", "task"),
    "owners": ("owners", "owner", "owner s", "lead", "lead officer", "responsible",
               "lead officers", "lead officer s", "responsibility", "responsible officer",
               "responsible officers", "recommendation made to", "cabinet member",
               "lead officer em", "lead member", "action by", "action owner", "by whom",
               "who", "responsible person", "portfolio holder", "lead officer member"),
    "due": ("due", "due date", "target date", "deadline", "date due", "target", "timescale",
            "timescales", "by when", "completion date", "target completion date",
            "date for completion", "implementation date", "original target date",
            "original date", "target timescale", "timeline"),
    "new_due": ("new date", "revised date", "revised target date", "new target date",
                "revised deadline", "revised timescale", "new deadline", "revised due date",
                "new due date"),
    "status": ("status", "response", "executive response", "cabinet response", "current status",
               "progress status", "outcome", "accepted rejected", "accepted or rejected",
               "executive response accepted rejected"),
    "rag": ("rag", "rag status", "rag rating", "rating"),
    "position": ("position", "current position", "update", "progress", "comments",
                 "action taken", "progress update", "update on progress", "notes",
                 "latest position", "progress to date", "position statement",
                 "update comments", "commentary", "latest update", "progress comments",
                 "comments update"),
}
_ROLE_OF = {word: role for role, words in _COLUMNS.items() for word in words}


# Footnote markers after a column name: "Lead¹", "Target date*", "Status (2)", "Owner [3]".
_FOOTNOTE = re.compile(r"[\u00b9\u00b2\u00b3\u2070-\u2079*\u2020\u2021]+|\s*[(\[]\d{1,2}[)\]]\s*$")


def _key(cell: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", _FOOTNOTE.sub("", cell).lower()).strip()


def column_role(cell: str) -> str | None:
    """The role of one header cell, allowing a footnote number stuck on its end."""
    k = _key(cell.lstrip("\ufeff"))
    if k in _ROLE_OF:
        return _ROLE_OF[k]
    bare = re.sub(r"(?<=[a-z])\s?\d{1,2}$", "", k)
    return _ROLE_OF.get(bare) if bare != k else None


def header_roles(cells: list[str]) -> dict[str, int]:
    """Column index of each role found in a header row (the first one wins)."""
    roles: dict[str, int] = {}
    for i, cell in enumerate(cells):
        role = column_role(cell)
        if role and role not in roles:
            roles[role] = i
    return roles
