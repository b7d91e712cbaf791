"""Submitters' notices: each taken once to be sent; one taken and never recorded (its sender died
with it, or lost the database) is taken back by a sweep STUCK_SENDING later, and not before."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.reminders import STUCK_SENDING
from storage import submissions
from storage.claims import Person
from storage.store import Store
from tests.conftest import START

ANN = Person("discord", "g1", "ann", "Ann")
BOB = Person("discord", "g1", "bob", "Bob")
MOD = Person("discord", "g1", "mod", "Mod")


async def decided(store: Store, who: Person, at: datetime) -> int:
    """A link of ``who``'s for 2.4, submitted and approved at ``at``: its notice due."""
    url = f"https://example.org/{who.user_id}"
    link = await submissions.submit(store, "2.4", url, f"example.org/{who.user_id}", "", who, at, 10)
    assert link.id is not None
    assert await submissions.decide(store, link.id, MOD, True, "", at) is not None
    return link.id


def sweep_at(now: datetime) -> dict[str, datetime]:
    """A sweep's take at ``now``, with the bound the runner gives it."""
    return {"now": now, "stuck_before": now - STUCK_SENDING}


async def test_a_notice_taken_and_never_recorded_is_taken_back_after_the_stuck_bound_only(
    store: Store,
) -> None:
    """Ann's and Bob's notices are taken at START; Ann's outcome is recorded, Bob's never is (the
    process sending it died, or the database failed before recording it). Sweeps within
    STUCK_SENDING of the taking leave Bob's be (it may be on its way), and so does the moderator's
    own request for it; the first sweep past the bound takes it back, at its own time, so a
    second sweep right after does not take it too; Ann's, recorded, is never taken again."""
    ann, bob = await decided(store, ANN, START), await decided(store, BOB, START)
    taken = await submissions.take_notices(store, ["discord"], now=START)
    assert [(link.id, link.notice, link.notice_at) for link in taken] == [
        (ann, "sending", START),
        (bob, "sending", START),
    ]
    await submissions.record_notice(store, ann, "dm")

    within = START + STUCK_SENDING - timedelta(minutes=1)
    assert await submissions.take_notices(store, ["discord"], **sweep_at(START + timedelta(minutes=10))) == []
    assert await submissions.take_notices(store, ["discord"], **sweep_at(within)) == []
    # The moderator's request after a decision takes that link's due notice, never a stuck one.
    late = START + 2 * STUCK_SENDING
    assert await submissions.take_notices(store, ["discord"], bob, now=late) == []

    past = START + STUCK_SENDING + timedelta(minutes=1)
    again = await submissions.take_notices(store, ["discord"], **sweep_at(past))
    assert [(link.id, link.notice, link.notice_at) for link in again] == [(bob, "sending", past)]
    next_sweep = past + timedelta(minutes=10)
    assert await submissions.take_notices(store, ["discord"], **sweep_at(next_sweep)) == []

    await submissions.record_notice(store, bob, "dm")
    assert await submissions.take_notices(store, ["discord"], **sweep_at(START + timedelta(days=1))) == []
    for link_id in (ann, bob):
        link = await submissions.get_link(store, link_id)
        assert link is not None and link.notice == "dm"


async def test_a_new_decision_clears_the_time_its_notice_was_last_taken(store: Store) -> None:
    """Ann's approval is told, then undone a day later: the undo's notice is due, not taken, and no
    time of a taking is left on it (one taken without a time, by a release before notice_at,
    would otherwise count from that old one and be taken back at once while being sent)."""
    ann = await decided(store, ANN, START)
    (taken,) = await submissions.take_notices(store, ["discord"], now=START)
    await submissions.record_notice(store, ann, "dm")
    assert taken.notice_at == START
    undone = await submissions.undo(store, ann, MOD, START + timedelta(days=1))
    assert undone is not None and (undone.notice, undone.notice_at) == ("retry", None)
