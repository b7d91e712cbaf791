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
