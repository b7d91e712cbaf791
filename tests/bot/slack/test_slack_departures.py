"""copbot removed from the Slack workspace (the app uninstalled, its token revoked): its claims
expire instead of being retried forever, its pending submissions close, one error says so.

Through Bolt and the fake Slack, with moderation and the sweep wired as ``copbot run`` wires them,
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.ops import Metrics, OpsServer
from bot.runner import health_check
from commands.types import Context
from storage import submissions
from storage.models import ClaimState, LinkStatus
from tests.bot.slack.slack_rig import ANN, TOKEN, Rig, moderated, running
from tests.fakes.slack_api import FakeSlack
from tests.support.clock import FakeClock
from tests.support.metrics import scrape

LINK = "https://example.org/acronyms"


@pytest.fixture
async def rig(fake: FakeSlack, ctx: Context) -> AsyncIterator[Rig]:
    """Ann holds 3.11 and has submitted a link for 2.4, posted for the moderators."""
    async with moderated(fake, ctx) as rig:
        assert "You claimed" in (await rig.command("/claim", "3.11", user=ANN)).shown
        assert "went to the moderators" in (await rig.command("/submit", f"2.4 {LINK}", user=ANN)).shown
        yield rig


async def weeks_of_sweeps(rig: Rig, clock: FakeClock, weeks: int = 12) -> None:
    assert rig.sweeper is not None
    for _ in range(weeks):
        clock.advance(days=7)
        await rig.sweeper.run_once()


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def let_go(rig: Rig) -> None:
    """The claim expired (nobody reminded), the submission closed: the work is free."""
    (claim,) = [c for c in await rig.ctx.store.claims_for_problem("3.11") if c.user_id == ANN]
    assert claim.state == ClaimState.EXPIRED and claim.delivery == "unreachable"
    link = await submissions.get_link(rig.ctx.store, 1)
    assert link is not None and link.status == LinkStatus.REJECTED
    history = [(e.kind, e.detail) for e in await rig.ctx.store.history("2.4")]
    assert ("rejected", f"{LINK} (the community removed copbot)") in history


async def test_uninstalling_the_app_lets_its_claims_and_submissions_go(
    rig: Rig, fake: FakeSlack, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """app_uninstalled was answered 404 (not subscribed, no handler) and then every reminder
    failed with invalid_auth and was retried forever, the claim stale for good."""
    reply = await rig.slack.event({"type": "app_uninstalled"})
    assert reply.status == 200, reply
    await rig.front.drain()
    fake.tokens.discard(TOKEN)  # as Slack does: the token no longer works
    await rig.slack.event({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [fake.bot_user_id]}})
    await rig.front.drain()
    posts = len(fake.calls)

    await weeks_of_sweeps(rig, clock)

    await let_go(rig)
    assert fake.calls[posts:] == []  # nothing was tried with the revoked token
    (error,) = errors(caplog)
    assert "the Slack app was uninstalled from the workspace" in error and "SLACK_BOT_TOKEN" in error


async def test_a_revoked_token_is_found_by_the_sweep_when_the_events_were_missed(
    rig: Rig, fake: FakeSlack, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """invalid_auth to the reminder's DM: the workspace is gone, not a refusal to retry."""
    fake.tokens.discard(TOKEN)

    await weeks_of_sweeps(rig, clock)

    await let_go(rig)
    (error,) = errors(caplog)
    assert "invalid_auth" in error and "uninstalled" in error


async def test_a_users_revoked_token_changes_nothing_and_a_reinstall_brings_the_workspace_back(
    rig: Rig, fake: FakeSlack, ctx: Context, clock: FakeClock
) -> None:
    """tokens_revoked for a person's own token leaves copbot be; a start with a token Slack takes
    (the app installed again) clears the mark, and claims are reminded again."""
    await rig.slack.event({"type": "tokens_revoked", "tokens": {"oauth": [ANN], "bot": []}})
    await rig.front.drain()
    row = await ctx.store.get_settings("slack", fake.team_id)  # recorded as served at start
    assert row is not None and row.left_at is None

    await rig.slack.event({"type": "app_uninstalled"})
    await rig.front.drain()
    row = await ctx.store.get_settings("slack", fake.team_id)
    assert row is not None and row.left_at is not None

    async with running(fake, ctx):
        pass
    row = await ctx.store.get_settings("slack", fake.team_id)
    assert row is not None and row.left_at is None
    clock.advance(days=31)
    assert rig.sweeper is not None
    assert (await rig.sweeper.run_once()).delivered == {"dm": 1}


async def health(port: int) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as response:
        return response.status, await response.json()


@pytest.mark.parametrize("how", ["app_uninstalled", "found by the sweep"])
async def test_an_operator_sees_the_workspace_removed_copbot(
    rig: Rig, fake: FakeSlack, ctx: Context, clock: FakeClock, how: str
) -> None:
    """/healthz said ready (200) after the app was uninstalled, though copbot could serve nobody
    there: one install is one workspace. Now 503 with how, and copbot_platform_ready 0; a start
    with a token Slack takes (reinstalled) makes it ready again."""
    server = OpsServer(ctx.store, Metrics(), [("slack", health_check(rig.front))])
    port = await server.start("127.0.0.1", 0)
    try:
        assert await health(port) == (200, {"ready": True, "database": "ok", "slack": "ok"})
        assert (await scrape(port))['copbot_platform_ready{platform="slack"}'] == 1.0
        fake.tokens.discard(TOKEN)
        if how == "app_uninstalled":
            assert (await rig.slack.event({"type": "app_uninstalled"})).status == 200
            await rig.front.drain()
        else:
            await weeks_of_sweeps(rig, clock, weeks=5)
        status, body = await health(port)
        assert status == 503 and body["ready"] is False and body["database"] == "ok"
        said = str(body["slack"])
        assert said.startswith("removed: ") and "SLACK_BOT_TOKEN" in said
        assert ("uninstalled" in said) and (how != "app_uninstalled" or "app_uninstalled" in said)
        assert (await scrape(port))['copbot_platform_ready{platform="slack"}'] == 0.0

        fake.tokens.add(TOKEN)
        async with running(fake, ctx):  # the app installed again, copbot restarted
            pass
        assert await health(port) == (200, {"ready": True, "database": "ok", "slack": "ok"})
    finally:
        await server.close()
