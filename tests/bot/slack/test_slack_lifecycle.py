"""Starting and stopping: HTTP mode on a given host and port, and Socket Mode over a websocket."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, WSMsgType, web

from bot import departures
from bot.config import StartupError
from bot.runner import make_moderation
from bot.slack import review
from bot.slack.frontend import SlackFrontEnd
from commands.dispatch import RESTARTING
from commands.types import Context
from storage import submissions
from storage.models import LinkStatus
from tests.bot.slack.slack_rig import ANN, MOD, MODERATED, MODS, TOKEN, Rig, add_people, settings_for
from tests.fakes.slack_api import FakeSlack, reaction_event
from tests.support.gc_watch import idle_collection
from tests.support.logged import copbot_logging

APP_TOKEN = "xapp-1-test"


async def test_http_mode_listens_on_the_configured_host_until_closed(rig: Rig) -> None:
    front = rig.front

    assert front.ready and front.port and not front.socket_mode
    challenge = await rig.slack.url_verification("abc123")
    assert challenge.json() == {"challenge": "abc123"}

    await front.close()

    assert not front.ready
    async with ClientSession() as session:
        with pytest.raises(OSError):
            await session.post(f"http://127.0.0.1:{front.port}/slack/events", data=b"")


async def test_once_stopping_commands_buttons_and_forms_are_answered_restarting(rig: Rig) -> None:
    """A shutdown's first step: a new command, button or reason form is answered that copbot is
    restarting and changes nothing (Slack still reaches copbot for that answer, no longer ready)."""
    card = await rig.command("/problem", "2.4", user=ANN)

    rig.front.stop_taking_work()
    claim = await rig.command("/claim", "2.4", user=ANN)
    clicked = await rig.click(card, "Claim", user=ANN)
    form = await rig.slack.view_submission(
        review.CALLBACK_ID, {"reason": {"reason": "spam"}}, user_id=MOD, private_metadata='{"link": 1}'
    )

    assert not rig.front.ready
    assert claim.via == "ack" and not claim.public and claim.text == f":warning: {RESTARTING}"
    assert not clicked.public and clicked.text == f":warning: {RESTARTING}"
    # The form stays open, saying why: it can be sent again in a minute.
    assert form.json() == {"response_action": "errors", "errors": {review.BLOCK_ID: RESTARTING}}
    assert [c for c in await rig.ctx.store.claims_for_problem("2.4") if c.user_id == ANN] == []


async def test_http_mode_refuses_to_start_without_a_signing_secret(fake: FakeSlack, ctx: Context) -> None:
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        SlackFrontEnd(settings_for(fake, slack_signing_secret=None), ctx)


async def test_a_developers_env_file_where_the_tests_run_changes_no_slack_test(
    fake: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A .env in the folder `make test` runs in (a developer's own, for `make run`) does not reach
    the Slack front ends the tests build: their moderators, channels and days stay the tests'."""
    (tmp_path / ".env").write_text(
        "SLACK_MODERATORS=U0DEV\nSLACK_REMINDER_CHANNEL=C0DEV\nSTALE_AFTER_DAYS=3\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    settings = settings_for(fake)
    assert settings.slack_moderator_ids == set()
    assert (settings.slack_reminder_channel, settings.stale_after_days) == (None, 30)


async def test_a_bot_token_in_the_environment_gives_no_warning(
    fake: FakeSlack, ctx: Context, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """docker -e / compose env_file put SLACK_BOT_TOKEN in the process environment, where Bolt
    reads it too: a correct configuration must not warn at every start."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    with caplog.at_level(logging.INFO):
        SlackFrontEnd(settings_for(fake), ctx)
        SlackFrontEnd(settings_for(fake), ctx)  # the filter is added once, the warning still dropped
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert len(logging.getLogger("copbot.slack.bolt").filters) == 1


async def test_a_wrong_bot_token_fails_at_start(fake: FakeSlack, ctx: Context) -> None:
    front = SlackFrontEnd(settings_for(fake, slack_bot_token="xoxb-revoked"), ctx)

    for _ in range(2):  # nor does a second try leave anything behind
        with pytest.raises(StartupError, match=r"answered 'invalid_auth' to the token in SLACK_BOT_TOKEN"):
            await front.start()
        # Nothing of it listens for departures (bot.departures.WATCHERS): it never served one.
        assert front._departed not in departures.WATCHERS
    await front.close()
    assert not front.ready


async def test_rate_limited_calls_are_retried(rig: Rig) -> None:
    # Retry-After 0: the client's handler still waits up to 1 s of jitter, for real.
    rig.fake.rate_limit("users.info", retry_after=0)

    answer = await rig.command("/claim", "2.21", user=ANN)

    assert "ann — since 2026-11-25 (today)" in answer.shown  # the name users.info gave, retried
    assert [c.status for c in rig.fake.calls_to("users.info")] == [429, 200]


async def test_a_body_that_is_not_json_gets_400(rig: Rig) -> None:
    reply = await rig.slack.post("payload=%7Bnot-json", "application/x-www-form-urlencoded")

    assert reply.status == 400 and rig.fake.calls == []


class SocketSlack:
    """Slack's side of Socket Mode: ``apps.connections.open`` and the websocket it names."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.acks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.ws: web.WebSocketResponse | None = None
        self.connected = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> SocketSlack:
        app = web.Application()
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        url = f"ws://127.0.0.1:{self._runner.addresses[0][1]}/link"
        # FakeSlack answers a method through its `_api_<method>` attribute.
        self.fake._api_apps_connections_open = lambda args: {"ok": True, "url": url}  # type: ignore[attr-defined]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.ws = ws
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        self.connected.set()
        async for frame in ws:
            if frame.type == WSMsgType.TEXT:
                await self.acks.put(json.loads(frame.data))
        return ws

    async def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """Deliver one envelope and return the app's acknowledgement of it."""
        await asyncio.wait_for(self.connected.wait(), 5)
        assert self.ws is not None
        await self.ws.send_str(json.dumps(envelope))
        return await asyncio.wait_for(self.acks.get(), 5)


@pytest.fixture
async def socket_fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(tokens={TOKEN, APP_TOKEN}) as fake:
        add_people(fake)
        yield fake


async def test_socket_mode_answers_commands_and_takes_events(socket_fake: FakeSlack, ctx: Context) -> None:
    settings = settings_for(socket_fake, slack_app_token=APP_TOKEN, slack_signing_secret=None, **MODERATED)
    front = SlackFrontEnd(settings, ctx)
    ctx.effects = make_moderation(settings, ctx, [front])
    async with SocketSlack(socket_fake) as slack:
        await front.start()
        try:
            assert front.ready and front.socket_mode and front.port is None

            def command(name: str, text: str) -> dict[str, Any]:
                return {
                    "team_id": socket_fake.team_id,
                    "user_id": ANN,
                    "user_name": "ann",
                    "command": name,
                    "text": text,
                    "channel_id": "C0GENERAL",
                    "api_app_id": socket_fake.app_id,
                    "response_url": socket_fake.response_url(),
                    "trigger_id": "1.2.3",
                }

            acks = [
                await slack.send(
                    {
                        "envelope_id": envelope_id,
                        "type": "slash_commands",
                        "accepts_response_payload": True,
                        "payload": command(name, text),
                    }
                )
                for envelope_id, name, text in (
                    ("E1", "/problem", "2.4"),
                    ("E2", "/submit", "2.4 https://example.org/acronyms IOI-style circuit"),
                )
            ]
            (post,) = [c for c in socket_fake.posts if c.response["channel"] == MODS]
            envelope = {
                "type": "event_callback",
                "team_id": socket_fake.team_id,
                "api_app_id": socket_fake.app_id,
                "event_id": "Ev0SOCKET",
                "event": reaction_event(MOD, "white_check_mark", MODS, post.ts),
            }
            # The moderator's ✅, and Slack's retry of it.
            for attempt, envelope_id in enumerate(("E3", "E4")):
                await slack.send(
                    {
                        "envelope_id": envelope_id,
                        "type": "events_api",
                        "accepts_response_payload": False,
                        "retry_attempt": attempt,
                        "retry_reason": "timeout" if attempt else "",
                        "payload": envelope,
                    }
                )
        finally:
            await front.close()
            ctx.effects = None

    assert not front.ready
    problem, submitted = acks
    assert problem["envelope_id"] == "E1" and problem["payload"]["response_type"] == "in_channel"
    assert problem["payload"]["blocks"][0]["text"]["text"].startswith("2.4 — 3 letter acronyms")
    assert "went to the moderators" in json.dumps(submitted["payload"])
    # The event arrived over the socket and decided, once.
    link = await submissions.get_link(ctx.store, 1)
    assert link is not None and link.status == LinkStatus.APPROVED
    assert len(socket_fake.updates) == 1 and len(socket_fake.dms(ANN)) == 1


async def test_socket_mode_with_a_wrong_app_token_fails_to_start(
    socket_fake: FakeSlack, ctx: Context
) -> None:
    front = SlackFrontEnd(settings_for(socket_fake, slack_app_token="xapp-wrong"), ctx)

    with pytest.raises(StartupError, match=r"answered 'invalid_auth' to the token in SLACK_APP_TOKEN"):
        await front.start()
    await front.close()
    assert not front.ready


async def test_a_due_garbage_collection_waits_until_the_command_is_answered(rig: Rig) -> None:
    """CPython would collect in the middle of the command; copbot collects once it answered."""
    async with idle_collection() as watch:
        answer = await rig.command("/problem", "2.4")
        await watch.first_collection()
    assert answer.via == "ack" and answer.header.startswith("2.4 — ")
    assert watch.most_in_flight >= 1  # the request counted in flight while it was handled
    assert watch.collections and all(in_flight == 0 for _, in_flight in watch.collections)


async def test_both_modes_configured_runs_socket_mode_and_says_so(
    socket_fake: FakeSlack, ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    """SLACK_APP_TOKEN and SLACK_SIGNING_SECRET both set (the secret kept from HTTP mode, or both
    copied from the app's pages): copbot opened a socket without a word, and an app still in HTTP
    mode had Slack post to a URL nothing listened on. Now one warning at start names both and
    what to unset for HTTP mode; Socket Mode still serves (docs/slack.md: the app token selects it)."""
    settings = settings_for(socket_fake, slack_app_token=APP_TOKEN)
    with caplog.at_level(logging.WARNING, logger="copbot"):
        front = SlackFrontEnd(settings, ctx)
    async with SocketSlack(socket_fake):
        await front.start()
        try:
            assert front.ready and front.socket_mode and front.port is None
        finally:
            await front.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "SLACK_APP_TOKEN and SLACK_SIGNING_SECRET are both set: Slack runs in Socket Mode and the "
        "signing secret is not used (for HTTP mode, unset SLACK_APP_TOKEN)"
    ]


async def test_at_debug_socket_mode_logs_no_payload_nor_socket_url(
    socket_fake: FakeSlack, ctx: Context
) -> None:
    """LOG_LEVEL=DEBUG: the Socket Mode client logged under copbot's name, so it followed
    LOG_LEVEL and wrote every envelope whole (a member's text, its response_url) and the socket's
    URL, though the README holds slack_sdk at WARNING. Now it is slack_sdk's, held there."""
    settings = settings_for(
        socket_fake, slack_app_token=APP_TOKEN, slack_signing_secret=None, log_level="DEBUG"
    )
    front = SlackFrontEnd(settings, ctx)
    with copbot_logging(settings) as logged:
        async with SocketSlack(socket_fake) as slack:
            await front.start()
            try:
                ack = await slack.send(
                    {
                        "envelope_id": "E1",
                        "type": "slash_commands",
                        "accepts_response_payload": True,
                        "payload": {
                            "team_id": socket_fake.team_id,
                            "user_id": ANN,
                            "user_name": "ann",
                            "command": "/search",
                            "text": "zebra-marker-text",
                            "channel_id": "C0GENERAL",
                            "api_app_id": socket_fake.app_id,
                            "response_url": socket_fake.response_url(),
                            "trigger_id": "1.2.3",
                        },
                    }
                )
            finally:
                await front.close()
    assert ack["envelope_id"] == "E1"
    assert "zebra-marker-text" not in logged.text
    assert "/link" not in logged.text and APP_TOKEN not in logged.text
    assert "copbot.slack.socket" not in logged.text
