"""copbot run as an operator starts it: a separate process configured only by its environment."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from tests.bot.discord.discord_rig import TOKEN, buttons
from tests.fakes.discord_api import FakeDiscord
from tests.support.process import start_copbot


async def test_copbot_run_answers_then_exits_cleanly_on_sigterm(db_url: str, tmp_path: Path) -> None:
    """`python -m bot.cli run` with DISCORD_* and DATABASE_URL: /problem 2.4 and a button work,
    and SIGTERM ends it with status 0 within a few seconds; the log never shows the token."""
    log_path = tmp_path / "copbot.log"
    async with FakeDiscord() as fake:
        process = await start_copbot(fake, TOKEN, db_url, tmp_path, log_path)
        try:
            await fake.wait_ready(timeout=30)
            await fake.wait_until(lambda: fake.syncs, timeout=5)

            iid = await fake.slash("problem", {"number": "2.4"})
            card = await fake.wait_for_callback(iid)
            assert not card.ephemeral and card.message is not None
            assert "jknowak (Discord) - July 2023" in str(card.embeds[0]["fields"])
            claim = await fake.click(card.message, dict(buttons(card.message))["Claim"])
            claimed = await fake.wait_for_callback(claim)
            assert claimed.ephemeral
            assert claimed.embeds[0]["description"].startswith("You claimed 2.4")

            # The runner cancels a reminder sweep still running at SIGTERM and can then hang
            # closing the database (reported; not Discord's). Let the start-up sweep finish so
            # this test checks the Discord shutdown; at worst it waits 3 s more.
            with contextlib.suppress(TimeoutError):
                await fake.wait_until(lambda: "executed successfully" in log_path.read_text(), 3.0)
            process.send_signal(signal.SIGTERM)
            try:
                code: int | None = await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                code = None  # still running: fails below, with its log
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        output = log_path.read_text(errors="replace")
        assert code == 0, output
        assert fake.syncs[0][0] is None  # no DISCORD_GUILD_ID: global commands
        assert fake.errors == []
    assert TOKEN not in output
    assert "invite copbot to a server" in output
    assert "young garbage collections wait for requests in flight" in output
    assert "Traceback" not in output, output
