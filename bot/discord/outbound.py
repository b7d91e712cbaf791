"""What copbot posts on Discord on its own initiative: DMs, channel posts, edits and reactions.

:class:`Messenger` implements :class:`bot.outbound.Outbound` for
:class:`bot.discord.frontend.DiscordFrontEnd`, rendered like every other reply; Discord's
refusals become the outbound errors (see :func:`_delivery`). In a server channel where copbot
lacks Embed Links, Discord would post the message without its embed (a bare mention and
buttons), so there the reply goes as the message's text (:func:`bot.discord.render.text`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import aiohttp
import discord

from bot.discord import render
from bot.outbound import (
    ChannelGone,
    ChannelRefused,
    FailedOnTheWay,
    Gone,
    NotDelivered,
    Posted,
    Rejected,
    Unavailable,
    Unreachable,
)
from commands.types import Reply

# Discord's answer (400) to opening a DM with someone who cannot have one: an account that was
# deleted. Asking again cannot help; its claimant is gone from the server (Messenger.send_dm).
INVALID_RECIPIENT = 50033
# Discord's answer (404) to an edit of a message that was deleted.
UNKNOWN_MESSAGE = 10008
# Discord's answers to a request it will not take as it is (400 Bad Request, e.g. 50035 Invalid
# Form Body: an embed too long; 405 Method Not Allowed; 413 Payload Too Large): the same message
# is refused at every try.
REJECTED_STATUSES = frozenset({400, 405, 413})
# Discord's answer to a token it no longer takes (reset in the Developer Portal): nothing this
# process sends can go out, and each refused request counts toward the limit past which Discord
# bans its address; a restart with the new token sends what waited.
UNAUTHORIZED = 401


@contextlib.contextmanager
def _delivery(what: str, *, channel: str | None = None) -> Iterator[None]:
    """Discord's answers as outbound errors: forbidden, gone or no such recipient (50033) →
    Unreachable, except a post in ``channel`` that copbot's own permissions forbid (403: 50013
    Missing Permissions, 50001 Missing Access) → ChannelRefused, which an admin can fix; the
    message itself refused (400, 405, 413: sent again, it would be refused again) → Rejected;
    copbot's token refused (401) → Unavailable, an outage: nothing more goes out till a restart
    with a valid token; refused otherwise (a rate limit) or Discord out of reach → NotDelivered,
    as nothing was posted; a server error or
    a connection lost on the way → MaybeSent: Discord may have posted the message anyway. A
    failure of Discord as a whole (a server error, a lost connection, out of reach, a rate
    limit discord.py's own retries did not outlast) is also an :class:`bot.outbound.Outage`."""
    try:
        yield
    except discord.Forbidden as exc:
        if channel is not None:
            answer = (
                f"Discord answered {exc.status} {exc.text}: give copbot's role View Channel and Send Messages"
            )
            # The log names the channel by its id; a member reads <#id>: the channel by its name.
            raise ChannelRefused(
                f"{what}: {answer} in channel {channel}", f"{answer} in <#{channel}>"
            ) from exc
        raise Unreachable(f"{what}: {exc.status} {exc.text}") from exc
    except discord.NotFound as exc:
        # 10003 Unknown Channel: its id names nothing a member can find (an edit's 10008 Unknown
        # Message is the message gone, in a channel that may well be there).
        if channel is not None and exc.code != UNKNOWN_MESSAGE:
            raise ChannelGone(
                f"{what}: {exc.status} {exc.text}",
                f"Discord answered {exc.status} {exc.text}: the channel was deleted",
            ) from exc
        raise Unreachable(f"{what}: {exc.status} {exc.text}") from exc
    except discord.DiscordServerError as exc:
        raise FailedOnTheWay(f"{what}: Discord answered {exc.status} {exc.text}") from exc
    except discord.HTTPException as exc:
        if exc.code == INVALID_RECIPIENT:  # a deleted account: refused again at every try
            raise Unreachable(f"{what}: {exc.status} {exc.text}") from exc
        if exc.status == UNAUTHORIZED:  # the whole platform is out of reach, not this message
            raise Unavailable(
                f"{what}: Discord refused copbot's token ({exc.status} {exc.text}): set DISCORD_TOKEN "
                "to the bot's current token from the Developer Portal and restart copbot"
            ) from exc
        if exc.status in REJECTED_STATUSES:
            raise Rejected(
                f"{what}: Discord refused the message ({exc.status}, code {exc.code}): {exc.text}",
                # 405 and 413 come without a code of Discord's (0): their status says what it was.
                str(exc.code or exc.status),
            ) from exc
        if exc.status == 429:  # still rate limited after discord.py's own retries
            raise Unavailable(f"{what}: Discord answered {exc.status} {exc.text}") from exc
        raise NotDelivered(f"{what}: Discord answered {exc.status} {exc.text}") from exc
    except discord.RateLimited as exc:  # a wait longer than the client's max_ratelimit_timeout
        raise Unavailable(f"{what}: Discord asks copbot to wait {exc.retry_after:.0f} s") from exc
    except aiohttp.ClientConnectorError as exc:
        raise Unavailable(f"{what}: cannot reach Discord ({exc})") from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FailedOnTheWay(
            f"{what}: the connection to Discord failed ({str(exc) or type(exc).__name__})"
        ) from exc


def _snowflake(value: str, what: str) -> int:
    if not value.isdigit():
        raise Unreachable(f"{value[:40]!r} is not a Discord {what} id")
    return int(value)


class Messenger:
    """Posts through the front end's client while it runs (``client()``: the current one)."""

    def __init__(self, client: Callable[[], discord.Client | None]) -> None:
        """Post with whatever client ``client()`` returns at the time."""
        self.client = client

    def _sender(self) -> discord.Client:
        client = self.client()
        if client is None or client.is_closed():
            raise NotDelivered("the Discord front end is not running")
        return client

    async def send_dm(
        self, community_id: str, user_id: str, reply: Reply, *, ask_if_gone: bool = True
    ) -> Posted:
        """Message a user directly; closed DMs (50007) and unknown users raise Unreachable, and
        :class:`bot.outbound.Gone` when the user is no longer a member of the server (left it,
        or deleted their account), asked only once Discord refused the DM (a request of its
        own: not with ``ask_if_gone=False``).

        Opening the DM channel posts nothing: when Discord fails there (a server error, a lost
        connection), the message was certainly not sent, and may be sent again (a notice, which
        is never sent twice, would otherwise be written off unsent)."""
        user = _snowflake(user_id, "user")
        client, kwargs = self._sender(), render.message(reply)
        what = f"DM to Discord user {user_id}"
        try:
            try:
                with _delivery(f"{what} (opening the DM)"):
                    channel = await client.create_dm(discord.Object(user))
            except FailedOnTheWay as exc:
                raise Unavailable(str(exc)) from exc.__cause__
            with _delivery(what):
                sent = await channel.send(**kwargs)
        except Unreachable as exc:
            if ask_if_gone and await self._gone(client, community_id, user):
                raise Gone(f"{exc}; and user {user_id} is no longer in server {community_id}") from exc
            raise
        return Posted(str(sent.channel.id), str(sent.id), sent.jump_url)

    @staticmethod
    async def _gone(client: discord.Client, community_id: str, user: int) -> bool:
        """Whether Discord says ``user`` is not a member of server ``community_id`` (they left
        it, or deleted their account: 10007 Unknown Member); False when it cannot tell."""
        if not community_id.isdigit():
            return False
        try:
            await client.http.get_member(int(community_id), user)
        except discord.NotFound:
            return True
        except (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, TimeoutError):
            return False
        return False

    async def send_channel(self, community_id: str, channel_id: str, reply: Reply) -> Posted:
        """Post in a channel; a channel that is gone raises Unreachable, one copbot may not post
        in (missing permission or access) ChannelRefused."""
        target = self._channel(community_id, channel_id)
        kwargs = render.message(reply, embeds=self._may_embed(channel_id))
        with _delivery(f"post in Discord channel {channel_id}", channel=channel_id):
            sent = await target.send(**kwargs)
        return Posted(str(sent.channel.id), str(sent.id), sent.jump_url)

    async def reply(self, community_id: str, posted: Posted, reply: Reply) -> Posted:
        """Post in the channel of a message the bot posted, as an answer to it (it stays
        readable if that message is gone); errors as :meth:`send_channel`'s."""
        kwargs = render.message(reply, embeds=self._may_embed(posted.channel_id))
        reference = self._message(posted).to_reference(fail_if_not_exists=False)
        target = self._channel(community_id, posted.channel_id)
        with _delivery(f"reply in Discord channel {posted.channel_id}", channel=posted.channel_id):
            sent = await target.send(reference=reference, **kwargs)
        return Posted(str(sent.channel.id), str(sent.id), sent.jump_url)

    async def own_reactions(self, posted: Posted) -> set[str]:
        """The emoji the bot itself put under a message (as Discord has it now)."""
        with _delivery(f"read of Discord message {posted.message_id}"):
            message = await self._message(posted).fetch()
        return {str(reaction.emoji) for reaction in message.reactions if reaction.me}

    def _may_embed(self, channel_id: str) -> bool:
        """Whether copbot's permissions in the channel, as discord.py's cache of the server has
        them (as ``/setup`` reads them, :mod:`bot.discord.channels`), include Embed Links; True
        for a DM and when the cache cannot tell (then Discord decides)."""
        client = self.client()
        channel = client.get_channel(int(channel_id)) if client and channel_id.isdigit() else None
        guild = getattr(channel, "guild", None)
        if channel is None or guild is None or guild.unavailable or guild.me is None:
            return True
        assert isinstance(channel, discord.abc.GuildChannel | discord.Thread)
        return channel.permissions_for(guild.me).embed_links

    def _channel(self, community_id: str, channel_id: str) -> discord.PartialMessageable:
        guild_id = int(community_id) if community_id.isdigit() else None
        return self._sender().get_partial_messageable(_snowflake(channel_id, "channel"), guild_id=guild_id)

    def _message(self, posted: Posted) -> discord.PartialMessage:
        channel = _snowflake(posted.channel_id, "channel")
        message = _snowflake(posted.message_id, "message")
        return self._sender().get_partial_messageable(channel).get_partial_message(message)

    async def edit(self, posted: Posted, reply: Reply) -> None:
        """Replace a message the bot posted (content, embed and buttons). A message or channel
        that is gone raises Unreachable (10008 Unknown Message, 10003 Unknown Channel); a channel
        copbot may no longer see (403: an admin took its access) ChannelRefused, which an admin
        can mend: the edit is made once they do."""
        kwargs = render.message(reply, embeds=self._may_embed(posted.channel_id))
        kwargs.setdefault("content", None)
        kwargs.setdefault("view", None)
        with _delivery(f"edit of Discord message {posted.message_id}", channel=posted.channel_id):
            await self._message(posted).edit(**kwargs)

    async def react(self, posted: Posted, emojis: list[str]) -> None:
        """Add the bot's reactions under a message, in order."""
        message = self._message(posted)
        with _delivery(f"reaction on Discord message {posted.message_id}"):
            for emoji in emojis:
                await message.add_reaction(emoji)
