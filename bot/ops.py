"""Operations endpoints: ``/healthz`` and Prometheus ``/metrics`` on METRICS_PORT."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Generic, TypeVar

import sqlalchemy as sa
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlmodel import col, select

from bot.logs import refusing_strays
from bot.reminders import SweepReport
from commands import dispatch
from storage.models import Claim, ClaimState, LinkStatus, WorkLink
from storage.store import Store

log = logging.getLogger("copbot.ops")

T = TypeVar("T")

# How long /healthz and /metrics wait for the database: an orchestrator's probe and Prometheus's
# scrape give up after a few seconds (Kubernetes 1 s, Prometheus 10 s), sooner than a read
# does (DATABASE_TIMEOUT, 10 s), and a scrape that times out loses every series, not only the
# database's (copbot_database_up among them).
READ_WITHIN = 2.0


class Metrics:
    """copbot's metrics, in a registry of their own (tests make as many as they like)."""

    def __init__(self) -> None:
        """Create the metrics."""
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "copbot_commands",
            "Commands run, by name and outcome",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "copbot_command_seconds",
            "Time to run a command in the core",
            ["command"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.sweeps = Counter("copbot_sweeps", "Stale-claim sweeps run", registry=self.registry)
        self.pings = Counter(
            "copbot_reminders", "Reminders sent, by how they arrived", ["how"], registry=self.registry
        )
        self.platform_ready = Gauge(
            "copbot_platform_ready",
            "1 while a platform is connected and serving, 0 while connecting or removed",
            ["platform"],
            registry=self.registry,
        )
        self.database_up = Gauge(
            "copbot_database_up",
            "1 when the last scrape read the database, 0 when it could not",
            registry=self.registry,
        )
        # Claims by state and pending submissions, as the last refresh read them; None while the
        # database is out of reach: then those series are left out of the scrape (Prometheus
        # marks them stale) rather than served at their last value as if current.
        self.snapshot: tuple[dict[str, int], int] | None = None
        self.database_up_value: bool | None = None  # None: not read yet
        self.registry.register(_DatabaseGauges(self))

    def observe_command(self, command: str, outcome: str, seconds: float) -> None:
        """Record one command (a dispatch observer)."""
        self.commands.labels(command, outcome).inc()
        self.latency.labels(command).observe(seconds)

    def observe_sweep(self, report: SweepReport) -> None:
        """Record one sweep."""
        self.sweeps.inc()
        for how, count in report.delivered.items():
            self.pings.labels(how).inc(count)

    async def refresh(self, read: Callable[[], Awaitable[tuple[dict[str, int], int]]]) -> None:
        """Read the database's gauges (at scrape time), and whether the database answered.

        An outage is logged once, as one line, when it starts and again when it ends (Prometheus
        scrapes every few seconds; ``copbot_database_up`` says it meanwhile).
        """
        try:
            self.snapshot = await read()
        except Exception as exc:
            self.snapshot = None
            log.debug("metrics: reading the database failed", exc_info=True)
            if self.database_up_value is not False:
                log.warning(
                    "metrics: reading the database failed (%s); its gauges are left out until it answers",
                    type(exc).__name__,
                )
            self.database_up_value = False
        else:
            if self.database_up_value is False:
                log.info("metrics: the database answers again")
            self.database_up_value = True
        self.database_up.set(1 if self.database_up_value else 0)


async def _read_gauges(store: Store) -> tuple[dict[str, int], int]:
    """Claims by state (every state, also one no claim is in any more) and pending submissions."""
    async with store.read() as s:
        by_state = dict((await s.exec(select(Claim.state, sa.func.count()).group_by(col(Claim.state)))).all())
        pending = await s.exec(
            select(sa.func.count()).select_from(WorkLink).where(WorkLink.status == LinkStatus.PENDING.value)
        )
        return {str(state): by_state.get(state, 0) for state in {*ClaimState, *by_state}}, pending.one()


class _Shared(Generic[T]):
    """A database read made once for every request that wants it meanwhile, each waiting at most
    ``within`` seconds (TimeoutError after): a read cut short by cancelling could leave its pooled
    connection half used, so a slow one runs on until its own timeout, and the next request
    waits for it rather than starting another."""

    def __init__(self, read: Callable[[], Awaitable[T]], within: float) -> None:
        self.read, self.within = read, within
        self.task: asyncio.Future[T] | None = None

    async def __call__(self) -> T:
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self.read())
            # A read nobody waits for any more still has its error looked at (not logged as lost).
            self.task.add_done_callback(lambda done: done.cancelled() or done.exception())
        task = self.task
        finished, _ = await asyncio.wait({task}, timeout=self.within)
        if not finished:
            raise TimeoutError(f"no answer within {self.within:g} s")
        return task.result()

    async def close(self) -> None:
        """End a read still running (nobody waits for it any more: the server is closing, the
        store with it), so that it does not outlive the server."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.wait({self.task})


class _DatabaseGauges(Collector):
    """``copbot_claims{state}`` and ``copbot_pending_submissions`` from the last refresh, or
    nothing when it failed."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        snapshot = self.metrics.snapshot
        if snapshot is None:
            return
        by_state, pending = snapshot
        yield GaugeMetricFamily("copbot_pending_submissions", "Submissions waiting for moderators", pending)
        claims = GaugeMetricFamily("copbot_claims", "Claims by state", labels=["state"])
        for state, count in sorted(by_state.items()):
            claims.add_metric([state], count)
        yield claims

    def describe(self) -> Iterator[Metric]:
        # Names only (the registry checks for clashes), without reading the last snapshot.
        yield GaugeMetricFamily("copbot_pending_submissions", "Submissions waiting for moderators")
        yield GaugeMetricFamily("copbot_claims", "Claims by state", labels=["state"])


class OpsServer:
    """The HTTP server for health and metrics."""

    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        checks: Sequence[tuple[str, Callable[[], bool | str]]],
        *,
        read_within: float = READ_WITHIN,
        client_timeout: float = 10.0,
    ) -> None:
        """``checks`` name each platform and tell whether it is connected: True, False (still
        connecting), or why it cannot serve (e.g. copbot was removed from the workspace).
        ``client_timeout`` (HTTP_TIMEOUT): how long a connection may stay idle, or take to send
        its request's headers, before it is closed."""
        self.store = store
        self.metrics = metrics
        self.checks = list(checks)
        self.client_timeout = client_timeout
        self.runner: web.AppRunner | None = None
        self.port: int | None = None
        self.stopping = False  # set at shutdown: not ready, whatever the checks say
        self._probe = _Shared(store.problem_count, read_within)
        self._gauges = _Shared(lambda: _read_gauges(store), read_within)
        dispatch.OBSERVERS.append(metrics.observe_command)

    async def healthz(self, _request: web.Request) -> web.Response:
        """200 when the database answers and every platform is connected, else 503 (also from
        the start of a shutdown, when the platforms say "stopping"). A database that answers
        reads but failed a write in the last minute, with none committed since (disk full,
        read-only, locked past its busy timeout) is not fine: "writes failing: <error>"."""
        status: dict[str, str] = {}
        try:
            await self._probe()
            failing = self.store.writes_failing()
            status["database"] = f"writes failing: {failing}" if failing else "ok"
        except Exception as exc:
            status["database"] = f"error: {type(exc).__name__}"
        status.update(self._platforms())
        healthy = not self.stopping and all(value == "ok" for value in status.values())
        return web.json_response({"ready": healthy, **status}, status=200 if healthy else 503)

    def _platforms(self) -> dict[str, str]:
        """Each platform's state: "ok", "connecting", "stopping" or why it cannot serve."""
        status = {}
        for name, check in self.checks:
            state = check()
            if self.stopping:
                status[name] = "stopping"
            elif isinstance(state, str):
                status[name] = state
            else:
                status[name] = "ok" if state else "connecting"
        return status

    async def metrics_endpoint(self, _request: web.Request) -> web.Response:
        """Prometheus text format."""
        await self.metrics.refresh(self._gauges)
        for name, state in self._platforms().items():
            self.metrics.platform_ready.labels(name).set(1 if state == "ok" else 0)
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0: any free port); returns the port."""
        app = web.Application(middlewares=[refusing_strays(log, "METRICS_PORT", "GET /metrics and /healthz")])
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics_endpoint)
        # keepalive_timeout also closes a connection whose request's headers have not all come
        # by then (aiohttp's default waits an hour: slow clients could hold every connection).
        self.runner = web.AppRunner(app, access_log=None, keepalive_timeout=self.client_timeout)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        self.port = self.runner.addresses[0][1]
        return self.port

    async def close(self) -> None:
        """Stop serving."""
        if self.metrics.observe_command in dispatch.OBSERVERS:
            dispatch.OBSERVERS.remove(self.metrics.observe_command)
        if self.runner is not None:
            await self.runner.cleanup()
        # After the requests: a read a probe gave up on would otherwise run on past the store.
        await self._probe.close()
        await self._gauges.close()
