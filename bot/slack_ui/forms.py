"""Modal views (forms), and reading their submitted values."""
from __future__ import annotations

from datetime import date

from bot.core.errors import UserError
from bot.core.status import RAGS, STATUSES
from bot.slack_ui.blocks import clip, people_text
from bot.slack_ui.metadata import UpdateForm
from models.tables import Item

UPDATE_CALLBACK = "update_item"


def _option(value: str, label: str | None = None) -> dict:
    return {"text": {"type": "plain_text", "text": clip(label or value.capitalize(), 75)}, "value": value}


def update_form(item: Item, meta: UpdateForm) -> dict:
    role_names = "; ".join(o.role.name for o in item.owners if o.role.kind != "person")
    people = [h.user_id for o in item.owners if o.role.kind == "person" for h in o.role.current_holders if h.user_id]
    status_select = {"type": "static_select", "action_id": "value",
                     "options": [_option(s) for s in STATUSES], "initial_option": _option(item.status)}
    rag_options = [_option("auto", "Automatic (from due date)")] + [_option(r) for r in RAGS]
    rag_select = {"type": "static_select", "action_id": "value", "options": rag_options,
                  "initial_option": _option(item.rag_override) if item.rag_override else rag_options[0]}
    due_picker: dict = {"type": "datepicker", "action_id": "value"}
    if item.due:
        due_picker["initial_date"] = item.due.isoformat()
    owners_input: dict = {"type": "plain_text_input", "action_id": "value",
                          "placeholder": {"type": "plain_text", "text": "Cabinet Member; Chairman of the ESCB"}}
    if role_names:
        owners_input["initial_value"] = role_names
    people_select: dict = {"type": "multi_users_select", "action_id": "value"}
    if people:
        people_select["initial_users"] = people
    reason: dict = {"type": "plain_text_input", "action_id": "value"}
    if item.rag_reason:
        reason["initial_value"] = item.rag_reason

    def block(block_id, label, element, optional=True, hint=None):
        b = {"type": "input", "block_id": block_id, "optional": optional,
             "label": {"type": "plain_text", "text": label}, "element": element}
        if hint:
            b["hint"] = {"type": "plain_text", "text": hint}
        return b

    return {
        "type": "modal",
        "callback_id": UPDATE_CALLBACK,
        "private_metadata": meta.dumps(),
        "title": {"type": "plain_text", "text": clip(f"Update {item.ref}", 24)},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": clip(f"*{item.full_ref}* {people_text(item.text)}", 3000)}},
            block("position", "New position",
                  {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 3000,
                   "placeholder": {"type": "plain_text", "text": "What has happened since the last position?"}},
                  hint="Recorded with today's date. Earlier positions are kept."),
            block("status", "Status", status_select, optional=False),
            block("due", "Due date", due_picker, hint="Leave empty for no due date."),
            block("owners", "Owning roles", owners_input, hint="Separate several with ;"),
            block("people", "Owned directly by", people_select),
            block("rag", "RAG", rag_select, optional=False),
            block("rag_reason", "Reason for a RAG set by hand", reason),
        ],
    }


def submitted(values: dict, block_id: str):
    """The value of one input of a submitted view, whatever its element type."""
    el = (values.get(block_id) or {}).get("value") or {}
    kind = el.get("type")
    if kind == "static_select":
        return (el.get("selected_option") or {}).get("value")
    if kind == "datepicker":
        picked = el.get("selected_date")
        if not picked:
            return None
        try:
            return date.fromisoformat(picked)
        except (TypeError, ValueError):   # a tampered or broken picker value, e.g. 2024-02-30
            raise UserError("That isn't a date on the calendar: pick it again.") from None
    if kind == "multi_users_select":
        return el.get("selected_users") or []
    return el.get("value")
