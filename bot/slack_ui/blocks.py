"""Message content, built once and rendered to Block Kit or to plain text.

Builders in bot/slack_ui/items.py describe *what* a reply says with these parts; Slack gets
`to_blocks()` and the `text` fallback from `to_text()` (also read by screen readers
and notifications)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

SECTION_LIMIT = 3000  # Block Kit's limit for a section's text
MAX_BLOCKS = 50


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape(text: str) -> str:
    """Escape user text for mrkdwn so `<`, `>` and `&` show as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
        blocks: list[dict] = []
        for p in self.parts:
            if isinstance(p, Header):
                blocks.append({"type": "header", "text": {"type": "plain_text", "text": clip(p.text, 150), "emoji": True}})
            elif isinstance(p, Section):
                b: dict = {"type": "section"}
                if p.text:
                    b["text"] = {"type": "mrkdwn", "text": clip(p.text, SECTION_LIMIT)}
                if p.fields:
                    b["fields"] = [{"type": "mrkdwn", "text": clip(f, 2000)} for f in p.fields[:10]]
                if not p.text and not p.fields:
                    b["text"] = {"type": "mrkdwn", "text": " "}
                if p.button:
                    b["accessory"] = p.button.block()
                blocks.append(b)
            elif isinstance(p, Context):
                blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(p.text, 3000)}]})
            elif isinstance(p, Divider):
                blocks.append({"type": "divider"})
            elif isinstance(p, Actions) and p.buttons:
                blocks.append({"type": "actions", "elements": [b.block() for b in p.buttons[:25]]})
        return blocks[:MAX_BLOCKS]

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
        return clip(re.sub(r"\n{3,}", "\n\n", text), 3900)

    def payload(self, **extra) -> dict:
        """Arguments for respond(), chat.postMessage and friends."""
        return {"text": self.to_text(), "blocks": self.to_blocks(), **extra}
