"""Ways of answering that several listeners share."""
from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.services.context import Ctx
from bot.slack_ui.blocks import Message


def ephemeral(msg: Message) -> dict:
    """A slash command's private answer, carried in its acknowledgement."""
    return msg.payload(response_type="ephemeral")


def beside(msg: Message) -> dict:
    """A button's private answer, posted below the message the button was on."""
    return msg.payload(response_type="ephemeral", replace_original=False)


async def tell(client, ctx: Ctx, msg: Message) -> None:
    """Say something privately to the person, where they were if we know, else in a DM."""
    if ctx.channel_id:
        try:
            await client.chat_postEphemeral(channel=ctx.channel_id, user=ctx.user_id, **msg.payload())
            return
        except SlackApiError:
            pass
    await client.chat_postMessage(channel=ctx.user_id, **msg.payload())
