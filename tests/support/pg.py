"""The PostgreSQL server the tests and benchmarks use: its admin URL, throwaway databases, and
row locks a test holds to stop copbot at a known point."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select

from storage.models import Claim, WorkLink
from storage.store import Store

T = TypeVar("T")
PG_ADMIN_URL = os.environ.get("COPBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pg_url(database: str) -> str:
    """An asyncpg SQLAlchemy URL for a database on the test server."""
    return str(make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=database))


async def admin_sql(sql: str) -> None:
    """Run one statement (CREATE/DROP DATABASE…) as the admin, outside any transaction."""
    await _as_admin(lambda conn: conn.execute(sql))


async def admin_value(sql: str, *args: object) -> object:
    """The first column of the first row of one query run as the admin."""
    return await _as_admin(lambda conn: conn.fetchval(sql, *args))


async def connect(url: str) -> asyncpg.Connection:
    """A plain asyncpg connection to the database ``url`` (a SQLAlchemy or libpq URL) names."""
    parts = make_url(url)
    return await asyncpg.connect(
        host=parts.host, port=parts.port or 5432, user=parts.username, database=parts.database
    )


async def _as_admin(work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    conn = await connect(PG_ADMIN_URL)
    try:
        return await work(conn)
    finally:
        await conn.close()


async def lock_rows(store: Store, table: type[Claim] | type[WorkLink], ids: list[int]) -> AsyncConnection:
    """Lock rows in a transaction of the test's own; closing the connection releases them."""
    conn = await store.engine.connect()
    await conn.execute(select(table.id).where(col(table.id).in_(ids)).with_for_update())
    return conn


async def lock_waiters_on(store: Store, query: str) -> int:
    """How many sessions wait for a lock in a statement that holds ``query`` (such as
    ``pg_advisory_xact_lock``), now."""
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND query ILIKE :query"
    ).bindparams(query=f"%{query}%")
    async with store.engine.connect() as conn:
        return int((await conn.execute(waiting)).scalar_one())


async def lock_waiters(store: Store, table: str, *, at_least: int, timeout: float) -> int:  # noqa: ASYNC109
    """Wait until ``at_least`` sessions wait for a lock to update ``table``; how many do."""
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND query ILIKE :update"
    ).bindparams(update=f"UPDATE {table} %")
    async with asyncio.timeout(timeout):
        while True:
            async with store.engine.connect() as conn:
                waiting = int((await conn.execute(query)).scalar_one())
            if waiting >= at_least:
                return waiting
            await asyncio.sleep(0.05)
