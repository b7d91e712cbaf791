"""Health, metrics and backups, as an operator uses them."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.ops import Metrics, OpsServer
from commands import dispatch
from commands.types import Context
from storage.backup import BackupError, backup
from storage.catalogue import import_rows, parse_csv
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.store import Store
from tests.support.clock import FakeClock
from tests.support.logged import copbot_logging
from tests.support.metrics import scrape
from tests.support.pg import connect
from tests.support.tcp_proxy import TcpProxy
from tests.support.transcript import person, say


async def ready(http: aiohttp.ClientSession, url: str, within: float = 10.0) -> None:
    """Probe /healthz at ``url`` as an orchestrator does, every time it answers 503, until it
    answers 200 (AssertionError after ``within`` seconds, with the last answer). A database that
    answers can still miss a short ``read_within`` when the machine is loaded (a first read
    connects, and asyncpg sets up its types first): that probe is 503, and the next one waits
    for the same read, which then answers."""
    answers: list[tuple[int, object]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not answers or loop.time() < deadline:
        async with http.get(url) as response:
            answers.append((response.status, await response.json()))
        if answers[-1][0] == 200:
            return
    raise AssertionError(f"/healthz not ready within {within:g} s: {answers[-1]}")


async def test_healthz_and_metrics(ctx: Context) -> None:
    """/healthz is 503 until every platform is connected; /metrics counts commands and claims."""
    connected = {"discord": False}
    server = OpsServer(ctx.store, Metrics(), [("discord", lambda: connected["discord"])])
    port = await server.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 503
                assert await response.json() == {"ready": False, "database": "ok", "discord": "connecting"}
            connected["discord"] = True
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
            await say(ctx, person("ann"), "/claim 3.11")
            await say(ctx, person("ann"), "/problem 9.9")
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                text = await response.text()
        assert 'copbot_commands_total{command="claim",outcome="ok"} 1.0' in text
        assert 'copbot_commands_total{command="problem",outcome="user_error"} 1.0' in text
        assert 'copbot_claims{state="active"}' in text
        assert "copbot_pending_submissions 0.0" in text
        assert "copbot_command_seconds_bucket" in text
    finally:
        await server.close()


async def test_claims_by_state_follow_the_database_down_to_zero(empty_db_url: str, clock: FakeClock) -> None:
    """A state no claim is in any more reads 0, not the count it had at an earlier scrape; a
    command refused for its arguments is counted as the user's error, like any other."""
    store = Store(make_engine(empty_db_url))
    await upgrade(store.engine)
    await import_rows(store, parse_csv("number,category,difficulty,problem\n1.1,Toy models,A,One\n"), clock())
    ctx = Context(store=store, clock=clock)
    server = OpsServer(store, Metrics(), [])
    port = await server.start("127.0.0.1", 0)

    async def claims() -> dict[str, float]:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
            text = await response.text()
        found = re.findall(r'^copbot_claims\{state="(\w+)"\} (\S+)$', text, re.M)
        return {state: float(value) for state, value in found}

    try:
        await say(ctx, person("ann"), "/claim 1.1")
        assert await claims() == {"active": 1, "stale": 0, "expired": 0, "released": 0}
        await say(ctx, person("ann"), "/release 1.1")
        assert await claims() == {"active": 0, "stale": 0, "expired": 0, "released": 1}
        await say(ctx, person("ann"), "/claim")  # no number
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert 'copbot_commands_total{command="claim",outcome="user_error"} 1.0' in await response.text()
    finally:
        await server.close()
        await store.close()


async def test_healthz_turns_503_during_a_partition_and_200_after(
    pg_behind_proxy: tuple[TcpProxy, Context],
) -> None:
    """What an orchestrator probing /healthz sees: not ready within seconds, ready again after."""
    proxy, ctx = pg_behind_proxy
    server = OpsServer(ctx.store, Metrics(), [])
    port = await server.start("127.0.0.1", 0)
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.get(url) as response:
                assert response.status == 200
            proxy.cut()
            async with http.get(url) as response:
                assert response.status == 503
                assert (await response.json())["database"].startswith("error")
            proxy.heal()
            async with http.get(url) as response:
                assert response.status == 200
    finally:
        await server.close()


async def test_a_database_that_hangs_costs_a_probe_and_a_scrape_seconds_not_the_read_timeout(
    pg_db_url: str,
) -> None:
    """A partition with DATABASE_TIMEOUT 10 s: /healthz and /metrics waited the whole 10 s, past
    a Kubernetes probe's and Prometheus's own timeouts, so the scrape was lost whole
    (copbot_database_up with it). Now each waits ``read_within`` (2 s; 0.5 s here): 503, and a
    scrape with copbot_database_up 0 and the database's series left out; after, as before. The
    read cut short is not cancelled: the next request waits for it instead of adding another."""
    url = make_url(pg_db_url)
    async with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        store = Store(make_engine(str(url.set(port=proxy.port)), timeout=10.0), state_ttl=0)
        server = OpsServer(store, Metrics(), [], read_within=0.5)
        port = await server.start("127.0.0.1", 0)
        health = f"http://127.0.0.1:{port}/healthz"
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(health) as response:
                    assert response.status == 200
                assert (await scrape(port))["copbot_database_up"] == 1.0
                proxy.cut()
                started = time.monotonic()
                async with http.get(health) as response:
                    assert response.status == 503
                    assert (await response.json())["database"] == "error: TimeoutError"
                samples = await scrape(port)
                assert time.monotonic() - started < 3.0  # two waits of 0.5 s, not 2 × 10 s
                assert samples["copbot_database_up"] == 0.0
                assert not [k for k in samples if k.startswith(("copbot_claims", "copbot_pending"))]
                proxy.heal()
                async with http.get(health) as response:
                    assert response.status == 200
                samples = await scrape(port)
                assert samples["copbot_database_up"] == 1.0 and "copbot_pending_submissions" in samples
        finally:
            await server.close()
            await store.close()


async def test_closing_the_ops_server_leaves_no_database_read_of_a_probe_running(pg_db_url: str) -> None:
    """A probe that gave up on a hung database (a partition) left its read running: closing the
    server at shutdown did not end it, so it outlived the server, held a pooled connection while
    the store closed and was destroyed pending with the event loop. Closing ends it."""
    url = make_url(pg_db_url)
    async with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        store = Store(make_engine(str(url.set(port=proxy.port)), timeout=10.0), state_ttl=0)
        server = OpsServer(store, Metrics(), [], read_within=0.2)
        port = await server.start("127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as http:
                await ready(http, f"http://127.0.0.1:{port}/healthz")  # its connection is in the pool
                proxy.cut()
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    assert response.status == 503
                await scrape(port)
        finally:
            await server.close()
            reads = [
                t for t in asyncio.all_tasks() if "problem_count" in repr(t) or "_read_gauges" in repr(t)
            ]
            await store.close()
        assert [t for t in reads if not t.done()] == []


class Probe:
    """/healthz of an OpsServer on ``store``, as an orchestrator reads it: (status, database)."""

    def __init__(self, store: Store) -> None:
        self.server = OpsServer(store, Metrics(), [])

    async def __aenter__(self) -> Probe:
        await self.server.start("127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()

    async def __call__(self) -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.server.port}/healthz"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return response.status, (await response.json())["database"]


async def test_healthz_says_writes_fail_on_a_read_only_sqlite_file(sqlite_url: str, clock: FakeClock) -> None:
    """The file opens read-only (a volume mounted so, permissions): reads work, every write
    fails; /healthz says so for a minute after the last failed write."""
    now = [0.0]
    path = make_url(sqlite_url).database
    store = Store(make_engine(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"), monotonic=lambda: now[0])
    ctx = Context(store=store, clock=clock)
    try:
        async with Probe(store) as health:
            assert await health() == (200, "ok")
            assert (await say(ctx, person("ann"), "/claim 3.11")).error

            assert await health() == (503, "writes failing: OperationalError")
            now[0] += 59
            assert (await health())[0] == 503
            now[0] += 2  # no write for a minute: nothing says they still fail
            assert await health() == (200, "ok")
    finally:
        await store.close()


async def test_healthz_is_ready_again_once_a_write_commits(pg_db_url: str, clock: FakeClock) -> None:
    """PostgreSQL turns read-only (as after a failover to a standby): /healthz says writes fail;
    once it takes writes again, the first one that commits makes it ready."""
    store = Store(make_engine(pg_db_url))
    ctx = Context(store=store, clock=clock)
    admin = await connect(pg_db_url)
    database = make_url(pg_db_url).database

    async def read_only(on: bool) -> None:
        setting = "SET default_transaction_read_only = on" if on else "RESET default_transaction_read_only"
        await admin.execute(f'ALTER DATABASE "{database}" {setting}')
        await store.engine.dispose()  # connections made from now on have it

    try:
        async with Probe(store) as health:
            await read_only(True)
            assert (await say(ctx, person("ann"), "/claim 3.11")).error
            status, database_status = await health()
            assert status == 503 and database_status.startswith("writes failing: ")

            await read_only(False)
            assert await health() == (503, database_status)  # until a write commits
            assert not (await say(ctx, person("ann"), "/claim 3.11")).error
            assert await health() == (200, "ok")
    finally:
        await admin.close()
        await store.close()


async def test_backup_while_writing(sqlite_url: str, tmp_path: Path) -> None:
    """A backup taken while claims are being written is a complete, readable database."""
    from storage.claims import Person
    from storage.engine import make_engine
    from storage.store import Store
    from tests.conftest import START

    store = Store(make_engine(sqlite_url))
    try:
        writers = asyncio.gather(
            *(store.claim("3.11", Person("discord", "g", f"u{i}", f"U{i}"), START) for i in range(200))
        )
        target = tmp_path / "copy.db"
        pages = await backup(sqlite_url, target)
        await writers
    finally:
        await store.close()
    assert pages > 0
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM problem").fetchone() == (98,)


HISTORY = (
    "INSERT INTO event (problem_number, kind, at, actor_platform, actor_name, detail) "
    "VALUES ('1.1', 'released', '2026-01-01 00:00:00.000000', 'discord', 'Ann', ?)"
)


async def test_a_backup_finishes_while_the_bot_writes_steadily(sqlite_url: str, tmp_path: Path) -> None:
    """A database of some 10,000 pages (years of history) and another connection committing every
    millisecond, as a busy bot does: the backup is one snapshot, taken while the writes go on,
    and a sound database. (Copied 1,024 pages at a time, SQLite started it over at each commit
    between two batches, and it never finished.)"""
    path = Path(make_url(sqlite_url).database or "")
    with closing(sqlite3.connect(path)) as db:
        db.executemany(HISTORY, [("x" * 3900,)] * 10_000)
        db.commit()
    writing, stop, gave_up = threading.Event(), threading.Event(), threading.Event()
    written = [0]

    def bot() -> None:
        with closing(sqlite3.connect(path, isolation_level=None)) as db:
            db.execute("PRAGMA synchronous=OFF")  # commits at a steady pace, with no fsync to stall them
            # A backup that restarts forever is given up on here: long after one that works has
            # finished (a second or two, several on a busy machine).
            until = time.monotonic() + 30
            while not stop.is_set():
                if time.monotonic() > until:
                    gave_up.set()
                    return
                db.execute(HISTORY, ("",))
                written[0] += 1
                if written[0] == 5:
                    writing.set()
                time.sleep(0.001)

    writer = threading.Thread(target=bot)
    writer.start()
    try:
        await asyncio.to_thread(writing.wait, 5)  # the bot is writing before the backup starts
        target = tmp_path / "copy.db"
        pages = await backup(sqlite_url, target)
        finished_while_writing = not gave_up.is_set()
        during = written[0]
    finally:
        stop.set()
        await asyncio.to_thread(writer.join)
    assert finished_while_writing, f"the backup finished only when the writes stopped ({during} of them)"
    assert pages > 10_000
    with closing(sqlite3.connect(target)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM event WHERE length(detail) = 3900").fetchone() == (10_000,)


async def test_backup_of_a_data_dir_named_with_hash_and_question_mark(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """DATA_DIR=…/d#x?y: the bot keeps its database in that directory, and the backup holds its
    problems and claims, with nothing created beside it (unescaped, SQLite read and copied an
    empty file named after the part before the ``#``)."""
    from storage.claims import Person
    from storage.engine import default_database_url, make_engine
    from storage.store import Store
    from tests.conftest import START

    data_dir = tmp_path / "d#x?y"
    url = default_database_url(data_dir)
    data_dir.mkdir()
    shutil.copyfile(sqlite_template, data_dir / "copbot.db")
    store = Store(make_engine(url))
    try:
        await store.claim("3.11", Person("discord", "g", "ann", "Ann"), START)
    finally:
        await store.close()
    target = tmp_path / "copy.db"
    assert await backup(url, target) > 1
    assert sorted(await asyncio.to_thread(os.listdir, tmp_path)) == ["copy.db", "d#x?y"]
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM problem").fetchone() == (98,)
        assert copy.execute(
            "SELECT problem_number, user_id FROM claim WHERE user_id IS NOT NULL"
        ).fetchall() == [("3.11", "ann")]


async def test_a_backup_onto_the_live_file_by_another_name_is_refused(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The live database reached through a symlink, a hard link or a path with ``..`` in it, and
    its -journal: refused like the file itself, before anything is written beside it."""
    live = Path(make_url(sqlite_url).database or "")
    (tmp_path / "link.db").symlink_to(live)
    os.link(live, tmp_path / "hard.db")
    (tmp_path / "sub").mkdir()
    before = await asyncio.to_thread(live.read_bytes)
    for target, what in (
        (tmp_path / "link.db", "the database itself"),
        (tmp_path / "hard.db", "the database itself"),
        (tmp_path / "sub" / ".." / live.name, "the database itself"),
        (tmp_path / "sub" / ".." / f"{live.name}-journal", "the database's own -journal file"),
    ):
        with pytest.raises(BackupError, match=f"^'{re.escape(str(target))}' is {what} "):
            await backup(sqlite_url, target)
    assert await asyncio.to_thread(live.read_bytes) == before
    assert sorted(await asyncio.to_thread(os.listdir, tmp_path)) == ["copbot.db", "hard.db", "link.db", "sub"]


async def test_a_backup_onto_a_symlink_writes_where_it_points_and_keeps_the_link(
    sqlite_url: str, tmp_path: Path
) -> None:
    """``db backup latest.db``, latest.db a link to this week's file: the copy is that file, and
    the link stays a link (it was replaced by a file of its own, the week's file left stale)."""
    (tmp_path / "backups").mkdir()
    week = tmp_path / "backups" / "monday.db"
    week.write_bytes(b"")
    (tmp_path / "latest.db").symlink_to(week)
    await backup(sqlite_url, tmp_path / "latest.db")
    assert (tmp_path / "latest.db").is_symlink()
    assert sorted(os.listdir(tmp_path / "backups")) == ["monday.db"]  # no partial file left there
    with sqlite3.connect(week) as copy:
        assert copy.execute("SELECT count(*) FROM problem").fetchone() == (98,)


async def test_backup_refuses_postgresql(tmp_path: Path) -> None:
    """PostgreSQL is backed up with its own tools; the command says so."""
    with pytest.raises(BackupError, match="pg_dump"):
        await backup("postgresql+asyncpg://x@127.0.0.1/db", tmp_path / "x")


async def test_a_backup_that_fails_leaves_nothing_behind(sqlite_url: str, tmp_path: Path) -> None:
    """A source that is not SQLite is named (not a traceback), and no half copy is left: neither
    the target nor the partial file it is written to."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not SQLite " * 200)
    out = tmp_path / "out"
    (out / "folder").mkdir(parents=True)
    with pytest.raises(BackupError, match=f"cannot copy '{junk}' to '{out}/copy.db': file is not a database"):
        await backup(f"sqlite+aiosqlite:///{junk}", out / "copy.db")
    with pytest.raises(BackupError, match="is no file to write the copy to [(]a folder[)]"):  # refused first
        await backup(sqlite_url, out / "folder")
    assert await asyncio.to_thread(os.listdir, out) == ["folder"]


def database_series(samples: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in samples.items() if k.startswith(("copbot_claims", "copbot_pending_submissions"))}


async def test_metrics_during_an_outage_leave_out_the_database_gauges_and_log_it_once(
    pg_behind_proxy: tuple[TcpProxy, Context], caplog: pytest.LogCaptureFixture
) -> None:
    """While PostgreSQL is out of reach, /metrics says so (copbot_database_up 0) and leaves out
    the claims and pending submissions rather than serve their last values as current; the log
    says so once, in one line, and once more when the database answers again."""
    caplog.set_level(logging.INFO, logger="copbot.ops")
    proxy, ctx = pg_behind_proxy
    server = OpsServer(ctx.store, Metrics(), [])
    port = await server.start("127.0.0.1", 0)
    try:
        before = await scrape(port)
        assert before["copbot_database_up"] == 1
        assert set(database_series(before)) == {
            'copbot_claims{state="active"}',
            'copbot_claims{state="stale"}',
            'copbot_claims{state="expired"}',
            'copbot_claims{state="released"}',
            "copbot_pending_submissions",
        }
        assert before['copbot_claims{state="active"}'] >= 1  # ann's, at least
        caplog.clear()
        proxy.cut()
        during = [await scrape(port), await scrape(port)]
        logged_during = [(r.levelno, r.getMessage(), r.exc_info) for r in caplog.records]
        proxy.heal()
        after = await scrape(port)
        logged_after = [(r.levelno, r.getMessage()) for r in caplog.records[len(logged_during) :]]
    finally:
        await server.close()
    for samples in during:
        assert samples["copbot_database_up"] == 0
        assert database_series(samples) == {}
        assert samples["copbot_sweeps_total"] == 0  # the rest is served as ever
    ((level, message, exc_info),) = logged_during
    assert level == logging.WARNING and exc_info is None and "\n" not in message
    assert "Error" in message  # the exception's class, e.g. TimeoutError or OperationalError
    assert logged_after == [(logging.INFO, "metrics: the database answers again")]
    assert after["copbot_database_up"] == 1 and database_series(after) == database_series(before)


async def test_button_presses_are_counted_and_logged_like_commands(
    ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    """A claim made with a card's Claim button is in /metrics (as button:claim, beside the typed
    /claim) and in the log with its outcome and latency; an id naming no action counts as
    button:unknown, whatever it says."""
    caplog.set_level(logging.INFO, logger="copbot.commands")
    server = OpsServer(ctx.store, Metrics(), [])
    port = await server.start("127.0.0.1", 0)
    try:
        await say(ctx, person("ann"), "/claim 3.11")
        assert not (await dispatch.run_action(ctx, person("bob"), "cop:claim:2.4")).error
        assert (await dispatch.run_action(ctx, person("bob"), "cop:release:9.99")).error
        for junk in ("cop:made-up-1:2.4", "cop:made-up-2:2.4", "nonsense"):
            assert (await dispatch.run_action(ctx, person("bob"), junk)).error
        samples = await scrape(port)
    finally:
        await server.close()
    counted = {k: v for k, v in samples.items() if k.startswith("copbot_commands_total")}
    assert counted == {
        'copbot_commands_total{command="claim",outcome="ok"}': 1,
        'copbot_commands_total{command="button:claim",outcome="ok"}': 1,
        'copbot_commands_total{command="button:release",outcome="user_error"}': 1,
        'copbot_commands_total{command="button:unknown",outcome="user_error"}': 3,
    }
    assert samples['copbot_command_seconds_count{command="button:claim"}'] == 1
    (line,) = [r for r in caplog.records if getattr(r, "command", None) == "button:claim"]
    assert (line.platform, line.community, line.outcome) == ("discord", "guild1", "ok")  # type: ignore[attr-defined]
    assert isinstance(line.latency_ms, float)  # type: ignore[attr-defined]


async def test_a_button_that_fails_is_counted_as_an_error(pg_behind_proxy: tuple[TcpProxy, Context]) -> None:
    """A Claim button pressed while PostgreSQL is out of reach: "the database didn't answer", and
    an error in /metrics."""
    proxy, ctx = pg_behind_proxy
    server = OpsServer(ctx.store, Metrics(), [])
    port = await server.start("127.0.0.1", 0)
    try:
        proxy.cut()
        reply = await dispatch.run_action(ctx, person("bob"), "cop:claim:2.4")
        proxy.heal()
        samples = await scrape(port)
    finally:
        await server.close()
    assert reply.text == dispatch.UNAVAILABLE
    assert samples['copbot_commands_total{command="button:claim",outcome="error"}'] == 1


async def test_the_metrics_port_cuts_off_a_client_that_never_finishes_its_headers(ctx: Context) -> None:
    """METRICS_PORT may be reachable from afar: headers that stop halfway, or a connection that
    sends nothing, are closed after HTTP_TIMEOUT (aiohttp's own limit is an hour), while a probe
    that sends its request is answered as ever."""
    server = OpsServer(ctx.store, Metrics(), [], client_timeout=0.3)
    port = await server.start("127.0.0.1", 0)
    try:
        halfway_reader, halfway = await asyncio.open_connection("127.0.0.1", port)
        halfway.write(b"GET /healthz HTTP/1.1\r\nHost: copbot\r\n")
        silent_reader, silent = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(halfway_reader.read(), 5) == b""
        assert await asyncio.wait_for(silent_reader.read(), 5) == b""
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200
        halfway.close()
        silent.close()
    finally:
        await server.close()


async def test_a_request_the_metrics_port_does_not_serve_is_one_line(ctx: Context) -> None:
    """A scrape configured with the wrong path or method gets its 404 or 405 as before, and one
    INFO line (one JSON object) saying what the port serves, without the request's query."""
    settings = Settings(_env_file=None, log_format="json")  # type: ignore[call-arg]
    with copbot_logging(settings) as logged:
        server = OpsServer(ctx.store, Metrics(), [])
        port = await server.start("127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/metric?auth=secret-in-query") as wrong_path:
                    pass
                async with http.post(f"http://127.0.0.1:{port}/metrics") as wrong_method:
                    pass
        finally:
            await server.close()
    assert (wrong_path.status, wrong_method.status) == (404, 405)
    refused = [(r["level"], r["message"]) for r in logged.records() if r["message"].startswith("refused")]
    assert refused == [
        ("INFO", "refused GET '/metric' on METRICS_PORT: it serves GET /metrics and /healthz"),
        ("INFO", "refused POST '/metrics' on METRICS_PORT: it serves GET /metrics and /healthz"),
    ]
    assert "secret-in-query" not in logged.text
