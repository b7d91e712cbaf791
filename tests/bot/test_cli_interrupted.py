"""`copbot db backup FILE`, `db dump FILE` and `catalogue export FILE` stopped midway by SIGTERM
(a service stopped, `kill`) or Ctrl-C (SIGINT), in a real process: no FILE.partial is left, FILE
is as it was, and the command says so and exits non-zero."""

from __future__ import annotations

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

import pytest

ROOT = Path(__file__).resolve().parents[2]
OLD = b"last week's file, which an interrupted run must leave as it was\n"


def start(args: list[str], tmp_path: Path) -> subprocess.Popen[bytes]:
    """`copbot ARGS` in its own process on the data directory ``tmp_path/data``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "DATABASE_"))}
    environ.update(DATA_DIR=str(tmp_path / "data"), LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
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
    """The process's next line on stderr ("" when it ended, or said nothing within ``within``)."""
    assert process.stderr is not None
    ready, _, _ = select.select([process.stderr], [], [], within)
    return process.stderr.readline().decode() if ready else ""


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
