"""The ``copbot`` command line: run, console, catalogue import/export, db upgrade/backup/dump/load."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from bot.app import (
    database_label,
    make_context,
    migrate,
    missing_sqlite_file,
    open_engine,
    open_store,
    reading_store,
    require_sqlite_file,
    sqlite_file,
    system_clock,
)
from bot.config import (
    Settings,
    StartupError,
    invalid_settings,
    misspelt_settings,
    parsed_apart_from,
    unreadable_env,
)
from bot.logs import setup_logging
from storage.catalogue import CatalogueError, export_csv, import_rows, read_catalogue
from storage.models import ID_LENGTH
from storage.stopping import finish
from storage.store import Store

log = logging.getLogger("copbot")
T = TypeVar("T")


def _failed(path: Path, exc: Exception) -> int:
    """Say on one line why the file given on the command line could not be read or written (for a
    system error its words alone: they would repeat the path); the command's exit status."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    print(f"{path}: {reason}", file=sys.stderr)
    return 1


def _onto_the_database(settings: Settings, path: Path, what: str) -> bool:
    """Whether ``path``, where ``what`` (the dump, the export) is to be written, is the SQLite
    database the settings name or one of its -wal, -shm, -journal files, said on one line:
    renamed over it, the output would replace the database (as db backup refuses too)."""
    from storage.backup import live_target

    database = sqlite_file(settings)
    refusal = live_target(database, path, what) if database is not None else None
    if refusal is not None:
        print(refusal, file=sys.stderr)
    return refusal is not None


def _file_left(path: Path) -> Callable[[], str]:
    """What a command writing ``path`` leaves when stopped: said as it started."""

    def left() -> str:
        before = f"{path} is as it was" if os.path.lexists(path) else f"nothing was written to {path}"
        return f"{before}, and no partial file is left"

    return left


def _database_left(settings: Settings, done: str) -> Callable[[], str]:
    """What ``db load`` or ``catalogue import`` (its one transaction rolled back; a new SQLite file
    it made removed) leaves when stopped: said as it started."""

    def left() -> str:
        try:
            new = missing_sqlite_file(settings)
        except StartupError:  # a URL that does not parse: said by the command itself
            return f"nothing was {done}"
        where = (
            f"no database is left at {new}" if new is not None else f"{database_label(settings)} is as it was"
        )
        return f"nothing was {done}, and {where}"

    return left


async def _stoppable(
    what: str, left: Callable[[], str], run: Callable[[threading.Event], Awaitable[int]]
) -> int:
    """``run(stop)``, the command ``what``, stopped cleanly by SIGTERM or Ctrl-C: a file it writes
    stops at a safe point (``stop``) with no partial file left, a database it writes is rolled back
    (a new SQLite file it made removed), and the command says what is ``left`` and exits 128 + the
    signal's number. (Killed by SIGTERM, backup, dump and export left the partial file behind, load
    and import a half-made new database; at Ctrl-C a copy went on and could replace its file all
    the same.) A second signal has its default effect at once."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    stop = threading.Event()
    heard: list[signal.Signals] = []
    said = await asyncio.to_thread(left)

    def on_signal(sig: signal.Signals) -> None:
        if heard:  # asked twice: stop now, whatever is left behind
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
            return
        heard.append(sig)
        print(f"{sig.name}: stopping {what} (a second signal stops it at once)", file=sys.stderr, flush=True)
        task.cancel()

    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        return await run(stop)
    except asyncio.CancelledError:
        if not heard:
            raise
        task.uncancel()
        print(f"{what} stopped by {heard[0].name}: {said}", file=sys.stderr)
        return 128 + heard[0]
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


async def _console(settings: Settings, user: str | None) -> int:
    from bot.console import run_console

    if logging.getLogger().level > logging.DEBUG:
        # The terminal is the console's screen: keep per-command and migration lines off it.
        for name in ("copbot.commands", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)

    # SIGTERM ends the console as Ctrl-C does, the database closed, but with copbot run's status
    # at SIGTERM (0): killed by it, the process left the database open and exited 143.
    loop = asyncio.get_running_loop()
    console = asyncio.current_task()
    assert console is not None
    terminated = False

    def on_sigterm() -> None:
        nonlocal terminated
        if not terminated:
            log.info("SIGTERM: leaving the console")
            terminated = True
            console.cancel()

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    try:
        store = await open_store(settings)
        try:
            ctx = make_context(settings, store)
            await run_console(ctx, user or settings.local_user, database_label(settings))
        finally:
            await store.close()
    except asyncio.CancelledError:
        if not terminated:
            raise
        console.uncancel()
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
    return 0


async def _run(settings: Settings) -> int:
    if problem := settings.slack_half_configured or settings.platform_meant or settings.ports_clash:
        raise StartupError(problem)
    if not (settings.discord_enabled or settings.slack_enabled):
        return await _console(settings, None)
    from bot.runner import run_platforms

    return await run_platforms(settings)


async def _db_upgrade(settings: Settings) -> int:
    await migrate(settings)
    print(f"database {database_label(settings)} is at the latest schema")
    return 0


def _not_yet_there(database: Path) -> list[Path]:
    """What making a new SQLite file may create: the file, its -wal, -shm and -journal, and its
    folders that do not exist yet (innermost first after the files), each not there now."""
    paths = [database.with_name(database.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    folder = database.parent
    while not folder.exists() and folder != folder.parent:
        paths.append(folder)
        folder = folder.parent
    return [path for path in paths if not path.exists()]


def _remove_made(paths: list[Path]) -> None:
    """Remove what this run made of a new SQLite database (a folder only when empty)."""
    for path in paths:
        try:
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink(missing_ok=True)
        except OSError:
            pass


async def _committed(store: Store, work: Awaitable[T]) -> T:
    """``work``, one transaction on ``store``, then the store closed. A signal meanwhile rolls the
    transaction back; once it is committed, the store is closed all the same and the command
    reports what it did (stopped then, a new SQLite file would be removed under a whole load)."""
    try:
        result = await work
    except BaseException:
        await store.close()
        raise
    await finish(store.close())
    return result


async def _import(settings: Settings, path: Path) -> int:
    # The file is read and checked before the database is opened: a file that is refused leaves
    # no database made (or migrated) behind, under a wrong DATA_DIR or DATABASE_URL too.
    try:
        rows = await read_catalogue(path)
    except (CatalogueError, OSError) as exc:
        return _failed(path, exc)
    new = missing_sqlite_file(settings)
    made = _not_yet_there(new) if new is not None else []
    try:
        # Not seeded first: into a new database the file is the whole catalogue, and the report
        # counts its problems as added (not the seed's 98, then the file's as changed).
        store = await open_store(settings, serving=False, seed=False)
        report = await _committed(store, import_rows(store, rows, system_clock(), finish_commit=True))
    except BaseException:
        _remove_made(made)  # a failed import into a new SQLite file leaves no empty database
        raise
    where = f" into a new database at {new}" if new is not None else ""
    print(f"imported {path}{where}: {report.summary()}")
    return 0


async def _export(settings: Settings, path: Path, stop: threading.Event | None = None) -> int:
    from storage.dump import write_whole

    if _onto_the_database(settings, path, "export"):
        return 1
    async with reading_store(settings) as store:
        text = await export_csv(store)
    try:  # only once reading_store found the read sound (a read-only file no bot wrote meanwhile)
        await write_whole(path, text, stop)
    except OSError as exc:
        return _failed(path, exc)
    print(f"exported the catalogue to {path}")
    return 0


async def _db_backup(settings: Settings, path: Path, stop: threading.Event | None = None) -> int:
    from storage.backup import BackupError, backup

    require_sqlite_file(settings)  # named as dump and export name it (a URL that does not parse too)
    try:
        pages = await backup(settings.db_url, path, stop)
    except BackupError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except OSError as exc:
        return _failed(path, exc)
    print(f"backed up {database_label(settings)} to {path} ({pages} pages)")
    return 0


async def _db_dump(settings: Settings, path: Path, load: bool, stop: threading.Event | None = None) -> int:
    from storage.dump import DumpError, read_all, read_dump, write_whole
    from storage.dump import load as load_dump

    made: list[Path] = []
    try:
        if load:  # into an empty database: migrated, but without the seed a first start loads
            # The dump is read and checked first: a file that is not there or not a dump (a typo,
            # a wrong DATA_DIR) leaves no database made or migrated, as for catalogue import.
            rows = await read_dump(path)
            new = missing_sqlite_file(settings)
            made = _not_yet_there(new) if new is not None else []
            await migrate(settings)
            store = Store(open_engine(settings, bound_statements=False))
            counts = await _committed(store, load_dump(store, rows))
        else:
            if _onto_the_database(settings, path, "dump"):
                return 1
            async with reading_store(settings) as store:
                counts, text = await read_all(store)
            # Written only once reading_store found the read sound: when a bot wrote a read-only
            # file meanwhile, it says "run the command again" and nothing is left at the path.
            await write_whole(path, text, stop)
    except (DumpError, OSError) as exc:
        _remove_made(made)  # a load refused into a new SQLite file leaves no empty database
        return _failed(path, exc)
    except BaseException:
        _remove_made(made)
        raise
    summary = ", ".join(f"{count} {table}" for table, count in counts.items())
    print(f"{'loaded' if load else 'dumped'} {path}: {summary}")
    return 0


def console_name(value: str) -> str:
    """A user name for ``console --as``: the console's user id is the name, so it must fit the
    database's id columns (longer, PostgreSQL would refuse the first claim with an apology)."""
    if len(value.strip()) > ID_LENGTH:
        raise argparse.ArgumentTypeError(f"a user name has at most {ID_LENGTH} characters")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with --help on every subcommand: its usage, what it does and what
    each argument is (the README's "Command line" lists the same)."""
    parser = argparse.ArgumentParser(
        prog="copbot",
        description="The copbot command line: run, console, catalogue import/export, "
        "db upgrade/backup/dump/load. Settings come from the environment or a .env file (see the README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        parent: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str, more: str = ""
    ) -> argparse.ArgumentParser:
        return parent.add_parser(name, help=summary, description=f"{summary[0].upper()}{summary[1:]}.{more}")

    command(
        sub,
        "run",
        "run on Discord/Slack when tokens are set, else the local console",
        " Stops with exit status 2 and one line naming the setting when it cannot start.",
    )
    console = command(sub, "console", "the local console on the configured database", " /quit leaves.")
    console.add_argument(
        "--as",
        dest="user",
        metavar="NAME",
        type=console_name,
        help="act as this user name (default: LOCAL_USER, else 'local')",
    )
    catalogue = command(sub, "catalogue", "import or export the catalogue as CSV")
    cat_sub = catalogue.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = command(
        cat_sub,
        "import",
        "upsert problems from a CSV export of the sheet",
        " Never deletes problems, claims or approved links; a malformed line changes nothing.",
    )
    imp.add_argument("file", metavar="FILE.csv", type=Path, help="the sheet's CSV (commas, semicolons, tabs)")
    exp = command(cat_sub, "export", "write the catalogue in the sheet's columns")
    exp.add_argument("file", metavar="FILE.csv", type=Path, help="the CSV file to write")
    db = command(sub, "db", "database maintenance")
    db_sub = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    command(db_sub, "upgrade", "migrate the database to the latest schema", " Every start migrates too.")
    bak = command(db_sub, "backup", "a consistent copy of the SQLite database, also while the bot runs")
    bak.add_argument("file", metavar="FILE.db", type=Path, help="the copy to write (not the live database)")
    dmp = command(db_sub, "dump", "every row of every table as JSON lines (to move to another database)")
    dmp.add_argument("file", metavar="FILE.jsonl", type=Path, help="the dump to write")
    lod = command(db_sub, "load", "load a dump into an empty database (e.g. a new PostgreSQL)")
    lod.add_argument("file", metavar="FILE.jsonl", type=Path, help="a dump made by copbot db dump")
    return parser


def _refused(lines: list[str], rest: Settings | None) -> int:
    """Say why the settings stop copbot, one line each: as CRITICAL JSON objects when the rest of
    the settings parse and ask for LOG_FORMAT=json, as every other refusal at start, else as bare
    lines (no log format is known); the exit status."""
    if rest is not None and rest.log_format == "json":
        setup_logging(rest)
        for line in lines:
            log.critical("cannot start: %s", line)
    else:
        for line in lines:
            print(f"copbot: {line}", file=sys.stderr)
    return 2


def _environment_alone() -> Settings | None:
    """The settings of the environment without .env (None when they do not parse either): how
    to log that .env cannot be read."""
    try:
        return Settings(_env_file=None)  # type: ignore[call-arg]
    except ValidationError:
        return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``copbot`` script."""
    args = build_parser().parse_args(argv)
    # python-dotenv warns of a .env line it cannot parse before copbot's logging is set up (a bare
    # line, outside LOG_FORMAT=json); misspelt_settings reads .env again and its warning is logged.
    dotenv_log = logging.getLogger("dotenv.main")
    dotenv_log.disabled = True
    try:
        settings = Settings()
    except ValidationError as exc:
        return _refused(invalid_settings(exc), parsed_apart_from(exc))
    except (UnicodeDecodeError, OSError) as exc:  # reading .env, the one file settings come from
        return _refused([unreadable_env(exc)], _environment_alone())
    finally:
        dotenv_log.disabled = False
    setup_logging(settings)
    env_file = Settings.model_config.get("env_file")
    for warning in misspelt_settings(os.environ, Path(env_file) if isinstance(env_file, str) else None):
        log.warning("%s", warning)
    match args.command, getattr(args, "action", None):
        case "run", _:
            coro = _run(settings)
        case "console", _:
            coro = _console(settings, args.user)
        case "catalogue", "import":
            left = _database_left(settings, "imported")
            coro = _stoppable("catalogue import", left, lambda _: _import(settings, args.file))
        case "catalogue", "export":
            coro = _stoppable(
                "catalogue export", _file_left(args.file), lambda stop: _export(settings, args.file, stop)
            )
        case "db", "dump":
            coro = _stoppable(
                "db dump", _file_left(args.file), lambda stop: _db_dump(settings, args.file, False, stop)
            )
        case "db", "load":
            left = _database_left(settings, "loaded")
            coro = _stoppable("db load", left, lambda _: _db_dump(settings, args.file, load=True))
        case "db", "backup":
            coro = _stoppable(
                "db backup", _file_left(args.file), lambda stop: _db_backup(settings, args.file, stop)
            )
        case _:
            coro = _db_upgrade(settings)
    try:
        return asyncio.run(coro)
    except StartupError as exc:
        log.critical("cannot start: %s", exc)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # unforeseen: still in the log's format (one JSON object with LOG_FORMAT=json)
        said = " ".join(str(exc).split())[:300]
        log.critical("copbot stopped: %s%s", type(exc).__name__, f": {said}" if said else "", exc_info=exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
