"""`copbot db backup FILE`, `db dump FILE` and `catalogue export FILE` stopped midway by SIGTERM
(a service stopped, `kill`) or Ctrl-C (SIGINT), in a real process: no FILE.partial is left, FILE
is as it was, and the command says so and exits non-zero."""

from __future__ import annotations

import asyncio
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest

from storage.engine import make_engine
from storage.migrate import head_revision, upgrade
from tests.support.pg import connect

ROOT = Path(__file__).resolve().parents[2]
OLD = b"last week's file, which an interrupted run must leave as it was\n"


def start(args: list[str], tmp_path: Path, **settings: str) -> subprocess.Popen[bytes]:
    """`copbot ARGS` in its own process on the data directory ``tmp_path/data`` (or ``settings``)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "DATABASE_"))}
    environ.update(DATA_DIR=str(tmp_path / "data"), LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT), **settings)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for(done: object, within: float = 60.0) -> None:
    """Poll ``done()`` (a callable) until it is true; AssertionError after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def stderr_line(process: subprocess.Popen[bytes], within: float = 20.0) -> str:
    """The process's next line on stderr ("" when it ended, or said nothing within ``within``).
    Read a byte at a time from the pipe itself: the buffered readline() could take the next line
    into its buffer too, where communicate() (which reads the pipe) never saw it."""
    assert process.stderr is not None
    fd = process.stderr.fileno()
    deadline = time.monotonic() + within
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        byte = os.read(fd, 1) if ready else b""
        if not byte:
            break
        line += byte
    return line.decode()


def data_dir(tmp_path: Path, template: Path) -> Path:
    """A data directory holding a copy of the seeded database; its path."""
    (tmp_path / "data").mkdir()
    database = tmp_path / "data" / "copbot.db"
    shutil.copyfile(template, database)
    return database


def stopped_cleanly(
    process: subprocess.Popen[bytes], heard: str, what: str, sig: signal.Signals, target: Path
) -> None:
    """``process`` (``what``, writing ``target``) said at ``sig`` that it stops (``heard``), then
    that ``target`` is as it was, exited 128 + the signal's number, and left ``target`` with its
    old content and no other file beside it (no partial file)."""
    _, said = process.communicate(timeout=60)
    errors = said.decode()
    assert f"{sig.name}: stopping" in heard, (heard, errors)
    assert process.returncode == 128 + sig, (process.returncode, heard + errors)
    assert f"{what} stopped by {sig.name}: {target} is as it was" in errors, errors
    assert "Traceback" not in errors
    assert sorted(os.listdir(target.parent)) == sorted(["data", target.name])
    assert target.read_bytes() == OLD


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_backup_stopped_midway_leaves_no_partial_file_and_the_old_copy(
    tmp_path: Path, sqlite_template: Path, sig: signal.Signals
) -> None:
    """The backup is held up mid-copy (another connection holds the database locked), then
    stopped: before, SIGTERM killed it with copy.db.partial left beside copy.db; now it says it
    stops, removes the partial file, and exits 128 + the signal's number with copy.db untouched."""
    database = data_dir(tmp_path, sqlite_template)
    with closing(sqlite3.connect(database, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=DELETE")  # so that a writer's lock holds readers up
    target = tmp_path / "copy.db"
    target.write_bytes(OLD)
    with closing(sqlite3.connect(database, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")
        process = start(["db", "backup", str(target)], tmp_path)
        try:
            wait_for(lambda: (tmp_path / "copy.db.partial").exists() or process.poll() is not None)
            process.send_signal(sig)
            heard = stderr_line(process)
        finally:
            holder.execute("ROLLBACK")
        stopped_cleanly(process, heard, "db backup", sig, target)


@pytest.mark.parametrize(
    ("command", "sig"),
    [(["db", "dump"], signal.SIGTERM), (["catalogue", "export"], signal.SIGINT)],
    ids=["db dump, SIGTERM", "catalogue export, Ctrl-C"],
)
def test_a_dump_or_export_stopped_while_writing_leaves_no_partial_file_and_the_old_file(
    tmp_path: Path, sqlite_template: Path, command: list[str], sig: signal.Signals
) -> None:
    """The file is being written (to FILE.partial, here a pipe the test reads slowly, as a slow
    disk would take it) when the signal comes: before, SIGTERM killed the process with
    FILE.partial left behind; now it removes it and exits 128 + the signal's number, FILE untouched."""
    database = data_dir(tmp_path, sqlite_template)
    with closing(sqlite3.connect(database)) as db:  # a catalogue well beyond a pipe's 64 KiB
        db.execute("UPDATE problem SET text = text || ' ' || printf('%.3000c', 'x')")
        db.commit()
    target = tmp_path / "out.txt"
    target.write_bytes(OLD)
    partial = tmp_path / "out.txt.partial"
    os.mkfifo(partial)
    reader = os.open(partial, os.O_RDONLY | os.O_NONBLOCK)
    process = start([*command, str(target)], tmp_path)
    try:

        def writing() -> bool:
            try:
                return bool(os.read(reader, 1)) or process.poll() is not None
            except BlockingIOError:
                return False

        wait_for(writing)
        process.send_signal(sig)
        heard = stderr_line(process)

        def drained() -> bool:
            try:
                return not os.read(reader, 1 << 16)  # end of file: the writer closed it
            except BlockingIOError:
                return False

        wait_for(drained)
    finally:
        os.close(reader)
    stopped_cleanly(process, heard, " ".join(command), sig, target)


def opened(process: subprocess.Popen[bytes], database: Path) -> bool:
    """Whether ``process`` has ``database`` open (it is at work on it), or has ended."""
    try:
        fds = os.listdir(f"/proc/{process.pid}/fd")
    except OSError:
        return True
    for fd in fds:
        try:
            if os.readlink(f"/proc/{process.pid}/fd/{fd}") == str(database):
                return True
        except OSError:
            pass
    return process.poll() is not None


def written_out(tmp_path: Path, template: Path, command: list[str], name: str) -> Path:
    """``name``, written by ``copbot COMMAND name`` from a copy of the seeded database, whose data
    directory is then removed (the next run starts with none)."""
    data_dir(tmp_path, template)
    made = start([*command, name], tmp_path)
    _, said = made.communicate(timeout=60)
    assert made.returncode == 0, said
    shutil.rmtree(tmp_path / "data")
    return tmp_path / name


def said_at_stop(process: subprocess.Popen[bytes], heard: str, what: str, sig: signal.Signals) -> str:
    """What ``process`` said on stderr after its first line at ``sig``, once it said it stops and
    exited 128 + the signal's number without a traceback."""
    _, said = process.communicate(timeout=60)
    errors = said.decode()
    assert f"{sig.name}: stopping {what}" in heard, (heard, errors)
    assert process.returncode == 128 + sig, (process.returncode, heard + errors)
    assert "Traceback" not in errors, errors
    return errors


@pytest.mark.parametrize(
    ("command", "source", "sig"),
    [
        (["db", "load"], ["db", "dump"], signal.SIGTERM),
        (["catalogue", "import"], ["catalogue", "export"], signal.SIGINT),
    ],
    ids=["db load, SIGTERM", "catalogue import, Ctrl-C"],
)
def test_a_load_or_import_into_a_new_database_stopped_midway_leaves_no_database(
    tmp_path: Path, sqlite_template: Path, command: list[str], source: list[str], sig: signal.Signals
) -> None:
    """`db load` or `catalogue import` into a new SQLite file, stopped once the file is made:
    before, SIGTERM killed the process and left the half-made copbot.db (with -wal, -shm), which the
    next start or load took for the bot's database; now it says it stops, removes what it made
    and exits 128 + the signal's number, and the load then runs whole."""
    file = written_out(tmp_path, sqlite_template, source, "file.out")
    database = tmp_path / "data" / "copbot.db"
    process = start([*command, str(file)], tmp_path)
    wait_for(lambda: database.exists() or process.poll() is not None, within=60)
    process.send_signal(sig)
    heard = stderr_line(process)
    errors = said_at_stop(process, heard, " ".join(command), sig)
    done = "loaded" if command[0] == "db" else "imported"
    assert f"{' '.join(command)} stopped by {sig.name}: nothing was {done}" in errors, errors
    assert f"no database is left at {database}" in errors, errors
    assert not (tmp_path / "data").exists() or os.listdir(tmp_path / "data") == []
    again = start([*command, str(file)], tmp_path)
    out, said = again.communicate(timeout=60)
    assert again.returncode == 0, said
    assert f"{done} {file}" in out.decode()


def test_an_import_into_the_database_stopped_midway_leaves_it_as_it_was(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """`catalogue import` into the bot's database, held up (another connection holds it locked),
    then stopped by SIGTERM: before, it was killed without a word (status -15); now it says it
    stops, imports nothing and exits 143, the catalogue as it was."""
    csv = written_out(tmp_path, sqlite_template, ["catalogue", "export"], "sheet.csv")
    header, first, *rest = csv.read_text().splitlines(keepends=True)
    csv.write_text(header + first.replace(",", ",x", 1) + "".join(rest))  # it changes a problem
    database = data_dir(tmp_path, sqlite_template)
    with closing(sqlite3.connect(database, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=DELETE")  # so that a writer's lock holds others up
        before = db.execute("SELECT * FROM problem ORDER BY number").fetchall()
    with closing(sqlite3.connect(database, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")
        process = start(["catalogue", "import", str(csv)], tmp_path)
        try:
            wait_for(lambda: opened(process, database))
            process.send_signal(signal.SIGTERM)
            heard = stderr_line(process)
        finally:
            holder.execute("ROLLBACK")
        errors = said_at_stop(process, heard, "catalogue import", signal.SIGTERM)
    assert "catalogue import stopped by SIGTERM: nothing was imported" in errors, errors
    assert f"{database} is as it was" in errors, errors
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT * FROM problem ORDER BY number").fetchall() == before


async def migrated_to(url: str, revision: str) -> tuple[asyncpg.Connection, asyncpg.Connection]:
    """The PostgreSQL database ``url`` migrated to ``revision``; two connections to it, one to
    watch copbot's session and one to hold what it waits for."""
    engine = make_engine(url)
    try:
        await upgrade(engine, revision)
    finally:
        await engine.dispose()
    return await connect(url), await connect(url)


async def until(watcher: asyncpg.Connection, sql: str, process: subprocess.Popen[bytes]) -> None:
    """Poll ``sql`` (a count) on ``watcher`` until it is not 0, ``process`` running meanwhile."""
    async with asyncio.timeout(60):
        while not await watcher.fetchval(sql):
            assert process.poll() is None, process.communicate()
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("empty_db_url", ["postgresql"], indirect=True)
async def test_an_upgrade_killed_between_two_migrations_leaves_the_old_schema(
    tmp_path: Path, empty_db_url: str
) -> None:
    """`db upgrade` from 0011, killed by SIGTERM once it has applied 0012 and 0013 and waits for
    the table 0014 alters (another session holds it locked): the upgrade is one transaction, so the
    database is left at 0011 whole (no membership table of 0012), and the next upgrade runs
    to the latest schema. (Why `db upgrade` needs no stop of its own at a signal.)"""
    watcher, holder = await migrated_to(empty_db_url, "0011")
    others = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    waiting = f"{others} AND wait_event_type = 'Lock'"
    altered = (  # 0013 altered community_settings: the upgrade holds it locked, uncommitted
        "SELECT count(*) FROM pg_locks JOIN pg_class ON pg_class.oid = relation"
        " WHERE relname = 'community_settings' AND mode = 'AccessExclusiveLock' AND granted"
    )
    try:
        async with holder.transaction():
            await holder.execute("LOCK TABLE work_link IN ACCESS EXCLUSIVE MODE")
            process = start(["db", "upgrade"], tmp_path, DATABASE_URL=empty_db_url)
            await until(watcher, waiting, process)
            # The upgrade applied 0012 and 0013, uncommitted, and waits for the table 0014 alters.
            assert await watcher.fetchval(altered) == 1
            assert await watcher.fetchval("SELECT to_regclass('membership') IS NULL")
            process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(process.communicate, timeout=60)
        await holder.close()
        async with asyncio.timeout(60):  # the killed upgrade's session ends (rolled back)
            while left := await watcher.fetchval(others):
                assert left == 1
                await asyncio.sleep(0.05)
        assert await watcher.fetchval("SELECT version_num FROM alembic_version") == "0011"
        assert await watcher.fetchval("SELECT to_regclass('membership') IS NULL")
        again = start(["db", "upgrade"], tmp_path, DATABASE_URL=empty_db_url)
        out, said = await asyncio.to_thread(again.communicate, timeout=60)
        assert again.returncode == 0, said
        assert await watcher.fetchval("SELECT version_num FROM alembic_version") == head_revision()
        assert await watcher.fetchval("SELECT to_regclass('membership') IS NOT NULL")
    finally:
        await watcher.close()
        if not holder.is_closed():
            await holder.close()


# Held at the COMMIT by a deferred trigger (on {table}) until the test lets it go. It shrugs off
# the cancel request a stopped client sends, as PostgreSQL's own commit does once its commit
# record is written: the window where a signal lands while the commit is going through anyway.
HOLD_COMMIT = """
CREATE FUNCTION hold_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOOP
        BEGIN
            PERFORM pg_advisory_xact_lock_shared(4711);
            RETURN NULL;
        EXCEPTION WHEN query_canceled THEN
            NULL;
        END;
    END LOOP;
END $$;
CREATE CONSTRAINT TRIGGER hold_commit AFTER INSERT ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION hold_commit();
"""


@pytest.mark.parametrize(
    ("command", "source", "table", "done"),
    [
        (["db", "load"], ["db", "dump"], "event", "loaded"),
        (["catalogue", "import"], ["catalogue", "export"], "problem", "imported"),
    ],
    ids=["db load", "catalogue import"],
)
@pytest.mark.parametrize("empty_db_url", ["postgresql"], indirect=True)
async def test_a_load_or_import_whose_commit_goes_through_at_the_signal_says_it_did(
    tmp_path: Path,
    sqlite_template: Path,
    empty_db_url: str,
    command: list[str],
    source: list[str],
    table: str,
    done: str,
) -> None:
    """`db load` or `catalogue import` into an existing (migrated, empty) database, SIGTERM while
    its COMMIT is going through: before, the command said "nothing was loaded/imported … is as it
    was" and exited 143 though the rows were in the database (a second load said it already held
    the dump); now it waits for the commit's answer and says what it did (status 0), as after a
    commit."""
    file = written_out(tmp_path, sqlite_template, source, "file.out")
    what = " ".join(command)
    watcher, holder = await migrated_to(empty_db_url, head_revision())
    at_commit = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND query ILIKE 'COMMIT%'"
    )
    try:
        await watcher.execute(HOLD_COMMIT.format(table=table))
        await holder.execute("SELECT pg_advisory_lock(4711)")
        process = start([*command, str(file)], tmp_path, DATABASE_URL=empty_db_url)
        await until(watcher, at_commit, process)
        process.send_signal(signal.SIGTERM)
        heard = await asyncio.to_thread(stderr_line, process)
        assert f"SIGTERM: stopping {what}" in heard, heard
        await holder.execute("SELECT pg_advisory_unlock(4711)")
        out, said = await asyncio.to_thread(process.communicate, timeout=60)
        errors = said.decode()
        held = await watcher.fetchval("SELECT count(*) FROM problem")
    finally:
        await watcher.close()
        await holder.close()
    assert held == 98  # the commit went through
    assert f"nothing was {done}" not in errors, errors
    assert "Traceback" not in errors, errors
    assert process.returncode == 0, (process.returncode, errors)
    assert f"{done} {file}" in out.decode() and "98 " in out.decode(), out
