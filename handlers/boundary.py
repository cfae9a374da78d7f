"""What a signed request must look like before any listener sees it. Slack's payloads have a
known shape; one that doesn't (a tampered or broken payload) is refused here in one line,
rather than failing somewhere inside a listener with a traceback."""
from __future__ import annotations

import logging

from slack_bolt.response import BoltResponse

from bot.core.text import clean_tree

log = logging.getLogger("scrutineer")


def shape_problem(body: dict) -> str | None:
    """Why this body is not one Slack would send, or None."""
    kind = body.get("type")
    if body.get("command") is not None:
        if not isinstance(body.get("command"), str) or not isinstance(body.get("text", ""), str):
            return "command"
        return None
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions or not all(
                isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
            return "actions"
        if not all(isinstance(a.get("value", ""), str) for a in actions):
            return "action value"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
            return "view"
        state = view.get("state", {"values": {}})
        if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict) or not all(
                isinstance(block, dict) and all(isinstance(v, dict) for v in block.values())
                for block in state.get("values", {}).values()):
            return "view state"
        if not isinstance(view.get("private_metadata", ""), str):
            return "private_metadata"
    if kind == "event_callback" and not isinstance(body.get("event"), dict):
        return "event"
    for key in ("user", "team", "channel"):
        if key in body and not isinstance(body[key], (dict, str, type(None))):
            return key
    return None


async def well_formed(body, next):
    """Refuse a payload of the wrong shape (400, nothing done); clean control characters and
    NUL out of every string in it, so nothing a person typed can break storage or exports."""
    try:
        problem = shape_problem(body)
        cleaned = clean_tree(body)
    except (ValueError, RecursionError):
        problem, cleaned = "nesting", body
    if problem:
        log.warning("Refused a malformed %s payload (%s)", body.get("type") or "command", problem)
        return BoltResponse(status=400, body="")
    if cleaned != body:
        body.clear()
        body.update(cleaned)
    await next()
