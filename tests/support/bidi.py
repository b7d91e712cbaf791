"""Text holding bidi controls, as a database from before copbot dropped them may hold it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col

from storage.claims import Person
from storage.models import Problem
from storage.store import Store

RLO = "\u202e"  # right-to-left override, never closed: it turned the rest of the line around
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
HEBREW, ARABIC = "מעגלי השראה", "دوائر الحث"
PROBLEM_TEXT = f"Find the {HEBREW} circuit ({ARABIC}) in GPT-2"  # as it should show


async def plant_unclosed_overrides(store: Store, number: str, old: Person, now: datetime) -> None:
    """Problem ``number``'s text opening with an RLO, and a claim of ``old`` (whose name holds
    one) released with a note holding one: rows an older import or copbot stored as they came."""
    async with store.session() as s:
        await s.exec(
            sa.update(Problem)  # type: ignore[call-overload]
            .where(col(Problem.number) == number)
            .values(text=RLO + PROBLEM_TEXT)
        )
    await store.claim(number, old, now)
    await store.release(number, old, f"{RLO}see https://example.org/a", now)


def has_bidi(shown: str) -> bool:
    """Whether text as a platform shows it holds a bidi control."""
    return any(ch in shown for ch in BIDI)
