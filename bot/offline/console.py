"""`scrutineer console`: Scrutineer without Slack.

A person types the same slash commands and sees the replies as text. Underneath it is
the real Bolt app and handlers: each line becomes a signed request shaped exactly as
Slack sends it, and the app's Web API calls go to a local stand-in for Slack
(bot.offline.local_slack) whose recorded calls are printed here."""
from __future__ import annotations

import asyncio
import json
import re
import secrets
import sys
from dataclasses import dataclass, field
from datetime import timedelta

from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import build_app, utc_now
from bot.config import Settings
from bot.db import Database
from bot.offline import slack_payloads as payloads
from bot.offline.local_slack import Call, LocalSlack
from bot.scheduled import build_worker

EMOJI = {":red_circle:": "🔴", ":large_orange_circle:": "🟠", ":large_green_circle:": "🟢",
         ":white_circle:": "⚪", ":white_check_mark:": "✅", ":warning:": "⚠️", ":tada:": "🎉"}
CONSOLE_HELP = """Type a slash command as in Slack, e.g. /actions overdue, /position rec-10, /update rec-10 status in progress.
  :user NAME      act as another person (:users lists them)     :channel NAME   type in another channel (:channels)
  1, 2, …         press the numbered button in the last reply   :quit           leave"""


@dataclass
class Person:
    user_id: str
    name: str


@dataclass
class Session:
    users: dict[str, Person]
    channels: dict[str, str]           # name -> channel id
    user: Person
    channel: str
    team_id: str
    buttons: list[tuple[dict, dict, Call]] = field(default_factory=list)  # (element, block, call)


def render_mrkdwn(text: str, names: dict[str, str]) -> str:
    text = re.sub(r"<@([A-Z0-9]+)(?:\|[^>]*)?>", lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    text = re.sub(r"<#([A-Z0-9]+)\|([^>]*)>", r"#\2", text)
    text = re.sub(r"<([^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    for code, symbol in EMOJI.items():
        text = text.replace(code, symbol)
    # Bold and italic markers read as noise on a terminal.
    text = re.sub(r"(?<![\w*])\*(\S[^*\n]*?)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_(\S[^_\n]*?)_(?![\w_])", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render_blocks(blocks: list[dict], names: dict[str, str], buttons: list, call: Call) -> list[str]:
    """Block Kit as readable text; buttons numbered so they can be pressed."""
    out: list[str] = []

    def button(el, block):
        buttons.append((el, block, call))
        return f"[{len(buttons)}] {el.get('text', {}).get('text', 'button')}"

    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            out += ["", title.upper(), "─" * min(len(title), 60)]
        elif kind == "section":
            if block.get("text"):
                out.append(render_mrkdwn(block["text"]["text"], names))
            for f in block.get("fields", []):
                out.append("  " + render_mrkdwn(f["text"], names).replace("\n", ": ", 1))
            acc = block.get("accessory")
            if acc and acc.get("type") == "button":
                out.append("    " + button(acc, block))
        elif kind == "context":
            out.append("  " + " ".join(render_mrkdwn(e.get("text", ""), names) for e in block.get("elements", [])))
        elif kind == "divider":
            out.append("─" * 40)
        elif kind == "actions":
            out.append("  ".join(button(el, block) for el in block.get("elements", []) if el.get("type") == "button"))
        elif kind == "input":
            out.append(f"  {block['label']['text']}{' (optional)' if block.get('optional') else ''}")
    return out


class Console:
    def __init__(self, settings: Settings, demo: bool, user: str | None = None, channel: str | None = None):
        self.settings = settings
        self.demo = demo
        self.first_user, self.first_channel = user, channel
        self.slack = LocalSlack(team_id="T0ESSEX" if demo else "T0LOCAL", team_name="Essex County Council")
        self.printed = 0
        self.out = sys.stdout

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    async def start(self) -> Session:
        from bot.core import dates
        from bot.offline.demo import CHANNELS, TEAM, USERS, load_demo

        await self.slack.start()
        secret = secrets.token_hex(16)
        self.secret = secret
        self.settings = Settings(**{**self.settings.__dict__, "bot_token": "xoxb-console", "signing_secret": secret,
                                    "slack_api_url": self.slack.api_url})
        self.db = Database(self.settings.database_url)
        await self.db.upgrade()
        dates.warm()
        # Each dispatch returns once the handler has finished (the app runs listeners before
        # answering), so every reply has arrived before the next prompt.
        self.app, self.deps = build_app(self.settings, self.db)
        # Digests, letters and reminders go out through the outbox, as in production; the
        # console runs one round of the worker after each line instead of every few seconds.
        self.worker = build_worker(self.settings, self.db, utc_now, interval=0, reminders_every=timedelta(0))
        self.worker.dispatcher.per_channel = 0.0
        if self.demo:
            users = {uid: Person(uid, name) for uid, (name, _admin) in USERS.items()}
            for uid, (name, admin) in USERS.items():
                self.slack.add_user(uid, name.split(" ")[0].lower(), real_name=name, is_admin=admin, team_id=TEAM)
            channels = {}
            for code, (cid, cname, private) in CHANNELS.items():
                members = list(USERS) if not private else ["U0GRAHAM", "U0PETER", "U0MARGARET"]
                self.slack.add_channel(cid, cname, is_private=private, members=members, team_id=TEAM)
                channels[cname] = cid
            async with self.db.session() as s, s.begin():
                await load_demo(s, utc_now())
            session = Session(users, channels, users["U0GRAHAM"], "C0CYP", TEAM)
        else:
            me = Person("U0YOU", "you")
            self.slack.add_user(me.user_id, "you", real_name="You", is_admin=True, team_id="T0LOCAL")
            self.slack.add_channel("C0GENERAL", "general", members=[me.user_id], team_id="T0LOCAL")
            session = Session({me.user_id: me}, {"general": "C0GENERAL"}, me, "C0GENERAL", "T0LOCAL")
        return session

    def channel_name(self, session: Session) -> str:
        return next((n for n, c in session.channels.items() if c == session.channel), session.channel)

    async def dispatch(self, body: str, content_type=payloads.FORM) -> None:
        headers = payloads.sign(body, self.secret, content_type=content_type)
        request = AsyncBoltRequest(body=body, headers={k.lower(): [v] for k, v in headers.items()})
        response = await self.app.async_dispatch(request)
        if response.status == 200 and (response.body or "").startswith("{") and '"blocks"' in response.body:
            self.slack.record_ack(json.loads(response.body))   # a command's answer, shown like any other
        elif response.status >= 400:
            self.say(f"(the app answered HTTP {response.status}: {response.body})")
        elif response.body and response.body.startswith("{") and "errors" in response.body:
            self.say(f"(the form was not accepted: {response.body})")

    async def command(self, session: Session, line: str) -> None:
        command, _, text = line.partition(" ")
        text = self.escape_mentions(session, text)
        body = payloads.slash_command_body(
            command, text, user_id=session.user.user_id, user_name=session.user.name, team_id=session.team_id,
            channel_id=session.channel, channel_name=self.channel_name(session),
            response_url=self.slack.response_url())
        await self.dispatch(body)

    def escape_mentions(self, session: Session, text: str) -> str:
        """Type @graham as in Slack; Slack would send <@U0GRAHAM|graham>."""
        by_name = {p.name.split(" ")[0].lower(): p for p in session.users.values()}

        def sub(m):
            person = by_name.get(m.group(1).lower())
            return f"<@{person.user_id}|{m.group(1)}>" if person else m.group(0)
        return re.sub(r"(?<![<\w])@([A-Za-z][\w.-]*)", sub, text)

    async def press(self, session: Session, number: int) -> None:
        if not 1 <= number <= len(session.buttons):
            self.say("There's no button with that number.")
            return
        element, block, call = session.buttons[number - 1]
        body = payloads.block_actions_body(
            action_id=element["action_id"], value=element.get("value", ""), user_id=session.user.user_id,
            user_name=session.user.name, team_id=session.team_id, channel_id=session.channel,
            response_url=self.slack.response_url(), trigger_id=payloads.new_trigger_id(),
            block_id=block.get("block_id"), text=element.get("text", {}).get("text"),
            message={"type": "message", "blocks": call.args.get("blocks") or [], "ts": "1"})
        await self.dispatch(body)

    async def fill_form(self, session: Session, view: dict, ask) -> None:
        """Ask for each input of a modal, Enter keeping what is there, then submit it."""
        self.say(f"\n== {view['title']['text']} ==   (Enter keeps the value shown; '-' clears it)")
        answers = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            el = block["element"]
            key = (block["block_id"], el["action_id"])
            shown = (el.get("initial_value") or el.get("initial_date") or
                     (el.get("initial_option") or {}).get("value") or ", ".join(el.get("initial_users", [])))
            choices = ""
            if el.get("options"):
                choices = " {" + " | ".join(o["value"] for o in el["options"]) + "}"
            reply = (await ask(f"{block['label']['text']}{choices} [{shown}]: ")).strip()
            if reply == "-":
                answers[key] = None if el["type"] != "multi_users_select" else []
            elif reply:
                if el["type"] == "multi_users_select":
                    text = self.escape_mentions(session, reply)
                    answers[key] = re.findall(r"<@([A-Z0-9]+)", text)
                else:
                    answers[key] = reply
        values = payloads.input_values_from_view(view, answers)
        body = payloads.view_submission_body(view=view, values=values, user_id=session.user.user_id,
                                             user_name=session.user.name, team_id=session.team_id)
        await self.dispatch(body)

    def show_new_calls(self, session: Session) -> list[dict]:
        """Print what the app said since the last prompt; return any forms it opened."""
        forms = []
        names = {p.user_id: p.name.split(" ")[0] for p in session.users.values()}
        new_calls = self.slack.calls[self.printed:]
        self.printed = len(self.slack.calls)
        shown_buttons: list = []
        elsewhere = 0
        channel_names = {cid: name for name, cid in session.channels.items()}
        for call in new_calls:
            if call.method in ("ack", "response_url", "chat.postEphemeral", "chat.postMessage"):
                target = call.args.get("channel")
                if call.method == "chat.postMessage" and target not in (session.channel, session.user.user_id):
                    elsewhere += 1  # someone else's DM or another channel: not on this person's screen
                    continue
                where = "" if call.method != "chat.postMessage" else (
                    "(message from Scrutineer) " if target == session.user.user_id
                    else f"(posted in #{channel_names.get(target, target)}) ")
                blocks = call.args.get("blocks") or []
                lines = render_blocks(blocks, names, shown_buttons, call) if blocks else [
                    render_mrkdwn(call.args.get("text", ""), names)]
                self.say(where + "\n".join(lines).strip("\n"))
                self.say()
            elif call.method in ("views.open", "views.push") and not call.failed:
                forms.append(call.response["view"])
        if elsewhere:
            self.say(f"({elsewhere} message{'s' if elsewhere != 1 else ''} went to other people or channels)")
        if shown_buttons:
            session.buttons = shown_buttons
        return forms

    async def run(self, ask=None) -> None:
        ask = ask or _ask_stdin
        session = await self.start()
        if self.first_user:
            await self.handle(session, f":user {self.first_user}", ask)
        if self.first_channel:
            await self.handle(session, f":channel {self.first_channel}", ask)
        self.say("Scrutineer console — the real app, with a stand-in for Slack. Type :help for help.")
        if self.demo:
            self.say("Demo data loaded: committees cyp, ssc (private) and dscb; try /actions overdue or /position rec-10.")
        try:
            while True:
                where = "a DM" if session.channel.startswith("D") else "#" + self.channel_name(session)
                prompt = f"{session.user.name.split(' ')[0].lower()} in {where}> "
                line = await ask(prompt)
                if line is None:
                    break
                line = line.strip()
                if not line:
                    continue
                if line in (":quit", ":q", "exit", "quit"):
                    break
                await self.handle(session, line, ask)
        finally:
            await self.slack.stop()
            await self.db.dispose()

    async def handle(self, session: Session, line: str, ask) -> None:
        if line.startswith("/"):
            await self.command(session, line)
        elif line.isdigit():
            await self.press(session, int(line))
        elif line.startswith(":user"):
            wanted = line[5:].strip().lstrip("@").lower()
            match = [p for p in session.users.values() if p.name.lower().startswith(wanted) and wanted]
            if match:
                session.user = match[0]
                self.say(f"You are now {match[0].name}.")
            else:
                self.say("Who? " + ", ".join(p.name for p in session.users.values()))
            return
        elif line.startswith(":users"):
            self.say("\n".join(p.name for p in session.users.values()))
            return
        elif line.startswith(":channel"):
            wanted = line[8:].strip().lstrip("#").lower()
            if wanted in session.channels:
                session.channel = session.channels[wanted]
                self.say(f"You are now in #{wanted}.")
            elif wanted in ("dm", "im"):
                session.channel = "D" + session.user.user_id
                self.say("You are now in a direct message with Scrutineer.")
            else:
                self.say("Channels: " + ", ".join("#" + c for c in session.channels) + ", or :channel dm")
            return
        elif line.startswith(":help"):
            self.say(CONSOLE_HELP)
            return
        else:
            self.say("Type a slash command such as /actions, a button number, or :help.")
            return
        await self.worker.step()
        for view in self.show_new_calls(session):
            await self.fill_form(session, view, ask)
            await self.worker.step()
            self.show_new_calls(session)


async def _ask_stdin(prompt: str) -> str | None:
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(None, input, prompt)
    except EOFError:
        return None


def run_console(settings: Settings, demo: bool, user: str | None = None, channel: str | None = None) -> None:
    asyncio.run(Console(settings, demo, user, channel).run())
