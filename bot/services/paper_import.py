"""Importing a paper from Slack (/scrutiny import): who may, where the paper comes from, and
storing it once confirmed.

Nothing is stored at the preview step. To import on confirm exactly what was previewed
without keeping anything server-side (no table for pending imports), the preview view
carries its source: an uploaded file's id (downloaded and parsed again on confirm), or
pasted text, zlib-packed into private_metadata when it fits and otherwise split over
input blocks of the preview ("Paper text (kept for the import)"). Parsing is pure and
deterministic, so the confirm step reads the same items the preview showed."""
from __future__ import annotations

import base64
import zlib

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

from bot.importing import PaperFormatError, ParsedPaper, parse_paper
from bot.services.committees import committee_roles_of, require_channel_committee
from bot.services.context import Ctx
from bot.services.errors import NotAllowed, UserError
from bot.services.importer import ImportReport, import_items
from models.tables import Committee

METADATA_ROOM = 2800     # private_metadata may hold 3,000 characters; keep room for the rest
CHUNK = 2900             # a plain_text_input holds 3,000 characters
MAX_CHUNKS = 10
MAX_DOWNLOAD = 20 * 1024 * 1024


async def require_importer(session: AsyncSession, ctx: Ctx) -> Committee:
    """The channel's committee, if the person may import into it: admins, its chair and officers."""
    committee = await require_channel_committee(session, ctx)
    if await ctx.directory.is_admin(ctx.user_id) or await committee_roles_of(session, ctx, committee):
        return committee
    raise NotAllowed("Only the committee's chair and officers, or an admin, can import a paper.")


def pack(text: str) -> str:
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")


def unpack(packed: str) -> str:
    try:
        return zlib.decompress(base64.b64decode(packed.encode("ascii"), validate=True)).decode("utf-8")
    except (ValueError, zlib.error, UnicodeError):
        raise UserError("That form is out of date. Run `/scrutiny import` again.") from None


def chunks(text: str) -> list[str]:
    """Text split at line ends into pieces an input block holds; joined again with "\\n"."""
    out, rest = [], text
    while len(rest) > CHUNK:
        cut = rest.rfind("\n", 0, CHUNK)
        if cut <= 0:
            cut = CHUNK
            out.append(rest[:cut])
            rest = rest[cut:]
        else:
            out.append(rest[:cut])
            rest = rest[cut + 1:]
    out.append(rest)
    if len(out) > MAX_CHUNKS:
        raise UserError("That is too long to paste here: attach the paper as a file instead.")
    return out


def join_chunks(parts: list[str]) -> str:
    return "\n".join(parts)


def parse(content: str | bytes, filename: str | None, ctx: Ctx) -> ParsedPaper:
    """parse_paper, with "nothing found" as a one-line UserError for the form."""
    try:
        paper = parse_paper(content, filename=filename, today=ctx.today)
    except PaperFormatError as e:
        raise UserError(str(e).splitlines()[0] if str(e) else "I couldn't read that paper.") from None
    if not paper.items:
        raise UserError("I found no numbered recommendations or actions in that paper.")
    return paper


async def fetch_file(client, token: str | None, file: dict) -> tuple[str | None, bytes]:
    """(name, bytes) of a file shared through the form's file input: files.info if the
    submission lacks its URL, then a GET with the bot token."""
    url, name = file.get("url_private_download") or file.get("url_private"), file.get("name")
    if not url:
        info = (await client.files_info(file=file["id"]))["file"]
        url, name = info.get("url_private_download") or info.get("url_private"), info.get("name") or name
    if not url:
        raise UserError("I couldn't download that file from Slack. Try attaching it again.")
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={"Authorization": f"Bearer {token or ''}"}, allow_redirects=False) as resp:
            # Slack answers a request it won't serve with its sign-in page (HTML, status 200).
            login_page = "text/html" in resp.headers.get("Content-Type", "") \
                and not (name or "").lower().endswith((".html", ".htm"))
            if resp.status != 200 or login_page:
                raise UserError("I couldn't download that file from Slack. Try attaching it again.")
            body = await resp.content.read(MAX_DOWNLOAD + 1)
    if len(body) > MAX_DOWNLOAD:
        raise UserError("That file is too large to import (20 MB at most).")
    return name, body


async def store(session: AsyncSession, ctx: Ctx, committee: Committee, review: str, title: str | None,
                paper: ParsedPaper, source: str | None) -> ImportReport:
    return await import_items(session, team_id=ctx.team_id, committee_code=committee.code, review_code=review,
                              items=paper.items, actor=ctx.user_id, now=ctx.now, title=title or paper.title,
                              as_of=paper.paper_date, source=source)
