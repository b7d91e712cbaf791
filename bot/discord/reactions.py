"""Moderators decide submissions on Discord with ✅ / ❌ reactions under copbot's moderator posts.

Raw gateway events carry the message id and the member, so this needs no message cache and works
on posts from before a restart (the post ↔ submission mapping is in the database).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import aiohttp
import discord

from bot.discord.inflight import InFlight
from bot.discord.outbound import Messenger
from bot.discord.people import Directory, fetch_member
from bot.outbound import MaybeSent, NotDelivered, Posted, Unreachable
from commands.submissions import APPROVE_EMOJI, REJECT_EMOJI, decide_by_reaction
from commands.types import Actor, Context, Reply
from storage.database import is_database_failure
from storage.units import AlreadyApplied

log = logging.getLogger("copbot.discord")

# Reactions that decide a submission under its moderator post.
REVIEW_EMOJI = frozenset({APPROVE_EMOJI, REJECT_EMOJI})

UNKNOWN_MEMBER = 10007  # Discord's error code: the user is not a member of the server


def _review_emoji(payload: discord.RawReactionActionEvent) -> str | None:
    """✅ or ❌ (the emoji's name), or None for any other emoji."""
    name = (payload.emoji.name or "").replace("\ufe0f", "")
    return name if payload.emoji.id is None and name in REVIEW_EMOJI else None


def _reaction_key(payload: discord.RawReactionActionEvent, name: str) -> str:
    """What identifies one ✅ / ❌ of one user under one message."""
    return f"discord:reaction:{payload.message_id}:{payload.user_id}:{name}"


class Reactions:
    """Decides submissions by reaction; ``client()`` is the front end's current client."""

    def __init__(
        self,
        ctx: Context,
        directory: Directory,
        inflight: InFlight,
        client: Callable[[], discord.Client | None],
    ) -> None:
        """Decide through the core in ``ctx``; who moderates, from ``directory``."""
        self.ctx, self.directory, self.inflight, self.client = ctx, directory, inflight, client
        self.messenger = Messenger(client)
        self.handled = 0  # reaction events seen, whatever came of them (tests wait on it)

    async def on_reaction(self, payload: discord.RawReactionActionEvent) -> None:
        """✅ / ❌ by a moderator under a submission's moderator post decides it.

        Other emoji, reactions outside servers or on messages copbot did not write, copbot's own
        reactions, other bots' and non-moderators' change nothing. The first decision wins (the
        core's guarded update): a later or replayed reaction neither edits the post nor tells
        the submitter again. A moderator's ✅ / ❌ that failed before deciding is answered (see
        :meth:`_not_recorded`): Discord never sends a reaction event again.
        """
        with self.inflight.busy():
            try:
                await self._react(payload)
            except AlreadyApplied:
                log.info("ignored a replayed reaction on message %s", payload.message_id)
            except Exception:
                log.exception("handling a reaction on message %s failed", payload.message_id)
            finally:
                self.handled += 1

    async def on_reaction_removed(self, payload: discord.RawReactionActionEvent) -> None:
        """A ✅ / ❌ taken back: the same moderator's next one counts again.

        Reaction events carry no id, so a reaction that decided is remembered (message, user,
        emoji) until its removal: a replay of it, even after an Undo, decides nothing.
        """
        with self.inflight.busy():
            try:
                name = _review_emoji(payload)
                if name is not None:
                    await self.ctx.store.forget_event(_reaction_key(payload, name))
            except Exception:
                log.exception("handling a removed reaction on message %s failed", payload.message_id)
            finally:
                self.handled += 1

    async def _react(self, payload: discord.RawReactionActionEvent) -> None:
        name = _review_emoji(payload)
        if payload.guild_id is None or name is None:
            return
        client = self.client()
        me = client.user if client is not None else None
        if client is None or me is None or payload.user_id == me.id:
            return
        if payload.message_author_id is not None and payload.message_author_id != me.id:
            return  # moderator posts are copbot's own messages
        try:
            found = await self._reactor(client, payload, payload.guild_id, name)
        except Exception as exc:
            if payload.member is None or not is_database_failure(exc):
                raise
            # The /setup moderator role could not be read: perhaps a moderator's, told as one.
            await self._not_recorded(payload, payload.member, name, exc)
            return
        if found is None:
            return
        member, actor = found
        if member.bot:
            log.debug("ignored %s on %s: from a bot", name, payload.message_id)
            return
        if not actor.is_moderator:
            log.debug("ignored %s on %s by %s: not a moderator", name, payload.message_id, member.id)
            return
        with self.ctx.store.applying(_reaction_key(payload, name), self.ctx.clock()) as applying:
            try:
                reply = await decide_by_reaction(self.ctx, actor, str(payload.message_id), name)
            except AlreadyApplied:
                raise
            except Exception as exc:
                if applying.recorded:
                    raise  # the decision committed: what failed after it is the sweep's to mend
                await self._not_recorded(payload, member, name, exc)
                return
        if reply is not None and reply.error:  # decided the other way already: say so, to them
            await self._tell(payload, member, name, reply)
        elif reply is not None:
            log.info(
                "submission on message %s decided by %s from %s in guild %s",
                payload.message_id,
                name,
                member.id,
                payload.guild_id,
                extra={"command": "reaction", "community": str(payload.guild_id)},
            )

    async def _reactor(
        self, client: discord.Client, payload: discord.RawReactionActionEvent, guild_id: int, name: str
    ) -> tuple[discord.Member, Actor] | None:
        """Who reacted, and what they are to copbot; None when Discord could not say.

        In a server discord.py has not cached (in an outage, or its details not in yet after a
        connect) its member knows its role ids but not the server's roles nor the channel, so
        Manage Messages cannot be read there: unless the role ids name the /setup moderator
        role, the member and their permissions in the channel come from Discord's REST API. A
        lookup that fails decides nothing (logged; the reactor may not even be a moderator).
        """
        member = payload.member
        if member is not None and member.guild.default_role is not None:  # the server is cached
            channel = member.guild.get_channel_or_thread(payload.channel_id)
            permissions = channel.permissions_for(member) if channel is not None else member.guild_permissions
            return member, await self.directory.guild_actor(guild_id, member, permissions)
        if member is not None:
            by_role = await self.directory.guild_actor(guild_id, member, discord.Permissions.none())
            if by_role.is_moderator or member.bot:
                return member, by_role
        try:
            fetched, permissions = await fetch_member(client, guild_id, payload.user_id, payload.channel_id)
        except (
            discord.HTTPException,
            discord.InvalidData,
            aiohttp.ClientError,
            OSError,
            TimeoutError,
        ) as exc:
            if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_MEMBER:
                log.info(
                    "ignored %s on %s by %s: no longer a member", name, payload.message_id, payload.user_id
                )
            else:
                log.warning(
                    "%s by %s on message %s decided nothing: asking Discord who they are in server "
                    "%s, which discord.py has not cached, failed (%s)",
                    name,
                    payload.user_id,
                    payload.message_id,
                    guild_id,
                    exc,
                )
            return None
        return fetched, await self.directory.guild_actor(guild_id, fetched, permissions)

    async def _not_recorded(
        self, payload: discord.RawReactionActionEvent, member: discord.Member, name: str, exc: Exception
    ) -> None:
        """A moderator's ✅ / ❌ failed before it decided anything (the database out of reach…).

        Discord sends no reaction event twice and the post still shows the submission pending,
        so the moderator is told in a reply to the post, which pings only them: they are in that
        channel, and copbot may post there (a DM may be closed, and would not show which post).
        Only under a submission's moderator post, known without the database as a message copbot
        put ✅ and ❌ under (a moderator's ✅ on any other message of copbot's decides nothing).
        """
        outage = is_database_failure(exc)
        if outage:
            log.warning(
                "%s by %s on message %s was not recorded: the database did not answer (%s)",
                name,
                member.id,
                payload.message_id,
                type(exc).__name__,
            )
        else:
            log.error("handling a reaction on message %s failed", payload.message_id, exc_info=exc)
        why = "the database is out of reach" if outage else "something failed on my side"
        posted = Posted(str(payload.channel_id), str(payload.message_id))
        try:
            if name not in await self.messenger.own_reactions(posted):
                return
        except (Unreachable, NotDelivered, MaybeSent) as failure:
            log.warning("telling %s that their %s was not recorded failed: %s", member.id, name, failure)
            return
        notice = (
            f"I couldn't record your {name} ({why}); nothing was decided. Remove your "
            f"reaction and add it again in a minute."
        )
        await self._tell(payload, member, name, Reply(text=notice, mention=str(member.id), error=True))

    async def _tell(
        self, payload: discord.RawReactionActionEvent, member: discord.Member, name: str, reply: Reply
    ) -> None:
        """Answer a moderator's ✅ / ❌ in a reply to the post that pings only them: they are in
        that channel, and copbot may post there (a DM may be closed, and would not show which post)."""
        posted = Posted(str(payload.channel_id), str(payload.message_id))
        try:
            await self.messenger.reply(str(payload.guild_id), posted, reply)
        except (Unreachable, NotDelivered, MaybeSent) as failure:
            log.warning(
                "answering the %s of %s on %s failed: %s", name, member.id, payload.message_id, failure
            )
