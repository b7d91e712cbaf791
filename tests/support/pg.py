"""The PostgreSQL server the tests and benchmarks use: its admin URL, and throwaway databases."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from sqlalchemy.engine import make_url

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


async def _as_admin(work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    url = make_url(PG_ADMIN_URL)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        return await work(conn)
    finally:
        await conn.close()
