"""The store: every read and write the command core makes, each one transaction.

State changes are guarded updates (``UPDATE … WHERE state = expected``) or inserts backed by a
unique index, so concurrent callers, replays and second processes cannot double-apply them; each
change writes its history event in the same transaction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.engine import READ_ONLY
from storage.models import (
    OPEN_CLAIM_STATES,
    Claim,
    ClaimState,
    CommunitySettings,
    Event,
    LinkStatus,
    Meta,
    Problem,
    ProcessedEvent,
    WorkLink,
)


@dataclass(frozen=True)
class Person:
    """Who does something: a user on a platform in a community."""

    platform: str
    community_id: str
    user_id: str
    display_name: str


@dataclass(frozen=True)
class ClaimOutcome:
    """The result of a claim: the claim as it is now, and whether it was new."""

    claim: Claim
    created: bool


def _open_claim_of(number: str, who: Person) -> tuple[Any, ...]:
    """The conditions selecting ``who``'s active or stale claim on ``number`` (at most one row)."""
    return (
        col(Claim.problem_number) == number,
        col(Claim.platform) == who.platform,
        col(Claim.community_id) == who.community_id,
        col(Claim.user_id) == who.user_id,
        col(Claim.state).in_(OPEN_CLAIM_STATES),
    )


class Store:
    """Async access to the database behind one engine."""

    def __init__(self, engine: AsyncEngine, catalogue_ttl: float = 30.0) -> None:
        """Wrap ``engine``; the caller owns its lifetime (see :meth:`close`).

        The catalogue (98 rows that change only on import) is cached for ``catalogue_ttl``
        seconds: an import in this process refreshes it at once, one in another process within
        the TTL. Claims, links and history are always read fresh.
        """
        self.engine = engine
        self.catalogue_ttl = catalogue_ttl
        # SQLite has one writer at a time. Writers of this process queue here, in order, instead
        # of sleeping in SQLite's busy handler with growing back-off (which collapses throughput
        # under load); other processes still wait on busy_timeout. PostgreSQL needs no queue.
        self._write_queue: asyncio.Lock | None = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._catalogue: tuple[float, list[Problem], dict[str, Problem]] | None = None

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    async def close(self) -> None:
        """Dispose of the engine's connections."""
        await self.engine.dispose()

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        if self._write_queue is None:
            yield
            return
        async with self._write_queue:
            yield

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One unit of work that may write: commits on success, rolls back on any error."""
        async with self._writing(), AsyncSession(self.engine, expire_on_commit=False) as session:
            async with session.begin():
                yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work: on SQLite a plain snapshot that never waits for writers."""
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            await session.connection(execution_options={READ_ONLY: True})
            yield session
            # Closing (not rolling back) detaches the objects with their loaded values intact.

    def insert(self, table: Any) -> Any:
        """A dialect-specific INSERT that supports ``on_conflict_do_nothing``."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    # -- catalogue ---------------------------------------------------------------------------

    async def _load_catalogue(self) -> tuple[list[Problem], dict[str, Problem]]:
        cached = self._catalogue
        if cached is not None and time.monotonic() - cached[0] < self.catalogue_ttl:
            return cached[1], cached[2]
        async with self.read() as s:
            rows = list(await s.exec(select(Problem).order_by(col(Problem.section), col(Problem.position))))
        self._catalogue = (time.monotonic(), rows, {p.number: p for p in rows})
        return rows, self._catalogue[2]

    def catalogue_changed(self) -> None:
        """Forget the cached catalogue (after an import)."""
        self._catalogue = None

    async def get_problem(self, number: str) -> Problem | None:
        """The problem with this number, or None."""
        return (await self._load_catalogue())[1].get(number)

    async def problems(self) -> list[Problem]:
        """Every problem, in catalogue order."""
        return list((await self._load_catalogue())[0])

    async def problem_count(self) -> int:
        """How many problems the catalogue holds."""
        async with self.read() as s:
            return int((await s.exec(select(sa.func.count()).select_from(Problem))).one())

    # -- claims ------------------------------------------------------------------------------

    async def claim(self, number: str, who: Person, now: datetime) -> ClaimOutcome:
        """Claim ``number`` for ``who`` stamped ``now``; an open claim of theirs is renewed."""
        for _ in range(3):
            try:
                async with self.session() as s:
                    renewed = await self._renew(s, number, who, now)
                    if renewed is not None:
                        return ClaimOutcome(renewed, created=False)
                    claim = Claim(
                        problem_number=number,
                        platform=who.platform,
                        community_id=who.community_id,
                        user_id=who.user_id,
                        display_name=who.display_name,
                        claimed_at=now,
                        renewed_at=now,
                    )
                    s.add(claim)
                    await s.flush()
                    self._event(s, number, "claimed", now, who, claim_id=claim.id)
                    return ClaimOutcome(claim, created=True)
            except IntegrityError:
                # Another transaction inserted the same open claim first: renew it instead.
                continue
        raise RuntimeError("claim kept conflicting")  # pragma: no cover - needs 3 races in a row

    async def _renew(self, s: AsyncSession, number: str, who: Person, now: datetime) -> Claim | None:
        stmt = (
            sa.update(Claim)
            .where(*_open_claim_of(number, who))
            .values(
                renewed_at=now,
                state=ClaimState.ACTIVE.value,
                reminded_at=None,
                unreachable=False,
                delivery="",
                notice="",
                display_name=who.display_name,
            )
            .returning(col(Claim.id))
        )
        claim_id = (await s.exec(stmt)).scalar_one_or_none()
        if claim_id is None:
            return None
        self._event(s, number, "renewed", now, who, claim_id=claim_id)
        return await s.get(Claim, claim_id, populate_existing=True)

    async def renew_claim(self, claim_id: int, who: Person, now: datetime) -> Claim | None:
        """Renew one open claim of ``who`` by id (the reminder's button); None if not open."""
        async with self.session() as s:
            claim = await s.get(Claim, claim_id)
            if claim is None or claim.user_id != who.user_id or claim.platform != who.platform:
                return None
            person = Person(who.platform, claim.community_id, who.user_id, who.display_name)
            return await self._renew(s, claim.problem_number, person, now)

    async def release(
        self, number: str, who: Person, note: str, now: datetime, *, kind: str = "released"
    ) -> Claim | None:
        """End ``who``'s open claim on ``number``, keeping ``note``; None if they hold none."""
        async with self.session() as s:
            stmt = (
                sa.update(Claim)
                .where(*_open_claim_of(number, who))
                .values(state=ClaimState.RELEASED.value, ended_at=now, note=note)
                .returning(col(Claim.id))
            )
            claim_id = (await s.exec(stmt)).scalar_one_or_none()
            if claim_id is None:
                return None
            self._event(s, number, kind, now, who, detail=note, claim_id=claim_id)
            return await s.get(Claim, claim_id, populate_existing=True)

    async def claims_for_problem(self, number: str) -> list[Claim]:
        """Every claim on a problem, open ones first, each group oldest first."""
        async with self.read() as s:
            rows = await s.exec(
                select(Claim)
                .where(Claim.problem_number == number)
                .order_by(col(Claim.claimed_at), col(Claim.id))
            )
            claims = list(rows)
        return sorted(claims, key=lambda c: c.state not in OPEN_CLAIM_STATES)

    async def open_claims_for_user(self, platform: str, community_id: str, user_id: str) -> list[Claim]:
        """A user's active and stale claims, oldest first."""
        async with self.read() as s:
            rows = await s.exec(
                select(Claim)
                .where(
                    Claim.platform == platform,
                    Claim.community_id == community_id,
                    Claim.user_id == user_id,
                    col(Claim.state).in_(OPEN_CLAIM_STATES),
                )
                .order_by(col(Claim.claimed_at), col(Claim.id))
            )
            return list(rows)

    async def find_claimants(self, platform: str, community_id: str, name: str) -> list[str]:
        """User ids whose recorded display name is ``name`` (case-insensitive)."""
        async with self.read() as s:
            rows = await s.exec(
                select(Claim.user_id)
                .where(
                    Claim.platform == platform,
                    Claim.community_id == community_id,
                    sa.func.lower(Claim.display_name) == name.lower(),
                    col(Claim.user_id).is_not(None),
                )
                .distinct()
            )
            return [r for r in rows if r is not None]

    async def claimed_numbers(self) -> set[str]:
        """Numbers of the problems somebody holds an active or stale claim on."""
        async with self.read() as s:
            rows = await s.exec(
                select(Claim.problem_number).where(col(Claim.state).in_(OPEN_CLAIM_STATES)).distinct()
            )
            return set(rows)

    async def get_claim(self, claim_id: int) -> Claim | None:
        """One claim by id."""
        async with self.read() as s:
            return await s.get(Claim, claim_id)

    # -- links -------------------------------------------------------------------------------

    async def problem_state(self, number: str) -> tuple[list[Claim], list[WorkLink]]:
        """A problem's claims (open first) and approved links, read in one snapshot."""
        async with self.read() as s:
            claims = list(
                await s.exec(
                    select(Claim)
                    .where(Claim.problem_number == number)
                    .order_by(col(Claim.claimed_at), col(Claim.id))
                )
            )
            links = list(
                await s.exec(
                    select(WorkLink)
                    .where(WorkLink.problem_number == number, WorkLink.status == LinkStatus.APPROVED)
                    .order_by(col(WorkLink.decided_at), col(WorkLink.id))
                )
            )
        return sorted(claims, key=lambda c: c.state not in OPEN_CLAIM_STATES), links

    async def approved_links(self, number: str) -> list[WorkLink]:
        """Links to existing work approved for a problem, oldest first."""
        async with self.read() as s:
            rows = await s.exec(
                select(WorkLink)
                .where(WorkLink.problem_number == number, WorkLink.status == LinkStatus.APPROVED)
                .order_by(col(WorkLink.decided_at), col(WorkLink.id))
            )
            return list(rows)

    # -- history -----------------------------------------------------------------------------

    def _event(
        self,
        s: AsyncSession,
        number: str,
        kind: str,
        at: datetime,
        who: Person | None,
        *,
        detail: str = "",
        claim_id: int | None = None,
        link_id: int | None = None,
    ) -> None:
        s.add(
            Event(
                problem_number=number,
                kind=kind,
                at=at,
                actor_platform=who.platform if who else "",
                actor_id=who.user_id if who else None,
                actor_name=who.display_name if who else "",
                detail=detail,
                claim_id=claim_id,
                link_id=link_id,
            )
        )

    async def history(self, number: str, limit: int = 200) -> list[Event]:
        """A problem's timeline, oldest first (the latest ``limit`` entries)."""
        async with self.read() as s:
            rows = await s.exec(
                select(Event)
                .where(Event.problem_number == number)
                .order_by(col(Event.at).desc(), col(Event.id).desc())
                .limit(limit)
            )
            return list(reversed(list(rows)))

    # -- settings, dedup, meta ---------------------------------------------------------------

    async def get_settings(self, platform: str, community_id: str) -> CommunitySettings | None:
        """A community's settings row, if it has one."""
        async with self.read() as s:
            return await s.get(CommunitySettings, (platform, community_id))

    async def update_settings(
        self, platform: str, community_id: str, now: datetime, **values: Any
    ) -> CommunitySettings:
        """Set some of a community's settings, creating its row on first use."""
        allowed = {
            "moderator_channel_id",
            "moderator_role_id",
            "reminder_channel_id",
            "stale_after_days",
        }
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        async with self.session() as s:
            await s.exec(
                self.insert(CommunitySettings)
                .values(platform=platform, community_id=community_id, updated_at=now)
                .on_conflict_do_nothing(index_elements=["platform", "community_id"])
            )
            if values:
                await s.exec(
                    sa.update(CommunitySettings)
                    .where(
                        col(CommunitySettings.platform) == platform,
                        col(CommunitySettings.community_id) == community_id,
                    )
                    .values(updated_at=now, **values)
                )
            row = await s.get(CommunitySettings, (platform, community_id), populate_existing=True)
            assert row is not None
            return row

    async def first_time(self, key: str, now: datetime) -> bool:
        """Record an inbound event id; True only the first time ``key`` is seen.

        One autocommitted statement (no BEGIN/COMMIT round trips): it runs on every interaction
        and event, so it holds SQLite's write lock only for the insert itself.
        """
        stmt = (
            self.insert(ProcessedEvent)
            .values(key=key[:200], at=now)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(ProcessedEvent.key)
        )
        async with self._writing(), self.engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            result = await autocommit.execute(stmt)
            return result.first() is not None

    async def get_meta(self, key: str) -> str | None:
        """A deployment fact by key."""
        async with self.read() as s:
            row = await s.get(Meta, key)
            return row.value if row else None

    async def set_meta(self, key: str, value: str) -> None:
        """Set a deployment fact."""
        # An upsert: replicas starting together may set the same key at the same moment.
        async with self.session() as s:
            stmt = self.insert(Meta).values(key=key, value=value)
            await s.exec(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))

    async def execute(self, stmt: Any, params: Sequence[dict[str, Any]] | None = None) -> None:
        """Run one statement in its own transaction (bulk helpers and tests)."""
        async with self.session() as s:
            await s.exec(stmt, params=params)
