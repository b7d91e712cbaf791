"""End to end on Discord: slash commands through the fake gateway to the real bot process.

FakeDiscord runs in this process; copbot runs as ``python -m bot.cli run`` (environment only, a
fresh SQLite file), and the floor as ``python -m bench.floor_discord`` (a bare discord.py client
whose one command answers "ok"). Each gets its own fake. Interactions go out open loop at a
fixed rate; each is timed from just before the fake builds and dispatches its INTERACTION_CREATE
to the moment the fake receives the interaction callback (``POST /interactions/{id}/{token}/
callback``, stamped when the request arrives). No callback within 5 s counts as dropped; a
deferral (type 5) counts as answered, and in the "deferred" column.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from functools import partial
from pathlib import Path
from typing import Any

from bench.e2e import (
    DROP_AFTER,
    MIX,
    NUMBERS,
    QUERIES,
    SLICES,
    USERS,
    BenchError,
    BotProcess,
    Run,
    Sample,
    base_env,
    in_turns,
    no_gc_pauses,
    open_loop,
    workdir,
)
from commands.dispatch import APOLOGY
from tests.fakes.discord_api import FakeDiscord

TOKEN = "bench-token-not-a-secret"
CALLBACK = "POST /interactions/{interaction_id}/{token}/callback"
# How a deferred interaction gets its reply: a follow-up, or an edit of the "thinking" message.
REPLIES = (
    "POST /webhooks/{application_id}/{token}",
    "PATCH /webhooks/{application_id}/{token}/messages/{message_id}",
)
DEFERRED = 5
WARMUP = 20


def options(command: str, i: int) -> dict[str, Any] | None:
    """The options of request ``i`` of ``command`` (varied, always valid)."""
    match command:
        case "problem" | "claim":
            return {"number": NUMBERS[(i // len(MIX)) % len(NUMBERS)]}
        case "random":
            return {"difficulty": "ABCD"[(i // len(MIX)) % 4]}
        case "search":
            return {"query": QUERIES[(i // len(MIX)) % len(QUERIES)]}
    return None


class Target:
    """A bot process on its own FakeDiscord, with the fake's users, ready for load."""

    def __init__(self, name: str, args: list[str], tmp: Path) -> None:
        """Describe it (``args`` after ``python``); :meth:`start` runs it."""
        self.name, self.args, self.tmp = name, args, tmp
        # No MESSAGE_CREATE echoes: neither bot asks for message intents, and the fake's own
        # work per message is the load generator's, not the bot's.
        self.fake = FakeDiscord(token=TOKEN, echo_messages=False)
        self.users: list[int] = []
        self.process: BotProcess | None = None

    async def start(self) -> None:
        """Start the fake and the bot; return once it is connected and its commands are synced."""
        await self.fake.start()
        self.users = [self.fake.add_member(f"bench{i}") for i in range(USERS)]
        env = base_env(
            DISCORD_TOKEN=TOKEN,
            DISCORD_API_URL=self.fake.api_url,
            DISCORD_GATEWAY_URL=self.fake.gateway_url,
            DISCORD_GUILD_ID=str(self.fake.guild_id),
            DATABASE_URL=f"sqlite+aiosqlite:///{self.tmp}/{self.name}.db",
            DATA_DIR=str(self.tmp),
        )
        self.process = BotProcess(self.name, self.args, env, self.tmp)
        await self.process.start()

        async def ready() -> bool:
            return bool(self.fake.syncs) and any(c.ready for c in self.fake.connections)

        await self.process.wait_until(ready, "ready gateway connection and synced commands")

    async def close(self) -> None:
        """Stop the bot, then the fake."""
        if self.process is not None:
            await self.process.stop()
        await self.fake.close()

    async def warm_up(self, commands: tuple[str, ...]) -> None:
        """One request at a time until each user and command was seen: first-use costs go here."""
        for i in range(max(WARMUP, len(self.users))):
            command = commands[i % len(commands)]
            iid = await self.fake.slash(command, options(command, i), user_id=self.users[i % len(self.users)])
            try:
                await self.fake.wait_for_callback(iid, timeout=10)
            except TimeoutError as exc:
                assert self.process is not None
                self.process.check_alive()
                raise BenchError(
                    f"{self.name} did not answer /{command}:\n{self.process.log_tail()}"
                ) from exc

    async def load(self, rate: float, duration: float, commands: tuple[str, ...], label: str) -> Run:
        """``commands`` in turn at ``rate`` per second for ``duration`` seconds, open loop."""
        assert self.process is not None
        await self.warm_up(commands)
        await asyncio.sleep(0.5)
        cursor = len(self.fake.requests)
        by_id: dict[int, Sample] = {}

        async def send(i: int, sample: Sample) -> None:
            user = self.users[i % len(self.users)]
            sample.sent_at = time.monotonic()
            by_id[await self.fake.slash(sample.command, options(sample.command, i), user_id=user)] = sample

        with no_gc_pauses():
            cpu, own_cpu = self.process.cpu_seconds(), time.process_time()
            samples, lag = await open_loop(rate, duration, commands, send)
            deadline = max(s.sent_at for s in samples) + DROP_AFTER
            # The fake stamps each answer as it arrives, on this event loop: reading the answers
            # (parsing a slice's bodies takes tens of ms) waits until the last ones are in, or
            # their stamps would be late by that long.
            with contextlib.suppress(TimeoutError):  # some never came: dropped, found below
                await self.fake.wait_until(
                    lambda: len(self.fake.requests) >= cursor + len(samples),
                    max(0.0, deadline - time.monotonic()),
                )
            by_token = {self.fake.interactions[iid]["token"]: sample for iid, sample in by_id.items()}
            while True:
                cursor = self._collect(by_id, by_token, cursor)
                if all(s.final_at is not None for s in samples) or time.monotonic() > deadline:
                    break
                self.process.check_alive()
                await asyncio.sleep(0.05)
        cpu, own_cpu = self.process.cpu_seconds() - cpu, time.process_time() - own_cpu
        if self.fake.errors:
            raise BenchError(f"the fake Discord failed: {self.fake.errors[:3]}")
        run = Run(self.name, label, rate, samples, max_lag_ms=lag)
        run.cpu_ms, run.load_cpu_ms = cpu * 1000 / run.sent, own_cpu * 1000 / run.sent
        run.peak_rss_mb = self.process.peak_mb()
        run.errors_logged = self.process.error_lines()
        await asyncio.sleep(1.0)  # let follow-ups of deferred answers settle before the next run
        return run

    def _collect(self, by_id: dict[int, Sample], by_token: dict[str, Sample], cursor: int) -> int:
        """Stamp the samples whose callback (or deferred reply) the fake received since ``cursor``."""
        requests = self.fake.requests
        while cursor < len(requests):
            rq = requests[cursor]
            cursor += 1
            if rq.route == CALLBACK:
                sample = by_id.get(int(rq.params["interaction_id"]))
                if sample is None or sample.answered_at is not None:
                    continue
                body = rq.json or {}
                sample.answered_at = rq.at
                sample.deferred = body.get("type") == DEFERRED
                sample.failed = rq.status >= 300 or APOLOGY in json.dumps(body)
                if not sample.deferred and rq.status < 300:
                    sample.final_at = rq.at
            elif rq.route in REPLIES and (sample := by_token.get(rq.params["token"])) is not None:
                if sample.final_at is None and rq.status < 300:
                    sample.final_at = rq.at
                    sample.failed = sample.failed or APOLOGY in json.dumps(rq.json or {})
        return cursor


async def run(smoke: bool) -> list[Run]:
    """Floor and copbot at each rate, taking turns (see :func:`bench.e2e.in_turns`); at the top
    rate also copbot on /help: the framework, front end and rendering without the core's
    queries or writes."""
    rates = (20.0,) if smoke else (50.0, 200.0)
    duration = 2.0 if smoke else 20.0
    runs: list[Run] = []
    with workdir() as tmp:
        copbot = Target("copbot", ["-m", "bot.cli", "run"], tmp)
        floor = Target("floor", ["-m", "bench.floor_discord"], tmp)
        try:
            await copbot.start()
            await floor.start()
            for rate in rates:
                loads = [
                    partial(floor.load, rate, commands=("ok",), label="/ok"),
                    partial(copbot.load, rate, commands=MIX, label="mix"),
                ]
                if rate == rates[-1]:
                    loads.append(partial(copbot.load, rate, commands=("help",), label="/help"))
                runs += await in_turns(loads, duration, 2 if smoke else SLICES)
        finally:
            await copbot.close()
            await floor.close()
    return runs
