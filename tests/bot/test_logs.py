"""Structured logs: one JSON object a line with the command's context, and never a secret."""

from __future__ import annotations

import asyncio
import json
import logging

import discord
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

from bot.config import Settings
from bot.logs import JsonFormatter
from bot.ops import Metrics, OpsServer
from bot.reminders import start_scheduler
from bot.runner import make_sweeper
from commands.types import Context
from tests.support.logged import assert_malformed_refused_quietly, copbot_logging, send_malformed


def test_json_lines_carry_extra_fields_and_tracebacks() -> None:
    """A record's extra fields (command, community, latency) and its exception become keys."""
    formatter = JsonFormatter()
    record = logging.LogRecord("copbot.commands", logging.ERROR, __file__, 1, "command failed", (), None)
    record.command, record.community, record.latency_ms = "claim", "guild1", 3.5
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(formatter.format(record))
    assert line["message"] == "command failed" and line["level"] == "ERROR"
    assert (line["command"], line["community"], line["latency_ms"]) == ("claim", "guild1", 3.5)
    assert "ValueError: boom" in line["exception"]


def test_settings_never_show_their_secrets() -> None:
    """Printing or logging the settings shows tokens masked."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token="dtok-123",
        slack_bot_token="xoxb-456",
        slack_signing_secret="sig-789",
    )
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert "dtok-123" not in shown and "xoxb-456" not in shown and "sig-789" not in shown


async def test_each_command_is_logged_with_its_context(ctx, caplog) -> None:  # type: ignore[no-untyped-def]
    """Every command leaves one line naming command, community, outcome and latency."""
    from tests.support.transcript import person, say

    with caplog.at_level(logging.INFO, logger="copbot.commands"):
        await say(ctx, person("ann"), "/problem 2.99")
    (record,) = [r for r in caplog.records if r.name == "copbot.commands"]
    assert (record.command, record.community, record.outcome) == ("problem", "guild1", "user_error")
    assert record.latency_ms >= 0


def test_secret_urls_and_settings_are_masked_in_every_line() -> None:
    """Whatever a library or copbot puts in a line (message, arguments, traceback, extra field),
    an interaction's or webhook's token, a response_url's path and the configured secrets are
    masked, in text and JSON alike; the rest of the line stays readable."""
    api = "http://127.0.0.1:8123/api/"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token="dtok-MTIzNDU2Nzg5.secret",
        slack_bot_token="xoxb-1111-bot-secret",
        slack_app_token="xapp-2222-app-secret",
        slack_signing_secret="signing-secret-3333",
        slack_api_url=api,
        database_url="postgresql+asyncpg://copbot:pa%2Fss-word44@db:5432/copbot",
    )
    said = [
        (
            "POST %s failed",
            ("https://discord.com/api/v10/interactions/123/aW50ZXJhY3Rpb246tok1/callback?x=1",),
        ),
        ("follow-up to https://discord.com/api/v10/webhooks/456/aW50tok2/messages/@original", ()),
        ("posting to %s", ("https://hooks.slack.com/commands/T0ABC/789/Tok3xyz",)),
        ("body: response_url=https%3A%2F%2Fhooks.slack.com%2Factions%2FT0ABC%2F789%2FTok4xyz&x=1", ()),
        ("a proxy's %s", ("http://10.0.0.9/commands/T0ABC/789/Tok5xyz",)),
        # Socket Mode's URL, in slack_sdk's error when the handshake fails: its ticket opens a session
        (
            "Failed to connect (error: 502, url='%s')",
            ("wss://wss-primary.slack.com/link/?ticket=Tok7xyz&app_id=A1",),
        ),
        ("the fake's %s, then %s", (f"{api[:-5]}/response/Tok6xyz", f"{api}chat.postMessage")),
        (
            "tokens %s %s %s %s",
            ("dtok-MTIzNDU2Nzg5.secret", "xoxb-1111-bot-secret", "xapp-2222-app-secret", "x"),
        ),
        ("signed with signing-secret-3333; password pa/ss-word44 or pa%2Fss-word44", ()),
    ]
    hidden = [
        "tok1",
        "tok2",
        "Tok3",
        "Tok4",
        "Tok5",
        "Tok6",
        "Tok7",
        "Nzg5.secret",
        "bot-secret",
        "app-secret",
        "-3333",
        "word44",
    ]
    for log_format in ("text", "json"):
        with copbot_logging(settings.model_copy(update={"log_format": log_format})) as logged:
            log = logging.getLogger("some.library")
            for message, args in said:
                log.warning(message, *args)
            try:
                raise RuntimeError("url='https://discord.com/api/v10/interactions/9/aW50tok1/callback'")
            except RuntimeError:
                log.exception("failed", extra={"command": "xoxb-1111-bot-secret"})
            log.warning(
                "where", stack_info=True, extra={"url": "https://hooks.slack.com/services/T0/B0/Tok3"}
            )
        assert [word for word in hidden if word in logged.text] == []
        for shown in (
            "/interactions/123/***/callback?x=1",
            "/webhooks/456/***/messages",
            "hooks.slack.com/***",
        ):
            assert shown in logged.text
        assert "/commands/T0ABC/789/***" in logged.text and f"{api}chat.postMessage" in logged.text
        assert "RuntimeError" in logged.text and "where" in logged.text


async def test_malformed_http_to_the_metrics_port_is_one_line_each(sqlite_ctx: Context) -> None:
    """METRICS_PORT may be reachable from afar too: junk there is an INFO line, not a traceback."""
    settings = Settings(_env_file=None, log_format="json")  # type: ignore[call-arg]
    with copbot_logging(settings) as logged:
        server = OpsServer(sqlite_ctx.store, Metrics(), [])
        port = await server.start("127.0.0.1", 0)
        try:
            statuses = await send_malformed(port)
        finally:
            await server.close()
    assert all(b" 400 " in s for s in statuses), statuses
    assert_malformed_refused_quietly(logged)


async def test_each_start_and_sweep_logs_no_library_chatter(sqlite_ctx: Context) -> None:
    """discord.py's warnings that voice is unsupported (copbot has none) and APScheduler's two
    INFO lines around each sweep are not logged; a job APScheduler saw fail still is."""
    settings = Settings(_env_file=None, discord_token="dtok-unused")  # type: ignore[call-arg]
    with copbot_logging(settings) as logged:
        client = discord.Client(intents=discord.Intents.none())
        scheduler = start_scheduler(make_sweeper(settings, sqlite_ctx, []), 60)
        done: asyncio.Queue[JobExecutionEvent] = asyncio.Queue()
        scheduler.add_listener(done.put_nowait, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.add_job(_fails, id="broken")
        events = [await asyncio.wait_for(done.get(), 5) for _ in range(2)]
        scheduler.shutdown(wait=False)
        await client.close()
    assert sorted(e.job_id for e in events) == ["broken", "stale-sweep"]
    assert "voice" not in logged.text
    assert "Running job" not in logged.text and "executed successfully" not in logged.text
    assert "apscheduler.executors.default: Job " in logged.text and "ZeroDivisionError" in logged.text


async def _fails() -> None:
    raise ZeroDivisionError


def test_a_short_secret_is_masked_where_it_stands_whole() -> None:
    """A secret under 6 characters (a database password such as ``pw7``) was written to the log
    as it was: only longer ones were masked. Any configured secret is now masked wherever it
    stands as a whole word (in a URL, after a colon, between quotes); inside a longer word it is
    left alone, so the rest of the line stays readable."""
    short = {"discord_token": "dt", "slack_signing_secret": "q", "slack_bot_token": "xoxb-1111-bot"}
    url = "postgresql+asyncpg://copbot:p%40w@db:5432/copbot"  # the password p@w, as a URL writes it
    settings = Settings(_env_file=None, database_url=url, **short)  # type: ignore[call-arg, arg-type]
    for log_format in ("text", "json"):
        with copbot_logging(settings.model_copy(update={"log_format": log_format})) as logged:
            log = logging.getLogger("some.library")
            log.warning("connecting to %s", url)
            log.warning("password 'p@w' refused; Authorization: Bot dt; signed with q.")
            log.warning("the dtype of p@wn is quick, dt2 and aq stay; so does p%40wn")
            try:
                raise RuntimeError("dsn={'password': 'p@w'}")
            except RuntimeError:
                log.exception("failed")
        lines = [
            json.loads(line)["message"] if log_format == "json" else line.split(": ", 1)[1]
            for line in logged.text.splitlines()
            if "some.library" in line
        ]
        assert lines[:3] == [
            "connecting to postgresql+asyncpg://copbot:***@db:5432/copbot",
            "password '***' refused; Authorization: Bot ***; signed with ***.",
            "the dtype of p@wn is quick, dt2 and aq stay; so does p%40wn",
        ]
        assert "dsn={'password': '***'}" in logged.text and "p@w'" not in logged.text


def test_a_database_password_given_in_the_urls_query_is_masked_too() -> None:
    """``postgresql://copbot@db/copbot?password=…`` (asyncpg's connect() parameter, which copbot
    passes on) is hidden where copbot shows the URL, but was written to the log as it was
    wherever a line held it (a driver's error repeating its connect arguments); now it is masked
    there as the password of ``user:password@`` is."""
    url = "postgresql://copbot@db:5432/copbot?password=q%40ery-pass-77&application_name=bot"
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    with copbot_logging(settings) as logged:
        log = logging.getLogger("some.library")
        log.warning("connect(password='q@ery-pass-77') failed; from %s", url)
    assert "q@ery-pass-77" not in logged.text and "q%40ery-pass-77" not in logged.text, logged.text
    assert (
        "connect(password='***') failed; from postgresql://copbot@db:5432/copbot?password=***&" in logged.text
    )
