"""HTTP mode (`scrutineer serve`) and Socket Mode (`scrutineer socket`)."""
from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.db import Database

log = logging.getLogger("scrutineer")


def web_app(app: AsyncApp, db: Database) -> web.Application:
    """POST /slack/events for commands, interactions and events; GET /healthz."""

    async def slack_events(request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
        except (ValueError, TypeError, AttributeError):  # not what Slack sends (payload=notjson, a JSON list)
            return web.json_response({"ok": False, "error": "malformed request"}, status=400)
        bolt_response = await app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        if await db.healthy():
            return web.json_response({"ok": True})
        return web.json_response({"ok": False, "error": "database unavailable"}, status=503)

    web_application = web.Application(client_max_size=1024 * 1024)
    web_application.router.add_post("/slack/events", slack_events)
    web_application.router.add_get("/healthz", healthz)
    return web_application


async def serve_http(app: AsyncApp, db: Database, port: int, host: str = "0.0.0.0", worker=None) -> None:
    runner = web.AppRunner(web_app(app, db), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("Scrutineer listening on http://%s:%s/slack/events", host, port)
    try:
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
