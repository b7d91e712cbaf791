"""The store's cache of problem states (claims and approved links), of the claimed numbers and
of communities' settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from storage.claims import STATE_ENDED, Person
from storage.models import OPEN_CLAIM_STATES, Claim, CommunitySettings, WorkLink

# Communities whose settings are kept at most (each a small row; a bot in many servers).
SETTINGS_KEPT = 1000


@dataclass
class _StateCache:
    """Problem states (open and latest ended claims, approved links), the claimed numbers and
    communities' settings rows, read recently.

    ``generation`` moves on every change this process commits, ``versions[number]`` on each
    change to that problem (and on every change that names none), so a read that raced a
    change to what it read does not store it.

    Entries live for ``ttl`` seconds, or, given ``changes`` (on a SQLite file: SQLite's change
    counter as this process's own connection reads it, which moves when any other connection
    commits), until another connection commits: this process's own changes update the entries
    they touch, so what is kept is what the database holds. The counter is read at most every
    ``changes_every`` seconds: reading it cost a card 60–90 µs with cold caches, more than the
    rest of a cached card, for news that comes rarely (the CLI, an operator).
    """

    ttl: float
    now: Callable[[], float] = time.monotonic
    changes: Callable[[], int | None] | None = None  # None: the counter could not be read
    changes_every: float = 0.0
    seen: int | None = None
    seen_at: float | None = None
    problems: dict[str, tuple[float, list[Claim], list[WorkLink]]] = field(default_factory=dict)
    claimed: tuple[float, set[str]] | None = None
    # Settings rows by (platform, community id); only a change naming no problem drops them.
    settings: dict[tuple[str, str], tuple[float, CommunitySettings | None]] = field(default_factory=dict)
    generation: int = 0
    versions: dict[str, int] = field(default_factory=dict)
    epoch: int = 0  # moves when a change names no problem: every version is then outdated
    # The entry the last forget(number) dropped, so the writer can put it back updated.
    dropped: tuple[int, str, tuple[float, list[Claim], list[WorkLink]]] | None = None
    # The claimed numbers that forget dropped with it, likewise.
    dropped_claimed: tuple[float, set[str]] | None = None

    def _check(self) -> None:
        """Given ``changes``: forget every entry if another connection committed since the last
        look (the read that follows then sees that commit), looking at most every
        ``changes_every`` seconds."""
        if self.changes is None:
            return
        now = self.now()
        if self.seen_at is not None and now - self.seen_at < self.changes_every:
            return
        self.seen_at = now
        current = self.changes()
        if current is None or current != self.seen:
            self.forget()
            self.seen = current

    def _live(self, stored_at: float) -> bool:
        return self.changes is not None or self.now() - stored_at < self.ttl

    def fresh(self, number: str) -> tuple[float, list[Claim], list[WorkLink]] | None:
        """The cached state of a problem, if it is still what the database holds."""
        self._check()
        cached = self.problems.get(number)
        return cached if cached is not None and self._live(cached[0]) else None

    def holds(self, number: str, who: Person) -> bool | None:
        """Whether the cached state of ``number`` shows an open claim of ``who``, made in any
        community of their platform (None: not cached)."""
        cached = self.fresh(number)
        if cached is None:
            return None
        return any(
            c.user_id == who.user_id and c.platform == who.platform and c.state in OPEN_CLAIM_STATES
            for c in cached[1]
        )

    def fresh_claimed(self) -> set[str] | None:
        """The cached claimed numbers, if still what the database holds."""
        self._check()
        cached = self.claimed
        return cached[1] if cached is not None and self._live(cached[0]) else None

    def fresh_settings(self, key: tuple[str, str]) -> tuple[CommunitySettings | None] | None:
        """The cached settings row of a community (in a 1-tuple: the row may be None), if still
        what the database holds."""
        self._check()
        cached = self.settings.get(key)
        return (cached[1],) if cached is not None and self._live(cached[0]) else None

    def keep_settings(self, key: tuple[str, str], generation: int, row: CommunitySettings | None) -> None:
        """Keep a settings row read while the cache was at ``generation``, unless a change came
        meanwhile. At most SETTINGS_KEPT communities: past that only the live entries stay, and
        if all are (on a SQLite file an entry lives until another connection commits), none."""
        if self.ttl <= 0 or generation != self.generation:
            return
        if len(self.settings) >= SETTINGS_KEPT:
            self.settings = {k: v for k, v in self.settings.items() if self._live(v[0])}
            if len(self.settings) >= SETTINGS_KEPT:
                self.settings.clear()
        self.settings[key] = (self.now(), row)

    def after_write(self, claim: Claim) -> None:
        """Put back the entry the write of ``claim`` just dropped, with ``claim`` in it (and the
        claimed numbers, with its problem in or out as the entry now says).

        Only right after that write's :meth:`forget` (no other change since): the entry then
        holds what was read plus every change this process made to the problem since.
        """
        dropped = self.dropped
        if dropped is None or dropped[0] != self.generation or dropped[1] != claim.problem_number:
            return
        number = claim.problem_number
        at, claims, links = dropped[2]
        if not self._live(at):
            return
        if claim.user_id is not None and any(
            c.id != claim.id
            and c.user_id == claim.user_id
            and c.platform == claim.platform
            and c.state in OPEN_CLAIM_STATES
            for c in claims
        ):
            # The entry shows another open claim of theirs, which the database cannot hold beside
            # this one (one open claim per person and problem): it ended through another process
            # since the entry was read. Left out: the next read sees how it ended.
            return
        kept = _kept([c for c in claims if c.id != claim.id] + [claim])
        self.problems[number] = (at, kept, links)
        # The claimed numbers too: /random reads them after every claim of a busy community.
        # Kept only as long as the older of the two reads lives: the problem's membership now
        # comes from its entry, which another process's change may have outdated since.
        if (was := self.dropped_claimed) is not None and self._live(was[0]):
            open_now = any(c.state in OPEN_CLAIM_STATES for c in kept)
            self.claimed = (min(at, was[0]), was[1] | {number} if open_now else was[1] - {number})

    def version(self, number: str) -> tuple[int, int]:
        """What a read of ``number`` compares before and after, to know nothing changed it."""
        return self.epoch, self.versions.get(number, 0)

    def forget(self, number: str | None = None) -> None:
        """Forget one problem's state (and the claimed set), or everything."""
        self.generation += 1
        self.dropped_claimed, self.claimed = self.claimed, None
        self.dropped = None
        if number is None:
            self.epoch += 1
            self.problems.clear()
            self.settings.clear()
            return
        self.versions[number] = self.versions.get(number, 0) + 1
        if (entry := self.problems.pop(number, None)) is not None:
            self.dropped = (self.generation, number, entry)


def _kept(claims: list[Claim]) -> list[Claim]:
    """``claims`` as a problem's state holds them, as a fresh read would find them: those
    without an end date (the open ones) and the latest STATE_ENDED with one, by end date (a
    release moves a claim from the first to the second, and the one that ended first leaves)."""
    dated = [c for c in claims if c.ended_at is not None]
    if len(dated) > STATE_ENDED:
        dated.sort(key=lambda c: (c.ended_at, c.id or 0))
        older = {id(c) for c in dated[:-STATE_ENDED]}
        claims = [c for c in claims if id(c) not in older]
    return _open_first(claims)


def _open_first(claims: list[Claim]) -> list[Claim]:
    """Claims oldest first, the open ones before the ended ones."""
    ordered = sorted(claims, key=lambda c: (c.claimed_at, c.id or 0))
    return sorted(ordered, key=lambda c: c.state not in OPEN_CLAIM_STATES)
