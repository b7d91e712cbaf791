"""`copbot run`: Discord and Slack front ends in one process, on one database, until SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from typing import Protocol

from bot import idle_gc
from bot.app import make_context, open_store
from bot.config import Settings, cannot_listen
from bot.moderation import Moderation
from bot.ops import Metrics, OpsServer
from bot.outbound import Outbound
from bot.reminders import Sweeper, start_scheduler
from commands.types import Context

log = logging.getLogger("copbot")

SHUTDOWN_GRACE_SECONDS = 10.0


class FrontEnd(Protocol):
    """A platform connection: started once, closed once, and ready while connected."""

    name: str

    async def start(self) -> None:
        """Connect and begin handling events; returns once running (work goes on in tasks)."""

    async def close(self) -> None:
        """Stop taking new work, finish what is in flight, disconnect."""

    @property
    def ready(self) -> bool:
        """Whether the platform connection is up."""


def build_front_ends(settings: Settings, ctx: Context) -> list[FrontEnd]:
    """The front ends the settings configure."""
    front_ends: list[FrontEnd] = []
    if settings.discord_enabled:
        from bot.discord.frontend import DiscordFrontEnd

        front_ends.append(DiscordFrontEnd(settings, ctx))
    if settings.slack_enabled:
        from bot.slack.frontend import SlackFrontEnd

        front_ends.append(SlackFrontEnd(settings, ctx))
    return front_ends


async def run_platforms(settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Run every configured front end until ``stop`` is set or SIGTERM/SIGINT arrives."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on the main thread
            pass
    store = await open_store(settings)
    ctx = make_context(settings, store)
    front_ends = build_front_ends(settings, ctx)
    moderation = make_moderation(settings, ctx, front_ends)
    ctx.effects = moderation
    metrics = Metrics()
    ops: OpsServer | None = None
    scheduler = None
    sweeper: Sweeper | None = None
    try:
        if settings.metrics_port is not None:
            checks = [(fe.name, lambda fe=fe: fe.ready) for fe in front_ends]
            ops = OpsServer(store, metrics, checks)
            try:
                port = await ops.start(settings.bind_host, settings.metrics_port)
            except OSError as exc:
                raise cannot_listen(settings.bind_host, settings.metrics_port, "METRICS_PORT", exc) from exc
            log.info("metrics and health on http://%s:%d/metrics and /healthz", settings.bind_host, port)
        for front_end in front_ends:
            await front_end.start()
            log.info("%s front end started", front_end.name)
        await moderation.recover()
        sweeper = make_sweeper(settings, ctx, front_ends, moderation)
        sweeper.on_sweep = metrics.observe_sweep
        scheduler = start_scheduler(sweeper, settings.reminder_sweep_minutes)
        settle_heap()
        idle_gc.COLLECTOR.start()
        log.info(
            "start-up heap frozen (%d objects); young garbage collections wait for requests in flight",
            gc.get_freeze_count(),
        )
        await stop.wait()
        log.info("shutting down")
    finally:
        idle_gc.COLLECTOR.stop()
        if scheduler is not None:
            scheduler.pause()  # AsyncIOExecutor.shutdown() would cancel a running sweep mid-query
            if sweeper is not None:
                try:
                    await asyncio.wait_for(sweeper.wait_idle(), SHUTDOWN_GRACE_SECONDS)
                except TimeoutError:
                    log.warning("a reminder sweep was still running at shutdown; it will run again")
            scheduler.shutdown(wait=False)
        for front_end in reversed(front_ends):
            try:
                await asyncio.wait_for(front_end.close(), SHUTDOWN_GRACE_SECONDS)
            except Exception:
                log.exception("closing %s failed", front_end.name)
        if ops is not None:
            await ops.close()
        await store.close()
        log.info("stopped")
    return 0


def settle_heap() -> None:
    """Start-up is over: keep what it made (modules, tables, clients) out of garbage collection.

    A full collection walks every tracked object; after start-up that is mostly code and state
    that lives as long as the process, and one pass took 123 ms under load (measured at 200
    requests/s), stalling every request in flight. Frozen, they are never walked again
    (``gc.freeze``, meant for exactly this); what requests allocate is still collected.
    """
    gc.collect()
    gc.freeze()


def make_moderation(settings: Settings, ctx: Context, front_ends: list[FrontEnd]) -> Moderation:
    """Posting submissions to each community's moderators."""
    outbounds: dict[str, Outbound] = {fe.name: fe for fe in front_ends if isinstance(fe, Outbound)}

    async def moderator_channel(platform: str, community_id: str) -> str | None:
        if platform == "slack":
            return settings.slack_moderator_channel
        row = await ctx.store.get_settings(platform, community_id)
        return row.moderator_channel_id if row else None

    return Moderation(ctx.store, outbounds, ctx.clock, moderator_channel)


def make_sweeper(
    settings: Settings, ctx: Context, front_ends: list[FrontEnd], moderation: Moderation | None = None
) -> Sweeper:
    """The stale-claim sweep over the platforms this process serves; each sweep also lets
    ``moderation`` catch up (posts and notices a platform refused or a restart cut short)."""
    outbounds: dict[str, Outbound] = {fe.name: fe for fe in front_ends if isinstance(fe, Outbound)}

    async def reminder_channel(platform: str, community_id: str) -> str | None:
        if platform == "slack":
            return settings.slack_reminder_channel
        row = await ctx.store.get_settings(platform, community_id)
        return row.reminder_channel_id if row else None

    sweeper = Sweeper(
        ctx.store,
        outbounds,
        ctx.clock,
        stale_after_days=settings.stale_after_days,
        grace_days=settings.stale_grace_days,
        reminder_channel=reminder_channel,
    )
    if moderation is not None:
        sweeper.also = moderation.catch_up
    return sweeper
