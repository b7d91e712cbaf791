"""copbot invited to the Slack moderator channel it could not post in: what waited for it is
posted at once (Slack's ``member_joined_channel`` for copbot's own user), not at the hourly retry.

Through the real Bolt app and the fake Slack, with moderation and the sweep wired as ``copbot
run`` wires them, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from commands.types import Context
from tests.bot.slack.slack_rig import ANN, MOD, MODS, REMIND, Answer, Rig, moderated, tries_in
from tests.fakes.slack_api import FakeSlack, member_joined_event, unarchive_event
from tests.support.clock import FakeClock

BOT = "U0BOT"  # copbot's own user in the fake workspace (auth.test's user_id)
OTHER = "C0OTHER"
MODS2 = "C0MODS2"
SUBMIT = "2.4 https://example.org/acronyms IOI-style circuit for acronyms"


@pytest.fixture
def rig(moderated_rig: Rig) -> Rig:
    """The front end with moderation and the sweep (SLACK_MODERATOR_CHANNEL=C0MODS)."""
    return moderated_rig


async def refused(rig: Rig, text: str = SUBMIT) -> None:
    """copbot is not in the moderator channel: Ann's submission is refused there and waits."""
    rig.fake.fail(MODS, "not_in_channel", methods={"chat.postMessage"})
    answer = await rig.command("/submit", text, user=ANN)
    assert "I may not post in the moderators' channel" in answer.shown, answer.shown


async def joined(rig: Rig, user: str, channel: str, **opts: Any) -> None:
    """Slack tells copbot that ``user`` joined ``channel`` (a moderator invited them); returns
    once copbot has handled it."""
    reply = await rig.slack.event(member_joined_event(user, channel, inviter=MOD), **opts)
    assert reply.status == 200, reply
    await rig.front.drain()


async def test_inviting_copbot_to_the_moderator_channel_posts_what_waited_at_once(
    rig: Rig, clock: FakeClock
) -> None:
    """A moderator invites copbot to the channel that refused Ann's submission (not_in_channel):
    the submission is posted there at once, with copbot's ✅ / ❌, and /pending no longer says
    it needs attention; before, it waited for the hourly retry or a restart."""
    await refused(rig)
    clock.advance(minutes=1)
    rig.fake.clear_failures()  # copbot is in the channel now: Slack takes its posts

    await joined(rig, BOT, MODS)

    (post,) = rig.posts_in(MODS)
    shown = Answer.of(post)
    assert shown.header == "Submission for 2.4" and shown.field("From") == "ann", shown.shown
    assert sorted(c["name"] for c in rig.fake.reactions) == ["white_check_mark", "x"]
    pending = await rig.command("/pending", user=MOD)
    assert "Needs attention" not in pending.shown, pending.shown
    assert "2.4 #1: https://example.org/acronyms from ann" in pending.shown, pending.shown


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
async def test_unarchiving_the_moderator_channel_posts_what_waited_at_once(
    rig: Rig, clock: FakeClock, private: bool
) -> None:
    """The moderator channel was archived (is_archived) when Ann submitted; an admin unarchives
    it: her submission is posted there at once (Slack's channel_unarchive, group_unarchive for a
    private channel). Before, it waited for the hourly retry or a restart. Another channel's
    unarchiving posts nothing."""
    rig.fake.fail(MODS, "is_archived", methods={"chat.postMessage"})
    await rig.command("/submit", SUBMIT, user=ANN)
    clock.advance(minutes=1)
    rig.fake.clear_failures()

    reply = await rig.slack.event(unarchive_event(OTHER, private=private))
    assert reply.status == 200, reply
    await rig.front.drain()
    assert rig.posts_in(MODS) == []

    reply = await rig.slack.event(unarchive_event(MODS, private=private))
    assert reply.status == 200, reply
    await rig.front.drain()
    (post,) = rig.posts_in(MODS)
    assert Answer.of(post).header == "Submission for 2.4"
    pending = await rig.command("/pending", user=MOD)
    assert "Needs attention" not in pending.shown, pending.shown


async def test_a_replayed_join_posts_nothing_more(fake: FakeSlack, ctx: Context) -> None:
    """Slack sends the join again (its retry, at once or minutes later; a restart in between):
    nothing more is posted, nor asked of Slack, even when by then copbot was removed from the
    channel again and another submission waits (the replay is not a new invitation)."""
    async with moderated(fake, ctx) as rig:
        await refused(rig)
        fake.clear_failures()
        await joined(rig, BOT, MODS, event_id="EvJOIN0001")
        assert len(rig.posts_in(MODS)) == 1

        await joined(rig, BOT, MODS, event_id="EvJOIN0001", retry_num=1)
        assert len(rig.posts_in(MODS)) == 1 and tries_in(fake, MODS) == 2

        await refused(rig, "2.4 https://example.org/other another one")  # removed again
        asked = tries_in(fake, MODS)
        await joined(rig, BOT, MODS, event_id="EvJOIN0001", retry_num=2)
        assert tries_in(fake, MODS) == asked

    async with moderated(fake, ctx) as rig:  # a restart: the replay reaches a new process
        await joined(rig, BOT, MODS, event_id="EvJOIN0001", retry_num=3)
        assert tries_in(fake, MODS) == 0 and rig.posts_in(MODS) == []


async def test_other_joins_retry_nothing(rig: Rig) -> None:
    """Someone else joining the moderator channel, or copbot joining another channel (the
    reminder channel among them), is not the invitation the refused post waits for: nothing is
    asked of Slack, and /pending still says what needs attention."""
    await refused(rig)
    rig.fake.clear_failures()

    await joined(rig, ANN, MODS)
    await joined(rig, BOT, OTHER)
    await joined(rig, BOT, REMIND)

    assert tries_in(rig.fake, MODS) == 1 and rig.posts_in(MODS) == []
    pending = await rig.command("/pending", user=MOD)
    assert "Needs attention" in pending.shown, pending.shown


async def test_a_join_during_the_hourly_sweep_posts_each_submission_once(rig: Rig, clock: FakeClock) -> None:
    """copbot is invited just as the hourly retry comes due: the join and the sweep both try the
    three waiting submissions at the same moment (Slack answers neither's first post before the
    other's is on its way), and each is posted once (one of them takes it; the other leaves it),
    asking Slack once per submission."""
    for n in range(3):
        await refused(rig, f"2.4 https://example.org/{n} number {n}")
    asked = tries_in(rig.fake, MODS)
    clock.advance(hours=1, minutes=1)
    rig.fake.clear_failures()
    rig.fake.hold("chat.postMessage", until=2)
    assert rig.sweeper is not None

    await asyncio.gather(joined(rig, BOT, MODS), rig.sweeper.run_once())

    assert rig.fake.holds_met == ["chat.postMessage"]  # both were posting at once
    shown = [Answer.of(post).shown for post in rig.posts_in(MODS)]
    assert len(shown) == 3 and tries_in(rig.fake, MODS) == asked + 3, shown
    for n in range(3):
        assert sum(f"https://example.org/{n}" in text for text in shown) == 1, shown


async def test_inviting_copbot_to_a_new_moderator_channel_moves_the_pending_posts(
    fake: FakeSlack, ctx: Context
) -> None:
    """SLACK_MODERATOR_CHANNEL changed to a channel copbot was not invited to: the pending post
    stays in the old one, its move waiting an hour. Once copbot is invited there, it moves at once."""
    async with moderated(fake, ctx) as rig:
        await rig.command("/submit", SUBMIT, user=ANN)
        (old,) = rig.posts_in(MODS)

    fake.fail(MODS2, "not_in_channel", methods={"chat.postMessage"})
    async with moderated(fake, ctx, slack_moderator_channel=MODS2) as rig:
        assert rig.moderation is not None
        await rig.moderation.recover()  # what copbot run does at start: the move is refused
        assert tries_in(fake, MODS2) == 1 and rig.posts_in(MODS2) == []
        fake.clear_failures()

        await joined(rig, BOT, MODS)  # the old channel: nothing to do there
        assert tries_in(fake, MODS2) == 1
        await joined(rig, BOT, MODS2)

        (new,) = rig.posts_in(MODS2)
        assert Answer.of(new).header == "Submission for 2.4"
        assert "Moved: the moderator channel changed" in rig.current(MODS, old.ts).shown


async def test_copbot_says_at_start_which_channel_it_is_not_in_or_cannot_use(
    fake: FakeSlack, ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    """The admin set SLACK_MODERATOR_CHANNEL to a public channel and forgot to /invite copbot:
    posts went there (chat:write.public), but Slack sends no reaction from a channel copbot is not
    in, so every moderator's ✅ / ❌ decided nothing, and nothing said why. A private reminder
    channel copbot was not invited to (or a mistyped id) was found out only at the first
    reminder, in a warning at a sweep. copbot now says so as it starts, with what to do; the
    right channels are quiet."""
    fake.add_channel(MODS, "copbot-mods", member=False)
    fake.add_channel(REMIND, "reminders", private=True, member=False)
    caplog.set_level("INFO", logger="copbot")
    async with moderated(fake, ctx):
        warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert (
        "SLACK_MODERATOR_CHANNEL: copbot is not in #copbot-mods (C0MODS), so Slack sends it no "
        "reaction there: moderators' ✅ / ❌ decide nothing (the posts' buttons still do). Type "
        "/invite @copbot in the channel."
    ) in warned, warned
    assert (
        "SLACK_REMINDER_CHANNEL: Slack finds no channel C0REMIND for copbot (a private channel it was "
        "not invited to, or a wrong id), so reminders for members who cannot get DMs wait until it "
        "can post there. Type /invite @copbot in the channel, or check the id."
    ) in warned, warned

    caplog.clear()
    fake.add_channel(MODS, "copbot-mods", archived=True)
    fake.add_channel(REMIND, "reminders", private=True)
    async with moderated(fake, ctx):
        warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert [w for w in warned if w.startswith("SLACK_")] == [
        "SLACK_MODERATOR_CHANNEL: #copbot-mods (C0MODS) is archived, so submissions wait there "
        "unposted. Unarchive it, or set another channel."
    ]

    caplog.clear()
    fake.add_channel(MODS, "copbot-mods")
    async with moderated(fake, ctx):
        assert not [r for r in caplog.records if r.getMessage().startswith("SLACK_")]
