"""The command core in process: p50/p99 of each command at many concurrent callers."""

from __future__ import annotations

import asyncio
import random
import time

from bench.common import NOW, fresh_store, percentile
from commands import dispatch
from commands.types import Actor, Context

LINES = {
    "problem": lambda i: f"/problem {random.choice(['2.4', '1.1', '3.11', '4.2'])}",
    "random": lambda i: "/random difficulty:A",
    "search": lambda i: "/search induction heads",
    "claim": lambda i: f"/claim {random.choice(['2.4', '1.1', '3.11', '4.2'])}",
}


async def run(backend: str, callers: int, rounds: int) -> list[list[str]]:
    """Rows of (backend, command, callers, p50 ms, p99 ms, errors)."""
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

            await asyncio.gather(*(caller(i) for i in range(callers)))
            rows.append(
                [
                    backend,
                    command,
                    str(callers),
                    f"{percentile(timings, 50):.1f}",
                    f"{percentile(timings, 99):.1f}",
                    str(errors),
                ]
            )
    return rows
