"""The async engine: SQLite (aiosqlite, WAL, BEGIN IMMEDIATE) by default, PostgreSQL (asyncpg)."""

from __future__ import annotations

import inspect
import os
import re
import sqlite3
import ssl
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import asyncpg
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool
from sqlalchemy.util import await_only

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "copbot_read_only"


def default_database_url(data_dir: Path) -> str:
    """The embedded SQLite file used when no DATABASE_URL is configured.

    The path is escaped: unescaped, a ``?`` in DATA_DIR would start the URL's query and the bot
    would use a file named after the part before it.
    """
    path = (data_dir / "copbot.db").resolve()
    return URL.create("sqlite+aiosqlite", database=str(path)).render_as_string(hide_password=False)


# Schemes as providers and libpq write them (Heroku's postgres://, psql's postgresql://, a plain
# sqlite:///path), and the async driver copbot reads each with.
_ASYNC_SCHEMES = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    # Named already, but its query read as a libpq URL's: operators copy libpq's names
    # (connect_timeout, sslmode) into it, which asyncpg's connect() refused ("unexpected keyword").
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


# libpq's sslmode, as hosted PostgreSQL providers write it in their URLs (?sslmode=require):
# asyncpg takes the same values as ssl.
_SSLMODE = re.compile(r"(^|&)sslmode=", re.IGNORECASE)


# Two @ before the URL's path: the first is in a password (or user name) that was not encoded.
# An @ after the password's colon and before the host's @: the password holds an @ (an @ in the
# user name alone, as in Azure's user@server, is SQLAlchemy's to read, and works).
_TWO_ATS = re.compile(r"^[^:/]*://[^:/@]*:[^/?#]*@[^/?#]*@")


def password_has_at(raw: str) -> bool:
    """Whether the URL ``raw`` has an @ left unencoded in its password (where the password ends
    is then unknown: the URL is refused for that first, see :func:`bot.app.database_url`); an @
    read as the host's (``copbot:a/b@c@host``: the password holds a / as well) counts too."""
    if _TWO_ATS.match(raw):
        return True
    try:
        return "@" in (make_url(raw).host or "")
    except (ArgumentError, ValueError):
        return False


def async_url(raw: str) -> str:
    """``raw`` with a scheme that names no driver (``postgres://``, ``postgresql://``,
    ``sqlite://``) given copbot's async one (``postgresql+asyncpg://``, ``sqlite+aiosqlite://``),
    and a PostgreSQL URL's libpq ``sslmode=`` (also in a URL that names asyncpg) written as
    asyncpg's ``ssl=``; the rest of the URL, password included, exactly as written. A URL that
    names another driver, or another database, is returned as it is (and refused where it is
    opened, if copbot cannot).

    A PostgreSQL URL's other parameters are checked here (:class:`UnusableParameter` names one
    copbot cannot honour) and kept in the URL; :func:`make_engine` hands them to asyncpg, libpq's
    names (``connect_timeout``, ``application_name``…) as asyncpg takes them."""
    scheme, separator, rest = raw.partition("://")
    driver = _ASYNC_SCHEMES.get(scheme.lower()) if separator else None
    if driver is None:
        return raw
    if driver.startswith("postgresql") and "?" in rest and not password_has_at(raw):
        path, _, query = rest.partition("?")
        pairs = [pair for pair in query.split("&") if pair and not _no_binding(pair)]
        _check_libpq(pairs)
        query = "&".join(_for_asyncpg(pair) for pair in pairs)
        rest = path + ("?" + query if query else "")
    return f"{driver}://{rest}"


class UnusableParameter(ValueError):
    """A libpq URL's query parameter that copbot cannot honour with asyncpg (said without its value,
    which may be a secret)."""


class ChannelBindingRequired(UnusableParameter):
    """A libpq URL asks for channel binding (``channel_binding=require``), which asyncpg cannot do."""


# libpq's parameters copbot reads itself in a URL without a driver (postgresql://…?name=value), and
# passes to asyncpg as it takes them (see _libpq_connect_args).
_LIBPQ_READ = ("connect_timeout", "application_name", "options", "sslrootcert", "dbname")
# The rest of such a URL's query goes to asyncpg.connect as it is (SQLAlchemy passes each as a
# keyword argument): libpq's names that asyncpg takes with the same meaning, and asyncpg's own.
_ASYNCPG_TAKES = frozenset(inspect.signature(asyncpg.connect).parameters) - {
    "dsn",
    "loop",
    "connection_class",
    "record_class",
    "server_settings",
} | {"prepared_statement_cache_size", "sslmode", "channel_binding"}


def refuse_sqlite_query(raw: str) -> None:
    """:class:`UnusableParameter` when ``raw``, a SQLite URL, has a query (``?mode=ro``): copbot
    opens the file itself, read-write, with its own settings, and SQLAlchemy ignored such
    parameters with a warning while copbot wrote the file all the same. (A URL that does not
    parse is left to be named where it is read.)"""
    try:
        url = make_url(async_url(raw))
    except (ArgumentError, ValueError):
        return
    if url.get_backend_name() != "sqlite" or not url.query:
        return
    names = ", ".join(url.query)
    raise UnusableParameter(
        f"has the parameter{'s' if len(url.query) > 1 else ''} {names}, which copbot cannot honour for "
        "a SQLite file (it opens the file itself, read-write): remove the ?… after the file's name"
    )


def _pair(pair: str) -> tuple[str, str]:
    name, _, value = pair.partition("=")
    return unquote(name), unquote(value)


def _check_libpq(pairs: list[str]) -> None:
    """:class:`UnusableParameter` for the first parameter of a libpq URL's query that neither copbot
    nor asyncpg reads (asyncpg's connect() refused it: "unexpected keyword argument"), or whose
    value cannot be honoured."""
    values = dict(_pair(pair) for pair in pairs)
    for name, value in values.items():
        if name not in _LIBPQ_READ and name not in _ASYNCPG_TAKES and name.lower() != "sslmode":
            raise UnusableParameter(
                f"has the parameter {name}, which copbot cannot honour (asyncpg, its PostgreSQL driver, "
                f"has nothing like it): remove {name}= from it"
            )
        if name == "connect_timeout" and not (value.strip().isdigit() and int(value) > 0):
            raise UnusableParameter(
                "has a connect_timeout that is not a whole number of seconds above 0 (copbot never "
                "waits forever to connect): give one, such as connect_timeout=10, or remove it"
            )
    mode = values.get("sslmode", "").strip().lower()
    if values.get("sslrootcert") == "system" and mode not in ("", "verify-full"):
        raise UnusableParameter(
            f"has sslrootcert=system with sslmode={mode}: the system's certificate authorities are "
            "for sslmode=verify-full alone (as in libpq): use sslmode=verify-full, or remove sslmode="
        )


def _libpq_connect_args(raw: str) -> tuple[URL, dict[str, Any]]:
    """The URL (of :func:`async_url`) without the libpq parameters copbot reads itself, and what
    asyncpg.connect takes for them: ``connect_timeout`` as ``timeout`` (libpq's minimum of 2
    seconds), ``application_name`` and ``options`` (``-c search_path=…``) as startup parameters
    (``server_settings``, which the server reads as from libpq), ``dbname`` as ``database``, and
    ``sslrootcert`` (a file, or ``system``: the system's authorities) in the SSL context that
    sslmode asks for. Only for a URL without a driver: one that names asyncpg is asyncpg's to read."""
    url = make_url(async_url(raw))
    scheme, _, rest = raw.partition("://")
    if _ASYNC_SCHEMES.get(scheme.lower()) != "postgresql+asyncpg" or "?" not in rest:
        return url, {}
    values = dict(_pair(pair) for pair in rest.partition("?")[2].split("&") if pair)
    url = url.difference_update_query(_LIBPQ_READ)
    args: dict[str, Any] = {}
    if "connect_timeout" in values:
        args["timeout"] = float(max(2, int(values["connect_timeout"])))
    settings = {name: values[name] for name in ("application_name", "options") if name in values}
    if settings:
        args["server_settings"] = settings
    if "dbname" in values:
        args["database"] = values["dbname"]
    if (root := values.get("sslrootcert")) is not None:
        mode = str(url.query.get("ssl") or ("verify-full" if root == "system" else "prefer")).lower()
        if mode in ("require", "verify-ca", "verify-full"):
            args["ssl"] = _ssl_context(root, check_hostname=mode == "verify-full")
            url = url.difference_update_query(["ssl"])
    return url, args


def _ssl_context(root: str, *, check_hostname: bool) -> ssl.SSLContext:
    """A context that trusts the certificate authorities of ``root`` (a file, or ``system``); the
    server's name checked too with ``check_hostname`` (as libpq: sslmode=require with a root
    certificate checks as verify-ca does)."""
    if root == "system":
        return ssl.create_default_context()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = check_hostname
    context.verify_mode = ssl.CERT_REQUIRED
    try:
        context.load_verify_locations(cafile=root)
    except (OSError, ssl.SSLError) as exc:
        raise UnusableParameter(
            f"has sslrootcert={root}, which copbot cannot read as certificates "
            f"({getattr(exc, 'strerror', None) or exc}): name the provider's CA certificate file"
        ) from None
    return context


def _for_asyncpg(pair: str) -> str:
    """One ``name=value`` of a libpq URL's query as asyncpg takes it: ``sslmode`` as ``ssl``."""
    return _SSLMODE.sub(r"\1ssl=", pair)


def _no_binding(pair: str) -> bool:
    """Whether ``pair`` is libpq's ``channel_binding`` (Neon's URLs carry ``channel_binding=require``),
    which asyncpg has no parameter for (connect() refused it). ``prefer`` and ``disable`` are
    dropped: libpq too connects without binding where it cannot bind. ``require`` is refused
    (:class:`ChannelBindingRequired`) rather than silently connecting without what it asks for."""
    name, _, value = pair.partition("=")
    if name.lower() != "channel_binding":
        return False
    if unquote(value).strip().lower() == "require":
        raise ChannelBindingRequired(
            "asks for channel_binding=require, which asyncpg (copbot's PostgreSQL driver) cannot do: "
            "remove channel_binding=require from it (sslmode=verify-full, with the provider's CA "
            "certificate, checks the server instead)"
        )
    return True


def is_sqlite(url: str) -> bool:
    """Whether a database URL names SQLite."""
    return make_url(url).get_backend_name() == "sqlite"


def side_files(database: Path) -> tuple[Path, Path]:
    """The -wal and -shm files SQLite keeps beside ``database`` while it is open in WAL mode."""
    return database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")


def read_only_query(database: Path) -> str | None:
    """The SQLite URI query that reads ``database`` where no file may be written beside it.

    Even a read-only connection to a WAL database makes the -shm file when there is none, and
    fails without it ("unable to open database file"). While -wal and -shm are there (a bot has
    the database open) ``mode=ro`` reads through them, its latest commits included; when neither
    is (nothing has it open) ``immutable=1`` reads the file alone, without locks: the caller
    checks afterwards that no -wal appeared meanwhile (:func:`changed_while_immutable`). None
    when only one of them is there (left by a crash: reading would need to write).
    """
    wal, shm = side_files(database)
    if wal.exists() and shm.exists():
        return "mode=ro"
    if not wal.exists() and not shm.exists():
        return "mode=ro&immutable=1"
    return None


def read_only_url(database: Path, query: str) -> str:
    """The async URL that opens ``database`` as a URI with ``query`` (of :func:`read_only_query`);
    the path percent-escaped, so that a ``?`` or ``#`` in it cannot end it."""
    uri = database.absolute().as_uri()
    url = URL.create("sqlite+aiosqlite", database=uri, query={"uri": "true"})
    return f"{url.render_as_string(hide_password=False)}&{query}"


FileStamp = tuple[int, int, int, bytes] | None


def file_stamp(database: Path) -> FileStamp:
    """What changes when anything writes ``database`` itself: its inode, size, modification time
    (ns) and SQLite's 100-byte header (its change counter goes up at each commit a rollback
    journal makes); None when it cannot be read. Taken before a read as immutable, for
    :func:`changed_while_immutable`."""
    try:
        with database.open("rb") as file:
            status = os.fstat(file.fileno())
            return status.st_ino, status.st_size, status.st_mtime_ns, file.read(100)
    except OSError:
        return None


def changed_while_immutable(database: Path, query: str, before: FileStamp) -> bool:
    """Whether a read with ``query`` (of :func:`read_only_query`) may have missed a writer: read
    as immutable, and a -wal is there now (a bot started meanwhile), or the file is not as it was
    (``before``, of :func:`file_stamp`): a bot opened, wrote, checkpointed and closed it meanwhile,
    leaving no -wal behind, or wrote it without a WAL."""
    if "immutable=1" not in query:
        return False
    return side_files(database)[0].exists() or file_stamp(database) != before


POSTGRES_TIMEOUT = 10.0  # seconds


def make_engine(
    url: str, *, pool_size: int = 10, timeout: float = POSTGRES_TIMEOUT, bound_statements: bool = True
) -> AsyncEngine:
    """Build an async engine for ``url`` with the settings each backend needs for safe writes.

    On PostgreSQL, ``timeout`` bounds connecting and, with ``bound_statements``, each statement
    (the pool's liveness check included), so a server cut off by the network fails a command
    within seconds instead of leaving it waiting for TCP to give up; pooled connections are
    checked before use, so one the server dropped (a restart, a failover) is replaced unnoticed.
    """
    if is_sqlite(async_url(url)):
        url = async_url(url)
        parsed = make_url(url)
        database = parsed.database
        # Not for a URI (file:///…, of read_only_url): its folder as a path was a folder named
        # "file:" made in the current one by every read of a read-only database.
        if database and database != ":memory:" and parsed.query.get("uri") != "true":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, pool_size=pool_size
        )
        _configure_sqlite(engine.sync_engine)
        return engine
    postgres, libpq = _libpq_connect_args(url)
    engine = create_async_engine(
        postgres,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"timeout": timeout, "command_timeout": timeout if bound_statements else None, **libpq},
    )
    _check_on_checkout(engine)
    return engine


# One round trip in PostgreSQL's simple protocol, nothing prepared (asyncpg fails on an empty ";").
PING = "SELECT 1"


def _check_on_checkout(engine: AsyncEngine) -> None:
    """Before a pooled connection is handed out, one round trip proves the server still holds it;
    if not, SQLAlchemy discards the pooled connections and connects anew.

    SQLAlchemy's own ``pool_pre_ping`` does this in three round trips on asyncpg (BEGIN, the ping,
    ROLLBACK: it opens a transaction for pgbouncer's sake), which made them three of a renewed
    claim's seven. A connection just made is not checked again.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _fresh(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["copbot_fresh"] = True

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(_dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if record.info.pop("copbot_fresh", False):
            return
        driver = record.driver_connection
        if driver is None:
            raise InvalidatePoolError("the pooled connection is gone")
        try:
            await_only(driver.execute(PING))
        except Exception as exc:  # dropped, reset, timed out: any failure means do not use it
            # Like pool_pre_ping, give up every pooled connection: what dropped one (a restart,
            # a failover) dropped them all.
            raise InvalidatePoolError(f"a pooled connection failed its check: {exc!r}") from exc


def make_sqlite_thread_engine(
    engine: AsyncEngine,
    pool_size: int = 1,
    *,
    autocheckpoint: int | None = None,
    busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
) -> Engine | None:
    """A synchronous engine on the same SQLite file, for worker threads (None if in memory).

    A whole unit of work then costs the event loop one hand-off to a thread, instead of several
    per statement through aiosqlite (measured: 4 statements in a transaction, 2.7 ms of CPU
    through aiosqlite, 0.8 ms in a thread; a problem's two-query read makes 26 hand-offs).
    ``autocheckpoint``: the WAL size in pages at which a commit copies the WAL back into the
    database itself (SQLite's default 1,000, fsync included, on that commit's time).
    ``busy_timeout_ms``: how long a statement waits for a lock another connection holds before
    it fails with "database is locked" (0: it fails at once, for use on the event loop).
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    writer = create_engine(
        url.set(drivername="sqlite"),
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=0,
    )
    _configure_sqlite(writer, busy_timeout_ms)
    if autocheckpoint is not None:

        @event.listens_for(writer, "connect")
        def _autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint)}")

    return writer


def _configure_sqlite(sync_engine: Engine, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    """Non-legacy transactions: pysqlite's own BEGIN off, BEGIN IMMEDIATE on ours.

    With Python's legacy transaction handling concurrent writers lose updates or fail with
    "database is locked"; taking the write lock at BEGIN makes writers queue on busy_timeout.
    """

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # Switching a new file to WAL needs a moment alone with it; processes starting together
        # on a fresh file may find it taken (SQLite answers "locked" at once here), so try again.
        for attempt in range(50):
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError:
                if attempt == 49:
                    raise
                time.sleep(0.05)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Reads (Store.read) take a snapshot without the write lock; everything else queues for it.
        # A single autocommitted statement needs no BEGIN: SQLite locks just for that statement.
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        read_only = options.get(READ_ONLY, False)
        if connection.dialect.driver != "pysqlite":
            connection.exec_driver_sql(_begin_sql(read_only))
            return
        raw = connection.connection.dbapi_connection
        # A statement run through SQLAlchemy inside a unit of work the store began on the
        # connection itself (storage.units' _run_on) joins that unit.
        if not raw.in_transaction:
            begin_on(raw, read_only=read_only)


def _begin_sql(read_only: bool) -> str:
    """A read snapshot, or the write lock at once (writers queue on busy_timeout)."""
    return "BEGIN" if read_only else "BEGIN IMMEDIATE"


def begin_on(raw: sqlite3.Connection, *, read_only: bool) -> None:
    """BEGIN a read snapshot, or BEGIN IMMEDIATE (the write lock), straight on a pysqlite
    connection (through exec_driver_sql a claim's BEGIN cost as much as one of its statements).
    A refusal, such as a lock held elsewhere, is raised as SQLAlchemy raises it."""
    statement = _begin_sql(read_only)
    try:
        raw.execute(statement)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, (), exc, sqlite3.Error) from exc


def end_on(raw: sqlite3.Connection, *, commit: bool) -> None:
    """COMMIT or ROLLBACK straight on a pysqlite connection; a failure raised as SQLAlchemy's."""
    try:
        if commit:
            raw.commit()
        else:
            raw.rollback()
    except sqlite3.Error as exc:
        raise DBAPIError.instance("COMMIT" if commit else "ROLLBACK", (), exc, sqlite3.Error) from exc
