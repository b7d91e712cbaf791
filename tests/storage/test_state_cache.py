"""What a card shows and when, with problem states served from memory; events applied once.

Two Store objects on one database stand for two processes (replicas, or the bot and the CLI).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from storage.claims import _CLAIMED, _STATE_CLAIMS, STATE_ENDED, Person
from storage.engine import make_engine
from storage.models import LEGACY_PLATFORM, Claim, ClaimState, Event, ProcessedEvent
from storage.state_cache import SETTINGS_KEPT
from storage.store import Store
from storage.units import AlreadyApplied
from tests.conftest import START
from tests.support.claims import plant_ended

ANN = Person("discord", "g1", "ann", "Ann")
BOB = Person("slack", "T1", "bob", "Bob")


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def pair(db_url: str) -> AsyncIterator[tuple[Store, Store, Ticks]]:
    """This process's store (2 s state cache on a test clock) and another process's."""
    ticks = Ticks()
    here = Store(make_engine(db_url), state_ttl=2.0, monotonic=ticks)
    there = Store(make_engine(db_url))
    yield here, there, ticks
    await here.close()
    await there.close()


def holders(state: tuple[list[Claim], object]) -> list[str]:
    """Who holds the problem through the bot (the sheet's old claims left out)."""
    return [
        c.display_name
        for c in state[0]
        if c.state in (ClaimState.ACTIVE, ClaimState.STALE) and c.platform != LEGACY_PLATFORM
    ]


async def test_own_changes_show_at_once_another_process_s_within_a_second_on_sqlite_or_the_ttl(
    pair: tuple[Store, Store, Ticks],
) -> None:
    """SQLite counts the commits of other connections (looked at before a cached state is
    served, at most once a second); PostgreSQL has no such counter, so there a cached state
    stands until the TTL (2 s here)."""
    here, there, ticks = pair
    window = 1.0 if here.dialect == "sqlite" else 2.0
    assert holders(await here.problem_state("3.11")) == []  # now cached
    await here.claim("3.11", ANN, START)
    assert holders(await here.problem_state("3.11")) == ["Ann"]  # this process's claim: at once

    await there.claim("3.11", BOB, START + timedelta(minutes=1))  # another process
    ticks.now += window - 0.1
    assert holders(await here.problem_state("3.11")) == ["Ann"]
    ticks.now += 0.2
    assert holders(await here.problem_state("3.11")) == ["Ann", "Bob"]  # read again

    await there.release("3.11", BOB, "done", START + timedelta(minutes=2))
    await here.release("3.11", ANN, "", START + timedelta(minutes=3))
    # This process's release shows at once, the other's within the window.
    assert holders(await here.problem_state("3.11")) == ["Bob"]
    ticks.now += window
    assert holders(await here.problem_state("3.11")) == []


async def test_on_sqlite_a_cached_state_is_served_until_another_connection_commits(
    sqlite_url: str,
) -> None:
    ticks = Ticks()
    here = Store(make_engine(sqlite_url), state_ttl=2.0, monotonic=ticks)
    there = Store(make_engine(sqlite_url))
    try:
        await here.claim("3.11", ANN, START)
        first, _ = await here.problem_state("3.11")
        claimed = await here.claimed_numbers()
        ticks.now += 3600  # far past the TTL, and nothing else committed: the same objects
        again, _ = await here.problem_state("3.11")
        assert [id(c) for c in again] == [id(c) for c in first]
        assert await here.claimed_numbers() == claimed

        await there.claim("2.4", BOB, START)  # another process, another problem
        again, _ = await here.problem_state("3.11")
        assert [id(c) for c in again] == [id(c) for c in first]  # the count was read just now
        ticks.now += 1.0  # looked at again: it moved, so everything is read again
        again, _ = await here.problem_state("3.11")
        assert [c.id for c in again] == [c.id for c in first]
        assert not {id(c) for c in again} & {id(c) for c in first}
        assert await here.claimed_numbers() == claimed | {"2.4"}

        async with here.session() as s:  # this process, but on another connection (the sweep's)
            s.add(Event(problem_number="3.11", kind="note", at=START, actor_platform="discord"))
        cached, _ = await here.problem_state("3.11")
        assert not {id(c) for c in cached} & {id(c) for c in again}
    finally:
        await here.close()
        await there.close()


async def test_a_renewal_replaces_the_cached_claim(pair: tuple[Store, Store, Ticks]) -> None:
    here, _, _ = pair
    await here.claim("2.4", ANN, START)
    await here.problem_state("2.4")
    renewed = await here.claim("2.4", ANN, START + timedelta(days=3))
    assert not renewed.created
    claims, _ = await here.problem_state("2.4")
    ours = [(c.display_name, c.renewed_at) for c in claims if c.platform != LEGACY_PLATFORM]
    assert ours == [("Ann", START + timedelta(days=3))]


async def test_other_writes_forget_every_cached_state(pair: tuple[Store, Store, Ticks]) -> None:
    """A sweep, an approval, an import… (any unit of work not naming its problem)."""
    here, there, ticks = pair
    claimed = await here.claimed_numbers()
    free = next(p.number for p in await here.catalogue() if p.number not in claimed)
    ticks.now += 2.0  # the claimed set read just now has expired
    await there.claim(free, BOB, START)
    assert holders(await here.problem_state(free)) == ["Bob"]
    assert free in await here.claimed_numbers()
    await there.release(free, BOB, "", START)
    async with here.session() as s:  # e.g. the sweep of this process
        await s.exec(select(Claim.id))
    assert holders(await here.problem_state(free)) == []
    assert free not in await here.claimed_numbers()


async def test_this_process_s_claims_and_releases_keep_the_claimed_set_without_reading_it_again(
    pair: tuple[Store, Store, Ticks],
) -> None:
    """/random reads the claimed numbers: after a claim or a release made here (the problem's
    state cached, as when its card was just shown) they are what the database holds, not read
    again; a release leaves a problem claimed while someone else still holds it."""
    here, there, _ = pair
    claimed = await here.claimed_numbers()
    free = next(p.number for p in await here.catalogue() if p.number not in claimed)
    cara = Person("discord", "g1", "cara", "Cara")
    reads: list[str] = []

    def executed(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "DISTINCT" in statement.upper():
            reads.append(statement)

    async def claimed_now() -> set[str]:
        """The cached set, checked against the database."""
        cached = await here.claimed_numbers()
        async with there.engine.connect() as conn:
            assert cached == set((await conn.execute(_CLAIMED)).scalars())
        return cached

    await here.problem_state(free)
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", executed)
    try:
        await here.claim(free, ANN, START)
        assert free in await claimed_now()
        await here.claim(free, cara, START)
        await here.release(free, ANN, "", START + timedelta(hours=1))
        assert free in await claimed_now()  # Cara still holds it
        await here.release(free, cara, "", START + timedelta(hours=2))
        assert free not in await claimed_now()
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", executed)
    assert len(reads) == 3  # the checks' own: none by the store


async def test_a_claim_and_release_here_do_not_keep_another_process_s_release_from_the_claimed_set(
    pair: tuple[Store, Store, Ticks],
) -> None:
    """Bob's claim shows on a card here; he releases it through another process. Ann then claims
    and releases it here: the claimed numbers were put back with the card's older state (Bob still
    on it), yet kept as long as the newer claimed set read after his release, so /random unclaimed
    skipped the problem, and called it claimed, past the TTL after his release (2 s here; 3 s in
    this test). Another process's change shows within the TTL in the claimed numbers too."""
    here, there, ticks = pair
    taken = await there.claimed_numbers()
    free = next(p.number for p in await here.catalogue() if p.number not in taken)
    await there.claim(free, BOB, START)
    assert holders(await here.problem_state(free)) == ["Bob"]  # the card, cached
    await there.release(free, BOB, "", START + timedelta(minutes=1))
    ticks.now += 1.5
    assert free not in await here.claimed_numbers()  # read after his release
    await here.claim(free, ANN, START + timedelta(minutes=2))
    await here.release(free, ANN, "", START + timedelta(minutes=3))
    ticks.now += 1.5  # 3 s after Bob's release, past the TTL
    assert free not in await here.claimed_numbers()
    assert holders(await here.problem_state(free)) == []


async def test_settings_read_on_every_card_are_kept_until_a_change(pair: tuple[Store, Store, Ticks]) -> None:
    """/help and cards with a sheet claim read the community's stale_days: kept like a state.
    This process's /setup shows at once; another process's within the window (SQLite: once it
    commits, looked at once a second; PostgreSQL: the 2 s TTL); a claim leaves them kept."""
    here, there, ticks = pair
    window = 1.0 if here.dialect == "sqlite" else 2.0
    assert await here.recent_settings("discord", "g1") is None  # kept: no row
    await here.update_settings("discord", "g1", START, stale_after_days=9)
    first = await here.recent_settings("discord", "g1")
    assert first is not None and first.stale_after_days == 9  # this process's change: at once
    await here.claim("3.11", ANN, START)  # a change naming a problem keeps them
    assert await here.recent_settings("discord", "g1") is first

    await there.update_settings("discord", "g1", START, stale_after_days=4)
    ticks.now += window - 0.1
    kept = await here.recent_settings("discord", "g1")
    assert kept is not None and kept.stale_after_days == 9
    ticks.now += 0.2
    fresh = await here.recent_settings("discord", "g1")
    assert fresh is not None and fresh.stale_after_days == 4
    assert (await here.recent_settings("slack", "g1")) is None  # by platform and community


async def test_settings_of_many_communities_are_kept_within_a_bound(pair: tuple[Store, Store, Ticks]) -> None:
    """On a SQLite file every kept entry stays live until another connection commits, so the
    bound dropped none of them: a bot in thousands of servers kept every server's row."""
    here, _, _ = pair
    for i in range(SETTINGS_KEPT + 5):
        await here.recent_settings("discord", f"g{i}")
    assert len(here._states.settings) <= SETTINGS_KEPT


async def test_reads_in_flight_while_a_claim_commits_still_show_the_claim(db_url: str) -> None:
    store = Store(make_engine(db_url), state_ttl=60.0)
    try:
        reads = [asyncio.create_task(store.problem_state("3.11")) for _ in range(5)]
        await store.claim("3.11", ANN, START)
        await asyncio.gather(*reads)
        assert holders(await store.problem_state("3.11")) == ["Ann"]
    finally:
        await store.close()


async def test_a_zero_ttl_reads_every_time(db_url: str) -> None:
    here, there = Store(make_engine(db_url), state_ttl=0), Store(make_engine(db_url))
    try:
        assert holders(await here.problem_state("3.11")) == []
        await there.claim("3.11", BOB, START)
        assert holders(await here.problem_state("3.11")) == ["Bob"]
    finally:
        await here.close()
        await there.close()


async def events(store: Store, kind: str) -> int:
    """History entries of ``kind`` made through the bot."""
    async with store.read() as s:
        found = await s.exec(
            select(Event.id).where(Event.kind == kind, Event.actor_platform != LEGACY_PLATFORM)
        )
        return len(list(found))


async def recorded(store: Store, key: str) -> bool:
    async with store.read() as s:
        return (
            await s.exec(select(ProcessedEvent.key).where(col(ProcessedEvent.key) == key))
        ).first() is not None


async def test_an_event_is_applied_once_across_processes(pair: tuple[Store, Store, Ticks]) -> None:
    """The id is recorded with the change: the replay in another process applies nothing."""
    here, there, _ = pair
    with here.applying("discord:interaction:1", START):
        await here.claim("3.11", ANN, START)
    assert await recorded(here, "discord:interaction:1")
    with there.applying("discord:interaction:1", START), pytest.raises(AlreadyApplied):
        await there.claim("3.11", ANN, START + timedelta(hours=1))
    assert await events(here, "claimed") == 1 and await events(here, "renewed") == 0
    claims, _ = await there.problem_state("3.11")
    assert [c.renewed_at for c in claims if c.platform != LEGACY_PLATFORM] == [START]


async def test_a_claim_made_meanwhile_by_another_process_is_renewed_not_doubled(
    pair: tuple[Store, Store, Ticks],
) -> None:
    """The card cached here shows no claim of Ann's, so her claim here tries a new one first;
    she claimed through another process meanwhile (not yet seen here), so the database refuses
    a second open claim and hers is renewed."""
    here, there, _ = pair
    claims, _ = await here.problem_state("3.11")
    assert "Ann" not in holders((claims, None))  # cached: not hers
    first = await there.claim("3.11", ANN, START)  # say her click reached the other replica
    again = await here.claim("3.11", ANN, START + timedelta(days=1))
    assert first.created and not again.created and again.claim.id == first.claim.id
    claims, _ = await there.problem_state("3.11")
    assert [(c.display_name, c.renewed_at) for c in claims if c.user_id == ANN.user_id] == [
        ("Ann", START + timedelta(days=1))
    ]
    assert await events(here, "claimed") == 1 and await events(here, "renewed") == 1


async def test_one_event_records_its_id_once_over_several_writes(pair: tuple[Store, Store, Ticks]) -> None:
    """A handler that writes twice (and a task it spawns) records the id with the first write."""
    here, _, _ = pair
    with here.applying("slack:click:7", START):
        await here.claim("2.4", ANN, START)
        await asyncio.create_task(here.release("2.4", ANN, "", START))
        await here.claim("2.4", ANN, START)
    assert await events(here, "claimed") == 2 and await events(here, "released") == 1


async def test_a_failed_handling_leaves_the_id_for_the_retry(pair: tuple[Store, Store, Ticks]) -> None:
    """Rolled back with the change: the retry (Slack's, a replay) applies it."""
    here, _, _ = pair
    with here.applying("discord:interaction:2", START), pytest.raises(RuntimeError):
        async with here.session() as s:
            s.add(Event(problem_number="2.4", kind="claimed", at=START, actor_platform="discord"))
            raise RuntimeError("the disk is full")
    assert not await recorded(here, "discord:interaction:2")
    with here.applying("discord:interaction:2", START):
        await here.claim("2.4", ANN, START)
    assert await recorded(here, "discord:interaction:2") and await events(here, "claimed") == 1


async def test_reading_records_nothing(pair: tuple[Store, Store, Ticks]) -> None:
    here, _, _ = pair
    with here.applying("discord:interaction:3", START):
        await here.problem_state("2.4")
        await here.history("2.4")
    assert not await recorded(here, "discord:interaction:3")


async def test_claims_at_once_on_one_problem_all_show(pair: tuple[Store, Store, Ticks]) -> None:
    here, _, _ = pair
    await here.problem_state("3.11")
    people = [Person("discord", "g1", f"u{i}", f"User {i}") for i in range(6)]
    await asyncio.gather(*(here.claim("3.11", who, START) for who in people))
    await here.release("3.11", people[0], "", START)
    assert sorted(holders(await here.problem_state("3.11"))) == [f"User {i}" for i in range(1, 6)]


async def test_the_write_ahead_log_stays_small_under_many_claims(sqlite_url: str) -> None:
    """Claims leave the WAL to background checkpoints, which copy it back so it is reused."""
    store = Store(make_engine(sqlite_url))
    wal = Path(sqlite_url.removeprefix("sqlite+aiosqlite:///") + "-wal")
    try:
        for i in range(600):
            await store.claim(("2.4", "3.11", "1.1")[i % 3], Person("discord", "g1", f"u{i}", "U"), START)
            if i % 50 == 49:
                await store.checkpointed()  # traffic has gaps; a checkpoint completes in one
        # Unchecked (and below the writer's own 4,000-page checkpoint), 600 claims leave ~20 MB.
        assert (await asyncio.to_thread(wal.stat)).st_size < 8_000_000
        assert len(await store.claims_for_problem("2.4")) >= 200
    finally:
        await store.close()


def ended_ids(claims: list[Claim]) -> list[int | None]:
    return [c.id for c in claims if c.state not in (ClaimState.ACTIVE, ClaimState.STALE)]


async def test_a_state_holds_the_open_claims_and_only_the_latest_ended_ones(
    pair: tuple[Store, Store, Ticks],
) -> None:
    """However many claims ended on a problem, its state (read, cached, then updated by this
    process's claims and releases) holds its open claims and the latest STATE_ENDED ended ones:
    what a fresh read of them finds."""
    here, there, ticks = pair
    await here.problem_state("2.4")  # cached
    await plant_ended(there, "2.4", 2_000)  # by another process
    ticks.now += 2.0  # past the TTL on PostgreSQL; SQLite saw another connection commit
    claims, _ = await here.problem_state("2.4")
    assert len(claims) == 1 + STATE_ENDED  # the sheet's open claim, and five of 2,000
    assert [c.display_name for c in claims if c.user_id] == [f"Old {i}" for i in range(1995, 2000)]

    people = [Person("discord", "g1", f"u{i}", f"User {i}") for i in range(8)]
    for i, who in enumerate(people):
        await here.claim("2.4", who, START + timedelta(hours=i))
        if i % 2:  # every other one releases: the claim moves from the open ones to the ended
            await here.release("2.4", who, "", START + timedelta(hours=i, minutes=30))
        cached, _ = await here.problem_state("2.4")
        fresh = await there.claims_for_problem("2.4", ended=STATE_ENDED)
        assert [c.id for c in cached] == [c.id for c in fresh]
        assert len(ended_ids(cached)) == STATE_ENDED
    assert len(cached) == 1 + 4 + STATE_ENDED  # the sheet's claim, four open, five ended
    assert [c.display_name for c in cached if c.state == ClaimState.RELEASED] == [
        "Old 1999",
        "User 1",
        "User 3",
        "User 5",
        "User 7",
    ]


async def test_claims_for_problem_reads_the_latest_ended_claims_when_asked(store: Store) -> None:
    """The whole past by default; the open claims and the latest ``ended`` ones when asked; of
    some users only, their latest (not those of the problem's latest that are theirs)."""
    await plant_ended(store, "2.4", 300)
    assert len(await store.claims_for_problem("2.4")) == 301  # and the sheet's claim
    latest = await store.claims_for_problem("2.4", ended=10)
    assert [c.display_name for c in latest if c.user_id] == [f"Old {i}" for i in range(290, 300)]
    assert [c.user_id for c in await store.claims_for_problem("2.4", ended=0)] == [None]
    theirs = await store.claims_for_problem("2.4", ended=2, users=["old3", "old5", "old7"])
    assert [c.display_name for c in theirs] == ["Old 5", "Old 7"]


async def test_the_state_read_takes_the_latest_ended_claims_off_an_index(store: Store) -> None:
    """With 3,000 ended claims on 2.4 (and on 3.11), the read of 2.4's state finds its open
    claims and its latest ended ones by ``ix_claim_problem_ended`` and sorts nothing: it reads
    no more claims than it keeps."""
    await plant_ended(store, "2.4", 3_000)
    await plant_ended(store, "3.11", 3_000)
    async with store.engine.begin() as conn:
        await conn.execute(sa.text("ANALYZE"))
    statement = _STATE_CLAIMS.params(b_number="2.4").compile(
        dialect=store.engine.dialect, compile_kwargs={"literal_binds": True}
    )
    explain = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
    async with store.engine.connect() as conn:
        rows = (await conn.exec_driver_sql(explain + str(statement), ())).all()
    plan = "\n".join(" ".join(str(v) for v in row) for row in rows)
    if store.dialect == "sqlite":
        assert "USING INDEX ix_claim_problem_ended (problem_number=? AND ended_at=?)" in plan, plan
        assert "USING INDEX ix_claim_problem_ended (problem_number=? AND ended_at>?)" in plan, plan
    else:
        assert plan.count("Index Scan using ix_claim_problem_ended") == 1, plan
        assert plan.count("Index Scan Backward using ix_claim_problem_ended") == 1, plan
        assert plan.count("Index Cond: (((problem_number)::text = '2.4'::text) AND (ended_at IS") == 2, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan and "SCAN claim" not in plan, plan


async def test_a_claim_here_after_a_release_elsewhere_shows_one_claim_of_hers(
    pair: tuple[Store, Store, Ticks],
) -> None:
    """The card cached here shows Ann's claim on 3.11; she released it through another replica and
    claimed 3.11 again here, within the cache's seconds. The card her claim answers with showed
    her twice, her released claim still open beside the new one (and /claim 3.11's card on this
    replica kept saying so until the entry aged out): she holds one claim, the new one."""
    here, there, _ = pair
    first = await here.claim("3.11", ANN, START)
    claims, _ = await here.problem_state("3.11")
    assert holders((claims, None)).count("Ann") == 1
    assert await there.release("3.11", ANN, "", START + timedelta(days=1)) is not None
    again = await here.claim("3.11", ANN, START + timedelta(days=2))
    assert again.created and again.claim.id != first.claim.id
    claims, _ = await here.problem_state("3.11")
    mine = [(c.id, c.state) for c in claims if c.user_id == ANN.user_id and c.state in ("active", "stale")]
    assert mine == [(again.claim.id, "active")]
