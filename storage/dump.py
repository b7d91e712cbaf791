"""Moving a whole database between backends (SQLite → PostgreSQL): one JSON line a row."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from storage import models  # noqa: F401  (registers the tables)
from storage.stopping import check, in_thread
from storage.store import Store

# Written a piece at a time, so that a run stopped while a large file is written stops soon.
_PIECE = 1 << 20


class DumpError(Exception):
    """The dump cannot be loaded here."""


def _encode(value: Any) -> Any:
    return {"$dt": value.isoformat()} if isinstance(value, datetime) else value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    return value


@asynccontextmanager
async def _snapshot(store: Store) -> AsyncIterator[AsyncConnection]:
    """One read-only view of every table, however replicas write meanwhile. SQLite's read
    transaction is one snapshot; PostgreSQL's default isolation (READ COMMITTED) takes one per
    statement, so an event could be dumped without the claim it names, and the dump not load."""
    if store.dialect != "postgresql":
        async with store.read() as session:
            yield await session.connection()
        return
    async with store.engine.connect() as conn:
        snapshot = await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        async with snapshot.begin():
            yield snapshot


async def dump(store: Store, path: Path) -> dict[str, int]:
    """Write every table's rows to ``path``; returns rows per table."""
    counts, text = await read_all(store)
    await write_whole(path, text)
    return counts


def _write_whole(path: Path, text: str, stop: threading.Event | None = None) -> None:
    """``text`` at ``path`` whole or not at all: written beside it, then renamed over it, so
    that a failed write, or one stopped (``stop`` set: :class:`storage.stopping.Stopped`), leaves
    nothing there (what was there stays). A path that is no regular file (/dev/stdout, a pipe)
    is written as it is."""
    if path.exists() and not path.is_file():
        path.write_text(text, encoding="utf-8", newline="")
        return
    path = path.resolve() if path.is_symlink() else path  # the file a link names, the link kept
    tmp = path.with_name(path.name + ".partial")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as out:
            for start in range(0, len(text), _PIECE):
                check(stop)
                out.write(text[start : start + _PIECE])
        check(stop)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


async def write_whole(path: Path, text: str, stop: threading.Event | None = None) -> None:
    """:func:`_write_whole` in a thread; cancelled (a signal), it stops at its next piece with
    nothing left beside ``path`` (see :func:`storage.stopping.in_thread`)."""
    await in_thread(stop, _write_whole, path, text, stop)


async def read_all(store: Store) -> tuple[dict[str, int], str]:
    """Every table's rows as the dump's JSON lines, read in one snapshot; and rows per table."""
    counts: dict[str, int] = {}
    lines: list[str] = []
    async with _snapshot(store) as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows = (await conn.execute(sa.select(table))).mappings().all()
            counts[table.name] = len(rows)
            for row in rows:
                lines.append(
                    json.dumps({"table": table.name, "row": {k: _encode(v) for k, v in row.items()}})
                )
    return counts, "\n".join(lines) + "\n"


Rows = dict[str, list[dict[str, Any]]]


def _read_dump(path: Path) -> Rows:
    """A dump's rows by table, each line checked: a JSON object naming a table of copbot's, its
    row only columns that table has, and the same columns as that table's other rows (SQLAlchemy
    inserts them together). DumpError names the first line that is not, or a file without rows;
    OSError for the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:  # a SQLite file (copbot.db, a backup) given for its dump
        raise DumpError(f"not a copbot dump: not UTF-8 text (byte {exc.start})") from None
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    by_table: Rows = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            row = {k: _decode(v) for k, v in item["row"].items()}
            name = item["table"]
            rows = by_table.setdefault(name, [])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DumpError(f"line {number}: not a copbot dump line ({exc})") from None
        table = tables.get(name)
        if table is None:
            continue  # every unknown table is named at once below
        if extra := sorted(set(row) - set(table.c.keys())):
            shown = ", ".join(str(column)[:40] for column in extra[:5])
            raise DumpError(f"line {number}: a {name} row with a column copbot's {name} table lacks: {shown}")
        if rows and set(row) != set(rows[0]):
            differ = ", ".join(sorted(set(rows[0]) ^ set(row))[:5])
            raise DumpError(
                f"line {number}: a {name} row with other columns than the rows before it ({differ})"
            )
        rows.append(row)
    if unknown := set(by_table) - set(tables):
        raise DumpError(f"unknown tables in the dump: {', '.join(sorted(unknown))}")
    if not by_table:  # loaded, it made a database and said "loaded", as if the move were done
        raise DumpError("no rows in it (an empty file, or the dump of an empty database): nothing to load")
    return by_table


async def read_dump(path: Path) -> Rows:
    """:func:`_read_dump` in a thread: read and checked before any database is opened."""
    return await asyncio.to_thread(_read_dump, path)


async def _loaded_before(conn: AsyncConnection, event: sa.Table, rows: list[dict[str, Any]]) -> bool:
    """Whether the database holds the dump's last history entry as the dump has it (same id,
    problem, kind and time): the dump was loaded into it before, rather than copbot started on
    it (its seed's entries are stamped with that start's time)."""
    if not rows:
        return False
    last = max(rows, key=lambda row: row.get("id") or 0)
    held = (
        await conn.execute(
            sa.select(event.c.problem_number, event.c.kind, event.c.at).where(event.c.id == last.get("id"))
        )
    ).first()
    return held is not None and tuple(held) == (last.get("problem_number"), last.get("kind"), last.get("at"))


async def load(store: Store, path: Path | Rows) -> dict[str, int]:
    """Load a dump (its file, or the rows :func:`read_dump` read from it) into an empty,
    migrated (not seeded) database, all or nothing; rows per table."""
    by_table = await read_dump(path) if isinstance(path, Path) else path
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    try:
        # finish_commit: a signal (db load stopped) that lands while the commit goes through
        # waits for its answer, so that the command says what became of the load.
        async with store.transaction(finish_commit=True) as conn:
            for name in ("problem", "claim", "work_link", "event"):
                if (await conn.execute(sa.select(sa.func.count()).select_from(tables[name]))).scalar_one():
                    if await _loaded_before(conn, tables["event"], by_table.get("event", [])):
                        raise DumpError(
                            "the target database already holds this dump (its last history entry is "
                            "there): it was loaded before, and nothing was loaded again; start copbot on it"
                        )
                    raise DumpError(
                        f"the target database already has {name} rows: load into an empty database, "
                        "one copbot has never started on (its first start loads the seed catalogue)"
                    )
            for table in SQLModel.metadata.sorted_tables:
                rows = by_table.get(table.name, [])
                if rows:
                    await conn.execute(sa.insert(table), rows)
            if store.dialect == "postgresql":
                for table in SQLModel.metadata.sorted_tables:
                    if "id" in table.c and by_table.get(table.name):
                        sequence = f"pg_get_serial_sequence('{table.name}', 'id')"
                        await conn.execute(sa.text(f"SELECT setval({sequence}, MAX(id)) FROM {table.name}"))
    except IntegrityError as exc:
        raise DumpError(
            f"the dump does not hold together (a row names one it lacks, or two rows clash), so "
            f"nothing was loaded: {exc.orig}"
        ) from None
    except StatementError as exc:  # a value the column cannot take: said without the rows
        said = " ".join(str(exc.orig).split())[:300]
        raise DumpError(f"a row copbot's tables cannot take, so nothing was loaded: {said}") from None
    store.catalogue_changed()
    return {name: len(rows) for name, rows in by_table.items()}
