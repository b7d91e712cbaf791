"""Discord's 3-second deadline: slow answers are deferred in time and followed up visibly right."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.discord.frontend import DiscordFrontEnd
from commands.types import Context
from storage.models import Problem
from storage.store import Store
from tests.bot.discord.discord_rig import ask, embed, running
from tests.fakes.discord_api import FakeDiscord
from tests.support.gc_watch import idle_collection


class SlowStore(Store):
    """The real store, whose problem look-ups wait until ``answer`` is set (a loaded database)."""

    answer: asyncio.Event

    async def get_problem(self, number: str) -> Problem | None:
        """Wait for the test, then look up."""
        await self.answer.wait()
        return await super().get_problem(number)


async def test_a_slow_answer_is_deferred_within_the_deadline(db_url: str, ctx: Context) -> None:
    """The core is still working when Discord's deadline nears: the bot defers in time (within
    Discord's 3 s), then follows up with the answer."""
    store = SlowStore(ctx.store.engine)
    store.answer = asyncio.Event()
    slow_ctx = Context(store=store, clock=ctx.clock)
    async with FakeDiscord() as fake:
        async with running(fake, slow_ctx, db_url, defer_after=0.15):
            iid = await fake.slash("claim", {"number": "3.11"})
            await fake.wait_for_callback(iid)  # the deferral, while the look-up still waits
            store.answer.set()
            followup = await fake.wait_for_followup(iid)
        assert fake.errors == []
    assert fake.callbacks[iid].type == 5 and fake.callbacks[iid].ephemeral
    assert followup.ephemeral
    assert (followup.data or {})["embeds"][0]["description"].startswith("You claimed 3.11")


async def test_deferral_visibility_follows_the_reply(fake: FakeDiscord, ctx: Context, db_url: str) -> None:
    """Deferring at once (defer_after=0): a public card first guessed private is re-posted publicly,
    the next one is deferred publicly; private answers stay private."""
    async with running(fake, ctx, db_url, defer_after=0.0):
        first = await fake.slash("problem", {"number": "2.4"})
        posted = await fake.wait_for_followup(first, count=2)
        second = await fake.slash("problem", {"number": "2.4"})
        edited = await fake.wait_for_followup(second)
        private = await fake.slash("claims")
        mine = await fake.wait_for_followup(private)
        error = await fake.slash("problem", {"number": "2.99"})
        failed = await fake.wait_for_followup(error, count=2)

    assert fake.callbacks[first].type == 5 and fake.callbacks[first].ephemeral
    assert [f.method for f in fake.followups if f.interaction_id == first] == ["DELETE", "POST"]
    assert not posted.ephemeral and posted.message is not None
    assert posted.message["embeds"][0]["title"].startswith("2.4 — ")
    assert posted.message in fake.messages[fake.general_id]

    assert fake.callbacks[second].type == 5 and not fake.callbacks[second].ephemeral
    assert [f.method for f in fake.followups if f.interaction_id == second] == ["POST"]
    assert not edited.ephemeral

    assert fake.callbacks[private].ephemeral and mine.ephemeral
    assert "You hold no open claims" in (mine.data or {})["embeds"][0]["description"]

    # /problem was last public, so the error was deferred publicly, then moved out of sight.
    assert not fake.callbacks[error].ephemeral
    assert failed.method == "POST" and failed.ephemeral


async def test_a_slow_problem_all_is_deferred_as_privately_as_its_list(db_url: str, ctx: Context) -> None:
    """`/problem 2.4 all` (its existing work, a private list) taking long right after a card
    (public) got a public "thinking…", deleted and re-sent privately; a slow card after the list
    was deferred privately, then re-posted. Each shape is deferred as its own last answer was."""
    store = SlowStore(ctx.store.engine)
    store.answer = asyncio.Event()
    slow_ctx = Context(store=store, clock=ctx.clock)
    asked = (
        {"number": "2.4"},
        {"number": "2.4", "all": True},
        {"number": "2.4"},
        {"number": "2.4", "page": 1},
        {"number": "2.4"},
    )
    ids: list[int] = []
    async with FakeDiscord() as fake:
        async with running(fake, slow_ctx, db_url, defer_after=0.15):
            for options in asked:
                iid = await fake.slash("problem", options)
                await fake.wait_for_callback(iid)  # the deferral, while the look-up still waits
                store.answer.set()
                await fake.wait_for_followup(iid, count=2 if not ids else 1)
                store.answer.clear()
                ids.append(iid)
        assert fake.errors == []
    first, listed, card, paged, again = ids
    # The first card ever is guessed private (no answer yet to go by), then posted in the channel.
    assert [f.method for f in fake.followups if f.interaction_id == first] == ["DELETE", "POST"]
    for iid, private in ((listed, True), (card, False), (paged, True), (again, False)):
        calls = [f for f in fake.followups if f.interaction_id == iid]
        assert fake.callbacks[iid].type == 5 and fake.callbacks[iid].ephemeral == private, (iid, private)
        assert [f.method for f in calls] == ["POST"] and calls[0].ephemeral == private, (iid, calls)
        title = (calls[0].data or {})["embeds"][0]["title"]
        assert title.startswith("Existing work on 2.4" if private else "2.4 — "), title


async def test_quick_answers_are_not_deferred(fake: FakeDiscord, ctx: Context, db_url: str) -> None:
    """With the default 2 s budget a normal command is answered in one callback."""
    async with running(fake, ctx, db_url):
        iid = await fake.slash("problem", {"number": "2.4"})
        answer = await fake.wait_for_callback(iid)
    assert answer.type == 4 and embed(answer)["title"].startswith("2.4")
    assert [f for f in fake.followups if f.interaction_id == iid] == []


async def test_a_due_garbage_collection_waits_until_the_interaction_is_answered(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """CPython would collect in the middle of the command; copbot collects once it answered."""
    async with idle_collection() as watch:
        answer = await ask(fake, "problem", {"number": "2.4"})
        await watch.first_collection()
    assert embed(answer)["title"].startswith("2.4 — ")
    assert watch.most_in_flight >= 1  # the interaction counted in flight while it was handled
    assert watch.collections and all(in_flight == 0 for _, in_flight in watch.collections)


def defer_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """copbot's log lines about a deferral Discord refused, with their levels."""
    return [(r.levelname, r.getMessage()) for r in caplog.records if "could not defer" in r.getMessage()]


async def test_a_duplicate_whose_deferral_discord_refuses_as_answered_is_an_info_line(
    fake: FakeDiscord, ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A duplicate of an interaction already answered (another replica got it, or Discord sent it
    again) is deferred at once and Discord refuses with 40060, already acknowledged: nothing is
    wrong, so the line says so at INFO, not as a warning an operator would chase."""
    caplog.set_level(logging.INFO, logger="copbot")
    async with running(fake, ctx, db_url, defer_after=0.0):
        iid = await fake.slash("problem", {"number": "2.4"})
        await fake.wait_for_followup(iid, count=2)
        await fake.replay(iid)
        await fake.wait_until(lambda: "skipped interaction" in caplog.text, description="duplicate skipped")
    assert fake.callbacks[iid].type == 5
    ((level, message),) = defer_lines(caplog)
    assert level == "INFO" and "40060" in message and "already" in message


async def test_a_deferral_discord_refuses_for_another_reason_is_still_a_warning(
    ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A deferral refused because the interaction is unknown (10062: it came too late) is
    something to look into: it stays a WARNING."""
    async with FakeDiscord(interaction_timeout=0.0) as fake:
        async with running(fake, ctx, db_url, defer_after=0.0):
            await fake.slash("problem", {"number": "2.4"})
            await fake.wait_until(lambda: defer_lines(caplog), description="the deferral refused")
    ((level, message),) = defer_lines(caplog)
    assert level == "WARNING" and "10062" in message


async def held_back_for_minutes(
    fake: FakeDiscord, bot: DiscordFrontEnd, caplog: pytest.LogCaptureFixture
) -> list[tuple[str, str]]:
    """Discord answers the interaction callbacks of Alice's /problem 2.4 with a 429 of ten
    minutes; copbot's log lines (level, message) once it is done with it (within 10 s)."""
    fake.rate_limit("POST", "/interactions/*/*/callback", retry_after=600)
    with caplog.at_level(logging.WARNING, logger="copbot"):
        await fake.slash("problem", {"number": "2.4"}, user_id=fake.alice_id)
        await fake.wait_until(lambda: bool(fake.rate_limited))
        async with asyncio.timeout(10):
            await bot.drain()
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith("copbot")]


async def test_an_answer_discord_holds_back_for_minutes_is_given_up_in_seconds(
    fake: FakeDiscord, ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord answers /problem's answer with a 429 asking copbot to wait ten minutes (a rate
    limit: discord.py's webhook client, which sends interaction answers, sleeps out any
    retry_after without a bound): the answer held its task ten minutes, silent, and closing
    the front end waited on it. Now the answer is given up after ``answer_wait``, with one
    warning naming the command, and the next command is answered as usual."""
    async with running(fake, ctx, db_url, answer_wait=1.0) as bot:
        ((_, warning),) = await held_back_for_minutes(fake, bot, caplog)
        assert warning.startswith("could not answer /problem in guild ")
        assert "Discord did not take the answer within 1 s" in warning
        answer = await ask(fake, "problem", {"number": "2.4"}, user_id=fake.alice_id)
        assert "3 letter acronyms" in embed(answer)["title"] + embed(answer)["description"]


async def test_a_deferral_discord_holds_back_for_minutes_is_warned_of_not_an_error(
    fake: FakeDiscord, ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord answers /problem's deferral with a 429 of ten minutes: copbot gives the deferral
    up after ``answer_wait``; its follow-up then finds no interaction to follow (Discord never
    took the deferral), which came out as "answering /problem … failed" with a traceback at
    ERROR. Given up deferrals are warnings (the follow-up is still tried: a deferral Discord
    took late is answered)."""
    async with running(fake, ctx, db_url, defer_after=0, answer_wait=0.5) as bot:
        logged = await held_back_for_minutes(fake, bot, caplog)
        assert [level for level, _ in logged if level != "WARNING"] == [], logged
        assert any(m.startswith("could not answer /problem in guild ") for _, m in logged), logged
