"""Communities that removed copbot: recorded once, cleared on return, their pending submissions
closed so the same work can be submitted elsewhere (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import departures, posts, submissions
from storage.claims import Person
from storage.models import LinkStatus
from storage.store import Store
from tests.conftest import START

URL = "https://example.org/acronyms"
ANN = Person("discord", "g1", "ann", "Ann")
BOB = Person("discord", "g2", "bob", "Bob")
CAT = Person("slack", "T1", "cat", "Cat")


async def test_a_community_is_recorded_as_gone_once_and_back_once(store: Store) -> None:
    """The first removal is news (one log line); a second one, or a return of one never gone, is not.
    A community without settings (never /setup) is recorded all the same."""
    assert await departures.mark_left(store, "discord", "g1", START)
    assert not await departures.mark_left(store, "discord", "g1", START + timedelta(hours=1))
    assert await departures.left(store, ["discord", "slack"]) == {("discord", "g1")}
    assert await departures.left(store, ["slack"]) == set()

    assert await departures.mark_back(store, "discord", "g1")
    assert not await departures.mark_back(store, "discord", "g1")
    assert not await departures.mark_back(store, "discord", "g9")
    assert await departures.left(store, ["discord"]) == set()


async def test_only_the_gone_communitys_pending_submissions_close(store: Store) -> None:
    """Ann's (her server removed copbot) closes, with one history entry; Bob's and Cat's (still
    served) and Ann's approved one stay; the same link can then be submitted by Bob's server."""
    mine = await submissions.submit(store, "2.4", URL, "example.org/acronyms", "", ANN, START, 10)
    approved = await submissions.submit(store, "2.5", URL, "example.org/acronyms", "", ANN, START, 10)
    await submissions.decide(store, approved.id or 0, BOB, True, "", START)
    bobs = await submissions.submit(store, "2.6", URL, "example.org/acronyms", "", BOB, START, 10)
    cats = await submissions.submit(store, "2.7", URL, "example.org/acronyms", "", CAT, START, 10)
    with pytest.raises(submissions.DuplicateLink):
        await submissions.submit(store, "2.4", URL, "example.org/acronyms", "", BOB, START, 10)

    assert await posts.take_for_posting(store, mine.id or 0, "C1", START)
    assert await posts.record_posted(store, mine.id or 0, "M1", None, START)

    await departures.mark_left(store, "discord", "g1", START)
    later = START + timedelta(minutes=5)
    closed = await departures.close_submissions(store, ["discord", "slack"], later)

    assert [link.id for link in closed] == [mine.id]
    assert await departures.close_submissions(store, ["discord", "slack"], later) == []
    statuses = {
        link.id: (await submissions.get_link(store, link.id or 0)).status  # type: ignore[union-attr]
        for link in (mine, approved, bobs, cats)
    }
    assert statuses == {
        mine.id: LinkStatus.REJECTED,
        approved.id: LinkStatus.APPROVED,
        bobs.id: LinkStatus.PENDING,
        cats.id: LinkStatus.PENDING,
    }
    (entry,) = [e for e in await store.history("2.4") if e.kind == "rejected"]
    said = (entry.actor_name, entry.detail, entry.at)
    assert said == ("copbot", f"{URL} (the community removed copbot)", later)
    # Nothing to tell (the submitter is where copbot was removed), nor to edit while it is out.
    shut = await submissions.get_link(store, mine.id or 0)
    assert shut is not None and shut.shown_revision == 0 and shut.revision == 1
    assert mine.id not in [link.id for link in await posts.posts_behind(store, ["discord"])]
    await departures.mark_back(store, "discord", "g1")  # copbot added again: its post shows why
    assert mine.id in [link.id for link in await posts.posts_behind(store, ["discord"])]
    await departures.mark_left(store, "discord", "g1", later)
    assert mine.id not in [link.id for link in await submissions.take_notices(store, ["discord"], now=later)]
    again = await submissions.submit(store, "2.4", URL, "example.org/acronyms", "", BOB, later, 10)
    assert again.status == LinkStatus.PENDING
