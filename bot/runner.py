"""`copbot run`: Discord and Slack front ends in one process, on one database, until SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, runtime_checkable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import idle_gc
from bot.app import make_context, open_store
from bot.config import Settings, cannot_listen
from bot.moderation import Moderation, ModeratorChannel, NoticeChannelLookup
from bot.ops import Metrics, OpsServer
from bot.outbound import Outbound
from bot.reminders import STUCK_SENDING, NameLookup, Sweeper, start_scheduler
from commands.types import Context
from storage.store import Store

log = logging.getLogger("copbot")

# After the work in flight: disconnecting the platforms, and the end of a sweep cut short.
CLOSE_SECONDS = 8.0
# After closing: the database and the process's own end, within the orchestrator's grace period.
SPARE_SECONDS = 2.0


def shutdown_grace(settings: Settings) -> float:
    """How long work in flight gets at SIGTERM: SHUTDOWN_GRACE_SECONDS, cut (with a warning) to
    what fits in STOP_GRACE_SECONDS, the orchestrator's grace period, after closing and a spare
    moment; killed mid-shutdown, copbot would leave its connections cut and the platforms open."""
    grace, stop = settings.shutdown_grace_seconds, settings.stop_grace_seconds
    if stop is None or grace + CLOSE_SECONDS + SPARE_SECONDS <= stop:
        return grace
    fitted = max(0.0, stop - CLOSE_SECONDS - SPARE_SECONDS)
    log.warning(
        "SHUTDOWN_GRACE_SECONDS=%g does not fit in STOP_GRACE_SECONDS=%g (the orchestrator kills copbot "
        "that long after SIGTERM; closing takes up to %g s more, and %g s are kept to spare): work in "
        "flight gets %g s at a stop; raise STOP_GRACE_SECONDS to %g (docker-compose.yml's "
        "stop_grace_period follows it) or lower SHUTDOWN_GRACE_SECONDS",
        grace,
        stop,
        CLOSE_SECONDS,
        SPARE_SECONDS,
        fitted,
        grace + CLOSE_SECONDS + SPARE_SECONDS,
    )
    return fitted


class FrontEnd(Protocol):
    """A platform connection: started once, closed once, and ready while connected."""

    name: str

    async def start(self) -> None:
        """Connect and begin handling events; returns once running (work goes on in tasks).

        A stop during start-up cancels it; :meth:`close` then closes whatever it opened."""

    def stop_taking_work(self) -> None:
        """Answer new commands that copbot is restarting and stop being ready; work in flight
        goes on, and can still send through this front end."""

    async def drain(self) -> None:
        """Return once the work in flight has finished."""

    async def close(self) -> None:
        """Stop taking new work, finish what is in flight (briefly), disconnect."""

    @property
    def ready(self) -> bool:
        """Whether the platform connection is up."""


@runtime_checkable
class MayFail(Protocol):
    """A front end whose platform may go for good after start (Discord closing its gateway with
    4004): it logs why and sets ``failed``."""

    failed: asyncio.Event


@runtime_checkable
class MayBeRemoved(Protocol):
    """A front end that serves one community only (a Slack install), so that copbot's removal
    from it leaves nothing to serve: ``removed`` says how, once known."""

    removed: str | None


def health_check(fe: FrontEnd) -> Callable[[], bool | str]:
    """What /healthz asks of ``fe``: ready, or why it cannot serve."""
    if isinstance(fe, MayBeRemoved):
        return lambda: f"removed: {fe.removed}" if fe.removed else fe.ready
    return lambda: fe.ready


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
    """Run every configured front end until ``stop`` is set or SIGTERM/SIGINT arrives (exit
    status 0), or a platform is gone for good (2: an orchestrator starts copbot again).

    A stop, during start-up or after it, ends the process as :func:`shut_down` says.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    grace = shutdown_grace(settings)

    def on_signal(sig: signal.Signals) -> None:
        if not stop.is_set():
            log.info("%s: shutting down", sig.name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on the main thread
            pass
    # A stop cuts opening short too: a replica may wait here for another's long migration (its
    # lock), or for a database out of reach; the migration is one transaction, so it rolls back.
    opening = asyncio.ensure_future(open_store(settings))
    if not await unless_stopped(stop, opening):
        log.info("stopped")
        return 0
    store = opening.result()
    ctx = make_context(settings, store)
    front_ends = build_front_ends(settings, ctx)
    moderation = make_moderation(settings, ctx, front_ends)
    ctx.effects = moderation
    metrics = Metrics()
    running = Running(store, front_ends)
    failures = [fe.failed for fe in front_ends if isinstance(fe, MayFail)]
    ending = asyncio.Event()  # a stop, or a platform gone for good
    watchers = [asyncio.create_task(_relay(event, ending)) for event in (stop, *failures)]

    def status() -> int:
        return 2 if any(failed.is_set() for failed in failures) else 0

    try:
        if settings.metrics_port is not None:
            checks = [(fe.name, health_check(fe)) for fe in front_ends]
            running.ops = OpsServer(store, metrics, checks, client_timeout=settings.http_timeout)
            try:
                port = await running.ops.start(settings.bind_host, settings.metrics_port)
            except OSError as exc:
                raise cannot_listen(settings.bind_host, settings.metrics_port, "METRICS_PORT", exc) from exc
            log.info("metrics and health on http://%s:%d/metrics and /healthz", settings.bind_host, port)
        # A stop cuts connecting short: Discord's gateway may stay out of reach for minutes.
        if not await unless_stopped(ending, start_front_ends(front_ends)):
            return status()
        # Posting what a crash cut short is work in flight, as a sweep is: a stop lets it finish.
        running.recovery = asyncio.create_task(moderation.recover(), name="moderation-recovery")
        if not await unless_stopped(ending, asyncio.shield(running.recovery)):
            return status()
        running.sweeper = make_sweeper(settings, ctx, front_ends, moderation)
        running.sweeper.on_sweep = metrics.observe_sweep
        running.scheduler = start_scheduler(running.sweeper, settings.reminder_sweep_minutes)
        settle_heap()
        idle_gc.COLLECTOR.start()
        log.info(
            "start-up heap frozen (%d objects); young garbage collections wait for requests in flight",
            gc.get_freeze_count(),
        )
        await ending.wait()
        return status()
    finally:
        for watcher in watchers:
            watcher.cancel()
        idle_gc.COLLECTOR.stop()
        await shut_down(running, grace)
        log.info("stopped")


async def _relay(event: asyncio.Event, to: asyncio.Event) -> None:
    await event.wait()
    to.set()


async def start_front_ends(front_ends: list[FrontEnd]) -> None:
    """Start the front ends side by side, so that a slow one (Discord's gateway may take up to
    its connect timeout) does not keep the others from serving; the first failure stops the
    others' starts and is raised."""

    async def start(front_end: FrontEnd) -> None:
        await front_end.start()
        log.info("%s front end started", front_end.name)

    starts = [asyncio.create_task(start(fe), name=f"start-{fe.name}") for fe in front_ends]
    try:
        for done in asyncio.as_completed(starts):
            await done  # raises the first failure
    finally:
        for task in starts:
            task.cancel()
        await asyncio.gather(*starts, return_exceptions=True)


async def unless_stopped(stop: asyncio.Event, work: Awaitable[object]) -> bool:
    """Await ``work`` unless ``stop`` is set first, which cancels it: whether it finished.

    Errors of ``work`` are raised.
    """
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        return False
    task.result()
    return True


@dataclass
class Running:
    """What ``copbot run`` has started so far, for :func:`shut_down`."""

    store: Store
    front_ends: list[FrontEnd]
    ops: OpsServer | None = None
    recovery: asyncio.Task[None] | None = None
    sweeper: Sweeper | None = None
    scheduler: AsyncIOScheduler | None = None


async def shut_down(running: Running, grace: float) -> None:
    """Take no new work, give the work in flight up to ``grace`` seconds, close.

    At once, the front ends answer new commands "restarting" and /healthz says not ready, so an
    orchestrator sends new work elsewhere. Commands in flight, a running sweep and the start-up
    recovery then have ``grace`` seconds to finish, the platforms still connected (they send
    through them). What is still running after that is cut short, which is safe: each of its
    steps is a guarded update, and the next sweep picks up where it stopped.
    """
    for front_end in running.front_ends:
        front_end.stop_taking_work()
    if running.ops is not None:
        running.ops.stopping = True
    sweeper, scheduler, recovery = running.sweeper, running.scheduler, running.recovery
    if scheduler is not None:
        scheduler.pause()
    in_flight = [asyncio.ensure_future(fe.drain()) for fe in running.front_ends]
    if sweeper is not None:
        in_flight.append(asyncio.ensure_future(sweeper.wait_idle()))
    if recovery is not None:
        in_flight.append(recovery)
    if in_flight:
        await asyncio.wait(in_flight, timeout=grace)
    if recovery is not None and not recovery.done():
        log.warning("posting waiting submissions was cut short after %g s; the sweeps post the rest", grace)
    if sweeper is not None and sweeper.running:
        log.warning("a reminder sweep was cut short after %g s; the next sweep goes on from there", grace)
    for work in in_flight:
        work.cancel()
    if scheduler is not None:
        scheduler.shutdown(wait=False)  # cancels a sweep still running
    # A cut sweep or recovery rolls back while the platforms disconnect; then the database closes.
    closing = [asyncio.ensure_future(_close(fe)) for fe in running.front_ends]
    if sweeper is not None:
        closing.append(asyncio.ensure_future(sweeper.wait_idle()))
    if recovery is not None:
        closing.append(recovery)
    if closing:
        _, late = await asyncio.wait(closing, timeout=CLOSE_SECONDS)
        if late:
            log.warning("closing took longer than %g s; closing the database anyway", CLOSE_SECONDS)
        for work in late:
            work.cancel()
    if running.ops is not None:
        await running.ops.close()
    await running.store.close()


async def _close(front_end: FrontEnd) -> None:
    try:
        await front_end.close()
    except Exception:
        log.exception("closing %s failed", front_end.name)


def settle_heap() -> None:
    """Start-up is over: keep what it made (modules, tables, clients) out of garbage collection.

    A full collection walks every tracked object; after start-up that is mostly code and state
    that lives as long as the process, and one pass took 123 ms under load (measured at 200
    requests/s), stalling every request in flight. Frozen, they are never walked again
    (``gc.freeze``, meant for exactly this); what requests allocate is still collected.
    """
    gc.collect()
    gc.freeze()


# How long a replica still on an older SLACK_MODERATOR_CHANNEL may post in the old channel
# after a process on the new one started (a rolling deploy) before its posts are moved.
SLACK_SETTING_SETTLES = timedelta(hours=1)


def make_moderation(settings: Settings, ctx: Context, front_ends: list[FrontEnd]) -> Moderation:
    """Posting submissions to each community's moderators."""
    outbounds: dict[str, Outbound] = {fe.name: fe for fe in front_ends if isinstance(fe, Outbound)}
    started = ctx.clock()  # Slack's channel comes from the environment: in force since now

    async def moderator_channel(platform: str, community_id: str) -> ModeratorChannel | None:
        if platform == "slack":
            channel = settings.slack_moderator_channel
            # In force since this start, for posts made before it; a replica still on an older
            # setting (a rolling deploy) may post in the old channel after it: such posts move
            # once SLACK_SETTING_SETTLES old, when no replica of the old setting should be left.
            since = max(started, ctx.clock() - SLACK_SETTING_SETTLES)
            return ModeratorChannel(channel, since) if channel else None
        row = await ctx.store.get_settings(platform, community_id)
        if row is None or not row.moderator_channel_id:
            return None
        return ModeratorChannel(row.moderator_channel_id, row.updated_at)

    return Moderation(
        ctx.store,
        outbounds,
        ctx.clock,
        moderator_channel,
        reminder_channels(settings, ctx),
        stuck_after=stuck_after(settings),
    )


def stuck_after(settings: Settings) -> timedelta:
    """How long after it was taken a reminder, an expiry notice or a submitter's notice never
    recorded is taken back by a sweep: :data:`bot.reminders.STUCK_SENDING`, and two sweep
    intervals at least (a replica records what it sent at its next sweep)."""
    return max(STUCK_SENDING, timedelta(minutes=2 * settings.reminder_sweep_minutes))


def reminder_channels(settings: Settings, ctx: Context) -> NoticeChannelLookup:
    """Each community's reminder channel (Discord: /setup; Slack: SLACK_REMINDER_CHANNEL): where
    a member whose DMs are closed gets their reminders, and a submitter the moderators' decision."""

    async def reminder_channel(platform: str, community_id: str) -> str | None:
        if platform == "slack":
            return settings.slack_reminder_channel
        row = await ctx.store.get_settings(platform, community_id)
        return row.reminder_channel_id if row else None

    return reminder_channel


def make_sweeper(
    settings: Settings, ctx: Context, front_ends: list[FrontEnd], moderation: Moderation | None = None
) -> Sweeper:
    """The stale-claim sweep over the platforms this process serves; each sweep also lets
    ``moderation`` catch up (posts and notices a platform refused or a restart cut short)."""
    outbounds: dict[str, Outbound] = {fe.name: fe for fe in front_ends if isinstance(fe, Outbound)}
    reminder_channel = reminder_channels(settings, ctx)
    names: dict[str, NameLookup] = {}
    for front_end in front_ends:
        if front_end.name == "discord":
            from bot.discord.frontend import DiscordFrontEnd
            from bot.discord.guilds import guild_names

            if isinstance(front_end, DiscordFrontEnd):
                names["discord"] = guild_names(front_end)

    def community_name(platform: str, community_id: str) -> str | None:
        lookup = names.get(platform)
        return lookup(platform, community_id) if lookup else None

    sweeper = Sweeper(
        ctx.store,
        outbounds,
        ctx.clock,
        stale_after_days=settings.stale_after_days,
        grace_days=settings.stale_grace_days,
        reminder_channel=reminder_channel,
        channel_settings={"discord": "/setup set reminder_channel", "slack": "SLACK_REMINDER_CHANNEL"},
        stuck_after=stuck_after(settings),
        community_name=community_name,
    )
    if moderation is not None:
        sweeper.also = moderation.catch_up
    return sweeper
