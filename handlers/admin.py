"""/scrutiny: binding a channel to a committee, roles, partner agencies, and the paper in
and out (the import form is answered in handlers/imports.py)."""
from __future__ import annotations

from bot.core.errors import UserError
from bot.export import report as report_export
from bot.export import service as export_service
from bot.services import committees, imports, letters, publication
from bot.services import settings as council_settings
from bot.services.parsing import USER_RE, clean, is_help, mentioned_users, parse_role_command, split_words
from bot.slack_ui import items as render
from bot.slack_ui import letters as letter_render
from bot.slack_ui import publication as publication_render
from bot.slack_ui import settings as settings_render
from bot.slack_ui.blocks import people_text
from bot.slack_ui.import_form import import_form
from bot.slack_ui.metadata import CommitteeRename, ImportForm
from handlers.replies import ephemeral, tell


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


async def _admin(s, ctx, rest, settings):
    """`/scrutiny admin add @x` · `remove @x` · `list`: admins named per workspace."""
    sub, _, args = rest.partition(" ")
    sub = sub.lower()
    if sub in ("list", "") and not args.strip():
        named = await council_settings.named_admins(s, ctx)
        return settings_render.admins_list(named, council_settings.env_admins(settings, ctx.team_id))
    people = mentioned_users(args)
    if sub not in ("add", "remove") or len(people) != 1 or USER_RE.sub("", args).strip():
        await committees.require_admin(ctx, "name other admins")
        raise UserError(settings_render.ADMIN_USAGE)
    if sub == "add":
        return settings_render.admin_added(people[0], await council_settings.add_admin(s, ctx, people[0]))
    return settings_render.admin_removed(people[0], await council_settings.remove_admin(s, ctx, people[0]))


async def _open_settings(command, client, ctx, db, settings):
    """`/scrutiny settings`: the council's settings form (admins), with this channel's committee's part."""
    async with db.session() as s:
        committee = await committees.channel_committee(s, ctx)
        data = await council_settings.form_data(s, ctx, settings, committee.id if committee else None)
    team_name = None
    if not data.own.get("council_name"):
        try:   # prefill the council's name from Slack's; the form works without it
            team_name = ((await client.team_info()).get("team") or {}).get("name")
        except Exception:   # noqa: BLE001 - a missing scope or a Slack hiccup: just no prefill
            team_name = None
    meta = settings_render.SettingsForm(ctx.channel_id, committee.id if committee else None)
    return await client.views_open(trigger_id=command["trigger_id"],
                                   view=settings_render.settings_form(data, meta, team_name))


async def settings_submitted(ack, view, client, ctx, db):
    """The settings form saved: each field that can't be used is shown beside it, nothing stored."""
    try:
        meta = settings_render.SettingsForm.loads(view.get("private_metadata"))
    except UserError as e:
        return await ack(response_action="errors", errors={"council_name": e.message})
    raw_workspace, raw_committee = settings_render.form_values(view["state"]["values"])
    errors: dict[str, str] = {}
    try:
        workspace = council_settings.read_workspace_values(raw_workspace)
    except council_settings.SettingsInvalid as e:
        errors.update(settings_render.field_errors(e.errors))
    committee = None
    if meta.committee_id is not None:
        try:
            committee = council_settings.read_committee_values(raw_committee)
        except council_settings.SettingsInvalid as e:
            errors.update(settings_render.field_errors(e.errors, committee=True))
    if errors:
        return await ack(response_action="errors", errors=errors)
    ctx = ctx.in_channel(meta.channel_id)
    try:
        async with db.session() as s, s.begin():
            saved = await council_settings.save(s, ctx, workspace, meta.committee_id, committee)
    except UserError as e:
        return await ack(response_action="errors", errors={"council_name": e.message})
    await ack()
    await tell(client, ctx, settings_render.saved_message(saved))


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
    if verb == "settings":
        await committees.require_admin(ctx, "change the council's settings")
        await ack()
        return await _open_settings(command, client, ctx, db, settings)
    async with db.session() as s, s.begin():
        if verb == "admin":
            msg = await _admin(s, ctx, rest, settings)
        elif verb == "export":
            msg = await export_service.export_to_channel(s, ctx, client, rest)
        elif verb == "report":   # uploads its chart, so it needs the client the VERBS don't get
            msg = await report_export.report_to_channel(s, ctx, client, rest)
        elif verb == "publish":
            msg = await _publish(s, ctx, rest, settings.public_url)
        elif verb in VERBS:
            msg = await VERBS[verb](s, ctx, rest)
        else:
            raise UserError(f"I don't know `/scrutiny {verb[:30]}`. Try `/scrutiny setup`, `role`, `roles`, `settings` or `help`.")
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
    app.view(settings_render.SETTINGS_CALLBACK)(settings_submitted)
