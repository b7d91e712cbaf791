"""/setup on Slack: a workspace admin sets the stale days and the claim cap; the channels and
moderators come from copbot's SLACK_* settings, which /setup shows and will not change.

Before, Slack had no /setup at all: a workspace wanting a shorter stale time or a claim cap had
to ask whoever runs copbot to change STALE_AFTER_DAYS or MAX_CLAIMS for every community.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.reminders import Sweeper
from commands.types import Context
from tests.bot.slack.slack_rig import ANN, BOB, CAT, MODS, REMIND, Rig, moderated
from tests.fakes.slack_api import FakeSlack
from tests.support.clock import FakeClock

TEAM = "T0FAKE"
NOT_ADMIN = ":warning: /setup needs admin rights in this community (Workspace Admin or Owner)."


@pytest.fixture
async def rig(fake: FakeSlack, ctx: Context) -> AsyncIterator[Rig]:
    """The front end and the sweep, with SLACK_MODERATOR_CHANNEL, SLACK_MODERATORS (one member)
    and SLACK_REMINDER_CHANNEL set."""
    async with moderated(fake, ctx) as rig:
        yield rig


def plain(shown: str) -> str:
    """Text as read: without the zero-width spaces that keep Slack from formatting ``_`` and ``*``."""
    return shown.replace("\u200b", "")


async def saved_days(rig: Rig) -> int | None:
    """The workspace's own stale days as stored, None when it follows the default."""
    row = await rig.ctx.store.get_settings("slack", TEAM)
    return row.stale_after_days if row else None


def sweeper(rig: Rig) -> Sweeper:
    assert rig.sweeper is not None
    return rig.sweeper


async def test_an_admin_shortens_the_stale_days_and_the_sweep_reminds_sooner(
    rig: Rig, clock: FakeClock
) -> None:
    """Cat (a workspace admin) sets stale_days:10: Ann's claim, 11 days without news, turns stale
    at the next sweep and she gets her reminder, where the default would wait 30 days."""
    refused = await rig.command("/setup", "stale_days:10", user=ANN)
    assert not refused.public and refused.shown == NOT_ADMIN
    assert await saved_days(rig) is None  # nothing was saved

    assert "You claimed 3.11" in (await rig.command("/claim", "3.11", user=ANN)).shown
    saved = await rig.command("/setup", "stale_days:10", user=CAT)
    assert not saved.public
    assert saved.shown.splitlines()[1] == "Settings saved."
    assert saved.field("Stale after") == "10 days"

    clock.advance(days=9)
    assert (await sweeper(rig).run_once()).stale == 0 and rig.fake.dms(ANN) == []
    clock.advance(days=2)
    assert (await sweeper(rig).run_once()).stale == 1
    assert len(rig.fake.dms(ANN)) == 1
    # The card says so too, by this workspace's days.
    card = await rig.command("/problem", "3.11", user=BOB)
    assert "• ann — since 2026-11-25 (11 days ago) · stale: no news since 2026-11-25" in card.shown

    back = await rig.command("/setup", "reset:stale_days", user=CAT)
    assert back.field("Stale after") == "30 days (default)"


async def test_an_admin_caps_open_claims_in_the_workspace(rig: Rig) -> None:
    """max_claims:1 set by Cat: Ann's second /claim is refused with her claim and how to release
    one; reset gives the workspace back MAX_CLAIMS (no limit)."""
    assert "You claimed 1.1" in (await rig.command("/claim", "1.1", user=ANN)).shown
    assert "You claimed 1.2" in (await rig.command("/claim", "1.2", user=ANN)).shown
    saved = await rig.command("/setup", "max_claims:1", user=CAT)
    assert saved.field("Max open claims") == "1 a member"
    assert "1 member here already holds more than 1 open claim" in saved.shown

    refused = await rig.command("/claim", "1.3", user=ANN)
    assert not refused.public
    assert refused.shown == (
        ":warning: You already hold 2 open claims here (1.1, 1.2); this workspace now allows a member at "
        "most 1. Release 2 you are no longer working on first: /release NUMBER, or the buttons under /claims."
    )
    assert "You claimed 1.3" in (await rig.command("/claim", "1.3", user=BOB)).shown

    reset = await rig.command("/setup", "reset:max_claims", user=CAT)
    assert reset.field("Max open claims") == "no limit (default)"
    assert "You claimed 1.3" in (await rig.command("/claim", "1.3", user=ANN)).shown


async def test_setup_shows_the_slack_settings_and_will_not_change_them(rig: Rig) -> None:
    """The channels and moderators are SLACK_* settings: /setup shows them (the channels as links,
    the moderators counted) and says where they come from; an admin who tries to set or reset
    one is told which setting holds it, and nothing is saved."""
    shown = await rig.command("/setup", "show", user=CAT)
    assert not shown.public
    assert shown.field("Moderator channel") == f"<#{MODS}>"
    assert shown.field("Reminder channel") == f"<#{REMIND}>"
    assert shown.field("Moderators") == "1 member"
    assert shown.field("Stale after") == "30 days (default)"
    assert "come from copbot's own settings here" in shown.shown
    assert "Moderator role" not in shown.shown

    for typed, option, setting in (
        ("moderator_channel:<#C0OTHER|other>", "moderator_channel", "SLACK_MODERATOR_CHANNEL"),
        ("reset:moderator_role", "moderator_role", "SLACK_MODERATORS"),
        ("reminder_channel:C0OTHER stale_days:5", "reminder_channel", "SLACK_REMINDER_CHANNEL"),
    ):
        refused = await rig.command("/setup", typed, user=CAT)
        assert not refused.public
        assert plain(refused.shown) == (
            f":warning: {option} is not set with /setup here: copbot takes it from its {setting} setting, "
            "which whoever runs copbot changes. /setup here changes stale_days and max_claims."
        )
    assert await saved_days(rig) is None  # not even stale_days:5
    row = await rig.ctx.store.get_settings("slack", TEAM)
    assert row is None or (row.moderator_channel_id, row.moderator_role_id, row.reminder_channel_id) == (
        None,
        None,
        None,
    )


async def test_cop_help_setup_explains_slacks_setup(rig: Rig) -> None:
    """`/cop-help setup` names Slack's options only, and examples that run here."""
    helped = await rig.command("/cop-help", "setup", user=CAT)
    assert helped.header == "/setup [show] [stale_days] [max_claims] [reset]"
    assert "stale_days — days without news before a claim is stale" in plain(helped.shown)
    assert "moderator_channel —" not in plain(helped.shown)
    assert "/setup stale_days:20" in plain(helped.shown)
    assert "/setup reset:moderator_channel" not in plain(helped.shown)
    assert "come from copbot's SLACK_MODERATOR_CHANNEL" in plain(helped.shown)
    listed = await rig.command("/cop-help", user=CAT)
    assert "/setup [show] [stale_days] [max_claims] [reset] — community settings (admins only)" in plain(
        listed.shown
    )
    member = await rig.command("/cop-help", user=ANN)
    assert "/setup" not in member.shown


async def test_setup_show_tells_a_slack_admin_what_the_moderator_channel_refused(rig: Rig) -> None:
    """copbot was not invited to SLACK_MODERATOR_CHANNEL: a submission waits unposted. An admin
    checking /setup show sees it under Needs attention, with Slack's reason and the channel."""
    rig.fake.fail(MODS, "not_in_channel", methods={"chat.postMessage"})
    submitted = await rig.command("/submit", "2.4 https://example.org/acronyms", user=ANN)
    assert not submitted.public

    shown = await rig.command("/setup", "show", user=CAT)
    assert "*Needs attention*" in shown.shown, shown.shown
    (line,) = [line for line in shown.shown.splitlines() if "moderator channel are refused" in line]
    assert "not_in_channel" in plain(line) and "1 submission waits unposted" in line, line
