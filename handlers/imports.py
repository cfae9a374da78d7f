"""/scrutiny import: the form's two steps (preview, then confirm). The rules are in
bot.services.imports, reading papers in bot.importing, the views in bot.slack_ui.import_form.

Reading a paper can take seconds (in another process: bot.importing.sandbox), longer than
Slack waits for a form's answer (3 s). So each step is two listeners, Bolt's ack and lazy:
the quick one checks the form and that the person may import, before anything is
downloaded, unpacked or read, and answers at once (the first step with a "Reading…" view);
the lazy one, run after that answer, reads the paper and then shows the preview with
views.update (or the form again, saying what was wrong), or stores what the preview
showed and says so in the channel.

The preview has a select per column of the table (its role, as the importer read it) and
"Preview again" (block_actions from the modal): the paper is read again with the officer's
reading as parse_paper's `columns`, and the preview replaced with views.update (passing the
view's hash, so a preview that has moved on is left alone). Each conflict has a choice, keep
Scrutineer's value or take the paper's; Import applies the choices."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.core.errors import UserError
from bot.services import imports, saved
from bot.services.context import Ctx
from bot.slack_ui import items as render
from bot.slack_ui.forms import submitted
from bot.slack_ui.import_form import (
    AGAIN_ACTION,
    CONFIRM_CALLBACK,
    IMPORT_CALLBACK,
    changed_columns,
    column_choices,
    conflict_choices,
    import_form,
    kept_parts,
    preview_view,
    reading_view,
    submitted_files,
)
from bot.slack_ui.metadata import ImportForm
from handlers.replies import tell

log = logging.getLogger("scrutineer")

JOB = "import_job"          # where the quick listener leaves its _Job for the lazy one
SAVED_FORM = "import_form"  # what bot.services.saved keeps a preview's too-long metadata as
READING_AT_LEAST = 0.3      # seconds the Reading view stays up: Slack must have shown it before
#                             views.update replaces it, or the preview could be overwritten
SORRY = "Sorry, something went wrong on our side and nothing was changed. Please try again in a minute."


@dataclass
class _Job:
    """What the quick listener checked, handed to the lazy one. Bolt deep-copies a request's
    context for its lazy listeners; this goes across as it is (it holds the database)."""
    ctx: Ctx
    db: Any
    settings: Any
    meta: ImportForm
    view_id: str | None = None
    paste: str | None = None
    kept: list[str] | None = None
    answered_at: float = 0.0
    take: frozenset = frozenset()        # (ref, field) of conflicts the officer gave to the paper
    chosen: dict | None = None           # "Preview again": {column number: role word}
    hash: str | None = None              # "Preview again": the preview's hash when pressed

    def __deepcopy__(self, memo) -> "_Job":
        return self


def _hand_over(context, job: _Job) -> None:
    """Leave the job for the lazy listener. Bolt deep-copies every other value in the context
    for it (on the event loop); what the lazy listener needs is in the job, so the person's
    context, the database and the settings are taken out rather than copied."""
    context[JOB] = job
    for key in ("ctx", "db", "settings"):
        context.pop(key, None)


# -- first step: the form, then the preview -------------------------------------------------

async def import_submitted(ack, view, context, ctx, db, settings):
    """Quick: check the form and who is asking, then answer with the Reading view."""
    values = view["state"]["values"]
    try:
        meta = ImportForm.loads(view.get("private_metadata"))
        review = imports.check_review_code(submitted(values, "review") or "")
    except UserError as e:
        return await ack(response_action="errors", errors={"review": e.message})
    title = (submitted(values, "title") or "").strip() or None
    paste = (submitted(values, "paste") or "").strip()
    files = submitted_files(values)
    if bool(paste) == bool(files):
        which = "Paste the paper or attach its file, not both." if paste else "Paste the paper or attach its file."
        return await ack(response_action="errors", errors={"paste": which})
    ctx = ctx.in_channel(meta.channel_id)
    kept = None
    try:
        if paste:
            imports.check_paste(paste)
        async with db.session() as s:
            await imports.require_importer(s, ctx)
        if files:
            file = files[0] if isinstance(files[0], dict) else {}
            preview_meta = ImportForm(meta.channel_id, review, title, file_id=file.get("id"))
            name = file.get("name") if isinstance(file.get("name"), str) else "the attached file"
        else:
            preview_meta, name = ImportForm(meta.channel_id, review, title, packed=imports.pack(paste)), None
            if len(preview_meta.dumps()) > imports.METADATA_ROOM:
                preview_meta, kept = ImportForm(meta.channel_id, review, title), imports.chunks(paste)
        if len(preview_meta.dumps()) > imports.METADATA_ROOM:   # a very long title: keep it here
            async with db.session() as s, s.begin():
                key = await saved.save(s, team_id=ctx.team_id, kind=SAVED_FORM, payload=preview_meta.dumps(),
                                       now=ctx.now)
            preview_meta = replace(preview_meta, saved=key)
    except UserError as e:
        return await ack(response_action="errors", errors={"file" if files else "paste": e.message})
    _hand_over(context, _Job(ctx, db, settings, preview_meta, view_id=view.get("id"), paste=paste or None,
                             kept=kept, answered_at=asyncio.get_running_loop().time()))
    reading = ImportForm(meta.channel_id, review, title)
    await ack(response_action="update", view=reading_view(reading if reading.fits() else replace(reading, title=None),
                                                          name))


async def read_submitted(client, context):
    """Lazy: download and read the paper, then replace the Reading view with the preview (or
    with the form again, saying why the paper couldn't be read)."""
    job: _Job | None = context.get(JOB)
    if job is None:
        return   # the form was refused in its answer; nothing to read
    meta = job.meta
    try:
        if meta.file_id:
            settings = job.settings
            name, content = await imports.fetch_file(client, settings.bot_token, meta.file_id,
                                                     api_url=settings.slack_api_url)
            paper = await imports.parse(content, name, job.ctx)
            shown = preview_view(replace(meta, filename=name), paper, report=await _compare(job, paper))
        else:
            paper = await imports.parse(job.paste or "", None, job.ctx)
            shown = preview_view(meta, paper, job.kept, report=await _compare(job, paper))
    except UserError as e:
        shown = _form_again(job, e.message)
    except Exception:
        log.exception("Reading a paper for /scrutiny import failed")
        shown = _form_again(job, SORRY)
    await _show(client, job, shown)


async def _load_meta(view: dict, ctx: Ctx, db) -> ImportForm:
    """The preview's metadata, fetched from where it was kept if it was too long for Slack."""
    meta = ImportForm.loads(view.get("private_metadata"))
    if meta.saved:   # kept server-side: only this team's, and only for a day
        async with db.session() as s:
            kept_meta = await saved.load(s, meta.saved, team_id=ctx.team_id, kind=SAVED_FORM, now=ctx.now)
        meta = ImportForm.loads(kept_meta if isinstance(kept_meta, str) else None, limit=None)
    return meta


async def _fit(meta: ImportForm, ctx: Ctx, db) -> ImportForm:
    """meta, or its key once kept server-side if it no longer fits private_metadata."""
    meta = replace(meta, saved=None)
    if len(meta.dumps()) <= imports.METADATA_ROOM:
        return meta
    async with db.session() as s, s.begin():
        key = await saved.save(s, team_id=ctx.team_id, kind=SAVED_FORM, payload=meta.dumps(), now=ctx.now)
    return replace(meta, saved=key)


async def _content(client, job: _Job) -> tuple[str | None, str | bytes, str]:
    """(file name, content, source) of the paper the preview carries."""
    meta = job.meta
    if meta.file_id:
        name, content = await imports.fetch_file(client, job.settings.bot_token, meta.file_id,
                                                 api_url=job.settings.slack_api_url)
        return name, content, name or meta.filename or "attached file"
    if meta.packed:
        return None, imports.unpack(meta.packed), "pasted text"
    return None, imports.join_chunks(job.kept or []), "pasted text"


async def _compare(job: _Job, paper):
    """What importing the paper would change, conflicts included (nothing is written)."""
    async with job.db.session() as s:
        committee = await imports.require_importer(s, job.ctx)
        return await imports.compare(s, job.ctx, committee, job.meta.review or "", job.meta.title, paper)


def _form_again(job: _Job, problem: str) -> dict:
    meta = job.meta
    return import_form(ImportForm(meta.channel_id), meta.review or "", title=meta.title, paste=job.paste,
                       problem=problem)


async def _show(client, job: _Job, view: dict) -> None:
    wait = job.answered_at + READING_AT_LEAST - asyncio.get_running_loop().time()
    if wait > 0:
        await asyncio.sleep(wait)
    try:
        await client.views_update(view_id=job.view_id, view=view)
    except SlackApiError as e:   # most likely closed while it was read
        log.info("Could not show the import preview (%s)", e.response.get("error"))


# -- "Preview again" with the officer's columns ----------------------------------------------

async def preview_again_pressed(ack, body, context, client, ctx, db, settings):
    """Quick: check who is asking and what the preview carries; the lazy listener reads."""
    await ack()
    view = body.get("view") or {}
    values = (view.get("state") or {}).get("values") or {}
    try:
        meta = await _load_meta(view, ctx, db)
    except UserError as e:
        return await tell(client, ctx.in_channel(None), render.notice(f":warning: {e.message}"))
    ctx = ctx.in_channel(meta.channel_id)
    kept = kept_parts(values)
    try:
        async with db.session() as s:
            await imports.require_importer(s, ctx)
        if not (meta.file_id or meta.packed or kept is not None):
            raise UserError("That form is out of date. Run `/scrutiny import` again.")
    except UserError as e:
        return await tell(client, ctx, render.notice(f":warning: {e.message}"))
    _hand_over(context, _Job(ctx, db, settings, meta, view_id=view.get("id"), kept=kept,
                             chosen=column_choices(values), hash=view.get("hash")))


async def read_again(client, context):
    """Lazy: read the paper as the preview did, then with the officer's columns, and show the
    new preview (or the old one, saying why the columns couldn't be used)."""
    job: _Job | None = context.get(JOB)
    if job is None:
        return
    meta = job.meta
    try:
        name, content, _ = await _content(client, job)
        shown = await imports.parse(content, name, job.ctx, columns=meta.columns)
        note = None
        try:
            columns = imports.column_overrides(shown.columns, job.chosen or {}, meta.columns)
            if columns != (meta.columns or {}):
                paper = await imports.parse(content, name, job.ctx, columns=columns)
                meta, shown = replace(meta, columns=columns or None), paper
                note = ":arrows_counterclockwise: Read again with the columns you chose."
            else:
                note = "You changed no column, so this is the same reading."
        except UserError as e:
            note = f":warning: {e.message}"
        meta = await _fit(replace(meta, filename=name or meta.filename), job.ctx, job.db)
        job = replace(job, meta=meta)
        view = preview_view(meta, shown, job.kept, report=await _compare(job, shown), note=note)
    except UserError as e:
        view = _form_again(job, e.message)
    except Exception:
        log.exception("Reading a paper again for /scrutiny import failed")
        view = _form_again(job, SORRY)
    try:
        await client.views_update(view_id=job.view_id, hash=job.hash, view=view)
    except SlackApiError as e:   # hash_conflict: the preview moved on (imported); not_found: closed
        log.info("Left the import preview as it was (%s)", e.response.get("error"))


# -- second step: confirm, then store ------------------------------------------------------------

async def import_confirmed(ack, view, context, client, ctx, db, settings):
    """Quick: who is asking is checked before anything is downloaded, unpacked or read; the
    form closes at once (or, with a column changed but not previewed, says so)."""
    changed = changed_columns(view)
    if changed:   # importing a reading the officer hasn't seen: show it first
        return await ack(response_action="errors", errors={block: (
            "You changed this column: press Preview again to see the items read that way, "
            "or set it back.") for block in changed})
    try:
        meta = await _load_meta(view, ctx, db)
    except UserError as e:
        await ack()
        return await tell(client, ctx.in_channel(None), render.notice(f":warning: {e.message}"))
    ctx = ctx.in_channel(meta.channel_id)
    kept = kept_parts(view["state"]["values"])
    try:
        take = frozenset(conflict_choices(view["state"]["values"]))
        async with db.session() as s:
            await imports.require_importer(s, ctx)
        if not (meta.file_id or meta.packed or kept is not None):
            raise UserError("That form is out of date. Run `/scrutiny import` again.")
    except UserError as e:
        await ack()
        return await tell(client, ctx, render.notice(f":warning: Nothing was imported. {e.message}"))
    _hand_over(context, _Job(ctx, db, settings, meta, view_id=view.get("id"), kept=kept, take=take))
    await ack()


async def store_confirmed(client, context):
    """Lazy: read the paper the preview showed again, store it, and say what changed."""
    job: _Job | None = context.get(JOB)
    if job is None:
        return   # refused in its answer, and told so
    ctx, meta = job.ctx, job.meta
    try:
        name, content, source = await _content(client, job)
        paper = await imports.parse(content, name, ctx, columns=meta.columns)   # as the preview read it
        async with job.db.session() as s, s.begin():
            committee = await imports.require_importer(s, ctx)   # still, now that it is stored
            report = await imports.store(s, ctx, committee, meta.review or "", meta.title, paper, source,
                                         take=job.take)
    except UserError as e:
        return await tell(client, ctx, render.notice(f":warning: Nothing was imported. {e.message}"))
    except Exception:
        log.exception("Importing a paper failed")
        return await tell(client, ctx, render.notice(f":warning: {SORRY}"))
    await tell(client, ctx, render.notice(f":white_check_mark: Imported {report.summary()}."))


def register(app) -> None:
    app.view(IMPORT_CALLBACK)(ack=import_submitted, lazy=[read_submitted])
    app.view(CONFIRM_CALLBACK)(ack=import_confirmed, lazy=[store_confirmed])
    app.action(AGAIN_ACTION)(ack=preview_again_pressed, lazy=[read_again])
