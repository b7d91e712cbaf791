"""The work a Slack front end has in flight for the requests it received, and whether it takes new ones."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class InFlight:
    """Answers and events still being worked on, which closing lets finish; ``closing`` once
    new commands, buttons and forms are answered that copbot is restarting."""

    def __init__(self) -> None:
        """Nothing in flight, taking work."""
        self.closing = False
        self._tasks: set[asyncio.Future[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``work`` in a task counted in flight."""
        task = asyncio.create_task(work)
        self.track(task)
        return task

    def track(self, work: asyncio.Future[Any]) -> None:
        """Count ``work`` among the requests in flight until it is done (see :meth:`drain`)."""
        self._tasks.add(work)
        work.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until the work of every request received so far has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
