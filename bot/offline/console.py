"""`scrutineer console`: Scrutineer without Slack.

A person types the same slash commands and sees the replies as text. Underneath it is
the real Bolt app and handlers: each line becomes a signed request shaped exactly as
Slack sends it, and the app's Web API calls go to a local stand-in for Slack
(bot.offline.local_slack) whose recorded calls are printed here. Forms (modals) are
walked to their end as Slack shows them: each answer to a submission (a new view, the
form's own errors) and each views.update replaces what is on screen."""
from __future__ import annotations

import asyncio
import difflib
import json
import re
import secrets
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

from slack_bolt.lazy_listener.async_internals import to_runnable_function
from slack_bolt.lazy_listener.asyncio_runner import AsyncioLazyListenerRunner
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import build_app, utc_now
from bot.config import Settings
from bot.db import Database
from bot.offline import slack_payloads as payloads
from bot.offline.local_slack import Call, LocalSlack
from bot.scheduled import build_worker

Ask = Callable[[str], Awaitable[str | None]]

EMOJI = {":red_circle:": "🔴", ":large_orange_circle:": "🟠", ":large_green_circle:": "🟢",
         ":large_yellow_circle:": "🟡", ":white_circle:": "⚪", ":white_check_mark:": "✅", ":warning:": "⚠️",
         ":tada:": "🎉", ":hourglass_flowing_sand:": "⏳", ":hourglass:": "⌛", ":calendar:": "📅",
         ":spiral_calendar_pad:": "🗓", ":zzz:": "💤", ":envelope:": "✉️", ":alarm_clock:": "⏰",
         ":memo:": "📝", ":page_facing_up:": "📄", ":bell:": "🔔", ":x:": "❌", ":heavy_check_mark:": "✔️",
         ":information_source:": "ℹ️", ":pushpin:": "📌", ":mag:": "🔍", ":inbox_tray:": "📥",
         ":outbox_tray:": "📤", ":clipboard:": "📋", ":lock:": "🔒", ":wave:": "👋"}
# The manifest's commands, when manifest.yml isn't beside the code (an installed wheel).
KNOWN_COMMANDS = ("/actions", "/position", "/update", "/scrutiny", "/meeting", "/letter", "/indicator")
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
LAZY_TIMEOUT = 120.0   # seconds to wait for the app's work after an answer (reading a paper)
CONSOLE_HELP = """Type a slash command as in Slack, e.g. /actions overdue, /position rec-10, /update rec-10 status in progress.
  1, 2, …         press the numbered button in the last reply   :home           your Home tab
  :user NAME      act as another person                          :users          who there is
  :report [CODE]  the committee's report as text, with its charts written to files
  :inbox          the messages Scrutineer sent you (DMs), newest last; press their buttons
  :channel NAME   type in another channel (:channel dm: a DM)    :channels       the channels
  :quit           leave (or Ctrl-D)
In a form: Enter keeps the value shown, '-' clears it, '<<' starts several lines (end with a line
holding only '.'), and Ctrl-D or 'cancel' closes the form without saving."""


class FormCancelled(Exception):
    """The person closed the form (Ctrl-D, Ctrl-C or 'cancel')."""


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
    # The last reply's buttons: (element, block, the message call or the Home view it came from)
    buttons: list[tuple[dict, dict, Any]] = field(default_factory=list)
    buttons_seen: bool = False         # some reply had buttons, so an old number is refused politely


class _TrackedLazyRunner(AsyncioLazyListenerRunner):
    """Bolt's lazy-listener runner, keeping each task so the console can wait for the app's
    work after an answer (reading a paper, filling in names) before it prompts again."""

    def __init__(self, logger):
        super().__init__(logger)
        self.running: set[asyncio.Future] = set()

    def start(self, function, request) -> None:
        task = asyncio.ensure_future(to_runnable_function(internal_func=function, logger=self.logger,
                                                          request=request))
        self.running.add(task)
        task.add_done_callback(self.running.discard)


def known_commands() -> list[str]:
    try:
        found = re.findall(r"^\s*-\s*command:\s*(/\S+)", MANIFEST.read_text(encoding="utf-8"), re.M)
    except OSError:
        found = []
    return found or list(KNOWN_COMMANDS)


def render_mrkdwn(text: str, names: dict[str, str], channels: dict[str, str] | None = None) -> str:
    """Slack's markup as a terminal shows it: mentions by name, links with their address,
    emoji as symbols, entities as characters; *bold* is kept as it is typed."""
    channels = channels or {}
    text = re.sub(r"<@([A-Z0-9]+)(?:\|([^>]*))?>",
                  lambda m: "@" + (names.get(m.group(1)) or m.group(2) or m.group(1)), text)
    text = re.sub(r"<#([A-Z0-9]+)(?:\|([^>]*))?>",
                  lambda m: "#" + (m.group(2) or channels.get(m.group(1)) or m.group(1)), text)
    text = re.sub(r"<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>", lambda m: m.group(1) or "@group", text)
    text = re.sub(r"<!(here|channel|everyone)(?:\|[^>]*)?>", r"@\1", text)
    text = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]*)>", r"\1", text)
    text = re.sub(r"<((?:https?|mailto):[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"<((?:https?|mailto):[^|>]+)>", r"\1", text)
    text = re.sub(r":[a-z0-9_+-]+:", lambda m: EMOJI.get(m.group(0), m.group(0)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render_blocks(blocks: list[dict], names: dict[str, str], buttons: list | None, source: Any,
                  channels: dict[str, str] | None = None) -> list[str]:
    """Block Kit as readable text; buttons numbered (when `buttons` collects them) so they can be pressed."""
    out: list[str] = []

    def md(text: str) -> str:
        return render_mrkdwn(text, names, channels)

    def button(el, block):
        label = el.get("text", {}).get("text", "button")
        if buttons is None:
            return f"[{label}]"
        buttons.append((el, block, source))
        return f"[{len(buttons)}] {label}"

    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = md(block["text"]["text"])
            out += ["", title.upper(), "─" * min(len(title), 60)]
        elif kind == "section":
            if block.get("text"):
                out.append(md(block["text"]["text"]))
            for f in block.get("fields", []):
                out.append("  " + md(f["text"]).replace("\n", ": ", 1))
            acc = block.get("accessory")
            if acc and acc.get("type") == "button":
                out.append("    " + button(acc, block))
        elif kind == "context":
            out.append("  " + " ".join(md(e.get("text", "")) for e in block.get("elements", [])))
        elif kind == "divider":
            out.append("─" * 40)
        elif kind == "actions":
            out.append("  ".join(button(el, block) for el in block.get("elements", []) if el.get("type") == "button"))
        elif kind == "rich_text":
            out.append(md(_rich_text_plain(block)))
        elif kind == "input":
            out.append(f"  {block['label']['text']}{' (optional)' if block.get('optional') else ''}")
    return out


def _rich_text_plain(node: Any) -> str:
    if isinstance(node, dict):
        if node.get("type") == "text":
            return node.get("text", "")
        if node.get("type") == "user":
            return f"<@{node.get('user_id')}>"
        if node.get("type") == "link":
            return node.get("text") or node.get("url", "")
        return "".join(_rich_text_plain(e) for e in node.get("elements", []))
    return ""


def _options(el: dict) -> list[dict]:
    opts = list(el.get("options") or [])
    for group in el.get("option_groups") or []:
        opts += group.get("options") or []
    return opts


def _option_label(opt: dict) -> str:
    return (opt.get("text") or {}).get("text") or opt.get("value", "")


class Console:
    def __init__(self, settings: Settings, demo: bool, user: str | None = None, channel: str | None = None,
                 files_dir: str | Path | None = None):
        self.settings = settings
        self.demo = demo
        self.first_user, self.first_channel = user, channel
        self.slack = LocalSlack(team_id="T0ESSEX" if demo else "T0LOCAL", team_name="Essex County Council")
        self.printed = 0
        self.out = sys.stdout
        self.files_dir = Path(files_dir) if files_dir else None
        self.commands = known_commands()
        self.lazy: _TrackedLazyRunner | None = None
        self.queued_forms: list[dict] = []

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
        # answering); work the app does after answering (lazy listeners) is waited for too,
        # so every reply has arrived before the next prompt.
        self.app, self.deps = build_app(self.settings, self.db)
        runner = getattr(self.app, "listener_runner", None)
        if runner is not None and hasattr(runner, "lazy_listener_runner"):
            self.lazy = _TrackedLazyRunner(self.app.logger)
            runner.lazy_listener_runner = self.lazy
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
                await load_demo(s, utc_now(), self.settings)
            session = Session(users, channels, users["U0GRAHAM"], "C0CYP", TEAM)
        else:
            me = Person("U0YOU", "you")
            self.slack.add_user(me.user_id, "you", real_name="You", is_admin=True, team_id="T0LOCAL")
            self.slack.add_channel("C0GENERAL", "general", members=[me.user_id], team_id="T0LOCAL")
            session = Session({me.user_id: me}, {"general": "C0GENERAL"}, me, "C0GENERAL", "T0LOCAL")
        return session

    # ---------------------------------------------------------------- talking to the app

    def channel_name(self, session: Session) -> str:
        return next((n for n, c in session.channels.items() if c == session.channel), session.channel)

    def names(self, session: Session) -> dict[str, str]:
        return {p.user_id: p.name.split(" ")[0] for p in session.users.values()}

    def channel_names(self, session: Session) -> dict[str, str]:
        return {cid: name for name, cid in session.channels.items()}

    async def dispatch(self, body: str, content_type=payloads.FORM) -> dict | None:
        """Send a signed request to the app; return its JSON answer (a form's response_action), if any."""
        headers = payloads.sign(body, self.secret, content_type=content_type)
        request = AsyncBoltRequest(body=body, headers={k.lower(): [v] for k, v in headers.items()})
        response = await self.app.async_dispatch(request)
        answer = None
        if response.body and response.body.startswith("{"):
            try:
                answer = json.loads(response.body)
            except ValueError:
                answer = None
        if response.status == 200 and answer and "blocks" in answer:
            self.slack.record_ack(answer)   # a command's answer, shown like any other
        elif response.status == 404:
            self.say("(Scrutineer doesn't handle that.)")
        elif response.status >= 400:
            self.say(f"(Scrutineer couldn't handle that: HTTP {response.status}.)")
        return answer

    async def settle(self) -> None:
        """Wait for what the app does after answering (its lazy listeners)."""
        if self.lazy is None:
            await asyncio.sleep(0.05)
            return
        while self.lazy.running:
            await asyncio.wait(set(self.lazy.running), timeout=LAZY_TIMEOUT)

    async def command(self, session: Session, line: str) -> bool:
        command, _, text = line.partition(" ")
        command = command.lower()
        if command not in self.commands:
            close = difflib.get_close_matches(command, self.commands, n=1, cutoff=0.5)
            self.say(f"There's no {command}" + (f" — did you mean {close[0]}?" if close else ".")
                     + " Commands: " + ", ".join(self.commands))
            return False
        text = self.escape_mentions(session, text)
        body = payloads.slash_command_body(
            command, text, user_id=session.user.user_id, user_name=session.user.name, team_id=session.team_id,
            channel_id=session.channel, channel_name=self.channel_name(session),
            response_url=self.slack.response_url())
        await self.dispatch(body)
        return True

    def escape_mentions(self, session: Session, text: str) -> str:
        """Type @graham as in Slack; Slack would send <@U0GRAHAM|graham>."""
        by_name = {p.name.split(" ")[0].lower(): p for p in session.users.values()}

        def sub(m):
            person = by_name.get(m.group(1).lower())
            return f"<@{person.user_id}|{m.group(1)}>" if person else m.group(0)
        return re.sub(r"(?<![<\w])@([A-Za-z][\w.-]*)", sub, text)

    async def press(self, session: Session, number: int) -> bool:
        if not session.buttons:
            self.say("The last reply has no buttons to press. " + (
                "Buttons of earlier replies can't be pressed any more: run the command again."
                if session.buttons_seen else "Type a command first, e.g. /position rec-10."))
            return False
        if not 1 <= number <= len(session.buttons):
            self.say(f"The last reply has buttons 1 to {len(session.buttons)}; buttons of earlier replies "
                     "can't be pressed any more." if len(session.buttons) > 1 else
                     "The last reply has only button 1; buttons of earlier replies can't be pressed any more.")
            return False
        element, block, source = session.buttons[number - 1]
        common = dict(action_id=element["action_id"], value=element.get("value", ""), user_id=session.user.user_id,
                      user_name=session.user.name, team_id=session.team_id,
                      response_url=self.slack.response_url(), trigger_id=payloads.new_trigger_id(),
                      block_id=block.get("block_id"), text=element.get("text", {}).get("text"))
        if isinstance(source, Call):
            body = payloads.block_actions_body(
                channel_id=session.channel, **common,
                message={"type": "message", "blocks": source.args.get("blocks") or [], "ts": "1"})
        else:   # the Home tab
            body = payloads.block_actions_body(channel_id=None, view=source, **common)
        await self.dispatch(body)
        return True

    async def home(self, session: Session) -> None:
        """Open the Home tab: Slack sends app_home_opened and shows what the app publishes."""
        user = session.user.user_id
        event = {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home",
                 "event_ts": f"{utc_now().timestamp():.6f}"}
        await self.dispatch(payloads.event_body(event, team_id=session.team_id), content_type=payloads.JSON)
        await self.settle()
        view = self.slack.home_views.get(user)
        if view is None:
            self.say("(The Home tab is empty.)")
            return
        buttons: list = []
        lines = render_blocks(view.get("blocks") or [], self.names(session), buttons, view,
                              self.channel_names(session))
        self.say(f"== Home: {session.user.name} ==")
        self.say("\n".join(lines).strip("\n"))
        self.say()
        session.buttons = buttons
        session.buttons_seen = session.buttons_seen or bool(buttons)

    # ---------------------------------------------------------------- forms

    async def run_form(self, session: Session, view: dict, ask: Ask) -> None:
        """Walk a form as Slack shows it until it closes: each submission's answer (a new view,
        the form's own errors) and each views.update the app makes replace what is on screen."""
        stack = [view["id"]]
        shown_hash = None
        errors: dict[str, str] = {}
        answers: dict[tuple[str, str], Any] = {}
        while stack:
            view = self.slack.views.get(stack[-1])
            if view is None:
                return
            if view.get("hash") != shown_hash:
                shown_hash, answers, errors = view.get("hash"), {}, {}
                self.show_view(session, view)
            if not view.get("submit"):
                self.say(f"(End of the form: {((view.get('close') or {}).get('text') or 'Close').lower()}.)\n")
                return
            inputs = [b for b in view.get("blocks") or [] if b.get("type") == "input"]
            try:
                await self.fill_inputs(session, inputs, answers, errors, ask)
                await self.confirm(view, ask)
            except FormCancelled:
                self.say("(Form closed; nothing was sent.)\n")
                return
            except _Again:
                errors = {}
                continue
            values = payloads.input_values_from_view(view, answers)
            body = payloads.view_submission_body(view=view, values=values, user_id=session.user.user_id,
                                                 user_name=session.user.name, team_id=session.team_id)
            answer = await self.dispatch(body) or {}
            action = answer.get("response_action")
            errors = {}
            if action == "errors":
                errors = {k: str(v) for k, v in (answer.get("errors") or {}).items()}
                labels = {b.get("block_id"): b["label"]["text"] for b in inputs}
                self.say("The form wasn't accepted" + (":" if set(errors) - set(labels) else
                                                       "; the form says why beside the field:"))
                for block_id, message in errors.items():   # beside nothing this console asks
                    if block_id not in labels:
                        self.say(f"  ⚠️ {render_mrkdwn(message, self.names(session))}")
                if not any(b in labels for b in errors):
                    errors = {}   # ask every field again
                continue
            if action == "update":
                updated = self.slack._m_views_update({"view_id": view["id"], "view": answer.get("view")})
                if updated.get("ok"):
                    shown_hash = updated["view"]["hash"]
                    self.show_view(session, updated["view"])
            elif action == "push":
                pushed = self.slack._m_views_push({"view": answer.get("view"), "trigger_id": payloads.new_trigger_id()})
                if pushed.get("ok"):
                    stack.append(pushed["view"]["id"])
            elif action == "clear":
                stack.clear()
            else:
                stack.pop()       # an empty answer closes this view
            await self.settle()   # the app's work after answering; its views.update land in self.slack.views
            await self.worker.step()
            self.queued_forms += self.show_new_calls(session)

    def show_view(self, session: Session, view: dict) -> None:
        title = (view.get("title") or {}).get("text") or "Form"
        self.say(f"\n== {title} ==")
        shown = [b for b in view.get("blocks") or [] if b.get("type") != "input"]
        lines = render_blocks(shown, self.names(session), None, view, self.channel_names(session))
        if any(line.strip() for line in lines):
            self.say("\n".join(lines).strip("\n"))
        if view.get("submit") and any(b.get("type") == "input" for b in view.get("blocks") or []):
            self.say("(Enter keeps the value shown; '-' clears it; Ctrl-D or 'cancel' closes the form)")

    async def confirm(self, view: dict, ask: Ask) -> None:
        submit = (view.get("submit") or {}).get("text") or "Submit"
        close = (view.get("close") or {}).get("text") or "Cancel"
        prompt = f"{submit}? Enter to {submit.lower()}, 'edit' to fill it in again, 'cancel' to {close.lower()}: "
        while True:
            word = (await self.read(ask, prompt)).strip().lower()
            if word in ("", "y", "yes", "ok", submit.lower()):
                return
            if word in ("cancel", "c", close.lower(), "close", "no", "n"):
                raise FormCancelled
            if word in ("edit", "e", "again", "back"):
                raise _Again
            self.say(f"  Press Enter to {submit.lower()}, or type edit or cancel.")

    async def read(self, ask: Ask, prompt: str) -> str:
        try:
            reply = await ask(prompt)
        except (KeyboardInterrupt, EOFError):
            reply = None
        if reply is None:
            self.say()
            raise FormCancelled
        return reply

    async def fill_inputs(self, session: Session, inputs: list[dict], answers: dict, errors: dict, ask: Ask) -> None:
        """Ask for each input (only those with an error, after an error), keeping what was typed."""
        for block in inputs:
            if errors and block.get("block_id") not in errors:
                continue
            el = block["element"]
            key = (block["block_id"], el["action_id"])
            error = errors.get(block.get("block_id"))
            while True:
                if error:
                    self.say(f"  ⚠️ {block['label']['text']}: {render_mrkdwn(error, self.names(session))}")
                value, problem = await self.ask_field(session, block, answers.get(key, _UNSET), ask)
                if problem is None:
                    break
                error = problem
            if value is not _UNSET:
                answers[key] = value

    async def ask_field(self, session: Session, block: dict, current: Any, ask: Ask) -> tuple[Any, str | None]:
        """One input: (the answer or _UNSET to keep the value shown, None) or (_, what is wrong)."""
        el = block["element"]
        kind = el.get("type")
        label = block["label"]["text"]
        optional = block.get("optional", False)
        names = self.names(session)
        shown = self.shown_value(el, current, names)
        choices = ""
        if kind in ("static_select", "radio_buttons", "multi_static_select", "checkboxes"):
            choices = " {" + " | ".join(o.get("value", "") for o in _options(el)) + "}"
        multiline = kind == "plain_text_input" and el.get("multiline")
        if multiline and (len(shown) > 60 or "\n" in shown):
            self.say(f"{label}, now:")
            self.say("\n".join("  | " + line for line in shown.splitlines()))
            prompt = f"{label} [Enter keeps it; << for several lines]: "
        else:
            extra = " (<< for several lines)" if multiline else ""
            prompt = f"{label}{choices}{extra} [{shown}]: "
        if kind == "file_input":
            prompt = f"{label} (a file's path on this computer) [{shown}]: "
        reply = (await self.read(ask, prompt)).strip()
        if multiline and reply == "<<":
            lines = []
            while True:
                line = await self.read(ask, "... ")
                if line.strip() == ".":
                    break
                lines.append(line.rstrip("\n"))
            reply = "\n".join(lines).strip("\n")
            if not reply:
                reply = "-"
        if reply.lower() == "cancel":
            raise FormCancelled
        if not reply:
            if not optional and not shown:
                return _UNSET, "Please fill this in: it is required."
            return _UNSET, None
        if reply == "-":
            if not optional:
                return _UNSET, "This one is required: it can't be left empty."
            return ([] if kind in ("multi_users_select", "multi_static_select", "checkboxes", "file_input")
                    else None), None
        if kind == "datepicker":
            return self.read_date(reply)
        if kind in ("static_select", "radio_buttons"):
            return self.read_choice(el, reply)
        if kind in ("multi_static_select", "checkboxes"):
            picked = []
            for part in [p.strip() for p in reply.split(",") if p.strip()]:
                value, problem = self.read_choice(el, part)
                if problem:
                    return _UNSET, problem
                picked.append(value)
            return picked, None
        if kind in ("multi_users_select", "users_select"):
            return self.read_people(session, reply, multi=kind == "multi_users_select")
        if kind == "file_input":
            return self.read_file(reply)
        if el.get("max_length") and len(reply) > el["max_length"]:
            return _UNSET, f"That is {len(reply)} characters; {el['max_length']} at most."
        if el.get("min_length") and len(reply) < el["min_length"]:
            return _UNSET, f"At least {el['min_length']} characters, please."
        return reply, None

    def shown_value(self, el: dict, current: Any, names: dict[str, str]) -> str:
        from bot.core.dates import long_date

        kind = el.get("type")
        if current is _UNSET:
            if kind == "datepicker":
                current = el.get("initial_date")
            elif kind in ("static_select", "radio_buttons"):
                current = (el.get("initial_option") or {}).get("value")
            elif kind in ("multi_static_select", "checkboxes"):
                current = [o.get("value") for o in el.get("initial_options") or []]
            elif kind == "multi_users_select":
                current = el.get("initial_users") or []
            elif kind == "users_select":
                current = el.get("initial_user")
            else:
                current = el.get("initial_value")
        if current is None:
            return ""
        if kind == "datepicker":
            try:
                return long_date(date.fromisoformat(current))
            except (TypeError, ValueError):
                return str(current)
        if kind in ("multi_users_select", "users_select"):
            ids = current if isinstance(current, list) else [current]
            return ", ".join("@" + names.get(u, u) for u in ids)
        if kind == "file_input":
            return ", ".join(f.get("name", "") for f in current)
        if isinstance(current, list):
            return ", ".join(str(c) for c in current)
        return str(current)

    def read_date(self, reply: str) -> tuple[Any, str | None]:
        from bot.core.dates import DATE_EXAMPLES, long_date, parse_date

        try:
            day = date.fromisoformat(reply)
        except ValueError:
            day = parse_date(reply, utc_now().astimezone(self.settings.tz).date(), prefer="future")
        if day is None:
            return _UNSET, f"I can't read “{reply}” as a date. {DATE_EXAMPLES}"
        if reply.lower() != long_date(day).lower():
            self.say(f"  → {long_date(day)}")
        return day.isoformat(), None

    def read_choice(self, el: dict, reply: str) -> tuple[Any, str | None]:
        options = _options(el)
        wanted = reply.strip().lower()
        by_word = {}
        for opt in options:
            by_word[opt.get("value", "").lower()] = opt
            by_word[_option_label(opt).lower()] = opt
        if wanted in by_word:
            return by_word[wanted]["value"], None
        starting = {o["value"] for o in options if o.get("value", "").lower().startswith(wanted)
                    or _option_label(o).lower().startswith(wanted)}
        if len(starting) == 1:
            return starting.pop(), None
        close = difflib.get_close_matches(wanted, list(by_word), n=3, cutoff=0.6)
        suggestions = list(dict.fromkeys(by_word[c]["value"] for c in close))
        listed = ", ".join(o.get("value", "") for o in options)
        if suggestions:
            return _UNSET, f"There's no “{reply}” here — did you mean {' or '.join(suggestions)}? Choose one of: {listed}."
        return _UNSET, f"There's no “{reply}” here. Choose one of: {listed}."

    def read_people(self, session: Session, reply: str, *, multi: bool) -> tuple[Any, str | None]:
        people = {p.name.split(" ")[0].lower(): p for p in session.users.values()}
        found, unknown = [], []
        for word in [w.strip().lstrip("@") for w in re.split(r"[,\s]+", reply) if w.strip()]:
            match = people.get(word.lower()) or next(
                (p for n, p in people.items() if n.startswith(word.lower())), None)
            if match is None:
                unknown.append(word)
            elif match.user_id not in found:
                found.append(match.user_id)
        if unknown:
            return _UNSET, (f"I don't know {', '.join(unknown)}. People: "
                            + ", ".join("@" + n for n in people) + ".")
        if not multi and len(found) > 1:
            return _UNSET, "Just one person here."
        return (found if multi else found[0]), None

    def read_file(self, reply: str) -> tuple[Any, str | None]:
        path = Path(reply.strip().strip("'\"")).expanduser()
        try:
            content = path.read_bytes()
        except OSError as e:
            return _UNSET, f"I can't read {path}: {e.strerror or e}."
        shared = self.slack.add_file(f"F{secrets.token_hex(5).upper()}", path.name, content)
        return [shared], None

    async def report(self, session: Session, code: str = "") -> Path | None:
        """`:report [code]`: the committee's report (recommendations and indicators) as text, written
        as Markdown with its chart images into the console's files folder; says where."""
        from sqlalchemy import select

        from bot.export.report import render_report
        from bot.services import reports
        from bot.services.indicators import standings_of
        from models.queries import committee_by_code
        from models.tables import Committee

        async with self.db.session() as s:
            if code:
                committee = await committee_by_code(s, session.team_id, code.split()[0])
                if committee is None:
                    self.say(f"There's no committee `{code.split()[0][:32]}`.")
                    return None
            else:
                committee = (await s.scalars(select(Committee).where(
                    Committee.team_id == session.team_id, Committee.channel_id == session.channel))).first()
                if committee is None:
                    self.say("This channel isn't bound to a committee: :report cyp, or go to its channel first.")
                    return None
            if committee.is_private and committee.channel_id != session.channel:
                self.say("Ask for a private committee's report in its own channel.")
                return None
            report = await reports.build_report(s, session.team_id, [committee], now=utc_now(), tz=self.settings.tz)
            standings = await standings_of(s, committee)
        data, name, beside = render_report(report, "md", indicators=standings)
        if self.files_dir is None:
            self.files_dir = Path(tempfile.mkdtemp(prefix="scrutineer-files-"))
        self.files_dir.mkdir(parents=True, exist_ok=True)
        out = self.files_dir / name
        out.write_bytes(data)
        for file, content in beside.items():
            (self.files_dir / file).write_bytes(content)
        self.say(data.decode())
        self.say(f"📊 Chart written to {(self.files_dir / f'{out.stem}.png').resolve()}")
        for file in beside:
            if file != f"{out.stem}.png":
                self.say(f"📈 Indicator chart written to {(self.files_dir / file).resolve()}")
        self.say(f"📄 Report written to {out.resolve()}")
        return out.resolve()

    # ---------------------------------------------------------------- what the app said

    def save_upload(self, file_id: str) -> Path | None:
        stored = self.slack.files.get(file_id) or {}
        content = stored.get("content")
        if content is None:
            return None
        if self.files_dir is None:
            self.files_dir = Path(tempfile.mkdtemp(prefix="scrutineer-files-"))
        self.files_dir.mkdir(parents=True, exist_ok=True)
        name = Path(stored.get("filename") or file_id).name or file_id
        path = self.files_dir / name
        if path.exists():
            path = self.files_dir / f"{path.stem}-{file_id}{path.suffix}"
        path.write_bytes(content)
        return path.resolve()

    async def inbox(self, session: Session, last: int = 5) -> None:
        """`:inbox`: the last few DMs Scrutineer sent the current person (requests for updates,
        updates to review, reminders), their buttons numbered to press — what someone switching
        in with `:user` would find in their Slack DMs."""
        await self.settle()
        await self.worker.step()
        me = session.user.user_id

        def to_me(calls):
            return [c for c in calls if c.method == "chat.postMessage" and not c.failed
                    and c.args.get("channel") in (me, "D" + me)]
        start = self.printed
        self.show_new_calls(session)   # what is new is shown as it came (with its buttons)
        if to_me(self.slack.calls[start:]):
            return
        mine = to_me(self.slack.calls)
        if not mine:
            self.say("No messages from Scrutineer to you yet.")
            return
        names, channel_names, shown_buttons = self.names(session), self.channel_names(session), []
        if len(mine) > last:
            self.say(f"(the last {last} of {len(mine)} messages to you)")
        for call in mine[-last:]:
            blocks = call.args.get("blocks") or []
            lines = render_blocks(blocks, names, shown_buttons, call, channel_names) if blocks else [
                render_mrkdwn(call.args.get("text", ""), names, channel_names)]
            self.say("(message from Scrutineer) " + "\n".join(lines).strip("\n"))
            self.say()
        session.buttons = shown_buttons
        session.buttons_seen = session.buttons_seen or bool(shown_buttons)

    def show_new_calls(self, session: Session) -> list[dict]:
        """Print what the app said since the last prompt; return any forms it opened."""
        opened = []
        names = self.names(session)
        new_calls = self.slack.calls[self.printed:]
        self.printed = len(self.slack.calls)
        shown_buttons: list = []
        replies = 0
        elsewhere = 0
        channel_names = self.channel_names(session)
        for call in new_calls:
            if call.method in ("ack", "response_url", "chat.postEphemeral", "chat.postMessage"):
                target = call.args.get("channel")
                if call.method == "chat.postMessage" and target not in (session.channel, session.user.user_id):
                    elsewhere += 1  # someone else's DM or another channel: not on this person's screen
                    continue
                if call.method == "chat.postEphemeral" and call.args.get("user") not in (None, session.user.user_id):
                    elsewhere += 1
                    continue
                where = "" if call.method != "chat.postMessage" else (
                    "(message from Scrutineer) " if target == session.user.user_id
                    else f"(posted in #{channel_names.get(target, target)}) ")
                blocks = call.args.get("blocks") or []
                lines = render_blocks(blocks, names, shown_buttons, call, channel_names) if blocks else [
                    render_mrkdwn(call.args.get("text", ""), names, channel_names)]
                self.say(where + "\n".join(lines).strip("\n"))
                self.say()
                replies += 1
            elif call.method == "files.completeUploadExternal" and not call.failed and (call.response or {}).get("ok"):
                channel = call.args.get("channel_id") or (call.args.get("channels") or "").split(",")[0]
                comment = render_mrkdwn(call.args.get("initial_comment") or "", names, channel_names)
                self.say(f"(file shared in #{channel_names.get(channel, channel)}) {comment}".rstrip())
                for entry in call.args.get("files") or []:
                    path = self.save_upload(entry.get("id", ""))
                    title = entry.get("title") or (self.slack.files.get(entry.get("id", "")) or {}).get("filename")
                    self.say(f"  📎 {title}: saved to {path}" if path else f"  📎 {title}")
                self.say()
                replies += 1
            elif call.method in ("views.open", "views.push") and not call.failed:
                opened.append(call.response["view"])
        if elsewhere:
            self.say(f"({elsewhere} message{'s' if elsewhere != 1 else ''} went to other people or channels)")
        if replies:
            session.buttons = shown_buttons
            session.buttons_seen = session.buttons_seen or bool(shown_buttons)
        return opened

    # ---------------------------------------------------------------- the loop

    async def run(self, ask: Ask | None = None) -> None:
        ask = ask or make_ask()
        session = await self.start()
        try:
            if self.first_user:
                await self.handle(session, f":user {self.first_user}", ask)
            if self.first_channel:
                await self.handle(session, f":channel {self.first_channel}", ask)
            self.say("Scrutineer console — the real app, with a stand-in for Slack. Type :help for help.")
            if self.demo:
                self.say("Demo data loaded: committees cyp, ssc (private) and dscb; "
                         "try /actions overdue, /position rec-10 or :home.")
            while True:
                where = "a DM" if session.channel.startswith("D") else "#" + self.channel_name(session)
                prompt = f"{session.user.name.split(' ')[0].lower()} in {where}> "
                try:
                    line = await ask(prompt)
                except KeyboardInterrupt:
                    self.say("(Ctrl-C: type :quit or press Ctrl-D to leave.)")
                    continue
                except EOFError:
                    line = None
                if line is None:
                    self.say()
                    break
                line = line.strip()
                if not line:
                    continue
                if line in (":quit", ":q", ":exit", "exit", "quit"):
                    break
                await self.handle(session, line, ask)
        finally:
            await self.slack.stop()
            await self.db.dispose()

    async def handle(self, session: Session, line: str, ask: Ask) -> None:
        if line.startswith("/"):
            if not await self.command(session, line):
                return
        elif line.isdigit():
            if not await self.press(session, int(line)):
                return
        elif line in (":users", ":people", ":who"):
            for p in session.users.values():
                marker = "  (you)" if p.user_id == session.user.user_id else ""
                self.say(f"  {p.name.split(' ')[0].lower():<10} {p.name}{marker}")
            self.say("Switch with :user NAME.")
            return
        elif line.startswith(":user "):
            wanted = line[6:].strip().lstrip("@").lower()
            match = [p for p in session.users.values() if wanted and p.name.lower().startswith(wanted)]
            if match:
                session.user = match[0]
                session.buttons = []
                self.say(f"You are now {match[0].name}.")
            else:
                self.say("Who? " + ", ".join(p.name.split(" ")[0].lower() for p in session.users.values())
                         + " (:users lists them)")
            return
        elif line in (":channels", ":channel"):
            self.say("Channels: " + ", ".join("#" + c for c in session.channels) + ", or :channel dm")
            return
        elif line.startswith(":channel "):
            wanted = line[9:].strip().lstrip("#").lower()
            if wanted in session.channels:
                session.channel = session.channels[wanted]
                self.say(f"You are now in #{wanted}.")
            elif wanted in ("dm", "im"):
                session.channel = "D" + session.user.user_id
                self.say("You are now in a direct message with Scrutineer.")
            else:
                self.say("Channels: " + ", ".join("#" + c for c in session.channels) + ", or :channel dm")
            return
        elif line == ":home":
            await self.home(session)
            return
        elif line in (":inbox", ":dms", ":messages"):
            await self.inbox(session)
            return
        elif line == ":report" or line.startswith(":report "):
            await self.report(session, line[len(":report"):].strip())
            return
        elif line.startswith(":help") or line in ("help", "?"):
            self.say(CONSOLE_HELP)
            return
        else:
            self.say("Type a slash command such as /actions, a button number, or :help.")
            return
        await self.settle()
        await self.worker.step()
        self.queued_forms = self.show_new_calls(session)
        while self.queued_forms:
            await self.run_form(session, self.queued_forms.pop(0), ask)


class _Again(Exception):
    """'edit' at the end of a form: fill it in again."""


_UNSET: Any = type("Unset", (), {"__repr__": lambda self: "UNSET"})()


def make_ask() -> Ask:
    """Line editing and history (prompt_toolkit) at a terminal; plain lines when stdin is a pipe."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        try:
            from prompt_toolkit import PromptSession
            from prompt_toolkit.history import InMemoryHistory
        except ImportError:   # pragma: no cover - a dependency, but keep the console usable without it
            pass
        else:
            prompt_session: PromptSession = PromptSession(history=InMemoryHistory())

            async def ask_tty(prompt: str) -> str | None:
                try:
                    return await prompt_session.prompt_async(prompt)
                except EOFError:
                    return None
            return ask_tty

    echo = not sys.stdin.isatty()

    async def ask_plain(prompt: str) -> str | None:
        # Nothing else runs while the console waits for a line, so reading here blocks nothing.
        try:
            line = input(prompt)
        except EOFError:
            return None
        if echo:   # piped in: show what was read, so the transcript reads as typed
            print(line, flush=True)
        return line
    return ask_plain


def run_console(settings: Settings, demo: bool, user: str | None = None, channel: str | None = None) -> int:
    try:
        asyncio.run(Console(settings, demo, user, channel).run())
    except KeyboardInterrupt:
        print("\nBye.", flush=True)
        return 130
    return 0
