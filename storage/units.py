"""Units of work on SQLite's fast path, and the inbound event id the first of them records.

:func:`_run_on` runs one unit on a pysqlite connection, beginning and ending it on the DBAPI
connection itself; :func:`_rows` and :func:`_changed` run prebuilt Core statements through
:class:`_Direct`, compiled once. :func:`_take_pending` hands the id of the inbound event being
handled (see :meth:`storage.store.Store.applying`) to the unit that must record it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError

from storage.engine import begin_on, end_on
from storage.models import ProcessedEvent

T = TypeVar("T")


class AlreadyApplied(Exception):
    """The inbound event being handled (see :meth:`storage.store.Store.applying`) was applied before."""


@dataclass
class _Pending:
    """An inbound event's id, recorded by the first write its handling commits.

    Shared by reference with tasks the handler spawns (they copy the context, not this object),
    so exactly one of them records it.
    """

    key: str
    at: datetime
    state: str = "pending"  # pending → recording (a transaction holds it) → recorded

    @property
    def recorded(self) -> bool:
        """Whether the id (and so the handling's first change) has committed."""
        return self.state == "recorded"


_APPLYING: ContextVar[_Pending | None] = ContextVar("copbot_applying", default=None)


def _take_pending() -> _Pending | None:
    """The inbound event id the unit of work starting now must record (marked as being
    recorded), or None: none is being handled, or an earlier unit records it."""
    pending = _APPLYING.get()
    if pending is None or pending.state != "pending":
        return None
    pending.state = "recording"
    return pending


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
        """Run on ``dbapi`` with ``values``; the cursor, errors raised as SQLAlchemy's."""
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
        """Run on ``dbapi`` with ``values``; the rows returned, as mappings of column to value."""
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
