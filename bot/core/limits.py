"""Slack's limits on one message, and splitting what is too long for them into several
messages that each keep within them: the one place that knows how (Message.payloads in
bot/slack_ui/blocks.py for what the app builds, the dispatcher for a message Slack refused).

Nothing is cut off: a section's text too long for one block becomes several sections, cut
at a line end (else a space), never inside an entity (`&amp;`) or a mention (`<@U123>`);
blocks too many for one message go into several."""
from __future__ import annotations

import re

MAX_BLOCKS = 50          # blocks in one message
SECTION_TEXT = 3000      # characters in a section's (or a context element's) text
MESSAGE_TEXT = 40000     # characters in a message's text
# What Slack answers when a message is over its limits: permanent, split rather than retried.
TOO_LONG_ERRORS = frozenset({"msg_blocks_too_long", "invalid_blocks", "msg_too_long"})

_HALF = re.compile(r"(?:&[A-Za-z0-9#]{0,6}|<[^<>]*)$")


def split_text(text: str, limit: int = SECTION_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut at the last line end that fits (the line end
    dropped), else the last space, else where no entity or mention is cut in half."""
    pieces, rest = [], text
    while len(rest) > limit:
        head = rest[: limit + 1]
        cut = head.rfind("\n")
        if cut <= 0:
            cut = head.rfind(" ")
        if cut > 0:
            pieces.append(rest[:cut])
            rest = rest[cut + 1:]
            continue
        head = rest[:limit]
        half = _HALF.search(head)
        if half is not None and half.start() > 0:
            head = head[: half.start()]
        pieces.append(head)
        rest = rest[len(head):]
    pieces.append(rest)
    return [p for p in pieces if p.strip()] or [" "]


def _text_too_long(block: dict) -> bool:
    if block.get("type") == "section":
        return len(((block.get("text") or {}).get("text")) or "") > SECTION_TEXT
    if block.get("type") == "context":
        return any(len(e.get("text") or "") > SECTION_TEXT for e in block.get("elements") or [])
    return False


def expand(blocks: list[dict]) -> list[dict]:
    """The blocks, each section or context whose text is over the limit made several (the
    first keeps the block_id; a section's fields and accessory go with its last piece)."""
    out: list[dict] = []
    for block in blocks:
        if not _text_too_long(block):
            out.append(block)
            continue
        if block["type"] == "section":
            text = block["text"]
            pieces = split_text(text["text"])
            for n, piece in enumerate(pieces):
                b = {"type": "section", "text": {**text, "text": piece}}
                if n == 0 and "block_id" in block:
                    b["block_id"] = block["block_id"]
                if n == len(pieces) - 1:
                    b.update({k: v for k, v in block.items() if k in ("fields", "accessory")})
                out.append(b)
        else:   # a context: each long element becomes context blocks of its own
            for element in block["elements"]:
                for piece in split_text(element.get("text") or ""):
                    out.append({"type": "context", "elements": [{**element, "text": piece}]})
    return out


def split_blocks(blocks: list[dict], max_blocks: int = MAX_BLOCKS) -> list[list[dict]]:
    """The blocks (expanded) in groups of at most max_blocks, in order; a group after the
    first never starts with a divider."""
    groups: list[list[dict]] = [[]]
    for block in expand(blocks):
        if len(groups[-1]) >= max_blocks:
            groups.append([])
        if groups[-1] == [] and len(groups) > 1 and block.get("type") == "divider":
            continue
        groups[-1].append(block)
    return [g for g in groups if g] or [[]]


def fits(payload: dict) -> bool:
    """Whether a message payload is within the limits split_blocks keeps to."""
    blocks = payload.get("blocks") or []
    return (len(blocks) <= MAX_BLOCKS and not any(_text_too_long(b) for b in blocks)
            and len(payload.get("text") or "") <= MESSAGE_TEXT)


__all__ = ["MAX_BLOCKS", "MESSAGE_TEXT", "SECTION_TEXT", "TOO_LONG_ERRORS", "expand", "fits", "split_blocks",
           "split_text"]
