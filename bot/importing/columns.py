"""Column names people give a table of recommendations, shared by CSV and paper headers."""
from __future__ import annotations

import re

# Header words people use for each column, compared lower-cased with
# punctuation squeezed out. The canonical name comes first.
_COLUMNS = {
    "number": ("number", "no", "num", "rec no", "rec number", "recommendation no",
               "recommendation number", "ref", "reference"),
    "text": ("text", "recommendation", "recommendation text"),
    "owners": ("owners", "owner", "owner s", "lead", "lead officer", "responsible"),
    "due": ("due", "due date", "target date", "deadline", "date due"),
    "status": ("status",),
    "position": ("position", "current position", "update", "progress", "comments"),
}
_ROLE_OF = {word: role for role, words in _COLUMNS.items() for word in words}


def _key(cell: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", cell.lower()).strip()


def header_roles(cells: list[str]) -> dict[str, int]:
    """Column index of each role found in a header row (the first one wins)."""
    roles: dict[str, int] = {}
    for i, cell in enumerate(cells):
        role = _ROLE_OF.get(_key(cell.lstrip("\ufeff")))
        if role and role not in roles:
            roles[role] = i
    return roles
