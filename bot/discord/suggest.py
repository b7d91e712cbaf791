"""Autocomplete for problem numbers and categories, from an in-memory copy of the catalogue.

Discord gives autocomplete the same 3-second deadline as commands and users type fast, so the
catalogue is read once and kept for a short while (``ttl`` seconds) instead of per keystroke.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from commands.catalogue import problem_title
from commands.parser import NUMBER_PREFIX_RE
from storage.store import Store
from storage.text import canonical_number

log = logging.getLogger("copbot.discord")

MAX_CHOICES = 25
CHOICE_NAME_MAX = 100
_NUMBER_PREFIX = re.compile(r"^#?\s*[0-9]{1,3}(\.[0-9]{0,3})?$")


@dataclass(frozen=True)
class Suggestion:
    """One choice: what the user sees and the value the command receives."""

    name: str
    value: str


@dataclass(frozen=True)
class _Entry:
    number: str
    label: str
    words: tuple[str, ...]
    section: int
    category: str


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _close_matches(entries: list[_Entry], terms: list[str]) -> list[_Entry]:
    """Typo-tolerant: each typed word close to some word of the problem, best matches first."""
    scored = []
    for entry in entries:
        best = [process.extractOne(t, entry.words, scorer=fuzz.ratio, score_cutoff=75) for t in terms[:5]]
        if all(best):
            scored.append((sum(hit[1] for hit in best if hit) / len(best), entry))
    scored.sort(key=lambda item: -item[0])
    return [entry for _, entry in scored]


class Catalogue:
    """Problem labels and categories, reloaded from the store at most every ``ttl`` seconds."""

    def __init__(self, store: Store, ttl: float = 30.0, now: Callable[[], float] = time.monotonic) -> None:
        """Read ``store`` lazily; ``now`` is a monotonic clock."""
        self.store = store
        self.ttl = ttl
        self._now = now
        self._entries: list[_Entry] = []
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    async def entries(self) -> list[_Entry]:
        """The cached catalogue, reloaded when older than ``ttl`` (one load for many callers)."""
        if self._loaded_at is not None and self._now() - self._loaded_at < self.ttl:
            return self._entries
        async with self._lock:
            if self._loaded_at is None or self._now() - self._loaded_at >= self.ttl:
                await self.refresh()
        return self._entries

    async def refresh(self) -> None:
        """Read the catalogue now."""
        entries = []
        for p in await self.store.problems():
            head = f"{p.number} — "
            label = problem_title(p, CHOICE_NAME_MAX - len(head))
            text = f"{p.category} {p.subcategory} {p.text}"
            entries.append(_Entry(p.number, label, tuple(_fold(text).split()), p.section, p.category))
        self._entries = entries
        self._loaded_at = self._now()

    async def numbers(self, current: str) -> list[Suggestion]:
        """Problems matching what was typed: a number prefix (``2.``), or words (``acronym``)."""
        try:
            entries = await self.entries()
        except Exception:  # autocomplete errors are only logged by discord.py: answer empty
            log.exception("loading the catalogue for autocomplete failed")
            return []
        typed = NUMBER_PREFIX_RE.sub("", _fold(current), count=1).lstrip("#").strip()
        # A whole number as the commands read it (2.4., 2,4, 02.04) is looked up as that number.
        typed = canonical_number(typed) or typed
        if not typed:
            found = entries
        elif _NUMBER_PREFIX.match(typed):
            exact = [e for e in entries if e.number == typed]
            found = exact + [e for e in entries if e.number.startswith(typed) and e.number != typed]
        else:
            terms = typed.split()
            found = [e for e in entries if all(any(w.startswith(t) for w in e.words) for t in terms)]
            if not found:
                found = _close_matches(entries, terms)
        return [Suggestion(e.label, e.number) for e in found[:MAX_CHOICES]]

    async def categories(self, current: str) -> list[Suggestion]:
        """Categories whose section number or name contains what was typed."""
        try:
            entries = await self.entries()
        except Exception:
            log.exception("loading the catalogue for autocomplete failed")
            return []
        typed = _fold(current)
        seen: dict[int, str] = {}
        for e in entries:
            seen.setdefault(e.section, e.category)
        out = []
        for section, category in seen.items():
            name = f"{section} — {category}"
            if not typed or str(section).startswith(typed) or typed in _fold(category):
                out.append(Suggestion(name[:CHOICE_NAME_MAX], str(section)))
        return out[:MAX_CHOICES]
