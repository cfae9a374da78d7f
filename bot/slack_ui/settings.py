"""`/scrutiny settings` (the council's settings form, with the channel committee's own part) and
`/scrutiny admin add|remove|list`: how they look in Slack."""
from __future__ import annotations

from dataclasses import dataclass

from bot.core.workdays import REGION_NAMES, REGIONS
from bot.services.settings import COMMITTEE_FIELDS, LABELS, ROLE_TITLES, FormData, Saved
from bot.slack_ui.blocks import Message, Section, clip, people_text
from bot.slack_ui.forms import submitted
from bot.slack_ui.metadata import Meta

SETTINGS_CALLBACK = "council_settings"
COMMITTEE_PREFIX = "committee_"     # block ids of the committee's own part of the form
DEFAULT = "default"


@dataclass(frozen=True)
class SettingsForm(Meta):
    """The settings modal: where it was opened and which committee's part it has (if any)."""
    channel_id: str | None = None
    committee_id: int | None = None


def _text(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def _option(value: str, label: str) -> dict:
    return {"text": _text(clip(label, 75)), "value": value}


def _block(block_id: str, label: str, element: dict, hint: str | None = None) -> dict:
    b = {"type": "input", "block_id": block_id, "optional": True, "label": _text(label), "element": element}
    if hint:
        b["hint"] = _text(clip(hint, 2000))
    return b


def _input(value, placeholder: str | None = None, max_length: int = 200) -> dict:
    el: dict = {"type": "plain_text_input", "action_id": "value", "max_length": max_length}
    if value not in (None, ""):
        el["initial_value"] = str(value)
    if placeholder:
        el["placeholder"] = _text(clip(placeholder, 150))
    return el


def _roles_select(own: list | None) -> dict:
    options = [_option(k, t) for k, t in ROLE_TITLES.items()]
    el: dict = {"type": "multi_static_select", "action_id": "value", "options": options,
                "placeholder": _text("The default")}
    chosen = [o for o in options if o["value"] in (own or [])]
    if chosen:
        el["initial_options"] = chosen
    return el


def roles_text(kinds) -> str:
    return ", ".join(ROLE_TITLES.get(k, k).lower() for k in kinds) or "nobody"


def settings_form(data: FormData, meta: SettingsForm, team_name: str | None) -> dict:
    own, d = data.own, data.defaults
    region_options = [_option(DEFAULT, f"Default ({REGION_NAMES[d.holiday_region]})")] + \
        [_option(r, REGION_NAMES[r]) for r in REGIONS]
    region = {"type": "static_select", "action_id": "value", "options": region_options,
              "initial_option": next((o for o in region_options if o["value"] == own.get("holiday_region")),
                                     region_options[0])}
    default = "Empty: the default, "
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            "The council's own settings. Leave a field empty for the service's default; a committee's "
            "own settings (in its channel) win over these.")}},
        _block("council_name", "Council name",
               _input(own.get("council_name") or team_name, "Essex County Council"),
               "Shown at the head of exported papers and under decision letters."),
        _block("tz_name", "Time zone", _input(own.get("tz_name"), d.tz_name, 64),
               f"{default}{d.tz_name}. A name such as Europe/London."),
        _block("holiday_region", "Bank holidays", region,
               "Whose bank holidays are not working days for reminders, escalations and update requests."),
        _block("digest_delay_minutes", "Digest delay (minutes)", _input(own.get("digest_delay_minutes"),
                                                                        str(d.digest_delay_minutes), 10),
               f"{default}{d.digest_delay_minutes}. A meeting nobody closed gets its digest this long after it ends."),
        _block("remind_days", "Reminder lead time (days)", _input(own.get("remind_days"), str(d.remind_days), 10),
               f"{default}{d.remind_days}. Owners are reminded this many days before an item falls due."),
        _block("escalate_days", "Escalation (working days overdue)",
               _input(own.get("escalate_days"), str(d.escalate_days), 10),
               f"{default}{d.escalate_days}. An item overdue by more than this is escalated once."),
        _block("escalate_roles", "Escalate to", _roles_select(own.get("escalate_roles")),
               f"Empty: the default, the committee's {roles_text(d.escalate_roles)}."),
        _block("meeting_minutes", "Meeting length (minutes)",
               _input(own.get("meeting_minutes"), str(d.meeting_minutes), 10),
               f"{default}{d.meeting_minutes}. How long `/meeting new` makes a meeting."),
    ]
    if data.committee is not None:
        w, c = data.workspace_effective or d, data.committee_own
        blocks += [
            {"type": "divider"},
            {"type": "section", "text": {"type": "mrkdwn", "text": clip(
                f"*{people_text(data.committee.name)}* — this committee's own settings "
                "(empty: the council's).", 3000)}},
            _block(COMMITTEE_PREFIX + "update_days", "Ask for updates (working days before a meeting)",
                   _input(c.get("update_days"), str(w.update_days), 10), f"Empty: the council's, {w.update_days}."),
            _block(COMMITTEE_PREFIX + "escalate_days", "Escalation (working days overdue)",
                   _input(c.get("escalate_days"), str(w.escalate_days), 10),
                   f"Empty: the council's, {w.escalate_days}."),
            _block(COMMITTEE_PREFIX + "escalate_roles", "Escalate to", _roles_select(c.get("escalate_roles")),
                   f"Empty: the council's, the {roles_text(w.escalate_roles)}."),
        ]
    return {"type": "modal", "callback_id": SETTINGS_CALLBACK, "private_metadata": meta.dumps(),
            "title": _text("Council settings"), "submit": _text("Save"), "close": _text("Cancel"),
            "blocks": blocks}


def _multi(values: dict, block_id: str) -> list[str]:
    el = (values.get(block_id) or {}).get("value") or {}
    return [o.get("value") for o in el.get("selected_options") or [] if isinstance(o, dict)]


def form_values(values: dict) -> tuple[dict, dict]:
    """The submitted form as typed: (the council's, the committee's)."""
    workspace = {n: submitted(values, n) for n in ("council_name", "tz_name", "holiday_region",
                                                     "digest_delay_minutes", "remind_days", "escalate_days",
                                                     "meeting_minutes")}
    workspace["escalate_roles"] = _multi(values, "escalate_roles")
    committee = {n: submitted(values, COMMITTEE_PREFIX + n) for n in ("update_days", "escalate_days")}
    committee["escalate_roles"] = _multi(values, COMMITTEE_PREFIX + "escalate_roles")
    return workspace, committee


def field_errors(errors: dict[str, str], *, committee: bool = False) -> dict[str, str]:
    """A service's field errors as the form's block ids."""
    return {(COMMITTEE_PREFIX + k if committee else k): v for k, v in errors.items()}


def _shown(name: str, value) -> str:
    if value in (None, "", []):
        return "the default"
    if name == "escalate_roles":
        return roles_text(value)
    if name == "holiday_region":
        return REGION_NAMES.get(value, value)
    return str(value)


def saved_message(saved: Saved) -> Message:
    if not saved.changed:
        return Message("Nothing changed: the settings were already so.").add(
            Section("Nothing changed: the settings were already so."))
    parts = [f"{LABELS[n]} {_shown(n, b)} → {_shown(n, a)}" for n, (b, a) in saved.workspace.items()]
    lines = []
    if parts:
        lines.append(":white_check_mark: Council settings saved: " + "; ".join(parts) + ".")
    if saved.committee:
        cparts = [f"{LABELS[n]} {_shown(n, b)} → {_shown(n, a)}" for n, (b, a) in saved.committee.items()
                  if n in COMMITTEE_FIELDS]
        lines.append(f":white_check_mark: {saved.committee_name or 'The committee'}'s own settings saved: "
                     + "; ".join(cparts) + ".")
    text = " ".join(lines)
    return Message(text).add(Section(people_text(text)))


def admin_added(user_id: str, newly: bool) -> Message:
    text = (f":white_check_mark: <@{user_id}> is now an admin of Scrutineer in this workspace."
            if newly else f"<@{user_id}> is already an admin here: nothing changed.")
    return Message(text).add(Section(text))


def admin_removed(user_id: str, removed: bool) -> Message:
    text = (f":white_check_mark: <@{user_id}> is no longer an admin named here (kept in the history)."
            if removed else f"<@{user_id}> wasn't named an admin here, so nothing changed. Workspace admins and "
                            "owners in Slack, and those in SCRUTINEER_ADMINS, stay admins.")
    return Message(text).add(Section(text))


def admins_list(named: list, from_env: list[str]) -> Message:
    lines = ["*Admins of Scrutineer here*: the workspace's admins and owners in Slack, and"]
    if named:
        lines += [f"• <@{a.user_id}> — named by <@{a.added_by}>" for a in named]
    else:
        lines.append("• nobody named yet: `/scrutiny admin add @someone`")
    if from_env:
        lines.append("Also, from SCRUTINEER_ADMINS: " + ", ".join(f"<@{u}>" for u in from_env))
    text = "\n".join(lines)
    return Message("Admins of Scrutineer here").add(Section(text))


ADMIN_USAGE = ("Name an admin with `/scrutiny admin add @someone`; remove one with `/scrutiny admin remove "
               "@someone`; see them with `/scrutiny admin list`.")
