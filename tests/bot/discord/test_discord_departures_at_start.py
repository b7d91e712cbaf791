"""copbot removed from a Discord server while it was not running, or while it was disconnected for
longer than Discord keeps its session: no GUILD_DELETE ever reaches it, but the gateway's READY at
the next start (or in the new session) no longer lists the server. Once a shard is ready, a server
copbot holds claims, submissions or settings for, that it was seen in as a member before, and that
the shard no longer lists is recorded as gone, as a GUILD_DELETE would have; an outage (the server
listed as unavailable) is not, nor is a server of a shard another process serves, a server that
added only copbot's commands, or another copbot application's server.

Through the real client and the fake Discord, restarted between the two halves of each test (or
made to identify anew), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from commands.types import Context
from storage import departures, submissions
from storage.models import ClaimState, LinkStatus
from tests.bot.discord.discord_rig import Moderated, alice_holds_work, embed, moderated, text_of
from tests.fakes.discord_api import FakeDiscord
from tests.support.clock import FakeClock
from tests.support.discord_guilds import OtherGuild, guild_id_on_shard

LINK = "https://example.org/acronyms"
# discord.py waits this long after the last GUILD_CREATE before a shard is ready (2 s by default).
QUICK = {"guild_ready_timeout": 0.05}


@pytest.fixture(autouse=True)
def info(caplog: pytest.LogCaptureFixture) -> None:
    """copbot's info lines are caught: "Discord shard 0 ready" says the check is done."""
    caplog.set_level(logging.INFO, logger="copbot")


async def is_left(ctx: Context, guild_id: int | str) -> bool:
    row = await ctx.store.get_settings("discord", str(guild_id))
    return row is not None and row.left_at is not None


async def until_ready(rig: Moderated, caplog: pytest.LogCaptureFixture, shard: int = 0) -> None:
    """Let the client handle the gateway's READY (and GUILD_CREATEs) until ``shard`` is ready."""
    said = f"Discord shard {shard} ready"
    # The start check before it writes a row for each server gone (120 in one test): on a busy
    # machine, on PostgreSQL, that alone took over 5 s. Waiting longer only delays a failure.
    await rig.fake.wait_until(
        lambda: any(r.getMessage().startswith(said) for r in caplog.records),
        timeout=30,
        description=repr(said),
    )


@contextlib.asynccontextmanager
async def holding_work_in_two_servers(
    fake: FakeDiscord, ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[tuple[Moderated, OtherGuild]]:
    """copbot running with global commands, its shard ready: Alice's work in the fake's server
    (:func:`alice_holds_work`), Bob's claim of 1.1 in another server (listed as unavailable)."""
    elsewhere = OtherGuild(fake, guild_id_on_shard(0, 1), fake.general_id)
    async with moderated(fake, ctx, db_url, discord_guild_id=None, client_options=QUICK) as rig:
        await until_ready(rig, caplog)
        await alice_holds_work(fake, LINK)
        await claim_in(elsewhere, "1.1")
        yield rig, elsewhere


async def new_session(fake: FakeDiscord, rig: Moderated, caplog: pytest.LogCaptureFixture) -> None:
    """The connection is lost for longer than Discord keeps the session: discord.py cannot resume
    it, identifies anew, and the shard is ready again after the new READY."""
    identified = len(fake.identifies)
    caplog.clear()
    await fake.invalidate_session()
    await until_ready(rig, caplog)
    assert len(fake.identifies) == identified + 1


async def found_gone(ctx: Context, caplog: pytest.LogCaptureFixture, guild_id: int) -> None:
    """The server is recorded as gone, with one warning, and Alice's submission there closed."""
    assert await is_left(ctx, guild_id)
    link = await submissions.get_link(ctx.store, 1)
    assert link is not None and link.status == LinkStatus.REJECTED
    assert link.reason == "the community removed copbot"
    gone = [r for r in caplog.records if "copbot can no longer reach" in r.getMessage()]
    assert len(gone) == 1 and str(guild_id) in gone[0].getMessage()
    assert gone[0].levelno == logging.WARNING


async def only_gone(ctx: Context, gone: int, kept: int) -> None:
    """``gone`` is recorded as gone; ``kept`` is not, and Alice's submission there is pending."""
    assert await is_left(ctx, gone)
    assert not await is_left(ctx, kept)
    link = await submissions.get_link(ctx.store, 1)
    assert link is not None and link.status == LinkStatus.PENDING


async def first_run(fake: FakeDiscord, ctx: Context, db_url: str, **overrides: Any) -> None:
    """copbot runs with global commands: moderator and reminder channels set; Alice claims 3.11
    and submits a link for 2.4, posted for the moderators. Then it stops."""
    async with moderated(fake, ctx, db_url, discord_guild_id=None, **overrides):
        await alice_holds_work(fake, LINK)


async def claim_in(other: OtherGuild, number: str) -> None:
    """Bob claims ``number`` in another server (copbot holds that server's claim)."""
    answer = await other.fake.wait_for_callback(
        await other.slash("claim", {"number": number}, user_id=other.fake.bob_id)
    )
    assert "You claimed" in embed(answer)["description"], embed(answer)


async def test_a_server_that_removed_copbot_while_it_was_down_is_found_gone_at_start(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Without the fix, READY simply no longer listed the server and nothing noticed: the pending
    submission stayed pending (refusing the same link from any other server) and the claim was
    reminded into a server copbot could no longer reach, "retry" at every sweep, never expiring."""
    await first_run(fake, ctx, db_url)
    # copbot is down; the server kicks it. Discord refuses it everything there from now on.
    fake.bot_in_guild = False
    fake.members.pop(fake.bot_user_id)
    fake.close_dms(fake.alice_id)
    caplog.clear()

    async with moderated(fake, ctx, db_url, discord_guild_id=None, client_options=QUICK) as rig:
        await until_ready(rig, caplog)
        await found_gone(ctx, caplog, fake.guild_id)
        assert fake.dms[fake.alice_id] == []

        requests_before = len(fake.requests)
        for _ in range(12):
            clock.advance(days=7)
            await rig.sweeper.run_once()
        (claim,) = [c for c in await ctx.store.claims_for_problem("3.11") if c.user_id == str(fake.alice_id)]
        assert claim.state == ClaimState.EXPIRED and claim.delivery == "unreachable"
        assert fake.requests[requests_before:] == []  # no DM, no post in the server copbot left
        history = [(e.kind, e.detail) for e in await ctx.store.history("3.11")]
        assert ("unreachable", "copbot was removed from the community") in history


async def test_a_server_listed_as_unavailable_at_start_is_not_gone(
    fake: FakeDiscord, ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An outage at start (READY lists the server as unavailable, no GUILD_CREATE follows) keeps
    everything; a server with a claim that READY does not list at all is gone meanwhile."""
    away = OtherGuild(fake, guild_id_on_shard(0, 1), fake.general_id)
    await first_run(fake, ctx, db_url)
    async with moderated(fake, ctx, db_url, discord_guild_id=None):
        await claim_in(away, "1.1")
    fake.guild_unavailable = True
    fake.other_guilds.discard(away.guild_id)  # removed copbot meanwhile
    caplog.clear()

    async with moderated(fake, ctx, db_url, discord_guild_id=None, client_options=QUICK) as rig:
        await until_ready(rig, caplog)
        await only_gone(ctx, away.guild_id, fake.guild_id)


async def test_a_process_serving_shard_0_leaves_the_servers_of_shard_1_alone(
    ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Two shards, this process serving only shard 0 (DISCORD_SHARD_IDS=0): shard 0's READY says
    nothing of shard 1's servers, so one of those is not taken for gone; one of shard 0's is."""
    async with FakeDiscord(shard_count=2, guild_id=guild_id_on_shard(0, 2)) as fake:
        # Not the fake's own id, made within the same millisecond: the same shard, other low bits.
        on_0 = OtherGuild(fake, guild_id_on_shard(0, 2) | 2, fake.general_id)
        on_1 = OtherGuild(fake, guild_id_on_shard(1, 2), fake.general_id)
        both = {"discord_shard_count": 2, "discord_shard_ids": [0, 1]}
        await first_run(fake, ctx, db_url, **both)
        async with moderated(fake, ctx, db_url, discord_guild_id=None, **both):
            await claim_in(on_0, "1.1")
            await claim_in(on_1, "1.2")
        fake.other_guilds.discard(on_0.guild_id)  # removed copbot meanwhile
        caplog.clear()

        shard_0 = {"discord_shard_count": 2, "discord_shard_ids": [0]}
        async with moderated(
            fake, ctx, db_url, discord_guild_id=None, client_options=QUICK, **shard_0
        ) as rig:
            await until_ready(rig, caplog)
            assert await is_left(ctx, on_0.guild_id)
            assert not await is_left(ctx, on_1.guild_id)
            assert not await is_left(ctx, fake.guild_id)
        assert fake.errors == [] and fake.unhandled == []


async def test_with_discord_guild_id_nothing_is_taken_for_gone(
    fake: FakeDiscord, ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """DISCORD_GUILD_ID (commands in one server, for development) leaves every server as it is,
    even one READY does not list; so do DMs' "dm" community and its settings."""
    away = OtherGuild(fake, guild_id_on_shard(0, 1), fake.general_id)
    await first_run(fake, ctx, db_url)
    async with moderated(fake, ctx, db_url, discord_guild_id=None):
        await claim_in(away, "1.1")
    await ctx.store.update_settings("discord", "dm", ctx.clock(), stale_after_days=9)
    fake.other_guilds.discard(away.guild_id)  # removed copbot meanwhile
    caplog.clear()

    async with moderated(fake, ctx, db_url, client_options=QUICK) as rig:
        await until_ready(rig, caplog)
        assert not await is_left(ctx, away.guild_id)
    caplog.clear()
    async with moderated(fake, ctx, db_url, discord_guild_id=None, client_options=QUICK) as rig:
        await until_ready(rig, caplog)
        assert await is_left(ctx, away.guild_id)
        assert not await is_left(ctx, "dm")


async def test_a_server_that_adds_copbot_again_while_the_start_check_runs_is_not_taken_for_gone(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The server removed copbot while it was down and adds it again just as it starts, while
    the check is still recording other servers that left long ago (GUILD_CREATE: on_guild_join,
    which finds nothing to clear yet). Without the fix the check went on to record the server as
    gone although copbot was in it: Alice's claims were never reminded again ("unreachable"),
    and every submission made there was closed at the next departure anywhere."""
    await first_run(fake, ctx, db_url)
    # Servers that removed copbot long ago, listed before this one (their ids sort first).
    long_gone = [str(fake.guild_id - (n + 1) * (1 << 22) | 1) for n in range(120)]
    for community in long_gone:
        await ctx.store.update_settings("discord", community, clock(), stale_after_days=9)
    await departures.mark_members(ctx.store, "discord", str(fake.application_id), long_gone, clock())
    fake.bot_in_guild = False
    caplog.clear()

    async with moderated(fake, ctx, db_url, discord_guild_id=None, client_options=QUICK) as rig:
        await fake.wait_until(
            lambda: any("copbot can no longer reach" in r.getMessage() for r in caplog.records),
            timeout=30,
            description="the check recording the first server gone",
        )
        fake.bot_in_guild = True  # added again
        await fake.dispatch("GUILD_CREATE", fake.guild_create_payload(), guild_id=fake.guild_id)
        await until_ready(rig, caplog)
        assert await is_left(ctx, long_gone[-1])
        client = rig.bot.client
        assert client is not None and client.get_guild(fake.guild_id) is not None
        assert not await is_left(ctx, fake.guild_id)

        clock.advance(days=31)
        report = await rig.sweeper.run_once()
        assert report.delivered == {"dm": 1}
        (dm,) = fake.dms[fake.alice_id]
        assert dm["embeds"][0]["title"] == "Still working on 3.11?"


async def test_a_server_copbot_serves_only_by_its_commands_is_never_taken_for_gone(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A server that added copbot with the ``applications.commands`` scope alone (no bot user in
    it) sends copbot its commands, but the gateway never lists it. Without the fix it was taken
    for gone at every start: Bob's pending submission there was closed ("the community removed
    copbot") and his claim was never reminded (its claimant "unreachable")."""
    commands_only = OtherGuild(fake, guild_id_on_shard(0, 1), fake.general_id)
    fake.other_guilds.discard(commands_only.guild_id)  # no bot user there: READY never lists it
    async with moderated(fake, ctx, db_url, discord_guild_id=None):
        await claim_in(commands_only, "1.1")
        sent = await fake.wait_for_callback(
            await commands_only.slash("submit", {"number": "2.4", "link": LINK}, user_id=fake.bob_id)
        )
        assert "Your link for 2.4 is saved" in embed(sent)["description"], embed(sent)

    for start, number in enumerate(("1.2", "1.3")):  # every start, not only the first
        caplog.clear()
        async with moderated(fake, ctx, db_url, discord_guild_id=None, client_options=QUICK) as rig:
            await until_ready(rig, caplog)
            assert not await is_left(ctx, commands_only.guild_id)
            assert not [r for r in caplog.records if "copbot can no longer reach" in r.getMessage()]
            link = await submissions.get_link(ctx.store, 1)
            assert link is not None and link.status == LinkStatus.PENDING, link
            await claim_in(commands_only, number)
            if start == 1:
                clock.advance(days=31)
                report = await rig.sweeper.run_once()
                assert report.delivered == {"dm": 3}  # 1.1, 1.2 and 1.3, in one DM
                (dm,) = fake.dms[fake.bob_id]
                assert "1.1" in text_of(dm), text_of(dm)


async def test_a_server_that_added_the_bot_user_while_copbot_ran_is_found_gone_after_removing_it(
    fake: FakeDiscord, ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The server first used copbot by its commands alone, then added its bot user while copbot
    ran (a GUILD_CREATE, nothing at start): from then on copbot knows it is a member there, so
    a removal while it was down is noticed at the next start."""
    fake.bot_in_guild = False
    async with moderated(fake, ctx, db_url, discord_guild_id=None) as rig:
        fake.bot_in_guild = True
        await fake.dispatch("GUILD_CREATE", fake.guild_create_payload(), guild_id=fake.guild_id)
        client = rig.bot.client
        assert client is not None
        await fake.wait_until(lambda: client.get_guild(fake.guild_id) is not None, description="the join")
        await alice_holds_work(fake, LINK)
    fake.bot_in_guild = False  # removed while copbot was down
    fake.members.pop(fake.bot_user_id)
    caplog.clear()

    async with moderated(fake, ctx, db_url, discord_guild_id=None, client_options=QUICK) as rig:
        await until_ready(rig, caplog)
        assert await is_left(ctx, fake.guild_id)
        link = await submissions.get_link(ctx.store, 1)
        assert link is not None and link.status == LinkStatus.REJECTED


async def test_a_server_that_removed_copbot_during_a_long_disconnect_is_found_gone_at_the_new_session(
    fake: FakeDiscord, ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The connection is lost for longer than Discord keeps the session, and the server removes
    copbot meanwhile: the session cannot be resumed, so discord.py identifies anew and gets a new
    READY, which no longer lists the server. Without the fix discord.py's cache kept the server
    from the old session and nothing noticed until the next restart: the submission stayed pending
    (refusing the same link from any other server) and the claim was reminded into a server copbot
    could no longer reach."""
    async with holding_work_in_two_servers(fake, ctx, db_url, caplog) as (rig, elsewhere):
        fake.bot_in_guild = False
        fake.members.pop(fake.bot_user_id)
        await new_session(fake, rig, caplog)
        await found_gone(ctx, caplog, fake.guild_id)
        assert not await is_left(ctx, elsewhere.guild_id)  # listed again (unavailable): still in it


async def test_after_a_new_session_a_server_in_an_outage_is_not_gone_and_one_no_longer_listed_is(
    fake: FakeDiscord, ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A new READY after a lost session lists the fake's server as unavailable (an outage: no
    GUILD_CREATE follows), and no longer lists another server at all: only the second is gone."""
    async with holding_work_in_two_servers(fake, ctx, db_url, caplog) as (rig, elsewhere):
        fake.guild_unavailable = True
        fake.other_guilds.discard(elsewhere.guild_id)  # removed copbot meanwhile
        await new_session(fake, rig, caplog)
        await only_gone(ctx, elsewhere.guild_id, fake.guild_id)


async def test_two_copbot_applications_on_one_database_leave_each_others_servers_alone(
    ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Two copbots (two applications, two tokens) share a database, neither setting
    DISCORD_GUILD_ID. Without the fix each took the other's servers, which its own gateway never
    lists, for gone at its start: the other's pending submissions were closed."""
    async with FakeDiscord() as first, FakeDiscord() as second:
        await first_run(first, ctx, db_url)
        caplog.clear()
        async with moderated(second, ctx, db_url, discord_guild_id=None, client_options=QUICK) as rig:
            await until_ready(rig, caplog)
            assert not await is_left(ctx, first.guild_id)
            link = await submissions.get_link(ctx.store, 1)
            assert link is not None and link.status == LinkStatus.PENDING

        first.bot_in_guild = False  # the first copbot still notices its own server leaving
        first.members.pop(first.bot_user_id)
        caplog.clear()
        async with moderated(first, ctx, db_url, discord_guild_id=None, client_options=QUICK) as rig:
            await until_ready(rig, caplog)
            assert await is_left(ctx, first.guild_id)
        for fake in (first, second):
            assert fake.errors == [] and fake.unhandled == []
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
