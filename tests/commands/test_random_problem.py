"""/random as a user sees it, on SQLite and PostgreSQL."""

from __future__ import annotations

import collections

import pytest

from commands import dispatch
from commands.catalogue import difficulty_matches
from commands.random_problem import RECENT_PICKS
from commands.types import Actor, Context, Reply
from tests.support.transcript import person, say

ANN = person("ann")
BOB = person("bob")


def _number(reply: Reply) -> str:
    return (reply.title or "").split(" — ")[0]


async def test_random_level_a_matches_every_range_that_includes_a(ctx: Context) -> None:
    """/random A only ever picks A, A-B or A-C problems, and eventually each of them."""
    seen = collections.Counter()
    for _ in range(120):
        reply = await say(ctx, ANN, "/random difficulty:A")
        seen[reply.difficulty] += 1
    assert set(seen) == {"A", "A-B", "A-C"}


async def test_random_unclaimed_skips_claimed_problems(ctx: Context) -> None:
    """With `unclaimed`, nothing anybody works on comes up."""
    claimed = await ctx.store.claimed_numbers()
    assert "2.4" in claimed
    for _ in range(60):
        reply = await say(ctx, ANN, "/random unclaimed circuits in the wild")
        assert reply.title and reply.title.split(" — ")[0] not in claimed
        assert ("Category", "Circuits In The Wild") in [(f.name, f.value) for f in reply.fields]


async def test_random_another_button_keeps_the_filters(ctx: Context) -> None:
    """ "Another random" under a /random D answer gives another D-level problem."""
    from commands import dispatch

    reply = await say(ctx, ANN, "/random D")
    button = next(b for b in reply.buttons if b.action == "random")
    for _ in range(10):
        again = await dispatch.run_action(ctx, ANN, button.custom_id)
        assert again.difficulty and difficulty_matches(again.difficulty, "D")


async def test_random_with_impossible_filters_says_so(ctx: Context) -> None:
    """No match is an answer, not a crash."""
    reply = await say(ctx, ANN, "/random D category:4")
    assert reply.error and "No problem matches" in reply.text
    reply = await say(ctx, ANN, "/random category:astrology")
    assert reply.error and "Categories: 1 Toy Language Models" in reply.text


@pytest.mark.parametrize(
    ("line", "level", "read"),
    [
        ("/random easy", "A", "Read 'easy' as difficulty A (A is the easiest level, D the hardest;"),
        ("/random beginner", "A", "Read 'beginner' as difficulty A"),
        ("/random hard", "C-D", "Read 'hard' as difficulty C-D"),
        ("/random medium", "B-C", "Read 'medium' as difficulty B-C"),
        ("/random A B", "A-B", "Read 'A B' as difficulty A-B"),  # "No category 'B'" before
        ("/random B A", "A-B", "Read 'B A' as difficulty A-B"),
        ("/random level A", "A", "Picked at random"),
        # By name, as positionally (difficulty:easy was refused: "'EASY' is not a difficulty").
        (
            "/random difficulty:easy",
            "A",
            "Read 'easy' as difficulty A (A is the easiest level, D the hardest;",
        ),
        ("/random difficulty:Hard", "C-D", "Read 'Hard' as difficulty C-D"),
        ('/random difficulty:"A B"', "A-B", "Read 'A B' as difficulty A-B"),
        ('/random difficulty:"easy to medium"', "A-C", "Read 'easy to medium' as difficulty A-C"),
        ("/random difficulty:easy hard", "A-D", "Read 'easy hard' as difficulty A-D"),
        ("/random difficulty:b-c", "B-C", "Picked at random"),
        # A phone's or a Mac's dash (en, em, minus) and spaces around it: "No category 'A–B'",
        # "No category '- B'" before.
        ("/random A–B", "A-B", "Picked at random"),
        ("/random difficulty:B—C", "B-C", "Picked at random"),
        # The words as typed, read as a range ("Read 'A b'", "Read 'A B'", "Read 'B c'" before).
        ("/random a − b", "A-B", "Read 'A − B' as difficulty A-B"),
        ("/random A - B", "A-B", "Read 'A - B' as difficulty A-B"),
        ("/random A – B", "A-B", "Read 'A – B' as difficulty A-B"),
        ("/random b to c", "B-C", "Read 'B to C' as difficulty B-C"),
        ("/random easy – medium", "A-C", "Read 'easy – medium' as difficulty A-C"),
        # "Read 'B easy'" before: the letter came first, then the words around it.
        ("/random easy to b", "A-B", "Read 'easy to B' as difficulty A-B"),
        ("/random levels A to C", "A-C", "Read 'A to C' as difficulty A-C"),  # 'A levels to C'
        # "through", "from … to", "between … and" as people say a range ("No category…" before).
        ("/random b through c", "B-C", "Read 'B through C' as difficulty B-C"),
        ("/random difficulty:b thru c", "B-C", "Read 'B thru C' as difficulty B-C"),
        ("/random from A to B", "A-B", "Read 'A to B' as difficulty A-B"),
        ("/random between A and B", "A-B", "Read 'A and B' as difficulty A-B"),
        ("/random A, B", "A-B", "Read 'A B' as difficulty A-B"),  # "Read 'B A'" before
        (
            "/random difficulty:easy-b",
            "A-B",
            "Read 'easy-b' as difficulty A-B",
        ),  # refused, as easy to b is not
        ("/random lvl A", "A", "Picked at random"),  # "No category 'lvl'" before
        ("/random difficulty: A", "A", "Picked at random"),  # "Read 'A' as difficulty A" before
        # A dash spaced on one side: picked from every level, nothing said (A-B before d3829db).
        ('/random difficulty:"A -B"', "A-B", "Read 'A -B' as difficulty A-B"),
        ('/random difficulty:"a– b"', "A-B", "Read 'A– B' as difficulty A-B"),
    ],
)
async def test_random_reads_words_for_a_level_as_the_difficulty(
    ctx: Context, line: str, level: str, read: str
) -> None:
    """A newcomer's "/random easy" picks an A problem, saying how it read the words, instead of
    answering that there is no category 'easy'; a second letter makes a range."""
    for _ in range(10):
        reply = await say(ctx, ANN, line)
        assert not reply.error, reply.text
        assert reply.text.startswith(read) and reply.difficulty
        assert difficulty_matches(reply.difficulty, level), (line, reply.difficulty)
    another = next(b for b in reply.buttons if b.action == "random")
    assert another.target == f"{level}///{_number(reply)}"  # its filters, and the card it is under


async def test_random_reads_a_level_beside_a_category(ctx: Context) -> None:
    """ "easy circuits" is an A problem in Circuits In The Wild (the whole words would have
    matched the category alone and dropped "easy"); a category nobody has still gets the list
    of categories, and now the difficulty scale too."""
    for _ in range(10):
        reply = await say(ctx, ANN, "/random easy circuits")
        assert reply.difficulty and difficulty_matches(reply.difficulty, "A")
        assert ("Category", "Circuits In The Wild") in [(f.name, f.value) for f in reply.fields]
    reply = await say(ctx, ANN, "/random astrology")
    assert reply.error and reply.text.startswith(
        "No category 'astrology'. Categories: 1 Toy Language Models;"
    )
    assert reply.text.endswith(
        "For a difficulty: A is the easiest level, D the hardest; two levels make a "
        "range like A-B (/random B, /random A-B)."
    )


async def test_random_named_level_words_beside_a_category_and_nonsense(ctx: Context) -> None:
    """difficulty:easy with a category picks in both; a named difficulty that names no level is
    still refused as before."""
    for _ in range(10):
        reply = await say(ctx, ANN, "/random difficulty:easy circuits")
        assert reply.difficulty and difficulty_matches(reply.difficulty, "A")
        assert ("Category", "Circuits In The Wild") in [(f.name, f.value) for f in reply.fields]
    reply = await say(ctx, ANN, "/random difficulty:circuits")
    assert reply.error and reply.text.startswith("'CIRCUITS' is not a difficulty: use A (easiest)")
    reply = await say(ctx, ANN, '/random difficulty:"easy circuits"')
    assert reply.error and "is not a difficulty" in reply.text


async def test_random_hands_out_a_problem_nobody_is_working_on(ctx: Context) -> None:
    """With two of the three D problems claimed, /random D handed a newcomer a claimed one two
    times in three, saying nothing ("Picked at random from 3 matching problems."). It picks among
    those nobody is working on and says so; when every match is claimed it still shows one, and
    says that it is; `unclaimed` then says why nothing is left."""
    for number in ("2.36", "3.28"):
        assert not (await say(ctx, ANN, f"/claim {number}")).error
    for n in range(10):  # each a newcomer's first /random (see the next test for a second)
        reply = await say(ctx, person(f"new{n}"), "/random D")
        assert _number(reply) == "3.29"
        assert reply.text.startswith("Picked at random from the 1 of 3 matching problems nobody is")
    assert not (await say(ctx, ANN, "/claim 3.29")).error
    reply = await say(ctx, BOB, "/random D")
    assert not reply.error and _number(reply) in {"2.36", "3.28", "3.29"}
    assert reply.text.startswith(
        "All 3 matching problems are claimed, this one too: see who is on it below "
        "(several people may work on one problem), or try other filters."
    )
    refused = await say(ctx, BOB, "/random D unclaimed")
    assert refused.error and refused.text == (
        "All 3 matching problems are claimed; try other filters, or /random without unclaimed."
    )
    reply = await say(ctx, BOB, "/random easy")
    assert "Picked at random from the 14 of 18 matching problems nobody is working on." in reply.text


async def test_random_never_shows_the_same_problem_twice_in_a_row(ctx: Context) -> None:
    """/random D drew 3.28 and then 3.28 again, typed or through Another random (three D
    problems: one chance in three each time). The next pick is never the problem just shown to
    whoever asks: their last /random, or the card whose button they press (Bob's click under
    Ann's card), while the draw still reaches every problem."""
    seen: list[str] = []
    for _ in range(15):
        seen.append(_number(await say(ctx, ANN, "/random D")))
    reply = await say(ctx, ANN, "/random D")
    seen.append(_number(reply))
    for clicker in [BOB, ANN] * 8:
        button = next(b for b in reply.buttons if b.action == "random")
        reply = await dispatch.run_action(ctx, clicker, button.custom_id)
        seen.append(_number(reply))
    assert all(a != b for a, b in zip(seen, seen[1:], strict=False)), seen
    assert set(seen) == {"2.36", "3.28", "3.29"}
    # One problem to pick from: that one, again.
    assert {_number(await say(ctx, ANN, "/random D category:2")) for _ in range(3)} == {"2.36"}


async def test_another_random_presses_that_find_nothing_do_not_grow_copbots_memory(ctx: Context) -> None:
    """copbot remembers the last /random problem of the latest RECENT_PICKS people. An Another
    random press remembered the card it is under before picking, and only a pick forgot the
    oldest person: presses whose filters find nothing (no D problem in section 1) each added one
    person for good, so copbot's memory grew with every such press by someone new."""
    custom_id = "cop:random:D/1//1.1"
    for n in range(RECENT_PICKS + 20):
        presser = Actor("discord", "guild1", f"member{n}", f"Member {n}")
        reply = await dispatch.run_action(ctx, presser, custom_id)
        assert reply.error and "No problem matches all of that" in reply.text, reply.text
    assert len(ctx.shown) <= RECENT_PICKS


def _category(reply: Reply) -> str:
    return next(f.value for f in reply.fields if f.name == "Category")


# What follows /random | the words echoed as read | the range read.
RANGES_BESIDE_A_CATEGORY = [
    # "Read 'easy medium'": the "to" went to the category's words and the echo lost it.
    "easy to medium circuits | easy to medium | A-C",
    "circuits easy – medium | easy – medium | A-C",
    # These filtered at B alone, silently: "to c" and "– C" were read as the category's words.
    "b to c circuits | B to C | B-C",
    "circuits b to c | B to C | B-C",
    "circuits B – C | B – C | B-C",
    "difficulty:b to c circuits | B to C | B-C",
    "A to B 2 | A to B | A-B",  # "No category 'to B 2'" before
    # "No category 'easy-medium circuits'" before: two words for a level joined by a dash.
    "easy-medium circuits | easy-medium | A-C",
    "circuits easy–hard | easy–hard | A-D",
    # "Read 'B easy'" before: the letter first, then the words for a level around it.
    "easy to b circuits | easy to B | A-B",
    "circuits easy b | easy B | A-B",
    # Filtered at A alone before, "B" going to the category's words and silently nowhere.
    "A B circuits | A B | A-B",
    "circuits A B | A B | A-B",
    "b through c circuits | B through C | B-C",
    "from A to B circuits | A to B | A-B",
    "circuits between A and B | A and B | A-B",  # "No category 'circuits between'" before
    "circuits levels b to c | B to C | B-C",
    "easy-b circuits | easy-b | A-B",  # "No category 'easy-b circuits'" before
]


@pytest.mark.parametrize("case", RANGES_BESIDE_A_CATEGORY)
async def test_random_reads_a_range_beside_a_category_whole(ctx: Context, case: str) -> None:
    """A range typed out beside a category's words is the whole range, echoed as typed, and the
    category is still the one named."""
    words, echoed, level = (part.strip() for part in case.split("|"))
    read = f"Read {echoed!r} as difficulty {level}"
    for _ in range(8):
        reply = await say(ctx, ANN, f"/random {words}")
        assert not reply.error, reply.text
        assert reply.text.startswith(read), reply.text
        assert reply.difficulty and difficulty_matches(reply.difficulty, level), (words, reply.difficulty)
        assert _category(reply) == "Circuits In The Wild"
    another = next(b for b in reply.buttons if b.action == "random")
    assert another.target.startswith(f"{level}/2//")
    # The same pool as the range given as such: every B-C (A-C…) circuits problem comes up.
    picked = reply.text.split(". ", 1)[1].split("\n")[0]
    assert picked == (await say(ctx, BOB, f"/random difficulty:{level} category:2")).text.split("\n")[0]


@pytest.mark.parametrize(
    "line",
    [
        "/random ｃｉｒｃｕｉｔｓ",  # full-width, as a CJK input method types: "No category" before
        "/random category:ＣＩＲＣＵＩＴＳ",
        '/random category:"Ｃｉｒｃｕｉｔｓ Ｉｎ Ｔｈｅ Ｗｉｌｄ"',
        "/random category:２",
        # Named but unquoted: "I don't understand 'In The Wild'" before, though unnamed it works.
        "/random category:Circuits In The Wild",
    ],
)
async def test_random_reads_a_category_as_search_reads_words(ctx: Context, line: str) -> None:
    """A category typed in full-width letters (or digits) is read as plain ones, as /search's
    words are; a named category of several words takes them all."""
    reply = await say(ctx, ANN, line)
    assert not reply.error, reply.text
    assert _category(reply) == "Circuits In The Wild"
    easy = await say(ctx, ANN, "/random ｅａｓｙ ｃｉｒｃｕｉｔｓ")
    assert easy.text.startswith("Read 'easy' as difficulty A") and _category(easy) == "Circuits In The Wild"


# A range written from the harder level, as typed (console, Slack) or as Discord's options give it.
BACKWARDS = [
    ("/random difficulty:c to b", "C to B"),  # read as B-C before, while the rest were refused
    ("/random c to b", "C to B"),
    ("/random difficulty:c - b", "C - B"),
    ("/random difficulty:c-b", "C-B"),
    ("/random difficulty:C–B", "C–B"),
    ("/random c - b", "C - B"),
    ("/random c-b", "C-B"),
    ("/random C–B", "C–B"),
    ({"difficulty": "c-b"}, "C-B"),
    ({"difficulty": "C - B"}, "C - B"),
    ({"difficulty": "c to b"}, "C to B"),
    # A dash spaced on one side: picked from every level, nothing said.
    ('/random difficulty:"c -b"', "C -B"),
    ({"difficulty": "C- B"}, "C- B"),
]


@pytest.mark.parametrize(("typed", "echoed"), BACKWARDS)
async def test_random_reads_a_range_written_backwards_as_its_span(
    ctx: Context, typed: str | dict[str, str], echoed: str
) -> None:
    """`/random difficulty:c to b` picked from B-C, but `difficulty:c - b`, `c-b` and `C–B` were
    refused ("'C-B' is not a difficulty"): the same range, two answers. Written from the harder
    level, a range is its span however it is joined, and the answer says how it was read."""
    for _ in range(5):
        if isinstance(typed, dict):
            reply = await dispatch.run_named(ctx, ANN, "random", typed)
        else:
            reply = await say(ctx, ANN, typed)
        assert not reply.error, reply.text
        assert reply.text.startswith(f"Read {echoed!r} as difficulty B-C (A is the easiest level"), reply.text
        assert reply.difficulty and difficulty_matches(reply.difficulty, "B-C"), reply.difficulty
    another = next(b for b in reply.buttons if b.action == "random")
    assert another.target.startswith("B-C///")


def _filters(reply: Reply) -> str:
    """The filters the card's Another random button carries (``A/2/u``)."""
    again = next(b for b in reply.buttons if b.action == "random")
    return again.target.rsplit("/", 1)[0]


async def test_an_article_or_filler_words_are_no_level_and_no_category(ctx: Context) -> None:
    """`/random a toy model` picked only A problems, the article "a" read as the level A, and
    `/random and a toy model` picked in "Exploring Polysemanticity and Superposition" for its
    "and" (and `/random the` in "Circuits In The Wild"): silent, surprising filters. An article
    is no level, words every name has match no category, and a category read from words only
    close to its name is said."""
    for line, said in (
        ("/random a toy model", "Read 'a toy model' as category Toy Language Models. "),
        ("/random and a toy model", "Read 'and a toy model' as category Toy Language Models. "),
    ):
        reply = await say(ctx, ANN, line)
        assert not reply.error, reply.text
        assert reply.text.startswith(said), (line, reply.text)
        assert _filters(reply) == "/1/", (line, _filters(reply))
    # Capital A is still the level, and "a" after a level the article (B a toy model).
    for line, level in (("/random A and a toy model", "A"), ("/random B a toy model", "B")):
        assert _filters(await say(ctx, ANN, line)) == f"{level}/1/", line
    # Only words that name nothing: no filter at all.
    for line in ("/random a problem", "/random the", "/random and"):
        reply = await say(ctx, ANN, line)
        assert not reply.error and _filters(reply) == "//", (line, reply.text)
    # Words that match no category, once "and" and "a" are no help, say so.
    reply = await say(ctx, ANN, "/random circuits and a toy model")
    assert reply.error and reply.text.startswith("No category 'circuits and a toy model'. Categories:")
    # A lowercase a alone, or before a level, is still the level (/random a, /random a b).
    assert _filters(await say(ctx, ANN, "/random a")) == "A//"
    assert _filters(await say(ctx, ANN, "/random a b")) == "A-B//"
    # Words of a category's name, or its number, need no saying.
    for line in ("/random circuits", "/random category:2", "/random in the wild"):
        reply = await say(ctx, ANN, line)
        assert _filters(reply) == "/2/" and not reply.text.startswith("Read"), (line, reply.text)


async def test_a_lowercase_a_before_or_or_a_section_number_is_still_the_level(ctx: Context) -> None:
    """`/random a or b` picked at B only (the "a" read as an article before "or", dropped
    silently) and `/random a 2` answered "No category 'a 2'", where both read the level A before:
    A-B, and A in category 2. An "a" before "or" or before a section number is the level; an
    "a" before a word is still the article (`/random a toy model`)."""
    read = (("/random a or b", "A-B//"), ("/random a 2", "A/2/"), ("/random a 2 unclaimed", "A/2/u"))
    for line, filters in read:
        reply = await say(ctx, ANN, line)
        assert not reply.error, (line, reply.text)
        assert _filters(reply) == filters, (line, _filters(reply))
    assert _filters(await say(ctx, ANN, "/random a toy model")) == "/1/"


async def test_random_reads_a_category_word_with_a_typo(ctx: Context) -> None:
    """`/random circuts` answered "No category 'circuts'" (a letter left out); it picks in
    Circuits In The Wild, saying how it read the word, beside a level too."""
    for line in ("/random circuts", "/random easy circuts", "/random category:circiuts unclaimed"):
        reply = await say(ctx, ANN, line)
        assert not reply.error, (line, reply.text)
        assert _category(reply) == "Circuits In The Wild", line
        assert "as category Circuits In The Wild. " in reply.text, (line, reply.text)
    reply = await say(ctx, ANN, "/random circuits and a toy model")
    assert reply.error and reply.text.startswith("No category 'circuits and a toy model'. Categories:")


async def test_random_with_words_that_name_no_category_points_to_search_or_the_problem(ctx: Context) -> None:
    """A newcomer after a random induction problem typed `/random induction` and was only told
    "No category 'induction'. Categories: …"; `/random 2.4` the same. The answer still lists
    the categories, and names what finds them: the /search for those words with how many it
    finds (at the level asked for), or /problem for a problem's number."""
    reply = await say(ctx, ANN, "/random induction")
    assert reply.error
    assert reply.text.startswith("No category 'induction'. Categories: 1 Toy Language Models;")
    assert reply.text.endswith(
        "/random picks by level and category; for problems about 'induction': /search induction (13 matches)."
    ), reply.text
    searched = await say(ctx, ANN, "/search induction")
    assert searched.footer and "(13 matches)" in searched.footer
    reply = await say(ctx, ANN, "/random A induction")
    assert reply.text.endswith("for problems about 'induction': /search induction difficulty:A (1 match)."), (
        reply.text
    )
    reply = await say(ctx, ANN, "/random 2.4")
    assert reply.error
    assert reply.text.endswith("/random picks by level and category; for problem 2.4: /problem 2.4.")
    # Words nothing has: the categories and the scale, as before.
    reply = await say(ctx, ANN, "/random astrology")
    assert reply.text.endswith("(/random B, /random A-B).") and "/search" not in reply.text


async def test_another_random_under_the_only_unclaimed_problem_shows_another(ctx: Context) -> None:
    """With 2.36 and 3.28 claimed, 3.29 is the only D problem nobody is working on: Bob's
    /random D showed it, and his Another random (or /random D again) showed 3.29 again, saying
    the same "Picked at random from the 1 of 3…", a button that seemed to do nothing, though
    the README says the problem just shown never is. He now gets one of the claimed ones,
    told why; asked for `unclaimed`, 3.29 is all there is, and it is shown again."""
    for number in ("2.36", "3.28"):
        assert not (await say(ctx, ANN, f"/claim {number}")).error
    reply = await say(ctx, BOB, "/random D")
    assert _number(reply) == "3.29"
    for _ in range(6):
        button = next(b for b in reply.buttons if b.action == "random")
        reply = await dispatch.run_action(ctx, BOB, button.custom_id)
        assert not reply.error, reply.text
        assert _number(reply) in {"2.36", "3.28"}, reply.text
        assert reply.text.startswith(
            "3.29, just shown, is the only one of 3 matching problems nobody is working on; this "
            "one is claimed: see who is on it below (several people may work on one problem)."
        ), reply.text
        again = await say(ctx, BOB, "/random D")  # not just shown now: 3.29 again
        assert _number(again) == "3.29"
        assert again.text.startswith("Picked at random from the 1 of 3 matching problems nobody is")
        reply = again
    for _ in range(3):
        only = await say(ctx, BOB, "/random D unclaimed")
        assert _number(only) == "3.29"


@pytest.mark.parametrize("typed", ["🤖", "🤖 🎲", "???", "A 🤖", "unclaimed ★"])
async def test_random_of_only_emoji_or_symbols_is_refused_as_unknown_words_are(
    ctx: Context, typed: str
) -> None:
    """`/random 🤖` picked from the whole catalogue as if nothing had been typed: now it is
    answered as `/random astrology` is, naming the categories and the difficulty scale."""
    reply = await say(ctx, ANN, f"/random {typed}")
    shown = typed.split()[-1] if typed.split()[0] in ("A", "unclaimed") else typed
    assert reply.error and reply.text.startswith(f"No category {shown!r}. Categories: 1 Toy Language Models;")
    assert reply.text.endswith("range like A-B (/random B, /random A-B).")


@pytest.mark.parametrize("typed", ["A, B", "a - b", "easy to medium", "a problem", "A –"])
async def test_random_levels_and_filler_with_punctuation_still_pick(ctx: Context, typed: str) -> None:
    """Levels typed with commas and dashes, and words any name has, are no category to refuse."""
    reply = await say(ctx, ANN, f"/random {typed}")
    assert not reply.error, reply.text
