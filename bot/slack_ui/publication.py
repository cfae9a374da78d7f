"""What `/scrutiny publish` answers."""
from __future__ import annotations

from bot.services.publication import Publication
from bot.slack_ui.blocks import Message, Section, escape

USAGE = "`/scrutiny publish on` (a public page of this committee's recommendations) or `/scrutiny publish off`"


def publish_usage() -> Message:
    text = (f"*/scrutiny publish* — {USAGE}. The page shows each recommendation, its owners by role "
            "(never people), status, RAG and latest position, with a CSV download. Private committees can't be published.")
    return Message(text.replace("*", "")).add(Section(text))


def published(pub: Publication) -> Message:
    name = escape(pub.committee_name)
    where = f"<{pub.url}>" if pub.url else (
        f"`{pub.path}` on this app's web address (an admin can set `SCRUTINEER_PUBLIC_URL` so I can give the full link)")
    if pub.published:
        head = (f"The tracker of {name} is now public" if pub.changed else f"The tracker of {name} was already public")
        text = (f":globe_with_meridians: {head}: {where}. It shows each recommendation, its owners by role, "
                "status, RAG and latest position (no names). `/scrutiny publish off` takes it down at once.")
    else:
        text = (f"The public tracker of {name} is taken down: its address now answers “not found”."
                if pub.changed else f"The tracker of {name} isn't published; nothing changed.")
    return Message(text).add(Section(text))
