"""The store's fast paths give the same answers as the slow ones, and never stall the bot.

On a SQLite file, claims, releases and card reads run right on the event loop on a connection
that does not wait for locks; these tests show what happens when another process holds the
write lock (the CLI importing, another bot process), and that rows turned into claims
and links the fast way are the same objects the ORM's constructor makes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from storage import submissions
from storage.claims import Person
from storage.engine import make_engine
from storage.models import Claim, Problem, ProcessedEvent, WorkLink, from_row
from storage.store import Store
from tests.conftest import START

ANN = Person("discord", "g1", "ann", "Ann")
BOB = Person("discord", "g1", "bob", "Bob")


async def test_a_claim_waits_for_another_process_s_write_lock_without_stalling_the_bot(
    sqlite_url: str,
) -> None:
    store = Store(make_engine(sqlite_url), state_ttl=0)
    path = sqlite_url.removeprefix("sqlite+aiosqlite:///")
    other = sqlite3.connect(path, isolation_level=None)  # another process, say the CLI importing
    try:
        await store.claim("2.4", ANN, START)  # opens the store's connections
        other.execute("BEGIN IMMEDIATE")  # holds SQLite's write lock
        other.execute("UPDATE problem SET existing_work = existing_work WHERE number = '1.1'")

        claiming = asyncio.create_task(store.claim("3.11", BOB, START + timedelta(minutes=1)))
        # The event loop keeps running: timers fire on time, cards are read (a WAL reader does
        # not wait for the writer), and the claim waits in the writer thread. (Waiting on the loop,
        # it would hold it up for the whole busy timeout, 30 s; a busy machine delays a timer by
        # a second at most.)
        for _ in range(5):
            started = time.monotonic()
            await asyncio.sleep(0.02)
            assert time.monotonic() - started < 5
        claims, _ = await store.problem_state("2.4")
        assert [c.display_name for c in claims if c.state == "active" and c.platform == "discord"] == ["Ann"]
        assert not claiming.done()
        assert store.inline_fallbacks == 1
        # A claim arriving meanwhile queues behind the waiting one instead of trying the lock.
        queued = asyncio.create_task(store.claim("1.1", ANN, START + timedelta(minutes=1)))
        await asyncio.sleep(0.05)
        assert not queued.done() and store.inline_fallbacks == 1

        other.execute("COMMIT")
        outcome = await asyncio.wait_for(claiming, 10)
        assert outcome.created
        assert (await asyncio.wait_for(queued, 10)).created
        assert store.inline_fallbacks == 1  # the queued claim ran on the event loop, after it
        claims, _ = await store.problem_state("3.11")
        assert [c.display_name for c in claims if c.state == "active" and c.platform == "discord"] == ["Bob"]

        # With the lock free again, the next write takes the fast path.
        await store.release("3.11", BOB, "", START + timedelta(minutes=2))
        assert store.inline_fallbacks == 1
    finally:
        other.close()
        await store.close()


async def test_a_card_read_that_misses_the_cache_finishes_without_waiting_for_the_event_loop(
    sqlite_url: str,
) -> None:
    store = Store(make_engine(sqlite_url), state_ttl=60.0)
    other = Store(make_engine(sqlite_url))  # another process
    try:
        await store.claim("2.4", ANN, START)  # opens the store's connections
        await other.claim("3.11", BOB, START)
        reading = store.problem_state("3.11")  # never read before
        # One step of the coroutine runs it to the end: no task, no turn of the loop in which
        # other requests would go first.
        try:
            reading.send(None)
        except StopIteration as finished:
            claims, _ = finished.value
        else:  # pragma: no cover - the failure this test exists for
            reading.close()
            raise AssertionError("the read waited for the event loop")
        assert [c.display_name for c in claims if c.platform == "discord"] == ["Bob"]
        assert store.inline_fallbacks == 0
    finally:
        await store.close()
        await other.close()


def _same(fast: SQLModel, slow: SQLModel) -> None:
    assert fast == slow
    assert fast.model_dump() == slow.model_dump()
    assert sa.inspect(fast).transient and sa.inspect(slow).transient


async def test_rows_turned_into_models_the_fast_way_equal_the_constructor_s(store: Store) -> None:
    await store.claim("2.4", ANN, START)
    await store.release("2.4", ANN, "moved on", START + timedelta(days=3))
    await store.claim("2.4", BOB, START + timedelta(days=4))
    url = "https://example.org/paper"
    link = await submissions.submit(store, "2.4", url, url, "a write-up", BOB, START, per_hour=10)
    assert link.id is not None
    await submissions.decide(store, link.id, ANN, True, "", START + timedelta(days=5))
    tables = {Claim: Claim.__table__, WorkLink: WorkLink.__table__, Problem: Problem.__table__}  # type: ignore[attr-defined]
    async with store.engine.connect() as conn:
        for model, table in tables.items():
            rows = (await conn.execute(sa.select(table).limit(50))).all()
            assert rows, model
            for row in rows:
                _same(from_row(model, row), model(**row._mapping))
    # Ended and open claims, with their dates and notes, as the card reads them.
    claims, links = await store.problem_state("2.4")
    assert [(link.url, link.note, link.decided_by_name) for link in links] == [(url, "a write-up", "Ann")]
    assert [(c.display_name, c.state, c.note) for c in claims if c.platform == "discord"] == [
        ("Bob", "active", ""),
        ("Ann", "released", "moved on"),
    ]
    assert all(c.claimed_at.tzinfo is not None for c in claims)


async def test_a_claim_written_the_fast_way_is_stored_as_the_orm_stores_one(sqlite_url: str) -> None:
    store = Store(make_engine(sqlite_url))
    try:
        await store.claim("2.4", ANN, START)  # the fast path: statements run on the connection itself
        async with store.session() as s:  # SQLAlchemy's whole pipeline
            s.add(
                Claim(
                    problem_number="2.4",
                    platform="discord",
                    community_id="g1",
                    user_id="bob",
                    display_name="Bob",
                    claimed_at=START,
                    renewed_at=START,
                )
            )
        path = sqlite_url.removeprefix("sqlite+aiosqlite:///")
        with sqlite3.connect(path) as raw:
            stored = raw.execute(
                "SELECT user_id, claimed_at, renewed_at, state, unreachable, date_known FROM claim"
                " WHERE problem_number = '2.4' AND platform = 'discord' ORDER BY user_id"
            ).fetchall()
        assert stored[0][1:] == stored[1][1:]  # same text for the same moment, same flags
        assert [row[0] for row in stored] == ["ann", "bob"]
        # Read back through the ORM and through the fast read: the same claims.
        orm = {c.user_id: c for c in await store.claims_for_problem("2.4") if c.platform == "discord"}
        fast, _ = await store.problem_state("2.4")
        assert {c.user_id: c for c in fast if c.platform == "discord"} == orm
        assert orm["ann"].claimed_at == START
    finally:
        await store.close()


ROOT = Path(__file__).resolve().parents[2]
FIRST_CLAIM = """
import asyncio, sys
from datetime import datetime, timezone
from storage.engine import make_engine
from storage.claims import Person
from storage.store import Store

async def main() -> None:
    store = Store(make_engine(sys.argv[1]))
    try:
        ann = Person("discord", "g1", "ann", "Ann")
        outcome = await store.claim("2.4", ann, datetime(2026, 1, 1, tzinfo=timezone.utc))
        print(outcome.claim.display_name, outcome.created)
    finally:
        await store.close()

asyncio.run(main())
"""


async def test_a_claim_works_as_a_new_process_s_first_database_work(sqlite_url: str) -> None:
    """Say a bot whose first interaction after a restart is a claim (no ORM query before it)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        FIRST_CLAIM,
        sqlite_url,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()[-2000:]
    assert out.decode().split() == ["Ann", "True"]


async def test_a_unit_of_work_that_fails_midway_writes_nothing(store: Store, db_url: str) -> None:
    """All or nothing, also when the unit ran a statement through SQLAlchemy before it failed;
    the store's next units of work are not held up by it."""

    def fails_midway(conn: sa.Connection) -> None:
        conn.execute(sa.insert(ProcessedEvent).values(key="half-done", at=START))
        raise RuntimeError("failed midway")

    def succeeds(conn: sa.Connection) -> None:
        conn.execute(sa.insert(ProcessedEvent).values(key="done", at=START))

    with pytest.raises(RuntimeError, match="failed midway"):
        await store.write(fails_midway)
    await store.write(succeeds)
    outcome = await store.claim("2.4", ANN, START)
    assert outcome.created
    assert await store.first_time("half-done", START)  # never written: recorded only now
    assert not await store.first_time("done", START)  # written, and kept
    other = Store(make_engine(db_url))  # another process, say: it sees what was committed
    try:
        assert [c.display_name for c in await other.claims_for_problem("2.4") if c.platform == "discord"] == [
            "Ann"
        ]
    finally:
        await other.close()
