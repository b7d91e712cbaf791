"""The interactions and reactions a Discord front end is handling, the gateway events whose
database work is under way, and whether it takes new interactions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from bot import idle_gc


class InFlight:
    """Work in flight, which closing lets finish; ``closing`` once new work is turned away."""

    def __init__(self) -> None:
        """Nothing in flight, taking work."""
        self.closing = False
        self._tasks: set[asyncio.Task[Any]] = set()

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """Count the current task as work in flight, which closing lets finish (and which
        garbage collection waits for, see :mod:`bot.idle_gc`)."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            with idle_gc.COLLECTOR.busy():
                yield
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def drain(self) -> None:
        """Return once the work in flight is done."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def settle(self, grace: float) -> None:
        """Let the work in flight finish, for at most ``grace`` seconds."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)
