"""Members who moderate by no permission of theirs, on Discord while the database is out of reach.

Their rights depend on the /setup moderator role, which copbot reads from the database (kept 10 s).
That read failed before the core took the request: a member's command was answered "Sorry,
something went wrong" (where the server's owner, a moderator by permission, was told the database
did not answer), and the ✅ of a moderator by the role was lost without a word (Discord never
sends a reaction again). Now both are answered as the outage they are.

Through the real discord.py client and the fake Discord, on PostgreSQL behind a proxy that cuts
the link (the store gives up after DATABASE_TIMEOUT, 0.5 s here).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from commands import dispatch
from commands.types import Context
from storage.database import is_database_failure
from storage.models import LinkStatus
from tests.bot.discord.discord_rig import ask, moderated, text_of
from tests.bot.discord.test_discord_moderation import add_people, configure, description, status, submit
from tests.bot.discord.test_discord_reaction_failures import notices, pinged
from tests.fakes.discord_api import FakeDiscord
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
async def fake(caplog: pytest.LogCaptureFixture) -> AsyncIterator[FakeDiscord]:
    """The fake Discord; afterwards no fake errors, and no logged error but the database's (the
    core logs a command the outage stopped)."""
    async with FakeDiscord() as server:
        yield server
        assert server.errors == []
        assert server.unhandled == []
    others = [
        r.getMessage()
        for r in caplog.get_records("call")
        if r.levelno >= logging.ERROR and not (r.exc_info and is_database_failure(r.exc_info[1]))
    ]
    assert others == [], "copbot or discord.py logged errors"


async def test_a_member_s_command_in_an_outage_says_the_database_did_not_answer(
    fake: FakeDiscord, pg_behind_proxy: tuple[TcpProxy, Context], pg_db_url: str
) -> None:
    """Right after /setup (the role to be read afresh), the outage: Alice's /problem is told the
    database did not answer, as the owner's is."""
    proxy, ctx = pg_behind_proxy
    add_people(fake)
    async with moderated(fake, ctx, pg_db_url):
        await configure(fake)
        proxy.cut()
        alice = await fake.answer(await fake.slash("problem", {"number": "2.4"}, user_id=fake.alice_id))
        owner = await fake.answer(await fake.slash("problem", {"number": "2.4"}, user_id=fake.owner_id))
        proxy.heal()
        after = await ask(fake, "problem", {"number": "2.4"}, user_id=fake.alice_id)

    for answer in (alice, owner):  # a deferral's follow-up, or the answer at once: private
        assert answer["flags"] & 64 and dispatch.UNAVAILABLE in text_of(answer), text_of(answer)
    assert "3 letter acronyms" in text_of(after.data or {})


async def test_a_reaction_whose_rights_were_never_read_in_an_outage_is_answered(
    fake: FakeDiscord, pg_behind_proxy: tuple[TcpProxy, Context], pg_db_url: str
) -> None:
    """Right after /setup (the role to be read afresh), the outage: Carol's ✅ could be a
    moderator's, and Discord sends it once: she is told it was not recorded."""
    proxy, ctx = pg_behind_proxy
    add_people(fake)
    carol = fake.user_id("carol")
    async with moderated(fake, ctx, pg_db_url) as rig:
        await configure(fake)
        post = await submit(rig)
        await configure(fake)  # the role read afresh next time
        proxy.cut()
        await rig.react(post, "✅", carol)
        proxy.heal()
        assert await status(ctx) == LinkStatus.PENDING
        (notice,) = notices(fake, post)
        told = text_of(notice)
        assert notice["content"] == f"<@{carol}>" and pinged(fake, notice) == [str(carol)]
        assert "couldn't record your ✅" in told and "database is out of reach" in told, told

        # She takes her ✅ back and adds it again: it decides.
        handled = rig.bot.reactions_handled
        await fake.unreact(int(post["channel_id"]), int(post["id"]), "✅", carol)
        await rig.settle(handled + 1)
        await rig.react(post, "✅", carol)
        assert await status(ctx) == LinkStatus.APPROVED
        assert description(fake, post) == "Approved by Carol."
