"""Stale claims on Discord: one DM with two buttons, renew or release from the DM, fallbacks, expiry.

The sweep is built by ``bot.runner.make_sweeper`` as ``copbot run`` builds it (the reminder
channel comes from ``/setup``) and sends through the real client to the fake Discord; the clock
moves, nothing sleeps.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import Settings
from commands.types import Context
from storage.models import Claim
from tests.bot.discord.discord_rig import TOKEN, Moderated, ask, buttons, embed, moderated, text_of
from tests.fakes.discord_api import Callback, FakeDiscord
from tests.support.clock import FakeClock
from tests.support.logged import copbot_logging
from tests.support.pg import lock_rows, lock_waiters


async def configure(fake: FakeDiscord, **options: Any) -> None:
    saved = await ask(fake, "setup set", options, user_id=fake.owner_id)
    assert embed(saved)["description"] == "Settings saved.", embed(saved)


@pytest.fixture
async def rig(fake: FakeDiscord, ctx: Context, db_url: str) -> AsyncIterator[Moderated]:
    """copbot with the sweep, after an admin set a reminder channel with /setup."""
    fake.add_channel("reminders")
    async with moderated(fake, ctx, db_url) as rig:
        await configure(fake, reminder_channel=fake.channel_id("reminders"))
        yield rig


async def claim(rig: Moderated, user_id: int, number: str = "3.11") -> Claim:
    """``/claim number`` in the server; the stored claim."""
    answer = await ask(rig.fake, "claim", {"number": number}, user_id=user_id)
    assert "You claimed" in embed(answer)["description"], embed(answer)
    return await latest(rig, user_id, number)


async def latest(rig: Moderated, user_id: int, number: str = "3.11") -> Claim:
    claims = [c for c in await rig.bot.ctx.store.claims_for_problem(number) if c.user_id == str(user_id)]
    return claims[-1]


async def click(fake: FakeDiscord, message: dict[str, Any], label: str, user_id: int) -> Callback:
    iid = await fake.click(message, dict(buttons(message))[label], user_id=user_id)
    return await fake.wait_for_callback(iid)


def answered(message: dict[str, Any]) -> list[str]:
    """The lines of a reminder's Answered field (how each claim was answered), or []."""
    fields = message["embeds"][0].get("fields") or []
    return next((f["value"].splitlines() for f in fields if f["name"] == "Answered"), [])


def reminders(fake: FakeDiscord) -> list[dict[str, Any]]:
    return fake.messages[fake.channel_id("reminders")]


async def test_a_stale_claim_gets_exactly_one_dm_with_two_buttons(rig: Moderated, clock: FakeClock) -> None:
    fake = rig.fake
    mine = await claim(rig, fake.alice_id)
    assert (mine.platform, mine.community_id) == ("discord", str(fake.guild_id))
    clock.advance(days=30, minutes=-1)  # a minute short of 30 days of silence
    assert (await rig.sweeper.run_once()).stale == 0 and fake.dms[fake.alice_id] == []

    clock.advance(minutes=2)  # a minute past them
    reports = [await rig.sweeper.run_once() for _ in range(3)]

    assert [r.delivered for r in reports] == [{"dm": 1}, {}, {}]
    (dm,) = fake.dms[fake.alice_id]
    shown = dm["embeds"][0]
    assert shown["title"] == "Still working on 3.11?"
    assert "You claimed 3.11 — Train a model on multiple algorithmic tasks" in shown["description"]
    assert "on 2026-11-25. Still working on it?" in shown["description"]
    assert buttons(dm) == [
        ("Still working on it", f"cop:renew:{mine.id}"),
        ("Release it", f"cop:drop:{mine.id}"),
    ]
    assert not dm["content"]  # a DM needs no mention
    assert reminders(fake) == []
    card = text_of((await ask(fake, "problem", {"number": "3.11"}, user_id=fake.bob_id)).data or {})
    assert "stale: no news since 2026-11-25" in card


async def test_still_working_on_it_in_the_dm_renews_the_claim_today(rig: Moderated, clock: FakeClock) -> None:
    """The click comes from a DM (no server): the claim keeps its server, renewed today."""
    fake = rig.fake
    mine = await claim(rig, fake.alice_id)
    clock.advance(days=31)
    await rig.sweeper.run_once()
    (dm,) = fake.dms[fake.alice_id]

    answer = await click(fake, dm, "Still working on it", fake.alice_id)

    assert "guild_id" not in fake.interactions[answer.interaction_id]
    assert embed(answer)["description"] == "Renewed your claim on 3.11 today (2026-12-26). Good luck!"
    renewed = await latest(rig, fake.alice_id)
    assert renewed.id == mine.id and renewed.state == "active" and renewed.renewed_at == clock()
    assert renewed.community_id == str(fake.guild_id)
    clock.advance(days=29)
    await rig.sweeper.run_once()
    assert len(fake.dms[fake.alice_id]) == 1  # the clock restarted at the renewal


async def test_release_it_in_the_dm_ends_the_claim_for_the_claimant_only(
    rig: Moderated, clock: FakeClock
) -> None:
    fake = rig.fake
    await claim(rig, fake.alice_id)
    clock.advance(days=31)
    await rig.sweeper.run_once()
    (dm,) = fake.dms[fake.alice_id]

    refused = await click(fake, dm, "Release it", fake.bob_id)
    released = await click(fake, dm, "Release it", fake.alice_id)
    again = await click(fake, dm, "Still working on it", fake.alice_id)

    assert embed(refused)["description"] == "Only the claimant can answer this reminder."
    assert embed(released)["description"] == "Released your claim on 3.11. Thanks for saying so!"
    assert "already ended (released)" in embed(again)["description"]
    assert (await latest(rig, fake.alice_id)).state == "released"
    card = text_of((await ask(fake, "problem", {"number": "3.11"})).data or {})
    assert "Alice — 2026-11-25 to 2026-12-26, released" in card


async def test_closed_dms_fall_back_to_the_reminder_channel_pinging_only_the_claimant(
    rig: Moderated, clock: FakeClock
) -> None:
    """403 / 50007 on the DM: the reminder, and later the expiry notice, go to the /setup reminder
    channel with the claimant's mention, allowed to ping that one user only."""
    fake = rig.fake
    mine = await claim(rig, fake.alice_id)
    fake.close_dms(fake.alice_id)
    clock.advance(days=31)

    report = await rig.sweeper.run_once()

    assert report.delivered == {"channel": 1}
    refused_dm = [r for r in fake.requests if r.status == 403]
    assert [r.response["code"] for r in refused_dm] == [50007]
    assert fake.dms[fake.alice_id] == []
    (post,) = reminders(fake)
    assert post["content"] == f"<@{fake.alice_id}>"
    assert post["embeds"][0]["title"] == "Still working on 3.11?"
    sent = [r for r in fake.requests if r.route == "POST /channels/{channel_id}/messages" and r.status == 200]
    assert sent[-1].json["allowed_mentions"] == {"parse": [], "users": [fake.alice_id]}
    assert [label for label, _ in buttons(post)] == ["Still working on it", "Release it"]
    assert (await latest(rig, fake.alice_id)).delivery == "channel"
    # In the channel the buttons answer only the claimant; nobody answers, so the claim expires.
    refused = await click(fake, post, "Still working on it", fake.bob_id)
    assert embed(refused)["description"] == "Only the claimant can answer this reminder."

    clock.advance(days=15)
    assert (await rig.sweeper.run_once()).expired == 1

    notice = reminders(fake)[-1]
    assert notice["content"] == f"<@{fake.alice_id}>"
    assert notice["embeds"][0]["title"] == "Your claim on 3.11 expired"
    assert (await latest(rig, fake.alice_id)).id == mine.id


async def test_a_reminder_channel_denying_embed_links_gets_the_reminder_as_text_with_its_buttons(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock
) -> None:
    """DMs closed, and the reminder channel denies copbot Embed Links: Discord would drop an
    embed, leaving "@Alice" and two buttons that say nothing; the reminder is the message's own
    text instead (which claim, what to do), pinging Alice only, with its buttons; so is the
    expiry notice."""
    deny = {"id": fake.bot_role_id, "type": 0, "deny": ["embed_links"]}
    fake.add_channel("reminders", overwrites=[deny])
    async with moderated(fake, ctx, db_url) as rig:
        await configure(fake, reminder_channel=fake.channel_id("reminders"))
        mine = await claim(rig, fake.alice_id)
        fake.close_dms(fake.alice_id)
        clock.advance(days=31)

        assert (await rig.sweeper.run_once()).delivered == {"channel": 1}

        (post,) = reminders(fake)
        assert post["embeds"] == []
        said = post["content"]
        assert said.startswith(f"<@{fake.alice_id}>\n**Still working on 3.11?**"), said
        assert "You claimed 3.11 — Train a model on multiple algorithmic tasks" in said
        assert "Still working on it?" in said and len(said) <= 2000
        sent = [
            r for r in fake.requests if r.route == "POST /channels/{channel_id}/messages" and r.status == 200
        ]
        assert sent[-1].json["allowed_mentions"] == {"parse": [], "users": [fake.alice_id]}
        assert buttons(post) == [
            ("Still working on it", f"cop:renew:{mine.id}"),
            ("Release it", f"cop:drop:{mine.id}"),
        ]

        clock.advance(days=15)
        assert (await rig.sweeper.run_once()).expired == 1
        notice = reminders(fake)[-1]
        assert notice["embeds"] == [] and notice["content"].startswith(f"<@{fake.alice_id}>\n")
        assert "**Your claim on 3.11 expired**" in notice["content"]
        assert "/claim 3.11 again any time" in notice["content"]


async def test_without_a_reminder_channel_the_claim_is_unreachable_and_the_sweep_goes_on(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock
) -> None:
    async with moderated(fake, ctx, db_url) as rig:
        await claim(rig, fake.alice_id, "3.11")
        await claim(rig, fake.bob_id, "2.4")
        fake.close_dms(fake.alice_id)
        clock.advance(days=31)

        report = await rig.sweeper.run_once()

        assert report.delivered == {"dm": 1, "unreachable": 1}
        alices = await latest(rig, fake.alice_id)
        assert alices.unreachable and alices.delivery == "unreachable" and alices.state == "stale"
        assert len(fake.dms[fake.bob_id]) == 1
        channel_posts = [m for c in fake.channels for m in fake.messages.get(c, [])]
        assert [m for m in channel_posts if not m.get("interaction_metadata")] == []


async def test_no_answer_expires_the_claim_after_the_grace_period(rig: Moderated, clock: FakeClock) -> None:
    fake = rig.fake
    await claim(rig, fake.alice_id)
    clock.advance(days=31)
    await rig.sweeper.run_once()
    clock.advance(days=14, hours=11, minutes=59)  # 23:59 on the day named
    assert (await rig.sweeper.run_once()).expired == 0

    clock.advance(minutes=2)  # that day is over
    reports = [await rig.sweeper.run_once() for _ in range(2)]

    assert [r.expired for r in reports] == [1, 0]
    reminder, notice = fake.dms[fake.alice_id]
    assert notice["embeds"][0]["title"] == "Your claim on 3.11 expired"
    assert "/claim 3.11 again any time" in notice["embeds"][0]["description"]
    assert buttons(notice) == []
    card = text_of((await ask(fake, "problem", {"number": "3.11"}, user_id=fake.bob_id)).data or {})
    assert "Alice — 2026-11-25 to 2027-01-10, expired" in card
    late = await click(fake, reminder, "Still working on it", fake.alice_id)
    assert "already ended (expired)" in embed(late)["description"]


async def stale_with_closed_dms(rig: Moderated, clock: FakeClock) -> None:
    """With the "reminders" channel set as the reminder channel: Alice's claim on 3.11 and Bob's
    on 2.4 gone stale, both with their DMs closed."""
    fake = rig.fake
    await configure(fake, reminder_channel=fake.channel_id("reminders"))
    await claim(rig, fake.alice_id, "3.11")
    await claim(rig, fake.bob_id, "2.4")
    fake.close_dms(fake.alice_id)
    fake.close_dms(fake.bob_id)
    clock.advance(days=31)


@pytest.mark.parametrize(
    ("denied", "code"), [("send_messages", 50013), ("view_channel", 50001)], ids=["send", "view"]
)
async def test_a_reminder_channel_copbot_may_not_post_in_holds_the_reminder_until_an_admin_fixes_it(
    fake: FakeDiscord,
    ctx: Context,
    db_url: str,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    denied: str,
    code: int,
) -> None:
    """DMs closed, and the reminder channel denies copbot Send Messages (or View Channel): the
    reminders wait (the claims do not expire, however long), one warning per sweep names the
    channel and its setting; once the admin fixes the permission the next sweep posts them, and
    the grace runs from then."""
    fake.add_channel("reminders", overwrites=[{"id": fake.bot_role_id, "type": 0, "deny": [denied]}])
    async with moderated(fake, ctx, db_url) as rig:
        await stale_with_closed_dms(rig, clock)

        with caplog.at_level(logging.WARNING, logger="copbot.reminders"):
            first = await rig.sweeper.run_once()
            clock.advance(days=30)
            later = await rig.sweeper.run_once()

        assert [first.delivered, later.delivered] == [{"retry": 2}, {"retry": 2}]
        assert later.expired == 0 and reminders(fake) == []
        refused = [r.response["code"] for r in fake.requests if r.status == 403]
        assert refused.count(code) == 4 and refused.count(50007) == 4
        warned = [r.getMessage() for r in caplog.records if "may not post in" in r.getMessage()]
        assert len(warned) == 2, warned  # once per sweep, not once per claim
        channel = fake.channel_id("reminders")
        said = f"the reminder channel {channel} (/setup set reminder_channel) of discord community"
        assert said in warned[0]
        assert "2 message(s) wait and are sent again at each sweep" in warned[0]
        alices = await latest(rig, fake.alice_id)
        assert (alices.state, alices.delivery, alices.unreachable) == ("stale", "retry", False)
        events = await rig.bot.ctx.store.history("3.11")
        assert [e.kind for e in events if e.claim_id == alices.id] == ["claimed"]  # nothing written off

        await fake.set_overwrites(channel, [])  # the admin fixes it (CHANNEL_UPDATE)
        await fake.sync()
        clock.advance(days=1)
        fixed = await rig.sweeper.run_once()

        assert fixed.delivered == {"channel": 2}
        assert sorted(m["content"] for m in reminders(fake)) == sorted(
            [f"<@{fake.alice_id}>", f"<@{fake.bob_id}>"]
        )
        card = text_of((await ask(fake, "history", {"number": "3.11"}, user_id=fake.bob_id)).data or {})
        assert (
            "2027-01-26 · Alice was reminded that their claim had gone stale" in card
            and "could not be reached" not in card
        )
        clock.advance(days=14, hours=11, minutes=59)  # 23:59 on the day named
        assert (await rig.sweeper.run_once()).expired == 0
        clock.advance(minutes=2)  # that day is over
        assert (await rig.sweeper.run_once()).expired == 2


async def test_a_waiting_reminder_does_not_look_its_claimant_up_again_at_every_sweep(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock
) -> None:
    """DMs closed and the reminder channel refusing copbot: each sweep asked Discord again whether
    Alice and Bob were still in the server (GET member), though the answer was only needed before
    a mention that never went out. Now one lookup a day at most per claimant while the channel
    refuses: the channel is still tried, so the reminder goes out the sweep the channel is mended
    (the DM with the lookup, once a day); and one who left meanwhile is found at the next day's
    lookup, not pinged."""
    fake.add_channel("reminders", overwrites=[{"id": fake.bot_role_id, "type": 0, "deny": ["send_messages"]}])

    def lookups() -> int:
        return len([r for r in fake.requests if r.route == "GET /guilds/{guild_id}/members/{user_id}"])

    def refused_dms() -> int:
        return len([r for r in fake.requests if r.status == 403 and r.response["code"] == 50007])

    async with moderated(fake, ctx, db_url) as rig:
        await stale_with_closed_dms(rig, clock)

        assert (await rig.sweeper.run_once()).delivered == {"retry": 2}
        assert (lookups(), refused_dms()) == (2, 2)
        clock.advance(hours=1)
        assert (await rig.sweeper.run_once()).delivered == {"retry": 2}
        assert (lookups(), refused_dms()) == (2, 2)  # nobody looked up, nor their DM tried, again

        fake.members.pop(fake.bob_id)  # Bob leaves the server
        clock.advance(days=1)  # a day on, each is looked up once more
        assert (await rig.sweeper.run_once()).delivered == {"retry": 1, "unreachable": 1}
        assert lookups() == 4
        assert (await latest(rig, fake.bob_id, "2.4")).delivery == "unreachable"

        await fake.set_overwrites(fake.channel_id("reminders"), [])  # the admin mends the channel
        await fake.sync()
        clock.advance(hours=1)
        assert (await rig.sweeper.run_once()).delivered == {"channel": 1}
        assert lookups() == 4
        assert [m["content"] for m in reminders(fake)] == [f"<@{fake.alice_id}>"]
        assert (await latest(rig, fake.alice_id)).delivery == "channel"


async def test_while_the_reminder_channel_refuses_a_sweep_sends_one_refused_request_a_claimant(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock
) -> None:
    """DMs closed and the reminder channel refusing copbot: each sweep (every hour) sent every
    claimant's DM again, refused again (50007), before the channel post, refused too: two refused
    requests a claimant a sweep, which count toward Discord's invalid-request limit. Now a DM found
    closed is tried again once a day (with its lookup), and in between only the channel is tried:
    one request a claimant a sweep; the reminder goes out the sweep the channel is mended."""
    fake.add_channel("reminders", overwrites=[{"id": fake.bot_role_id, "type": 0, "deny": ["send_messages"]}])

    def sweep_sent(after: int) -> list[tuple[str | None, int]]:
        """Every request a sweep made from ``after`` on (GET member lookups, DMs, posts)."""
        return sorted(
            (r.route, r.status)
            for r in fake.requests[after:]
            if r.method != "GET" or "member" in (r.route or "")
        )

    async with moderated(fake, ctx, db_url) as rig:
        await stale_with_closed_dms(rig, clock)
        assert (await rig.sweeper.run_once()).delivered == {"retry": 2}  # DMs tried, each looked up
        for hour in range(1, 4):
            clock.advance(hours=1)
            before = len(fake.requests)
            assert (await rig.sweeper.run_once()).delivered == {"retry": 2}
            assert sweep_sent(before) == [("POST /channels/{channel_id}/messages", 403)] * 2, hour

        clock.advance(days=1)  # a day on: the DMs are tried again, each claimant looked up again
        before = len(fake.requests)
        assert (await rig.sweeper.run_once()).delivered == {"retry": 2}
        refused = [r.response["code"] for r in fake.requests[before:] if r.status == 403]
        assert sorted(refused) == [50007, 50007, 50013, 50013]
        lookups = [r for r in fake.requests[before:] if r.route == "GET /guilds/{guild_id}/members/{user_id}"]
        assert len(lookups) == 2

        await fake.set_overwrites(fake.channel_id("reminders"), [])  # the admin mends the channel
        await fake.sync()
        clock.advance(hours=1)
        assert (await rig.sweeper.run_once()).delivered == {"channel": 2}
        assert sorted(m["content"] for m in reminders(fake)) == sorted(
            [f"<@{fake.alice_id}>", f"<@{fake.bob_id}>"]
        )


async def test_a_deleted_reminder_channel_is_no_channel_and_the_history_says_so(
    rig: Moderated, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The reminder channel was deleted (404 Unknown Channel): nothing to wait for, the claim is
    not reachable, its history says why, and a warning asks for another channel."""
    fake = rig.fake
    await claim(rig, fake.alice_id)
    fake.close_dms(fake.alice_id)
    del fake.channels[fake.channel_id("reminders")]
    clock.advance(days=31)

    with caplog.at_level(logging.WARNING, logger="copbot.reminders"):
        report = await rig.sweeper.run_once()

    assert report.delivered == {"unreachable": 1}
    assert (await latest(rig, fake.alice_id)).unreachable
    card = text_of((await ask(fake, "history", {"number": "3.11"}, user_id=fake.bob_id)).data or {})
    assert "2026-12-26 · Alice could not be reached: no DM, and the reminder channel is gone" in card
    assert "(/setup set reminder_channel) of discord community" in caplog.text
    assert "set another channel" in caplog.text


async def test_a_server_error_on_the_reminder_dm_is_retried_at_the_next_sweep(
    rig: Moderated, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord answers 503 to the DM: it may or may not have gone out, and a second reminder is
    better than none, so the next sweep sends it again (a warning, no traceback, no fallback to
    the channel), and the grace runs from the DM that arrived."""
    fake = rig.fake
    await claim(rig, fake.alice_id)
    clock.advance(days=31)
    fake.fail("POST", "/channels/{channel_id}/messages", status=503, body={"message": "Service Unavailable"})

    with caplog.at_level(logging.WARNING, logger="copbot.reminders"):
        first = await rig.sweeper.run_once()

    assert first.delivered == {"retry": 1} and fake.dms[fake.alice_id] == [] and reminders(fake) == []
    (warning,) = [r for r in caplog.records if r.name == "copbot.reminders"]
    assert warning.levelno == logging.WARNING and warning.exc_info is None
    assert "may not have gone out, sent again at the next sweep" in warning.getMessage()
    assert "503" in warning.getMessage()
    clock.advance(hours=1)
    assert (await rig.sweeper.run_once()).delivered == {"dm": 1}
    assert len(fake.dms[fake.alice_id]) == 1
    clock.advance(days=14, hours=10, minutes=59)  # reminded at 13:00: 23:59 on the day named
    assert (await rig.sweeper.run_once()).expired == 0
    clock.advance(minutes=2)  # that day is over
    assert (await rig.sweeper.run_once()).expired == 1
    assert (
        "expired without an answer to the reminder" in fake.dms[fake.alice_id][-1]["embeds"][0]["description"]
    )


async def test_three_claims_going_stale_together_get_one_dm_with_each_claims_buttons(
    rig: Moderated, clock: FakeClock
) -> None:
    """Alice's three claims go quiet together: one DM lists them, two buttons each naming the
    problem; each acts on its own claim. With her DMs closed the same happens in one post."""
    fake = rig.fake
    numbers = ["3.11", "2.4", "1.1"]
    mine = []
    for number in numbers:
        mine.append(await claim(rig, fake.alice_id, number))
        clock.advance(minutes=1)
    for number in numbers:
        await claim(rig, fake.bob_id, number)
    fake.close_dms(fake.bob_id)
    clock.advance(days=31)

    report = await rig.sweeper.run_once()
    await rig.sweeper.run_once()

    assert report.delivered == {"dm": 3, "channel": 3}
    (dm,) = fake.dms[fake.alice_id]
    shown = dm["embeds"][0]
    assert shown["title"] == "Still working on 3 problems?"
    assert all(f"{n} — " in field["value"] for n in numbers for field in shown["fields"][:1])
    assert buttons(dm) == [
        (f"{verb} {c.problem_number}", f"cop:{action}:{c.id}")
        for c in mine
        for verb, action in (("Still on", "renew"), ("Release", "drop"))
    ]
    assert [(await latest(rig, fake.alice_id, n)).delivery for n in numbers] == ["dm"] * 3
    released = await click(fake, dm, "Release 2.4", fake.alice_id)
    renewed = await click(fake, dm, "Still on 1.1", fake.alice_id)
    assert embed(released)["description"] == "Released your claim on 2.4. Thanks for saying so!"
    assert embed(renewed)["description"].startswith("Renewed your claim on 1.1 today")
    states = [(await latest(rig, fake.alice_id, n)).state for n in numbers]
    assert states == ["stale", "released", "active"]
    (post,) = reminders(fake)
    assert post["content"] == f"<@{fake.bob_id}>" and len(buttons(post)) == 6
    assert [(await latest(rig, fake.bob_id, n)).delivery for n in numbers] == ["channel"] * 3
    refused = await click(fake, post, "Release 3.11", fake.alice_id)
    assert embed(refused)["description"] == "Only the claimant can answer this reminder."


async def test_more_stale_claims_than_25_buttons_hold_go_in_two_dms(rig: Moderated, clock: FakeClock) -> None:
    """Fourteen claims: 12 in the first DM (24 buttons in 5 rows), 2 in the second."""
    fake = rig.fake
    numbers = [p.number for p in await rig.bot.ctx.store.problems()][:14]
    for number in numbers:
        await claim(rig, fake.alice_id, number)
    clock.advance(days=31)

    report = await rig.sweeper.run_once()

    assert report.delivered == {"dm": 14}
    first, second = fake.dms[fake.alice_id]
    assert [len(row["components"]) for row in first["components"]] == [5, 5, 5, 5, 4]
    assert len(buttons(second)) == 4
    released = {custom_id for dm in (first, second) for _, custom_id in buttons(dm) if "drop" in custom_id}
    assert len(released) == 14


async def test_a_refused_reminder_sent_again_with_new_stale_claims_goes_in_the_same_dm(
    rig: Moderated, clock: FakeClock
) -> None:
    """Alice's DM about 3.11 is refused (Discord answers 503); by the next sweep 2.4 has gone
    quiet too: one DM names both, with each claim's buttons, and each claim is reminded once."""
    fake = rig.fake
    first = await claim(rig, fake.alice_id, "3.11")
    clock.advance(days=5)
    second = await claim(rig, fake.alice_id, "2.4")
    clock.advance(days=26)
    fake.fail("POST", "/channels/{channel_id}/messages", status=503, body={"message": "Service Unavailable"})
    assert (await rig.sweeper.run_once()).delivered == {"retry": 1} and fake.dms[fake.alice_id] == []

    clock.advance(days=5)
    reports = [await rig.sweeper.run_once() for _ in range(2)]

    assert [r.delivered for r in reports] == [{"dm": 2}, {}]
    (dm,) = fake.dms[fake.alice_id]
    assert dm["embeds"][0]["title"] == "Still working on 2 problems?"
    assert [custom_id for _, custom_id in buttons(dm)] == [
        f"cop:{action}:{c.id}" for c in (first, second) for action in ("renew", "drop")
    ]
    assert [(await latest(rig, fake.alice_id, n)).delivery for n in ("3.11", "2.4")] == ["dm", "dm"]


async def test_a_refused_expiry_notice_sent_again_with_new_expiries_goes_in_the_same_dm(
    rig: Moderated, clock: FakeClock
) -> None:
    """Alice's notice that 3.11 expired is refused (Discord still answers 429 after discord.py's
    five tries); by the next sweep her claim on 2.4 has expired too: one DM tells her of both, once."""
    fake = rig.fake
    await claim(rig, fake.alice_id, "3.11")
    clock.advance(days=5)
    await claim(rig, fake.alice_id, "2.4")
    clock.advance(days=26)
    await rig.sweeper.run_once()  # the reminder about 3.11
    clock.advance(days=5)
    await rig.sweeper.run_once()  # the reminder about 2.4
    assert len(fake.dms[fake.alice_id]) == 2
    clock.advance(days=10, minutes=1)  # 3.11's grace is over
    fake.rate_limit("POST", "/channels/{channel_id}/messages", times=5, retry_after=0.01)
    assert (await rig.sweeper.run_once()).expired == 1 and len(fake.dms[fake.alice_id]) == 2

    clock.advance(days=5)  # 2.4's grace is over
    reports = [await rig.sweeper.run_once() for _ in range(2)]

    assert [r.expired for r in reports] == [1, 0]
    (notice,) = fake.dms[fake.alice_id][2:]
    shown = notice["embeds"][0]
    assert shown["title"] == "Your claims on 2 problems expired"
    assert all(f"{n} — " in shown["fields"][0]["value"] for n in ("3.11", "2.4"))
    assert [(await latest(rig, fake.alice_id, n)).notice for n in ("3.11", "2.4")] == ["dm", "dm"]


async def reminded_of_two(rig: Moderated, clock: FakeClock) -> dict[str, Any]:
    """Alice claims 3.11 and 2.4, which go stale together: the one DM reminding her of both."""
    await claim(rig, rig.fake.alice_id, "3.11")
    await claim(rig, rig.fake.alice_id, "2.4")
    clock.advance(days=31)
    await rig.sweeper.run_once()
    (dm,) = rig.fake.dms[rig.fake.alice_id]
    return dm


async def test_an_answered_reminder_loses_the_buttons_of_the_claim_it_answered(
    rig: Moderated, clock: FakeClock
) -> None:
    """Alice answers for 3.11 in a reminder about two claims: its buttons leave the DM, 2.4's
    stay; once she answers for 2.4 too, the DM has no buttons left to mislead her later."""
    fake = rig.fake
    dm = await reminded_of_two(rig, clock)
    sent = copy.deepcopy(dm)

    await click(fake, dm, "Still on 3.11", fake.alice_id)
    await fake.wait_until(lambda: len(buttons(fake.message(int(dm["id"])))) == 2)
    now = fake.message(int(dm["id"]))
    assert [label for label, _ in buttons(now)] == ["Still on 2.4", "Release 2.4"]
    said, was = now["embeds"][0], sent["embeds"][0]
    assert said["description"] == was["description"] and said["fields"][:-1] == was["fields"]  # it stays
    assert answered(now) == ["3.11: still working on it, renewed 2026-12-26"]

    await click(fake, now, "Release 2.4", fake.alice_id)
    await fake.wait_until(lambda: buttons(fake.message(int(dm["id"]))) == [])
    both = ["3.11: still working on it, renewed 2026-12-26", "2.4: released 2026-12-26"]
    assert answered(fake.message(int(dm["id"]))) == both
    assert [(await latest(rig, fake.alice_id, n)).state for n in ("3.11", "2.4")] == ["active", "released"]


async def test_a_reminder_pressed_after_its_claim_ended_says_so_and_loses_its_buttons(
    rig: Moderated, clock: FakeClock
) -> None:
    """Alice released 3.11 with /release after the reminder came: pressing the reminder's
    Release it says the claim already ended and that nothing changed (not to /claim it), and the
    reminder's buttons go. Bob pressing a reminder in the channel that is not his changes
    nothing on it."""
    fake = rig.fake
    await claim(rig, fake.alice_id)
    await claim(rig, fake.bob_id, "2.4")
    fake.close_dms(fake.bob_id)
    clock.advance(days=31)
    await rig.sweeper.run_once()
    (dm,) = fake.dms[fake.alice_id]
    (post,) = reminders(fake)
    released = await ask(fake, "release", {"number": "3.11"}, user_id=fake.alice_id)
    assert "Released your claim on 3.11" in embed(released)["description"]

    answer = await click(fake, dm, "Release it", fake.alice_id)

    assert answer.ephemeral
    said = embed(answer)["description"]
    assert said == "Your claim on 3.11 has already ended (released); nothing changed."
    await fake.wait_until(lambda: buttons(fake.message(int(dm["id"]))) == [])
    # The reminder, its buttons gone, no longer seems to wait for an answer.
    assert answered(fake.message(int(dm["id"]))) == ["3.11: the claim had already ended (released)"]
    refused = await click(fake, post, "Release it", fake.alice_id)
    assert refused.ephemeral
    assert embed(refused)["description"] == "Only the claimant can answer this reminder."
    await rig.bot.drain()  # an edit would come after the answer
    assert len(buttons(fake.message(int(post["id"])))) == 2


async def test_a_reminder_pressed_after_the_claim_expired_and_was_claimed_again(
    rig: Moderated, clock: FakeClock
) -> None:
    """The claim expired, Alice claimed 3.11 again; the old reminder's Release it tells her it
    was about the ended claim and how to release the open one, and changes nothing."""
    fake = rig.fake
    await claim(rig, fake.alice_id)
    clock.advance(days=31)
    await rig.sweeper.run_once()
    clock.advance(days=15)
    await rig.sweeper.run_once()
    dm = fake.dms[fake.alice_id][0]
    await claim(rig, fake.alice_id)

    answer = await click(fake, dm, "Release it", fake.alice_id)

    assert embed(answer)["description"] == (
        "That reminder was about an earlier claim on 3.11, which has ended (expired); your claim "
        "since 2027-01-10 is open. Nothing changed: /release 3.11 releases it."
    )
    mine = [c for c in await rig.bot.ctx.store.claims_for_problem("3.11") if c.user_id == str(fake.alice_id)]
    states = sorted(c.state for c in mine)
    assert states == ["active", "expired"]
    await fake.wait_until(lambda: buttons(fake.message(int(dm["id"]))) == [])
    said = ["3.11: the claim had already ended (expired); claimed again 2027-01-10"]
    assert answered(fake.message(int(dm["id"]))) == said


@pytest.mark.parametrize(
    ("label", "said"),
    [
        (
            "Still working on it",
            "Your claim on 3.11 has already ended (released); /claim 3.11 to take it up again.",
        ),
        ("Release it", "Your claim on 3.11 has already ended (released); nothing changed."),
    ],
)
async def test_a_reminder_pressed_as_its_claim_ends_on_another_replica_says_how_it_ended(
    rig: Moderated, clock: FakeClock, db_url: str, label: str, said: str
) -> None:
    """Alice presses a button of her reminder just as another replica releases the claim: the
    press found it open, then wrote nothing. It answered only "has already ended", and the
    buttons left the reminder with no line saying what became of the claim; now it answers, and
    the reminder says, as for a press after the end. (PostgreSQL's row lock holds the press
    between its read and its write; SQLite has no such lock to hold it there.)"""
    if not db_url.startswith("postgresql"):
        pytest.skip("holds the press mid-way with a PostgreSQL row lock")
    fake = rig.fake
    mine = await claim(rig, fake.alice_id)
    clock.advance(days=31)
    await rig.sweeper.run_once()
    (dm,) = fake.dms[fake.alice_id]
    store = rig.bot.ctx.store
    holder = await lock_rows(store, Claim, [mine.id or 0])
    try:
        press = asyncio.create_task(click(fake, dm, label, fake.alice_id))
        await lock_waiters(store, "claim", at_least=1, timeout=10)
        ended = sa.text("UPDATE claim SET state = 'released', ended_at = :now WHERE id = :id")
        await holder.execute(ended, {"now": clock(), "id": mine.id})
        await holder.commit()
    finally:
        await holder.close()
    answer = await press

    assert answer.ephemeral and embed(answer)["description"] == said
    await fake.wait_until(lambda: buttons(fake.message(int(dm["id"]))) == [])
    assert answered(fake.message(int(dm["id"]))) == ["3.11: the claim had already ended (released)"]
    assert (await latest(rig, fake.alice_id)).state == "released"


async def test_two_quick_answers_to_one_reminder_leave_neither_claims_buttons_behind(
    rig: Moderated, clock: FakeClock
) -> None:
    """Alice presses Still on 3.11 and, before Discord showed her the DM without its buttons,
    Release 2.4 (her second press carries the DM as it was, all four buttons on it): the DM ends
    with no buttons, rather than 3.11's coming back for her to press again later."""
    fake = rig.fake
    dm = await reminded_of_two(rig, clock)
    as_sent = copy.deepcopy(dm)

    await click(fake, dm, "Still on 3.11", fake.alice_id)
    await fake.wait_until(lambda: len(buttons(fake.message(int(dm["id"])))) == 2)
    answer = await click(fake, as_sent, "Release 2.4", fake.alice_id)  # the DM as her press saw it
    assert "Released your claim on 2.4" in embed(answer)["description"]
    await rig.bot.drain()

    assert buttons(fake.message(int(dm["id"]))) == []
    both = ["3.11: still working on it, renewed 2026-12-26", "2.4: released 2026-12-26"]
    assert answered(fake.message(int(dm["id"]))) == both


async def test_a_claimant_who_deleted_their_account_is_not_pinged_nor_asked_forever(
    rig: Moderated, clock: FakeClock
) -> None:
    """Bob claimed 2.4 and then deleted his Discord account: Discord refuses to open a DM with
    him (400, 50033 Invalid Recipient(s)) now and at every later sweep, and he is no longer in
    the server. Nobody is pinged in the reminder channel for him (he could never answer), and
    the claim expires unanswered, freeing 2.4; it is not tried again at each sweep."""
    fake = rig.fake
    await claim(rig, fake.bob_id, "2.4")
    fake.delete_account(fake.bob_id)
    clock.advance(days=31)

    assert (await rig.sweeper.run_once()).delivered == {"unreachable": 1}

    assert reminders(fake) == []
    assert (await latest(rig, fake.bob_id, "2.4")).delivery == "unreachable"
    clock.advance(days=15)
    assert (await rig.sweeper.run_once()).expired == 1
    assert (await latest(rig, fake.bob_id, "2.4")).state == "expired"
    assert reminders(fake) == []


INVALID_FORM_BODY = {
    "message": "Invalid Form Body",
    "code": 50035,
    "errors": {
        "embeds": {
            "0": {
                "description": {
                    "_errors": [
                        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 4096 or fewer in length."}
                    ]
                }
            }
        }
    },
}


async def test_a_reminder_discord_refuses_as_invalid_is_written_off_once_and_the_claim_expires(
    rig: Moderated, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord refuses every message to Alice for its form (400, 50035 Invalid Form Body): the
    same message is refused at every try. Her reminder is not asked for again at each sweep with
    3.11 held for good: one error names Discord's code, her /history says why, the claim expires
    after the grace like one with closed DMs, and its expiry notice, refused too, is failed once."""
    fake = rig.fake
    await claim(rig, fake.alice_id)
    clock.advance(days=31)
    fake.fail("POST", "/channels/{channel_id}/messages", status=400, body=INVALID_FORM_BODY, times=100)
    posts = len([r for r in fake.requests if r.route == "POST /channels/{channel_id}/messages"])

    with caplog.at_level(logging.WARNING, logger="copbot.reminders"):
        assert (await rig.sweeper.run_once()).delivered == {"unreachable": 1}

    (error,) = [r for r in caplog.records if r.name == "copbot.reminders"]
    assert error.levelno == logging.ERROR and "50035" in error.getMessage()
    assert TOKEN not in error.getMessage()
    caplog.clear()  # the one error expected (the fixture checks nothing else was logged)
    refused = await latest(rig, fake.alice_id)
    assert refused.delivery == "unreachable" and refused.state == "stale"
    history = text_of((await ask(fake, "history", {"number": "3.11"}, user_id=fake.bob_id)).data or {})
    assert "Discord refused the message (50035)" in history, history
    tried = len([r for r in fake.requests if r.route == "POST /channels/{channel_id}/messages"]) - posts
    assert tried == 1 and reminders(fake) == []  # no fallback post the same refusal would meet
    clock.advance(hours=1)
    assert (await rig.sweeper.run_once()).delivered == {}
    clock.advance(days=14, hours=11, minutes=1)  # tried at 12:00: after the day named ends
    reports = [await rig.sweeper.run_once() for _ in range(3)]

    assert [r.expired for r in reports] == [1, 0, 0]
    gone = await latest(rig, fake.alice_id)
    assert gone.state == "expired" and gone.notice == "failed"
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    caplog.clear()
    tried = len([r for r in fake.requests if r.route == "POST /channels/{channel_id}/messages"]) - posts
    assert tried == 2 and fake.dms[fake.alice_id] == []


async def test_a_rate_limit_of_minutes_ends_the_sweeps_discord_messages_at_once(
    rig: Moderated, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord answers the first reminder's DM with a global 429 asking copbot to wait ten
    minutes: discord.py slept it through in silence, the sweep stuck that long (and the next
    one queued behind it). Now the sweep gives Discord up at once, as in an outage: nothing more
    is sent to it this sweep, one warning says so, and the next sweep sends both reminders."""
    fake = rig.fake
    await claim(rig, fake.alice_id, "3.11")
    await claim(rig, fake.bob_id, "2.4")
    clock.advance(days=31)
    fake.rate_limit("POST", "/users/@me/channels", retry_after=600, global_=True, times=2)
    with caplog.at_level(logging.WARNING, logger="copbot"):
        async with asyncio.timeout(15):
            report = await rig.sweeper.run_once()
    assert report.delivered == {"retry": 2} and fake.dms[fake.alice_id] == fake.dms[fake.bob_id] == []
    assert reminders(fake) == [] and len(fake.rate_limited) <= 2
    warned = [r.getMessage() for r in caplog.records if r.name.startswith("copbot")]
    assert len(warned) == 1, warned

    assert (await rig.sweeper.run_once()).delivered == {"dm": 2}
    assert len(fake.dms[fake.alice_id]) == len(fake.dms[fake.bob_id]) == 1


def dm_opens(fake: FakeDiscord) -> int:
    return len([r for r in fake.requests if r.route == "POST /users/@me/channels"])


async def test_a_reminder_discord_refuses_as_not_allowed_is_written_off_once(
    rig: Moderated, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord answers Alice's reminder with 405 Method Not Allowed, which it would at every try:
    it is written off once, with one error naming it (it was asked for again at every sweep)."""
    fake = rig.fake
    await claim(rig, fake.alice_id)
    clock.advance(days=31)
    body = {"message": "405: Method Not Allowed", "code": 0}
    fake.fail("POST", "/channels/{channel_id}/messages", status=405, body=body, times=100)
    with caplog.at_level(logging.WARNING, logger="copbot.reminders"):
        assert (await rig.sweeper.run_once()).delivered == {"unreachable": 1}
    (error,) = [r for r in caplog.records if r.name == "copbot.reminders"]
    assert error.levelno == logging.ERROR and "405" in error.getMessage()
    caplog.clear()  # the one error expected (the fixture checks nothing else was logged)
    clock.advance(hours=1)
    assert (await rig.sweeper.run_once()).delivered == {}


async def test_a_refused_token_stops_the_sweep_on_discord_until_the_next(
    rig: Moderated, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord refuses copbot's token (401: it was reset): every request would be refused alike,
    and each counts toward the refused requests after which Discord bans copbot's address. The
    sweep stops asking (it asked for each of ten claimants, as for a passing refusal), keeps
    every reminder for the next sweep, and says what to do once."""
    fake = rig.fake
    members = [fake.add_member(f"member{i}") for i in range(10)]
    for i, member in enumerate(members, start=1):
        await claim(rig, member, f"1.{i}")
    clock.advance(days=31)
    refused = {"message": "401: Unauthorized", "code": 0}
    fake.fail("POST", "/users/@me/channels", status=401, body=refused, times=100)
    with caplog.at_level(logging.WARNING):
        await rig.sweeper.run_once()
    assert dm_opens(fake) < len(members)  # those already on their way when the first was refused
    (whole,) = [r.getMessage() for r in caplog.records if "failed as a whole" in r.getMessage()]
    assert "DISCORD_TOKEN" in whole, whole
    for i, member in enumerate(members, start=1):
        assert (await latest(rig, member, f"1.{i}")).delivery == "retry"


async def test_an_answer_in_the_reminder_channel_stays_written_on_the_reminder(
    rig: Moderated, clock: FakeClock
) -> None:
    """Bob's DMs are closed, so his reminder is in the channel. Once he pressed Release it, the
    post lost its buttons but still asked "Still working on 2.4?": whoever read the channel
    (and Bob, his answer being private) could not tell it had been answered, nor how. It now
    says so under the reminder; a press by someone else adds nothing."""
    fake = rig.fake
    await claim(rig, fake.bob_id, "2.4")
    fake.close_dms(fake.bob_id)
    clock.advance(days=31)
    await rig.sweeper.run_once()
    (post,) = reminders(fake)
    await click(fake, post, "Still working on it", fake.alice_id)

    await click(fake, post, "Release it", fake.bob_id)

    await fake.wait_until(lambda: buttons(fake.message(int(post["id"]))) == [])
    shown = fake.message(int(post["id"]))["embeds"][0]
    assert shown["title"] == "Still working on 2.4?"
    assert answered(fake.message(int(post["id"]))) == ["2.4: released 2026-12-26"]


async def test_answering_from_the_dm_keeps_the_name_the_claim_shows_in_the_server(
    rig: Moderated, clock: FakeClock
) -> None:
    """Alice is "Ali (mods)" in the server, where she claimed 3.11 and 2.4. Her answers come
    from a DM, outside the server, where Discord knows only her account's name: pressing Still on
    3.11 there renamed her claim on the server's cards to "alice", and Release 2.4 wrote "alice
    released it" in its history. Both keep the name she has in the server."""
    fake = rig.fake
    fake.members[fake.alice_id]["nick"] = "Ali (mods)"
    dm = await reminded_of_two(rig, clock)
    assert (await latest(rig, fake.alice_id)).display_name == "Ali (mods)"

    await click(fake, dm, "Still on 3.11", fake.alice_id)
    await click(fake, dm, "Release 2.4", fake.alice_id)

    card = text_of((await ask(fake, "problem", {"number": "3.11"}, user_id=fake.bob_id)).data or {})
    assert "Ali (mods) — since 2026-11-25" in card, card
    history = text_of((await ask(fake, "history", {"number": "2.4"}, user_id=fake.bob_id)).data or {})
    assert "Ali (mods) released it" in history, history


async def test_a_reminder_in_the_servers_own_channel_does_not_name_the_server(
    rig: Moderated, clock: FakeClock
) -> None:
    """Alice's DMs are closed, so her reminder and expiry notice are posted in the server's own
    reminder channel: they used to say "in the server “Concrete Problems”", read by everyone
    already in it. In the channel they no longer name the server (a DM still does)."""
    fake = rig.fake
    await claim(rig, fake.alice_id)
    fake.close_dms(fake.alice_id)
    clock.advance(days=31)
    await rig.sweeper.run_once()
    (post,) = reminders(fake)
    said = post["embeds"][0]["description"]
    assert said.startswith("You claimed 3.11 — Train a model on multiple algorithmic tasks"), said
    assert "(like modul… on 2026-11-25. Still working on it?" in said, said
    assert "in the server" not in said and "Concrete Problems" not in said

    clock.advance(days=15)
    assert (await rig.sweeper.run_once()).expired == 1
    notice = reminders(fake)[-1]["embeds"][0]["description"]
    assert "in the server" not in notice and "Concrete Problems" not in notice, notice


async def test_an_expiry_notice_says_when_the_claim_was_last_renewed(
    rig: Moderated, clock: FakeClock
) -> None:
    """Alice claimed 3.11 and renewed it ten days later; her reminder said "on 2026-11-25, last
    renewed 2026-12-05", but the expiry notice only "(since 2026-11-25)", as if she had been silent
    since. It now names the last renewal too."""
    fake = rig.fake
    await claim(rig, fake.alice_id)
    clock.advance(days=10)
    again = await ask(fake, "claim", {"number": "3.11"}, user_id=fake.alice_id)
    assert "renewed your claim today (2026-12-05)" in embed(again)["description"]
    clock.advance(days=31)
    await rig.sweeper.run_once()
    assert (
        "on 2026-11-25, last renewed 2026-12-05." in fake.dms[fake.alice_id][-1]["embeds"][0]["description"]
    )

    clock.advance(days=15)
    assert (await rig.sweeper.run_once()).expired == 1
    notice = fake.dms[fake.alice_id][-1]["embeds"][0]
    assert notice["title"] == "Your claim on 3.11 expired"
    assert "(since 2026-11-25, last renewed 2026-12-05) expired" in notice["description"], notice


async def test_an_answer_to_a_reminder_posted_as_text_stays_written_on_it(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock
) -> None:
    """The reminder channel denies copbot Embed Links, so Bob's reminder (DMs closed) is plain
    text. Once he pressed Release it, the post lost its buttons but said nothing of his answer,
    unlike the embed version; it now ends with the same "Answered" line, and a second answer
    (after Still on for another claim) is added under it, each once."""
    deny = {"id": fake.bot_role_id, "type": 0, "deny": ["embed_links"]}
    fake.add_channel("reminders", overwrites=[deny])
    async with moderated(fake, ctx, db_url) as rig:
        await configure(fake, reminder_channel=fake.channel_id("reminders"))
        await claim(rig, fake.bob_id, "2.4")
        await claim(rig, fake.bob_id, "3.11")
        fake.close_dms(fake.bob_id)
        clock.advance(days=31)
        await rig.sweeper.run_once()
        (post,) = reminders(fake)
        assert post["embeds"] == []

        await click(fake, post, "Release 2.4", fake.bob_id)
        await fake.wait_until(lambda: len(buttons(fake.message(int(post["id"])))) == 2)
        shown = fake.message(int(post["id"]))["content"]
        assert shown.startswith(f"<@{fake.bob_id}>\n**Still working on 2 problems?**"), shown
        assert shown.endswith("\n**Answered**\n2.4: released 2026-12-26"), shown

        await click(fake, fake.message(int(post["id"])), "Still on 3.11", fake.bob_id)
        await fake.wait_until(lambda: buttons(fake.message(int(post["id"]))) == [])
        shown = fake.message(int(post["id"]))["content"]
        both = "\n**Answered**\n2.4: released 2026-12-26\n3.11: still working on it, renewed 2026-12-26"
        assert shown.endswith(both) and shown.count("**Answered**") == 1, shown
        assert len(shown) <= 2000


async def test_a_claimant_who_left_the_server_is_not_pinged_and_the_claim_still_expires(
    rig: Moderated, clock: FakeClock
) -> None:
    """Bob claimed 2.4, then left the server; he shares no server with copbot, so Discord refuses
    the DM (403 / 50007) as for closed DMs. He used to be @-mentioned in the reminder channel, and
    again at expiry, though he can never see it nor answer. Now nobody is pinged: the claim's
    history says why, and it expires a grace period later as scheduled, freeing 2.4."""
    fake = rig.fake
    await claim(rig, fake.bob_id, "2.4")
    fake.close_dms(fake.bob_id)
    fake.members.pop(fake.bob_id)
    clock.advance(days=31)

    report = await rig.sweeper.run_once()

    assert report.stale == 1 and report.delivered == {"unreachable": 1}
    assert reminders(fake) == []
    stale = await latest(rig, fake.bob_id, "2.4")
    assert stale.delivery == "unreachable"
    card = text_of((await ask(fake, "history", {"number": "2.4"}, user_id=fake.alice_id)).data or {})
    assert "could not be reached: the claimant left or their account is gone" in card, card
    clock.advance(days=15)
    assert (await rig.sweeper.run_once()).expired == 1
    assert reminders(fake) == []
    assert (await latest(rig, fake.bob_id, "2.4")).state == "expired"


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_the_sweeps_log_line_says_how_its_reminders_went(
    rig: Moderated, clock: FakeClock, log_format: str
) -> None:
    """Alice's reminder goes by DM, Bob's (DMs closed) to the reminder channel. The sweep's one
    log line used to end with a Python dict (``sweep: 2 stale, 0 expired, {'dm': 1, ...}``, and
    ``{}`` when nothing was sent); now it reads plainly, and as JSON carries the counts as fields.
    A sweep that sends nothing says only its two counts."""
    fake = rig.fake
    await claim(rig, fake.alice_id, "2.4")
    await claim(rig, fake.bob_id, "3.11")
    fake.close_dms(fake.bob_id)
    clock.advance(days=31)
    settings = Settings(_env_file=None, log_format=log_format)  # type: ignore[call-arg]

    with copbot_logging(settings) as logged:
        await rig.sweeper.run_once()
        await rig.sweeper.run_once()

    if log_format == "text":
        lines = [line for line in logged.text.splitlines() if "sweep: " in line]
        assert lines[0].endswith("sweep: 2 stale, 0 expired; reminders: 1 by DM, 1 in channel"), lines
        assert lines[1].endswith("sweep: 0 stale, 0 expired"), lines
        return
    sweeps = [r for r in logged.records() if r["message"].startswith("sweep: ")]
    assert [r["message"] for r in sweeps] == [
        "sweep: 2 stale, 0 expired; reminders: 1 by DM, 1 in channel",
        "sweep: 0 stale, 0 expired",
    ]
    assert [(r["stale"], r["expired"], r["reminders"]) for r in sweeps] == [
        (2, 0, {"dm": 1, "channel": 1}),
        (0, 0, {}),
    ]
