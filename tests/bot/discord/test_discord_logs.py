"""What copbot logs while it answers on Discord: a failure is logged, an interaction's token
(good for answering as copbot for 15 minutes) never."""

from __future__ import annotations

import pytest

from commands.types import Context
from tests.bot.discord.discord_rig import running, settings_for
from tests.fakes.discord_api import GARBLED, FakeDiscord
from tests.support.logged import copbot_logging


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize(
    ("garbled", "defer_after"),
    [("/interactions/*/callback", 2.0), ("/webhooks/*", 0.0)],
    ids=["callback", "follow-up"],
)
async def test_a_garbled_answer_from_discord_is_logged_without_the_interaction_token(
    sqlite_ctx: Context, sqlite_url: str, log_format: str, garbled: str, defer_after: float
) -> None:
    """A proxy at DISCORD_API_URL garbles the answer to the interaction's callback (or to its
    follow-up, after a deferral): aiohttp's error names the URL, whose path holds the token. The
    failure is logged with its traceback, in text and in JSON; the token is masked."""
    async with FakeDiscord() as fake:
        fake.garble("POST", garbled)
        settings = settings_for(fake, sqlite_url, log_format=log_format)
        with copbot_logging(settings) as logged:
            async with running(fake, sqlite_ctx, sqlite_url, defer_after=defer_after) as bot:
                iid = await fake.slash("help")
                hit = await fake.wait_for(lambda r: r.response == GARBLED)
                await bot.drain()
    token = next(r.path.split("/")[3] for r in fake.requests if r.path.startswith(f"/interactions/{iid}/"))
    assert len(token) > 20 and token in hit.path
    assert "ClientResponseError" in logged.text and "ERROR" in logged.text  # the failure is there
    assert token not in logged.text
    assert ("/interactions/" if defer_after else "/webhooks/") in logged.text and "/***" in logged.text
    if log_format == "json":
        assert any(r["level"] == "ERROR" and "exception" in r for r in logged.records())
