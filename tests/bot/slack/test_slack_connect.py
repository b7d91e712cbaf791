"""Members of another organisation, met in a Slack Connect channel, as copbot's claimants and
submitters: what reaches them when copbot cannot DM them.

Slack lets an app open a DM with someone from another organisation only while they share a
channel: once they left every shared channel (or the channel was disconnected),
``conversations.open`` answers ``invalid_user_combination``. Such a person cannot be messaged
directly, like someone whose DMs are closed: not a refusal that a retry could get past.
"""

from __future__ import annotations

import logging

import pytest

from commands.types import Context
from tests.bot.slack.slack_rig import MOD, MODS, REMIND, SECRET, Answer, moderated
from tests.fakes.slack_api import FakeSlack, SlackSender
from tests.support.clock import FakeClock

ZED = "U0ZED"  # a member of another organisation
THEIRS = "T0THEIRS"  # their team
LINK = "https://example.org/acronyms"


def apart(fake: FakeSlack) -> None:
    """Zed, of another organisation, who no longer shares a channel with copbot."""
    fake.add_user(ZED, "zed", team_id=THEIRS, shares_a_channel=False)


async def test_a_stale_claim_of_someone_copbot_cannot_dm_goes_to_the_reminder_channel(
    fake: FakeSlack, ctx: Context, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    apart(fake)
    async with moderated(fake, ctx) as rig:
        assert rig.sweeper is not None
        async with SlackSender(rig.slack.url, SECRET, fake=fake, team_id=THEIRS) as theirs:
            await theirs.command("/claim", "3.11", user_id=ZED)
            await rig.front.drain()
        clock.advance(days=31)

        with caplog.at_level(logging.WARNING):
            first = await rig.sweeper.run_once()
            second = await rig.sweeper.run_once()

        assert first.delivered == {"channel": 1} and second.delivered == {}
        (post,) = rig.posts_in(REMIND)
        assert post["text"].startswith(f"<@{ZED}> Still working on 3.11?")
        assert Answer.of(post).buttons == ["Still working on it", "Release it"]
        assert "invalid_user_combination" not in caplog.text  # not a refusal to retry each sweep
        (claim,) = [c for c in await ctx.store.claims_for_problem("3.11") if c.user_id == ZED]
        assert claim.delivery == "channel"


async def test_without_a_reminder_channel_such_a_claim_expires_after_the_grace_period(
    fake: FakeSlack, ctx: Context, clock: FakeClock
) -> None:
    """Not held open forever, reminded at every sweep in vain."""
    apart(fake)
    async with moderated(fake, ctx, slack_reminder_channel=None) as rig:
        assert rig.sweeper is not None
        async with SlackSender(rig.slack.url, SECRET, fake=fake, team_id=THEIRS) as theirs:
            await theirs.command("/claim", "3.11", user_id=ZED)
            await rig.front.drain()
        clock.advance(days=31)
        stale = await rig.sweeper.run_once()
        clock.advance(days=15)
        expired = await rig.sweeper.run_once()

        assert stale.delivered == {"unreachable": 1} and expired.expired == 1
        card = await rig.command("/problem", "3.11")
        assert "zed — since" not in card.shown and "expired" in card.shown, card.shown


async def test_a_submitter_copbot_cannot_dm_is_not_retried_at_every_sweep(
    fake: FakeSlack, ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    apart(fake)
    async with moderated(fake, ctx) as rig:
        assert rig.sweeper is not None
        async with SlackSender(rig.slack.url, SECRET, fake=fake, team_id=THEIRS) as theirs:
            await theirs.command("/submit", f"2.4 {LINK}", user_id=ZED)
            await rig.front.drain()
        (post,) = rig.posts_in(MODS)
        await rig.react(MOD, "white_check_mark", post.ts)

        with caplog.at_level(logging.WARNING):
            for _ in range(2):
                await rig.sweeper.run_once()

        assert "Approved by mod." in rig.current(MODS, post.ts).shown
        tries = [c for c in fake.calls_to("conversations.open") if c["users"] == ZED]
        assert len(tries) == 1, tries  # tried once; the decision shows in /problem and /history
        assert "invalid_user_combination" not in caplog.text
