"""The connection and what the bot sends on its own: sync, sharding, invite, outbound messages."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.config import StartupError
from bot.discord.frontend import DiscordFrontEnd
from bot.outbound import NotDelivered, Posted, Unreachable
from commands.types import Button, Context, Reply
from storage import departures
from storage.models import Membership
from tests.bot.discord.discord_rig import TOKEN, QuickClient, buttons, running, settings_for
from tests.fakes.discord_api import FakeDiscord
from tests.support import pg


async def test_start_logs_the_invite_and_never_the_token(
    fake: FakeDiscord, ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The invite URL has both scopes and the permissions integer; intents are not privileged."""
    caplog.set_level("DEBUG")
    async with running(fake, ctx, db_url) as bot:
        assert bot.ready
        iid = await fake.slash("help")
        await fake.wait_for_callback(iid)
    assert not bot.ready
    invite = next(r.getMessage() for r in caplog.records if "invite copbot" in r.getMessage())
    assert f"client_id={fake.application_id}" in invite
    assert "scope=bot+applications.commands" in invite and "permissions=274877992000" in invite
    assert "/help in guild" in caplog.text
    assert TOKEN not in caplog.text
    assert fake.identifies[0]["intents"] == (1 << 0) | (1 << 10)  # guilds, guild reactions
    assert fake.requests[0].route == "GET /users/@me"  # the configured API URL


async def test_commands_sync_only_when_their_definition_changed(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """Two starts, one sync; a different stored hash (a new copbot version) syncs again."""
    async with running(fake, ctx, db_url):
        pass
    async with running(fake, ctx, db_url):
        pass
    assert [scope for scope, _ in fake.syncs] == [fake.guild_id]
    key = f"discord:commands:{fake.application_id}:guild:{fake.guild_id}"
    await ctx.store.set_meta(key, "an older definition")
    async with running(fake, ctx, db_url):
        pass
    assert len(fake.syncs) == 2


async def test_a_failed_sync_is_logged_and_retried_at_the_next_start(
    fake: FakeDiscord, ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord refusing the commands does not stop the bot; the next start syncs again."""
    fake.fail("PUT", "/applications/*/guilds/*/commands", status=400, body={"code": 50035, "message": "no"})
    async with running(fake, ctx, db_url) as bot:
        assert bot.ready
    assert "syncing Discord commands (guild:" in caplog.text and fake.syncs == []
    caplog.clear()
    async with running(fake, ctx, db_url):
        pass
    assert len(fake.syncs) == 1


async def test_a_sync_discord_rate_limits_for_minutes_is_logged_and_the_bot_starts(
    fake: FakeDiscord, ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord answers the commands' sync with a 429 asking to wait ten minutes (command creates
    are limited per day): since copbot bounds discord.py's waits at 30 s, discord.py raised
    RateLimited, which is no HTTPException, and the bot did not start at all. Now it starts,
    serving the commands Discord already has, says so, and syncs at the next start."""
    fake.rate_limit("PUT", "/applications/*/guilds/*/commands", retry_after=600)
    async with asyncio.timeout(20):
        async with running(fake, ctx, db_url) as bot:
            assert bot.ready
    assert "syncing Discord commands (guild:" in caplog.text and fake.syncs == []
    assert "rate limited for 600 s" in caplog.text
    caplog.clear()
    async with running(fake, ctx, db_url):
        pass
    assert len(fake.syncs) == 1


async def test_a_login_discord_rate_limits_for_minutes_stops_the_bot_in_one_line(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """A 429 of ten minutes on the login request: discord.py's RateLimited came out of start as
    itself (a traceback, not the one-line StartupError every other refusal at start gives)."""
    fake.rate_limit("GET", "/users/@me", retry_after=600)
    async with asyncio.timeout(20):
        with pytest.raises(StartupError, match=r"Discord rate limits copbot for 600 s at start"):
            async with running(fake, ctx, db_url):
                pass


@contextlib.asynccontextmanager
async def writes_held(db_url: str) -> AsyncIterator[None]:
    """Another process holds the write lock of the database (SQLite's, or PostgreSQL's lock on
    the membership table) while the block runs."""
    if db_url.startswith("sqlite"):
        other = sqlite3.connect(make_url(db_url).database or "", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.close()
        return
    conn = await pg.connect(db_url)
    try:
        await conn.execute("BEGIN")
        await conn.execute("LOCK TABLE membership IN EXCLUSIVE MODE")  # reads go on, inserts wait
        yield
    finally:
        await conn.close()


async def test_closing_lets_the_membership_a_ready_brought_be_recorded(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """copbot stopping while it records the servers a READY listed (their membership, waiting
    for a lock another process holds) lets that write finish before the front end is closed.
    Before, close returned at once: the write went on holding one of the store's connections
    while the store was closed under it, and was cut when the process ended (on stderr:
    'Exception in thread … Event loop is closed'; in the suite, SQLAlchemy's warning of a
    connection never checked in), the membership unrecorded."""
    async with running(fake, ctx, db_url):
        pass  # the commands are synced: the next start writes nothing before it is connected
    async with ctx.store.session() as s:
        await s.exec(sa.delete(Membership))  # type: ignore[call-overload]

    front_end = DiscordFrontEnd(settings_for(fake, db_url), ctx, client_class=QuickClient)
    async with writes_held(db_url):
        await front_end.start()  # returns once READY came: its servers are being recorded
        closing = asyncio.create_task(front_end.close())
        await asyncio.sleep(0.3)
        waited = not closing.done()  # for the write, the lock still held
    await closing
    assert waited
    assert ctx.store.engine.sync_engine.pool.checkedout() == 0
    assert await departures.members(ctx.store, "discord", str(fake.application_id)) == {str(fake.guild_id)}


async def test_shards_from_settings(ctx: Context, db_url: str) -> None:
    """DISCORD_SHARD_COUNT/IDS: this process identifies exactly its shards and answers its guild."""
    async with FakeDiscord(shard_count=2) as fake:
        async with running(fake, ctx, db_url, discord_shard_count=2, discord_shard_ids="0,1") as bot:
            assert sorted(i["shard"] for i in fake.identifies) == [[0, 2], [1, 2]]
            assert bot.ready
            iid = await fake.slash("help")
            await fake.wait_for_callback(iid)
        owner = (fake.guild_id >> 22) % 2
        async with running(fake, ctx, db_url, discord_shard_count=2, discord_shard_ids=str(1 - owner)):
            assert fake.identifies[-1]["shard"] == [1 - owner, 2]
        assert len(fake.identifies) == 3


async def test_outbound_dm_channel_edit_and_react(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """DMs, channel posts (pinging only Reply.mention), edits and reactions; closed DMs are Unreachable."""
    guild = str(fake.guild_id)
    reminder = Reply(text="Still working on 3.11?", buttons=(Button("Release it", "release", "3.11"),))
    dm = await bot.send_dm(guild, str(fake.alice_id), reminder)
    assert fake.dms[fake.alice_id][0]["embeds"][0]["description"] == "Still working on 3.11?"
    assert dm.url == f"https://discord.com/channels/@me/{dm.channel_id}/{dm.message_id}"

    fake.close_dms(fake.bob_id)
    with pytest.raises(Unreachable):
        await bot.send_dm(guild, str(fake.bob_id), reminder)

    post = Reply(text="Please review @everyone", mention=str(fake.bob_id))
    posted = await bot.send_channel(guild, str(fake.bot_log_id), post)
    sent = fake.message(int(posted.message_id))
    assert sent["content"] == f"<@{fake.bob_id}>"
    sends = [r for r in fake.requests if r.route == "POST /channels/{channel_id}/messages"]
    assert sends[0].json["allowed_mentions"] == {"parse": []}  # the DM
    assert sends[-1].params["channel_id"] == str(fake.bot_log_id)
    assert sends[-1].json["allowed_mentions"] == {"parse": [], "users": [fake.bob_id]}
    assert posted.url == f"https://discord.com/channels/{guild}/{fake.bot_log_id}/{posted.message_id}"

    await bot.edit(posted, Reply(text="Approved", buttons=(Button("Undo", "show", "2.4"),)))
    edited = fake.message(int(posted.message_id))
    assert edited["content"] == "" and edited["embeds"][0]["description"] == "Approved"
    assert buttons(edited) == [("Undo", "cop:show:2.4")]

    await bot.react(posted, ["✅", "❌"])
    assert fake.reactions[int(posted.message_id)] == [("✅", fake.bot_user_id), ("❌", fake.bot_user_id)]

    with pytest.raises(Unreachable):
        await bot.send_channel(guild, "999", post)
    fake.rate_limit("POST", "/channels/{channel_id}/messages", times=5, retry_after=0.01)
    with pytest.raises(NotDelivered):  # still rate limited after discord.py's 5 tries: not posted
        await bot.send_channel(guild, str(fake.bot_log_id), post)


async def test_outbound_before_start_is_not_delivered(fake: FakeDiscord, ctx: Context) -> None:
    """Nothing can be sent before the bot is connected: the sweep may retry later."""
    front_end = DiscordFrontEnd(settings_for(fake, "sqlite+aiosqlite:///unused.db"), ctx)
    with pytest.raises(NotDelivered):
        await front_end.send_dm(str(fake.guild_id), str(fake.alice_id), Reply(text="hi"))


async def test_outbound_messages_have_working_buttons(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """A button on a message the bot posted itself is answered like any other."""
    posted: Posted = await bot.send_channel(
        str(fake.guild_id), str(fake.general_id), Reply(text="2.4?", buttons=(Button("Show", "show", "2.4"),))
    )
    iid = await fake.click(fake.message(int(posted.message_id)), "cop:show:2.4")
    answer = await fake.wait_for_callback(iid)
    assert answer.embeds[0]["title"].startswith("2.4 — ")
