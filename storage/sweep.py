"""Claim lifecycle transitions for the reminder sweep, each applied exactly once.

Every transition is one guarded ``UPDATE … WHERE state = expected … RETURNING``: a second sweep,
a second process or a restart finds the rows already moved and gets nothing back. The cost of a
sweep follows the due rows, found by range scans on ``(state, renewed_at)`` and
``(state, reminded_at)``, not the size of the claim table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from storage.models import (
    LEGACY_PLATFORM,
    OPEN_CLAIM_STATES,
    REMINDER_DELIVERED,
    Claim,
    ClaimState,
    CommunitySettings,
    Event,
    ProcessedEvent,
)
from storage.scope import Scope, claims_served
from storage.store import Store

BATCH = 500
# Inbound event ids forgotten per transaction by the prune: a few milliseconds each, so a /claim
# waiting for SQLite's write lock meanwhile waits that long at most (1M ids: 2 ms a claim in
# the median, 48 ms at most, against 5,000 a batch: 8 and 60 ms; the same 3.6 s in all).
PRUNE_BATCH = 2_000

# What the history says when a reminder's outcome is recorded, unless the caller says more
# precisely what happened; a refused one ("retry") says nothing yet: it is sent again, and the
# history speaks once it arrives or finally cannot.
_REMINDER_EVENTS = {
    **{how: ("stale", "") for how in REMINDER_DELIVERED},
    "unreachable": ("unreachable", "no DM and no reminder channel"),
    "failed": ("unreachable", "sending the reminder failed"),
}


async def stale_overrides(store: Store) -> dict[tuple[str, str], int]:
    """Communities whose admins chose their own stale-after days (a read: it leaves the cached
    card states be)."""
    async with store.read() as s:
        rows = await s.exec(
            select(CommunitySettings).where(col(CommunitySettings.stale_after_days).is_not(None))
        )
        return {(r.platform, r.community_id): int(r.stale_after_days or 0) for r in rows}


def _event_rows(
    claims: Iterable[Claim], kind: str, at: datetime, detail: str = ""
) -> list[dict[str, object]]:
    return [
        {
            "problem_number": c.problem_number,
            "kind": kind,
            "at": at,
            "actor_platform": c.platform,
            "actor_id": c.user_id,
            "actor_name": c.display_name,
            "detail": detail,
            "claim_id": c.id,
            "link_id": None,
        }
        for c in claims
    ]


def _due(
    now: datetime, default_days: int, overrides: Mapping[tuple[str, str], int]
) -> sa.ColumnElement[bool]:
    """Active claims silent longer than their community's stale days: ``overrides`` (platform,
    community → days) where its admins chose, else ``default_days``.

    One branch per distinct number of days, not per community: SQLite refuses an expression
    deeper than 1000, and 1,000 communities with their own days stopped every sweep. /setup
    bounds the days to 1..365, so at most 364 branches besides the default's; each community is
    named once, in its days' ``(platform, community_id) IN (…)`` list (2 parameters: with a
    batch's 500 ids and the cutoffs, statements stay under SQLite's and asyncpg's 32,766 or 32,767
    parameters up to about 15,900 such communities). Communities whose days are the default's are
    left out: the default covers them.

    Due = silent past the default and not in a community with longer days that it is still
    within, or silent past the shorter days of its own community. The whole is bounded by the
    latest of the cutoffs, so the look-up stays a range of ``ix_claim_state_renewed``, and
    without overrides is that range alone, as before.
    """
    renewed = col(Claim.renewed_at)
    community = sa.tuple_(col(Claim.platform), col(Claim.community_id))
    by_days: dict[int, list[tuple[str, str]]] = {}
    for key, days in overrides.items():
        if days != default_days:
            by_days.setdefault(days, []).append(key)
    cutoff = {days: now - timedelta(days=days) for days in [default_days, *by_days]}
    due_by_default: sa.ColumnElement[bool] = renewed < cutoff[default_days]
    longer = [
        sa.and_(renewed >= cutoff[days], community.in_(keys))
        for days, keys in sorted(by_days.items())
        if days > default_days
    ]
    if longer:
        due_by_default = sa.and_(due_by_default, sa.not_(sa.or_(*longer)))
    shorter = [
        sa.and_(renewed < cutoff[days], community.in_(keys))
        for days, keys in sorted(by_days.items())
        if days < default_days
    ]
    if not shorter:
        return due_by_default
    return sa.and_(renewed < max(cutoff.values()), sa.or_(due_by_default, *shorter))


async def mark_stale(
    store: Store,
    now: datetime,
    default_days: int,
    platforms: Sequence[str] | Scope,
    overrides: dict[tuple[str, str], int] | None = None,
    limit: int = BATCH,
) -> list[Claim] | None:
    """Move due active claims to stale; returns every claim this call moved, None if none was due.

    An empty list means another sweep moved the due rows first: look again.

    Claims of ``platforms`` (those this process reminds, see :mod:`storage.scope`) are taken
    with ``delivery = "sending"``: this sweep owns their ping and nobody else will send it.
    ``reminded_at`` is the time of this attempt until its outcome is recorded, and the history
    says nothing yet (see :func:`record_deliveries`). The sheet's legacy claims go stale by age
    with ``delivery = "none"`` (nobody to ping).
    """
    wanted = sa.or_(
        claims_served(col(Claim.platform), col(Claim.community_id), platforms),
        col(Claim.platform) == LEGACY_PLATFORM,
    )
    due_now = _due(now, default_days, overrides or {})
    async with store.session() as s:
        due = list(
            await s.exec(
                select(Claim.id)
                .where(
                    Claim.state == ClaimState.ACTIVE.value,
                    wanted,
                    due_now,
                )
                .order_by(col(Claim.renewed_at))
                .limit(limit)
            )
        )
    if not due:
        return None
    async with store.session() as s:
        return list(
            (
                await s.exec(
                    sa.update(Claim)
                    # Due still: a replica may have renewed it since the look-up (on PostgreSQL
                    # the update waits for that renewal's row lock, then sees the new row).
                    .where(
                        col(Claim.id).in_(due),
                        col(Claim.state) == ClaimState.ACTIVE.value,
                        due_now,
                    )
                    .values(
                        state=ClaimState.STALE.value,
                        reminded_at=now,
                        delivery=sa.case((col(Claim.platform) == LEGACY_PLATFORM, "none"), else_="sending"),
                    )
                    .returning(Claim)
                )
            ).scalars()
        )


async def still_to_remind(store: Store, claim_ids: Collection[int]) -> set[int]:
    """Of claims a sweep took to remind (:func:`mark_stale`, :func:`take_retries`), those whose
    reminder is still wanted: stale, and still taken (``delivery = "sending"``). The others were
    released, renewed or claimed again since (perhaps through another replica), while the sweep
    sent the reminders before theirs: "still working on it?" would then be about a claim they had
    just ended or renewed. A read-only snapshot, read just before each message goes."""
    if not claim_ids:
        return set()
    async with store.read() as s:
        rows = await s.exec(
            select(Claim.id).where(
                col(Claim.id).in_(list(claim_ids)),
                Claim.state == ClaimState.STALE.value,
                Claim.delivery == "sending",
            )
        )
        return {claim_id for claim_id in rows if claim_id is not None}


async def record_deliveries(
    store: Store, outcomes: dict[int, str], now: datetime, details: Mapping[int, str] | None = None
) -> None:
    """Record how each reminder went (``dm``, ``channel``, ``retry``, ``unreachable``, ``failed``),
    in one go, with ``reminded_at = now``; ``details`` (claim id → text) says in the history why
    one could not arrive, in place of the default words.

    The grace period before expiry thus runs from ``now``, the time the sweep that sent the
    reminder recorded for it (the day the reminder names), not from when its claimant got it. A
    reminder that never can (no DM, and no usable reminder channel; or sending it failed, and at most
    once forbids another try) starts it at this final attempt: the history says so now, and the
    claim, shown as stale meanwhile, expires ``grace_days`` later rather than staying open forever.
    A refused one (``retry``) does not start it (see :func:`expire_due`).
    """
    if not outcomes:
        return
    details = details or {}
    async with store.session() as s:
        by_how: dict[str, list[int]] = {}
        for claim_id, how in outcomes.items():
            by_how.setdefault(how, []).append(claim_id)
        for how, ids in by_how.items():
            moved = list(
                (
                    await s.exec(
                        sa.update(Claim)
                        .where(col(Claim.id).in_(ids), col(Claim.delivery) == "sending")
                        .values(delivery=how, unreachable=how == "unreachable", reminded_at=now)
                        .returning(Claim)
                    )
                ).scalars()
            )
            if how in _REMINDER_EVENTS and moved:
                kind, default = _REMINDER_EVENTS[how]
                rows = [
                    row
                    for claim in moved
                    for row in _event_rows([claim], kind, now, details.get(claim.id or 0) or default)
                ]
                await s.exec(sa.insert(Event), params=rows)


def last_day_to_answer(reminded_at: datetime, grace_days: int) -> date:
    """The UTC day by whose end a stale claim reminded at ``reminded_at`` must be renewed: the
    day ``grace_days`` after the reminder. The claim is kept through that whole day, and expires
    at the first sweep after it ends (:func:`expire_due`), whatever the time of the reminder and
    however often sweeps run; reminders and claim lines name this day."""
    return (reminded_at.astimezone(UTC) + timedelta(days=grace_days)).date()


async def expire_due(
    store: Store, now: datetime, grace_days: int, platforms: Sequence[str] | Scope, limit: int = BATCH
) -> list[Claim] | None:
    """Expire stale claims whose reminder went unanswered for ``grace_days``; returns those moved.

    None when nothing was due; an empty list when another sweep took the due rows first.

    Due once the last day to answer it (:func:`last_day_to_answer`) is over, in UTC: a claim
    reminded at 23:50 and one reminded at 00:20 the next day are each kept through the whole
    day they were told. The grace runs from ``reminded_at``: the time the sweep that sent the
    reminder wrote for it, or for its final failed attempt (see :func:`record_deliveries`). A
    reminder the platform refused, or one whose outcome is not recorded yet, is still being sent, so
    its claim waits however old the attempt (a sweep may not have taken it back yet, e.g. more were
    refused than a batch holds). Legacy claims never expire (nobody was asked). The caller tells
    each claimant once.
    """
    # Reminded before this cutoff: the day ``grace_days`` on from the reminder ended before today.
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    is_due = (
        col(Claim.state) == ClaimState.STALE.value,
        col(Claim.reminded_at) < today - timedelta(days=grace_days),
        # Not arrived yet: refused (sent again at each sweep) or on its way (a sweep that died
        # with it is taken back by :func:`take_retries`).
        col(Claim.delivery).not_in(["retry", "sending"]),
        claims_served(col(Claim.platform), col(Claim.community_id), platforms),
    )
    async with store.session() as s:
        due = list(
            await s.exec(select(Claim.id).where(*is_due).order_by(col(Claim.reminded_at)).limit(limit))
        )
    if not due:
        return None
    async with store.session() as s:
        moved = list(
            (
                await s.exec(
                    sa.update(Claim)
                    .where(col(Claim.id).in_(due), *is_due)
                    .values(state=ClaimState.EXPIRED.value, ended_at=now, notice="sending", notice_at=now)
                    .returning(Claim)
                )
            ).scalars()
        )
        reminded = [c for c in moved if c.delivery in REMINDER_DELIVERED]
        unreminded = [c for c in moved if c.delivery not in REMINDER_DELIVERED]
        grace = f"{grace_days} day{'' if grace_days == 1 else 's'}"  # STALE_GRACE_DAYS may be 1
        answered = f"no answer {grace} after the reminder"
        unknown = f"no reminder known to have reached them, {grace} after the last try"
        events = _event_rows(reminded, "expired", now, answered)
        events += _event_rows(unreminded, "expired", now, unknown)
        if events:
            await s.exec(sa.insert(Event), params=events)
    return moved


async def record_notices(store: Store, outcomes: dict[int, str]) -> None:
    """Record how each expiry notice reached its claimant."""
    by_how: dict[str, list[int]] = {}
    for claim_id, how in outcomes.items():
        by_how.setdefault(how, []).append(claim_id)
    async with store.session() as s:
        for how, ids in by_how.items():
            await s.exec(
                sa.update(Claim)
                .where(col(Claim.id).in_(ids), col(Claim.notice) == "sending")
                .values(notice=how)
            )


async def reclaimed(store: Store, claims: Sequence[Claim]) -> set[int]:
    """The ids of expired ``claims`` whose claimant has claimed the same problem again since, in
    the same community (an open claim of theirs on it): their expiry notice, late (refused and
    sent again, or taken back from a sweep that died), would tell them a claim they hold expired.

    A read-only snapshot: it sees every committed /claim, and leaves the cached card states be."""
    users = {c.user_id for c in claims if c.user_id is not None}
    if not users:
        return set()
    numbers = {c.problem_number for c in claims}
    async with store.read() as s:
        rows = list(
            await s.exec(
                select(Claim.platform, Claim.community_id, Claim.user_id, Claim.problem_number).where(
                    col(Claim.user_id).in_(users),
                    col(Claim.problem_number).in_(numbers),
                    col(Claim.state).in_(OPEN_CLAIM_STATES),
                )
            )
        )
    held = {tuple(row) for row in rows}
    return {
        c.id or 0
        for c in claims
        if (c.platform, c.community_id, c.user_id, c.problem_number) in held
        and c.state not in OPEN_CLAIM_STATES
    }


async def take_retries(
    store: Store,
    platforms: Sequence[str] | Scope,
    column: str,
    limit: int = BATCH,
    *,
    now: datetime | None = None,
    stuck_before: datetime | None = None,
) -> list[Claim] | None:
    """Take back reminders (``column="delivery"``) or expiry notices (``"notice"``) that the
    platform refused earlier, to send them again; None when there are none.

    With ``stuck_before``, those too that were taken to be sent (``"sending"``) before then and
    whose outcome was never recorded: the sweep that took them died (a crash, a kill) after
    taking them, perhaps after sending them, and nobody else will. They are sent again (a second
    reminder harms less than a claim expiring unreminded, see :func:`expire_due`; a second
    expiry notice less than a claimant never told their claim was let go). One taken here is
    taken afresh at ``now`` (``reminded_at``, ``notice_at``), the time of this attempt, so no
    other sweep takes it back while this one sends it.
    """
    state = ClaimState.STALE.value if column == "delivery" else ClaimState.EXPIRED.value
    field = getattr(Claim, column)
    taken_at = "reminded_at" if column == "delivery" else "notice_at"
    due_now: sa.ColumnElement[bool] = col(field) == "retry"
    if stuck_before is not None:
        # A notice taken without a time (by a replica on a release before notice_at, still
        # sweeping while the new ones start) counts as taken when its claim expired.
        since = (
            col(Claim.reminded_at)
            if column == "delivery"
            else sa.func.coalesce(col(Claim.notice_at), col(Claim.ended_at))
        )
        stuck = sa.and_(col(field) == "sending", since < stuck_before)
        due_now = sa.or_(due_now, stuck)
    taken: dict[str, object] = {column: "sending"}
    if now is not None:
        taken[taken_at] = now
    async with store.session() as s:
        due = list(
            await s.exec(
                select(Claim.id)
                .where(
                    Claim.state == state,
                    due_now,
                    claims_served(col(Claim.platform), col(Claim.community_id), platforms),
                )
                .limit(limit)
            )
        )
        if not due:
            return None
        return list(
            (
                await s.exec(
                    # Still due: another sweep may have taken it meanwhile (and set its time).
                    sa.update(Claim)
                    .where(col(Claim.id).in_(due), col(Claim.state) == state, due_now)
                    .values(taken)
                    .returning(Claim)
                )
            ).scalars()
        )


async def prune_processed(store: Store, before: datetime, batch: int = PRUNE_BATCH) -> int:
    """Forget inbound event ids older than ``before`` (platforms replay within minutes, not days);
    returns how many.

    The oldest ``batch`` at a time, each batch its own short transaction over a range of
    ``ix_processed_event_at``, with the event loop free between two: a backlog of a million ids
    never holds SQLite's write lock (a /claim waiting for it) or runs one PostgreSQL statement
    (``DATABASE_TIMEOUT``) for long.
    """
    at = col(ProcessedEvent.at)
    total, done_to = 0, None
    while True:
        # Past the batches done: PostgreSQL keeps their index entries until VACUUM, and each
        # batch would otherwise step over all of them again.
        past: list[sa.ColumnElement[bool]] = [] if done_to is None else [at > done_to]
        # When the ``batch``-th oldest id left was handled: this batch forgets the ids up to then.
        batch_end = (
            select(ProcessedEvent.at).where(*past, at < before).order_by(at).offset(batch - 1).limit(1)
        )
        async with store.session() as s:
            end = (await s.exec(batch_end)).first()
            # One upper bound, so that SQLite's plan stops the range there.
            upto = at < before if end is None else at <= end
            result = await s.exec(sa.delete(ProcessedEvent).where(*past, upto))
        total += int(result.rowcount or 0)
        if end is None:  # that was the last of them
            return total
        done_to = end
        await asyncio.sleep(0)  # let what waits for the database (a /claim) go first
