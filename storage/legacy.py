"""Reading the sheet's "Currently Working On" cells: who, and since when."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from storage.text import clip

_MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_PATTERNS = [
    # 5/7/23, 05/01/2024: the sheet's other dates are written month first, so these are too.
    re.compile(r"\b(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<year>\d{4}|\d{2})\b"),
    re.compile(r"\b(?P<year>\d{4})\s+" + _MONTH + r"\s+(?P<d>\d{1,2})\b", re.I),  # 2023 November 7
    re.compile(r"\b(?P<d>\d{1,2})\s+" + _MONTH + r"\s+(?P<year>\d{4})\b", re.I),  # 5 May 2023
    re.compile(r"\b" + _MONTH + r"\s+(?P<d>\d{1,2})\s+(?P<year>\d{4})\b", re.I),  # July 10 2023
    re.compile(r"\b" + _MONTH + r"\s+(?P<year>\d{4})\b", re.I),  # July 2023
]
_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b", re.I)


def parse_sheet_date(text: str) -> date | None:
    """The first date written in a cell, in any of the forms the sheet uses, or None."""
    cleaned = _ORDINAL.sub(r"\1", text.replace(",", " "))
    for pattern in _PATTERNS:
        for match in pattern.finditer(cleaned):
            found = match.groupdict()
            month = int(found["m"]) if found.get("m") else _MONTHS[found["month"].lower()]
            day = int(found["d"]) if found.get("d") else 1
            year = int(found["year"])
            year += 2000 if year < 100 else 0
            try:
                return date(year, month, day)
            except ValueError:
                continue
    return None


def legacy_start(text: str) -> datetime | None:
    """The cell's date as a UTC midnight, or None when it gives none."""
    day = parse_sheet_date(text)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None


def legacy_name(text: str, limit: int = 120) -> str:
    """A short one-line name for a cell: its first line, cut to ``limit`` characters, never
    through a link the cell holds (see :func:`storage.text.clip`)."""
    first = " ".join(text.strip().splitlines()[0].split()) if text.strip() else "someone"
    return clip(first, limit)


def sheet_text(text: str, limit: int | None = None) -> str:
    """A whole cell on one line, cut to ``limit`` characters, never through a link it holds (None:
    not cut; the commands cut what they show themselves): how a sheet claim is named where it is
    shown (its first line alone may be only a date, or half a sentence)."""
    whole = " ".join(text.split()) or "someone"
    return whole if limit is None else clip(whole, limit)


def sheet_origin(dated: bool) -> str:
    """How a sheet claim is labelled wherever it is shown; an undated one says so, since the
    only day the bot has for it is the day an import found it, not the day its work began."""
    return "from the sheet" if dated else "from the sheet, undated"
