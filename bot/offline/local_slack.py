"""A small fake of the Slack Web API, served over real HTTP on 127.0.0.1.

The point is that the app's real ``AsyncWebClient`` (and Bolt's ``say`` /
``respond``) talk to it unchanged, so tests and the offline console exercise
the same request building, serialisation and error handling as production:

    local = LocalSlack()
    await local.start()
    client = AsyncWebClient(token="xoxb-local", base_url=local.api_url)

Every request is recorded as a :class:`Call`. Answers follow Slack's shapes and
error codes for the methods the app uses; any other method is recorded and
answered ``{"ok": true}``. State (messages, views, uploaded files) is kept so
that later calls see earlier ones, as they would in Slack.

Besides ``/api/<method>`` it serves ``/respond/<key>`` (response_url posts,
recorded as method ``"response_url"``) and ``/upload/<file_id>`` (the upload
URL handed out by files.getUploadURLExternal, recorded as ``"upload_url"``).

``LocalSlack(latency=0.1)`` makes every Web API call take that long, like a round trip to
Slack; ``LocalSlack(method_latency={"users.info": 0.5})`` (or setting ``method_latency[...]``
later) makes calls to those methods take that long instead. Faults, besides ``fail_next``:
``LocalSlack(per_channel_interval=1.0)`` enforces Slack's
"one message per second per channel" on chat.postMessage (a second message into a channel
within the interval is answered 429 with Retry-After), and ``inject_faults`` fails a seeded
fraction of calls with 429 or 500, decided per (method, channel, n-th call there) so that
a run is reproducible whatever order the calls arrive in.
"""
from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import json
import logging
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

from bot.offline.slack_payloads import BOT_ID, BOT_USER_ID, DEFAULT_APP_ID

log = logging.getLogger(__name__)

__all__ = ["Call", "LocalSlack", "BOT_USER_ID", "BOT_ID"]

# Fields slack_sdk sends as JSON strings inside form bodies (and that callers
# sometimes pre-serialise in JSON bodies); parsed back so tests see objects.
_JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata", "user_auth_blocks")
# Methods Slack answers without a token.
_NO_AUTH = {"api.test", "oauth.v2.access", "oauth.access", "openid.connect.token"}
_FIRST_TS = 1_700_000_000_000_000  # microseconds; first ts is "1700000000.000100"


@dataclass
class Call:
    """One request the fake received."""

    method: str  # "chat.postMessage"; "response_url" / "upload_url" for those endpoints
    args: dict  # body merged over query args, JSON-string fields parsed
    token: str | None
    at: float  # time.monotonic() when recorded
    path: str  # URL path; for response_url the key, for upload_url the file id
    failed: bool = False  # answered with an error by fault injection (fail_next, inject_faults, the rate limit)
    response: Any = None  # what the fake answered (dict, or text for response/upload urls)
    limited: bool = False  # answered 429 by the per-channel rate limit (per_channel_interval)
    stored: bool = False  # failed, but the message was stored first (inject_faults' stored_500)


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    error: str | None
    times: int


@dataclass
class _FaultPlan:
    rate: float
    seed: int
    methods: frozenset[str]
    share_429: float
    retry_after: int
    stored_500: float


@dataclass
class _Channel:
    id: str
    name: str
    is_private: bool
    members: list[str]
    team_id: str
    bot_member: bool
    created: int = field(default_factory=lambda: int(time.time()))


def _parse_json_fields(args: dict) -> dict:
    for key in _JSON_FIELDS:
        value = args.get(key)
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            try:
                args[key] = json.loads(value)
            except ValueError:
                pass  # leave it; the handler reports what Slack would
    return args


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _short_id(*parts: Any) -> str:
    """A stable 5-character id like the ones Slack invents for blocks without one."""
    digest = hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return base64.b64encode(digest, altchars=b"Xz").decode()[:5]


def _with_generated_ids(blocks: Any, salt: str) -> Any:
    """Copy of ``blocks`` with block_id / action_id filled in where missing, as Slack does."""
    if not isinstance(blocks, list):
        return blocks
    blocks = copy.deepcopy(blocks)
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", _short_id(salt, i, block))
        elements = []
        if isinstance(block.get("element"), dict):
            elements.append(block["element"])
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        if block.get("type") == "actions":
            elements.extend(e for e in block.get("elements") or () if isinstance(e, dict))
        for j, element in enumerate(elements):
            if element.get("type") not in ("image",):
                element.setdefault("action_id", _short_id(salt, i, j, element))
    return blocks


def _error(error: str, **extra: Any) -> dict:
    return {"ok": False, "error": error, **extra}


class LocalSlack:
    """In-process fake Slack Web API. See the module docstring.

    Strict where a real bug would show (unknown users and registered-but-hidden
    channels, reused trigger ids, stale view hashes, unknown message ts), but
    lenient about channel ids it was never told of: chat.postMessage to an
    unregistered ``C...`` id succeeds, so tests need not register every channel.
    The bot user ``UBOT`` is always present.
    """

    def __init__(self, team_id: str = "T0001", team_name: str = "Essex County Council", *,
                 per_channel_interval: float | None = None, latency: float = 0.0,
                 method_latency: dict[str, float] | None = None):
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = "".join(c for c in team_name.lower() if c.isalnum()) or "council"
        self.calls: list[Call] = []
        self.listeners: list[Callable[[Call], None]] = []
        self.users: dict[str, dict] = {}
        self.channels: dict[str, _Channel] = {}
        self.views: dict[str, dict] = {}  # view id -> view as last returned
        self.home_views: dict[str, dict] = {}  # user id -> published App Home view
        self.files: dict[str, dict] = {}  # file id -> {"filename", "length", "content", ...}
        self.responses: dict[str, list[dict]] = {}  # response_url key -> bodies posted
        self._messages: dict[str, list[dict]] = {}  # channel id -> messages, ts order
        self._ephemeral: list[dict] = []
        self._faults: dict[str, _Fault] = {}
        # Opt-in: at most one chat.postMessage per channel per this many seconds, as Slack
        # enforces it; a message sooner is answered 429 with Retry-After (and not stored).
        self.per_channel_interval = per_channel_interval
        self._last_post: dict[str, float] = {}  # channel -> time.monotonic() of its last stored message
        # Opt-in: seconds each Web API call takes before it is handled, as the round trip to Slack
        # does; with the default 0 the fake answers at once, which no real Slack does.
        self.latency = latency
        # Opt-in: seconds calls to particular methods take instead ({"users.info": 0.5}); a call
        # is recorded when it is answered, so a slow method's calls come after quicker ones.
        self.method_latency: dict[str, float] = dict(method_latency or {})
        # Slack's limits on a message (50 blocks, 3,000 characters a section's text, 40,000 of
        # text), answered as Slack answers them (msg_blocks_too_long, invalid_blocks,
        # msg_too_long) and not stored. On, as in Slack; False lets anything through.
        self.enforce_limits = True
        self._fault_plan: _FaultPlan | None = None
        self._fault_counts: dict[tuple[str, str], int] = {}  # (method, channel) -> calls that met the plan
        self._used_triggers: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._modal_stack: list[str] = []
        self._ts = _FIRST_TS
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        # OAuth (many workspaces): codes handed out by install_code, and the tokens they became.
        self._install_codes: dict[str, dict] = {}   # code -> {"team_id", "team_name", "rotating"}
        self.token_teams: dict[str, str] = {}      # bot token -> its team
        self._refresh_tokens: dict[str, dict] = {}  # refresh token -> the install it refreshes
        self.revoked_tokens: set[str] = set()      # answered token_revoked
        self._current_token: str | None = None     # the token of the call being answered
        self.add_user(BOT_USER_ID, "scrutineer", real_name="Scrutineer", is_bot=True)

    # ------------------------------------------------------------------ directory

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        team_id: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        real_name: str | None = None,
        email: str | None = None,
        is_bot: bool = False,
    ) -> None:
        real_name = real_name or name
        team = team_id or self.team_id
        self.users[user_id] = {
            "id": user_id,
            "team_id": team,
            "name": name,
            "deleted": False,
            "real_name": real_name,
            "tz": "Europe/London",
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "profile": {
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": name,
                "display_name_normalized": name,
                "email": email or f"{name}@example.gov.uk",
                "team": team,
            },
            "is_admin": is_admin or is_owner,  # Slack owners are always admins too
            "is_owner": is_owner,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
        }

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        members: tuple[str, ...] | list[str] = (),
        team_id: str | None = None,
        bot_member: bool = True,
    ) -> None:
        """Register a channel. ``members`` is exactly what conversations.members
        lists; ``bot_member`` says whether the app's bot is in it (is_member)."""
        self.channels[channel_id] = _Channel(
            channel_id, name, is_private, list(members), team_id or self.team_id, bot_member
        )

    # ------------------------------------------------------------------ lifecycle

    async def start(self, port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)  # uploads can be big
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/respond/{key:.*}", self._handle_response_url)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_get("/files-pri/{file_id}/{name}", self._handle_download)
        app.router.add_get("/socket", self._handle_socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "LocalSlack":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("LocalSlack is not started; await start() first")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"  # slack_sdk joins method names onto this, so it ends in "/"

    def response_url(self, key: str = "") -> str:
        return f"{self.base_url}/respond/{key or uuid.uuid4().hex}"

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def clear_calls(self) -> None:
        self.calls.clear()

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``method`` has been called ``count`` times; return those calls.

        Polls rather than using an asyncio.Condition so one LocalSlack can
        outlive the event loop it was created in (pytest gives each test a loop).
        """
        deadline = time.monotonic() + timeout
        while True:
            seen = self.calls_to(method)
            if len(seen) >= count:
                return seen
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} call(s) to {method}; "
                    f"got {len(seen)}.\n{self.describe_calls()}"
                )
            await asyncio.sleep(0.005)

    def describe_calls(self) -> str:
        """A readable listing of every call so far, for failure messages."""
        if not self.calls:
            return "No calls were made."
        start = self.calls[0].at
        lines = [f"Calls seen ({len(self.calls)}):"]
        for call in self.calls:
            args = json.dumps(call.args, default=repr, ensure_ascii=False)
            if len(args) > 200:
                args = args[:197] + "..."
            flag = " [failed]" if call.failed else ""
            lines.append(f"  +{call.at - start:7.3f}s {call.method}{flag} {args}")
        return "\n".join(lines)

    def messages_in(self, channel: str, *, thread_ts: str | None = None) -> list[dict]:
        """Messages currently in ``channel`` (after updates and deletes), oldest first.
        With ``thread_ts``, only that thread (parent and replies)."""
        messages = self._messages.get(self._resolve_channel(channel) or channel, [])
        if thread_ts is not None:
            messages = [m for m in messages if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts]
        return copy.deepcopy(messages)

    def ephemeral_in(self, channel: str, user: str | None = None) -> list[dict]:
        """Ephemeral messages posted in ``channel`` (to ``user`` if given)."""
        return [
            copy.deepcopy(m)
            for m in self._ephemeral
            if m["channel"] == channel and (user is None or m["user"] == user)
        ]

    def add_file(self, file_id: str, name: str, content: bytes, mimetype: str = "text/plain") -> dict:
        """A file someone shared (e.g. through a modal's file_input): files.info describes it
        and its url_private_download serves the bytes to a caller with a token."""
        self.files[file_id] = {
            "id": file_id, "filename": name, "length": len(content), "content": content,
            "mimetype": mimetype, "title": name,
        }
        return self._file_object(file_id)

    def _file_object(self, file_id: str) -> dict:
        stored = self.files[file_id]
        url = f"{self.base_url}/files-pri/{file_id}/{stored['filename']}"
        return {"id": file_id, "name": stored["filename"], "title": stored.get("title") or stored["filename"],
                "mimetype": stored.get("mimetype") or "", "filetype": stored["filename"].rsplit(".", 1)[-1],
                "size": len(stored["content"] or b""), "url_private": url, "url_private_download": url + "?download=1",
                "is_external": False}

    def record_ack(self, answer: dict) -> Call:
        """A slash command answered in its acknowledgement (the HTTP response or the Socket
        Mode ack payload): Slack shows it to the person as it would a response_url post."""
        return self._record("ack", dict(answer), None, "", failed=False, response=None)

    def file_content(self, file_id: str) -> bytes | None:
        return self.files.get(file_id, {}).get("content")

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        times: int = 1,
        error: str | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail; they are still recorded.

        By default they answer HTTP 500. ``status=429`` answers ``ratelimited``
        with a ``Retry-After`` header when ``retry_after`` is given. ``error``
        alone answers HTTP 200 ``{"ok": false, "error": error}``, Slack's usual
        way of failing (e.g. ``"channel_not_found"``).
        """
        if status is None:
            status = 200 if error is not None else 500
        self._faults[method] = _Fault(status, retry_after, error, times)

    def _take_fault(self, method: str) -> _Fault | None:
        fault = self._faults.get(method)
        if fault is None:
            return None
        fault.times -= 1
        if fault.times <= 0:
            del self._faults[method]
        return fault

    def inject_faults(
        self,
        rate: float,
        *,
        seed: int = 0,
        methods: tuple[str, ...] | list[str] = ("chat.postMessage",),
        share_429: float = 0.5,
        retry_after: int = 1,
        stored_500: float = 0.0,
    ) -> None:
        """Fail about ``rate`` of the calls to ``methods`` from now on: ``share_429`` of the
        failures answer 429 ``ratelimited`` with ``Retry-After: retry_after``, the rest HTTP 500
        ``fatal_error``. A fraction ``stored_500`` of the 500s come *after* the message was
        stored, as Slack sometimes does, so a sender that resends blindly posts it twice.

        Whether a call fails is decided by ``planned_fault(method, channel, n)`` for the n-th
        call (from 0) to ``method`` for that channel (user, for methods without one) that
        reached the plan: a hash of the seed, so the same seed fails the same attempts however
        the calls interleave. Calls answered by ``fail_next`` or the per-channel rate limit
        don't count. ``rate=0`` turns it off."""
        self._fault_plan = None if rate <= 0 else _FaultPlan(
            rate, seed, frozenset(methods), share_429, retry_after, stored_500)
        self._fault_counts.clear()

    def planned_fault(self, method: str, channel: str, n: int) -> str | None:
        """What inject_faults does to the n-th call to ``method`` for ``channel``:
        None (it succeeds), "429", "500" or "500-stored"."""
        plan = self._fault_plan
        if plan is None or method not in plan.methods:
            return None
        digest = hashlib.sha256(f"{plan.seed}:{method}:{channel}:{n}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        if draw >= plan.rate:
            return None
        if draw < plan.rate * plan.share_429:
            return "429"
        second = int.from_bytes(digest[8:16], "big") / 2**64
        return "500-stored" if second < plan.stored_500 else "500"

    def _channel_key(self, args: dict) -> str:
        channel = args.get("channel")
        if channel:
            return self._resolve_channel(channel) or channel
        return str(args.get("user") or args.get("user_id") or args.get("users") or "")

    def _take_planned_fault(self, method: str, args: dict) -> str | None:
        if self._fault_plan is None or method not in self._fault_plan.methods:
            return None
        key = (method, self._channel_key(args))
        n = self._fault_counts.get(key, 0)
        self._fault_counts[key] = n + 1
        return self.planned_fault(method, key[1], n)

    def _rate_limited(self, method: str, args: dict) -> int | None:
        """Retry-After seconds when this post comes too soon after the channel's last message."""
        if self.per_channel_interval is None or method != "chat.postMessage":
            return None
        last = self._last_post.get(self._channel_key(args))
        if last is None:
            return None
        wait = last + self.per_channel_interval - time.monotonic()
        return max(1, math.ceil(wait)) if wait > 0 else None

    def _note_post(self, method: str, args: dict, result: Any) -> None:
        if method == "chat.postMessage" and isinstance(result, dict) and result.get("ok"):
            self._last_post[result.get("channel") or self._channel_key(args)] = time.monotonic()

    @staticmethod
    def _fault_response(fault: _Fault) -> web.Response:
        if fault.status == 429:
            body = _error(fault.error or "ratelimited")
        else:
            body = _error(fault.error or ("fatal_error" if fault.status >= 500 else "request_failed"))
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
        return web.json_response(body, status=fault.status, headers=headers)

    # ------------------------------------------------------------------ recording

    def _record(self, method: str, args: dict, token: str | None, path: str, *, failed: bool, response: Any,
                limited: bool = False, stored: bool = False) -> Call:
        call = Call(method, args, token, time.monotonic(), path, failed, response, limited, stored)
        self.calls.append(call)
        for listener in list(self.listeners):
            try:
                listener(call)
            except Exception:  # a broken printer must not break the fake
                log.exception("LocalSlack listener failed on %s", method)
        return call

    # ------------------------------------------------------------------ Socket Mode

    def _m_apps_connections_open(self, args: dict) -> dict:
        return {"ok": True, "url": f"ws://127.0.0.1:{self._port}/socket"}

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        """A Socket Mode connection: say hello, then record every envelope ack the app sends."""
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": len(self._sockets),
                            "connection_info": {"app_id": DEFAULT_APP_ID}})
        try:
            async for msg in ws:
                if msg.type.name != "TEXT":
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                self._record("socket_ack", data, None, str(data.get("envelope_id", "")),
                             failed=False, response=None)
        finally:
            self._sockets.remove(ws)
        return ws

    async def wait_for_socket(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._sockets:
            if time.monotonic() > deadline:
                raise AssertionError("no Socket Mode connection arrived")
            await asyncio.sleep(0.02)

    async def send_envelope(self, kind: str, payload: dict, *, accepts_response_payload: bool = True,
                            retry_attempt: int = 0) -> str:
        """Push an envelope as Slack does in Socket Mode; returns its envelope_id."""
        await self.wait_for_socket()
        envelope_id = uuid.uuid4().hex
        await self._sockets[-1].send_json({
            "envelope_id": envelope_id, "type": kind, "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt, "retry_reason": ""})
        return envelope_id

    # ------------------------------------------------------------------ HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        delay = self.method_latency.get(method, self.latency)
        if delay:
            await asyncio.sleep(delay)
        args: dict[str, Any] = dict(request.query)
        body_error = None
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                    args.update(body if isinstance(body, dict) else {})
                except ValueError:
                    body_error = "invalid_json"
            else:  # form-encoded or multipart
                form = await request.post()
                for key, value in form.items():
                    args[key] = value.file.read() if isinstance(value, web.FileField) else value
        _parse_json_fields(args)

        token = args.pop("token", None)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer "):].strip()

        fault = self._take_fault(method)
        if fault is not None:
            response = self._fault_response(fault)
            self._record(method, args, token, request.path, failed=True, response=json.loads(response.text))
            return response

        if not body_error and (token is not None or method in _NO_AUTH):
            retry_after = self._rate_limited(method, args)
            if retry_after is not None:
                fault = _Fault(429, retry_after, None, 1)
                response = self._fault_response(fault)
                self._record(method, args, token, request.path, failed=True, response=json.loads(response.text),
                             limited=True)
                return response
            planned = self._take_planned_fault(method, args)
            if planned is not None:
                plan = self._fault_plan
                stored = planned == "500-stored"
                if stored:  # Slack took it, then failed to say so
                    handler = getattr(self, "_m_" + method.replace(".", "_"), None)
                    self._note_post(method, args, handler(args) if handler else {"ok": True})
                fault = _Fault(429, plan.retry_after, None, 1) if planned == "429" else _Fault(500, None, None, 1)
                response = self._fault_response(fault)
                self._record(method, args, token, request.path, failed=True, response=json.loads(response.text),
                             stored=stored)
                return response

        if body_error:
            result = _error(body_error)
        elif token is None and method not in _NO_AUTH:
            result = _error("not_authed")
        elif token is not None and token in self.revoked_tokens:
            result = _error("token_revoked")
        else:
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            self._current_token = token
            result = handler(args) if handler else {"ok": True}
        self._note_post(method, args, result)
        self._record(method, args, token, request.path, failed=False, response=result)
        return web.json_response(result)

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        text = await request.text()
        try:
            body = json.loads(text) if text else {}
        except ValueError:
            body = {"text": text}
        _parse_json_fields(body)
        fault = self._take_fault("response_url")
        if fault is not None:
            self._record("response_url", body, None, key, failed=True, response=None)
            return web.Response(status=fault.status, text="fatal_error", content_type="text/plain")
        self.responses.setdefault(key, []).append(body)
        self._record("response_url", body, None, key, failed=False, response="ok")
        return web.Response(text="ok", content_type="text/plain")

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        content = await request.read()
        fault = self._take_fault("upload_url")
        args = {"file_id": file_id, "content": content}
        if fault is not None:
            self._record("upload_url", args, None, file_id, failed=True, response=None)
            return web.Response(status=fault.status, text="error", content_type="text/plain")
        if file_id not in self.files:
            self._record("upload_url", args, None, file_id, failed=False, response=None)
            return web.Response(status=404, text="not found", content_type="text/plain")
        self.files[file_id]["content"] = content
        # The real upload endpoint answers text/plain "OK - <bytes>", which slack_sdk expects.
        answer = f"OK - {len(content)}"
        self._record("upload_url", args, None, file_id, failed=False, response=answer)
        return web.Response(text=answer, content_type="text/plain")

    async def _handle_download(self, request: web.Request) -> web.Response:
        """GET url_private_download: needs the bot token, as Slack does (else an HTML login page)."""
        file_id = request.match_info["file_id"]
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer "):].strip() if auth.startswith("Bearer ") else None
        stored = self.files.get(file_id)
        ok = bool(token) and stored is not None and stored.get("content") is not None
        self._record("file_download", {"file_id": file_id}, token, file_id, failed=not ok, response=None)
        if not token:
            return web.Response(status=302, headers={"Location": f"{self.base_url}/signin"}, text="")
        if not ok:
            return web.Response(status=404, text="not found", content_type="text/plain")
        return web.Response(body=stored["content"], content_type=stored.get("mimetype") or "application/octet-stream")

    # ------------------------------------------------------------------ helpers

    def _next_ts(self) -> str:
        # Like Slack's: the posting time in microseconds, unique and increasing.
        self._ts = max(self._ts + 100, int(time.time() * 1_000_000))
        return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}{self._seq:010d}"

    def _view_hash(self) -> str:
        self._seq += 1
        return f"{int(time.time())}.{self._seq:08x}"

    def _resolve_channel(self, channel: str | None) -> str | None:
        """Channel id for an id, a user id (its DM) or a #name. None if a name is unknown."""
        if not channel:
            return None
        if channel.startswith("#") or (channel not in self.channels and channel.islower()):
            name = channel.lstrip("#")
            return next((c.id for c in self.channels.values() if c.name == name), None)
        if channel[0] in "UW" and channel in self.users:
            return "D" + channel  # posting to a user id lands in the DM with them
        return channel

    def _message_index(self, channel: str, ts: str) -> int | None:
        for i, message in enumerate(self._messages.get(channel, [])):
            if message["ts"] == ts:
                return i
        return None

    def _channel_object(self, channel_id: str) -> dict | None:
        if channel_id.startswith("D") and channel_id[1:] in self.users:
            return {
                "id": channel_id, "created": int(time.time()), "is_im": True, "is_org_shared": False,
                "context_team_id": self.team_id, "user": channel_id[1:], "is_user_deleted": False,
                "priority": 0,
            }
        channel = self.channels.get(channel_id)
        if channel is None:
            return None
        return {
            "id": channel.id,
            "name": channel.name,
            "name_normalized": channel.name,
            "is_channel": not channel.is_private,
            "is_group": channel.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": channel.is_private,
            "created": channel.created,
            "is_archived": False,
            "is_general": channel.name == "general",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "context_team_id": channel.team_id,
            "shared_team_ids": [channel.team_id],
            "is_member": channel.bot_member,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }

    def _visible_channel(self, channel_id: str | None) -> dict | None:
        """The channel as the bot can see it: private channels it is not in are invisible."""
        if not channel_id:
            return None
        obj = self._channel_object(channel_id)
        channel = self.channels.get(channel_id)
        if obj is None or (channel is not None and channel.is_private and not channel.bot_member):
            return None
        return obj

    @staticmethod
    def _page(items: list, args: dict) -> tuple[list, str] | None:
        """Cursor pagination as Slack does it. None for an invalid cursor."""
        try:
            limit = int(args.get("limit") or 100)
        except ValueError:
            limit = 100
        limit = max(1, min(limit, 1000))
        offset = 0
        if args.get("cursor"):
            try:
                offset = int(base64.b64decode(args["cursor"]).decode().split(":", 1)[1])
            except (ValueError, IndexError):
                return None
        page = items[offset:offset + limit]
        more = offset + limit < len(items)
        next_cursor = base64.b64encode(f"offset:{offset + limit}".encode()).decode() if more else ""
        return page, next_cursor

    def _bot_message(self, args: dict, ts: str) -> dict:
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": DEFAULT_APP_ID,
            "text": args.get("text") or "",
            "ts": ts,
            "team": self.team_id,
        }
        if args.get("blocks") is not None:
            message["blocks"] = _with_generated_ids(args["blocks"], ts)
        for key in ("attachments", "metadata", "thread_ts"):
            if args.get(key) is not None:
                message[key] = args[key]
        return message

    def _full_view(self, view: dict, view_id: str, *, root: str, previous: str | None) -> dict:
        full = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type"),
            "blocks": _with_generated_ids(view.get("blocks") or [], view_id),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._view_hash(),
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": previous,
            "root_view_id": root,
            "app_id": DEFAULT_APP_ID,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": BOT_ID,
        }
        for key, value in view.items():  # keep anything else the app sent (submit_disabled ...)
            full.setdefault(key, copy.deepcopy(value))
        return full

    def _check_view(self, view: Any, *types: str) -> dict | None:
        if not isinstance(view, dict) or view.get("type") not in types:
            return None
        return view

    def _take_trigger(self, args: dict) -> dict | None:
        """An error if the trigger is missing or already used; trigger ids are single use."""
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger:
            return _error("invalid_arguments")
        if trigger in self._used_triggers:
            return _error("exchanged_trigger_id")
        self._used_triggers.add(trigger)
        return None

    # ------------------------------------------------------------------ methods
    # Each _m_<method with dots as underscores> takes the parsed args and
    # returns the JSON answer.

    def install_code(self, team_id: str, team_name: str | None = None, *, rotating: bool = False,
                     expires_in: int = 43200) -> str:
        """A code as Slack hands it to the browser at the end of an installation in `team_id`;
        oauth.v2.access exchanges it (once) for a bot token of that team only. `rotating`: the
        token comes with a refresh token and expires in `expires_in` seconds."""
        code = f"code-{team_id}-{self._next_id('X')}"
        self._install_codes[code] = {"team_id": team_id, "team_name": team_name or f"Council {team_id}",
                                     "rotating": rotating, "expires_in": expires_in}
        return code

    def _issue_token(self, install: dict) -> dict:
        team_id = install["team_id"]
        token = f"xoxb-{team_id}-{self._next_id('K').lower()}"
        self.token_teams[token] = team_id
        answer: dict = {"access_token": token}
        if install["rotating"]:
            refresh = f"xoxe-1-{team_id}-{self._next_id('R').lower()}"
            self._refresh_tokens[refresh] = install
            answer.update(refresh_token=refresh, expires_in=install["expires_in"])
        return answer

    def _m_oauth_v2_access(self, args: dict) -> dict:
        if args.get("grant_type") == "refresh_token":
            install = self._refresh_tokens.pop(str(args.get("refresh_token") or ""), None)
            if install is None:
                return _error("invalid_refresh_token")
            return {"ok": True, "token_type": "bot", **self._issue_token(install)}
        install = self._install_codes.pop(str(args.get("code") or ""), None)
        if install is None:
            return _error("invalid_code")
        return {"ok": True, "app_id": DEFAULT_APP_ID, "token_type": "bot",
                "scope": "commands,chat:write,users:read", "bot_user_id": BOT_USER_ID,
                "team": {"id": install["team_id"], "name": install["team_name"]}, "enterprise": None,
                "is_enterprise_install": False, "authed_user": {"id": "UINSTALLER"},
                **self._issue_token(install)}

    def _m_api_test(self, args: dict) -> dict:
        return {"ok": True, "args": args}

    def _m_auth_test(self, args: dict) -> dict:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.users[BOT_USER_ID]["name"],
            "team_id": self.token_teams.get(self._current_token or "", self.team_id),
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_team_info(self, args: dict) -> dict:
        team_id = args.get("team") or self.token_teams.get(self._current_token or "", self.team_id)
        name = self.team_name if team_id == self.team_id else f"Council {team_id}"
        return {"ok": True, "team": {"id": team_id, "name": name, "domain": self.team_domain}}

    def _m_users_info(self, args: dict) -> dict:
        user = self.users.get(args.get("user", ""))
        if user is None:
            return _error("user_not_found")
        return {"ok": True, "user": copy.deepcopy(user)}

    def _m_users_lookupByEmail(self, args: dict) -> dict:
        email = (args.get("email") or "").lower()
        for user in self.users.values():
            if user["profile"]["email"].lower() == email:
                return {"ok": True, "user": copy.deepcopy(user)}
        return _error("users_not_found")

    def _m_conversations_info(self, args: dict) -> dict:
        channel = self._visible_channel(args.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        if _truthy(args.get("include_num_members")) and args["channel"] in self.channels:
            channel["num_members"] = len(self.channels[args["channel"]].members)
        return {"ok": True, "channel": channel}

    def _m_conversations_members(self, args: dict) -> dict:
        channel_id = args.get("channel", "")
        if self._visible_channel(channel_id) is None:
            return _error("channel_not_found")
        if channel_id in self.channels:
            members = self.channels[channel_id].members
        else:  # a DM: the user and the bot
            members = [channel_id[1:], BOT_USER_ID]
        paged = self._page(members, args)
        if paged is None:
            return _error("invalid_cursor")
        page, next_cursor = paged
        return {"ok": True, "members": list(page), "response_metadata": {"next_cursor": next_cursor}}

    def _m_users_conversations(self, args: dict) -> dict:
        user = args.get("user") or BOT_USER_ID
        types = set((args.get("types") or "public_channel").split(","))
        found = []
        for channel in self.channels.values():
            kind = "private_channel" if channel.is_private else "public_channel"
            in_it = channel.bot_member if user == BOT_USER_ID else user in channel.members
            if kind in types and in_it:
                found.append(self._channel_object(channel.id))
        paged = self._page(found, args)
        if paged is None:
            return _error("invalid_cursor")
        page, next_cursor = paged
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": next_cursor}}

    def _m_conversations_open(self, args: dict) -> dict:
        if args.get("channel"):
            channel_id = args["channel"]
        else:
            users = [u for u in (args.get("users") or "").split(",") if u]
            if not users:
                return _error("users_list_not_supplied")
            unknown = [u for u in users if u not in self.users]
            if unknown:
                return _error("user_not_found")
            # One user: their DM. Several: a group DM, whose id we derive from the set.
            channel_id = "D" + users[0] if len(users) == 1 else "G" + _short_id(sorted(users)).upper()
        if _truthy(args.get("return_im")):
            channel = self._channel_object(channel_id) or {"id": channel_id}
        else:
            channel = {"id": channel_id}
        return {"ok": True, "no_op": False, "already_open": False, "channel": channel}

    def _over_limits(self, args: dict) -> dict | None:
        """Slack's answer to a message over its limits, if this one is."""
        if not self.enforce_limits:
            return None
        blocks = args.get("blocks") or []
        if isinstance(blocks, list) and len(blocks) > 50:
            return _error("msg_blocks_too_long")
        for block in blocks if isinstance(blocks, list) else []:
            texts = [((block.get("text") or {}).get("text") or "")] if block.get("type") == "section" else []
            texts += [e.get("text") or "" for e in block.get("elements") or []
                      if block.get("type") == "context" and isinstance(e, dict)]
            if any(len(t) > 3000 for t in texts):
                return _error("invalid_blocks")
        if len(args.get("text") or "") > 40000:
            return _error("msg_too_long")
        return None

    def _m_chat_postMessage(self, args: dict) -> dict:
        channel = self._resolve_channel(args.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return _error("no_text")
        if (refused := self._over_limits(args)) is not None:
            return refused
        channel_obj = self.channels.get(channel)
        if channel_obj is not None and channel_obj.is_private and not channel_obj.bot_member:
            return _error("channel_not_found")
        ts = self._next_ts()
        message = self._bot_message(args, ts)
        self._messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": copy.deepcopy(message)}

    def _m_chat_postEphemeral(self, args: dict) -> dict:
        channel = self._resolve_channel(args.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        if not args.get("user"):
            return _error("user_not_in_channel")
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return _error("no_text")
        if (refused := self._over_limits(args)) is not None:
            return refused
        ts = self._next_ts()
        message = self._bot_message(args, ts)
        message.update(channel=channel, user=args["user"])
        self._ephemeral.append(message)
        return {"ok": True, "message_ts": ts}

    def _m_chat_update(self, args: dict) -> dict:
        channel = self._resolve_channel(args.get("channel")) or ""
        index = self._message_index(channel, args.get("ts", ""))
        if index is None:
            return _error("message_not_found")
        message = self._messages[channel][index]
        for key in ("text", "attachments", "metadata"):
            if key in args:
                message[key] = args[key]
        if "blocks" in args:
            message["blocks"] = _with_generated_ids(args["blocks"], message["ts"] + ":edit")
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "ok": True, "channel": channel, "ts": message["ts"],
            "text": message.get("text", ""), "message": copy.deepcopy(message),
        }

    def _m_chat_delete(self, args: dict) -> dict:
        channel = self._resolve_channel(args.get("channel")) or ""
        index = self._message_index(channel, args.get("ts", ""))
        if index is None:
            return _error("message_not_found")
        del self._messages[channel][index]
        return {"ok": True, "channel": channel, "ts": args["ts"]}

    def _m_chat_getPermalink(self, args: dict) -> dict:
        channel, ts = args.get("channel", ""), args.get("message_ts", "")
        if self._message_index(channel, ts) is None:
            return _error("message_not_found")
        return {
            "ok": True, "channel": channel,
            "permalink": f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _m_conversations_history(self, args: dict) -> dict:
        channel = args.get("channel", "")
        if self._visible_channel(channel) is None and channel not in self._messages:
            return _error("channel_not_found")
        top_level = [m for m in self._messages.get(channel, []) if m.get("thread_ts") in (None, m["ts"])]
        if args.get("oldest"):
            top_level = [m for m in top_level if float(m["ts"]) > float(args["oldest"])]
        if args.get("latest"):
            top_level = [m for m in top_level if float(m["ts"]) < float(args["latest"])]
        paged = self._page(list(reversed(top_level)), args)  # newest first, as Slack does
        if paged is None:
            return _error("invalid_cursor")
        page, next_cursor = paged
        return {
            "ok": True, "messages": copy.deepcopy(page), "has_more": bool(next_cursor),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _m_conversations_replies(self, args: dict) -> dict:
        channel, ts = args.get("channel", ""), args.get("ts", "")
        if self._message_index(channel, ts) is None:
            return _error("thread_not_found")
        return {"ok": True, "messages": self.messages_in(channel, thread_ts=ts), "has_more": False}

    def _m_reactions_add(self, args: dict) -> dict:
        channel, ts, name = args.get("channel", ""), args.get("timestamp", ""), args.get("name", "")
        index = self._message_index(channel, ts)
        if index is None:
            return _error("message_not_found")
        reactions = self._messages[channel][index].setdefault("reactions", [])
        for reaction in reactions:
            if reaction["name"] == name:
                if BOT_USER_ID in reaction["users"]:
                    return _error("already_reacted")
                reaction["users"].append(BOT_USER_ID)
                reaction["count"] += 1
                return {"ok": True}
        reactions.append({"name": name, "users": [BOT_USER_ID], "count": 1})
        return {"ok": True}

    def _m_views_open(self, args: dict) -> dict:
        view = self._check_view(args.get("view"), "modal")
        if view is None:
            return _error("invalid_arguments")
        problem = self._take_trigger(args)
        if problem:
            return problem
        view_id = self._next_id("V")
        full = self._full_view(view, view_id, root=view_id, previous=None)
        self.views[view_id] = full
        self._modal_stack = [view_id]
        return {"ok": True, "view": copy.deepcopy(full)}

    def _m_views_push(self, args: dict) -> dict:
        view = self._check_view(args.get("view"), "modal")
        if view is None:
            return _error("invalid_arguments")
        problem = self._take_trigger(args)
        if problem:
            return problem
        if len(self._modal_stack) >= 3:
            return _error("push_limit_reached")  # Slack allows three modals in a stack
        view_id = self._next_id("V")
        root = self._modal_stack[0] if self._modal_stack else view_id
        previous = self._modal_stack[-1] if self._modal_stack else None
        full = self._full_view(view, view_id, root=root, previous=previous)
        self.views[view_id] = full
        self._modal_stack.append(view_id)
        return {"ok": True, "view": copy.deepcopy(full)}

    def _m_views_update(self, args: dict) -> dict:
        view = self._check_view(args.get("view"), "modal", "home")
        if view is None:
            return _error("invalid_arguments")
        current = self.views.get(args.get("view_id") or "")
        if current is None and args.get("external_id"):
            current = next((v for v in self.views.values() if v.get("external_id") == args["external_id"]), None)
        if current is None:
            return _error("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            return _error("hash_conflict")  # the view changed since the app last saw it
        full = self._full_view(
            view, current["id"], root=current["root_view_id"], previous=current["previous_view_id"]
        )
        self.views[current["id"]] = full
        return {"ok": True, "view": copy.deepcopy(full)}

    def _m_views_publish(self, args: dict) -> dict:
        view = self._check_view(args.get("view"), "home")
        user_id = args.get("user_id")
        if view is None or not user_id:
            return _error("invalid_arguments")
        if user_id not in self.users:
            return _error("user_not_found")
        current = self.home_views.get(user_id)
        if current is not None and args.get("hash") and args["hash"] != current["hash"]:
            return _error("hash_conflict")
        view_id = current["id"] if current else self._next_id("V")
        full = self._full_view(view, view_id, root=view_id, previous=None)
        self.home_views[user_id] = full
        self.views[view_id] = full
        return {"ok": True, "view": copy.deepcopy(full)}

    def _m_files_getUploadURLExternal(self, args: dict) -> dict:
        filename = args.get("filename")
        try:
            length = int(args.get("length") or 0)
        except ValueError:
            length = 0
        if not filename or length <= 0:
            return _error("invalid_arguments")
        file_id = self._next_id("F")
        self.files[file_id] = {
            "id": file_id, "filename": filename, "length": length, "content": None,
            "alt_txt": args.get("alt_txt"), "snippet_type": args.get("snippet_type"),
        }
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _m_files_info(self, args: dict) -> dict:
        file_id = args.get("file") or ""
        if file_id not in self.files or self.files[file_id].get("content") is None:
            return _error("file_not_found")
        return {"ok": True, "file": self._file_object(file_id)}

    def _m_files_completeUploadExternal(self, args: dict) -> dict:
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            return _error("invalid_arguments")
        done = []
        for entry in entries:
            stored = self.files.get(entry.get("id", ""))
            if stored is None or stored["content"] is None:
                return _error("file_not_found")  # never uploaded to its URL
            stored["title"] = entry.get("title") or stored["filename"]
            done.append({
                "id": stored["id"], "created": int(time.time()), "name": stored["filename"],
                "title": stored["title"], "size": len(stored["content"]), "user": BOT_USER_ID,
                "mimetype": "", "filetype": "", "is_external": False,
            })
        channels = [c for c in [args.get("channel_id"), *(args.get("channels") or "").split(",")] if c]
        for channel in channels:
            ts = self._next_ts()
            message = self._bot_message(
                {"text": args.get("initial_comment") or "", "thread_ts": args.get("thread_ts")}, ts
            )
            message.update(subtype="file_share", files=copy.deepcopy(done), upload=True)
            self._messages.setdefault(channel, []).append(message)
        return {"ok": True, "files": done}
