"""Fixtures for the Discord front end: the fake Discord, and copbot running on it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from bot.discord.frontend import DiscordFrontEnd
from commands.types import Context
from tests.bot.discord.discord_rig import running
from tests.fakes.discord_api import FakeDiscord


@pytest.fixture
async def fake(caplog: pytest.LogCaptureFixture) -> AsyncIterator[FakeDiscord]:
    """Discord's REST API and gateway on loopback; afterwards, no fake errors and no logged errors."""
    async with FakeDiscord() as server:
        yield server
        assert server.errors == []
        assert server.unhandled == []
    failures = [r.getMessage() for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert failures == [], "copbot or discord.py logged errors"


@pytest.fixture
async def bot(fake: FakeDiscord, ctx: Context, db_url: str) -> AsyncIterator[DiscordFrontEnd]:
    """copbot connected to the fake, on this test's database (SQLite and PostgreSQL)."""
    async with running(fake, ctx, db_url) as front_end:
        yield front_end
