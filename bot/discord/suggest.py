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
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from rapidfuzz import fuzz, process

from commands.catalogue import problem_title
from commands.parser import NUMBER_PREFIX_RE
from storage import submissions
from storage.store import Store
from storage.text import canonical_number

log = logging.getLogger("copbot.discord")

MAX_CHOICES = 25
CHOICE_NAME_MAX = 100
# A number as it is being typed: a section, then the start of a position (``2.``, ``#3.1``,
# ``02.4``, ``2,4``), a mark after it as the commands take it (``2.4.``).
_NUMBER_PREFIX = re.compile(r"^#?\s*([0-9]{1,3})(?:[.,]([0-9]{0,3})[.,):]?)?$")
CLAIMS_WAIT = 1.0  # seconds /release's suggestions wait for the user's claims (Discord allows 3)


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


def _starts(entry: _Entry, typed: re.Match[str]) -> bool:
    """Whether ``entry``'s number starts as typed: its section, and the start of its position
    read as the commands read it (``2.04``: 2.4; ``2.0``: any of section 2)."""
    section, _, position = entry.number.partition(".")
    if int(section) != int(typed.group(1)):
        return False
    start = (typed.group(2) or "").lstrip("0")
    return position.startswith(start)


def _yours(label: str, mark: str = "Your claim") -> str:
    """A problem's label marked as the user's (claim, or ``mark``), within Discord's 100 characters."""
    name = f"{mark}: {label}"
    return name if len(name) <= CHOICE_NAME_MAX else name[: CHOICE_NAME_MAX - 1] + "…"


T = TypeVar("T")


class Catalogue:
    """Problem labels and categories, reloaded from the store at most every ``ttl`` seconds."""

    def __init__(
        self,
        store: Store,
        ttl: float = 30.0,
        now: Callable[[], float] = time.monotonic,
        claims_wait: float = CLAIMS_WAIT,
    ) -> None:
        """Read ``store`` lazily; ``now`` is a monotonic clock."""
        self.store = store
        self.ttl = ttl
        self.claims_wait = claims_wait
        self._reads: set[asyncio.Future[Any]] = set()
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
            # A choice's name is plain text, no link: a link there is cut like any words.
            label = problem_title(p, CHOICE_NAME_MAX - len(head), links=False)
            text = f"{p.category} {p.subcategory} {p.text}"
            entries.append(_Entry(p.number, label, tuple(_fold(text).split()), p.section, p.category))
        self._entries = entries
        self._loaded_at = self._now()

    async def numbers(
        self, current: str, mine: Sequence[str] = (), mark: str = "Your claim"
    ) -> list[Suggestion]:
        """Problems matching what was typed: a number spelled any way the commands take it
        (``2.4``, ``02.04``, ``#2.4``) first, then those it starts (``2.`` → 2.1, 2.2…), or
        words (``acronym``). The problems in ``mine`` (the user's claims) come first, marked
        (``mark``: what of the user's they are)."""
        try:
            entries = await self.entries()
        except Exception:  # autocomplete errors are only logged by discord.py: answer empty
            log.exception("loading the catalogue for autocomplete failed")
            return []
        typed = NUMBER_PREFIX_RE.sub("", _fold(current), count=1).lstrip("#").strip()
        number = canonical_number(typed)  # as the command will read it (2.4., 2,4, 02.04)
        prefix = _NUMBER_PREFIX.match(typed)
        words: list[str] = []
        head, _, rest = typed.partition(" ")
        if number is None and not prefix and rest and (canonical_number(head) or _NUMBER_PREFIX.match(head)):
            # A number, then words ("2.4 acronyms"): the number's problems, those the words
            # also describe first.
            number, prefix, words = canonical_number(head), _NUMBER_PREFIX.match(head), rest.split()
        if not typed:
            found = entries
        elif number is not None or prefix:
            exact = [e for e in entries if e.number == number]
            found = exact + [e for e in entries if prefix and _starts(e, prefix) and e.number != number]
            if words:
                described = [e for e in found if all(any(w.startswith(t) for w in e.words) for t in words)]
                found = described + [e for e in found if e not in described]
        else:
            terms = typed.split()
            found = [e for e in entries if all(any(w.startswith(t) for w in e.words) for t in terms)]
            if not found:
                found = _close_matches(entries, terms)
        order = {claimed: i for i, claimed in enumerate(mine)}
        if order:
            theirs = sorted((e for e in found if e.number in order), key=lambda e: order[e.number])
            found = theirs + [e for e in found if e.number not in order]
        shown = found[:MAX_CHOICES]
        return [Suggestion(_yours(e.label, mark) if e.number in order else e.label, e.number) for e in shown]

    async def claimed(self, platform: str, community_id: str, user_id: str) -> list[str]:
        """The problems ``user_id`` holds an open claim on in the community, oldest first: one
        indexed read. None at all when the database has not answered within ``claims_wait``
        (the read goes on, unawaited), so that the suggestions still come in time."""
        claims = await self._within(self.store.open_claims_for_user(platform, community_id, user_id))
        return [c.problem_number for c in claims]

    async def submitted(self, platform: str, community_id: str, user_id: str) -> list[str]:
        """The problems ``user_id``'s submissions waiting for the moderators in the community
        are for, oldest first (/withdraw's), within ``claims_wait`` as :meth:`claimed`'s."""
        waiting = await self._within(submissions.pending(self.store, platform, community_id, user_id))
        return list(dict.fromkeys(link.problem_number for link in waiting))

    async def _within(self, reading: Coroutine[Any, Any, Sequence[T]]) -> Sequence[T]:
        """What ``reading`` returns, or nothing when it fails or takes past ``claims_wait``."""
        read = asyncio.ensure_future(reading)
        self._reads.add(read)
        read.add_done_callback(self._reads.discard)
        try:
            return await asyncio.wait_for(asyncio.shield(read), self.claims_wait)
        except Exception:
            log.warning(
                "reading a user's claims or links for autocomplete failed or took too long", exc_info=True
            )
            return []

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
