"""Display names reach cards, lists and histories cleaned of invisible characters."""

from __future__ import annotations

from commands.types import Context
from tests.bot.discord.discord_rig import ask, embed, running, text_of
from tests.fakes.discord_api import FakeDiscord


async def test_bidi_and_zero_width_nicknames_are_shown_cleaned(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """A nick with a right-to-left override shows as its letters (the rest of the line keeps its
    direction); a nick of only a zero-width space shows the member's id, not a blank."""
    anna = fake.add_member("anna", nick="\u202eanna")
    blank = fake.add_member("blank", nick="\u200b")
    async with running(fake, ctx, db_url):
        await ask(fake, "claim", {"number": "1.5"}, user_id=anna)
        await ask(fake, "claim", {"number": "1.5"}, user_id=blank)
        card = await ask(fake, "problem", {"number": "1.5"})
        claims = await ask(fake, "claims", {"number": "1.5"})
        history = await ask(fake, "history", {"number": "1.5"})
    working = {f["name"]: f["value"] for f in embed(card)["fields"]}["Working on it"]
    assert working.splitlines()[0].startswith("• anna — since ")
    assert working.splitlines()[1].startswith(f"• {blank} — since ")
    for answer in (card, claims, history):
        shown = text_of(answer.data or {})
        assert "\u202e" not in shown and "\u200b —" not in shown
        assert "anna" in shown and str(blank) in shown


async def test_a_renamed_member_shows_under_the_new_name_once_they_use_any_command(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """Alice claims two problems and releases one; she takes the nickname Alicia in the server,
    then only asks for /random. From then on the card, /claims everyone and /history others
    read name Alicia, her ended claim included; never Alice."""
    async with running(fake, ctx, db_url):
        await ask(fake, "claim", {"number": "1.5"})
        await ask(fake, "claim", {"number": "2.4"})
        await ask(fake, "release", {"number": "2.4", "note": "tried patching"})
        fake.members[fake.alice_id]["nick"] = "Alicia"
        await ask(fake, "random")
        card = await ask(fake, "problem", {"number": "1.5"}, user_id=fake.bob_id)
        everyone = await ask(fake, "claims", {"everyone": True}, user_id=fake.bob_id)
        history = await ask(fake, "history", {"number": "2.4"}, user_id=fake.bob_id)
        ended = await ask(fake, "problem", {"number": "2.4"}, user_id=fake.bob_id)
    for answer in (card, everyone, history, ended):
        shown = text_of(answer.data or {})
        assert "Alicia" in shown, shown
        assert "Alice " not in shown.replace("Alicia", ""), shown
    assert "Alicia released it: tried patching" in text_of(history.data or {})


async def test_a_rename_seen_in_a_direct_message_leaves_the_servers_nickname_alone(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """A DM knows the account's name only: Alice, nicknamed Ally in the server, asking /random in
    a DM keeps showing as Ally on the server's cards."""
    fake.members[fake.alice_id]["nick"] = "Ally"
    async with running(fake, ctx, db_url):
        await ask(fake, "claim", {"number": "1.5"})
        await ask(fake, "random", guild=False)
        card = await ask(fake, "problem", {"number": "1.5"}, user_id=fake.bob_id)
    shown = text_of(card.data or {})
    assert "Ally" in shown and "Alice" not in shown, shown
