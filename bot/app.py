"""Wiring: the store, migrations, the seed and the command context, built once at start."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime

from bot.config import Settings
from commands.types import Clock, Context
from storage.catalogue import ensure_seeded
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.store import Store

log = logging.getLogger("copbot")


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


async def open_store(settings: Settings, clock: Clock = system_clock) -> Store:
    """Connect, migrate to the latest schema and load the seed catalogue into an empty database."""
    store = Store(make_engine(settings.db_url), state_ttl=settings.state_cache_seconds)
    await upgrade(store.engine)
    report = await ensure_seeded(store, settings.seed_file, clock())
    if report is not None:
        log.info("loaded the catalogue from %s: %s", settings.seed_file, report.summary())
    return store


def make_context(settings: Settings, store: Store, clock: Clock = system_clock) -> Context:
    """The command context for this process."""
    return Context(
        store=store,
        clock=clock,
        rng=random.Random(),
        stale_after_days=settings.stale_after_days,
        stale_grace_days=settings.stale_grace_days,
        submissions_per_hour=settings.submissions_per_hour,
    )
