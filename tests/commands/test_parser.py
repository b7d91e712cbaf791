"""The one argument parser: every spelling the issue names, and clear errors for the rest."""

from __future__ import annotations

import pytest

from commands import parser
from commands.parser import Kind, Option, parse_difficulty, parse_line, parse_number
from commands.registry import COMMANDS
from commands.types import BadArgument, Context, UserRef
from storage.models import ID_LENGTH
from tests.support.transcript import person, say, shown

ADMIN = person("boss", admin=True)


def args(command: str, line: str) -> dict[str, object]:
    """Parse ``line`` as the arguments of ``command``."""
    return parse_line(COMMANDS[command].options, line, command)


@pytest.mark.parametrize(
    "raw",
    [
        "2.4",
        " 2.4 ",
        "#2.4",
        "# 2.4",
        "２.４",
        "02.04",
        "2,4",
        "2.4.",
        "2.4,",
        "2.4)",
        "2.4:",
        "#2,4.",
        "problem 2.4",
    ],
)
def test_number_spellings_all_mean_2_4(raw: str) -> None:
    """Every way people write a problem number reads as 2.4: a decimal comma, the full stop or
    comma of a sentence it ends (``/claim 2.4.``), and the word "problem" before it."""
    assert parse_number(raw) == "2.4"


@pytest.mark.parametrize(
    ("raw", "expected"), [("2.40", "2.40"), ("2.40.", "2.40"), ("2,40", "2.40"), ("2.040", "2.40")]
)
def test_a_trailing_zero_is_a_number_of_its_own(raw: str, expected: str) -> None:
    """2.40 is not 2.4 (the catalogue has 2.1 and 2.10): only a mark after the digits goes."""
    assert parse_number(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "2", "2.", "two", "2.4.1", "2.4..", "2,4,5", "2.4).", "'; DROP TABLE problem;--", "9" * 10_000],
)
def test_bad_numbers_say_how_to_write_one(raw: str) -> None:
    """Anything else gets an error showing the right form, never the whole input."""
    with pytest.raises(BadArgument, match="write it like 2.4") as err:
        parse_number(raw)
    assert len(str(err.value)) < 120


@pytest.mark.parametrize(("raw", "expected"), [("A", "A"), ("a", "A"), ("b-c", "B-C"), (" C - D ", "C-D")])
def test_difficulties(raw: str, expected: str) -> None:
    """Levels and ranges in any case."""
    assert parse_difficulty(raw) == expected


@pytest.mark.parametrize("raw", ["E", "B-A", "A-A", "easy", ""])
def test_bad_difficulties(raw: str) -> None:
    """Unknown levels and backwards ranges are refused with the scale explained."""
    with pytest.raises(BadArgument, match="A \\(easiest\\)"):
        parse_difficulty(raw)


def test_random_reads_bare_and_named_options() -> None:
    """`/random A`, `difficulty:a`, a quoted category and the unclaimed flag."""
    assert args("random", "A") == {"difficulty": "A"}
    assert args("random", "difficulty:a") == {"difficulty": "A"}
    assert args("random", 'category:"circuits in the wild"') == {"category": "circuits in the wild"}
    assert args("random", "unclaimed B circuits in the wild") == {
        "difficulty": "B",
        "unclaimed": True,
        "category": "circuits in the wild",
    }


def test_search_keeps_words_and_only_capital_letters_are_levels() -> None:
    """In a query "a" is a word; a named difficulty still filters."""
    assert args("search", "a circuit") == {"query": "a circuit"}
    assert args("search", "induction heads difficulty:b page:2") == {
        "query": "induction heads",
        "difficulty": "B",
        "page": 2,
    }


def test_a_capital_letter_inside_a_search_is_a_word_not_a_level() -> None:
    """A pasted sentence ("A harder example would be…", "…where A and b are…") lost its "A" to the
    difficulty filter: a bare level filters a search only as its last word."""
    for sentence in ("A harder example would be numbers", "where A and b are different"):
        assert args("search", sentence) == {"query": sentence}
    assert args("search", "induction heads B-C page:2") == {
        "query": "induction heads",
        "difficulty": "B-C",
        "page": 2,
    }
    assert args("search", "induction A") == {"query": "induction", "difficulty": "A"}


def test_release_note_takes_the_rest_of_the_line() -> None:
    """`/release 3.11 tried X, stuck on Y` keeps the note as written."""
    assert args("release", "3.11 tried X, stuck on Y") == {"number": "3.11", "note": "tried X, stuck on Y"}
    assert args("release", '#3.11 note:"tried X"') == {"number": "3.11", "note": "tried X"}


@pytest.mark.parametrize(
    ("command", "line", "expected"),
    [
        ("claim", "number: 2.4", {"number": "2.4"}),
        ("history", "number: 2.4 page: 2", {"number": "2.4", "page": 2}),
        ("problem", "number:  2.4 all", {"number": "2.4", "all": True}),
        (
            "submit",
            "number: 2.4 link: https://example.org/q",
            {"number": "2.4", "link": "https://example.org/q"},
        ),
        ("claims", "user: <@123456789012345678>", {"user": UserRef("123456789012345678", None)}),
        ("setup", "stale_days: 20", {"stale_days": 20}),
        ("setup", "reset: max_claims", {"reset": "max_claims"}),
        # Not what the option can hold, or the free text's own name: words, as before.
        ("release", "3.11 Note: tried X", {"number": "3.11", "note": "Note: tried X"}),
        ("release", "3.11 see number: 2.4", {"number": "3.11", "note": "see number: 2.4"}),
        (
            "submit",
            "2.4 https://example.org/p page: 2 of it",
            {"number": "2.4", "link": "https://example.org/p", "note": "page: 2 of it"},
        ),
    ],
)
def test_a_space_after_an_options_colon_still_names_it(
    command: str, line: str, expected: dict[str, object]
) -> None:
    """`/claim number: 2.4` (the space people type after a colon) answered "I don't understand
    '2.4'", `/submit number: 2.4 link: https://…` kept "number: link:" as its note, where
    `difficulty: b` was read as difficulty:b: a value only that option could hold, typed after
    its name and a space, is its value."""
    assert args(command, line) == expected


@pytest.mark.parametrize(
    ("line", "note"),
    [
        ("tried it, see 2.4. 3.11", "tried it, see 2.4."),
        ("see 2,4 3.11", "see 2,4"),
        ("like 2.4: 3.11 also 2.5)", "like 2.4: also 2.5)"),
        ("3.11 see 2.4.", "see 2.4."),
        ("see 2.4. #3.11", "see 2.4."),
    ],
)
def test_a_number_written_plainly_is_the_number_before_one_a_sentence_ends(line: str, note: str) -> None:
    """`/release tried it, see 2.4. 3.11` releases 3.11: `2.4.`, `2,4` are the note's, as
    written, when a plain number is in the line (2.4. was the number and 3.11 the note)."""
    assert args("release", line) == {"number": "3.11", "note": note}
    assert args("release", "tried it, see 2.4.") == {"number": "2.4", "note": "tried it, see"}


@pytest.mark.parametrize(
    ("command", "line", "one", "other"),
    [
        ("release", "see 3.11 and 2.4 stuck", "3.11", "2.4"),
        ("release", "tried it, see 2.4 3.11", "2.4", "3.11"),
        ("submit", "https://example.org/y see 2.4 and 3.1", "2.4", "3.1"),
    ],
)
def test_two_numbers_inside_a_note_ask_which_is_meant(command: str, line: str, one: str, other: str) -> None:
    """`/release see 3.11 and 2.4 stuck` released 3.11 and kept the note "see and 2.4 stuck": the
    first number in the sentence was taken and cut out of it. With two problem numbers written
    plainly in the note, and none before it, copbot asks which one."""
    with pytest.raises(BadArgument) as refused:
        args(command, line)
    assert str(refused.value).startswith(
        f"Which problem do you mean, {one} or {other}? Give its number first"
    )
    # Given first, the number is that one and the note keeps the others as written.
    assert args(command, f"{one} {line}")["note"] == line.removeprefix("https://example.org/y ")


@pytest.mark.parametrize(
    ("command", "line", "note"),
    [
        ("release", "3.11 Note: tried X, stuck on Y", "Note: tried X, stuck on Y"),
        ("release", "3.11 tried X. Note: stuck on Y", "tried X. Note: stuck on Y"),
        ("release", "3.11 tried X note:Y", "tried X note:Y"),
        ("release", "3.11 note:tried X, stuck on Y", "tried X, stuck on Y"),
        ("release", 'number:3.11 note:"tried X" then Y', "tried X then Y"),
        ("submit", "2.4 https://example.org/p Note: my blog post", "Note: my blog post"),
        ("submit", "2.4 https://example.org/p see number:3 of the post", "see number:3 of the post"),
        ("submit", "2.4 https://example.org/p mirror: link:https://x.org/q", "mirror: link:https://x.org/q"),
    ],
)
def test_words_that_look_like_options_stay_in_the_note(command: str, line: str, note: str) -> None:
    """A `name:` word that cannot be an option (nothing after the colon, an option already given,
    the note once begun) is part of the note as written; `note:tried X` starts the note."""
    assert args(command, line)["note"] == note


@pytest.mark.parametrize(
    ("command", "line", "option", "text"),
    [
        ("release", '3.11 tried the "max" trick, failed', "note", 'tried the "max" trick, failed'),
        ("release", '3.11 a 6" gap,  then   "more"', "note", 'a 6" gap,  then   "more"'),
        ("release", 'note:tried  "X" , then Y 3.11', "note", 'tried  "X" , then Y'),
        ("release", 'tried "X" 3.11 then "Y"', "note", 'tried "X" then "Y"'),
        (
            "submit",
            '2.2 https://example.org/a note with "quotes", commas',
            "note",
            'note with "quotes", commas',
        ),
        ("submit", '2.2 note:"as quoted"  https://example.org/a', "note", "as quoted"),
        (
            "search",
            '"induction heads", in  toy models difficulty:A',
            "query",
            '"induction heads", in  toy models',
        ),
        ("search", 'query:"two words" difficulty:A', "query", "two words"),
    ],
)
def test_free_text_is_kept_as_typed(command: str, line: str, option: str, text: str) -> None:
    """A note or query keeps its quotes, commas and spacing; a quoted named value is its words."""
    assert args(command, line)[option] == text


def test_named_options_still_work_beside_free_text() -> None:
    """Named options are read before, after and around the note, and after a search query."""
    assert args("release", "tried X number:3.11") == {"number": "3.11", "note": "tried X"}
    assert args("release", 'note:"tried X" number:3.11') == {"number": "3.11", "note": "tried X"}
    assert args("submit", 'number:2.4 link:https://example.org/p note:"mine"') == {
        "number": "2.4",
        "link": "https://example.org/p",
        "note": "mine",
    }
    assert args("search", "circuits category:2 difficulty:A") == {
        "query": "circuits",
        "category": "2",
        "difficulty": "A",
    }


def test_claims_reads_mentions_names_and_numbers() -> None:
    """Slack and Discord mentions, a plain name, or a problem number."""
    assert args("claims", "<@U123|ann>") == {"user": UserRef("U123", "ann")}
    assert args("claims", "<@!42>") == {"user": UserRef("42", None)}
    assert args("claims", "ann") == {"user": UserRef(None, "ann")}
    assert args("claims", "2.4") == {"number": "2.4"}


@pytest.mark.parametrize(
    ("command", "line", "message"),
    [
        ("problem", "", "/problem needs a problem number"),
        ("problem", "2.4 2.5", "/problem takes one problem at a time: /problem 2.4, then /problem 2.5."),
        ("problem", "2.4 please", "don't understand 'please'"),
        ("random", "difficulty:Z", "not a difficulty"),
        ("random", 'category:"open', "quote is not closed"),
        ("random", "A difficulty:B", "given twice"),
        ("search", "x" * 300, "at most 200"),
        ("problem", "x" * 5000, "too long"),
        ("claim", "colour:red", "not a problem number"),
        ("claims", "2.4 2.5", "/claims takes one problem at a time"),
        ("claim", "2.4 3.11 please", "don.t understand .3.11 please."),
        ("claims", "number:2.4 number:2.5", "given twice"),
        ("search", "induction page:0", "page must be a whole number from 1 to 1000"),
        ("search", "induction page:\u1369", "page must be a whole number from 1 to 1000"),
        ("setup", "stale_days:0", "stale_days must be a whole number from 1 to 365"),
        ("setup", "stale_days:-1", "stale_days must be a whole number from 1 to 365"),
        ("setup", "stale_days:abc", "stale_days must be a whole number from 1 to 365"),
        ("setup", "stale_days:366", "stale_days must be a whole number from 1 to 365"),
        ("setup", "stale_days:5000", "stale_days must be a whole number from 1 to 365"),
    ],
)
def test_errors_are_clear(command: str, line: str, message: str) -> None:
    """Each mistake gets an answer that says what is wrong."""
    with pytest.raises(BadArgument, match=message):
        args(command, line)


@pytest.mark.parametrize(
    ("command", "line", "expected"),
    [
        ("claims", "\u200bnumber:3.11", {"number": "3.11"}),
        ("claims", "\u200e\u2060number:3.11\u200b", {"number": "3.11"}),
        ("claims", '\ufeffnumber:"3.11"\u200b', {"number": "3.11"}),
        ("claims", "\u200b \u200b everyone", {"everyone": True}),
        ("search", "\u200bdifficulty:A circuits", {"difficulty": "A", "query": "circuits"}),
        ("search", "\u200bquery:two words", {"query": "two words"}),
        # Free text is as before: the name: that is no option stays in it, and the characters
        # the note keeps (a joiner) stay where they stand; the others it never kept.
        ("release", "tried \u200bX \u200bnumber:3.11", {"number": "3.11", "note": "tried X"}),
        ("release", "3.11 tried \u200dfoo:bar", {"number": "3.11", "note": "tried \u200dfoo:bar"}),
        (
            "release",
            "3.11 tried \u200bnumber:3 \u200bfoo:bar",
            {"number": "3.11", "note": "tried number:3 foo:bar"},
        ),
        ("release", "3.11 tried \u200b it", {"number": "3.11", "note": "tried  it"}),
    ],
)
def test_invisible_characters_at_a_named_options_edge_are_not_there(
    command: str, line: str, expected: dict[str, object]
) -> None:
    """``\u200bnumber:3.11`` (a zero-width space pasted before a named option) was a word."""
    assert args(command, line) == expected


@pytest.mark.parametrize("raw", ["\u200b2.4", "2.\u200d4", "\u202e2.4\u202c", "\ufeff#2.4"])
def test_invisible_characters_are_ignored_in_numbers(raw: str) -> None:
    """Zero-width spaces and bidi marks pasted with a number do not hide it."""
    assert parse_number(raw) == "2.4"


async def test_setup_refuses_stale_days_out_of_range_by_name_and_keeps_the_setting(ctx: Context) -> None:
    """`/setup stale_days:0` names stale_days and its range, saves nothing; 365 is saved."""
    refused = await say(ctx, ADMIN, "/setup stale_days:0")
    assert refused.error and refused.text == "stale_days must be a whole number from 1 to 365"
    assert "Stale after: 30 days (default)" in await shown(ctx, ADMIN, "/setup show")
    await say(ctx, ADMIN, "/setup stale_days:365")
    assert "Stale after: 365 days" in await shown(ctx, ADMIN, "/setup show")


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("/setup moderator_channel:<#C" + "A" * 80 + ">", "channel"),
        ("/setup reminder_channel:C" + "A" * ID_LENGTH, "channel"),
        ("/setup moderator_role:<@&" + "1" * 80 + ">", "role"),
        ("/setup moderator_role:<!subteam^S" + "A" * ID_LENGTH + ">", "role"),
        ("/claims user:<@U" + "1" * ID_LENGTH + ">", "user"),
    ],
)
async def test_ids_longer_than_storage_keeps_are_refused_on_every_backend(
    ctx: Context, line: str, what: str
) -> None:
    """An id one character wider than the column gets a clear answer, not PostgreSQL's error
    (SQLite would have stored it), and nothing is saved."""
    reply = await say(ctx, ADMIN, line)
    assert reply.error
    assert reply.text == f"that {what} id is too long: at most {ID_LENGTH} characters"
    assert "Moderator channel: not set" in await shown(ctx, ADMIN, "/setup show")


async def test_ids_as_wide_as_the_column_are_saved_on_every_backend(ctx: Context) -> None:
    """The limit is the column's own width: an id of exactly that length is kept whole."""
    channel, role = "C" + "A" * (ID_LENGTH - 1), "1" * ID_LENGTH
    saved = await say(ctx, ADMIN, f"/setup moderator_channel:<#{channel}> moderator_role:<@&{role}>")
    assert not saved.error, saved.text
    text = await shown(ctx, ADMIN, "/setup show")
    assert f"channel {channel}" in text and f"role {role}" in text


@pytest.mark.parametrize(
    ("command", "line", "name"),
    [
        ("search", 'neuron category:"Toy Language', "category"),
        ("submit", '1.1 link:"https://x.org/a my paper', "link"),
    ],
)
def test_an_unclosed_quote_after_a_named_option_is_refused(command: str, line: str, name: str) -> None:
    """Beside free text, `category:"Toy Language` used to read "Toy as the category and
    Language as part of the query; the quote is named instead."""
    with pytest.raises(BadArgument, match=f"the quote after {name}: is not closed"):
        args(command, line)


@pytest.mark.parametrize("line", ["Permuting lists", "problem Permuting lists"])
def test_words_where_a_number_belongs_are_one_answer_pointing_at_search(line: str) -> None:
    """`/problem Permuting lists` was "I don't understand 'lists'": now every word is what was
    given for the number, as on Discord, and /search is suggested with them."""
    with pytest.raises(BadArgument) as err:
        args("problem", line)
    assert str(err.value) == f"{line!r} is not a problem number: write it like 2.4, or /search {line}"


def test_a_long_text_where_a_number_belongs_is_cut_and_still_points_at_search() -> None:
    """The answer quotes at most 40 characters of it."""
    with pytest.raises(
        BadArgument, match=r"…' is not a problem number: write it like 2.4, or /search a few of its words$"
    ):
        parse_number("Permuting lists " * 10)


@pytest.mark.parametrize(
    ("command", "line"),
    [("problem", "problem 2.4"), ("problem", "Problem #2.4"), ("claim", "# 2.4."), ("claims", "problem 2.4")],
)
def test_the_word_problem_before_a_number_is_dropped(command: str, line: str) -> None:
    """`/problem problem 2.4` (refused with "I don't understand 'problem'") reads as 2.4, also
    where a bare word could be a name (/claims)."""
    assert args(command, line) == {"number": "2.4"}


def test_smart_quotes_are_quotes() -> None:
    """“…” as phones and Macs type them group words like straight quotes; free text keeps them."""
    assert args("random", "“circuits in the wild” B") == {
        "category": "circuits in the wild",
        "difficulty": "B",
    }
    assert args("random", "category:“circuits in the wild”") == {"category": "circuits in the wild"}
    assert args("release", "2.4 tried “X”, then „Y“") == {"number": "2.4", "note": "tried “X”, then „Y“"}


def test_a_line_read_again_is_read_the_same_and_its_arguments_are_the_callers_own() -> None:
    """Lines read lately are answered from memory: the same arguments, in a dict of the caller's
    own (a command that changed its arguments does not change the next command's), whether the
    line was read just now or answered from memory."""
    for _ in range(3):
        got = args("random", "difficulty:A circuits")
        assert got == {"difficulty": "A", "category": "circuits"}
        got["difficulty"] = "D"
        got.pop("category")


def test_a_refused_line_is_refused_every_time() -> None:
    """A mistake is not remembered as an answer."""
    for _ in range(3):
        with pytest.raises(BadArgument, match="is not a problem number"):
            args("problem", "banana")


def test_the_same_line_for_other_options_is_read_for_them() -> None:
    """What a line means depends on the options it is read for, not only on the command's name."""
    assert args("problem", "2.4") == {"number": "2.4"}
    note = (Option("note", Kind.TEXT, "a note", rest=True),)
    assert parse_line(note, "2.4", "problem") == {"note": "2.4"}
    assert args("problem", "2.4") == {"number": "2.4"}


def test_lines_read_lately_are_bounded() -> None:
    """However many different lines people type, at most PARSED_KEPT are kept, and none longer
    than PARSED_LONGEST; each is still read right."""
    for i in range(parser.PARSED_KEPT + 50):
        assert args("search", f"induction {i}") == {"query": f"induction {i}"}
    assert len(parser._parsed) <= parser.PARSED_KEPT
    long = "2.4 " + "tried " * (parser.PARSED_LONGEST // 6)
    assert args("release", long) == {"number": "2.4", "note": long[4:].strip()}
    assert ("release", long) not in parser._parsed


def test_an_article_is_no_level_and_levels_side_by_side_end_a_search() -> None:
    """`/random a toy model` read "a" as the level A; `/search induction A B` the level B and the
    words "induction A"; `/search level A` was refused for its missing query."""
    # The article before a word is no level; alone, or before a level, "a" is one.
    assert args("random", "a toy model") == {"category": "a toy model"}
    assert args("random", "a") == {"difficulty": "A"}
    assert args("random", "a b") == {"difficulty": "a b"}
    # Two capital levels side by side ending a search: the range, as typed for the answer to say.
    assert args("search", "induction A B") == {"query": "induction", "difficulty": "A B"}
    assert args("search", "mapping A to B") == {"query": "mapping A to B"}
    # A level and no words: no query, which /search answers by listing the level's problems.
    assert args("search", "level A") == {"difficulty": "A"}
    assert args("search", "A - B") == {"difficulty": "A-B"}
