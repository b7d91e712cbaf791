"""/setup reset: a server that once set stale_days or max_claims follows the operator's default
(STALE_AFTER_DAYS, MAX_CLAIMS) again, and one that set a moderator channel, moderator role or
reminder channel can unset it, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import replace

from commands.types import Context
from tests.support.transcript import NOT_ADMIN, person, say, shown

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
    assert refused.error and refused.text == NOT_ADMIN
    wrong = await say(ctx, BOSS, "/setup reset:colour")
    assert wrong.error and wrong.text == (
        "'colour' is not something reset takes: moderator_channel, moderator_role, reminder_channel, "
        "stale_days or max_claims"
    )
    both = await say(ctx, BOSS, "/setup stale_days:20 reset:stale_days")
    assert both.error and both.text == "stale_days is both set and reset: give one of them"
    assert "Stale after: 10 days ·" in await shown(ctx, BOSS, "/setup show")
    assert "reset — " in await shown(ctx, BOSS, "/help setup")
    assert not (await say(ctx, BOSS, "/setup reset:stale_days")).error


MODS, ROLE, REMINDERS = "111111111111111111", "222222222222222222", "333333333333333333"


async def test_reset_clears_the_moderator_channel_role_and_reminder_channel(ctx: Context) -> None:
    """A channel archived, a role deleted, reminders wanted by DM only: each of the three can be
    unset (before, only changed), and the answer says what happens without it."""
    all_three = f"moderator_channel:<#{MODS}> moderator_role:<@&{ROLE}> reminder_channel:<#{REMINDERS}>"
    assert "Settings saved." in (await say(ctx, BOSS, f"/setup {all_three}")).text
    await say(ctx, BOSS, "/setup stale_days:10")

    channel = await shown(ctx, BOSS, "/setup reset:moderator_channel")
    assert channel.startswith("copbot settings")
    assert (
        "Settings saved. The moderator channel is cleared: new submissions wait, unposted, until one is "
        "set again with /setup; moderators find them in /pending and can decide them there. Those "
        "already posted stay in the old channel until then, and move to the new one."
    ) in channel
    assert "Moderator channel: not set · Moderator role: role 222222222222222222" in channel

    role = await say(ctx, BOSS, "/setup reset:moderator_role")
    assert role.text == (
        "Settings saved. The moderator role is cleared: only members with Manage Messages or "
        "Administrator moderate submissions now."
    )
    reminders = await say(ctx, BOSS, "/setup reset:reminder_channel")
    assert reminders.text == (
        "Settings saved. The reminder channel is cleared: reminders go by DM only. A member whose DMs "
        "are closed cannot be reminded: their claim's history says so, and the claim expires 14 days "
        "after the reminder was due, at the end of that day (UTC)."
    )
    assert (await shown(ctx, BOSS, "/setup show")).endswith(
        "Moderator channel: not set · Moderator role: not set · Reminder channel: not set · "
        "Stale after: 10 days · Expires: 14 days after an unanswered reminder, at the end of that "
        "day (UTC) · "
        "Max open claims: no limit (default)"
    )
    row = await ctx.store.get_settings("discord", "guild1")
    assert row is not None and row.stale_after_days == 10
    assert (row.moderator_channel_id, row.moderator_role_id, row.reminder_channel_id) == (None, None, None)

    again = await say(ctx, BOSS, "/setup reset:moderator_role")
    assert not again.error and again.text == "No moderator role was set: nothing to clear."
    mixed = await say(ctx, BOSS, "/setup max_claims:3 reset:reminder_channel")
    assert mixed.text == "Settings saved. No reminder channel was set: nothing to clear."
    assert "Max open claims: 3 a member" in await shown(ctx, BOSS, "/setup show")
    both = await say(ctx, BOSS, f"/setup reminder_channel:<#{REMINDERS}> reset:reminder_channel")
    assert both.error and both.text == "reminder_channel is both set and reset: give one of them"
    refused = await say(ctx, ANN, "/setup reset:moderator_channel")
    assert refused.error and refused.text == NOT_ADMIN
    assert "reset — a setting to clear" in await shown(ctx, BOSS, "/help setup")
