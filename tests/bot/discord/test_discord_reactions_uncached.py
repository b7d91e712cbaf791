"""✅ / ❌ under a moderator post in a server discord.py has not cached: the server is in an outage
(READY lists it as unavailable and no GUILD_CREATE follows), or its details have not come in yet
after a connect. discord.py then knows neither the server's roles nor its channels, so it cannot
tell a moderator by permission from anyone else; copbot asks Discord's REST API instead.

Through the real discord.py client on the fake Discord, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import pytest

from commands.types import Context
from storage.models import LinkStatus
from tests.bot.discord.discord_rig import Moderated, moderated
from tests.bot.discord.test_discord_moderation import configure, description, edits, mods, status, submit
from tests.fakes.discord_api import FakeDiscord

# discord.py waits this long after the last GUILD_CREATE before a shard is ready (2 s by default).
QUICK = {"guild_ready_timeout": 0.05}


def add_people(fake: FakeDiscord) -> None:
    """A moderator channel and a reminder channel; Carol, a moderator by the /setup role only; Dave,
    one by Manage Messages given to his Helpers role in the moderator channel only (Bob is one by
    the Manage Messages of the fake's Moderator role; Alice is none)."""
    helpers = fake.add_role("Helpers")
    fake.add_channel("mods", overwrites=[{"id": helpers, "type": 0, "allow": ["manage_messages"]}])
    fake.add_channel("reminders")
    fake.add_member("carol", roles=[fake.add_role("Reviewers")])
    fake.add_member("dave", roles=[helpers])


@contextlib.asynccontextmanager
async def uncached(fake: FakeDiscord, ctx: Context, db_url: str) -> AsyncIterator[Moderated]:
    """copbot running while its server is in an outage, after the owner's /setup (moderator
    channel, role and reminder channel)."""
    add_people(fake)
    fake.guild_unavailable = True
    async with moderated(fake, ctx, db_url, client_options=QUICK) as rig:
        await configure(fake)
        yield rig


async def test_moderators_by_permission_or_role_decide_by_reaction_in_a_server_copbot_has_not_cached(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """Bob (Manage Messages in the server), Dave (Manage Messages in the moderator channel only)
    and Carol (the /setup role) each decide a submission by reaction there; Alice's ✅ and ❌
    decide nothing. Without the fix Bob's and Dave's reactions were ignored: discord.py's member
    had no roles and no channel to read permissions from."""
    async with uncached(fake, ctx, db_url) as rig:
        assert (guild := rig.bot.client and rig.bot.client.get_guild(fake.guild_id)) and guild.unavailable
        first = await submit(rig)
        second = await submit(rig, link="https://example.org/acronyms-2")
        third = await submit(rig, link="https://example.org/acronyms-3")

        await rig.react(first, "✅", fake.alice_id)
        await rig.react(second, "❌", fake.alice_id)
        assert await status(ctx, 1) == await status(ctx, 2) == LinkStatus.PENDING
        assert edits(fake) == []

        await rig.react(first, "✅", fake.bob_id)
        await rig.react(second, "❌", fake.user_id("dave"))
        await rig.react(third, "✅", fake.user_id("carol"))
        assert await status(ctx, 1) == LinkStatus.APPROVED
        assert await status(ctx, 2) == LinkStatus.REJECTED
        assert await status(ctx, 3) == LinkStatus.APPROVED
        assert description(fake, first) == "Approved by Bob."
        assert description(fake, second) == "Rejected by Dave."
        assert description(fake, third) == "Approved by Carol."
        assert len(fake.dms[fake.alice_id]) == 3


async def test_a_reactor_discord_does_not_say_anything_about_decides_nothing(
    fake: FakeDiscord, ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """In a server copbot has not cached, Discord failing to answer who reacted (503) leaves the
    submission pending, with a warning in the log and nothing posted; someone no longer a member
    (404 Unknown Member) changes nothing either. Bob's ✅ added again once Discord answers decides."""
    async with uncached(fake, ctx, db_url) as rig:
        post = await submit(rig)
        fake.fail(
            "GET", "/guilds/{guild_id}/members/{user_id}", status=503, body={"code": 0, "message": "down"}
        )
        caplog.clear()
        await rig.react(post, "✅", fake.bob_id)
        erin = fake.add_member("erin", permissions=["manage_messages"])
        del fake.members[erin]  # she left the server just after reacting
        await rig.react(post, "✅", erin)

        assert await status(ctx) == LinkStatus.PENDING
        assert edits(fake) == [] and mods(fake) == [post] and fake.dms[fake.alice_id] == []
        (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
        told = warning.getMessage()
        assert warning.levelno == logging.WARNING and "decided nothing" in told and str(fake.bob_id) in told

        handled = rig.bot.reactions_handled
        await fake.unreact(int(post["channel_id"]), int(post["id"]), "✅", fake.bob_id)
        await rig.settle(handled + 1)
        await rig.react(post, "✅", fake.bob_id)
        assert await status(ctx) == LinkStatus.APPROVED
        assert description(fake, post) == "Approved by Bob."
