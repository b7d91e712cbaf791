"""The schema comes from Alembic migrations, which match the models and run safely in parallel."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from storage import models  # noqa: F401
from storage.engine import make_engine
from storage.migrate import upgrade

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from storage.store import Store

ROOT = Path(__file__).resolve().parents[2]
HEAD = "0020"


async def test_upgrade_creates_every_table_and_is_idempotent(empty_db_url: str) -> None:
    """A fresh database gets every table; a second upgrade finds nothing to do."""
    engine = make_engine(empty_db_url)
    try:
        await upgrade(engine)
        await upgrade(engine)
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
            version = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar_one()
        assert set(SQLModel.metadata.tables) <= tables
        assert version == HEAD
    finally:
        await engine.dispose()


async def test_migrations_match_the_models(empty_db_url: str) -> None:
    """Autogenerate finds no difference between the migrated schema and the models."""
    engine = make_engine(empty_db_url)
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), SQLModel.metadata)
            )
        assert diff == []
    finally:
        await engine.dispose()


REPLICA = """
import asyncio, sys
from storage.engine import make_engine
from storage.migrate import upgrade

async def main():
    engine = make_engine(sys.argv[1])
    await upgrade(engine)
    await engine.dispose()

asyncio.run(main())
"""


async def four_replicas_migrate(db_url: str) -> None:
    """Four processes migrate ``db_url`` at once (REPLICA); each must succeed."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", REPLICA, db_url, cwd=ROOT, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(4)
    ]
    results = await asyncio.gather(*(p.communicate() for p in procs))
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err.decode()[-3000:] for _, err in results]


async def test_replicas_starting_together_all_come_up(empty_db_url: str) -> None:
    """Four bot processes migrating one empty database at once all succeed, once."""
    await four_replicas_migrate(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        async with engine.connect() as conn:
            versions = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).all()
        assert [v[0] for v in versions] == [HEAD]
    finally:
        await engine.dispose()


async def test_the_whole_upgrade_is_one_transaction(empty_db_url: str) -> None:
    """A replica starting during another's upgrade sees all of it or none of it.

    Alembic commits after each migration on SQLite unless it runs inside a transaction already
    begun; a replica reading the version between two of those commits applied a migration again.
    """
    engine = make_engine(empty_db_url)
    commits: list[object] = []
    sa.event.listen(engine.sync_engine, "commit", commits.append)
    try:
        await upgrade(engine)
        assert len(commits) == 1
        async with engine.connect() as conn:
            version = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar_one()
        assert version == HEAD
    finally:
        await engine.dispose()


async def test_concurrent_upgrades_in_one_process_are_serialised(empty_db_url: str) -> None:
    """Two tasks upgrading at once in one process do not trip over Alembic's globals."""
    engines = [make_engine(empty_db_url) for _ in range(2)]
    try:
        await asyncio.gather(*(upgrade(e) for e in engines))
    finally:
        for engine in engines:
            await engine.dispose()


async def test_replicas_seeding_an_empty_database_together_load_it_once(empty_db_url: str) -> None:
    """Four processes' first start on one empty database: one catalogue, no crash."""
    from storage.catalogue import ensure_seeded
    from storage.store import Store
    from tests.conftest import SEED, START

    stores = [Store(make_engine(empty_db_url)) for _ in range(4)]
    try:
        await upgrade(stores[0].engine)
        reports = await asyncio.gather(*(ensure_seeded(s, SEED, START) for s in stores))
        assert sum(len(r.added) for r in reports if r is not None) == 98
        assert await stores[0].problem_count() == 98
        assert len(await stores[0].claimed_numbers()) == 11
        assert len(await stores[0].claims_for_problem("2.4")) == 1
    finally:
        for store in stores:
            await store.close()


async def test_upgrading_keeps_the_handled_event_ids(empty_db_url: str) -> None:
    """A database from before 0004 keeps every event id it handled: a replay is still refused.

    On SQLite the table is rebuilt keyed by the id itself (``WITHOUT ROWID``).
    """
    from datetime import UTC, datetime

    from storage.store import Store

    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    store = Store(make_engine(empty_db_url))
    try:
        await upgrade(store.engine, "0003")
        assert await store.first_time("discord:interaction:1", now)
        await upgrade(store.engine)
        assert not await store.first_time("discord:interaction:1", now)
        assert await store.first_time("discord:interaction:2", now)
        if store.engine.dialect.name == "sqlite":
            ddl_of_the_table = sa.text("SELECT sql FROM sqlite_master WHERE name = 'processed_event'")
            async with store.engine.connect() as conn:
                ddl = (await conn.execute(ddl_of_the_table)).scalar_one()
            assert "WITHOUT ROWID" in ddl
    finally:
        await store.close()


async def test_submissions_decided_before_0005_are_not_edited_or_told_again(empty_db_url: str) -> None:
    """After the upgrade, a submission decided and shown before it is not edited or told again at
    the next sweep; a later decision on it is (its post behind, its notice due)."""
    from datetime import UTC, datetime

    from storage import posts, submissions
    from storage.catalogue import ensure_seeded
    from storage.claims import Person
    from storage.store import Store
    from tests.conftest import SEED, START

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    store = Store(make_engine(empty_db_url))
    try:
        await upgrade(store.engine, "0004")
        await ensure_seeded(store, SEED, START)
        decided_and_shown = sa.text(
            "INSERT INTO work_link (problem_number, url, normalized_url, note, platform, community_id,"
            " user_id, display_name, created_at, status, decided_by_id, decided_by_name, decided_at,"
            " reason, mod_channel_id, mod_message_id) VALUES ('2.4', 'https://example.org/a',"
            " 'example.org/a', '', 'discord', 'g1', 'ann', 'Ann', :now, 'approved', 'mod', 'Mod', :now,"
            " '', 'mods', '42')"
        )
        async with store.engine.begin() as conn:
            await conn.execute(decided_and_shown, {"now": now})
        await upgrade(store.engine)

        assert await posts.posts_behind(store, ["discord"]) == []
        assert await submissions.take_notices(store, ["discord"], now=now) == []
        await submissions.undo(store, 1, Person("discord", "g1", "mod", "Mod"), now)
        assert [link.id for link in await posts.posts_behind(store, ["discord"])] == [1]
        taken = await submissions.take_notices(store, ["discord"], now=now)
        assert [link.status for link in taken] == ["pending"]
    finally:
        await store.close()


async def test_replicas_upgrading_a_database_in_use_together_index_it_once(empty_db_url: str) -> None:
    """A database at 0006 with weeks of use (claims, history, handled event ids): four replicas
    starting at once all come up, the history and the event ids are all kept, and both tables
    have their new indexes (0007, then 0019's on the event's actor) in place of the old one."""
    from datetime import UTC, datetime, timedelta

    from storage.catalogue import ensure_seeded
    from storage.models import Claim, Event
    from storage.store import Person, Store
    from tests.conftest import SEED, START

    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    ann = Person("discord", "g1", "ann", "Ann")
    store = Store(make_engine(empty_db_url))
    try:
        await upgrade(store.engine, "0006")
        await ensure_seeded(store, SEED, START)
        # Planted as rows: today's store names claim columns that 0006 lacks.
        for day in range(3):
            at, ended = now + timedelta(days=day), now + timedelta(days=day, hours=1)
            claim = {"problem_number": "2.4", "platform": ann.platform, "community_id": ann.community_id}
            claim |= {"user_id": ann.user_id, "display_name": ann.display_name, "claimed_at": at}
            claim |= {"renewed_at": at, "state": "released", "ended_at": ended, "note": f"try {day}"}
            await store.execute(sa.insert(Claim), [claim])
            who = {
                "problem_number": "2.4",
                "actor_platform": "discord",
                "actor_id": "ann",
                "actor_name": "Ann",
            }
            events = [who | {"kind": "claimed", "at": at, "detail": ""}]
            events.append(who | {"kind": "released", "at": ended, "detail": f"try {day}"})
            await store.execute(sa.insert(Event), events)
        for i in range(20):
            assert await store.first_time(f"slack:Ev{i}", now - timedelta(days=i))
        history = [(e.kind, e.at, e.detail) for e in await store.history("2.4")]
    finally:
        await store.close()

    await four_replicas_migrate(empty_db_url)

    store = Store(make_engine(empty_db_url))
    try:
        async with store.engine.connect() as conn:
            versions = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).all()
            indexes = await conn.run_sync(
                lambda c: {
                    t: {i["name"] for i in sa.inspect(c).get_indexes(t)} for t in ("event", "processed_event")
                }
            )
        assert [v[0] for v in versions] == [HEAD]
        expected = {"ix_event_problem_at", "ix_event_actor"}  # 0007's, and 0019's
        assert indexes == {"event": expected, "processed_event": {"ix_processed_event_at"}}
        assert [(e.kind, e.at, e.detail) for e in await store.history("2.4")] == history
        assert len(history) == 7  # the sheet's claim, then three claims and releases
        assert not any([await store.first_time(f"slack:Ev{i}", now) for i in range(20)])
    finally:
        await store.close()


async def test_communities_set_up_before_0009_are_all_still_there(empty_db_url: str) -> None:
    """Settings chosen before the upgrade are kept, and no community is taken for gone."""
    from datetime import UTC, datetime

    from storage import departures
    from storage.store import Store

    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    store = Store(make_engine(empty_db_url))
    try:
        await upgrade(store.engine, "0008")
        set_up = sa.text(
            "INSERT INTO community_settings (platform, community_id, moderator_channel_id, updated_at)"
            " VALUES ('discord', 'g1', 'mods', :now)"
        )
        async with store.engine.begin() as conn:
            await conn.execute(set_up, {"now": now})
        await upgrade(store.engine)

        row = await store.get_settings("discord", "g1")
        assert row is not None and (row.moderator_channel_id, row.left_at) == ("mods", None)
        assert await departures.left(store, ["discord"]) == set()
        assert await departures.mark_left(store, "discord", "g1", now)
    finally:
        await store.close()


async def test_a_second_open_claim_from_another_server_is_merged_by_0010(empty_db_url: str) -> None:
    """Before 0010 Ann could hold 3.11 twice, once per Discord server: after the upgrade the claim
    renewed last stays open, the other is released (in the history, dated when last renewed), and
    /claim in a third server renews the one left instead of making another."""
    from datetime import UTC, datetime, timedelta

    from storage.catalogue import ensure_seeded
    from storage.models import OPEN_CLAIM_STATES, Claim
    from storage.store import Person, Store
    from tests.conftest import SEED, START

    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    in_a, in_b = Person("discord", "gA", "ann", "Ann"), Person("discord", "gB", "ann", "Annie")
    # Planted as rows: the store of today would renew the first claim instead of making the second.
    store = Store(make_engine(empty_db_url))
    try:
        await upgrade(store.engine, "0009")
        await ensure_seeded(store, SEED, START)
        held = [(in_a, now), (in_b, now + timedelta(days=1)), (Person("slack", "T1", "ann", "Ann"), now)]
        await store.execute(
            sa.insert(Claim),
            [
                {
                    "problem_number": "3.11",
                    "platform": who.platform,
                    "community_id": who.community_id,
                    "user_id": who.user_id,
                    "display_name": who.display_name,
                    "claimed_at": at,
                    "renewed_at": at,
                }
                for who, at in held
            ],
        )
        await upgrade(store.engine)

        claims = [c for c in await store.claims_for_problem("3.11") if c.platform != "sheet"]
        open_ones = [(c.platform, c.community_id) for c in claims if c.state in OPEN_CLAIM_STATES]
        assert open_ones == [("slack", "T1"), ("discord", "gB")]
        (merged,) = [c for c in claims if c.state not in OPEN_CLAIM_STATES]
        assert (merged.community_id, merged.state, merged.ended_at) == ("gA", "released", now)
        released = [(e.kind, e.actor_name, e.at) for e in await store.history("3.11") if e.kind == "released"]
        assert released == [("released", "Ann", now)]

        third = await store.claim("3.11", Person("discord", "gC", "ann", "Ann"), now + timedelta(days=2))
        assert not third.created and third.claim.community_id == "gB"
    finally:
        await store.close()


async def test_expiry_notices_left_sending_before_0011_go_out_two_hours_after_their_expiry(
    empty_db_url: str,
) -> None:
    """A notice a dead sweep left "sending" before 0011 has no time of its taking: it counts from
    its claim's expiry, so it is taken back once that is STUCK_SENDING old, not at once (a live
    sweep of an older replica may still be sending it) and not never; a notice already sent is
    left as it was, and one refused earlier is due at once."""
    from datetime import UTC, datetime, timedelta

    from bot.reminders import STUCK_SENDING
    from storage.catalogue import ensure_seeded
    from storage.models import Claim
    from storage.store import Store
    from storage.sweep import take_retries
    from tests.conftest import SEED, START

    expired_at = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    store = Store(make_engine(empty_db_url))
    try:
        await upgrade(store.engine, "0010")
        await ensure_seeded(store, SEED, START)
        rows = [("ann", "3.11", "sending"), ("bob", "2.4", "dm"), ("cy", "1.1", "retry")]
        await store.execute(
            sa.insert(Claim),
            [
                {
                    "problem_number": number,
                    "platform": "discord",
                    "community_id": "g1",
                    "user_id": user,
                    "display_name": user.title(),
                    "claimed_at": START,
                    "renewed_at": START,
                    "state": "expired",
                    "ended_at": expired_at,
                    "notice": notice,
                }
                for user, number, notice in rows
            ],
        )
        await upgrade(store.engine)

        def stuck(after: timedelta) -> dict[str, datetime]:
            now = expired_at + after
            return {"now": now, "stuck_before": now - STUCK_SENDING}

        soon = await take_retries(store, ["discord"], "notice", **stuck(timedelta(hours=1)))
        assert [c.user_id for c in soon or []] == ["cy"]  # the refused one: due at once
        later = await take_retries(
            store, ["discord"], "notice", **stuck(STUCK_SENDING + timedelta(minutes=1))
        )
        assert [c.user_id for c in later or []] == ["ann"]
    finally:
        await store.close()


async def test_alembics_own_command_line_takes_a_url_as_providers_give_it(empty_db_url: str) -> None:
    """``alembic -x url=…`` (for autogenerate) with the URL as copbot's DATABASE_URL takes it
    (``postgresql://``, ``sqlite:///path``): it used to fail on the psycopg or pysqlite driver
    SQLAlchemy picks for a URL that names none."""
    url = empty_db_url.replace("+asyncpg", "").replace("+aiosqlite", "")
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("alembic")),
        "-c",
        str(ROOT / "storage" / "alembic.ini"),
        "-x",
        f"url={url}",
        "upgrade",
        "head",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output.decode()
    engine = make_engine(empty_db_url)
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar_one()
        assert version == HEAD
    finally:
        await engine.dispose()


Planted = tuple[str, str, str] | tuple[str, str, str, str]


def link_of(row: Planted) -> str:
    """A planted submission's link as stored: given, or its key after https://."""
    return row[3] if len(row) == 4 else "https://" + row[1]


async def plant_links(store: Store, planted: Sequence[Planted], at: datetime) -> None:
    """Ann's submissions as stored before a re-keying: (problem, key, status) each, its link
    the key after https:// (or (problem, key, status, link))."""
    from storage.models import WorkLink

    await store.execute(
        sa.insert(WorkLink),
        [
            {
                "problem_number": row[0],
                "url": link_of(row),
                "normalized_url": row[1],
                "platform": "discord",
                "community_id": "g1",
                "user_id": "ann",
                "display_name": "Ann",
                "created_at": at,
                "status": row[2],
            }
            for row in planted
        ],
    )


async def rekeyed_and_found_again(
    store: Store,
    planted: Sequence[Planted],
    rekeyed: dict[int, str],
    again: list[tuple[str, str, int]],
    at: datetime,
) -> None:
    """Plants Ann's links (problem, key as stored before, status), upgrades to the head and checks
    that exactly the rows at ``rekeyed``'s positions got their new keys, the links as typed kept;
    then that Bob's submission of each link in ``again`` (problem, link, id) is refused as a
    duplicate of that row."""
    from commands.links import normalise_link
    from storage import submissions
    from storage.claims import Person
    from storage.models import WorkLink

    await plant_links(store, planted, at)
    await upgrade(store.engine)
    async with store.read() as s:
        rows = await s.exec(sa.select(WorkLink.normalized_url, WorkLink.url).order_by(WorkLink.id))
        stored = list(rows)
    assert [key for key, _ in stored] == [rekeyed.get(i, row[1]) for i, row in enumerate(planted)]
    assert [url for _, url in stored] == [link_of(row) for row in planted]  # as typed
    bob = Person("discord", "g1", "bob", "Bob")
    for number, url, first in again:
        try:
            await submissions.submit(store, number, url, normalise_link(url), "", bob, at, 10)
        except submissions.DuplicateLink as dup:
            assert (dup.existing.problem_number, dup.existing.id) == (number, first), url
        else:
            raise AssertionError(f"{url} was taken again for {number}")


async def test_forum_posts_submitted_before_0015_are_found_under_any_of_their_addresses(
    empty_db_url: str,
) -> None:
    """A LessWrong post approved for 2.4 before 0015 (keyed by its LessWrong address): after the
    upgrade, the same post from the Alignment Forum is 'already submitted'. Two pending links to
    one post of 2.5 keep working (the older takes the post's key), and a rejected one is re-keyed
    without refusing anything."""
    from datetime import UTC, datetime

    from storage import submissions
    from storage.catalogue import ensure_seeded
    from storage.claims import Person
    from storage.models import WorkLink
    from storage.store import Store
    from tests.conftest import SEED, START

    now = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
    post = "6tHNM2s6SWzFHv3Wo"
    store = Store(make_engine(empty_db_url))
    try:
        await upgrade(store.engine, "0014")
        await ensure_seeded(store, SEED, START)
        planted = [  # (problem, key as normalise_link wrote it before 0015, status)
            ("2.4", f"lesswrong.com/posts/{post}/mechanistically-interpreting-time", "approved"),
            ("2.5", f"alignmentforum.org/posts/{post}", "pending"),
            ("2.5", f"lesswrong.com/posts/{post}/mechanistically-interpreting-time", "pending"),
            ("2.6", f"greaterwrong.com/posts/{post}/x", "rejected"),
            ("2.6", f"lesswrong.com/posts/{post}/x/comment/abcdefghijklmnopq", "approved"),
        ]
        await plant_links(store, planted, now)
        await upgrade(store.engine)

        async with store.read() as s:
            rows = await s.exec(sa.select(WorkLink.normalized_url).order_by(WorkLink.id))
            keys = list(rows.scalars())
        assert keys == [
            f"lesswrong:{post}",
            f"lesswrong:{post}",
            f"lesswrong.com/posts/{post}/mechanistically-interpreting-time",
            f"lesswrong:{post}",
            f"lesswrong.com/posts/{post}/x/comment/abcdefghijklmnopq",
        ]
        bob = Person("discord", "g1", "bob", "Bob")
        for number in ("2.4", "2.5"):
            try:
                await submissions.submit(
                    store,
                    number,
                    f"https://www.alignmentforum.org/posts/{post}",
                    f"lesswrong:{post}",
                    "",
                    bob,
                    now,
                    10,
                )
            except submissions.DuplicateLink as dup:
                assert dup.existing.problem_number == number
            else:
                raise AssertionError(f"the post was taken again for {number}")
    finally:
        await store.close()


async def test_links_submitted_before_0016_are_found_however_escaped_or_cased(empty_db_url: str) -> None:
    """Links keyed before 0016 with their path escaped as typed, its letters decomposed, its . and ..
    segments as typed, or a GitHub repository in its typed case: after the upgrade, the same work
    spelled another way is 'already submitted'. As 0015 decided: of two pending submissions of one
    problem that turn out to be one work, the older takes the new key and the other keeps its old
    one (also when the newer already had it); rejected ones are re-keyed without refusing anything;
    keys the current code writes (and arXiv's, LessWrong's, other hosts') stay as they are."""
    from datetime import UTC, datetime

    from storage.catalogue import ensure_seeded
    from storage.store import Store
    from tests.conftest import SEED, START

    now = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
    store = Store(make_engine(empty_db_url))
    try:
        await upgrade(store.engine, "0015")
        await ensure_seeded(store, SEED, START)
        planted = [  # (problem, key as normalise_link wrote it before 0016, status)
            ("2.4", "example.org/caf%c3%a9", "approved"),
            ("2.4", "example.org/\u65e5\u672c/%7Eann?q=%C3%A9", "pending"),
            ("2.5", "github.com/Owner/Repo", "pending"),
            ("2.5", "github.com/owner/repo.git", "pending"),  # the same: newer, keeps its key
            ("2.5", "github.com/Owner/Repo/blob/main/File.py", "rejected"),
            ("2.6", "example.org/%7Ebob", "pending"),  # older, but the newer has the key
            ("2.6", "example.org/~bob", "approved"),
            ("2.6", "example.org/caf\u00e9", "rejected"),
            ("2.6", "example.org/caf%C3%A9", "pending"),
            ("2.7", "arxiv:2312.09230", "approved"),
            ("2.7", "lesswrong:6tHNM2s6SWzFHv3Wo?commentId=x", "approved"),
            ("2.7", "gitlab.com/Owner/Repo", "approved"),
            ("2.7", "example.org/a%2Fb+c", "approved"),
            # Letters decomposed (as macOS pastes them), typed or escaped; . and .. segments.
            ("2.8", "example.org/cafe\u0301/menu", "pending"),
            ("2.8", "example.org/cafe%cc%81%FF", "approved"),  # a byte that is no UTF-8 stays
            ("2.8", "example.org/notes/./old/../draft.md", "pending"),
            ("2.8", "github.com/Owner/x/../Repo/", "rejected"),
            ("2.8", "example.org/a=%CC%B8", "approved"),  # = and a stroke stay two characters
        ]
        rekeyed = {  # the position of each row whose key changes, and its new key
            0: "example.org/caf%C3%A9",
            1: "example.org/%E6%97%A5%E6%9C%AC/~ann?q=%C3%A9",
            2: "github.com/owner/repo",
            4: "github.com/owner/repo/blob/main/File.py",
            7: "example.org/caf%C3%A9",
            13: "example.org/caf%C3%A9/menu",
            14: "example.org/caf%C3%A9%FF",
            15: "example.org/notes/draft.md",
            16: "github.com/owner/repo",
        }
        again = [
            ("2.4", "https://example.org/caf\u00e9/", 1),
            ("2.4", "https://example.org/%e6%97%a5%e6%9c%ac/~ann?q=\u00e9", 2),
            ("2.5", "https://github.com/OWNER/repo.git/", 3),
            ("2.6", "https://example.org/~bob", 7),
            ("2.6", "https://example.org/caf%C3%A9", 9),
            ("2.8", "https://example.org/caf\u00e9/menu", 14),
            ("2.8", "https://example.org/caf%C3%A9%ff/", 15),
            ("2.8", "https://example.org/notes/../notes/draft.md", 16),
            ("2.8", "https://example.org/a=%cc%b8", 18),
        ]
        await rekeyed_and_found_again(store, planted, rekeyed, again, now)
    finally:
        await store.close()


def _migration(revision: str) -> ModuleType:
    """The migration file of ``revision`` (``0016``…) as a module, to call its copy of the rules."""
    (path,) = (ROOT / "storage/migrations/versions").glob(f"*_{revision}_*.py")
    spec = importlib.util.spec_from_file_location(f"migration_{revision}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _migration_0016() -> ModuleType:
    return _migration("0016")


@settings(max_examples=300, deadline=None)
@given(
    host=st.sampled_from(["example.org", "github.com"]),
    pieces=st.lists(
        st.sampled_from(
            [
                "a",
                "B",
                "/",
                ".",
                "..",
                "%2e",
                "%2F",
                "+",
                "=",
                "~",
                "%7e",
                "e",
                "\u0301",
                "%CC%81",
                "%c3%a9",
                "\u00e9",
                "%FF",
                "\u212a",
                "%CD%BE",
                "{",
                "Repo",
                ".git",
            ]
        ),
        max_size=12,
    ),
)
def test_migration_0016_keys_a_stored_path_as_the_code_does(host: str, pieces: list[str]) -> None:
    """0016's copy of the rules gives a link keyed before it (host and path as typed) the key
    /submit gives the same link now: the same work is found either way."""
    from commands.links import normalise_link

    path = "/" + "".join(pieces)
    assert _migration_0016().new_key(host + path.rstrip("/")) == normalise_link(f"https://{host}{path}")


async def test_links_submitted_before_0017_are_found_with_their_query_composed_or_github_cased(
    empty_db_url: str,
) -> None:
    """Links keyed before 0017 with a query's letters decomposed (as macOS pastes them), a file on
    raw.githubusercontent.com or a gist in its typed case: after the upgrade, the same work spelled
    another way is 'already submitted'. As 0015 and 0016 decided: of two pending submissions of one
    problem that turn out to be one work, the older takes the new key and the other keeps its old
    one (the older keeps its own when the newer already had the key); rejected ones are re-keyed
    without refusing anything; keys the current code writes (and arXiv's, other hosts', a port's,
    an escaped & or = and a stroke) stay as they are."""
    from datetime import UTC, datetime

    from storage.catalogue import ensure_seeded
    from storage.store import Store
    from tests.conftest import SEED, START

    now = datetime(2026, 12, 11, 12, 0, tzinfo=UTC)
    post = "6tHNM2s6SWzFHv3Wo"
    store = Store(make_engine(empty_db_url))
    try:
        await upgrade(store.engine, "0016")
        await ensure_seeded(store, SEED, START)
        planted = [  # (problem, key as normalise_link wrote it before 0017, status)
            ("2.4", "example.org/s?q=cafe%CC%81", "approved"),
            ("2.4", "example.org/s?p=2&q=caf%C3%A9", "pending"),
            ("2.4", "raw.githubusercontent.com/Owner/Repo/main/File.py", "pending"),
            ("2.5", "gist.github.com/Ann/0A1B2C", "pending"),
            ("2.5", "gist.github.com/ANN/0a1b2c", "pending"),  # the same: newer, keeps its key
            ("2.5", "raw.githubusercontent.com/Owner/Repo/Main/x.py", "rejected"),
            ("2.6", "example.org/s?q=e%CC%81", "pending"),  # older, but the newer has the key
            ("2.6", "example.org/s?q=%C3%A9", "approved"),
            ("2.6", "example.org/s?q=e%CC%81&r=1", "rejected"),
            ("2.7", f"lesswrong:{post}?q=cafe%CC%81", "approved"),
            ("2.7", "arxiv:2312.09230", "approved"),
            ("2.7", "github.com/owner/repo?q=a%3D%CC%B8", "approved"),  # = and a stroke stay two
            ("2.7", "example.org/s?q=%E2%84%AA", "approved"),  # the Kelvin sign stays
            ("2.7", "example.org/s?q=a%26b", "approved"),
            ("2.7", "gitlab.com/Owner/Repo", "approved"),
            ("2.8", "example.org/s?q=e%CC%81x&q=f", "pending"),  # composed, it sorts after f
            ("2.8", "gist.github.com/Ann/NotHex", "approved"),
            ("2.8", "raw.githubusercontent.com:8443/Owner/Repo/x", "approved"),
        ]
        rekeyed = {  # the position of each row whose key changes, and its new key
            0: "example.org/s?q=caf%C3%A9",
            2: "raw.githubusercontent.com/owner/repo/main/File.py",
            3: "gist.github.com/ann/0a1b2c",
            5: "raw.githubusercontent.com/owner/repo/Main/x.py",
            8: "example.org/s?q=%C3%A9&r=1",
            9: f"lesswrong:{post}?q=caf%C3%A9",
            15: "example.org/s?q=f&q=%C3%A9x",
            16: "gist.github.com/ann/NotHex",
        }
        again = [
            ("2.4", "https://example.org/s?q=caf\u00e9", 1),
            ("2.4", "https://raw.githubusercontent.com/owner/REPO/main/File.py", 3),
            ("2.5", "https://gist.github.com/ann/0a1b2c/", 4),
            ("2.6", "https://example.org/s?q=e\u0301", 8),
            ("2.7", f"https://www.alignmentforum.org/posts/{post}?q=caf%c3%a9", 10),
            ("2.8", "https://example.org/s?q=%C3%A9x&q=f", 16),
            ("2.8", "https://gist.github.com/ANN/NotHex", 17),
        ]
        await rekeyed_and_found_again(store, planted, rekeyed, again, now)
    finally:
        await store.close()


def _downgrade(connection: sa.Connection, revision: str) -> None:
    from alembic import command

    from storage.migrate import alembic_config

    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def keys_and_version(store: Store) -> tuple[list[str], str]:
    """The keys of the links stored (oldest first), and the revision the database is at."""
    from storage.models import WorkLink

    async with store.engine.connect() as conn:
        keys = (await conn.execute(sa.select(WorkLink.normalized_url).order_by(WorkLink.id))).scalars()
        version = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar_one()
        return list(keys), version


async def test_downgrading_0017_keeps_the_keys_and_upgrading_again_changes_nothing(empty_db_url: str) -> None:
    """Back at 0016 (a release rolled back), the links re-keyed by 0017 keep their keys, which the
    code of 0016 still finds when the same work is typed as it stores it; 0017 run again leaves them."""
    from datetime import UTC, datetime

    from storage.catalogue import ensure_seeded
    from storage.store import Store
    from tests.conftest import SEED, START

    store = Store(make_engine(empty_db_url))
    try:
        await upgrade(store.engine, "0016")
        await ensure_seeded(store, SEED, START)
        planted = [
            ("2.4", "example.org/s?q=cafe%CC%81", "approved"),
            ("2.4", "raw.githubusercontent.com/Owner/Repo/main/File.py", "pending"),
        ]
        await plant_links(store, planted, datetime(2026, 12, 11, 12, 0, tzinfo=UTC))

        await upgrade(store.engine, "0017")
        upgraded = ["example.org/s?q=caf%C3%A9", "raw.githubusercontent.com/owner/repo/main/File.py"]
        assert await keys_and_version(store) == (upgraded, "0017")
        async with store.engine.connect() as conn:
            await conn.run_sync(_downgrade, "0016")
            await conn.commit()
        assert await keys_and_version(store) == (upgraded, "0016")
        await upgrade(store.engine, "0017")
        assert await keys_and_version(store) == (upgraded, "0017")
    finally:
        await store.close()


async def test_links_submitted_before_0018_keep_their_query_bytes_and_drop_refs_heads(
    empty_db_url: str,
) -> None:
    """Links keyed before 0018 with a query's byte that is no UTF-8 read as the replacement
    character (``?q=%FF`` and ``?q=%FE`` one key), and raw GitHub files under ``refs/heads/``:
    after the upgrade each query is keyed with its own bytes, from the link as stored (so Bob's
    ``?q=%FF`` is Ann's, and ``?q=%FE`` another work), and a file under ``refs/heads/<branch>`` is
    the file under ``<branch>``. A key whose link does not give it, a real replacement character,
    a tag and arXiv keep theirs; of two live submissions of one work, the one with the key keeps it."""
    from datetime import UTC, datetime

    from commands.links import normalise_link
    from storage import submissions
    from storage.catalogue import ensure_seeded
    from storage.claims import Person
    from storage.store import Store
    from tests.conftest import SEED, START

    now = datetime(2026, 12, 12, 12, 0, tzinfo=UTC)
    post = "6tHNM2s6SWzFHv3Wo"
    raw = "raw.githubusercontent.com/owner/repo"
    store = Store(make_engine(empty_db_url))
    try:
        await upgrade(store.engine, "0017")
        await ensure_seeded(store, SEED, START)
        planted: list[Planted] = [  # (problem, key as normalise_link wrote it before 0018, status, link)
            ("2.4", "x.org?q=%EF%BF%BD", "approved", "https://x.org/?q=%FF"),
            ("2.4", "x.org?q=%EF%BF%BD", "rejected", "https://x.org/?q=%fe"),
            ("2.5", "x.org?q=%EF%BF%BD", "pending", "https://x.org/?q=%EF%BF%BD"),  # typed so
            (
                "2.5",
                "x.org/s?p=1&q=caf%C3%A9%EF%BF%BD",
                "approved",
                "https://x.org/s?q=cafe%CC%81%C3&ref=a&p=1",
            ),
            (
                "2.6",
                f"{raw}/refs/heads/main/file.py",
                "approved",
                "https://raw.githubusercontent.com/Owner/Repo/refs/heads/main/file.py",
            ),
            ("2.6", f"{raw}/refs/tags/v1/file.py", "approved"),
            ("2.7", f"{raw}/refs/heads/main/a.py", "pending"),  # older, but the newer has the key
            ("2.7", f"{raw}/main/a.py", "approved"),
            (
                "2.8",
                f"lesswrong:{post}?q=%EF%BF%BD",
                "approved",
                f"https://www.lesswrong.com/posts/{post}?q=%FF",
            ),
            ("2.8", "arxiv:2312.09230", "approved"),
            ("2.8", "x.org?q=%EF%BF%BD", "rejected", "https://y.org/?q=%FF&r=1"),  # not this link's key
        ]
        rekeyed = {  # the position of each row whose key changes, and its new key
            0: "x.org?q=%FF",
            1: "x.org?q=%FE",
            3: "x.org/s?p=1&q=caf%C3%A9%C3",
            4: f"{raw}/main/file.py",
            8: f"lesswrong:{post}?q=%FF",
        }
        again = [
            ("2.4", "https://x.org/?q=%ff", 1),
            ("2.5", "https://x.org/s?p=1&q=caf\u00e9%C3", 4),
            ("2.6", "https://raw.githubusercontent.com/owner/repo/main/file.py", 5),
            ("2.7", "https://raw.githubusercontent.com/Owner/Repo/refs/heads/main/a.py", 8),
            ("2.8", f"https://alignmentforum.org/posts/{post}?q=%FF", 9),
        ]
        await rekeyed_and_found_again(store, planted, rekeyed, again, now)
        other = "https://x.org/?q=%FE"  # another work than Ann's ?q=%FF: taken
        bob = Person("discord", "g1", "bob", "Bob")
        assert (await submissions.submit(store, "2.4", other, normalise_link(other), "", bob, now, 10)).id
    finally:
        await store.close()


async def test_downgrading_0018_keeps_the_keys_and_upgrading_again_changes_nothing(empty_db_url: str) -> None:
    """Back at 0017 (a release rolled back), the links re-keyed by 0018 keep their keys; 0018 run
    again leaves them."""
    from datetime import UTC, datetime

    from storage.catalogue import ensure_seeded
    from storage.store import Store
    from tests.conftest import SEED, START

    store = Store(make_engine(empty_db_url))
    try:
        await upgrade(store.engine, "0017")
        await ensure_seeded(store, SEED, START)
        planted: list[Planted] = [
            ("2.4", "x.org?q=%EF%BF%BD", "approved", "https://x.org/?q=%FF"),
            ("2.4", "raw.githubusercontent.com/owner/repo/refs/heads/main/a.py", "pending"),
        ]
        await plant_links(store, planted, datetime(2026, 12, 12, 12, 0, tzinfo=UTC))
        upgraded = ["x.org?q=%FF", "raw.githubusercontent.com/owner/repo/main/a.py"]
        await upgrade(store.engine, "0018")
        assert await keys_and_version(store) == (upgraded, "0018")
        async with store.engine.connect() as conn:
            await conn.run_sync(_downgrade, "0017")
            await conn.commit()
        assert await keys_and_version(store) == (upgraded, "0017")
        await upgrade(store.engine, "0018")
        assert await keys_and_version(store) == (upgraded, "0018")
    finally:
        await store.close()


def _migration_0017() -> ModuleType:
    return _migration("0017")


QUERY_PIECES = ["a", "B", "x", "e", "\u0301", "%CC%81", "%c3%a9", "\u00e9", "%FF", "\u212a", "%E2%84%AA", "="]
QUERY_PIECES += ["%3D", "\u0338", "%26", "&", "+", "%20", "%2F", "/", "~", "%7e", "\u1112\u1161\u11ab"]
QUERY_PIECES += ["%fe", "%C3", "%EF%BF%BD", "\ufffd"]  # bytes that are no UTF-8, the replacement character


@settings(max_examples=400, deadline=None)
@given(
    host=st.sampled_from(
        ["example.org", "github.com", "raw.githubusercontent.com", "gist.github.com", "lesswrong.com"]
    ),
    pieces=st.lists(
        st.sampled_from(
            ["a", "B", "/", "..", "%2F", "e", "\u0301", "%C3%A9", "Repo", "0A1b", ".git", "Main"]
            + ["refs/heads/", "refs/", "heads/", "refs/tags/"]
        ),
        max_size=10,
    ),
    query=st.lists(
        st.tuples(
            st.sampled_from(["q", "Q", "e\u0301", "\u00e9", "utm_source", "%FF"]),
            st.lists(st.sampled_from(QUERY_PIECES), max_size=5),
        ),
        max_size=4,
    ),
)
def test_migrations_0017_and_0018_key_a_stored_link_as_the_code_does(
    host: str, pieces: list[str], query: list[tuple[str, list[str]]]
) -> None:
    """0017's copy of the rules, then 0018's (which also reads the link as stored), give a link
    keyed before 0017 (as 0016 keyed its path, then its query form-decoded, each byte that is no
    UTF-8 as the replacement character, without tracking parameters, sorted and form-encoded, as
    normalise_link did) the key /submit gives the same link now: the same work is found either
    way."""
    from urllib.parse import parse_qsl, urlencode

    from commands.links import normalise_link, without_tracking

    path = "/posts/6tHNM2s6SWzFHv3Wo" if host == "lesswrong.com" else "/" + "".join(pieces)
    typed = "&".join(f"{name}={''.join(value)}" for name, value in query)
    decoded = [(k, v) for k, v in parse_qsl(typed, keep_blank_values=True) if not k.startswith("utm_")]
    old_query = urlencode(sorted(decoded))
    old = _migration_0016().new_key(host + path.rstrip("/") + (f"?{old_query}" if old_query else ""))
    link = f"https://{host}{path}?{typed}"
    stored, _ = without_tracking(link)
    assert _migration("0018").new_key(_migration_0017().new_key(old), stored) == normalise_link(link)


async def event_indexes(store: Store) -> tuple[set[str], str]:
    """The names of the indexes of ``event``, and the revision the database is at."""
    async with store.engine.connect() as conn:
        indexes = await conn.run_sync(lambda c: {i["name"] for i in sa.inspect(c).get_indexes("event")})
        version = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar_one()
    return {name for name in indexes if name}, version


async def test_0019_indexes_the_event_actor_and_its_downgrade_drops_the_index_only(empty_db_url: str) -> None:
    """0019 adds ``ix_event_actor`` to a database in use (its history kept and renamed by the index);
    downgraded to 0018 it is gone and the history still there; upgraded again it is back."""
    from datetime import UTC, datetime

    from storage.catalogue import ensure_seeded
    from storage.claims import Person
    from storage.store import Store
    from tests.conftest import SEED, START

    store = Store(make_engine(empty_db_url))
    try:
        await upgrade(store.engine, "0018")
        await ensure_seeded(store, SEED, START)
        await store.claim("2.4", Person("discord", "g1", "ann", "Ann"), datetime(2026, 12, 13, tzinfo=UTC))
        indexes, version = await event_indexes(store)
        assert "ix_event_actor" not in indexes and version == "0018"

        await upgrade(store.engine, "0019")
        assert await event_indexes(store) == (indexes | {"ix_event_actor"}, "0019")
        assert await store.refresh_name(Person("discord", "g1", "ann", "Annie"))
        async with store.engine.connect() as conn:
            await conn.run_sync(_downgrade, "0018")
            await conn.commit()
        assert await event_indexes(store) == (indexes, "0018")
        await upgrade(store.engine, "0019")
        assert await event_indexes(store) == (indexes | {"ix_event_actor"}, "0019")
        assert [e.actor_name for e in await store.history("2.4") if e.actor_id == "ann"] == ["Annie"]
    finally:
        await store.close()


async def test_submitters_notices_left_sending_before_0020_go_out_two_hours_after_their_decision(
    empty_db_url: str,
) -> None:
    """A submitter's notice left "sending" before 0020 (its sweep died, or its database failed
    mid-batch) has no time of its taking: it counts from its decision, so it is taken back once
    that is STUCK_SENDING old, not at once (an older replica may still be sending it) and not
    never, as it was; an undo's notice, which has no decision time, counts from the submission.
    A notice already sent is left as it was, and one due is taken at once. Downgraded to 0019 the
    column is gone and the notices still there."""
    from datetime import UTC, datetime, timedelta

    from bot.reminders import STUCK_SENDING
    from storage import submissions
    from storage.catalogue import ensure_seeded
    from storage.store import Store
    from tests.conftest import SEED, START

    decided_at = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    store = Store(make_engine(empty_db_url))
    try:
        await upgrade(store.engine, "0019")
        await ensure_seeded(store, SEED, START)
        insert = sa.text(
            "INSERT INTO work_link (problem_number, url, normalized_url, note, platform, community_id,"
            " user_id, display_name, created_at, status, decided_by_id, decided_by_name, decided_at,"
            " reason, revision, shown_revision, notice) VALUES ('2.4', :url, :url, '', 'discord', 'g1',"
            " :user, :user, :created, :status, 'mod', 'Mod', :decided, '', 1, 1, :notice)"
        )
        rows = [  # (submitter, notice, status, decided)
            ("ann", "sending", "approved", decided_at),
            ("bob", "dm", "approved", decided_at),
            ("cy", "retry", "rejected", decided_at),
            ("dee", "sending", "pending", None),  # an undo's notice: no decision time
        ]
        async with store.engine.begin() as conn:
            for user, notice, status, decided in rows:
                params = {"url": f"example.org/{user}", "user": user, "status": status, "notice": notice}
                created = decided_at - timedelta(days=1)
                await conn.execute(insert, {**params, "created": created, "decided": decided})
        await upgrade(store.engine)

        def sweep(after: timedelta) -> dict[str, datetime]:
            now = decided_at + after
            return {"now": now, "stuck_before": now - STUCK_SENDING}

        soon = await submissions.take_notices(store, ["discord"], **sweep(timedelta(hours=1)))
        assert [link.user_id for link in soon] == ["cy", "dee"]  # due, and a day since submitted
        later = await submissions.take_notices(
            store, ["discord"], **sweep(STUCK_SENDING + timedelta(minutes=1))
        )
        assert [link.user_id for link in later] == ["ann"]

        async def columns_and_notices() -> tuple[set[str], list[str]]:
            async with store.engine.connect() as conn:
                columns = await conn.run_sync(
                    lambda sync: {column["name"] for column in sa.inspect(sync).get_columns("work_link")}
                )
                notices = (await conn.execute(sa.text("SELECT notice FROM work_link ORDER BY id"))).scalars()
                return columns, list(notices)

        async with store.engine.connect() as conn:
            await conn.run_sync(_downgrade, "0019")
            await conn.commit()
        columns, notices = await columns_and_notices()
        assert "notice_at" not in columns and notices == ["sending", "dm", "sending", "sending"]
        await upgrade(store.engine)
        columns, notices = await columns_and_notices()
        assert "notice_at" in columns and notices == ["sending", "dm", "sending", "sending"]
    finally:
        await store.close()
