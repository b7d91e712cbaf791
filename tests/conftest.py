"""Shared fixtures: a migrated, seeded store on SQLite and on PostgreSQL, a movable clock, and
PostgreSQL behind a link that can be cut."""

from __future__ import annotations

import random
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from commands import dispatch
from commands.types import Actor, Context
from storage.catalogue import ensure_seeded
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.store import Store
from tests.support.clock import FakeClock
from tests.support.pg import admin_sql, pg_url
from tests.support.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "seed.csv"
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

# One template database per test run, migrated and seeded once; each test gets a copy.
_RUN = uuid.uuid4().hex[:8]
_PG_TEMPLATE = f"copbot_tpl_{_RUN}"


async def _seed(url: str) -> None:
    store = Store(make_engine(url))
    try:
        await upgrade(store.engine)
        await ensure_seeded(store, SEED, START)
    finally:
        await store.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded SQLite file, made once per run."""
    import asyncio

    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_seed(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated, seeded PostgreSQL database, made once per run and dropped at its end."""
    import asyncio

    asyncio.run(admin_sql(f'CREATE DATABASE "{_PG_TEMPLATE}"'))
    asyncio.run(_seed(pg_url(_PG_TEMPLATE)))
    yield _PG_TEMPLATE
    asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{_PG_TEMPLATE}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the seeded database for this test, on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "copbot.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    import asyncio

    template_name: str = request.getfixturevalue("pg_template")
    name = f"copbot_t_{_RUN}_{uuid.uuid4().hex[:8]}"
    asyncio.run(admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    yield pg_url(name)
    asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_db_url(pg_template: str) -> Iterator[str]:
    """A fresh copy of the seeded database on PostgreSQL only, for tests of PostgreSQL itself."""
    import asyncio

    name = f"copbot_p_{_RUN}_{uuid.uuid4().hex[:8]}"
    asyncio.run(admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield pg_url(name)
    asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def pg_store(pg_db_url: str) -> AsyncIterator[Store]:
    """The test's own connection to the test's database (to plant claims and check rows)."""
    store = Store(make_engine(pg_db_url))
    yield store
    await store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database (no schema) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    import asyncio

    name = f"copbot_e_{_RUN}_{uuid.uuid4().hex[:8]}"
    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    yield pg_url(name)
    asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh copy of the seeded SQLite database, for tests that only need one backend."""
    path = tmp_path / "copbot.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def sqlite_ctx(sqlite_url: str, clock: FakeClock) -> AsyncIterator[Context]:
    """A command context on a fresh seeded SQLite database, for tests that only need one backend."""
    store = Store(make_engine(sqlite_url))
    yield Context(store=store, clock=clock, rng=random.Random(4))
    await store.close()


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """A store on this test's fresh database."""
    store = Store(make_engine(db_url))
    yield store
    await store.close()


@pytest.fixture
def clock() -> FakeClock:
    """A clock that stands still until a test moves it."""
    return FakeClock(START)


@pytest.fixture
def ctx(store: Store, clock: FakeClock) -> Context:
    """A command context on this test's store and clock, with a seeded random generator."""
    return Context(store=store, clock=clock, rng=random.Random(4))


# The user whose claim opens the store's first connection in ``pg_behind_proxy``.
ANN = Actor("discord", "g1", "u-ann", "Ann")


@pytest.fixture
async def pg_behind_proxy(pg_db_url: str) -> AsyncIterator[tuple[TcpProxy, Context]]:
    """A command context whose store reaches PostgreSQL through a proxy that can cut the link,
    with a 0.5 s DATABASE_TIMEOUT; ann already holds a pooled connection's worth of work."""
    url = make_url(pg_db_url)
    async with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        store = Store(make_engine(str(url.set(port=proxy.port)), timeout=0.5), state_ttl=0)
        ctx = Context(store=store, clock=FakeClock(START), rng=random.Random(1))
        try:
            assert not (await dispatch.run_line(ctx, ANN, "/claim 2.4")).error
            yield proxy, ctx
        finally:
            await store.close()
