"""The servers copbot is in, as its Discord client's cache knows them: their names, and the
servers it was removed from while it was not connected."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import departures
from bot.reminders import NameLookup
from storage import departures as held_data

if TYPE_CHECKING:
    from bot.discord.frontend import DiscordFrontEnd

# Why a server is taken for gone at a shard's start (before departures' "copbot can no longer reach").
GONE_WHILE_AWAY = (
    "the Discord gateway no longer lists this server (copbot was removed while it was not connected)"
)


def guild_names(front_end: DiscordFrontEnd) -> NameLookup:
    """The name of a Discord server by its id, for messages read outside it (a reminder DM reaches
    a user of several servers): None when the running client does not know the server (not in
    it, or not connected)."""

    def name(platform: str, community_id: str) -> str | None:
        client = front_end.client
        if client is None or not community_id.isdigit():
            return None
        guild = client.get_guild(int(community_id))
        return guild.name if guild is not None and guild.name else None

    return name


async def gone_while_away(front_end: DiscordFrontEnd, shard_id: int) -> list[str]:
    """Once shard ``shard_id`` is ready (its READY and the GUILD_CREATEs after it handled): record
    as gone, as a GUILD_DELETE would (:func:`bot.departures.community_left`), each server of that
    shard that copbot holds claims, submissions or settings for and the client does not hold.
    Returns their ids.

    READY lists every server of the shard, unavailable ones (an outage) included, and the client
    keeps each it listed, so a server missing from the client was removed while copbot was away
    (no GUILD_DELETE reached it). Only the servers Discord routes to this shard are concluded
    about: another process may serve the others. With ``DISCORD_GUILD_ID`` (one server, for
    development, perhaps beside another copbot on the same database) nothing is; nor are DMs."""
    client = front_end.client
    if client is None or front_end.settings.discord_guild_id:
        return []
    ctx = front_end.ctx
    held = await held_data.held(ctx.store, "discord")
    # After the read: a server that added copbot meanwhile is in the client by now.
    present = {guild.id for guild in client.guilds}
    shard_count = client.shard_count or 1
    gone = [
        community
        for community in sorted(held)
        if community.isdigit()
        and (int(community) >> 22) % shard_count == shard_id
        and int(community) not in present
    ]
    found = []
    for community in gone:
        # A server may add copbot again while the servers before it are recorded: its
        # GUILD_CREATE (on_guild_join) finds nothing to clear yet, so it is looked for here, before
        # and after, never left recorded as gone while copbot is in it.
        if client.get_guild(int(community)) is not None:
            continue
        await departures.community_left(ctx.store, "discord", community, ctx.clock(), GONE_WHILE_AWAY)
        if client.get_guild(int(community)) is not None:
            await departures.community_back(ctx.store, "discord", community)
            continue
        found.append(community)
    return found
