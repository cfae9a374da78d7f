"""Message content, built once and rendered to Block Kit or to plain text.

Builders in bot/slack_ui/items.py describe *what* a reply says with these parts; Slack gets
`to_blocks()` and the `text` fallback from `to_text()` (also read by screen readers
and notifications)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from bot.core import limits

SECTION_LIMIT = limits.SECTION_TEXT  # Block Kit's limit for a section's text
MAX_BLOCKS = limits.MAX_BLOCKS


# The tail of a cut that would leave half an entity (`&am`) or half a mention or link (`<@U12`).
_HALF_ENTITY = re.compile(r"&[A-Za-z0-9#]{0,6}$")
_HALF_TOKEN = re.compile(r"<(?:[@#!A-Za-z]|$)[^<>]*$")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, ending in "…" when cut. A cut never ends inside an entity
    (`&amp;`) or a mention or link (`<@U123>`, `<https://…|…>`): those go whole or not at all,
    so clipping escaped text is as safe as escaping clipped text."""
    if len(text) <= limit:
        return text
    return text[: safe_cut(text, max(limit - 1, 0))].rstrip() + "…"


def safe_cut(text: str, limit: int) -> int:
    """Where to cut text to keep at most `limit` characters without splitting an entity,
    a mention or a link (for splitting long text into several blocks)."""
    if len(text) <= limit:
        return len(text)
    head = text[:limit]
    for half in (_HALF_TOKEN, _HALF_ENTITY):
        if m := half.search(head):
            head = head[: m.start()]
    return len(head) or limit  # a single token longer than limit: cut it anyway


def escape(text: str) -> str:
    """Escape user text for mrkdwn so `<`, `>` and `&` show as typed. For people's text, which
    may hold mentions, use people_text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# What Slack sends for a person, a channel or a user group picked in the composer; the label
# after `|` is dropped (Slack shows the current name; a label is the sender's to choose).
_MENTION = re.compile(r"<(@[UW][A-Z0-9]{2,}|#[CG][A-Z0-9]{2,}|!subteam\^S[A-Z0-9]{2,})(?:\|[^<>]*)?>")


_LONE_ANGLE = re.compile(r"<(?!(?:@[UW][A-Z0-9]{2,}|#[CG][A-Z0-9]{2,}|!subteam\^S[A-Z0-9]{2,})(?:\|[^<>]*)?>)")


def people_text(text: str | None) -> str:
    """People's text (positions, item text, decisions, names, echoed input) for mrkdwn: user,
    channel and user-group mentions stay live (`<@U1|dave>` → `<@U1>`); everything else is
    escaped, so `<!channel>`, `<!here>`, `<!everyone>` never broadcast and `<https://x|click>`
    never hides where a link goes."""
    if not text:
        return ""
    out, pos = [], 0
    for m in _MENTION.finditer(text):
        out.append(escape(text[pos:m.start()]))
        out.append(f"<{m.group(1)}>")
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def people_clip(text: str | None, limit: int, *, one_line: bool = False) -> str:
    """people_text of the first `limit` characters of text (whitespace folded when one_line):
    clipped before escaping, never inside a mention."""
    text = text or ""
    if one_line:
        text = " ".join(text.split())
    return people_text(clip(text, limit))


def plural(n: int, one: str, many: str | None = None) -> str:
    """"1 item", "2 items", "0 items"; `many` for irregular words ("1 entry", "2 entries")."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _note(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


@dataclass
class Button:
    label: str
    action_id: str
    value: object = None       # typed metadata: a dataclass or dict, serialised as JSON
    style: str | None = None   # "primary" | "danger"

    def block(self) -> dict:
        el = {"type": "button", "text": {"type": "plain_text", "text": clip(self.label, 75), "emoji": True},
              "action_id": self.action_id}
        if self.value is not None:
            value = self.value if isinstance(self.value, str) else json.dumps(
                self.value.__dict__ if hasattr(self.value, "__dict__") else self.value, separators=(",", ":"))
            el["value"] = value[:2000]
        if self.style:
            el["style"] = self.style
        return el


@dataclass
class Header:
    text: str


@dataclass
class Section:
    text: str = ""
    fields: list[str] = field(default_factory=list)
    button: Button | None = None


@dataclass
class Context:
    text: str


@dataclass
class Divider:
    pass


@dataclass
class Actions:
    buttons: list[Button]


@dataclass
class Message:
    summary: str
    parts: list = field(default_factory=list)

    def add(self, *parts) -> "Message":
        self.parts.extend(parts)
        return self

    def to_blocks(self) -> list[dict]:
        """One message's blocks. Too long for one message (more than 50 blocks once long
        sections are split): the first part, and a note that the rest isn't shown; what must
        arrive whole goes through payloads() instead."""
        blocks = limits.expand(self._all_blocks())
        if len(blocks) <= MAX_BLOCKS:
            return blocks
        groups = limits.split_blocks(blocks, MAX_BLOCKS - 1)   # room for the note
        return groups[0] + [{"type": "context", "elements": [{"type": "mrkdwn", "text": (
            f":warning: This is too long for one message: {len(groups) - 1} more "
            f"part{'' if len(groups) == 2 else 's'} of it aren't shown here.")}]}]

    def payloads(self, *, threaded: bool = False, **extra) -> list[dict]:
        """The message as one or more messages, each within Slack's limits (50 blocks, 3,000
        characters a section, 40,000 of text), in order; nothing is left out. The first says
        how many follow (`threaded`: as replies in its thread); each after it says which part
        it is. A message that fits is one payload, as payload() gives it."""
        blocks = limits.expand(self._all_blocks())
        if len(blocks) <= MAX_BLOCKS:
            return [{"text": self.to_text(), "blocks": blocks, **extra}]
        groups = limits.split_blocks(blocks, MAX_BLOCKS - 1)   # room for the note
        n = len(groups)
        where = "in the thread below" if threaded else "in the next messages"
        out = [{"text": self.to_text(), "blocks": groups[0] + [_note(
            f"_Continued {where} ({n - 1} more part{'' if n == 2 else 's'})._")], **extra}]
        for i, group in enumerate(groups[1:], start=2):
            text = limits.split_text(f"{self.summary} (continued, part {i} of {n})", 3900)[0]
            out.append({"text": text, "blocks": [_note(f"_Continued, part {i} of {n}._")] + group, **extra})
        return out

    def _all_blocks(self) -> list[dict]:
        blocks: list[dict] = []
        for p in self.parts:
            if isinstance(p, Header):
                blocks.append({"type": "header", "text": {"type": "plain_text", "text": clip(p.text, 150), "emoji": True}})
            elif isinstance(p, Section):
                b: dict = {"type": "section"}
                if p.text:
                    b["text"] = {"type": "mrkdwn", "text": p.text}   # (split, not clipped, when long)
                if p.fields:
                    b["fields"] = [{"type": "mrkdwn", "text": clip(f, 2000)} for f in p.fields[:10]]
                if not p.text and not p.fields:
                    b["text"] = {"type": "mrkdwn", "text": " "}
                if p.button:
                    b["accessory"] = p.button.block()
                blocks.append(b)
            elif isinstance(p, Context):
                blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": p.text}]})
            elif isinstance(p, Divider):
                blocks.append({"type": "divider"})
            elif isinstance(p, Actions) and p.buttons:
                blocks.append({"type": "actions", "elements": [b.block() for b in p.buttons[:25]]})
        return blocks

    def to_text(self) -> str:
        def plain(line: str) -> str:
            return re.sub(r"[*_]|:[a-z0-9_+-]+:", "", line).strip()

        lines = [self.summary]
        for p in self.parts:
            if isinstance(p, Header):
                continue  # the summary already says it
            if isinstance(p, Section):
                if p.text:
                    lines.append(p.text)
                lines.extend(p.fields)
            elif isinstance(p, Context):
                lines.append(p.text)
            elif isinstance(p, Actions):
                lines.append(" ".join(f"[{b.label}]" for b in p.buttons))
        # A section that only repeats the summary (a heading, a notice) is said once.
        lines = [lines[0]] + [line for line in lines[1:] if plain(line) != plain(self.summary)]
        text = "\n".join(line for line in lines if line)
        # The summary is written plainly and may hold people's text: a `<` that doesn't open a
        # mention shows as typed, so the notification never broadcasts or hides a link.
        text = _LONE_ANGLE.sub("&lt;", text)
        return clip(re.sub(r"\n{3,}", "\n\n", text), 3900)

    def payload(self, **extra) -> dict:
        """Arguments for respond(), chat.postMessage and friends."""
        return {"text": self.to_text(), "blocks": self.to_blocks(), **extra}
