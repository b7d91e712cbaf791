"""Stale claims: one reminder, renew or release in one click, expiry, exactly once."""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlmodel import col

from bot.config import Settings
from bot.outbound import NotDelivered, Posted
from bot.reminders import Sweeper, start_scheduler
from commands import dispatch
from commands.types import Actor, Context, Reply
from storage.claims import Person
from storage.engine import make_engine
from storage.models import Claim, CommunitySettings
from storage.store import Store
from storage.sweep import expire_due, mark_stale
from tests.conftest import START
from tests.support.clock import FakeClock
from tests.support.logged import Logged, copbot_logging
from tests.support.outbound import MemoryOutbound, Sent, SimulatedCrash
from tests.support.tcp_proxy import TcpProxy
from tests.support.transcript import person, say, shown

ROOT = Path(__file__).resolve().parents[2]
ANN = person("ann")


def make_sweeper(
    ctx: Context, outbound: MemoryOutbound, channel: str | None = None, batch: int = 500
) -> Sweeper:
    """A sweeper over the Discord claims, with a reminder channel when given."""

    async def reminder_channel(platform: str, community: str) -> str | None:
        settings = await ctx.store.get_settings(platform, community)
        return (settings.reminder_channel_id if settings else None) or channel

    return Sweeper(
        ctx.store,
        {"discord": outbound},
        ctx.clock,
        stale_after_days=30,
        grace_days=14,
        reminder_channel=reminder_channel,
        batch=batch,
    )


def is_reminder(sent: Sent, user: str) -> bool:
    """Whether ``sent`` is a reminder DM to ``user``, with its two buttons."""
    labels = [b.label for b in sent.reply.buttons]
    return sent.kind == "dm" and sent.target == user and labels == ["Still working on it", "Release it"]


async def claim_state(store: Store, user: str, number: str) -> Claim:
    """The latest claim of ``user`` on ``number``."""
    return [c for c in await store.claims_for_problem(number) if c.user_id == user][-1]


async def test_a_card_says_anyone_may_claim_once_every_claim_on_it_is_stale(
    ctx: Context, clock: FakeClock
) -> None:
    """3.11's sheet claim is stale; Ann's new claim is not, until 30 days of silence make it so."""
    hint = "Stale, so anyone may still /claim 3.11"
    await say(ctx, ANN, "/claim 3.11")
    assert hint not in await shown(ctx, person("bob"), "/problem 3.11")
    clock.advance(days=30, minutes=1)
    await make_sweeper(ctx, MemoryOutbound()).run_once()
    card = await shown(ctx, person("bob"), "/problem 3.11")
    stale = "stale: no news since 2026-11-25, expires at the end of 2027-01-08 unless renewed"
    assert f"Ann — since 2026-11-25 (30 days ago) · {stale}\n  - {hint}\n" in card


async def test_a_stale_claim_gets_exactly_one_reminder(ctx: Context, clock: FakeClock) -> None:
    """30 days of silence: one DM with two buttons (none a minute before); more sweeps send
    nothing more."""
    await say(ctx, ANN, "/claim 3.11")
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    clock.advance(days=30, minutes=-1)
    assert (await sweeper.run_once()).stale == 0 and outbound.sent == []
    clock.advance(minutes=2)
    for _ in range(3):
        await sweeper.run_once()
    (dm,) = outbound.sent
    assert dm.kind == "dm" and dm.target == "ann"
    assert dm.reply.text.startswith("You claimed 3.11 — Train a model on multiple algorithmic tasks")
    assert "on 2026-11-25. Still working on it?" in dm.reply.text
    assert [b.label for b in dm.reply.buttons] == ["Still working on it", "Release it"]
    assert "stale: no news since 2026-11-25" in await shown(ctx, person("bob"), "/problem 3.11")
    assert (await claim_state(ctx.store, "ann", "3.11")).delivery == "dm"


async def test_still_working_on_it_renews_and_restarts_the_clock(ctx: Context, clock: FakeClock) -> None:
    """The first button renews the claim today; it goes stale again only 30 days later."""
    await say(ctx, ANN, "/claim 3.11")
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    clock.advance(days=31)
    await sweeper.run_once()
    renew = outbound.sent[0].reply.buttons[0]
    dm_actor = person("ann", community="dm")
    reply = await dispatch.run_action(ctx, dm_actor, renew.custom_id)
    assert reply.text == "Renewed your claim on 3.11 today (2026-12-26). Good luck!"
    claim = await claim_state(ctx.store, "ann", "3.11")
    assert claim.state == "active" and claim.renewed_at == clock()
    again = await dispatch.run_action(ctx, dm_actor, renew.custom_id)  # a second press
    assert again.text == "Your claim on 3.11 already counts from today (2026-12-26); nothing changed."
    assert again.answered == "3.11: still working on it, renewed 2026-12-26"  # the reminder says so
    renewals = [e.kind for e in await ctx.store.history("3.11")].count("renewed")
    assert renewals == 1
    clock.advance(days=20)
    await sweeper.run_once()
    assert len(outbound.sent) == 1
    clock.advance(days=11)
    await sweeper.run_once()
    assert len(outbound.sent) == 2


async def test_release_it_ends_the_claim_and_only_the_claimant_may_click(
    ctx: Context, clock: FakeClock
) -> None:
    """Bob cannot answer Ann's reminder; Ann's Release ends the claim."""
    await say(ctx, ANN, "/claim 3.11")
    outbound = MemoryOutbound()
    clock.advance(days=31)
    await make_sweeper(ctx, outbound).run_once()
    release = outbound.sent[0].reply.buttons[1]
    assert (await dispatch.run_action(ctx, person("bob"), release.custom_id)).error
    reply = await dispatch.run_action(ctx, ANN, release.custom_id)
    assert "Released your claim on 3.11" in reply.text
    again = await dispatch.run_action(ctx, ANN, release.custom_id)
    assert again.error and "already ended (released)" in again.text
    # Ann takes it up again: the old reminder's buttons say so and change nothing.
    await say(ctx, ANN, "/claim 3.11")
    stale = await dispatch.run_action(ctx, ANN, outbound.sent[0].reply.buttons[0].custom_id)
    assert stale.error and "an earlier claim on 3.11, which has ended (released)" in stale.text
    assert "your claim since 2026-12-26 is open" in stale.text


async def test_no_answer_expires_after_the_grace_period_and_tells_them(
    ctx: Context, clock: FakeClock
) -> None:
    """14 days after the reminder the claim expires, Ann is told, /problem lists her as earlier."""
    await say(ctx, ANN, "/claim 3.11")
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    clock.advance(days=31)
    await sweeper.run_once()
    clock.advance(days=14, hours=11, minutes=59)  # 23:59 on the day named
    await sweeper.run_once()
    assert len(outbound.sent) == 1
    clock.advance(minutes=2)  # that day is over
    report = await sweeper.run_once()
    await sweeper.run_once()
    assert report.expired == 1
    notice = outbound.sent[1]
    assert notice.kind == "dm" and notice.reply.title == "Your claim on 3.11 expired"
    text = await shown(ctx, person("bob"), "/problem 3.11")
    assert "Earlier claims:\n  - Ann — 2026-11-25 to 2027-01-10, expired" in text
    assert "Ann — since" not in text
    assert "The claim by Ann expired" in await shown(ctx, ANN, "/history 3.11")


async def test_claiming_again_before_expiry_keeps_the_claim(ctx: Context, clock: FakeClock) -> None:
    """/claim on a stale claim renews it; it does not expire."""
    await say(ctx, ANN, "/claim 3.11")
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    clock.advance(days=31)
    await sweeper.run_once()
    await say(ctx, ANN, "/claim 3.11")
    clock.advance(days=15)
    assert (await sweeper.run_once()).expired == 0
    assert (await claim_state(ctx.store, "ann", "3.11")).state == "active"


@pytest.mark.parametrize(
    "left_behind",
    [
        "state = 'stale'",
        "reminded_at = renewed_at",
        "unreachable = TRUE",
        "delivery = 'sending'",
        "notice = 'failed'",
    ],
)
async def test_claiming_again_starts_afresh_whatever_a_reminder_left_behind(
    ctx: Context, clock: FakeClock, left_behind: str
) -> None:
    """Each mark a reminder leaves on a claim (also one at a time, as a crash mid-sweep can) is
    cleared by /claim: the claim is as new, and goes stale and gets its reminder again 30 days on."""
    await say(ctx, ANN, "/claim 3.11")
    async with ctx.store.engine.begin() as conn:
        await conn.execute(sa.text(f"UPDATE claim SET {left_behind} WHERE user_id = 'ann'"))
    clock.advance(days=1)
    await say(ctx, ANN, "/claim 3.11")
    claim = await claim_state(ctx.store, "ann", "3.11")
    assert (claim.state, claim.renewed_at, claim.reminded_at) == ("active", clock(), None)
    assert (claim.unreachable, claim.delivery, claim.notice) == (False, "", "")
    outbound = MemoryOutbound()
    clock.advance(days=31)
    await make_sweeper(ctx, outbound).run_once()
    assert [(s.kind, s.target) for s in outbound.sent] == [("dm", "ann")]


async def test_closed_dms_fall_back_to_the_reminder_channel_then_unreachable(
    ctx: Context, clock: FakeClock
) -> None:
    """A closed DM mentions the claimant in the reminder channel; without one, unreachable."""
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, person("bob"), "/claim 2.4")
    await ctx.store.update_settings("discord", "guild1", clock(), reminder_channel_id="reminders")
    await say(ctx, person("cy", community="guild2"), "/claim 1.1")
    outbound = MemoryOutbound(closed_dms={"ann", "cy"})
    clock.advance(days=31)
    report = await make_sweeper(ctx, outbound).run_once()
    assert report.delivered == {"channel": 1, "dm": 1, "unreachable": 1}
    channel_post = next(s for s in outbound.sent if s.kind == "channel")
    assert channel_post.target == "reminders" and channel_post.reply.mention == "ann"
    cy = await claim_state(ctx.store, "cy", "1.1")
    assert cy.unreachable and cy.delivery == "unreachable" and cy.state == "stale"


async def test_a_refused_reminder_is_sent_again_by_the_next_sweep(ctx: Context, clock: FakeClock) -> None:
    """A rate limit or outage answer means the DM was not sent: the next sweep sends it, once."""
    await say(ctx, ANN, "/claim 3.11")
    outbound = MemoryOutbound(refuse={"ann": 1})
    sweeper = make_sweeper(ctx, outbound)
    clock.advance(days=31)
    first = await sweeper.run_once()
    assert first.delivered == {"retry": 1} and outbound.sent == []
    assert (await claim_state(ctx.store, "ann", "3.11")).delivery == "retry"
    second = await sweeper.run_once()
    await sweeper.run_once()
    assert second.delivered == {"dm": 1} and [s.target for s in outbound.sent] == ["ann"]


async def test_the_grace_period_starts_when_a_refused_reminder_finally_arrives(
    ctx: Context, clock: FakeClock
) -> None:
    """The platform refuses every DM for 17 days (a 429, a missing permission): the claim stays
    stale and its history claims no reminder; once the DM goes through, Ann has 14 full days."""
    await say(ctx, ANN, "/claim 3.11")
    outbound = MemoryOutbound(refuse={"ann": 17})
    sweeper = make_sweeper(ctx, outbound)
    clock.advance(days=31)
    for _ in range(17):
        assert (await sweeper.run_once()).delivered == {"retry": 1}
        clock.advance(days=1)
    assert outbound.sent == [] and (await claim_state(ctx.store, "ann", "3.11")).state == "stale"
    assert "reminded" not in await shown(ctx, ANN, "/history 3.11")
    await sweeper.run_once()  # the platform takes DMs again
    (reminder,) = outbound.sent
    assert reminder.kind == "dm" and reminder.reply.title == "Still working on 3.11?"
    assert "2027-01-12 · Ann was reminded that their claim had gone stale" in await shown(
        ctx, ANN, "/history 3.11"
    )
    clock.advance(days=14, hours=11, minutes=59)  # 23:59 on the day named
    assert (await sweeper.run_once()).expired == 0 and len(outbound.sent) == 1
    clock.advance(minutes=2)  # that day is over
    assert (await sweeper.run_once()).expired == 1
    notice = outbound.sent[1]
    assert notice.reply.title == "Your claim on 3.11 expired"
    assert "expired without an answer to the reminder." in notice.reply.text


async def test_a_reminder_still_to_be_sent_again_never_lets_its_claim_expire(
    ctx: Context, clock: FakeClock
) -> None:
    """However old the refusal, a reminder no sweep has taken back yet (more were refused than a
    sweep's batch holds) keeps its claim open: the expiry passes it over."""
    await say(ctx, ANN, "/claim 3.11")
    clock.advance(days=31)
    await make_sweeper(ctx, MemoryOutbound(refuse={"ann": 1})).run_once()
    clock.advance(days=30)
    assert await expire_due(ctx.store, clock(), 14, ["discord"]) is None
    assert "stale: no news since 2026-11-25" in await shown(ctx, person("bob"), "/problem 3.11")


async def test_a_reminder_that_cannot_arrive_is_told_in_the_history_and_the_grace_runs_from_it(
    ctx: Context, clock: FakeClock
) -> None:
    """Cy's DMs are closed and his server has no reminder channel: his history says he could
    not be reached, not that he was reminded, and the claim expires 14 days after that final
    attempt, telling him in the reminder channel his server has set up meanwhile."""
    cy = person("cy", community="guild2")
    await say(ctx, cy, "/claim 1.1")
    outbound = MemoryOutbound(closed_dms={"cy"})
    sweeper = make_sweeper(ctx, outbound)
    clock.advance(days=31)
    assert (await sweeper.run_once()).delivered == {"unreachable": 1}
    history = await shown(ctx, cy, "/history 1.1")
    assert "2026-12-26 · Cy could not be reached: no DM and no reminder channel" in history
    assert "reminded" not in history
    await ctx.store.update_settings("discord", "guild2", clock(), reminder_channel_id="reminders")
    clock.advance(days=14, hours=11, minutes=59)  # 23:59 on the day named
    assert (await sweeper.run_once()).expired == 0 and outbound.sent == []
    clock.advance(minutes=2)  # that day is over
    assert (await sweeper.run_once()).expired == 1
    (notice,) = outbound.sent
    assert (notice.kind, notice.target, notice.reply.mention) == ("channel", "reminders", "cy")
    assert "expired after a long silence; my reminder may not have reached you." in notice.reply.text
    assert (
        "2027-01-10 · The claim by Cy expired: no reminder known to have reached them, "
        "14 days after the last try" in await shown(ctx, cy, "/history 1.1")
    )


async def test_a_servers_stale_days_win_over_the_default(ctx: Context, clock: FakeClock) -> None:
    """A server that chose 7 days gets reminders after 7 days; others still after 30 (and each
    not a minute before)."""
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, person("dee", community="guild2"), "/claim 3.11")
    await say(ctx, person("ann", admin=True), "/setup stale_days:7")
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    clock.advance(days=7, minutes=-1)
    await sweeper.run_once()
    assert outbound.sent == []
    clock.advance(minutes=2)
    await sweeper.run_once()
    assert [s.target for s in outbound.sent] == ["ann"]
    clock.advance(days=23, minutes=-2)  # 30 days after the claims, less a minute (ann's expired)
    await sweeper.run_once()
    assert "dee" not in [s.target for s in outbound.sent]
    clock.advance(minutes=2)
    await sweeper.run_once()
    assert [s.target for s in outbound.sent].count("dee") == 1


async def test_a_sweep_among_1500_servers_with_their_own_stale_days_reminds_expires_and_catches_up(
    ctx: Context, clock: FakeClock
) -> None:
    """1,500 servers chose their own stale_days (1 to 365; guild2 7 days, guild1 none: 30), more
    than SQLite's expression depth held when the sweep gave each its own condition: each sweep
    still reminds Dee after 7 days and Ann after 30, expires Dee's claim after her grace, and
    goes on to the moderation catch-up."""
    servers = [f"g{k}" for k in range(1_499)] + ["guild2"]
    rows = [
        {
            "platform": "discord",
            "community_id": server,
            "stale_after_days": 1 + k % 365,
            "updated_at": clock(),
        }
        for k, server in enumerate(servers)
    ]
    await ctx.store.execute(sa.insert(CommunitySettings), rows)
    await ctx.store.update_settings("discord", "guild2", clock(), stale_after_days=7)
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, person("dee", community="guild2"), "/claim 3.11")
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    caught_up: list[datetime] = []

    async def catch_up() -> None:
        caught_up.append(clock())

    sweeper.also = catch_up
    clock.advance(days=7, minutes=1)
    assert (await sweeper.run_once()).stale == 1
    assert [(s.kind, s.target) for s in outbound.sent] == [("dm", "dee")]
    clock.advance(days=15)  # the 14 days of grace after the reminder's day are over
    assert (await sweeper.run_once()).expired == 1
    assert is_expiry_notice(outbound.sent[-1], "dee")
    assert (await claim_state(ctx.store, "ann", "3.11")).state == "active"
    clock.advance(days=8)  # 30 days and a minute after Ann's claim
    assert (await sweeper.run_once()).stale == 1
    assert is_reminder(outbound.sent[-1], "ann")
    assert len(caught_up) == 3


async def test_sheet_claims_go_stale_by_age_and_nobody_is_pinged(ctx: Context) -> None:
    """Legacy claims are marked stale, never pinged, never expired."""
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    report = await sweeper.run_once()
    assert report.stale == 0 and outbound.sent == []
    (legacy,) = await ctx.store.claims_for_problem("2.4")
    assert legacy.state == "stale" and legacy.delivery == "none"
    text = await shown(ctx, ANN, "/problem 2.4")
    assert "jknowak (Discord) - July 2023 (from the sheet, 3 years ago, stale)" in text


async def test_a_reminder_a_crash_left_unrecorded_goes_again_hours_later_and_the_claim_waits(
    ctx: Context, clock: FakeClock
) -> None:
    """The process dies after sending, before recording it: the restarted sweep sends nothing at
    once (the reminder may be on its way from a live sweep); two hours on, the outcome unknown,
    it goes again rather than the claim expiring unreminded, and the grace runs from then."""
    await say(ctx, ANN, "/claim 3.11")
    clock.advance(days=31)
    crashing = MemoryOutbound(crash_after_send=True)
    with pytest.raises(SimulatedCrash):
        await make_sweeper(ctx, crashing).run_once()
    restarted = MemoryOutbound(delay=0.001)
    sweeper = make_sweeper(ctx, restarted)
    await sweeper.run_once()
    clock.advance(hours=1, minutes=59)
    await sweeper.run_once()
    assert len(crashing.sent) == 1 and restarted.sent == []
    clock.advance(minutes=2)
    await sweeper.run_once()
    (again,) = restarted.sent
    assert is_reminder(again, "ann")
    claim = await claim_state(ctx.store, "ann", "3.11")
    assert (claim.state, claim.delivery) == ("stale", "dm")
    clock.advance(days=14, hours=9, minutes=58)  # reminded at 14:01: 23:59 on the day named
    await sweeper.run_once()
    assert (await claim_state(ctx.store, "ann", "3.11")).state == "stale" and len(restarted.sent) == 1


async def test_a_reminder_taken_by_a_sweep_that_died_is_never_expired_unsent(
    ctx: Context, clock: FakeClock
) -> None:
    """However long ago a dead sweep took a reminder, its claim is reminded before it expires;
    also when more were taken than a sweep takes back at once (here one)."""
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, person("bob"), "/claim 2.4")
    clock.advance(days=31)
    await mark_stale(ctx.store, clock(), 30, ["discord"])  # a sweep that died at once
    clock.advance(days=20)
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound, batch=1)
    await sweeper.run_once()
    await sweeper.run_once()
    assert sorted((s.kind, s.target) for s in outbound.sent) == [("dm", "ann"), ("dm", "bob")]
    assert (await claim_state(ctx.store, "ann", "3.11")).state == "stale"
    assert (await claim_state(ctx.store, "bob", "2.4")).state == "stale"


def is_expiry_notice(sent: Sent, user: str) -> bool:
    """Whether ``sent`` is the DM telling ``user`` their claim expired."""
    return sent.kind == "dm" and sent.target == user and sent.reply.title.endswith("expired")


async def test_an_expiry_notice_a_dead_sweep_took_goes_out_hours_later_once(
    ctx: Context, clock: FakeClock
) -> None:
    """A sweep expired Ann's claim and died before telling her (its row left "sending"): the
    next sweeps send nothing at once (a live sweep may be sending it), and two hours on one of
    them tells her, once, however many sweeps follow; two replicas at once tell her once too."""
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, person("bob"), "/claim 2.4")
    clock.advance(days=31)
    await make_sweeper(ctx, MemoryOutbound()).run_once()  # both reminded
    clock.advance(days=14, hours=12, minutes=1)  # after the day named ends
    await expire_due(ctx.store, clock(), 14, ["discord"])  # the sweep that died right after
    left = await claim_state(ctx.store, "ann", "3.11")
    assert (left.state, left.notice) == ("expired", "sending")
    restarted = MemoryOutbound(delay=0.001)
    sweeper = make_sweeper(ctx, restarted)
    await sweeper.run_once()
    clock.advance(hours=1, minutes=59)
    await sweeper.run_once()
    assert restarted.sent == []
    clock.advance(minutes=2)
    other = MemoryOutbound(delay=0.001)
    await asyncio.gather(sweeper.run_once(), make_sweeper(ctx, other).run_once())
    clock.advance(hours=3)
    await sweeper.run_once()
    sent = restarted.sent + other.sent
    assert sorted(s.target for s in sent) == ["ann", "bob"] and all(
        is_expiry_notice(s, s.target) for s in sent
    )
    assert (await claim_state(ctx.store, "ann", "3.11")).notice == "dm"


async def test_an_expiry_notice_an_older_replica_took_and_died_with_still_goes_out(
    ctx: Context, clock: FakeClock
) -> None:
    """During a rolling update (migration 0011 run, a replica of the release before it still
    sweeping), that replica expired Ann's claim as it did, "sending" with no notice_at, and was
    killed before telling her: the new replicas never took the notice back (a NULL time is
    before nothing), so she was never told. It goes out two hours after her claim expired."""
    await say(ctx, ANN, "/claim 3.11")
    clock.advance(days=31)
    await make_sweeper(ctx, MemoryOutbound()).run_once()  # reminded
    clock.advance(days=14, hours=12, minutes=1)  # after the day named ends
    await expire_due(ctx.store, clock(), 14, ["discord"])
    async with ctx.store.session() as s:  # as the release before 0011 writes it
        await s.exec(sa.update(Claim).where(col(Claim.user_id) == "ann").values(notice_at=None))
    outbound = MemoryOutbound(delay=0.001)
    sweeper = make_sweeper(ctx, outbound)
    await sweeper.run_once()
    assert outbound.sent == []
    clock.advance(hours=2, minutes=1)
    await sweeper.run_once()
    clock.advance(hours=3)
    await sweeper.run_once()
    assert [s.target for s in outbound.sent] == ["ann"] and is_expiry_notice(outbound.sent[0], "ann")
    assert (await claim_state(ctx.store, "ann", "3.11")).notice == "dm"


async def test_two_replicas_take_back_a_dead_sweeps_reminders_once(ctx: Context, clock: FakeClock) -> None:
    """Two sweeps at once over the reminders a dead sweep took: each claimant is reminded once."""
    names = ["ann", "bob", "cy", "dee", "eve"]
    for name, number in zip(names, ["3.11", "2.4", "1.1", "1.2", "1.3"], strict=True):
        await say(ctx, person(name), f"/claim {number}")
    clock.advance(days=31)
    await mark_stale(ctx.store, clock(), 30, ["discord"])
    clock.advance(hours=3)
    first, second = MemoryOutbound(delay=0.001), MemoryOutbound(delay=0.001)
    await asyncio.gather(make_sweeper(ctx, first).run_once(), make_sweeper(ctx, second).run_once())
    assert sorted(s.target for s in first.sent + second.sent) == sorted(names)


class NetworkCut(MemoryOutbound):
    """Sends ``outcome`` ("dm": it arrives; "refused": the platform refuses it), and the same
    network cut takes PostgreSQL away with it, once."""

    def __init__(self, proxy: TcpProxy, outcome: str) -> None:
        super().__init__()
        self.proxy, self.outcome, self.cut = proxy, outcome, True

    async def send_dm(
        self, community_id: str, user_id: str, reply: Reply, *, ask_if_gone: bool = True
    ) -> Posted:
        if not self.cut:
            return await super().send_dm(community_id, user_id, reply, ask_if_gone=ask_if_gone)
        self.cut = False
        self.proxy.cut()
        if self.outcome == "refused":
            raise NotDelivered("cannot reach Discord (network down)")
        return await super().send_dm(community_id, user_id, reply, ask_if_gone=ask_if_gone)


@pytest.mark.parametrize("outcome", ["dm", "refused"])
async def test_a_reminder_whose_outcome_the_database_missed_is_recorded_once_it_is_back(
    pg_behind_proxy: tuple[TcpProxy, Context], outcome: str
) -> None:
    """The database goes away while a reminder is out: the sweep stops; once it is back, the next
    sweep records what happened. A reminder that arrived is not sent again, and its grace runs from
    its arrival; one refused goes out now. Either way the claim expires 14 days after it arrived."""
    proxy, ctx = pg_behind_proxy  # Ann (u-ann) holds 2.4
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    outbound = NetworkCut(proxy, outcome)
    sweeper = make_sweeper(ctx, outbound)
    clock.advance(days=31)
    with pytest.raises(Exception):  # noqa: B017 - whichever error the lost connection gives
        await sweeper.run_once()
    proxy.heal()
    clock.advance(hours=1)
    for _ in range(3):
        await sweeper.run_once()
    (dm,) = outbound.sent
    assert is_reminder(dm, "u-ann")
    claim = await claim_state(ctx.store, "u-ann", "2.4")
    arrived = START + timedelta(days=31, hours=0 if outcome == "dm" else 1)
    assert (claim.state, claim.delivery, claim.reminded_at) == ("stale", "dm", arrived)
    clock.advance(days=14, hours=12, minutes=1)  # after the day named ends
    await sweeper.run_once()
    assert (await claim_state(ctx.store, "u-ann", "2.4")).state == "expired"
    assert [s.reply.buttons != () for s in outbound.sent] == [True, False]  # the reminder, the notice


async def first_scheduled_sweep(sweeper: Sweeper) -> tuple[JobExecutionEvent, Logged]:
    """Start the scheduler as `copbot run` does, with its logging; its first sweep's outcome as
    APScheduler saw it, and what was logged meanwhile."""
    with copbot_logging(Settings(_env_file=None, log_format="json")) as logged:  # type: ignore[call-arg]
        scheduler = start_scheduler(sweeper, 60)
        done: asyncio.Queue[JobExecutionEvent] = asyncio.Queue()
        scheduler.add_listener(done.put_nowait, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        try:
            return await asyncio.wait_for(done.get(), 10), logged
        finally:
            scheduler.shutdown(wait=False)


async def test_a_scheduled_sweep_the_database_does_not_answer_is_one_warning_line(
    pg_behind_proxy: tuple[TcpProxy, Context],
) -> None:
    """PostgreSQL out of reach when the sweep is due (DATABASE_TIMEOUT, 0.5 s here): the log says
    so in one WARNING line, no traceback and no error from APScheduler, and once the database is
    back the next sweep sends the reminder that was due."""
    proxy, ctx = pg_behind_proxy  # Ann (u-ann) holds 2.4
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    clock.advance(days=31)
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    proxy.cut()
    event, logged = await first_scheduled_sweep(sweeper)
    proxy.heal()
    assert event.code == EVENT_JOB_EXECUTED and event.exception is None, repr(event.exception)
    (line,) = [r for r in logged.records() if r["level"] in ("WARNING", "ERROR", "CRITICAL")]
    assert (line["level"], line["logger"]) == ("WARNING", "copbot.reminders")
    assert "database" in line["message"] and "runs again" in line["message"]
    assert "exception" not in line and "Traceback" not in logged.text
    assert outbound.sent == []
    await sweeper.run_once()
    (dm,) = outbound.sent
    assert is_reminder(dm, "u-ann")


async def test_a_scheduled_sweep_that_fails_for_a_bug_still_logs_its_traceback(ctx: Context) -> None:
    """A failure that is not the database's (a bug) is not hidden in a warning: APScheduler
    logs it with its traceback."""
    sweeper = make_sweeper(ctx, MemoryOutbound())

    async def broken() -> None:
        raise ZeroDivisionError

    sweeper.also = broken
    event, logged = await first_scheduled_sweep(sweeper)
    assert event.code == EVENT_JOB_ERROR
    (line,) = [r for r in logged.records() if r["level"] in ("WARNING", "ERROR", "CRITICAL")]
    assert line["level"] == "ERROR" and "ZeroDivisionError" in line["exception"]


SWEEP_PROCESS = """
import asyncio, sys, time
from datetime import datetime
from bot.outbound import NotDelivered, Posted
from bot.reminders import Sweeper
from storage.engine import make_engine
from storage.store import Store
from tests.support.outbound import MemoryOutbound

async def main():
    store = Store(make_engine(sys.argv[1]))
    outbound = MemoryOutbound(delay=0.002)
    async def no_channel(platform, community):
        return None
    now = datetime.fromisoformat(sys.argv[2])
    sweeper = Sweeper(store, {"discord": outbound}, lambda: now, stale_after_days=30, grace_days=14,
                      reminder_channel=no_channel, batch=10)
    await store.problem_count()  # connect before the start
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # the test starts both processes at once
    started = time.time()
    # The first reminder sent waits until the other process sends one too: however the two
    # processes are scheduled, neither sweeps everything before the other has taken a batch.
    first = outbound.hold_next()
    sweeping = asyncio.create_task(sweeper.run_once())
    await outbound.on_its_way()
    print("sending", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    first.set()
    await sweeping
    print(" ".join(s.target for s in outbound.sent))
    print(started, time.time(), file=sys.stderr)
    await store.close()

asyncio.run(main())
"""


async def test_two_processes_sweeping_at_once_ping_each_claim_once(
    ctx: Context, clock: FakeClock, db_url: str
) -> None:
    """Two bot processes on one database sweep together: 300 stale claims, 300 pings, no repeats."""
    people = [Person("discord", "guild1", f"u{i}", f"U{i}") for i in range(300)]
    for chunk in range(0, 300, 50):
        await asyncio.gather(*(ctx.store.claim("3.11", p, clock()) for p in people[chunk : chunk + 50]))
    later = clock.advance(days=31).isoformat()
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            SWEEP_PROCESS,
            db_url,
            later,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        for p in procs:  # both connected, however long starting took
            assert p.stdout is not None and p.stderr is not None
            ready = await asyncio.wait_for(p.stdout.readline(), 60)
            assert ready == b"ready\n", ready or (await p.stderr.read()).decode()[-800:]  # ended
        for p in procs:  # then both start sweeping at the same moment
            assert p.stdin is not None
            p.stdin.write(b"go\n")
        for p in procs:  # each has taken a batch and sends its first reminder
            assert p.stdout is not None and p.stderr is not None
            sending = await asyncio.wait_for(p.stdout.readline(), 60)
            assert sending == b"sending\n", sending or (await p.stderr.read()).decode()[-800:]
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(b"go on\n")
        outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 60)
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()
    assert all(p.returncode == 0 for p in procs), [err.decode()[-800:] for _, err in outputs]
    pinged = [out.decode().split() for out, _ in outputs]
    assert sorted(pinged[0] + pinged[1]) == sorted(p.user_id for p in people)
    assert pinged[0] and pinged[1], (
        "both processes took part in the sweep (when each started and ended)",
        [e.decode() for _, e in outputs],
    )


async def test_the_sweep_forgets_event_ids_after_a_week(ctx: Context, clock: FakeClock) -> None:
    """Dedup keys are kept long enough for any replay, then pruned so the table stays small."""
    assert await ctx.store.first_time("slack:Ev1", clock())
    await make_sweeper(ctx, MemoryOutbound()).run_once()
    assert not await ctx.store.first_time("slack:Ev1", clock())
    clock.advance(days=8)
    await make_sweeper(ctx, MemoryOutbound()).run_once()
    assert await ctx.store.first_time("slack:Ev1", clock())


THREE = ("3.11", "2.4", "1.1")


async def claim_three(ctx: Context, clock: FakeClock, who: Actor = ANN) -> list[Claim]:
    """``who`` claims 3.11, 2.4 and 1.1 a minute apart (so they go stale in that order)."""
    for number in THREE:
        await say(ctx, who, f"/claim {number}")
        clock.advance(minutes=1)
    return [await claim_state(ctx.store, who.user_id, number) for number in THREE]


def listed(sent: Sent) -> str:
    """The lines of a message's sections."""
    return "\n".join(str(line) for section in sent.reply.sections for line in section.lines)


async def test_a_member_whose_claims_go_stale_together_gets_one_reminder_listing_them(
    ctx: Context, clock: FakeClock
) -> None:
    """Ann's three claims go quiet together: one DM lists them with two buttons each, each
    button answers for its own claim, and each claim's reminder is recorded as delivered."""
    claims = await claim_three(ctx, clock)
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    clock.advance(days=31)
    report = await sweeper.run_once()
    await sweeper.run_once()
    assert report.stale == 3 and report.delivered == {"dm": 3}
    (dm,) = outbound.sent
    assert dm.kind == "dm" and dm.target == "ann" and dm.reply.title == "Still working on 3 problems?"
    for number in THREE:
        assert f"{number} — " in listed(dm)
    assert [(b.label, b.custom_id) for b in dm.reply.buttons] == [
        (f"{verb} {c.problem_number}", f"cop:{action}:{c.id}")
        for c in claims
        for verb, action in (("Still on", "renew"), ("Release", "drop"))
    ]
    assert [(await claim_state(ctx.store, "ann", n)).delivery for n in THREE] == ["dm"] * 3
    by_label = {b.label: b.custom_id for b in dm.reply.buttons}
    assert (await dispatch.run_action(ctx, person("bob"), by_label["Release 2.4"])).error
    released = await dispatch.run_action(ctx, ANN, by_label["Release 2.4"])
    assert released.text == "Released your claim on 2.4. Thanks for saying so!"
    renewed = await dispatch.run_action(ctx, ANN, by_label["Still on 1.1"])
    assert renewed.text.startswith("Renewed your claim on 1.1 today")
    states = [(await claim_state(ctx.store, "ann", n)).state for n in THREE]
    assert states == ["stale", "released", "active"]


async def test_a_batch_falls_back_to_one_channel_post_and_a_refused_one_goes_again_whole(
    ctx: Context, clock: FakeClock
) -> None:
    """Closed DMs: one post in the reminder channel lists Bob's three claims; a refused DM to Ann
    leaves her three claims to retry, and the next sweep sends them in one DM, once."""
    await claim_three(ctx, clock, person("bob"))
    await claim_three(ctx, clock)
    outbound = MemoryOutbound(closed_dms={"bob"}, refuse={"ann": 1})
    sweeper = make_sweeper(ctx, outbound, channel="reminders")
    clock.advance(days=31)
    first = await sweeper.run_once()
    assert first.delivered == {"channel": 3, "retry": 3}
    (post,) = outbound.sent
    assert (post.kind, post.target, post.reply.mention) == ("channel", "reminders", "bob")
    assert len(post.reply.buttons) == 6 and all(f"{n} — " in listed(post) for n in THREE)
    assert [(await claim_state(ctx.store, "bob", n)).delivery for n in THREE] == ["channel"] * 3
    assert [(await claim_state(ctx.store, "ann", n)).delivery for n in THREE] == ["retry"] * 3
    second = await sweeper.run_once()
    await sweeper.run_once()
    assert second.delivered == {"dm": 3}
    assert [(s.kind, s.target, len(s.reply.buttons)) for s in outbound.sent[1:]] == [("dm", "ann", 6)]
    assert [(await claim_state(ctx.store, "ann", n)).delivery for n in THREE] == ["dm"] * 3


async def test_more_stale_claims_than_one_message_holds_go_in_as_few_messages_as_fit(
    ctx: Context, clock: FakeClock
) -> None:
    """Fourteen claims: two DMs (12 claims with 24 buttons, then 2), each claim in exactly one."""
    numbers = [p.number for p in await ctx.store.problems()][:14]
    for number in numbers:
        await ctx.store.claim(number, ANN.person, clock())
    outbound = MemoryOutbound()
    clock.advance(days=31)
    await make_sweeper(ctx, outbound).run_once()
    assert [(s.kind, len(s.reply.buttons)) for s in outbound.sent] == [("dm", 24), ("dm", 4)]
    targets = [b.target for s in outbound.sent for b in s.reply.buttons if b.action == "drop"]
    ids = [str((await claim_state(ctx.store, "ann", n)).id) for n in numbers]
    assert sorted(targets) == sorted(ids)


async def test_claims_expiring_together_get_one_notice(ctx: Context, clock: FakeClock) -> None:
    """The grace period ends for Ann's three claims at once: one notice names all three."""
    await claim_three(ctx, clock)
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    for days in (31, 15, 1):  # stale, then expired, then a sweep with nothing more to say
        clock.advance(days=days)
        await sweeper.run_once()
    reminder, notice = outbound.sent
    assert (notice.kind, notice.target, notice.reply.title) == (
        "dm",
        "ann",
        "Your claims on 3 problems expired",
    )
    assert all(f"{n} — " in listed(notice) for n in THREE) and not notice.reply.buttons
    assert [(await claim_state(ctx.store, "ann", n)).notice for n in THREE] == ["dm"] * 3


async def test_two_sweeps_at_once_remind_each_of_a_members_claims_once(
    ctx: Context, clock: FakeClock
) -> None:
    """Three members with three claims each; two sweeps at once, then two more over reminders a
    dead sweep took: every claim is in exactly one reminder, each reminder to its claimant."""
    names = ["ann", "bob", "cy"]
    for name in names:
        await claim_three(ctx, clock, person(name))
    clock.advance(days=31)
    outbounds = [MemoryOutbound(delay=0.001) for _ in range(4)]
    await asyncio.gather(*(make_sweeper(ctx, o).run_once() for o in outbounds[:2]))
    for name in names:  # a sweep took the later claims and died before sending
        await claim_three(ctx, clock, person(f"{name}2"))
    clock.advance(days=31)
    await mark_stale(ctx.store, clock(), 30, ["discord"])
    clock.advance(hours=3)
    await asyncio.gather(*(make_sweeper(ctx, o).run_once() for o in outbounds[2:]))
    sent = [s for o in outbounds for s in o.sent]
    reminded = [(s.target, b.target) for s in sent for b in s.reply.buttons if b.action == "drop"]
    claims = [await claim_state(ctx.store, who, n) for who in [*names, "ann2", "bob2", "cy2"] for n in THREE]
    assert sorted(reminded) == sorted((c.user_id, str(c.id)) for c in claims)
    assert {c.delivery for c in claims} == {"dm"}


async def test_a_late_expiry_notice_is_not_sent_to_someone_who_claimed_the_problem_again(
    ctx: Context, clock: FakeClock
) -> None:
    """Ann's claims on 3.11 and 2.4 expired and the platform refused the notice (a rate limit);
    before the next sweep sent it again she claimed 3.11 anew, and that sweep told her "Your
    claims on 2 problems expired", 3.11 among them, while she held a fresh claim on it. The late
    notice now names only 2.4, her new claim stands, 3.11's earlier claim is still in its
    history as expired, and no later sweep says more."""
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, ANN, "/claim 2.4")
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    clock.advance(days=31)
    await sweeper.run_once()  # one reminder for both
    outbound.refuse["ann"] = 1
    clock.advance(days=14, hours=12, minutes=1)  # after the day named ends
    assert (await sweeper.run_once()).expired == 2
    assert len(outbound.sent) == 1
    assert [(await claim_state(ctx.store, "ann", n)).notice for n in ("3.11", "2.4")] == ["retry"] * 2
    assert not (await say(ctx, ANN, "/claim 3.11")).error
    clock.advance(minutes=10)
    await sweeper.run_once()
    (notice,) = outbound.sent[1:]
    assert is_expiry_notice(notice, "ann") and notice.reply.title == "Your claim on 2.4 expired"
    assert "3.11" not in notice.reply.text
    (held,) = await ctx.store.open_claims_for_user("discord", "guild1", "ann")
    assert (held.problem_number, held.state, held.notice) == ("3.11", "active", "")
    await assert_told_nothing_of_earlier_claim(ctx, clock, sweeper, outbound)
    assert "The claim by Ann expired" in await shown(ctx, ANN, "/history 3.11")


async def assert_told_nothing_of_earlier_claim(
    ctx: Context, clock: FakeClock, sweeper: Sweeper, outbound: MemoryOutbound
) -> None:
    """Sweeps hours apart send Ann nothing more, and her earlier claim on 3.11 is expired with its
    notice recorded as not sent for her new claim."""
    sent = len(outbound.sent)
    for _ in range(2):
        clock.advance(hours=3)
        await sweeper.run_once()
    assert len(outbound.sent) == sent
    (earlier,) = [c for c in await ctx.store.claims_for_problem("3.11") if c.user_id == "ann" and c.ended_at]
    assert (earlier.state, earlier.notice) == ("expired", "reclaimed")


async def test_an_expiry_notice_a_dead_sweep_took_is_not_sent_after_the_problem_was_claimed_again(
    ctx: Context, clock: FakeClock
) -> None:
    """A sweep expired Ann's claim on 3.11 and died before telling her; she claimed 3.11 again
    before a later sweep took the notice back, which would have told her the claim expired."""
    await say(ctx, ANN, "/claim 3.11")
    clock.advance(days=31)
    await make_sweeper(ctx, MemoryOutbound()).run_once()
    clock.advance(days=14, hours=12, minutes=1)  # after the day named ends
    await expire_due(ctx.store, clock(), 14, ["discord"])  # the sweep that died right after
    assert not (await say(ctx, ANN, "/claim 3.11")).error
    later = MemoryOutbound()
    await assert_told_nothing_of_earlier_claim(ctx, clock, make_sweeper(ctx, later), later)
    assert later.sent == []


async def claim_in_turn(ctx: Context, clock: FakeClock, *claims: tuple[Actor, str]) -> None:
    """Each member claims their problem a minute after the one before (so they go stale in turn)."""
    for who, number in claims:
        await say(ctx, who, f"/claim {number}")
        clock.advance(minutes=1)


@asynccontextmanager
async def another_replica(db_url: str, clock: FakeClock) -> AsyncIterator[Context]:
    """A second bot process on the test's database (its own store and caches)."""
    other = Store(make_engine(db_url))
    try:
        yield Context(store=other, clock=clock, rng=random.Random(4))
    finally:
        await other.close()


async def test_a_claim_released_or_renewed_on_another_replica_while_the_sweep_sends_gets_no_reminder(
    ctx: Context, clock: FakeClock, db_url: str
) -> None:
    """A sweep took the stale claims of Ann, Bob and Cy and is sending their reminders one at a
    time (the platform is slow: Ann's is on its way). Meanwhile Bob releases 2.4 and Cy claims 1.1
    again, through another replica. Bob and Cy then got "still working on it?" for a claim they
    had just released or renewed; now only Ann is reminded, Bob's history shows no reminder after
    his release, and Cy's claim stays fresh."""
    bob, cy = person("bob"), person("cy")
    await claim_in_turn(ctx, clock, (ANN, "3.11"), (bob, "2.4"), (cy, "1.1"))
    clock.advance(days=31)
    async with another_replica(db_url, clock) as replica:
        outbound = MemoryOutbound()
        sweeper = make_sweeper(ctx, outbound)
        sweeper.concurrency = 1  # one message at a time, Ann's first
        arrived = outbound.hold_next()
        sweeping = asyncio.create_task(sweeper.run_once())
        await outbound.on_its_way()
        assert "Released your claim on 2.4" in (await say(replica, bob, "/release 2.4")).text
        assert "renewed your claim today" in (await say(replica, cy, "/claim 1.1")).text
        arrived.set()
        report = await sweeping
        assert [s.target for s in outbound.sent] == ["ann"] and is_reminder(outbound.sent[0], "ann")
        assert report.stale == 3
        released = await claim_state(ctx.store, "bob", "2.4")
        assert released.state == "released"
        assert "stale" not in [e.kind for e in await ctx.store.history("2.4")]
        renewed = await claim_state(ctx.store, "cy", "1.1")
        assert (renewed.state, renewed.delivery, renewed.renewed_at) == ("active", "", clock())
        assert (await claim_state(ctx.store, "ann", "3.11")).delivery == "dm"
        for _ in range(2):  # later sweeps send nothing more
            clock.advance(hours=3)
            await sweeper.run_once()
        assert len(outbound.sent) == 1


async def test_an_expiry_notice_is_not_sent_to_someone_who_claimed_again_while_the_sweep_sent_others(
    ctx: Context, clock: FakeClock, db_url: str
) -> None:
    """Ann's and Bob's claims expired in one sweep, which sends the notices one at a time (Ann's
    is on its way). Meanwhile Bob claims 2.4 again through another replica: he was then told "Your
    claim on 2.4 expired" while holding a fresh claim on it. Now his notice is not sent (recorded
    as reclaimed, as a late one is), and his history still says the earlier claim expired."""
    bob = person("bob")
    await claim_in_turn(ctx, clock, (ANN, "3.11"), (bob, "2.4"))
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    sweeper.concurrency = 1  # one message at a time, Ann's first
    clock.advance(days=31)
    await sweeper.run_once()  # the reminders
    clock.advance(days=14, hours=12, minutes=1)  # after the day named ends
    async with another_replica(db_url, clock) as replica:
        arrived = outbound.hold_next()
        sweeping = asyncio.create_task(sweeper.run_once())
        await outbound.on_its_way()
        assert "You claimed 2.4" in (await say(replica, bob, "/claim 2.4")).text
        arrived.set()
        assert (await sweeping).expired == 2
        notices = [s for s in outbound.sent if s.reply.title.endswith("expired")]
        assert [s.target for s in notices] == ["ann"] and is_expiry_notice(notices[0], "ann")
        bobs = await ctx.store.claims_for_problem("2.4", users=["bob"])
        (earlier,) = [c for c in bobs if c.ended_at]
        assert (earlier.state, earlier.notice) == ("expired", "reclaimed")
        (held,) = await ctx.store.open_claims_for_user("discord", "guild1", "bob")
        assert (held.problem_number, held.state) == ("2.4", "active")


async def test_stale_days_raised_on_another_replica_during_a_sweep_hold_for_its_later_batches(
    ctx: Context, clock: FakeClock, db_url: str
) -> None:
    """A sweep reminds its stale claims a batch at a time (here one a batch; big sweeps take
    minutes). While Ann's reminder is on its way, an admin raises the server's stale_days to 60
    through another replica, told "Settings saved.". Bob's 31-day-old claim, in the next batch,
    was still reminded by the 30 days the sweep had read at its start; now it waits for 60."""
    bob, boss = person("bob"), person("boss", admin=True)
    await claim_in_turn(ctx, clock, (ANN, "3.11"), (bob, "2.4"))
    clock.advance(days=31)
    async with another_replica(db_url, clock) as replica:
        outbound = MemoryOutbound()
        sweeper = make_sweeper(ctx, outbound, batch=1)
        arrived = outbound.hold_next()
        sweeping = asyncio.create_task(sweeper.run_once())
        await outbound.on_its_way()
        assert "Settings saved." in await shown(replica, boss, "/setup stale_days:60")
        arrived.set()
        await sweeping
        assert [s.target for s in outbound.sent] == ["ann"]
        assert (await claim_state(ctx.store, "bob", "2.4")).state == "active"


async def test_a_database_lost_while_a_sweep_sends_is_one_error_not_one_wait_per_reminder(
    pg_behind_proxy: tuple[TcpProxy, Context], caplog: pytest.LogCaptureFixture
) -> None:
    """The database goes away as the first of five reminders goes out, one at a time. Each
    reminder checks its claim just before it goes; once that read failed, the others of the batch
    go out without waiting for the database again (a DATABASE_TIMEOUT each, minutes for a big
    batch) and the log holds one traceback for it, not one per reminder."""
    proxy, ctx = pg_behind_proxy  # Ann (u-ann) holds 2.4
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    others = [person(name) for name in ("bob", "cy", "dee", "eve")]
    await claim_in_turn(ctx, clock, *zip(others, ("1.1", "3.11", "2.7", "3.3"), strict=True))
    clock.advance(days=31)
    outbound = NetworkCut(proxy, "dm")
    sweeper = make_sweeper(ctx, outbound)
    sweeper.concurrency = 1  # one message at a time, the others waiting for their turn
    arrived = outbound.hold_next()
    sweeping = asyncio.create_task(sweeper.run_once())
    await outbound.on_its_way()
    arrived.set()
    with pytest.raises(Exception):  # noqa: B017 - recording them fails: the sweep stops
        await sweeping
    proxy.heal()
    assert sorted(s.target for s in outbound.sent) == ["bob", "cy", "dee", "eve", "u-ann"]
    failed = [r for r in caplog.records if "is still wanted failed" in r.getMessage()]
    assert len(failed) == 1


async def test_claims_and_the_card_say_when_a_stale_claim_expires_and_that_its_reminder_did_not_arrive(
    ctx: Context, clock: FakeClock
) -> None:
    """Bob's DMs are closed and there is no reminder channel: his own /claims was the only place
    he could learn his claim was running out, and it said only "stale". It says when it expires
    (14 days after the reminder), that the reminder could not reach him, and how to keep it;
    Ann's reminder arrived, so her line says only when hers expires."""
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, person("bob"), "/claim 2.4")
    clock.advance(days=31)
    await make_sweeper(ctx, MemoryOutbound(closed_dms={"bob"})).run_once()
    mine = await shown(ctx, person("bob"), "/claims")
    gone = (
        "stale: no news since 2026-11-25, my reminder could not reach them, "
        "expires at the end of 2027-01-09 unless renewed"
    )
    assert gone in mine
    assert "/claim NUMBER renews a stale claim" in mine
    card = await shown(ctx, person("cy"), "/problem 3.11")
    assert (
        "Ann — since 2026-11-25 (31 days ago) · stale: no news since 2026-11-25, "
        "expires at the end of 2027-01-09" in card
    )
    assert "/claim NUMBER renews" not in await shown(ctx, person("cy"), "/claims everyone")


async def test_a_stale_claim_is_kept_through_the_whole_utc_day_it_was_said_to_expire(
    ctx: Context, clock: FakeClock
) -> None:
    """Sweeps run every 30 minutes (at :20 and :50). Ann's reminder went out at 23:50 UTC, Bob's
    at 00:20, the next sweep; each named the UTC day, 14 days on, by which to answer. But a claim
    expired at the first sweep 14 days to the minute after its reminder: Ann's the day after the
    one she was told, Bob's at 00:50 on his, so his answer at noon that day found it expired.
    Each claim is now kept through the whole day named and expires at the first sweep after it
    ends, as the reminder and the card say."""
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    bob, cy = person("bob"), person("cy")

    async def sweep_at(month: int, day: int, hour: int, minute: int) -> None:
        clock.now = datetime(2027 if month == 1 else 2026, month, day, hour, minute, tzinfo=UTC)
        await sweeper.run_once()

    clock.now = datetime(2026, 11, 25, 23, 45, tzinfo=UTC)
    await say(ctx, ANN, "/claim 3.11")
    clock.now = datetime(2026, 11, 26, 0, 15, tzinfo=UTC)
    await say(ctx, bob, "/claim 2.4")
    await sweep_at(12, 25, 23, 50)  # Ann's reminder
    await sweep_at(12, 26, 0, 20)  # Bob's
    texts = {s.target: s.reply.text for s in outbound.sent}
    assert "If I hear nothing in 14 days (by the end of 2027-01-08, UTC) the claim expires" in texts["ann"]
    assert "If I hear nothing in 14 days (by the end of 2027-01-09, UTC) the claim expires" in texts["bob"]

    await sweep_at(1, 8, 23, 50)  # 14 days to the minute after Ann's reminder
    assert "expires at the end of 2027-01-08 unless renewed" in await shown(ctx, cy, "/problem 3.11")
    await sweep_at(1, 9, 0, 20)  # the first sweep after her day ended
    assert "Ann — 2026-11-25 to 2027-01-09, expired" in await shown(ctx, cy, "/problem 3.11")
    for hour, minute in ((0, 50), (12, 20), (23, 50)):  # all through Bob's day
        await sweep_at(1, 9, hour, minute)
        card = await shown(ctx, cy, "/problem 2.4")
        assert "Bob — since 2026-11-26" in card and "expires at the end of 2027-01-09 unless renewed" in card
    await sweep_at(1, 10, 0, 20)
    assert "Bob — 2026-11-26 to 2027-01-10, expired" in await shown(ctx, cy, "/problem 2.4")
    assert [s.reply.title for s in outbound.sent[2:]] == [
        "Your claim on 3.11 expired",
        "Your claim on 2.4 expired",
    ]


async def test_a_reminder_sent_across_midnight_keeps_the_claim_through_the_day_it_named(
    ctx: Context, clock: FakeClock
) -> None:
    """The sweep wrote Ann's reminder at 23:59 UTC ("by the end of 2027-01-08") and the platform
    took it at 00:01: the reminder time was read again after sending, so the card said "expires
    at the end of 2027-01-09" and the claim was kept a day longer than she was told. Both now
    use one instant: the card names her day, and the claim expires once that day is over."""
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    clock.now = datetime(2026, 11, 25, 23, 55, tzinfo=UTC)
    await say(ctx, ANN, "/claim 3.11")
    clock.now = datetime(2026, 12, 25, 23, 59, tzinfo=UTC)
    arrived = outbound.hold_next()
    sweeping = asyncio.create_task(sweeper.run_once())
    await outbound.on_its_way()
    clock.now = datetime(2026, 12, 26, 0, 1, tzinfo=UTC)  # midnight passes while it is on its way
    arrived.set()
    await sweeping
    (reminder,) = outbound.sent
    assert (
        "If I hear nothing in 14 days (by the end of 2027-01-08, UTC) the claim expires"
        in reminder.reply.text
    )
    card = await shown(ctx, person("cy"), "/problem 3.11")
    assert "expires at the end of 2027-01-08 unless renewed" in card
    clock.now = datetime(2027, 1, 9, 0, 20, tzinfo=UTC)
    assert (await sweeper.run_once()).expired == 1


async def test_a_one_day_setting_reads_one_day_not_one_days(ctx: Context, clock: FakeClock) -> None:
    """STALE_GRACE_DAYS=1 and /setup stale_days:1 are allowed; the reminder, /setup and /help said
    "in 1 days", "1 days" and "after 1 days"."""
    admin = person("boss", admin=True)
    setup = await shown(ctx, admin, "/setup stale_days:1")
    assert "Stale after: 1 day ·" in setup
    assert "turns stale after 1 day without news" in await shown(ctx, ANN, "/help")
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, ANN, "/claim 2.4")
    await say(ctx, person("bob"), "/claim 1.1")
    outbound = MemoryOutbound()
    sweeper = make_sweeper(ctx, outbound)
    sweeper.grace_days = 1
    clock.advance(days=2)
    await sweeper.run_once()
    texts = {s.target: s.reply.text for s in outbound.sent}
    assert "If I hear nothing in 1 day (by the end of 2026-11-28, UTC) the claim expires" in texts["bob"]
    assert (
        "If I hear nothing about one in 1 day (by the end of 2026-11-28, UTC) its claim expires"
        in texts["ann"]
    )
    await ctx.store.update_settings("discord", "guild1", clock(), reminder_channel_id="reminders")
    cleared = await shown(replace(ctx, stale_grace_days=1), admin, "/setup reset:reminder_channel")
    assert "the claim expires 1 day after the reminder was due, at the end of that day (UTC)" in cleared


async def test_with_a_one_day_grace_the_history_of_an_expiry_reads_one_day(
    ctx: Context, clock: FakeClock
) -> None:
    """STALE_GRACE_DAYS=1: a claim's /history said it expired with "no answer 1 days after the
    reminder" (and "1 days after the last try" where the reminder could not reach its claimant)."""
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, person("bob"), "/claim 3.11")
    sweeper = make_sweeper(ctx, MemoryOutbound(closed_dms={"bob"}))
    sweeper.grace_days = 1
    clock.advance(days=31)
    await sweeper.run_once()
    clock.advance(days=2)
    assert (await sweeper.run_once()).expired == 2
    history = await shown(ctx, ANN, "/history 3.11")
    assert "The claim by Ann expired: no answer 1 day after the reminder" in history, history
    assert "reached them, 1 day after the last try" in history, history


async def test_a_reminder_says_since_when_it_heard_nothing_and_the_day_the_claim_expires(
    ctx: Context, clock: FakeClock
) -> None:
    """Ann renewed 3.11 ten days after claiming it: her reminder said only "You claimed 3.11 on
    2026-11-25" (so why ask, she renewed it) and "in 14 days", which, read days later, no longer
    says when. It names the renewal and the UTC day the claim expires; so does each line of a
    reminder listing several claims."""
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, person("bob"), "/claim 3.11")
    await say(ctx, person("bob"), "/claim 2.4")
    clock.advance(days=10)
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, person("bob"), "/claim 2.4")
    outbound = MemoryOutbound()
    clock.advance(days=31)
    await make_sweeper(ctx, outbound).run_once()
    texts = {s.target: s.reply for s in outbound.sent}
    assert "on 2026-11-25, last renewed 2026-12-05. Still working on it?" in texts["ann"].text
    assert (
        "If I hear nothing in 14 days (by the end of 2027-01-19, UTC) the claim expires" in texts["ann"].text
    )
    bob = texts["bob"]
    assert (
        "If I hear nothing about one in 14 days (by the end of 2027-01-19, UTC) its claim expires" in bob.text
    )
    lines = [line.split(" — ")[-1] for line in bob.sections[0].lines]
    assert sorted(lines) == ["claimed 2026-11-25", "claimed 2026-11-25, last renewed 2026-12-05"]


async def test_lowering_stale_days_tells_the_admin_how_many_claimants_the_next_sweep_reminds(
    ctx: Context, clock: FakeClock
) -> None:
    """An admin trying /setup stale_days:7 was told only "Settings saved." while the next sweep
    DMed every member whose claim had been quiet a week. /setup now says how many claims that
    is; claims already stale, or recent, do not count."""
    admin = person("boss", admin=True)
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, person("bob"), "/claim 2.4")
    clock.advance(days=8)
    await say(ctx, person("cy"), "/claim 1.1")
    saved = await shown(ctx, admin, "/setup stale_days:7")
    assert (
        "2 open claims here have had no news for more than 7 days: they turn stale at the next "
        "sweep, and their claimants get a reminder." in saved
    )
    outbound = MemoryOutbound()
    await make_sweeper(ctx, outbound).run_once()
    assert sorted(s.target for s in outbound.sent) == ["ann", "bob"]
    again = await shown(ctx, admin, "/setup stale_days:7")
    assert "no news" not in again
    clock.advance(days=1)
    assert "no news" not in await shown(ctx, admin, "/setup stale_days:10")


async def test_raising_stale_days_says_the_claims_already_stale_stay_so(
    ctx: Context, clock: FakeClock
) -> None:
    """An admin raising stale_days after a sweep reminded members was told only "Settings
    saved.", as if the reminded claims were fresh again; they stay stale and expire as their
    reminder said. /setup now says how many there are (the community's only)."""
    admin = person("boss", admin=True)
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, person("bob"), "/claim 2.4")
    await say(ctx, person("eve", community="elsewhere"), "/claim 2.4")
    clock.advance(days=ctx.stale_after_days + 1)
    await say(ctx, person("cy"), "/claim 1.1")
    await make_sweeper(ctx, MemoryOutbound()).run_once()
    saved = await shown(ctx, admin, f"/setup stale_days:{ctx.stale_after_days + 30}")
    assert (
        "2 claims here are stale already, reminded under the old setting: they stay stale, and "
        "each expires as its reminder said unless renewed." in saved
    ), saved
    await say(ctx, ANN, "/claim 3.11")  # renewed: fresh again
    once = await shown(ctx, admin, "/setup stale_days:60")
    assert (
        "1 claim here is stale already, reminded under the old setting: it stays stale, and expires "
        "as its reminder said unless renewed." in once
    ), once


async def test_help_and_setup_say_that_an_unanswered_stale_claim_expires(
    ctx: Context, clock: FakeClock
) -> None:
    """/help said what a stale claim is but not that it then expires, so a member whose claim
    expired had never been told it could; /setup showed admins the stale days but not the grace
    period after the reminder (STALE_GRACE_DAYS, the operator's: not theirs to change)."""
    one = replace(ctx, stale_grace_days=1)
    helped = await shown(one, ANN, "/help")
    assert (
        "A stale claim's claimant gets a reminder; without an answer within 1 day (by the end of that day, "
        "UTC) the claim expires." in helped
    )
    setup = await shown(ctx, person("boss", admin=True), "/setup show")
    assert (
        "Stale after: 30 days (default) · Expires: 14 days after an unanswered reminder, "
        "at the end of that day (UTC) ·" in setup
    )
