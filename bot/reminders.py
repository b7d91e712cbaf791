"""The stale-claim sweep: the database decides what is due, APScheduler only wakes it up.

Each claim's reminder is taken by a guarded update before it is sent (a crash after the send
does not send it again at once), then delivered by DM, else in the community's reminder channel,
else the claim is marked unreachable. The claims of one claimant in a batch share one message
(:data:`PER_MESSAGE` at most), whose outcome is recorded for each of them; so do expiry notices.
Reminders (notices) sent again join the sweep's first batch of newly stale (expired) claims, so
a member gets one message a sweep for all of them (more only past :data:`PER_MESSAGE`, or when
more claims are due at once than a batch holds).
One failure never stops the sweep. Outcomes the database could not take (it went away) are kept
and recorded first at the next sweep; a reminder or expiry notice taken and never recorded (the
process died) is taken back :data:`STUCK_SENDING` later and sent again, by one sweep.

The grace period before a stale claim expires runs from the sweep that sent its reminder: the
time that sweep recorded for the batch (the day the reminder names), not when the claimant got
or read it. A reminder the platform refused (rate limit, outage, missing permission, a reminder
channel copbot may not post in) is sent again at each sweep and its claim does not expire
meanwhile; so is one cut off by a server error or a lost connection, which may have arrived (a
second reminder harms less than a claim expiring unreminded). A reminder channel copbot may not
post in is named in one warning per sweep, with the setting that chose it; meanwhile a claimant
with closed DMs waiting for it is asked after (on Discord, a request: still a member?), and its
DM tried again, once a day at most (:data:`PRESENCE_KEPT`), not at every sweep: in between, only
the channel is tried (one refused request a claimant a sweep, not two). One that can never
arrive (closed DMs and no reminder channel, or one that is gone; a claimant who left the
community or whose account is deactivated or deleted, :class:`bot.outbound.Gone`, whom a mention
would ping in vain) is
written in the claim's history as such, and the
claim expires a grace period after that final attempt, its claimant told if they can be
reached by then; so is one the platform refuses for the message itself (:class:`bot.outbound.Rejected`:
Discord's 400 Invalid Form Body, Slack's ``invalid_blocks``), which would be refused at every try
(an expiry notice refused so is failed: never sent again). One error names the platform's code.
A platform that fails as a whole (:class:`bot.outbound.Outage`: a server error,
out of reach, on Discord a rate limit outlasting discord.py's retries) is sent nothing more for
the rest of the sweep: its messages left wait for the next one, as refused ones do. Nothing at
all is sent to a community that removed copbot (:mod:`bot.departures`):
its reminders are unreachable at once, and one the platform refuses for copbot's credentials
(:class:`bot.outbound.Revoked`) records the community as gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.departures import REMOVED, community_left
from bot.outbound import (
    ChannelRefused,
    Gone,
    HeldBack,
    MaybeSent,
    NotDelivered,
    Outage,
    Outbound,
    Posted,
    Rejected,
    Revoked,
    Unreachable,
    delivered,
    scope_of,
)
from commands.reminders import by_claimant, expiries_reply, reminders_reply
from commands.types import Clock, Reply
from storage.database import is_database_failure
from storage.departures import left
from storage.models import LEGACY_PLATFORM, Claim, Problem
from storage.store import Store
from storage.sweep import (
    expire_due,
    mark_stale,
    prune_processed,
    reclaimed,
    record_deliveries,
    record_notices,
    stale_overrides,
    still_to_remind,
    take_retries,
)

log = logging.getLogger("copbot.reminders")

# Platform → community → reminder channel id (Discord: /setup; Slack: SLACK_REMINDER_CHANNEL).
ChannelLookup = Callable[[str, str], Awaitable[str | None]]
# Platform → community → its name, when the platform knows it (Discord: a server in its cache).
NameLookup = Callable[[str, str], str | None]

# What a claim's history says when its reminder cannot arrive (after "could not be reached: ").
NO_CHANNEL = "no DM and no reminder channel"
CHANNEL_GONE = "no DM, and the reminder channel is gone"
# ... when the claimant left the community or their account is gone: nobody is pinged for them.
CLAIMANT_GONE = "the claimant left or their account is gone"
REJECTED = "{platform} refused the message ({code})"

# How one message went ("dm", "channel", "retry", "unreachable", "failed"), and what the history
# says about it when that is not the usual.
Outcome = tuple[str, str]
# A reminder not sent: its claim was released or renewed after the sweep took it (see
# Sweeper._still_wanted). Recorded like a sheet claim's ("none": nobody to ping), history silent.
WITHHELD = "none"

# The most claims one reminder or expiry notice names: two buttons each, 24 in all, within
# Discord's 25 buttons (5 rows of 5) and one Slack actions block (25); a dozen lines of at most
# ~120 characters fit an embed's 6,000 and Slack's 12,000 characters of block text.
PER_MESSAGE = 12

# A reminder or expiry notice taken to be sent this long ago whose outcome was never recorded
# belonged to a sweep that died with it (a crash, a kill): the next sweep sends it again. Longer
# than a sweep takes, and than the sweep interval (a replica whose database went away records
# what it sent at its next sweep, see Sweeper.run_once).
STUCK_SENDING = timedelta(hours=2)


# While a community's reminder channel refuses copbot, a claimant with closed DMs found still in
# the community when their reminder was refused there is not asked about again for this long:
# their reminder is sent again at each sweep (the channel; the DM once a day), but whether they are still
# a member matters only before a mention goes out, and on Discord asking is one request of its
# own, at every sweep, for every such claim. A day bounds how long one who left since may be
# mentioned in vain, once the channel is mended.
PRESENCE_KEPT = timedelta(days=1)


@dataclass
class RefusedChannel:
    """A reminder channel that refused copbot at an earlier sweep (kept until a post there goes
    through, or the community's reminder channel is another), and the claimants with closed DMs
    found still in the community while it refused, with when (see :data:`PRESENCE_KEPT`)."""

    channel: str
    present: dict[str, datetime] = field(default_factory=dict)


@dataclass
class Unrecorded:
    """The outcomes of a batch of reminders (``column="delivery"``) or expiry notices
    (``"notice"``) that could not be recorded (the database went away), kept to record later."""

    column: str
    outcomes: dict[int, str]
    at: datetime
    details: dict[int, str] = field(default_factory=dict)


@dataclass
class ChannelTrouble:
    """A reminder channel that failed during one sweep: refused (copbot may not post there:
    waiting) or gone (claims written off); how many messages, and the platform's last word."""

    refused: bool
    messages: int
    reason: str


# How a reminder went (a claim's ``delivery``), as the sweep's log line says it, in this order.
HOW_SAID = {
    "dm": "by DM",
    "channel": "in channel",
    "retry": "to send again",
    "unreachable": "unreachable",
    "failed": "failed",
}


@dataclass
class SweepReport:
    """What one sweep did."""

    stale: int = 0
    expired: int = 0
    delivered: dict[str, int] = field(default_factory=dict)

    def count(self, how: str) -> None:
        """Count one delivery by how it went."""
        self.delivered[how] = self.delivered.get(how, 0) + 1

    def summary(self) -> str:
        """The sweep in words, for its log line: ``3 stale, 1 expired; reminders: 2 by DM, 1 in
        channel`` (only the two counts when no reminder was sent)."""
        said = f"{self.stale} stale, {self.expired} expired"
        ways = [how for how in HOW_SAID if how in self.delivered]
        ways += sorted(set(self.delivered) - set(HOW_SAID))
        sent = ", ".join(f"{self.delivered[how]} {HOW_SAID.get(how, how)}" for how in ways)
        return f"{said}; reminders: {sent}" if sent else said


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
        channel_settings: Mapping[str, str] | None = None,
        on_sweep: Callable[[SweepReport], None] | None = None,
        batch: int = 500,
        concurrency: int = 8,
        stuck_after: timedelta = STUCK_SENDING,
        community_name: NameLookup | None = None,
    ) -> None:
        """Wire the sweep; ``outbounds`` maps a platform name to its sender, ``channel_settings``
        a platform to the setting that chooses its reminder channel (named in warnings);
        ``stuck_after``: see :data:`STUCK_SENDING`; ``community_name``: the name of the community
        a claim was made in, which its reminder and expiry notice say where known."""
        self.store = store
        self.outbounds = dict(outbounds)
        self.clock = clock
        self.stale_after_days = stale_after_days
        self.grace_days = grace_days
        self.reminder_channel = reminder_channel
        self.channel_settings = dict(channel_settings or {})
        # (platform, community, channel) → what went wrong there during the running sweep.
        self._trouble: dict[tuple[str, str, str], ChannelTrouble] = {}
        # (platform, community) → its reminder channel that refused copbot, across sweeps.
        self._refused: dict[tuple[str, str], RefusedChannel] = {}
        # (platform, community) of the communities that removed copbot, as of the running sweep.
        self._left: set[tuple[str, str]] = set()
        # Platform → the one community this process serves there (None: all), as of the sweep.
        self._scope: dict[str, str | None] = {}
        # Platform → why it failed as a whole during the running sweep (an outage, a rate limit
        # outlasting the client's retries): nothing more is sent there until the next sweep;
        # and how many messages that left waiting.
        self._down: dict[str, str] = {}
        self._skipped: dict[str, int] = {}
        self.on_sweep = on_sweep
        self.batch = batch
        self.concurrency = concurrency
        self.stuck_after = stuck_after
        self.community_name = community_name
        # Outcomes this process knows but could not record yet, oldest first: recorded before
        # anything else at the next sweep, so what arrived is not sent again, and what did not is.
        self._unrecorded: list[Unrecorded] = []
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
        says so in a line; the scheduler would log the cancellation as an error). One the database
        failed (out of reach, DATABASE_TIMEOUT, locked) is one warning line: the sweep is safe to
        cut anywhere, so the next one does its work; any other failure keeps its traceback."""
        try:
            await self.run_once()
        except asyncio.CancelledError:
            pass
        except Exception as exc:
            if not is_database_failure(exc):
                raise
            log.warning(
                "sweep: the database did not answer (%s); nothing is lost, the sweep runs again "
                "at the next interval (REMINDER_SWEEP_MINUTES)",
                type(exc).__name__,
            )

    async def run_once(self) -> SweepReport:
        """One full sweep: stale pings, then expiries; safe to cut anywhere and run again."""
        async with self._lock:
            report = SweepReport()
            self._trouble = {}
            self._down, self._skipped = {}, {}
            platforms = list(self.outbounds)
            # What this process reminds: a Slack install only its own workspace's claims (and
            # those no other install serves), another install's being out of its reach.
            scope = self._scope = scope_of(self.outbounds)
            await self._record_unrecorded()
            self._left = await left(self.store, platforms)
            # Messages a platform refused at an earlier sweep (rate limit, outage) go out again,
            # and reminders and expiry notices a sweep that died took and never recorded: in the
            # same messages as the first batch of newly stale (expired) claims, so a member hears
            # once per sweep about all of theirs.
            now = self.clock()
            stuck_before = now - self.stuck_after
            retry = await take_retries(
                self.store, scope, "delivery", self.batch, now=now, stuck_before=stuck_before
            )

            async def stale() -> list[Claim] | None:
                # Read for each batch: an admin may change a community's stale days (through any
                # replica) while the batches before go out, which takes minutes for a big sweep.
                overrides = await stale_overrides(self.store)
                moved = await mark_stale(
                    self.store, self.clock(), self.stale_after_days, scope, overrides, self.batch
                )
                if moved is None:
                    return None
                to_ping = [c for c in moved if c.platform != LEGACY_PLATFORM]
                report.stale += len(to_ping)
                return to_ping

            await self._in_batches(retry or [], stale, lambda claims: self._remind(claims, report))
            retry = await take_retries(
                self.store, scope, "notice", self.batch, now=now, stuck_before=stuck_before
            )

            async def expired() -> list[Claim] | None:
                moved = await expire_due(self.store, self.clock(), self.grace_days, scope, self.batch)
                report.expired += len(moved or [])
                return moved

            await self._in_batches(retry or [], expired, self._notify)
            # One line a sweep (APScheduler's own two a run are held back, see bot.logs).
            log.info(
                "sweep: %s",
                report.summary(),
                extra={"stale": report.stale, "expired": report.expired, "reminders": dict(report.delivered)},
            )
            self._report_trouble()
            for platform, skipped in self._skipped.items():
                log.warning(
                    "sweep: %s failed as a whole, so %d message(s) wait for the next sweep (%s)",
                    platform,
                    skipped,
                    self._down[platform],
                )
            try:
                await prune_processed(self.store, self.clock() - timedelta(days=7))
            except Exception:  # the ids are pruned at the next sweep; the rest goes on now
                log.exception("sweep: forgetting handled event ids older than a week failed")
            if self.also is not None:
                await self.also()
            if self.on_sweep:
                self.on_sweep(report)
            return report

    @staticmethod
    async def _in_batches(
        taken: list[Claim],
        take: Callable[[], Awaitable[list[Claim] | None]],
        send: Callable[[list[Claim]], Awaitable[None]],
    ) -> None:
        """Send ``taken`` (messages sent again) with the first batch ``take`` gives, then each
        further batch until it gives None. Should taking fail (the database went away), what
        was taken still goes out before the error does."""
        while True:
            try:
                batch = await take()
            except Exception:
                if taken:
                    await send(taken)
                raise
            if batch is None:
                break
            claims, taken = taken + batch, []
            await send(claims)
        if taken:
            await send(taken)

    async def _remind(self, claims: list[Claim], report: SweepReport) -> None:
        """Send a batch of reminders and record how each went, as of one instant: the day each
        reminder names is the one its claim is kept through, even if sending crosses midnight."""
        now = self.clock()
        outcomes = await self._deliver_all(claims, reminder=True, now=now)
        details = {claim_id: detail for claim_id, (_, detail) in outcomes.items() if detail}
        hows = {claim_id: how for claim_id, (how, _) in outcomes.items()}
        for how in hows.values():
            if how != WITHHELD:
                report.count(how)
        await self._record(Unrecorded("delivery", hows, now, details))

    async def _notify(self, claims: list[Claim]) -> None:
        """Send a batch of expiry notices and record how each went.

        A notice that comes late (refused and sent again, taken back from a sweep that died, or
        behind the others of its batch) to someone who has claimed the problem again meanwhile
        is not sent (see :meth:`_still_wanted`): "your claim on 2.4 expired" would read as the
        claim they now hold. It is recorded as ``reclaimed``; their history still says the
        earlier claim expired."""
        outcomes = await self._deliver_all(claims, reminder=False)
        hows = {claim_id: how for claim_id, (how, _) in outcomes.items()}
        await self._record(Unrecorded("notice", hows, self.clock()))

    async def _record(self, batch: Unrecorded) -> None:
        """Record a batch's outcomes; when the database fails, keep them for the next sweep (and
        raise: the sweep stops, the database being away)."""
        if batch.outcomes:
            self._unrecorded.append(batch)
        await self._record_unrecorded()

    async def _record_unrecorded(self) -> None:
        """Record the outcomes kept from earlier, oldest first (each batch once: the updates are
        guarded by the ``"sending"`` this process took them with)."""
        while self._unrecorded:
            batch = self._unrecorded[0]
            if batch.column == "delivery":
                await record_deliveries(self.store, batch.outcomes, batch.at, batch.details)
            else:
                await record_notices(self.store, batch.outcomes)
            self._unrecorded.pop(0)

    async def _deliver_all(
        self, claims: list[Claim], *, reminder: bool, now: datetime | None = None
    ) -> dict[int, Outcome]:
        """Deliver a batch, a few messages at a time (platform rate limits apply): one message per
        claimant and community naming all their claims in the batch (:data:`PER_MESSAGE` at most),
        whose outcome is each of its claims'; claim id → outcome."""
        if not claims:
            return {}
        try:
            problems = {p.number: p for p in await self.store.problems()}
        except Exception:  # nothing was sent: each goes again, once the database is back
            log.exception("sweep: reading the catalogue failed; %d message(s) wait", len(claims))
            return {claim.id or 0: ("retry", "") for claim in claims}
        semaphore = asyncio.Semaphore(self.concurrency)
        # Read for the whole batch, then again for each message that waited for its turn; once a
        # read failed (the database went away), not again: each would wait out DATABASE_TIMEOUT.
        first = await self._still_wanted(claims, reminder)
        down = first is None

        async def one(group: list[Claim]) -> list[tuple[int, Outcome]]:
            nonlocal down
            waits = semaphore.locked()
            async with semaphore:
                wanted = await self._still_wanted(group, reminder) if waits and not down else first
                down = down or wanted is None
                if wanted is None:
                    wanted = {c.id or 0 for c in group}
                unwanted = (WITHHELD if reminder else "reclaimed", "")
                withheld = [(c.id or 0, unwanted) for c in group if (c.id or 0) not in wanted]
                group = [c for c in group if (c.id or 0) in wanted]
                if not group:
                    return withheld
                held = [(claim, problems[claim.problem_number]) for claim in group]
                outcome = await self._deliver(held, reminder, now)
                return [(claim.id or 0, outcome) for claim in group] + withheld

        done = await asyncio.gather(*(one(group) for group in by_claimant(claims, PER_MESSAGE)))
        return {claim_id: outcome for outcomes in done for claim_id, outcome in outcomes}

    async def _still_wanted(self, claims: list[Claim], reminder: bool) -> set[int] | None:
        """The ids of ``claims`` whose message is still wanted, read just before it goes: a
        reminder's claim not released nor renewed since the sweep took it (see
        :func:`storage.sweep.still_to_remind`), an expiry notice's claimant not holding the
        problem again (:func:`storage.sweep.reclaimed`). Messages go out a few at a time
        (platform rate limits), so a big batch takes minutes, in which members answer through any
        replica: read once for the batch, and again for each message that waited for its turn.
        None when the read fails (the database went away): all of them go, as before the check."""
        ids = {c.id or 0 for c in claims}
        try:
            if reminder:
                return await still_to_remind(self.store, ids)
            return ids - await reclaimed(self.store, claims)
        except Exception:
            what = "reminder" if reminder else "expiry notice"
            log.exception("sweep: reading whether a %s is still wanted failed; the batch goes out", what)
            return None

    async def _deliver(
        self, held: list[tuple[Claim, Problem]], reminder: bool, now: datetime | None = None
    ) -> Outcome:
        """DM the claimant about their claims ``held``, else mention them in the reminder
        channel; never raises. Nothing is sent to a community that removed copbot: its claimants
        cannot be reached there."""
        claim = held[0][0]
        outbound = self.outbounds[claim.platform]
        ids = ", ".join(str(c.id) for c, _ in held)
        what = f"{'reminder' if reminder else 'expiry notice'} for claim{'s' if len(held) > 1 else ''} {ids}"
        own = self._scope.get(claim.platform)
        if (claim.platform, claim.community_id) in self._left or (claim.platform, own) in self._left:
            return "unreachable", REMOVED
        if claim.platform in self._down:  # failing as a whole: asking again would only add load
            self._skipped[claim.platform] = self._skipped.get(claim.platform, 0) + 1
            return "retry", ""

        async def watched(send: Awaitable[Posted]) -> Posted:
            """``send``, noting an outage of the platform's for the rest of the sweep. A message
            the outage certainly kept from going out waits with those the sweep then holds back,
            reported with them in one warning (messages in flight together used to warn each)."""
            try:
                return await send
            except Outage as exc:
                self._down.setdefault(claim.platform, str(exc))
                if isinstance(exc, NotDelivered):
                    self._skipped[claim.platform] = self._skipped.get(claim.platform, 0) + 1
                    raise HeldBack(str(exc)) from exc
                raise

        try:
            assert claim.user_id is not None
            user = claim.user_id
            lookup = self.community_name
            name = (lookup(claim.platform, claim.community_id) if lookup else None) or ""

            def build(mention: bool) -> Reply:
                if reminder:
                    return reminders_reply(
                        held, self.grace_days, now or self.clock(), mention=mention, community=name
                    )
                return expiries_reply(held, mention=mention, community=name)

            gone = False
            community = (claim.platform, claim.community_id)
            channel: str | None = None
            if (refused := self._refused.get(community)) is not None:
                # Still the channel that refused? Read before the DM: it decides the lookup.
                channel = await self.reminder_channel(*community)
                if channel != refused.channel:  # another channel (or none) now: start afresh
                    del self._refused[community]
                    refused = None
            seen = refused.present.get(user) if refused else None
            ask = seen is None or seen <= self.clock() - PRESENCE_KEPT

            async def dm() -> Posted:
                nonlocal gone
                try:
                    return await watched(
                        outbound.send_dm(claim.community_id, user, build(False), ask_if_gone=ask)
                    )
                except Gone:
                    gone = True
                    raise

            # A DM found closed within the day while this channel refuses is not tried again at
            # every sweep (refused each time, as the channel is: two refused requests a claimant
            # a sweep): once a day, with the lookup; in between only the channel is tried, so
            # the reminder still goes out the sweep it is mended.
            if ask:
                how = await delivered(dm(), "dm", log, what, again_if_unsure=reminder)
                if how != "unreachable":
                    return how, ""
                if gone:  # a mention in the channel would ping someone who can never read it
                    return "unreachable", CLAIMANT_GONE
            if channel is None:
                channel = await self.reminder_channel(*community)
            if not channel:
                return "unreachable", NO_CHANNEL
            try:
                await watched(outbound.send_channel(claim.community_id, channel, build(True)))
            except (Revoked, Rejected):
                raise
            except ChannelRefused as exc:  # an admin can fix it: one warning per sweep names it
                self._note_trouble(claim, channel, refused=True, reason=str(exc))
                kept = self._refused.setdefault(community, RefusedChannel(channel))
                if ask:  # not found gone just now (looked up where the platform needs to)
                    kept.present[user] = self.clock()
                return "retry", ""
            except Unreachable as exc:
                self._note_trouble(claim, channel, refused=False, reason=str(exc))
                self._refused.pop(community, None)
                return "unreachable", CHANNEL_GONE
            except HeldBack:
                return "retry", ""
            except NotDelivered as exc:
                log.warning("%s refused in the reminder channel, will retry: %s", what, exc)
                return "retry", ""
            except MaybeSent as exc:
                if not reminder:
                    raise
                log.warning("%s may not have gone out, sent again at the next sweep: %s", what, exc)
                return "retry", ""
            self._refused.pop(community, None)  # it takes posts (again)
            return "channel", ""
        except Revoked as exc:  # the platform refuses copbot's credentials there: it was removed
            await self._removed(claim, exc)
            return "unreachable", REMOVED
        except Rejected as exc:
            # Refused for the message itself: every try would be refused alike. A reminder cannot
            # arrive (its claim expires a grace period from now); a notice is failed. Never again.
            log.error(
                "%s refused by %s for good (%s), not sent again: %s", what, claim.platform, exc.code, exc
            )
            if reminder:
                return "unreachable", REJECTED.format(platform=claim.platform.capitalize(), code=exc.code)
            return "failed", ""
        except Exception:
            # Unknown whether it was sent: never send it again (at most once), mark it failed.
            log.exception("%s failed", what)
            return "failed", ""

    async def _removed(self, claim: Claim, exc: Revoked) -> None:
        """Record ``claim``'s community as one that removed copbot (once, with an error naming
        why): the rest of this sweep sends nothing there. Where this process serves one
        community (a Slack install), its credentials were refused: that community removed it,
        whichever community the claim was kept under."""
        key = (claim.platform, self._scope.get(claim.platform) or claim.community_id)
        if key in self._left:
            return
        self._left.add(key)
        try:
            await community_left(self.store, *key, self.clock(), str(exc), level=logging.ERROR)
        except Exception:  # the next refusal records it
            log.exception("recording that %s community %s removed copbot failed", *key)

    def _note_trouble(self, claim: Claim, channel: str, *, refused: bool, reason: str) -> None:
        key = (claim.platform, claim.community_id, channel)
        seen = self._trouble.get(key)
        self._trouble[key] = ChannelTrouble(refused, (seen.messages if seen else 0) + 1, reason)

    def _report_trouble(self) -> None:
        """One warning per reminder channel that failed during this sweep, naming its setting."""
        for (platform, community, channel), trouble in self._trouble.items():
            setting = self.channel_settings.get(platform, "the reminder channel setting")
            where = f"the reminder channel {channel} ({setting}) of {platform} community {community}"
            if trouble.refused:
                log.warning(
                    "copbot may not post in %s: %d message(s) wait and are sent again at each sweep "
                    "until it can (%s)",
                    where,
                    trouble.messages,
                    trouble.reason,
                )
            else:
                log.warning(
                    "%s cannot be used (%s): %d message(s) to claimants with closed DMs could not be "
                    "delivered; set another channel",
                    where,
                    trouble.reason,
                    trouble.messages,
                )


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
