"""Shared parts of the end-to-end benchmarks: a bot as a separate process, an open-loop load, stats.

The bot under test always runs as its own process, started the way an operator starts it
(configured only by its environment), so its event loop, its memory and its CPU are its own.
The load is open loop: request ``i`` goes out at ``start + i / rate`` whatever happened to the
ones before, so a slow bot builds a queue and shows it in its tail instead of slowing the load.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import ROOT, SEED, percentile
from storage.catalogue import parse_csv

DROP_AFTER = 5.0  # seconds without an answer: dropped
# A load generator this late means the machine was busy with other work: no verdict from that run.
DISTURBED_LAG_MS = 50.0
READY_TIMEOUT = 60.0

# What every run sends: the spec's four commands, in turn, from USERS people.
MIX = ("problem", "random", "search", "claim")
# Problems that exist in data/seed.csv (checked before each end-to-end run: see check_numbers).
NUMBERS = ("1.1", "1.6", "1.17", "2.4", "2.8", "2.11", "2.30", "3.11", "3.25", "4.2")
QUERIES = ("induction heads", "neuron", "polysemantic", "circuits in the wild", "superposition")
USERS = 20


class BenchError(RuntimeError):
    """The benchmark could not run (a bot that did not start, crashed, or answered garbage)."""


def check_numbers() -> None:
    """Fail unless every number the load uses is a problem of the seed catalogue (an unknown one
    is answered with a quick "no such problem", which would flatter the numbers)."""
    known = {row.number for row in parse_csv(SEED.read_text(encoding="utf-8"))}
    if missing := [n for n in NUMBERS if n not in known]:
        raise BenchError(f"bench numbers not in {SEED.name}: {', '.join(missing)}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(**values: str) -> dict[str, str]:
    """A clean environment: PATH and HOME, then ``values`` (no platform the run does not configure:
    nothing else of the caller's environment, and :class:`BotProcess` runs where no .env is)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LOG_LEVEL": "WARNING",
    }
    env.update(values)
    return env


def _status_kb(pid: int, key: str) -> int | None:
    """A ``kB`` line of /proc/<pid>/status (VmRSS, VmHWM), or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (/proc/<pid>/stat), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # after "pid (comm)": state is field 3, utime 14 and stime 15 (1-based, proc(5))
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BotProcess:
    """``python -m <module> [args]`` of ROOT with ``env`` alone, its output in a log file; RSS sampled.

    It runs in ``workdir``, not in ROOT: copbot reads a ``.env`` from its working directory, and a
    developer's own one in the checkout (real tokens, other settings) must not reach the bench."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], workdir: Path) -> None:
        """Describe the process; nothing starts until :meth:`start`."""
        self.name, self.args, self.env, self.workdir = name, args, env, workdir
        self.log_path = workdir / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None
        self.peak_rss_kb = 0
        self._sampler: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start it, and sample its RSS every 50 ms from now on."""
        with self.log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *self.args,
                cwd=self.workdir,
                env={**self.env, "PYTHONPATH": str(ROOT)},
                stdout=log,
                stderr=log,
            )
        self._sampler = asyncio.create_task(self._sample())

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def check_alive(self) -> None:
        """Raise (with the log's tail) if the process has ended."""
        if self.process is None or self.process.returncode is not None:
            code = None if self.process is None else self.process.returncode
            raise BenchError(f"{self.name} exited with {code}:\n{self.log_tail()}")

    def rss_mb(self) -> float | None:
        """Resident memory now."""
        kb = _status_kb(self.pid, "VmRSS")
        return None if kb is None else kb / 1024

    def cpu_seconds(self) -> float:
        """CPU time the process used so far (all its threads)."""
        return _cpu_seconds(self.pid) or 0.0

    def peak_mb(self) -> float:
        """The highest resident memory so far: the kernel's high-water mark, or our samples."""
        hwm = _status_kb(self.pid, "VmHWM") or 0
        self.peak_rss_kb = max(self.peak_rss_kb, hwm)
        return self.peak_rss_kb / 1024

    async def _sample(self) -> None:
        while self.process is not None and self.process.returncode is None:
            kb = _status_kb(self.pid, "VmRSS")
            if kb is not None:
                self.peak_rss_kb = max(self.peak_rss_kb, kb)
            await asyncio.sleep(0.05)

    def log_tail(self, lines: int = 40) -> str:
        """The end of what the process wrote."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def error_lines(self) -> int:
        """How many lines of its log are errors or tracebacks."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return 0
        return sum(1 for line in text.splitlines() if " ERROR " in line or line.startswith("Traceback"))

    async def stop(self) -> None:
        """SIGTERM, a few seconds to exit, then SIGKILL."""
        if self._sampler is not None:
            self._sampler.cancel()
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    async def wait_until(self, condition: Callable[[], Awaitable[bool]], what: str) -> None:
        """Poll ``condition`` until true; raise if the process dies or READY_TIMEOUT passes."""
        deadline = time.monotonic() + READY_TIMEOUT
        while not await condition():
            self.check_alive()
            if time.monotonic() > deadline:
                raise BenchError(f"{self.name}: no {what} after {READY_TIMEOUT:.0f} s:\n{self.log_tail()}")
            await asyncio.sleep(0.05)


@contextlib.contextmanager
def no_gc_pauses() -> Iterator[None]:
    """No garbage collection in this process while a load runs.

    The fakes keep every request and payload, and a full collection over that heap stalls this
    process for 100+ ms (measured: 83 ms, growing to 160 ms by the third 200/s run), delaying
    sends and the arrival stamps of answers alike. Collect before, freeze what survives, collect
    nothing during the run; the next run's first collection takes the garbage.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.enable()


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    """A temporary directory for the databases and logs of one benchmark."""
    with tempfile.TemporaryDirectory(prefix="copbot-bench-") as tmp:
        yield Path(tmp)


@dataclass
class Sample:
    """One request: what it was, when it went out, when (and how) it was answered."""

    command: str
    sent_at: float = 0.0
    answered_at: float | None = None
    final_at: float | None = None  # the reply itself: the answer, or the follow-up of a deferral
    deferred: bool = False  # answered "later" (Discord deferral, Slack empty ack)
    failed: bool = False  # refused by the platform, or the bot's apology

    @property
    def latency_ms(self) -> float | None:
        if self.answered_at is None or self.answered_at - self.sent_at > DROP_AFTER:
            return None
        return (self.answered_at - self.sent_at) * 1000

    @property
    def final_ms(self) -> float:
        """Time to the reply itself (inf when it did not come within DROP_AFTER)."""
        if self.final_at is None or self.final_at - self.sent_at > DROP_AFTER:
            return math.inf
        return (self.final_at - self.sent_at) * 1000


@dataclass
class Run:
    """The outcome of one load: a bot, a load label, a rate, its samples."""

    bot: str
    load: str
    rate: float
    samples: list[Sample]
    max_lag_ms: float = 0.0  # how late the load generator sent, at worst
    peak_rss_mb: float | None = None
    cpu_ms: float | None = None  # the bot's CPU time per request during the run
    load_cpu_ms: float | None = None  # this process's (fake + load generator) per request
    errors_logged: int = 0  # error lines in the bot's log so far
    load_avg: float = field(default_factory=lambda: os.getloadavg()[0])  # the machine's, at the end

    def latencies(self, command: str | None = None) -> list[float]:
        return [
            ms
            for s in self.samples
            if (command is None or s.command == command) and (ms := s.latency_ms) is not None
        ]

    @property
    def sent(self) -> int:
        return len(self.samples)

    @property
    def answered(self) -> int:
        return len(self.latencies())

    @property
    def dropped(self) -> int:
        return self.sent - self.answered

    @property
    def deferred(self) -> int:
        return sum(s.deferred for s in self.samples)

    @property
    def failed(self) -> int:
        return sum(s.failed for s in self.samples)

    def p(self, q: float, command: str | None = None) -> float:
        return percentile(self.latencies(command), q)

    def worst(self) -> float:
        values = self.latencies()
        return max(values) if values else float("nan")


# Each load at a rate runs in this many slices, in turns with the other loads at that rate.
SLICES = 4


async def in_turns(loads: list[Callable[[float], Awaitable[Run]]], duration: float, slices: int) -> list[Run]:
    """Run each of ``loads`` (given its seconds) for ``duration`` seconds in all, in ``slices``
    turns (floor, copbot, floor, copbot…); one run per load, its slices merged.

    The machine's speed drifts while a benchmark runs (its cores are shared: the floor's own
    CPU per request moved 30% between consecutive runs). Taken in turns, both sides of a ratio
    see the same drift; one long run each would put it all on one side.
    """
    parts: list[list[Run]] = [[] for _ in loads]
    for _ in range(slices):
        for load, done in zip(loads, parts, strict=True):
            done.append(await load(duration / slices))
    return [merge(done) for done in parts]


def merge(parts: list[Run]) -> Run:
    """The slices of one load as one run: every sample, CPU per request over all of them."""
    first = parts[0]
    samples = [s for part in parts for s in part.samples]

    def per_request(value: Callable[[Run], float | None]) -> float | None:
        values = [(value(part), part.sent) for part in parts]
        if any(v is None for v, _ in values) or not samples:
            return None
        return sum(v * n for v, n in values if v is not None) / len(samples)

    peaks = [part.peak_rss_mb for part in parts if part.peak_rss_mb is not None]
    return Run(
        first.bot,
        first.load,
        first.rate,
        samples,
        max_lag_ms=max(part.max_lag_ms for part in parts),
        peak_rss_mb=max(peaks) if peaks else None,
        cpu_ms=per_request(lambda part: part.cpu_ms),
        load_cpu_ms=per_request(lambda part: part.load_cpu_ms),
        errors_logged=max(part.errors_logged for part in parts),  # counted since the bot started
        load_avg=max(part.load_avg for part in parts),
    )


async def open_loop(
    rate: float,
    duration: float,
    commands: tuple[str, ...],
    send: Callable[[int, Sample], Coroutine[Any, Any, None]],
) -> tuple[list[Sample], float]:
    """Call ``send(i, sample)`` at ``rate`` per second for ``duration`` seconds, each as its own
    task, cycling through ``commands``; wait for every send task; return the samples and how
    late the worst send started (ms). ``send`` stamps ``sent_at`` itself, right before the wire."""
    count = max(1, round(rate * duration))
    samples = [Sample(commands[i % len(commands)]) for i in range(count)]
    tasks: list[asyncio.Task[None]] = []
    start = time.monotonic() + 0.05
    max_lag = 0.0
    for i, sample in enumerate(samples):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        max_lag = max(max_lag, time.monotonic() - due)
        tasks.append(asyncio.create_task(send(i, sample)))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise BenchError(f"the load generator failed: {result!r}") from result
    return samples, max_lag * 1000


def fmt(value: float | None, digits: int = 1) -> str:
    """A number for the table ('–' when missing)."""
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{value:,.{digits}f}"


HEADER = [
    "bot",
    "load",
    "rate/s",
    "sent",
    "answered",
    "dropped",
    "deferred",
    "failed",
    "p50 ms",
    "p99 ms",
    "max ms",
    "p99 ÷ floor p99",
    "send lag ms",
    "bot CPU ms/req",
    "peak RSS MB",
]


def floor_of(run: Run, runs: list[Run]) -> Run | None:
    """The floor's run at the same rate as ``run``."""
    return next((r for r in runs if r.bot == "floor" and r.rate == run.rate), None)


def rows(runs: list[Run]) -> list[list[str]]:
    """Table rows, each with its p99 over the p99 of the floor at the same rate."""
    out = []
    for run in runs:
        floor = floor_of(run, runs)
        ratio = run.p(99) / floor.p(99) if floor is not None and floor is not run else None
        out.append(
            [
                run.bot,
                run.load,
                fmt(run.rate, 0),
                str(run.sent),
                str(run.answered),
                str(run.dropped),
                str(run.deferred),
                str(run.failed),
                fmt(run.p(50)),
                fmt(run.p(99)),
                fmt(run.worst()),
                fmt(ratio, 2) + ("" if ratio is None else " ×"),
                fmt(run.max_lag_ms, 0),
                fmt(run.cpu_ms, 2),
                fmt(run.peak_rss_mb, 0),
            ]
        )
    return out


BY_COMMAND_HEADER = ["requests", "sent", "answered", "p50 ms", "p99 ms", "max ms", "reply itself: p99 ms"]


def final_p99(samples: list[Sample]) -> str:
    """p99 (nearest rank) of the time to the reply itself; '> 5,000' when over 1% never came."""
    if not samples:
        return "–"
    values = sorted(s.final_ms for s in samples)
    value = values[max(0, math.ceil(0.99 * len(values)) - 1)]
    return fmt(value) if value != math.inf else f"> {DROP_AFTER * 1000:,.0f}"


def by_command_rows(runs: list[Run]) -> list[list[str]]:
    """At the highest rate: the floor, each command of copbot's mix, and copbot's other runs."""
    top = max(run.rate for run in runs)
    out = []
    for run in (r for r in runs if r.rate == top):
        commands = list(dict.fromkeys(s.command for s in run.samples))
        for command in commands if run.bot != "floor" and len(commands) > 1 else [None]:
            values = run.latencies(command)
            what = f"{run.bot} {run.load}" + (f": /{command}" if command else "")
            mine = [s for s in run.samples if command is None or s.command == command]
            worst = max(values) if values else None
            out.append(
                [
                    what,
                    str(len(mine)),
                    str(len(values)),
                    fmt(run.p(50, command)),
                    fmt(run.p(99, command)),
                    fmt(worst),
                    final_p99(mine),
                ]
            )
    return out


def verdicts(runs: list[Run], *, target_ratio: float = 1.5, rss_limit: float = 150.0) -> list[str]:
    """One line per copbot mix run: which targets it meets."""
    out = []
    for run in runs:
        floor = floor_of(run, runs)
        if run.bot == "copbot" and run.load == "mix" and floor is not None:
            out.append(verdict(run, floor, target_ratio=target_ratio, rss_limit=rss_limit))
    lag = max(run.max_lag_ms for run in runs)
    load_cpu = max(run.load_cpu_ms or 0.0 for run in runs)
    loads = [run.load_avg for run in runs]
    out.append(
        f"- load generator: sent at most {lag:.0f} ms late; it and the fake used at most "
        f"{load_cpu:.2f} ms CPU per request; the machine's 1-minute load average after each run: "
        f"{min(loads):.2f}–{max(loads):.2f} on {os.cpu_count()} cores (other work shares them)"
    )
    errors = max((run.errors_logged for run in runs if run.bot == "copbot"), default=0)  # cumulative
    if errors:
        out.append(f"- copbot logged {errors} error lines (see its log; the run goes on)")
    return out


def verdict(copbot: Run, floor: Run, *, target_ratio: float = 1.5, rss_limit: float | None = None) -> str:
    """One line: which targets this pair of runs meets."""
    ratio = copbot.p(99) / floor.p(99) if floor.answered and copbot.answered else float("nan")
    parts = [
        f"p99 {fmt(copbot.p(99))} ms vs floor {fmt(floor.p(99))} ms = {fmt(ratio, 2)} × "
        f"({'met' if ratio <= target_ratio else 'MISSED'}: ≤ {target_ratio})",
        f"dropped {copbot.dropped} ({'met' if copbot.dropped == 0 else 'MISSED'}: none)",
    ]
    if rss_limit is not None and copbot.peak_rss_mb is not None:
        ok = copbot.peak_rss_mb < rss_limit
        parts.append(
            f"peak RSS {copbot.peak_rss_mb:.0f} MB ({'met' if ok else 'MISSED'}: < {rss_limit:.0f} MB)"
        )
    lag = max(copbot.max_lag_ms, floor.max_lag_ms)
    head = f"- {copbot.load} at {copbot.rate:.0f}/s: "
    if lag > DISTURBED_LAG_MS:
        head += (
            f"DISTURBED (the load generator sent up to {lag:.0f} ms late: the machine was busy; "
            "not conclusive, run again on a quiet machine): "
        )
    return head + "; ".join(parts)
