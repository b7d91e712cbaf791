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
