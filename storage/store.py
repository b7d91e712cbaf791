"""The store: every read and write the command core makes, each one transaction.

State changes are guarded updates (``UPDATE … WHERE state = expected``) or inserts backed by a
unique index, so concurrent callers, replays and second processes cannot double-apply them; each
change writes its history event in the same transaction.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.engine import READ_ONLY, begin_on, end_on, make_sqlite_thread_engine
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
    from_row,
)
from storage.text import normalise


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


T = TypeVar("T")
log = logging.getLogger("copbot.store")


class AlreadyApplied(Exception):
    """The inbound event being handled (see :meth:`Store.applying`) was applied before."""


@dataclass
class _Pending:
    """An inbound event's id, recorded by the first write its handling commits.

    Shared by reference with tasks the handler spawns (they copy the context, not this object),
    so exactly one of them records it.
    """

    key: str
    at: datetime
    state: str = "pending"  # pending → recording (a transaction holds it) → recorded


_APPLYING: ContextVar[_Pending | None] = ContextVar("copbot_applying", default=None)


def _take_pending() -> _Pending | None:
    """The inbound event id the unit of work starting now must record (marked as being
    recorded), or None: none is being handled, or an earlier unit records it."""
    pending = _APPLYING.get()
    if pending is None or pending.state != "pending":
        return None
    pending.state = "recording"
    return pending


@dataclass
class _StateCache:
    """Problem states (claims, approved links) and the claimed numbers, read recently.

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
    generation: int = 0
    versions: dict[str, int] = field(default_factory=dict)
    epoch: int = 0  # moves when a change names no problem: every version is then outdated
    # The entry the last forget(number) dropped, so the writer can put it back updated.
    dropped: tuple[int, str, tuple[float, list[Claim], list[WorkLink]]] | None = None

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
        """Whether the cached state of ``number`` shows an open claim of ``who`` (None: not cached)."""
        cached = self.fresh(number)
        if cached is None:
            return None
        return any(
            c.user_id == who.user_id
            and c.platform == who.platform
            and c.community_id == who.community_id
            and c.state in OPEN_CLAIM_STATES
            for c in cached[1]
        )

    def fresh_claimed(self) -> set[str] | None:
        """The cached claimed numbers, if still what the database holds."""
        self._check()
        cached = self.claimed
        return cached[1] if cached is not None and self._live(cached[0]) else None

    def after_write(self, claim: Claim) -> None:
        """Put back the entry the write of ``claim`` just dropped, with ``claim`` in it.

        Only right after that write's :meth:`forget` (no other change since): the entry then
        holds what was read plus every change this process made to the problem since.
        """
        dropped = self.dropped
        if dropped is None or dropped[0] != self.generation or dropped[1] != claim.problem_number:
            return
        at, claims, links = dropped[2]
        if not self._live(at):
            return
        self.problems[claim.problem_number] = (
            at,
            _open_first([c for c in claims if c.id != claim.id] + [claim]),
            links,
        )

    def version(self, number: str) -> tuple[int, int]:
        """What a read of ``number`` compares before and after, to know nothing changed it."""
        return self.epoch, self.versions.get(number, 0)

    def forget(self, number: str | None = None) -> None:
        """Forget one problem's state (and the claimed set), or everything."""
        self.generation += 1
        self.claimed = None
        self.dropped = None
        if number is None:
            self.epoch += 1
            self.problems.clear()
            return
        self.versions[number] = self.versions.get(number, 0) + 1
        if (entry := self.problems.pop(number, None)) is not None:
            self.dropped = (self.generation, number, entry)


def _folded(name: str) -> str:
    """A name as compared: the same letters in any case or Unicode form match (a typed name is
    read through the same :func:`storage.text.normalise`)."""
    return normalise(name).casefold()


def _open_first(claims: list[Claim]) -> list[Claim]:
    """Claims oldest first, the open ones before the ended ones."""
    ordered = sorted(claims, key=lambda c: (c.claimed_at, c.id or 0))
    return sorted(ordered, key=lambda c: c.state not in OPEN_CLAIM_STATES)


def _their_claim(number: str, who: Person, now: datetime) -> dict[str, Any]:
    """The parameters naming ``who``'s open claim on ``number`` in the statements below."""
    return {
        "b_number": number,
        "b_platform": who.platform,
        "b_community": who.community_id,
        "b_user": who.user_id,
        "b_name": who.display_name,
        "b_now": now,
    }


_CLAIM_COLUMNS = tuple(Claim.__table__.c)  # type: ignore[attr-defined]
_CLAIM_COLUMN = {column.key: column for column in _CLAIM_COLUMNS}
_THEIR_OPEN_CLAIM = (
    col(Claim.problem_number) == sa.bindparam("b_number"),
    col(Claim.platform) == sa.bindparam("b_platform"),
    col(Claim.community_id) == sa.bindparam("b_community"),
    col(Claim.user_id) == sa.bindparam("b_user"),
    # The states as SQL literals: a list of bound values would be re-rendered on every execution.
    col(Claim.state).in_([sa.literal_column(f"'{state}'") for state in OPEN_CLAIM_STATES]),
)
# What a new or renewed claim holds apart from its dates: active, and no trace of a reminder.
_FRESH: dict[str, Any] = {
    "state": ClaimState.ACTIVE.value,
    "reminded_at": None,
    "unreachable": False,
    "delivery": "",
    "notice": "",
}
# Renewing a claim that is already fresh changes only its date (and the name shown): naming no
# other column lets SQLite leave the indexes on them alone (2 pages a renewal instead of 4).
_RENEW_FRESH = (
    sa.update(Claim)
    .where(
        *_THEIR_OPEN_CLAIM,
        *(
            _CLAIM_COLUMN[name].is_(None) if value is None else _CLAIM_COLUMN[name] == value
            for name, value in _FRESH.items()
        ),
    )
    .values(renewed_at=sa.bindparam("b_now"), display_name=sa.bindparam("b_name"))
    .returning(*_CLAIM_COLUMNS)
)
# Any other open claim (stale, reminded, its reminder under way) starts afresh.
_RENEW = (
    sa.update(Claim)
    .where(*_THEIR_OPEN_CLAIM)
    .values(renewed_at=sa.bindparam("b_now"), display_name=sa.bindparam("b_name"), **_FRESH)
    .returning(*_CLAIM_COLUMNS)
)
_INSERT_CLAIM = (
    sa.insert(Claim)
    .values(
        problem_number=sa.bindparam("b_number"),
        platform=sa.bindparam("b_platform"),
        community_id=sa.bindparam("b_community"),
        user_id=sa.bindparam("b_user"),
        display_name=sa.bindparam("b_name"),
        claimed_at=sa.bindparam("b_now"),
        renewed_at=sa.bindparam("b_now"),
        note="",
        date_known=True,
        source_text="",
        **_FRESH,
    )
    .returning(*_CLAIM_COLUMNS)
)
_RELEASE = (
    sa.update(Claim)
    .where(*_THEIR_OPEN_CLAIM)
    .values(state=ClaimState.RELEASED.value, ended_at=sa.bindparam("b_now"), note=sa.bindparam("b_note"))
    .returning(*_CLAIM_COLUMNS)
)
_INSERT_EVENT = sa.insert(Event)
_STATE_CLAIMS = (
    sa.select(*_CLAIM_COLUMNS)
    .where(col(Claim.problem_number) == sa.bindparam("b_number"))
    .order_by(col(Claim.claimed_at), col(Claim.id))
)
_STATE_LINKS = (
    sa.select(*WorkLink.__table__.c)  # type: ignore[attr-defined]
    .where(
        col(WorkLink.problem_number) == sa.bindparam("b_number"),
        col(WorkLink.status) == LinkStatus.APPROVED.value,
    )
    .order_by(col(WorkLink.decided_at), col(WorkLink.id))
)
_CLAIMED = sa.select(col(Claim.problem_number)).where(col(Claim.state).in_(OPEN_CLAIM_STATES)).distinct()
_CATALOGUE = sa.select(*Problem.__table__.c).order_by(  # type: ignore[attr-defined]
    col(Problem.section), col(Problem.position)
)
CHECKPOINT_EVERY = 100  # SQLite units of work (inline or in the writer thread) between background checkpoints
WRITER_AUTOCHECKPOINT_PAGES = 4000  # SQLite's default is 1,000 (the commit passing it checkpoints)
READERS = 2  # reader threads (and connections) per store on a SQLite file
CHANGES_EVERY = 1.0  # seconds between looks at SQLite's count of other connections' commits


class _Locked(Exception):
    """Another connection holds the lock an inline unit of work needed; nothing was done."""


def _is_busy(exc: OperationalError) -> bool:
    """Whether SQLite refused for a lock held elsewhere (SQLITE_BUSY and its extended codes)."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


# Counted by the rows it inserts (1, or 0 for an id seen before): a RETURNING clause cost
# SQLite 19 µs more per insert warm, 35 µs with cold caches.
_RECORD = {
    dialect: insert(ProcessedEvent)
    .values(key=sa.bindparam("b_key"), at=sa.bindparam("b_at"))
    .on_conflict_do_nothing(index_elements=["key"])
    for dialect, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}


class _Direct:
    """A Core statement compiled once for SQLite, then run on the DBAPI connection itself.

    The hot statements (a claim is three to five) skip SQLAlchemy's per-execution work (an execution
    context, parameter and result objects, events: about 80 µs a statement here) and keep only
    what changes the values, the types' own bind and result processors, so what is stored and
    read back is exactly what SQLAlchemy would store and read.
    """

    __slots__ = ("sql", "binds", "columns")

    def __init__(self, statement: Any, dialect: sa.Dialect, keys: tuple[str, ...]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys else None)
        self.sql = compiled.string
        if "POSTCOMPILE" in self.sql or compiled.positiontup is None:
            raise ValueError("statement needs rendering per execution; run it through SQLAlchemy")
        self.binds = [
            (name, bind.required, bind.value, bind.type.dialect_impl(dialect).bind_processor(dialect))
            for name in compiled.positiontup
            for bind in (compiled.binds[name],)
        ]
        returned = statement.exported_columns if hasattr(statement, "exported_columns") else ()
        self.columns = [
            (c.key, c.type.dialect_impl(dialect).result_processor(dialect, None)) for c in returned
        ]

    def execute(self, dbapi: Any, values: dict[str, Any]) -> sqlite3.Cursor:
        params = []
        for name, required, default, process in self.binds:
            value = values[name] if required else values.get(name, default)
            params.append(process(value) if process is not None else value)
        try:
            return dbapi.execute(self.sql, params)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(self.sql, params, exc) from exc
        except sqlite3.OperationalError as exc:
            raise OperationalError(self.sql, params, exc) from exc

    def run(self, dbapi: Any, values: dict[str, Any]) -> list[dict[str, Any]]:
        cursor = self.execute(dbapi, values)
        if not self.columns:
            return []
        return [
            {
                key: (process(value) if process is not None else value)
                for (key, process), value in zip(self.columns, row, strict=True)
            }
            for row in cursor.fetchall()
        ]


_DIRECT: dict[tuple[int, tuple[str, ...]], _Direct] = {}


def _direct(conn: sa.Connection, statement: Any, values: dict[str, Any]) -> _Direct:
    """``statement`` compiled for this connection's dialect and these value keys, once."""
    keys = tuple(values) if isinstance(statement, sa.Insert) else ()
    direct = _DIRECT.get((id(statement), keys))
    if direct is None:
        direct = _DIRECT[(id(statement), keys)] = _Direct(statement, conn.dialect, keys)
    return direct


def _rows(conn: sa.Connection, statement: Any, values: dict[str, Any]) -> list[Any]:
    """Execute ``statement`` with ``values``; its rows (mappings of column to value).

    On pysqlite (this store's own SQLite connections) through :class:`_Direct`; elsewhere
    through SQLAlchemy. Statements given here must be module constants (compiled once each).
    """
    if conn.dialect.driver != "pysqlite":
        return [row._mapping for row in conn.execute(statement, values)]
    return _direct(conn, statement, values).run(conn.connection.dbapi_connection, values)


def _changed(conn: sa.Connection, statement: Any, values: dict[str, Any]) -> int:
    """Execute ``statement`` (one without RETURNING) like :func:`_rows`; how many rows it changed."""
    if conn.dialect.driver != "pysqlite":
        return int(conn.execute(statement, values).rowcount)
    return int(_direct(conn, statement, values).execute(conn.connection.dbapi_connection, values).rowcount)


def _run_unit(
    engine: sa.Engine, work: Callable[[sa.Connection], T], pending: _Pending | None, *, read_only: bool
) -> T:
    """One unit of work on a synchronous SQLite engine: a snapshot for ``read_only``, otherwise
    under the write lock with ``pending``'s event id recorded first; commits or rolls back."""
    with engine.connect() as conn:
        return _run_on(conn, work, pending, read_only=read_only)


def _run_on(
    conn: sa.Connection, work: Callable[[sa.Connection], T], pending: _Pending | None, *, read_only: bool
) -> T:
    """:func:`_run_unit` on a connection already open (and left open).

    BEGIN, COMMIT and ROLLBACK go straight to the pysqlite connection, not through a SQLAlchemy
    transaction, whose machinery was a measurable part of a claim's time on the event loop. A
    statement ``work`` runs through SQLAlchemy makes SQLAlchemy begin a transaction of its own,
    which the engine's begin hook joins to this unit; it ends with the unit.
    """
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, sqlite3.Connection)
    begin_on(raw, read_only=read_only)
    try:
        if pending is not None:
            _record(conn, "sqlite", pending)
        result = work(conn)
        _end(conn, raw, commit=True)
    except BaseException:
        _end(conn, raw, commit=False)
        raise
    return result


def _end(conn: sa.Connection, raw: sqlite3.Connection, *, commit: bool) -> None:
    """Commit or roll back the unit :func:`_run_on` began (through SQLAlchemy if it joined)."""
    if conn.in_transaction():
        if commit:
            conn.commit()
        else:
            conn.rollback()
    elif raw.in_transaction:
        end_on(raw, commit=commit)


def _record(conn: sa.Connection, dialect: str, pending: _Pending) -> None:
    """Record an inbound event id, or raise AlreadyApplied when it was recorded before."""
    if not _changed(conn, _RECORD[dialect], {"b_key": pending.key[:200], "b_at": pending.at}):
        raise AlreadyApplied(pending.key)


_CLAIM_BY_ID = sa.select(*_CLAIM_COLUMNS).where(col(Claim.id) == sa.bindparam("b_id"))


def _state_of(number: str) -> Callable[[sa.Connection], tuple[list[Claim], list[WorkLink]]]:
    """The read of a problem's state: its claims and approved links (unordered)."""

    def work(conn: sa.Connection) -> tuple[list[Claim], list[WorkLink]]:
        claims = [from_row(Claim, row) for row in _rows(conn, _STATE_CLAIMS, {"b_number": number})]
        links = [from_row(WorkLink, row) for row in _rows(conn, _STATE_LINKS, {"b_number": number})]
        return claims, links

    return work


def _renew(conn: sa.Connection, number: str, who: Person, now: datetime) -> Claim | None:
    """Renew ``who``'s open claim on ``number`` (history included); None if they hold none."""
    values = _their_claim(number, who, now)
    rows = _rows(conn, _RENEW_FRESH, values) or _rows(conn, _RENEW, values)
    if not rows:
        return None
    claim = from_row(Claim, rows[0])
    _rows(conn, _INSERT_EVENT, _event_values(number, "renewed", now, who, claim_id=claim.id))
    return claim


def _event_values(
    number: str,
    kind: str,
    at: datetime,
    who: Person | None,
    *,
    detail: str = "",
    claim_id: int | None = None,
    link_id: int | None = None,
) -> dict[str, Any]:
    """The columns of a history entry."""
    return {
        "problem_number": number,
        "kind": kind,
        "at": at,
        "actor_platform": who.platform if who else "",
        "actor_id": who.user_id if who else None,
        "actor_name": who.display_name if who else "",
        "detail": detail,
        "claim_id": claim_id,
        "link_id": link_id,
    }


class Store:
    """Async access to the database behind one engine."""

    def __init__(
        self,
        engine: AsyncEngine,
        catalogue_ttl: float = 30.0,
        state_ttl: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        changes_every: float = CHANGES_EVERY,
    ) -> None:
        """Wrap ``engine``; the caller owns its lifetime (see :meth:`close`).

        The catalogue (98 rows that change only on import) is cached for ``catalogue_ttl``
        seconds: an import in this process refreshes it at once, one in another process within
        the TTL. A problem's state (its claims and approved links, what every card shows) is
        cached: every change this process commits refreshes it at once. A change by another
        process (a replica, the CLI) shows within ``state_ttl`` seconds on PostgreSQL, and on a
        SQLite file within ``changes_every`` seconds (SQLite counts the commits of other
        connections; an entry stands until that count moves, and it is read at most that
        often). 0 turns the state cache off. History, settings and everything written are
        always read fresh.
        """
        self.engine = engine
        self.catalogue_ttl = catalogue_ttl
        self._states = _StateCache(state_ttl, monotonic, changes_every=changes_every)
        # On a SQLite file, hot writes and small reads run on the event loop itself, on one
        # connection that never waits for a lock (see :meth:`write`); when another connection
        # holds the lock, the write waits in the writer thread instead, and larger reads run in
        # two reader threads (see :meth:`query`).
        self._inline_engine = make_sqlite_thread_engine(
            engine, autocheckpoint=WRITER_AUTOCHECKPOINT_PAGES, busy_timeout_ms=0
        )
        self._inline_connection: sa.Connection | None = None
        if self._inline_engine is not None and state_ttl > 0:
            self._states.changes = self._data_version
        self.inline_fallbacks = 0  # units of work that found the lock taken and went to a thread
        self._writer_engine = make_sqlite_thread_engine(engine, autocheckpoint=WRITER_AUTOCHECKPOINT_PAGES)
        self._writer = (
            ThreadPoolExecutor(1, thread_name_prefix="copbot-sqlite-writer") if self._writer_engine else None
        )
        # The writer's commits leave copying the WAL back to a checkpoint in the background (see
        # :meth:`write`), which cannot finish while writes keep coming: past a larger size the
        # writer's own commit finishes the job (cheaply: the background copied most of it).
        self._checkpoint_engine = make_sqlite_thread_engine(engine)
        self._checkpointer = (
            ThreadPoolExecutor(1, thread_name_prefix="copbot-sqlite-checkpoint")
            if self._checkpoint_engine
            else None
        )
        self._writes_since_checkpoint = 0
        self._checkpointing: asyncio.Future[None] | None = None
        self._reader_engine = make_sqlite_thread_engine(engine, pool_size=READERS)
        self._reader = (
            ThreadPoolExecutor(READERS, thread_name_prefix="copbot-sqlite-reader")
            if self._reader_engine
            else None
        )
        self._loading: dict[str, asyncio.Future[tuple[list[Claim], list[WorkLink]]]] = {}
        # SQLite has one writer at a time. Writers of this process queue here, in order, instead
        # of sleeping in SQLite's busy handler with growing back-off (which collapses throughput
        # under load); other processes still wait on busy_timeout. PostgreSQL needs no queue.
        self._write_lock = asyncio.Lock()
        self._writing: AbstractAsyncContextManager[Any] = (
            self._write_lock if engine.dialect.name == "sqlite" else nullcontext()
        )
        self._catalogue: tuple[float, tuple[Problem, ...], dict[str, Problem]] | None = None
        self._catalogue_loading: asyncio.Future[tuple[tuple[Problem, ...], dict[str, Problem]]] | None = None
        self._catalogue_version = 0

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    async def close(self) -> None:
        """Dispose of the engines' connections and stop the writer thread."""
        for pool in (self._writer, self._reader, self._checkpointer):
            if pool is not None:
                pool.shutdown(wait=True)
        if self._inline_connection is not None:
            self._inline_connection.close()
            self._inline_connection = None
        for thread_engine in (
            self._inline_engine,
            self._writer_engine,
            self._reader_engine,
            self._checkpoint_engine,
        ):
            if thread_engine is not None:
                thread_engine.dispose()
        await self.engine.dispose()

    @asynccontextmanager
    async def _unit(self, touches: str | None) -> AsyncIterator[_Pending | None]:
        """Around one unit of work that may write: the queue, the event id, the state cache.

        Yields the inbound event id this unit must record (see :meth:`applying`), if any. The
        unit commits before its block ends; then cached problem states are forgotten (only
        ``touches``'s when the writer names the one problem it changes).
        """
        pending = _take_pending()
        committed = False
        try:
            async with self._writing:
                yield pending
            committed = True
        finally:
            self._unit_done(touches, pending, committed=committed)

    def _unit_done(self, touches: str | None, pending: _Pending | None, *, committed: bool) -> None:
        """After a unit of work: forget cached states, and note whether its event id is recorded."""
        # After the commit, so a read racing it cannot cache what it replaced.
        self._states.forget(touches)
        if pending is not None:
            # Rolled back: the next unit of work records the id instead.
            pending.state = "recorded" if committed else "pending"

    @asynccontextmanager
    async def transaction(self, *, touches: str | None = None) -> AsyncIterator[AsyncConnection]:
        """One unit of work that may write, as a Core connection: commits on success, rolls back
        on any error.

        Once it ends, cached problem states are forgotten: only ``touches``'s when the writer
        names the one problem it changes, otherwise all of them. Inside :meth:`applying`, the
        first unit of work also records the event's id, and raises AlreadyApplied (writing
        nothing) when it was recorded before.
        """
        async with self._unit(touches) as pending, self.engine.connect() as conn:
            async with conn.begin():
                if pending is not None:
                    await conn.run_sync(_record, self.dialect, pending)
                yield conn

    @asynccontextmanager
    async def session(self, *, touches: str | None = None) -> AsyncIterator[AsyncSession]:
        """:meth:`transaction` as an ORM session (flushed before the commit)."""
        async with self.transaction(touches=touches) as conn:
            async with AsyncSession(bind=conn, expire_on_commit=False) as session:
                yield session
                await session.flush()

    async def write(self, work: Callable[[sa.Connection], T], *, touches: str | None = None) -> T:
        """Run ``work`` (synchronous Core statements) as one unit of work, like :meth:`transaction`.

        ``work`` must be small (a few keyed statements): on a SQLite file it runs right on the
        event loop, when SQLite's write lock is free at once (it normally is: this process's
        writers queue while one of them waits in the writer thread). That costs less than
        handing it to a thread and back (measured end to end at 200 commands/s: bot CPU 3.0 →
        2.4 ms a command), and a commit in WAL mode does not wait for the disk. When the lock is
        taken, ``work`` waits for it in the writer thread instead, so the event loop never waits
        for a lock. Elsewhere it runs through the async engine.
        """
        if self._writer is None:
            async with self.transaction(touches=touches) as conn:
                return await conn.run_sync(work)
        loop = asyncio.get_running_loop()
        pending = _take_pending()
        lock = self._write_lock
        # The queue matters only to a unit that waits (in the writer thread): while it is free,
        # nothing else runs on the event loop until an inline unit is done, so one skips it.
        held = committed = False
        try:
            if lock.locked():
                await lock.acquire()
                held = True
            try:
                result = self._inline(work, pending, read_only=False)
            except _Locked:
                self.inline_fallbacks += 1
                if not held:
                    await lock.acquire()  # free: nothing ran since it was looked at
                    held = True
                result = await loop.run_in_executor(self._writer, self._write_in_thread, work, pending)
            committed = True
            return result
        finally:
            if held:
                lock.release()
            self._unit_done(touches, pending, committed=committed)
            self._writes_since_checkpoint += 1
            if self._writes_since_checkpoint >= CHECKPOINT_EVERY and self._checkpointing is None:
                self._writes_since_checkpoint = 0
                self._checkpointing = loop.run_in_executor(self._checkpointer, self._checkpoint)
                self._checkpointing.add_done_callback(self._checkpointed)

    def _checkpoint(self) -> None:
        """Copy the WAL back into the database without holding up writers (PASSIVE)."""
        assert self._checkpoint_engine is not None
        raw = self._checkpoint_engine.raw_connection()  # outside any transaction, as it must be
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            raw.close()

    def _checkpointed(self, done: asyncio.Future[None]) -> None:
        self._checkpointing = None
        if not done.cancelled() and done.exception() is not None:
            log.warning("background SQLite checkpoint failed: %s", done.exception())

    async def query(self, work: Callable[[sa.Connection], T]) -> T:
        """Run ``work`` (synchronous Core statements) as one read-only snapshot, like :meth:`read`.

        On a SQLite file it runs whole in a reader thread (one hand-off for the event loop; the
        small reads of cards run on the event loop instead, see :meth:`problem_state`).
        Elsewhere it runs through the async engine.
        """
        if self._reader is None:
            async with self.read() as s:
                return await (await s.connection()).run_sync(work)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader, self._query_in_thread, work)

    def _inline(self, work: Callable[[sa.Connection], T], pending: _Pending | None, *, read_only: bool) -> T:
        """Run ``work`` on the event loop's own connection; raise _Locked when a lock it needs is
        held elsewhere (a write's is taken at BEGIN IMMEDIATE). The unit has then rolled back,
        so it can run again from its start, in a thread that waits for the lock."""
        try:
            return _run_on(self._inline_conn(), work, pending, read_only=read_only)
        except OperationalError as exc:
            if _is_busy(exc):
                raise _Locked from exc
            raise

    def _inline_conn(self) -> sa.Connection:
        """The event loop's own connection, kept open (checking it out of its pool and back in
        cost a claim 85 µs)."""
        assert self._inline_engine is not None
        conn = self._inline_connection
        if conn is None or conn.closed or conn.invalidated:
            conn = self._inline_connection = self._inline_engine.connect()
        return conn

    def _data_version(self) -> int | None:
        """SQLite's change counter as the event loop's connection reads it: it moves when another
        connection commits (None when it cannot be read)."""
        try:
            raw = self._inline_conn().connection.dbapi_connection
            assert raw is not None
            return int(raw.execute("PRAGMA data_version").fetchone()[0])
        except (sqlite3.Error, sa.exc.SQLAlchemyError):
            log.warning(
                "could not read SQLite's data_version; cached states now last %g s at most",
                self._states.changes_every,
                exc_info=True,
            )
            return None

    def _query_in_thread(self, work: Callable[[sa.Connection], T]) -> T:
        assert self._reader_engine is not None
        return _run_unit(self._reader_engine, work, None, read_only=True)

    def _write_in_thread(self, work: Callable[[sa.Connection], T], pending: _Pending | None) -> T:
        assert self._writer_engine is not None
        return _run_unit(self._writer_engine, work, pending, read_only=False)

    @contextmanager
    def applying(self, key: str, now: datetime) -> Iterator[None]:
        """Handle one inbound event (an interaction, a click) exactly once.

        Its id is recorded in the same transaction as the first change its handling commits, so
        the change and the record stand or fall together: a replay (another process, a restart)
        raises AlreadyApplied at its first write instead of applying it again. Handling that
        writes nothing records nothing (it has nothing to apply twice). Any unit of work counts
        as a write, even one that only reads: a look-up before the change goes through
        :meth:`read`, or the id would be recorded with it, before the change commits.
        """
        token = _APPLYING.set(_Pending(key, now))
        try:
            yield
        finally:
            _APPLYING.reset(token)

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

    async def _load_catalogue(self) -> tuple[tuple[Problem, ...], dict[str, Problem]]:
        cached = self._catalogue
        if cached is not None and self._states.now() - cached[0] < self.catalogue_ttl:
            return cached[1], cached[2]
        if self._catalogue_loading is None:  # callers arriving meanwhile share this read
            loading = asyncio.ensure_future(self._read_catalogue())
            self._catalogue_loading = loading

            def done(_: object) -> None:
                self._catalogue_loading = None

            loading.add_done_callback(done)
        return await asyncio.shield(self._catalogue_loading)

    async def _read_catalogue(self) -> tuple[tuple[Problem, ...], dict[str, Problem]]:
        version = self._catalogue_version
        rows = await self.query(
            lambda conn: tuple(from_row(Problem, row) for row in conn.execute(_CATALOGUE))
        )
        by_number = {p.number: p for p in rows}
        if version == self._catalogue_version:  # no import in this process meanwhile
            self._catalogue = (self._states.now(), rows, by_number)
        return rows, by_number

    def catalogue_changed(self) -> None:
        """Forget the cached catalogue (after an import)."""
        self._catalogue = None
        self._catalogue_version += 1

    async def catalogue(self) -> tuple[Problem, ...]:
        """Every problem, in catalogue order: the same tuple while it is cached (do not change
        its problems), so work derived from it (a search index) can be kept alongside."""
        return (await self._load_catalogue())[0]

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
        """Claim ``number`` for ``who`` stamped ``now``; an open claim of theirs is renewed.

        The hottest write: Core statements built once, in one :meth:`write`. A renewal of a
        plainly active claim is one UPDATE and its history row; anything else tries the full
        renewal next, then inserts a new claim. When the cached state of the problem shows no
        open claim of theirs (the card they just read), the new claim is inserted first, and
        if they hold one after all (another process's change, not yet seen), the unique index
        refuses it and the claim is renewed instead.
        """
        insert_first = self._states.holds(number, who) is False

        def work(conn: sa.Connection) -> ClaimOutcome:
            if not insert_first:
                renewed = _renew(conn, number, who, now)
                if renewed is not None:
                    return ClaimOutcome(renewed, created=False)
            claim = from_row(Claim, _rows(conn, _INSERT_CLAIM, _their_claim(number, who, now))[0])
            _rows(conn, _INSERT_EVENT, _event_values(number, "claimed", now, who, claim_id=claim.id))
            return ClaimOutcome(claim, created=True)

        for _ in range(3):
            try:
                outcome = await self.write(work, touches=number)
            except IntegrityError:
                # They hold an open claim after all, or another transaction inserted the same
                # open claim first: renew it instead.
                insert_first = False
                continue
            self._states.after_write(outcome.claim)
            return outcome
        raise RuntimeError("claim kept conflicting")  # pragma: no cover - needs 3 races in a row

    async def renew_claim(self, claim_id: int, who: Person, now: datetime) -> Claim | None:
        """Renew one open claim of ``who`` by id (the reminder's button); None if not open."""

        def work(conn: sa.Connection) -> Claim | None:
            found = conn.execute(_CLAIM_BY_ID, {"b_id": claim_id}).first()
            if found is None or found.user_id != who.user_id or found.platform != who.platform:
                return None
            person = Person(who.platform, found.community_id, who.user_id, who.display_name)
            return _renew(conn, found.problem_number, person, now)

        return await self.write(work)

    async def release(
        self, number: str, who: Person, note: str, now: datetime, *, kind: str = "released"
    ) -> Claim | None:
        """End ``who``'s open claim on ``number``, keeping ``note``; None if they hold none."""
        values = {**_their_claim(number, who, now), "b_note": note}

        def work(conn: sa.Connection) -> Claim | None:
            rows = _rows(conn, _RELEASE, values)
            if not rows:
                return None
            claim = from_row(Claim, rows[0])
            _rows(conn, _INSERT_EVENT, _event_values(number, kind, now, who, detail=note, claim_id=claim.id))
            return claim

        claim = await self.write(work, touches=number)
        if claim is not None:
            self._states.after_write(claim)
        return claim

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
        """User ids whose recorded display name is ``name``, ignoring case in every script.

        Compared here rather than with the database's lower(), which on SQLite folds only A-Z
        (so "élodie" would not find Élodie there, while PostgreSQL found her).
        """
        async with self.read() as s:
            rows = await s.exec(
                select(Claim.user_id, Claim.display_name)
                .where(
                    Claim.platform == platform,
                    Claim.community_id == community_id,
                    col(Claim.user_id).is_not(None),
                )
                .distinct()
            )
            wanted = _folded(name)
            return list(dict.fromkeys(user for user, shown in rows if user and _folded(shown) == wanted))

    async def claimed_numbers(self) -> set[str]:
        """Numbers of the problems somebody holds an active or stale claim on (state cache)."""
        cache = self._states
        if (cached := cache.fresh_claimed()) is not None:
            return set(cached)
        generation = cache.generation
        claimed = await self.query(lambda conn: set(conn.execute(_CLAIMED).scalars()))
        if cache.ttl > 0 and cache.generation == generation:
            cache.claimed = (cache.now(), claimed)
        return set(claimed)

    async def get_claim(self, claim_id: int) -> Claim | None:
        """One claim by id."""
        async with self.read() as s:
            return await s.get(Claim, claim_id)

    # -- links -------------------------------------------------------------------------------

    async def problem_state(self, number: str) -> tuple[list[Claim], list[WorkLink]]:
        """A problem's claims (open first) and approved links, read in one snapshot.

        From the state cache when fresh; the objects returned are shared: do not change them.
        On a SQLite file a miss is read on the event loop's own connection, without a task or a
        turn of the loop (a card of a problem not shown lately, a /random); otherwise callers
        missing the cache at once share one read.
        """
        cache = self._states
        cached = cache.fresh(number)
        if cached is not None:
            return list(cached[1]), list(cached[2])
        loading = self._loading.get(number)
        if loading is None:
            if self._inline_engine is not None:  # unless the read finds a lock taken
                version = cache.version(number)
                try:
                    state = self._inline(_state_of(number), None, read_only=True)
                except _Locked:
                    self.inline_fallbacks += 1
                else:
                    claims, links = self._keep_state(number, version, state)
                    return list(claims), list(links)
            loading = asyncio.ensure_future(self._load_state(number))
            self._loading[number] = loading
            loading.add_done_callback(lambda _: self._loading.pop(number, None))
        claims, links = await asyncio.shield(loading)
        return list(claims), list(links)

    def _keep_state(
        self, number: str, version: tuple[int, int], state: tuple[list[Claim], list[WorkLink]]
    ) -> tuple[list[Claim], list[WorkLink]]:
        """A state just read, ordered, and cached unless a change to the problem came meanwhile."""
        cache = self._states
        claims, links = _open_first(state[0]), state[1]
        if cache.ttl > 0 and cache.version(number) == version:
            cache.problems[number] = (cache.now(), claims, links)
        return claims, links

    async def _load_state(self, number: str) -> tuple[list[Claim], list[WorkLink]]:
        version = self._states.version(number)
        return self._keep_state(number, version, await self.query(_state_of(number)))

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

        One autocommitted statement, on its own: it does not tie the id to any change, so an
        event's handling records its id with :meth:`applying` instead.
        """
        async with self._writing, self.engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            result = await autocommit.execute(_RECORD[self.dialect], {"b_key": key[:200], "b_at": now})
            return bool(result.rowcount)

    async def forget_event(self, key: str) -> None:
        """Drop a recorded inbound event id: the next event under it is handled again."""
        async with self.session() as s:
            await s.exec(sa.delete(ProcessedEvent).where(col(ProcessedEvent.key) == key[:200]))

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
