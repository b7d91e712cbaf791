"""Alembic environment: runs on the connection handed over by ``storage.migrate``."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

from storage import models  # noqa: F401  (registers every table on SQLModel.metadata)
from storage.engine import make_engine

target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    # Every migration in one transaction, begun before Alembic looks: Alembic joins a transaction
    # it finds, but on SQLite (no transactional DDL, to Alembic) it would commit after each
    # migration, and a replica reading the version between two of those commits would apply a
    # migration again. The caller commits.
    if not connection.in_transaction():
        connection.begin()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone(url: str) -> None:
    engine = make_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # the `alembic` command line, e.g. for autogenerate: sqlalchemy.url from the ini/-x
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("pass -x url=DATABASE_URL")
    asyncio.run(_run_standalone(url))
