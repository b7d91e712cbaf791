"""Run the Alembic migrations from inside the running event loop, safely across replicas."""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# An arbitrary constant shared by every copbot process: the key of the migration lock.
ADVISORY_LOCK_KEY = 0x636F70626F74


# Alembic keeps its context in module globals, so two upgrades in one process must not interleave.
_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def alembic_config() -> Config:
    """An Alembic config pointing at our migrations, with no ini file needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The schema revision this copbot's migrations end at."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this copbot's migrations (an older schema, or the head)."""
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision``; on PostgreSQL under an advisory transaction lock.

    Replicas that start together queue on the lock, and the later ones find nothing to do.
    """
    lock = _LOCKS.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        for attempt in range(5):
            try:
                await _upgrade_once(engine, revision)
                return
            except OperationalError:
                # SQLite may refuse a lock outright (not via busy_timeout) while other processes
                # start on the same fresh file; the upgrade is one transaction, so just try again.
                if engine.dialect.name != "sqlite" or attempt == 4:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))


async def _upgrade_once(engine: AsyncEngine, revision: str) -> None:
    async with engine.connect() as connection:
        # The upgrade is one transaction (begun in migrations/env.py, or here by the lock); on
        # SQLite its BEGIN IMMEDIATE already serialises the replicas.
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        await connection.run_sync(_upgrade, revision)
        await connection.commit()
