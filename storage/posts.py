"""The moderator posts of submissions: each posted once, moved once, kept up to date.

A first post (:func:`take_for_posting`) and a move to another moderator channel
(:func:`take_for_moving`) mark the row "posting" in a guarded update, so two processes never post
one submission twice; a post whose edit is behind its submission's state is found by
:func:`posts_behind` (the decisions themselves are :mod:`storage.submissions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select

from storage.departures import removed_copbot
from storage.models import LinkStatus, WorkLink
from storage.scope import Scope, served
from storage.store import Store
from storage.submissions import BATCH, history_event

POSTING = "posting"
# The values of the ``moved_from_*`` columns when no move is in progress.
NOT_MOVING: dict[str, None] = {
    "moved_from_channel_id": None,
    "moved_from_message_id": None,
    "moved_from_url": None,
    "moved_from_posted_at": None,
}


async def link_by_message(
    store: Store, platform: str, message_id: str, channel_id: str | None = None
) -> WorkLink | None:
    """The submission whose moderator post is this message (in ``channel_id``, when given: a
    Slack message id is a timestamp, unique only within its channel).

    A read, not a unit of work: a reaction's handling (Store.applying) records its event id with
    its first unit of work, which must be the decision, not this look-up before it.
    """
    query = select(WorkLink).where(WorkLink.platform == platform, WorkLink.mod_message_id == message_id)
    if channel_id is not None:
        query = query.where(WorkLink.mod_channel_id == channel_id)
    async with store.read() as s:
        return (await s.exec(query)).first()


async def take_for_posting(store: Store, link_id: int, channel_id: str, now: datetime) -> bool:
    """Take the right to post a pending submission to moderators (True once per submission).

    ``posted_at`` holds when it was taken until the post is recorded, so a restart can tell a
    post cut short by a crash from one another process is making right now."""
    async with store.session() as s:
        result = await s.exec(
            sa.update(WorkLink)
            .where(col(WorkLink.id) == link_id, col(WorkLink.mod_message_id).is_(None))
            .values(mod_channel_id=channel_id, mod_message_id=POSTING, posted_at=now)
            .returning(col(WorkLink.id))
        )
        return result.first() is not None


async def take_for_moving(
    store: Store, link_id: int, message_id: str, channel_id: str, now: datetime, *, from_channel: str
) -> WorkLink | None:
    """Take the right to post a pending submission again in ``channel_id``, its post
    ``message_id`` being in ``from_channel`` (the moderator channel changed): the submission as
    taken, once per post (None when it was decided, moved or posted again meanwhile). The post is
    named by channel and message: a Slack message id is unique only within its channel, so the
    new post of a move made meanwhile may carry the old one's id.

    The row holds the posting mark, as a first post does, until :func:`record_posted` or
    :func:`return_post`; the old post is kept in its ``moved_from_*`` columns meanwhile, so a move
    a crash cuts short gives it back (:func:`release_stuck_posting`) instead of losing it."""
    async with store.session() as s:
        taken = (
            await s.exec(
                sa.update(WorkLink)
                .where(
                    col(WorkLink.id) == link_id,
                    col(WorkLink.status) == LinkStatus.PENDING.value,
                    col(WorkLink.mod_channel_id) == from_channel,
                    col(WorkLink.mod_message_id) == message_id,
                )
                .values(
                    # The right-hand sides read the row as it was before this update.
                    moved_from_channel_id=col(WorkLink.mod_channel_id),
                    moved_from_message_id=col(WorkLink.mod_message_id),
                    moved_from_url=col(WorkLink.mod_url),
                    moved_from_posted_at=col(WorkLink.posted_at),
                    mod_channel_id=channel_id,
                    mod_message_id=POSTING,
                    posted_at=now,
                )
                .returning(col(WorkLink.id))
            )
        ).first()
        if taken is None:
            return None
        return await s.get(WorkLink, link_id, populate_existing=True)


async def return_post(
    store: Store,
    old: WorkLink,
    refused: tuple[str, datetime] | None = None,
    rest: Sequence[WorkLink] = (),
) -> None:
    """A move that failed: the old post (as ``old`` recorded it) is the submission's post again,
    so reactions on it still decide, and the next sweep tries the move again.

    With ``refused`` (the platform's reason and when to try again: copbot may not post in the
    new moderator channel, or it is gone), the move is tried again then, as a refused first
    post is (:func:`record_refused`), and so are the moves of ``rest`` (the community's other
    posts to move, which would be refused alike), in the same unit of work."""
    async with store.session() as s:
        await s.exec(
            sa.update(WorkLink)
            .where(col(WorkLink.id) == old.id, col(WorkLink.mod_message_id) == POSTING)
            .values(
                mod_channel_id=old.mod_channel_id,
                mod_message_id=old.mod_message_id,
                mod_url=old.mod_url,
                posted_at=old.posted_at,
                **NOT_MOVING,
            )
        )
        if refused is None:
            return
        reason, retry_at = refused
        await s.exec(
            sa.update(WorkLink)
            .where(
                col(WorkLink.id).in_([old.id, *(link.id for link in rest)]),
                col(WorkLink.status) == LinkStatus.PENDING.value,
                col(WorkLink.mod_message_id).is_not(None),
                col(WorkLink.mod_message_id) != POSTING,
            )
            .values(mod_refused=reason[:500], mod_retry_at=retry_at)
        )


async def forget_post(store: Store, link_id: int, message_id: str) -> bool:
    """The moderator post of a pending submission is gone (deleted, or its channel is): the
    submission is posted again like a new one. True when this call forgot it (once)."""
    async with store.session() as s:
        result = await s.exec(
            sa.update(WorkLink)
            .where(
                col(WorkLink.id) == link_id,
                col(WorkLink.status) == LinkStatus.PENDING.value,
                col(WorkLink.mod_message_id) == message_id,
            )
            .values(mod_channel_id=None, mod_message_id=None, mod_url=None, posted_at=None)
            .returning(col(WorkLink.id))
        )
        return result.first() is not None


async def record_posted(
    store: Store, link_id: int, message_id: str | None, url: str | None, now: datetime, revision: int = 0
) -> bool:
    """Record the moderator post of a submission (None: posting failed, try again later), which
    shows the submission as it was at ``revision`` (a decision made meanwhile is shown later).

    False, recording nothing, when another post is recorded already: a post recorded late (the
    database was away) whose submission was posted again meanwhile leaves the new one alone; and
    so when this post was recorded meanwhile (the row is read locked, so two recordings at once,
    in two processes or two units of work, take turns: the second finds it recorded, and the
    submission's history says "posted" once)."""
    async with store.session() as s:
        link = await s.get(WorkLink, link_id, with_for_update=True)
        if link is None or link.mod_message_id not in (None, POSTING):
            return False
        link.mod_message_id = message_id
        link.mod_url = url
        for column, value in NOT_MOVING.items():
            setattr(link, column, value)
        if message_id is None:
            link.mod_channel_id = None
            link.posted_at = None
        else:
            # When it was taken, if it was: a channel setting changed while it was on its way is
            # newer than the post, so the post is moved (see bot.moderation.move_misplaced).
            link.posted_at = link.posted_at or now
            link.shown_revision = revision
            link.mod_refused = link.mod_retry_at = None
            s.add(history_event(link, "posted", now, None, ""))
        return True


async def record_shown(store: Store, link_id: int, revision: int) -> None:
    """The moderator post now shows the submission as it was at ``revision`` (never moves back:
    a slower edit of an older state does not undo the record of a newer one)."""
    async with store.session() as s:
        await s.exec(
            sa.update(WorkLink)
            .where(col(WorkLink.id) == link_id, col(WorkLink.shown_revision) < revision)
            .values(shown_revision=revision)
        )


async def posts_behind(store: Store, platforms: Sequence[str] | Scope, limit: int = BATCH) -> list[WorkLink]:
    """Submissions whose moderator post shows an older state than theirs (its edit failed, or a
    restart came between the decision and the edit), of the communities ``platforms`` serves;
    not those of a community that removed copbot (nothing there can be edited: they are, once
    it is added again)."""
    async with store.read() as s:
        return list(
            await s.exec(
                select(WorkLink)
                .where(
                    served(col(WorkLink.platform), col(WorkLink.community_id), platforms),
                    col(WorkLink.shown_revision) < col(WorkLink.revision),
                    col(WorkLink.mod_message_id).is_not(None),
                    col(WorkLink.mod_message_id) != POSTING,
                    ~removed_copbot(),
                )
                .order_by(col(WorkLink.id))
                .limit(limit)
            )
        )


async def unposted(
    store: Store, platform: str, community_id: str | None = None, now: datetime | None = None
) -> list[WorkLink]:
    """Pending submissions not yet posted to moderators (or whose posting was cut short); with
    ``now``, only those due: not refused for good, and not refused for their channel until
    their ``mod_retry_at`` (see :func:`record_refused`)."""
    async with store.read() as s:
        query = select(WorkLink).where(
            WorkLink.platform == platform,
            WorkLink.status == LinkStatus.PENDING.value,
            sa.or_(col(WorkLink.mod_message_id).is_(None), col(WorkLink.mod_message_id) == POSTING),
        )
        if now is not None:
            query = query.where(
                sa.or_(
                    col(WorkLink.mod_refused).is_(None),
                    sa.and_(col(WorkLink.mod_retry_at).is_not(None), col(WorkLink.mod_retry_at) <= now),
                )
            )
        if community_id is not None:
            query = query.where(WorkLink.community_id == community_id)
        return list(await s.exec(query.order_by(col(WorkLink.created_at), col(WorkLink.id))))


async def posted_channels(
    store: Store, platform: str, community_id: str | None = None
) -> list[tuple[str, str]]:
    """The (community, channel) pairs holding the moderator posts of pending submissions."""
    query = (
        select(WorkLink.community_id, WorkLink.mod_channel_id)
        .where(
            WorkLink.platform == platform,
            WorkLink.status == LinkStatus.PENDING.value,
            col(WorkLink.mod_channel_id).is_not(None),
            col(WorkLink.mod_message_id).is_not(None),
            col(WorkLink.mod_message_id) != POSTING,
        )
        .distinct()
    )
    if community_id is not None:
        query = query.where(WorkLink.community_id == community_id)
    async with store.read() as s:
        return [(community, channel) for community, channel in await s.exec(query) if channel]


async def posted_in(
    store: Store,
    platform: str,
    community_id: str,
    channel_id: str,
    before: datetime | None = None,
    due_at: datetime | None = None,
) -> list[WorkLink]:
    """A community's pending submissions whose moderator post is in ``channel_id``, oldest first;
    with ``before``, only the posts made no later than then; with ``due_at``, not those whose
    move the new channel refused until after then (see :func:`return_post`)."""
    query = select(WorkLink).where(
        WorkLink.platform == platform,
        WorkLink.community_id == community_id,
        WorkLink.status == LinkStatus.PENDING.value,
        WorkLink.mod_channel_id == channel_id,
        col(WorkLink.mod_message_id).is_not(None),
        col(WorkLink.mod_message_id) != POSTING,
    )
    if before is not None:
        query = query.where(sa.or_(col(WorkLink.posted_at).is_(None), col(WorkLink.posted_at) <= before))
    if due_at is not None:
        retry_at = col(WorkLink.mod_retry_at)
        query = query.where(sa.or_(retry_at.is_(None), retry_at <= due_at))
    async with store.read() as s:
        return list(await s.exec(query.order_by(col(WorkLink.created_at), col(WorkLink.id))))


async def release_stuck_posting(
    store: Store, platform: str, taken_before: datetime, community_id: str | None = None
) -> None:
    """A post taken before ``taken_before`` and never recorded was cut short by a crash, so it is
    posted again (never lost); younger ones belong to a live process.

    A move cut short gives the old post back, as a failed move does (:func:`return_post`): a
    pending submission is moved again at the next sweep, and a decision made meanwhile (by the old
    post's buttons) is shown on it by the catch-up (:func:`posts_behind`). With ``community_id``,
    only that community's."""
    async with store.session() as s:
        await s.exec(
            sa.update(WorkLink)
            .where(
                served(col(WorkLink.platform), col(WorkLink.community_id), {platform: community_id}),
                col(WorkLink.mod_message_id) == POSTING,
                sa.or_(col(WorkLink.posted_at).is_(None), col(WorkLink.posted_at) < taken_before),
            )
            .values(
                # None for a first post: posted again like a new one.
                mod_channel_id=col(WorkLink.moved_from_channel_id),
                mod_message_id=col(WorkLink.moved_from_message_id),
                mod_url=col(WorkLink.moved_from_url),
                posted_at=col(WorkLink.moved_from_posted_at),
                **NOT_MOVING,
            )
        )


async def record_refused(
    store: Store, link: WorkLink, reason: str, now: datetime, retry_at: datetime | None
) -> None:
    """The platform refused the moderator post of ``link`` (taken for posting) for good: it is
    given back unposted with ``reason``, in one unit of work.

    With ``retry_at`` (copbot may not post in the moderator channel, or it is gone: an admin can
    mend it), it is tried again then, and so is every other submission of its community waiting
    for a post: they would be refused alike, so none is tried before (a bounded pace, not every
    sweep). Without (the message itself was refused: it would be at every try), never again; its
    history says so once."""
    async with store.session() as s:
        row = await s.get(WorkLink, link.id)
        if row is None or row.mod_message_id != POSTING:
            return
        row.mod_channel_id = row.mod_message_id = row.mod_url = row.posted_at = None
        for column, value in NOT_MOVING.items():
            setattr(row, column, value)
        row.mod_refused, row.mod_retry_at = reason[:500], retry_at
        if retry_at is None:
            s.add(history_event(row, "post_refused", now, None, reason))
            return
        await s.exec(
            sa.update(WorkLink)
            .where(
                col(WorkLink.platform) == link.platform,
                col(WorkLink.community_id) == link.community_id,
                col(WorkLink.status) == LinkStatus.PENDING.value,
                col(WorkLink.mod_message_id).is_(None),
                col(WorkLink.id) != link.id,
                # Not those refused for the message itself: they are never tried again.
                sa.or_(col(WorkLink.mod_refused).is_(None), col(WorkLink.mod_retry_at).is_not(None)),
            )
            .values(mod_refused=reason[:500], mod_retry_at=retry_at)
        )


async def retry_refused(store: Store, platform: str, community_id: str | None, now: datetime) -> int:
    """The community's (None: the platform's) submissions waiting for a moderator channel that
    refused them are due now (a post there went through, an admin ran /setup, copbot restarted);
    returns how many. The moves of posts it refused are forgotten, not only due: the moderator
    channel may have been set back to the one they are in (a move refused again marks them
    again)."""
    async with store.session() as s:
        await s.exec(
            sa.update(WorkLink)
            .where(
                served(col(WorkLink.platform), col(WorkLink.community_id), {platform: community_id}),
                col(WorkLink.status) == LinkStatus.PENDING.value,
                col(WorkLink.mod_retry_at).is_not(None),
                col(WorkLink.mod_message_id).is_not(None),
                col(WorkLink.mod_message_id) != POSTING,
            )
            .values(mod_refused=None, mod_retry_at=None)
        )
        result = await s.exec(
            sa.update(WorkLink)
            .where(
                served(col(WorkLink.platform), col(WorkLink.community_id), {platform: community_id}),
                col(WorkLink.status) == LinkStatus.PENDING.value,
                col(WorkLink.mod_retry_at).is_not(None),
                col(WorkLink.mod_retry_at) > now,
            )
            .values(mod_retry_at=now)
            .returning(col(WorkLink.id))
        )
        return len(result.all())
