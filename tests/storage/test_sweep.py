"""The sweep's upkeep of the database: forgetting handled event ids a little at a time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from storage.store import Store
from storage.sweep import prune_processed
from tests.conftest import START


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
