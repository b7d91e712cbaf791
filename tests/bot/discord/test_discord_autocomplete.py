"""Autocomplete of problem numbers and categories: matched as people type, 25 choices at most."""

from __future__ import annotations

from typing import Any

from bot.discord.frontend import DiscordFrontEnd
from tests.fakes.discord_api import FakeDiscord


async def choices(
    fake: FakeDiscord, command: str, option: str, typed: str, **others: Any
) -> list[dict[str, Any]]:
    """The choices Discord would show while ``typed`` is in ``option``."""
    iid = await fake.autocomplete(command, {**others, option: typed}, focused=option)
    answer = await fake.wait_for_callback(iid)
    assert answer.type == 8
    return answer.choices or []


async def test_numbers_by_number_and_by_words(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """Empty offers the first 25; "2.4" puts 2.4 first; words and typos find it too."""
    first = await choices(fake, "problem", "number", "")
    assert len(first) == 25
    assert first[0] == {"name": first[0]["name"], "value": "1.1"}
    assert all(1 <= len(c["name"]) <= 100 for c in first)

    by_number = await choices(fake, "claim", "number", "2.4")
    assert by_number[0]["value"] == "2.4"
    assert by_number[0]["name"].startswith("2.4 — 3 letter acronyms, like")

    for spelled in ("2.4.", "2,4", "problem 2.4", "02.04"):  # as the commands read them
        assert (await choices(fake, "problem", "number", spelled))[0]["value"] == "2.4", spelled
    assert (await choices(fake, "problem", "number", "2.10."))[0]["value"] == "2.10"

    section = await choices(fake, "history", "number", "#3.")
    assert section and all(c["value"].startswith("3.") for c in section) and len(section) <= 25

    by_words = await choices(fake, "problem", "number", "letter acro")
    assert [c["value"] for c in by_words] == ["2.4"]
    by_typo = await choices(fake, "problem", "number", "acronymns")
    assert "2.4" in [c["value"] for c in by_typo]

    nothing = await choices(fake, "problem", "number", "\u202e\u0000" + "zz" * 300)
    assert len(nothing) <= 25


async def test_categories_by_section_or_name(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """Categories come with their section number; the chosen value is the section."""
    every = await choices(fake, "random", "category", "")
    assert [c["value"] for c in every] == ["1", "2", "3", "4"]
    circuits = await choices(fake, "search", "category", "circ", query="heads")
    assert circuits == [{"name": "2 — Circuits In The Wild", "value": "2"}]


async def test_a_value_nobody_suggested_is_checked_by_the_core(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """Typing past the suggestions still gets a clear private error."""
    iid = await fake.slash("problem", {"number": "acronyms"})
    answer = await fake.wait_for_callback(iid)
    assert answer.ephemeral
    refusal = "'acronyms' is not a problem number: write it like 2.4, or /search acronyms"
    assert answer.embeds[0]["description"] == refusal
