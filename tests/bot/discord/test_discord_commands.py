"""Each slash command through the real discord.py client, as a member of the guild sees it."""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from urllib.parse import quote

from bot.discord.frontend import DiscordFrontEnd
from commands.links import URL_KEPT
from commands.parser import parse_difficulty
from commands.registry import COMMANDS
from commands.types import BadArgument, Context
from storage.catalogue import import_rows, parse_csv
from tests.bot.discord.discord_rig import ask, buttons, embed, running, text_of
from tests.fakes.discord_api import FakeDiscord
from tests.support.approved import approve, odd_link
from tests.support.clock import FakeClock
from tests.support.transcript import NOT_ADMIN


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
    assert [f["name"] for f in card["fields"]][:3] == ["Category", "Subcategory", "Difficulty"]
    # Only the sheet's claim: no Release button (nobody here holds it).
    assert [label for label, _ in buttons(answer.data or {})] == ["Claim", "Another random"]
    assert fake.messages[fake.general_id][-1]["embeds"][0]["title"] == card["title"]


async def test_problem_all_lists_every_approved_link_the_card_leaves_out(
    fake: FakeDiscord, bot: DiscordFrontEnd, ctx: Context, clock: FakeClock
) -> None:
    """30 approved links on 2.4: the card shows 9, its last line saying how many more and where
    they are; /problem number:2.4 all:True lists every one, just for the asker, over two pages."""
    links = [(f"https://example.org/paper-{i}", f"paper {i}") for i in range(30)]
    await approve(ctx.store, clock, "2.4", links)

    card = embed(await ask(fake, "problem", {"number": "2.4"}))
    work = next(f["value"] for f in card["fields"] if f["name"] == "Existing work").splitlines()
    assert len(work) == 10 and work[-1] == "• … and 21 more: /problem 2.4 all"

    first = await ask(fake, "problem", {"number": "2.4", "all": True})
    assert first.ephemeral and not buttons(first.data or {})
    assert embed(first)["title"].startswith("Existing work on 2.4 — 3 letter acronyms")
    assert embed(first)["footer"]["text"] == (
        "Page 1 of 2 (lines 1–20 of 30). 30 approved links, newest first. Next: /problem 2.4 all page:2"
    )
    second = await ask(fake, "problem", {"number": "2.4", "all": True, "page": 2})
    assert second.ephemeral and embed(second)["footer"]["text"].startswith("Page 2 of 2 (lines 21–30 of 30).")
    lines = [
        line for page in (first, second) for f in embed(page)["fields"] for line in f["value"].splitlines()
    ]
    assert lines == [f"• https://example.org/paper-{i} — paper {i}" for i in range(29, -1, -1)]

    unknown = await ask(fake, "problem", {"number": "2.99", "all": True})
    assert unknown.ephemeral and embed(unknown)["description"] == "No problem 2.99 — section 2 runs 2.1–2.38."


async def test_problem_all_shows_the_longest_oddest_links_within_discords_limits(
    fake: FakeDiscord, bot: DiscordFrontEnd, ctx: Context, clock: FakeClock
) -> None:
    """30 links as long as /submit takes, with notes of markup, mentions, bidi controls and emoji:
    each page fits in one embed, whole (nothing left out), and together they show every link,
    clickable and as sent; the card counts what it cannot show and says where it is."""
    links = [odd_link(i) for i in range(30)]
    await approve(ctx.store, clock, "2.4", links)

    card = embed(await ask(fake, "problem", {"number": "2.4"}))
    work = [f["value"] for f in card["fields"] if f["name"].startswith("Existing work")]
    assert re.fullmatch(r"… and \d+ more: /problem 2\.4 all", work[-1].splitlines()[-1]), work[-1]
    shown = ""
    for page in range(1, 11):
        answer = await ask(fake, "problem", {"number": "2.4", "all": True, "page": page})
        listed = embed(answer)
        assert listed["footer"]["text"].startswith(f"Page {page} of 10 ")
        values = [f["value"] for f in listed["fields"]]
        assert len(values) <= 25 and all(len(v) <= 1024 for v in values)
        size = len(listed["title"]) + len(listed["footer"]["text"])
        assert size + sum(len(f["name"]) + len(f["value"]) for f in listed["fields"]) <= 6000
        assert "… and" not in text_of(answer.data or {})  # nothing left out
        shown += text_of(answer.data or {})
    for url, _ in links:
        assert f"• {quote(url, safe=URL_KEPT)} — note " in shown
    assert "@everyone" not in shown and "\u202e" not in shown


async def test_random_with_a_difficulty_is_public_and_matches_it(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """/random difficulty:A picks a problem whose range includes A, for the channel to see."""
    answer = await ask(fake, "random", {"difficulty": "A", "unclaimed": True})
    assert not answer.ephemeral
    card = embed(answer)
    difficulty = next(f["value"] for f in card["fields"] if f["name"] == "Difficulty")
    assert difficulty.startswith("A")
    assert card["description"].startswith("Picked at random from")
    another = dict(buttons(answer.data or {}))["Another random"]
    # The button repeats the same filters, and names the card it is under (the next is another).
    assert another == f"cop:random:A//u/{card['title'].split(' — ')[0]}"


async def test_search_is_private_with_a_show_button_per_match(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """/search acronym finds 2.4, privately, typo-tolerant."""
    answer = await ask(fake, "search", {"query": "acronyms"})
    assert answer.ephemeral
    assert "2.4 — 3 letter acronyms" in text_of(answer.data or {})
    assert ("Show 2.4", "cop:show:2.4") in buttons(answer.data or {})


async def test_search_unclaimed_is_a_boolean_option_that_leaves_out_claimed_problems(
    fake: FakeDiscord, bot: DiscordFrontEnd, ctx: Context
) -> None:
    """/search offers unclaimed as /random does (a True/False option); with it, 2.4 (claimed on
    the sheet) is no longer listed for acronyms, and the title says the filter is on."""
    synced = {c["name"]: c for c in fake.app_commands[fake.guild_id]}
    search = {o["name"]: o for o in synced["search"]["options"]}
    random = {o["name"]: o for o in synced["random"]["options"]}
    assert search["unclaimed"]["type"] == random["unclaimed"]["type"] == 5  # boolean
    assert search["unclaimed"]["description"] == random["unclaimed"]["description"]
    assert "2.4" in await ctx.store.claimed_numbers()
    answer = await ask(fake, "search", {"query": "acronyms", "unclaimed": True})
    assert answer.ephemeral
    assert "2.4 — 3 letter acronyms" not in text_of(answer.data or {})
    assert "The one matching problem is claimed" in text_of(answer.data or {})
    induction = embed(await ask(fake, "search", {"query": "induction", "unclaimed": True}))
    assert induction["title"] == "Search: induction (unclaimed)"
    assert "unclaimed matches" in induction["footer"]["text"]


async def test_claim_then_claims_then_history(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """/claim 3.11 is stamped today; /claims lists it with a release button; /history shows it."""
    claimed = await ask(fake, "claim", {"number": "3.11"})
    assert claimed.ephemeral
    assert "You claimed 3.11 on 2026-11-25" in embed(claimed)["description"]

    mine = await ask(fake, "claims")
    assert mine.ephemeral
    assert embed(mine)["title"] == "Your open claims (1)"
    assert "Alice — since 2026-11-25" in text_of(mine.data or {})
    assert ("Release 3.11", "cop:release:3.11") in buttons(mine.data or {})

    theirs = await ask(fake, "claims", {"user": fake.alice_id}, user_id=fake.bob_id)
    assert embed(theirs)["title"] == "Alice's open claims (1)"

    history = await ask(fake, "history", {"number": "3.11"})
    assert "2026-11-25 · Alice claimed it" in text_of(history.data or {})


async def test_claims_everyone_lists_the_servers_claims_by_problem(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """/claims everyone:True (a boolean option): who is working on what in this server."""
    await ask(fake, "claim", {"number": "3.11"})
    await ask(fake, "claim", {"number": "2.4"}, user_id=fake.bob_id)
    everyone = await ask(fake, "claims", {"everyone": True}, user_id=fake.owner_id)
    assert embed(everyone)["title"] == "Open claims in this server (2)"
    shown = text_of(everyone.data or {})
    assert shown.index("2.4 — ") < shown.index("Bob — since 2026-11-25")
    assert shown.index("Bob — since") < shown.index("3.11 — ") < shown.index("Alice — since 2026-11-25")
    assert buttons(everyone.data or {}) == []


async def test_release_by_someone_else_is_refused_privately(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """Only the claimant can release: Bob is told who holds it, and the claim stays."""
    await ask(fake, "claim", {"number": "3.11"})
    refused = await ask(fake, "release", {"number": "3.11", "note": "not mine"}, user_id=fake.bob_id)
    assert refused.ephemeral
    refusal = embed(refused)["description"]
    assert refusal.startswith("You hold no claim on 3.11; only its claimant can release it")
    assert refusal.endswith(", Alice).")
    released = await ask(fake, "release", {"number": "3.11", "note": "tried probing"})
    assert "Released your claim on 3.11" in embed(released)["description"]


async def test_help_lists_every_command_privately(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """/help shows each command's usage; /setup only to admins."""
    member = text_of((await ask(fake, "help")).data or {})
    for name in ("/problem", "/random", "/search", "/claim", "/release", "/claims", "/history"):
        assert name in member
    assert "/setup" not in member
    admin = text_of((await ask(fake, "help", user_id=fake.owner_id)).data or {})
    # As Discord shapes it (two subcommands), not as the core's usage with a [show] flag.
    assert "/setup show · /setup set \\[moderator\\_channel\\]" in admin
    assert "[show]" not in admin


async def test_help_takes_a_command_from_a_list_and_explains_it(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """/help had no option; now an optional `command`, offered as a list of the command names,
    answers with that command's usage, options and examples, as Discord runs them."""
    synced = {c["name"]: c for c in fake.app_commands[fake.guild_id]}
    (option,) = synced["help"]["options"]
    assert option["name"] == "command" and not option.get("required")
    assert [c["value"] for c in option["choices"]] == list(COMMANDS)
    assert option["choices"][3]["name"] == "claim — say you are working on a problem (again: renew)"

    answer = await ask(fake, "help", {"command": "claim"})
    assert answer.ephemeral
    card = embed(answer)
    assert card["title"] == "/claim number"
    assert "problem number, like 2.4" in text_of(answer.data or {})
    assert "/claim 2.4" in text_of(answer.data or {})

    setup = text_of((await ask(fake, "help", {"command": "setup"}, user_id=fake.owner_id)).data or {})
    assert "/setup set stale\\_days:20" in setup and "/setup show" in setup
    # Discord offers no /setup "without options": the text names the subcommands' work instead.
    assert "Without options" not in setup and "show shows the settings" in setup, setup
    # Its options as Discord shows them: show and set are subcommands, show no option of set's.
    sections = {
        f["name"]: f["value"]
        for f in embed(await ask(fake, "help", {"command": "setup"}, user_id=fake.owner_id))["fields"]
    }
    assert "show — show the current settings" in sections["Subcommands"], sections
    options = sections["Options of /setup set"]
    assert "stale\\_days" in options and "show" not in options, options

    listed = await ask(fake, "help")  # without it, as before
    assert embed(listed)["title"] == "copbot: the 200 Concrete Problems in Interpretability"


async def test_words_for_a_problem_number_point_at_search(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """The answer the console and Slack give too, suggesting /search with the words."""
    answer = await ask(fake, "problem", {"number": "Permuting lists"})
    refusal = "'Permuting lists' is not a problem number: write it like 2.4, or /search Permuting lists"
    assert answer.ephemeral and embed(answer)["description"] == refusal


async def test_setup_needs_manage_server_and_is_stored_then_shown(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """A member is refused; the owner sets channel, role and days, and /setup show reads them back."""
    synced = {c["name"]: c for c in fake.app_commands[fake.guild_id]}
    assert int(synced["setup"]["default_member_permissions"]) == 32  # Manage Server
    assert [o["name"] for o in synced["setup"]["options"]] == ["show", "set"]
    days = next(o for o in synced["setup"]["options"][1]["options"] if o["name"] == "stale_days")
    assert (days["min_value"], days["max_value"]) == (1, 365)  # Discord's picker offers /setup's range

    refused = await ask(fake, "setup set", {"stale_days": 10}, user_id=fake.alice_id)
    assert refused.ephemeral
    assert embed(refused)["description"] == NOT_ADMIN

    options = {
        "moderator_channel": fake.bot_log_id,
        "moderator_role": fake.moderator_role_id,
        "stale_days": 20,
    }
    out_of_range = await ask(fake, "setup set", {"stale_days": 0}, user_id=fake.owner_id)
    assert embed(out_of_range)["description"] == "stale\\_days must be a whole number from 1 to 365"
    saved = await ask(fake, "setup set", options, user_id=fake.owner_id)
    assert saved.ephemeral
    assert embed(saved)["description"] == "Settings saved."
    shown = await ask(fake, "setup show", user_id=fake.owner_id)
    values = {f["name"]: f["value"] for f in embed(shown)["fields"]}
    assert values == {
        "Moderator channel": f"<#{fake.bot_log_id}>",
        "Moderator role": f"<@&{fake.moderator_role_id}>",
        "Reminder channel": "not set",
        "Stale after": "20 days",
        "Expires": "14 days after an unanswered reminder, at the end of that day (UTC)",
        "Max open claims": "no limit (default)",
    }
    row = await bot.ctx.store.get_settings("discord", str(fake.guild_id))
    assert row is not None and row.moderator_role_id == str(fake.moderator_role_id)


async def test_a_cap_on_open_claims_set_in_setup_stops_a_member_claiming_everything(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """The owner sets max_claims:2 (Discord offers 0 to 200); Alice's third /claim and the card's
    Claim button answer privately with her two claims and how to release one; her renewal works,
    and max_claims:0 lifts the cap."""
    synced = {c["name"]: c for c in fake.app_commands[fake.guild_id]}
    cap = next(o for o in synced["setup"]["options"][1]["options"] if o["name"] == "max_claims")
    assert (cap["type"], cap["min_value"], cap["max_value"]) == (4, 0, 200)  # an integer
    refused = await ask(fake, "setup set", {"max_claims": 1}, user_id=fake.alice_id)
    assert embed(refused)["description"] == NOT_ADMIN
    saved = await ask(fake, "setup set", {"max_claims": 2}, user_id=fake.owner_id)
    assert {f["name"]: f["value"] for f in embed(saved)["fields"]}["Max open claims"] == "2 a member"

    for number in ("1.1", "1.2"):
        assert "You claimed" in embed(await ask(fake, "claim", {"number": number}))["description"]
    third = await ask(fake, "claim", {"number": "1.3"})
    assert third.ephemeral
    assert embed(third)["description"] == (
        "You already hold 2 open claims here (1.1, 1.2), the most this server allows a member. "
        "Release one you are no longer working on first: /release NUMBER, or the buttons under /claims."
    )
    card = await ask(fake, "problem", {"number": "1.3"}, user_id=fake.bob_id)
    assert card.message is not None and ("Claim", "cop:claim:1.3") in buttons(card.message)
    clicked = await fake.wait_for_callback(await fake.click(card.message, "cop:claim:1.3"))
    assert clicked.ephemeral
    assert embed(clicked)["description"].startswith("You already hold 2 open claims here (1.1, 1.2)")
    renewed = await ask(fake, "claim", {"number": "1.2"})
    assert "renewed your claim today" in embed(renewed)["description"]
    mine = await ask(fake, "claims")
    assert embed(mine)["title"] == "Your open claims (2)"

    await ask(fake, "setup set", {"max_claims": 0}, user_id=fake.owner_id)
    assert "You claimed 1.3" in embed(await ask(fake, "claim", {"number": "1.3"}))["description"]


async def test_setup_reset_gives_stale_days_and_max_claims_back_to_the_operators_defaults(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """Discord's integer options cannot take a word, and max_claims:0 means "no limit here": the
    owner picks reset (a choice, among them stale_days and max_claims) under /setup set, and the
    server follows STALE_AFTER_DAYS and MAX_CLAIMS again, /setup show saying "(default)"."""
    operator = replace(ctx, stale_after_days=45, max_claims=1)
    async with running(fake, operator, db_url):
        synced = {c["name"]: c for c in fake.app_commands[fake.guild_id]}
        reset = next(o for o in synced["setup"]["options"][1]["options"] if o["name"] == "reset")
        assert reset["type"] == 3 and not reset.get("required")  # an optional string
        assert {"stale_days", "max_claims"} <= {c["value"] for c in reset["choices"]}

        await ask(fake, "setup set", {"stale_days": 10, "max_claims": 0}, user_id=fake.owner_id)
        for number in ("1.1", "1.2"):
            assert "You claimed" in embed(await ask(fake, "claim", {"number": number}))["description"]
        refused = await ask(fake, "setup set", {"reset": "max_claims"}, user_id=fake.alice_id)
        assert embed(refused)["description"] == NOT_ADMIN

        said = {
            "stale_days": "Settings saved.",
            # Alice holds two, the default cap one: /setup says so.
            "max_claims": "Settings saved. 1 member here already holds more than 1 open claim: they keep "
            "them and may renew them, but cannot claim another until they hold none.",
        }
        for setting in ("stale_days", "max_claims"):
            saved = await ask(fake, "setup set", {"reset": setting}, user_id=fake.owner_id)
            assert saved.ephemeral and embed(saved)["description"] == said[setting]
        shown = await ask(fake, "setup show", user_id=fake.owner_id)
        values = {f["name"]: f["value"] for f in embed(shown)["fields"]}
        assert values["Stale after"] == "45 days (default)"
        assert values["Max open claims"] == "1 a member (default)"
        third = await ask(fake, "claim", {"number": "1.3"})
        assert third.ephemeral
        assert embed(third)["description"].startswith("You already hold 2 open claims here (1.1, 1.2)")
        helped = await ask(fake, "help")
        assert "A claim turns stale after 45 days" in embed(helped)["description"]


async def test_in_direct_messages_the_catalogue_works_and_community_commands_do_not(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """Without DISCORD_GUILD_ID commands are global. In a DM the catalogue answers, but claims,
    submissions and settings belong to a server: Discord is told to offer those commands in
    servers only, and one that arrives from a DM anyway (a client with an old command list, or
    a card's Claim button) is refused privately, with nothing written."""
    community = {name for name, spec in COMMANDS.items() if spec.community}
    assert community == {"claim", "release", "claims", "submit", "withdraw", "pending", "setup"}
    async with running(fake, ctx, db_url, discord_guild_id=None):
        assert [scope for scope, _ in fake.syncs] == [None]
        offered = {c["name"]: c["dm_permission"] for c in fake.app_commands[None]}
        assert {name for name, in_dms in offered.items() if not in_dms} == community

        card = await ask(fake, "problem", {"number": "3.11"}, guild=False)
        assert embed(card)["title"].startswith("3.11")
        listed = text_of((await ask(fake, "help", guild=False)).data or {})
        assert "/search" in listed and "/claim" not in listed and "/submit" not in listed

        claim = await ask(fake, "claim", {"number": "3.11"}, guild=False)
        submit = await ask(fake, "submit", {"number": "2.4", "link": "https://example.org/x"}, guild=False)
        assert card.message is not None
        assert [label for label, _ in buttons(card.message)] == ["Another random"]
        # A card from before DM cards lost their Claim button: its press is refused.
        old_card = copy.deepcopy(card.message)
        old_card["components"][0]["components"][0]["custom_id"] = "cop:claim:3.11"
        pressed = await fake.wait_for_callback(await fake.click(old_card, "cop:claim:3.11"))
        for refused in (claim, submit, pressed):
            assert refused.ephemeral
            assert "works in a server, not in direct messages" in embed(refused)["description"]

        assert not await ctx.store.open_claims_for_user("discord", "dm", str(fake.alice_id))
        in_server = await ask(fake, "claim", {"number": "3.11"})
        assert "You claimed 3.11" in embed(in_server)["description"]
        # The refused DM submission holds nothing back: the same link is taken in the server.
        submitted = await ask(fake, "submit", {"number": "2.4", "link": "https://example.org/x"})
        assert embed(submitted)["description"].startswith("Thanks!")


async def test_a_long_history_shows_whole_then_keeps_its_newest_events(
    fake: FakeDiscord, bot: DiscordFrontEnd, clock: FakeClock
) -> None:
    """Fifteen claims and releases overflow one field: /history goes on over more fields and shows
    all 32 events (the catalogue's claim and Alice's 31). With notes of 900 characters they
    would overflow the whole embed: the newest that fit show, then how many older entries there
    are and the page:2 that lists them (the older ones were cut off, with no way to read them),
    and the last page holds the catalogue's claim."""
    for attempt in range(15):
        await ask(fake, "claim", {"number": "2.4"})
        clock.advance(days=1)
        await ask(fake, "release", {"number": "2.4", "note": f"attempt {attempt}: tried approach {attempt}"})
    await ask(fake, "claim", {"number": "2.4"})
    fields = embed(await ask(fake, "history", {"number": "2.4"}))["fields"]
    lines = [line for field in fields for line in field["value"].splitlines()]
    assert [f["name"] for f in fields] == ["Timeline, newest first", "Timeline, newest first (continued)"]
    assert len(lines) == 32 and lines[0] == "• 2026-12-10 · Alice claimed it"
    assert "attempt 14: tried approach 14" in lines[1] and lines[-2] == "• 2026-11-25 · Alice claimed it"
    assert lines[-1].endswith("(sheet) claimed it: from the sheet")  # the catalogue's own claim

    for attempt in range(15, 30):
        await ask(fake, "release", {"number": "2.4", "note": f"attempt {attempt}: " + "long " * 180})
        clock.advance(days=1)
        await ask(fake, "claim", {"number": "2.4"})
    shown = embed(await ask(fake, "history", {"number": "2.4"}))
    lines = [line for field in shown["fields"] for line in field["value"].splitlines()]
    assert lines[0] == "• 2026-12-25 · Alice claimed it" and "attempt 29: long" in lines[1]
    assert re.fullmatch(r"• … and \d+ more: /history 2\.4 page:2", lines[-1])
    assert len(shown["title"]) + sum(len(f["name"]) + len(f["value"]) for f in shown["fields"]) <= 6000
    pages = int(re.findall(r"Page 1 of (\d+)", shown["footer"]["text"])[0])
    seen = len(lines) - 1
    for page in range(2, pages + 1):
        shown = embed(await ask(fake, "history", {"number": "2.4", "page": page}))
        lines = [line for field in shown["fields"] for line in field["value"].splitlines()]
        seen += len(lines) - (page < pages)
    assert lines[-1].endswith("(sheet) claimed it: from the sheet") and seen == 62


async def test_an_unknown_command_gets_a_private_answer(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """A command Discord still shows but copbot no longer has: told to retry, not left hanging."""
    answer = await ask(fake, "retired")
    assert answer.ephemeral
    assert "has changed" in embed(answer)["description"]


async def test_every_core_command_is_on_discord(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """The tree is built from the registry: each core command exists, with the core's options."""
    synced = {c["name"]: c for c in fake.app_commands[fake.guild_id]}
    assert set(synced) == set(COMMANDS)
    for name, spec in COMMANDS.items():
        if name != "setup":
            assert [o["name"] for o in synced[name]["options"]] == [o.name for o in spec.options]
    submitted = await ask(fake, "submit", {"number": "2.4", "link": "https://example.org/acronyms"})
    assert submitted.ephemeral and "Your link for 2.4 is saved" in embed(submitted)["description"]


async def test_the_difficulty_choices_are_every_level_and_range_the_core_reads(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """/random and /search offer each difficulty the console and Slack take (B-D and A-D too),
    easiest first, the ends of the scale named."""
    readable = []
    for low in "ABCD":
        for high in "ABCD":
            for typed in {low, f"{low}-{high}"}:
                try:
                    readable.append(parse_difficulty(typed))
                except BadArgument:
                    pass
    synced = {c["name"]: c for c in fake.app_commands[fake.guild_id]}
    for command in ("random", "search"):
        option = next(o for o in synced[command]["options"] if o["name"] == "difficulty")
        assert sorted(c["value"] for c in option["choices"]) == sorted(set(readable))
        assert [c["name"] for c in option["choices"]][:2] == ["A (easiest)", "A-B"]
        assert option["choices"][-1] == {"name": "D (hardest)", "value": "D"}


async def test_moderators_by_permission_or_by_the_configured_role(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """/pending: refused to a member; allowed with Manage Messages, or with /setup's moderator role."""
    helpers = fake.add_role("Helpers")
    carol = fake.add_member("carol", roles=[helpers])
    async with running(fake, ctx, db_url):
        refused = await ask(fake, "pending", user_id=carol)
        assert embed(refused)["description"] == "/pending is for moderators."
        by_permission = await ask(fake, "pending", user_id=fake.bob_id)  # Moderator: Manage Messages
        assert embed(by_permission)["description"] != "/pending is for moderators."
        await ask(fake, "setup set", {"moderator_role": helpers}, user_id=fake.owner_id)
        allowed = await ask(fake, "pending", user_id=carol)
    assert allowed.ephemeral and embed(allowed)["description"] != "/pending is for moderators."


async def test_a_sheet_claim_is_named_alike_on_its_card_a_refused_release_and_history(
    fake: FakeDiscord, bot: DiscordFrontEnd, ctx: Context, clock: FakeClock
) -> None:
    """A long sheet cell of several lines with @everyone in it: the card, Bob's refused /release
    and /history name the claim by the same text, on one line, cut where the card cuts it (before,
    the refusal named it "Jordan Taylor - 2023 November 7", its first line, and /history cut it
    shorter); and none of those answers may ping anyone."""
    cell = (
        "Jordan Taylor - 2023 November 7\n@everyone feel free to join! "
        + "Notes on what I tried so far, in some detail. " * 9
        + "\nThe end of the cell, past what a card shows."
    )
    head = "number,category,difficulty,problem,working_on\n"
    await import_rows(ctx.store, parse_csv(f'{head}2.5,Circuits In The Wild,B,Emails,"{cell}"\n'), clock())
    card = await ask(fake, "problem", {"number": "2.5"})
    working = next(f["value"] for f in embed(card)["fields"] if f["name"].startswith("Working on it"))
    named = working.removeprefix("• ").split(" (from the sheet, ")[0]
    # Discord's renderer breaks the @everyone (a zero-width space after the @), as everywhere.
    assert named.startswith("Jordan Taylor - 2023 November 7 @\u200beveryone feel") and named.endswith("…")
    refused = await ask(fake, "release", {"number": "2.5"}, user_id=fake.bob_id)
    assert (
        embed(refused)["description"]
        == f"You hold no claim on 2.5; only its claimant can release it ({named})."
        " Stale, so anyone may still /claim 2.5."
    )
    history = await ask(fake, "history", {"number": "2.5"})
    lines = [line for f in embed(history)["fields"] for line in f["value"].splitlines()]
    assert lines == [f"• 2023-11-07 · {named} (sheet) claimed it: from the sheet"]
    for answer in (card, refused, history):
        assert (answer.data or {}).get("allowed_mentions") == {"parse": []}


async def test_the_next_page_command_in_a_footer_copies_as_typed(
    fake: FakeDiscord, bot: DiscordFrontEnd, ctx: Context, clock: FakeClock
) -> None:
    """Six problems say "@everyone"; a search for it runs over two pages, and its footer names the
    command for the next one. It carried a zero-width space after the @ (Discord's guard against a
    ping), which a member copying the command got too, and then searched for another word. An
    embed's footer shows no mention (nor markdown) and pings nobody: it is now the command as
    typed."""
    head = "number,category,difficulty,problem\n"
    rows = "".join(f"2.{n},Circuits In The Wild,B,Ask @everyone about circuit {n}\n" for n in range(5, 11))
    await import_rows(ctx.store, parse_csv(head + rows), clock())
    answer = await ask(fake, "search", {"query": "@everyone"})
    footer = embed(answer)["footer"]["text"]
    assert footer == "Page 1 of 2 (6 matches). Next: /search query:@everyone page:2", footer
    second = await ask(fake, "search", {"query": "@everyone", "page": 2})
    assert embed(second)["footer"]["text"].startswith("Page 2 of 2 (6 matches).")


async def test_a_submitted_word_or_a_link_without_https_says_what_to_type(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """/submit 1.1 notalink answered "Only http:// and https:// links can be submitted (no scheme
    was given)". A word is told it is no link, with a /submit to copy; a link pasted without its
    https:// is told to add it, with the link to copy; a Jupyter address without its http:// that
    only its own computer opens (it said "(localhost: was given)"); none is submitted."""
    word = await ask(fake, "submit", {"number": "1.1", "link": "notalink"})
    assert word.ephemeral
    assert embed(word)["description"] == (
        "'notalink' is not a link: give the page's whole address, e.g. /submit 2.4 https://example.org/my-post"
    )
    bare = await ask(fake, "submit", {"number": "1.1", "link": "arxiv.org/abs/2301.00001"})
    assert bare.ephemeral
    assert embed(bare)["description"] == (
        "That link has no https:// in front. Add it and submit again: https://arxiv.org/abs/2301.00001"
    )
    local = await ask(fake, "submit", {"number": "1.1", "link": "localhost:8888/tree/notebook.ipynb"})
    assert local.ephemeral
    assert embed(local)["description"].startswith(
        "That link goes to localhost, which only opens on your own computer or network"
    )
    assert "Nothing is waiting" in text_of((await ask(fake, "pending", user_id=fake.owner_id)).data or {})


async def test_a_problem_number_typed_with_a_dash_a_question_mark_or_an_underscore(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """number:2-4 answered "not a problem number: write it like 2.4", and so did number:2.4? and
    number:2_4: a question mark or an underscore is read (as a full stop after it was); a dash,
    which also writes a range, is asked about, and nothing is claimed."""
    for typed in ("2.4?", "2_4", "2.4!"):
        card = await ask(fake, "problem", {"number": typed})
        assert not card.ephemeral and embed(card)["title"].startswith("2.4 — 3 letter acronyms"), typed
    dashed = await ask(fake, "claim", {"number": "2-4"})
    assert dashed.ephemeral
    assert embed(dashed)["description"] == "'2-4' is not a problem number. Did you mean 2.4?"
    assert "You hold no open claims" in text_of((await ask(fake, "claims")).data or {})


async def test_a_link_with_its_https_mistyped_says_the_link_to_copy(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """link:https:/example.org/x answered "That link has no host", link:https//example.org/x that
    it was "not a link": the answer shows the link written right, and nothing is submitted."""
    for typed, written in [("https:/example.org/x", "https:/"), ("https//example.org/x", "https//")]:
        answer = await ask(fake, "submit", {"number": "1.1", "link": typed})
        assert answer.ephemeral
        assert embed(answer)["description"] == (
            f"That link's https:// is mistyped ({written}). Fix it and submit again: https://example.org/x"
        )
    assert "Nothing is waiting" in text_of((await ask(fake, "pending", user_id=fake.owner_id)).data or {})


async def test_a_release_of_a_problem_not_held_names_the_ones_held(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """/release 2.5 of a problem nobody holds said only that there was nothing to release: it names
    what the member does hold, and /claims."""
    await ask(fake, "claim", {"number": "2.4"})
    refused = await ask(fake, "release", {"number": "2.5"})
    assert refused.ephemeral
    assert embed(refused)["description"] == (
        "You hold no claim on 2.5, so there is nothing to release. You hold 2.4: /claims lists it."
    )
