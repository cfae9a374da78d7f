"""Uploading a file (a paper, a chart) to the channel a person asked in, with files upload v2:
one place that turns Slack's refusals into a polite line saying what to do."""
from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.core.errors import UserError

log = logging.getLogger("scrutineer.export")

_NOT_HERE = ("not_in_channel", "channel_not_found")
_NO_SCOPE = ("missing_scope", "not_allowed_token_type", "no_permission")


def slack_error(e: SlackApiError) -> str:
    """Slack's error code for a failed call ("not_in_channel"), or what the HTTP status says."""
    try:
        data = e.response.data if e.response is not None else None
    except Exception:
        data = None
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])[:60]
    status = getattr(e.response, "status_code", None)
    return f"HTTP {status}" if status else "an error"


async def upload_to_channel(client, channel_id: str, what: str, **upload) -> None:
    """files_upload_v2 to the channel; raises UserError (one line: why, and what to do) when
    Slack refuses it or can't be reached. `what` names the thing: "file", "chart"."""
    try:
        await client.files_upload_v2(channel=channel_id, **upload)
    except SlackApiError as e:
        error = slack_error(e)
        log.warning("%s upload to %s failed: %s", what, channel_id, error)
        if error in _NOT_HERE:
            hint = " Invite me to this channel first (`/invite @Scrutineer`), then try again."
        elif error in _NO_SCOPE:
            hint = " An admin needs to give the app the `files:write` scope (see manifest.yml)."
        else:
            hint = " Please try again in a minute."
        raise UserError(f"Slack wouldn't take the {what} ({error}).{hint}") from e
    except (aiohttp.ClientError, asyncio.TimeoutError) as e:
        log.warning("%s upload to %s failed: %r", what, channel_id, e)
        raise UserError(f"I couldn't reach Slack to upload the {what}. Please try again in a minute.") from e
