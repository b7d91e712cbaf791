"""The stale sweep over many claims: its time should follow the stale claims, not all claims."""

from __future__ import annotations

import time
from datetime import timedelta

import sqlalchemy as sa

from bench.common import NOW, fresh_store
from bot.outbound import Posted
from bot.reminders import Sweeper
from commands.types import Reply
from storage.models import Claim
from storage.store import Store


class NullOutbound:
    """Accepts every message instantly, so the numbers are the sweep's own cost."""

    name = "discord"

    def __init__(self) -> None:
        """Count what would have been sent."""
        self.sent = 0

    async def send_dm(
        self, community_id: str, user_id: str, reply: Reply, *, ask_if_gone: bool = True
    ) -> Posted:
        """Count a DM."""
        self.sent += 1
        return Posted("dm", str(self.sent))

    async def send_channel(self, community_id: str, channel_id: str, reply: Reply) -> Posted:
        """Count a post."""
        self.sent += 1
        return Posted(channel_id, str(self.sent))

    async def edit(self, posted: Posted, reply: Reply) -> None:
        """Nothing to do."""

    async def react(self, posted: Posted, emojis: list[str]) -> None:
        """Nothing to do."""


async def fill(store: Store, total: int, stale: int) -> None:
    """Insert ``total`` active claims of which ``stale`` were last renewed 40 days ago."""
    numbers = ["1.1", "2.4", "3.11", "4.2", "2.7", "3.3"]
    chunk = 20_000
    for start in range(0, total, chunk):
        rows = []
        for i in range(start, min(total, start + chunk)):
            when = NOW - timedelta(days=40 if i < stale else 2, seconds=i)
            rows.append(
                {
                    "problem_number": numbers[i % len(numbers)],
                    "platform": "discord",
                    "community_id": "g1",
                    "user_id": f"u{i}",
                    "display_name": f"User {i}",
                    "claimed_at": when,
                    "renewed_at": when,
                    "state": "active",
                    "note": "",
                    "unreachable": False,
                    "delivery": "",
                    "notice": "",
                    "date_known": True,
                    "source_text": "",
                }
            )
        await store.execute(sa.insert(Claim), rows)


async def run(backend: str, total: int, stale: int) -> list[str]:
    """One row: (backend, claims, stale, sweep seconds, pings, per stale claim ms)."""
    async with fresh_store(backend, seed=True) as store:
        await fill(store, total, stale)
        outbound = NullOutbound()

        async def no_channel(platform: str, community: str) -> str | None:
            return None

        sweeper = Sweeper(
            store,
            {"discord": outbound},
            lambda: NOW,
            stale_after_days=30,
            grace_days=14,
            reminder_channel=no_channel,
        )
        started = time.perf_counter()
        report = await sweeper.run_once()
        seconds = time.perf_counter() - started
        assert report.stale == stale == outbound.sent, (report, stale, outbound.sent)
        started = time.perf_counter()
        await sweeper.run_once()
        idle = time.perf_counter() - started
    per = seconds / stale * 1000 if stale else 0.0
    return [backend, f"{total:,}", f"{stale:,}", f"{seconds:.3f}", f"{per:.2f}", f"{idle * 1000:.1f}"]
