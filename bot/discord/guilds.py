"""The names of the servers copbot is in, as its Discord client's cache knows them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.reminders import NameLookup

if TYPE_CHECKING:
    from bot.discord.frontend import DiscordFrontEnd


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
