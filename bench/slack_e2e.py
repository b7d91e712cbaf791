"""End to end on Slack: signed slash commands over HTTP to the real Bolt app in copbot.

FakeSlack (the Web API copbot calls: ``auth.test``, ``users.info``, response_urls) runs in this
process; copbot runs as ``python -m bot.cli run`` in HTTP mode (environment only, a fresh SQLite
file) and the floor as ``python -m bench.floor_slack`` (a bare Bolt AsyncApp with
``process_before_response=True`` acking "ok"). Both get exactly the same requests, signed like
Slack's. Each is timed from just before it is signed and sent to the end of the HTTP response;
no response within 5 s counts as dropped. copbot answers inside the ack when the core is quick;
an empty ack (the answer follows by response_url) counts as answered and as "deferred".
"""

from __future__ import annotations

import asyncio
import itertools
import time
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp

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
    free_port,
    in_turns,
    no_gc_pauses,
    open_loop,
    workdir,
)
from commands.dispatch import APOLOGY
from tests.fakes.slack_api import Call, FakeSlack, SlackSender

TOKEN = "xoxb-bench-not-a-secret"
SECRET = "bench-signing-secret"
WARMUP = 20
SLACK_NAMES = {"help": "/cop-help"}


def text_of(command: str, i: int) -> str:
    """What request ``i`` of ``command`` types after the command (varied, always valid)."""
    turn = i // len(MIX)
    match command:
        case "problem" | "claim":
            return NUMBERS[turn % len(NUMBERS)]
        case "random":
            return f"difficulty:{'ABCD'[turn % 4]}"
        case "search":
            return QUERIES[turn % len(QUERIES)]
    return ""


class Sender(SlackSender):
    """The fake's sender, without aiohttp's default cap of 100 connections (open loop)."""

    async def __aenter__(self) -> Sender:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self


class TimedSlack(FakeSlack):
    """The fake Slack, noting when each response_url post arrives (a deferred command's reply)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.replied: dict[str, tuple[float, Call]] = {}

    def _record(self, call: Call) -> None:
        if call.method == "response_url" and call.response_id:
            self.replied.setdefault(call.response_id, (time.monotonic(), call))
        super()._record(call)


class Target:
    """A Bolt app process on its own FakeSlack, ready for load."""

    def __init__(self, name: str, args: list[str], tmp: Path) -> None:
        """Describe it (``args`` after ``python``); :meth:`start` runs it."""
        self.name, self.args, self.tmp = name, args, tmp
        self.fake = TimedSlack(tokens={TOKEN})
        self._ids = itertools.count()
        self.users = [f"U0B{i:03d}" for i in range(USERS)]
        self.port = free_port()
        self.process: BotProcess | None = None
        self.sender: Sender | None = None

    async def start(self) -> None:
        """Start the fake and the app; return once it accepts connections."""
        await self.fake.__aenter__()
        for i, user in enumerate(self.users):
            self.fake.add_user(user, f"bench{i}")
        env = base_env(
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=self.fake.api_url,
            SLACK_PORT=str(self.port),
            BIND_HOST="127.0.0.1",
            DATABASE_URL=f"sqlite+aiosqlite:///{self.tmp}/{self.name}.db",
            DATA_DIR=str(self.tmp),
        )
        self.process = BotProcess(self.name, self.args, env, self.tmp)
        await self.process.start()

        async def listening() -> bool:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                return False
            writer.close()
            await writer.wait_closed()
            return True

        await self.process.wait_until(listening, "HTTP listener")
        url = f"http://127.0.0.1:{self.port}/slack/events"
        # Acks are not checked against Block Kit here (the tests do): the check ran in this
        # process before a response counted as answered, and only copbot's acks have blocks.
        self.sender = await Sender(url, SECRET, fake=self.fake, check_acks=False).__aenter__()

    async def close(self) -> None:
        """Stop the app, then the sender and the fake."""
        if self.process is not None:
            await self.process.stop()
        if self.sender is not None:
            await self.sender.__aexit__(None, None, None)
        await self.fake.__aexit__(None, None, None)

    async def _send(self, command: str, i: int, sample: Sample) -> str:
        """Send one command; return the id of its response_url."""
        assert self.sender is not None
        name = SLACK_NAMES.get(command, "/" + command)
        user = self.users[i % len(self.users)]
        rid = f"R{next(self._ids)}"
        sample.sent_at = time.monotonic()
        try:
            reply = await asyncio.wait_for(
                self.sender.command(
                    name,
                    text_of(command, i),
                    user_id=user,
                    user_name=f"bench{i % USERS}",
                    response_url=self.fake.response_url(rid),
                ),
                DROP_AFTER,
            )
        except (TimeoutError, aiohttp.ClientError):
            return rid  # dropped
        sample.answered_at = time.monotonic()
        sample.deferred = reply.status == 200 and not reply.text
        sample.failed = reply.status != 200 or APOLOGY in reply.text
        if not sample.deferred and reply.status == 200:
            sample.final_at = sample.answered_at
        return rid

    def _finals(self, rids: dict[str, Sample]) -> None:
        """Stamp deferred samples whose reply came by response_url."""
        for rid, sample in rids.items():
            if sample.final_at is None and rid in self.fake.replied:
                at, call = self.fake.replied[rid]
                sample.final_at = at
                sample.failed = sample.failed or APOLOGY in str(call.args)

    async def warm_up(self, commands: tuple[str, ...]) -> None:
        """One request at a time until each user and command was seen: first-use costs go here
        (Bolt's lazy ``auth.test``, copbot's ``users.info`` per person)."""
        assert self.process is not None
        for i in range(max(WARMUP, len(self.users))):
            sample = Sample(commands[i % len(commands)])
            await self._send(sample.command, i, sample)
            if sample.answered_at is None or sample.failed:
                self.process.check_alive()
                raise BenchError(f"{self.name} did not answer {sample.command}:\n{self.process.log_tail()}")

    async def load(self, rate: float, duration: float, commands: tuple[str, ...], label: str) -> Run:
        """``commands`` in turn at ``rate`` per second for ``duration`` seconds, open loop."""
        assert self.process is not None
        await self.warm_up(commands)
        await asyncio.sleep(0.5)

        rids: dict[str, Sample] = {}

        async def send(i: int, sample: Sample) -> None:
            rids[await self._send(sample.command, i, sample)] = sample

        with no_gc_pauses():
            cpu, own_cpu = self.process.cpu_seconds(), time.process_time()
            samples, lag = await open_loop(rate, duration, commands, send)
            deadline = max(s.sent_at for s in samples) + DROP_AFTER
            while True:  # replies of deferred commands
                self._finals(rids)
                if all(s.final_at is not None or s.answered_at is None for s in samples):
                    break
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
        cpu, own_cpu = self.process.cpu_seconds() - cpu, time.process_time() - own_cpu
        self.process.check_alive()
        run = Run(self.name, label, rate, samples, max_lag_ms=lag)
        run.cpu_ms, run.load_cpu_ms = cpu * 1000 / run.sent, own_cpu * 1000 / run.sent
        run.peak_rss_mb = self.process.peak_mb()
        run.errors_logged = self.process.error_lines()
        await asyncio.sleep(1.0)  # let response_url answers of deferred requests settle
        return run


async def run(smoke: bool) -> list[Run]:
    """Floor and copbot at each rate, taking turns (see :func:`bench.e2e.in_turns`); at the top
    rate also copbot on /cop-help (no database at all on Slack: Bolt + copbot's front end +
    rendering)."""
    rates = (20.0,) if smoke else (50.0, 200.0)
    duration = 2.0 if smoke else 20.0
    runs: list[Run] = []
    with workdir() as tmp:
        copbot = Target("copbot", ["-m", "bot.cli", "run"], tmp)
        floor = Target("floor", ["-m", "bench.floor_slack"], tmp)
        try:
            await copbot.start()
            await floor.start()
            for rate in rates:
                loads = [
                    partial(floor.load, rate, commands=MIX, label="same mix, acked ok"),
                    partial(copbot.load, rate, commands=MIX, label="mix"),
                ]
                if rate == rates[-1]:
                    loads.append(partial(copbot.load, rate, commands=("help",), label="/cop-help"))
                runs += await in_turns(loads, duration, 2 if smoke else SLICES)
        finally:
            await copbot.close()
            await floor.close()
    return runs
