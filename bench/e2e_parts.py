"""Where copbot's time per request goes, measured from the outside: its parts, one call at a time.

The end-to-end runs give the whole; this times, in this process on a fresh seeded SQLite file
(as the bot's), the pieces copbot adds on top of the framework for one request, sequentially so
nothing queues: the command core for each
command of the mix, and rendering a problem card for each platform. Wall time and CPU time
(``process_time``: this thread plus aiosqlite's and the writer thread's) per call. Last, /claim as
Discord runs it (the interaction id recorded in the claim's transaction) with several calls in
flight at once (wall time per call = the inverse of its throughput).

How each part is timed: :data:`NOTE`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable

from bench.common import NOW, fresh_store
from bench.e2e import NUMBERS, QUERIES, fmt
from bot.discord import render as discord_render
from bot.slack import render as slack_render
from commands import dispatch
from commands.types import Actor, Context, Reply

HEADER = [
    "part",
    "calls",
    "wall ms per call",
    "CPU ms per call",
    "idle 5 ms before each: wall ms",
    "CPU ms",
]
SPACING = 0.005  # seconds idle before each call (round) in the second timing: 200 requests/s

NOTE = """\
Each part is timed twice: calls back to back, and calls spaced as the end-to-end load at 200/s
spaces requests (the process idle 5 ms before each, only the call timed). Back to back, a call
finds the code and data it needs in the CPU's caches, left there by the call before; after 5 ms
idle it finds them cold (measured for /problem: 0.02 ms back to back; 0.13-0.17 ms after 5 ms
asleep, as after touching 16 MB of other memory; 0.06 ms after 5 ms spinning instead of asleep),
and waits for memory. That is how requests reach the bot in the end-to-end runs, so that column
is the one to set beside them.
"""


async def _time(
    calls: int, work: Callable[[int], Awaitable[object]], at_once: int = 1, idle: float = 0.0
) -> tuple[float, float]:
    """Wall and CPU ms per call over ``calls`` calls, ``at_once`` running together each round,
    the process idle ``idle`` seconds before each round (not timed)."""
    wall = cpu = 0.0
    for start in range(0, calls, at_once):
        if idle:
            await asyncio.sleep(idle)
        wall_at, cpu_at = time.perf_counter(), time.process_time()
        await asyncio.gather(*(work(i) for i in range(start, min(calls, start + at_once))))
        wall, cpu = wall + time.perf_counter() - wall_at, cpu + time.process_time() - cpu_at
    return wall * 1000 / calls, cpu * 1000 / calls


async def _row(
    name: str, calls: int, work: Callable[[int], Awaitable[object]], at_once: int = 1
) -> list[str]:
    """A row of the table: ``work`` timed back to back, then spaced."""
    for i in range(min(20, calls)):  # first-use costs (compiled statements, imports), once
        await work(-1 - i)
    wall, cpu = await _time(calls, work, at_once)
    spaced_wall, spaced_cpu = await _time(calls, work, at_once, SPACING)
    return [name, str(calls), fmt(wall, 2), fmt(cpu, 2), fmt(spaced_wall, 2), fmt(spaced_cpu, 2)]


async def run(calls: int) -> list[list[str]]:
    """Rows of (part, calls, wall ms, CPU ms)."""
    import random

    rows: list[list[str]] = []
    async with fresh_store("sqlite") as store:
        ctx = Context(store=store, clock=lambda: NOW, rng=random.Random(1))

        def actor(i: int) -> Actor:
            return Actor("discord", "g1", f"user{i % 20}", f"User {i % 20}")

        texts = {
            "help": lambda i: "",
            "problem": lambda i: NUMBERS[i % len(NUMBERS)],
            "random": lambda i: f"difficulty:{'ABCD'[i % 4]}",
            "search": lambda i: QUERIES[i % len(QUERIES)],
            "claim": lambda i: NUMBERS[i % len(NUMBERS)],
        }
        parts: list[tuple[str, Callable[[int], Awaitable[object]]]] = []
        for command, text in texts.items():

            async def core(i: int, command: str = command, text: Callable[[int], str] = text) -> object:
                return await dispatch.run_text(ctx, actor(i), command, text(i))

            parts.append((f"core /{command}", core))

        # The mix repeats five queries, whose words' matches the search index then keeps; this
        # one's words were never searched before (a number makes each new, still close enough to
        # a catalogue word to match it).
        fresh = itertools.count()  # not the call's index: each row times its calls twice

        async def new_words(i: int) -> object:
            n = next(fresh)
            return await dispatch.run_text(ctx, actor(i), "search", f"induction{n} heads{n}")

        parts.append(("core /search, words never searched before", new_words))
        card: Reply = await dispatch.run_text(ctx, actor(0), "problem", "2.4")

        async def render_discord(i: int) -> object:
            return discord_render.message(card)

        async def render_slack(i: int) -> object:
            return slack_render.message(card)

        parts += [("render a problem card, Discord", render_discord)]
        parts += [("render a problem card, Slack", render_slack)]
        for name, work in parts:
            rows.append(await _row(name, calls, work))
        # Writers of this process queue for SQLite's one write lock (see Store.write).
        interaction_ids = itertools.count()  # likewise: an id is recorded once
        for at_once in (1, 4, 10, 30):

            async def concurrent(i: int) -> object:
                with store.applying(f"discord:interaction:{next(interaction_ids)}", NOW):
                    return await dispatch.run_text(ctx, actor(i), "claim", NUMBERS[i % len(NUMBERS)])

            rows.append(
                await _row(f"/claim with its interaction id, {at_once} at once", calls, concurrent, at_once)
            )
    return rows
