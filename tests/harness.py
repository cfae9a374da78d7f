"""Drive the real app the way Slack does: signed HTTP requests in, Web API calls out.

The app runs as `scrutineer serve` would (aiohttp, POST /slack/events) on a loopback
port; its Slack client points at a LocalSlack fake that records every call. Replies
to slash commands arrive at the fake's response_url and are read from there."""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web

from bot.app import build_app
from bot.config import Settings
from bot.db import Database
from bot.offline import slack_payloads as payloads
from bot.offline.local_slack import Call, LocalSlack
from bot.server import web_app

SECRET = "test-signing-secret"


def visible_text(blocks) -> str:
    """Every mrkdwn and plain_text piece in blocks (a message's or a view's), as one string."""
    out = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
                out.append(node["text"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(blocks)
    return "\n".join(out)


@dataclass
class Reply:
    """What the person saw: the text fallback and the blocks."""
    call: Call

    @property
    def text(self) -> str:
        return self.call.args.get("text") or ""

    @property
    def blocks(self) -> list[dict]:
        return self.call.args.get("blocks") or []

    @property
    def visible(self) -> str:
        """Every piece of text in the blocks, as one string."""
        return visible_text(self.blocks)

    def buttons(self) -> list[dict]:
        found = []
        for block in self.blocks:
            if block.get("type") == "actions":
                found += [e for e in block["elements"] if e.get("type") == "button"]
            acc = block.get("accessory")
            if acc and acc.get("type") == "button":
                found.append(acc)
        return found

    def button(self, label_start: str) -> dict:
        for b in self.buttons():
            if b["text"]["text"].startswith(label_start):
                return b
        raise AssertionError(f"no button {label_start!r} in {[b['text']['text'] for b in self.buttons()]}")

    @property
    def ephemeral(self) -> bool:
        return self.call.args.get("response_type", "ephemeral") == "ephemeral"


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Harness:
    def __init__(self, slack: LocalSlack, database_url: str, clock: Clock, admins=frozenset()):
        self.slack = slack
        self.clock = clock
        self.settings = Settings.from_env({}, database_url=database_url, bot_token="xoxb-test",
                                          signing_secret=SECRET, slack_api_url=slack.api_url,
                                          admins=frozenset(admins))
        self.db = Database(self.settings.database_url)
        self.acks: dict[str, Call] = {}   # response_url key -> a command's answer carried in its ack

    async def start(self) -> None:
        await self.db.upgrade()
        self.app, self.deps = build_app(self.settings, self.db, clock=self.clock)
        self.runner = web.AppRunner(web_app(self.app, self.db, signing_secret=self.settings.signing_secret,
                                           clock=self.clock))
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.http = aiohttp.ClientSession()

    async def stop(self) -> None:
        await self.http.close()
        await self.runner.cleanup()
        await self.db.dispose()

    async def post(self, body: str, *, content_type=payloads.FORM, headers: dict | None = None,
                   timestamp: int | None = None, secret: str = SECRET) -> tuple[int, str]:
        signed = payloads.sign(body, secret, timestamp, content_type=content_type)
        signed.update(headers or {})
        async with self.http.post(self.url + "/slack/events", data=body.encode(), headers=signed) as resp:
            status, text = resp.status, await resp.text()
        self._keep_answer(body, content_type, status, text)
        return status, text

    def _keep_answer(self, body: str, content_type: str, status: int, text: str) -> None:
        """A command answered in its acknowledgement: keep the answer under its response_url
        key, where reply() finds it as it would a post to that URL."""
        if status != 200 or content_type != payloads.FORM or not text.strip().startswith("{"):
            return
        answer = json.loads(text)
        url = (parse_qs(body).get("response_url") or [""])[0]
        if url and (answer.get("text") or answer.get("blocks")):
            key = url.rsplit("/", 1)[-1]
            self.acks[key] = Call(method="ack", args=answer, token=None, at=time.monotonic(), path=key)

    async def command(self, command: str, text: str = "", *, user: str, channel: str, team: str = "T1",
                      expect_reply: bool = True) -> Reply | None:
        """Type a slash command; return the private reply (in the acknowledgement, or
        failing that posted to the response_url)."""
        key = uuid.uuid4().hex
        body = payloads.slash_command_body(command, text, user_id=user, team_id=team, channel_id=channel,
                                           response_url=self.slack.response_url(key))
        status, _ = await self.post(body)
        assert status == 200, f"{command} {text!r} got HTTP {status}"
        if not expect_reply:
            return None
        return await self.reply(key)

    async def reply(self, key: str, timeout: float = 5.0) -> Reply:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if key in self.acks:
                return Reply(self.acks[key])
            for call in self.slack.calls_to("response_url"):
                if call.path == key:
                    return Reply(call)
            await asyncio.sleep(0.01)
        raise AssertionError(f"no reply at response_url {key}:\n{self.slack.describe_calls()}")

    async def press(self, button: dict, *, user: str, channel: str, team: str = "T1",
                    message: Reply | None = None) -> str:
        """Press a button; returns the response_url key its answer (if any) goes to."""
        key = uuid.uuid4().hex
        body = payloads.block_actions_body(
            action_id=button["action_id"], value=button.get("value", ""), user_id=user, team_id=team,
            channel_id=channel, response_url=self.slack.response_url(key), trigger_id=payloads.new_trigger_id(),
            message={"type": "message", "ts": "1700000000.000001", "blocks": message.blocks} if message else None,
            text=button["text"]["text"])
        status, _ = await self.post(body)
        assert status == 200
        return key

    async def submit(self, view: dict, answers: dict, *, user: str, team: str = "T1") -> tuple[int, dict | None]:
        """Submit a modal as returned by views.open; returns (status, JSON body if any)."""
        values = payloads.input_values_from_view(view, answers)
        body = payloads.view_submission_body(view=view, values=values, user_id=user, team_id=team)
        status, text = await self.post(body)
        return status, (json.loads(text) if text.strip().startswith("{") else None)

    async def opened_view(self, count: int = 1) -> dict:
        calls = await self.slack.wait_for("views.open", count)
        return calls[count - 1].response["view"]

    async def settle(self, delay: float = 0.15) -> None:
        """Let background listener work finish (the HTTP answer comes at ack)."""
        await asyncio.sleep(delay)
