"""A second guild on the fake Discord, on another shard, so that two shards both get traffic.

The fake models one guild: its REST guild routes, READY/GUILD_CREATE and member list are that
guild's. A shard only hears about its own guilds, and an interaction carries everything a bot
reads from it (guild id, the member with their permissions, the channel), so a second guild is
simulated by interactions that name another guild id: the fake routes a dispatch by its
``guild_id``, so it reaches that guild's shard, accepts its callback like any other, and
``FakeDiscord.replay`` re-sends it to the same shard. The fake's READY lists it (unavailable, as
in an outage: no GUILD_CREATE follows), so that copbot knows it is in that guild: make it before
copbot connects, and drop it from ``FakeDiscord.other_guilds`` for a guild that removed copbot.

Its users are members of the fake (``add_member``), which builds their member payloads; its
channels are channels of the fake, relabelled as the other guild's in the payload. The payload is
built by the fake's own builders (``_command_data``, ``_interaction_payload``): the fake has no
public way to build an interaction without dispatching it to its own guild's shard.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from tests.fakes.discord_api import FakeDiscord, snowflake

APPLICATION_COMMAND, MESSAGE_COMPONENT = 2, 3


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a guild's events to."""
    return (guild_id >> 22) % shard_count


def guild_id_on_shard(shard: int, shard_count: int) -> int:
    """A new snowflake-shaped guild id that Discord routes to ``shard``.

    Its low bits (1) never occur in the fake's snowflakes, so it cannot collide with their ids.
    """
    ms = snowflake() >> 22
    ms += (shard - ms) % shard_count
    return (ms << 22) | 1


class OtherGuild:
    """Slash commands and button presses from a guild the fake does not hold, dispatched to that
    guild's shard."""

    def __init__(self, fake: FakeDiscord, guild_id: int, channel_id: int) -> None:
        """``channel_id``: a channel of the fake that stands for this guild's channel."""
        if guild_id == fake.guild_id:
            raise ValueError("the other guild needs its own id")
        self.fake = fake
        self.guild_id = guild_id
        self.channel_id = channel_id
        fake.other_guilds.add(guild_id)

    def _relabel(self, payload: dict[str, Any]) -> None:
        gid = str(self.guild_id)
        payload["guild_id"] = gid
        payload["guild"] = {**payload["guild"], "id": gid}
        payload["authorizing_integration_owners"] = {"0": gid}
        payload["channel"]["guild_id"] = gid
        data = payload.get("data") or {}
        data.pop("guild_id", None)  # commands are global: no guild scope
        for channel in ((data.get("resolved") or {}).get("channels") or {}).values():
            channel["guild_id"] = gid

    async def slash(
        self, name: str, options: dict[str, Any] | None = None, *, user_id: int, channel_id: int | None = None
    ) -> int:
        """Dispatch a slash command from ``user_id`` in this guild; return the interaction id."""
        channel = channel_id or self.channel_id
        data = self.fake._command_data(name, options, channel_id=channel, guild=True, user_id=user_id)
        # The fake keeps this very dict as the interaction (for its callback and for replay()).
        payload = self.fake._interaction_payload(
            APPLICATION_COMMAND, data, user_id=user_id, channel_id=channel
        )
        self._relabel(payload)
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def click(self, message: Mapping[str, Any], custom_id: str, *, user_id: int) -> int:
        """Press the button ``custom_id`` on a copy of the bot's ``message`` posted in this guild
        (its channel is this guild's); return the interaction id."""
        posted = copy.deepcopy(dict(message))
        posted["channel_id"] = str(self.channel_id)
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self.fake._interaction_payload(
            MESSAGE_COMPONENT, data, user_id=user_id, channel_id=self.channel_id, message=posted
        )
        self._relabel(payload)
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])
