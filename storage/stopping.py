"""Work that a signal may stop midway. In a thread (``db backup``, ``db dump``, ``catalogue
export`` writing their file): the thread checks a :class:`threading.Event` at safe points, and
leaves its partial file removed when it is set. After a commit (``db load``, ``catalogue
import``): the database is closed all the same, and the command reports what it did."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class Stopped(Exception):
    """The work was stopped before its file was put in place: nothing was written there."""


def check(stop: threading.Event | None) -> None:
    """Raise :class:`Stopped` once ``stop`` is set."""
    if stop is not None and stop.is_set():
        raise Stopped("stopped before the file was in place")


async def in_thread(stop: threading.Event | None, work: Callable[..., T], *args: object) -> T:
    """``work(*args)`` in a thread. Cancelled meanwhile (a signal), ``stop`` is set and the thread
    waited for: it stops at its next check with its partial file removed, and the cancellation
    goes on; when it had finished already (its file whole and in place), its result is returned."""
    if stop is None:
        return await asyncio.to_thread(work, *args)
    return await finish(asyncio.to_thread(work, *args), stop)


async def finish(work: Awaitable[T], stop: threading.Event | None = None) -> T:
    """``work`` awaited to its end even when cancelled meanwhile (a signal): ``stop`` is set, and
    when ``work`` then raises :class:`Stopped` the cancellation goes on; when it ends otherwise
    (its file in place, its transaction committed and the database closed) the cancellation is
    taken back and its result returned, for the command to report what it did."""
    worker = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(worker)
    except asyncio.CancelledError as cancelled:
        if stop is not None:
            stop.set()
        try:
            result = await worker
        except Stopped:
            raise cancelled from None
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        return result
