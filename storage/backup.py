"""A consistent copy of the SQLite database while the bot keeps running."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.engine import is_sqlite


class BackupError(Exception):
    """The database cannot be backed up this way."""


def _copy(source: Path, target: Path) -> int:
    """SQLite's online backup API: a consistent snapshot even while others write."""
    if not source.exists():
        raise BackupError(f"no SQLite database at {str(source)!r}")
    tmp = target.with_name(target.name + ".partial")
    tmp.unlink(missing_ok=True)
    # Read-only needs a URI, so the path is percent-escaped: unescaped, a ``#`` or ``?`` in it
    # would end the path there, and SQLite would create and copy an empty file of that name.
    src = sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst, pages=1024)
        pages = dst.execute("PRAGMA page_count").fetchone()[0]
    finally:
        dst.close()
        src.close()
    tmp.replace(target)
    return int(pages)


async def backup(url: str, target: Path) -> int:
    """Copy the SQLite database at ``url`` to ``target``; returns the pages copied."""
    if not is_sqlite(url):
        raise BackupError("db backup copies the SQLite file; for PostgreSQL use pg_dump")
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"no SQLite database at {database!r}")
    return await asyncio.to_thread(_copy, Path(database), target)
