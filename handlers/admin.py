"""/scrutiny: binding a channel to a committee, roles, partner agencies, and the paper in
and out (the import form is answered in handlers/imports.py)."""
from __future__ import annotations

from bot.core.errors import UserError
from bot.export import report as report_export
from bot.export import service as export_service
from bot.services import committees, imports, letters, publication
from bot.services.parsing import clean, is_help, parse_role_command, split_words
from bot.slack_ui import items as render
from bot.slack_ui import letters as letter_render
from bot.slack_ui import publication as publication_render
from bot.slack_ui.blocks import people_text
from bot.slack_ui.import_form import import_form
from bot.slack_ui.metadata import CommitteeRename, ImportForm
from handlers.replies import ephemeral


async def _setup(s, ctx, rest):
    words = split_words(rest)
    if not words:
        raise UserError("Give a code and a name: `/scrutiny setup cyp Children and Young People Scrutiny Committee`.")
    code, name = words[0], rest[len(words[0]):].strip().strip('"')
    setup = await committees.setup_committee(s, ctx, code, name)
    if setup.rename_to is not None:   # an existing committee: ask before renaming it
        return render.rename_question(setup, ctx.channel_id)
    return render.committee_bound(setup.committee, setup.created)


async def _role(s, ctx, rest):
    name, holders = parse_role_command(rest)
    return render.role_assigned(*await committees.assign_role(s, ctx, name, holders))


async def _roles(s, ctx, rest):
    return render.roles_list(await committees.list_roles(s, ctx))


async def _agency(s, ctx, rest):
    sub, _, args = rest.partition(" ")
    sub = sub.lower()
    if sub == "remove":
        return letter_render.agency_removed(await letters.remove_agency(s, ctx, args))
    if sub in ("remove-contact", "remove-contacts"):
        return letter_render.contacts_removed(*await letters.remove_contacts(s, ctx, args))
    if sub != "add":
        raise UserError('Add a partner agency with `/scrutiny agency add "Essex Police" @bob`; remove one with '
                        '`/scrutiny agency remove "Essex Police"` or a contact with '
                        '`/scrutiny agency remove-contact "Essex Police" @bob`.')
    name, contacts = letters.parse_agency_add(args)
    return letter_render.agency_added(*await letters.add_agency(s, ctx, name, contacts))


async def _agencies(s, ctx, rest):
    return letter_render.agencies_list(*await letters.list_agencies(s, ctx))


async def _publish(s, ctx, rest, public_url):
    word = rest.strip().lower()
    if word in ("on", "yes", "true"):
        return publication_render.published(await publication.set_published(s, ctx, True, public_url))
    if word in ("off", "no", "false"):
        return publication_render.published(await publication.set_published(s, ctx, False, public_url))
    return publication_render.publish_usage()


# /scrutiny's verbs that answer with a message, each in one transaction.
VERBS = {"setup": _setup, "role": _role, "roles": _roles, "agency": _agency, "agencies": _agencies}


async def scrutiny_command(ack, command, client, ctx, db, settings):
    text = clean(command.get("text", ""))
    verb, _, rest = text.partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if not verb or is_help(verb):
        return await ack(**ephemeral(render.help_for("scrutiny")))
    if verb == "import":
        async with db.session() as s:
            await imports.require_importer(s, ctx)
        await ack()
        return await client.views_open(trigger_id=command["trigger_id"],
                                       view=import_form(ImportForm(ctx.channel_id), rest.split()[0] if rest else ""))
    async with db.session() as s, s.begin():
        if verb == "export":
            msg = await export_service.export_to_channel(s, ctx, client, rest)
        elif verb == "report":   # uploads its chart, so it needs the client the VERBS don't get
            msg = await report_export.report_to_channel(s, ctx, client, rest)
        elif verb == "publish":
            msg = await _publish(s, ctx, rest, settings.public_url)
        elif verb in VERBS:
            msg = await VERBS[verb](s, ctx, rest)
        else:
            raise UserError(f"I don't know `/scrutiny {verb[:30]}`. Try `/scrutiny setup`, `role`, `roles` or `help`.")
    await ack(**ephemeral(msg))


async def rename_button(ack, action, respond, ctx, db):
    """"Rename" under `/scrutiny setup`'s question: the rename happens now, audited."""
    await ack()
    meta = CommitteeRename.loads(action.get("value"))
    async with db.session() as s, s.begin():
        setup = await committees.confirm_rename(s, ctx, meta.committee_id, meta.old_name, meta.new_name,
                                                meta.channel_id)
        msg = render.renamed(setup.committee)
    await respond(**msg.payload(replace_original=True))


async def keep_name_button(ack, action, respond, ctx):
    await ack()
    meta = CommitteeRename.loads(action.get("value"))
    await respond(**render.notice(f"Nothing changed: the committee keeps its name, "
                                  f"{people_text(meta.old_name)}.").payload(replace_original=True))


def register(app) -> None:
    app.command("/scrutiny")(scrutiny_command)
    app.action(render.RENAME_ACTION)(rename_button)
    app.action(render.KEEP_NAME_ACTION)(keep_name_button)
