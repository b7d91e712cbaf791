"""/help and /help NAME: what a newcomer reads before their first command."""

from __future__ import annotations

import re

import pytest

from commands.registry import COMMANDS
from commands.types import Actor, Context
from tests.support.transcript import person, say, shown

ANN = person("ann")
BOSS = person("boss", admin=True)
MOD = person("mod", moderator=True, admin=True)


async def test_help_with_a_command_explains_its_options_with_examples(ctx: Context) -> None:
    """`/help random` answered "I don't understand 'random'": now the usage, what each option
    takes (its description) and examples that run as written."""
    text = await shown(ctx, ANN, "/help random")
    assert text.startswith("/random [difficulty] [category] [unclaimed]\n")
    assert "A random problem at your level." in text
    assert "Options:\n  - difficulty — A (easiest) to D, or a range like A-B\n" in text
    assert "  - unclaimed — only problems nobody is working on" in text
    assert "Examples:\n  - /random A\n" in text
    for example in COMMANDS["random"].examples:
        assert not (await say(ctx, ANN, example)).error, example


@pytest.mark.parametrize(
    "line",
    [
        "/help claim",
        "/help /claim",
        "/help CLAIM",
        "/help claim 3.11",
        "/help \uff43\uff4c\uff41\uff49\uff4d",  # full-width, as /ｃｌａｉｍ 2.4 is read
        "/help claim?",  # asked as a question: "There is no command 'claim?'; did you mean /claim?"
    ],
)
async def test_help_reads_a_command_name_as_people_type_it(ctx: Context, line: str) -> None:
    """With or without its slash, in any case, in full-width letters as the command itself is read,
    followed by a question mark or by what they meant to type."""
    text = await shown(ctx, ANN, line)
    assert text.startswith("/claim number\n")
    assert "  - number — problem number, like 2.4" in text and "Example:\n  - /claim 2.4" in text


async def test_every_help_and_usage_error_gives_one_example_problem(ctx: Context) -> None:
    """/help problem, /help history and /help submit said "like 2.4" where /help claim and /help
    release said "like 3.11", and `/claim` alone answered "like /claim 3.11" beside /problem's
    "like /problem 2.4": a newcomer reading them side by side wondered which problem to try.
    Every command's help and usage error now writes its example problem as 2.4."""
    for name in COMMANDS:
        text = await shown(ctx, CONSOLE_ADMIN, f"/help {name}")
        numbers = set(re.findall(r"(?<![\w.])\d+\.\d+(?![\w.]*\d)", text))
        assert numbers <= {"2.4"}, (name, numbers)
    for name in ("problem", "claim", "release", "history", "submit"):
        reply = await say(ctx, ANN, f"/{name}")
        assert reply.error and f"like /{name} 2.4" in reply.text, reply.text


# The core's own help, as the console shows it: a platform may shape a command differently in its
# /help (Discord's /setup is two subcommands, registered once a Discord client is built).
CONSOLE_ADMIN = Actor("console", "local", "boss", "Boss", True, True)


async def test_every_command_has_help_and_examples(ctx: Context) -> None:
    """Each registered command explains itself, with examples and every option described."""
    for name, spec in COMMANDS.items():
        reply = await say(ctx, CONSOLE_ADMIN, f"/help {name}")
        assert not reply.error and reply.title and reply.title.startswith(f"/{name}"), name
        assert spec.help and spec.examples, name
        options = next(s for s in reply.sections if s.title == "Options") if spec.options else None
        assert options is None or len(options.lines) == len(spec.options)


# What an example needs done first in a fresh community, by command: /release releases a claim
# its user holds, and /claims @ann lists the claims of someone who has one.
BEFORE: dict[str, tuple[tuple[Actor, str], ...]] = {
    "release": ((MOD, "/claim 2.4"),),
    "claims": ((ANN, "/claim 2.4"),),
    "withdraw": ((MOD, "/submit 2.4 https://example.org/post"),),
}


@pytest.mark.parametrize(
    "name, example",
    [(name, example) for name, spec in COMMANDS.items() for example in spec.examples],
    ids=lambda value: str(value),
)
async def test_every_example_runs_as_written(ctx: Context, name: str, example: str) -> None:
    """/help NAME shows examples to type as they are: each runs, in a fresh community, as an
    admin and moderator (who may run them all), and is answered without an error (the examples
    were only checked to be there: `/claim 99.99` would have passed)."""
    assert set(BEFORE) <= set(COMMANDS)
    for actor, line in BEFORE.get(name, ()):
        assert not (await say(ctx, actor, line)).error, line
    reply = await say(ctx, MOD, example)
    assert not reply.error, f"{example}: {reply.text}"


async def test_help_for_a_command_the_asker_may_not_run_says_why(ctx: Context) -> None:
    """/help pending explains it, and that it is for moderators."""
    text = await shown(ctx, ANN, "/help pending")
    assert text.startswith("/pending\n") and "/pending is for moderators." in text


async def test_help_with_an_unknown_name_lists_the_commands(ctx: Context) -> None:
    """A name no command has: said so, then the whole list as /help gives it."""
    reply = await say(ctx, ANN, "/help nonsense")
    assert not reply.error and reply.text.startswith(
        "There is no command 'nonsense'; these are copbot's commands."
    )
    listed = (await say(ctx, ANN, "/help")).sections
    assert reply.sections == listed and any("/claim number" in str(line) for line in listed[0].lines)


async def test_help_without_a_command_lists_them_and_says_how_to_ask_about_one(ctx: Context) -> None:
    """/help itself is unchanged but for its own option and the hint at the end."""
    text = await shown(ctx, ANN, "/help")
    assert "/help [command] — what copbot can do" in text
    assert text.endswith("/help and a command's name explain it, e.g. /help claim.")


async def test_help_says_what_stale_means_with_the_communitys_days(ctx: Context) -> None:
    """Cards say "stale" and /help said nowhere what it means: after how many days (the
    community's /setup stale_days, else the default), and that anyone may still claim."""
    text = await shown(ctx, ANN, "/help")
    assert "A claim turns stale after 30 days without news (claiming again renews it)." in text
    assert "Anyone may still claim a problem whose claims are stale" in text
    await say(ctx, BOSS, "/setup stale_days:20")
    assert "stale after 20 days without news" in await shown(ctx, ANN, "/help")
    other = person("cid", community="guild2")
    assert "stale after 30 days without news" in await shown(ctx, other, "/help")
    in_dm = Actor("discord", "dm", "ann", "Ann", direct=True)
    # Outside any server: the default, and that a server may have its own.
    assert (
        "stale after 30 days without news (servers may set their own; claiming again renews it)."
        in await shown(ctx, in_dm, "/help")
    )
    assert "servers may set their own" not in await shown(ctx, ANN, "/help")


async def test_help_claims_says_how_many_release_buttons_it_offers(ctx: Context) -> None:
    """/help claims said "your own, with a Release button each", but a member with six claims
    gets five buttons (one row on Discord) and a footer: help says the first five."""
    for number in ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6"):
        assert not (await say(ctx, ANN, f"/claim {number}")).error
    listed = await say(ctx, ANN, "/claims")
    assert [b.label for b in listed.buttons] == [f"Release 1.{n}" for n in range(1, 6)]
    text = await shown(ctx, ANN, "/help claims")
    assert "a Release button each" not in text and "Release buttons for the first five" in text


async def test_help_says_how_to_list_all_of_a_problems_existing_work(ctx: Context) -> None:
    """A card shows ten lines of existing work; /help and /help problem say how to see them all."""
    listed = await shown(ctx, ANN, "/help")
    assert "  - /problem number [all] [page] — show a problem" in listed
    text = await shown(ctx, ANN, "/help problem")
    assert text.startswith("/problem number [all] [page]\n")
    assert "  - all — list all of its existing work (the card shows ten lines)" in text
    assert "all lists every line, just for you, a page at a time" in text
    assert "  - /problem 2.4 all\n" in text


async def test_help_search_offers_unclaimed_as_random_does(ctx: Context) -> None:
    """`/help search` names the unclaimed option, described as /random's is, and its examples run."""
    text = await shown(ctx, ANN, "/help search")
    assert text.startswith("/search [query] [difficulty] [category] [unclaimed] [page]\n")
    assert "  - unclaimed — only problems nobody is working on" in text
    assert "  - /search induction unclaimed" in text
    listed = await shown(ctx, ANN, "/help")
    assert "/search [query] [difficulty] [category] [unclaimed] [page] — find problems" in listed
    for example in COMMANDS["search"].examples:
        assert not (await say(ctx, ANN, example)).error, example


async def test_help_for_two_commands_explains_the_first_and_names_the_other(ctx: Context) -> None:
    """`/help claim release` explained /claim alone, saying nothing of /release: it now says
    how to ask for that one; words after a command that name none (`/help claim 2.4`) add nothing."""
    both = await say(ctx, person("ann"), "/help claim release")
    alone = await say(ctx, person("ann"), "/help claim")
    assert both.title == alone.title and both.text == alone.text
    assert both.footer == f"One command at a time: /help release explains that one. {alone.footer}"
    three = await say(ctx, person("ann"), "/help claim /release history")
    assert (three.footer or "").startswith(
        "One command at a time: /help release and /help history explain those."
    )
    assert (await say(ctx, person("ann"), "/help claim 2.4")).footer == alone.footer
