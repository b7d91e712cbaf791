"""The Slack port is public: a client that is slow, hangs up or sends too much is cut off with a
sane status and one quiet log line, and never holds a connection or memory for long."""

from __future__ import annotations

import asyncio
import logging
import tracemalloc

import aiohttp
from yarl import URL

from commands.types import Context
from tests.bot.slack.slack_rig import running, settings_for
from tests.fakes.slack_api import FakeSlack
from tests.support.logged import Logged, copbot_logging

# HTTP_TIMEOUT in these tests: short, so that a test waits little for copbot to cut a client off.
PATIENCE = 0.3
# What a test waits at most for copbot to act (many times PATIENCE: a busy machine is slow).
WITHIN = 5.0
HEAD = b"POST /slack/events HTTP/1.1\r\nHost: copbot\r\nContent-Type: application/json\r\n"


async def open_to(port: int, data: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    return reader, writer


class Said(logging.Handler):
    """Sets ``heard`` once ``count`` log lines held ``words`` (on the root logger, beside copbot's
    own handler)."""

    def __init__(self, words: str, count: int = 1) -> None:
        super().__init__()
        self.words, self.count = words, count
        self.heard = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.words in record.getMessage():
            self.count -= 1
            if self.count <= 0:
                self.heard.set()


async def until_logged(logged: Logged, said: Said) -> list[dict[str, object]]:
    """copbot's JSON records, once ``said`` heard its words (at most WITHIN seconds)."""
    await asyncio.wait_for(said.heard.wait(), WITHIN)
    return logged.records()


def refusals(records: list[dict[str, object]]) -> list[tuple[object, object]]:
    """Level and message of each line saying a request was refused."""
    return [(r["level"], r["message"]) for r in records if str(r["message"]).startswith("refused")]


def quiet(records: list[dict[str, object]]) -> bool:
    """No ERROR, no CRITICAL, no traceback: nothing anyone could flood the log with."""
    return not [r for r in records if r["level"] in ("ERROR", "CRITICAL") or "exception" in r]


async def test_a_client_that_never_finishes_its_headers_is_cut_off(
    fake: FakeSlack, sqlite_ctx: Context
) -> None:
    """Headers that stop halfway, or a connection that sends nothing, are closed after
    HTTP_TIMEOUT: such clients could otherwise hold every connection copbot can open (aiohttp's
    own limit is an hour)."""
    async with running(fake, sqlite_ctx, http_timeout=PATIENCE) as rig:
        port = rig.front.port
        assert port is not None
        halfway, _ = await open_to(port, HEAD)
        silent, _ = await open_to(port, b"")
        assert await asyncio.wait_for(halfway.read(), WITHIN) == b""
        assert await asyncio.wait_for(silent.read(), WITHIN) == b""


async def test_a_body_that_never_arrives_gets_408_and_one_line(fake: FakeSlack, sqlite_ctx: Context) -> None:
    """Headers saying 100 bytes, then 10 of them and nothing more: 408 once HTTP_TIMEOUT is up,
    and one INFO line saying so (without the request's content)."""
    with copbot_logging(settings_for(fake, log_format="json")) as logged:
        async with running(fake, sqlite_ctx, http_timeout=PATIENCE) as rig:
            assert rig.front.port is not None
            reader, writer = await open_to(rig.front.port, HEAD + b'Content-Length: 100\r\n\r\n{"secret":')
            status = await asyncio.wait_for(reader.readline(), WITHIN)
            writer.close()
    assert status.startswith(b"HTTP/1.1 408 "), status
    records = logged.records()
    assert quiet(records)
    assert refusals(records) == [("INFO", "refused a Slack request whose body did not arrive within 0.3 s")]
    assert "secret" not in logged.text


async def test_a_client_that_hangs_up_mid_body_leaves_one_line_not_a_traceback(
    fake: FakeSlack, sqlite_ctx: Context
) -> None:
    """Anyone can send half a request and hang up, as often as they like: one INFO line each,
    not an ERROR with a traceback."""
    said = Said("hung up", count=3)
    with copbot_logging(settings_for(fake, log_format="json")) as logged:
        logging.getLogger().addHandler(said)
        async with running(fake, sqlite_ctx) as rig:
            assert rig.front.port is not None
            for _ in range(3):
                _, writer = await open_to(rig.front.port, HEAD + b'Content-Length: 100\r\n\r\n{"a":')
                writer.close()
                await writer.wait_closed()
            records = await until_logged(logged, said)
    assert quiet(records), records
    assert (
        refusals(records)
        == [("INFO", "refused a Slack request whose sender hung up before its body arrived")] * 3
    )


async def test_a_100_mb_body_is_refused_413_in_bounded_memory_and_said_once(
    fake: FakeSlack, sqlite_ctx: Context
) -> None:
    """100 MB posted to /slack/events: 413 (Slack's requests are a few kB; copbot reads at most
    1 MiB), the memory copbot holds meanwhile stays a few MiB, and one INFO line says why."""
    chunk = b"x" * (1 << 20)
    said = Said("larger than")
    with copbot_logging(settings_for(fake, log_format="json")) as logged:
        logging.getLogger().addHandler(said)
        async with running(fake, sqlite_ctx) as rig:
            assert rig.front.port is not None
            tracemalloc.start()
            try:
                head = HEAD + b"Content-Length: %d\r\n\r\n" % (100 << 20)
                reader, writer = await open_to(rig.front.port, head)
                for _ in range(100):
                    writer.write(chunk)
                    await writer.drain()
                status = await asyncio.wait_for(reader.readline(), WITHIN)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            writer.close()
            records = await until_logged(logged, said)
    assert status.startswith(b"HTTP/1.1 413 "), status
    assert peak < 16 << 20, f"peak {peak / (1 << 20):.1f} MiB"
    assert quiet(records)
    assert refusals(records) == [("INFO", "refused a Slack request larger than 1 MiB")]


async def test_a_request_for_another_path_or_method_is_one_escaped_line(
    fake: FakeSlack, sqlite_ctx: Context
) -> None:
    """A Request URL set to the wrong path in Slack's app settings, a GET from a browser or a
    scanner: answered 404 or 405 as before, and now one INFO line that says what copbot serves,
    so the operator sees why Slack's requests go unanswered. The path is escaped (a %0A in it
    does not start a forged line of its own, an ESC reaches no terminal) and its query, which
    may hold anything, is left out."""
    forged = "%0A2026-01-01 00:00:00,000 CRITICAL copbot: forged%1B[31m".replace(" ", "%20")
    with copbot_logging(settings_for(fake)) as logged:
        async with running(fake, sqlite_ctx) as rig:
            base = f"http://127.0.0.1:{rig.front.port}"
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base}/slack/events") as wrong_method:
                    pass
                async with http.post(f"{base}/slack/event?token=query-secret-1234") as wrong_path:
                    pass
                async with http.post(URL(f"{base}/slack/events{forged}", encoded=True)) as forging:
                    pass
    assert (wrong_method.status, wrong_path.status, forging.status) == (405, 404, 404)
    lines = logged.text.splitlines()
    refused = [line.split(": ", 1)[1] for line in lines if " copbot.slack: refused " in line]
    assert refused == [
        "refused GET '/slack/events' on the Slack port: it serves POST /slack/events",
        "refused POST '/slack/event' on the Slack port: it serves POST /slack/events",
        "refused POST '/slack/events\\n2026-01-01 00:00:00,000 CRITICAL copbot: forged\\x1b[31m' on the "
        "Slack port: it serves POST /slack/events",
    ]
    assert not [line for line in lines if line.startswith("2026-01-01")]
    assert "\x1b" not in logged.text and "query-secret" not in logged.text
