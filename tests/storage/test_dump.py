"""Moving a community's whole database from SQLite to PostgreSQL and back, losslessly."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.dump import DumpError, dump, load
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.store import Person, Store
from storage.submissions import decide, submit
from tests.conftest import START


async def test_dump_and_load_move_everything(store: Store, empty_db_url: str, tmp_path: Path) -> None:
    """Claims, links, history and settings arrive intact, and new rows get fresh ids."""
    ann = Person("discord", "g1", "ann", "Ann")
    await store.claim("3.11", ann, START)
    link = await submit(store, "2.4", "https://example.org/a", "example.org/a", "note", ann, START, 10)
    await decide(store, link.id or 0, Person("discord", "g1", "mod", "Mod"), True, "", START)
    await store.update_settings("discord", "g1", START, moderator_channel_id="123")
    path = tmp_path / "dump.jsonl"
    counts = await dump(store, path)
    assert counts["problem"] == 98 and counts["claim"] == 12

    target = Store(make_engine(empty_db_url))
    try:
        await upgrade(target.engine)
        loaded = await load(target, path)
        assert loaded["claim"] == 12 and loaded["work_link"] == 1
        assert [c.display_name for c in await target.claims_for_problem("3.11") if c.user_id] == ["Ann"]
        assert [x.url for x in await target.approved_links("2.4")] == ["https://example.org/a"]
        assert [e.kind for e in await target.history("2.4")][-2:] == ["submitted", "approved"]
        settings = await target.get_settings("discord", "g1")
        assert settings and settings.moderator_channel_id == "123"
        fresh = await target.claim("1.1", ann, START)
        assert fresh.created and (fresh.claim.id or 0) > 12
        with pytest.raises(DumpError, match="already has problem rows"):
            await load(target, path)
    finally:
        await target.close()
