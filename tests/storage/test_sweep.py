"""The sweep's upkeep of the database: forgetting handled event ids a little at a time; claims
going stale by their own community's stale_days, however many communities chose their own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from storage.claims import Person
from storage.models import CommunitySettings
from storage.store import Store
from storage.sweep import mark_stale, prune_processed, stale_overrides
from tests.conftest import START

# More communities with their own stale_days than SQLite's expression depth (1000) held when
# the sweep gave each its own condition, spread over every number of days /setup allows.
OWN_DAYS = 1_500


def own_days(k: int) -> int:
    """The stale_days community ``g{k}`` chose: 1 to 365, each several times."""
    return 1 + k % 365


async def set_own_stale_days(store: Store, platform: str = "discord") -> None:
    """:data:`OWN_DAYS` communities ``g0``, ``g1``… with their own stale_days, in one insert."""
    rows = [
        {"platform": platform, "community_id": f"g{k}", "stale_after_days": own_days(k), "updated_at": START}
        for k in range(OWN_DAYS)
    ]
    await store.execute(sa.insert(CommunitySettings), rows)


async def test_a_backlog_of_handled_ids_is_forgotten_in_short_batches(store: Store) -> None:
    """12 ids older than a week, 3 recent, batches of 5: three deletes (5, 5, 2), each committed
    on its own, so a /claim never waits behind the whole backlog; the recent ids stay."""
    for i in range(12):
        assert await store.first_time(f"slack:old{i}", START - timedelta(days=8, minutes=i))
    for i in range(3):
        assert await store.first_time(f"slack:new{i}", START - timedelta(days=6))

    deletes: list[int] = []
    commits: list[object] = []

    def executed(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            deletes.append(cursor.rowcount)

    def committed(conn: Any) -> None:
        commits.append(conn)

    engine = store.engine.sync_engine
    sa.event.listen(engine, "after_cursor_execute", executed)
    sa.event.listen(engine, "commit", committed)
    try:
        assert await prune_processed(store, START - timedelta(days=7), batch=5) == 12
    finally:
        sa.event.remove(engine, "after_cursor_execute", executed)
        sa.event.remove(engine, "commit", committed)

    assert deletes == [5, 5, 2] and len(commits) == 3
    assert all([await store.first_time(f"slack:old{i}", START) for i in range(12)])
    assert not any([await store.first_time(f"slack:new{i}", START) for i in range(3)])


async def test_claims_go_stale_by_their_communitys_days_among_1500_communities_with_their_own(
    store: Store,
) -> None:
    """1,500 communities chose their own stale_days (1 to 365): one sweep marks exactly the
    claims silent longer than their own community's days (7 days in g6, 200 in g199), or than the
    default 30 where the community chose none, and none a day short of it; a second finds none."""
    await set_own_stale_days(store)
    assert (own_days(6), own_days(199)) == (7, 200)
    now = START + timedelta(days=400)
    silent = {  # who: (community, days silent)
        "short": ("g6", 8),
        "short_not_yet": ("g6", 6),
        "long": ("g199", 201),
        "long_not_yet": ("g199", 199),
        "default": ("other", 31),
        "default_not_yet": ("other", 29),
    }
    for who, (community, days) in silent.items():
        await store.claim("2.4", Person("discord", community, who, who.title()), now - timedelta(days=days))

    overrides = await stale_overrides(store)
    assert len(overrides) == OWN_DAYS
    moved = await mark_stale(store, now, 30, ["discord"], overrides)

    members = [c for c in moved or [] if c.user_id]  # the others are the sheet's, stale by age
    assert sorted(c.user_id or "" for c in members) == ["default", "long", "short"]
    assert all(c.state == "stale" and c.delivery == "sending" for c in members)
    assert await mark_stale(store, now, 30, ["discord"], overrides) is None
    for who in ("short_not_yet", "long_not_yet", "default_not_yet"):
        community = silent[who][0]
        (held,) = await store.open_claims_for_user("discord", community, who)
        assert held.state == "active", who
