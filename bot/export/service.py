"""`/scrutiny export [docx|md|csv|xlsx]`: build the channel committee's paper and
upload it to the channel; and the same paper to a file for `scrutineer export`."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotAllowed, NotFound, UserError
from bot.services.committees import can_see, require_channel_committee
from bot.services.context import Ctx
from bot.slack_ui.blocks import Message, Section, escape

from . import FORMATS, render
from .content import PositionPaper, build_position_paper
from .upload import upload_to_channel

# What people type for each format.
FORMAT_WORDS = {"docx": "docx", "word": "docx", "doc": "docx", "md": "md", "markdown": "md",
                "csv": "csv", "xlsx": "xlsx", "excel": "xlsx", "xls": "xlsx"}
NOT_OFFERED = {"pdf", "html", "htm", "odt", "txt", "text", "json", "rtf"}
LABELS = {"docx": "Word", "md": "Markdown", "csv": "CSV", "xlsx": "Excel"}
USAGE = "`/scrutiny export docx` (or `md`, `csv`, `xlsx`; add a review code such as `sg2010` for one review)"


def parse_export_words(text: str) -> tuple[str, str | None, list[str]]:
    """(format, review code or None, words not understood). The format defaults to docx;
    any other word is taken as a review code, checked against the committee later."""
    fmt, review, unknown = None, None, []
    for word in text.split():
        low = word.lower().strip("`\"'.,")
        if low in FORMAT_WORDS and fmt is None:
            fmt = FORMAT_WORDS[low]
        elif review is None and low and low[0].isalnum() and low not in FORMAT_WORDS and low not in NOT_OFFERED:
            review = low
        else:
            unknown.append(word)
    return fmt or "docx", review, unknown


async def export_to_channel(session: AsyncSession, ctx: Ctx, client, text: str) -> Message:
    """Upload the position paper of this channel's committee; answer with one line."""
    if text.strip().lower() in ("help", "?", "-h", "--help"):
        usage = f"*/scrutiny export* uploads this committee's “Position on recommendations” paper here: {USAGE}."
        return Message(usage).add(Section(usage))
    fmt, review, unknown = parse_export_words(text)
    if unknown:
        raise UserError(f"I can't export “{' '.join(unknown)[:40]}”: try {USAGE}.")
    committee = await require_channel_committee(session, ctx)
    if not await can_see(ctx, committee):
        raise NotAllowed("That committee is private to its channel's members.")
    try:
        paper = await build_position_paper(session, ctx.team_id, committee.code, review, today=ctx.today,
                                           directory=ctx.directory)
    except NotFound as e:
        if not review:
            raise
        # A word that is neither a format nor one of this committee's reviews ("pdf", "dcox").
        raise UserError(f"“{review[:40]}” isn't a format I can export, nor one of this committee's "
                        f"reviews: try {USAGE}.") from e
    data, filename, _mimetype = render(paper, fmt)
    await upload_to_channel(
        client, ctx.channel_id, "file", file=data, filename=filename, title=paper.title,
        initial_comment=f"<@{ctx.user_id}> shared the {LABELS[fmt]} paper *{escape(paper.title)}*. "
                        f"{escape(paper.summary())}")
    return notice_uploaded(paper, fmt, filename)


def notice_uploaded(paper: PositionPaper, fmt: str, filename: str) -> Message:
    text = (f":page_facing_up: I've uploaded *{escape(paper.title)}* to this channel as {LABELS[fmt]} "
            f"(`{filename}`, {len(paper.rows)} recommendations).")
    return Message(text).add(Section(text))


__all__ = ["FORMATS", "FORMAT_WORDS", "export_to_channel", "parse_export_words"]
