"""One bot in several Discord servers, and in direct messages: one Discord user id is one person
everywhere, each server's own settings apply to what its members see, and a DM offers only what
works there. Through the real client on the fake Discord; a second server via OtherGuild."""

from __future__ import annotations

from typing import Any

from commands.types import Context
from tests.bot.discord.discord_rig import ask, buttons, embed, moderated, text_of
from tests.fakes.discord_api import Callback, FakeDiscord
from tests.support.claims import plant_sheet_claim
from tests.support.clock import FakeClock
from tests.support.discord_guilds import OtherGuild, guild_id_on_shard


async def other_guild_says(other: OtherGuild, name: str, options: dict[str, Any], user_id: int) -> Callback:
    return await other.fake.wait_for_callback(await other.slash(name, options, user_id=user_id))


async def test_a_claim_in_a_second_server_renews_the_first_and_its_reminder_names_the_server(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock
) -> None:
    """Alice holds 3.11 in this server; /claim 3.11 in another server renews that claim (and
    says so), so the card lists her once and one reminder DM comes, naming the server; /claims
    there lists it, marked; /release there says where to release it."""
    other = OtherGuild(fake, guild_id_on_shard(0, 1), fake.general_id)
    async with moderated(fake, ctx, db_url, discord_guild_id=None) as rig:
        first = await ask(fake, "claim", {"number": "3.11"})
        assert embed(first)["description"].startswith("You claimed 3.11 on 2026-11-25. Good luck!")
        clock.advance(days=1)

        again = embed(await other_guild_says(other, "claim", {"number": "3.11"}, fake.alice_id))
        assert again["description"].startswith(
            "You already hold 3.11, claimed in another server on 2026-11-25: renewed that claim today "
            "(2026-11-26). It stays that server's: /release 3.11 there when you stop."
        )
        card = text_of((await ask(fake, "problem", {"number": "3.11"}, user_id=fake.bob_id)).data or {})
        assert card.count("Alice — since") == 1, card

        listed = text_of((await other_guild_says(other, "claims", {}, fake.alice_id)).data or {})
        assert "Your open claims (1)" in listed and "(another server)" in listed, listed
        released = embed(await other_guild_says(other, "release", {"number": "3.11"}, fake.alice_id))
        assert released["description"] == "Your claim on 3.11 was made in another server; release it there."

        clock.advance(days=31)
        await rig.sweeper.run_once()
        (dm,) = fake.dms[fake.alice_id]
        assert dm["embeds"][0]["title"] == "Still working on 3.11?"
        said = dm["embeds"][0]["description"]
        assert "in the server “Concrete Problems” on 2026-11-25, last renewed 2026-11-26." in said
        clock.advance(days=15)
        await rig.sweeper.run_once()
        expired = fake.dms[fake.alice_id][-1]["embeds"][0]
        assert expired["title"] == "Your claim on 3.11 expired"
        since = "(since 2026-11-25, last renewed 2026-11-26)"
        assert f"in the server “Concrete Problems” {since} expired" in expired["description"]


async def test_a_sheet_claim_is_stale_by_the_servers_setup_stale_days(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """With /setup stale_days:10, /help says 10 days, and a 20-day-old sheet claim on 2.5 shows
    stale, with the card's hint that anyone may still claim; another server (30 days) sees it fresh."""
    await plant_sheet_claim(ctx.store, "2.5", "kim - working on it", age_days=20)
    other = OtherGuild(fake, guild_id_on_shard(0, 1), fake.general_id)
    async with moderated(fake, ctx, db_url, discord_guild_id=None):
        saved = await ask(fake, "setup set", {"stale_days": 10}, user_id=fake.owner_id)
        assert embed(saved)["description"] == "Settings saved."
        assert "A claim turns stale after 10 days" in text_of((await ask(fake, "help")).data or {})

        card = text_of((await ask(fake, "problem", {"number": "2.5"})).data or {})
        assert "kim - working on it (from the sheet, 20 days ago, stale)" in card, card
        assert "Stale, so anyone may still /claim 2.5" in card

        elsewhere = text_of(
            (await other_guild_says(other, "problem", {"number": "2.5"}, fake.bob_id)).data or {}
        )
        assert "kim - working on it (from the sheet, 20 days ago)" in elsewhere
        assert "Stale, so" not in elsewhere


async def test_cards_offer_only_the_buttons_that_work_where_they_are(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """In a DM a card offers only Another random, and /help says servers may set their own stale
    days; in a server, Release shows only once someone holds the problem."""
    async with moderated(fake, ctx, db_url, discord_guild_id=None):
        in_dm = await ask(fake, "problem", {"number": "3.11"}, guild=False)
        assert [label for label, _ in buttons(in_dm.message or {})] == ["Another random"]
        helped = text_of((await ask(fake, "help", guild=False)).data or {})
        assert (
            "stale after 30 days without news (servers may set their own; claiming again renews it)" in helped
        )

        free = await ask(fake, "problem", {"number": "3.11"})
        assert [label for label, _ in buttons(free.message or {})] == ["Claim", "Another random"]
        await ask(fake, "claim", {"number": "3.11"}, user_id=fake.bob_id)
        held = await ask(fake, "problem", {"number": "3.11"})
        assert [label for label, _ in buttons(held.message or {})] == ["Claim", "Release", "Another random"]
