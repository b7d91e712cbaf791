"""Claims: who acts (:class:`Person`), what a claim comes to (:class:`ClaimOutcome`), and the
Core statements, built once, that claims, renewals, releases and card reads run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from storage.models import OPEN_CLAIM_STATES, Claim, ClaimState, Event, LinkStatus, WorkLink, from_row
from storage.units import _changed, _rows


@dataclass(frozen=True)
class Person:
    """Who does something: a user on a platform in a community."""

    platform: str
    community_id: str
    user_id: str
    display_name: str


class ClaimLimitReached(Exception):
    """A new claim refused: its claimant already holds ``limit`` open claims in the community
    (``held``: the problem numbers, oldest claim first). Nothing was written."""

    def __init__(self, held: list[str], limit: int) -> None:
        super().__init__(f"{len(held)} open claims held, at most {limit}")
        self.held = held
        self.limit = limit


@dataclass(frozen=True)
class ClaimOutcome:
    """The result of a claim: the claim as it is now, and whether it was new."""

    claim: Claim
    created: bool


def _their_claim(number: str, who: Person, now: datetime) -> dict[str, Any]:
    """The parameters naming ``who``'s open claim on ``number`` in the statements below."""
    return {
        "b_number": number,
        "b_platform": who.platform,
        "b_community": who.community_id,
        "b_user": who.user_id,
        "b_name": who.display_name,
        "b_now": now,
    }


_CLAIM_COLUMNS = tuple(Claim.__table__.c)  # type: ignore[attr-defined]
_CLAIM_COLUMN = {column.key: column for column in _CLAIM_COLUMNS}
# ``who``'s open claim on ``b_number`` made in any community of their platform (a Discord user id
# is the same in every server): at most one, by ``uq_claim_open_per_user``.
_THEIR_OPEN_CLAIM_ANYWHERE = (
    col(Claim.problem_number) == sa.bindparam("b_number"),
    col(Claim.platform) == sa.bindparam("b_platform"),
    col(Claim.user_id) == sa.bindparam("b_user"),
    # The states as SQL literals: a list of bound values would be re-rendered on every execution.
    col(Claim.state).in_([sa.literal_column(f"'{state}'") for state in OPEN_CLAIM_STATES]),
)
# The same, made in their community.
_THEIR_OPEN_CLAIM = (*_THEIR_OPEN_CLAIM_ANYWHERE, col(Claim.community_id) == sa.bindparam("b_community"))
# What a new or renewed claim holds apart from its dates: active, and no trace of a reminder.
_FRESH: dict[str, Any] = {
    "state": ClaimState.ACTIVE.value,
    "reminded_at": None,
    "unreachable": False,
    "delivery": "",
    "notice": "",
}
# Renewing a claim that is already fresh changes only its date (and the name shown): naming no
# other column lets SQLite leave the indexes on them alone (2 pages a renewal instead of 4).
_RENEW_FRESH = (
    sa.update(Claim)
    .where(
        *_THEIR_OPEN_CLAIM,
        *(
            _CLAIM_COLUMN[name].is_(None) if value is None else _CLAIM_COLUMN[name] == value
            for name, value in _FRESH.items()
        ),
    )
    .values(renewed_at=sa.bindparam("b_now"), display_name=sa.bindparam("b_name"))
    .returning(*_CLAIM_COLUMNS)
)
# Any other open claim (stale, reminded, its reminder under way) starts afresh.
_RENEW = (
    sa.update(Claim)
    .where(*_THEIR_OPEN_CLAIM)
    .values(renewed_at=sa.bindparam("b_now"), display_name=sa.bindparam("b_name"), **_FRESH)
    .returning(*_CLAIM_COLUMNS)
)
_INSERT_CLAIM = (
    sa.insert(Claim)
    .values(
        problem_number=sa.bindparam("b_number"),
        platform=sa.bindparam("b_platform"),
        community_id=sa.bindparam("b_community"),
        user_id=sa.bindparam("b_user"),
        display_name=sa.bindparam("b_name"),
        claimed_at=sa.bindparam("b_now"),
        renewed_at=sa.bindparam("b_now"),
        note="",
        date_known=True,
        source_text="",
        **_FRESH,
    )
    .returning(*_CLAIM_COLUMNS)
)
_RELEASE = (
    sa.update(Claim)
    .where(*_THEIR_OPEN_CLAIM)
    .values(state=ClaimState.RELEASED.value, ended_at=sa.bindparam("b_now"), note=sa.bindparam("b_note"))
    .returning(*_CLAIM_COLUMNS)
)
# The problems of ``who``'s open claims made in their community, oldest first (read off
# ``ix_claim_user``): what a community's max_claims counts.
_THEIR_OPEN_CLAIMS_HERE = (
    sa.select(col(Claim.problem_number))
    .where(
        col(Claim.platform) == sa.bindparam("b_platform"),
        col(Claim.community_id) == sa.bindparam("b_community"),
        col(Claim.user_id) == sa.bindparam("b_user"),
        col(Claim.state).in_([sa.literal_column(f"'{state}'") for state in OPEN_CLAIM_STATES]),
    )
    .order_by(col(Claim.claimed_at), col(Claim.id))
)
# On PostgreSQL, a lock on the claimant for the rest of the transaction, so that two new claims of
# theirs at once (two commands, two replicas) count each other's: the second counts after the
# first commits. SQLite needs none: a write transaction holds the database's one write lock.
_LOCK_CLAIMANT = sa.select(
    sa.func.pg_advisory_xact_lock(
        sa.func.hashtextextended(sa.literal("copbot:claims:") + sa.bindparam("b_key", type_=sa.String), 0)
    )
)
_EVENT_COLUMN = {column.key: column for column in Event.__table__.c}  # type: ignore[attr-defined]
_EVENT_KEYS = tuple(key for key in _EVENT_COLUMN if key != "id")
# A renewal's history entry, unless the claim was made or renewed earlier the same day (UTC):
# the dates a member reads are days, and claiming again and again (or pressing "Still on it")
# would otherwise push everything else off the problem's /history.
_INSERT_RENEWED = sa.insert(Event).from_select(
    list(_EVENT_KEYS),
    sa.select(*(sa.bindparam(f"e_{key}", type_=_EVENT_COLUMN[key].type) for key in _EVENT_KEYS)).where(
        ~sa.exists().where(
            col(Event.problem_number) == sa.bindparam("e_problem_number"),
            col(Event.at) >= sa.bindparam("e_day", type_=_EVENT_COLUMN["at"].type),
            col(Event.claim_id) == sa.bindparam("e_claim_id"),
            col(Event.kind).in_([sa.literal_column("'claimed'"), sa.literal_column("'renewed'")]),
        )
    ),
)
_FIND_THEIR_OPEN_CLAIM = sa.select(*_CLAIM_COLUMNS).where(*_THEIR_OPEN_CLAIM_ANYWHERE)
_INSERT_EVENT = sa.insert(Event)
# How many of a problem's ended claims its state holds (see Store.problem_state): the latest,
# by end date. A card shows them under its earlier claims, and says nothing of older ones.
STATE_ENDED = 5


def _claims_on(ended: int | None, *where: Any) -> Any:
    """The claims of problem ``b_number`` (``where`` narrowing them): all when ``ended`` is None;
    otherwise those without an end date (the open ones) and the latest ``ended`` with one.

    Read off ``ix_claim_problem_ended``: the claims without an end date lie together, and the
    latest ended ones at its end, so the cost does not grow with the problem's ended claims.
    Unordered.
    """
    on = (col(Claim.problem_number) == sa.bindparam("b_number"), *where)
    if ended is None:
        return sa.select(*_CLAIM_COLUMNS).where(*on)
    undated = sa.select(*_CLAIM_COLUMNS).where(*on, col(Claim.ended_at).is_(None))
    if ended == 0:
        return undated
    latest = (
        sa.select(*_CLAIM_COLUMNS)
        .where(*on, col(Claim.ended_at).is_not(None))
        .order_by(col(Claim.ended_at).desc(), col(Claim.id).desc())
        .limit(ended)
        .subquery()
    )
    return sa.union_all(undated, sa.select(*latest.c))


_STATE_CLAIMS = _claims_on(STATE_ENDED)
_STATE_LINKS = (
    sa.select(*WorkLink.__table__.c)  # type: ignore[attr-defined]
    .where(
        col(WorkLink.problem_number) == sa.bindparam("b_number"),
        col(WorkLink.status) == LinkStatus.APPROVED.value,
    )
    .order_by(col(WorkLink.decided_at), col(WorkLink.id))
)
_CLAIMED = sa.select(col(Claim.problem_number)).where(col(Claim.state).in_(OPEN_CLAIM_STATES)).distinct()
_CLAIM_BY_ID = sa.select(*_CLAIM_COLUMNS).where(col(Claim.id) == sa.bindparam("b_id"))


def _state_of(number: str) -> Callable[[sa.Connection], tuple[list[Claim], list[WorkLink]]]:
    """The read of a problem's state: its open claims, its latest ended ones (STATE_ENDED) and
    its approved links (unordered)."""

    def work(conn: sa.Connection) -> tuple[list[Claim], list[WorkLink]]:
        claims = [from_row(Claim, row) for row in _rows(conn, _STATE_CLAIMS, {"b_number": number})]
        links = [from_row(WorkLink, row) for row in _rows(conn, _STATE_LINKS, {"b_number": number})]
        return claims, links

    return work


def _renew(conn: sa.Connection, number: str, who: Person, now: datetime) -> Claim | None:
    """Renew ``who``'s open claim on ``number`` (history included); None if they hold none."""
    values = _their_claim(number, who, now)
    fresh = _rows(conn, _RENEW_FRESH, values)
    rows = fresh or _rows(conn, _RENEW, values)
    if not rows:
        return None
    claim = from_row(Claim, rows[0])
    event = _event_values(number, "renewed", now, who, claim_id=claim.id)
    if fresh:  # a claim taken back from a reminder or staleness is always news
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        _changed(conn, _INSERT_RENEWED, {"e_day": day, **{f"e_{key}": value for key, value in event.items()}})
    else:
        _rows(conn, _INSERT_EVENT, event)
    return claim


def _renew_anywhere(conn: sa.Connection, number: str, who: Person, now: datetime) -> Claim | None:
    """Renew ``who``'s open claim on ``number``, made in their community or in another of their
    platform's (keeping the name it shows there); None if they hold none."""
    renewed = _renew(conn, number, who, now)
    if renewed is not None:
        return renewed
    found = _rows(conn, _FIND_THEIR_OPEN_CLAIM, _their_claim(number, who, now))
    if not found:
        return None
    there = Person(who.platform, found[0]["community_id"], who.user_id, found[0]["display_name"])
    return _renew(conn, number, there, now)


def _lock_claimant(conn: sa.Connection, who: Person) -> None:
    """On PostgreSQL, lock ``who`` until the transaction ends (see _LOCK_CLAIMANT). Taken before
    their claim is looked for to renew: a claim of theirs on the same problem committed meanwhile
    (a double click, through two replicas) is then renewed, not counted against them."""
    if conn.dialect.name == "postgresql":
        key = "\x1f".join((who.platform, who.community_id, who.user_id))
        conn.execute(_LOCK_CLAIMANT, {"b_key": key})


def _check_limit(conn: sa.Connection, who: Person, limit: int) -> None:
    """Raise ClaimLimitReached when ``who`` holds ``limit`` open claims in their community or more
    (under :func:`_lock_claimant`, taken first)."""
    values = {"b_platform": who.platform, "b_community": who.community_id, "b_user": who.user_id}
    held = [row["problem_number"] for row in _rows(conn, _THEIR_OPEN_CLAIMS_HERE, values)]
    if len(held) >= limit:
        raise ClaimLimitReached(held, limit)


def _event_values(
    number: str,
    kind: str,
    at: datetime,
    who: Person | None,
    *,
    detail: str = "",
    claim_id: int | None = None,
    link_id: int | None = None,
) -> dict[str, Any]:
    """The columns of a history entry."""
    return {
        "problem_number": number,
        "kind": kind,
        "at": at,
        "actor_platform": who.platform if who else "",
        "actor_id": who.user_id if who else None,
        "actor_name": who.display_name if who else "",
        "detail": detail,
        "claim_id": claim_id,
        "link_id": link_id,
    }
