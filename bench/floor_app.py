"""The floor for the latency benchmark: a minimal Bolt app that only acknowledges.

    python bench/floor_app.py PORT [--before-response]

Served exactly as Scrutineer serves (aiohttp, Bolt's aiohttp adapter, signature
checked), so the difference between the two is Scrutineer's own work. With
--before-response Bolt runs the listener before answering (process_before_response),
which skips Bolt's 10 ms polling for the acknowledgement; the benchmark reports the
faster of the two as the floor.
"""
from __future__ import annotations

import asyncio
import os
import re
import sys

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


async def main(port: int, before_response: bool) -> None:
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = AsyncApp(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"],
                   process_before_response=before_response)

    @app.command(re.compile(r"^/.*"))
    async def only_ack(ack):
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), "--before-response" in sys.argv))
