"""Submitted links to existing work: stored before they are posted, decided exactly once.

Duplicates are refused by a unique index on (problem, normalised link) over pending and approved
rows; decisions and undos are guarded updates on the status, so a double click, two moderators at
once, a replayed event or a retry change a submission once and record it once in the history.

What a decision sets off outside the database is recorded in the same update, so nothing is lost
to a failed call or a restart: ``revision`` moves ahead of the ``shown_revision`` of the moderator
post (edited until it catches up: an edit can be repeated), and the submitter's ``notice`` becomes
due (taken once to be sent, as a claim's reminder is: at most once, retried only when certainly
not sent, or when whoever took it never recorded how it went, a while later: see
:func:`take_notices`).

The moderator post of each submission (posting it once, moving it, keeping it up to date) is
:mod:`storage.posts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.claims import Person
from storage.departures import removed_copbot
from storage.models import Event, LinkStatus, WorkLink
from storage.scope import Scope, served
from storage.store import Store

BATCH = 500


class DuplicateLink(Exception):
    """The same work is already pending or approved for this problem."""

    def __init__(self, existing: WorkLink) -> None:
        """Keep the existing submission."""
        super().__init__(existing.url)
        self.existing = existing


class TooManySubmissions(Exception):
    """The user reached the hourly limit; ``retry_at`` is when the oldest submission of the
    last hour leaves it (the limit counts a rolling hour)."""

    def __init__(self, per_hour: int, retry_at: datetime) -> None:
        """Keep the limit and when a submission is taken again."""
        super().__init__(per_hour, retry_at)
        self.per_hour = per_hour
        self.retry_at = retry_at


def history_event(link: WorkLink, kind: str, at: datetime, who: Person | None, detail: str = "") -> Event:
    return Event(
        problem_number=link.problem_number,
        kind=kind,
        at=at,
        actor_platform=who.platform if who else link.platform,
        actor_id=who.user_id if who else link.user_id,
        actor_name=who.display_name if who else link.display_name,
        detail=detail,
        link_id=link.id,
    )


async def submit(
    store: Store, number: str, url: str, normalized: str, note: str, who: Person, now: datetime, per_hour: int
) -> WorkLink:
    """Store a pending submission; DuplicateLink or TooManySubmissions when refused."""
    try:
        async with store.session() as s:
            if store.dialect == "postgresql":
                # Serialise one user's submissions so the hourly count cannot be raced past.
                key = f"submit:{who.platform}:{who.user_id}"
                lock = sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))").bindparams(key=key)
                await (await s.connection()).execute(lock)
            window = (
                select(col(WorkLink.created_at))
                .where(
                    WorkLink.platform == who.platform,
                    WorkLink.user_id == who.user_id,
                    col(WorkLink.created_at) > now - timedelta(hours=1),
                )
                .order_by(col(WorkLink.created_at).desc())
                .limit(max(per_hour, 1))
            )
            recent = list(await s.exec(window))
            if len(recent) >= per_hour:
                # A submission is taken again once the per_hour-th newest of them is an hour old.
                raise TooManySubmissions(per_hour, (recent[-1] if recent else now) + timedelta(hours=1))
            link = WorkLink(
                problem_number=number,
                url=url,
                normalized_url=normalized,
                note=note,
                platform=who.platform,
                community_id=who.community_id,
                user_id=who.user_id,
                display_name=who.display_name,
                created_at=now,
            )
            s.add(link)
            await s.flush()
            s.add(history_event(link, "submitted", now, who, url))
            return link
    except IntegrityError:
        existing = await find_live(store, number, normalized)
        if existing is None:  # pragma: no cover - decided between the insert and the lookup
            raise
        raise DuplicateLink(existing) from None


async def find_live(store: Store, number: str, normalized: str) -> WorkLink | None:
    """The pending or approved submission of this work for this problem."""
    async with store.read() as s:
        return (
            await s.exec(
                select(WorkLink).where(
                    WorkLink.problem_number == number,
                    WorkLink.normalized_url == normalized,
                    col(WorkLink.status).in_([LinkStatus.PENDING.value, LinkStatus.APPROVED.value]),
                )
            )
        ).first()


async def rejected_before(store: Store, link: WorkLink) -> WorkLink | None:
    """The latest rejection of the same work for the same problem by a moderator (not one closed
    by copbot when its community removed it), submitted before ``link``."""
    async with store.read() as s:
        return (
            await s.exec(
                select(WorkLink)
                .where(
                    WorkLink.problem_number == link.problem_number,
                    WorkLink.normalized_url == link.normalized_url,
                    WorkLink.status == LinkStatus.REJECTED.value,
                    col(WorkLink.decided_by_id).is_not(None),
                    col(WorkLink.id) < (link.id or 0),
                )
                .order_by(col(WorkLink.decided_at).desc(), col(WorkLink.id).desc())
            )
        ).first()


async def was_undone(store: Store, link: WorkLink) -> bool:
    """Whether a decision on ``link`` was ever undone (its history says so): a pending link's
    revision moves for a renamed submitter too, so it alone does not tell."""
    async with store.read() as s:
        found = await s.exec(
            select(Event.id)
            .where(
                Event.problem_number == link.problem_number,
                Event.link_id == link.id,
                Event.kind == "undone",
            )
            .limit(1)
        )
        return found.first() is not None


async def approved_for(store: Store, normalized: str) -> list[str]:
    """The problems an approved submission of this work (its normalised link) belongs to."""
    async with store.read() as s:
        rows = await s.exec(
            select(WorkLink.problem_number).where(
                WorkLink.normalized_url == normalized, WorkLink.status == LinkStatus.APPROVED.value
            )
        )
        return list(rows)


async def get_link(store: Store, link_id: int) -> WorkLink | None:
    """One submission by id."""
    async with store.read() as s:
        return await s.get(WorkLink, link_id)


async def take_notices(
    store: Store,
    platforms: Sequence[str] | Scope,
    link_id: int | None = None,
    limit: int = BATCH,
    *,
    now: datetime,
    stuck_before: datetime | None = None,
) -> list[WorkLink]:
    """Take the submitters' notices that are due (``notice = "retry"``: just decided, or refused
    earlier, or given back unsent), all of those of the communities ``platforms`` serves or only
    ``link_id``'s, to send them: each is taken once (``"sending"``, ``notice_at = now``), so the
    moderator's own request and a sweep never both send it.

    With ``stuck_before`` (a sweep's), those too that were taken before then and whose outcome was
    never recorded: whoever took them died (a crash, a kill, a redeploy) or lost the database
    before recording them, perhaps after sending them, and nobody else will. They are sent again
    (a second DM harms less than a submitter never told), taken afresh at ``now``, so no other
    sweep takes them back while this one sends them.

    Not those of a community that removed copbot: its submitters are out of copbot's reach
    there (a DM refused, its reminder channel too), at every sweep; they are told once copbot
    is added again."""
    due_now: sa.ColumnElement[bool] = col(WorkLink.notice) == "retry"
    if stuck_before is not None:
        # A notice taken without a time (before notice_at, or by a replica on the release before
        # it, still running while the new ones start) counts from its decision; an undo's, which
        # has no decision time, from the submission.
        since = sa.func.coalesce(col(WorkLink.notice_at), col(WorkLink.decided_at), col(WorkLink.created_at))
        due_now = sa.or_(due_now, sa.and_(col(WorkLink.notice) == "sending", since < stuck_before))
    async with store.session() as s:
        due = select(WorkLink.id).where(
            due_now,
            served(col(WorkLink.platform), col(WorkLink.community_id), platforms),
            ~removed_copbot(),
        )
        if link_id is not None:
            due = due.where(WorkLink.id == link_id)
        ids = list(await s.exec(due.order_by(col(WorkLink.id)).limit(limit)))
        if not ids:
            return []
        return list(
            (
                await s.exec(
                    # Still due: another sweep or request may have taken it meanwhile (and set its time).
                    sa.update(WorkLink)
                    .where(col(WorkLink.id).in_(ids), due_now)
                    .values(notice="sending", notice_at=now)
                    .returning(WorkLink)
                )
            ).scalars()
        )


async def record_notice(store: Store, link_id: int, how: str) -> None:
    """Record how a taken notice went: "dm", "unreachable", "failed", or "retry" (send again)."""
    await record_notices(store, [link_id], how)


async def record_notices(store: Store, link_ids: Sequence[int], how: str) -> None:
    """Record one outcome for several taken notices, in one update (e.g. "retry": give back those
    a sender took and did not send, for the next sweep)."""
    if not link_ids:
        return
    async with store.session() as s:
        await s.exec(
            sa.update(WorkLink)
            .where(col(WorkLink.id).in_(list(link_ids)), col(WorkLink.notice) == "sending")
            .values(notice=how)
        )


async def pending(
    store: Store, platform: str, community_id: str, user_id: str | None = None
) -> list[WorkLink]:
    """A community's pending submissions (only ``user_id``'s, when given), oldest first."""
    mine = [WorkLink.user_id == user_id] if user_id is not None else []
    async with store.read() as s:
        return list(
            await s.exec(
                select(WorkLink)
                .where(
                    WorkLink.platform == platform,
                    WorkLink.community_id == community_id,
                    WorkLink.status == LinkStatus.PENDING.value,
                    *mine,
                )
                .order_by(col(WorkLink.created_at), col(WorkLink.id))
            )
        )


async def submitted_by(store: Store, who: Person, number: str) -> list[WorkLink]:
    """``who``'s submissions for problem ``number`` in their community, newest first."""
    async with store.read() as s:
        return list(
            await s.exec(
                select(WorkLink)
                .where(
                    WorkLink.platform == who.platform,
                    WorkLink.community_id == who.community_id,
                    WorkLink.user_id == who.user_id,
                    WorkLink.problem_number == number,
                )
                .order_by(col(WorkLink.created_at).desc(), col(WorkLink.id).desc())
            )
        )


async def decide(
    store: Store, link_id: int, who: Person, approve: bool, reason: str, now: datetime
) -> WorkLink | None:
    """Approve or reject a pending submission; None when it was not pending (decided already)."""
    status = LinkStatus.APPROVED if approve else LinkStatus.REJECTED
    return await _close(store, link_id, who, now, status, reason=reason, notice="retry")


async def withdraw(store: Store, link_id: int, who: Person, now: datetime) -> WorkLink | None:
    """The submitter takes back their pending submission; None when it was not pending (decided
    or withdrawn already) or is not theirs. Recorded as a decision by the submitter, so the
    moderator post is brought up to date (``revision``) and stops offering a decision; nobody is
    notified (``notice`` stays empty): the submitter is told in the answer."""
    theirs = (col(WorkLink.platform) == who.platform, col(WorkLink.user_id) == who.user_id)
    return await _close(store, link_id, who, now, LinkStatus.WITHDRAWN, *theirs, reason="", notice="")


async def _close(
    store: Store,
    link_id: int,
    who: Person,
    now: datetime,
    status: LinkStatus,
    *guards: sa.ColumnElement[bool],
    reason: str,
    notice: str,
) -> WorkLink | None:
    """Move a pending submission (that ``guards`` also hold for) to ``status`` as decided by
    ``who``, with its history event (its detail: the link, and the reason in brackets); None
    when it was not pending, or a guard failed."""
    async with store.session() as s:
        result = await s.exec(
            sa.update(WorkLink)
            .where(col(WorkLink.id) == link_id, col(WorkLink.status) == LinkStatus.PENDING.value, *guards)
            .values(
                status=status.value,
                decided_by_id=who.user_id,
                decided_by_name=who.display_name,
                decided_at=now,
                reason=reason,
                revision=col(WorkLink.revision) + 1,
                notice=notice,
                notice_at=None,  # a new notice (or none): not taken yet
            )
            .returning(col(WorkLink.id))
        )
        if result.first() is None:
            return None
        link = await s.get(WorkLink, link_id, populate_existing=True)
        assert link is not None
        s.add(history_event(link, status.value, now, who, link.url + (f" ({reason})" if reason else "")))
        return link


# A decision's notice states in which the submitter was certainly not told of it.
NEVER_TOLD = ("retry", "unreachable")


async def undo(
    store: Store, link_id: int, who: Person, now: datetime, revision: int | None = None
) -> WorkLink | None:
    """Return a decided submission to pending; None when it is pending already, or when
    ``revision`` (the decision's, as its Undo button names it) is given and is no longer the
    submission's: an Undo shown for one decision never undoes a newer one.

    Raises DuplicateLink when the same work was submitted again meanwhile and is live.
    """
    try:
        async with store.session() as s:
            before = await s.get(WorkLink, link_id)
            was = before.status if before else ""
            result = await s.exec(
                sa.update(WorkLink)
                .where(
                    col(WorkLink.id) == link_id,
                    col(WorkLink.status).in_([LinkStatus.APPROVED.value, LinkStatus.REJECTED.value]),
                    *([col(WorkLink.revision) == revision] if revision is not None else []),
                )
                .values(
                    status=LinkStatus.PENDING.value,
                    decided_by_id=None,
                    decided_by_name=None,
                    decided_at=None,
                    reason="",
                    revision=col(WorkLink.revision) + 1,
                    # The submitter hears of the undo only when they may have heard of the
                    # decision: its notice not sent yet ("retry") or unable to reach them
                    # ("unreachable") is dropped, and no undo notice follows it.
                    notice=sa.case((col(WorkLink.notice).in_(NEVER_TOLD), ""), else_="retry"),
                    notice_at=None,
                )
                .returning(col(WorkLink.id))
            )
            if result.first() is None:
                return None
            link = await s.get(WorkLink, link_id, populate_existing=True)
            assert link is not None
            s.add(history_event(link, "undone", now, who, f"{link.url} was {was}"))
            return link
    except IntegrityError:
        link = await get_link(store, link_id)
        live = await find_live(store, link.problem_number, link.normalized_url) if link else None
        if live is None:  # pragma: no cover
            raise
        raise DuplicateLink(live) from None
