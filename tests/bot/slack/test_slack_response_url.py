"""A response_url that fails (a 5xx, an expired or used-up url: Slack answers with a status, and
Bolt does not raise): tried again after a 5xx, then the answer goes by the Web API, with a
warning that never holds the url (it can post as copbot).

Through the real Bolt app, with the fake Slack answering the response_url.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from commands.types import Context
from tests.bot.slack.slack_rig import ANN, MO2, MOD, MODS, Answer, Rig, moderated, running
from tests.bot.slack.test_slack_reminders import claim, dm_of, sweeper
from tests.fakes.slack_api import FakeSlack
from tests.support.clock import FakeClock

LOGGER = "copbot.slack"
RENEWED = "Renewed your claim on 3.11 today"


@pytest.fixture
async def rig(fake: FakeSlack, ctx: Context) -> AsyncIterator[Rig]:
    """The front end with its reminder sweep."""
    async with moderated(fake, ctx) as rig:
        yield rig


async def reminded(rig: Rig, clock: FakeClock) -> Answer:
    """Ann's claim went stale and she got her reminder DM; that DM."""
    await claim(rig, ANN)
    clock.advance(days=31)
    await sweeper(rig).run_once()
    (dm,) = dm_of(rig, ANN)
    return Answer.of(dm)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What copbot's Slack front end warned about."""
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


async def test_a_button_answer_is_posted_again_after_a_server_error(
    rig: Rig, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    dm = await reminded(rig, clock)
    rig.fake.fail_responses(500)

    await rig.press(dm, "Still working on it", user=ANN, channel="D0ANN")

    assert [c.status for c in rig.fake.responses] == [500, 200]
    assert RENEWED in Answer("response_url", rig.fake.responses[-1].args).shown
    assert len(dm_of(rig, ANN)) == 1 and warnings(caplog) == []


async def test_a_click_in_a_dm_whose_response_url_keeps_failing_is_answered_in_the_dm(
    rig: Rig, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    dm = await reminded(rig, clock)
    rig.fake.fail_responses(500, times=2)

    with caplog.at_level(logging.WARNING, logger="copbot.slack"):
        await rig.press(dm, "Still working on it", user=ANN, channel="D0ANN")

    assert [c.status for c in rig.fake.responses] == [500, 500]
    _, answer = dm_of(rig, ANN)
    assert answer.channel == "D0ANN" and RENEWED in Answer.of(answer).shown
    (warning,) = warnings(caplog)
    assert "HTTP 500" in warning and "chat.postMessage" in warning
    assert "/response/" not in caplog.text  # the url is a secret


async def test_a_slow_command_whose_response_url_expired_is_shown_by_post_ephemeral(
    fake: FakeSlack, ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(fake, ctx, answer_within=0) as rig:
        fake.fail_responses(404, "expired_url")
        with caplog.at_level(logging.WARNING, logger="copbot.slack"):
            ack = await rig.slack.command("/problem", "2.4", user_id=ANN, channel_id="C0GENERAL")
            await rig.front.drain()

    assert (ack.status, ack.text) == (200, "")
    assert [c.status for c in fake.responses] == [404]  # a 404 is not tried again
    (shown,) = fake.ephemerals
    assert (shown["channel"], shown["user"]) == ("C0GENERAL", ANN)
    assert Answer.of(shown).header.startswith("2.4 — 3 letter acronyms")
    (warning,) = warnings(caplog)
    assert "HTTP 404" in warning and "expired_url" in warning and "chat.postEphemeral" in warning
    assert "/response/" not in caplog.text


@pytest.mark.parametrize("refusal", ["not_in_channel", "channel_not_found"])
async def test_a_slow_answer_in_a_channel_copbot_is_not_in_reaches_the_asker_in_their_dm(
    fake: FakeSlack, ctx: Context, caplog: pytest.LogCaptureFixture, refusal: str
) -> None:
    # Slash commands work in every channel, also one copbot was never invited to; there Slack
    # refuses copbot's chat.postEphemeral (not_in_channel; channel_not_found when private).
    async with running(fake, ctx, answer_within=0) as rig:
        fake.fail_responses(404, "expired_url")
        fake.fail("C0OUTSIDE", refusal, methods={"chat.postEphemeral"})
        with caplog.at_level(logging.WARNING, logger="copbot.slack"):
            ack = await rig.slack.command("/problem", "2.4", user_id=ANN, channel_id="C0OUTSIDE")
            await rig.front.drain()

    assert (ack.status, ack.text) == (200, "")
    assert fake.ephemerals == []
    (dm,) = fake.dms(ANN)
    assert Answer.of(dm).header.startswith("2.4 — 3 letter acronyms")
    (warning,) = warnings(caplog)
    assert "HTTP 404" in warning and "chat.postMessage" in warning
    assert "/response/" not in caplog.text


async def test_a_press_in_a_channel_the_presser_is_not_in_is_answered_in_their_dm_when_its_url_fails(
    fake: FakeSlack, ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    """A moderator who is not in the (public) moderator channel opens a post from /pending's link
    and presses Approve there; the press's response_url has expired. Slack refuses copbot's
    chat.postEphemeral to someone not in the channel (user_not_in_channel), and the answer was
    lost, with a warning only the admins read. Now it reaches them in their DM with copbot."""
    async with moderated(fake, ctx, slack_moderators=f"{MOD},{MO2}") as rig:
        await rig.command("/submit", "2.4 https://example.org/acronyms")
        (post,) = rig.posts_in(MODS)
        fake.fail_responses(404, "expired_url")
        fake.fail(MODS, "user_not_in_channel", methods={"chat.postEphemeral"})
        with caplog.at_level(logging.WARNING, logger="copbot.slack"):
            await rig.press(Answer.of(post), "Approve", user=MO2, channel=MODS, ts=post.ts)

    (dm,) = fake.dms(MO2)
    assert "Approved 2.4 #1: <https://example.org/acronyms> from ann" in Answer.of(dm).shown
    (warning,) = warnings(caplog)
    assert "HTTP 404" in warning and "chat.postMessage" in warning
