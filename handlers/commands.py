"""Slash commands. The answer rides in the acknowledgement (the app runs listeners before
responding), so the person sees it without a second round trip to Slack."""
from __future__ import annotations

from bot import messages
from bot import letter_messages
from bot.forms import update_form
from bot.metadata import UpdateForm
from bot.parsing import clean, is_help, parse_actions, parse_role_command, parse_update, split_words
from bot.services import committees, items
from bot.services import letters
from bot.services.errors import UserError
from bot.export import service as export_service
from bot.import_forms import import_form
from bot.metadata import ImportForm
from bot.services import paper_import

COMMANDS = ("/actions", "/position", "/update", "/scrutiny")


def register(app, deps) -> None:
    @app.command("/actions")
    async def actions_command(ack, command, context):
        ctx = deps.ctx(context)
        if is_help(command.get("text", "")):
            return await ack(**messages.help_for("actions").payload(response_type="ephemeral"))
        filt = parse_actions(command.get("text", ""), ctx.today)
        page = await items.list_items(deps.db, ctx, filt)
        msg = messages.item_list(page, ctx.today, in_dm=ctx.in_dm)
        await ack(**msg.payload(response_type="ephemeral"))

    @app.command("/position")
    async def position_command(ack, command, context):
        ctx = deps.ctx(context)
        text = clean(command.get("text", ""))
        if not text or is_help(text):
            return await ack(**messages.help_for("position").payload(response_type="ephemeral"))
        words = text.split()
        want_history = len(words) > 1 and words[-1].lower() == "history"
        ref = " ".join(words[:-1] if want_history else words)
        item = await items.find(deps.db, ctx, ref)
        if want_history:
            msg = messages.history(item, await items.positions_of(deps.db, item), ctx.today)
        else:
            msg = messages.item_card(item, item.latest, ctx.today)
        await ack(**msg.payload(response_type="ephemeral"))

    @app.command("/update")
    async def update_command(ack, command, context, client):
        ctx = deps.ctx(context)
        if is_help(command.get("text", "")):
            return await ack(**messages.help_for("update").payload(response_type="ephemeral"))
        req = parse_update(command.get("text", ""), ctx.today)
        if req.changes is not None:
            msg = messages.update_result(*await items.update(deps.db, ctx, req.ref, req.changes), ctx.today)
            return await ack(**msg.payload(response_type="ephemeral"))
        async with deps.db.session() as s:
            item = await items.resolve(s, ctx, req.ref)
            await items.require_can_update(s, ctx, item)
            view = update_form(item, UpdateForm(item.id, ctx.channel_id))
        await ack()
        await client.views_open(trigger_id=command["trigger_id"], view=view)

    @app.command("/scrutiny")
    async def scrutiny_command(ack, command, context, client):
        ctx = deps.ctx(context)
        text = clean(command.get("text", ""))
        verb, _, rest = text.partition(" ")
        verb, rest = verb.lower(), rest.strip()
        if not verb or is_help(verb):
            return await ack(**messages.help_for("scrutiny").payload(response_type="ephemeral"))
        async with deps.db.session() as s, s.begin():
            if verb == "setup":
                words = split_words(rest)
                if not words:
                    raise UserError("Give a code and a name: `/scrutiny setup cyp Children and Young People Scrutiny Committee`.")
                code, name = words[0], rest[len(words[0]):].strip().strip('"')
                committee, created = await committees.setup_committee(s, ctx, code, name)
                privacy = " It is private: only this channel's members (and admins) see its items." if committee.is_private else ""
                msg = messages.notice(
                    f":white_check_mark: This channel is now {'bound to the new' if created else 'bound to the'} committee "
                    f"*{committee.name}* (`{committee.code}`).{privacy}")
            elif verb == "role":
                name, holders = parse_role_command(rest)
                role, ended, started = await committees.assign_role(s, ctx, name, holders)
                if not started:
                    msg = messages.notice(f"Nothing changed: {role.name} is already held by "
                                          f"{', '.join(committees.holder_label(h) for h in role.current_holders)}.")
                else:
                    was = f" (previously {', '.join(committees.holder_label(h) for h in ended)})" if ended else ""
                    msg = messages.notice(f":white_check_mark: *{role.name}* is now held by "
                                          f"{', '.join(committees.holder_label(h) for h in started)}{was}.")
            elif verb == "roles":
                roles = await committees.list_roles(s, ctx)
                msg = messages.roles_list(roles)
            elif verb == "agency":
                sub, _, args = rest.partition(" ")
                if sub.lower() != "add":
                    raise UserError('Add a partner agency with `/scrutiny agency add "Essex Police" @bob`.')
                name, contacts = letters.parse_agency_add(args)
                msg = letter_messages.agency_added(*await letters.add_agency(s, ctx, name, contacts))
            elif verb == "agencies":
                msg = letter_messages.agencies_list(*await letters.list_agencies(s, ctx))
            elif verb == "export":
                msg = await export_service.export_to_channel(s, ctx, client, rest)
            elif verb == "import":
                await paper_import.require_importer(s, ctx)
                msg = None
            else:
                raise UserError(f"I don't know `/scrutiny {verb[:30]}`. Try `/scrutiny setup`, `role`, `roles` or `help`.")
        if msg is None:  # import: a form
            await ack()
            return await client.views_open(trigger_id=command["trigger_id"],
                                           view=import_form(ImportForm(ctx.channel_id), rest.split()[0] if rest else ""))
        await ack(**msg.payload(response_type="ephemeral"))
