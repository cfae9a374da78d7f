"""Text as people typed it, made safe to store: no NUL (PostgreSQL refuses it in text) and no
other control characters (they break XLSX and DOCX exports), tabs and line breaks kept."""
from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


def clean_tree(value, depth: int = 0, *, max_depth: int = 64):
    """clean_text applied to every string in a decoded JSON value. Deeper nesting than
    anything Slack sends raises ValueError."""
    if depth > max_depth:
        raise ValueError("nested too deeply")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {k: clean_tree(v, depth + 1, max_depth=max_depth) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_tree(v, depth + 1, max_depth=max_depth) for v in value]
    return value
