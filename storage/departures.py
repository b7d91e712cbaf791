"""Communities that removed copbot: recorded, and their hold on claims and submissions let go.

A Discord server that kicked copbot, or a Slack workspace that uninstalled it (or revoked its
token), is recorded with ``community_settings.left_at``. Nothing there can be reached any more:
its reminders go nowhere (the sweep marks them unreachable, so its claims expire a grace period
later, as any unreachable claimant's do), and its pending submissions are closed (rejected, the
history saying why), so that the same work can be submitted by another community, whose
moderators can decide it. Approved links stay. Adding copbot again clears the mark; what was
closed meanwhile stays closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    OPEN_CLAIM_STATES,
    Claim,
    CommunitySettings,
    Event,
    LinkStatus,
    Membership,
    WorkLink,
)
from storage.scope import Scope, served
from storage.store import Store

# Who closed a removed community's submissions, and why, in its history and on its row.
CLOSED_BY = "copbot"
CLOSED_WHY = "the community removed copbot"


def removed_copbot() -> sa.Exists:
    """A condition on a submission: its community is recorded as having removed copbot (nothing
    there can be edited or sent; once copbot is added again, it is)."""
    return sa.exists().where(
        col(CommunitySettings.platform) == col(WorkLink.platform),
        col(CommunitySettings.community_id) == col(WorkLink.community_id),
        col(CommunitySettings.left_at).is_not(None),
    )


async def mark_left(store: Store, platform: str, community_id: str, now: datetime) -> bool:
    """Record that copbot was removed from a community; True only the first time (not while it
    is recorded as gone already)."""
    async with store.session() as s:
        await s.exec(store.settings_row(platform, community_id, now))
        return await _set_left(s, platform, community_id, now)


async def mark_back(store: Store, platform: str, community_id: str) -> bool:
    """copbot is in the community (again): clear its mark; True when there was one.

    A read first: it runs for every Discord server at each connection, and finds nothing to do
    for nearly all of them."""
    row = await store.get_settings(platform, community_id)
    if row is None or row.left_at is None:
        return False
    async with store.session() as s:
        return await _set_left(s, platform, community_id, None)


async def _set_left(s: AsyncSession, platform: str, community_id: str, left_at: datetime | None) -> bool:
    """Set or clear a community's ``left_at``, guarded: True when it changed (set where unset,
    cleared where set)."""
    column = col(CommunitySettings.left_at)
    moved = await s.exec(
        sa.update(CommunitySettings)
        .where(
            col(CommunitySettings.platform) == platform,
            col(CommunitySettings.community_id) == community_id,
            column.is_(None) if left_at is not None else column.is_not(None),
        )
        .values(left_at=left_at)
        .returning(col(CommunitySettings.community_id))
    )
    return moved.first() is not None


async def left(store: Store, platforms: Sequence[str]) -> set[tuple[str, str]]:
    """The (platform, community) pairs of ``platforms`` recorded as having removed copbot."""
    async with store.read() as s:
        rows = await s.exec(
            select(CommunitySettings.platform, CommunitySettings.community_id).where(
                col(CommunitySettings.left_at).is_not(None),
                col(CommunitySettings.platform).in_(list(platforms)),
            )
        )
        return {(platform, community) for platform, community in rows}


async def held(store: Store, platform: str) -> set[str]:
    """The communities of ``platform`` copbot holds something for and has not recorded as gone:
    an open claim, a pending submission, or a settings row (its ids as stored, "dm" included)."""
    claims = select(Claim.community_id).where(
        col(Claim.platform) == platform, col(Claim.state).in_(OPEN_CLAIM_STATES)
    )
    links = select(WorkLink.community_id).where(
        col(WorkLink.platform) == platform, col(WorkLink.status) == LinkStatus.PENDING.value
    )
    settings = select(CommunitySettings.community_id).where(col(CommunitySettings.platform) == platform)
    async with store.read() as s:
        rows = await s.exec(sa.union(claims, links, settings))  # type: ignore[call-overload]
        found = {community for (community,) in rows}
    return found - {community for _, community in await left(store, [platform])}


async def mark_members(
    store: Store, platform: str, app_id: str, communities: Iterable[str], now: datetime
) -> None:
    """Record that application ``app_id`` of ``platform`` was seen as a member of each of
    ``communities`` (those recorded already keep their first time)."""
    rows = [
        {"platform": platform, "app_id": app_id, "community_id": community, "seen_at": now}
        for community in communities
    ]
    if not rows:
        return
    stmt = store.insert(Membership).on_conflict_do_nothing(
        index_elements=["platform", "app_id", "community_id"]
    )
    async with store.session() as s:
        await s.exec(stmt, params=rows)


async def members(store: Store, platform: str, app_id: str) -> set[str]:
    """The communities application ``app_id`` of ``platform`` was ever seen in as a member:
    only those can be taken for gone when it no longer finds itself there."""
    async with store.read() as s:
        rows = await s.exec(
            select(Membership.community_id).where(
                col(Membership.platform) == platform, col(Membership.app_id) == app_id
            )
        )
        return set(rows)


async def close_submissions(store: Store, platforms: Sequence[str] | Scope, now: datetime) -> list[WorkLink]:
    """Close the pending submissions of the communities ``platforms`` serves that removed copbot:
    rejected by copbot for :data:`CLOSED_WHY`, in one guarded update (a decision, or another
    process closing them, first leaves them alone), with one history entry each. Nobody is told
    (the submitter is in the community copbot left), and the post is edited only once copbot is
    added again (:func:`storage.posts.posts_behind` leaves it alone meanwhile), so that it no
    longer offers a decision there. Returns the submissions closed."""
    gone = (
        select(CommunitySettings.community_id)
        .where(
            col(CommunitySettings.platform) == col(WorkLink.platform),
            col(CommunitySettings.left_at).is_not(None),
        )
        .correlate(WorkLink)
    )
    due = (
        col(WorkLink.status) == LinkStatus.PENDING.value,
        served(col(WorkLink.platform), col(WorkLink.community_id), platforms),
        col(WorkLink.community_id).in_(gone.scalar_subquery()),
    )
    async with store.session() as s:
        closed = list(
            (
                await s.exec(
                    sa.update(WorkLink)
                    .where(*due)
                    .values(
                        status=LinkStatus.REJECTED.value,
                        decided_by_id=None,
                        decided_by_name=CLOSED_BY,
                        decided_at=now,
                        reason=CLOSED_WHY,
                        revision=col(WorkLink.revision) + 1,
                        notice="unreachable",
                    )
                    .returning(WorkLink)
                )
            ).scalars()
        )
        if closed:
            events = [
                {
                    "problem_number": link.problem_number,
                    "kind": LinkStatus.REJECTED.value,
                    "at": now,
                    "actor_platform": "",
                    "actor_id": None,
                    "actor_name": CLOSED_BY,
                    "detail": f"{link.url} ({CLOSED_WHY})",
                    "claim_id": None,
                    "link_id": link.id,
                }
                for link in closed
            ]
            await s.exec(sa.insert(Event), params=events)
    return closed
