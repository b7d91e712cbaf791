"""The PostgreSQL server the tests and benchmarks use: its admin URL, and throwaway databases."""

from __future__ import annotations

import os

import asyncpg
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get("COPBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pg_url(database: str) -> str:
    """An asyncpg SQLAlchemy URL for a database on the test server."""
    return str(make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=database))


async def admin_sql(sql: str) -> None:
    """Run one statement (CREATE/DROP DATABASE…) as the admin, outside any transaction."""
    url = make_url(PG_ADMIN_URL)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
