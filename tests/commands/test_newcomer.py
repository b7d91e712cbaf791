"""A newcomer's first hour: the answers to their first mistakes say what to type instead."""

from __future__ import annotations

import pytest

from commands.types import Context
from tests.support.approved import approve
from tests.support.clock import FakeClock
from tests.support.transcript import person, say, shown

ANN = person("ann")
MOD = person("mod", moderator=True, admin=True)
SUBMIT = "/submit 2.4 https://example.org/post my write-up"


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        # A typo of a command's name: said which one was meant, ready to be typed again.
        ("/serach neurons", "There is no command /serach. Did you mean /search? /help lists them."),
        ("/cliam 2.4", "There is no command /cliam. Did you mean /claim? /help lists them."),
        ("/relase 2.4", "There is no command /relase. Did you mean /release? /help lists them."),
        # What newcomers type for their own claims, or to stop working on one.
        ("/mine", "There is no command /mine. Did you mean /claims? /help lists them."),
        ("/unclaim 2.4", "There is no command /unclaim. Did you mean /release? /help lists them."),
        # Nothing close: no guess.
        ("/nonsense", "There is no command /nonsense. /help lists them."),
    ],
)
async def test_an_unknown_command_names_the_one_meant(sqlite_ctx: Context, line: str, answer: str) -> None:
    """`/mine` or `/serach` answered only "There is no command /mine. /help lists them.": the
    newcomer had to read the whole list to find /claims. It names the command meant."""
    reply = await say(sqlite_ctx, ANN, line)
    assert reply.error and reply.private
    assert reply.text == answer


async def test_help_about_an_unknown_command_names_the_one_meant(sqlite_ctx: Context) -> None:
    """/help mine: said there is no such command, then listed them all; it now names /claims."""
    text = await shown(sqlite_ctx, ANN, "/help mine")
    assert text.startswith(
        "copbot: the 200 Concrete Problems in Interpretability\n"
        "=====================================================\n"
        "There is no command 'mine'; did you mean /claims? These are copbot's commands.\n"
    ), text
    assert "/claims [user] [number] [everyone] [page]" in text
    nothing = await shown(sqlite_ctx, ANN, "/help nonsense")
    assert "There is no command 'nonsense'; these are copbot's commands." in nothing


async def test_a_command_the_asker_may_not_run_is_not_guessed(sqlite_ctx: Context) -> None:
    """A member who is no admin is not pointed at /setup, which would refuse them."""
    assert (await say(sqlite_ctx, ANN, "/setpu")).text == "There is no command /setpu. /help lists them."
    assert "Did you mean /setup?" in (await say(sqlite_ctx, MOD, "/setpu")).text


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/problem", "/problem needs a problem number, like /problem 2.4"),
        ("/claim", "/claim needs a problem number, like /claim 2.4"),
        ("/release", "/release needs a problem number, like /release 2.4"),
        ("/history", "/history needs a problem number, like /history 2.4"),
        ("/submit", "/submit needs a problem number and a link, like " + SUBMIT),
        ("/submit 2.4", "/submit needs a link, like " + SUBMIT),
    ],
)
async def test_a_command_without_what_it_needs_shows_how_to_write_it(
    sqlite_ctx: Context, line: str, answer: str
) -> None:
    """`/claim` alone answered "/claim needs number: problem number, like 3.11" (the option's
    name, then its description): it says what is missing in words and the command to type."""
    reply = await say(sqlite_ctx, ANN, line)
    assert reply.error and reply.private
    assert reply.text == answer


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/release 2.4 " + "x" * 1500, "That note is too long (1500 characters): at most 1000."),
        ("/search " + "y" * 300, "That query is too long (300 characters): at most 200."),
        (
            "/submit 2.4 https://example.org/" + "z" * 2500,
            "That link is too long (2520 characters): at most 900.",
        ),
        (
            "/submit 2.4 https://example.org/" + "z" * 1500,
            "That link is too long (1520 characters): at most 900.",
        ),
    ],
)
async def test_text_too_long_says_how_long_it_is_and_may_be(
    sqlite_ctx: Context, line: str, answer: str
) -> None:
    """A long note answered "note is too long: at most 1000 characters" (lower case, the option's
    bare name, and not how far over it was), where a long line says "That is too long (5005
    characters): …": both now say how long it is and how long it may be, as one sentence. A link
    of 2,520 characters was refused as over 2000, one of 1,520 as over 900 (as sent): 900 both."""
    await say(sqlite_ctx, ANN, "/claim 2.4")
    reply = await say(sqlite_ctx, ANN, line)
    assert reply.error and reply.private
    assert reply.text == answer


@pytest.mark.parametrize("number", ["٢.٤", "٢٫٤", "۲.۴", "२.४", "২.৪", "#٢.٤", "problem ٢.٤"])
async def test_a_problem_number_in_another_scripts_digits_is_read(sqlite_ctx: Context, number: str) -> None:
    """A phone set to Arabic, Persian or Hindi types ٢.٤ or २.४ for 2.4: "'٢.٤' is not a problem
    number: write it like 2.4", though full-width ２.４ was read. Every script's digits are."""
    reply = await say(sqlite_ctx, ANN, f"/problem {number}")
    assert not reply.error, reply.text
    assert reply.title is not None and reply.title.startswith("2.4 — ")
    claimed = await say(sqlite_ctx, ANN, f"/claim {number}")
    assert claimed.text.startswith("You claimed 2.4 on ")


async def test_random_without_filters_does_not_speak_of_matching_problems(sqlite_ctx: Context) -> None:
    """/random alone (or Another random under a /problem card) said "Picked at random from the 87
    of 98 matching problems nobody is working on", though nothing was asked for that could match:
    a newcomer wonders what matched. It says "of the catalogue's 98 problems"; a filter still
    says "matching"."""
    plain = await say(sqlite_ctx, ANN, "/random")
    assert plain.text.startswith(
        "Picked at random from the 87 of the catalogue's 98 problems nobody is working on."
    )
    filtered = await say(sqlite_ctx, ANN, "/random difficulty:A")
    assert filtered.text.startswith(
        "Picked at random from the 14 of 18 matching problems nobody is working on."
    )


@pytest.mark.parametrize("command", ["problem", "claim"])
async def test_a_section_typed_for_a_problem_says_how_to_list_it(sqlite_ctx: Context, command: str) -> None:
    """/problem 2 (a section, as the sheet heads them) answered "'2' is not a problem number:
    write it like 2.4", leaving the newcomer to guess which of section 2's 38 problems. It says
    what a problem's number is made of and how to list a section's problems."""
    reply = await say(sqlite_ctx, ANN, f"/{command} 2")
    assert reply.error and reply.text == (
        "'2' is not a problem number: write it like 2.4 (section, point, problem); "
        "/search category:2 lists section 2."
    )
    listed = await shown(sqlite_ctx, ANN, "/search category:2")
    assert "Problems in Circuits In The Wild" in listed


@pytest.mark.parametrize(
    ("bare", "named"),
    [
        ("/problem 2.4 page 2", "/problem 2.4 page:2"),
        ("/problem 2.4 all page 2", "/problem 2.4 all page:2"),
        ("/problem 2.4 page 2 all", "/problem 2.4 all page:2"),
        ("/problem 2.4 all Page2", "/problem 2.4 all page:2"),
        ("/history 2.4 page 2", "/history 2.4 page:2"),
        ("/claims page 2", "/claims page:2"),
        ("/claims everyone page 2", "/claims everyone page:2"),
        ("/claims all page 2", "/claims everyone page:2"),
        ("/claims number:2.4 page 2", "/claims number:2.4 page:2"),
        ("/problem 2.4 all page 0", "/problem 2.4 all page:0"),
    ],
)
async def test_a_page_typed_without_its_colon_is_the_page(
    sqlite_ctx: Context, clock: FakeClock, bare: str, named: str
) -> None:
    """`/problem 2.4 page 2` answered "I don't understand 'page 2'" (and `/claims page 2` looked
    for a member called "page 2"), though `page:2` worked and /search reads a bare `page 2`: every
    command that pages reads it as `page:2`, in the same answer (page 0 refused alike)."""
    await approve(sqlite_ctx.store, clock, "2.4", [(f"https://example.org/paper-{i}", "") for i in range(30)])
    await say(sqlite_ctx, ANN, "/claim 2.4")
    expected = await say(sqlite_ctx, ANN, named)
    reply = await say(sqlite_ctx, ANN, bare)
    assert reply == expected, reply.text
    if "page 0" not in bare:
        assert not reply.error, reply.text


@pytest.mark.parametrize(
    ("bare", "named"),
    [
        ("/history 2.4 2", "/history 2.4 page:2"),
        ("/problem 2.4 2", "/problem 2.4 page:2"),
        ("/problem 2.4 all 2", "/problem 2.4 all page:2"),
        ("/problem 2.4 2 all", "/problem 2.4 all page:2"),
    ],
)
async def test_a_page_number_typed_alone_after_the_problem_is_the_page(
    sqlite_ctx: Context, clock: FakeClock, bare: str, named: str
) -> None:
    """The usage reads `/history number [page]`, and `/history 2.4 2` answered "I don't
    understand '2'": a whole number alone after the problem's is its page, as `page:2`."""
    await approve(sqlite_ctx.store, clock, "2.4", [(f"https://example.org/paper-{i}", "") for i in range(30)])
    expected = await say(sqlite_ctx, ANN, named)
    reply = await say(sqlite_ctx, ANN, bare)
    assert reply == expected and not reply.error, reply.text


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/history 2.4 2 3", "I don't understand '2 3'. Usage: /history number [page]"),
        ("/history 2.4 page:2 2", "I don't understand '2'. Usage: /history number [page]"),
    ],
)
async def test_a_bare_page_beside_another_is_not_guessed(sqlite_ctx: Context, line: str, answer: str) -> None:
    """Two bare numbers, or one beside a named page: which page was meant is not guessed."""
    reply = await say(sqlite_ctx, ANN, line)
    assert reply.error and reply.text == answer


async def test_a_page_typed_bare_beside_a_named_one_is_given_twice(sqlite_ctx: Context) -> None:
    """A second page, typed bare after page:2, is refused as a named option given twice is."""
    reply = await say(sqlite_ctx, ANN, "/history 2.4 page:2 page 3")
    assert reply.error and reply.text == "page is given twice"


@pytest.mark.parametrize("line", ["/problem 2_4", "/problem #2_4", "/claim 2_4", "/history problem 2_4"])
async def test_a_problem_number_with_an_underscore_is_read(sqlite_ctx: Context, line: str) -> None:
    """`2_4` answered "not a problem number: write it like 2.4", while `2,4` was read as 2.4. An
    underscore between two numbers joins nothing else (no command takes a range of problems
    written so, and a search's words are not problem numbers): it is read as the point."""
    reply = await say(sqlite_ctx, ANN, line)
    assert not reply.error, reply.text
    assert "2.4" in (reply.title or "") + reply.text


@pytest.mark.parametrize(
    ("line", "typed"),
    [
        ("/problem 2-4", "2-4"),
        ("/problem 2–4", "2–4"),
        ("/problem #2-4?", "#2-4?"),
        ("/claim 2-4", "2-4"),
        ("/history 2-4", "2-4"),
        ("/claims 2-4", "2-4"),
        ("/release 2-4 tried it", "2-4"),
        ("/submit 2-4 https://example.org/x", "2-4"),
    ],
)
async def test_a_problem_number_with_a_dash_asks_did_you_mean(
    sqlite_ctx: Context, line: str, typed: str
) -> None:
    """`/problem 2-4` answered "not a problem number: write it like 2.4" (and `/submit 2-4 LINK`
    that the link was no problem number). A dash between numbers also writes a range (2 to 4,
    as A-B is a range of levels), so it is not read silently, least of all by /claim or
    /submit: the answer asks whether 2.4 was meant, and nothing is claimed or submitted."""
    reply = await say(sqlite_ctx, ANN, line)
    assert reply.error and reply.private
    assert reply.text == f"{typed!r} is not a problem number. Did you mean 2.4?"
    assert (await say(sqlite_ctx, ANN, "/claims")).text.startswith("You hold no open claims")
    assert "Nothing is waiting" in (await say(sqlite_ctx, MOD, "/pending")).text


async def test_a_dash_stays_a_range_or_words_where_no_problem_number_is_read(sqlite_ctx: Context) -> None:
    """/random A-B is still the range A-B, and /search 2-4 still looks for the words."""
    picked = await say(sqlite_ctx, ANN, "/random A-B")
    assert not picked.error and "matching problems" in picked.text
    searched = await say(sqlite_ctx, ANN, "/search 2-4")
    assert searched.title == "Search: 2-4"


@pytest.mark.parametrize("number", ["2.4?", "2.4!", "2.4?!", "2.4??", "#2.4?", "problem 2.4?"])
async def test_a_problem_number_ending_a_question_is_read(sqlite_ctx: Context, number: str) -> None:
    """`/problem 2.4?` was refused, though a sentence's full stop after it (`2.4.`) was dropped:
    a question or exclamation mark after it goes the same way."""
    reply = await say(sqlite_ctx, ANN, f"/problem {number}")
    assert not reply.error, reply.text
    assert reply.title is not None and reply.title.startswith("2.4 — ")
    claimed = await say(sqlite_ctx, ANN, f"/claim {number}")
    assert claimed.text.startswith("You claimed 2.4 on ")


# Links with their :// mistyped, each with the link written right: https://example.org/x but
# for the last (its scheme in capitals, as a phone may type it), https://arxiv.org/abs/2301.00001.
MISTYPED = {
    "https:/example.org/x": "https:/",
    "http//example.org/x": "http//",
    "https//example.org/x": "https//",
    "https:example.org/x": "https:",
    "https:///example.org/x": "https:///",
    "HTTPS:/arxiv.org/abs/2301.00001": "HTTPS:/",
}


@pytest.mark.parametrize("link", MISTYPED)
async def test_a_link_with_its_https_mistyped_shows_the_link_to_copy(sqlite_ctx: Context, link: str) -> None:
    """`https:/example.org/x` answered "That link has no host", and `https//example.org/x` that
    it was "not a link": the answer shows the link written right, to copy, as one without its
    https:// does, and submits nothing."""
    written = MISTYPED[link]
    scheme = written.lower().rstrip(":/")
    fixed = f"{scheme}://{link.removeprefix(written)}"
    reply = await say(sqlite_ctx, ANN, f"/submit 2.4 {link}")
    assert reply.error and reply.private
    assert reply.text == f"That link's {scheme}:// is mistyped ({written}). Fix it and submit again: {fixed}"
    assert "Nothing is waiting" in (await say(sqlite_ctx, MOD, "/pending")).text


@pytest.mark.parametrize(
    ("link", "answer"),
    [
        ("http:/localhost:8888/tree", "That link goes to localhost, which only opens on your own computer"),
        ("https//notalink", "'https//notalink' is not a link: give the page's whole address"),
        (
            "httpbin.org/get",
            "That link has no https:// in front. Add it and submit again: https://httpbin.org/get",
        ),
    ],
)
async def test_a_mistyped_https_is_fixed_only_into_a_link_others_can_open(
    sqlite_ctx: Context, link: str, answer: str
) -> None:
    """No link is offered where the fixed one would still be refused, and a host that begins
    with "http" is not read as a mistyped scheme."""
    reply = await say(sqlite_ctx, ANN, f"/submit 2.4 {link}")
    assert reply.error and reply.text.startswith(answer), reply.text
