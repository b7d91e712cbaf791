"""Start a coroutine eagerly: run it at once, and hand it to a task only if it has to wait.

What Python 3.12's eager tasks do (``asyncio.eager_task_factory``), for the one place that needs
it on 3.11. A Slack command must be acked within 3 s, so its work runs apart from the ack in
case it is slow; but most commands finish without waiting for anything (their data is cached,
a SQLite write runs on the event loop), and a task for them costs three turns of the event
loop per request, each letting other requests in before this one is answered. Started eagerly,
such work is finished before this function returns, with no task at all.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")


def start(work: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
    """Run ``work`` until it finishes or first waits.

    Finished (or failed): a future already done with its result (or exception). Waiting: a task
    that runs the rest of it, as :func:`asyncio.create_task` would have run all of it. Either
    way ``work`` runs in a copy of the current context, as a task's coroutine does.
    """
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    try:
        awaited = context.run(work.send, None)
    except StopIteration as finished:
        done: asyncio.Future[T] = loop.create_future()
        done.set_result(finished.value)
        return done
    except BaseException as exc:
        failed: asyncio.Future[T] = loop.create_future()
        failed.set_exception(exc)
        return failed
    return loop.create_task(_rest(work, awaited), context=context)


@types.coroutine
def _rest(work: Coroutine[Any, Any, T], awaited: Any) -> Generator[Any, None, T]:
    """The rest of ``work``, which is waiting for ``awaited`` (what its first step yielded),
    driven the way :class:`asyncio.Task` drives a coroutine: resumed with None once what it
    waits for is done, or with the exception (a cancellation) the task throws."""
    while True:
        thrown: BaseException | None = None
        try:
            yield awaited
        except BaseException as exc:  # the task passes a cancellation on to ``work``
            thrown = exc
        try:
            awaited = work.send(None) if thrown is None else work.throw(thrown)
        except StopIteration as finished:
            return finished.value
