"""copbot run as an operator starts it: a separate process configured only by its environment."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from commands.dispatch import RESTARTING
from storage import submissions
from storage.claims import Person
from storage.migrate import ADVISORY_LOCK_KEY
from storage.models import Claim, WorkLink
from storage.store import Store
from tests.bot.discord.discord_rig import TOKEN, buttons, text_of
from tests.fakes.discord_api import DEFERRED_CHANNEL_MESSAGE, EPHEMERAL, FakeDiscord
from tests.support.pg import lock_rows, lock_waiters, lock_waiters_on
from tests.support.process import copbot_process

ROOT = Path(__file__).resolve().parents[3]
HEALTH = re.compile(r"metrics and health on (http://[\d.]+:\d+)/metrics")


async def shown(fake: FakeDiscord, interaction_id: int) -> dict[str, Any]:
    """The message posted in answer to an interaction, at once or after a deferral, as stored:
    with its id (for its buttons to be pressed) and its flags (whether only the member sees it)."""
    await fake.answer(interaction_id)
    callback = fake.callbacks[interaction_id]
    if callback.type != DEFERRED_CHANNEL_MESSAGE:
        assert callback.message is not None
        return callback.message
    (followup,) = [f for f in fake.followups if f.interaction_id == interaction_id and f.method == "POST"]
    assert followup.message is not None
    return followup.message


async def test_copbot_run_answers_then_exits_cleanly_on_sigterm(db_url: str, tmp_path: Path) -> None:
    """`python -m bot.cli run` with DISCORD_* and DATABASE_URL: /problem 2.4 and a button work,
    and SIGTERM ends it with status 0 within a few seconds; the log never shows the token."""
    log_path = tmp_path / "copbot.log"
    async with FakeDiscord() as fake:
        async with copbot_process(fake, TOKEN, db_url, tmp_path, log_path) as process:
            await fake.wait_ready(timeout=30)
            await fake.wait_until(lambda: fake.syncs, timeout=5)

            # Answered at once, or after a deferral when copbot is slower than DEFER_AFTER (the
            # first claim on a busy machine): either way, what the member reads.
            iid = await fake.slash("problem", {"number": "2.4"})
            card = await shown(fake, iid)
            assert not card["flags"] & EPHEMERAL
            assert "jknowak (Discord) - July 2023" in str(card["embeds"][0]["fields"])
            claim = await fake.click(card, dict(buttons(card))["Claim"])
            claimed = await shown(fake, claim)
            assert claimed["flags"] & EPHEMERAL
            assert claimed["embeds"][0]["description"].startswith("You claimed 2.4")

            # Started in full: the line comes once start-up recovery is done (a SIGTERM before it
            # stops copbot as well, tested elsewhere, but without this line).
            frozen = "young garbage collections wait for requests in flight"
            await fake.wait_until(lambda: frozen in log_path.read_text(errors="replace"), timeout=10)
            process.send_signal(signal.SIGTERM)
            code = await stopped(process, 5)  # None: still running, fails below with its log
        output = log_path.read_text(errors="replace")
        assert code == 0, output
        assert fake.syncs[0][0] is None  # no DISCORD_GUILD_ID: global commands
        assert fake.errors == []
    assert TOKEN not in output
    assert "invite copbot to a server" in output
    assert "Traceback" not in output, output


async def test_a_developers_env_file_in_the_checkout_never_reaches_the_suites_copbot(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A .env in the checkout (docs/slack.md suggests one for `make run`) stays the developer's:
    the copbot the tests start serves the fake Discord alone. Before, it ran in the checkout, read
    the file from there and sent the developer's real Slack token to slack.com; this .env points
    Slack at a closed local port instead, where a copbot that read it could not start (status 2)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        nobody = s.getsockname()[1]  # closed again: nothing answers there, nothing leaves the machine
    env_file = ROOT / ".env"
    try:
        with env_file.open("x", encoding="utf-8") as planted:  # never overwrites a developer's own
            planted.write(
                "SLACK_BOT_TOKEN=xoxb-from-the-checkouts-env\n"
                "SLACK_APP_TOKEN=xapp-from-the-checkouts-env\n"
                f"SLACK_API_URL=http://127.0.0.1:{nobody}/api/\n"
            )
    except FileExistsError:
        pytest.skip(f"{env_file} exists (a developer's own): not overwritten, so not tested here")
    log_path = tmp_path / "copbot.log"
    try:
        async with FakeDiscord() as fake:
            async with copbot_process(fake, TOKEN, sqlite_url, tmp_path, log_path) as process:
                serving = lambda: fake.syncs and any(c.ready for c in fake.connections)  # noqa: E731
                await fake.wait_until(lambda: process.returncode is not None or serving(), timeout=30)
                assert process.returncode is None, log_path.read_text(errors="replace")
                iid = await fake.slash("problem", {"number": "2.4"})
                await fake.wait_for_callback(iid, timeout=10)
    finally:
        env_file.unlink()
    output = log_path.read_text(errors="replace")
    assert f"127.0.0.1:{nobody}" not in output and "slack" not in output.lower(), output


def log_after(log_path: Path, mark: int) -> str:
    """What copbot logged from byte ``mark`` on."""
    return log_path.read_bytes()[mark:].decode(errors="replace")


async def stopped(process: asyncio.subprocess.Process, within: float) -> int | None:
    """Its exit status once it exits, within ``within`` seconds (None: killed after)."""
    try:
        return await asyncio.wait_for(process.wait(), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        return None


async def sigterm_timed(
    process: asyncio.subprocess.Process, log_path: Path, within: float
) -> tuple[int | None, float, str]:
    """SIGTERM: the exit status (see :func:`stopped`), the seconds it took, what was logged since."""
    mark = os.stat(log_path).st_size
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = await stopped(process, within)
    return code, time.monotonic() - started, log_after(log_path, mark)


def stop_took(after: str) -> float:
    """Seconds from copbot's "SIGTERM: shutting down" line to its "copbot: stopped" one in
    ``after`` (its log since the SIGTERM), by the times it wrote on them: how long stopping took
    it. Not the time until the process ended: the interpreter's own exit after "stopped" takes
    half a second, and on a busy machine three and more."""

    def at(text: str) -> datetime:
        (line,) = [line for line in after.splitlines() if text in line]
        return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")

    return (at("copbot: stopped") - at("SIGTERM: shutting down")).total_seconds()


async def claim_states(store: Store, guild: str, user_id: int) -> dict[str, str]:
    """Problem number → state of a Discord user's open claims."""
    return {
        c.problem_number: c.state for c in await store.open_claims_for_user("discord", guild, str(user_id))
    }


async def answer_text(fake: FakeDiscord, interaction_id: int) -> str:
    """What the user reads in answer to an interaction, answered at once or deferred."""
    return text_of(await fake.answer(interaction_id))


async def test_sigterm_while_the_gateway_is_out_of_reach_exits_at_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    """SIGTERM while copbot waits for a Discord gateway it cannot reach (at start it waits up to a
    minute): exit 0 within seconds, with nothing logged as an error (before, it went on starting
    for the rest of the minute, then closing Discord failed after 10 s with a traceback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        nobody = s.getsockname()[1]  # closed again: connections to it are refused
    log_path = tmp_path / "copbot.log"
    async with FakeDiscord() as fake:
        async with copbot_process(
            fake, TOKEN, sqlite_url, tmp_path, log_path, DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{nobody}/gw"
        ) as process:
            # discord.py's first attempt failed; it tries again every 5 s.
            await fake.wait_until(lambda: "Failed to connect for shard_id: 0" in log_path.read_text(), 30)
            mark = log_path.stat().st_size
            process.send_signal(signal.SIGTERM)
            code = await stopped(process, 20)
    after = log_after(log_path, mark)
    assert code == 0, after
    assert stop_took(after) < 3, after
    assert "SIGTERM: shutting down" in after and after.rstrip().endswith("copbot: stopped")
    assert "ERROR" not in after and "Traceback" not in after, after
    assert "Scheduler started" not in log_path.read_text()  # start-up went no further


async def test_sigterm_while_waiting_for_another_replicas_migration_exits_at_once(
    pg_db_url: str, pg_store: Store, tmp_path: Path
) -> None:
    """SIGTERM while copbot waits for the migration lock another replica holds (a long migration
    in a rolling deploy): exit 0 within seconds, without logging in to Discord. Before, it went
    on waiting for the lock however long the migration took (an orchestrator's 20 s grace ran
    out and it was killed), then logged in and started serving /metrics only to stop."""
    log_path = tmp_path / "copbot.log"
    async with pg_store.engine.connect() as holder:
        await holder.execute(sa.text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})"))
        async with (
            FakeDiscord() as fake,
            copbot_process(fake, TOKEN, pg_db_url, tmp_path, log_path) as process,
        ):
            async with asyncio.timeout(30):  # however long copbot takes to start and ask for the lock
                while not await lock_waiters_on(pg_store, "pg_advisory_xact_lock"):
                    assert process.returncode is None, log_path.read_text()
                    await asyncio.sleep(0.05)
            code, _, after = await sigterm_timed(process, log_path, 20)
            assert not fake.requests  # no login, no command sync
    assert code == 0, log_path.read_text()
    assert stop_took(after) < 5, after
    assert "SIGTERM: shutting down" in after and after.rstrip().endswith("copbot: stopped"), after
    assert "Traceback" not in log_path.read_text() and "metrics and health" not in log_path.read_text()


async def test_sigterm_takes_no_new_work_and_lets_work_in_flight_finish(
    pg_db_url: str, pg_store: Store, tmp_path: Path
) -> None:
    """At SIGTERM /healthz turns 503 and a new command is answered "restarting" at once, while a
    command and the reminder sweep in flight finish: the release is answered and done, the stale
    claim's reminder is sent, then copbot exits 0. (Before, /healthz said ready and a new /problem
    was answered as usual for as long as a sweep ran.) Both wait on row locks the test holds."""
    log_path = tmp_path / "copbot.log"
    async with FakeDiscord() as fake:
        stale_user, leaver = fake.add_member("stale"), fake.add_member("leaver")
        long_ago, guild = datetime.now(UTC) - timedelta(days=40), str(fake.guild_id)
        stale = await pg_store.claim("1.1", Person("discord", guild, str(stale_user), "stale"), long_ago)
        left = await pg_store.claim("1.2", Person("discord", guild, str(leaver), "leaver"), datetime.now(UTC))
        held = await lock_rows(pg_store, Claim, [stale.claim.id or 0, left.claim.id or 0])
        async with copbot_process(fake, TOKEN, pg_db_url, tmp_path, log_path, METRICS_PORT="0") as process:
            try:
                await fake.wait_ready(timeout=30)
                listening = await fake.wait_until(lambda: HEALTH.search(log_path.read_text()))
                await lock_waiters(pg_store, "claim", at_least=1, timeout=10)  # the start-up sweep
                release = await fake.slash("release", {"number": "1.2"}, user_id=leaver)
                await lock_waiters(pg_store, "claim", at_least=2, timeout=10)  # and the release

                process.send_signal(signal.SIGTERM)
                await fake.wait_until(lambda: "SIGTERM: shutting down" in log_path.read_text())
                async with aiohttp.ClientSession() as http:
                    async with http.get(f"{listening.group(1)}/healthz") as response:
                        health = (response.status, await response.json())
                problem = await fake.slash("problem", {"number": "2.4"})
                refused = await fake.wait_for_callback(problem)
                await held.close()  # the sweep and the release go on
                released = await answer_text(fake, release)
                code = await stopped(process, 10)
            finally:
                await held.close()
    output = log_path.read_text()
    assert code == 0, output
    assert health == (503, {"ready": False, "database": "ok", "discord": "stopping"})
    assert refused.ephemeral and text_of(refused.data or {}) == RESTARTING
    assert released == "Released your claim on 1.2."
    (reminder,) = fake.dms[stale_user]
    assert "1.1" in text_of(reminder)
    assert "cut short" not in output
    assert "ERROR" not in output and "Traceback" not in output, output
    assert await claim_states(pg_store, guild, stale_user) == {"1.1": "stale"}


async def sigterm_in_a_held_up_sweep(
    pg_db_url: str, pg_store: Store, tmp_path: Path, within: float, **settings: str
) -> tuple[FakeDiscord, int, tuple[int | None, float, str, str]]:
    """copbot with ``settings``, its first sweep held up by a stale claim's row locked, then
    SIGTERM: the fake Discord, the stale claimant; the exit status, the seconds the stop took,
    what was logged before the SIGTERM and what after (see :func:`sigterm_timed`)."""
    log_path = tmp_path / "copbot.log"
    async with FakeDiscord() as fake:
        stale_user, guild = fake.add_member("stale"), str(fake.guild_id)
        long_ago = datetime.now(UTC) - timedelta(days=40)
        stale = await pg_store.claim("1.1", Person("discord", guild, str(stale_user), "stale"), long_ago)
        held = await lock_rows(pg_store, Claim, [stale.claim.id or 0])
        async with copbot_process(fake, TOKEN, pg_db_url, tmp_path, log_path, **settings) as process:
            try:
                await fake.wait_ready(timeout=30)
                await lock_waiters(pg_store, "claim", at_least=1, timeout=10)
                before = log_path.read_text(errors="replace")
                code, took, after = await sigterm_timed(process, log_path, within)
            finally:
                await held.close()
    return fake, stale_user, (code, took, before, after)


async def test_a_sweep_still_running_at_the_bound_is_cut_short_in_one_calm_line(
    pg_db_url: str, pg_store: Store, tmp_path: Path
) -> None:
    """SHUTDOWN_GRACE_SECONDS=1 and a sweep held up longer (by a row lock): one warning says it was
    cut short, nothing is logged as an error, copbot exits 0 right after the bound, and the cut
    sweep changed nothing (the next one does it all). Before: an ERROR with a traceback, logged
    after "stopped"."""
    fake, stale_user, (code, _, _, after) = await sigterm_in_a_held_up_sweep(
        pg_db_url, pg_store, tmp_path, 10, SHUTDOWN_GRACE_SECONDS="1"
    )
    guild = str(fake.guild_id)
    assert code == 0, after
    assert 1 <= stop_took(after) < 4, after
    assert after.count("a reminder sweep was cut short after 1 s") == 1, after
    assert "ERROR" not in after and "Traceback" not in after, after
    assert after.rstrip().endswith("copbot: stopped")
    assert fake.dms[stale_user] == []
    assert await claim_states(pg_store, guild, stale_user) == {"1.1": "active"}


async def test_a_shutdown_grace_the_orchestrator_would_cut_is_fitted_into_its_stop_grace(
    pg_db_url: str, pg_store: Store, tmp_path: Path
) -> None:
    """SHUTDOWN_GRACE_SECONDS raised to 60 while the orchestrator kills copbot 12 s after SIGTERM
    (STOP_GRACE_SECONDS=12, which docker-compose.yml's stop_grace_period takes too): before,
    a sweep held up at a stop was waited for 60 s, and Docker killed copbot mid-shutdown (its
    database connections cut, status 137). Now copbot warns at start, naming both settings and
    the value that would fit, and at SIGTERM cuts the sweep after 2 s (12 less the 8 s closing
    takes and 2 s to spare), exiting 0 well within the 12 s."""
    _, _, (code, took, start, after) = await sigterm_in_a_held_up_sweep(
        pg_db_url, pg_store, tmp_path, 12, SHUTDOWN_GRACE_SECONDS="60", STOP_GRACE_SECONDS="12"
    )
    assert (
        "SHUTDOWN_GRACE_SECONDS=60 does not fit in STOP_GRACE_SECONDS=12" in start
        and "raise STOP_GRACE_SECONDS to 70" in start
    ), start
    assert code == 0, after
    assert 2 <= stop_took(after) < 6, (took, after)
    assert after.count("a reminder sweep was cut short after 2 s") == 1, after
    assert after.rstrip().endswith("copbot: stopped")


async def test_a_command_still_running_after_the_grace_holds_up_closing_once(
    pg_db_url: str, pg_store: Store, tmp_path: Path
) -> None:
    """SHUTDOWN_GRACE_SECONDS=1 and a /release held up longer (by a row lock): once the grace is
    over the Discord front end waits for it once more (5 s) and closes; copbot exits 0 within its
    bound, with no warning. Before, closing waited for it twice, 5 s before disconnecting and
    5 s after, so the runner cut closing short at 8 s, logging "closing took longer than 8 s;
    closing the database anyway", and the stop took 3 s longer."""
    log_path = tmp_path / "copbot.log"
    frozen = "young garbage collections wait for requests in flight"
    async with FakeDiscord() as fake:
        leaver = fake.add_member("leaver")
        async with copbot_process(
            fake, TOKEN, pg_db_url, tmp_path, log_path, SHUTDOWN_GRACE_SECONDS="1"
        ) as process:
            await fake.wait_until(lambda: frozen in log_path.read_text(errors="replace"), timeout=30)
            assert await answer_text(fake, await fake.slash("claim", {"number": "1.2"}, user_id=leaver))
            (claim,) = await pg_store.open_claims_for_user("discord", str(fake.guild_id), str(leaver))
            held = await lock_rows(pg_store, Claim, [claim.id or 0])
            try:
                await fake.slash("release", {"number": "1.2"}, user_id=leaver)
                await lock_waiters(pg_store, "claim", at_least=1, timeout=10)
                code, took, after = await sigterm_timed(process, log_path, 15)
            finally:
                await held.close()
    assert code == 0, after
    assert "closing took longer" not in after, after
    assert 6 <= stop_took(after) < 8, (took, after)
    assert "copbot: stopped" in after, after


async def test_sigterm_while_posting_a_waiting_submission_at_start_lets_it_be_posted(
    pg_db_url: str, pg_store: Store, tmp_path: Path
) -> None:
    """At start copbot posts the submissions waiting for their moderators; SIGTERM meanwhile
    lets the post go out (and be recorded, so it is not posted twice), then stops start-up there
    and exits 0. The test holds the submission's row until copbot waits for it."""
    log_path = tmp_path / "copbot.log"
    async with FakeDiscord() as fake:
        mods, now = fake.add_channel("moderators"), datetime.now(UTC)
        who = Person("discord", str(fake.guild_id), str(fake.add_member("sub")), "sub")
        await pg_store.update_settings("discord", who.community_id, now, moderator_channel_id=str(mods))
        url = "https://example.org/write-up"
        link = await submissions.submit(pg_store, "2.4", url, url, "", who, now, per_hour=10)
        held = await lock_rows(pg_store, WorkLink, [link.id or 0])
        async with copbot_process(fake, TOKEN, pg_db_url, tmp_path, log_path) as process:
            try:
                await lock_waiters(pg_store, "work_link", at_least=1, timeout=30)
                process.send_signal(signal.SIGTERM)
                await fake.wait_until(lambda: "SIGTERM: shutting down" in log_path.read_text())
                await held.close()
                code = await stopped(process, 10)
            finally:
                await held.close()
    output = log_path.read_text()
    assert code == 0, output
    (post,) = fake.messages[mods]
    assert url in text_of(post)
    assert (await submissions.get_link(pg_store, link.id or 0)).mod_message_id == str(post["id"])
    assert "cut short" not in output and "Scheduler started" not in output
    assert "ERROR" not in output and "Traceback" not in output, output


async def test_the_gateway_closed_for_good_after_start_stops_copbot_with_status_2(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A resumable drop (4000) is resumed and copbot goes on; a close Discord means for good
    (4004: the token was reset while copbot ran) stops it with one ERROR line naming the code and
    the setting, a graceful shutdown and status 2, so that the orchestrator starts it again.
    Before, discord.py's error was logged at DEBUG at shutdown only: copbot ran on, /healthz
    answering "connecting" forever (an unhealthy container is not restarted)."""
    log_path = tmp_path / "copbot.log"
    async with FakeDiscord() as fake:
        async with copbot_process(fake, TOKEN, sqlite_url, tmp_path, log_path, METRICS_PORT="0") as process:
            await fake.wait_ready(timeout=30)
            frozen = "young garbage collections wait for requests in flight"
            await fake.wait_until(lambda: frozen in log_path.read_text(errors="replace"), timeout=10)
            base = HEALTH.search(log_path.read_text())
            assert base is not None

            await fake.disconnect(4000)
            await fake.wait_until(lambda: fake.resumes and any(c.ready for c in fake.connections), 10)
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base.group(1)}/healthz") as response:
                    assert response.status == 200, log_path.read_text()
            assert process.returncode is None

            mark = log_path.stat().st_size
            await fake.disconnect(4004)
            code = await stopped(process, 15)  # None: still running after 15 s
    after = log_after(log_path, mark)
    assert code == 2, after
    errors = [line for line in after.splitlines() if " ERROR " in line or " CRITICAL " in line]
    assert len(errors) == 1, after
    assert "Discord closed the gateway with 4004 (authentication failed): check DISCORD_TOKEN" in errors[0]
    assert "Traceback" not in after, after
    assert after.rstrip().endswith("copbot: stopped"), after
