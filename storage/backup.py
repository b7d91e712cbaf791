"""A consistent copy of the SQLite database while the bot keeps running."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.engine import changed_while_immutable, file_stamp, is_sqlite, read_only_query
from storage.stopping import check, in_thread


class BackupError(Exception):
    """The database cannot be backed up this way."""


# The files SQLite keeps beside a database while it is in use: writing over one corrupts it.
_SIDE_FILES = ("-wal", "-shm", "-journal")


def _live_file(source: Path, target: Path) -> str | None:
    """Which of the live database's own files ``target`` names (the database, or its -wal,
    -shm or -journal), through any path, symlink or hard link; None when it names none."""
    live = source.resolve()
    files = {"": live, **{side: live.with_name(live.name + side) for side in _SIDE_FILES}}
    aimed = target.resolve()
    for side, path in files.items():
        if aimed == path or (aimed.exists() and path.exists() and os.path.samefile(aimed, path)):
            return side
    return None


def live_target(source: Path, target: Path, what: str) -> str | None:
    """Why ``target`` cannot take ``what`` (the copy, the dump, the export) when it names the
    SQLite database at ``source`` or one of its own files (renamed over it, the database is
    gone, or torn in two); None when it names none of them."""
    side = _live_file(source, target)
    if side is None:
        return None
    named = "the database itself" if not side else f"the database's own {side} file"
    return f"{str(target)!r} is {named} ({str(source)!r}): name the {what} another file"


def _backup_step(source_uri: str, target: Path) -> int:
    """Copy the database at ``source_uri`` into ``target``; the pages copied."""
    with (
        closing(sqlite3.connect(source_uri, uri=True, timeout=30)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        # In one step: copied a batch of pages at a time, SQLite starts the copy over whenever
        # another connection commits between two batches, so a bot that writes steadily kept
        # a large database's backup from ever finishing. One step reads one snapshot (WAL
        # lets the bot write meanwhile).
        src.backup(dst, pages=-1)
        return int(dst.execute("PRAGMA page_count").fetchone()[0])


def _copy(source: Path, target: Path, stop: threading.Event | None = None) -> int:
    """SQLite's online backup API: a consistent snapshot even while others write. Once ``stop``
    is set, :class:`storage.stopping.Stopped` is raised before the copy is put in place."""
    if not source.exists():
        raise BackupError(f"no SQLite database at {str(source)!r}")
    # Checked before anything is written: the copy would take the live file's name (its
    # writes since lost, or a database torn in two when it is the -wal or -shm).
    if refusal := live_target(source, target, "copy"):
        raise BackupError(refusal)
    if not target.name or (target.exists() and not target.is_file()):
        # The copy is made beside the target and renamed over it: over a pipe or a device
        # (/dev/stdout) that would put a file in its place; a folder ("." too) cannot take it.
        kind = "a folder" if not target.name or target.is_dir() else "a pipe or a device"
        raise BackupError(
            f"{str(target)!r} is no file to write the copy to ({kind}): name a file, e.g. copy.db"
        )
    if target.is_symlink():
        # The copy goes where the link points (latest.db → backups/monday.db), as `db dump` and
        # `catalogue export` write through one: renamed over the link, it replaced it by a file.
        target = target.resolve()
    tmp = target.with_name(target.name + ".partial")
    # Made here, empty (what an earlier attempt left is dropped): a folder that is missing or not
    # writable raises OSError in the system's words, where SQLite says "unable to open database file".
    tmp.write_bytes(b"")
    # Read-only needs a URI, so the path is percent-escaped: unescaped, a ``#`` or ``?`` in it
    # would end the path there, and SQLite would create and copy an empty file of that name.
    uri = source.absolute().as_uri()
    try:
        check(stop)
        try:
            pages = _backup_step(f"{uri}?mode=ro", tmp)
        except sqlite3.OperationalError:
            # A folder SQLite may not write in (a read-only mount, another user's): without -shm
            # even a reader fails, so a database nothing has open is read as immutable.
            query = read_only_query(source)
            if query is None or "immutable" not in query:
                raise
            before = file_stamp(source)
            pages = _backup_step(f"{uri}?{query}", tmp)
            if changed_while_immutable(source, query, before):
                raise BackupError(
                    f"{str(source)!r} was written while it was copied without locks (its folder is "
                    "read-only to this user, and a bot opened it meanwhile): run db backup again"
                ) from None
        check(stop)  # the copy is whole, but the run was stopped: the target stays as it was
        tmp.replace(target)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)  # all or nothing: no half copy is left beside the target
        if isinstance(exc, sqlite3.Error):
            raise BackupError(f"cannot copy {str(source)!r} to {str(target)!r}: {exc}") from exc
        raise
    return int(pages)


async def backup(url: str, target: Path, stop: threading.Event | None = None) -> int:
    """Copy the SQLite database at ``url`` to ``target``; returns the pages copied. Cancelled
    (a signal), the copy stops at its next safe point (see :func:`storage.stopping.in_thread`)."""
    if not is_sqlite(url):
        raise BackupError("db backup copies the SQLite file; for PostgreSQL use pg_dump")
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"no SQLite database at {database!r}")
    return await in_thread(stop, _copy, Path(database), target, stop)
