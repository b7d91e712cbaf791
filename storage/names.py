"""A member's stored display name brought up to date once they are seen under another one.

Claims, submissions and history entries keep the name their member had when they were written.
Renamed (a new nickname in a Discord server, a new Slack display name), a member would go on
showing under the old name on every card, list, history and moderator post until they renewed
a claim. :meth:`storage.store.Store.refresh_name` compares the name a member acts under with the
one their rows of that community hold: one indexed read, at most once per member in
``NAME_RECHECK`` seconds while the name stays the same, and one write only when a name differs.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlmodel import col

from storage.claims import Person
from storage.models import Claim, Event, LinkStatus, WorkLink

# Seconds a name a member was seen under (and found stored) is trusted before it is checked
# again: another process (a replica) may have stored another name meanwhile.
NAME_RECHECK = 600.0
# Seconds no name is checked after the database failed a check (unreachable, timed out): a
# command then waits for the database only for its own work, if it has any.
PAUSE_AFTER_FAILURE = 30.0
# Members whose last name is kept at most (the least recently seen dropped first).
NAMES_KEPT = 10_000

_P: sa.BindParameter[str] = sa.bindparam("b_platform")
_C: sa.BindParameter[str] = sa.bindparam("b_community")
_U: sa.BindParameter[str] = sa.bindparam("b_user")
_N: sa.BindParameter[str] = sa.bindparam("b_name")
# Their claims made in this community (read off ix_claim_user).
_THEIR_CLAIMS = (col(Claim.platform) == _P, col(Claim.community_id) == _C, col(Claim.user_id) == _U)
# Their submissions made in this community (ix_work_link_submitter).
_THEIR_LINKS = (col(WorkLink.platform) == _P, col(WorkLink.user_id) == _U, col(WorkLink.community_id) == _C)
# The submissions of this community they decided, as a moderator.
_THEIR_DECISIONS = (
    col(WorkLink.platform) == _P,
    col(WorkLink.community_id) == _C,
    col(WorkLink.decided_by_id) == _U,
)

# Whether any of their rows of this community shows another name.
OUTDATED = sa.select(
    sa.or_(
        sa.exists().where(*_THEIR_CLAIMS, col(Claim.display_name) != _N),
        sa.exists().where(*_THEIR_LINKS, col(WorkLink.display_name) != _N),
        sa.exists().where(*_THEIR_DECISIONS, col(WorkLink.decided_by_name) != _N),
    )
)

RENAME = (
    sa.update(Claim).where(*_THEIR_CLAIMS, col(Claim.display_name) != _N).values(display_name=_N),
    # A pending submission's moderator post names its submitter: edited again (at the next sweep
    # or press on it) once it shows an older revision than the submission's.
    sa.update(WorkLink)
    .where(*_THEIR_LINKS, col(WorkLink.display_name) != _N)
    .values(
        display_name=_N,
        revision=col(WorkLink.revision)
        + sa.case(
            (
                sa.and_(
                    col(WorkLink.status) == LinkStatus.PENDING.value,
                    col(WorkLink.mod_message_id).is_not(None),
                ),
                1,
            ),
            else_=0,
        ),
    ),
    sa.update(WorkLink)
    .where(*_THEIR_DECISIONS, col(WorkLink.decided_by_name) != _N)
    .values(decided_by_name=_N),
    # Their history entries about this community's claims and submissions (/history). Events
    # name no community: theirs are found by the claim or submission they are about.
    sa.update(Event)
    .where(
        col(Event.actor_platform) == _P,
        col(Event.actor_id) == _U,
        col(Event.actor_name) != _N,
        sa.or_(
            col(Event.claim_id).in_(sa.select(col(Claim.id)).where(*_THEIR_CLAIMS)),
            col(Event.link_id).in_(
                sa.select(col(WorkLink.id)).where(
                    col(WorkLink.platform) == _P, col(WorkLink.community_id) == _C
                )
            ),
        ),
    )
    .values(actor_name=_N),
)


def values(who: Person) -> dict[str, str]:
    """The parameters of :data:`OUTDATED` and :data:`RENAME` for ``who``."""
    return {
        "b_platform": who.platform,
        "b_community": who.community_id,
        "b_user": who.user_id,
        "b_name": who.display_name,
    }


def outdated(who: Person) -> Callable[[sa.Connection], bool]:
    """The read: whether a row of ``who`` in their community shows another name than theirs."""

    def work(conn: sa.Connection) -> bool:
        return bool(conn.execute(OUTDATED, values(who)).scalar())

    return work


def rename(who: Person) -> Callable[[sa.Connection], int]:
    """The write: every such row given ``who``'s name; how many rows changed."""

    def work(conn: sa.Connection) -> int:
        return sum(conn.execute(statement, values(who)).rowcount for statement in RENAME)

    return work
