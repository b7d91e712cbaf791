"""The queries that grow with time use their indexes, on SQLite and PostgreSQL.

A problem's history and the handled event ids only grow; these tests fill them as weeks of use
would and read the plans of the statements the store really runs (captured as it runs them):
``/history`` takes a problem's latest entries off the end of ``ix_event_problem_at`` without
sorting the problem's whole history, and the hourly prune finds old ids by
``ix_processed_event_at`` instead of reading every row; a renamed member's own entries are
found by ``ix_event_actor``, not by reading everyone's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from storage.claims import Person
from storage.models import Event, ProcessedEvent
from storage.store import Store
from storage.sweep import prune_processed
from tests.conftest import START

ROWS = 20_000


async def _plans(store: Store, work: Callable[[], Awaitable[object]], table: str) -> list[str]:
    """The plans, as text, of the statements on ``table`` (reading it, or updating it) that
    ``work`` runs."""
    seen: list[tuple[str, Any]] = []

    def executed(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if f"FROM {table}" in statement or statement.startswith(f"UPDATE {table} "):
            seen.append((statement, parameters))

    # Every engine's: on SQLite the store writes through engines of its own threads.
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", executed)
    try:
        await work()
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", executed)
    explain = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
    plans = []
    async with store.engine.connect() as conn:
        for statement, parameters in seen:
            rows = (await conn.exec_driver_sql(explain + statement, parameters)).all()
            plans.append("\n".join(" ".join(str(v) for v in row) for row in rows))
    return plans


async def _analyze(store: Store) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(sa.text("ANALYZE"))


async def _fill_history(store: Store) -> None:
    """:data:`ROWS` history entries of a hundred members, on 2.4 (and one in 50 on 3.11)."""
    events = [
        {
            "problem_number": "2.4" if i % 50 else "3.11",
            "kind": "renewed",
            "at": START - timedelta(minutes=i),
            "actor_platform": "discord",
            "actor_id": f"u{i % 100}",
            "actor_name": f"user{i % 100}",
            "detail": "",
        }
        for i in range(ROWS)
    ]
    await store.execute(sa.insert(Event), events)


async def test_history_reads_the_latest_entries_off_the_index_without_sorting(store: Store) -> None:
    """20,000 entries on 2.4 (and a few elsewhere): the latest 200 come in index order."""
    await _fill_history(store)
    await _analyze(store)

    (plan,) = await _plans(store, lambda: store.history("2.4"), "event")

    assert "ix_event_problem_at" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan  # nothing sorted after reading
    latest = await store.history("2.4")
    assert len(latest) == 200 and latest[-1].at == START - timedelta(minutes=1)


async def test_the_prune_finds_old_event_ids_by_the_index(store: Store) -> None:
    """20,000 ids of the last week and 50 older: each batch of the prune finds its old ones by
    ``at``."""
    recent = [{"key": f"slack:new{i}", "at": START - timedelta(seconds=i)} for i in range(ROWS)]
    old = [{"key": f"slack:old{i}", "at": START - timedelta(days=8, seconds=i)} for i in range(50)]
    await store.execute(sa.insert(ProcessedEvent), recent + old)
    await _analyze(store)

    plans = await _plans(
        store, lambda: prune_processed(store, START - timedelta(days=7), batch=20), "processed_event"
    )

    assert len(plans) == 6  # three batches (20, 20, 10): the end of each, then its delete
    for plan in plans:
        assert "ix_processed_event_at" in plan, plan
        assert "SCAN processed_event" not in plan and "Seq Scan" not in plan, plan
    # The later batches start past the earlier ones (on PostgreSQL their deleted index entries
    # stay until VACUUM, and would be stepped over again).
    assert all("at>" in plan.replace(" ", "") for plan in plans[2:]), plans


async def test_a_rename_finds_the_members_history_entries_by_the_index(store: Store) -> None:
    """20,000 entries of a hundred members, and Ann's claim: renaming Ann (a command of hers under
    a new name) finds her entries by ``ix_event_actor`` without reading everyone's, and gives
    them the new name."""
    await _fill_history(store)
    await store.claim("2.4", Person("discord", "g1", "ann", "Ann"), START)
    await _analyze(store)

    (plan,) = await _plans(
        store, lambda: store.refresh_name(Person("discord", "g1", "ann", "Annie")), "event"
    )

    assert "ix_event_actor" in plan, plan
    assert "SCAN event" not in plan and "Seq Scan on event" not in plan, plan
    assert [e.actor_name for e in await store.history("2.4") if e.actor_id == "ann"] == ["Annie"]
