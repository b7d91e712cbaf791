"""Watching CPython's garbage collections and copbot's requests in flight, for the idle-GC tests."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.idle_gc import COLLECTOR, IdleCollector


@dataclass
class Watch:
    """Each collection's generation and the requests in flight when it began; the most requests
    ever seen in flight (looked at every 0.2 ms)."""

    collector: IdleCollector
    collections: list[tuple[int, int]] = field(default_factory=list)
    most_in_flight: int = 0
    kept: list[list[object]] = field(default_factory=list)  # objects that made a collection due
    collected: asyncio.Event = field(default_factory=asyncio.Event)  # one has run

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self.collections.append((info["generation"], self.collector.in_flight))
        else:
            self.collected.set()

    async def look(self) -> None:
        # Not sleep(0): a loop that never idles keeps the GIL, and a thread (SQLite's readers)
        # then waits up to 5 ms for it at every step: a cold /problem took over 3 s that way.
        # A request stays in flight for milliseconds; a look every 0.2 ms still sees it.
        while True:
            self.most_in_flight = max(self.most_in_flight, self.collector.in_flight)
            await asyncio.sleep(0.0002)

    async def first_collection(self) -> None:
        """Wait (5 s at most) until a collection ran since the watch began."""
        async with asyncio.timeout(5.0):
            await self.collected.wait()


@contextlib.contextmanager
def gc_state() -> Iterator[None]:
    """Give CPython's collector its thresholds and its on/off state back afterwards."""
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        (gc.enable if enabled else gc.disable)()


def make_due(threshold: int) -> list[list[object]]:
    """Allocate (and keep) more young objects than ``threshold``: a young collection is due."""
    return [[] for _ in range(threshold + 100)]


@contextlib.asynccontextmanager
async def watching(collector: IdleCollector) -> AsyncIterator[Watch]:
    """Record collections and requests in flight while the block runs."""
    watch = Watch(collector)
    gc.callbacks.append(watch.on_gc)
    looking = asyncio.ensure_future(watch.look())
    try:
        yield watch
    finally:
        looking.cancel()
        gc.callbacks.remove(watch.on_gc)


@contextlib.asynccontextmanager
async def idle_collection() -> AsyncIterator[Watch]:
    """The process's collector started (as ``copbot run`` starts it) from CPython's defaults,
    with a young collection due: watched while the block runs."""
    with gc_state():
        gc.enable()
        gc.set_threshold(700, 10, 10)
        gc.collect()
        COLLECTOR.start()
        try:
            async with watching(COLLECTOR) as watch:
                watch.kept = make_due(700)
                yield watch
        finally:
            COLLECTOR.stop()
