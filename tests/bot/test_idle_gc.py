"""Garbage collection waits for the requests in flight, and then runs what CPython would have run."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.idle_gc import IdleCollector
from tests.support.gc_watch import gc_state, make_due, watching

YOUNG = 700
QUIET = 3600.0  # a tick that never comes during a test


@pytest.fixture(autouse=True)
def cpython_defaults() -> Iterator[None]:
    """CPython's default thresholds for each test, and the process's own afterwards."""
    with gc_state():
        gc.enable()
        gc.set_threshold(YOUNG, 10, 10)
        gc.collect()
        yield


@pytest.fixture
def started() -> Iterator[Callable[..., IdleCollector]]:
    """Start a collector (on the test's event loop) with these options; stopped after the test."""
    collectors: list[IdleCollector] = []

    def start(**options: Any) -> IdleCollector:
        collector = IdleCollector(**options)
        collector.start()
        collectors.append(collector)
        return collector

    yield start
    for collector in collectors:
        collector.stop()


async def test_start_moves_cpythons_trigger_out_of_reach_and_stop_gives_it_back() -> None:
    collector = IdleCollector(backstop=20_000)
    collector.start()
    try:
        assert collector.running
        assert gc.get_threshold() == (20_000, 10, 10)
    finally:
        collector.stop()
    assert not collector.running
    assert gc.get_threshold() == (YOUNG, 10, 10)


async def test_a_process_with_automatic_collection_off_is_left_alone(
    started: Callable[..., IdleCollector],
) -> None:
    gc.disable()
    collector = started()
    assert not collector.running
    assert gc.get_threshold() == (YOUNG, 10, 10)
    kept = make_due(YOUNG)
    assert collector.collect_if_due() is None
    assert gc.get_count()[0] > YOUNG, len(kept)


async def test_a_due_collection_waits_for_the_request_in_flight_then_runs_after_its_answer(
    started: Callable[..., IdleCollector],
) -> None:
    collector = started(tick_seconds=QUIET)
    async with watching(collector) as watch:
        with collector.busy():
            kept = make_due(YOUNG)
            assert collector.collect_if_due() is None
            for _ in range(5):
                await asyncio.sleep(0)
            assert watch.collections == []  # due, but a request is in flight
        assert watch.collections == []  # the answer's task goes on first
        await watch.first_collection()
    assert watch.collections == [(0, 0)]  # a young collection, with nothing in flight
    assert collector.collected == [1, 0, 0]
    assert gc.get_count()[0] < YOUNG, len(kept)


async def test_only_the_last_request_out_lets_the_collection_run(
    started: Callable[..., IdleCollector],
) -> None:
    collector = started(tick_seconds=QUIET)
    async with watching(collector) as watch:
        with collector.busy():
            with collector.busy():
                kept = make_due(YOUNG)
            for _ in range(5):
                await asyncio.sleep(0)
            assert watch.collections == []
        await watch.first_collection()
    assert watch.collections == [(0, 0)], len(kept)


async def test_it_collects_the_generation_cpython_would_in_the_same_order(
    started: Callable[..., IdleCollector],
) -> None:
    """Each older generation once the younger one was collected more often than its threshold."""
    gc.set_threshold(YOUNG, 2, 2)
    collector = started()
    kept = []
    generations = []
    for _ in range(16):
        kept.append(make_due(YOUNG))
        generations.append(collector.collect_if_due())
        assert collector.collect_if_due() is None  # nothing due right after a collection
    assert generations == [0, 0, 0, 1] * 3 + [2, 0, 0, 0]
    assert collector.collected == [12, 3, 1]


async def test_an_idle_process_collects_on_its_tick_again_and_again(
    started: Callable[..., IdleCollector],
) -> None:
    collector = started(tick_seconds=0.01)
    kept = []  # (freeing what was allocated would make nothing due)
    for _ in range(2):  # the tick comes back after it ran
        async with watching(collector) as watch:
            kept.append(make_due(YOUNG))
            await watch.first_collection()
        assert watch.collections[0] == (0, 0)


async def test_a_long_burst_still_collects_at_the_backstop(started: Callable[..., IdleCollector]) -> None:
    collector = started(backstop=5_000, tick_seconds=QUIET)
    async with watching(collector) as watch:
        with collector.busy():
            kept = make_due(5_000)
            assert watch.collections and all(in_flight == 1 for _, in_flight in watch.collections)
    assert collector.collected == [0, 0, 0], len(kept)  # CPython's own collection, not ours


def test_a_stopped_collector_leaves_its_event_loop_alone() -> None:
    """Requests after a stop (a front end outliving ``copbot run``'s loop) schedule nothing."""
    collector = IdleCollector()
    loop = asyncio.new_event_loop()

    async def start_and_stop() -> None:
        collector.start()
        collector.stop()

    loop.run_until_complete(start_and_stop())
    loop.close()
    with collector.busy():
        kept = make_due(YOUNG)
    assert collector.collect_if_due() is None, len(kept)
