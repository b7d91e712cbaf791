"""A running DiscordFrontEnd behind the fake Discord, and helpers that read answers as a user would."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.discord.client import CopClient
from bot.discord.frontend import DiscordFrontEnd
from bot.discord.interactions import ANSWER_WAIT
from bot.moderation import Moderation
from bot.reminders import Sweeper
from bot.runner import make_moderation, make_sweeper
from commands.types import Context
from tests.fakes.discord_api import Callback, FakeDiscord

TOKEN = "fake-token-do-not-log"


class QuickClient(CopClient):
    """The real client, minus discord.py's 5 s pause before each IDENTIFY after the first."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Identify at once: the fake has no session start limit to respect."""


def settings_for(fake: FakeDiscord, db_url: str, **overrides: Any) -> Settings:
    """Settings for a front end talking to ``fake``, ignoring any .env file and environment."""
    values: dict[str, Any] = {
        "database_url": db_url,
        "discord_token": TOKEN,
        "discord_api_url": fake.api_url,
        "discord_gateway_url": fake.gateway_url,
        "discord_guild_id": fake.guild_id,
        "discord_shard_count": None,
        "discord_shard_ids": None,
        "slack_bot_token": None,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextlib.asynccontextmanager
async def running(
    fake: FakeDiscord,
    ctx: Context,
    db_url: str,
    *,
    defer_after: float = 2.0,
    answer_wait: float = ANSWER_WAIT,
    client_options: dict[str, Any] | None = None,
    **overrides: Any,
) -> AsyncIterator[DiscordFrontEnd]:
    """The front end started on ``fake`` (its guild in the client's cache), closed afterwards;
    ``client_options`` for discord.py's client (``guild_ready_timeout``, say)."""
    front_end = DiscordFrontEnd(
        settings_for(fake, db_url, **overrides),
        ctx,
        defer_after=defer_after,
        answer_wait=answer_wait,
        client_class=QuickClient,
        client_options=client_options,
    )
    await front_end.start()
    try:
        await fake.wait_ready()
        # The start's own database work (recording that copbot is in the server) done before the
        # test begins, so that a test cutting the database does not cut it.
        await front_end.inflight.drain()
        yield front_end
    finally:
        await front_end.close()


def embed(callback: Callback) -> dict[str, Any]:
    """The one embed of an answer."""
    (only,) = callback.embeds
    return only


def text_of(message: dict[str, Any] | None) -> str:
    """Everything a user reads in a message or callback payload: content, title, description,
    fields, footer (nothing for none)."""
    message = message or {}
    parts = [message.get("content") or ""]
    for e in message.get("embeds") or []:
        parts += [e.get("title") or "", e.get("description") or ""]
        parts += [f"{f['name']}\n{f['value']}" for f in e.get("fields") or []]
        parts.append((e.get("footer") or {}).get("text") or "")
    return "\n".join(p for p in parts if p)


_ESCAPED = re.compile(r"\\([^0-9A-Za-z\s])")
# Discord's autolink: to a space or "<", ending on none of .,:;"')] (a URL in <…> ends at ">").
_BARE_URL = re.compile(r"(?<![0-9A-Za-z])https?://[^\s<]*[^\s<.,:;\"')\]]")
_ANGLED_URL = re.compile(r"<(https?://[^\s>]+)>")
_MASKED_LINK = re.compile(r"\[((?:\\.|[^\\\[\]])*)\]\(<?(https?://[^\s)>]+)>?\)")
_LINE_MARKUP = re.compile(r"[ \t]*(?:[>#+-]|[0-9]+\.(?=\s|$))")
# Discord shows a masked link whose text holds an address (``[https://a.org](https://a.org)``,
# ``[see https://a.org](…)``) as its raw markdown, brackets and all: no link of it.
_ADDRESS = re.compile(r"https?://\w", re.IGNORECASE)


@dataclass
class Markdown:
    """How Discord reads a text (its markdown, roughly): the masked links, as (label, URL), and
    every other markdown character left live (not escaped, outside bare URLs and link targets);
    a masked link whose label holds an address is no link, its brackets live characters."""

    links: list[tuple[str, str]]
    live: list[str]
    bare: list[str] = field(default_factory=list)  # the URLs Discord makes links of as they stand


def markdown(text: str) -> Markdown:
    """What of ``text`` Discord would render as markdown (see :class:`Markdown`)."""
    found = Markdown([], [])
    for line in text.split("\n"):
        if start := _LINE_MARKUP.match(line):
            found.live.append(start.group().strip())
        at = 0
        while at < len(line):
            if bare := _BARE_URL.match(line, at) or _ANGLED_URL.match(line, at):
                found.bare.append(bare.group(bare.lastindex or 0))
                at = bare.end()
                while line[at : at + 1] == "]":  # copbot leaves it bare: it closes nothing
                    at += 1
            elif skip := _ESCAPED.match(line, at):
                at = skip.end()
            elif (masked := _MASKED_LINK.match(line, at)) and not _ADDRESS.search(masked[1]):
                found.links.append((masked[1], masked[2]))
                found.live += markdown(masked[1]).live
                at = masked.end()
            else:
                if line[at] in "*_~`|[]<":
                    found.live.append(line[at])
                at += 1
    return found


def literal(text: str) -> str:
    """``text`` as Discord shows it once its escapes are read (``\\*`` shows ``*``)."""
    return _ESCAPED.sub(r"\1", text)


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, custom_id) of every button, row by row."""
    return [
        (item["label"], item["custom_id"])
        for row in message.get("components") or []
        for item in row.get("components") or []
        if item.get("type") == 2
    ]


async def ask(fake: FakeDiscord, command: str, options: dict[str, Any] | None = None, **kw: Any) -> Callback:
    """Run a slash command as a user and return Discord's record of the answer."""
    iid = await fake.slash(command, options, **kw)
    return await fake.wait_for_callback(iid)


@dataclass
class Moderated:
    """A running front end with moderation and the sweep wired as ``copbot run`` wires them."""

    fake: FakeDiscord
    bot: DiscordFrontEnd
    moderation: Moderation
    sweeper: Sweeper

    async def settle(self, events: int) -> None:
        """Wait until the bot has handled ``events`` reaction events in all (its own included)."""
        await self.fake.wait_until(
            lambda: self.bot.reactions_handled >= events, description=f"{events} reactions handled"
        )

    async def react(self, message: dict[str, Any], emoji: str, user_id: int) -> dict[str, Any]:
        """``user_id`` reacts under ``message``; returns once the bot has handled the event."""
        handled = self.bot.reactions_handled
        payload = await self.fake.react(int(message["channel_id"]), int(message["id"]), emoji, user_id)
        await self.settle(handled + 1)
        return payload


@contextlib.asynccontextmanager
async def moderated(
    fake: FakeDiscord, ctx: Context, db_url: str, **overrides: Any
) -> AsyncIterator[Moderated]:
    """:func:`running`, with ``make_moderation`` in ``ctx.effects`` and ``make_sweeper`` beside it."""
    async with running(fake, ctx, db_url, **overrides) as front_end:
        settings = front_end.settings
        moderation = make_moderation(settings, ctx, [front_end])
        ctx.effects = moderation
        try:
            yield Moderated(fake, front_end, moderation, make_sweeper(settings, ctx, [front_end], moderation))
        finally:
            ctx.effects = None


async def alice_holds_work(fake: FakeDiscord, link: str) -> None:
    """In the fake's server, through a running copbot: the owner sets the moderator and reminder
    channels (made here); Alice claims 3.11 and submits ``link`` for 2.4, posted for the
    moderators."""
    fake.add_channel("mods")
    fake.add_channel("reminders")
    values = {"moderator_channel": fake.channel_id("mods"), "reminder_channel": fake.channel_id("reminders")}
    saved = await ask(fake, "setup set", values, user_id=fake.owner_id)
    assert embed(saved)["description"] == "Settings saved.", embed(saved)
    claimed = await ask(fake, "claim", {"number": "3.11"}, user_id=fake.alice_id)
    assert "You claimed" in embed(claimed)["description"]
    sent = await ask(fake, "submit", {"number": "2.4", "link": link}, user_id=fake.alice_id)
    assert "went to the moderators" in embed(sent)["description"], embed(sent)
