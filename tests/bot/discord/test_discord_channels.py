"""Where copbot is used on Discord: servers it has not cached, threads, and the channels /setup
names. Through the real client on the fake Discord, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from commands.types import Context
from tests.bot.discord.discord_rig import embed, moderated, text_of
from tests.fakes.discord_api import Callback, FakeDiscord
from tests.support.discord_guilds import OtherGuild, guild_id_on_shard


async def other_guild_says(other: OtherGuild, name: str, options: dict[str, Any], user_id: int) -> Callback:
    return await other.fake.wait_for_callback(await other.slash(name, options, user_id=user_id))


async def test_a_moderator_by_role_is_one_in_a_server_copbot_has_not_cached(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """A server in an outage (or not yet in after a connect) is not in discord.py's cache, but its
    interactions still come, each with the member's role ids: Carol, a moderator by the /setup role
    only, sees /pending there, and Alice, without the role, is still refused."""
    reviewers = fake.add_role("Reviewers")
    carol = fake.add_member("carol", roles=[reviewers])
    other = OtherGuild(fake, guild_id_on_shard(0, 1), fake.general_id)
    async with moderated(fake, ctx, db_url, discord_guild_id=None):
        saved = await other_guild_says(other, "setup set", {"moderator_role": reviewers}, fake.owner_id)
        assert embed(saved)["description"] == "Settings saved.", embed(saved)
        sent = await other_guild_says(
            other, "submit", {"number": "2.4", "link": "https://example.org/acronyms"}, fake.alice_id
        )
        assert "no moderator channel is set up yet" in embed(sent)["description"], embed(sent)

        pending = text_of((await other_guild_says(other, "pending", {}, carol)).data or {})
        assert "/pending is for moderators." not in pending
        assert "2.4" in pending and "example.org/acronyms" in pending, pending
        refused = embed(await other_guild_says(other, "pending", {}, fake.alice_id))
        assert refused["description"] == "/pending is for moderators."
