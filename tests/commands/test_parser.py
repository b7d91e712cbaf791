"""The one argument parser: every spelling the issue names, and clear errors for the rest."""

from __future__ import annotations

import pytest

from commands.parser import parse_difficulty, parse_line, parse_number
from commands.registry import COMMANDS
from commands.types import BadArgument, UserRef


def args(command: str, line: str) -> dict[str, object]:
    """Parse ``line`` as the arguments of ``command``."""
    return parse_line(COMMANDS[command].options, line, command)


@pytest.mark.parametrize("raw", ["2.4", " 2.4 ", "#2.4", "# 2.4", "２.４", "02.04"])
def test_number_spellings_all_mean_2_4(raw: str) -> None:
    """Every way people write a problem number reads as 2.4."""
    assert parse_number(raw) == "2.4"


@pytest.mark.parametrize(
    "raw", ["", "2", "2.", "two", "2.4.1", "2,4", "'; DROP TABLE problem;--", "9" * 10_000]
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


def test_release_note_takes_the_rest_of_the_line() -> None:
    """`/release 3.11 tried X, stuck on Y` keeps the note as written."""
    assert args("release", "3.11 tried X, stuck on Y") == {"number": "3.11", "note": "tried X, stuck on Y"}
    assert args("release", '#3.11 note:"tried X"') == {"number": "3.11", "note": "tried X"}


def test_claims_reads_mentions_names_and_numbers() -> None:
    """Slack and Discord mentions, a plain name, or a problem number."""
    assert args("claims", "<@U123|ann>") == {"user": UserRef("U123", "ann")}
    assert args("claims", "<@!42>") == {"user": UserRef("42", None)}
    assert args("claims", "ann") == {"user": UserRef(None, "ann")}
    assert args("claims", "2.4") == {"number": "2.4"}


@pytest.mark.parametrize(
    ("command", "line", "message"),
    [
        ("problem", "", "needs number"),
        ("problem", "2.4 2.5", "don't understand '2.5'"),
        ("random", "difficulty:Z", "not a difficulty"),
        ("random", 'category:"open', "quote is not closed"),
        ("random", "A difficulty:B", "given twice"),
        ("search", "x" * 300, "at most 200"),
        ("problem", "x" * 5000, "too long"),
        ("claim", "colour:red", "not a problem number"),
        ("claims", "2.4 2.5", "don.t understand"),
        ("search", "induction page:0", "page must be"),
    ],
)
def test_errors_are_clear(command: str, line: str, message: str) -> None:
    """Each mistake gets an answer that says what is wrong."""
    with pytest.raises(BadArgument, match=message):
        args(command, line)


@pytest.mark.parametrize("raw", ["\u200b2.4", "2.\u200d4", "\u202e2.4\u202c", "\ufeff#2.4"])
def test_invisible_characters_are_ignored_in_numbers(raw: str) -> None:
    """Zero-width spaces and bidi marks pasted with a number do not hide it."""
    assert parse_number(raw) == "2.4"
