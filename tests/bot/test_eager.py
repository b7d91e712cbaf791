"""bot.eager.start: work that never waits is done at once, without a task; the rest runs as one."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from bot import eager

where = contextvars.ContextVar("where", default="caller")


async def test_work_that_never_waits_is_done_before_start_returns_without_a_task() -> None:
    async def quick() -> str:
        return "answer"

    tasks_before = asyncio.all_tasks()
    done = eager.start(quick())

    assert done.done() and done.result() == "answer"
    assert asyncio.all_tasks() == tasks_before


async def test_a_failure_without_waiting_is_kept_in_the_future() -> None:
    async def broken() -> None:
        raise ValueError("bad input")

    failed = eager.start(broken())

    assert failed.done()
    with pytest.raises(ValueError, match="bad input"):
        failed.result()


async def test_work_that_waits_runs_at_once_up_to_its_wait_then_finishes_in_a_task() -> None:
    steps: list[str] = []
    gate = asyncio.Event()

    async def slow() -> int:
        steps.append("started")
        await gate.wait()
        steps.append("resumed")
        await asyncio.sleep(0)  # a bare yield to the loop, too
        return 42

    running = eager.start(slow())
    assert steps == ["started"] and not running.done()

    gate.set()
    assert await running == 42
    assert steps == ["started", "resumed"]


@pytest.mark.parametrize("waiting", ["on a future", "in a bare yield"])
async def test_cancelling_the_task_cancels_the_work_where_it_waits(waiting: str) -> None:
    cleaned_up = asyncio.Event()

    async def waits_forever() -> None:
        try:
            if waiting == "on a future":
                await asyncio.Event().wait()
            while True:  # noqa: ASYNC110 - a bare yield to the loop is what this case tests
                await asyncio.sleep(0)
        finally:
            cleaned_up.set()

    running = eager.start(waits_forever())
    await asyncio.sleep(0)
    running.cancel()

    for _ in range(5):  # a few turns of the loop: the cancellation reaches the work
        await asyncio.sleep(0)

    assert running.cancelled() and cleaned_up.is_set()


async def test_the_work_runs_in_its_own_context_like_a_task() -> None:
    gate = asyncio.Event()
    seen: list[str] = []

    async def sets_its_own() -> None:
        where.set("work")
        await gate.wait()
        seen.append(where.get())

    running = eager.start(sets_its_own())
    assert where.get() == "caller"
    gate.set()
    await running

    assert seen == ["work"] and where.get() == "caller"
