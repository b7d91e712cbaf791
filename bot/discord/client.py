"""copbot's discord.py client: intents, permissions, the gateway, and syncing the app commands.

:class:`CopClient` is an auto-sharded client that hands every event copbot cares about to the
parts of its :class:`bot.discord.frontend.DiscordFrontEnd`: commands and buttons to
:mod:`bot.discord.interactions`, reactions to :mod:`bot.discord.reactions`, shard state to the
front end itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot import departures
from bot.discord import guilds, render, review
from bot.discord.commands import CopTree, build_tree, payload_hash
from storage import departures as held_data
from storage.store import Store

if TYPE_CHECKING:
    from bot.discord.frontend import DiscordFrontEnd

log = logging.getLogger("copbot.discord")

SHUTDOWN_GRACE = 5.0
# What the bot needs where it posts: see docs/discord.md for each one.
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    read_message_history=True,
    add_reactions=True,
)
SCOPES = ("bot", "applications.commands")


def intents() -> discord.Intents:
    """Guilds (channels and roles) and guild reactions; nothing privileged."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.guild_reactions = True
    return chosen


def invite_url(application_id: int) -> str:
    """The URL a server admin opens to add copbot, with its scopes and permissions."""
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)


# Gateway close codes after which Discord takes no RESUME nor IDENTIFY as it stands (discord.py
# closes the client and raises): what each means, and what to check.
GATEWAY_CLOSES = {
    4004: ("authentication failed", "check DISCORD_TOKEN (reset in the Developer Portal: Bot, Reset Token)"),
    4010: ("invalid shard", "check DISCORD_SHARD_IDS: each below DISCORD_SHARD_COUNT"),
    4011: ("sharding required", "raise DISCORD_SHARD_COUNT, or unset it and DISCORD_SHARD_IDS"),
    4012: ("invalid API version", "this copbot's discord.py is too old for Discord: upgrade copbot"),
    4013: ("invalid intents", "this copbot's discord.py asks for intents Discord lacks: upgrade copbot"),
    4014: ("disallowed intents", "check the Privileged Gateway Intents on the Developer Portal's Bot page"),
}


def gateway_closed(error: discord.ConnectionClosed | discord.PrivilegedIntentsRequired) -> str:
    """One line on a gateway close for good: the code, what it means, and the setting to check."""
    code = 4014 if isinstance(error, discord.PrivilegedIntentsRequired) else error.code
    meaning, check = GATEWAY_CLOSES.get(code, ("", "see Discord's list of gateway close event codes"))
    return f"Discord closed the gateway with {code}{f' ({meaning})' if meaning else ''}: {check}"


# The longest discord.py waits out a rate limit (a 429's retry_after, or a bucket it knows is
# empty) before it raises discord.RateLimited instead: 30 s, the least discord.py takes. Unset,
# a global limit of ten minutes was slept through in silence, inside a command's work or the
# reminder sweep; raised, the sweep counts it as an outage (one warning, the rest of its
# Discord messages wait for the next sweep) and a command answers with its apology.
RATE_LIMIT_WAIT = 30.0


class CopClient(discord.AutoShardedClient):
    """discord.py's auto-sharded client, wired to one :class:`DiscordFrontEnd`."""

    tree: CopTree

    def __init__(self, front_end: DiscordFrontEnd, **options: Any) -> None:
        """A client with minimal intents, no message cache, and nobody mentionable by default."""
        settings = front_end.settings
        if settings.discord_shard_count is not None:
            options.setdefault("shard_count", settings.discord_shard_count)
        if settings.discord_shard_ids is not None:
            options.setdefault("shard_ids", settings.discord_shard_ids)
        super().__init__(
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            max_messages=None,
            max_ratelimit_timeout=RATE_LIMIT_WAIT,
            **options,
        )
        self.front_end = front_end
        self.listings = guilds.Listings(self)
        self._members_recorded: set[int] = set()
        guild = discord.Object(settings.discord_guild_id) if settings.discord_guild_id else None
        self.tree = build_tree(self, front_end.interactions, guild)
        self.tree.error_handler = front_end.interactions.on_tree_error

    async def setup_hook(self) -> None:
        """Before the gateway connects: where it is, and the persistent buttons."""
        gateway = self.front_end.settings.discord_gateway_url
        if gateway:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
            if self.shard_count is None:
                # The sharded client connects to the URL GET /gateway/bot names unless it is
                # given a shard count; take the count from there and keep the configured URL.
                self.shard_count, _, _ = await self.http.get_bot_gateway()
        self.add_dynamic_items(render.CopButton)

    def _store_work(self) -> contextlib.AbstractContextManager[None]:
        """Around a gateway event's database work: work in flight, which closing the front end
        lets finish before the store is closed (cut there, it would hold one of its connections)."""
        return self.front_end.inflight.busy()

    async def sync_commands(self, store: Store) -> bool:
        """Send the app commands to Discord if their payload changed since the last sync.

        ``CommandTree.sync`` overwrites every command of its scope and creates are rate limited,
        so the payload's hash is kept in the database per application and scope.
        """
        guild_id = self.front_end.settings.discord_guild_id
        guild = discord.Object(guild_id) if guild_id else None
        scope = f"guild:{guild_id}" if guild_id else "global"
        key = f"discord:commands:{self.application_id}:{scope}"
        digest = payload_hash(self.tree, guild)
        if await store.get_meta(key) == digest:
            log.info("Discord commands unchanged (%s); not syncing", scope)
            return False
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            # Keep serving the commands Discord already has; the next start tries again.
            log.error("syncing Discord commands (%s) failed: %s %s", scope, exc.status, exc.text)
            return False
        except discord.RateLimited as exc:  # a wait past RATE_LIMIT_WAIT (command creates: per day)
            log.error(
                "syncing Discord commands (%s) failed: rate limited for %.0f s; the next start tries again",
                scope,
                exc.retry_after,
            )
            return False
        await store.set_meta(key, digest)
        log.info("synced %d Discord commands (%s)", len(synced), scope)
        return True

    async def handle_button(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        """A copbot button was clicked (see :class:`render.CopButton`)."""
        await self.front_end.interactions.on_click(interaction, custom_id)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Every interaction; copbot's own modal forms are routed from here (see
        :mod:`bot.discord.review` for why not through discord.py's modal store)."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: Any = interaction.data or {}
        form = review.form_of(str(data.get("custom_id", "")))
        if form is not None:
            reason = review.submitted_reason(data)
            await self.front_end.interactions.on_reject_reason(interaction, *form, reason)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """A reaction anywhere the bot can see (raw: also on messages not in any cache)."""
        await self.front_end.reactions.on_reaction(payload)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        """A reaction taken back anywhere the bot can see."""
        await self.front_end.reactions.on_reaction_removed(payload)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """copbot was removed from a server (kicked or banned, or the server was deleted; a server
        that is only unavailable for an outage is ``on_guild_unavailable``, left alone): its
        claims stop being reminded and its pending submissions close (:mod:`bot.departures`)."""
        self.listings.forget(guild.id)
        ctx = self.front_end.ctx
        why = f"copbot was removed from the Discord server {guild.name!r}"
        with self._store_work():
            try:
                await departures.community_left(ctx.store, "discord", str(guild.id), ctx.clock(), why)
            except Exception:  # the server stays as it was; a GUILD_DELETE is not sent again
                log.exception("recording that copbot left Discord server %s failed", guild.id)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """copbot was added to a server, perhaps one that removed it before."""
        await self._in_guild(guild)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        """A server of copbot's at connection (one it rejoined while this process was away), or
        after an outage."""
        await self._in_guild(guild)

    async def _in_guild(self, guild: discord.Guild) -> None:
        """A GUILD_CREATE: copbot is a member of the server, so that it can be found gone later
        (:mod:`bot.discord.guilds`), and no longer gone if it was."""
        self.listings.seen(guild)
        with self._store_work():
            await self._members([guild.id])
            try:
                await departures.community_back(self.front_end.ctx.store, "discord", str(guild.id))
            except Exception:
                log.exception("recording that copbot is in Discord server %s failed", guild.id)

    async def _members(self, guild_ids: list[int]) -> None:
        """Record that copbot's application is a member of these servers: only such a server is
        taken for gone when a READY no longer lists it (:mod:`bot.discord.guilds`)."""
        ctx = self.front_end.ctx
        # Once a process: a GUILD_CREATE comes for every server at each new session.
        new = [guild_id for guild_id in guild_ids if guild_id not in self._members_recorded]
        if self.application_id is None or not new:
            return
        try:
            await held_data.mark_members(
                ctx.store, "discord", str(self.application_id), map(str, new), ctx.clock()
            )
        except Exception:  # recorded again at the next READY or GUILD_CREATE
            log.exception("recording that copbot is in %d Discord server(s) failed", len(new))
        else:
            self._members_recorded.update(new)

    async def on_shard_connect(self, shard_id: int) -> None:
        """A shard identified (READY): which servers it lists, before anything else; copbot's
        application is a member of each (:mod:`bot.discord.guilds`)."""
        self.listings.ready(shard_id)
        self.front_end.shard_up(shard_id)
        with self._store_work():
            await self._members(self.listings.listed(shard_id))

    async def on_shard_ready(self, shard_id: int) -> None:
        """A shard's READY and the GUILD_CREATEs after it are handled (at a start, or in a new
        session after one that could not be resumed): the servers it no longer lists that copbot
        was a member of and holds data for removed copbot while it was away
        (:mod:`bot.discord.guilds`)."""
        try:
            with self._store_work():
                gone = await guilds.gone_while_away(self.front_end, shard_id)
        except Exception:  # checked again at the next READY (a restart, or a new session)
            log.exception("finding the Discord servers of shard %s that removed copbot failed", shard_id)
            return
        listed = len(self.listings.listed(shard_id))
        log.info("Discord shard %s ready: %d server(s), %d found gone", shard_id, listed, len(gone))

    async def on_shard_resumed(self, shard_id: int) -> None:
        """A shard resumed its session."""
        self.front_end.shard_up(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        """A shard lost its connection (discord.py reconnects it)."""
        self.front_end.shard_down(shard_id)


async def end_gateway_task(task: asyncio.Task[None]) -> None:
    """End ``client.connect()``, its client closed: cancelled, and again until it ends (within
    ``SHUTDOWN_GRACE``).

    While it launches its shards (the gateway out of reach), discord.py retries every 5 s forever,
    closed client or not, and loses a cancellation that lands as an attempt fails (its
    ``asyncio.wait_for`` then raises the attempt's error, which it retries).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SHUTDOWN_GRACE
    while not task.done() and loop.time() < deadline:
        task.cancel()
        await asyncio.wait({task}, timeout=0.2)
    if task.done() and not task.cancelled() and task.exception() is not None:
        # closing: a gateway error now is not worth more than a line
        log.debug("the Discord gateway task ended with an error", exc_info=task.exception())
