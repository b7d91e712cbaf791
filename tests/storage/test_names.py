"""A renamed member's rows take on the new name; a name that did not change costs no write."""

from __future__ import annotations

import asyncio
import sqlite3

from storage.claims import Person
from storage.engine import make_engine
from storage.store import Store
from tests.conftest import START

ANN = Person("discord", "g1", "ann", "Ann")
ANNIE = Person("discord", "g1", "ann", "Annie")


async def test_an_unchanged_name_is_checked_without_writing_and_a_new_one_written_once(
    sqlite_url: str,
) -> None:
    """While another process holds SQLite's write lock, Ann acting under the name her claim shows
    is answered at once (a write would wait for the lock); acting as Annie waits for it, then
    renames her claim, and acting as Annie again finds nothing to do."""
    store = Store(make_engine(sqlite_url))
    path = sqlite_url.removeprefix("sqlite+aiosqlite:///")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await store.claim("2.4", ANN, START)
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE problem SET existing_work = existing_work WHERE number = '1.1'")

        # At once: a write would wait for the lock, held until the COMMIT below.
        assert await asyncio.wait_for(store.refresh_name(ANN), 10.0) is False
        assert store.inline_fallbacks == 0
        renaming = asyncio.create_task(store.refresh_name(ANNIE))
        await asyncio.sleep(0.05)
        assert not renaming.done()  # its write waits for the lock
        other.execute("COMMIT")
        assert await asyncio.wait_for(renaming, 5.0) is True

        claims, _ = await store.problem_state("2.4")
        assert [c.display_name for c in claims if c.platform == "discord"] == ["Annie"]
        assert [e.actor_name for e in await store.history("2.4") if e.actor_id == "ann"] == ["Annie"]
        assert await store.refresh_name(ANNIE) is False
        # Another community's rows keep the name they show there (a Discord nickname is a server's).
        assert await store.refresh_name(Person("discord", "g2", "ann", "Nan")) is False
        assert [c.display_name for c in (await store.problem_state("2.4"))[0] if c.platform == "discord"] == [
            "Annie"
        ]
    finally:
        other.close()
        await store.close()
