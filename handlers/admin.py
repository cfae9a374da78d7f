"""/scrutiny: binding a channel to a committee, roles, partner agencies, and the paper in
and out (the import form is answered in handlers/imports.py)."""
from __future__ import annotations

from bot.core.errors import UserError
from bot.export import service as export_service
from bot.services import committees, imports, letters
from bot.services.parsing import clean, is_help, parse_role_command, split_words
from bot.slack_ui import items as render
from bot.slack_ui import letters as letter_render
from bot.slack_ui.import_form import import_form
from bot.slack_ui.metadata import ImportForm
from handlers.replies import ephemeral


async def _setup(s, ctx, rest):
    words = split_words(rest)
    if not words:
        raise UserError("Give a code and a name: `/scrutiny setup cyp Children and Young People Scrutiny Committee`.")
    code, name = words[0], rest[len(words[0]):].strip().strip('"')
    committee, created = await committees.setup_committee(s, ctx, code, name)
    return render.committee_bound(committee, created)


async def _role(s, ctx, rest):
    name, holders = parse_role_command(rest)
    return render.role_assigned(*await committees.assign_role(s, ctx, name, holders))


async def _roles(s, ctx, rest):
    return render.roles_list(await committees.list_roles(s, ctx))


async def _agency(s, ctx, rest):
    sub, _, args = rest.partition(" ")
    if sub.lower() != "add":
        raise UserError('Add a partner agency with `/scrutiny agency add "Essex Police" @bob`.')
    name, contacts = letters.parse_agency_add(args)
    return letter_render.agency_added(*await letters.add_agency(s, ctx, name, contacts))


async def _agencies(s, ctx, rest):
    return letter_render.agencies_list(*await letters.list_agencies(s, ctx))


# /scrutiny's verbs that answer with a message, each in one transaction.
VERBS = {"setup": _setup, "role": _role, "roles": _roles, "agency": _agency, "agencies": _agencies}


async def scrutiny_command(ack, command, client, ctx, db):
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
        elif verb in VERBS:
            msg = await VERBS[verb](s, ctx, rest)
        else:
            raise UserError(f"I don't know `/scrutiny {verb[:30]}`. Try `/scrutiny setup`, `role`, `roles` or `help`.")
    await ack(**ephemeral(msg))


def register(app) -> None:
    app.command("/scrutiny")(scrutiny_command)
