"""The Discord front end: slash commands, autocomplete and buttons on discord.py, answered by the core.

:class:`DiscordFrontEnd` starts and stops copbot's client (:mod:`bot.discord.client`) and wires it
to its parts: :mod:`bot.discord.interactions` answers commands, autocomplete and buttons;
:mod:`bot.discord.reactions` lets moderators decide submissions with ✅ / ❌ reactions (raw gateway
events, so it works on messages posted before a restart) besides the post's buttons, where
**Reject with reason** asks for the reason in a modal (:mod:`bot.discord.review`). It is also the
:class:`bot.outbound.Outbound` for Discord: reminders and moderator posts go out through
:mod:`bot.discord.outbound`, rendered like every other reply.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.config import Settings, StartupError, unreachable
from bot.discord.client import SHUTDOWN_GRACE, CopClient, end_gateway_task, gateway_closed, invite_url
from bot.discord.inflight import InFlight
from bot.discord.interactions import ANSWER_WAIT, DEFER_AFTER, Interactions
from bot.discord.outbound import Messenger
from bot.discord.people import Directory
from bot.discord.reactions import Reactions
from bot.discord.suggest import Catalogue
from bot.outbound import Posted
from commands.types import Context, Reply

log = logging.getLogger("copbot.discord")

CONNECT_TIMEOUT = 60.0


class DiscordFrontEnd:
    """copbot on Discord: a :class:`bot.runner.FrontEnd` and a :class:`bot.outbound.Outbound`."""

    name = "discord"

    def __init__(
        self,
        settings: Settings,
        ctx: Context,
        *,
        defer_after: float = DEFER_AFTER,
        answer_wait: float = ANSWER_WAIT,
        connect_timeout: float = CONNECT_TIMEOUT,
        client_class: type[CopClient] = CopClient,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        """Configure; nothing connects until :meth:`start`.

        ``defer_after``: seconds the core may take before the interaction is deferred;
        ``answer_wait``: seconds Discord may take to accept one answer before copbot gives it up.
        ``client_class``/``client_options``: the discord.py client to build, and extra options.
        """
        if settings.discord_token is None:
            raise ValueError("DISCORD_TOKEN is not set")
        self.settings, self.ctx = settings, ctx
        self.connect_timeout = connect_timeout
        self.client_class = client_class
        self.client_options = dict(client_options or {})
        self.catalogue = Catalogue(ctx.store)
        self.client: CopClient | None = None
        self.inflight = InFlight()
        directory = Directory(ctx.store)
        self.interactions = Interactions(
            ctx, directory, self.catalogue, self.inflight, defer_after=defer_after, answer_wait=answer_wait
        )
        self.reactions = Reactions(ctx, directory, self.inflight, lambda: self.client)
        self.messenger = Messenger(lambda: self.client)
        self._connect_task: asyncio.Task[None] | None = None
        self._connected: set[int] = set()
        self._all_connected = asyncio.Event()
        # Set when the gateway is gone for good after start (logged): copbot has to be restarted.
        self.failed = asyncio.Event()
        self._saved: tuple[str, yarl.URL] | None = None

    @property
    def skipped_duplicates(self) -> int:
        """Interactions skipped as replays of ones already handled."""
        return self.interactions.skipped_duplicates

    @property
    def reactions_handled(self) -> int:
        """Reaction events seen, whatever came of them (tests wait on it)."""
        return self.reactions.handled

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, sync the commands if they changed, connect; returns once every shard is up."""
        if self.client is not None:
            raise RuntimeError("the Discord front end is already started")
        assert self.settings.discord_token is not None
        self.inflight.closing = False
        self._saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        # Read when each request is built, so it must be set before login (unlike the gateway).
        Route.BASE = self.settings.discord_api_url.rstrip("/")
        client = self.client = self.client_class(self, **self.client_options)
        try:
            try:
                await self._login(client)
                assert client.application_id is not None
                log.info("invite copbot to a server: %s", invite_url(client.application_id))
                await client.sync_commands(self.ctx.store)
                await self.catalogue.refresh()
                self._connect_task = asyncio.create_task(
                    client.connect(reconnect=True), name="discord-gateway"
                )
                await self._wait_connected()
                self._connect_task.add_done_callback(self._gateway_ended)
            except (discord.ConnectionClosed, discord.PrivilegedIntentsRequired) as exc:
                raise StartupError(gateway_closed(exc)) from exc
            except discord.RateLimited as exc:  # a wait past RATE_LIMIT_WAIT, which copbot does not sleep
                raise StartupError(
                    f"Discord rate limits copbot for {exc.retry_after:.0f} s at start ({Route.BASE}, "
                    "DISCORD_API_URL); copbot stops so that it is started again"
                ) from exc
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

    def _gateway_ended(self, task: asyncio.Task[None]) -> None:
        """``client.connect()`` ended after start. Unless copbot is closing, Discord is gone for
        good (discord.py resumes and reconnects whatever else happens): say why, and fail."""
        if task is not self._connect_task or self.inflight.closing:
            return  # closing: end_gateway_task sees to it
        error = None if task.cancelled() else task.exception()
        if isinstance(error, discord.ConnectionClosed | discord.PrivilegedIntentsRequired):
            log.error("%s; copbot stops so that it is started again", gateway_closed(error))
        else:
            log.error(
                "the Discord gateway connection ended; copbot stops so that it is started again",
                exc_info=error,
            )
        self.failed.set()

    def stop_taking_work(self) -> None:
        """Answer new interactions that copbot is restarting, and stop being ready."""
        self.inflight.closing = True

    async def drain(self) -> None:
        """Return once the interactions and reactions in flight are handled."""
        await self.inflight.drain()

    async def close(self) -> None:
        """Stop taking interactions, let answers in flight finish (briefly), disconnect, then
        let the gateway events that came meanwhile finish their database work: the store is
        closed next, and work still holding one of its connections would be cut. Work in flight
        gets ``SHUTDOWN_GRACE`` in all, before and after disconnecting, not that much each time
        (a command held up would be waited for twice, past the runner's bound for closing)."""
        self.stop_taking_work()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SHUTDOWN_GRACE
        await self.inflight.settle(SHUTDOWN_GRACE)
        await self._shut_client()
        await self.inflight.settle(max(deadline - loop.time(), 0.0))

    async def _shut_client(self) -> None:
        client, task = self.client, self._connect_task
        self.client, self._connect_task = None, None
        if client is not None:
            await client.close()
        if task is not None:
            await end_gateway_task(task)
        self._connected.clear()
        self._all_connected.clear()
        if self._saved is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    @property
    def ready(self) -> bool:
        """Whether every shard of this process is connected."""
        client = self.client
        if client is None or client.is_closed() or self.inflight.closing:
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

    # -- outbound ----------------------------------------------------------------------------

    async def send_dm(
        self, community_id: str, user_id: str, reply: Reply, *, ask_if_gone: bool = True
    ) -> Posted:
        """Message a user directly (see :class:`bot.discord.outbound.Messenger`)."""
        return await self.messenger.send_dm(community_id, user_id, reply, ask_if_gone=ask_if_gone)

    async def send_channel(self, community_id: str, channel_id: str, reply: Reply) -> Posted:
        """Post in a channel."""
        return await self.messenger.send_channel(community_id, channel_id, reply)

    async def edit(self, posted: Posted, reply: Reply) -> None:
        """Replace a message the bot posted (content, embed and buttons)."""
        await self.messenger.edit(posted, reply)

    async def react(self, posted: Posted, emojis: list[str]) -> None:
        """Add the bot's reactions under a message, in order."""
        await self.messenger.react(posted, emojis)
