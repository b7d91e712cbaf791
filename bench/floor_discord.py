"""The framework's floor on Discord: a bare discord.py bot whose one slash command answers "ok".

Run as ``python -m bench.floor_discord``, configured like copbot by DISCORD_TOKEN,
DISCORD_API_URL, DISCORD_GATEWAY_URL and DISCORD_GUILD_ID (its command is synced to that guild).
It exits on SIGTERM. Nothing else: no database, no logging beyond warnings, no cache it does not
need, so what it costs per interaction is discord.py's own cost (plus the fake's).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route


class Floor(discord.Client):
    """A client with one guild command, ``/ok``."""

    def __init__(self, guild_id: int, gateway: str) -> None:
        """Guild intent only (as copbot), no message cache, nobody mentionable."""
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none(), max_messages=None)
        self.gateway = gateway
        self.guild = discord.Object(guild_id)
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="ok", description="answers ok", guild=self.guild)
        async def ok(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("ok")

    async def setup_hook(self) -> None:
        """A plain Client never asks GET /gateway: point it at the configured gateway; sync."""
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway)
        await self.tree.sync(guild=self.guild)


async def main() -> int:
    """Run until SIGTERM/SIGINT."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING").upper())
    Route.BASE = os.environ["DISCORD_API_URL"].rstrip("/")
    client = Floor(int(os.environ["DISCORD_GUILD_ID"]), os.environ["DISCORD_GATEWAY_URL"])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with client:
        running = asyncio.create_task(client.start(os.environ["DISCORD_TOKEN"]))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            running.result()  # raises what stopped it
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
