"""copbot's own logging set up as `copbot run` sets it up, writing to a buffer a test reads."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.logs import setup_logging


@dataclass
class Logged:
    """What copbot wrote to its log, as an operator reads it."""

    stream: io.StringIO = field(default_factory=io.StringIO)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        """The lines as JSON objects (LOG_FORMAT=json)."""
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@contextmanager
def copbot_logging(settings: Settings) -> Iterator[Logged]:
    """`setup_logging` with ``settings``; afterwards the root logger's handlers (pytest's own
    among them) and every logger's level and filters are put back as they were."""
    root = logging.getLogger()
    loggers = [
        root,
        *(lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)),
    ]
    saved = {lg.name: (lg.level, lg.filters[:]) for lg in loggers}
    handlers = root.handlers[:]
    logged = Logged()
    setup_logging(settings, logged.stream)
    try:
        yield logged
    finally:
        root.handlers[:] = handlers
        for lg in [root, *logging.root.manager.loggerDict.values()]:
            if isinstance(lg, logging.Logger):
                level, filters = saved.get(lg.name, (logging.NOTSET, []))
                lg.setLevel(level)
                lg.filters[:] = filters


# Requests that are not valid HTTP, as anyone on the internet may send to a public port: a header
# without a colon, an unknown HTTP version, a request line too long, a Content-Length not a number.
MALFORMED = [
    b"POST /slack/events HTTP/1.1\r\nHost: x\r\nno-colon-header\r\n\r\n",
    b"POST /slack/events HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
]


async def send_malformed(port: int) -> list[bytes]:
    """Each of `MALFORMED` to 127.0.0.1:``port`` on a connection of its own; the status lines
    the server answered (once it has closed each connection)."""
    statuses = []
    for data in MALFORMED:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(data)
        await writer.drain()
        statuses.append((await reader.read()).split(b"\r\n", 1)[0])
        writer.close()
        await writer.wait_closed()
    return statuses


def assert_malformed_refused_quietly(logged: Logged) -> None:
    """Four requests refused in four INFO lines, with no ERROR and no traceback (LOG_FORMAT=json)."""
    records = logged.records()
    loud = [r for r in records if r["level"] in ("ERROR", "CRITICAL") or "exception" in r]
    assert loud == []
    refused = [r["message"] for r in records if r["message"].startswith("refused a malformed HTTP request")]
    assert len(refused) == len(MALFORMED)
    assert all(r.startswith("refused a malformed HTTP request from 127.0.0.1: ") for r in refused)
