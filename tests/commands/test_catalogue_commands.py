"""/problem, /random, /search as a user sees them, on SQLite and PostgreSQL."""

from __future__ import annotations

import collections
import dataclasses

import pytest

from commands import dispatch
from commands.catalogue import difficulty_matches
from commands.types import Context, Link, Reply
from storage import submissions
from storage.catalogue import export_csv, import_rows, parse_csv
from storage.claims import Person
from tests.support.clock import FakeClock
from tests.support.transcript import person, say, shown

ANN = person("ann")


async def test_problem_2_4_shows_the_acronym_problem_and_who_is_on_it(ctx: Context) -> None:
    """The issue's own example: the sheet's claimant is listed with the date they wrote."""
    text = await shown(ctx, ANN, "/problem 2.4")
    assert "3 letter acronyms" in text
    assert "Difficulty: B" in text
    assert "Working on it:\n  - jknowak (Discord) - July 2023" in text
    reply = await say(ctx, ANN, "/problem 2.4")
    assert not reply.private
    assert [b.label for b in reply.buttons] == ["Claim", "Release", "Another random"]


async def test_problem_shows_existing_work_links(ctx: Context) -> None:
    """Existing work from the sheet is shown with its links intact."""
    text = await shown(ctx, ANN, "/problem 3.3")
    assert "https://github.com/JasonGross/neural-net-coq-interp/blob/main/theories/max.v" in text
    assert "no problem sentence" in text


async def test_a_card_lists_ten_lines_of_existing_work_and_counts_the_rest(ctx: Context) -> None:
    """However many links are approved, the card stays short enough for who is working on it to
    show on every platform (Slack's 50 blocks filled up with 95 long links and cut it off)."""
    ann, mod = Person("discord", "guild1", "ann", "Ann"), Person("discord", "guild1", "mod", "Mod")
    for i in range(14):
        link = await submissions.submit(
            ctx.store, "3.3", f"https://example.org/{i}", f"k{i}", f"paper {i}", ann, ctx.clock(), 99
        )
        await submissions.decide(ctx.store, link.id, mod, True, "", ctx.clock())
    await say(ctx, ANN, "/claim 3.3")

    reply = await say(ctx, ANN, "/problem 3.3")

    work, working = reply.sections[0].shown_lines, reply.sections[1].lines
    # The sheet's two lines, the first seven links, and how many more (7 links).
    assert len(work) == 10 and work[0].startswith("(July 10 2023) Max over a list")
    assert work[2] == Link("https://example.org/0", "https://example.org/0", "paper 0") and work[
        8
    ].url.endswith("/6")
    assert work[-1] == "… and 7 more" and reply.sections[0].more == 7
    assert "  - … and 7 more\n" in await shown(ctx, ANN, "/problem 3.3")  # as the console prints it
    assert reply.sections[1].title == "Working on it" and working[-1].startswith("Ann — since")


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/problem 2.99", "No problem 2.99 — section 2 runs 2.1–2.38."),
        ("/problem 9.1", "No problem 9.1 — sections are 1, 2, 3, 4."),
        ("/problem abc", "'abc' is not a problem number: write it like 2.4, or /search abc"),
        ("/nonsense", "There is no command /nonsense. /help lists them."),
    ],
)
async def test_unknown_numbers_and_commands_get_helpful_errors(ctx: Context, line: str, answer: str) -> None:
    """Errors are private and say what exists."""
    reply = await say(ctx, ANN, line)
    assert reply.private and reply.error
    assert reply.text == answer


@pytest.mark.parametrize(
    "line",
    [
        "/problem " + "9" * 10_000,
        "/search " + "é" * 10_000,
        "/search '; DROP TABLE problem; --",
        "/claims ' OR 1=1 --",
        "/search 🧠🔬 \u202e\u0000 ",
        "/random category:\u202eevil",
        "/release 3.11 " + "x" * 2000,
    ],
)
async def test_hostile_input_gets_an_answer_and_changes_nothing(ctx: Context, line: str) -> None:
    """Huge, odd-unicode and SQL-ish input is answered, never raised, and the catalogue is intact."""
    reply = await say(ctx, ANN, line)
    assert reply.text or reply.sections
    assert "went wrong" not in reply.text
    assert await ctx.store.problem_count() == 98


async def test_random_level_a_matches_every_range_that_includes_a(ctx: Context) -> None:
    """/random A only ever picks A, A-B or A-C problems, and eventually each of them."""
    seen = collections.Counter()
    for _ in range(120):
        reply = await say(ctx, ANN, "/random difficulty:A")
        seen[reply.difficulty] += 1
    assert set(seen) == {"A", "A-B", "A-C"}


def test_difficulty_overlap_rules() -> None:
    """Levels match ranges containing them; ranges match overlapping ranges."""
    assert difficulty_matches("A-C", "B")
    assert not difficulty_matches("C-D", "B")
    assert difficulty_matches("B-C", "A-B")
    assert not difficulty_matches("D", "A-C")


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
    assert another.target == f"{level}//"


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


async def test_search_ranks_and_tolerates_typos(ctx: Context) -> None:
    """/search finds induction problems, also misspelt, a page at a time."""
    exact = await say(ctx, ANN, "/search induction")
    typo = await say(ctx, ANN, "/search indcution")
    first = [str(line) for line in exact.sections[0].lines]
    for line in first:
        problem = await ctx.store.get_problem(line.split(" — ")[0])
        assert problem and "induction" in problem.text.lower()
    assert [str(line) for line in typo.sections[0].lines][:3] == first[:3]
    assert exact.footer and exact.footer.startswith("Page 1 of")
    page2 = await say(ctx, ANN, "/search induction page:2")
    assert set(map(str, page2.sections[0].lines)).isdisjoint(first)


def _numbers(reply: Reply) -> list[str]:
    return [str(line).split(" — ")[0] for line in reply.sections[0].lines] if reply.sections else []


async def _listed(ctx: Context, query: str) -> list[str]:
    """Every number /search lists for ``query``, page after page."""
    reply = await say(ctx, ANN, f"/search {query}")
    listed = _numbers(reply)
    pages = int(reply.footer.split(" of ")[1].split(" ")[0]) if reply.footer else 0
    for page in range(2, pages + 1):
        listed += _numbers(await say(ctx, ANN, f"/search {query} page:{page}"))
    return listed


@pytest.mark.parametrize(
    ("query", "listed"),
    [
        ("SAE", []),  # 5 unrelated problems before, through "same"
        ("SAEs", []),
        ("acronyms", ["2.4"]),  # and 3.19 before, through "across"
        ("pronombres", ["2.12"]),  # 3.20 before, through "probes"
        ("probe", ["3.20"]),  # every problem of "Interpreting Algorithmic Problems" before
        ("gelu", ["1.14", "1.16", "3.23"]),  # and three ReLU problems before
        ("SoLU", ["1.4", "1.14", "1.15", "1.16"]),  # not 3.18's "solution": a word, not its start
        # Not 3.25, 3.26 ("reduction": two typos, but a typo in the first letter is rare), 3.9,
        # 4.3 ("function") as before.
        (
            "induction",
            [
                "1.19",
                "1.21",
                "1.9",
                "1.12",
                "1.20",
                "2.1",
                "2.3",
                "2.11",
                "2.19",
                "2.29",
                "2.33",
                "2.35",
                "3.16",
            ],
        ),
        (
            "nueron",
            ["1.1", "1.2", "1.5", "3.32", "4.3", "1.3", "1.4", "1.6", "1.7", "1.8", "2.7", "2.32", "3.26"],
        ),
        ("copying", ["2.18", "2.21"]),  # "copy" (and 2.14, 2.15 through "closing" before)
        # Hyphenated words typed as one: GPT-2 (3.18, 3.22 in their existing work), not GPT-Neo
        # or GPT-J; GPT-J; In-Context.
        ("gpt2", ["2.1", "2.26", "2.30", "3.18", "3.22"]),
        ("gptj", ["2.34", "2.35"]),
        ("incontext", ["3.13", "3.14"]),
    ],
)
async def test_search_lists_what_the_words_say_not_what_they_look_like(
    ctx: Context, query: str, listed: list[str]
) -> None:
    """A short word (an acronym) matches only itself and the words it starts; a longer one a
    word within a typo or two, or its inflections, not any word with the same letters."""
    assert await _listed(ctx, query) == listed, query


async def test_search_keeps_its_typo_tolerance(ctx: Context) -> None:
    """Misspelt, swapped, plural or the start of a word: the same problems as the right word."""

    for typo, right in [
        ("inducton heads", "induction heads"),
        ("indcution", "induction"),
        ("atention heads", "attention heads"),
        ("superpostion", "superposition"),
        ("polysemantc", "polysemantic"),
        ("polysemanticity", "polysemantic"),
        ("nueron", "neuron"),
        ("circiut", "circuits"),
        ("MLPs", "MLP"),
        ("superpos", "superposition"),
        ("gptj", "GPT-J"),
        ("incontext", "in-context"),
    ]:
        assert set(await _listed(ctx, typo)) == set(await _listed(ctx, right)) != set(), typo
    # "gpt-2" is "gpt" and "2" (so also section 2's GPT-Neo and GPT-J): all that "gpt2" lists.
    gpt2 = set(await _listed(ctx, "gpt2"))
    assert gpt2 and gpt2 <= set(await _listed(ctx, "gpt-2"))


async def test_search_filters_by_difficulty_and_category(ctx: Context) -> None:
    everything = await say(ctx, ANN, "/search induction heads")
    easy = await say(ctx, ANN, "/search induction heads difficulty:A")
    in_two = await say(ctx, ANN, "/search induction heads category:2")
    for reply, keep in (
        (easy, lambda p: difficulty_matches(p.difficulty, "A")),
        (in_two, lambda p: p.section == 2),
    ):
        numbers = [str(line).split(" — ")[0] for line in reply.sections[0].lines]
        problems = [await ctx.store.get_problem(n) for n in numbers]
        assert numbers and all(p is not None and keep(p) for p in problems)
        assert reply.footer != everything.footer  # fewer matches than unfiltered


async def test_the_next_page_hint_keeps_the_filters_and_runs_as_written(ctx: Context) -> None:
    """The footer's "Next:" repeats the query and filters: typed as shown, it gives the next page
    of the same search (not page 2 of the unfiltered one)."""
    first = await say(ctx, ANN, "/search induction category:2")
    assert first.footer is not None
    hint = first.footer.split("Next: ")[1]
    assert hint == '/search query:induction category:"Circuits In The Wild" page:2'
    second = await say(ctx, ANN, hint)
    assert second.footer and second.footer.startswith("Page 2 of 2 (7 matches)")
    shown = [str(line).split(" — ")[0] for line in (*first.sections[0].lines, *second.sections[0].lines)]
    problems = [await ctx.store.get_problem(n) for n in shown]
    assert len(set(shown)) == 7 and all(p is not None and p.section == 2 for p in problems)
    long = "attention only models attention only models attention only models"  # 65 characters
    hint = (await say(ctx, ANN, f"/search {long}")).footer or ""
    assert f'Next: /search query:"{long}" page:2' in hint  # the whole query, not cut at 60


async def test_search_finds_what_an_import_changed(ctx: Context) -> None:
    """The search index follows the catalogue: a rewritten problem is found by its new words."""
    assert "Nothing matches" in (await say(ctx, ANN, "/search zebrafish")).text
    text = await export_csv(ctx.store)
    rows = [row for row in parse_csv(text) if row.number == "3.11"]
    changed = dataclasses.replace(rows[0], problem="Find the zebrafish neurons in a toy model.")
    await import_rows(ctx.store, [changed], ctx.clock())
    reply = await say(ctx, ANN, "/search zebrafish")
    assert [str(line).split(" — ")[0] for line in reply.sections[0].lines] == ["3.11"]


async def test_search_finds_existing_work_below_the_problems_own_text(ctx: Context) -> None:
    """3.3 has no problem text, only existing work ("Max over a list", "Formalising in Coq"):
    search finds it by those words. A problem found only through its existing work is listed
    after those whose own text matches; the words of links are not searched."""
    for query in ("max over a list", "Coq"):
        reply = await say(ctx, ANN, f"/search {query}")
        assert [str(line).split(" — ")[0] for line in reply.sections[0].lines] == ["3.3"], query
    reply = await say(ctx, ANN, "/search subtraction")
    numbers = [str(line).split(" — ")[0] for line in reply.sections[0].lines]
    assert numbers[-1] == "2.37" and len(numbers) > 1  # 2.37's existing work says "2 digit subtraction"
    for number in numbers[:-1]:
        problem = await ctx.store.get_problem(number)
        assert problem and "subtraction" in problem.text.lower()
    assert "Nothing matches" in (await say(ctx, ANN, "/search colab")).text


async def test_an_undated_sheet_claim_stays_undated_after_it_ends(ctx: Context, clock: FakeClock) -> None:
    """A sheet cell without a date reads as undated while open, under Earlier claims once its
    cell is cleared, and in /history: the import's day is never given as the day work began."""
    head = "number,category,difficulty,problem,working_on\n"
    await import_rows(ctx.store, parse_csv(head + "2.5,Circuits In The Wild,B,Emails,Someone\n"), clock())
    assert "Working on it:\n  - Someone (from the sheet, undated)" in await shown(ctx, ANN, "/problem 2.5")
    clock.advance(days=40)
    await import_rows(ctx.store, parse_csv(head + "2.5,Circuits In The Wild,B,Emails,\n"), clock())
    card = await shown(ctx, ANN, "/problem 2.5")
    assert "Earlier claims:\n  - Someone — from the sheet, undated, until 2027-01-04, released" in card
    assert "2026-11-25" not in card
    timeline = (await shown(ctx, ANN, "/history 2.5")).split("Timeline, newest first:\n")[1].splitlines()
    assert timeline == [
        "  - 2027-01-04 · Someone (sheet) released it: from the sheet",
        "  - 2026-11-25 · Someone (sheet) claimed it: from the sheet, undated; "
        "this is the day it was imported",
    ]


async def test_an_ended_sheet_claim_is_named_by_its_whole_cell(ctx: Context, clock: FakeClock) -> None:
    """3.5's cell starts with a line that is only a date, 3.11's is one long sentence: once an
    import clears them, the card and /history name each claim by its whole cell, as the card did
    while it was open, not by a date or a sentence cut at "Might…"."""
    cell = "July 10 2023 Max over a list Some work towards formalising in Coq"
    assert f"{cell} (from the sheet, " in await shown(ctx, ANN, "/problem 3.5")
    clock.advance(days=1)
    rows = [dataclasses.replace(r, working_on="") for r in parse_csv(await export_csv(ctx.store))]
    await import_rows(ctx.store, [r for r in rows if r.number in {"3.5", "3.11"}], clock())
    card = await shown(ctx, ANN, "/problem 3.5")
    assert f"Earlier claims:\n  - {cell} — 2023-07-10 to 2026-11-26, released" in card
    timeline = (await shown(ctx, ANN, "/history 3.5")).split("Timeline, newest first:\n")[1].splitlines()
    assert timeline == [
        f"  - 2026-11-26 · {cell} (sheet) released it: from the sheet",
        f"  - 2023-07-10 · {cell} (sheet) claimed it: from the sheet",
    ]
    history = await shown(ctx, ANN, "/history 3.11")
    assert "as of Nov 6 2023. Might add more operations, too. Happy to collaborate" in history
    assert "as of Nov 6 2023. Might add more operations, too. Happy to collaborate" in await shown(
        ctx, ANN, "/problem 3.11"
    )


async def test_search_by_number_and_nothing_found(ctx: Context) -> None:
    """A number finds its problem first; gibberish gets a friendly 'nothing matches'."""
    for spelled in ("3.11", "#3.11", "# 3.11", "03.011", "３.１１"):  # as /problem takes it
        reply = await say(ctx, ANN, f"/search {spelled}")
        assert str(reply.sections[0].lines[0]).startswith("3.11 — "), spelled
    reply = await say(ctx, ANN, "/search qqqqzzzz")
    assert "Nothing matches" in reply.text
    reply = await say(ctx, ANN, "/search the of and")  # 42 "matches" before
    assert reply.error and "Those words are in nearly every problem" in reply.text
    reply = await say(ctx, ANN, "/search what is the residual stream")
    assert str(reply.sections[0].lines[0]).split(" — ")[0] in {"2.31", "2.32", "2.38"}


async def test_one_match_is_counted_in_the_singular(ctx: Context) -> None:
    """/search Coq finds 3.3 alone (through its existing work): "1 match", not "1 matches"."""
    reply = await say(ctx, ANN, "/search Coq")
    assert reply.footer == "Page 1 of 1 (1 match)."


async def test_help_lists_every_command_and_the_difficulty_rule(ctx: Context) -> None:
    """/help names each command, explains what a level matches, and says dates are UTC days."""
    text = await shown(ctx, ANN, "/help")
    for name in ["problem", "random", "search", "claim", "release", "claims", "history", "help"]:
        assert f"/{name}" in text
    assert "A matches A, A-B and A-C" in text
    assert "Dates are days in UTC" in text


async def test_a_number_given_as_words_gets_the_same_answer_typed_or_as_a_field(ctx: Context) -> None:
    """`/problem Permuting lists` typed (console, Slack) and as Discord's number field: one answer."""
    typed = await say(ctx, ANN, "/problem Permuting lists")
    field = await dispatch.run_named(ctx, ANN, "problem", {"number": "Permuting lists"})
    expected = "'Permuting lists' is not a problem number: write it like 2.4, or /search Permuting lists"
    assert typed.error and typed.text == field.text == expected


@pytest.mark.parametrize(
    ("line", "number"),
    [
        ("/problem 2.4.", "2.4"),
        ("/problem 2,4", "2.4"),
        ("/problem problem 2.4", "2.4"),
        ("/problem 2.10.", "2.10"),
        ("/problem 2.1.", "2.1"),
    ],
)
async def test_a_number_ending_a_sentence_or_with_a_decimal_comma_is_read(
    ctx: Context, line: str, number: str
) -> None:
    """`/problem 2.4.` and `/problem 2,4` were "not a problem number"; 2.10 stays 2.10, not 2.1."""
    reply = await say(ctx, ANN, line)
    assert not reply.error and reply.title and reply.title.startswith(f"{number} — ")


async def test_smart_quotes_in_a_search_are_not_quoted_again_in_the_next_hint(ctx: Context) -> None:
    """`/search “induction heads”` gave `Next: /search query:"“induction heads”" page:2`."""
    reply = await say(ctx, ANN, "/search “induction heads”")
    assert reply.footer and reply.footer.endswith("Next: /search query:“induction heads” page:2")
    again = await say(ctx, ANN, "/search query:“induction heads” page:2")
    assert again.footer and again.footer.startswith("Page 2 of ")


async def test_a_card_whose_claims_are_all_stale_says_anyone_may_claim(ctx: Context) -> None:
    """2.4's only claim is the sheet's, stale: the card says the problem may be claimed all the
    same; once someone active is on it, it does not."""
    working = (
        "Working on it:\n  - jknowak (Discord) - July 2023 (from the sheet, 3 years ago, stale)\n"
        "  - Stale, so anyone may still /claim 2.4\n"
    )
    assert working in await shown(ctx, ANN, "/problem 2.4")
    await say(ctx, person("bob"), "/claim 2.4")
    assert "anyone may still" not in await shown(ctx, ANN, "/problem 2.4")
    assert "Working on it:\n  - Nobody yet: /claim 2.1\n" in await shown(ctx, ANN, "/problem 2.1")
