"""Structured logs: one JSON object a line with the command's context, and never a secret."""

from __future__ import annotations

import json
import logging

from bot.config import Settings
from bot.logs import JsonFormatter


def test_json_lines_carry_extra_fields_and_tracebacks() -> None:
    """A record's extra fields (command, community, latency) and its exception become keys."""
    formatter = JsonFormatter()
    record = logging.LogRecord("copbot.commands", logging.ERROR, __file__, 1, "command failed", (), None)
    record.command, record.community, record.latency_ms = "claim", "guild1", 3.5
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(formatter.format(record))
    assert line["message"] == "command failed" and line["level"] == "ERROR"
    assert (line["command"], line["community"], line["latency_ms"]) == ("claim", "guild1", 3.5)
    assert "ValueError: boom" in line["exception"]


def test_settings_never_show_their_secrets() -> None:
    """Printing or logging the settings shows tokens masked."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token="dtok-123",
        slack_bot_token="xoxb-456",
        slack_signing_secret="sig-789",
    )
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert "dtok-123" not in shown and "xoxb-456" not in shown and "sig-789" not in shown


async def test_each_command_is_logged_with_its_context(ctx, caplog) -> None:  # type: ignore[no-untyped-def]
    """Every command leaves one line naming command, community, outcome and latency."""
    from tests.support.transcript import person, say

    with caplog.at_level(logging.INFO, logger="copbot.commands"):
        await say(ctx, person("ann"), "/problem 2.99")
    (record,) = [r for r in caplog.records if r.name == "copbot.commands"]
    assert (record.command, record.community, record.outcome) == ("problem", "guild1", "user_error")
    assert record.latency_ms >= 0
