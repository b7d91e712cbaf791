"""What copbot logs around Slack: a response_url (enough to answer in the user's channel for
half an hour) never, and malformed HTTP from the internet as one line, not a traceback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from commands.types import Context
from tests.bot.slack.slack_rig import ANN, running, settings_for
from tests.fakes.slack_api import FakeSlack
from tests.support.logged import assert_malformed_refused_quietly, copbot_logging, send_malformed

TOKEN_PART = "Xq7ZsecretResponseToken0123"
SECRET_PATH = f"/commands/T0FAKE/1234567890/{TOKEN_PART}"


@pytest.fixture
async def dropping_url() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A response_url whose server drops each connection unanswered; the event is set once it has."""
    dropped = asyncio.Event()

    async def drop(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.abort()
        dropped.set()
        return web.Response()

    app = web.Application()
    app.router.add_post(SECRET_PATH, drop)
    runner = web.AppRunner(app, access_log=None)  # Slack's own log, not copbot's
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}{SECRET_PATH}", dropped
    await runner.cleanup()


@pytest.mark.parametrize("log_level", ["INFO", "DEBUG"])
async def test_a_dropped_response_url_is_never_logged(
    fake: FakeSlack,
    sqlite_ctx: Context,
    dropping_url: tuple[str, asyncio.Event],
    log_level: str,
) -> None:
    """A slow answer goes by response_url; its connection drops (slack_sdk retries once, then
    gives up). Neither at INFO nor at DEBUG does the log show the response_url's secret part, nor
    slack_sdk's chatter about each post."""
    url, dropped = dropping_url
    with copbot_logging(settings_for(fake, log_level=log_level, log_format="json")) as logged:
        async with running(fake, sqlite_ctx, answer_within=0) as rig:
            await rig.slack.command("/problem", "2.4", user_id=ANN, response_url=url)
            await asyncio.wait_for(dropped.wait(), 5)
            await rig.front.drain()
    records = logged.records()
    assert any(r["logger"].startswith("copbot") for r in records)
    assert TOKEN_PART not in logged.text
    assert [r["message"] for r in records if r["logger"].startswith("slack_sdk")] == []


async def test_malformed_http_to_the_slack_port_is_one_line_each(
    fake: FakeSlack, sqlite_ctx: Context
) -> None:
    """Requests that are not HTTP to the public Slack port are answered 400 and logged as one
    INFO line each: no ERROR with a traceback that anyone could flood the log with."""
    with copbot_logging(settings_for(fake, log_format="json")) as logged:
        async with running(fake, sqlite_ctx) as rig:
            statuses = await send_malformed(rig.front.port)
    assert all(s.startswith(b"HTTP/1.") and b" 400 " in s for s in statuses), statuses
    assert_malformed_refused_quietly(logged)
