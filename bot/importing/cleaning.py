"""Small text helpers shared by the paper formats."""
from __future__ import annotations

import html
import re
from datetime import date

# Only things shaped like tags are removed, so "caseloads < 20" survives in plain text.
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
# Tags that end a paragraph inside a table cell.
_BREAK_TAG = re.compile(
    r"<br\s*/?>|</?(?:p|div|li|ul|ol|tr|table|h[1-6]|blockquote)(?:\s[^<>]*)?>", re.I)
# Only semicolon-terminated entities: html.unescape alone would turn "&not" or
# "&para" in plain text into symbols, and pasted text often has bare "&".
_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
# A paragraph that ends like this finished its sentence before a page break.
_ENDS_SENTENCE = re.compile(r"[.!?:;)\]\"'\u201d\u2019]$")
_NUMBER = re.compile(r"(?i)(?:rec(?:ommendation)?\.?\s*|r)?\(?\s*(\d+[a-z]?)\s*\)?\.?")
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on",
                "or", "the", "to", "with"}


def decode_entities(text: str) -> str:
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)


def squeeze(text: str) -> str:
    """Runs of whitespace (including non-breaking spaces) become one space."""
    return " ".join(text.split())


def paragraphs(fragment: str) -> list[str]:
    """Plain paragraphs from a cell that may hold <p>, <b>, &amp; and the like."""
    plain = decode_entities(_TAG.sub("", _BREAK_TAG.sub("\n", fragment)))
    return [p for p in (squeeze(line) for line in plain.split("\n")) if p]


def plain_lines(text: str) -> list[str]:
    """Paragraphs of a CSV cell: the same cleaning, split on its own newlines too."""
    return paragraphs(text.replace("\r\n", "\n").replace("\r", "\n"))


def ends_sentence(paragraph: str) -> bool:
    return bool(_ENDS_SENTENCE.search(paragraph))


def append_paragraphs(existing: list[str], more: list[str]) -> None:
    """Add text that continues a cell (after a page break, say).

    A sentence cut off mid-way ("action to be taken by" / "all agencies.") is
    joined back into one paragraph rather than left as two.
    """
    more = list(more)
    if (existing and more and not ends_sentence(existing[-1])
            and more[0][:1].islower()):
        existing[-1] = f"{existing[-1]} {more.pop(0)}"
    existing.extend(more)


def trim_field(text: str) -> str:
    """A field's value without the punctuation around it ("Cabinet Member.")."""
    return squeeze(text).strip(" .,;:-\u2013\u2014")


def split_owners(text: str, words: bool = True) -> list[str]:
    """Role names from an owner field.

    Papers join owners with " and ", ";" or "/"; a CSV cell only with ";" (or a
    new line), because there the separator is explicit and "and" may be part of
    a role. "Director of Children, Schools and Families" is kept whole: a single
    word after "and" following a comma is the end of a list inside one name.
    """
    owners: list[str] = []
    for chunk in re.split(r"[;\n]" + (r"|/" if words else ""), text):
        pieces = re.split(r"\s+and\s+", chunk) if words else [chunk]
        merged: list[str] = []
        for piece in pieces:
            piece = trim_field(piece)
            if not piece:
                continue
            if merged and "," in merged[-1] and len(piece.split()) == 1:
                merged[-1] = f"{merged[-1]} and {piece}"
            else:
                merged.append(piece)
        owners.extend(merged)
    return unique_owners(owners)


def unique_owners(owners: list[str]) -> list[str]:
    """The same role written twice (in any case) is one owner; order is kept."""
    seen: set[str] = set()
    unique = []
    for owner in owners:
        if owner.lower() not in seen:
            seen.add(owner.lower())
            unique.append(owner)
    return unique


def clean_number(text: str) -> str:
    """"(3)", "3.", "Rec 3" and an Excel-ish "3.0" are all recommendation "3"."""
    text = squeeze(text)
    if re.fullmatch(r"\d+\.0+", text):
        return text.split(".")[0]
    m = _NUMBER.fullmatch(text)
    return m.group(1) if m else text


def parse_when(text: str, today: date, prefer: str = "future") -> date | None:
    """A date as an officer writes it, or None. ISO is always accepted."""
    text = squeeze(text)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        # Imported here so this package loads (and CSV with ISO dates works)
        # even where bot.core.dates is unavailable.
        from bot.core.dates import parse_date
    except ImportError:
        return None
    return parse_date(text, today, prefer=prefer)


def tidy_title(text: str) -> str:
    """Title-case a heading that was typed all in capitals (or all lower case).

    Mixed-case titles are left as written; small words stay lower case, and
    words with digits or "&" (P&SC) are kept as they are.
    """
    text = squeeze(text).strip(" -\u2013\u2014:,*#_")
    if not (text.isupper() or text.islower()):
        return text
    out = []
    for i, word in enumerate(text.split(" ")):
        low = word.lower()
        if i and low in _SMALL_WORDS:
            out.append(low)
        elif any(ch.isdigit() or ch == "&" for ch in word):
            out.append(word)
        else:
            out.append(low[:1].upper() + low[1:])
    return " ".join(out)
