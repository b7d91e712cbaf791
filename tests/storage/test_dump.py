"""Moving a community's whole database from SQLite to PostgreSQL and back, losslessly."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from storage.claims import Person
from storage.dump import DumpError, dump, load
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.store import Store
from storage.submissions import decide, submit
from tests.conftest import START
from tests.support.pg import connect

CLAIM_COLUMNS = (
    "problem_number, platform, community_id, user_id, display_name, claimed_at, renewed_at, state, "
    "reminded_at, ended_at, note, unreachable, delivery, notice, date_known, source_text"
)
WAITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


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
        with pytest.raises(DumpError, match="already holds this dump .*: it was loaded before"):
            await load(target, path)
    finally:
        await target.close()


async def test_a_dump_taken_while_a_replica_writes_is_one_snapshot(pg_db_url: str, tmp_path: Path) -> None:
    """A replica commits a claim and its event while a dump of PostgreSQL is under way (after the
    dump's first read, before it reads the events): the dump holds neither, and it loads."""
    store = Store(make_engine(pg_db_url))
    replica, watcher = await connect(pg_db_url), await connect(pg_db_url)
    try:
        writing = replica.transaction()
        await writing.start()
        await replica.execute("LOCK TABLE event IN ACCESS EXCLUSIVE MODE")  # the dump waits there
        path = tmp_path / "dump.jsonl"
        dumping = asyncio.create_task(dump(store, path))
        # Until the dump has read the claims and waits for the events, however long it takes to get
        # there (watched from a connection outside the replica's transaction).
        async with asyncio.timeout(30):
            while not await watcher.fetchval(WAITING):
                assert not dumping.done(), dumping.result()
                await asyncio.sleep(0.01)
        copied = CLAIM_COLUMNS.replace("user_id", "'zed'")
        claim_id = await replica.fetchval(
            f"INSERT INTO claim ({CLAIM_COLUMNS}) SELECT {copied} FROM claim ORDER BY id LIMIT 1 RETURNING id"
        )
        await replica.execute(
            "INSERT INTO event (problem_number, kind, at, actor_platform, actor_id, actor_name, detail, "
            "claim_id) SELECT problem_number, 'claimed', claimed_at, platform, 'zed', 'Zed', '', id "
            "FROM claim WHERE id = $1",
            claim_id,
        )
        await writing.commit()
        counts = await asyncio.wait_for(dumping, 10)
        assert counts["claim"] == 11  # the seed's sheet claims, not the replica's new one

        target = Store(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'moved.db'}"))
        try:
            await upgrade(target.engine)
            assert (await load(target, path))["event"] == counts["event"]
        finally:
            await target.close()
    finally:
        await replica.close()
        await watcher.close()
        await store.close()


async def test_a_dump_that_does_not_hold_together_is_refused_whole(
    store: Store, empty_db_url: str, tmp_path: Path
) -> None:
    """An event naming a claim the file lacks (a dump cut or edited by hand): one clear error,
    and nothing loaded."""
    path = tmp_path / "dump.jsonl"
    await store.claim("3.11", Person("discord", "g1", "ann", "Ann"), START)
    await dump(store, path)
    kept = [line for line in path.read_text().splitlines() if '"table": "claim"' not in line]
    path.write_text("\n".join(kept) + "\n")
    target = Store(make_engine(empty_db_url))
    try:
        await upgrade(target.engine)
        with pytest.raises(DumpError, match="the dump does not hold together"):
            await load(target, path)
        assert not await target.problems()
    finally:
        await target.close()


async def test_a_row_missing_a_column_the_others_have_is_named_before_loading(
    store: Store, empty_db_url: str, tmp_path: Path
) -> None:
    """A claim line without its id (cut by hand): the load ended in SQLAlchemy's "A value is
    required for bind parameter 'id'", its traceback printing every claim row. The line is named,
    and nothing loaded."""
    path = tmp_path / "dump.jsonl"
    await store.claim("3.11", Person("discord", "g1", "ann", "Ann"), START)
    await dump(store, path)
    lines = path.read_text().splitlines()
    at = max(i for i, line in enumerate(lines) if '"table": "claim"' in line)
    row = json.loads(lines[at])["row"]
    del row["id"]
    lines[at] = json.dumps({"table": "claim", "row": row})
    path.write_text("\n".join(lines) + "\n")
    target = Store(make_engine(empty_db_url))
    try:
        await upgrade(target.engine)
        with pytest.raises(
            DumpError,
            match=rf"^line {at + 1}: a claim row with other columns than the rows before it \(id\)$",
        ):
            await load(target, path)
        assert not await target.problems()
    finally:
        await target.close()
