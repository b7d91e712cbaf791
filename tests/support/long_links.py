"""A problem whose text has a link across each place copbot cuts it short, imported as the
sheet's CSV is, and how to read the links a user is shown."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from commands.catalogue import MAX_PROBLEM_TEXT
from storage.catalogue import import_rows, parse_csv
from storage.store import Store
from storage.text import without_tail

NUMBER = "9.1"
# Across the cut of every line naming the problem (its title: 60 to 120 characters, by where it
# is shown), and across the card's cut of the problem text (MAX_PROBLEM_TEXT).
LEAD = "https://example.org/lead/" + "a" * 200
FAR = "https://example.org/far/" + "b" * 200
LEAD_AT, FAR_AT = 30, MAX_PROBLEM_TEXT - 60
# Existing work as one line of 60 links, 6,600 characters: longer than a line of any platform,
# so each cuts it somewhere inside a link (the console at 4,000 characters, Discord at 984).
WORK = tuple(f"https://example.org/work/{i}/" + "c" * 80 for i in range(60))


def problem_text() -> str:
    head = "Probing circuits, see ".ljust(LEAD_AT) + LEAD + " "
    filler = ("then words " * MAX_PROBLEM_TEXT)[: FAR_AT - len(head) - 1]
    text = f"{head}{filler} {FAR} and more words after it"
    assert text.index(LEAD) == LEAD_AT and text.index(FAR) == FAR_AT
    return text


def catalogue_csv(*more: tuple[str, str]) -> str:
    """The CSV of one problem (section 9, category Probes) with links across the cuts, and of
    ``more`` problems of that category (their number and text)."""
    out = io.StringIO()
    csv.writer(out).writerows(
        [
            ["number", "category", "subcategory", "difficulty", "problem", "existing_work", "working_on"],
            [NUMBER, "Probes", "", "B", problem_text(), "Notes: " + " ".join(WORK), ""],
            *([number, "Probes", "", "B", text, "", ""] for number, text in more),
        ]
    )
    return out.getvalue()


async def plant(store: Store, now: datetime, *more: tuple[str, str]) -> None:
    """Import the problem (and ``more``, see :func:`catalogue_csv`) through the catalogue import."""
    assert await import_rows(store, parse_csv(catalogue_csv(*more)), now) is not None


# Anything a platform or a terminal could take for a link: from http(s):// to a space, a "<", a
# ">", a "|" (Slack's <url|label>) or a quote.
SHOWN_URL = re.compile(r"https?://[^\s<>|\"]+")
TAIL = ".,;:'*_~)]"


def half_links(shown: str) -> list[str]:
    """The links in ``shown`` that are not written whole in the problem's text: a link cut short,
    or one with an ellipsis run into it."""
    return [
        url
        for url in (without_tail(m, TAIL) for m in SHOWN_URL.findall(shown))
        if url not in (LEAD, FAR, *WORK)
    ]
