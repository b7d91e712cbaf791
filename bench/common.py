"""Shared helpers for the benchmarks: fresh databases, percentiles, a results table."""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from storage.catalogue import ensure_seeded
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.store import Store
from tests.support.pg import admin_sql, pg_url

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "seed.csv"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) of ``values``."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[min(98, max(0, int(q) - 1))]


def machine() -> str:
    """One line about the machine the numbers come from."""
    python = platform.python_version()
    return f"{platform.node()} · {platform.machine()} · {os.cpu_count()} cores · Python {python}"


@asynccontextmanager
async def fresh_store(backend: str, *, seed: bool = True) -> AsyncIterator[Store]:
    """A migrated (and seeded) store on a throwaway SQLite file or PostgreSQL database."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(make_engine(f"sqlite+aiosqlite:///{tmp}/bench.db", pool_size=20))
            try:
                await upgrade(store.engine)
                if seed:
                    await ensure_seeded(store, SEED, NOW)
                yield store
            finally:
                await store.close()
        return
    name = f"copbot_bench_{uuid.uuid4().hex[:8]}"
    await admin_sql(f'CREATE DATABASE "{name}"')
    url = pg_url(name)
    store = Store(make_engine(url, pool_size=20))
    try:
        await upgrade(store.engine)
        if seed:
            await ensure_seeded(store, SEED, NOW)
        yield store
    finally:
        await store.close()
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
