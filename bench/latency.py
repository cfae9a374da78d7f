"""Latency, throughput, memory and start-up of `scrutineer serve`, against a bare Bolt app.

    .venv/bin/python bench/latency.py [--store sqlite|postgresql|both] [--scale 100x10x100]
                                      [--requests 100] [--json PATH]

For each store: the data set from bench/data.py (100 workspaces x 10 committees x 100
items by default, loaded once and copied per run), the fake Slack Web API
(bot/offline/local_slack.py) on 127.0.0.1, `scrutineer serve` as its own process, and the floor,
bench/floor_app.py, a Bolt app that only acknowledges, served the same way. Each command
is sent as Slack sends it (form body, signed) to both, request for request: the same
requests in alternating rounds (floor, Scrutineer, Scrutineer, floor, …) so drift in
the machine falls on both.

What is timed is what a person waits for: from sending the request until the answer is
there, which for Scrutineer is its acknowledgement when the answer rides in it, or the
message it posts to the response_url; for the floor, its (empty) acknowledgement.

Measured at 1 client and at 16 concurrent clients; p50, p99, max and throughput. The
targets (issue 5): p50 <= 1.5x floor, p99 <= 2x floor, no request over 1 s, throughput
at 16 clients >= 60% of the floor's. Also: resident memory (VmRSS) of the serve process
idle and after the load (< 150 MB), and time from starting it to a 200 from /healthz
(< 3 s).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import data  # noqa: E402
from results import row  # noqa: E402

from bot.offline import slack_payloads as payloads  # noqa: E402
from bot.offline.local_slack import LocalSlack  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
COMMANDS = ("/actions overdue", "/actions mine", "/position rec-N", "/position rec-N history",
            "/update rec-N position …")


@dataclass
class Sample:
    seconds: float
    ok: bool


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)
    busy: float = 0.0      # wall time spent in this app's rounds

    def add(self, other: "Series") -> None:
        self.samples += other.samples
        self.busy += other.busy

    def quantile(self, q: float) -> float:
        xs = sorted(s.seconds for s in self.samples)
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]

    @property
    def throughput(self) -> float:
        return len(self.samples) / self.busy if self.busy else 0.0

    @property
    def errors(self) -> int:
        return sum(not s.ok for s in self.samples)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    """A process answering POST /slack/events on a port of its own."""

    def __init__(self, argv: list[str], env: dict, port: int):
        self.argv, self.env, self.port = argv, env, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    async def start(self, http: aiohttp.ClientSession, timeout: float = 60.0) -> float:
        """Start it; seconds until /healthz answers 200."""
        started = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=open(f"/tmp/bench-{self.port}.log", "w"))
        while time.perf_counter() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv[0]} exited {self.proc.returncode}; see /tmp/bench-{self.port}.log")
            try:
                async with http.get(self.url + "/healthz", timeout=aiohttp.ClientTimeout(total=1)) as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.02)
        raise RuntimeError(f"{self.argv} did not answer /healthz within {timeout} s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Bench:
    def __init__(self, slack: LocalSlack, http: aiohttp.ClientSession, workspaces: int, committees: int,
                 items: int, seed: int = 5):
        self.slack, self.http = slack, http
        self.workspaces, self.committees, self.items = workspaces, committees, items
        self.rng = random.Random(seed)
        self.waiting: dict[str, asyncio.Future] = {}
        slack.listeners.append(self._on_call)

    def _on_call(self, call) -> None:
        if call.method == "response_url":
            fut = self.waiting.pop(call.path, None)
            if fut is not None and not fut.done():
                fut.set_result((time.perf_counter(), call.args))

    def request(self, command: str, i: int) -> tuple[str, str, dict]:
        """(slash command, text, who and where) for the i-th request of a kind."""
        w = self.rng.randrange(1, self.workspaces + 1)
        c = self.rng.randrange(self.committees)
        n = self.rng.randrange(1, self.items + 1)
        owner = (n - 1) % data.ROLES_PER_WORKSPACE
        where = {"team_id": data.team_id(w), "channel_id": data.channel_id(w, c)}
        if command == "/actions overdue":
            return "/actions", "overdue", {**where, "user_id": data.user_id(w, owner)}
        if command == "/actions mine":
            return "/actions", "mine", {**where, "user_id": data.user_id(w, owner)}
        if command == "/position rec-N":
            return "/position", f"rec-{n}", {**where, "user_id": data.user_id(w, 9 - owner)}
        if command == "/position rec-N history":
            return "/position", f"rec-{n} history", {**where, "user_id": data.user_id(w, 9 - owner)}
        return "/update", f"rec-{n} position Bench update {i}: figures received and circulated.", \
            {**where, "user_id": data.user_id(w, owner)}

    async def one(self, url: str, req: tuple[str, str, dict], answer_expected: bool) -> Sample:
        command, text, who = req
        key = uuid.uuid4().hex
        body = payloads.slash_command_body(command, text, response_url=self.slack.response_url(key), **who)
        headers = payloads.sign(body, SECRET)
        fut = asyncio.get_running_loop().create_future()
        if answer_expected:
            self.waiting[key] = fut
        started = time.perf_counter()
        try:
            async with self.http.post(url + "/slack/events", data=body.encode(), headers=headers) as resp:
                raw = await resp.read()
                acked = time.perf_counter()
                status = resp.status
        except aiohttp.ClientError:
            self.waiting.pop(key, None)
            return Sample(time.perf_counter() - started, False)
        if not answer_expected:
            return Sample(acked - started, status == 200)
        answer = json.loads(raw) if raw.strip().startswith(b"{") else None
        if answer and (answer.get("text") or answer.get("blocks")):
            self.waiting.pop(key, None)
            return Sample(acked - started, status == 200 and not _is_warning(answer))
        try:
            at, args = await asyncio.wait_for(fut, 10)
        except asyncio.TimeoutError:
            self.waiting.pop(key, None)
            return Sample(time.perf_counter() - started, False)
        return Sample(max(at, acked) - started, status == 200 and not _is_warning(args))

    async def round(self, url: str, reqs: list, concurrency: int, answer_expected: bool) -> Series:
        series = Series()
        queue = list(reqs)

        async def client():
            while queue:
                series.samples.append(await self.one(url, queue.pop(0), answer_expected))

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        series.busy = time.perf_counter() - started
        return series


def _is_warning(answer: dict) -> bool:
    return (answer.get("text") or "").startswith(":warning:")


async def run_store(store: str, args) -> list[dict]:
    workspaces, committees, items = args.scale
    run_name = f"bench_latency_{os.getpid()}"
    print(f"[{store}] preparing the data set…", file=sys.stderr)
    url = await data.prepared_copy(store, run_name, workspaces=workspaces, committees=committees, items=items)
    slack = LocalSlack(team_id=data.team_id(1))
    for w in range(1, workspaces + 1):
        for k in range(data.ROLES_PER_WORKSPACE):
            slack.add_user(data.user_id(w, k), f"member{w}_{k}", team_id=data.team_id(w))
    await slack.start()
    rows: list[dict] = []
    servers: list[Server] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:
        try:
            env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                   "SLACK_API_URL": slack.api_url, "DATABASE_URL": url, "SLACK_APP_TOKEN": ""}
            python = sys.executable
            # The worker is off in the process measured: on a working day its first round
            # queues and sends the day's reminders for every overdue item in every workspace
            # (37,000 at this scale), which would be measured instead of the commands. A hosted
            # service runs web replicas with SCRUTINEER_WORKER=off beside a worker replica.
            ours = Server([str(Path(python).with_name("scrutineer")), "serve"],
                          {**env, "PORT": str(port := free_port()), "SCRUTINEER_WORKER": args.worker}, port)
            floors = [Server([python, "bench/floor_app.py", str(p := free_port())] + extra, env, p)
                      for extra in ([], ["--before-response"])]
            servers = [ours, *floors]
            startup = await ours.start(http)
            for f in floors:
                await f.start(http)
            bench = Bench(slack, http, workspaces, committees, items)
            rows.append(row("start-up", store, "serve answers /healthz", startup, "s", "< 3 s", startup < 3))
            # With the worker on, its first round (the day's reminders) is timed on its own
            # and the commands are measured after it.
            if args.worker == "on":
                burst, sent = await wait_until_idle(url, slack, args.settle)
                rows.append(row("scheduled", store, f"first worker round: {sent:,} reminders queued and sent",
                                burst, "s", "", True))
            else:
                await asyncio.sleep(args.settle)
            idle = rss_mb(ours.proc.pid)
            # Warm both (connections, caches a real server would have after its first minutes).
            for command in COMMANDS:
                warm = [bench.request(command, i) for i in range(20)]
                await bench.round(ours.url, warm, 4, True)
                for f in floors:
                    await bench.round(f.url, warm, 4, False)
            for concurrency in (1, 16):
                for command in COMMANDS:
                    n = args.requests * (4 if concurrency > 1 else 1)
                    reqs = [bench.request(command, i) for i in range(n)]
                    chunks = [reqs[i::4] for i in range(4)]
                    ours_s, floor_s = Series(), [Series(), Series()]
                    for k, chunk in enumerate(chunks):
                        order = ("floor", "ours") if k % 2 == 0 else ("ours", "floor")
                        for who in order:
                            if who == "ours":
                                ours_s.add(await bench.round(ours.url, chunk, concurrency, True))
                            else:
                                for j, f in enumerate(floors):
                                    floor_s[j].add(await bench.round(f.url, chunk, concurrency, False))
                    floor = min(floor_s, key=lambda s: s.quantile(0.5))
                    rows += latency_rows(store, command, concurrency, ours_s, floor)
                    print(f"[{store}] {command:26} x{concurrency:<2}  p50 {1000 * ours_s.quantile(.5):6.1f} ms "
                          f"(floor {1000 * floor.quantile(.5):5.1f})  p99 {1000 * ours_s.quantile(.99):6.1f} ms "
                          f"(floor {1000 * floor.quantile(.99):5.1f})  max {1000 * ours_s.quantile(1):6.1f} ms  "
                          f"{ours_s.throughput:6.1f}/s (floor {floor.throughput:6.1f}/s)  errors {ours_s.errors}",
                          file=sys.stderr)
            after = rss_mb(ours.proc.pid)
            rows.append(row("memory", store, "serve RSS idle", idle, "MB", "< 150 MB", idle < 150))
            rows.append(row("memory", store, "serve RSS after the load", after, "MB", "< 150 MB", after < 150))
        finally:
            for s in servers:
                s.stop()
            await slack.stop()
            await data.drop_copy(store, url, run_name)
    return rows


async def wait_until_idle(url: str, slack: LocalSlack, settle: float, cap: float = 1200.0) -> tuple[float, int]:
    """Seconds until the outbox has nothing pending and nothing new is being queued or
    sent; and how many messages went out meanwhile."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.config import normalise_database_url
    engine = create_async_engine(normalise_database_url(url))
    started = time.perf_counter()
    last, steady = None, 0
    try:
        while time.perf_counter() - started < cap:
            await asyncio.sleep(2)
            async with engine.connect() as conn:
                total, pending = (await conn.execute(text(
                    "SELECT count(*), count(*) FILTER (WHERE sent_at IS NULL AND dead_at IS NULL) FROM outbox"
                ))).one()
            now = (total, pending, len(slack.calls))
            steady = steady + 1 if now == last and pending == 0 else 0
            last = now
            # Quiet for 6 s, and past the first round (which queues in one transaction).
            if steady >= 3 and time.perf_counter() - started > max(settle, 10) and (total or
                                                                                   time.perf_counter() - started > 120):
                break
    finally:
        await engine.dispose()
    return time.perf_counter() - started, (last or (0,))[0]


def latency_rows(store: str, command: str, concurrency: int, ours: Series, floor: Series) -> list[dict]:
    name = f"{command} ×{concurrency}"
    p50, p99, mx = ours.quantile(.5), ours.quantile(.99), ours.quantile(1.0)
    f50, f99 = floor.quantile(.5), floor.quantile(.99)
    out = [
        row("latency", store, f"{name} p50 (floor {1000 * f50:.1f} ms)", 1000 * p50, "ms", "≤ 1.5× floor",
            p50 <= 1.5 * f50),
        row("latency", store, f"{name} p99 (floor {1000 * f99:.1f} ms)", 1000 * p99, "ms", "≤ 2× floor",
            p99 <= 2 * f99),
        row("latency", store, f"{name} slowest", 1000 * mx, "ms", "< 1000 ms", mx < 1.0),
        row("latency", store, f"{name} answered without error", len(ours.samples) - ours.errors, "requests",
            f"all {len(ours.samples)}", ours.errors == 0),
    ]
    if concurrency > 1:
        share = ours.throughput / floor.throughput if floor.throughput else 0
        out.append(row("throughput", store, f"{name} {ours.throughput:.0f}/s vs floor {floor.throughput:.0f}/s",
                       100 * share, "% of floor", "≥ 60%", share >= 0.6))
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--scale", default="100x10x100", help="workspaces x committees x items")
    ap.add_argument("--requests", type=int, default=100, help="per command at 1 client (x4 at 16)")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds after start before measuring")
    ap.add_argument("--worker", choices=("on", "off"), default="off",
                    help="run the worker in the measured process (on: wait for its first round first)")
    ap.add_argument("--json", help="write the result rows here")
    args = ap.parse_args(argv)
    args.scale = tuple(int(x) for x in args.scale.lower().split("x"))
    rows: list[dict] = []
    stores = ("sqlite", "postgresql") if args.store == "both" else (args.store,)
    for store in stores:
        if store == "postgresql":
            why = asyncio.run(data.pg_available())
            if why:
                print(f"[postgresql] skipped: {why}", file=sys.stderr)
                rows.append(row("latency", store, f"skipped: {why}", 0, "", "", True))
                continue
        rows += asyncio.run(run_store(store, args))
    for r in rows:
        print(f"{r['benchmark']:10} {r['store']:10} {r['measure']:62} {r['value']:>10} {r['unit']:10} "
              f"{r['target']:14} {'ok' if r['ok'] else 'MISSED'}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
