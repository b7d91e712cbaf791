"""Answers that take longer than the ack may wait go through the response_url."""

from __future__ import annotations

import asyncio

import pytest

from commands.registry import COMMANDS, CommandSpec
from commands.types import Context, Reply, Request
from tests.bot.slack.slack_rig import ANN, running
from tests.fakes.slack_api import FakeSlack


async def test_a_slow_answer_is_acked_empty_then_posted_by_response_url(
    fake: FakeSlack, ctx: Context
) -> None:
    async with running(fake, ctx, answer_within=0) as rig:
        ack = await rig.slack.command("/problem", "2.4", user_id=ANN)
        later = await fake.wait_for("response_url")

    assert (ack.status, ack.text) == (200, "")
    assert later.args["response_type"] == "in_channel" and later.args["replace_original"] is False
    assert later.args["blocks"][0]["text"]["text"].startswith("2.4 — 3 letter acronyms")
    assert later.args["text"].startswith("2.4 — 3 letter acronyms")


async def test_the_ack_does_not_wait_for_work_in_progress(
    fake: FakeSlack, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = asyncio.Event()

    async def slowpoke(ctx: Context, request: Request) -> Reply:
        await gate.wait()
        return Reply(text=f"done for {request.actor.display_name}", private=True)

    monkeypatch.setitem(COMMANDS, "slowpoke", CommandSpec("slowpoke", "waits", (), slowpoke))

    async with running(fake, ctx, answer_within=0.05) as rig:
        ack = await rig.slack.command("/slowpoke", user_id=ANN)
        posted_before_done = list(fake.responses)
        gate.set()
        later = await fake.wait_for("response_url")

    assert (ack.status, ack.text) == (200, "") and posted_before_done == []
    assert later.args["response_type"] == "ephemeral" and later.args["text"] == "done for ann"


async def test_a_failing_command_is_logged_and_answered_with_an_apology(
    fake: FakeSlack, ctx: Context, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in a command (registered like any other) reaches the user as a private apology."""

    async def boom(ctx: Context, request: Request) -> Reply:
        raise RuntimeError("command bug")

    monkeypatch.setitem(COMMANDS, "boom", CommandSpec("boom", "fails", (), boom))
    async with running(fake, ctx) as rig:
        answer = await rig.command("/boom")

    assert not answer.public and "Sorry, something went wrong on my side." in answer.shown
    failures = [r for r in caplog.records if r.name == "copbot.commands" and r.exc_info]
    assert len(failures) == 1 and "command bug" in caplog.text
