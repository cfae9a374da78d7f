"""/scrutiny import: the form's two steps (preview, then confirm). Logic is in
bot.services.paper_import; views in bot.import_forms."""
from __future__ import annotations

from bot import messages
from bot.forms import submitted
from bot.import_forms import CONFIRM_CALLBACK, IMPORT_CALLBACK, kept_parts, preview_view, submitted_files
from bot.metadata import ImportForm
from bot.services import paper_import
from bot.services.errors import UserError
from bot.services.importer import check_review_code
from handlers.views import tell


def register(app, deps) -> None:
    @app.view(IMPORT_CALLBACK)
    async def import_submitted(ack, view, client, context):
        values = view["state"]["values"]
        try:
            meta = ImportForm.loads(view.get("private_metadata"))
            review = check_review_code(submitted(values, "review") or "")
        except UserError as e:
            return await ack(response_action="errors", errors={"review": e.message})
        title = (submitted(values, "title") or "").strip() or None
        paste = (submitted(values, "paste") or "").strip()
        files = submitted_files(values)
        if bool(paste) == bool(files):
            which = "Paste the paper or attach its file, not both." if paste else "Paste the paper or attach its file."
            return await ack(response_action="errors", errors={"paste": which})
        ctx = deps.ctx(context, channel_id=meta.channel_id)
        try:
            async with deps.db.session() as s:
                await paper_import.require_importer(s, ctx)
            if files:
                name, content = await paper_import.fetch_file(client, deps.settings.bot_token, files[0])
                paper = paper_import.parse(content, name, ctx)
                preview_meta, kept = ImportForm(meta.channel_id, review, title, file_id=files[0]["id"], filename=name), None
            else:
                paper = paper_import.parse(paste, None, ctx)
                preview_meta, kept = ImportForm(meta.channel_id, review, title, packed=paper_import.pack(paste)), None
                if len(preview_meta.dumps()) > paper_import.METADATA_ROOM:
                    preview_meta, kept = ImportForm(meta.channel_id, review, title), paper_import.chunks(paste)
        except UserError as e:
            return await ack(response_action="errors", errors={"file" if files else "paste": e.message})
        await ack(response_action="update", view=preview_view(preview_meta, paper, kept))

    @app.view(CONFIRM_CALLBACK)
    async def import_confirmed(ack, view, client, context):
        try:
            meta = ImportForm.loads(view.get("private_metadata"))
        except UserError as e:
            await ack()
            return await tell(client, deps.ctx(context, channel_id=None), messages.notice(f":warning: {e.message}"))
        ctx = deps.ctx(context, channel_id=meta.channel_id)
        kept = kept_parts(view["state"]["values"])
        try:
            if meta.file_id:
                name, content = await paper_import.fetch_file(client, deps.settings.bot_token, {"id": meta.file_id})
                source = name or meta.filename
            elif meta.packed:
                name, content, source = None, paper_import.unpack(meta.packed), "pasted text"
            elif kept is not None:
                name, content, source = None, paper_import.join_chunks(kept), "pasted text"
            else:
                raise UserError("That form is out of date. Run `/scrutiny import` again.")
            paper = paper_import.parse(content, name, ctx)
            async with deps.db.session() as s, s.begin():
                committee = await paper_import.require_importer(s, ctx)
                report = await paper_import.store(s, ctx, committee, meta.review or "",
                                                  meta.title, paper, source)
        except UserError as e:
            await ack()
            return await tell(client, ctx, messages.notice(f":warning: Nothing was imported. {e.message}"))
        await ack()
        await tell(client, ctx, messages.notice(f":white_check_mark: Imported {report.summary()}."))
