"""Discord and Slack front ends serving one database, as one ``copbot run`` process does."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from commands.types import Context
from tests.bot.discord import discord_rig as dr
from tests.bot.slack import slack_rig as sr
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack


@dataclass
class Both:
    """The fake Discord, and the Slack rig, with copbot's front ends on one Context."""

    discord: FakeDiscord
    slack: sr.Rig

    async def ask(self, command: str, options: dict[str, Any] | None = None, **kw: Any) -> str:
        """A Discord slash command's answer, as its user reads it (deferred or not)."""
        iid = await self.discord.slash(command, options, **kw)
        return dr.text_of(await self.discord.answer(iid))


@contextlib.asynccontextmanager
async def both(ctx: Context, db_url: str) -> AsyncIterator[Both]:
    """Both front ends started on ``ctx`` (one store), each on its fake."""
    async with FakeDiscord() as discord, FakeSlack(tokens={sr.TOKEN}) as slack:
        sr.add_people(slack)
        async with dr.running(discord, ctx, db_url), sr.running(slack, ctx) as rig:
            yield Both(discord, rig)
        assert discord.errors == [] and discord.unhandled == []
        assert [c.block_errors for c in slack.refused_blocks] == []


async def test_the_same_name_on_discord_and_slack_is_told_apart(ctx: Context, db_url: str) -> None:
    """Discord's ann and Slack's ann both work on 2.4: Slack shows the Discord one as "ann (Discord)"
    and Discord shows the Slack one as "ann (Slack)"; each platform's own ann is shown plainly."""
    async with both(ctx, db_url) as b:
        ann_on_discord = b.discord.add_member("ann", nick="ann")
        await b.ask("claim", {"number": "2.4"}, user_id=ann_on_discord)
        refused = await b.slack.command("/release", "2.4 done", user=sr.ANN)
        assert (
            "only its claimant can release it (jknowak (Discord) - July 2023, ann (Discord))" in refused.shown
        )
        await b.slack.command("/claim", "2.4", user=sr.ANN)
        on_slack = (await b.slack.command("/claims", "number:2.4", user=sr.BOB)).shown
        assert "• ann (Discord) — since 2026-11-25 (today)\n• ann — since 2026-11-25 (today)" in on_slack
        on_discord = await b.ask("claims", {"number": "2.4"})
        assert "• ann — since 2026-11-25 (today)\n• ann (Slack) — since 2026-11-25 (today)" in on_discord
        history = (await b.slack.command("/history", "2.4", user=sr.BOB)).shown
        assert "2026-11-25 · ann claimed it\n• 2026-11-25 · ann (Discord) claimed it" in history


async def test_a_name_of_the_other_platform_is_explained(ctx: Context, db_url: str) -> None:
    """Slack's `/claims alice` for a Discord member who holds a claim says where to find it."""
    async with both(ctx, db_url) as b:
        await b.ask("claim", {"number": "3.11"}, user_id=b.discord.alice_id)
        card = (await b.slack.command("/problem", "3.11", user=sr.BOB)).shown
        assert "• Alice (Discord) — since 2026-11-25 (today)" in card
        missed = (await b.slack.command("/claims", "alice", user=sr.BOB)).shown
        assert "I know nobody called 'alice' here who has claimed a problem." in missed
        assert "another platform or in another workspace show on the problem: /claims number:NUMBER" in missed
