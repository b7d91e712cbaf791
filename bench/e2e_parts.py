"""Where copbot's time per request goes, measured from the outside: its parts, one call at a time.

The end-to-end runs give the whole; this times, in this process on a fresh seeded SQLite file
(as the bot's), the pieces copbot adds on top of the framework for one request, sequentially so
nothing queues: the command core for each
command of the mix, and rendering a problem card for each platform. Wall time and CPU time
(``process_time``: this thread plus aiosqlite's and the writer thread's) per call. Last, /claim as
Discord runs it (the interaction id recorded in the claim's transaction) with several calls in
flight at once (wall time per call = the inverse of its throughput).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bench.common import NOW, fresh_store
from bench.e2e import NUMBERS, QUERIES, fmt
from bot.discord import render as discord_render
from bot.slack import render as slack_render
from commands import dispatch
from commands.types import Actor, Context, Reply

HEADER = ["part", "calls", "wall ms per call", "CPU ms per call"]


async def _time(
    calls: int, work: Callable[[int], Awaitable[object]], at_once: int = 1
) -> tuple[float, float]:
    """Wall and CPU ms per call over ``calls`` calls, ``at_once`` running together each round."""
    for i in range(min(20, calls)):  # warm caches (compiled statements, imports)
        await work(-1 - i)
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, calls, at_once):
        await asyncio.gather(*(work(i) for i in range(start, min(calls, start + at_once))))
    return (time.perf_counter() - wall) * 1000 / calls, (time.process_time() - cpu) * 1000 / calls


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
        async def new_words(i: int) -> object:
            return await dispatch.run_text(ctx, actor(i), "search", f"induction{i} heads{i}")

        parts.append(("core /search, words never searched before", new_words))
        card: Reply = await dispatch.run_text(ctx, actor(0), "problem", "2.4")

        async def render_discord(i: int) -> object:
            return discord_render.message(card)

        async def render_slack(i: int) -> object:
            return slack_render.message(card)

        parts += [("render a problem card, Discord", render_discord)]
        parts += [("render a problem card, Slack", render_slack)]
        for name, work in parts:
            wall, cpu = await _time(calls, work)
            rows.append([name, str(calls), fmt(wall, 2), fmt(cpu, 2)])
        # Writers of this process queue for SQLite's one write lock; each claim is one hand-off
        # to the writer thread.
        for at_once in (1, 4, 10, 30):

            async def concurrent(i: int, at_once: int = at_once) -> object:
                with store.applying(f"discord:interaction:{at_once}:{i}", NOW):
                    return await dispatch.run_text(ctx, actor(i), "claim", NUMBERS[i % len(NUMBERS)])

            wall, cpu = await _time(calls, concurrent, at_once)
            rows.append(
                [f"/claim with its interaction id, {at_once} at once", str(calls), fmt(wall, 2), fmt(cpu, 2)]
            )
    return rows
