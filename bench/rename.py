"""`python -m bench.rename [events]`: how long one rename of a member takes (Store.refresh_name
finding their rows under another name and giving every one the new name) in a database holding
``events`` history entries (100,000 by default) of a thousand other members, on SQLite and on
PostgreSQL. Each rename is timed alone (nothing else runs), five times, with a new name each time.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import timedelta

import sqlalchemy as sa

from bench.common import NOW, fresh_store, machine
from storage.claims import Person
from storage.models import Event
from storage.store import Store

RENAMES = 5
MEMBERS = 1_000


async def _fill(store: Store, events: int) -> Person:
    """Ann's claims on three problems (with their history entries), and ``events`` entries of
    others spread over the catalogue; the statistics brought up to date. Returns Ann."""
    ann = Person("discord", "g1", "ann", "Ann")
    numbers = [p.number for p in await store.problems()]
    for number in numbers[:3]:
        await store.claim(number, ann, NOW)
    batch = 10_000
    for start in range(0, events, batch):
        rows = [
            {
                "problem_number": numbers[i % len(numbers)],
                "kind": "renewed",
                "at": NOW - timedelta(minutes=i),
                "actor_platform": "discord",
                "actor_id": f"u{i % MEMBERS}",
                "actor_name": f"user{i % MEMBERS}",
                "detail": "",
            }
            for i in range(start, min(events, start + batch))
        ]
        await store.execute(sa.insert(Event), rows)
    async with store.engine.begin() as conn:
        await conn.execute(sa.text("ANALYZE"))
    return ann


async def measure(backend: str, events: int) -> list[float]:
    """Milliseconds of each of :data:`RENAMES` renames of Ann."""
    async with fresh_store(backend) as store:
        ann = await _fill(store, events)
        spent = []
        for i in range(RENAMES):
            renamed = Person(ann.platform, ann.community_id, ann.user_id, f"Ann {i}")
            started = time.perf_counter()
            assert await store.refresh_name(renamed)
            spent.append((time.perf_counter() - started) * 1000)
        return spent


async def main(events: int) -> None:
    print(f"Machine: {machine()}; {events:,} history entries of others")
    for backend in ("sqlite", "postgresql"):
        spent = await measure(backend, events)
        shown = ", ".join(f"{ms:.1f}" for ms in spent)
        print(f"{backend}: one rename median {statistics.median(spent):.1f} ms ({shown})")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
