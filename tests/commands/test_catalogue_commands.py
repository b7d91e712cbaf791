"""/problem and the problem card as a user sees them, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import dataclasses
import io
import re

import pytest

from bot.console import render
from commands import dispatch
from commands.catalogue import difficulty_matches
from commands.types import Context, Link
from storage import submissions
from storage.catalogue import export_csv, import_rows, parse_csv
from storage.claims import Person
from storage.text import without_tail
from tests.support.approved import approve, odd_link
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
    # Only the sheet's claim: nobody here could release it, so no Release button.
    assert [b.label for b in reply.buttons] == ["Claim", "Another random"]


async def test_problem_shows_existing_work_links(ctx: Context) -> None:
    """Existing work from the sheet is shown with its links intact."""
    text = await shown(ctx, ANN, "/problem 3.3")
    assert "https://github.com/JasonGross/neural-net-coq-interp/blob/main/theories/max.v" in text
    assert "no problem sentence" in text


async def test_a_card_lists_ten_lines_of_existing_work_and_counts_the_rest(ctx: Context) -> None:
    """However many links are approved, the card stays short enough for who is working on it to
    show on every platform (Slack's 50 blocks filled up with 95 long links and cut it off); what
    it leaves out is the oldest work, never a newly approved link."""
    ann, mod = Person("discord", "guild1", "ann", "Ann"), Person("discord", "guild1", "mod", "Mod")
    for i in range(14):
        link = await submissions.submit(
            ctx.store, "3.3", f"https://example.org/{i}", f"k{i}", f"paper {i}", ann, ctx.clock(), 99
        )
        await submissions.decide(ctx.store, link.id, mod, True, "", ctx.clock())
    await say(ctx, ANN, "/claim 3.3")

    reply = await say(ctx, ANN, "/problem 3.3")

    work, working = reply.sections[0].shown_lines, reply.sections[1].lines
    # The nine newest links, newest first, and how many more (five older links, the sheet's two
    # lines). Before, the sheet's lines came first and the newest seven links were the ones hidden.
    assert len(work) == 10 and work[0] == Link("https://example.org/13", "https://example.org/13", "paper 13")
    assert [w.url.rsplit("/", 1)[1] for w in work[:9] if isinstance(w, Link)] == [
        str(i) for i in range(13, 4, -1)
    ]
    # The last line says where the rest is listed.
    assert work[-1] == "… and 7 more: /problem 3.3 all" and reply.sections[0].more == 7
    assert "  - … and 7 more: /problem 3.3 all\n" in await shown(
        ctx, ANN, "/problem 3.3"
    )  # as the console prints it
    assert reply.sections[1].title == "Working on it" and working[-1].startswith("Ann — since")


async def test_problem_all_lists_every_line_of_existing_work_a_page_at_a_time(
    ctx: Context, clock: FakeClock
) -> None:
    """30 approved links on 3.3, which the sheet gives 2 lines of its own: the card shows 9 and
    counts 23 more; /problem 3.3 all lists all 32 (newest link first, the sheet's lines last),
    privately, 20 a page, the footer pointing at the next page."""
    await approve(
        ctx.store, clock, "3.3", [(f"https://example.org/paper-{i}", f"paper {i}") for i in range(30)]
    )

    card = await say(ctx, ANN, "/problem 3.3")
    assert card.sections[0].shown_lines[-1] == "… and 23 more: /problem 3.3 all"

    first = await say(ctx, ANN, "/problem 3.3 all")
    assert first.private and not first.error and not first.buttons
    assert first.title is not None and first.title.startswith("Existing work on 3.3 — ")
    (section,) = first.sections
    assert section.title == "Existing work" and section.more == 0
    assert section.lines[0] == Link(
        "https://example.org/paper-29", "https://example.org/paper-29", "paper 29"
    )
    assert len(section.lines) == 20
    assert first.footer is not None and first.footer.startswith("Page 1 of 2 (lines 1–20 of 32).")
    assert "30 approved links, newest first, then 2 lines from the sheet." in first.footer
    assert first.footer.endswith("Next: /problem 3.3 all page:2")

    second = await say(ctx, ANN, "/problem 3.3 all page:2")
    assert second.footer is not None and second.footer.startswith("Page 2 of 2 (lines 21–32 of 32).")
    assert "Next" not in second.footer
    lines = [*section.lines, *second.sections[0].lines]
    urls = [line.url for line in lines if isinstance(line, Link)]
    assert urls == [f"https://example.org/paper-{i}" for i in range(29, -1, -1)]  # every one, once
    assert lines[-2:] == [
        "(July 10 2023) Max over a list: https://colab.research.google.com/drive/1WdvPyO-bB6l-iWq8SYjiovHp5R3834wN?usp=sharing",
        "(July 10 2023) Formalising in Coq: https://github.com/JasonGross/neural-net-coq-interp/blob/main/theories/max.v",
    ]
    # A page is all it takes to ask for the list; past the last page, the last, saying so.
    assert (await say(ctx, ANN, "/problem 3.3 page:2")).sections == second.sections
    past = await say(ctx, ANN, "/problem number:3.3 all:yes page:7")
    assert past.text == "There are only 2 pages; here is page 2." and past.sections == second.sections
    # As the console prints it: every link, with its note.
    printed = await shown(ctx, ANN, "/problem 3.3 all") + await shown(ctx, ANN, "/problem 3.3 all page:2")
    for i in range(30):
        assert f"  - https://example.org/paper-{i} — paper {i}\n" in printed + "\n"


async def test_problem_all_of_a_problem_with_little_or_no_existing_work(ctx: Context) -> None:
    """One page needs no page numbers; a problem with none says so and how to add some; an unknown
    number gets /problem's own answer."""
    few = await say(ctx, ANN, "/problem 3.3 all")
    assert [str(line)[:30] for line in few.sections[0].lines] == [
        "(July 10 2023) Max over a list",
        "(July 10 2023) Formalising in ",
    ]
    assert few.footer == "2 lines from the sheet."
    none = await say(ctx, ANN, "/problem 1.1 all")
    assert none.private and not none.error and none.sections == ()
    assert none.text == (
        "Nothing lists existing work on 1.1 yet. Know of some? /submit 1.1 LINK sends it to the moderators."
    )
    for line in ("/problem 2.99 all", "/problem 2.99 page:2"):
        unknown = await say(ctx, ANN, line)
        assert unknown.error and unknown.text == "No problem 2.99 — section 2 runs 2.1–2.38."


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/problem 2.99", "No problem 2.99 — section 2 runs 2.1–2.38."),
        ("/problem 9.1", "No problem 9.1 — sections are 1, 2, 3, 4."),
        ("/problem abc", "'abc' is not a problem number: write it like 2.4, or /search abc"),
        ("/nonsense", "There is no command /nonsense. /help lists them."),
        # The /search it suggests is one line of visible words, ready to be typed or copied.
        (
            "/problem \x1b[2Jinduction",
            "'\\x1b[2Jinduction' is not a problem number: write it like 2.4, or /search [2Jinduction",
        ),
        (
            "/problem induction\nheads",
            "'induction\\nheads' is not a problem number: write it like 2.4, or /search induction heads",
        ),
        # A control character typed or pasted into a command's name is shown, not sent to the
        # terminal (ESC starts an escape sequence; a backspace rubs out the slash).
        ("/\x08", "There is no command '/\\x08'. /help lists them."),
        ("/\x1b[2Jnope", "There is no command '/\\x1b[2jnope'. /help lists them."),
    ],
)
async def test_unknown_numbers_and_commands_get_helpful_errors(ctx: Context, line: str, answer: str) -> None:
    """Errors are private and say what exists."""
    reply = await say(ctx, ANN, line)
    assert reply.private and reply.error
    assert reply.text == answer


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/claim\t3.11", "You claimed 3.11 on 2026-11-25"),
        ("/claim\u30003.11", "You claimed 3.11 on 2026-11-25"),  # a Japanese keyboard's wide space
        ("/claim\n3.11", "You claimed 3.11 on 2026-11-25"),
        ("/problem\u00a02.4", "2.4"),  # a no-break space, as some editors paste
    ],
)
async def test_any_space_after_a_command_name_ends_it(ctx: Context, line: str, answer: str) -> None:
    """The name ends at the first space of any kind, not only an ASCII one: "/claim<TAB>3.11" was
    "There is no command /claim\t3.11", and "/claim　3.11" "There is no command /claim 3.11"."""
    reply = await say(ctx, ANN, line)
    assert not reply.error, reply.text
    assert answer in f"{reply.title} {reply.text}"


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/claim\u200b3.11", "You claimed 3.11 on 2026-11-25"),  # a zero-width space, as pasted
        ("/claim\u200b\u200b 3.11", "You claimed 3.11 on 2026-11-25"),
        ("/claim\u20603.11", "You claimed 3.11 on 2026-11-25"),  # a word joiner
        ("/claim\ufeff3.11", "You claimed 3.11 on 2026-11-25"),  # a byte-order mark
        ("/problem\u200e2.4", "2.4"),  # a left-to-right mark
        ("/CLAIM\u200b3.11", "You claimed 3.11 on 2026-11-25"),
        ("/cl\u200baim 3.11", "You claimed 3.11 on 2026-11-25"),  # inside the name: still dropped
        ("/claims\u200beveryone", "Nobody in this server holds an open claim"),  # not /claim
        # A named option right after it: the character ends the name, it does not start the option.
        ("/problem\u200bnumber:2.4", "2.4 — 3 letter acronyms"),
        ("/claims\u200bnumber:3.11", "Claims on 3.11"),
        ("/claims\u2060\u200bnumber:3.11", "Claims on 3.11"),
    ],
)
async def test_an_invisible_character_after_a_command_name_ends_it(
    ctx: Context, line: str, answer: str
) -> None:
    """A zero-width space (or another invisible format character) between the name and its
    arguments made one unknown name: "/claim\u200b3.11" answered "There is no command
    /claim3.11". It now separates them, as a space does."""
    reply = await say(ctx, ANN, line)
    assert not reply.error, reply.text
    assert answer in f"{reply.title} {reply.text}"


@pytest.mark.parametrize(
    "line",
    [
        "/claims \u200bnumber:3.11",  # a zero-width space after the real space, as pasted
        "/claims \u2060number:3.11",  # a word joiner
        "/claims \ufeffnumber:3.11",  # a byte-order mark
        "/claims \u200e\u200bnumber:3.11",  # a left-to-right mark and a zero-width space
        "/claims \u200bnumber:3.11\u200b",
        '/claims number:"3.11"\u200b',  # after a quoted value: not a word of its own
        "/claims \u200b number:3.11",  # between spaces: a word of nothing
        "/claims num\u200bber:3.11",  # inside the name: dropped, as in a command's name
        "/claims number\u200b:3.11",
    ],
)
async def test_an_invisible_character_at_a_named_options_edge_does_not_hide_it(
    ctx: Context, line: str
) -> None:
    """/claims \u200bnumber:3.11 listed the claims of someone called "number:3.11" (none): the
    zero-width space before the option made it a word. It is read as if it were not there."""
    await say(ctx, person("bob"), "/claim 3.11")
    reply = await say(ctx, ANN, line)
    assert not reply.error, reply.text
    assert (reply.title or "").startswith("Claims on 3.11 — ") and "Bob — since" in render(reply, width=None)


async def test_an_invisible_character_before_a_named_option_beside_free_text(ctx: Context) -> None:
    """/search \u200bdifficulty:A circuits looked for the words "difficulty:A circuits"; the
    option is now read. Free text keeps such a character where it stands (a note as typed)."""
    plain = await shown(ctx, ANN, "/search difficulty:A circuits")
    assert (
        "(5 matches)" in plain and "[B]" not in plain and plain != await shown(ctx, ANN, "/search circuits")
    )
    assert await shown(ctx, ANN, "/search \u200bdifficulty:A circuits") == plain
    assert await shown(ctx, ANN, "/search circuits \u200bdifficulty:A") == plain
    await say(ctx, ANN, "/claim 3.11")
    reply = await say(ctx, ANN, "/release tried \u200bnote:X then Y \u200bnumber:3.11")
    assert not reply.error, reply.text
    # Shown without the character, as every note is (the note's own words after its start).
    assert "released: “tried note:X then Y”" in await shown(ctx, ANN, "/problem 3.11")


async def test_an_invisible_character_after_an_unknown_name_is_still_unknown(ctx: Context) -> None:
    reply = await say(ctx, ANN, "/clam\u200b3.11")
    assert reply.error and reply.text == "There is no command /clam3.11. /help lists them."


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


def test_difficulty_overlap_rules() -> None:
    """Levels match ranges containing them; ranges match overlapping ranges."""
    assert difficulty_matches("A-C", "B")
    assert not difficulty_matches("C-D", "B")
    assert difficulty_matches("B-C", "A-B")
    assert not difficulty_matches("D", "A-C")


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


async def test_a_sheet_claims_cell_with_a_link_across_its_cuts_never_shows_half_a_link(
    ctx: Context, clock: FakeClock
) -> None:
    """A "Currently Working On" cell holding a long link: the claim's name and its events' names
    were cut at import (120 and 200 characters) through that link, so /history, and a /release
    by someone else, showed half of it, a link to another page. Each now leaves it out whole."""
    link = "https://example.org/notes/" + "n" * 120
    cell = "Kim - July 10 2023 - " + "working on it, ".ljust(90, ".") + link + " and more words after it"
    assert cell.index(link) < 120 < 200 < cell.index(link) + len(link) < 300
    out = io.StringIO()
    csv.writer(out).writerows([["number", "category", "difficulty", "problem", "working_on"]])
    csv.writer(out).writerow(["2.5", "Circuits In The Wild", "B", "Emails", cell])
    await import_rows(ctx.store, parse_csv(out.getvalue()), clock())
    shown_texts = [
        await shown(ctx, ANN, "/history 2.5"),
        await shown(ctx, ANN, "/problem 2.5"),
        (await say(ctx, ANN, "/release 2.5")).text,
    ]
    clock.advance(days=1)
    cleared = "number,category,difficulty,problem,working_on\n2.5,Circuits In The Wild,B,Emails,\n"
    await import_rows(ctx.store, parse_csv(cleared), clock())
    shown_texts += [await shown(ctx, ANN, "/history 2.5"), await shown(ctx, ANN, "/problem 2.5")]
    assert "Kim - July 10 2023" in shown_texts[0] and "Kim - July 10 2023" in shown_texts[2]
    assert "released it" in shown_texts[3] and "Earlier claims" in shown_texts[4]
    for text in shown_texts:
        urls = [without_tail(url, ".,;:'*_~)]") for url in re.findall(r"https?://[^\s<>|\"]+", text)]
        assert all(url == link for url in urls), (urls, text)


async def test_problem_all_pages_the_longest_links_so_that_each_shows_whole(
    ctx: Context, clock: FakeClock
) -> None:
    """30 links as long as /submit takes (900 characters as sent, with letters beyond A-Z, and
    500-character notes): a page holds as many as every platform shows whole (three), and each
    of the 30 is on one of the ten pages."""
    links = [odd_link(i) for i in range(30)]
    await approve(ctx.store, clock, "2.4", links)
    seen: list[str] = []
    for page in range(1, 11):
        reply = await say(ctx, ANN, f"/problem 2.4 all page:{page}")
        assert reply.footer is not None and reply.footer.startswith(f"Page {page} of 10 ")
        assert len(reply.sections[0].lines) == 3
        seen += [line.url for line in reply.sections[0].lines if isinstance(line, Link)]
    assert seen == [url for url, _ in reversed(links)]


# 3.11's cell in data/seed.csv (210 characters, all shown on the card) and a longer one of many
# lines (more than a card shows of it), which pings everyone if a platform is let to.
EVAN = (
    "I (Evan Anders, evanhanders@ucsb.edu) am working on this with 5-digit addition and subtraction "
    "as of Nov 6 2023. Might add more operations, too. Happy to collaborate with anyone who's "
    "interested, just email :)."
)
LONG_CELL = (
    "Jordan Taylor - 2023 November 7\n@everyone feel free to join! "
    + "Notes on what I tried so far, in some detail. " * 9
    + "\nThe end of the cell, past what a card shows."
)


def _named_on_card(card: str, number: str) -> str:
    """How the card of ``number`` names its one open sheet claim: the text before its label."""
    line = card.split("Working on it:\n  - ")[1].splitlines()[0]
    return line.rsplit(" (from the sheet", 1)[0]


async def test_a_refused_release_names_a_sheet_claim_as_the_card_does(ctx: Context, clock: FakeClock) -> None:
    """/release of a problem only the sheet holds names its claim by the text the card shows: 3.5's
    whole cell (not "July 10 2023", its first line), 3.11's whole sentence (not cut at "Might…"),
    and a long cell cut where the card cuts it, on one line."""
    head = "number,category,difficulty,problem,working_on\n"
    long_row = f'2.5,Circuits In The Wild,B,Emails,"{LONG_CELL}"\n'
    await import_rows(ctx.store, parse_csv(head + long_row), clock())
    for number, expected in (
        ("3.5", "July 10 2023 Max over a list Some work towards formalising in Coq"),
        ("3.11", EVAN),
        ("2.5", None),
    ):
        card = await shown(ctx, ANN, f"/problem {number}")
        named = _named_on_card(card, number)
        assert expected is None or named == expected
        refused = await say(ctx, ANN, f"/release {number}")
        # Stale on the card, stale in the refusal: anyone may still claim it.
        free = f" Stale, so anyone may still /claim {number}." if "anyone may still /claim" in card else ""
        assert refused.error and refused.text == (
            f"You hold no claim on {number}; only its claimant can release it ({named}).{free}"
        )
    long_named = _named_on_card(await shown(ctx, ANN, "/problem 2.5"), "2.5")
    assert long_named.endswith("…") and "\n" not in long_named and "past what a card shows" not in long_named
    assert long_named.startswith("Jordan Taylor - 2023 November 7 @everyone feel free to join!")


async def test_history_names_a_sheet_claim_as_the_card_does(ctx: Context, clock: FakeClock) -> None:
    """/history names a sheet claim by the card's text for it, claimed and released alike: 3.11's
    whole 210-character cell (not cut at 200, "…just email…"), a long cell cut where the card cuts
    it, not shorter."""
    head = "number,category,difficulty,problem,working_on\n"
    long_row = f'2.5,Circuits In The Wild,B,Emails,"{LONG_CELL}"\n'
    await import_rows(ctx.store, parse_csv(head + long_row), clock())
    named = {n: _named_on_card(await shown(ctx, ANN, f"/problem {n}"), n) for n in ("3.11", "2.5")}
    assert named["3.11"] == EVAN
    history = await shown(ctx, ANN, "/history 3.11")
    assert f"2023-11-06 · {EVAN} (sheet) claimed it: from the sheet" in history
    history = await shown(ctx, ANN, "/history 2.5")
    assert f"2023-11-07 · {named['2.5']} (sheet) claimed it: from the sheet" in history
    clock.advance(days=1)
    rows = [dataclasses.replace(r, working_on="") for r in parse_csv(await export_csv(ctx.store))]
    await import_rows(ctx.store, [r for r in rows if r.number in {"2.5", "3.11"}], clock())
    timeline = (await shown(ctx, ANN, "/history 2.5")).split("Timeline, newest first:\n")[1].splitlines()
    assert timeline[0] == f"  - 2026-11-26 · {named['2.5']} (sheet) released it: from the sheet"
    card = await shown(ctx, ANN, "/problem 2.5")
    assert f"Earlier claims:\n  - {named['2.5']} — 2023-11-07 to 2026-11-26, released" in card
    assert f"2026-11-26 · {EVAN} (sheet) released it" in await shown(ctx, ANN, "/history 3.11")
