"""The command core in process: p50/p99 of each command at many concurrent callers (see NOTE)."""

from __future__ import annotations

import asyncio
import random
import time

from bench.common import NOW, fresh_store, percentile
from commands import dispatch
from commands.types import Actor, Context

NOTE = """\
Each of the callers makes its calls one after another, all callers at once (item 3): a call that
waits for the database (on PostgreSQL every statement is a round trip; on SQLite the hot reads and
writes never wait, see storage/database.py) waits meanwhile behind the other callers' work: on average
a call takes callers ÷ calls/s (Little's law), mostly waiting. The same queueing sets the p99 of
the reads on PostgreSQL: the few calls that miss the cached state of a problem (kept 2 s there)
wait for a read whose every round trip waits its turn behind the other callers. CPU: this process's
(all threads), not PostgreSQL's. One call of each command runs first, untimed: the first call after
a start loads the catalogue, and all the callers would wait for it at once.
"""

LINES = {
    "problem": lambda i: f"/problem {random.choice(['2.4', '1.1', '3.11', '4.2'])}",
    "random": lambda i: "/random difficulty:A",
    "search": lambda i: "/search induction heads",
    "claim": lambda i: f"/claim {random.choice(['2.4', '1.1', '3.11', '4.2'])}",
}


async def run(backend: str, callers: int, rounds: int) -> list[list[str]]:
    """Rows of (backend, command, callers, p50 ms, p99 ms, calls/s, CPU ms per call, errors)."""
    rows = []
    async with fresh_store(backend) as store:
        ctx = Context(store=store, clock=lambda: NOW, rng=random.Random(1))
        for command, make in LINES.items():
            timings: list[float] = []
            errors = 0

            async def caller(i: int, make=make, timings=timings) -> None:
                nonlocal errors
                actor = Actor("bench", "c1", f"user{i}", f"User {i}")
                for _ in range(rounds):
                    started = time.perf_counter()
                    reply = await dispatch.run_line(ctx, actor, make(i))
                    timings.append((time.perf_counter() - started) * 1000)
                    errors += reply.error

            wall, cpu = time.perf_counter(), time.process_time()
            # One call first: the first after a start loads the catalogue (and problem states)
            # that every caller then waits for at once; this table is about the calls after it.
            await dispatch.run_line(ctx, Actor("bench", "c1", "warm-up", "Warm-up"), make(-1))
            await asyncio.gather(*(caller(i) for i in range(callers)))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rows.append(
                [
                    backend,
                    command,
                    str(callers),
                    f"{percentile(timings, 50):.1f}",
                    f"{percentile(timings, 99):.1f}",
                    f"{len(timings) / wall:,.0f}",
                    f"{cpu * 1000 / len(timings):.2f}",
                    str(errors),
                ]
            )
    return rows
