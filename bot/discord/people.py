"""Who a Discord user is to copbot: the community (guild) and the moderator and admin rights."""

from __future__ import annotations

import time
from typing import Any

import discord

from commands.types import Actor
from storage.store import Store

SETTINGS_TTL = 10.0


class Directory:
    """Turns Discord users into :class:`Actor` s: rights from their permissions where they act,
    or the moderator role /setup chose (read from the database, cached for ``SETTINGS_TTL``)."""

    def __init__(self, store: Store) -> None:
        """Read the moderator roles from ``store``."""
        self.store = store
        self._moderator_roles: dict[int, tuple[float, str | None]] = {}

    async def actor(self, interaction: discord.Interaction[Any]) -> Actor:
        """The core's view of the user: community = guild, moderator by role or permission."""
        user = interaction.user
        guild_id = interaction.guild_id
        if guild_id is None:
            return Actor("discord", "dm", str(user.id), user.display_name, direct=True)
        return await self.guild_actor(guild_id, user, interaction.permissions)

    async def guild_actor(
        self, guild_id: int, user: discord.User | discord.Member, permissions: discord.Permissions
    ) -> Actor:
        """A server member: moderator with Manage Messages (``permissions`` are the ones in the
        channel at hand) or the /setup moderator role; admin with Manage Server."""
        moderator = permissions.manage_messages or permissions.administrator
        if not moderator and isinstance(user, discord.Member):
            role_id = await self._moderator_role(guild_id)
            moderator = bool(role_id and role_id.isdigit() and _holds(user, int(role_id)))
        return Actor(
            "discord",
            str(guild_id),
            str(user.id),
            user.display_name,
            is_moderator=moderator,
            is_admin=permissions.manage_guild or permissions.administrator,
        )

    def forget(self, guild_id: int) -> None:
        """Read the guild's moderator role afresh next time (its settings may have changed)."""
        self._moderator_roles.pop(guild_id, None)

    async def _moderator_role(self, guild_id: int) -> str | None:
        """The guild's moderator role from /setup, cached for a few seconds."""
        now = time.monotonic()
        cached = self._moderator_roles.get(guild_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        row = await self.store.get_settings("discord", str(guild_id))
        role = row.moderator_role_id if row else None
        self._moderator_roles[guild_id] = (now + SETTINGS_TTL, role)
        return role


async def fetch_member(
    client: discord.Client, guild_id: int, user_id: int, channel_id: int
) -> tuple[discord.Member, discord.Permissions]:
    """A member of a server discord.py has not cached, and their permissions in a channel there,
    from Discord's REST API: the server's roles and owner (``GET /guilds/{id}``), the member
    (``GET /guilds/{id}/members/{user}``), the channel's overwrites (``GET /channels/{id}``; a
    thread's are its parent's). Raises what discord.py raises (``NotFound``: not a member)."""
    guild = await client.fetch_guild(guild_id)
    member = await guild.fetch_member(user_id)
    channel = await guild.fetch_channel(channel_id)
    if isinstance(channel, discord.Thread):
        channel = await guild.fetch_channel(channel.parent_id)
    return member, channel.permissions_for(member)


def _holds(member: discord.Member, role_id: int) -> bool:
    """Whether ``member`` has the role, by the role ids their payload lists. ``Member.get_role``
    and ``Member.roles`` look each role up in the server's cache, which is empty for a server
    copbot has not received (in an outage, or its details not in yet after a connect): there a
    moderator by role was refused."""
    return bool(member._roles.has(role_id))
