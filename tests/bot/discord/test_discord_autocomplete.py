"""Autocomplete of problem numbers and categories: matched as people type, 25 choices at most."""

from __future__ import annotations

from typing import Any

from bot.discord.frontend import DiscordFrontEnd
from commands.types import Context
from tests.bot.discord.discord_rig import ask, running, text_of
from tests.fakes.discord_api import FakeDiscord
from tests.support import long_links
from tests.support.clock import FakeClock


async def choices(
    fake: FakeDiscord, command: str, option: str, typed: str, user_id: int | None = None, **others: Any
) -> list[dict[str, Any]]:
    """The choices Discord would show ``user_id`` while ``typed`` is in ``option``."""
    iid = await fake.autocomplete(command, {**others, option: typed}, focused=option, user_id=user_id)
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


async def test_a_number_is_suggested_however_the_commands_take_it(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """2.04, 02.4, #2.4 name 2.4 for /problem, so they suggest it first; so does the 2.4 of a
    sentence ("2.4."), and 2.0 is the start of every number in section 2."""
    for typed in ("2.4", "2.04", "02.4", "#2.4", "2.4.", "2,4"):
        found = await choices(fake, "problem", "number", typed)
        assert found and found[0]["value"] == "2.4", typed
    section = await choices(fake, "claim", "number", "3.0")
    assert [c["value"] for c in section][:3] == ["3.1", "3.2", "3.3"] and len(section) == 25


async def test_release_suggests_the_users_own_claims_first(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """/release offers what the user holds first, marked, oldest first, then the catalogue;
    someone else, and /claim, get the catalogue as before."""
    for number in ("3.11", "1.2"):
        claimed = await ask(fake, "claim", {"number": number}, user_id=fake.alice_id)
        assert "You claimed" in text_of(claimed.data or {}), text_of(claimed.data or {})
    hers = await choices(fake, "release", "number", "", user_id=fake.alice_id)
    assert [c["value"] for c in hers][:3] == ["3.11", "1.2", "1.1"]
    assert hers[0]["name"].startswith("Your claim: 3.11 — ") and len(hers[0]["name"]) <= 100
    assert not hers[2]["name"].startswith("Your claim")
    typed = await choices(fake, "release", "number", "1.", user_id=fake.alice_id)
    assert [c["value"] for c in typed][:2] == ["1.2", "1.1"]
    others = await choices(fake, "release", "number", "", user_id=fake.owner_id)
    assert others[0]["value"] == "1.1" and not any(c["name"].startswith("Your") for c in others)
    claim = await choices(fake, "claim", "number", "", user_id=fake.alice_id)
    assert claim[0]["value"] == "1.1"


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


async def test_a_choice_shows_a_link_in_the_problem_s_text_as_far_as_it_fits(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock
) -> None:
    """A choice's name is plain text, never a link, so the start of a link in the problem's text
    shows in it like any words, up to the 100 characters a name may have. Since the core's cut
    drops a link it goes through whole (a link elsewhere, cut short, would still open), a
    problem whose text names a link early was offered as '9.1 — Probing circuits, see…', with
    nothing of it to tell the problem by."""
    await long_links.plant(ctx.store, clock())
    async with running(fake, ctx, db_url):
        offered = await choices(fake, "problem", "number", "9.1")
    (found,) = [c for c in offered if c["value"] == "9.1"]
    assert found["name"].startswith("9.1 — Probing circuits, see https://example.org/lead/aaa")
    assert len(found["name"]) == 100 and found["name"].endswith("a…")


async def test_a_number_followed_by_words_suggests_that_number(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """A number then words about it ("2.4 acro") still suggests 2.4 first; "2. acro" puts
    section 2's problems the words describe first."""
    for typed in ("2.4 acro", "2.4 acronyms", "#2.4 three letter", "2.4. acro", "problem 2.4 acro"):
        found = await choices(fake, "problem", "number", typed)
        assert found and found[0]["value"] == "2.4", (typed, found[:2])
    section = await choices(fake, "claim", "number", "2. acro")
    assert section[0]["value"] == "2.4" and all(c["value"].startswith("2.") for c in section)


async def test_withdraw_suggests_the_users_waiting_links_first(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """/withdraw offers the problems Alice's waiting submissions are for first, marked as her
    links; once withdrawn, the problem is no longer first; the owner gets the catalogue."""
    for number in ("3.11", "1.2"):
        sent = await ask(fake, "submit", {"number": number, "link": f"https://example.org/{number}"})
        assert "Thanks!" in text_of(sent.data or {}), text_of(sent.data or {})
    hers = await choices(fake, "withdraw", "number", "", user_id=fake.alice_id)
    assert [c["value"] for c in hers][:3] == ["3.11", "1.2", "1.1"]
    assert hers[0]["name"].startswith("Your link: 3.11 — ") and not hers[2]["name"].startswith("Your")
    withdrawn = await ask(fake, "withdraw", {"number": "3.11"}, user_id=fake.alice_id)
    assert text_of(withdrawn.data or {}).startswith("Withdrawn"), text_of(withdrawn.data or {})
    after = await choices(fake, "withdraw", "number", "", user_id=fake.alice_id)
    assert [c["value"] for c in after][:2] == ["1.2", "1.1"]
    others = await choices(fake, "withdraw", "number", "", user_id=fake.owner_id)
    assert others[0]["value"] == "1.1" and not any(c["name"].startswith("Your") for c in others)
