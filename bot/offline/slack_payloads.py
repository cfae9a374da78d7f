"""The request bodies Slack sends to an app, built exactly as Slack builds them.

Used by the tests and by the offline console, which feeds these bodies to the
real Bolt app, so the shapes here follow what Slack actually sends (checked
against Slack's payload reference and bolt-python's own test fixtures):

* slash commands: a flat ``application/x-www-form-urlencoded`` form;
* interactivity (``block_actions``, ``view_submission``): a form with a single
  ``payload`` field holding JSON;
* Events API: a JSON ``event_callback`` envelope.

``sign`` produces the ``X-Slack-Signature`` headers so that Bolt's request
verification runs for real rather than being switched off.
"""
from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import hmac
import json
import secrets
import time
from typing import Any, Iterable, Iterator
from urllib.parse import urlencode

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

DEFAULT_APP_ID = "A0SCRUTINEER"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
# The legacy verification token. Bolt ignores it unless configured to check it,
# but Slack still sends one, so we do too.
VERIFICATION_TOKEN = "local-verification-token"

__all__ = [
    "FORM", "JSON", "DEFAULT_APP_ID", "BOT_USER_ID", "BOT_ID", "VERIFICATION_TOKEN",
    "sign", "new_trigger_id", "slash_command_body", "block_actions_body",
    "view_submission_body", "event_body", "input_values_from_view", "find_element",
]


# --------------------------------------------------------------------------- signing

def sign(
    body: str,
    signing_secret: str,
    timestamp: int | None = None,
    *,
    content_type: str = FORM,
) -> dict[str, str]:
    """Headers Slack would send with ``body``: timestamp, v0 signature, content type.

    The signature is ``v0=hex(hmac_sha256(secret, "v0:{ts}:{body}"))``, the
    scheme ``slack_sdk.signature.SignatureVerifier`` checks. ``timestamp``
    defaults to now; Bolt rejects requests more than five minutes old.
    """
    ts = int(time.time()) if timestamp is None else int(timestamp)
    base = f"v0:{ts}:{body}".encode("utf-8")
    digest = hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": content_type,
    }


def new_trigger_id() -> str:
    """A fresh trigger id in Slack's ``<digits>.<digits>.<hex>`` shape.

    Trigger ids are single use (views.open answers ``exchanged_trigger_id`` on
    reuse), so every body gets a new one unless the caller pins it.
    """
    return f"{secrets.randbelow(10**13):013d}.{secrets.randbelow(10**13):013d}.{secrets.token_hex(16)}"


def _action_ts() -> str:
    return f"{time.time():.6f}"


# --------------------------------------------------------------------- slash commands

def slash_command_body(
    command: str,
    text: str,
    *,
    user_id: str,
    team_id: str,
    channel_id: str,
    channel_name: str = "general",
    user_name: str = "user",
    response_url: str,
    trigger_id: str | None = None,
    team_domain: str = "council",
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
) -> str:
    """The urlencoded form Slack posts for a slash command, fields in Slack's order."""
    fields: list[tuple[str, str]] = [
        ("token", VERIFICATION_TOKEN),
        ("team_id", team_id),
        ("team_domain", team_domain),
    ]
    if enterprise_id is not None:
        # Only present for workspaces inside an Enterprise Grid org.
        fields.append(("enterprise_id", enterprise_id))
        fields.append(("enterprise_name", enterprise_name or enterprise_id))
    fields += [
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", user_id),
        ("user_name", user_name),
        ("command", command),
        ("text", text),
        ("api_app_id", api_app_id),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", trigger_id or new_trigger_id()),
    ]
    return urlencode(fields)


# ---------------------------------------------------------------------- interactivity

def _payload_form(payload: dict) -> str:
    # Interactivity bodies are a form with one field, "payload", holding JSON.
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def _user(user_id: str, user_name: str, team_id: str) -> dict:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def _team(team_id: str, team_domain: str, enterprise_id: str | None) -> dict:
    team = {"id": team_id, "domain": team_domain}
    if enterprise_id is not None:
        team["enterprise_id"] = enterprise_id
    return team


def _interactive_elements(blocks: Iterable[dict]) -> Iterator[tuple[dict, dict]]:
    """(block, element) for every interactive element: input elements,
    section accessories and the elements of actions blocks."""
    for block in blocks or ():
        kind = block.get("type")
        if kind == "input" and isinstance(block.get("element"), dict):
            yield block, block["element"]
        elif kind == "section" and isinstance(block.get("accessory"), dict):
            yield block, block["accessory"]
        elif kind == "actions":
            for element in block.get("elements") or ():
                yield block, element


def find_element(blocks: Iterable[dict], action_id: str, block_id: str | None = None) -> tuple[dict, dict] | None:
    """The (block, element) carrying ``action_id`` (and ``block_id`` if given), or None."""
    for block, element in _interactive_elements(blocks):
        if element.get("action_id") == action_id and (block_id is None or block.get("block_id") == block_id):
            return block, element
    return None


def _all_options(element: dict) -> list[dict]:
    options = list(element.get("options") or ())
    for group in element.get("option_groups") or ():
        options.extend(group.get("options") or ())
    return options


def _option_for(element: dict, answer: Any) -> dict:
    """The option object Slack reports for a chosen value (a value string or an option dict)."""
    if isinstance(answer, dict):
        return copy.deepcopy(answer)
    for option in _all_options(element):
        if option.get("value") == answer:
            return copy.deepcopy(option)
    if element.get("type", "").endswith("external_select"):
        # External selects have no options to look up; Slack echoes what was picked.
        return {"text": {"type": "plain_text", "text": str(answer)}, "value": str(answer)}
    known = [o.get("value") for o in _all_options(element)]
    raise ValueError(f"{answer!r} is not an option of {element.get('action_id')!r}; options are {known}")


def block_actions_body(
    *,
    action_id: str,
    value: Any,
    user_id: str,
    team_id: str,
    channel_id: str | None,
    response_url: str | None,
    trigger_id: str,
    block_id: str | None = None,
    message: dict | None = None,
    view: dict | None = None,
    container: dict | None = None,
    text: str | None = None,
    user_name: str = "user",
    channel_name: str = "general",
    team_domain: str = "council",
    enterprise_id: str | None = None,
    message_ts: str | None = None,
    state: dict | None = None,
    api_app_id: str = DEFAULT_APP_ID,
) -> str:
    """The ``payload=`` form Slack posts when a user clicks a button (or picks from a menu).

    When ``message`` or ``view`` is given and holds the element, the action is
    described from that element (its type, label, style and block id), as Slack
    does; ``value`` is then the button value, or the chosen option value / user
    / date for select menus and pickers. Otherwise it is a button with
    ``block_id`` (default ``"b"``) and label ``text`` (default: the value).

    ``container`` defaults to the view (``{"type": "view", "view_id": ...}``)
    or the message it came from; with neither, to an ephemeral message, which
    is the case where Slack sends no ``message`` field.
    """
    source = view if view is not None else message or {}
    found = find_element(source.get("blocks") or (), action_id, block_id)
    element: dict = found[1] if found else {"type": "button", "action_id": action_id}
    if found and block_id is None:
        block_id = found[0].get("block_id")
    action = _action_from_element(element, block_id or "b", value, text)

    if container is None:
        if view is not None:
            container = {"type": "view", "view_id": view.get("id")}
        else:
            container = {
                "type": "message",
                "message_ts": (message or {}).get("ts") or message_ts,
                "channel_id": channel_id,
                "is_ephemeral": message is None,
            }

    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id,
        "team": _team(team_id, team_domain, enterprise_id),
        "enterprise": {"id": enterprise_id, "name": enterprise_id} if enterprise_id else None,
        "is_enterprise_install": False,
    }
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": channel_name}
    if message is not None:
        payload["message"] = copy.deepcopy(message)
    if view is not None:
        payload["view"] = copy.deepcopy(view)
    if state is not None:
        payload["state"] = {"values": state}
    if response_url is not None:
        payload["response_url"] = response_url
    payload["actions"] = [action]
    return _payload_form(payload)


def _action_from_element(element: dict, block_id: str, value: Any, text: str | None) -> dict:
    kind = element.get("type", "button")
    action: dict[str, Any] = {"type": kind, "action_id": element.get("action_id"), "block_id": block_id}
    if kind == "button":
        label = text if text is not None else (element.get("text") or {}).get("text", str(value))
        action["text"] = {"type": "plain_text", "text": label, "emoji": True}
        action["value"] = value
        if element.get("style"):
            action["style"] = element["style"]
    elif kind in ("static_select", "external_select", "radio_buttons", "overflow"):
        action["selected_option"] = _option_for(element, value)
    elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        values = value if isinstance(value, (list, tuple)) else [value]
        action["selected_options"] = [_option_for(element, v) for v in values]
    else:
        key, multi = _STATE_KEYS.get(kind, ("value", False))
        action[key] = _scalar_answer(kind, value, multi)
    action["action_ts"] = _action_ts()
    return action


def view_submission_body(
    *,
    view: dict,
    values: dict,
    user_id: str,
    team_id: str,
    trigger_id: str | None = None,
    user_name: str = "user",
    team_domain: str = "council",
    enterprise_id: str | None = None,
    api_app_id: str | None = None,
) -> str:
    """The ``payload=`` form Slack posts when a modal is submitted.

    ``view`` should be the view as Slack returned it from views.open / push /
    update (with ``id``, ``hash``, generated block ids ...); ``values`` is the
    ``state.values`` mapping, e.g. from :func:`input_values_from_view`.
    """
    submitted = copy.deepcopy(view)
    submitted["state"] = {"values": copy.deepcopy(values)}
    payload = {
        "type": "view_submission",
        "team": _team(team_id, team_domain, enterprise_id),
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id or view.get("app_id") or DEFAULT_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": {"id": enterprise_id, "name": enterprise_id} if enterprise_id else None,
    }
    return _payload_form(payload)


# --------------------------------------------------------------------------- events

def event_body(
    event: dict,
    *,
    team_id: str,
    api_app_id: str = DEFAULT_APP_ID,
    event_id: str | None = None,
    event_time: int | None = None,
    bot_user_id: str = BOT_USER_ID,
) -> str:
    """The JSON ``event_callback`` envelope of the Events API around ``event``."""
    body = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_urlsafe(24)}",
    }
    return json.dumps(body, separators=(",", ":"))


# --------------------------------------------------------------------- modal state

# element type -> (state key, is a list) for elements whose state is a plain value.
_STATE_KEYS: dict[str, tuple[str, bool]] = {
    "plain_text_input": ("value", False),
    "email_text_input": ("value", False),
    "url_text_input": ("value", False),
    "number_input": ("value", False),
    "datepicker": ("selected_date", False),
    "timepicker": ("selected_time", False),
    "datetimepicker": ("selected_date_time", False),
    "users_select": ("selected_user", False),
    "multi_users_select": ("selected_users", True),
    "conversations_select": ("selected_conversation", False),
    "multi_conversations_select": ("selected_conversations", True),
    "channels_select": ("selected_channel", False),
    "multi_channels_select": ("selected_channels", True),
}
# The element field holding its initial state, where the name is not initial_<x>.
_INITIAL_KEYS = {
    "plain_text_input": "initial_value",
    "email_text_input": "initial_value",
    "url_text_input": "initial_value",
    "number_input": "initial_value",
    "datepicker": "initial_date",
    "timepicker": "initial_time",
    "datetimepicker": "initial_date_time",
    "users_select": "initial_user",
    "multi_users_select": "initial_users",
    "conversations_select": "initial_conversation",
    "multi_conversations_select": "initial_conversations",
    "channels_select": "initial_channel",
    "multi_channels_select": "initial_channels",
}
_SINGLE_OPTION = {"static_select", "external_select", "radio_buttons"}
_MULTI_OPTION = {"multi_static_select", "multi_external_select", "checkboxes"}


def _scalar_answer(kind: str, answer: Any, multi: bool) -> Any:
    if answer is None:
        return [] if multi else None
    if multi:
        return list(answer) if isinstance(answer, (list, tuple, set)) else [answer]
    if kind == "datepicker" and isinstance(answer, (_dt.date, _dt.datetime)):
        return answer.strftime("%Y-%m-%d")
    if kind == "timepicker" and isinstance(answer, (_dt.time, _dt.datetime)):
        return answer.strftime("%H:%M")
    if kind == "datetimepicker":
        return int(answer.timestamp()) if isinstance(answer, _dt.datetime) else int(answer)
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        return str(answer)  # Slack reports text and numbers alike as strings
    return answer


def _rich_text(answer: Any) -> Any:
    if answer is None or isinstance(answer, dict):
        return answer
    return {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": str(answer)}]}],
    }


def _element_state(element: dict, answered: bool, answer: Any) -> dict | None:
    kind = element.get("type")
    state: dict[str, Any] = {"type": kind}
    if kind in _STATE_KEYS:
        key, multi = _STATE_KEYS[kind]
        state[key] = _scalar_answer(kind, answer if answered else element.get(_INITIAL_KEYS[kind]), multi)
    elif kind in _SINGLE_OPTION:
        if answered:
            state["selected_option"] = None if answer is None else _option_for(element, answer)
        else:
            state["selected_option"] = copy.deepcopy(element.get("initial_option"))
    elif kind in _MULTI_OPTION:
        if answered:
            answers = [] if answer is None else answer if isinstance(answer, (list, tuple)) else [answer]
            state["selected_options"] = [_option_for(element, a) for a in answers]
        else:
            state["selected_options"] = copy.deepcopy(element.get("initial_options") or [])
    elif kind == "file_input":  # answer: file objects as Slack reports them ({id, name, url_private_download, ...})
        state["files"] = copy.deepcopy(list(answer or [])) if answered else []
    elif kind == "rich_text_input":
        state["rich_text_value"] = _rich_text(answer if answered else element.get("initial_value"))
    else:
        return None  # buttons, overflow menus, images: no state
    return state


def input_values_from_view(view: dict, answers: dict[tuple[str, str], Any] | None = None) -> dict:
    """``state.values`` for a modal as Slack would report it on submission.

    ``answers`` maps ``(block_id, action_id)`` to what the user entered: a
    string for text inputs, an option value (or option dict) for selects,
    a ``date`` or ``"YYYY-MM-DD"`` for date pickers, user ids for user selects,
    lists for multi-selects. Unanswered elements keep their initial value
    (``None`` / ``[]`` when they have none), as Slack reports untouched fields.

    Like Slack since 2020, state covers every stateful element: input blocks,
    section accessories and actions blocks. Raises ValueError for an answer
    that matches no element, or an option value the element does not offer,
    so a typo in a test cannot silently submit an empty field.
    """
    answers = dict(answers or {})
    values: dict[str, dict] = {}
    for block, element in _interactive_elements(view.get("blocks") or ()):
        block_id, action_id = block.get("block_id"), element.get("action_id")
        if block_id is None or action_id is None:
            continue  # Slack fills these in; a view not returned by Slack may lack them
        key = (block_id, action_id)
        answered = key in answers
        state = _element_state(element, answered, answers.pop(key, None))
        if state is not None:
            values.setdefault(block_id, {})[action_id] = state
        elif answered:
            raise ValueError(f"{key} is a {element.get('type')}, which has no state to answer")
    if answers:
        available = [(b, a) for b, actions in values.items() for a in actions]
        raise ValueError(f"no element for answers {sorted(answers)}; the view has {available}")
    return values
