"""A problem's earlier claims on its card and in /claims number:, however many there were.

A problem worked on for years has thousands of ended claims; the card shows the latest five
(by when they ended), /claims number: the latest ten, and neither reads the older ones.
"""

from __future__ import annotations

from commands.types import Context
from storage.engine import make_engine
from storage.store import Store
from tests.support.claims import plant_ended
from tests.support.clock import FakeClock
from tests.support.transcript import person, say, shown

ZED = person("zed")
OLD = 3_000  # ended claims planted before the test's own (a problem's long past)


async def plant_the_past(ctx: Context) -> None:
    """OLD claims on 2.4, released long before the test's clock starts."""
    await plant_ended(ctx.store, "2.4", OLD, community="guild1")


async def work_on_it(ctx: Context, clock: FakeClock, people: int) -> None:
    """Zed claims 2.4 first and keeps it; ``people`` others claim and release it in turn, a day
    each; Zed releases last. Zed's claim is the oldest claimed and the latest ended."""
    await say(ctx, ZED, "/claim 2.4")
    for i in range(people):
        clock.advance(days=1)
        await say(ctx, person(f"p{i:02}"), "/claim 2.4")
        await say(ctx, person(f"p{i:02}"), f"/release 2.4 note {i:02}")
    clock.advance(days=1)
    await say(ctx, ZED, "/release 2.4 gave up")


def earlier(text: str) -> list[str]:
    """The names under "Earlier claims", in the order shown."""
    section = text.split("Earlier claims:\n", 1)[1].split("\n\n", 1)[0]
    return [line.removeprefix("  - ").split(" — ")[0] for line in section.splitlines()]


async def test_the_card_shows_the_latest_five_ended_claims_of_thousands(
    ctx: Context, clock: FakeClock, db_url: str
) -> None:
    """After 3,000 old claims and twelve new ones, the card lists the five that ended last (Zed
    held it longest and ended last), in the order they were claimed, with their dates and notes;
    the same here and in another process."""
    await plant_the_past(ctx)
    await work_on_it(ctx, clock, 12)
    text = await shown(ctx, person("viewer"), "/problem 2.4")
    assert earlier(text) == ["Zed", "P08", "P09", "P10", "P11"], text
    assert "Zed — 2026-11-25 to 2026-12-08, released: “gave up”" in text
    assert "P11 — 2026-12-07 to 2026-12-07, released: “note 11”" in text
    assert "Old " not in text
    replica = Store(make_engine(db_url))  # another process: reads the state afresh
    try:
        assert await shown(Context(replica, clock, ctx.rng), person("viewer"), "/problem 2.4") == text
    finally:
        await replica.close()


async def test_the_card_of_a_few_ended_claims_shows_them_all_in_claim_order(
    ctx: Context, clock: FakeClock
) -> None:
    """Five ended claims: all five, oldest claimed first, as ever; a sixth ends, and the one that
    ended first gives way."""
    await work_on_it(ctx, clock, 4)
    assert earlier(await shown(ctx, person("viewer"), "/problem 2.4")) == ["Zed", "P00", "P01", "P02", "P03"]
    await say(ctx, person("sam"), "/claim 2.4")
    await say(ctx, person("sam"), "/release 2.4")
    assert earlier(await shown(ctx, person("viewer"), "/problem 2.4")) == ["Zed", "P01", "P02", "P03", "Sam"]


async def test_claims_number_lists_the_latest_ten_ended_claims(ctx: Context, clock: FakeClock) -> None:
    """/claims number:2.4 after 3,000 old claims and fifteen new ones: who holds it, then the ten
    that ended last, in the order they were claimed."""
    await plant_the_past(ctx)
    await work_on_it(ctx, clock, 15)
    await say(ctx, person("ann"), "/claim 2.4")
    text = await shown(ctx, person("viewer"), "/claims number:2.4")
    assert "Ann — since 2026-12-11 (today)" in text
    assert earlier(text) == ["Zed", *(f"P{i:02}" for i in range(6, 15))], text


async def test_claims_number_of_one_user_lists_their_own_ended_claims(ctx: Context, clock: FakeClock) -> None:
    """/claims number:2.4 user:Ann: her three claims, though a dozen others ended after them."""
    await plant_the_past(ctx)
    for _ in range(3):
        await say(ctx, person("ann"), "/claim 2.4")
        clock.advance(days=1)
        await say(ctx, person("ann"), "/release 2.4")
    await work_on_it(ctx, clock, 12)
    text = await shown(ctx, person("viewer"), "/claims number:2.4 user:Ann")
    assert earlier(text) == ["Ann", "Ann", "Ann"], text
    assert "Nobody." in text
