"""Races between replicas that share one database: start-up facts and half-made moderator posts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from storage.claims import Person
from storage.engine import make_engine
from storage.models import Claim, CommunitySettings, WorkLink
from storage.posts import record_posted, release_stuck_posting, take_for_posting, unposted
from storage.store import Store
from storage.submissions import decide, get_link, submit, undo
from storage.sweep import expire_due, mark_stale, stale_overrides, still_to_remind
from tests.conftest import START
from tests.support.pg import connect, lock_rows, lock_waiters, lock_waiters_on

ANN = Person("discord", "g1", "ann", "Ann")


async def test_replicas_setting_the_same_fact_at_once_both_succeed(db_url: str) -> None:
    """Two processes syncing commands at start-up write the same meta key together: no crash."""
    stores = [Store(make_engine(db_url)) for _ in range(4)]
    try:
        for round_ in range(5):
            await asyncio.gather(*(s.set_meta(f"hash-{round_}", f"v{i}") for i, s in enumerate(stores)))
            assert await stores[0].get_meta(f"hash-{round_}") in {"v0", "v1", "v2", "v3"}
    finally:
        for store in stores:
            await store.close()


async def test_a_restart_frees_only_posts_cut_short_long_ago(store: Store) -> None:
    """A post another replica is making right now stays taken; one stuck for 10+ minutes is freed."""
    old = await submit(store, "2.4", "https://example.org/a", "example.org/a", "", ANN, START, 10)
    new = await submit(store, "2.4", "https://example.org/b", "example.org/b", "", ANN, START, 10)
    assert await take_for_posting(store, old.id or 0, "mods", START)
    assert await take_for_posting(store, new.id or 0, "mods", START + timedelta(minutes=9))
    assert not await take_for_posting(store, new.id or 0, "mods", START + timedelta(minutes=9))
    now = START + timedelta(minutes=12)
    await release_stuck_posting(store, "discord", now - timedelta(minutes=10))
    waiting = {link.url: link.mod_message_id for link in await unposted(store, "discord")}
    assert waiting == {"https://example.org/a": None, "https://example.org/b": "posting"}


async def test_one_post_recorded_twice_at_once_is_recorded_once(pg_db_url: str) -> None:
    """A moderator post recorded by two units of work at once (a sweep's and the /submit's that
    made it, or a reaction's, before a process's recordings took turns) is recorded once: the row
    is held until both wait for it, and /history shows the submission posted once, not twice."""
    replicas = [Store(make_engine(pg_db_url)) for _ in range(2)]
    try:
        link = await submit(replicas[0], "2.4", "https://example.org/a", "example.org/a", "", ANN, START, 10)
        assert link.id is not None and await take_for_posting(replicas[0], link.id, "mods", START)
        held = await lock_rows(replicas[0], WorkLink, [link.id])
        try:
            recording = [
                asyncio.create_task(record_posted(store, link.id, "m1", "https://x/m1", START, 0))
                for store in replicas
            ]
            for _ in range(200):  # until both wait for the row (to read it, or to write next to it)
                if await lock_waiters_on(replicas[0], "") >= 2:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the two recordings never both waited for the row")
        finally:
            await held.close()
        assert sorted(await asyncio.gather(*recording)) == [False, True]
        kinds = [e.kind for e in await replicas[0].history("2.4")]
        assert kinds.count("posted") == 1, kinds
        after = await get_link(replicas[1], link.id)
        assert after is not None and after.mod_message_id == "m1"
    finally:
        for store in replicas:
            await store.close()


@pytest.mark.parametrize("own_days", [False, True], ids=["default", "1500-own-stale-days"])
async def test_a_claim_renewed_while_a_sweep_marks_it_stale_stays_active(
    pg_db_url: str, own_days: bool
) -> None:
    """Another replica renews Ann's claim after a sweep found it due and before the sweep's update:
    the update waits for that replica's row lock, then checks again that the claim is due, so Ann
    gets no reminder for a claim she has just renewed. So too when Ann's server is one of 1,500
    that chose their own stale_days (hers 10, the others 1 to 365)."""
    store = Store(make_engine(pg_db_url))
    other = await connect(pg_db_url)
    try:
        overrides = None
        if own_days:
            rows = [
                {
                    "platform": "discord",
                    "community_id": f"s{k}",
                    "stale_after_days": 1 + k % 365,
                    "updated_at": START,
                }
                for k in range(1_499)
            ]
            rows.append(
                {"platform": "discord", "community_id": "g1", "stale_after_days": 10, "updated_at": START}
            )
            await store.execute(sa.insert(CommunitySettings), rows)
            overrides = await stale_overrides(store)
        claimed = (await store.claim("2.4", ANN, START)).claim
        now = START + timedelta(days=11 if own_days else 31)
        renewal = other.transaction()
        await renewal.start()
        await other.execute("UPDATE claim SET renewed_at = $1 WHERE id = $2", now, claimed.id)
        sweeping = asyncio.create_task(mark_stale(store, now, 30, ["discord"], overrides))
        # Until the sweep's update waits for the renewal's lock, however long the sweep takes to
        # get there (watched from a connection outside the renewal's transaction).
        waiting = await lock_waiters(store, "claim", at_least=1, timeout=30)
        assert waiting == 1 and not sweeping.done()
        await renewal.commit()
        moved = await asyncio.wait_for(sweeping, 10)
        assert claimed.id not in [c.id for c in moved or []]
        (held,) = await store.open_claims_for_user("discord", "g1", "ann")
        assert (held.state, held.renewed_at) == ("active", now)
    finally:
        await other.close()
        await store.close()


async def test_decisions_of_one_submission_through_two_replicas_at_once_apply_once(pg_db_url: str) -> None:
    """Two moderators (one of them clicking twice) decide the same submission through two replicas,
    and later two undo it at once: every press has read the submission pending (or decided)
    before any writes, as the row is held until all of them wait for it. One decision, one undo,
    one history line each, one notice due for the decision
    (none after the undo: the decision's was never sent)."""
    replicas = [Store(make_engine(pg_db_url)) for _ in range(2)]
    mod, mod2 = Person("discord", "g1", "mod", "Mod"), Person("discord", "g1", "mod2", "Mod2")
    try:
        link = await submit(replicas[0], "2.4", "https://example.org/a", "example.org/a", "", ANN, START, 10)
        assert link.id is not None
        for presses, expected in (
            ([(0, mod, True), (1, mod2, False), (1, mod, True)], "decided"),
            ([(0, mod, None), (1, mod2, None)], "undone"),
        ):
            held = await lock_rows(replicas[0], WorkLink, [link.id])
            try:
                pressing = [
                    asyncio.create_task(
                        undo(replicas[i], link.id, who, START)
                        if approve is None
                        else decide(replicas[i], link.id, who, approve, "", START)
                    )
                    for i, who, approve in presses
                ]
                assert await lock_waiters(replicas[0], "work_link", at_least=len(presses), timeout=10) == len(
                    presses
                )
            finally:
                await held.close()
            done = [r for r in await asyncio.gather(*pressing) if r is not None]
            assert len(done) == 1, expected
        kinds = [e.kind for e in await replicas[0].history("2.4")]
        assert kinds.count("approved") + kinds.count("rejected") == 1 and kinds.count("undone") == 1
        after = await get_link(replicas[1], link.id)
        # The decision's notice was never sent, so the undo has none due either (Ann heard of neither).
        assert after is not None and (after.status, after.revision, after.notice) == ("pending", 2, "")
    finally:
        for store in replicas:
            await store.close()


async def test_a_sweep_a_release_and_a_renewal_of_one_claim_through_three_replicas_apply_in_turn(
    pg_db_url: str,
) -> None:
    """Ann's claim is due: one replica's sweep marks it stale while, through two others, she
    releases it and presses "Still working on it" on an older reminder, each having read the claim
    open before any of them writes (the row is held until all three wait, in that order). They
    apply one after another: stale first, then the release and the renewal in whichever order
    PostgreSQL hands them the row (once the sweep has written it, the two race for its new
    version). Each applies once: a renewal after the release finds the claim ended and records
    nothing, one before it is in the history before the release. Either way the claim ends
    released, its reminder is no longer wanted, and a later sweep and expiry leave it be."""
    stores = [Store(make_engine(pg_db_url)) for _ in range(3)]
    try:
        claimed = (await stores[0].claim("2.4", ANN, START)).claim
        assert claimed.id is not None
        now = START + timedelta(days=31)
        held = await lock_rows(stores[0], Claim, [claimed.id])
        try:
            sweeping = asyncio.create_task(mark_stale(stores[0], now, 30, ["discord"]))
            await lock_waiters(stores[0], "claim", at_least=1, timeout=10)
            releasing = asyncio.create_task(stores[1].release("2.4", ANN, "done", now))
            await lock_waiters(stores[0], "claim", at_least=2, timeout=10)
            renewing = asyncio.create_task(stores[2].renew_claim(claimed.id, ANN, now))
            await lock_waiters(stores[0], "claim", at_least=3, timeout=10)
        finally:
            await held.close()
        moved, released, renewed = await asyncio.gather(sweeping, releasing, renewing)
        assert claimed.id in [c.id for c in moved or []]
        assert released is not None and released.state == "released"
        assert await still_to_remind(stores[0], [claimed.id]) == set()
        kinds = [e.kind for e in await stores[1].history("2.4") if e.claim_id == claimed.id]
        if renewed is None:  # the release came first
            assert kinds == ["claimed", "released"]
        else:
            assert (renewed.state, renewed.renewed_at) == ("active", now)
            assert kinds == ["claimed", "renewed", "released"]
        later = now + timedelta(days=60)
        for sweep in (
            mark_stale(stores[0], later, 30, ["discord"]),
            expire_due(stores[0], later, 14, ["discord"]),
        ):
            assert claimed.id not in [c.id for c in await sweep or []]
        (after,) = [c for c in await stores[2].claims_for_problem("2.4") if c.id == claimed.id]
        assert (after.state, after.note) == ("released", "done")
    finally:
        for store in stores:
            await store.close()
