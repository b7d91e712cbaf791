"""Transcript helpers: type a line as someone, read the reply as the console shows it."""

from __future__ import annotations

from bot.console import render
from commands import dispatch
from commands.types import Actor, Context, Reply

# What a member without admin rights is told on Discord (the transcripts' platform) for /setup.
NOT_ADMIN = "/setup needs admin rights in this community (Manage Server or Administrator)."


def person(name: str, *, moderator: bool = False, admin: bool = False, community: str = "guild1") -> Actor:
    """A user of the test community; their id is their name."""
    return Actor("discord", community, name, name.title(), moderator, admin)


async def say(ctx: Context, actor: Actor, line: str) -> Reply:
    """Run one typed line as ``actor``."""
    return await dispatch.run_line(ctx, actor, line)


async def shown(ctx: Context, actor: Actor, line: str) -> str:
    """Run one typed line and return what the console would print."""
    return render(await say(ctx, actor, line), width=None)
