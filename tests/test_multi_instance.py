"""Two copbot processes on one PostgreSQL database, each with its Discord shard (issue 7, scaling out).

Guild A sits on shard 0 and guild B on shard 1 (the fake models one guild; guild B's interactions
come from tests/support/discord_guilds.py). Two `python -m bot.cli run` processes, started as an
operator would with DISCORD_SHARD_COUNT=2 and DISCORD_SHARD_IDS=0 / =1, share one fresh database
and run the reminder sweep every 1.2 s each. Replayed interactions go to the owning shard, and
also to the other process (as when two sessions overlap on a shard during a rolling deploy).

Time cannot be injected into another process, so the reminders are made deterministic from the
data: claims dated 40 days ago are written straight into the database before the processes
start (their start-up sweeps race over them) and while they run (their periodic sweeps race).
Where two processes must really collide, the test holds a row lock until both of them wait for
it (pg_stat_activity), so both have read the same rows before either writes.
"""

# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import json
import re
import signal
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from storage.claims import Person
from storage.models import Claim, Event, WorkLink
from storage.store import Store
from tests.bot.discord.discord_rig import text_of
from tests.fakes.discord_api import FakeDiscord
from tests.support.discord_guilds import OtherGuild, guild_id_on_shard, shard_of
from tests.support.pg import lock_rows, lock_waiters
from tests.support.process import start_copbot

TOKEN = "fake-token-multi-instance"
SHARDS = 2
SWEEP_MINUTES = 0.02  # every 1.2 s in each process
# More stale claims than a sweep takes in one batch (500): after the race over the first batch,
# there is a second one to take.
STALE_PER_GUILD = 300
CALLBACK_ROUTE = "POST /interactions/{interaction_id}/{token}/callback"
EDIT_ROUTE = "PATCH /channels/{channel_id}/messages/{message_id}"
REACT_ROUTE = "PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user}"


# -- the two processes ----------------------------------------------------------------------


@dataclass
class Replica:
    """One `copbot run` process and its JSON log."""

    shard: int
    process: asyncio.subprocess.Process
    log_path: Path

    def records(self) -> list[dict[str, Any]]:
        """The log so far, one dict a line (a line still being written is skipped)."""
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                out.append(record)
        return out

    def sweeps(self) -> int:
        """Reminder sweeps this process has run through its stale claims and expiries (one line each)."""
        return sum(
            1
            for r in self.records()
            if r.get("logger") == "copbot.reminders" and re.match(r"sweep: \d+ stale", r["message"])
        )

    def reminded(self) -> int:
        """Claims this process's sweeps moved to stale and pinged (its own count)."""
        counts = [re.match(r"sweep: (\d+) stale", r["message"]) for r in self.records()]
        return sum(int(m.group(1)) for m in counts if m)

    def skipped(self) -> int:
        """Interactions this process dropped as already handled."""
        return sum(1 for r in self.records() if r["message"].startswith("skipped interaction"))


async def start_replica(fake: FakeDiscord, db_url: str, shard: int, tmp_path: Path) -> Replica:
    """`python -m bot.cli run` serving one shard, configured only by its environment."""
    log_path = tmp_path / f"copbot-shard{shard}.log"
    process = await start_copbot(
        fake,
        TOKEN,
        db_url,
        tmp_path,
        log_path,
        DISCORD_SHARD_COUNT=str(SHARDS),
        DISCORD_SHARD_IDS=str(shard),
        REMINDER_SWEEP_MINUTES=str(SWEEP_MINUTES),
        # Replica 0's start-up sweep waits on the claims the test holds until replica 1 has
        # started too, which takes more than the default 10 s on a loaded machine.
        DATABASE_TIMEOUT="60",
        LOG_FORMAT="json",
    )
    return Replica(shard, process, log_path)


async def stop(replicas: list[Replica], timeout: float = 15.0) -> list[int | None]:
    """SIGTERM every replica at once; their exit codes (None: had to be killed)."""
    for replica in replicas:
        if replica.process.returncode is None:
            replica.process.send_signal(signal.SIGTERM)

    async def wait(replica: Replica) -> int | None:
        try:
            return await asyncio.wait_for(replica.process.wait(), timeout)
        except TimeoutError:
            replica.process.kill()
            await replica.process.wait()
            return None

    return list(await asyncio.gather(*(wait(r) for r in replicas)))


# -- reading what users see -----------------------------------------------------------------


async def answer(fake: FakeDiscord, iid: int) -> str:
    """What the user reads in answer to an interaction: the reply, or the follow-up of a deferral."""
    return text_of(await fake.answer(iid))


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Button label → custom id."""
    return {
        item["label"]: item["custom_id"]
        for row in message.get("components") or []
        for item in row.get("components") or []
        if item.get("type") == 2
    }


async def stale_claims(
    store: Store, users: list[tuple[int, int]], numbers: list[str], days_ago: int
) -> dict[int, int]:
    """Claims by (guild id, user id) stamped ``days_ago``; user id → claim id."""
    when = datetime.now(UTC) - timedelta(days=days_ago)

    async def one(i: int, guild_id: int, user_id: int) -> tuple[int, int]:
        who = Person("discord", str(guild_id), str(user_id), f"user{user_id}")
        outcome = await store.claim(numbers[i % len(numbers)], who, when)
        return user_id, outcome.claim.id or 0

    out: dict[int, int] = {}
    for start in range(0, len(users), 5):  # a few at a time: the server's connections are shared
        chunk = enumerate(users[start : start + 5], start)
        out.update(await asyncio.gather(*(one(i, g, u) for i, (g, u) in chunk)))
    return out


# -- the test -------------------------------------------------------------------------------


async def test_two_replicas_apply_claims_submissions_and_reminders_once(
    pg_db_url: str, pg_store: Store, tmp_path: Path
) -> None:
    """Both replicas serve their shard and sweep; every claim, decision and reminder happens once,
    every interaction is answered once, and SIGTERM stops both with status 0."""
    store = pg_store
    guild_a, guild_b = guild_id_on_shard(0, SHARDS), guild_id_on_shard(1, SHARDS)
    assert (shard_of(guild_a, SHARDS), shard_of(guild_b, SHARDS)) == (0, 1)
    async with FakeDiscord(shard_count=SHARDS, guild_id=guild_a, token=TOKEN) as fake:
        mods_a = fake.add_channel("moderators")
        general_b = fake.add_channel("b-general")  # guild B's channel (see discord_guilds)
        b = OtherGuild(fake, guild_b, general_b)

        def members(prefix: str, count: int) -> list[int]:
            return [fake.add_member(f"{prefix}{i}") for i in range(count)]

        def users(prefix: str, count: int) -> list[int]:  # only DMed: no member payload needed
            return [fake.add_user(f"{prefix}{i}") for i in range(count)]

        def dmed(user_ids: dict[int, int]) -> bool:
            return len(fake.dms) >= len(user_ids) and all(fake.dms.get(u) for u in user_ids)

        claimers = {guild_a: members("a-claim", 8), guild_b: members("b-claim", 8)}
        stale_a, stale_b = users("a-stale", STALE_PER_GUILD), users("b-stale", STALE_PER_GUILD)
        later_a, later_b = users("a-later", 5), users("b-later", 5)
        fresh_a, fresh_b = users("a-fresh", 3), users("b-fresh", 3)
        submitter1, submitter2 = fake.add_member("sub1"), fake.add_member("sub2")

        numbers = [p.number for p in await store.problems()][:40]
        stale_ids = await stale_claims(
            store, [(guild_a, u) for u in stale_a] + [(guild_b, u) for u in stale_b], numbers, 40
        )
        fresh_ids = await stale_claims(
            store, [(guild_a, u) for u in fresh_a] + [(guild_b, u) for u in fresh_b], numbers, 10
        )

        # Hold row locks on the stale claims: each replica's start-up sweep selects them as due,
        # then its guarded UPDATE waits here. Once both wait, both have picked the same claims.
        held = await lock_rows(store, Claim, list(stale_ids.values()))
        replicas = [await start_replica(fake, pg_db_url, 0, tmp_path)]
        codes: list[int | None] = []
        try:
            # Replica 1 starts once replica 0 has synced the app commands: two replicas storing the
            # commands' hash at the same moment can crash one of them at start-up (Store.set_meta
            # reads then inserts; reported). Replica 1 then finds the hash and does not sync.
            await fake.wait_until(lambda: fake.syncs, 30, description="replica 0 syncing the commands")
            replicas.append(await start_replica(fake, pg_db_url, 1, tmp_path))
            await fake.wait_ready(count=2, timeout=30)
            assert sorted(i["shard"] for i in fake.identifies) == [[0, 2], [1, 2]]

            # Reminders, 1: both start-up sweeps race over the same 600 stale claims.
            assert await lock_waiters(store, "claim", at_least=2, timeout=20) >= 2
            await held.close()  # releases the locks (the transaction rolls back)
            # One replica may win most of the 600 (489 seen) and DM them one after another,
            # which took 20 s on a loaded two-core machine: time, not a count, so more of it.
            await fake.wait_until(lambda: dmed(stale_ids), 60, description="a DM per stale claim")

            # Claims: 16 users in two guilds claim 3.11; half the interactions are replayed to
            # their shard and a third also reach the other process, while both sweep.
            iids = list(
                await asyncio.gather(
                    *(fake.slash("claim", {"number": "3.11"}, user_id=u) for u in claimers[guild_a])
                )
            )
            iids += await asyncio.gather(
                *(b.slash("claim", {"number": "3.11"}, user_id=u) for u in claimers[guild_b])
            )
            duplicates = 0
            for i, iid in enumerate(iids):
                if i % 2 == 0:
                    await fake.replay(iid)
                    duplicates += 1
                if i % 3 == 0:
                    owner = shard_of(int(fake.interactions[iid]["guild_id"]), SHARDS)
                    await fake.dispatch("INTERACTION_CREATE", fake.interactions[iid], shard=1 - owner)
                    duplicates += 1
            # Each answer at once, or (a process slow under load) deferred and then followed up.
            for iid in iids:
                assert "You claimed 3.11" in await answer(fake, iid), iid
            # Two users per guild claim again on purpose: a new interaction renews the claim.
            renewers = {guild_a: claimers[guild_a][:2], guild_b: claimers[guild_b][:2]}
            again = [await fake.slash("claim", {"number": "3.11"}, user_id=u) for u in renewers[guild_a]]
            again += [await b.slash("claim", {"number": "3.11"}, user_id=u) for u in renewers[guild_b]]
            for iid in again:
                assert "You already hold 3.11" in await answer(fake, iid), iid
            iids += again

            # Submissions in guild A: one before the moderator channel exists. /setup then posts
            # it, and so does every sweep of either replica: their guarded updates race for it
            # (each waits on a row lock the test holds until at least two of them wait).
            sub1 = await fake.slash(
                "submit", {"number": "3.11", "link": "https://example.org/one"}, user_id=submitter1
            )
            assert "no moderator channel" in await answer(fake, sub1)
            await fake.replay(sub1)
            await fake.dispatch("INTERACTION_CREATE", fake.interactions[sub1], shard=1)
            duplicates += 2
            async with store.read() as s:
                (waiting,) = await s.exec(select(WorkLink.id))
            assert waiting is not None
            held = await lock_rows(store, WorkLink, [waiting])
            setup = await fake.slash("setup set", {"moderator_channel": mods_a}, user_id=fake.owner_id)
            assert await lock_waiters(store, "work_link", at_least=2, timeout=10) >= 2
            await held.close()
            assert "Settings saved" in await answer(fake, setup)  # deferred if the wait took 2 s
            sub2 = await fake.slash(
                "submit", {"number": "3.12", "link": "https://example.org/two"}, user_id=submitter2
            )
            assert "went to the moderators" in await answer(fake, sub2)
            iids += [sub1, setup, sub2]
            await fake.wait_until(
                lambda: len(fake.messages[mods_a]) >= 2, 10, description="two moderator posts"
            )
            post1 = next(m for m in fake.messages[mods_a] if "example.org/one" in text_of(m))
            approve = buttons(post1)["Approve"]

            # The owner clicks Approve; the same click reaches both processes and is replayed,
            # while Bob (Moderator role) clicks Approve too.
            click = await fake.click(post1, approve, user_id=fake.owner_id)
            _, _, bob_click = await asyncio.gather(  # the same click to replica 1, a replay, Bob
                fake.dispatch("INTERACTION_CREATE", fake.interactions[click], shard=1),
                fake.replay(click),
                fake.click(post1, approve, user_id=fake.bob_id),
            )
            clicks = [click, bob_click]
            duplicates += 2
            answers = sorted([await answer(fake, i) for i in clicks])
            assert answers[0].startswith("Already approved by"), answers
            assert answers[1].startswith("Approved 3.11 #"), answers
            iids += clicks
            await fake.wait_until(lambda: fake.dms.get(submitter1), 10, description="the DM to submitter 1")
            await fake.wait_until(
                lambda: "Approved by" in text_of(fake.message(int(post1["id"]))),
                10,
                description="post 1 edited",
            )

            # The second submission is approved by reaction: Bob and the owner react ✅ at once,
            # and Bob's reaction event is replayed.
            post2 = next(m for m in fake.messages[mods_a] if "example.org/two" in text_of(m))
            by_bob, by_owner = await asyncio.gather(
                fake.react(mods_a, int(post2["id"]), "✅", user_id=fake.bob_id),
                fake.react(mods_a, int(post2["id"]), "✅", user_id=fake.owner_id),
            )
            await fake.replay(by_bob)
            await fake.wait_until(lambda: fake.dms.get(submitter2), 10, description="the DM to submitter 2")
            await fake.wait_until(
                lambda: "Approved by" in text_of(fake.message(int(post2["id"]))),
                10,
                description="post 2 edited",
            )

            # Reminders, 2: ten more claims go stale while both processes sweep every 1.2 s.
            later_ids = await stale_claims(
                store, [(guild_a, u) for u in later_a] + [(guild_b, u) for u in later_b], numbers, 40
            )
            await fake.wait_until(lambda: dmed(later_ids), 10, description="a DM per later stale claim")

            # Every duplicate reached a process and was dropped there.
            await fake.wait_until(
                lambda: sum(r.skipped() for r in replicas) >= duplicates,
                10,
                description="every duplicate skipped",
            )
            # Two more full sweeps in each process: nothing may be sent again.
            marks = [r.sweeps() for r in replicas]
            await fake.wait_until(
                lambda: all(r.sweeps() >= m + 2 for r, m in zip(replicas, marks, strict=True)),
                10,
                description="two more sweeps in each replica",
            )
        finally:
            await held.close()  # a no-op once released; after a failure it must not keep the locks
            codes = await stop(replicas)
            for replica in replicas:  # shown by pytest when the test fails
                print(f"--- replica {replica.shard}: warnings and errors, then the end of its log")
                for record in replica.records():
                    if (
                        record.get("level") not in ("DEBUG", "INFO")
                        and "skipped: maximum" not in record["message"]
                    ):
                        print(record["level"], record["message"], record.get("exception", ""))
                print(replica.log_path.read_text(errors="replace")[-3000:])

        logs = {r.shard: r.records() for r in replicas}
        problems = [
            rec
            for records in logs.values()
            for rec in records
            if rec.get("level") in ("ERROR", "CRITICAL") or "exception" in rec
        ]
        assert codes == [0, 0], (codes, problems)
        assert problems == []
        assert fake.errors == []
        assert all(r.sweeps() >= 3 for r in replicas)  # both swept, concurrently with everything
        # Each sweep counts the claims it moved: none was counted twice.
        assert sum(r.reminded() for r in replicas) == 2 * STALE_PER_GUILD + 10
        assert sum(r.skipped() for r in replicas) == duplicates
        assert all(r.skipped() for r in replicas)  # both processes saw duplicates

        # Interactions: every one answered exactly once, no second answer even attempted.
        # One exception, which the processes cannot help: a duplicate reaching the process that
        # does not own it is found out at its first write, and when that takes more than 2 s
        # (a loaded machine), that process defers meanwhile; Discord refuses that deferral
        # (40060), as the owner answered, and the process skips the interaction.
        callbacks = [r for r in fake.requests if r.route == CALLBACK_ROUTE]
        answered = Counter(int(r.params["interaction_id"]) for r in callbacks if r.status < 300)
        assert {iid: answered[iid] for iid in iids} == dict.fromkeys(iids, 1)
        assert sum(answered.values()) == len(iids)
        refused = [(r.status, r.response["code"], r.json["type"]) for r in callbacks if r.status >= 300]
        assert set(refused) <= {(400, 40060, 5)}, refused

        # DMs: one reminder per stale claim, with that claim's buttons; one notice per submitter.
        reminded = {**stale_ids, **later_ids}
        for user_id, claim_id in reminded.items():
            (dm,) = fake.dms[user_id]
            assert buttons(dm)["Still working on it"] == f"cop:renew:{claim_id}"
        for submitter in (submitter1, submitter2):
            (notice,) = fake.dms[submitter]
            assert "was approved" in text_of(notice)
        assert not any(fake.dms.get(u) for u in [*fresh_ids, *claimers[guild_a], *claimers[guild_b]])

        # Moderator posts: one per submission, reacted to once by the bot, edited to the decision.
        # A post may be edited twice: a press that loses the race, or the other replica's sweep,
        # can find the decision before the deciding replica recorded its edit, and repairs the
        # post too (edits of one post repeat the same message; nothing is applied twice).
        posts = fake.messages[mods_a]
        assert sorted("example.org/one" in text_of(m) for m in posts) == [False, True]
        post_ids = {m["id"] for m in posts}
        reactions = Counter(r.params["message_id"] for r in fake.requests if r.route == REACT_ROUTE)
        assert reactions == dict.fromkeys(post_ids, 2)
        edits: dict[str, list[Any]] = {}
        for r in fake.requests:
            if r.route == EDIT_ROUTE:
                edits.setdefault(r.params["message_id"], []).append(r.json)
        assert set(edits) == {post1["id"], post2["id"]}
        assert all(body == bodies[0] for bodies in edits.values() for body in bodies), edits
        decided_by_reaction = [r for rs in logs.values() for r in rs if r.get("command") == "reaction"]
        assert len(decided_by_reaction) == 1

        # The database agrees.
        async with store.read() as s:
            claims = {c.id: c for c in await s.exec(select(Claim).where(Claim.platform == "discord"))}
            events = list(await s.exec(select(Event)))
            links = {w.url: w for w in await s.exec(select(WorkLink))}
        for claim_id in reminded.values():
            assert (claims[claim_id].state, claims[claim_id].delivery) == ("stale", "dm")
        for claim_id in fresh_ids.values():
            assert (claims[claim_id].state, claims[claim_id].delivery) == ("active", "")
        stale_events = Counter(e.claim_id for e in events if e.kind == "stale")
        assert stale_events == dict.fromkeys(reminded.values(), 1)
        for guild_id, guild_claimers in claimers.items():
            for user_id in guild_claimers:
                (mine,) = [c for c in claims.values() if c.user_id == str(user_id)]
                assert (mine.community_id, mine.problem_number, mine.state) == (
                    str(guild_id),
                    "3.11",
                    "active",
                )
                kinds = Counter(e.kind for e in events if e.claim_id == mine.id)
                # A renewal the same day as the claim moves its time but is no news in /history.
                assert kinds == {"claimed": 1}, (user_id, kinds)
                renewed = mine.renewed_at > mine.claimed_at
                assert renewed == (user_id in renewers[guild_id]), (user_id, mine)
        assert set(links) == {"https://example.org/one", "https://example.org/two"}
        one, two = links["https://example.org/one"], links["https://example.org/two"]
        assert (one.status, two.status) == ("approved", "approved")
        assert one.mod_message_id == post1["id"]
        link_events = Counter((e.link_id, e.kind) for e in events if e.link_id is not None)
        assert link_events == {
            (one.id, "submitted"): 1,
            (one.id, "posted"): 1,
            (one.id, "approved"): 1,
            (two.id, "submitted"): 1,
            (two.id, "posted"): 1,
            (two.id, "approved"): 1,
        }
