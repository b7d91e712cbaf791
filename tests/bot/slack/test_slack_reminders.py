"""Stale claims on Slack: one DM with two buttons, renew or release from the DM, fallbacks, expiry.

The sweep is built by ``bot.runner.make_sweeper`` as ``copbot run`` builds it, and sends through
the real front end to the fake Slack; the clock moves, nothing sleeps.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.outbound import ChannelRefused, MaybeSent, NotDelivered, Revoked, Unreachable
from bot.reminders import Sweeper
from commands.types import Context, Reply
from storage.models import Claim
from tests.bot.slack.slack_rig import ANN, BOB, CAT, MOD, REMIND, Answer, Rig, moderated
from tests.fakes.slack_api import Call, FakeSlack
from tests.support.clock import FakeClock

TEAM = "T0FAKE"


@pytest.fixture
async def rig(fake: FakeSlack, ctx: Context) -> AsyncIterator[Rig]:
    """The front end and the sweep, with SLACK_REMINDER_CHANNEL=C0REMIND."""
    async with moderated(fake, ctx) as rig:
        yield rig


def sweeper(rig: Rig) -> Sweeper:
    assert rig.sweeper is not None
    return rig.sweeper


async def claim(rig: Rig, user: str, number: str = "3.11") -> Claim:
    """``/claim number`` as ``user`` on Slack; the stored claim."""
    answer = await rig.command("/claim", number, user=user)
    assert "You claimed" in answer.shown, answer.shown
    return await latest(rig, user, number)


async def latest(rig: Rig, user: str, number: str = "3.11") -> Claim:
    claims = [c for c in await rig.ctx.store.claims_for_problem(number) if c.user_id == user]
    return claims[-1]


def dm_of(rig: Rig, user: str) -> list[Call]:
    return rig.fake.dms(user)


async def test_a_stale_claim_gets_exactly_one_dm_with_two_buttons(rig: Rig, clock: FakeClock) -> None:
    mine = await claim(rig, ANN)
    assert (mine.platform, mine.community_id) == ("slack", TEAM)
    clock.advance(days=30, minutes=-1)  # a minute short of 30 days of silence
    assert (await sweeper(rig).run_once()).stale == 0 and rig.fake.posts == []

    clock.advance(minutes=2)  # a minute past them
    reports = [await sweeper(rig).run_once() for _ in range(3)]

    assert [r.delivered for r in reports] == [{"dm": 1}, {}, {}]
    (dm,) = dm_of(rig, ANN)
    assert [c["users"] for c in rig.fake.calls_to("conversations.open")] == [ANN]
    assert dm.channel == "D0ANN"
    reminder = Answer.of(dm)
    assert reminder.header == "Still working on 3.11?"
    assert "You claimed 3.11 — Train a model on multiple algorithmic tasks" in reminder.shown
    assert "on 2026-11-25. Still working on it?" in reminder.shown
    assert reminder.buttons == ["Still working on it", "Release it"]
    assert [reminder.button(b)["action_id"] for b in reminder.buttons] == [
        f"cop:renew:{mine.id}",
        f"cop:drop:{mine.id}",
    ]
    assert "<@" not in dm["text"]  # a DM pings its reader anyway; nobody else is named
    card = await rig.command("/problem", "3.11", user=BOB)
    assert "stale: no news since 2026-11-25" in card.shown


async def test_still_working_on_it_from_the_dm_renews_the_claim_today(rig: Rig, clock: FakeClock) -> None:
    await claim(rig, ANN)
    clock.advance(days=31)
    await sweeper(rig).run_once()
    (dm,) = dm_of(rig, ANN)

    answer = await rig.click(Answer.of(dm), "Still working on it", user=ANN, channel=dm.channel, ts=dm.ts)

    assert not answer.public and "Renewed your claim on 3.11 today (2026-12-26). Good luck!" in answer.shown
    renewed = await latest(rig, ANN)
    assert renewed.state == "active" and renewed.renewed_at == clock()
    clock.advance(days=29)
    await sweeper(rig).run_once()
    assert len(dm_of(rig, ANN)) == 1  # the clock restarted at the renewal


async def test_release_it_from_the_dm_ends_the_claim_and_is_only_for_the_claimant(
    rig: Rig, clock: FakeClock
) -> None:
    await claim(rig, ANN)
    clock.advance(days=31)
    await sweeper(rig).run_once()
    (dm,) = dm_of(rig, ANN)
    reminder = Answer.of(dm)

    refused = await rig.click(reminder, "Release it", user=BOB, channel=dm.channel, ts=dm.ts)
    released = await rig.click(reminder, "Release it", user=ANN, channel=dm.channel, ts=dm.ts)
    again = await rig.click(reminder, "Still working on it", user=ANN, channel=dm.channel, ts=dm.ts)

    assert "Only the claimant can answer this reminder." in refused.shown
    assert "Released your claim on 3.11. Thanks for saying so!" in released.shown
    assert "already ended (released)" in again.shown
    assert (await latest(rig, ANN)).state == "released"
    assert (
        "*Earlier claims*\n• ann — 2026-11-25 to 2026-12-26, released"
        in (await rig.command("/problem", "3.11")).shown
    )


async def test_a_click_in_a_dm_acts_for_the_workspace(rig: Rig) -> None:
    """In a DM (channel D…) the actor's community is still the team: a claim made there is the
    workspace's, and shows on /problem in any channel."""
    card = await rig.command("/problem", "2.4", user=BOB, channel_id="D0BOB", channel_name="directmessage")

    await rig.click(card, "Claim", user=BOB, channel="D0BOB")

    bobs = await latest(rig, BOB, "2.4")
    assert (bobs.platform, bobs.community_id, bobs.state) == ("slack", TEAM, "active")
    assert "bob — since 2026-11-25 (today)" in (await rig.command("/problem", "2.4", user=ANN)).shown


@pytest.mark.parametrize(
    ("error", "methods"),
    [
        ("cannot_dm_bot", {"conversations.open"}),
        ("messages_tab_disabled", {"chat.postMessage"}),
        ("channel_not_found", None),
    ],
)
async def test_an_undeliverable_dm_mentions_the_claimant_in_the_reminder_channel(
    rig: Rig, clock: FakeClock, error: str, methods: set[str] | None
) -> None:
    mine = await claim(rig, ANN)
    rig.fake.fail(ANN, error, methods=methods)
    clock.advance(days=31)

    report = await sweeper(rig).run_once()

    assert report.delivered == {"channel": 1}
    assert dm_of(rig, ANN) == []
    (post,) = rig.posts_in(REMIND)
    assert post["text"].startswith(f"<@{ANN}> Still working on 3.11?")
    section = next(b for b in post.blocks if b["type"] == "section")
    assert section["text"]["text"].startswith(f"<@{ANN}> You claimed 3.11")
    assert Answer.of(post).buttons == ["Still working on it", "Release it"]
    assert set(re.findall(r"<@([A-Z0-9]+)>", json.dumps(post.args))) == {ANN}  # exactly that user is pinged
    assert (await latest(rig, ANN)).delivery == "channel"
    # The buttons work from the channel too, for the claimant only.
    answer = await rig.click(Answer.of(post), "Still working on it", user=ANN, channel=REMIND, ts=post.ts)
    assert "Renewed your claim on 3.11" in answer.shown
    renewed = await latest(rig, ANN)
    assert renewed.id == mine.id and renewed.state == "active"
    # The post says how it was answered (the answer above is Ann's alone), and has no buttons left.
    now = rig.current(REMIND, post.ts)
    assert now.buttons == [] and now.shown.endswith(
        "*Answered*\n3.11: still working on it, renewed 2026-12-26"
    )


async def test_without_a_reminder_channel_the_claim_is_unreachable_and_the_sweep_goes_on(
    fake: FakeSlack, ctx: Context, clock: FakeClock
) -> None:
    async with moderated(fake, ctx, slack_reminder_channel=None) as rig:
        await claim(rig, ANN, "3.11")
        await claim(rig, BOB, "2.4")
        await claim(rig, CAT, "1.1")
        fake.fail(ANN, "messages_tab_disabled")
        clock.advance(days=31)

        report = await sweeper(rig).run_once()

        assert report.delivered == {"dm": 2, "unreachable": 1}
        anns = await latest(rig, ANN)
        assert anns.unreachable and anns.delivery == "unreachable" and anns.state == "stale"
        assert len(dm_of(rig, BOB)) == 1 and len(dm_of(rig, CAT)) == 1
        assert [c for c in fake.posts if c.channel not in ("D0BOB", "D0CAT")] == []


async def test_a_refused_slack_call_is_retried_at_the_next_sweep(
    rig: Rig, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack answers an error that is not a closed DM (here a missing scope): nothing was sent,
    no channel fallback, a warning; once fixed, the next sweep sends the reminder, once."""
    await claim(rig, ANN, "3.11")
    await claim(rig, BOB, "2.4")
    rig.fake.fail(ANN, "missing_scope", methods={"conversations.open"})
    clock.advance(days=31)

    with caplog.at_level(logging.WARNING, logger="copbot.reminders"):
        report = await sweeper(rig).run_once()

    assert report.delivered == {"dm": 1, "retry": 1}
    assert rig.posts_in(REMIND) == [] and len(dm_of(rig, BOB)) == 1
    assert "missing_scope" in caplog.text and (await latest(rig, ANN)).delivery == "retry"
    rig.fake.clear_failures()
    again = await sweeper(rig).run_once()
    await sweeper(rig).run_once()
    assert again.delivered == {"dm": 1} and len(dm_of(rig, ANN)) == 1


@pytest.mark.parametrize("error", ["user_disabled", "user_not_found"])
async def test_a_deactivated_claimant_is_not_pinged_and_the_claim_still_expires(
    rig: Rig, clock: FakeClock, error: str
) -> None:
    """Ann's Slack account was deactivated (or removed): opening a DM with her fails. She used to
    be @-mentioned in the reminder channel, and again at expiry, though she can never answer.
    Now nobody is pinged; her claim is written down as not reachable, and expires as scheduled."""
    await claim(rig, ANN)
    rig.fake.fail(ANN, error, methods={"conversations.open"})
    clock.advance(days=31)

    assert (await sweeper(rig).run_once()).delivered == {"unreachable": 1}

    assert rig.posts_in(REMIND) == [] and dm_of(rig, ANN) == []
    assert (await latest(rig, ANN)).delivery == "unreachable"
    clock.advance(days=15)
    assert (await sweeper(rig).run_once()).expired == 1
    assert rig.posts_in(REMIND) == []
    assert (await latest(rig, ANN)).state == "expired"


async def test_send_dm_raises_unreachable_only_for_users_who_cannot_be_messaged(rig: Rig) -> None:
    rig.fake.fail(ANN, "user_disabled")
    rig.fake.fail(BOB, "missing_scope")
    rig.fake.fail(MOD, "invalid_auth")

    with pytest.raises(Unreachable, match="user_disabled"):
        await rig.front.send_dm(TEAM, ANN, Reply(text="hi"))
    with pytest.raises(NotDelivered, match="missing_scope"):
        await rig.front.send_dm(TEAM, BOB, Reply(text="hi"))
    # copbot's token refused: the app was uninstalled, nobody there can be messaged any more.
    with pytest.raises(Revoked, match="invalid_auth"):
        await rig.front.send_dm(TEAM, MOD, Reply(text="hi"))
    rig.fake.fail("C0SECRET", "not_in_channel")
    with pytest.raises(ChannelRefused, match="not_in_channel"):  # an admin can invite copbot
        await rig.front.send_channel(TEAM, "C0SECRET", Reply(text="hi"))
    rig.fake.fail("C0OLD", "is_archived")
    with pytest.raises(Unreachable, match="is_archived"):
        await rig.front.send_channel(TEAM, "C0OLD", Reply(text="hi"))
    posted = await rig.front.send_dm(TEAM, CAT, Reply(text="hi"))
    assert (posted.channel_id, posted.url) == ("D0CAT", None)


@pytest.mark.parametrize(
    "fault",
    [{"error": "internal_error"}, {"error": "fatal_error"}, {"error": "service_unavailable", "status": 503}],
    ids=["internal_error", "fatal_error", "http-503"],
)
async def test_a_server_error_on_a_post_may_have_posted_it(rig: Rig, fault: dict[str, Any]) -> None:
    """Slack says "some aspect of the operation may have succeeded": MaybeSent, never "certainly
    not sent" (which would send a notice twice). Opening the DM failing is NotDelivered: nothing
    was posted."""
    rig.fake.fail(ANN, methods={"chat.postMessage"}, times=1, **fault)
    rig.fake.fail("C0GENERAL", methods={"chat.postMessage"}, times=1, **fault)
    rig.fake.fail(BOB, methods={"conversations.open"}, times=1, **fault)

    with pytest.raises(MaybeSent, match=fault["error"]):
        await rig.front.send_dm(TEAM, ANN, Reply(text="Your link was approved."))
    with pytest.raises(MaybeSent, match=fault["error"]):
        await rig.front.send_channel(TEAM, "C0GENERAL", Reply(text="hi"))
    with pytest.raises(NotDelivered, match=fault["error"]):
        await rig.front.send_dm(TEAM, BOB, Reply(text="Your link was approved."))


async def test_a_rate_limited_dm_is_retried(rig: Rig, clock: FakeClock) -> None:
    await claim(rig, ANN)
    rig.fake.rate_limit("chat.postMessage", retry_after=0)
    clock.advance(days=31)

    report = await sweeper(rig).run_once()

    assert report.delivered == {"dm": 1} and len(dm_of(rig, ANN)) == 1
    assert [c.status for c in rig.fake.calls_to("chat.postMessage")] == [429, 200]


async def test_a_sweep_during_a_slack_outage_stops_asking_and_reminds_everyone_once_it_is_over(
    rig: Rig, clock: FakeClock
) -> None:
    """Slack answers 503 to every conversations.open: the sweep does not go on asking once per
    claimant but leaves the rest for the next sweep; once Slack is back, each gets one DM."""
    users = [f"U{i:05d}" for i in range(60)]
    for user in users:
        rig.fake.add_user(user)
    at = clock() - timedelta(days=31)
    await rig.ctx.store.execute(
        sa.insert(Claim),
        [
            {"problem_number": "3.11", "platform": "slack", "community_id": TEAM, "user_id": user}
            | {"display_name": user, "claimed_at": at, "renewed_at": at, "note": ""}
            for user in users
        ],
    )
    rig.fake.fail_method("conversations.open", "service_unavailable", times=None, status=503)

    report = await sweeper(rig).run_once()

    assert report.delivered == {"retry": 60}
    asked = rig.fake.calls_to("conversations.open")
    assert len(asked) <= 2 * sweeper(rig).concurrency, f"{len(asked)} DMs asked of a Slack that is down"
    rig.fake.clear_failures()
    clock.advance(hours=1)
    await sweeper(rig).run_once()
    assert sorted(len(dm_of(rig, user)) for user in users) == [1] * 60


async def test_no_answer_expires_the_claim_after_the_grace_period(rig: Rig, clock: FakeClock) -> None:
    await claim(rig, ANN)
    clock.advance(days=31)
    await sweeper(rig).run_once()
    clock.advance(days=14, hours=11, minutes=59)  # 23:59 on the day named
    assert (await sweeper(rig).run_once()).expired == 0

    clock.advance(minutes=2)  # that day is over
    reports = [await sweeper(rig).run_once() for _ in range(2)]

    assert [r.expired for r in reports] == [1, 0]
    reminder, notice = dm_of(rig, ANN)
    expired = Answer.of(notice)
    assert expired.header == "Your claim on 3.11 expired"
    assert "expired without an answer to the reminder. /claim 3.11 again any time" in expired.shown
    assert expired.buttons == []
    card = await rig.command("/problem", "3.11", user=BOB)
    assert "*Earlier claims*\n• ann — 2026-11-25 to 2027-01-10, expired" in card.shown
    # The reminder's buttons are too late now.
    late = await rig.click(
        Answer.of(reminder), "Still working on it", user=ANN, channel="D0ANN", ts=reminder.ts
    )
    assert "already ended (expired)" in late.shown


async def test_an_expiry_notice_whose_dm_could_not_be_opened_is_sent_at_the_next_sweep(
    rig: Rig, clock: FakeClock
) -> None:
    """The connection drops while Slack opens the DM for the notice that Ann's claim expired:
    nothing was posted, so the next sweep sends it, once (it used to be written off)."""
    await claim(rig, ANN)
    clock.advance(days=31)
    await sweeper(rig).run_once()
    clock.advance(days=15)
    rig.fake.fail(ANN, methods=["conversations.open"], drop=True, times=2)  # and slack_sdk's one retry

    assert (await sweeper(rig).run_once()).expired == 1
    assert len(dm_of(rig, ANN)) == 1  # the reminder only
    await sweeper(rig).run_once()
    await sweeper(rig).run_once()

    reminder, notice = dm_of(rig, ANN)
    assert Answer.of(notice).header == "Your claim on 3.11 expired"


async def test_the_expiry_notice_falls_back_to_the_reminder_channel(rig: Rig, clock: FakeClock) -> None:
    await claim(rig, ANN)
    clock.advance(days=31)
    await sweeper(rig).run_once()
    rig.fake.fail(ANN, "messages_tab_disabled", methods={"chat.postMessage"})
    clock.advance(days=15)

    await sweeper(rig).run_once()

    (post,) = rig.posts_in(REMIND)
    assert post["text"].startswith(f"<@{ANN}> Your claim on 3.11 expired")


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found", "restricted_action"])
async def test_a_reminder_channel_copbot_may_not_post_in_holds_the_reminder_until_it_can(
    rig: Rig, clock: FakeClock, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    """Ann cannot get DMs and copbot was not invited to SLACK_REMINDER_CHANNEL (or may not post
    there): the reminder waits (the claim does not expire, however long), one warning per sweep
    names the channel and its setting; once copbot is invited the next sweep posts it, and the
    grace runs from then."""
    await claim(rig, ANN, "3.11")
    await claim(rig, BOB, "2.4")
    rig.fake.fail(ANN, "messages_tab_disabled")
    rig.fake.fail(BOB, "messages_tab_disabled")
    rig.fake.fail(REMIND, error, times=4)  # two sweeps of two claims
    clock.advance(days=31)

    with caplog.at_level(logging.WARNING, logger="copbot.reminders"):
        first = await sweeper(rig).run_once()
        clock.advance(days=30)
        later = await sweeper(rig).run_once()

    assert [first.delivered, later.delivered] == [{"retry": 2}, {"retry": 2}]
    assert later.expired == 0 and rig.posts_in(REMIND) == []
    assert [c.error for c in rig.fake.calls_to("chat.postMessage") if c.channel == REMIND] == [error] * 4
    warned = [r.getMessage() for r in caplog.records if "may not post in" in r.getMessage()]
    assert len(warned) == 2, warned  # once per sweep, not once per claim
    assert f"the reminder channel {REMIND} (SLACK_REMINDER_CHANNEL) of slack community {TEAM}" in warned[0]
    assert "2 message(s) wait and are sent again at each sweep" in warned[0] and error in warned[0]
    anns = await latest(rig, ANN)
    assert (anns.state, anns.delivery, anns.unreachable) == ("stale", "retry", False)
    assert "could not be reached" not in (await rig.command("/history", "3.11", user=ANN)).shown

    clock.advance(days=1)  # copbot was invited meanwhile
    fixed = await sweeper(rig).run_once()

    assert fixed.delivered == {"channel": 2}
    assert sorted(p["text"].split()[0] for p in rig.posts_in(REMIND)) == [f"<@{ANN}>", f"<@{BOB}>"]
    assert (
        "2027-01-26 · ann was reminded that their claim had gone stale"
        in (await rig.command("/history", "3.11", user=ANN)).shown
    )
    clock.advance(days=14, hours=11, minutes=59)  # 23:59 on the day named
    assert (await sweeper(rig).run_once()).expired == 0
    clock.advance(minutes=2)  # that day is over
    assert (await sweeper(rig).run_once()).expired == 2


async def test_while_the_reminder_channel_refuses_a_sweep_calls_slack_once_a_claimant(
    rig: Rig, clock: FakeClock
) -> None:
    """Ann and Bob cannot get DMs and copbot was not invited to the reminder channel: each
    (hourly) sweep opened and posted each DM again, refused again, before the channel post,
    refused too. Now a DM found closed is tried again once a day; in between a sweep makes one
    call a claimant (the channel post), and the reminders go out the sweep copbot is invited."""
    await claim(rig, ANN, "3.11")
    await claim(rig, BOB, "2.4")
    rig.fake.fail(ANN, "messages_tab_disabled")
    rig.fake.fail(BOB, "messages_tab_disabled")
    rig.fake.fail(REMIND, "not_in_channel", times=8)  # four sweeps of two claims
    clock.advance(days=31)
    assert (await sweeper(rig).run_once()).delivered == {"retry": 2}  # DMs tried, then the channel
    for hour in range(1, 4):
        clock.advance(hours=1)
        before = len(rig.fake.calls)
        assert (await sweeper(rig).run_once()).delivered == {"retry": 2}
        calls = [(c.method, c.channel, c.error) for c in rig.fake.calls[before:]]
        assert calls == [("chat.postMessage", REMIND, "not_in_channel")] * 2, (hour, calls)

    clock.advance(hours=1)  # copbot was invited meanwhile
    assert (await sweeper(rig).run_once()).delivered == {"channel": 2}
    assert sorted(p["text"].split()[0] for p in rig.posts_in(REMIND)) == [f"<@{ANN}>", f"<@{BOB}>"]


async def test_an_archived_reminder_channel_is_no_channel_and_the_history_says_so(
    rig: Rig, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await claim(rig, ANN)
    rig.fake.fail(ANN, "messages_tab_disabled")
    rig.fake.fail(REMIND, "is_archived")
    clock.advance(days=31)

    with caplog.at_level(logging.WARNING, logger="copbot.reminders"):
        report = await sweeper(rig).run_once()

    assert report.delivered == {"unreachable": 1} and (await latest(rig, ANN)).unreachable
    shown = (await rig.command("/history", "3.11", user=ANN)).shown
    assert "2026-12-26 · ann could not be reached: no DM, and the reminder channel is gone" in shown
    assert f"{REMIND} (SLACK_REMINDER_CHANNEL) of slack community {TEAM} cannot be used" in caplog.text


@pytest.mark.parametrize(
    ("fault", "seen"),
    [
        ({"error": "service_unavailable", "status": 503, "times": 1}, "service_unavailable"),
        ({"error": "internal_error", "times": 1}, "internal_error"),
        # Cut twice: the Slack client tries a lost connection once more by itself (after ~1 s).
        ({"drop": True, "times": 2}, "the connection to Slack failed"),
    ],
    ids=["http-503", "internal_error", "connection-lost"],
)
async def test_an_outage_on_the_reminder_dm_is_retried_at_the_next_sweep(
    rig: Rig, clock: FakeClock, caplog: pytest.LogCaptureFixture, fault: dict[str, Any], seen: str
) -> None:
    """Slack fails on the DM (a 5xx, an internal error, a lost connection): a warning without
    traceback, no fallback to the channel, and the next sweep sends the DM, once."""
    await claim(rig, ANN)
    rig.fake.fail(ANN, methods={"chat.postMessage"}, **fault)
    clock.advance(days=31)

    with caplog.at_level(logging.WARNING, logger="copbot.reminders"):
        first = await sweeper(rig).run_once()
        clock.advance(hours=1)
        second = await sweeper(rig).run_once()

    assert first.delivered == {"retry": 1} and rig.posts_in(REMIND) == []
    (warning, *_) = [r for r in caplog.records if r.name == "copbot.reminders"]
    assert warning.levelno == logging.WARNING and warning.exc_info is None and seen in warning.getMessage()
    assert second.delivered == {"dm": 1} and len(dm_of(rig, ANN)) == 1
    assert (await latest(rig, ANN)).delivery == "dm"


async def test_three_claims_going_stale_together_get_one_dm_with_each_claims_buttons(
    rig: Rig, clock: FakeClock
) -> None:
    """Ann's three claims go quiet together: one DM lists them, two buttons each naming the
    problem; each acts on its own claim. Bob's DMs are closed: one post in the reminder channel."""
    numbers = ["3.11", "2.4", "1.1"]
    mine = []
    for number in numbers:
        mine.append(await claim(rig, ANN, number))
        clock.advance(minutes=1)
    for number in numbers:
        await claim(rig, BOB, number)
    rig.fake.fail(BOB, "messages_tab_disabled", methods={"chat.postMessage"})
    clock.advance(days=31)

    report = await sweeper(rig).run_once()
    await sweeper(rig).run_once()

    assert report.delivered == {"dm": 3, "channel": 3}
    (dm,) = dm_of(rig, ANN)
    reminder = Answer.of(dm)
    assert reminder.header == "Still working on 3 problems?"
    assert all(f"{n} — " in reminder.shown for n in numbers)
    assert [(b, reminder.button(b)["action_id"]) for b in reminder.buttons] == [
        (f"{verb} {c.problem_number}", f"cop:{action}:{c.id}")
        for c in mine
        for verb, action in (("Still on", "renew"), ("Release", "drop"))
    ]
    assert [(await latest(rig, ANN, n)).delivery for n in numbers] == ["dm"] * 3
    released = await rig.click(reminder, "Release 2.4", user=ANN, channel=dm.channel, ts=dm.ts)
    renewed = await rig.click(reminder, "Still on 1.1", user=ANN, channel=dm.channel, ts=dm.ts)
    assert "Released your claim on 2.4. Thanks for saying so!" in released.shown
    assert "Renewed your claim on 1.1 today" in renewed.shown
    assert [(await latest(rig, ANN, n)).state for n in numbers] == ["stale", "released", "active"]
    (post,) = rig.posts_in(REMIND)
    assert post["text"].startswith(f"<@{BOB}> ") and len(Answer.of(post).buttons) == 6
    assert [(await latest(rig, BOB, n)).delivery for n in numbers] == ["channel"] * 3


async def test_more_stale_claims_than_one_message_holds_go_in_two_dms(rig: Rig, clock: FakeClock) -> None:
    """Fourteen claims: 12 in the first DM (24 buttons), 2 in the second, each in one of them."""
    numbers = [p.number for p in await rig.ctx.store.problems()][:14]
    for number in numbers:
        await claim(rig, ANN, number)
    clock.advance(days=31)

    report = await sweeper(rig).run_once()

    assert report.delivered == {"dm": 14}
    first, second = (Answer.of(dm) for dm in dm_of(rig, ANN))
    assert (len(first.buttons), len(second.buttons)) == (24, 4)
    drops = {a.button(b)["action_id"] for a in (first, second) for b in a.buttons if b.startswith("Release")}
    assert len(drops) == 14


async def test_a_refused_reminder_sent_again_with_new_stale_claims_goes_in_the_same_dm(
    rig: Rig, clock: FakeClock
) -> None:
    """Slack refuses Ann's reminder about 3.11 (a missing scope); by the next sweep 2.4 has gone
    quiet too: one DM names both, with each claim's buttons, and each claim is reminded once."""
    first = await claim(rig, ANN, "3.11")
    clock.advance(days=5)
    second = await claim(rig, ANN, "2.4")
    clock.advance(days=26)
    rig.fake.fail(ANN, "missing_scope", methods={"conversations.open"})
    assert (await sweeper(rig).run_once()).delivered == {"retry": 1} and dm_of(rig, ANN) == []
    rig.fake.clear_failures()

    clock.advance(days=5)
    reports = [await sweeper(rig).run_once() for _ in range(2)]

    assert [r.delivered for r in reports] == [{"dm": 2}, {}]
    (dm,) = dm_of(rig, ANN)
    reminder = Answer.of(dm)
    assert reminder.header == "Still working on 2 problems?"
    assert [reminder.button(b)["action_id"] for b in reminder.buttons] == [
        f"cop:{action}:{c.id}" for c in (first, second) for action in ("renew", "drop")
    ]
    assert [(await latest(rig, ANN, n)).delivery for n in ("3.11", "2.4")] == ["dm", "dm"]


async def test_a_refused_expiry_notice_sent_again_with_new_expiries_goes_in_the_same_dm(
    rig: Rig, clock: FakeClock
) -> None:
    """Slack refuses Ann's notice that 3.11 expired; by the next sweep her claim on 2.4 has
    expired too: one DM tells her of both, once."""
    await claim(rig, ANN, "3.11")
    clock.advance(days=5)
    await claim(rig, ANN, "2.4")
    clock.advance(days=26)
    await sweeper(rig).run_once()  # the reminder about 3.11
    clock.advance(days=5)
    await sweeper(rig).run_once()  # the reminder about 2.4
    assert len(dm_of(rig, ANN)) == 2
    clock.advance(days=10, minutes=1)  # 3.11's grace is over
    rig.fake.fail(ANN, "missing_scope", methods={"conversations.open"})
    assert (await sweeper(rig).run_once()).expired == 1 and len(dm_of(rig, ANN)) == 2
    rig.fake.clear_failures()

    clock.advance(days=5)  # 2.4's grace is over
    reports = [await sweeper(rig).run_once() for _ in range(2)]

    assert [r.expired for r in reports] == [1, 0]
    (notice,) = (Answer.of(dm) for dm in dm_of(rig, ANN)[2:])
    assert notice.header == "Your claims on 2 problems expired"
    assert all(f"{n} — " in notice.shown for n in ("3.11", "2.4"))
    assert [(await latest(rig, ANN, n)).notice for n in ("3.11", "2.4")] == ["dm", "dm"]


async def reminded_of_two(rig: Rig, clock: FakeClock) -> Call:
    """Ann claims 3.11 and 2.4, which go stale together: the one DM reminding her of both."""
    await claim(rig, ANN, "3.11")
    await claim(rig, ANN, "2.4")
    clock.advance(days=31)
    await sweeper(rig).run_once()
    (dm,) = dm_of(rig, ANN)
    return dm


async def test_an_answered_reminder_loses_the_buttons_of_the_claim_it_answered(
    rig: Rig, clock: FakeClock
) -> None:
    """Ann answers for 3.11 in a reminder about two claims: its buttons leave the DM (by
    chat.update), 2.4's stay; once she answers for 2.4 too, no buttons are left to mislead her."""
    dm = await reminded_of_two(rig, clock)

    await rig.click(Answer.of(dm), "Still on 3.11", user=ANN, channel=dm.channel, ts=dm.ts)
    now = rig.current(dm.channel, dm.ts)
    assert now.buttons == ["Still on 2.4", "Release 2.4"]
    assert now.header == "Still working on 2 problems?" and "3.11 — " in now.shown  # what it says stays

    answer = await rig.click(now, "Release 2.4", user=ANN, channel=dm.channel, ts=dm.ts)
    assert not answer.public and "Released your claim on 2.4" in answer.shown
    assert rig.current(dm.channel, dm.ts).buttons == []
    both = "*Answered*\n3.11: still working on it, renewed 2026-12-26\n2.4: released 2026-12-26"
    assert rig.current(dm.channel, dm.ts).shown.endswith(both)
    assert [(await latest(rig, ANN, n)).state for n in ("3.11", "2.4")] == ["active", "released"]


async def test_a_reminder_pressed_after_its_claim_ended_says_so_and_loses_its_buttons(
    rig: Rig, clock: FakeClock
) -> None:
    """Ann released 3.11 with /release after the reminder came: the reminder's Release it says
    the claim already ended and that nothing changed, and its buttons go. Bob's press on a
    reminder that is not his changes nothing on it."""
    await claim(rig, ANN)
    clock.advance(days=31)
    await sweeper(rig).run_once()
    (dm,) = dm_of(rig, ANN)
    assert "Released your claim on 3.11" in (await rig.command("/release", "3.11", user=ANN)).shown

    refused = await rig.click(Answer.of(dm), "Release it", user=BOB, channel=dm.channel, ts=dm.ts)
    assert not refused.public and "Only the claimant can answer this reminder." in refused.shown
    assert rig.fake.updates == []
    answer = await rig.click(Answer.of(dm), "Release it", user=ANN, channel=dm.channel, ts=dm.ts)

    assert not answer.public
    assert "Your claim on 3.11 has already ended (released); nothing changed." in answer.shown
    assert rig.current(dm.channel, dm.ts).buttons == []


async def test_two_quick_answers_to_one_reminder_leave_neither_claims_buttons_behind(
    rig: Rig, clock: FakeClock
) -> None:
    """Ann presses Still on 3.11 and, before Slack showed her the DM without its buttons,
    Release 2.4 (her second press carries the DM as it was, all four buttons on it): the DM ends
    with no buttons, rather than 3.11's coming back for her to press again later."""
    dm = await reminded_of_two(rig, clock)

    await rig.click(Answer.of(dm), "Still on 3.11", user=ANN, channel=dm.channel, ts=dm.ts)
    assert rig.current(dm.channel, dm.ts).buttons == ["Still on 2.4", "Release 2.4"]
    answer = await rig.click(Answer.of(dm), "Release 2.4", user=ANN, channel=dm.channel, ts=dm.ts)
    assert "Released your claim on 2.4" in answer.shown

    assert rig.current(dm.channel, dm.ts).buttons == []
    both = "*Answered*\n3.11: still working on it, renewed 2026-12-26\n2.4: released 2026-12-26"
    assert rig.current(dm.channel, dm.ts).shown.endswith(both)


@pytest.mark.parametrize("error", ["invalid_blocks", "msg_too_long"])
async def test_a_reminder_slack_refuses_for_good_is_written_off_once_and_the_claim_expires(
    rig: Rig, clock: FakeClock, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    """Slack refuses every message to Ann for the message itself (``invalid_blocks``,
    ``msg_too_long``): the same message is refused at every try. Her reminder is not asked for
    again at each sweep with 3.11 held for good: one error names Slack's code (not the token),
    /history says why, the claim expires after the grace like one with closed DMs, and its
    expiry notice, refused too, is failed once."""
    await claim(rig, ANN, "3.11")
    await claim(rig, BOB, "2.4")
    rig.fake.fail(ANN, error, methods={"chat.postMessage"})
    clock.advance(days=31)

    with caplog.at_level(logging.WARNING, logger="copbot.reminders"):
        assert (await sweeper(rig).run_once()).delivered == {"dm": 1, "unreachable": 1}

    (logged,) = [r for r in caplog.records if r.name == "copbot.reminders"]
    assert logged.levelno == logging.ERROR and error in logged.getMessage()
    assert "xoxb" not in logged.getMessage()
    refused = await latest(rig, ANN)
    assert refused.delivery == "unreachable" and refused.state == "stale"
    history = await rig.command("/history", "3.11", user=BOB)
    assert f"Slack refused the message ({error})" in history.shown, history.shown
    assert rig.posts_in(REMIND) == [] and len(rig.fake.calls_to("chat.postMessage", ok=False)) == 1
    clock.advance(hours=1)
    assert (await sweeper(rig).run_once()).delivered == {}
    clock.advance(days=14, hours=11, minutes=1)  # tried at 12:00: after the day named ends
    reports = [await sweeper(rig).run_once() for _ in range(3)]

    assert [r.expired for r in reports] == [2, 0, 0]
    gone = await latest(rig, ANN)
    assert gone.state == "expired" and gone.notice == "failed"
    assert len(rig.fake.calls_to("chat.postMessage", ok=False)) == 2 and dm_of(rig, ANN) == []
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 2
    caplog.clear()
