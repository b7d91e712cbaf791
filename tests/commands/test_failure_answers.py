"""What a user reads when a command fails: the database's failure, or copbot's own.

A network error or timeout is the database's only when it came from the database. The same kind of
error from a platform's client (Discord or Slack out of reach, here under a submission's moderator
post) is copbot's failure: telling the user the database did not answer would be untrue, and the
submission it had just saved would look lost.
"""

from __future__ import annotations

import random

import aiohttp
from sqlalchemy.engine import make_url

from commands import dispatch
from commands.types import Context
from storage.engine import make_engine
from storage.models import WorkLink
from storage.store import Store
from tests.conftest import START
from tests.support.clock import FakeClock
from tests.support.tcp_proxy import closed_port
from tests.support.transcript import person, say

ANN = person("ann")
MOD = person("mo", moderator=True)


class UnreachablePlatform:
    """Moderation effects whose platform hangs up on every call, as aiohttp raises it."""

    def __init__(self) -> None:
        self.calls = 0

    async def _fail(self) -> None:
        self.calls += 1
        raise aiohttp.ClientOSError(104, "Connection reset by peer")

    async def submitted(self, link: WorkLink) -> str:
        await self._fail()
        return "posted"

    async def decided(self, link: WorkLink) -> None:
        await self._fail()

    async def refresh(self, link: WorkLink) -> None:
        await self._fail()

    async def settings_changed(self, platform: str, community_id: str) -> None:
        await self._fail()

    async def record_posts(self, only: int | None = None) -> int:
        await self._fail()
        return 0


async def test_a_platform_s_network_error_is_not_called_the_database_s(sqlite_ctx: Context) -> None:
    """/submit saved the link, then posting it to the moderators failed on the platform's
    network: the answer is copbot's apology, not "the database didn't answer" (which it did: the
    submission waits in /pending)."""
    platform = UnreachablePlatform()
    sqlite_ctx.effects = platform
    reply = await say(sqlite_ctx, ANN, "/submit 2.4 https://example.org/post")
    assert platform.calls == 1
    assert reply.error and reply.text == dispatch.APOLOGY, reply.text
    pending = await say(sqlite_ctx, MOD, "/pending")
    assert "https://example.org/post" in str(pending), pending


async def test_a_postgresql_that_refuses_connections_is_the_database_s_failure(pg_db_url: str) -> None:
    """The same kind of error (a refused connection is an OSError) from the database's driver
    reads as the database not answering."""
    store = Store(make_engine(str(make_url(pg_db_url).set(port=closed_port())), timeout=1.0), state_ttl=0)
    ctx = Context(store=store, clock=FakeClock(START), rng=random.Random(1))
    try:
        reply = await say(ctx, ANN, "/claim 2.4")
    finally:
        await store.close()
    assert reply.error and reply.text == dispatch.UNAVAILABLE, reply.text
