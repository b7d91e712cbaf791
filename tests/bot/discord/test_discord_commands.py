"""Each slash command through the real discord.py client, as a member of the guild sees it."""

from __future__ import annotations

from bot.discord.frontend import DiscordFrontEnd
from tests.bot.discord.discord_rig import ask, buttons, embed, text_of
from tests.fakes.discord_api import FakeDiscord


async def test_problem_is_a_public_embed_with_its_claimant_and_buttons(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """/problem 2.4 answers in the channel, coloured by difficulty, with the sheet's claimant."""
    answer = await ask(fake, "problem", {"number": "2.4"})
    assert answer.type == 4 and not answer.ephemeral
    card = embed(answer)
    assert card["title"].startswith("2.4 — 3 letter acronyms")
    assert "jknowak (Discord) - July 2023" in text_of(answer.data or {})
    assert card["color"] == 0xF1C40F  # difficulty B
    assert [label for label, _ in buttons(answer.data or {})] == ["Claim", "Release", "Another random"]
    assert fake.messages[fake.general_id][-1]["embeds"][0]["title"] == card["title"]
