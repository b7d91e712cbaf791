"""/setup reset: a server that once set stale_days or max_claims follows the operator's default
(STALE_AFTER_DAYS, MAX_CLAIMS) again, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import replace

from commands.types import Context
from tests.support.transcript import person, say, shown

ANN = person("ann")
BOSS = person("boss", admin=True)


async def test_reset_max_claims_follows_the_deployments_cap_again(ctx: Context) -> None:
    """max_claims:0 is "no limit here", not the default: after reset:max_claims the server is
    capped by MAX_CLAIMS again and /setup show says so."""
    capped = replace(ctx, max_claims=1)
    await say(capped, BOSS, "/setup max_claims:0")
    assert (await shown(capped, BOSS, "/setup show")).endswith("Max open claims: no limit")
    await say(capped, ANN, "/claim 1.1")
    assert "You claimed 1.2" in (await say(capped, ANN, "/claim 1.2")).text

    reset = await shown(capped, BOSS, "/setup reset:max_claims")
    assert "Settings saved." in reset and "Max open claims: 1 a member (default)" in reset
    assert "Max open claims: 1 a member (default)" in await shown(capped, BOSS, "/setup show")
    refused = await say(capped, ANN, "/claim 1.3")
    assert refused.error and "You already hold 2 open claims here (1.1, 1.2)" in refused.text
    row = await ctx.store.get_settings("discord", "guild1")
    assert row is not None and row.max_claims is None


async def test_reset_stale_days_follows_stale_after_days_again(ctx: Context) -> None:
    """stale_days had no way back at all: reset:stale_days makes /setup show and /help read the
    operator's STALE_AFTER_DAYS again, and leaves the other settings as they were."""
    operator = replace(ctx, stale_after_days=45)
    await say(operator, BOSS, "/setup stale_days:10 max_claims:3")
    assert "A claim turns stale after 10 days" in await shown(operator, ANN, "/help")

    reset = await shown(operator, BOSS, "/setup reset:stale_days")
    assert "Stale after: 45 days (default)" in reset
    assert "Max open claims: 3 a member" in reset and "Max open claims: 3 a member (default)" not in reset
    assert "Stale after: 45 days (default)" in await shown(operator, BOSS, "/setup show")
    assert "A claim turns stale after 45 days" in await shown(operator, ANN, "/help")
    row = await ctx.store.get_settings("discord", "guild1")
    assert row is not None and row.stale_after_days is None and row.max_claims == 3


async def test_reset_is_for_admins_and_takes_only_a_setting_with_a_default(ctx: Context) -> None:
    """A member is refused as for the rest of /setup; an unknown name, or setting and resetting
    the same thing at once, is refused and saves nothing."""
    await say(ctx, BOSS, "/setup stale_days:10")
    refused = await say(ctx, ANN, "/setup reset:stale_days")
    assert refused.error and refused.text == "/setup needs admin rights in this community."
    wrong = await say(ctx, BOSS, "/setup reset:colour")
    assert wrong.error and wrong.text == "'colour' is not something reset takes: stale_days or max_claims"
    both = await say(ctx, BOSS, "/setup stale_days:20 reset:stale_days")
    assert both.error and both.text == "stale_days is both set and reset: give one of them"
    assert "Stale after: 10 days ·" in await shown(ctx, BOSS, "/setup show")
    assert "reset — " in await shown(ctx, BOSS, "/help setup")
    assert not (await say(ctx, BOSS, "/setup reset:stale_days")).error
