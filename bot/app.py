"""Wiring: the store, migrations, the seed and the command context, built once at start."""

from __future__ import annotations

import logging
import os
import random
import re
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings, StartupError
from commands.types import Clock, Context
from storage.catalogue import CatalogueError, ensure_seeded
from storage.engine import (
    UnusableParameter,
    changed_while_immutable,
    file_stamp,
    make_engine,
    password_has_at,
    read_only_query,
    read_only_url,
)
from storage.migrate import head_revision, known_revision, upgrade
from storage.store import Store

log = logging.getLogger("copbot")


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


# Query parameters of a database URL that may hold a secret: asyncpg takes ?password= as well as
# user:password@, libpq-style URLs carry sslpassword=, and a key is as good as a password.
_SECRET_PARAMETER = re.compile("pass|secret|token|key", re.IGNORECASE)


def _database_setting(settings: Settings) -> str:
    """The setting that chose the database."""
    return "DATABASE_URL" if settings.database_url else "DATA_DIR"


def _unusable_url(exc: BaseException) -> StartupError:
    return StartupError(
        f"DATABASE_URL is not a database copbot can use ({_reason(exc)}): use "
        "sqlite+aiosqlite:///path/to/copbot.db or postgresql+asyncpg://user:password@host:5432/name"
    )


def _at_in_password(raw: str) -> StartupError:
    """The URL named by scheme, user and database only: where its password ends is unknown, so
    nothing between the user and the last @ may be shown (not even as the host)."""
    scheme, _, rest = raw.partition("://")
    user = re.match(r"[^:@/]*", rest)
    after = rest.rsplit("@", 1)[1]  # the host and the database, or the query's text: no password
    database = after.partition("/")[2].partition("?")[0] if "/" in after else ""
    return StartupError(
        f"DATABASE_URL {scheme}://{user.group() if user else ''}:***@…/{database} has an @ in its "
        "password, which ends it early: percent-encode @ in the password as %40"
    )


def _bad_port(raw: str, exc: BaseException) -> StartupError | None:
    """What is wrong with a URL whose port SQLAlchemy could not read as a number ("invalid literal
    for int()"): an IPv6 host whose ] is missing, or a port that is not a number. Said without the
    port's text, which may be a password (``postgresql://user:secret/db`` has no host but a
    "port")."""
    if not (isinstance(exc, ValueError) and "invalid literal for int()" in str(exc)):
        return None
    after = raw.partition("://")[2].rsplit("@", 1)[-1]
    if after.startswith("[") and "]" not in re.split(r"[/?]", after, maxsplit=1)[0]:
        return StartupError(
            "DATABASE_URL has an IPv6 host whose ] is missing: write the address in brackets, "
            "as in [::1]:5432"
        )
    return StartupError(
        "DATABASE_URL has a port that is not a number: write the port in digits after the host, as "
        "in host:5432 (an IPv6 address in brackets, as in [::1]:5432), and percent-encode a : or / "
        "in the password"
    )


def database_url(settings: Settings) -> URL:
    """The database URL in force, parsed; StartupError when it does not parse (a port that is
    not a number, an @ left unencoded in the password). Never shown as it is:
    :func:`database_label` is for people."""
    raw = settings.db_url
    if password_has_at(raw):
        raise _at_in_password(raw)
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as exc:
        raise _bad_port(raw, exc) or _unusable_url(exc) from exc
    if url.host and "@" in url.host:  # copbot:a/b@c@host: the password holds a / as well
        raise _at_in_password(raw)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise StartupError(
            f"{_database_setting(settings)} names an in-memory SQLite database, which would keep nothing: "
            "name a file, as in sqlite+aiosqlite:///data/copbot.db"
        )
    return url


def database_label(settings: Settings) -> str:
    """The database URL in force for people to read (on screen, in logs, in errors): every
    password in it hidden, in ``user:password@`` and in the query (``?password=``)."""
    url = database_url(settings)
    url = url.update_query_dict({name: "***" for name in url.query if _SECRET_PARAMETER.search(name)})
    return url.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")  # as the user's is


def _reason(exc: BaseException) -> str:
    """What went wrong, in the words of the driver or the system, on one line."""
    reason = getattr(exc, "orig", None) or exc
    text = (getattr(reason, "strerror", None) or str(reason) or type(reason).__name__).strip()
    return text.splitlines()[0]


def open_engine(settings: Settings, *, bound_statements: bool = True) -> AsyncEngine:
    """The engine of the configured database; StartupError when the URL cannot make one.

    ``bound_statements``: each statement on PostgreSQL gives up after DATABASE_TIMEOUT (for
    serving; connecting always does).
    """
    database_url(settings)  # one that does not parse is named as such
    try:
        return make_engine(  # as written: a libpq URL's parameters are read as libpq reads them
            settings.database_url or settings.db_url,
            timeout=settings.database_timeout,
            bound_statements=bound_statements,
        )
    except UnusableParameter as exc:  # ?sslrootcert= names a file that holds no certificates
        raise StartupError(f"DATABASE_URL {exc}") from exc
    except (ArgumentError, InvalidRequestError, ImportError, ValueError, TypeError) as exc:
        # ValueError, TypeError: a value in the URL's query that the dialect reads as it makes the
        # engine, and cannot (?prepared_statement_cache_size=x)
        raise _unusable_url(exc) from exc
    except OSError as exc:
        raise StartupError(
            f"cannot create the folder of the SQLite file {database_label(settings)} "
            f"({_database_setting(settings)}): {_reason(exc)}: give {_database_setting(settings)} a "
            "folder copbot may write in"
        ) from exc


def _cannot_open(settings: Settings, reason: str) -> StartupError:
    return StartupError(
        f"cannot open the database {database_label(settings)} ({_database_setting(settings)}): {reason}"
    )


async def _connect(engine: AsyncEngine, settings: Settings) -> None:
    """Connect once, before anything else: what only the driver finds wrong in the URL's parts
    (a parameter it does not take, such as libpq's ?sslmode=; a port beyond 65535) is named as
    the URL's fault, while the same errors later would be copbot's own bugs, and shown as such."""
    try:
        async with engine.connect():
            pass
    except (TypeError, ValueError, OverflowError) as exc:
        raise _cannot_open(settings, _reason(exc)) from exc


def _sqlite_unwritable(settings: Settings) -> str | None:
    """Why copbot may not write the SQLite file the settings name, in the system's words, with
    the fix (None when it may, or the database is not a SQLite file). SQLite itself only says
    "unable to open database file"; in WAL mode it also needs to make its -wal and -shm files
    beside the database, so a read-only folder fails a database that exists too."""
    url = database_url(settings)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database or "")
    files = [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm")]
    target = path
    try:
        for target in [file for file in files if file.exists()]:
            os.close(os.open(target, os.O_RDWR))
        if not all(file.exists() for file in files):  # SQLite makes them: the folder must take files
            target = path.parent
            fd, probe = tempfile.mkstemp(dir=target, prefix=".copbot-", suffix=".probe")
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        where = f"in {target}" if target == path.parent else str(target)
        return (
            f"copbot may not write {where} ({exc.strerror or exc}), where SQLite keeps the database "
            f"and its -wal and -shm files: give {_database_setting(settings)} a folder copbot may write in"
        )
    return None


def sqlite_file(settings: Settings) -> Path | None:
    """The SQLite file the settings name (None for PostgreSQL or an in-memory database)."""
    url = database_url(settings)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database or "")


def missing_sqlite_file(settings: Settings) -> Path | None:
    """The SQLite file the settings name when it does not exist (None for PostgreSQL, or when
    it does)."""
    path = sqlite_file(settings)
    return None if path is None or path.exists() else path


def _not_the_bots(settings: Settings, what: str) -> StartupError:
    return StartupError(
        f"{what} ({_database_setting(settings)}): set DATABASE_URL or DATA_DIR to the bot's database"
    )


async def _schema_of(engine: AsyncEngine) -> str | None:
    """The schema revision of a database (None without copbot's tables), without writing."""
    async with engine.connect() as conn:
        made = await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version"))
        if not made:
            return None
        return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()


def _require_head(settings: Settings, schema: str | None) -> None:
    """StartupError unless a database is at this copbot's schema: the commands that only read
    never migrate (nor make) it, so one of another copbot is named, not changed."""
    if schema is None:
        raise _not_the_bots(settings, f"the database {database_label(settings)} has no copbot tables")
    if schema == (head := head_revision()):
        return
    if known_revision(schema):
        raise _cannot_open(
            settings,
            f"it is at schema {schema}, older than this copbot's {head}, and db dump and catalogue export "
            "only read: run copbot db upgrade first (or use the copbot that wrote it)",
        )
    raise _cannot_open(
        settings,
        f"it is at schema {schema}, which this copbot does not know (a newer copbot's?), "
        f"its own being {head}: use the copbot that wrote it",
    )


@asynccontextmanager
async def reading_store(settings: Settings) -> AsyncIterator[Store]:
    """The store of the commands that only read (catalogue export, db dump): a database copbot
    has made, at this copbot's schema (never migrated, made or seeded here).

    A SQLite file in a folder this user may not write in (a read-only mount or snapshot, the bot
    user's folder) is read without writing beside it (:func:`storage.engine.read_only_query`):
    SQLite needs its -shm file even to read a WAL database, and without it these commands failed
    with "copbot may not write in …". Such a database cannot be migrated, so it must be at this
    copbot's schema already.
    """
    require_sqlite_file(settings)
    unwritable = _sqlite_unwritable(settings)
    if unwritable is None:
        store = Store(open_engine(settings, bound_statements=False), state_ttl=0)
        try:
            try:
                await _connect(store.engine, settings)
                schema = await _schema_of(store.engine)
            except (OSError, DBAPIError) as exc:
                raise _cannot_open(settings, _open_failure(exc, settings)) from exc
            _require_head(settings, schema)
            yield store
        finally:
            await store.close()
        return
    path = Path(database_url(settings).database or "")
    query = read_only_query(path)
    if query is None:
        raise _cannot_open(
            settings,
            f"{unwritable} (its -wal or -shm file is there without the other, as a crash leaves them, "
            "so SQLite cannot read it without writing beside it)",
        )
    before = file_stamp(path)
    store = Store(make_engine(read_only_url(path, query), pool_size=1), state_ttl=0)
    try:
        try:
            schema = await _schema_of(store.engine)
        except (OSError, DBAPIError) as exc:
            raise _cannot_open(settings, f"read-only: {_reason(exc)}") from exc
        if schema is not None and schema != (head := head_revision()):
            raise _cannot_open(
                settings,
                f"it is read-only to copbot here and at schema {schema}, not this copbot's {head}, which it "
                "cannot migrate to: run copbot db upgrade where it may be written, or read a copy "
                "(copbot db backup FILE, then DATABASE_URL=sqlite:///FILE)",
            )
        _require_head(settings, schema)
        yield store
    finally:
        await store.close()
    if changed_while_immutable(path, query, before):
        raise _cannot_open(
            settings,
            "it was written while copbot read it without locks (its folder is read-only to this user, "
            "and a bot opened it meanwhile): run the command again",
        )


def require_sqlite_file(settings: Settings) -> None:
    """StartupError when the settings name a SQLite file that does not exist: a command that
    only reads (dump, export, backup) run from another folder or with another DATA_DIR than the
    bot's would otherwise make a new database there and report on it."""
    if (path := missing_sqlite_file(settings)) is not None:
        raise _not_the_bots(settings, f"no SQLite database at {path}")


def _postgres_fix(exc: BaseException, settings: Settings) -> str | None:
    """What to do when PostgreSQL refused to connect because the URL names a database or a user
    it does not have (by SQLSTATE); None for any other error."""
    state = getattr(getattr(exc, "orig", None), "sqlstate", None)
    url = database_url(settings)
    server = f"-h {url.host or 'localhost'}" + (f" -p {url.port}" if url.port else "")
    if state == "3D000":  # invalid_catalog_name
        return (
            f"create it (createdb {server} -U {url.username or 'postgres'} {url.database}) "
            "or name an existing database in DATABASE_URL"
        )
    if state == "28000" and "does not exist" in str(getattr(exc, "orig", "")):  # no such role
        return (
            f"create the user (createuser {server} -P {url.username}) or name an existing one in DATABASE_URL"
        )
    return None


def _open_failure(exc: OSError | DBAPIError, settings: Settings) -> str:
    """Why the database could not be opened, with the fix when copbot knows it."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {settings.database_timeout:g} s (DATABASE_TIMEOUT)"
    reason = _reason(exc)
    fix = _postgres_fix(exc, settings)
    return f"{reason}: {fix}" if fix else reason


async def migrate(settings: Settings, *, create: bool = True) -> None:
    """Bring the database to the latest schema; StartupError when it cannot be opened.

    On an engine of its own whose statements have no time limit: a migration may take long on
    big tables, and a replica starting meanwhile waits for its lock (DATABASE_TIMEOUT would
    fail them, and a restart would only wait again). ``create=False``: only a database copbot
    has made already (a SQLite file that exists, with copbot's tables) is migrated; another is
    refused untouched.
    """
    if not create:
        require_sqlite_file(settings)  # before the engine, which makes the file's folder
    engine = open_engine(settings, bound_statements=False)
    try:
        # Before SQLite tries: its "unable to open database file" says neither why nor what to do
        # (and aiosqlite's thread of a connection that failed may outlive the event loop).
        if unwritable := _sqlite_unwritable(settings):
            raise _cannot_open(settings, unwritable)
        await _connect(engine, settings)
        if not create:
            async with engine.connect() as conn:
                made = await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version"))
            if not made:
                raise _not_the_bots(settings, f"the database {database_label(settings)} has no copbot tables")
        await upgrade(engine)
    except (OSError, DBAPIError) as exc:
        raise _cannot_open(settings, _open_failure(exc, settings)) from exc
    finally:
        await engine.dispose()


async def open_store(
    settings: Settings,
    clock: Clock = system_clock,
    *,
    serving: bool = True,
    create: bool = True,
    seed: bool = True,
) -> Store:
    """Connect, migrate to the latest schema and load the seed catalogue into an empty database.

    A database out of reach or a seed file that cannot be read raises StartupError. ``serving``:
    statements give up after DATABASE_TIMEOUT, so a user waiting for an answer gets one; the
    command line's maintenance (import, export, dump, load) lets them take as long as they need.
    ``create=False`` (commands that only read): a database copbot has not made is refused, not
    made. ``seed=False`` (an import): an empty database stays empty.
    """
    await migrate(settings, create=create)
    store = Store(open_engine(settings, bound_statements=serving), state_ttl=settings.state_cache_seconds)
    if not seed:
        return store
    try:
        report = await ensure_seeded(store, settings.seed_file, clock())
    except BaseException as exc:
        await store.close()
        if isinstance(exc, OSError | CatalogueError):
            raise StartupError(
                f"cannot load the catalogue from {settings.seed_file} (SEED_FILE) into the new "
                f"database: {_reason(exc)}"
            ) from exc
        raise
    if report is not None:
        log.info("loaded the catalogue from %s: %s", settings.seed_file, report.summary())
    return store


def make_context(settings: Settings, store: Store, clock: Clock = system_clock) -> Context:
    """The command context for this process."""
    return Context(
        store=store,
        clock=clock,
        rng=random.Random(),
        stale_after_days=settings.stale_after_days,
        stale_grace_days=settings.stale_grace_days,
        submissions_per_hour=settings.submissions_per_hour,
        max_claims=settings.max_claims or None,
    )
