"""Fixtures for the Slack front end: a fake Slack with three people, and the front end on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from commands.types import Context
from tests.bot.slack.slack_rig import TOKEN, Rig, add_people, running
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """Slack's Web API on loopback, knowing Ann, Bob and Cat (an admin)."""
    async with FakeSlack(tokens={TOKEN}) as fake:
        add_people(fake)
        yield fake


@pytest.fixture
async def rig(fake: FakeSlack, ctx: Context) -> AsyncIterator[Rig]:
    """The Slack front end in HTTP mode on this test's database (SQLite and PostgreSQL)."""
    async with running(fake, ctx) as rig:
        yield rig
