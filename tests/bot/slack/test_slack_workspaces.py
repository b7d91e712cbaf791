"""Two copbots, each serving its own Slack workspace with its own token, on one database.

docs/slack.md: "To run copbot as a separate community in another workspace, install the app there
and run a second copbot with that install's token"; both may use one database (a /claim in a
second workspace renews the first). Each process must then send only for its own workspace: its
sweep reminds its own members, its moderation posts its own submissions in its own moderator
channel, and its token refused says its own workspace removed copbot, not another's.

Two real Bolt apps (two SlackFrontEnds), each against its own fake Slack (its own team and token),
each wired as ``copbot run`` wires it, on two stores over the same database (SQLite and
PostgreSQL); the clock moves, nothing sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from commands.types import Context
from storage import submissions
from storage.claims import Person
from storage.engine import make_engine
from storage.models import Claim
from storage.store import Store
from tests.bot.slack.slack_rig import Answer, Rig, moderated
from tests.fakes.slack_api import FakeSlack
from tests.support.clock import FakeClock


@dataclass(frozen=True)
class Workspace:
    """One workspace, its copbot's token and settings, and a member and moderator of it."""

    team: str
    token: str
    member: str
    name: str
    moderator: str
    mod_channel: str
    reminder_channel: str

    def settings(self) -> dict[str, str]:
        return {
            "slack_bot_token": self.token,
            "slack_moderator_channel": self.mod_channel,
            "slack_moderators": self.moderator,
            "slack_reminder_channel": self.reminder_channel,
        }


A = Workspace("T0AAA", "xoxb-workspace-a", "U0ANN", "ann", "U0MODA", "C0MODA", "C0REMA")
B = Workspace("T0BBB", "xoxb-workspace-b", "U0BOB", "bob", "U0MODB", "C0MODB", "C0REMB")
LINK = "https://example.org/acronyms"


@asynccontextmanager
async def copbot_for(
    space: Workspace, store: Store, clock: FakeClock, stack: AsyncExitStack
) -> AsyncIterator[Rig]:
    """A fake Slack of ``space`` and a copbot serving it on ``store``, as ``copbot run`` wires it."""
    fake = await stack.enter_async_context(FakeSlack(tokens={space.token}, team_id=space.team))
    fake.add_user(space.member, space.name)
    fake.add_user(space.moderator, "mod")
    ctx = Context(store=store, clock=clock)
    async with moderated(fake, ctx, **space.settings()) as rig:
        yield rig


@asynccontextmanager
async def two_copbots(ctx: Context, db_url: str, clock: FakeClock) -> AsyncIterator[tuple[Rig, Rig]]:
    """Workspace A's copbot on this test's store; B's on a store of its own over the same
    database (another process)."""
    async with AsyncExitStack() as stack:
        other = Store(make_engine(db_url))
        stack.push_async_callback(other.close)
        a = await stack.enter_async_context(copbot_for(A, ctx.store, clock, stack))
        b = await stack.enter_async_context(copbot_for(B, other, clock, stack))
        yield a, b


def mentions_in(rig: Rig, channel: str) -> list[str]:
    return [call.args.get("text", "") for call in rig.posts_in(channel)]


async def test_each_copbot_reminds_its_own_members_once_in_their_own_workspace(
    ctx: Context, db_url: str, clock: FakeClock
) -> None:
    async with two_copbots(ctx, db_url, clock) as (a, b):
        assert "You claimed" in (await a.command("/claim", "3.11", user=A.member)).shown
        assert "You claimed" in (await b.command("/claim", "3.11", user=B.member)).shown
        clock.advance(days=31)

        assert a.sweeper is not None and b.sweeper is not None
        first = await a.sweeper.run_once()
        second = await b.sweeper.run_once()
        again = [await a.sweeper.run_once(), await b.sweeper.run_once()]

        assert (first.delivered, second.delivered) == ({"dm": 1}, {"dm": 1})
        assert [r.delivered for r in again] == [{}, {}]
        for rig, space, stranger in ((a, A, B), (b, B, A)):
            (dm,) = rig.fake.dms(space.member)
            assert Answer.of(dm).header == "Still working on 3.11?"
            assert rig.fake.dms(stranger.member) == [], f"{space.team}'s copbot DMed {stranger.team}'s member"
            assert rig.posts_in(space.reminder_channel) == []
            assert not any(stranger.member in text for text in mentions_in(rig, space.reminder_channel))


async def test_each_copbot_posts_only_its_own_workspaces_waiting_submissions(
    ctx: Context, db_url: str, clock: FakeClock
) -> None:
    async with two_copbots(ctx, db_url, clock) as (a, b):
        # Both workspaces' posts are refused once: the submissions wait for the sweeps.
        a.fake.fail_method("chat.postMessage", "ratelimited")
        b.fake.fail_method("chat.postMessage", "ratelimited")
        await a.command("/submit", f"2.4 {LINK}/a", user=A.member)
        await b.command("/submit", f"2.4 {LINK}/b", user=B.member)
        assert a.posts_in(A.mod_channel) == [] and b.posts_in(B.mod_channel) == []

        assert a.moderation is not None and b.moderation is not None
        await a.moderation.recover()  # a start-up, then the sweeps
        assert a.sweeper is not None and b.sweeper is not None
        await a.sweeper.run_once()
        await b.sweeper.run_once()

        (posted_a,) = a.posts_in(A.mod_channel)
        (posted_b,) = b.posts_in(B.mod_channel)
        assert f"{LINK}/a" in Answer.of(posted_a).shown and f"{LINK}/b" in Answer.of(posted_b).shown
        assert [c.response["channel"] for c in a.fake.posts] == [A.mod_channel]
        assert [c.response["channel"] for c in b.fake.posts] == [B.mod_channel]
        # And each workspace's moderators decide theirs.
        await b.react(B.moderator, "white_check_mark", posted_b.ts, channel=B.mod_channel)
        assert "Approved by mod." in b.current(B.mod_channel, posted_b.ts).shown
        mine = await b.command("/history", "2.4", user=B.member)
        assert "approved" in mine.shown.lower()


async def test_a_copbot_whose_token_is_revoked_leaves_the_other_workspace_alone(
    ctx: Context, db_url: str, clock: FakeClock
) -> None:
    async with two_copbots(ctx, db_url, clock) as (a, b):
        await a.command("/claim", "3.11", user=A.member)
        await b.command("/claim", "3.11", user=B.member)
        await b.command("/submit", f"2.4 {LINK}/b", user=B.member)
        (posted_b,) = b.posts_in(B.mod_channel)
        clock.advance(days=31)
        a.fake.tokens = set()  # workspace A uninstalled the app while its copbot was away

        assert a.sweeper is not None and b.sweeper is not None
        await a.sweeper.run_once()
        await b.sweeper.run_once()

        (dm,) = b.fake.dms(B.member)
        assert Answer.of(dm).header == "Still working on 3.11?"
        waiting = await submissions.pending(ctx.store, "slack", B.team)
        assert [link.url for link in waiting] == [f"{LINK}/b"]
        await b.react(B.moderator, "white_check_mark", posted_b.ts, channel=B.mod_channel)
        assert "Approved by mod." in b.current(B.mod_channel, posted_b.ts).shown
        assert a.front.removed and not b.front.removed


async def test_a_claim_kept_under_a_workspace_no_copbot_serves_is_reminded_once(
    ctx: Context, db_url: str, clock: FakeClock
) -> None:
    """Older data: an older copbot kept a claim made in a shared channel under the other
    workspace's id, which no copbot serves. One copbot reminds it, once."""
    old = Person("slack", "T0OLD", A.member, A.name)
    await ctx.store.claim("3.11", old, clock())
    async with two_copbots(ctx, db_url, clock) as (a, b):
        clock.advance(days=31)
        assert a.sweeper is not None and b.sweeper is not None
        reports = [await a.sweeper.run_once(), await b.sweeper.run_once()]

        assert sum(r.stale for r in reports) == 1
        assert len(a.fake.dms(A.member)) + len(b.fake.dms(A.member)) == 1
        (claim,) = [c for c in await ctx.store.claims_for_problem("3.11") if c.community_id == "T0OLD"]
        assert isinstance(claim, Claim) and claim.state == "stale"
