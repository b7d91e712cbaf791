"""The servers copbot is in, as its Discord client's cache knows them: their names, and the
servers it was removed from while it was not connected."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

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
        if client is None or not community_id.isdigit() or not client.listings.holds(int(community_id)):
            return None
        guild = client.get_guild(int(community_id))
        return guild.name if guild is not None and guild.name else None

    return name


class Listings:
    """Which of the servers the Discord client holds the latest READY of their shard listed.

    discord.py keeps every server it holds across a new session (a new READY, after a session
    that could not be resumed): the READY puts a new object in place of each server it lists,
    available or not (the GUILD_CREATEs after it fill that object in or replace it), and leaves
    the others as they were. So a server whose object is still the one held before that READY
    was not listed: copbot was removed from it while disconnected, and no GUILD_DELETE said so.

    :meth:`ready` runs as the shard's READY is handled (``on_shard_connect``, whose handler
    discord.py starts before those of the GUILD_CREATEs after the READY), :meth:`seen` for each
    GUILD_CREATE, :meth:`forget` for each GUILD_DELETE.
    """

    def __init__(self, client: discord.Client) -> None:
        """Listings of ``client``'s servers."""
        self._client = client
        self._held: dict[int, discord.Guild] = {}  # each server's object, as last seen
        self._unlisted: dict[int, discord.Guild] = {}  # held, not listed by its shard's READY

    def ready(self, shard_id: int) -> None:
        """Shard ``shard_id``'s READY was just handled: which of its servers it did not list."""
        for guild_id in [g for g, guild in self._unlisted.items() if guild.shard_id == shard_id]:
            del self._unlisted[guild_id]
        for guild in self._client.guilds:
            if guild.shard_id != shard_id:
                continue
            if self._held.get(guild.id) is guild:
                self._unlisted[guild.id] = guild  # the object from before the READY
            else:
                self._held[guild.id] = guild

    def seen(self, guild: discord.Guild) -> None:
        """A GUILD_CREATE brought ``guild`` (copbot joined it, or it is available again)."""
        self._held[guild.id] = guild
        self._unlisted.pop(guild.id, None)

    def forget(self, guild_id: int) -> None:
        """copbot left the server (GUILD_DELETE)."""
        self._held.pop(guild_id, None)
        self._unlisted.pop(guild_id, None)

    def holds(self, guild_id: int) -> bool:
        """The client holds the server and its shard's latest READY listed it (or a GUILD_CREATE
        brought it since)."""
        return self._client.get_guild(guild_id) is not None and guild_id not in self._unlisted

    def listed(self, shard_id: int) -> list[int]:
        """The servers of shard ``shard_id`` that copbot is in (available or not), as its latest
        READY and the GUILD_CREATEs since say."""
        return [g.id for g in self._client.guilds if g.shard_id == shard_id and g.id not in self._unlisted]


async def gone_while_away(front_end: DiscordFrontEnd, shard_id: int) -> list[str]:
    """Once shard ``shard_id`` is ready (its READY and the GUILD_CREATEs after it handled): record
    as gone, as a GUILD_DELETE would (:func:`bot.departures.community_left`), each server of that
    shard that copbot holds claims, submissions or settings for, that this application was ever
    seen in as a member (:func:`storage.departures.members`), and that the shard no longer lists.
    Returns their ids.

    READY lists every server of the shard, unavailable ones (an outage) included, so a server it
    does not list removed copbot while copbot was away (at a start, or during a disconnect too long
    to resume the session: see :class:`Listings`). A server that added only copbot's commands (no
    bot user) is never listed, nor a member: it is left alone, as are another application's servers
    (two copbots on one database). Only the servers Discord routes to this shard are concluded
    about: another process may serve the others. With ``DISCORD_GUILD_ID`` (one server, for
    development, perhaps beside another copbot on the same database) nothing is; nor are DMs."""
    client = front_end.client
    if client is None or client.application_id is None or front_end.settings.discord_guild_id:
        return []
    ctx, listings = front_end.ctx, client.listings
    held = await held_data.held(ctx.store, "discord")
    members = await held_data.members(ctx.store, "discord", str(client.application_id))
    # After the reads: a server that added copbot meanwhile is in the client by now.
    shard_count = client.shard_count or 1
    gone = [
        community
        for community in sorted(held & members)
        if community.isdigit()
        and (int(community) >> 22) % shard_count == shard_id
        and not listings.holds(int(community))
    ]
    found = []
    for community in gone:
        # A server may add copbot again while the servers before it are recorded: its
        # GUILD_CREATE (on_guild_join) finds nothing to clear yet, so it is looked for here, before
        # and after, never left recorded as gone while copbot is in it.
        if listings.holds(int(community)):
            continue
        await departures.community_left(ctx.store, "discord", community, ctx.clock(), GONE_WHILE_AWAY)
        if listings.holds(int(community)):
            await departures.community_back(ctx.store, "discord", community)
            continue
        found.append(community)
    return found
