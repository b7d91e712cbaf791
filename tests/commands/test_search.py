"""/search as a user sees it, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest

from commands import dispatch
from commands.catalogue import difficulty_matches
from commands.types import Context, Reply
from storage.catalogue import export_csv, import_rows, parse_csv
from tests.support.transcript import person, say

ANN = person("ann")


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


async def test_a_named_difficulty_in_words_is_read_as_random_reads_it(ctx: Context) -> None:
    """/search … difficulty:easy was refused ("'EASY' is not a difficulty") though /random
    difficulty:easy is read as A: the same words, the same explanation, the same matches as
    difficulty:A; the next page keeps the level. Bare words stay search words."""
    by_letter = await say(ctx, ANN, "/search induction heads difficulty:A")
    in_words = await say(ctx, ANN, "/search induction heads difficulty:easy")
    assert not in_words.error and in_words.text.startswith("Read 'easy' as difficulty A (A is the easiest")
    assert in_words.sections == by_letter.sections and in_words.footer == by_letter.footer
    hard = await say(ctx, ANN, "/search attention difficulty:hard")
    numbers = [str(line).split(" — ")[0] for line in hard.sections[0].lines]
    problems = [await ctx.store.get_problem(n) for n in numbers]
    assert numbers and all(p is not None and difficulty_matches(p.difficulty, "C-D") for p in problems)
    refused = await say(ctx, ANN, "/search induction difficulty:sideways")
    assert refused.error and "'SIDEWAYS' is not a difficulty" in refused.text
    bare = await say(ctx, ANN, "/search easy induction")  # "easy" is searched for, not a level
    assert bare.text.startswith("Nothing matches 'easy induction'.")


async def test_a_pasted_sentence_keeps_its_capital_a_and_a_level_filter_says_so(ctx: Context) -> None:
    """Pasting 2.3's opening, "A harder example would be numbers at the start of lines", answered
    "Nothing matches 'harder example…'": its "A" was silently taken as difficulty A (2.3 is a B).
    A bare level filters only as the last word, and the answer says what it kept."""
    reply = await say(ctx, ANN, "/search A harder example would be numbers at the start of lines")
    assert _numbers(reply)[:1] == ["2.3"], reply.text
    reply = await say(ctx, ANN, "/search linear regression where A and b are different for each prompt")
    assert _numbers(reply)[:1] == ["3.13"], reply.text
    filtered = await say(ctx, ANN, "/search induction A")
    assert filtered.title == "Search: induction" and _numbers(filtered) == ["2.19"]
    assert filtered.text == "Only problems at difficulty A."
    nothing = await say(ctx, ANN, "/search zebrafish D category:1")
    assert nothing.text.startswith("Nothing matches 'zebrafish' at difficulty D in Toy Language Models.")


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


async def test_a_problem_number_finds_that_problem_alone(ctx: Context) -> None:
    """`/search problem 2.4` listed eleven problems and not 2.4 (the word "problem" made it no
    number), and `/search 2.4` listed five more after it, found through the digits 2 and 4 in
    their text ("1 2 3 4"). A number, spelled as /problem takes it, lists its problem alone; a
    number that is no problem says which there are."""
    for spelled in ("2.4", "#2.4", "problem 2.4", "Problem #2.4", "02.04", " 2,4 "):
        reply = await say(ctx, ANN, f"/search {spelled}")
        assert _numbers(reply) == ["2.4"] and reply.footer == "Page 1 of 1 (1 match).", spelled
    reply = await say(ctx, ANN, "/search problem 2.99")
    assert reply.error and reply.text == "No problem 2.99 — section 2 runs 2.1–2.38."


async def test_when_nothing_matches_the_answer_says_what_would(ctx: Context) -> None:
    """ "Nothing matches … Try fewer or other words." was all a user got for `/search easy
    induction` (13 induction problems, one of them an A), `/search induction zebrafish` or a word
    three typos off (`supperpossitoin`). Now the answer names a search that finds something,
    ready to type: the level as a filter, the word that matches on its own, the catalogue's
    word closest to one that matches nothing; and each runs as suggested."""
    cases = {
        "easy induction": "For a level, name it: /search induction difficulty:easy (1 match).",
        "induction zebrafish": "On its own, 'induction' matches 13 problems: /search induction",
        "supperpossitoin": "Did you mean superposition? /search superposition (6 matches)",
        "zebrafish neurons difficulty:A": (
            "On its own, 'neurons' matches 2 problems: /search neurons difficulty:A"
        ),
    }
    for query, hint in cases.items():
        reply = await say(ctx, ANN, f"/search {query}")
        assert reply.text.startswith("Nothing matches") and hint in reply.text, reply.text
        suggested = hint.split(": ", 1)[1] if hint.startswith(("For", "On")) else hint.split("? ")[1]
        suggested = suggested.split(" (")[0]
        found = await say(ctx, ANN, suggested)
        assert found.sections and found.footer, suggested
    reply = await say(ctx, ANN, "/search qqqqzzzz")
    assert reply.text == "Nothing matches 'qqqqzzzz'. Try fewer or other words."


async def test_a_hint_never_suggests_a_word_too_common_to_search_for(ctx: Context) -> None:
    """`/search thax` answered "Did you mean that? /search that (11 matches)", and `/search that`
    then refused the word as one in nearly every problem; so for what, this, when, with, you.
    A typo is now never corrected to such a word."""
    for typo, common in (("thax", "that"), ("whaq", "what"), ("thiq", "this"), ("witq", "with")):
        refused = await say(ctx, ANN, f"/search {common}")
        assert refused.error and "nearly every problem" in refused.text, refused.text
        reply = await say(ctx, ANN, f"/search {typo}")
        assert reply.text.startswith("Nothing matches") and f"/search {common}" not in reply.text, reply.text


async def test_one_match_is_counted_in_the_singular(ctx: Context) -> None:
    """/search Coq finds 3.3 alone (through its existing work): "1 match", not "1 matches"."""
    reply = await say(ctx, ANN, "/search Coq")
    assert reply.footer == "Page 1 of 1 (1 match)."


async def test_smart_quotes_in_a_search_are_not_quoted_again_in_the_next_hint(ctx: Context) -> None:
    """`/search “induction heads”` gave `Next: /search query:"“induction heads”" page:2`."""
    reply = await say(ctx, ANN, "/search “induction heads”")
    assert reply.footer and reply.footer.endswith("Next: /search query:“induction heads” page:2")
    again = await say(ctx, ANN, "/search query:“induction heads” page:2")
    assert again.footer and again.footer.startswith("Page 2 of ")


async def test_a_level_named_with_difficulty_is_the_filter_and_a_bare_one_a_word(ctx: Context) -> None:
    """`/search induction B difficulty:A` (Slack, console) filtered at B and searched for
    "induction difficulty:A": the bare B before the named option was taken as the level, and the
    level the user named became words of the query. A named difficulty is the filter; a bare
    level beside it is a word."""
    for line in ("/search induction B difficulty:A", "/search induction difficulty:A B"):
        reply = await say(ctx, ANN, line)
        assert reply.title == "Search: induction B", (line, reply.title)
        assert _numbers(reply) == ["2.19"], (line, _numbers(reply))
        assert reply.text == "Only problems at difficulty A.", (line, reply.text)


async def test_a_problem_number_outside_the_filters_says_where_it_is(ctx: Context) -> None:
    """`/search 2.4 difficulty:A` (2.4 is a B) answered "On its own, '2' matches 7 problems:
    /search 2 difficulty:A", sending the user to problems that merely contain the digit 2. It
    says what 2.4 is and how to see it."""
    reply = await say(ctx, ANN, "/search 2.4 difficulty:A")
    assert reply.text == (
        "Nothing matches '2.4' at difficulty A. 2.4 is at difficulty B in Circuits In The Wild: /problem 2.4"
    ), reply.text
    reply = await say(ctx, ANN, "/search problem 2.4 category:3")
    assert reply.text == (
        "Nothing matches 'problem 2.4' in Interpreting Algorithmic Problems. "
        "2.4 is at difficulty B in Circuits In The Wild: /problem 2.4"
    ), reply.text


async def test_a_spaced_level_range_ending_a_search_is_the_range(ctx: Context) -> None:
    """`/search induction A - B` (a range written with spaces, as /random reads it) filtered at B
    alone and searched for "induction A -", listing 2.3 for its capital A and no A problem. A
    range typed last, spaced, with any dash, is the level range, as unspaced (`A–B`) it was."""
    wanted = await _listed(ctx, "induction difficulty:A-B")
    assert "2.19" in wanted  # an A
    for spaced in ("A - B", "A – B", "A -B", "A- B"):
        reply = await say(ctx, ANN, f"/search induction {spaced}")
        assert reply.title == "Search: induction", (spaced, reply.title)
        assert reply.text == "Only problems at difficulty A-B.", (spaced, reply.text)
        assert await _listed(ctx, f"induction {spaced}") == wanted, spaced


async def test_full_width_letters_find_what_plain_ones_do(ctx: Context) -> None:
    """Letters typed with a CJK input method (full-width ＩＮＤＵＣＴＩＯＮ) or other compatibility
    forms find what plain letters find (nothing before), and the same goes for the catalogue's
    own words (a ligature ﬁ in a problem's text); what is shown stays as written."""
    plain = await _listed(ctx, "induction")
    assert len(plain) == 13
    assert await _listed(ctx, "ＩＮＤＵＣＴＩＯＮ") == plain
    wide = await say(ctx, ANN, "/search ＩＮＤＵＣＴＩＯＮ")
    assert wide.title == "Search: ＩＮＤＵＣＴＩＯＮ"  # the query as typed
    assert _numbers(await say(ctx, ANN, "/search ｚｅｂｒａｆｉｓｈ")) == []
    text = await export_csv(ctx.store)
    rows = [row for row in parse_csv(text) if row.number == "3.11"]
    changed = dataclasses.replace(rows[0], problem="Find the zebraﬁsh neurons in a ＴＯＹ model.")
    await import_rows(ctx.store, [changed], ctx.clock())
    for query in ("zebrafish", "ｚｅｂｒａｆｉｓｈ", "toy zebrafish"):
        assert _numbers(await say(ctx, ANN, f"/search {query}"))[:1] == ["3.11"], query
    shown = await say(ctx, ANN, "/problem ２.４")
    assert not shown.error and shown.title and shown.title.startswith("2.4")
    card = await say(ctx, ANN, "/problem 3.11")
    assert "zebraﬁsh neurons in a ＴＯＹ model" in card.text + " ".join(f.value for f in card.fields)


async def test_a_page_past_the_last_says_it_is_the_last(ctx: Context) -> None:
    """/search induction page:99 shows the last page (13 matches: 3 pages) and says so, instead
    of passing it off as the page asked for; a page that exists says nothing of the kind."""
    past = await say(ctx, ANN, "/search induction page:99")
    last = await say(ctx, ANN, "/search induction page:3")
    assert [str(line) for line in past.sections[0].lines] == [str(line) for line in last.sections[0].lines]
    assert past.footer and past.footer.startswith("Page 3 of 3")
    assert past.text == "There are only 3 pages; here is page 3."
    assert not last.text
    one = await say(ctx, ANN, "/search induction difficulty:easy page:5")
    assert one.footer and one.footer.startswith("Page 1 of 1")
    assert one.text.startswith("Read 'easy' as difficulty A") and one.text.endswith(
        "There is only 1 page; here it is."
    )


async def test_a_named_range_typed_out_in_words_is_the_whole_range(ctx: Context) -> None:
    """`/search circuits difficulty:b to c` (Slack, console) filtered at B alone and searched for
    "circuits to c" (13 matches where difficulty:B-C gives 41); `difficulty:easy to medium` read
    only "easy". A range after difficulty:, joined by "to" or a spaced dash, is the whole range,
    as difficulty:B-C is and as /random reads it; the next page keeps it."""
    wanted = await _listed(ctx, "circuits difficulty:B-C")
    for typed in ("b to c", "B to C", "b - c", "B – C"):
        reply = await say(ctx, ANN, f"/search circuits difficulty:{typed}")
        assert reply.title == "Search: circuits", (typed, reply.title)
        assert "difficulty B-C" in reply.text, (typed, reply.text)
        assert await _listed(ctx, f"circuits difficulty:{typed}") == wanted, typed
    words = await say(ctx, ANN, "/search circuits difficulty:easy to medium")
    assert words.title == "Search: circuits"
    assert words.text.startswith("Read 'easy to medium' as difficulty A-C (A is the easiest")
    assert await _listed(ctx, "circuits difficulty:easy to medium") == await _listed(
        ctx, "circuits difficulty:A-C"
    )
    assert words.footer and words.footer.endswith("/search query:circuits difficulty:A-C page:2")
    # "through" joins a range as "to" does ("induction through c" at B alone before).
    through = await say(ctx, ANN, "/search circuits difficulty:b through c")
    assert through.title == "Search: circuits" and through.text.startswith(
        "Read 'B through C' as difficulty B-C"
    )
    # Words after a level that make no range stay words of the query.
    reply = await say(ctx, ANN, "/search difficulty:A to find circuits")
    assert reply.title == "Search: to find circuits"


async def test_two_levels_joined_by_to_ending_a_search_are_its_words(ctx: Context) -> None:
    """`/search mapping A to B` answered "Nothing matches 'mapping' at difficulty A-B": "A to B"
    ending a search was read as a level range, though in a search it is far more often words
    (mapping A to B, from A to B). Joined by "to" the letters are searched for, and the answer
    names the search that filters by them when that finds something; a range joined by a dash
    (`induction A - B`, `A–B`) is still the level, and a letter after "to" is no level alone
    (`induction a to B` filtered at B and searched for "induction a to")."""
    mapping = await say(ctx, ANN, "/search mapping A to B")
    assert not mapping.error and mapping.title == "Search: mapping A to B", mapping.text
    assert _numbers(mapping) and "difficulty" not in mapping.text
    reply = await say(ctx, ANN, "/search induction B to C")
    assert reply.text == (
        "Nothing matches 'induction B to C'. "
        "Searched 'B to C' as words; for difficulty B-C: /search induction difficulty:B-C (12 matches)."
    )
    assert await _listed(ctx, "induction B-C") == await _listed(ctx, "induction difficulty:B-C")
    assert len(await _listed(ctx, "induction B-C")) == 12
    lower = await say(ctx, ANN, "/search induction a to B")
    assert lower.title == "Search: induction a to B" and "difficulty" not in lower.text


async def test_the_search_by_level_named_for_two_levels_joined_by_to_runs_the_same_on_discord(
    ctx: Context,
) -> None:
    """A Discord member searching "induction B to C" (the query field) was told "for difficulty
    B-C: /search induction B-C (12 matches)". On Discord the query is a field of its own whose
    words are all searched for, so typing that search there looked for the words "induction B-C"
    and listed none of those 12. The search is named with its difficulty option, as the answer's
    other suggestions are: it lists the 12 it counts typed on Slack or in the console and given
    as Discord's fields alike."""
    typed = await say(ctx, ANN, "/search induction B to C")
    fields = await dispatch.run_named(ctx, ANN, "search", {"query": "induction B to C"})
    for reply in (typed, fields):
        assert reply.text == (
            "Nothing matches 'induction B to C'. "
            "Searched 'B to C' as words; for difficulty B-C: /search induction difficulty:B-C (12 matches)."
        ), reply.text
    named = await dispatch.run_named(ctx, ANN, "search", {"query": "induction", "difficulty": "B-C"})
    listed = await _listed(ctx, "induction difficulty:B-C")
    assert len(listed) == 12 and _numbers(named) == listed[: len(_numbers(named))]
    # The old suggestion as a Discord member types it: its words, none of the 12 problems.
    bare = await dispatch.run_named(ctx, ANN, "search", {"query": "induction B-C"})
    assert set(_numbers(bare)).isdisjoint(listed)


async def test_the_search_by_level_follows_the_category_said_with_one_space(ctx: Context) -> None:
    """Matches in a category, with the search by level for "B to C": the answer read "Only
    problems in Toy Language Models.  Searched 'B to C'…", two spaces where the page note (none
    on the first page) stood between them."""
    reply = await say(ctx, ANN, "/search neurons B to C category:1")
    assert reply.title == "Search: neurons B to C" and _numbers(reply), reply.text
    assert reply.text == (
        "Only problems in Toy Language Models. Searched 'B to C' as words; for difficulty B-C: "
        '/search neurons difficulty:B-C category:"Toy Language Models" (8 matches).'
    ), reply.text


@pytest.mark.parametrize(
    "typed",
    [
        "induction difficulty: A",  # searched for "induction difficulty: A" as words before
        "induction difficulty A",  # these for "induction difficulty" (or "level") at A: nothing
        "induction level A",
        "induction lvl A",
        "induction level A-A",
    ],
)
async def test_a_level_named_with_a_space_or_a_word_before_it_is_the_level(ctx: Context, typed: str) -> None:
    """`difficulty: A`, with the space after the colon people type, searched the words
    "difficulty: A"; `induction level A` looked for "induction level" at A and found nothing.
    The level after `difficulty:` and a space is the level, and "level" or "difficulty" before a
    search's level goes with it."""
    reply = await say(ctx, ANN, f"/search {typed}")
    assert reply.title == "Search: induction", (typed, reply.title, reply.text)
    assert "difficulty A" in reply.text, reply.text
    assert await _listed(ctx, typed) == await _listed(ctx, "induction difficulty:A")
    ranged = await say(ctx, ANN, "/search induction difficulty: b to c")
    assert ranged.title == "Search: induction" and ranged.text.startswith("Read 'B to C' as difficulty B-C")


@pytest.mark.parametrize(
    "typed",
    [
        "induction C-B",
        "induction C - B",
        "induction C–B",
        "induction difficulty:c-b",
        "induction difficulty:c - b",
        # A dash spaced on one side: "induction" searched at every level, nothing said.
        "induction C -B",
        "induction C- B",
    ],
)
async def test_a_range_written_backwards_is_read_as_its_span(ctx: Context, typed: str) -> None:
    """`/search induction difficulty:c to b` searched B-C while `difficulty:c - b`, `c-b` and
    `induction C - B` were refused ("'C-B' is not a difficulty"): a range written from the harder
    level is read as the span between them however it is joined, and the answer says so."""
    reply = await say(ctx, ANN, f"/search {typed}")
    assert reply.title == "Search: induction", (typed, reply.text)
    shown = typed.split(":")[-1].removeprefix("induction ").upper()
    assert reply.text.startswith(f"Read {shown!r} as difficulty B-C (A is the easiest level"), reply.text
    assert await _listed(ctx, typed) == await _listed(ctx, "induction difficulty:B-C")
    # As Discord's typed options give it.
    named = await dispatch.run_named(ctx, ANN, "search", {"query": "induction", "difficulty": "c-b"})
    assert named.text.startswith("Read 'C-B' as difficulty B-C") and _numbers(named) == _numbers(reply)


async def test_a_category_typed_full_width_is_the_category(ctx: Context) -> None:
    """`/search induction category:ｃｉｒｃｕｉｔｓ` (a CJK input method's full-width letters)
    answered "No category 'ｃｉｒｃｕｉｔｓ'" though the query's own words are folded (NFKC); the
    category is read as plain letters are, and so is a full-width section number."""
    plain = await _listed(ctx, "induction category:circuits")
    assert plain and await _listed(ctx, "induction category:ｃｉｒｃｕｉｔｓ") == plain
    assert await _listed(ctx, "induction category:２") == plain
    reply = await say(ctx, ANN, "/search induction category:ＣＩＲＣＵＩＴＳ")
    assert reply.text == "Only problems in Circuits In The Wild."


async def test_the_level_a_search_suggests_finds_what_it_counts(ctx: Context) -> None:
    """`/search easy medium induction` suggested "/search induction difficulty:easy (13
    matches)", counting the A-C span of both words while the search it named finds the A one
    alone. Several words for a level are named as their span; a span typed with a dash
    (`difficulty:easy-medium`) is read as that span, not refused as "'EASY-MEDIUM' is not a
    difficulty"."""
    for query in ("easy medium induction", "easy to medium induction"):
        reply = await say(ctx, ANN, f"/search {query}")
        hint = "For a level, name it: /search induction difficulty:A-C (13 matches)."
        assert reply.text.endswith(hint), reply.text
        assert "(13 matches)." in (await say(ctx, ANN, "/search induction difficulty:A-C")).footer
    spanned = await say(ctx, ANN, "/search induction difficulty:easy-medium")
    assert spanned.text.startswith("Read 'easy-medium' as difficulty A-C")
    assert await _listed(ctx, "induction difficulty:easy-medium") == await _listed(
        ctx, "induction difficulty:A-C"
    )


async def test_a_link_finds_the_problems_that_list_that_work(ctx: Context) -> None:
    """A member pasted a paper's link to see whether someone had done it: 3.11's existing work
    lists https://arxiv.org/pdf/2402.16726.pdf, yet /search of that very link said "Nothing
    matches … Did you mean 2023?" (its words: links in existing work are not indexed). A link
    finds the problems whose existing work names the same work, as /submit compares links (its
    abs page, an approved link with tracking parameters); one nobody lists says how to submit it."""
    mod = person("mo", moderator=True)
    await say(ctx, ANN, "/submit 2.4 https://example.org/acronyms?utm_source=x")
    pending = await say(ctx, mod, "/pending")
    assert pending.buttons[0].label == "Approve 2.4 #1"
    await dispatch.run_action(ctx, mod, pending.buttons[0].custom_id)

    for link, number in (
        ("https://arxiv.org/pdf/2402.16726.pdf", "3.11"),
        ("https://arxiv.org/abs/2402.16726", "3.11"),
        ("https://www.example.org/acronyms/", "2.4"),
    ):
        found = await say(ctx, ANN, f"/search {link}")
        assert [str(line).split(" — ")[0] for line in found.sections[0].lines] == [number], (link, found)
    unknown = await say(ctx, ANN, "/search https://example.org/nobody-lists-this")
    assert unknown.text == (
        "Nothing matches 'https://example.org/nobody-lists-this': no problem lists that work. If it "
        "tackles one, /submit NUMBER https://example.org/nobody-lists-this sends it to the moderators."
    )


async def test_a_link_nobody_lists_that_submit_would_refuse_is_not_suggested_for_submit(ctx: Context) -> None:
    """/search of a link nobody lists answered "If it tackles one, /submit NUMBER <link> sends it
    to the moderators." also for a link /submit refuses (one with a name before an @, which goes
    to another site than it reads as): the member did as told and was refused. It says why now,
    in /submit's words, and the suggested command is not given."""
    link = "https://arxiv.org@evil.example/abs/2402.16726"
    found = await say(ctx, ANN, f"/search {link}")
    assert "/submit NUMBER" not in found.text, found.text
    refused = await say(ctx, ANN, f"/submit 2.4 {link}")
    assert refused.error and "not to what comes before the @" in refused.text
    assert "not to what comes before the @" in found.text, found.text


async def test_a_link_that_opens_only_on_ones_own_computer_is_not_suggested_for_submit(ctx: Context) -> None:
    """/search http://localhost:8888/tree answered "If it tackles one, /submit NUMBER
    http://localhost:8888/tree sends it to the moderators.", and that /submit was refused: only
    its own computer opens it. The answer says so now, in /submit's words."""
    found = await say(ctx, ANN, "/search http://localhost:8888/tree")
    refused = await say(ctx, ANN, "/submit 2.4 http://localhost:8888/tree")
    assert refused.error and "only opens on your own computer or network" in refused.text
    assert "/submit NUMBER" not in found.text, found.text
    assert found.text.endswith(f"/submit would not take it: {refused.text}"), found.text


async def test_a_link_is_read_as_submit_reads_it_in_chat_markup_or_a_sentence(ctx: Context) -> None:
    """/search of 3.1's repository with a comma after it (pasted from a sentence), or of a link
    in Slack's <…|label> markup, found nothing and suggested /submit of the link with its comma or
    its |label: /search read it as typed, where /submit leaves both out."""
    repo = "https://github.com/MatthewBaggins/one-attention-head-is-all-you-need"
    for typed in (f"{repo},", f"<{repo}|the repo>"):
        found = await say(ctx, ANN, f"/search {typed}")
        assert [str(line).split(" — ")[0] for line in found.sections[0].lines] == ["3.1"], (typed, found)
    unknown = await say(ctx, ANN, "/search <https://example.org/nobody-lists-this|a post>")
    assert unknown.text.endswith(
        "If it tackles one, /submit NUMBER https://example.org/nobody-lists-this sends it to the moderators."
    ), unknown.text


async def test_a_query_over_two_lines_is_the_same_search_on_one(ctx: Context) -> None:
    """`/search induction` and `heads` on the next line (Slack takes a line break in a slash
    command; a query pasted so) searched the same words, but its title ran over two lines, its
    footer's Next was 'query:induction' then 'heads page:2' on a line of its own (unquoted, a
    command no one could type), and it had no Next button. It is now the one-line search."""
    two_lines = await say(ctx, ANN, "/search induction\nheads")
    one_line = await say(ctx, ANN, "/search induction heads")
    assert two_lines.title == one_line.title == "Search: induction heads", two_lines.title
    assert two_lines.footer == one_line.footer and 'Next: /search query:"induction heads" page:2' in str(
        two_lines.footer
    ), two_lines.footer
    assert [b.custom_id for b in two_lines.buttons] == [b.custom_id for b in one_line.buttons]


# A level and no words, as typed | the level | how the answer says it read them.
LEVEL_ALONE = [
    "difficulty:A | A |",
    "A | A |",
    "level A | A |",
    "A - B | A-B |",
    "A B | A-B | Read 'A B' as difficulty A-B",
    "difficulty: easy | A | Read 'easy' as difficulty A",
]


@pytest.mark.parametrize("case", LEVEL_ALONE)
async def test_a_level_and_no_words_lists_the_problems_at_that_level(ctx: Context, case: str) -> None:
    """`/search difficulty:A`, `/search A - B`, `/search level A`, `/search difficulty: easy` (a
    level, no words) answered "/search needs query": a member giving only a level wants a
    problem at that level. The answer lists the problems there, a page at a time, and names the
    /random that picks one of them."""
    typed, level, said = (part.strip() for part in case.split("|"))
    reply = await say(ctx, ANN, f"/search {typed}")
    assert not reply.error, reply.text
    assert reply.text.startswith(said), reply.text
    assert reply.text.endswith(
        f"No words to search for: every problem at difficulty {level}, in the catalogue's order. "
        f"One picked at random: /random difficulty:{level}"
    ), reply.text
    every = [p.number for p in await ctx.store.catalogue() if difficulty_matches(p.difficulty, level)]
    listed, page = _numbers(reply), 1
    while reply.footer and "Next: " in reply.footer:
        # The next page as the footer writes it, typed as it stands.
        reply = await say(ctx, ANN, reply.footer.split("Next: ")[1])
        listed += _numbers(reply)
        page += 1
    assert listed == every and page > 1
    # The /random it names picks at that level.
    picked = await say(ctx, ANN, f"/random difficulty:{level}")
    assert picked.difficulty and difficulty_matches(picked.difficulty, level)


async def test_a_level_alone_in_discords_query_field_lists_its_problems(ctx: Context) -> None:
    """On Discord the level may be given with no query at all, or typed in the query field
    (`A`, `level A`: "those words are in nearly every problem" before): both list the problems
    at that level. With nothing at all, the answer asks for words."""
    for fields in ({"difficulty": "A"}, {"query": "A"}, {"query": "level A"}):
        reply = await dispatch.run_named(ctx, ANN, "search", fields)
        assert reply.title == "Problems at difficulty A", (fields, reply.title, reply.text)
    reply = await dispatch.run_named(ctx, ANN, "search", {})
    assert reply.error and reply.text == "Search for some words, e.g. /search induction heads"


async def test_two_levels_side_by_side_ending_a_search_are_the_range(ctx: Context) -> None:
    """`/search induction A B` filtered at B and searched for "induction A", while /random reads
    `A B` as the range A-B. Two capital levels side by side ending a search are the range too,
    either way round, the answer saying how it read them; joined by "to" they stay words."""
    wanted = await _listed(ctx, "induction difficulty:A-B")
    for typed in ("A B", "B A"):
        reply = await say(ctx, ANN, f"/search induction {typed}")
        assert reply.title == "Search: induction", (typed, reply.title)
        assert reply.text.startswith(f"Read {typed!r} as difficulty A-B (A is the easiest level"), reply.text
        assert await _listed(ctx, f"induction {typed}") == wanted, typed
    reply = await say(ctx, ANN, "/search mapping A to B")
    assert reply.title == "Search: mapping A to B"


async def test_a_level_read_from_words_and_no_words_is_said_with_single_spaces(ctx: Context) -> None:
    """`/search B-A`, `/search from A to B`, `/search difficulty:easy page:9` answered "Read 'B-A'
    as difficulty A-B (…).  No words to search for…": two spaces where the level's reading met
    the listing. One space between the sentences, however many there are."""
    for line, start in (
        ("/search B-A", "Read 'B-A' as difficulty A-B ("),
        ("/search from A to B", "Read 'A to B' as difficulty A-B ("),
        ("/search difficulty:easy page:9", "Read 'easy' as difficulty A ("),
    ):
        reply = await say(ctx, ANN, line)
        assert not reply.error and reply.text.startswith(start), (line, reply.text)
        assert "  " not in reply.text, (line, reply.text)
        assert "No words to search for: every problem at difficulty" in reply.text, (line, reply.text)
    paged = await say(ctx, ANN, "/search difficulty:easy page:9")
    said = "like A-B). There are only 4 pages; here is page 4. No words to search for"
    assert said in paged.text, paged.text


async def test_a_category_with_a_typo_in_a_word_of_its_name_is_that_category(ctx: Context) -> None:
    """`/search heads category:circuts` (one letter left out of "circuits") answered "No
    category 'circuts'", though `category:toy modles` was read as Toy Language Models: a typo
    in the one word typed of a longer name fell short of the whole-name comparison. Each word
    within a typo of a word of one category's name is that category; a word near none is still
    refused."""
    for typed in ("circuts", "circiuts", "cricuits wild"):
        reply = await say(ctx, ANN, f'/search heads category:"{typed}"')
        assert not reply.error, (typed, reply.text)
        assert reply.text == "Only problems in Circuits In The Wild.", (typed, reply.text)
        assert _numbers(reply) == _numbers(await say(ctx, ANN, "/search heads category:2"))
    reply = await say(ctx, ANN, "/search heads category:polysemantcity")
    assert reply.text.startswith("Nothing matches 'heads' in Exploring Polysemanticity and Superposition.")
    refused = await say(ctx, ANN, "/search heads category:astrology")
    assert refused.error and refused.text.startswith("No category 'astrology'. Categories:")


async def test_a_level_typed_in_lower_case_names_the_search_by_level(ctx: Context) -> None:
    """A newcomer after the B-C problems typed `/search b-c` and was told "Nothing matches
    'b-c'. On its own, 'b' matches 1 problem: /search b"; `/search a–b` listed four problems
    for the letters a and b in their text, `/search a` that "Those words are in nearly every
    problem". A search reads only capitals as levels (`A harder example…`, `Ax + b`), so
    these are still words, but the answer names the listing of that level, with its count."""
    every = {
        level: sum(1 for p in await ctx.store.catalogue() if difficulty_matches(p.difficulty, level))
        for level in ("A", "B", "A-B", "B-C")
    }
    nothing = await say(ctx, ANN, "/search b-c")
    assert nothing.text == (
        f"Nothing matches 'b-c'. For difficulty B-C: /search difficulty:B-C ({every['B-C']} problems)."
    ), nothing.text
    # A word for that level, as /random reads it, said only "Try fewer or other words".
    medium = await say(ctx, ANN, "/search medium")
    assert medium.text == nothing.text.replace("'b-c'", "'medium'"), medium.text
    listed = await say(ctx, ANN, "/search difficulty:B-C")
    assert listed.footer and f"({every['B-C']} problems)" in listed.footer
    words = await say(ctx, ANN, "/search a–b")
    assert not words.error and _numbers(words)  # the letters' matches, as before
    assert words.text == f"For difficulty A-B: /search difficulty:A-B ({every['A-B']} problems).", words.text
    single = await say(ctx, ANN, "/search b")
    assert single.text == f"For difficulty B: /search difficulty:B ({every['B']} problems).", single.text
    refused = await say(ctx, ANN, "/search a")
    assert refused.error and refused.text.endswith(
        f"For difficulty A: /search difficulty:A ({every['A']} problems)."
    ), refused.text
    # In a category, counted there and named with it.
    in_two = await say(ctx, ANN, "/search b-c category:2")
    assert 'For difficulty B-C: /search difficulty:B-C category:"Circuits In The Wild" (' in in_two.text


async def test_search_unclaimed_lists_only_problems_nobody_is_working_on(ctx: Context) -> None:
    """`/search induction unclaimed` is /search induction less the problems someone holds a claim
    on (as /random unclaimed counts them), says so, and its next page keeps the filter; a claim
    made now drops its problem from the list. Before, "unclaimed" was searched as a word."""
    everything = await _listed(ctx, "induction")
    claimed = await ctx.store.claimed_numbers()
    assert claimed & set(everything)  # the seed has claimed induction problems
    free = await _listed(ctx, "induction unclaimed")
    assert free == [n for n in everything if n not in claimed]
    first = await say(ctx, ANN, "/search induction unclaimed")
    assert first.title == "Search: induction (unclaimed)"
    assert first.footer and f"({len(free)} unclaimed matches)" in first.footer
    assert "Only problems nobody is working on." in first.text
    if len(free) > ctx.page_size:
        assert first.footer.endswith("Next: /search query:induction unclaimed page:2")
    assert not (await say(ctx, ANN, f"/claim {free[0]}")).error
    assert await _listed(ctx, "induction unclaimed") == free[1:]
    named = await say(ctx, ANN, "/search query:induction unclaimed:yes")
    assert _numbers(named) == _numbers(await say(ctx, ANN, "/search induction unclaimed"))


async def test_search_unclaimed_when_every_match_is_claimed_says_so(ctx: Context) -> None:
    """Every match claimed: the answer says how many there are and how to see them, as /random
    unclaimed does, not that nothing matches the words."""
    assert "2.4" in await ctx.store.claimed_numbers()
    reply = await say(ctx, ANN, "/search 2.4 unclaimed")
    assert reply.private and not reply.sections
    assert (
        reply.text == "The one matching problem is claimed; try other filters, or /search without unclaimed."
    )


async def test_search_unclaimed_with_no_words_lists_the_free_problems(ctx: Context) -> None:
    """`/search unclaimed difficulty:D` lists the D problems nobody is working on, and its
    /random picks among them."""
    claimed = await ctx.store.claimed_numbers()
    level = [p.number for p in await ctx.store.catalogue() if difficulty_matches(p.difficulty, "D")]
    reply = await say(ctx, ANN, "/search unclaimed difficulty:D")
    assert _numbers(reply) == [n for n in level if n not in claimed][: ctx.page_size]
    assert reply.title == "Problems at difficulty D nobody is working on"
    assert reply.text.endswith("One picked at random: /random difficulty:D unclaimed")


@pytest.mark.parametrize("typed", ["page 2", "Page 2", "page2"])
async def test_search_ending_in_page_n_shows_that_page(ctx: Context, typed: str) -> None:
    """`/search induction heads page 2` searched the words "page 2" (no problem has the word
    page): now it is page 2 of /search induction heads, as `page:2` is."""
    named = await say(ctx, ANN, "/search induction heads page:2")
    typed_out = await say(ctx, ANN, f"/search induction heads {typed}")
    assert typed_out.title == "Search: induction heads"
    assert typed_out.footer and typed_out.footer.startswith("Page 2 of ")
    assert _numbers(typed_out) == _numbers(named)
    assert _numbers(typed_out) != _numbers(await say(ctx, ANN, "/search induction heads"))


async def test_search_ending_in_a_page_beyond_the_bounds_says_so(ctx: Context) -> None:
    """`page 0` ending a search is refused as page:0 is; with page: named, the words are words."""
    refused = await say(ctx, ANN, "/search induction heads page 0")
    assert refused.error and refused.text == (await say(ctx, ANN, "/search induction heads page:0")).text
    both = await say(ctx, ANN, "/search induction heads page 3 page:1")
    assert both.title == "Search: induction heads page 3"


@pytest.mark.parametrize(
    "typed",
    ["A page 2", "A page2", "level A page 2", "A page:2", "page 2 A", "A page 2 category:2", "A - B page 2"],
)
async def test_a_level_before_a_trailing_page_n_is_the_level(ctx: Context, typed: str) -> None:
    """`/search model A page 2` searched for "model A" at every level: the level was read
    only from the very last word, here "2". A level typed just before `page N` is the level, as
    it is typed last (`/search model A` with page:2)."""
    ctx = dataclasses.replace(ctx, page_size=1)  # a page 2 in the category too
    level = "A-B" if "B" in typed else "A"
    category = " category:2" if "category" in typed else ""
    named = await say(ctx, ANN, f"/search model difficulty:{level}{category} page:2")
    reply = await say(ctx, ANN, f"/search model {typed}")
    assert named.footer and named.footer.startswith("Page 2 of "), (typed, named.text)
    assert reply.title == "Search: model", (typed, reply.title)
    assert reply.text == named.text, (typed, reply.text)
    assert reply.footer == named.footer, (typed, reply.footer)
    assert _numbers(reply) == _numbers(named), typed


async def test_a_capital_word_before_page_n_inside_the_words_stays_a_word(ctx: Context) -> None:
    """Only a level typed last (before `page N`) is one: `A harder example … page 2` searches for
    its capital A, as it does without the page."""
    words = "A harder example would be numbers at the start of lines"
    whole = await say(ctx, ANN, f"/search {words}")
    reply = await say(ctx, ANN, f"/search {words} page 1")
    assert reply.title == whole.title and reply.title.startswith("Search: A harder example")
    assert reply.text == whole.text and _numbers(reply) == _numbers(whole) != []


@pytest.mark.parametrize(
    "typed",
    [
        "A unclaimed",
        "A unclaimed page 2",
        "A page 2 unclaimed",
        "level A unclaimed",
        "A - B unclaimed",
        "A unclaimed category:2",
    ],
)
async def test_a_level_before_a_trailing_flag_word_is_the_level(ctx: Context, typed: str) -> None:
    """`/search model A unclaimed` searched for "model A" at every level: the level was read only
    from the very last word, here the flag "unclaimed". A level followed only by flag words (and a
    `page N`) is the level, as it is typed last (`/search model A` with unclaimed)."""
    ctx = dataclasses.replace(ctx, page_size=1)  # a page 2 in the category too
    level = "A-B" if "B" in typed else "A"
    category = " category:2" if "category" in typed else ""
    page = " page:2" if "page" in typed else ""
    named = await say(ctx, ANN, f"/search model difficulty:{level}{category} unclaimed{page}")
    reply = await say(ctx, ANN, f"/search model {typed}")
    assert named.title == "Search: model (unclaimed)" and _numbers(named), (typed, named.text)
    assert reply.title == named.title, (typed, reply.title)
    assert reply.text == named.text, (typed, reply.text)
    assert reply.footer == named.footer, (typed, reply.footer)
    assert _numbers(reply) == _numbers(named), typed


async def test_a_capital_word_before_a_flag_inside_the_words_stays_a_word(ctx: Context) -> None:
    """Only a level typed last (before flag words) is one: `A harder example … unclaimed`
    searches for its capital A, as it does without the flag; so does `mapping A to B unclaimed`
    for its "A to B"."""
    words = "A harder example would be numbers at the start of lines"
    whole = await say(ctx, ANN, f"/search {words} unclaimed")
    assert whole.title == f"Search: {words} (unclaimed)", whole.title
    mapping = await say(ctx, ANN, "/search mapping A to B unclaimed")
    assert mapping.title == "Search: mapping A to B (unclaimed)", mapping.title


@pytest.mark.parametrize(
    "typed",
    ["model A unclaimed unclaimed", "unclaimed model A unclaimed", "model unclaimed A unclaimed page 1"],
)
async def test_a_flag_typed_twice_is_the_flag(ctx: Context, typed: str) -> None:
    """`/search model A unclaimed unclaimed` searched for the words "model A unclaimed": the
    second "unclaimed" was a word (and hid the level A before it). Typed again, the flag is still
    the flag: the same search as `/search model A unclaimed`; quoted, it is a word."""
    once = await say(ctx, ANN, "/search model A unclaimed")
    assert once.title == "Search: model (unclaimed)" and _numbers(once)
    reply = await say(ctx, ANN, f"/search {typed}")
    assert reply.title == once.title, (typed, reply.title)
    assert reply.text == once.text and reply.footer == once.footer, typed
    assert _numbers(reply) == _numbers(once), typed
    quoted = await say(ctx, ANN, '/search model unclaimed "unclaimed"')
    assert quoted.text.startswith("Nothing matches 'model \"unclaimed\"'."), quoted.text


@pytest.mark.parametrize(
    ("typed", "quoted"),
    [
        ("heads category:circuits in the wild", 'heads category:"circuits in the wild"'),
        ("heads category:CIRCUITS IN THE WILD unclaimed", 'heads category:"Circuits In The Wild" unclaimed'),
        ("heads category:círcuits in the wild", 'heads category:"circuits in the wild"'),
        ("category:toy language models neurons", 'neurons category:"toy language models"'),
        ("category:toy language models neurons A page 2", 'neurons category:"toy language models" A page:2'),
        ("category:circuits in the wild", 'category:"circuits in the wild"'),
        ("query:heads category:circuits in the wild", 'heads category:"circuits in the wild"'),
    ],
)
async def test_a_category_name_of_several_words_needs_no_quotes(
    ctx: Context, typed: str, quoted: str
) -> None:
    """`/search heads category:circuits in the wild` searched for "heads in the wild" in the
    category read from "circuits" alone; alone, `/search category:circuits in the wild` was
    refused ("Those words are in nearly every problem"). The words after category: that spell a
    category's full name (in any case, accents aside) are that category, as quoted; the words
    after it are words to search for."""
    ctx = dataclasses.replace(ctx, page_size=2)  # a page 2 of neurons in Toy Language Models
    want = await say(ctx, ANN, f"/search {quoted}")
    assert not want.error and _numbers(want), (quoted, want.text)
    reply = await say(ctx, ANN, f"/search {typed}")
    assert (reply.title, reply.text, reply.footer) == (want.title, want.text, want.footer), typed
    assert _numbers(reply) == _numbers(want), typed


@pytest.mark.parametrize(
    ("typed", "read_as"),
    [
        ("category:circuits induction heads", "induction heads category:circuits"),
        ("heads category:circuits in", "heads in category:circuits"),  # a name's start only
        ("heads category:2 in the wild", "heads in the wild category:2"),
    ],
)
async def test_words_after_a_category_that_spell_no_name_are_searched_for(
    ctx: Context, typed: str, read_as: str
) -> None:
    """Words after `category:circuits` that do not complete a category's name are searched for,
    as before: `category:circuits induction heads` is induction heads in Circuits In The Wild."""
    want = await say(ctx, ANN, f"/search {read_as}")
    reply = await say(ctx, ANN, f"/search {typed}")
    assert (reply.title, reply.text, reply.footer) == (want.title, want.text, want.footer), typed
    assert _numbers(reply) == _numbers(want), typed


def _turns(reply: Reply) -> dict[str, str]:
    """The Previous and Next buttons under a page of results: label → button id."""
    return {b.label: b.custom_id for b in reply.buttons if b.label in ("Previous", "Next")}


@pytest.mark.parametrize(
    "typed", ["induction", "heads category:circuits in the wild unclaimed", "difficulty:easy"]
)
async def test_next_and_previous_buttons_turn_the_pages(ctx: Context, typed: str) -> None:
    """A page of results said "Next: /search query:induction page:2" and had no button for it: a
    newcomer had to copy the line. Under each page are Next (but on the last) and Previous (but on
    the first), showing what the typed Next line shows, filters kept, and the page before."""
    first = await say(ctx, ANN, f"/search {typed}")
    assert first.footer and " Next: /search" in first.footer and list(_turns(first)) == ["Next"], typed
    second = await dispatch.run_action(ctx, ANN, _turns(first)["Next"])
    typed_next = await say(ctx, ANN, first.footer.split(" Next: ")[1])
    assert second.private and second.footer and second.footer.startswith("Page 2 of "), second.text
    assert (second.title, second.text, second.footer) == (
        typed_next.title,
        typed_next.text,
        typed_next.footer,
    )
    assert _numbers(second) == _numbers(typed_next) != _numbers(first)
    assert list(_turns(second)) == ["Previous", "Next"]
    back = await dispatch.run_action(ctx, ANN, _turns(second)["Previous"])
    assert _numbers(back) == _numbers(first) and back.footer == first.footer
    last = second
    while "Next" in _turns(last):
        last = await dispatch.run_action(ctx, ANN, _turns(last)["Next"])
    assert list(_turns(last)) == ["Previous"] and last.footer and " Next: " not in last.footer


async def test_a_search_too_long_for_a_button_keeps_its_next_line(ctx: Context) -> None:
    """Words too many for a button's id (a platform carries 100 characters): no Next button, the
    footer's Next line still names the next page; one page of results has no Previous or Next."""
    ctx = dataclasses.replace(ctx, page_size=1)
    words = "induction heads in attention only models with many layers and some extra words " * 2
    reply = await say(ctx, ANN, f"/search {words.strip()}")
    assert reply.footer and " Next: /search" in reply.footer and _turns(reply) == {}
    one = await say(ctx, ANN, "/search acronyms")
    assert one.footer and one.footer.startswith("Page 1 of 1") and _turns(one) == {}
