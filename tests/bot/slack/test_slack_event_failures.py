"""A moderator's ✅ / ❌ while the database is out of reach: answered so that Slack sends it again,
or, when Slack will not, the moderator is told it was not recorded.

Through the real Bolt app and the fake Slack, on PostgreSQL behind a proxy that cuts the link
(the store gives up after DATABASE_TIMEOUT, 0.5 s here).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from commands.types import Context
from storage.models import LinkStatus
from tests.bot.slack.slack_rig import ANN, BOB, MOD, MODS, Rig, moderated
from tests.bot.slack.test_slack_moderation import SUBMIT, status, submit
from tests.fakes.slack_api import FakeSlack, reaction_event
from tests.support.tcp_proxy import TcpProxy


async def react(rig: Rig, user: str, ts: str, event_id: str, retry_num: int | None = None) -> int:
    """``user`` adds ✅ to message ``ts``; the HTTP status copbot answered Slack, once handled."""
    reply = await rig.slack.event(
        reaction_event(user, "white_check_mark", MODS, ts), event_id=event_id, retry_num=retry_num
    )
    await rig.front.drain()
    return reply.status


@asynccontextmanager
async def cut_off(
    fake: FakeSlack, pg_behind_proxy: tuple[TcpProxy, Context], **options: Any
) -> AsyncIterator[tuple[Rig, str, TcpProxy]]:
    """A moderated front end, its submission's post (its ts), and the proxy, which has just cut
    the database off."""
    proxy, ctx = pg_behind_proxy
    async with moderated(fake, ctx, **options) as rig:
        _, post = await submit(rig)
        assert post.ts is not None
        proxy.cut()
        yield rig, post.ts, proxy


def notices(rig: Rig, user: str = MOD) -> list[str]:
    """What ``user`` was shown, only to them, in the moderator channel."""
    return [c["text"] for c in rig.fake.ephemerals if c["channel"] == MODS and c["user"] == user]


async def test_a_reaction_during_an_outage_is_refused_and_applied_once_by_slack_s_retry(
    fake: FakeSlack, pg_behind_proxy: tuple[TcpProxy, Context]
) -> None:
    async with cut_off(fake, pg_behind_proxy) as (rig, ts, proxy):
        assert await react(rig, MOD, ts, "Ev0OUTAGE") == 500  # so Slack sends it again
        proxy.heal()
        assert await status(rig.ctx) == LinkStatus.PENDING and notices(rig) == []

        assert await react(rig, MOD, ts, "Ev0OUTAGE", retry_num=1) == 200
        assert await react(rig, MOD, ts, "Ev0OUTAGE", retry_num=2) == 200  # a replay

        assert await status(rig.ctx) == LinkStatus.APPROVED
        assert "Approved by mod." in rig.current(MODS, ts).shown
        assert len(fake.updates) == 1 and len(fake.dms(ANN)) == 1
        assert (await rig.command("/history", "2.4")).shown.count("mod approved") == 1
        assert notices(rig) == []


async def test_when_slack_gives_up_the_moderator_is_told_to_react_again(
    fake: FakeSlack, pg_behind_proxy: tuple[TcpProxy, Context]
) -> None:
    async with cut_off(fake, pg_behind_proxy) as (rig, ts, proxy):
        # Slack's third retry is its last: an error answer would only be lost.
        assert await react(rig, MOD, ts, "Ev0LAST", retry_num=3) == 200
        assert await react(rig, BOB, ts, "Ev0NOTAMOD", retry_num=3) == 200
        proxy.heal()

        assert await status(rig.ctx) == LinkStatus.PENDING
        (notice,) = notices(rig)
        assert "not recorded" in notice and "nothing was decided" in notice and "again" in notice
        assert notices(rig, BOB) == []  # not a moderator: their ✅ never decides anything

        assert await react(rig, MOD, ts, "Ev0AGAIN") == 200
        assert await status(rig.ctx) == LinkStatus.APPROVED


async def test_a_reaction_failing_after_slack_had_its_answer_is_reported_to_the_moderator(
    fake: FakeSlack, pg_behind_proxy: tuple[TcpProxy, Context]
) -> None:
    """The store gives up after Slack had its 200 (answer_within 0.05 s): no retry will come."""
    async with cut_off(fake, pg_behind_proxy, answer_within=0.05) as (rig, ts, proxy):
        assert await react(rig, MOD, ts, "Ev0LATE") == 200
        proxy.heal()

        assert await status(rig.ctx) == LinkStatus.PENDING
        (notice,) = notices(rig)
        assert "not recorded" in notice


async def test_a_reaction_on_a_post_made_as_the_database_went_away_records_it_and_decides(
    fake: FakeSlack, pg_behind_proxy: tuple[TcpProxy, Context]
) -> None:
    """The moderators' post lands just as the database goes away: Ann is told it went to them,
    and the post waits to be recorded (by the next sweep, or by a moderator's reaction on it).
    The database is back and Mod reacts ✅. Before, Slack's handler looked the post up, found
    none and dropped the ✅ without a word (the post stayed pending with his ✅ under it, till he
    removed it and reacted again); now it records the post first, and the ✅ approves."""
    proxy, ctx = pg_behind_proxy
    async with moderated(fake, ctx) as rig:
        fake.hold("chat.getPermalink", until=2, within=1.0)  # the post is made; its link waits
        submitting = asyncio.create_task(rig.command("/submit", SUBMIT, user=ANN))
        post = await fake.wait_for(lambda call: call.method == "chat.postMessage" and call.channel == MODS)
        proxy.cut()
        assert "went to the moderators" in (await submitting).shown
        proxy.heal()
        assert post.ts is not None and await status(rig.ctx) == LinkStatus.PENDING

        assert await react(rig, MOD, post.ts, "Ev0UNRECORDED") == 200
        assert await status(rig.ctx) == LinkStatus.APPROVED
        assert "Approved by mod." in rig.current(MODS, post.ts).shown


async def test_two_reactions_at_once_on_an_unrecorded_post_record_it_once_and_decide_once(
    fake: FakeSlack, pg_behind_proxy: tuple[TcpProxy, Context], caplog: Any
) -> None:
    """Two ✅ reach copbot together on a post made as the database went away: both look for the
    post, and both would record it. Before, both recorded it; the second was told another post
    was recorded (a false warning) and failed on the entry the first had cleared, so its ✅
    ended in an error. Now one records it and the other waits for it, and finds the post."""
    proxy, ctx = pg_behind_proxy
    async with moderated(fake, ctx) as rig:
        fake.hold("chat.getPermalink", until=2, within=1.0)
        submitting = asyncio.create_task(rig.command("/submit", SUBMIT, user=ANN))
        post = await fake.wait_for(lambda call: call.method == "chat.postMessage" and call.channel == MODS)
        proxy.cut()
        assert "went to the moderators" in (await submitting).shown
        proxy.heal()
        assert post.ts is not None
        caplog.clear()

        answers = await asyncio.gather(
            react(rig, MOD, post.ts, "Ev0TOGETHER1"), react(rig, MOD, post.ts, "Ev0TOGETHER2")
        )
        assert answers == [200, 200]
        assert await status(rig.ctx) == LinkStatus.APPROVED
        assert "Approved by mod." in rig.current(MODS, post.ts).shown
        assert len(fake.dms(ANN)) == 1
        troubles = [r.getMessage() for r in caplog.records if r.levelname in {"WARNING", "ERROR"}]
        assert not [t for t in troubles if "another post" in t or "Traceback" in t or "failed" in t], troubles
