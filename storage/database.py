"""The engines, threads and units of work behind one database: the base of :class:`storage.store.Store`.

On a SQLite file, hot writes and small reads run on the event loop's own connection, larger
reads in reader threads, writes that find the lock taken in one writer thread, and checkpoints
in the background; elsewhere everything runs through the async engine.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, nullcontext
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.engine import READ_ONLY, make_sqlite_thread_engine
from storage.state_cache import _StateCache
from storage.stopping import finish
from storage.units import (
    _APPLYING,
    _is_busy,
    _Locked,
    _Pending,
    _record,
    _run_on,
    _run_unit,
    _take_pending,
)

T = TypeVar("T")
log = logging.getLogger("copbot.store")

CHECKPOINT_EVERY = 100  # SQLite units of work (inline or in the writer thread) between background checkpoints
WRITER_AUTOCHECKPOINT_PAGES = 4000  # SQLite's default is 1,000 (the commit passing it checkpoints)
READERS = 2  # reader threads (and connections) per store on a SQLite file
CHANGES_EVERY = 1.0  # seconds between looks at SQLite's count of other connections' commits
WRITES_FAILING_FOR = 60.0  # seconds a failed write counts as "writes failing" unless one commits


def _package_dir(name: str) -> str:
    spec = importlib.util.find_spec(name)
    locations = spec.submodule_search_locations if spec is not None else None
    return os.path.join(locations[0], "") if locations else os.path.join(os.path.dirname(__file__), "")


# Where a database's failure is raised: copbot's storage and the drivers under it (found
# without importing them: asyncpg is imported only for a PostgreSQL database).
_DATABASE_CODE = tuple(_package_dir(name) for name in ("storage", "sqlalchemy", "aiosqlite", "asyncpg"))


def _raised_in_database_code(exc: BaseException) -> bool:
    """Whether ``exc`` came up through a frame of :data:`_DATABASE_CODE` (its traceback runs
    from where it was caught to where it was raised)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(_DATABASE_CODE):
            return True
        tb = tb.tb_next
    return False


def is_database_failure(exc: BaseException) -> bool:
    """Whether a unit of work failed for the database's sake (locked past the busy timeout, disk
    full, read-only, out of reach), not for what it asked (a constraint, a bug in a statement)
    nor for its caller's code (an event applied before, a refusal).

    A driver's error is the database's. A network error or timeout (OSError, TimeoutError) is
    only when it came up through the storage or a driver: one a platform's client raised (Discord
    or Slack out of reach) is not, and is not told to users or the log as the database's.
    """
    if isinstance(exc, (sa.exc.IntegrityError, sa.exc.ProgrammingError, sa.exc.DataError)):
        return False
    if isinstance(exc, (sa.exc.DBAPIError, sqlite3.OperationalError)):
        return True
    return isinstance(exc, (OSError, TimeoutError)) and _raised_in_database_code(exc)


class Database:
    """Units of work on one engine: in the event loop, in threads or through the async engine."""

    def __init__(self, engine: AsyncEngine, states: _StateCache) -> None:
        """Wrap ``engine``, forgetting what ``states`` caches as units of work commit changes."""
        self.engine = engine
        self._states = states
        # On a SQLite file, hot writes and small reads run on the event loop itself, on one
        # connection that never waits for a lock (see :meth:`write`); when another connection
        # holds the lock, the write waits in the writer thread instead, and larger reads run in
        # two reader threads (see :meth:`query`).
        self._inline_engine = make_sqlite_thread_engine(
            engine, autocheckpoint=WRITER_AUTOCHECKPOINT_PAGES, busy_timeout_ms=0
        )
        self._inline_connection: sa.Connection | None = None
        if self._inline_engine is not None and states.ttl > 0:
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
        # SQLite has one writer at a time. Writers of this process queue here, in order, instead
        # of sleeping in SQLite's busy handler with growing back-off (which collapses throughput
        # under load); other processes still wait on busy_timeout. PostgreSQL needs no queue.
        self._write_lock = asyncio.Lock()
        # The last unit of work that failed for the database's sake: its error's class and when
        # (on the state cache's clock); cleared by the next commit. See :meth:`writes_failing`.
        self.write_failure: tuple[str, float] | None = None
        self._writing: AbstractAsyncContextManager[Any] = (
            self._write_lock if engine.dialect.name == "sqlite" else nullcontext()
        )

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
        except BaseException as exc:
            self._write_failed(exc)
            raise
        finally:
            self._unit_done(touches, pending, committed=committed)

    def _write_failed(self, exc: BaseException) -> None:
        if is_database_failure(exc):
            self.write_failure = (type(exc).__name__, self._states.now())

    def writes_failing(self, within: float = WRITES_FAILING_FOR) -> str | None:
        """The error class of the last unit of work that failed for the database's sake, when it
        failed less than ``within`` seconds ago and none has committed since; else None."""
        if self.write_failure is None:
            return None
        error, at = self.write_failure
        return error if self._states.now() - at < within else None

    def _unit_done(self, touches: str | None, pending: _Pending | None, *, committed: bool) -> None:
        """After a unit of work: forget cached states, and note whether its event id is recorded."""
        if committed:
            self.write_failure = None
        # After the commit, so a read racing it cannot cache what it replaced.
        self._states.forget(touches)
        if pending is not None:
            # Rolled back: the next unit of work records the id instead.
            pending.state = "recorded" if committed else "pending"

    @asynccontextmanager
    async def transaction(
        self, *, touches: str | None = None, finish_commit: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """One unit of work that may write, as a Core connection: commits on success, rolls back
        on any error.

        Once it ends, cached problem states are forgotten: only ``touches``'s when the writer
        names the one problem it changes, otherwise all of them. Inside :meth:`applying`, the
        first unit of work also records the event's id, and raises AlreadyApplied (writing
        nothing) when it was recorded before.

        ``finish_commit`` (a command a signal may stop: ``db load``, ``catalogue import``): a
        cancellation that lands while the commit goes through waits for the commit's answer and is
        taken back once it committed (:func:`storage.stopping.finish`), so that the command says
        what it did. Abandoned, the commit went through all the same (on PostgreSQL, past its
        commit record a COMMIT ignores the cancel request; aiosqlite's thread finishes it) while
        the command said nothing was done.
        """
        async with self._unit(touches) as pending, self.engine.connect() as conn:
            async with conn.begin() as transaction:
                if pending is not None:
                    await conn.run_sync(_record, self.dialect, pending)
                yield conn
                if finish_commit:
                    await finish(transaction.commit())

    @asynccontextmanager
    async def session(
        self, *, touches: str | None = None, finish_commit: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """:meth:`transaction` as an ORM session (flushed before the commit)."""
        async with self.transaction(touches=touches, finish_commit=finish_commit) as conn:
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
        except BaseException as exc:
            self._write_failed(exc)
            raise
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

    async def checkpointed(self) -> None:
        """Wait until the background checkpoint under way, if any, is done (a quiet moment, as a
        test makes one; its failure was logged)."""
        if self._checkpointing is not None:
            await asyncio.wait([self._checkpointing])

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
    def applying(self, key: str, now: datetime) -> Iterator[_Pending]:
        """Handle one inbound event (an interaction, a click) exactly once.

        Its id is recorded in the same transaction as the first change its handling commits, so
        the change and the record stand or fall together: a replay (another process, a restart)
        raises AlreadyApplied at its first write instead of applying it again. Handling that
        writes nothing records nothing (it has nothing to apply twice). Any unit of work counts
        as a write, even one that only reads: a look-up before the change goes through
        :meth:`read`, or the id would be recorded with it, before the change commits.

        Yields the event's record, whose ``recorded`` tells afterwards whether its first change
        committed (so a failure after it left the event applied).
        """
        pending = _Pending(key, now)
        token = _APPLYING.set(pending)
        try:
            yield pending
        finally:
            _APPLYING.reset(token)

    @contextmanager
    def apart(self) -> Iterator[None]:
        """Units of work inside are not the change an inbound event being handled (:meth:`applying`)
        makes: they record nothing of it, and its id is recorded with the change that follows."""
        token = _APPLYING.set(None)
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
