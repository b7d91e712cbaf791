"""The framework's floor on Slack: a bare Bolt AsyncApp that acks every slash command with "ok".

Run as ``python -m bench.floor_slack``, configured like copbot by SLACK_BOT_TOKEN,
SLACK_SIGNING_SECRET, SLACK_API_URL, SLACK_PORT and BIND_HOST. Bolt's fastest configuration:
``process_before_response=True`` (in its default mode Bolt polls for the ack every 10 ms), its
default middleware (signature check, lazy ``auth.test``), and its own aiohttp adapter. It exits
on SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys

from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def make_app() -> AsyncApp:
    """The app: one listener for every slash command, answering "ok" in the ack."""
    client = AsyncWebClient(
        base_url=os.environ["SLACK_API_URL"].rstrip("/") + "/", token=os.environ["SLACK_BOT_TOKEN"]
    )
    app = AsyncApp(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=True,
    )

    @app.command(re.compile(r"^/"))
    async def ok(ack: AsyncAck) -> None:
        await ack("ok")

    return app


async def main() -> int:
    """Serve until SIGTERM/SIGINT."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING").upper())
    runner = web.AppRunner(make_app().web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    host = os.environ.get("BIND_HOST", "127.0.0.1")
    await web.TCPSite(runner, host, int(os.environ.get("SLACK_PORT", "3000"))).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
