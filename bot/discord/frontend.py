"""The Discord front end: slash commands, autocomplete and buttons on discord.py, answered by the core.

It is also the :class:`bot.outbound.Outbound` for Discord: reminders and moderator posts go out
through :meth:`DiscordFrontEnd.send_dm` and friends, rendered like every other reply. Moderators
decide submissions with ✅ / ❌ reactions (raw gateway events, so it works on messages posted
before a restart) or the post's buttons; **Reject with reason** asks for the reason in a modal
(:mod:`bot.discord.review`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot import idle_gc
from bot.config import Settings, StartupError, unreachable
from bot.discord import render, review
from bot.discord.commands import CopTree, build_tree, payload_hash
from bot.discord.suggest import Catalogue
from bot.outbound import ChannelRefused, MaybeSent, NotDelivered, Posted, Unreachable
from bot.seen import Seen
from commands import dispatch
from commands.parser import Kind
from commands.registry import COMMANDS
from commands.submissions import (
    APPROVE_EMOJI,
    NO_SUCH_SUBMISSION,
    REJECT_EMOJI,
    decide_by_reaction,
    decide_link,
)
from commands.types import Actor, CommandError, Context, Reply, parse_custom_id, record_id
from storage import submissions
from storage.models import LinkStatus, WorkLink
from storage.units import AlreadyApplied

log = logging.getLogger("copbot.discord")

DEFER_AFTER = 2.0  # Discord drops an interaction not answered within 3 s
CONNECT_TIMEOUT = 60.0
SHUTDOWN_GRACE = 5.0
SETTINGS_TTL = 10.0
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
OUTDATED = "That command has changed; Discord will show the new version shortly. Please try again."
# Reactions that decide a submission under its moderator post.
REVIEW_EMOJI = frozenset({APPROVE_EMOJI, REJECT_EMOJI})


def _review_emoji(payload: discord.RawReactionActionEvent) -> str | None:
    """✅ or ❌ (the emoji's name), or None for any other emoji."""
    name = (payload.emoji.name or "").replace("\ufe0f", "")
    return name if payload.emoji.id is None and name in REVIEW_EMOJI else None


def _reaction_key(payload: discord.RawReactionActionEvent, name: str) -> str:
    """What identifies one ✅ / ❌ of one user under one message."""
    return f"discord:reaction:{payload.message_id}:{payload.user_id}:{name}"


NOT_A_MODERATOR = "Only moderators can decide submissions."
NO_FORM = "Sorry, I could not open the form. Try again, or react ❌ to reject without a reason."
NO_REASON = "Please say why, in a few words; nothing changed."


def intents() -> discord.Intents:
    """Guilds (channels and roles) and guild reactions; nothing privileged."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.guild_reactions = True
    return chosen


def invite_url(application_id: int) -> str:
    """The URL a server admin opens to add copbot, with its scopes and permissions."""
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)


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
            **options,
        )
        self.front_end = front_end
        guild = discord.Object(settings.discord_guild_id) if settings.discord_guild_id else None
        self.tree = build_tree(self, front_end, guild)
        self.tree.error_handler = front_end.on_tree_error

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

    async def handle_button(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        """A copbot button was clicked (see :class:`render.CopButton`)."""
        await self.front_end.on_click(interaction, custom_id)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Every interaction; copbot's own modal forms are routed from here (see
        :mod:`bot.discord.review` for why not through discord.py's modal store)."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: Any = interaction.data or {}
        link_id = review.link_id_of(str(data.get("custom_id", "")))
        if link_id is not None:
            await self.front_end.on_reject_reason(interaction, link_id, review.submitted_reason(data))

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """A reaction anywhere the bot can see (raw: also on messages not in any cache)."""
        await self.front_end.on_reaction(payload)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        """A reaction taken back anywhere the bot can see."""
        await self.front_end.on_reaction_removed(payload)

    async def on_shard_connect(self, shard_id: int) -> None:
        """A shard identified (READY)."""
        self.front_end.shard_up(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        """A shard resumed its session."""
        self.front_end.shard_up(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        """A shard lost its connection (discord.py reconnects it)."""
        self.front_end.shard_down(shard_id)


async def _end_gateway_task(task: asyncio.Task[None]) -> None:
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


class DiscordFrontEnd:
    """copbot on Discord: a :class:`bot.runner.FrontEnd` and a :class:`bot.outbound.Outbound`."""

    name = "discord"

    def __init__(
        self,
        settings: Settings,
        ctx: Context,
        *,
        defer_after: float = DEFER_AFTER,
        connect_timeout: float = CONNECT_TIMEOUT,
        client_class: type[CopClient] = CopClient,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        """Configure; nothing connects until :meth:`start`.

        ``defer_after``: seconds the core may take before the interaction is deferred.
        ``client_class``/``client_options``: the discord.py client to build, and extra options.
        """
        if settings.discord_token is None:
            raise ValueError("DISCORD_TOKEN is not set")
        self.settings, self.ctx = settings, ctx
        self.defer_after = defer_after
        self.connect_timeout = connect_timeout
        self.client_class = client_class
        self.client_options = dict(client_options or {})
        self.catalogue = Catalogue(ctx.store)
        self.client: CopClient | None = None
        self.skipped_duplicates = 0
        self._seen = Seen()
        self.reactions_handled = 0  # reaction events seen, whatever came of them (tests wait on it)
        self._connect_task: asyncio.Task[None] | None = None
        self._connected: set[int] = set()
        self._all_connected = asyncio.Event()
        self._closing = False
        self._inflight: set[asyncio.Task[Any]] = set()
        self._public: dict[str, bool] = {}
        self._moderator_roles: dict[int, tuple[float, str | None]] = {}
        self._saved: tuple[str, yarl.URL] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, sync the commands if they changed, connect; returns once every shard is up."""
        if self.client is not None:
            raise RuntimeError("the Discord front end is already started")
        assert self.settings.discord_token is not None
        self._closing = False
        self._saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        # Read when each request is built, so it must be set before login (unlike the gateway).
        Route.BASE = self.settings.discord_api_url.rstrip("/")
        client = self.client = self.client_class(self, **self.client_options)
        try:
            try:
                await self._login(client)
                assert client.application_id is not None
                log.info("invite copbot to a server: %s", invite_url(client.application_id))
                await self.sync_commands()
                await self.catalogue.refresh()
                self._connect_task = asyncio.create_task(
                    client.connect(reconnect=True), name="discord-gateway"
                )
                await self._wait_connected()
            except discord.HTTPException as exc:  # an outage (5xx) or a refusal, past its retries
                # Discord's own message when it answered in JSON; else the HTTP reason (a proxy's
                # error page is HTML, and this must stay one line).
                said = exc.text if exc.code else getattr(exc.response, "reason", "")
                raise StartupError(
                    f"Discord answered {exc.status} {' '.join(str(said or '').split())[:200]} "
                    f"at start ({Route.BASE}, DISCORD_API_URL); copbot stops so that it is started again"
                ) from exc
        except BaseException:
            await self._shut_client()
            raise

    async def _login(self, client: CopClient) -> None:
        """Log in with the token; StartupError when Discord refuses it or cannot be reached."""
        assert self.settings.discord_token is not None
        try:
            await client.login(self.settings.discord_token.get_secret_value())
        except discord.LoginFailure as exc:
            raise StartupError(
                "Discord refused the token in DISCORD_TOKEN: use the bot's token from the Developer "
                "Portal (Bot, Reset Token), see docs/discord.md"
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise unreachable("Discord", Route.BASE, "DISCORD_API_URL", exc) from exc

    async def _wait_connected(self) -> None:
        assert self._connect_task is not None
        waiter = asyncio.create_task(self._all_connected.wait())
        try:
            done, _ = await asyncio.wait(
                {waiter, self._connect_task},
                timeout=self.connect_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            waiter.cancel()
        if self._connect_task in done:
            error = self._connect_task.exception()
            raise error or RuntimeError("the Discord gateway connection ended")
        if waiter not in done:
            log.warning("Discord gateway not connected after %.0f s; still trying", self.connect_timeout)

    def stop_taking_work(self) -> None:
        """Answer new interactions that copbot is restarting, and stop being ready."""
        self._closing = True

    async def drain(self) -> None:
        """Return once the interactions and reactions in flight are handled."""
        while self._inflight:
            await asyncio.wait(set(self._inflight))

    async def close(self) -> None:
        """Stop taking interactions, let answers in flight finish (briefly), disconnect."""
        self.stop_taking_work()
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=SHUTDOWN_GRACE)
        await self._shut_client()

    async def _shut_client(self) -> None:
        client, task = self.client, self._connect_task
        self.client, self._connect_task = None, None
        if client is not None:
            await client.close()
        if task is not None:
            await _end_gateway_task(task)
        self._connected.clear()
        self._all_connected.clear()
        if self._saved is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    @property
    def ready(self) -> bool:
        """Whether every shard of this process is connected."""
        client = self.client
        if client is None or client.is_closed() or self._closing:
            return False
        return self._all_connected.is_set()

    def _expected_shards(self) -> set[int]:
        client = self.client
        if client is None:
            return {0}
        return set(client.shard_ids or range(client.shard_count or 1))

    def shard_up(self, shard_id: int) -> None:
        """Record a connected shard."""
        self._connected.add(shard_id)
        if self._expected_shards() <= self._connected:
            self._all_connected.set()
        log.info("Discord shard %s connected", shard_id)

    def shard_down(self, shard_id: int) -> None:
        """Record a disconnected shard."""
        self._connected.discard(shard_id)
        self._all_connected.clear()

    async def sync_commands(self) -> bool:
        """Send the app commands to Discord if their payload changed since the last sync.

        ``CommandTree.sync`` overwrites every command of its scope and creates are rate limited,
        so the payload's hash is kept in the database per application and scope.
        """
        client = self._client()
        guild_id = self.settings.discord_guild_id
        guild = discord.Object(guild_id) if guild_id else None
        scope = f"guild:{guild_id}" if guild_id else "global"
        key = f"discord:commands:{client.application_id}:{scope}"
        digest = payload_hash(client.tree, guild)
        if await self.ctx.store.get_meta(key) == digest:
            log.info("Discord commands unchanged (%s); not syncing", scope)
            return False
        try:
            synced = await client.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            # Keep serving the commands Discord already has; the next start tries again.
            log.error("syncing Discord commands (%s) failed: %s %s", scope, exc.status, exc.text)
            return False
        await self.ctx.store.set_meta(key, digest)
        log.info("synced %d Discord commands (%s)", len(synced), scope)
        return True

    def _client(self) -> CopClient:
        if self.client is None:
            raise RuntimeError("the Discord front end is not started")
        return self.client

    # -- interactions ------------------------------------------------------------------------

    async def run_command(
        self, interaction: discord.Interaction[Any], command: str, values: dict[str, Any]
    ) -> None:
        """A slash command: run it through the core and answer."""

        async def produce() -> Reply:
            actor = await self.actor(interaction)
            reply = await dispatch.run_named(self.ctx, actor, command, values)
            spec = COMMANDS.get(command)
            if spec is not None and spec.admin_only and interaction.guild_id:
                self._moderator_roles.pop(interaction.guild_id, None)  # settings may have changed
            return reply

        await self._answer(interaction, f"/{command}", command, produce)

    async def on_click(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        """A button: run its action through the core and answer.

        **Reject with reason** (``cop:reject:<id>``) opens the reason form instead.
        """
        parsed = parse_custom_id(custom_id)
        if parsed is not None and parsed[0] == "reject":
            await self._open_reject_form(interaction, parsed[1])
            return
        action = custom_id.split(":")[1] if custom_id.count(":") >= 2 else "?"

        async def produce() -> Reply:
            return await dispatch.run_action(self.ctx, await self.actor(interaction), custom_id)

        await self._answer(interaction, f"button {action}", f"button:{action}", produce)

    async def suggest(
        self, interaction: discord.Interaction[Any], command: str, kind: Kind, current: str
    ) -> list[app_commands.Choice[str]]:
        """Autocomplete from the cached catalogue; /release's lists the user's claims first."""
        if kind is Kind.NUMBER:
            mine: list[str] = []
            if command == "release":  # claims are released where they were made: this server's
                community = str(interaction.guild_id) if interaction.guild_id else "dm"
                mine = await self.catalogue.claimed("discord", community, str(interaction.user.id))
            found = await self.catalogue.numbers(current, mine)
        else:
            found = await self.catalogue.categories(current)
        return [app_commands.Choice(name=s.name, value=s.value) for s in found]

    async def _answer(
        self,
        interaction: discord.Interaction[Any],
        label: str,
        key: str,
        produce: Callable[[], Awaitable[Reply]],
    ) -> None:
        """Run ``produce`` once per interaction id; answer at once, or defer and follow up.

        ``key`` names the kind of answer: a deferral guesses the reply's visibility from the last
        reply under the same key, and fixes a wrong guess by replacing the "thinking" message.
        """
        if self._closing:
            await self._send_quietly(interaction, dispatch.error_reply(dispatch.RESTARTING))
            return
        started = time.perf_counter()
        with self._busy():
            try:
                # The answer is produced in this task; if it takes longer than defer_after, a timer
                # sends the deferral from a task of its own meanwhile (defer_after 0: at once).
                deferred_public: bool | None = None
                deferral: asyncio.Task[None] | None = None

                def defer() -> None:
                    nonlocal deferred_public, deferral
                    deferred_public = self._public.get(key, False)
                    deferral = asyncio.ensure_future(self._defer(interaction, label, not deferred_public))

                loop = asyncio.get_running_loop()
                timer = loop.call_later(self.defer_after, defer) if self.defer_after > 0 else None
                if timer is None:
                    defer()
                try:
                    reply = await self._once(interaction, produce)
                finally:
                    if timer is not None:
                        timer.cancel()
                    if deferral is not None:
                        await deferral  # the deferral reaches Discord before the reply
                if reply is None:
                    self.skipped_duplicates += 1
                    log.info("skipped interaction %s (%s): already handled", interaction.id, label)
                    return
                await self._deliver(interaction, reply, deferred_public)
                if not reply.error:
                    self._public[key] = not reply.private
                # The core already logs each command; say more only for buttons and deferrals.
                quiet = deferred_public is None and label.startswith("/")
                log.log(
                    logging.DEBUG if quiet else logging.INFO,
                    "%s in guild %s: %s in %.0f ms%s",
                    label,
                    interaction.guild_id or "dm",
                    "error" if reply.error else "ok",
                    (time.perf_counter() - started) * 1000,
                    " (deferred)" if deferred_public is not None else "",
                    extra={"command": label, "community": str(interaction.guild_id or "dm")},
                )
            except Exception:
                log.exception("answering %s in guild %s failed", label, interaction.guild_id)

    async def _defer(self, interaction: discord.Interaction[Any], label: str, ephemeral: bool) -> None:
        """Tell Discord the answer comes later (it shows "thinking…"); a failure is only logged."""
        try:
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        except discord.HTTPException as exc:
            log.warning("could not defer %s in guild %s: %s", label, interaction.guild_id, exc)

    async def _once(
        self, interaction: discord.Interaction[Any], produce: Callable[[], Awaitable[Reply]]
    ) -> Reply | None:
        """The reply, or None when this interaction id was handled before (a replayed event).

        A replay reaching this process is caught in memory; one reaching another process (or
        this one after a restart) at its first write, which records the id with the change.
        """
        if not self._seen.first(interaction.id):
            return None
        try:
            with self.ctx.store.applying(f"discord:interaction:{interaction.id}", self.ctx.clock()):
                return await produce()
        except AlreadyApplied:
            return None
        except Exception:
            log.exception("interaction %s failed", interaction.id)
            return dispatch.error_reply(dispatch.APOLOGY)

    async def _deliver(
        self, interaction: discord.Interaction[Any], reply: Reply, deferred_public: bool | None
    ) -> None:
        kwargs = self._render(reply)
        if deferred_public is None:
            await interaction.response.send_message(**kwargs, ephemeral=reply.private)
            return
        if deferred_public == reply.private:
            # The "thinking" message has the wrong visibility: replace it.
            try:
                await interaction.delete_original_response()
            except discord.HTTPException as exc:
                log.warning("could not remove the deferred message of %s: %s", interaction.id, exc)
        await interaction.followup.send(**kwargs, ephemeral=reply.private)

    @staticmethod
    def _render(reply: Reply) -> dict[str, Any]:
        try:
            return render.message(reply)
        except Exception:  # a rendering bug must still leave the user an answer
            log.exception("rendering a Discord reply failed")
            return render.message(dispatch.error_reply(dispatch.APOLOGY))

    async def _send_quietly(self, interaction: discord.Interaction[Any], reply: Reply) -> None:
        """Answer privately if nothing answered yet; a failure here is only logged."""
        try:
            if interaction.response.is_done():
                await interaction.followup.send(**self._render(reply), ephemeral=True)
            else:
                await interaction.response.send_message(**self._render(reply), ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("could not answer interaction %s: %s", interaction.id, exc)

    async def on_tree_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """A command the tree could not run (unknown, out of date, bad option): say so privately."""
        outdated = isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch)
        if outdated:
            log.warning("unknown or outdated command in guild %s: %s", interaction.guild_id, error)
        else:
            log.error("command failed in guild %s", interaction.guild_id, exc_info=error)
        answer = OUTDATED if outdated else dispatch.APOLOGY
        await self._send_quietly(interaction, dispatch.error_reply(answer))

    # -- moderation --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _busy(self) -> Iterator[None]:
        """Count the current task as work in flight, which :meth:`close` lets finish (and which
        garbage collection waits for, see :mod:`bot.idle_gc`)."""
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            with idle_gc.COLLECTOR.busy():
                yield
        finally:
            if task is not None:
                self._inflight.discard(task)

    async def on_reaction(self, payload: discord.RawReactionActionEvent) -> None:
        """✅ / ❌ by a moderator under a submission's moderator post decides it.

        Raw events carry the message id and the member, so this needs no message cache and works
        on posts from before a restart (the post ↔ submission mapping is in the database). Other
        emoji, reactions outside servers or on messages copbot did not write, copbot's own
        reactions, other bots' and non-moderators' change nothing. The first decision wins (the
        core's guarded update): a later or replayed reaction neither edits the post nor tells
        the submitter again.
        """
        with self._busy():
            try:
                await self._react(payload)
            except AlreadyApplied:
                log.info("ignored a replayed reaction on message %s", payload.message_id)
            except Exception:
                log.exception("handling a reaction on message %s failed", payload.message_id)
            finally:
                self.reactions_handled += 1

    async def on_reaction_removed(self, payload: discord.RawReactionActionEvent) -> None:
        """A ✅ / ❌ taken back: the same moderator's next one counts again.

        Reaction events carry no id, so a reaction that decided is remembered (message, user,
        emoji) until its removal: a replay of it, even after an Undo, decides nothing.
        """
        with self._busy():
            try:
                name = _review_emoji(payload)
                if name is not None:
                    await self.ctx.store.forget_event(_reaction_key(payload, name))
            except Exception:
                log.exception("handling a removed reaction on message %s failed", payload.message_id)
            finally:
                self.reactions_handled += 1

    async def _react(self, payload: discord.RawReactionActionEvent) -> None:
        name = _review_emoji(payload)
        if payload.guild_id is None or name is None:
            return
        me = self.client.user if self.client is not None else None
        if me is None or payload.user_id == me.id:
            return
        if payload.message_author_id is not None and payload.message_author_id != me.id:
            return  # moderator posts are copbot's own messages
        member = payload.member
        if member is None or member.bot:
            log.debug("ignored %s on %s: not from a known member", name, payload.message_id)
            return
        channel = member.guild.get_channel_or_thread(payload.channel_id)
        permissions = channel.permissions_for(member) if channel is not None else member.guild_permissions
        actor = await self._guild_actor(payload.guild_id, member, permissions)
        if not actor.is_moderator:
            log.debug("ignored %s on %s by %s: not a moderator", name, payload.message_id, member.id)
            return
        with self.ctx.store.applying(_reaction_key(payload, name), self.ctx.clock()):
            reply = await decide_by_reaction(self.ctx, actor, str(payload.message_id), name)
        if reply is not None:
            log.info(
                "submission on message %s decided by %s from %s in guild %s",
                payload.message_id,
                name,
                member.id,
                payload.guild_id,
                extra={"command": "reaction", "community": str(payload.guild_id)},
            )

    async def _submission_for(self, actor: Actor, target: str) -> WorkLink | None:
        """The submission a button or form names, if it belongs to the actor's community."""
        link_id = record_id(target)
        link = await submissions.get_link(self.ctx.store, link_id) if link_id is not None else None
        if link is None or link.id is None:
            return None
        if (link.platform, link.community_id) != (actor.platform, actor.community_id):
            return None
        return link

    async def _open_reject_form(self, interaction: discord.Interaction[Any], target: str) -> None:
        """**Reject with reason**: a moderator gets the form; anyone else a private answer why not.

        A modal must be the first answer (a deferred interaction cannot open one), so this only
        does what is quick: the moderator check (role cached) and one row.
        """
        if self._closing:
            await self._send_quietly(interaction, dispatch.error_reply(dispatch.RESTARTING))
            return
        with self._busy():
            try:
                if not self._seen.first(interaction.id):
                    self.skipped_duplicates += 1
                    log.info("skipped interaction %s (button reject): already handled", interaction.id)
                    return
                actor = await self.actor(interaction)
                link = await self._submission_for(actor, target)
                if not actor.is_moderator:
                    reply = dispatch.error_reply(NOT_A_MODERATOR)
                elif link is None:
                    reply = dispatch.error_reply(NO_SUCH_SUBMISSION)
                elif link.status != LinkStatus.PENDING:
                    who = link.decided_by_name or "someone"
                    reply = dispatch.error_reply(f"Already {link.status} by {who}; nothing changed.")
                else:
                    await interaction.response.send_modal(review.reject_modal(link))
                    log.info(
                        "button reject in guild %s: form opened for submission %s",
                        interaction.guild_id,
                        link.id,
                        extra={"command": "button reject", "community": str(interaction.guild_id or "dm")},
                    )
                    return
            except Exception:
                log.exception("opening the reject form for submission %s failed", target)
                reply = dispatch.error_reply(NO_FORM)
            await self._send_quietly(interaction, reply)

    async def on_reject_reason(
        self, interaction: discord.Interaction[Any], link_id: int, reason: str
    ) -> None:
        """The reason form was submitted: reject with that reason (moderators only, once)."""

        async def produce() -> Reply:
            actor = await self.actor(interaction)
            if not actor.is_moderator:
                return dispatch.error_reply(NOT_A_MODERATOR)
            if await self._submission_for(actor, str(link_id)) is None:
                return dispatch.error_reply(NO_SUCH_SUBMISSION)
            if not reason:
                return dispatch.error_reply(NO_REASON)
            try:
                return await decide_link(self.ctx, actor, link_id, False, reason)
            except CommandError as exc:
                return dispatch.error_reply(str(exc))

        await self._answer(interaction, "form reject", "form:reject", produce)

    # -- who is asking -----------------------------------------------------------------------

    async def actor(self, interaction: discord.Interaction[Any]) -> Actor:
        """The core's view of the user: community = guild, moderator by role or permission."""
        user = interaction.user
        guild_id = interaction.guild_id
        if guild_id is None:
            return Actor("discord", "dm", str(user.id), user.display_name, direct=True)
        return await self._guild_actor(guild_id, user, interaction.permissions)

    async def _guild_actor(
        self, guild_id: int, user: discord.User | discord.Member, permissions: discord.Permissions
    ) -> Actor:
        """A server member: moderator with Manage Messages (``permissions`` are the ones in the
        channel at hand) or the /setup moderator role; admin with Manage Server."""
        moderator = permissions.manage_messages or permissions.administrator
        if not moderator and isinstance(user, discord.Member):
            role_id = await self._moderator_role(guild_id)
            moderator = bool(role_id and role_id.isdigit() and user.get_role(int(role_id)) is not None)
        return Actor(
            "discord",
            str(guild_id),
            str(user.id),
            user.display_name,
            is_moderator=moderator,
            is_admin=permissions.manage_guild or permissions.administrator,
        )

    async def _moderator_role(self, guild_id: int) -> str | None:
        """The guild's moderator role from /setup, cached for a few seconds."""
        now = time.monotonic()
        cached = self._moderator_roles.get(guild_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        row = await self.ctx.store.get_settings("discord", str(guild_id))
        role = row.moderator_role_id if row else None
        self._moderator_roles[guild_id] = (now + SETTINGS_TTL, role)
        return role

    # -- outbound ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _delivery(self, what: str, *, channel: str | None = None) -> Iterator[None]:
        """Discord's answers as outbound errors: forbidden or gone → Unreachable, except a post in
        ``channel`` that copbot's own permissions forbid (403: 50013 Missing Permissions, 50001
        Missing Access) → ChannelRefused, which an admin can fix; refused (rate limit, bad
        request) or Discord out of reach → NotDelivered, as nothing was posted; a server error or
        a connection lost on the way → MaybeSent: Discord may have posted the message anyway."""
        try:
            yield
        except discord.Forbidden as exc:
            if channel is not None:
                raise ChannelRefused(
                    f"{what}: Discord answered {exc.status} {exc.text}: give copbot's role View Channel "
                    f"and Send Messages in channel {channel}"
                ) from exc
            raise Unreachable(f"{what}: {exc.status} {exc.text}") from exc
        except discord.NotFound as exc:
            raise Unreachable(f"{what}: {exc.status} {exc.text}") from exc
        except discord.DiscordServerError as exc:
            raise MaybeSent(f"{what}: Discord answered {exc.status} {exc.text}") from exc
        except discord.HTTPException as exc:
            raise NotDelivered(f"{what}: Discord answered {exc.status} {exc.text}") from exc
        except aiohttp.ClientConnectorError as exc:
            raise NotDelivered(f"{what}: cannot reach Discord ({exc})") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise MaybeSent(
                f"{what}: the connection to Discord failed ({str(exc) or type(exc).__name__})"
            ) from exc

    def _sender(self) -> CopClient:
        if self.client is None or self.client.is_closed():
            raise NotDelivered("the Discord front end is not running")
        return self.client

    @staticmethod
    def _snowflake(value: str, what: str) -> int:
        if not value.isdigit():
            raise Unreachable(f"{value[:40]!r} is not a Discord {what} id")
        return int(value)

    async def send_dm(self, community_id: str, user_id: str, reply: Reply) -> Posted:
        """Message a user directly; closed DMs (50007) and unknown users raise Unreachable."""
        user = self._snowflake(user_id, "user")
        client, kwargs = self._sender(), render.message(reply)
        with self._delivery(f"DM to Discord user {user_id}"):
            channel = await client.create_dm(discord.Object(user))
            sent = await channel.send(**kwargs)
        return Posted(str(sent.channel.id), str(sent.id), sent.jump_url)

    async def send_channel(self, community_id: str, channel_id: str, reply: Reply) -> Posted:
        """Post in a channel; a channel that is gone raises Unreachable, one copbot may not post
        in (missing permission or access) ChannelRefused."""
        channel = self._snowflake(channel_id, "channel")
        guild_id = int(community_id) if community_id.isdigit() else None
        target = self._sender().get_partial_messageable(channel, guild_id=guild_id)
        kwargs = render.message(reply)
        with self._delivery(f"post in Discord channel {channel_id}", channel=channel_id):
            sent = await target.send(**kwargs)
        return Posted(str(sent.channel.id), str(sent.id), sent.jump_url)

    def _message(self, posted: Posted) -> discord.PartialMessage:
        channel = self._snowflake(posted.channel_id, "channel")
        message = self._snowflake(posted.message_id, "message")
        return self._sender().get_partial_messageable(channel).get_partial_message(message)

    async def edit(self, posted: Posted, reply: Reply) -> None:
        """Replace a message the bot posted (content, embed and buttons)."""
        kwargs = render.message(reply)
        kwargs.setdefault("content", None)
        kwargs.setdefault("view", None)
        with self._delivery(f"edit of Discord message {posted.message_id}"):
            await self._message(posted).edit(**kwargs)

    async def react(self, posted: Posted, emojis: list[str]) -> None:
        """Add the bot's reactions under a message, in order."""
        message = self._message(posted)
        with self._delivery(f"reaction on Discord message {posted.message_id}"):
            for emoji in emojis:
                await message.add_reaction(emoji)
