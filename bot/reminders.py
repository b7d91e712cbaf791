"""The stale-claim sweep: the database decides what is due, APScheduler only wakes it up.

Each claim's reminder is taken by a guarded update before it is sent (at most once: a crash
after the send never sends it again), then delivered by DM, else in the community's reminder
channel, else the claim is marked unreachable. One failure never stops the sweep.

The grace period before a stale claim expires runs from when its reminder arrived. A reminder
the platform refused (rate limit, outage, missing permission) is sent again at each sweep and
its claim does not expire meanwhile; one that can never arrive (closed DMs and no reminder
channel) is written in the claim's history and the claim expires a grace period after that
final attempt, its claimant told if they can be reached by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.outbound import Outbound, delivered
from commands.reminders import expiry_reply, reminder_reply
from commands.types import Clock, Reply
from storage.models import LEGACY_PLATFORM, Claim, Problem
from storage.store import Store
from storage.sweep import (
    expire_due,
    mark_stale,
    prune_processed,
    record_deliveries,
    record_notices,
    stale_overrides,
    take_retries,
)

log = logging.getLogger("copbot.reminders")

# Platform → community → reminder channel id (Discord: /setup; Slack: SLACK_REMINDER_CHANNEL).
ChannelLookup = Callable[[str, str], Awaitable[str | None]]


@dataclass
class SweepReport:
    """What one sweep did."""

    stale: int = 0
    expired: int = 0
    delivered: dict[str, int] = field(default_factory=dict)

    def count(self, how: str) -> None:
        """Count one delivery by how it went."""
        self.delivered[how] = self.delivered.get(how, 0) + 1


class Sweeper:
    """Runs the sweep over the claims of the platforms this process serves."""

    def __init__(
        self,
        store: Store,
        outbounds: Mapping[str, Outbound],
        clock: Clock,
        *,
        stale_after_days: int,
        grace_days: int,
        reminder_channel: ChannelLookup,
        on_sweep: Callable[[SweepReport], None] | None = None,
        batch: int = 500,
        concurrency: int = 8,
    ) -> None:
        """Wire the sweep; ``outbounds`` maps a platform name to its sender."""
        self.store = store
        self.outbounds = dict(outbounds)
        self.clock = clock
        self.stale_after_days = stale_after_days
        self.grace_days = grace_days
        self.reminder_channel = reminder_channel
        self.on_sweep = on_sweep
        self.batch = batch
        self.concurrency = concurrency
        # Other periodic work that rides on the sweep's tick (e.g. posting waiting submissions).
        self.also: Callable[[], Awaitable[None]] | None = None
        self._lock = asyncio.Lock()

    async def wait_idle(self) -> None:
        """Return once no sweep is running (shutdown waits for it before closing the store)."""
        async with self._lock:
            pass

    @property
    def running(self) -> bool:
        """Whether a sweep is running."""
        return self._lock.locked()

    async def run_scheduled(self) -> None:
        """A sweep the scheduler started; one that shutdown cuts short ends quietly (the runner
        says so in a line; the scheduler would log the cancellation as an error)."""
        with contextlib.suppress(asyncio.CancelledError):
            await self.run_once()

    async def run_once(self) -> SweepReport:
        """One full sweep: stale pings, then expiries; safe to cut anywhere and run again."""
        async with self._lock:
            report = SweepReport()
            platforms = list(self.outbounds)
            overrides = await stale_overrides(self.store)
            # Messages a platform refused at an earlier sweep (rate limit, outage) go out again first.
            retry = await take_retries(self.store, platforms, "delivery", self.batch) or []
            outcomes = await self._deliver_all(retry, reminder=True)
            await record_deliveries(self.store, outcomes, self.clock())
            for how in outcomes.values():
                report.count(how)
            retry = await take_retries(self.store, platforms, "notice", self.batch) or []
            await record_notices(self.store, await self._deliver_all(retry, reminder=False))
            while (
                moved := await mark_stale(
                    self.store, self.clock(), self.stale_after_days, platforms, overrides, self.batch
                )
            ) is not None:
                to_ping = [c for c in moved if c.platform != LEGACY_PLATFORM]
                report.stale += len(to_ping)
                outcomes = await self._deliver_all(to_ping, reminder=True)
                await record_deliveries(self.store, outcomes, self.clock())
                for how in outcomes.values():
                    report.count(how)
            while (
                expired := await expire_due(self.store, self.clock(), self.grace_days, platforms, self.batch)
            ) is not None:
                report.expired += len(expired)
                await record_notices(self.store, await self._deliver_all(expired, reminder=False))
            if report.stale or report.expired:
                log.info("sweep: %d stale, %d expired, %s", report.stale, report.expired, report.delivered)
            await prune_processed(self.store, self.clock() - timedelta(days=7))
            if self.also is not None:
                await self.also()
            if self.on_sweep:
                self.on_sweep(report)
            return report

    async def _deliver_all(self, claims: list[Claim], *, reminder: bool) -> dict[int, str]:
        """Deliver a batch, a few at a time (platform rate limits apply); claim id → how."""
        if not claims:
            return {}
        problems = {p.number: p for p in await self.store.problems()}
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(claim: Claim) -> tuple[int, str]:
            async with semaphore:
                return claim.id or 0, await self._deliver(claim, problems[claim.problem_number], reminder)

        return dict(await asyncio.gather(*(one(c) for c in claims)))

    async def _deliver(self, claim: Claim, problem: Problem, reminder: bool) -> str:
        """DM the claimant, else mention them in the reminder channel; never raises."""
        outbound = self.outbounds[claim.platform]
        try:
            assert claim.user_id is not None

            def build(mention: bool) -> Reply:
                if reminder:
                    return reminder_reply(claim, problem, self.grace_days, mention=mention)
                return expiry_reply(claim, problem, mention=mention)

            what = f"reminder for claim {claim.id}"
            how = await delivered(
                outbound.send_dm(claim.community_id, claim.user_id, build(False)), "dm", log, what
            )
            if how != "unreachable":
                return how
            channel = await self.reminder_channel(claim.platform, claim.community_id)
            if not channel:
                return "unreachable"
            return await delivered(
                outbound.send_channel(claim.community_id, channel, build(True)), "channel", log, what
            )
        except Exception:
            # Unknown whether it was sent: never send it again (at most once), mark it failed.
            log.exception("reminder for claim %s failed", claim.id)
            return "failed"


def start_scheduler(sweeper: Sweeper, minutes: float) -> AsyncIOScheduler:
    """Run the sweep every ``minutes`` and once right away (inside the running loop)."""
    from datetime import datetime

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        sweeper.run_scheduled,
        "interval",
        minutes=minutes,
        next_run_time=datetime.now(UTC),
        id="stale-sweep",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(60, int(minutes * 30)),
    )
    scheduler.start()
    return scheduler
