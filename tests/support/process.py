"""Running copbot as its own process (``python -m bot.cli run``) against the fake Discord."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.fakes.discord_api import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]


async def start_copbot(
    fake: FakeDiscord, token: str, db_url: str, data_dir: Path, log_path: Path, **settings: str
) -> asyncio.subprocess.Process:
    """Start copbot configured only by its environment (Discord on ``fake``, ``db_url``, and any
    further ``settings`` by their variable names), its output going to ``log_path``.

    It runs in ``data_dir``, not in the checkout: copbot reads a ``.env`` from its working
    directory, and a developer's own one there (with their real tokens) must not reach it."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": token,
        "DISCORD_API_URL": fake.api_url,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DATABASE_URL": db_url,
        "DATA_DIR": str(data_dir),
        **settings,
    }
    with log_path.open("wb") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=data_dir, env=env, stdout=log, stderr=log
        )


@asynccontextmanager
async def copbot_process(
    fake: FakeDiscord, token: str, db_url: str, data_dir: Path, log_path: Path, **settings: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """:func:`start_copbot`, killed on the way out if it is still running (a test that failed
    before stopping it must not leave it behind)."""
    process = await start_copbot(fake, token, db_url, data_dir, log_path, **settings)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
