"""Sending what the outbox holds.

- Each row is claimed right before its send, never ahead of it (in_flight_since set,
  last_error cleared, committed: "an attempt started"), sent, then marked sent. Rows read
  ahead wait in memory, unmarked, so a process that dies leaves marked only the rows whose
  sends had started (at most `concurrency` in flight, and any sent but not yet recorded as
  sent), not the batch it had read. A process killed between "sent" and "marked" leaves
  in_flight_since set with no last_error: nobody else touches the row until in_flight_timeout
  has passed, and the next attempt first looks in the channel for a message carrying the
  row's key in its metadata, and only sends when it isn't there — so a restart never posts
  twice. A row never started is sent by the next process at once, without looking.
- Under a lease (the worker's Tenure), every claim is conditioned on the lease row still
  naming this holder with the generation the run started with, unexpired by the database's
  clock, and right before each call to Slack the holder's own deadline is checked: a
  process that lost the lease, or can't confirm it in time, stops before sending. A claim
  also holds only while the row is as it was read (its attempts unchanged), and an
  attempt's outcome is written only while the row is still this attempt's.
- Network errors and 5xx: Slack may have stored the message, so in_flight_since stays set
  (the next attempt checks the channel first) and last_error says the attempt is over, so
  it may be retried at once rather than after in_flight_timeout. Retried at once while
  failures are blips (the row's first, or its first few while most calls succeed), then with
  exponential backoff (capped), for as long as Slack is down. 429: wait for Retry-After.
  Errors that retrying can't fix (the channel is gone, the bot was removed) end the row as
  dead, with the error kept.
- Channels are sent to concurrently (up to `concurrency` messages in flight), each channel's
  messages one at a time and in order, at most one every `per_channel` seconds, counted from
  Slack's answer to the previous one.
- The bookkeeping is grouped so that a broadcast costs few transactions: claims asked for
  while another is being written go together in the next statement (on PostgreSQL over a
  connection the run keeps, in autocommit: one round trip), and sent rows are marked sent
  together (with the on_sent_in_transaction hooks, e.g. letter delivery times, in the same
  transaction), each group as soon as the previous one is committed. On SQLite, the only
  store for a single process, the dispatcher's writes take turns rather than contend for the
  file lock.
- run_once keeps going while anything is due, including retries that fall due meanwhile;
  `next_due` says how soon the next waiting row is due, so the worker can wake for it.
- A views.publish row queued without its view (a Home refresh) is built as it is sent, from
  the committed state, by the `build_view` the wiring passes in. A view that can't be built
  (or a dispatcher given no builder) is retried with backoff, as a failed send. Of a person's
  refreshes waiting together only the last is published: it shows all the earlier ones would.
- Many workspaces (`token_for` given): each row is sent with its own workspace's token, looked
  up as its attempt starts. A workspace with no installation, or whose token Slack refuses
  (REVOKED_ERRORS), is stopped at once: every row still queued for it ends as dead with the
  reason (and `on_revoked` is told, in the same transaction), none retried.
- An "email" row (its payload: to, subject, text, html) is sent by the `send_mail` the wiring
  passes in (bot.delivery.mail), not to Slack: a temporary failure (4xx, the connection) is
  retried with backoff; a refusal (5xx) ends the row as dead with the server's words, and the
  on_dead_in_transaction hooks record it (e.g. against the letter's recipient). A dispatcher
  given no sender retries such rows with backoff, as a failed send.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import bindparam, func, or_, select, tuple_, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import limits
from bot.delivery.lease import Tenure
from bot.delivery.mail import EMAIL_METHOD, MailDeferred, MailRefused, MailSender
from bot.delivery.outbox import THREAD_AFTER, abandon_team, enqueue
from models.delivery import OutboxMessage

log = logging.getLogger("scrutineer.delivery")

METADATA_EVENT = "scrutineer_outbox"
PERMANENT_ERRORS = {"channel_not_found", "not_in_channel", "is_archived", "user_not_found",
                    "account_inactive", "invalid_blocks", "msg_too_long", "no_text", "invalid_auth",
                    "not_authed", "user_disabled", "cannot_dm_bot", "missing_scope", "msg_blocks_too_long"}
WAIT_FOR_THREAD = timedelta(seconds=1)   # a reply whose thread's first message isn't out yet tries again after
REMEMBERED_POSTS = 1000                  # where recent rows went, for their replies (also in the outbox)
MAX_BACKOFF = timedelta(minutes=5)
SERVER_ERROR_PREFIXES = ("HTTP ", "network:")   # last_error of an attempt whose outcome is unknown
NOT_ATTEMPTED = "claimed but not attempted: the dispatcher stopped"
MARK_WINDOW = 0.05   # seconds a sent row may wait to be marked sent together with others
RECENT_CALLS = 20    # calls remembered to tell a blip from Slack being down
QUICK_RETRIES = 3    # a row's attempts before its retries after 5xx back off, while most calls succeed

# Builds the view of a views.publish row queued without one: (session, row, now) -> the view.
ViewBuilder = Callable[[AsyncSession, OutboxMessage, datetime], Awaitable[dict]]
# A workspace's bot token (many workspaces), None when the app is no longer installed there.
TokenFor = Callable[[str], Awaitable["str | None"]]
# Told, inside the transaction that gives up a workspace's queued rows, that its token was refused.
RevokedHook = Callable[[AsyncSession, str, str, datetime], Awaitable[None]]
# Errors saying a workspace's token is no good (many workspaces): nothing more is sent there.
REVOKED_ERRORS = frozenset({"invalid_auth", "token_revoked", "account_inactive"})

_outbox = OutboxMessage.__table__
_MARK_SENT = (update(_outbox).where(_outbox.c.id == bindparam("row_id"))
              .values(sent_at=bindparam("at", type_=_outbox.c.sent_at.type), in_flight_since=None,
                      result_channel=bindparam("result_ch"), result_ts=bindparam("result_ts"), last_error=None))


@dataclass
class Sent:
    """A row Slack has, as the dispatcher records it."""
    row: OutboxMessage
    channel: str | None
    ts: str | None
    at: datetime | None = None   # sent_at, set when recorded


@dataclass
class _Outcome:
    sent: Sent | None = None
    error: SlackApiError | None = None
    network: BaseException | None = None
    unbuilt: Exception | None = None   # the view couldn't be built: Slack wasn't called
    waiting: str | None = None         # a reply whose thread's first message isn't out yet: Slack wasn't called
    deferred: MailDeferred | None = None   # an email the mail server (or the way to it) couldn't take now
    refused: MailRefused | None = None     # an email the mail server refused for good
    stopped: bool = False              # the lease couldn't be vouched for: Slack wasn't called
    gone: str | None = None            # the workspace has no installation (token_for gave None): Slack wasn't called


@dataclass(frozen=True)
class _Fence:
    """A run under a lease: the holder, and the generation the run started with."""
    tenure: Tenure
    generation: int

    def confirmed(self) -> bool:
        """The holder's own word, on its own clock: no round trip."""
        return self.tenure.confirmed(self.generation)

    def clause(self):
        return self.tenure.fence(self.generation)


def _fence(tenure: Tenure | None) -> _Fence | None:
    if tenure is None:
        return None
    return _Fence(tenure, tenure.generation if tenure.generation is not None else -1)


class _Claimer:
    """A run's claims. Each is asked for as its row's send starts; those asked for while
    another is being written go together in the next statement (no waiting to gather them).
    On PostgreSQL the run keeps a connection for them, in autocommit: a claim is one round
    trip, with no pool checkout or transaction around it."""

    def __init__(self, dispatcher: Dispatcher, fence: _Fence | None):
        self.dispatcher = dispatcher
        self.fence = fence
        self._waiting: list[tuple[OutboxMessage, asyncio.Future]] = []
        self._task: asyncio.Task | None = None
        self._conn = None

    async def claim(self, row: OutboxMessage) -> bool:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((row, done))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._claim_waiting())
        return await done

    async def _claim_waiting(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                got = await self.dispatcher._claim_rows([row for row, _ in group], self.fence, await self._connection())
            except BaseException as e:
                await self._drop_connection()
                for _, done in group:
                    if not done.done():
                        done.set_exception(e)
                if not isinstance(e, Exception):
                    raise
            else:
                for row, done in group:
                    if not done.done():
                        done.set_result(row.id in got)

    async def _connection(self):
        if self._conn is None and self.dispatcher.db.is_postgres:
            conn = await self.dispatcher.db.engine.connect()
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def close(self) -> None:
        if self._task is not None:
            await asyncio.wait([self._task])   # (its errors went to the claims that waited on it)
        await self._drop_connection()


class Dispatcher:
    def __init__(self, db, client: AsyncWebClient, clock: Callable[[], datetime], *,
                 build_view: ViewBuilder | None = None, send_mail: MailSender | None = None, per_channel: float = 1.0, batch: int = 50,
                 concurrency: int = 8, in_flight_timeout: timedelta = timedelta(seconds=60),
                 token_for: TokenFor | None = None, on_revoked: RevokedHook | None = None):
        self.db = db
        self.client = client
        # Many workspaces: each row is sent with its own workspace's token, token_for(row.team_id)
        # (None: the app isn't installed there any more). Without it, every row goes with `client`'s.
        self.token_for = token_for
        self.on_revoked = on_revoked      # (session, team_id, error, now): a workspace's token was refused
        self._team_clients: dict[str, AsyncWebClient] = {}   # team -> a client with its current token
        self.build_view = build_view      # views queued without their view are built by this when sent
        self.send_mail = send_mail        # "email" rows are sent by this (bot.delivery.mail.smtp_sender)
        self.clock = clock
        self.per_channel = per_channel
        self.batch = batch                # rows read from the outbox at a time
        self.concurrency = concurrency    # messages in flight at once (each to its own channel)
        self.in_flight_timeout = in_flight_timeout
        self._last_sent: dict[str, float] = {}  # channel -> loop time Slack answered its last message
        # async callables(row, channel, ts) run after a send is recorded (e.g. letter delivery times)
        self.on_sent: list[Callable] = []
        # async callables(session, [Sent]) run inside the transaction that records the sends
        self.on_sent_in_transaction: list[Callable] = []
        # async callables(session, row, error) run inside the transaction that gives a row up as dead
        self.on_dead_in_transaction: list[Callable] = []
        self._to_mark: list[tuple[Sent, asyncio.Future]] = []
        self._marker: asyncio.Task | None = None
        self._write_lock: asyncio.Lock | None = None
        self._recent: deque[bool] = deque(maxlen=RECENT_CALLS)   # recent calls: did Slack fail (5xx, network)?
        self._posted: dict[str, tuple[str | None, str | None]] = {}   # key -> (channel, ts) of rows sent lately

    # ---- reading the outbox -----------------------------------------------------------

    def _pending(self):
        return (OutboxMessage.sent_at.is_(None), OutboxMessage.dead_at.is_(None))

    def _not_busy(self, now: datetime):
        """Nobody is sending it right now: never attempted, the last attempt ended (with an error,
        kept in last_error), or the last attempt is long dead."""
        return or_(OutboxMessage.in_flight_since.is_(None), OutboxMessage.last_error.is_not(None),
                   OutboxMessage.in_flight_since < now - self.in_flight_timeout)

    async def due(self, exclude: Collection[int] = (), limit: int | None = None) -> list[OutboxMessage]:
        now = self.clock()
        query = (select(OutboxMessage).where(*self._pending(), OutboxMessage.not_before <= now, self._not_busy(now))
                 .order_by(OutboxMessage.not_before, OutboxMessage.id).limit(limit or self.batch))
        if exclude:
            query = query.where(OutboxMessage.id.not_in(list(exclude)))
        async with self.db.session() as s:
            return list(await s.scalars(query))

    async def next_due(self) -> float | None:
        """Seconds until the earliest waiting row is due (0 if one is due now); None if none waits."""
        now = self.clock()
        async with self.db.session() as s:
            first = await s.scalar(select(func.min(OutboxMessage.not_before)).where(*self._pending(),
                                                                                    self._not_busy(now)))
        return None if first is None else max(0.0, (first - now).total_seconds())

    # ---- sending ----------------------------------------------------------------------

    async def run_once(self, tenure: Tenure | None = None) -> int:
        """Send everything that is due, and what falls due meanwhile, until nothing is: up to
        `concurrency` messages at once, each channel's in order and paced. Returns how many
        were sent. `tenure`: the worker's hold on its lease. The run keeps to the generation it
        starts with and stops as soon as the holder can't vouch for it (its deadline passed,
        the lease changed hands): every claim is fenced by the lease row, every send by the
        deadline."""
        fence = _fence(tenure)
        claimer = _Claimer(self, fence)
        lanes: dict[str, deque[OutboxMessage]] = {}   # channel -> its rows waiting here, in order
        held: set[int] = set()                        # ids in a lane (being sent, or waiting to be), unmarked
        slots = asyncio.Semaphore(max(1, self.concurrency))
        progress = asyncio.Event()
        state: dict = {"sent": 0, "stop": False, "error": None}
        marking: list[asyncio.Task] = []              # sent rows being recorded, with others

        async def lane(channel: str) -> None:
            queue = lanes[channel]
            try:
                while queue and not state["stop"]:
                    row = queue[0]
                    superseded = self._superseded(row, queue)
                    if not superseded and not self._checks_first(row):   # (a check isn't a message: it needn't wait)
                        await self._pace(channel)
                    async with slots:
                        if state["stop"]:
                            break
                        if fence is not None and not fence.confirmed():
                            state["stop"] = True
                            break
                        outcome = await (self._supersede(row, fence, claimer) if superseded
                                         else self._attempt(row, fence, claimer))
                    if outcome is not None and outcome.stopped:
                        state["stop"] = True
                        break
                    if outcome is not None and outcome.sent is not None:   # recorded in the background
                        marking.append(asyncio.create_task(self._record_sent(outcome.sent)))
                        state["sent"] += not superseded
                    else:
                        await self._settle(row, outcome)
                    queue.popleft()
                    held.discard(row.id)
                    progress.set()
            except Exception as e:  # a database error, say: stop, and let the caller see it
                state["stop"] = True
                state["error"] = state["error"] or e
            finally:
                for row in queue:   # not attempted: left for the next run
                    held.discard(row.id)
                del lanes[channel]
                progress.set()

        tasks: set[asyncio.Task] = set()
        try:
            while True:
                progress.clear()   # (before reading: a lane that finishes meanwhile must wake us again)
                if fence is not None and not state["stop"] and not fence.confirmed():
                    state["stop"] = True
                if not state["stop"] and len(held) <= self.batch // 2:   # refill when half empty
                    # Read ahead, not claimed: each row is claimed as its send starts.
                    for row in await self.due(exclude=held, limit=self.batch - len(held)):
                        held.add(row.id)
                        if row.channel in lanes:
                            lanes[row.channel].append(row)
                        else:
                            lanes[row.channel] = deque([row])
                            task = asyncio.create_task(lane(row.channel))
                            tasks.add(task)
                            task.add_done_callback(tasks.discard)
                if not lanes:
                    if progress.is_set() and not state["stop"]:
                        continue   # the last lane ended while we read: what it left may be due now
                    break
                await progress.wait()
        finally:
            state["stop"] = True   # on the way out (cancelled, say): no lane starts another message
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            for result in await asyncio.gather(*marking, return_exceptions=True):
                if isinstance(result, Exception):
                    state["error"] = state["error"] or result
            await claimer.close()
        self._forget_quiet_channels()
        if state["error"] is not None:
            raise state["error"]
        return state["sent"]

    async def deliver(self, row: OutboxMessage, tenure: Tenure | None = None) -> bool:
        """Claim, send and record one row (as read: a row changed since isn't claimed); True
        when it is (now known to be) in Slack."""
        return await self._settle(row, await self._attempt(row, _fence(tenure)))

    async def _pace(self, channel: str) -> None:
        last = self._last_sent.get(channel)
        if last is not None:
            wait = last + self.per_channel - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)

    def _forget_quiet_channels(self) -> None:
        horizon = asyncio.get_running_loop().time() - self.per_channel
        for channel in [c for c, t in self._last_sent.items() if t < horizon]:
            del self._last_sent[channel]

    async def _attempt(self, row: OutboxMessage, fence: _Fence | None,
                       claimer: _Claimer | None = None) -> _Outcome | None:
        """One attempt at Slack; None when someone else has the row."""
        if not await (claimer.claim(row) if claimer is not None else self._claim_one(row, fence)):
            return await self._not_claimed(fence)
        if self.token_for is not None and row.method != EMAIL_METHOD:
            token = await self.token_for(row.team_id)   # (a database error stops the run, as below)
            if token is None:
                return _Outcome(gone="app_uninstalled")
            self._use_token(row.team_id, token)
        try:
            view = await self._view(row)
        except (DBAPIError, OSError, asyncio.TimeoutError):
            raise   # the database's trouble, not the row's: stop, as for any database error
        except Exception as e:  # something in the data the view can't show: retry later, as a failed send
            log.exception("Could not build the view for %s", row.key)
            return _Outcome(unbuilt=e)
        thread = await self._thread(row)
        if thread is False:
            return _Outcome(waiting=f"waiting for {row.payload.get(THREAD_AFTER)} to be sent first")
        try:
            if self._checks_first(row):
                found = await self._already_posted(row, thread)
                if found is not None:
                    return _Outcome(sent=self._remember(Sent(row, *found)))
            await self._pace(row.channel)
            if fence is not None and not fence.confirmed():   # the last moment to hold back
                await self._unclaim(row)
                return _Outcome(stopped=True)
            outcome = _Outcome(sent=self._remember(Sent(row, *await self._call(row, view, thread))))
        except SlackApiError as e:
            outcome = _Outcome(error=e)
        except MailRefused as e:
            outcome = _Outcome(refused=e)
        except MailDeferred as e:
            outcome = _Outcome(deferred=e)
        except (OSError, asyncio.TimeoutError) as e:  # network trouble: Slack may be down, or may have it
            outcome = _Outcome(network=e)
        self._recent.append(outcome.network is not None or (
            outcome.error is not None and outcome.error.response.status_code >= 500))
        return outcome

    def _remember(self, sent: Sent) -> Sent:
        """Where a row went, for replies in its thread queued behind it (its mark in the
        outbox may still be on its way)."""
        self._posted[sent.row.key] = (sent.channel, sent.ts)
        while len(self._posted) > REMEMBERED_POSTS:
            del self._posted[next(iter(self._posted))]
        return sent

    async def _thread(self, row: OutboxMessage) -> tuple[str, str] | None | bool:
        """A reply's thread: (channel, ts) of the row it goes under (payload THREAD_AFTER);
        False while that row isn't sent yet; None for a message that isn't a reply, or whose
        first message was given up on (then it goes to the channel on its own)."""
        parent = row.payload.get(THREAD_AFTER) if row.method == "chat.postMessage" else None
        if not parent:
            return None
        if parent in self._posted:
            channel, ts = self._posted[parent]
        else:
            async with self.db.session() as s:
                first = (await s.execute(select(OutboxMessage.sent_at, OutboxMessage.dead_at,
                                                OutboxMessage.result_channel, OutboxMessage.result_ts)
                                         .where(OutboxMessage.key == parent))).first()
            if first is None or first.dead_at is not None:
                return None
            if first.sent_at is None:
                return False
            channel, ts = first.result_channel, first.result_ts
        return (channel or row.channel, ts) if ts else None

    async def _view(self, row: OutboxMessage) -> dict | None:
        """A views.publish row's view: built now, or as queued (rows queued before views were
        built at send time). None for a message."""
        if row.method != "views.publish":
            return None
        if "view" in row.payload:
            return row.payload["view"]
        if self.build_view is None:
            raise LookupError("no view builder: this dispatcher was given no build_view")
        async with self.db.session() as s:
            return await self.build_view(s, row, self.clock())

    @staticmethod
    def _superseded(row: OutboxMessage, queue: deque[OutboxMessage]) -> bool:
        """A Home refresh with another for the same person behind it in its channel's queue,
        built when sent: that one will show everything this one would."""
        return row.method == "views.publish" and any(
            r.method == "views.publish" and r.team_id == row.team_id and "view" not in r.payload
            for r in islice(queue, 1, None))

    async def _supersede(self, row: OutboxMessage, fence: _Fence | None,
                         claimer: _Claimer | None = None) -> _Outcome | None:
        """Recorded as sent without calling Slack; None when someone else has the row."""
        if not await (claimer.claim(row) if claimer is not None else self._claim_one(row, fence)):
            return await self._not_claimed(fence)
        return _Outcome(sent=Sent(row, row.channel, None))

    @staticmethod
    async def _not_claimed(fence: _Fence | None) -> _Outcome | None:
        """A claim found nothing: someone else has the row (None) — or, under a lease, the lease
        is no longer this run's, and the run stops."""
        if fence is not None and not await fence.tenure.still_held(fence.generation):
            return _Outcome(stopped=True)
        return None

    @staticmethod
    def _checks_first(row: OutboxMessage) -> bool:
        """An earlier attempt may have reached Slack: look in the channel before posting."""
        return row.in_flight_since is not None and row.method == "chat.postMessage"

    async def _settle(self, row: OutboxMessage, outcome: _Outcome | None) -> bool:
        """Record how an attempt went. True when the row is sent."""
        if outcome is None or outcome.stopped:
            return False
        if outcome.sent is not None:
            await self._record_sent(outcome.sent)
            return True
        if outcome.error is not None:
            await self._failed(row, outcome.error)
        elif outcome.unbuilt is not None:
            await self._retry(row, f"building the view: {outcome.unbuilt!r}", self._backoff(row))
        elif outcome.waiting is not None:
            await self._retry(row, outcome.waiting, WAIT_FOR_THREAD)
        elif outcome.gone is not None:
            await self._stop_team(row.team_id, outcome.gone)
        elif outcome.refused is not None:
            await self._give_up(row, f"refused: {outcome.refused}")
        elif outcome.deferred is not None:
            await self._retry(row, f"mail deferred: {outcome.deferred}", self._backoff(row))
        else:
            await self._retry(row, f"network: {outcome.network!r}", self._server_backoff(row), uncertain=True)
        return False

    async def _call(self, row: OutboxMessage, view: dict | None,
                    thread: tuple[str, str] | None = None) -> tuple[str | None, str | None]:
        payload = dict(row.payload)
        payload.pop(THREAD_AFTER, None)
        channel = row.channel
        if thread is not None:
            channel, payload["thread_ts"] = thread
        try:
            if row.method == EMAIL_METHOD:
                if self.send_mail is None:
                    raise MailDeferred("no mail server configured (SCRUTINEER_SMTP_URL)")
                await self.send_mail(row.payload, row.key)
                return row.channel, None
            if row.method == "views.publish":
                await self._client_of(row).views_publish(user_id=row.channel, view=view)
                return row.channel, None
            payload["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"key": row.key}}
            resp = await self._client_of(row).chat_postMessage(channel=channel, **payload)
            return resp.get("channel"), resp.get("ts")
        finally:  # the channel's next message waits from Slack's answer to this one
            self._last_sent[row.channel] = asyncio.get_running_loop().time()

    async def _already_posted(self, row: OutboxMessage,
                              thread: tuple[str, str] | None = None) -> tuple[str, str] | None:
        """After a crash or a 5xx mid-send: did Slack get it? Look for our key in recent messages
        (a reply: in its thread, which the channel's history doesn't show)."""
        channel = thread[0] if thread is not None else row.channel
        if channel.startswith(("U", "W")):
            opened = await self._client_of(row).conversations_open(users=channel)
            channel = opened["channel"]["id"]
        # From when the row was queued: every attempt since may have reached Slack, however long ago.
        since = min(row.created_at, row.in_flight_since)
        if thread is not None:
            history = await self._client_of(row).conversations_replies(channel=channel, ts=thread[1], limit=200,
                                                              include_all_metadata=True,
                                                              oldest=str(since.timestamp() - 60))
        else:
            history = await self._client_of(row).conversations_history(channel=channel, limit=100,
                                                              include_all_metadata=True,
                                                              oldest=str(since.timestamp() - 60))
        for message in history.get("messages", []):
            meta = message.get("metadata") or {}
            if meta.get("event_type") == METADATA_EVENT and (meta.get("event_payload") or {}).get("key") == row.key:
                return channel, message.get("ts")
        return None

    # ---- bookkeeping --------------------------------------------------------------------

    def _writing(self):
        """SQLite has one writer at a time: take turns here rather than in its busy handler."""
        if self.db.is_postgres:
            return contextlib.nullcontext()
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        return self._write_lock

    def _claim_values(self, now: datetime) -> dict:
        # Record that an attempt is starting, so a crash from here on is detectable.
        return dict(in_flight_since=now, last_error=None, attempts=OutboxMessage.attempts + 1)

    async def _claim_one(self, row: OutboxMessage, fence: _Fence | None = None) -> bool:
        return row.id in await self._claim_rows([row], fence)

    async def _claim_rows(self, rows: list[OutboxMessage], fence: _Fence | None, conn=None) -> set[int]:
        """Claim rows as their attempts start: each only if it is still as read (attempts
        unchanged), due and not busy, and, under a lease, while the lease row still says it
        is this run's. The ids claimed. `conn`: a connection in autocommit to use (PostgreSQL)."""
        now = self.clock()
        if len(rows) == 1:
            which = (OutboxMessage.id == rows[0].id, OutboxMessage.attempts == rows[0].attempts)
        else:   # (by id, so the primary key finds them; then each as read)
            which = (OutboxMessage.id.in_([r.id for r in rows]),
                     tuple_(OutboxMessage.id, OutboxMessage.attempts).in_([(r.id, r.attempts) for r in rows]))
        conditions = [*which, *self._pending(), self._not_busy(now)]
        if fence is not None:
            conditions.append(fence.clause())
        claim = update(OutboxMessage).where(*conditions).values(**self._claim_values(now))
        if conn is not None:
            return set((await conn.execute(claim.returning(OutboxMessage.id))).scalars())
        async with self._writing(), self.db.session() as s, s.begin():
            if self.db.engine.dialect.update_returning:
                result = await s.execute(claim.returning(OutboxMessage.id).execution_options(synchronize_session=False))
                return set(result.scalars())
            got = set()
            for row in rows:
                result = await s.execute(claim.where(OutboxMessage.id == row.id)
                                         .execution_options(synchronize_session=False))
                if result.rowcount == 1:
                    got.add(row.id)
            return got

    @staticmethod
    def _ours(row: OutboxMessage):
        """The row is still as this attempt's claim left it: nobody has claimed it since."""
        return (OutboxMessage.id == row.id, OutboxMessage.attempts == row.attempts + 1)

    async def _unclaim(self, row: OutboxMessage) -> None:
        """Claimed, then stopped before calling Slack: put the row back as it was, so the next
        process sends it at once (and checks the channel first only if it did before)."""
        values = dict(in_flight_since=row.in_flight_since, attempts=row.attempts,
                      last_error=row.last_error or (NOT_ATTEMPTED if row.in_flight_since is not None else None))
        try:
            async with self._writing(), self.db.session() as s, s.begin():
                await s.execute(update(OutboxMessage).where(*self._ours(row), OutboxMessage.last_error.is_(None),
                                                            *self._pending()).values(**values)
                                .execution_options(synchronize_session=False))
        except Exception:  # left claimed: the next process waits out in_flight_timeout and checks first
            log.warning("Could not put back %s, claimed and not sent", row.key, exc_info=True)

    def _backoff(self, row: OutboxMessage) -> timedelta:
        """1 s, 2 s, 4 s … by attempts before this one, up to MAX_BACKOFF."""
        return min(timedelta(seconds=2 ** min(row.attempts, 12)), MAX_BACKOFF)

    def _server_backoff(self, row: OutboxMessage) -> timedelta:
        """After a 5xx or a network error: at once when it is the row's first such failure in a
        row, or one of its first few while most calls succeed — a failure among successes is a
        blip, and the retry checks the channel before posting, so it can't post twice. Backing
        off exponentially while Slack keeps failing, this row or most calls."""
        if not (row.last_error or "").startswith(SERVER_ERROR_PREFIXES):
            return timedelta(0)
        if row.attempts < QUICK_RETRIES and not self._slack_failing():
            return timedelta(0)
        return self._backoff(row)

    def _slack_failing(self) -> bool:
        """Most of the last calls failed on Slack's side (or on the way there)."""
        return len(self._recent) >= 4 and sum(self._recent) * 2 >= len(self._recent)

    async def _failed(self, row: OutboxMessage, e: SlackApiError) -> None:
        status = e.response.status_code
        error = (e.response.data or {}).get("error") if isinstance(e.response.data, dict) else None
        if status == 429:
            try:
                retry_after = int(e.response.headers.get("Retry-After", e.response.headers.get("retry-after", 1)) or 1)
            except ValueError:
                retry_after = 1
            await self._retry(row, "ratelimited", timedelta(seconds=max(1, retry_after)))
        elif status >= 500 or error in (None, "internal_error", "fatal_error", "service_unavailable",
                                        "request_timeout"):
            # A 5xx may come after Slack stored the message: check before sending again.
            await self._retry(row, f"HTTP {status}: {error}", self._server_backoff(row), uncertain=True)
        elif error in limits.TOO_LONG_ERRORS and await self._split(row, error):
            log.info("Split %s, too long for one message (%s)", row.key, error)
        elif self.token_for is not None and error in REVOKED_ERRORS:
            await self._stop_team(row.team_id, error)
        elif error in PERMANENT_ERRORS or error in limits.TOO_LONG_ERRORS:
            await self._give_up(row, error)
        else:
            await self._retry(row, str(error), self._backoff(row))

    def _use_token(self, team_id: str, token: str) -> None:
        client = self._team_clients.get(team_id)
        if client is None or client.token != token:
            self._team_clients[team_id] = AsyncWebClient(
                token=token, base_url=self.client.base_url, timeout=self.client.timeout,
                retry_handlers=list(self.client.retry_handlers))

    def _client_of(self, row: OutboxMessage) -> AsyncWebClient:
        """The client to send a row with: its own workspace's (many workspaces), never another's."""
        if self.token_for is None:
            return self.client
        return self._team_clients[row.team_id]   # (set by this row's attempt: a KeyError, never a wrong token)

    async def _stop_team(self, team_id: str, error: str) -> None:
        """A workspace's token is refused, or the app isn't installed there: everything still
        queued for it ends as dead with `error`, at once; nothing more is sent there."""
        now = self.clock()
        async with self._writing(), self.db.session() as s, s.begin():
            if self.on_revoked is not None:
                await self.on_revoked(s, team_id, error, now)
            # Each row given up is told to the on_dead hooks as a death of its own would be (a
            # letter's recipient marked undelivered), in this same transaction.
            waiting = list(await s.scalars(select(OutboxMessage).where(
                OutboxMessage.team_id == team_id, OutboxMessage.sent_at.is_(None), OutboxMessage.dead_at.is_(None))))
            dropped = await abandon_team(s, team_id, error, now)
            await self._tell_dead(s, waiting, error[:500])
        log.warning("Stopped sending to workspace %s (%s): %d queued messages given up", team_id, error, dropped)

    async def _tell_dead(self, s: AsyncSession, rows: list[OutboxMessage], error: str) -> None:
        for row in rows:
            for hook in self.on_dead_in_transaction:
                try:
                    async with s.begin_nested():
                        await hook(s, row, error)
                except Exception:  # the row is dead regardless; the bookkeeping failing must not undo it
                    log.exception("on_dead_in_transaction hook failed for %s", row.key)

    async def _give_up(self, row: OutboxMessage, error: str) -> None:
        """Retrying can't help: the row ends as dead, the error kept (and the hooks told)."""
        error = (error or "error")[:500]
        async with self._writing(), self.db.session() as s, s.begin():
            done = await s.execute(update(OutboxMessage).where(*self._ours(row)).values(
                dead_at=self.clock(), in_flight_since=None, last_error=error)
                .execution_options(synchronize_session=False))
            if done.rowcount == 1:
                await self._tell_dead(s, [row], error)
        log.warning("Gave up on %s: %s", row.key, error)

    async def _split(self, row: OutboxMessage, error: str) -> bool:
        """A message Slack refused as too long: the row becomes its first part, sent again at
        once, and the rest are queued as replies in its thread ("<key>+2", …). False when there
        is nothing to split (it is within the limits already): then it is given up on."""
        payload = dict(row.payload)
        blocks = payload.get("blocks")
        if isinstance(blocks, str):   # (slack_sdk accepts blocks as JSON text)
            try:
                blocks = json.loads(blocks)
            except ValueError:
                return False
        if row.method != "chat.postMessage" or payload.get("attachments"):
            return False
        text = payload.get("text") or ""
        if isinstance(blocks, list) and blocks:
            groups = limits.split_blocks(blocks, limits.MAX_BLOCKS - 1)   # room for a note
            if len(groups) == 1 and groups[0] == blocks:
                if len(text) <= limits.MESSAGE_TEXT:
                    return False
                groups = [blocks]
            parts = [{**payload, "blocks": g} for g in groups]
        elif len(text) > limits.MESSAGE_TEXT:
            parts = [{**payload, "text": piece} for piece in limits.split_text(text, limits.MESSAGE_TEXT - 100)]
        else:
            return False
        n = len(parts)
        head = limits.split_text(" ".join(text.split()) or "Message", 200)[0]
        for i, part in enumerate(parts, start=1):
            if len(part.get("text") or "") > limits.MESSAGE_TEXT or ("blocks" in part and i > 1):
                part["text"] = f"{head} (continued, part {i} of {n})" if i > 1 else head
            if "blocks" in part and n > 1:
                note = ("_Continued in the thread below._" if i == 1 else f"_Continued, part {i} of {n}._")
                note_block = {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}
                part["blocks"] = part["blocks"] + [note_block] if i == 1 else [note_block] + part["blocks"]
        parent = payload.get(THREAD_AFTER) or row.key
        now = self.clock()
        async with self._writing(), self.db.session() as s, s.begin():
            done = await s.execute(update(OutboxMessage).where(*self._ours(row)).values(
                payload=parts[0], not_before=now, last_error=f"{error}: split into {n} messages",
                in_flight_since=row.in_flight_since)   # (refused: Slack has nothing of this attempt)
                .execution_options(synchronize_session=False))
            if done.rowcount != 1:
                return True   # someone else has the row now: theirs to finish
            for i, part in enumerate(parts[1:], start=2):
                await enqueue(s, team_id=row.team_id, key=f"{row.key}+{i}", channel=row.channel,
                              payload={**part, THREAD_AFTER: parent}, now=now)
        return True

    async def _retry(self, row: OutboxMessage, error: str, delay: timedelta, uncertain: bool = False) -> None:
        # When the attempt surely failed, clear in_flight_since so the next one needn't search history.
        # last_error (never empty) marks the attempt as over: the row may be claimed again once due.
        values = dict(last_error=(error or "error")[:500], not_before=self.clock() + delay)
        if not uncertain and row.in_flight_since is None:  # an earlier uncertain attempt stays uncertain
            values["in_flight_since"] = None
        async with self._writing(), self.db.session() as s, s.begin():
            await s.execute(update(OutboxMessage).where(*self._ours(row)).values(**values)
                            .execution_options(synchronize_session=False))

    async def _record_sent(self, sent: Sent) -> None:
        """Mark a row sent, together with whatever else has been sent meanwhile; then its hooks."""
        done = asyncio.get_running_loop().create_future()
        self._to_mark.append((sent, done))
        if self._marker is None or self._marker.done():
            self._marker = asyncio.create_task(self._mark_waiting())
        await done
        for hook in self.on_sent:
            try:
                await hook(sent.row, sent.channel, sent.ts)
            except Exception:  # the message is out; a bookkeeping hook failing must not stop the rest
                log.exception("on_sent hook failed for %s", sent.row.key)

    async def _mark_waiting(self) -> None:
        while self._to_mark:
            if len(self._to_mark) < self.concurrency:   # let a few more arrive, to share the commit
                await asyncio.sleep(MARK_WINDOW)
            group, self._to_mark = self._to_mark, []
            try:
                await self._mark_group([sent for sent, _ in group])
            except Exception as e:
                for _, done in group:
                    if not done.done():
                        done.set_exception(e)
            else:
                for _, done in group:
                    if not done.done():
                        done.set_result(None)

    async def _mark_group(self, group: list[Sent]) -> None:
        now = self.clock()
        for sent in group:
            sent.at = now
        async with self._writing(), self.db.session() as s, s.begin():
            await s.execute(_MARK_SENT, [{"row_id": sent.row.id, "at": now, "result_ch": sent.channel,
                                          "result_ts": sent.ts} for sent in group])
            for hook in self.on_sent_in_transaction:
                try:
                    async with s.begin_nested():
                        await hook(s, group)
                except Exception:  # as for on_sent: the messages are out, record them regardless
                    log.exception("on_sent_in_transaction hook failed for %s", [g.row.key for g in group])
