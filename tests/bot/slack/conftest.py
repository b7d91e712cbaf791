"""Fixtures for the Slack front end: a fake Slack with three people, and the front end on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from commands.types import Context
from tests.bot.slack.slack_rig import TOKEN, Rig, add_people, moderated, running
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """Slack's Web API on loopback, knowing Ann, Bob and Cat (an admin).

    A test fails if Slack would have refused anything copbot sent for its blocks (Block Kit's
    limits: the user would have seen nothing, or an error).
    """
    async with FakeSlack(tokens={TOKEN}) as fake:
        add_people(fake)
        yield fake
        refused = [f"{c.method}: {'; '.join(c.block_errors)}" for c in fake.refused_blocks]
        assert not refused, "Slack would refuse:\n" + "\n".join(refused)


@pytest.fixture
async def rig(fake: FakeSlack, ctx: Context) -> AsyncIterator[Rig]:
    """The Slack front end in HTTP mode on this test's database (SQLite and PostgreSQL)."""
    async with running(fake, ctx) as rig:
        yield rig


@pytest.fixture
async def moderated_rig(fake: FakeSlack, ctx: Context) -> AsyncIterator[Rig]:
    """The front end with moderation and the sweep, SLACK_MODERATOR_CHANNEL=C0MODS,
    SLACK_MODERATORS=U0MOD (:func:`tests.bot.slack.slack_rig.moderated`)."""
    async with moderated(fake, ctx) as rig:
        yield rig
