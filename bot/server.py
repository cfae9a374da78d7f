"""HTTP mode (`scrutineer serve`) and Socket Mode (`scrutineer socket`)."""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import date, datetime, timezone
from typing import Awaitable, Callable
from zoneinfo import ZoneInfo

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from bot.db import Database
from bot.export import ack_page, public_page
from bot.services import letters, publication
from handlers.boundary import shape_problem

log = logging.getLogger("scrutineer")

HEALTH_TIMEOUT = 2.0   # a load balancer must hear "unhealthy" quickly, even from a black-holed database


def is_signed_by_slack(verifier: SignatureVerifier | None, body: bytes, headers) -> bool:
    """Slack's signature over this body, checked before anything in the body is read or used.
    Anything odd (a timestamp that is not a whole number, a missing header, a body that is not
    UTF-8) is simply not signed."""
    if verifier is None:
        return True   # Socket Mode and tests without a secret: Bolt has nothing to check either
    try:
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not timestamp.isdigit() or not signature:
            return False
        return verifier.is_valid(body.decode("utf-8"), timestamp, signature)
    except Exception:
        return False


def web_app(app: AsyncApp | Callable[[], AsyncApp | None], db: Database, *,
            signing_secret: str | None = None, tz: ZoneInfo | None = None,
            clock: Callable[[], datetime] | None = None) -> web.Application:
    """POST /slack/events for commands, interactions and events; GET /healthz;
    GET /public/<workspace>/<committee>[.csv], a published committee's tracker (no Slack); and
    GET/POST /ack/<token>, an emailed decision letter's acknowledgement link (GET shows the
    letter and a button, only the button's POST acknowledges); GET/POST /update/<token>, an owner
    outside Slack's page to send the updates asked of them before a meeting.

    A request that Slack did not sign is answered 401 here, before Bolt parses it: nothing in an
    unverified body (a response_url, a trigger_id, a file URL) is ever used. `app` may be a
    function giving the app once it is ready (None while the database is not yet reachable)."""
    verifier = SignatureVerifier(signing_secret) if signing_secret else None
    current = (lambda: app) if isinstance(app, AsyncApp) else app

    async def slack_events(request: web.Request) -> web.Response:
        try:
            body = await request.read()
        except (ConnectionResetError, asyncio.IncompleteReadError) as e:
            # The client hung up mid-request: one line, not a traceback; nothing to answer.
            log.info("Client went away before its request was read (%s)", type(e).__name__)
            return web.Response(status=400)
        if not is_signed_by_slack(verifier, body, request.headers):
            return web.json_response({"ok": False, "error": "invalid signature"}, status=401)
        try:
            bolt_request = await to_bolt_request(request)
        except Exception as e:
            # Signed but not what Slack sends (payload=notjson, a JSON list, absurd nesting, an
            # empty list of actions): Bolt can't even read it, so there is nothing to answer.
            log.warning("Refused a malformed request (%s)", type(e).__name__)
            return web.json_response({"ok": False, "error": "malformed request"}, status=400)
        problem = shape_problem(bolt_request.body)
        if problem:
            log.warning("Refused a malformed %s payload (%s)", bolt_request.body.get("type") or "command", problem)
            return web.json_response({"ok": False, "error": "malformed request"}, status=400)
        bolt_app = current()
        if bolt_app is None:
            return web.json_response({"ok": False, "error": "starting"}, status=503)
        bolt_response = await bolt_app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def slack_oauth(request: web.Request) -> web.Response:
        """Many workspaces (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET): GET /slack/install, the "Add
        to Slack" page with a single-use state; GET /slack/oauth_redirect, where Slack sends the
        browser back with a code, exchanged for the workspace's token and stored. Bolt's OAuth
        flow answers both (its state is checked against the browser's cookie and used once).
        Without it (one workspace) both are 404."""
        bolt_app = current()
        if bolt_app is None:
            return web.json_response({"ok": False, "error": "starting"}, status=503)
        flow = bolt_app.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        bolt_request = await to_bolt_request(request)
        if request.path == flow.install_path:
            bolt_response = await flow.handle_installation(bolt_request)
        else:
            bolt_response = await flow.handle_callback(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        if current() is None:
            return web.json_response({"ok": False, "error": "starting: waiting for the database"}, status=503)
        started = time.monotonic()
        try:
            ok = await asyncio.wait_for(db.healthy(), HEALTH_TIMEOUT)
        except asyncio.TimeoutError:
            ok = False
        if ok:
            return web.json_response({"ok": True})
        log.warning("Health check: database unavailable (%.1f s)", time.monotonic() - started)
        return web.json_response({"ok": False, "error": "database unavailable"}, status=503)

    async def public_tracker(request: web.Request) -> web.Response:
        """The same 404 for a workspace or committee that doesn't exist, isn't published or is
        private; never cached, so `/scrutiny publish off` takes the page down at once."""
        code = request.match_info["code"]
        as_csv = code.lower().endswith(".csv")
        if as_csv:
            code = code[:-4]
        today = datetime.now(tz or ZoneInfo("Europe/London")).date()
        try:
            async with db.session() as s:
                tracker = await publication.public_tracker(s, request.match_info["slug"], code, today)
        except Exception as e:   # the database away: say so briefly, and show nothing
            log.warning("Public tracker unavailable (%s)", type(e).__name__)
            return web.Response(status=503, text="Temporarily unavailable; please try again shortly.",
                                headers={"Cache-Control": "no-store", "Retry-After": "30"})
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                   "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
                   "Content-Security-Policy": public_page.CONTENT_SECURITY_POLICY}
        if tracker is None:
            return web.Response(status=404, text=public_page.NOT_FOUND_HTML, content_type="text/html",
                                charset="utf-8", headers=headers)
        if as_csv:
            headers["Content-Disposition"] = f'attachment; filename="{public_page.csv_filename(tracker)}"'
            return web.Response(body=public_page.render_csv(tracker), content_type="text/csv",
                                charset="utf-8", headers=headers)
        return web.Response(text=public_page.render_html(tracker), content_type="text/html",
                            charset="utf-8", headers=headers)

    page_tz = tz or ZoneInfo("Europe/London")
    now = clock or (lambda: datetime.now(timezone.utc))
    ack_headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                   "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
                   "Content-Security-Policy": ack_page.CONTENT_SECURITY_POLICY}

    def _ack_html(status: int, html: str) -> web.Response:
        return web.Response(status=status, text=html, content_type="text/html", charset="utf-8",
                            headers=ack_headers)

    async def ack_letter(request: web.Request) -> web.Response:
        """The same 404 for a token that is unknown or expired. GET only reads; POST acknowledges."""
        token = request.match_info["token"]
        try:
            if request.method == "POST":
                async with db.session() as s, s.begin():
                    done = await letters.acknowledge_by_token(s, token, now())
                    html = None if done is None else ack_page.render_thanks(done, page_tz)
            else:
                async with db.session() as s:
                    found = await letters.letter_for_token(s, token, now())
                    html = None if found is None else ack_page.render_letter(found, page_tz)
        except Exception as e:   # the database away: say so briefly, and show nothing
            log.warning("Acknowledgement page unavailable (%s)", type(e).__name__)
            return web.Response(status=503, text="Temporarily unavailable; please try again shortly.",
                                headers={"Cache-Control": "no-store", "Retry-After": "30"})
        return _ack_html(404, ack_page.NOT_FOUND_HTML) if html is None else _ack_html(200, html)

    async def update_page(request: web.Request) -> web.Response:
        """An owner outside Slack's personal update link: GET shows their items and a form for each;
        POST sends one update for review. The same 404 for a token unknown or expired."""
        from bot.core.errors import UserError
        from bot.core.status import STATUSES
        from bot.services import updates
        from bot.slack_ui import updates as updates_ui

        token = request.match_info["token"]
        done = error = None
        try:
            if request.method == "POST":
                form = await request.post()
                async with db.session() as s, s.begin():
                    try:
                        item_id = int(str(form.get("item") or ""))
                        due_text = str(form.get("due") or "").strip()
                        due = date.fromisoformat(due_text) if due_text else None
                        proposal = updates.Proposal(str(form.get("position") or ""),
                                                    str(form.get("status") or "").strip() or None, due)
                        sent = await updates.submit_by_token(s, token, item_id, proposal, now(), page_tz,
                                                             render=updates_ui)
                    except ValueError:
                        sent, error = None, "That form didn't come through whole: please try again."
                    except UserError as e:
                        sent, error = None, e.message
                    if sent is not None:
                        done = f"Thank you — your update on {sent[1].full_ref} went to the committee's officer to review."
                    elif error is None:
                        return _ack_html(404, ack_page.UPDATE_NOT_FOUND_HTML)
            async with db.session() as s:
                found = await updates.request_for_token(s, token, now())
                html = None if found is None else ack_page.render_update_form(found, page_tz, STATUSES,
                                                                             done=done, error=error)
        except Exception as e:   # the database away: say so briefly, and show nothing
            log.warning("Update page unavailable (%s)", type(e).__name__)
            return web.Response(status=503, text="Temporarily unavailable; please try again shortly.",
                                headers={"Cache-Control": "no-store", "Retry-After": "30"})
        if html is None:
            return _ack_html(404, ack_page.UPDATE_NOT_FOUND_HTML)
        return _ack_html(400 if error else 200, html)

    web_application = web.Application(client_max_size=1024 * 1024)
    web_application.router.add_post("/slack/events", slack_events)
    web_application.router.add_get("/healthz", healthz)
    web_application.router.add_get("/slack/install", slack_oauth)
    web_application.router.add_get("/slack/oauth_redirect", slack_oauth)
    web_application.router.add_get("/public/{slug}/{code}", public_tracker)
    web_application.router.add_get("/ack/{token}", ack_letter)
    web_application.router.add_post("/ack/{token}", ack_letter)
    web_application.router.add_get("/update/{token}", update_page)
    web_application.router.add_post("/update/{token}", update_page)
    return web_application


async def serve_http(prepare: Callable[[], Awaitable[tuple[AsyncApp, object]]], db: Database, port: int,
                     host: str = "127.0.0.1", *, signing_secret: str | None = None,
                     tz: ZoneInfo | None = None) -> None:
    """Listen at once (health checks answer 503 until ready), then `prepare()` the app and its
    worker, which waits for the database as long as it takes."""
    ready: dict = {}
    runner = web.AppRunner(web_app(lambda: ready.get("app"), db, signing_secret=signing_secret, tz=tz),
                           access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("Scrutineer listening on http://%s:%s/slack/events", host, port)
    try:
        app, worker = await prepare()
        ready["app"] = app
        await _run_with_worker(asyncio.Event().wait(), worker)
    finally:
        await runner.cleanup()


async def serve_socket(app: AsyncApp, app_token: str, worker=None) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(app, app_token)
    await _run_with_worker(handler.start_async(), worker)


async def _run_with_worker(main, worker) -> None:
    """Run the Slack side and, beside it, the worker that does scheduled work and delivery."""
    if worker is None:
        await main
        return
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop))
    try:
        await main
    finally:
        stop.set()
        await task
