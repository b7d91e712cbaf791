"""A moderator's ✅ / ❌ on Discord while the database is out of reach: Discord never sends a reaction
event again, so the moderator is told, in a reply to the post that pings only them, that nothing
was decided and to react again; their next ✅ decides, once.

Through the real discord.py client and the fake Discord, on PostgreSQL behind a proxy that cuts
the link (the store gives up after DATABASE_TIMEOUT, 0.5 s here).
"""

from __future__ import annotations

from typing import Any

from commands.types import Context
from storage.models import LinkStatus
from tests.bot.discord.discord_rig import ask, moderated, text_of
from tests.bot.discord.test_discord_moderation import (
    add_people,
    configure,
    description,
    edits,
    mods,
    status,
    submit,
)
from tests.fakes.discord_api import FakeDiscord
from tests.support.tcp_proxy import TcpProxy


def notices(fake: FakeDiscord, post: dict[str, Any]) -> list[dict[str, Any]]:
    """copbot's answers to ``post`` in the moderator channel."""
    return [
        m
        for m in mods(fake)
        if (m.get("message_reference") or {}).get("message_id") == post["id"]
        and m["author"]["id"] == str(fake.bot_user_id)
    ]


def pinged(fake: FakeDiscord, notice: dict[str, Any]) -> list[str]:
    """Whom the request that posted ``notice`` allowed to be pinged (users, and kinds parsed)."""
    (request,) = [
        r for r in fake.requests if isinstance(r.response, dict) and r.response.get("id") == notice["id"]
    ]
    allowed = request.json["allowed_mentions"]
    return [str(u) for u in allowed.get("users", [])] + list(allowed.get("parse", []))


async def test_a_moderator_s_reaction_lost_to_an_outage_is_answered_and_the_next_one_decides_once(
    fake: FakeDiscord, pg_behind_proxy: tuple[TcpProxy, Context], pg_db_url: str
) -> None:
    proxy, ctx = pg_behind_proxy
    add_people(fake)
    async with moderated(fake, ctx, pg_db_url) as rig:
        await configure(fake)
        post = await submit(rig)
        elsewhere = await fake.add_message(fake.general_id, "a message of copbot's, not a submission")
        proxy.cut()

        await rig.react(post, "✅", fake.bob_id)  # Bob moderates by his permissions
        await rig.react(post, "❌", fake.alice_id)  # not a moderator: decides nothing anyway
        await rig.react(post, "👍", fake.bob_id)
        await rig.react(elsewhere, "✅", fake.bob_id)
        proxy.heal()

        assert await status(ctx) == LinkStatus.PENDING and edits(fake) == []
        (notice,) = notices(fake, post)
        assert notice["content"] == f"<@{fake.bob_id}>"
        told = text_of(notice)
        assert "couldn't record your ✅" in told and "database is out of reach" in told
        assert "nothing was decided" in told and "add it again" in told
        assert pinged(fake, notice) == [str(fake.bob_id)]  # nobody else, not even @everyone
        assert [m for m in fake.messages[fake.general_id] if m.get("message_reference")] == []

        # Bob takes his ✅ back and adds it again: it decides, once.
        handled = rig.bot.reactions_handled
        await fake.unreact(int(post["channel_id"]), int(post["id"]), "✅", fake.bob_id)
        await rig.settle(handled + 1)
        payload = await rig.react(post, "✅", fake.bob_id)
        handled = rig.bot.reactions_handled
        await fake.replay(payload)
        await rig.settle(handled + 1)

        assert await status(ctx) == LinkStatus.APPROVED
        assert description(fake, post) == "Approved by Bob."
        assert edits(fake) == [post["id"]] and len(fake.dms[fake.alice_id]) == 1
        history = text_of((await ask(fake, "history", {"number": "2.4"})).data or {})
        assert history.count("Bob approved") == 1
        assert len(notices(fake, post)) == 1
