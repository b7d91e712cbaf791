"""A community's cap on open claims (/setup max_claims, MAX_CLAIMS): nobody holds every problem."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace

from commands.types import Context
from storage.engine import make_engine
from storage.store import Store
from tests.support.clock import FakeClock
from tests.support.transcript import NOT_ADMIN, person, say, shown

ANN, BOB = person("ann"), person("bob")
BOSS = person("boss", admin=True)
NUMBERS = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9", "1.10")


async def open_numbers(ctx: Context, who: str = "ann", community: str | None = "guild1") -> list[str]:
    return [c.problem_number for c in await ctx.store.open_claims_for_user("discord", community, who)]


async def test_without_a_cap_a_member_may_claim_as_many_as_they_like(ctx: Context) -> None:
    """Existing communities keep working as before: no cap unless an admin sets one."""
    for number in NUMBERS:
        assert "You claimed" in (await say(ctx, ANN, f"/claim {number}")).text
    assert len(await open_numbers(ctx)) == len(NUMBERS)
    assert "Max open claims: no limit (default)" in await shown(ctx, BOSS, "/setup show")


async def test_at_the_cap_a_new_claim_is_refused_with_a_way_out(ctx: Context) -> None:
    """With max_claims:2, Ann's third claim is refused, naming her two claims and /release;
    renewing one of hers still works, and once she releases one she may claim again."""
    saved = await shown(ctx, BOSS, "/setup max_claims:2")
    assert "Settings saved." in saved and "Max open claims: 2 a member" in saved
    await say(ctx, ANN, "/claim 1.1")
    await say(ctx, ANN, "/claim 1.2")
    refused = await say(ctx, ANN, "/claim 1.3")
    assert refused.error and refused.private
    assert refused.text == (
        "You already hold 2 open claims here (1.1, 1.2), the most this server allows a member. "
        "Release one you are no longer working on first: /release NUMBER, or the buttons under /claims."
    )
    assert await open_numbers(ctx) == ["1.1", "1.2"]
    assert "Nobody" in await shown(ctx, BOB, "/claims number:1.3")
    assert "renewed your claim today" in (await say(ctx, ANN, "/claim 1.2")).text
    # Bob has a cap of his own.
    assert "You claimed 1.3" in (await say(ctx, BOB, "/claim 1.3")).text
    await say(ctx, ANN, "/release 1.1 not for me")
    assert "You claimed 1.3" in (await say(ctx, ANN, "/claim 1.3")).text
    # The card's Claim button is the same /claim.
    refused = await say(ctx, ANN, "/claim 1.4")
    assert refused.error and "You already hold 2 open claims here (1.2, 1.3)" in refused.text


async def test_only_admins_set_the_cap_and_zero_lifts_it(ctx: Context) -> None:
    """A member cannot set it; an admin sets it, /setup show reads it, max_claims:0 lifts it."""
    refused = await say(ctx, ANN, "/setup max_claims:1")
    assert refused.error and refused.text == NOT_ADMIN
    assert "Max open claims: no limit (default)" in await shown(ctx, BOSS, "/setup show")
    await say(ctx, BOSS, "/setup max_claims:1")
    await say(ctx, ANN, "/claim 1.1")
    assert (await say(ctx, ANN, "/claim 1.2")).error
    lifted = await shown(ctx, BOSS, "/setup max_claims:0")
    assert lifted.endswith("Max open claims: no limit")
    assert "You claimed 1.2" in (await say(ctx, ANN, "/claim 1.2")).text
    too_many = await say(ctx, BOSS, "/setup max_claims:-1")
    assert too_many.error and "max_claims must be a whole number from 0 to 200" in too_many.text


async def test_the_deployments_default_applies_where_no_admin_set_one(ctx: Context) -> None:
    """MAX_CLAIMS (Slack's only way, as Slack has no /setup) caps every community; a server's
    /setup max_claims wins over it, 0 lifting it there."""
    capped = replace(ctx, max_claims=1)
    await say(capped, ANN, "/claim 1.1")
    refused = await say(capped, ANN, "/claim 1.2")
    assert refused.error and "You already hold 1 open claim here (1.1)" in refused.text
    assert "Max open claims: 1 a member (default)" in await shown(capped, BOSS, "/setup show")
    await say(capped, BOSS, "/setup max_claims:0")
    assert "You claimed 1.2" in (await say(capped, ANN, "/claim 1.2")).text


async def test_each_community_has_its_own_cap_and_counts_its_own_claims(ctx: Context) -> None:
    """Claims made in another server neither count against this server's cap nor are capped by it;
    renewing a claim made elsewhere is always allowed."""
    elsewhere = replace(ANN, community_id="guild2")
    await say(ctx, BOSS, "/setup max_claims:1")
    for number in ("1.1", "1.2", "1.3"):
        assert "You claimed" in (await say(ctx, elsewhere, f"/claim {number}")).text
    assert "You claimed 1.4" in (await say(ctx, ANN, "/claim 1.4")).text
    assert "claimed in another server" in (await say(ctx, ANN, "/claim 1.2")).text
    assert (await say(ctx, ANN, "/claim 1.5")).error
    assert await open_numbers(ctx) == ["1.4"]


async def test_claims_at_once_from_one_member_never_pass_the_cap(db_url: str, clock: FakeClock) -> None:
    """Two replicas (and two commands in each) take Ann's claims on different problems at the same
    moment: exactly the cap stands, on SQLite and PostgreSQL alike."""
    stores = [Store(make_engine(db_url), state_ttl=0) for _ in range(2)]
    try:
        ctxs = [Context(store=s, clock=clock, rng=random.Random(4)) for s in stores]
        await say(ctxs[0], BOSS, "/setup max_claims:3")
        for _ in range(2):  # both replicas have read the cap
            for c in ctxs:
                assert "Max open claims: 3" in await shown(c, BOSS, "/setup show")
        replies = await asyncio.gather(
            *(say(ctxs[i % 2], ANN, f"/claim {number}") for i, number in enumerate(NUMBERS))
        )
        taken = [r for r in replies if not r.error]
        assert len(taken) == 3, [r.text for r in replies]
        assert len(await open_numbers(ctxs[0])) == 3
    finally:
        for s in stores:
            await s.close()


async def test_one_claim_pressed_twice_at_once_at_the_cap_is_taken_and_renewed(
    db_url: str, clock: FakeClock
) -> None:
    """Ann, one claim short of the cap, presses Claim on 1.2 twice at once (a double click, each
    press reaching another replica): one press claims it, the other renews that claim; neither
    tells her she holds too many, as 1.2 is the claim she just made."""
    stores = [Store(make_engine(db_url), state_ttl=0) for _ in range(2)]
    try:
        ctxs = [Context(store=s, clock=clock, rng=random.Random(4)) for s in stores]
        await say(ctxs[0], BOSS, "/setup max_claims:2")
        await say(ctxs[0], ANN, "/claim 1.1")
        for number in NUMBERS[1:]:
            replies = await asyncio.gather(*(say(c, ANN, f"/claim {number}") for c in ctxs))
            assert [r.text for r in replies if r.error] == [], number
            assert await open_numbers(ctxs[0]) == ["1.1", number]
            await say(ctxs[0], ANN, f"/release {number}")
    finally:
        for s in stores:
            await s.close()


async def test_a_member_over_a_cap_lowered_since_is_told_the_cap_and_how_many_to_release(
    ctx: Context,
) -> None:
    """Ann holds five claims when an admin lowers the cap to two: her next claim was refused with
    "You already hold 5 open claims here (…), the most this server allows a member. Release one
    … first", though the server allows two and releasing one would not let her claim."""
    await say(ctx, BOSS, "/setup max_claims:5")
    for number in NUMBERS[:5]:
        await say(ctx, ANN, f"/claim {number}")
    await say(ctx, BOSS, "/setup max_claims:2")
    refused = await say(ctx, ANN, "/claim 1.6")
    assert refused.error and refused.text == (
        "You already hold 5 open claims here (1.1, 1.2, 1.3, 1.4, 1.5); this server now allows a "
        "member at most 2. Release 4 you are no longer working on first: /release NUMBER, or the "
        "buttons under /claims."
    )
    for number in NUMBERS[:4]:
        await say(ctx, ANN, f"/release {number}")
    assert "You claimed 1.6" in (await say(ctx, ANN, "/claim 1.6")).text


async def test_a_cap_set_on_one_replica_holds_at_once_on_another_that_read_the_old_one(
    pg_db_url: str, clock: FakeClock
) -> None:
    """Replica B has just read the community's settings (Ann's claim there, no cap yet) and keeps
    them for STATE_CACHE_SECONDS; an admin sets max_claims:1 through replica A. Ann's next claim,
    through B within those seconds, was accepted: she held two claims in a community that
    allows one, though the admin had already been told "Settings saved.". (PostgreSQL: replicas
    share no SQLite file.)"""
    frozen = 100.0  # within the state cache's seconds throughout
    stores = [Store(make_engine(pg_db_url), monotonic=lambda: frozen) for _ in range(2)]
    try:
        a, b = (Context(store=s, clock=clock, rng=random.Random(4)) for s in stores)
        assert "You claimed 1.1" in (await say(b, ANN, "/claim 1.1")).text
        assert "Settings saved." in await shown(a, BOSS, "/setup max_claims:1")
        refused = await say(b, ANN, "/claim 1.2")
        assert refused.error and "the most this server allows a member" in refused.text, refused.text
        assert await open_numbers(b) == ["1.1"]
        # Lifted on A: B lets her claim at once, too.
        await say(a, BOSS, "/setup max_claims:0")
        assert "You claimed 1.2" in (await say(b, ANN, "/claim 1.2")).text
    finally:
        for s in stores:
            await s.close()


async def test_claims_at_once_in_two_communities_keep_each_community_s_cap(
    db_url: str, clock: FakeClock
) -> None:
    """Ann claims through two replicas at once in two servers with a cap of 2 each, some of the
    problems the same in both (one claim per person and problem: the second renews the first,
    wherever it was made). Each server's cap holds: neither holds more than 2 of her claims, and
    no problem is claimed twice."""
    stores = [Store(make_engine(db_url)) for _ in range(2)]
    boss2 = person("boss", admin=True, community="guild2")
    ann2 = replace(ANN, community_id="guild2")
    try:
        ctxs = [Context(store=s, clock=clock, rng=random.Random(4)) for s in stores]
        await say(ctxs[0], BOSS, "/setup max_claims:2")
        await say(ctxs[1], boss2, "/setup max_claims:2")
        replies = await asyncio.gather(
            *(
                say(ctxs[i % 2], who, f"/claim {number}")
                for i, number in enumerate(NUMBERS[:6])
                for who in (ANN, ann2)
            )
        )
        assert all(r.error or "claim" in r.text for r in replies)
        here, there = await open_numbers(ctxs[0]), await open_numbers(ctxs[0], community="guild2")
        assert len(here) == 2 and len(there) <= 2, (here, there)
        assert not set(here) & set(there)
    finally:
        for s in stores:
            await s.close()


async def test_setting_the_cap_says_how_many_members_already_hold_more(ctx: Context) -> None:
    """An admin lowering the cap was told only "Settings saved.", though members already over it
    keep their claims and cannot claim again: /setup max_claims now says how many they are,
    counting open claims made here only (not released ones, not another server's), and
    reset:max_claims does the same against the operator's default."""
    for who, numbers in (("ann", NUMBERS[:5]), ("bob", NUMBERS[:3]), ("cid", NUMBERS[:3])):
        for number in numbers:
            await say(ctx, person(who), f"/claim {number}")
    await say(ctx, person("cid"), "/release 1.3")  # Cid holds two
    elsewhere = person("dan", community="guild2")
    for number in NUMBERS[:6]:  # another server's claims count there, not here
        await say(ctx, elsewhere, f"/claim {number}")

    two = await shown(ctx, BOSS, "/setup max_claims:2")
    assert (
        "Settings saved. 2 members here already hold more than 2 open claims: they keep them and "
        "may renew them, but cannot claim another until they hold fewer than 2."
    ) in two
    four = await shown(ctx, BOSS, "/setup max_claims:4")
    assert (
        "Settings saved. 1 member here already holds more than 4 open claims: they keep them and "
        "may renew them, but cannot claim another until they hold fewer than 4."
    ) in four
    for quiet in ("/setup max_claims:5", "/setup max_claims:0", "/setup stale_days:30"):
        assert "already hold" not in await shown(ctx, BOSS, quiet)
    reset = await shown(replace(ctx, max_claims=1), BOSS, "/setup reset:max_claims")
    assert (
        "Settings saved. 3 members here already hold more than 1 open claim: they keep them and "
        "may renew them, but cannot claim another until they hold none."
    ) in reset
