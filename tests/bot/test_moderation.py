"""Submissions: stored, posted to moderators, decided once by reaction or button, undoable."""

from __future__ import annotations

import asyncio
import csv
import io
import random
from dataclasses import replace

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Settings
from bot.moderation import BLOCKED_RETRY, ChannelLookup, Moderation, ModeratorChannel
from bot.outbound import Posted
from bot.runner import make_moderation
from commands import dispatch
from commands.submissions import decide_by_reaction, decide_link
from commands.types import Actor, Context, Link, Reply
from storage import posts, submissions
from storage.catalogue import export_csv
from storage.engine import make_engine
from storage.models import WorkLink
from storage.store import Store
from tests.support.clock import FakeClock
from tests.support.outbound import MemoryOutbound, SimulatedCrash
from tests.support.pg import lock_rows, lock_waiters
from tests.support.tcp_proxy import TcpProxy
from tests.support.transcript import person, say, shown

ANN = person("ann")
MOD = person("mod", moderator=True)
MOD2 = person("mo2", moderator=True)
ADMIN = person("boss", admin=True)
SUBMIT = '/submit 2.4 https://example.org/acronyms note:"IOI-style circuit for acronyms"'


@pytest.fixture
def outbound() -> MemoryOutbound:
    """Where the bot's own messages go."""
    return MemoryOutbound()


@pytest.fixture
def moderated(ctx: Context, outbound: MemoryOutbound) -> Context:
    """The context with moderation wired to the in-memory platform and /setup's channel."""

    ctx.effects = Moderation(ctx.store, {"discord": outbound}, ctx.clock, setup_channel(ctx.store))
    return ctx


def setup_channel(store: Store) -> ChannelLookup:
    """The moderator channel /setup saved, as the bot reads it."""

    async def channel(platform: str, community: str) -> ModeratorChannel | None:
        row = await store.get_settings(platform, community)
        if row is None or not row.moderator_channel_id:
            return None
        return ModeratorChannel(row.moderator_channel_id, row.updated_at)

    return channel


async def with_channel(ctx: Context) -> None:
    """An admin sets the moderator channel."""
    reply = await say(ctx, ADMIN, "/setup moderator_channel:<#mods>")
    assert "Settings saved" in reply.text, reply.text


async def test_submit_posts_to_moderators_with_reactions(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """The submitter is told privately; the moderators see number, title, link, note and sender."""
    await with_channel(moderated)
    reply = await say(moderated, ANN, SUBMIT)
    assert reply.private and "went to the moderators" in reply.text
    post, reactions = outbound.sent
    assert post.kind == "channel" and post.target == "mods"
    assert post.reply.title == "Submission for 2.4"
    assert ("From", "Ann") in [(f.name, f.value) for f in post.reply.fields]
    assert [s.lines[0] for s in post.reply.sections][1] == "IOI-style circuit for acronyms"
    assert reactions.kind == "react" and reactions.reply.text == "✅ ❌"


async def test_a_submitted_note_keeps_its_quotes_and_commas(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """The moderators read the note as Ann typed it, quotes, commas and all."""
    await with_channel(moderated)
    reply = await say(moderated, ANN, '/submit 2.2 https://example.org/a note with "quotes", commas')
    assert "went to the moderators" in reply.text, reply.text
    post = outbound.sent[0]
    assert [s.lines[0] for s in post.reply.sections][1] == 'note with "quotes", commas'


async def test_approval_by_reaction_lists_the_link_and_tells_the_submitter(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """✅ from a moderator: post edited, link under Existing Work and in the export, Ann told."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    reply = await decide_by_reaction(moderated, MOD, "1", "✅")
    assert reply and reply.text == "Approved 2.4 #1: https://example.org/acronyms from Ann."
    edit = next(s for s in outbound.sent if s.kind == "edit")
    assert edit.reply.text == "Approved by Mod." and [b.label for b in edit.reply.buttons] == ["Undo"]
    dm = next(s for s in outbound.sent if s.kind == "dm")
    assert dm.target == "ann" and "was approved" in dm.reply.text
    assert "https://example.org/acronyms — IOI-style circuit for acronyms" in await shown(
        moderated, ANN, "/problem 2.4"
    )
    rows = {r[3]: r for r in csv.reader(io.StringIO(await export_csv(moderated.store)))}
    assert "https://example.org/acronyms — IOI-style circuit for acronyms (via copbot)" in rows["2.4"][5]
    history = await shown(moderated, ANN, "/history 2.4")
    assert (
        "Ann submitted https://example.org/acronyms" in history
        and "Mod approved https://example.org/acronyms" in history
    )


async def test_rejection_with_a_reason_reaches_the_submitter(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """A rejection's reason is shown on the post, told to Ann and kept in the history."""
    from commands.submissions import decide_link

    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    await decide_link(moderated, MOD, 1, False, "not about acronyms")
    dm = next(s for s in outbound.sent if s.kind == "dm")
    assert dm.reply.text.endswith("was not accepted: not about acronyms")
    assert "Existing work:\n  - None yet." in await shown(moderated, ANN, "/problem 2.4")
    assert "Mod rejected https://example.org/acronyms (not about acronyms)" in await shown(
        moderated, ANN, "/history 2.4"
    )


async def test_only_moderators_decide(moderated: Context, outbound: MemoryOutbound) -> None:
    """A member's reaction and button do nothing; the submission stays pending."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    assert await decide_by_reaction(moderated, person("eve"), "1", "✅") is None
    refused = await dispatch.run_action(moderated, person("eve"), "cop:approve:1")
    assert refused.error and refused.text == "Only moderators can decide submissions."
    assert "2.4 #1: https://example.org/acronyms from Ann" in await shown(moderated, MOD, "/pending")
    assert (await say(moderated, ANN, "/pending")).text == "/pending is for moderators."


async def test_the_same_work_in_another_server_is_named(moderated: Context, outbound: MemoryOutbound) -> None:
    """Another server decides its own submissions, which this one's /pending does not list: the
    answers about one of them say where it waits."""
    await with_channel(moderated)
    cy = person("cy", community="guild2")
    await say(moderated, ANN, SUBMIT)
    again = await say(moderated, cy, SUBMIT)
    assert again.text == (
        "That work is already submitted for 2.4 (waiting for the moderators in another Discord server)."
    )
    await dispatch.run_action(moderated, MOD, "cop:reject:1")
    await say(moderated, cy, SUBMIT)
    undo = await dispatch.run_action(moderated, MOD, "cop:undo:1")
    assert undo.error and undo.text == (
        "The same work was submitted again in another Discord server meanwhile; "
        "its moderators there decide it."
    )


async def test_two_moderators_at_once_make_one_decision(moderated: Context, outbound: MemoryOutbound) -> None:
    """Approve and reject race, plus double clicks: exactly one decision, one history entry, and
    one edit (the others find it decided while the winner's edit is on its way)."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    landing = outbound.hold_next()  # the winner's edit stays on its way until the others answered
    deciding = [
        asyncio.create_task(dispatch.run_action(moderated, MOD, "cop:approve:1")),
        asyncio.create_task(dispatch.run_action(moderated, MOD2, "cop:reject:1")),
        asyncio.create_task(dispatch.run_action(moderated, MOD, "cop:approve:1")),
        asyncio.create_task(decide_by_reaction(moderated, MOD2, "1", "✅")),
    ]
    await outbound.on_its_way()
    async with asyncio.timeout(10):
        while sum(t.done() for t in deciding) < 3:
            await asyncio.wait([t for t in deciding if not t.done()], return_when=asyncio.FIRST_COMPLETED)
    landing.set()
    replies = await asyncio.gather(*deciding)
    decided = [r for r in replies if r is not None and not r.error]
    assert len(decided) == 1
    events = [e.kind for e in await moderated.store.history("2.4")]
    assert events.count("approved") + events.count("rejected") == 1
    assert sum(s.kind == "dm" for s in outbound.sent) == 1
    assert sum(s.kind == "edit" for s in outbound.sent) == 1


async def test_a_replayed_reaction_changes_nothing(moderated: Context, outbound: MemoryOutbound) -> None:
    """The same reaction event twice: one decision, one edit, one DM."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    await decide_by_reaction(moderated, MOD, "1", "✅")
    assert await decide_by_reaction(moderated, MOD, "1", "✅") is None
    assert [s.kind for s in outbound.sent].count("edit") == 1


async def test_undo_returns_to_pending_and_takes_the_link_out(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """Undo (moderators only) makes the submission pending again and unlists the link."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    await dispatch.run_action(moderated, MOD, "cop:approve:1")
    assert (await dispatch.run_action(moderated, ANN, "cop:undo:1")).error
    reply = await dispatch.run_action(moderated, MOD2, "cop:undo:1")
    assert reply.text.startswith("Undone: 2.4 #")
    assert "example.org/acronyms" not in await shown(moderated, ANN, "/problem 2.4")
    assert "Mo2 undid the approval of https://example.org/acronyms" in await shown(
        moderated, ANN, "/history 2.4"
    )
    last_edit = [s for s in outbound.sent if s.kind == "edit"][-1]
    assert [b.label for b in last_edit.reply.buttons] == ["Approve", "Reject with reason"]


async def test_without_a_channel_it_waits_then_posts_when_one_is_set(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """No moderator channel: the submitter is told, it stays pending, /setup posts it."""
    reply = await say(moderated, ANN, SUBMIT)
    assert "no moderator channel is set:" in reply.text
    assert outbound.sent == []
    await with_channel(moderated)
    assert [s.target for s in outbound.sent if s.kind == "channel"] == ["mods"]


async def test_a_decision_after_a_restart_finds_its_submission(
    moderated: Context, outbound: MemoryOutbound, clock: FakeClock
) -> None:
    """A new process (new context, same database) maps the reaction's message to the submission."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    restarted_outbound = MemoryOutbound()
    restarted = Context(store=moderated.store, clock=clock)

    async def channel(platform: str, community: str) -> ModeratorChannel | None:
        return ModeratorChannel("mods", clock())

    restarted.effects = Moderation(restarted.store, {"discord": restarted_outbound}, clock, channel)
    assert await decide_by_reaction(restarted, MOD, "1", "✅")
    assert [s.kind for s in restarted_outbound.sent] == ["edit", "dm"]


async def test_duplicates_are_refused_after_normalising(moderated: Context) -> None:
    """The same work in another spelling is 'already submitted'; other problems may have it."""
    await say(moderated, ANN, "/submit 2.4 https://arxiv.org/abs/2312.09230")
    again = await say(moderated, person("bob"), "/submit 2.4 http://www.arxiv.org/pdf/2312.09230v2.pdf")
    assert (
        again.error and again.text == "That work is already submitted for 2.4 (waiting for the moderators)."
    )
    other = await say(moderated, ANN, "/submit 2.5 https://arxiv.org/abs/2312.09230")
    assert not other.error


async def test_the_hourly_limit(moderated: Context, clock: FakeClock) -> None:
    """Ten submissions in a rolling hour; the eleventh is refused with the time the oldest of
    them leaves the hour, and it is taken from then on."""
    for i in range(10):
        assert not (await say(moderated, ANN, f"/submit 1.1 https://example.org/{i}")).error
        clock.advance(minutes=2)  # the first at 12:00, the last at 12:18
    clock.advance(minutes=1, seconds=30)  # 12:21:30
    refused = await say(moderated, ANN, "/submit 1.1 https://example.org/10")
    assert refused.error and refused.text == (
        "You can submit at most 10 links an hour; you can submit again at 13:00 UTC (in 39 minutes)."
    )
    clock.advance(minutes=38, seconds=29)  # 12:59:59
    assert (await say(moderated, ANN, "/submit 1.1 https://example.org/10")).error
    clock.advance(seconds=1)
    assert not (await say(moderated, ANN, "/submit 1.1 https://example.org/10")).error


async def test_a_limit_of_one_link_an_hour_says_so_in_the_singular(
    moderated: Context, clock: FakeClock
) -> None:
    """At most 1 link (not "1 links"); the time is rounded up to the minute, never too early."""
    moderated.submissions_per_hour = 1
    clock.advance(seconds=20)  # 12:00:20
    assert not (await say(moderated, ANN, "/submit 1.2 https://b.org/x")).error
    clock.advance(minutes=59)  # 12:59:20
    refused = await say(moderated, ANN, "/submit 1.2 https://b.org/y")
    assert refused.error and refused.text == (
        "You can submit at most 1 link an hour; you can submit again at 13:01 UTC (in 1 minute)."
    )
    # Someone else is not limited by Ann's submission.
    assert not (await say(moderated, person("bob"), "/submit 1.2 https://b.org/y")).error


@pytest.mark.parametrize(
    ("line", "number"),
    [
        ("/submit 3.12 https://arxiv.org/abs/2402.11917", "3.12"),  # as the sheet has it
        ("/submit 3.12 https://arxiv.org/pdf/2402.11917v2.pdf the same paper", "3.12"),
        ("/submit 3.1 https://github.com/MatthewBaggins/one-attention-head-is-all-you-need", "3.1"),
        ("/submit 3.1 https://github.com/MatthewBaggins/one-attention-head-is-all-you-need/", "3.1"),
        # In running text: after a colon with no space, and on a line of its own.
        (
            "/submit 2.2 https://alignmentjam.com/project/one-is-1-analyzing-activations-of-numerical-words-vs-digits",
            "2.2",
        ),
        ("/submit 2.2 http://www.arxiv.org/abs/2312.09230v3", "2.2"),
        # Followed by a full stop (3.8) and by "?usp=sharing" (3.3: tracking-free query kept).
        (
            "/submit 3.8 https://philipquirke.github.io/transformer-maths/2023/10/14/Understanding-Addition.html",
            "3.8",
        ),
    ],
)
async def test_a_link_already_under_existing_work_is_refused(
    moderated: Context, line: str, number: str
) -> None:
    """The sheet lists it already: refused in the same terms as a duplicate submission, nothing
    stored, so it is never listed twice."""
    reply = await say(moderated, ANN, line)
    assert reply.error and reply.text == f"That work is already listed under existing work for {number}."
    assert (await say(moderated, MOD, "/pending")).text == "Nothing is waiting for a decision."
    # Another problem whose sheet does not list it may still have it.
    other = await say(moderated, ANN, line.replace(f"/submit {number} ", "/submit 1.1 "))
    assert not other.error, other.text


@pytest.mark.parametrize(
    "line",
    [
        "/submit 2.4 javascript:alert(1)",
        "/submit 2.4 data:text/html,hi",
        "/submit 2.4 file:///etc/passwd",
        "/submit 2.4 example.org",
        "/submit 2.99 https://example.org",
        "/submit 2.4",
        "/submit 2.4 https://example.org " + "n" * 600,
    ],
)
async def test_bad_submissions_are_refused_and_nothing_is_stored(moderated: Context, line: str) -> None:
    """Junk links, unknown numbers, missing or huge parts: a clear error, nothing pending."""
    reply = await say(moderated, ANN, line)
    assert reply.error and reply.text
    assert (await say(moderated, MOD, "/pending")).text == "Nothing is waiting for a decision."


async def test_a_refused_post_is_retried_later(moderated: Context, outbound: MemoryOutbound) -> None:
    """The channel is out of copbot's reach: the submitter is told to tell an admin, as only one
    can mend it; it is tried again an hour later (not at each tick before), which posts it once
    it is mended."""
    await with_channel(moderated)
    outbound.broken.add("mods")
    reply = await say(moderated, ANN, SUBMIT)
    assert "I may not post in the moderators' channel" in reply.text and outbound.sent == []
    assert "please tell an admin" in reply.text
    outbound.broken.clear()
    assert moderated.effects is not None
    await moderated.effects.catch_up()  # type: ignore[attr-defined]
    assert outbound.sent == []
    assert isinstance(moderated.clock, FakeClock)
    moderated.clock.advance(seconds=BLOCKED_RETRY.total_seconds())
    await moderated.effects.catch_up()  # type: ignore[attr-defined]
    await moderated.effects.catch_up()  # type: ignore[attr-defined]
    assert [s.target for s in outbound.sent if s.kind == "channel"] == ["mods"]


async def test_a_new_moderator_channel_takes_the_pending_posts(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """/setup names another moderator channel: the pending submission is posted there (with ✅
    ❌), its old post says where it went and loses its buttons; a decided one stays where it is.
    Reactions count on the new post only, and later sweeps and /setups post nothing more."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)  # message 1, in mods
    await say(moderated, ANN, "/submit 2.4 https://example.org/other")  # message 3
    await dispatch.run_action(moderated, MOD, "cop:approve:2")
    before = len(outbound.sent)  # the posts, reactions, the approval's edit and DM

    reply = await say(moderated, ADMIN, "/setup moderator_channel:<#mods2>")
    assert reply.text == "Settings saved."

    post, reactions, moved = outbound.sent[before:]
    new_id = str(before + 1)
    assert (post.kind, post.target, post.reply.title) == ("channel", "mods2", "Submission for 2.4")
    assert [b.label for b in post.reply.buttons] == ["Approve", "Reject with reason"]
    assert "IOI-style circuit for acronyms" in [s.lines[0] for s in post.reply.sections]
    assert (reactions.kind, reactions.target) == ("react", new_id)
    assert (moved.kind, moved.target) == ("edit", "1")
    assert moved.reply.text.startswith("Moved: the moderator channel changed") and moved.reply.buttons == ()
    link = await submissions.get_link(moderated.store, 1)
    assert link is not None and (link.mod_channel_id, link.mod_message_id) == ("mods2", new_id)

    await sweep(moderated)
    await say(moderated, ADMIN, "/setup moderator_channel:<#mods2>")
    assert len(outbound.sent) == before + 3
    assert await decide_by_reaction(moderated, MOD, "1", "✅") is None  # the old post
    assert await status_of(moderated, 1) == "pending"
    reply = await decide_by_reaction(moderated, MOD, new_id, "✅")
    assert reply and reply.text.startswith("Approved 2.4 #")


async def test_a_pending_post_is_moved_once_by_two_processes_at_once(
    moderated: Context, outbound: MemoryOutbound, clock: FakeClock, db_url: str
) -> None:
    """Two replicas on the same database sweep together after the channel changed: one post."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    await moderated.store.update_settings("discord", "guild1", clock(), moderator_channel_id="mods2")
    other_store = Store(make_engine(db_url))
    try:
        other_outbound = MemoryOutbound(delay=0.01)
        outbound.delay = 0.01

        other = Moderation(other_store, {"discord": other_outbound}, clock, setup_channel(other_store))
        await asyncio.gather(sweep(moderated), other.catch_up(), sweep(moderated), other.catch_up())
    finally:
        await other_store.close()
    posts = [s for s in outbound.sent + other_outbound.sent if s.kind == "channel"]
    assert [p.target for p in posts] == ["mods", "mods2"]


async def test_a_post_is_taken_for_moving_once(moderated: Context, clock: FakeClock) -> None:
    """Two processes that both read the old post: the first takes it, the second finds it taken
    (and, once a failed move gives the old post back, it can be taken again). A process that read
    the old post before another moved it does not take (and post again) the new post that came
    to have the same message id in the new channel (a Slack id is unique only in its channel)."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    old = await submissions.get_link(moderated.store, 1)
    assert old is not None and old.mod_message_id == "1"

    first = await posts.take_for_moving(moderated.store, 1, "1", "mods2", clock(), from_channel="mods")
    second = await posts.take_for_moving(moderated.store, 1, "1", "mods2", clock(), from_channel="mods")
    assert first is not None and first.mod_message_id == posts.POSTING and second is None

    await posts.return_post(moderated.store, old)
    back = await submissions.get_link(moderated.store, 1)
    assert back is not None and (back.mod_channel_id, back.mod_message_id) == ("mods", "1")
    assert (
        await posts.take_for_moving(moderated.store, 1, "1", "mods2", clock(), from_channel="mods")
        is not None
    )
    await posts.record_posted(moderated.store, 1, "1", None, clock())  # moved: mods2, "1"
    late = await posts.take_for_moving(moderated.store, 1, "1", "mods3", clock(), from_channel="mods")
    assert late is None


async def test_a_move_the_new_channel_refuses_leaves_the_old_post_working(
    moderated: Context, outbound: MemoryOutbound, clock: FakeClock
) -> None:
    """The new channel refuses the post: the old post still decides by reaction until a sweep
    moves it (once the channel takes posts: the move is tried again an hour later)."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    await say(moderated, ANN, "/submit 2.4 https://example.org/other")  # message 3
    outbound.broken.add("mods2")
    await say(moderated, ADMIN, "/setup moderator_channel:<#mods2>")
    assert kinds(outbound) == ["channel", "react", "channel", "react"]

    reply = await decide_by_reaction(moderated, MOD, "3", "❌")
    assert reply and reply.text.startswith("Rejected 2.4 #")
    outbound.broken.clear()
    clock.advance(hours=1)
    await sweep(moderated)
    await sweep(moderated)
    moved = [s.target for s in outbound.sent if s.kind == "channel"]
    assert moved == ["mods", "mods", "mods2"]  # only the pending one
    assert await decide_by_reaction(moderated, MOD, "1", "✅") is None  # moved away


def after_a_crash(ctx: Context, clock: FakeClock) -> tuple[Context, MemoryOutbound]:
    """A new process on the same database, reading /setup's channel, with its own connection."""
    outbound = MemoryOutbound()
    new = Context(store=ctx.store, clock=clock)
    new.effects = Moderation(new.store, {"discord": outbound}, clock, setup_channel(new.store))
    return new, outbound


async def crash_mid_move(ctx: Context, outbound: MemoryOutbound, clock: FakeClock) -> None:
    """A pending submission posted in mods (message 1); the channel becomes mods2 and the
    process dies while the move's post is on its way (the post taken, nothing recorded)."""
    await with_channel(ctx)
    await say(ctx, ANN, SUBMIT)
    clock.advance(minutes=1)
    await ctx.store.update_settings("discord", "guild1", clock(), moderator_channel_id="mods2")
    outbound.crash_before_post = True
    with pytest.raises(SimulatedCrash):
        await sweep(ctx)


async def test_a_move_cut_short_by_a_crash_is_made_by_a_later_sweep(
    moderated: Context, outbound: MemoryOutbound, clock: FakeClock
) -> None:
    """The next process's sweep, once the move is old enough to be a crash's, moves it again:
    one post in mods2, and the old post says where it went (it kept 'pending' and its buttons)."""
    await crash_mid_move(moderated, outbound, clock)
    after, out = after_a_crash(moderated, clock)
    await sweep(after)
    assert out.sent == []  # too recent to tell from a move in progress
    clock.advance(minutes=11)
    await sweep(after)
    await sweep(after)
    assert [(s.kind, s.target) for s in out.sent] == [("channel", "mods2"), ("react", "1"), ("edit", "1")]
    assert out.sent[2].reply.text.startswith("Moved: the moderator channel changed")
    link = await submissions.get_link(after.store, 1)
    assert link is not None and (link.mod_channel_id, link.mod_message_id) == ("mods2", "1")
    assert link.moved_from_message_id is None


async def test_a_decision_on_the_old_post_of_a_move_cut_short_is_shown_on_it(
    moderated: Context, outbound: MemoryOutbound, clock: FakeClock
) -> None:
    """After the crash a moderator approves with the old post's button (it names the
    submission): a later sweep shows the approval on that post (it kept 'pending' and live
    buttons for good), and posts nothing in mods2."""
    await crash_mid_move(moderated, outbound, clock)
    after, out = after_a_crash(moderated, clock)
    reply = await dispatch.run_action(after, MOD, "cop:approve:1")
    assert reply.text.startswith("Approved 2.4 #")
    clock.advance(minutes=11)
    await sweep(after)
    await sweep(after)
    edits = [(s.target, s.reply.text) for s in out.sent if s.kind in ("edit", "channel")]
    assert edits == [("1", "Approved by Mod.")]
    link = await submissions.get_link(after.store, 1)
    assert link is not None and (link.mod_channel_id, link.mod_message_id) == ("mods", "1")
    assert link.shown_revision == link.revision


async def test_a_replica_whose_setting_is_behind_does_not_move_posts_back(
    moderated: Context, outbound: MemoryOutbound, clock: FakeClock
) -> None:
    """/setup moves the pending post to mods2; a replica still holding the old setting (mods)
    leaves it there, sweep after sweep, instead of moving it back (and the first replica then
    moving it again)."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    behind = await moderated.store.get_settings("discord", "guild1")
    assert behind is not None
    clock.advance(minutes=1)
    await say(moderated, ADMIN, "/setup moderator_channel:<#mods2>")
    link = await submissions.get_link(moderated.store, 1)
    assert link is not None and link.mod_channel_id == "mods2"

    async def stale(platform: str, community: str) -> ModeratorChannel | None:
        assert behind is not None and behind.moderator_channel_id
        return ModeratorChannel(behind.moderator_channel_id, behind.updated_at)

    out = MemoryOutbound()
    replica = Moderation(moderated.store, {"discord": out}, clock, stale)
    before = len(outbound.sent)
    for _ in range(2):
        clock.advance(minutes=1)
        await replica.catch_up()
        await sweep(moderated)
    assert out.sent == [] and len(outbound.sent) == before
    link = await submissions.get_link(moderated.store, 1)
    assert link is not None and link.mod_channel_id == "mods2"


async def test_a_first_post_on_its_way_when_the_channel_changes_is_moved(
    moderated: Context, outbound: MemoryOutbound, clock: FakeClock
) -> None:
    """The post was taken (for mods) before /setup named mods2, and recorded after it: it counts
    from when it was taken, so the next sweep moves it (it stayed in mods for good)."""
    await with_channel(moderated)
    landing = outbound.hold_next()  # the first post stays with the platform until the test says
    submitting = asyncio.create_task(say(moderated, ANN, SUBMIT))
    await outbound.on_its_way()  # taken for mods, on its way
    clock.advance(minutes=1)
    assert (await say(moderated, ADMIN, "/setup moderator_channel:<#mods2>")).text == "Settings saved."
    clock.advance(seconds=1)
    landing.set()
    await submitting
    clock.advance(minutes=15)
    await sweep(moderated)
    link = await submissions.get_link(moderated.store, 1)
    assert link is not None and link.mod_channel_id == "mods2"
    assert [s.target for s in outbound.sent if s.kind == "channel"] == ["mods", "mods2"]


async def test_a_slack_post_a_replica_behind_made_after_this_start_moves_once_settled(
    ctx: Context, clock: FakeClock
) -> None:
    """A rolling deploy of SLACK_MODERATOR_CHANNEL: a replica still on C0OLD posts a submission a
    minute after this process (on C0NEW) started. It is left alone while replicas of both
    settings may run (no moving back and forth), and moved once an hour old."""
    slack = MemoryOutbound(name="slack")
    settings = Settings(_env_file=None, slack_moderator_channel="C0NEW")
    moderation = make_moderation(settings, ctx, [slack])
    clock.advance(minutes=1)
    ann = Actor("slack", "T0", "U0ANN", "ann")
    link = await submissions.submit(
        ctx.store, "2.4", "https://example.org/w", "example.org/w", "", ann.person, clock(), 10
    )
    assert link.id is not None
    assert await posts.take_for_posting(ctx.store, link.id, "C0OLD", clock())
    await posts.record_posted(ctx.store, link.id, "1.000", "https://old/post", clock())
    where = []
    for _ in range(5):
        clock.advance(minutes=15)
        await moderation.catch_up()
        found = await submissions.get_link(ctx.store, link.id)
        assert found is not None
        where.append(found.mod_channel_id)
    assert where == ["C0OLD", "C0OLD", "C0OLD", "C0NEW", "C0NEW"]
    assert [s.target for s in slack.sent if s.kind == "channel"] == ["C0NEW"]


async def test_an_undone_submission_whose_post_was_deleted_is_posted_again(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """Undo makes it pending, but its post was deleted (the edit answers "unknown message"): it
    is posted again, and the new post decides."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    await dispatch.run_action(moderated, MOD, "cop:approve:1")
    outbound.gone.add("1")
    before = len(outbound.sent)

    undone = await dispatch.run_action(moderated, MOD, "cop:undo:1")
    assert undone.text.startswith("Undone: 2.4 #")
    assert kinds(outbound)[before:] == ["channel", "react", "dm"]
    post = outbound.sent[before]
    assert post.target == "mods" and [b.label for b in post.reply.buttons] == [
        "Approve",
        "Reject with reason",
    ]
    await sweep(moderated)
    assert kinds(outbound)[before:] == ["channel", "react", "dm"]
    assert await decide_by_reaction(moderated, MOD, "1", "❌") is None  # the deleted post
    reply = await decide_by_reaction(moderated, MOD, str(before + 1), "❌")
    assert reply and reply.text.startswith("Rejected 2.4 #")


async def status_of(ctx: Context, link_id: int) -> str:
    link = await submissions.get_link(ctx.store, link_id)
    assert link is not None
    return link.status


def kinds(outbound: MemoryOutbound) -> list[str]:
    """What the bot sent, in order: channel posts, reactions, edits and DMs."""
    return [s.kind for s in outbound.sent]


async def sweep(ctx: Context) -> None:
    """The periodic sweep's moderation part, as ``copbot run`` wires it."""
    assert isinstance(ctx.effects, Moderation)
    await ctx.effects.catch_up()


async def test_a_refused_edit_is_made_by_the_next_press(moderated: Context, outbound: MemoryOutbound) -> None:
    """The post's edit is refused: the link is approved and Ann told, but the post still offers
    Approve. Pressing it again says it is decided and brings the post up to date, with Undo."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    outbound.refuse["1"] = 1  # the moderator post

    approved = await dispatch.run_action(moderated, MOD, "cop:approve:1")
    assert approved.text.startswith("Approved 2.4 #")
    assert kinds(outbound) == ["channel", "react", "dm"]

    again = await dispatch.run_action(moderated, MOD2, "cop:approve:1")
    assert again.error and again.text == "Already approved by Mod; nothing changed."
    edit = outbound.sent[-1]
    assert edit.kind == "edit" and edit.reply.text == "Approved by Mod."
    assert [b.label for b in edit.reply.buttons] == ["Undo"]
    # Up to date: another press, a reaction and the sweep edit nothing more; Ann was told once.
    await dispatch.run_action(moderated, MOD2, "cop:approve:1")
    against = await decide_by_reaction(moderated, MOD2, "1", "❌")  # answered, changing nothing
    assert against is not None and against.error
    await sweep(moderated)
    assert kinds(outbound) == ["channel", "react", "dm", "edit"]


async def test_a_refused_edit_of_an_undo_is_made_by_the_next_undo(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """Undo's edit is refused, so the post still offers Undo: pressing it says it is pending
    already and brings back Approve and Reject."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    await dispatch.run_action(moderated, MOD, "cop:approve:1")
    outbound.refuse["1"] = 1

    assert (await dispatch.run_action(moderated, MOD, "cop:undo:1")).text.startswith("Undone")
    last_edit = [s for s in outbound.sent if s.kind == "edit"][-1]
    assert [b.label for b in last_edit.reply.buttons] == ["Undo"]

    again = await dispatch.run_action(moderated, MOD, "cop:undo:1")
    assert again.error and again.text == "That submission is already pending; nothing to undo."
    edit = outbound.sent[-1]
    assert edit.kind == "edit" and [b.label for b in edit.reply.buttons] == ["Approve", "Reject with reason"]


async def test_the_sweep_makes_a_refused_edit_and_sends_a_refused_notice_once(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """Both the edit and the DM to Ann are refused (a rate limit): the next sweep makes both,
    and later sweeps nothing more."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    outbound.refuse.update({"1": 1, "ann": 1})

    reply = await decide_by_reaction(moderated, MOD, "1", "❌")
    assert reply and reply.text.startswith("Rejected 2.4 #")
    assert kinds(outbound) == ["channel", "react"]

    await sweep(moderated)
    await sweep(moderated)
    assert kinds(outbound) == ["channel", "react", "edit", "dm"]
    edit, dm = outbound.sent[2:]
    assert edit.reply.text == "Rejected by Mod." and [b.label for b in edit.reply.buttons] == ["Undo"]
    assert dm.target == "ann" and dm.reply.text.endswith("was not accepted.")


def restarted(ctx: Context, clock: FakeClock) -> tuple[Context, MemoryOutbound]:
    """A new process on the same database, with its own platform connection."""
    outbound = MemoryOutbound()
    new = Context(store=ctx.store, clock=clock)

    async def channel(platform: str, community: str) -> ModeratorChannel | None:
        return ModeratorChannel("mods", clock())

    new.effects = Moderation(new.store, {"discord": outbound}, clock, channel)
    return new, outbound


async def test_a_crash_right_after_a_decision_is_saved_loses_nothing(
    moderated: Context, outbound: MemoryOutbound, clock: FakeClock
) -> None:
    """The process dies once the approval is saved, before the post is edited or Ann told: the
    next process's first sweep does both, once."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    outbound.crash_before_edit = True
    with pytest.raises(SimulatedCrash):
        await dispatch.run_action(moderated, MOD, "cop:approve:1")

    after, outbound = restarted(moderated, clock)
    await sweep(after)
    await sweep(after)
    assert kinds(outbound) == ["edit", "dm"]
    assert outbound.sent[0].reply.text == "Approved by Mod." and "was approved" in outbound.sent[1].reply.text


async def test_a_crash_while_posting_is_posted_by_the_sweeps_after_a_quick_restart(
    moderated: Context, outbound: MemoryOutbound, clock: FakeClock
) -> None:
    """The process dies while a submission's post is on its way (taken, never recorded) and the
    next one starts 30 s later: too soon to tell from a post in progress, so its start leaves it;
    its sweeps post it once it has been stuck 10 minutes, once."""
    await with_channel(moderated)
    outbound.crash_before_post = True
    with pytest.raises(SimulatedCrash):
        await say(moderated, ANN, SUBMIT)

    clock.advance(seconds=30)
    after, outbound = restarted(moderated, clock)
    assert isinstance(after.effects, Moderation)
    await after.effects.recover()
    await sweep(after)
    assert kinds(outbound) == []
    clock.advance(minutes=10)
    await sweep(after)
    await sweep(after)
    assert kinds(outbound) == ["channel", "react"]


async def test_a_notice_that_may_have_gone_out_is_never_sent_again(
    moderated: Context, outbound: MemoryOutbound, clock: FakeClock
) -> None:
    """The process dies right after Ann's DM went out, before that was recorded: at most once,
    so the next process does not tell her again (nor edit the post, which it shows already)."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    outbound.crash_after_send = True
    with pytest.raises(SimulatedCrash):
        await dispatch.run_action(moderated, MOD, "cop:approve:1")
    assert kinds(outbound) == ["channel", "react", "edit", "dm"]

    after, outbound = restarted(moderated, clock)
    await sweep(after)
    assert outbound.sent == []


@pytest.mark.parametrize(
    ("reason", "post"),
    [("\u202eevil\u202c  ok\u200b", "Rejected by Mod: evil ok"), ("\u200b\u200b\u2066", "Rejected by Mod.")],
)
async def test_a_reason_keeps_no_invisible_characters(
    moderated: Context, outbound: MemoryOutbound, reason: str, post: str
) -> None:
    """Bidi overrides and zero-width characters never reach the post, Ann or the history."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)

    await decide_link(moderated, MOD, 1, False, reason)

    edit, dm = (s for s in outbound.sent if s.kind in ("edit", "dm"))
    assert edit.reply.text == post
    assert dm.reply.text.endswith("was not accepted" + post.removeprefix("Rejected by Mod"))
    history = await shown(moderated, ANN, "/history 2.4")
    assert not any(ch in history for ch in "\u202e\u202c\u200b\u2066")


async def test_looking_submissions_up_records_no_event(moderated: Context, clock: FakeClock) -> None:
    """Handling an event records its id with its first change (Store.applying); a look-up before
    it, or in place of it (a duplicate refused, a form sent back), is no change: were the id
    recorded with it, the event's retry would be dropped as done with nothing done."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    store = moderated.store
    (link,) = await submissions.pending(store, "discord", "guild1")
    assert link.id is not None
    lookups = {
        "get_link": submissions.get_link(store, link.id),
        "find_live": submissions.find_live(store, "2.4", link.normalized_url),
        "pending": submissions.pending(store, "discord", "guild1"),
        "unposted": posts.unposted(store, "discord"),
        "posts_behind": posts.posts_behind(store, ["discord"]),
        "link_by_message": posts.link_by_message(store, "discord", str(link.mod_message_id)),
        "posted_channels": posts.posted_channels(store, "discord"),
        "posted_in": posts.posted_in(store, "discord", "guild1", "mods"),
    }
    for name, lookup in lookups.items():
        with store.applying(f"discord:interaction:{name}", clock()):
            await lookup
        assert await store.first_time(f"discord:interaction:{name}", clock()), name


class PostThenCut(MemoryOutbound):
    """Posts to the moderators; the next post lands just as PostgreSQL goes away."""

    proxy: TcpProxy | None = None
    cut_on_post: bool = False

    async def send_channel(self, community_id: str, channel_id: str, reply: Reply) -> Posted:
        posted = await super().send_channel(community_id, channel_id, reply)
        if self.cut_on_post:
            self.cut_on_post = False
            assert self.proxy is not None
            self.proxy.cut()
        return posted


@pytest.mark.parametrize("first", ["reaction", "sweep"])
async def test_a_post_made_as_the_database_goes_away_is_kept_not_made_twice(
    pg_behind_proxy: tuple[TcpProxy, Context], first: str
) -> None:
    """PostgreSQL drops just after the moderators' post lands: Ann is told it went to them, the
    post gets its reactions, and once the database is back the post is recorded (by a moderator's
    ✅ on it, or by the sweep), decides the submission, and is never made a second time."""
    proxy, ctx = pg_behind_proxy
    outbound = PostThenCut()
    outbound.proxy = proxy
    ctx.effects = moderation = Moderation(
        ctx.store, {"discord": outbound}, ctx.clock, setup_channel(ctx.store)
    )
    await with_channel(ctx)
    outbound.cut_on_post = True
    reply = await say(ctx, ANN, SUBMIT)
    assert not reply.error and "went to the moderators" in reply.text, reply.text
    post, reactions = outbound.sent
    assert (post.kind, reactions.kind, reactions.reply.text) == ("channel", "react", "✅ ❌")
    proxy.heal()
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    if first == "sweep":
        clock.advance(minutes=11)
        await moderation.catch_up()
    decided = await decide_by_reaction(ctx, MOD, "1", "✅")
    assert decided is not None and (await submissions.get_link(ctx.store, 1)).status == "approved"  # type: ignore[union-attr]
    clock.advance(minutes=11)
    await moderation.catch_up()
    assert [s.kind for s in outbound.sent if s.kind == "channel"] == ["channel"]
    assert ("edit", "1") in [(s.kind, s.target) for s in outbound.sent]  # the post shows the decision
    assert "approved" in [s.reply.text for s in outbound.sent if s.kind == "dm"][0]


def test_the_sweep_takes_back_stuck_notices_of_submitters_as_it_does_reminders(
    ctx: Context, outbound: MemoryOutbound
) -> None:
    """``copbot run`` gives moderation the sweep's own bound for what was taken and never
    recorded: STUCK_SENDING, or two sweep intervals when longer (90-minute sweeps: 3 hours)."""
    from datetime import timedelta

    from bot.reminders import STUCK_SENDING
    from bot.runner import make_sweeper

    for minutes, bound in ((60, STUCK_SENDING), (90, timedelta(hours=3))):
        settings = Settings(_env_file=None, reminder_sweep_minutes=minutes)
        moderation = make_moderation(settings, ctx, [outbound])
        sweeper = make_sweeper(settings, ctx, [outbound], moderation)
        assert moderation.stuck_after == sweeper.stuck_after == bound


class DmThenFail(MemoryOutbound):
    """DMs submitters; the DM to ``fail_on`` lands just as the database fails: PostgreSQL goes
    away (``proxy``), or a transaction of the test's own holds that submitter's row (``store``)."""

    fail_on: str = ""
    proxy: TcpProxy | None = None
    store: Store | None = None
    holder: AsyncConnection | None = None

    async def send_dm(
        self, community_id: str, user_id: str, reply: Reply, *, ask_if_gone: bool = True
    ) -> Posted:
        posted = await super().send_dm(community_id, user_id, reply, ask_if_gone=ask_if_gone)
        if user_id == self.fail_on:
            self.fail_on = ""
            if self.proxy is not None:
                self.proxy.cut()
            else:
                assert self.store is not None
                self.holder = await lock_rows(self.store, WorkLink, [1])
        return posted


async def decided_for_three(ctx: Context) -> None:
    """Ann, Bob and Cy each submit a link; Mod approves the three (#1 Ann's), with nothing wired
    to tell them yet: their three notices wait for the sweep, in one batch."""
    for name in ("ann", "bob", "cy"):
        reply = await say(ctx, person(name), f"/submit 2.4 https://example.org/{name}")
        assert not reply.error, reply.text
    for link_id in (1, 2, 3):
        await decide_link(ctx, MOD, link_id, True, "")


def dms_to(outbound: MemoryOutbound) -> list[str]:
    return [s.target for s in outbound.sent if s.kind == "dm"]


async def notices_of(ctx: Context) -> list[str]:
    links = [await submissions.get_link(ctx.store, link_id) for link_id in (1, 2, 3)]
    return [link.notice if link else "" for link in links]


async def test_notices_taken_when_the_database_went_away_mid_batch_go_out_after_the_stuck_bound(
    pg_behind_proxy: tuple[TcpProxy, Context],
) -> None:
    """A sweep takes Ann's, Bob's and Cy's notices; PostgreSQL goes away just as Ann's DM lands, so
    neither her outcome nor the giving back of the others can be recorded. They stayed "sending"
    forever: Bob and Cy were never told. Now, the database back, the next sweep records Ann's DM
    and sends no one anything (Bob's and Cy's may be on their way from a live replica until
    STUCK_SENDING has passed); the first sweep after that tells Bob and Cy, and Ann only once."""
    proxy, ctx = pg_behind_proxy
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    await decided_for_three(ctx)
    outbound = DmThenFail()
    outbound.fail_on, outbound.proxy = "ann", proxy
    moderation = Moderation(ctx.store, {"discord": outbound}, clock, setup_channel(ctx.store))

    await moderation.catch_up()  # the database error is logged, not raised
    assert dms_to(outbound) == ["ann"]
    proxy.heal()
    clock.advance(minutes=10)
    await moderation.catch_up()
    assert dms_to(outbound) == ["ann"]
    assert await notices_of(ctx) == ["dm", "sending", "sending"]

    clock.advance(hours=2)  # STUCK_SENDING since they were taken
    await moderation.catch_up()
    assert sorted(dms_to(outbound)) == ["ann", "bob", "cy"]
    assert await notices_of(ctx) == ["dm", "dm", "dm"]
    clock.advance(hours=3)
    await moderation.catch_up()
    assert sorted(dms_to(outbound)) == ["ann", "bob", "cy"]


async def test_notices_given_back_when_recording_one_failed_go_out_at_the_next_sweep(
    pg_behind_proxy: tuple[TcpProxy, Context],
) -> None:
    """A sweep takes Ann's, Bob's and Cy's notices; Ann's DM lands, and recording it fails (her row
    held by another transaction past DATABASE_TIMEOUT). Bob's and Cy's, not sent, are given back
    at once, so the next sweep tells them, without waiting out STUCK_SENDING; Ann's DM, kept, is
    recorded once her row is free, and never sent again. Before, the error left Bob's and Cy's
    "sending" for good."""
    _, ctx = pg_behind_proxy
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    await decided_for_three(ctx)
    outbound = DmThenFail()
    outbound.fail_on, outbound.store = "ann", ctx.store
    moderation = Moderation(ctx.store, {"discord": outbound}, clock, setup_channel(ctx.store))

    try:
        await moderation.catch_up()
        assert dms_to(outbound) == ["ann"]
        assert await notices_of(ctx) == ["sending", "retry", "retry"]
    finally:
        assert outbound.holder is not None
        await outbound.holder.close()
    clock.advance(minutes=10)
    await moderation.catch_up()
    assert dms_to(outbound) == ["ann", "bob", "cy"]
    assert await notices_of(ctx) == ["dm", "dm", "dm"]
    clock.advance(hours=3)
    await moderation.catch_up()
    assert dms_to(outbound) == ["ann", "bob", "cy"]


async def test_pending_on_the_console_counts_the_submissions_past_the_twenty_listed(
    moderated: Context, clock: FakeClock
) -> None:
    """Twenty-five waiting: the console lists the oldest twenty, then "… and 5 more"."""
    await with_channel(moderated)
    for i in range(25):
        reply = await say(moderated, ANN, f"/submit 2.4 https://example.org/{i:02d}/acronyms")
        assert "went to the moderators" in reply.text, reply.text
        clock.advance(minutes=1 if i % 10 < 9 else 61)  # Ann may submit ten an hour

    out = await shown(moderated, MOD, "/pending")

    listed = [line for line in out.splitlines() if line.startswith("  - ")]
    assert out.startswith("Pending submissions: 25\n")
    assert [f"example.org/{i:02d}/" in line for i, line in enumerate(listed[:-1])] == [True] * 20
    assert listed[-1] == "  - … and 5 more"


async def test_a_slow_edit_of_an_older_decision_never_stays_on_the_post(
    moderated: Context, outbound: MemoryOutbound, clock: FakeClock, db_url: str
) -> None:
    """Mod approves Ann's link through this replica; Mo2 presses Undo through another, whose edit of
    the post is slow (Discord's rate limit, a retry); meanwhile Mod approves it again. The Undo's
    edit landed last, so the post showed the link pending, with Approve and Reject, although it
    was approved, and nothing ever edited it again (the post counted as up to date). Now the
    replica whose edit landed behind a newer decision edits the post once more."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    assert not (await dispatch.run_action(moderated, MOD, "cop:approve:1")).error
    other_store = Store(make_engine(db_url))
    try:
        slow = MemoryOutbound(sent=outbound.sent)  # one platform: edits land in one order
        other = Context(store=other_store, clock=clock, rng=random.Random(4))
        other.effects = Moderation(other_store, {"discord": slow}, clock, setup_channel(other_store))
        landing = slow.hold_next()
        undoing = asyncio.create_task(dispatch.run_action(other, MOD2, "cop:undo:1"))
        await slow.on_its_way()
        assert not (await dispatch.run_action(moderated, MOD, "cop:approve:1")).error
        landing.set()
        assert not (await undoing).error
    finally:
        await other_store.close()
    assert await status_of(moderated, 1) == "approved"
    edits = [s for s in outbound.sent if s.kind == "edit" and s.target == "1"]
    assert [b.label for b in edits[-1].reply.buttons] == ["Undo"]
    assert edits[-1].reply.text == "Approved by Mod."
    await sweep(moderated)  # and nothing more is due
    assert [s for s in outbound.sent if s.kind == "edit"] == edits


async def test_pending_names_each_submission_as_its_buttons_do(ctx: Context) -> None:
    """Three links for 2.4 wait (on the console, where nothing is posted): the buttons read
    "Approve 2.4 #2", and each listed line says which number it is, so a moderator can tell which
    of the three links a button decides. The lines said "2.4: <link>" alone."""
    for url in ("https://example.org/one", "https://example.org/two", "https://example.org/three"):
        await say(ctx, ANN, f"/submit 2.4 {url}")
    await dispatch.run_action(ctx, MOD, "cop:approve:1")

    reply = await say(ctx, MOD, "/pending")
    out = await shown(ctx, MOD, "/pending")

    assert [b.label for b in reply.buttons][::2] == ["Approve 2.4 #2", "Approve 2.4 #3"]
    assert "  - 2.4 #2: https://example.org/two from Ann, " in out, out
    assert "  - 2.4 #3: https://example.org/three from Ann, " in out, out


async def test_every_line_of_a_history_reads_as_a_sentence(
    moderated: Context, outbound: MemoryOutbound, clock: FakeClock
) -> None:
    """A timeline with each kind of entry, as members read it: who did what, in plain words.
    An undone decision read "Mo2 undid the decision on: <url> was rejected"; a link's posting
    for the moderators "Ann posted for moderators" (Ann posted nothing: copbot did); a stale
    claim "was reminded (claim stale)"; a link's decisions "Mod approved: <url>"."""
    from tests.bot.test_reminders import make_sweeper

    bob, cy = person("bob"), person("cy")
    await with_channel(moderated)
    await say(moderated, ANN, "/claim 2.4")
    clock.advance(days=1)
    await say(moderated, ANN, "/claim 2.4")
    await say(moderated, ANN, "/release 2.4 tried X, stuck on Y")
    await say(moderated, bob, "/claim 2.4")
    await say(moderated, cy, "/claim 2.4")
    outbound.closed_dms.add("cy")
    sweeper = make_sweeper(moderated, outbound)
    clock.advance(days=31)
    await sweeper.run_once()
    clock.advance(days=15)
    await sweeper.run_once()
    await say(moderated, ANN, SUBMIT)
    await dispatch.run_action(moderated, MOD, "cop:approve:1")
    await dispatch.run_action(moderated, MOD2, "cop:undo:1")
    await decide_link(moderated, MOD, 1, False, "not about acronyms")
    await dispatch.run_action(moderated, MOD2, "cop:undo:1.3")  # the rejection's own Undo

    history = await shown(moderated, ANN, "/history 2.4")
    timeline = history.split("Timeline, newest first:\n")[1].splitlines()
    url = "https://example.org/acronyms"
    assert [line.removeprefix("  - ") for line in timeline] == [
        f"2027-01-11 · Mo2 undid the rejection of {url}",
        f"2027-01-11 · Mod rejected {url} (not about acronyms)",
        f"2027-01-11 · Mo2 undid the approval of {url}",
        f"2027-01-11 · Mod approved {url}",
        "2027-01-11 · The link from Ann was posted for the moderators",
        f"2027-01-11 · Ann submitted {url}",
        "2027-01-11 · The claim by Cy expired: no reminder known to have reached them, "
        "14 days after the last try",
        "2027-01-11 · The claim by Bob expired: no answer 14 days after the reminder",
        "2026-12-27 · Cy could not be reached: no DM and no reminder channel",
        "2026-12-27 · Bob was reminded that their claim had gone stale",
        "2026-11-26 · Cy claimed it",
        "2026-11-26 · Bob claimed it",
        "2026-11-26 · Ann released it: tried X, stuck on Y",
        "2026-11-26 · Ann renewed their claim",
        "2026-11-25 · Ann claimed it",
        "2023-07-01 · jknowak (Discord) - July 2023 (sheet) claimed it: from the sheet",
    ], history


async def test_a_submitter_with_closed_dms_is_told_in_the_reminder_channel(
    ctx: Context, outbound: MemoryOutbound
) -> None:
    """Ann's DMs are closed: the moderators' decision, with its reason, reaches her in the
    reminder channel (where members with closed DMs are reminded), pinging only her. Before,
    she was told "I'll tell you what they decide" and then never heard a word."""
    ctx.effects = make_moderation(Settings(_env_file=None), ctx, [outbound])
    reply = await say(ctx, ADMIN, "/setup moderator_channel:<#mods> reminder_channel:<#general>")
    assert "Settings saved" in reply.text, reply.text
    outbound.closed_dms.add("ann")
    await say(ctx, ANN, SUBMIT)
    await decide_link(ctx, MOD, 1, False, "not about acronyms")
    told = [s for s in outbound.sent if s.target == "general"]
    assert len(told) == 1 and told[0].kind == "channel"
    assert told[0].reply.mention == "ann"
    assert told[0].reply.text.endswith("was not accepted: not about acronyms")
    link = await submissions.get_link(ctx.store, 1)
    assert link is not None and link.notice == "channel"
    # Told once: later sweeps send nothing more.
    await ctx.effects.catch_up()
    assert len([s for s in outbound.sent if s.target == "general"]) == 1


async def test_a_submitter_with_closed_dms_and_no_reminder_channel_is_not_reachable(
    ctx: Context, outbound: MemoryOutbound
) -> None:
    """Without a reminder channel there is nowhere to tell Ann: nothing is posted elsewhere."""
    ctx.effects = make_moderation(Settings(_env_file=None), ctx, [outbound])
    await with_channel(ctx)
    outbound.closed_dms.add("ann")
    await say(ctx, ANN, SUBMIT)
    await decide_link(ctx, MOD, 1, True)
    assert [s.kind for s in outbound.sent] == ["channel", "react", "edit"]
    link = await submissions.get_link(ctx.store, 1)
    assert link is not None and link.notice == "unreachable"


async def test_a_decision_made_from_pending_can_be_undone_from_its_answer(ctx: Context) -> None:
    """No moderator channel is set, so Mod decides from /pending: there is no moderator post,
    hence no post with an Undo button. The answer to the decision carries one, so a mistaken
    approval (or rejection) can be taken back; before, nothing could undo it."""
    await say(ctx, ANN, SUBMIT)
    pending = await say(ctx, MOD, "/pending")
    approve = next(b for b in pending.buttons if b.label == "Approve 2.4 #1")
    answer = await dispatch.run_action(ctx, MOD, f"cop:{approve.action}:{approve.target}")
    assert answer.text.startswith("Approved 2.4 #")
    [undo] = answer.buttons
    assert undo.label == "Undo" and undo.action == "undo"
    undone = await dispatch.run_action(ctx, MOD, f"cop:{undo.action}:{undo.target}")
    assert undone.text.startswith("Undone: 2.4 #"), undone.text
    assert "2.4 #1" in await shown(ctx, MOD, "/pending")

    rejected = await decide_link(ctx, MOD, 1, False, "not about acronyms")
    assert [b.label for b in rejected.buttons] == ["Undo"]


async def test_an_undone_post_says_it_is_pending_again_and_how_to_react_again(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """Mod approved with ✅, Mo2 undid it. The post read exactly as a new submission, Mod's ✅
    still under it: others took it for approved, and Mod's next ✅ did nothing (a reaction that
    is still there is not sent again). Now it says it is pending again after an undo, and that
    an earlier reaction must be removed before reacting again."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    fresh = outbound.sent[0].reply.text
    assert "undone" not in fresh
    await decide_by_reaction(moderated, MOD, "1", "✅")
    await dispatch.run_action(moderated, MOD2, "cop:undo:1")
    undone = [s for s in outbound.sent if s.kind == "edit"][-1].reply
    assert [b.label for b in undone.buttons] == ["Approve", "Reject with reason"]
    assert "pending again: its decision was undone" in undone.text, undone.text
    assert "remove your earlier ✅ or ❌ first" in undone.text


async def test_work_rejected_before_says_so_on_its_new_post(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """Mod rejected Ann's link; Bob submits the same work again (another spelling). Its new post
    read as if nobody had looked at it, so a moderator could approve what another had just
    rejected without knowing; now it says when, by whom and why it was rejected before."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    await decide_link(moderated, MOD, 1, False, "not about acronyms")
    reply = await say(moderated, person("bob"), "/submit 2.4 http://www.example.org/acronyms/ again")
    assert "went to the moderators" in reply.text, reply.text
    post = [s for s in outbound.sent if s.kind == "channel"][-1].reply
    earlier = {section.title: section.lines for section in post.sections}.get("Rejected before")
    assert earlier == ("2026-11-25 by Mod: not about acronyms",), post.sections
    first = outbound.sent[0].reply
    assert "Rejected before" not in [section.title for section in first.sections]


async def test_a_github_repository_rejected_before_in_other_case_says_so_on_its_new_post(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """Mod rejected Ann's https://github.com/Owner/Repo; Bob's github.com/owner/repo.git was
    other work to copbot, its post silent about the rejection. Now its post says it was rejected
    before, and shows the link as Bob typed it."""
    await with_channel(moderated)
    await say(moderated, ANN, "/submit 2.4 https://github.com/Owner/Repo")
    await decide_link(moderated, MOD, 1, False, "not about acronyms")
    reply = await say(moderated, person("bob"), "/submit 2.4 https://github.com/owner/repo.git")
    assert "went to the moderators" in reply.text, reply.text
    post = [s for s in outbound.sent if s.kind == "channel"][-1].reply
    sections = {section.title: section.lines for section in post.sections}
    assert sections.get("Rejected before") == ("2026-11-25 by Mod: not about acronyms",), post.sections
    shown_as = "https://github.com/owner/repo.git"
    assert sections["Link"] == (Link(shown_as, shown_as),)


async def test_a_reaction_against_the_decision_made_is_answered(moderated: Context) -> None:
    """Mod approved with ✅; Mo2 reacts ❌, taking it for a rejection: nothing changes, and before
    nothing said so (Mo2's ❌ sat under an approved post). Mo2 is now told, alone, that it is
    already approved by Mod and how to change that (Undo). A ✅ agreeing with it stays quiet."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    await decide_by_reaction(moderated, MOD, "1", "✅")

    answer = await decide_by_reaction(moderated, MOD2, "1", "❌")
    assert answer is not None and answer.error and answer.mention == "mo2"
    assert answer.text == (
        "2.4 #1 is already approved by Mod: your ❌ changed nothing. To change the decision, "
        "press Undo on the post, then decide again."
    )
    assert await decide_by_reaction(moderated, MOD2, "1", "✅") is None
    link = await submissions.get_link(moderated.store, 1)
    assert link is not None and link.status == "approved"


async def test_a_stale_undo_does_not_undo_a_newer_decision(ctx: Context) -> None:
    """Mod approves from /pending and gets an Undo; Mo2 undoes that approval and rejects the link.
    Before, Mod's late press on the old Undo undid Mo2's rejection (a decision it was never shown
    for). Now the old Undo says it was for an earlier decision and changes nothing; the Undo
    under the rejection still works."""
    await say(ctx, ANN, SUBMIT)
    approved = await decide_link(ctx, MOD, 1, True)
    [old_undo] = approved.buttons
    assert not (await dispatch.run_action(ctx, MOD2, f"cop:undo:{old_undo.target}")).error
    rejected = await decide_link(ctx, MOD2, 1, False, "not about acronyms")
    late = await dispatch.run_action(ctx, MOD, f"cop:undo:{old_undo.target}")
    assert late.error and late.text == (
        "This Undo was for an earlier decision; since then it was rejected by Mo2. "
        "Nothing changed: use the Undo under that decision to take it back."
    ), late.text
    link = await submissions.get_link(ctx.store, 1)
    assert link is not None and link.status == "rejected" and link.reason == "not about acronyms"
    [new_undo] = rejected.buttons
    undone = await dispatch.run_action(ctx, MOD, f"cop:undo:{new_undo.target}")
    assert undone.text.startswith("Undone: 2.4 #"), undone.text


async def test_an_undo_of_a_decision_ann_never_heard_of_tells_her_nothing(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """Mod approves while the DM to Ann is refused (an outage: it waits for the next sweep), and
    undoes it before that sweep. Before, the sweep told Ann "the decision … was undone" about a
    decision she was never told of; now she is told nothing (the undelivered approval notice is
    dropped too), and her link is simply pending again."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    outbound.refuse.update({"ann": 1})
    await dispatch.run_action(moderated, MOD, "cop:approve:1")
    assert [s.target for s in outbound.sent if s.kind == "dm"] == []
    await dispatch.run_action(moderated, MOD, "cop:undo:1.1")

    await sweep(moderated)
    await sweep(moderated)
    assert [s.reply.text for s in outbound.sent if s.kind == "dm"] == []

    # A decision Ann was told of is still followed by its undo's notice.
    await dispatch.run_action(moderated, MOD, "cop:reject:1")
    await dispatch.run_action(moderated, MOD, "cop:undo:1.3")
    await sweep(moderated)
    told = [s.reply.text for s in outbound.sent if s.kind == "dm"]
    assert len(told) == 2 and told[0].endswith("was not accepted.") and "was undone" in told[1], told


async def test_an_undo_made_before_undo_named_its_decision_never_takes_back_a_later_one(ctx: Context) -> None:
    """An Undo made before Undo named its decision (``cop:undo:1``, the submission alone): on a
    submission never undone it takes back the one decision there is. Once it was undone and
    decided again, it cannot tell which decision it was shown for: before, it undid whatever
    was current (here Mo2's rejection, under Mod's old answer to his approval); now it changes
    nothing, says what the decision is now, and offers that decision's own Undo."""
    await say(ctx, ANN, SUBMIT)
    await decide_link(ctx, MOD, 1, True)
    first = await dispatch.run_action(ctx, MOD, "cop:undo:1")
    assert first.text.startswith("Undone: 2.4 #"), first.text
    await decide_link(ctx, MOD, 1, True)
    undone = await dispatch.run_action(ctx, MOD2, "cop:undo:1.3")
    assert undone.text.startswith("Undone: 2.4 #"), undone.text
    await decide_link(ctx, MOD2, 1, False, "not about acronyms")

    late = await dispatch.run_action(ctx, MOD, "cop:undo:1")
    assert late.error and late.text == (
        "This Undo is older than the decision on 2.4 #1: it was undone and decided again since, "
        "and is now rejected by Mo2. Nothing changed: to undo that decision, press Undo below."
    ), late.text
    link = await submissions.get_link(ctx.store, 1)
    assert link is not None and link.status == "rejected" and link.reason == "not about acronyms"
    [offered] = late.buttons
    again = await dispatch.run_action(ctx, MOD, offered.custom_id)
    assert again.text.startswith("Undone: 2.4 #"), again.text
    link = await submissions.get_link(ctx.store, 1)
    assert link is not None and link.status == "pending"


async def test_an_old_undo_takes_back_the_decision_on_a_link_whose_submitter_was_renamed(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """Ann's link waits, posted; she takes the name Annie (a rename edits the post, moving its
    revision), then Mod approves. An Undo made before Undo named its decision took that for
    "undone and decided again since" and refused; the link was never undone, so it undoes the
    one decision there is."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    await say(moderated, replace(ANN, display_name="Annie"), "/random")
    await decide_link(moderated, MOD, 1, True)
    link = await submissions.get_link(moderated.store, 1)
    assert link is not None and link.display_name == "Annie" and link.revision == 2

    undone = await dispatch.run_action(moderated, MOD, "cop:undo:1")

    assert not undone.error and undone.text.startswith("Undone: 2.4 #1"), undone.text
    link = await submissions.get_link(moderated.store, 1)
    assert link is not None and link.status == "pending"


BOB = person("bob")


async def test_a_submitter_withdraws_their_waiting_link(moderated: Context, outbound: MemoryOutbound) -> None:
    """Ann takes her link back before any decision: she is told, the moderator post says so and
    offers nothing to decide, nobody gets a DM, /pending is empty, /history says it, and the
    same link may be submitted again."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    reply = await say(moderated, ANN, "/withdraw 2.4")
    assert not reply.error and reply.private
    assert reply.text.startswith("Withdrawn: your link for 2.4 (https://example.org/acronyms).")
    edit = next(s for s in outbound.sent if s.kind == "edit")
    assert edit.reply.text == "Withdrawn by Ann, who submitted it: nothing to decide."
    assert edit.reply.buttons == ()
    assert not [s for s in outbound.sent if s.kind == "dm"]
    assert (await say(moderated, MOD, "/pending")).text == "Nothing is waiting for a decision."
    assert "Ann withdrew https://example.org/acronyms" in await shown(moderated, ANN, "/history 2.4")
    again = await say(moderated, ANN, SUBMIT)
    assert "went to the moderators" in again.text, again.text


async def test_only_the_submitter_withdraws(moderated: Context) -> None:
    """Bob, and a moderator, cannot withdraw Ann's link (they have none of their own there): it
    stays pending. The storage guard refuses another person's withdrawal too."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    for other in (BOB, MOD):
        reply = await say(moderated, other, "/withdraw 2.4")
        assert reply.error
        assert reply.text == "You have submitted nothing for 2.4 here, so there is nothing to withdraw."
    assert await submissions.withdraw(moderated.store, 1, BOB.person, moderated.clock()) is None
    link = await submissions.get_link(moderated.store, 1)
    assert link is not None and link.status == "pending"


async def test_a_decided_link_is_too_late_to_withdraw(moderated: Context) -> None:
    """Once a moderator approved it, /withdraw says by whom and changes nothing; a second
    /withdraw of a withdrawn link says it is withdrawn already."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    await decide_by_reaction(moderated, MOD, "1", "✅")
    late = await say(moderated, ANN, "/withdraw 2.4")
    assert late.error and late.text.startswith("Too late: your link for 2.4 was approved by Mod (")
    assert "Undo" in late.text
    assert "https://example.org/acronyms" in await shown(moderated, ANN, "/problem 2.4")

    await say(moderated, ANN, "/submit 2.4 https://example.org/other")
    assert not (await say(moderated, ANN, "/withdraw 2.4 https://example.org/other")).error
    double = await say(moderated, ANN, "/withdraw 2.4 https://example.org/other")
    assert double.error and double.text.startswith("You withdrew your link for 2.4 already (")


async def test_moderators_acting_on_a_withdrawn_submission_are_told_nothing_is_left(
    moderated: Context,
) -> None:
    """A ✅ under the post, Approve and Undo on it after Ann withdrew: each says she withdrew it,
    and it stays withdrawn (nothing listed, nothing pending)."""
    await with_channel(moderated)
    await say(moderated, ANN, SUBMIT)
    await say(moderated, ANN, "/withdraw 2.4")
    answer = await decide_by_reaction(moderated, MOD, "1", "✅")
    assert answer is not None and answer.error and answer.mention == "mod"
    assert answer.text == (
        "Ann withdrew 2.4 #1, which they submitted: your ✅ changed nothing, and there is nothing to decide."
    )
    approve = await dispatch.run_action(moderated, MOD, "cop:approve:1")
    assert approve.error and approve.text == "Already withdrawn by Ann, who submitted it: nothing to decide."
    undo = await dispatch.run_action(moderated, MOD, "cop:undo:1.1")
    assert undo.error and undo.text == "Ann withdrew 2.4 #1, which they submitted: nothing to undo."
    link = await submissions.get_link(moderated.store, 1)
    assert link is not None and link.status == "withdrawn"
    assert "example.org/acronyms" not in await shown(moderated, ANN, "/problem 2.4")


async def test_withdraw_asks_which_when_several_wait(moderated: Context) -> None:
    """Two of Ann's links wait for 2.4: /withdraw 2.4 names both and asks which; the link named
    (with a tracking parameter it was stored without) is withdrawn, the other stays; a link she
    never submitted, or text that is no link, is answered with those that wait."""
    await say(moderated, ANN, "/submit 2.4 https://example.org/one")
    await say(moderated, ANN, "/submit 2.4 https://example.org/two")
    which = await say(moderated, ANN, "/withdraw 2.4")
    assert which.error and which.text.startswith("2 of your links for 2.4 wait for the moderators.")
    assert which.sections[0].lines == ("#2: https://example.org/two", "#1: https://example.org/one")
    assert [(b.label, b.custom_id) for b in which.buttons] == [
        ("Withdraw 2.4 #2", "cop:withdraw:2"),
        ("Withdraw 2.4 #1", "cop:withdraw:1"),
    ]
    unknown = await say(moderated, ANN, "/withdraw 2.4 https://example.org/three")
    assert unknown.error and unknown.text == (
        "You submitted no such link for 2.4. Yours waiting for the moderators: "
        "https://example.org/two; https://example.org/one"
    )
    done = await say(moderated, ANN, "/withdraw 2.4 https://example.org/one?utm_source=x")
    assert not done.error and "(https://example.org/one)" in done.text
    waiting = await submissions.pending(moderated.store, "discord", "guild1")
    assert [link.url for link in waiting] == ["https://example.org/two"]
    # Not told how to /submit a link, as /submit answers it, but which of hers wait.
    junk = await say(moderated, ANN, "/withdraw 2.4 notalink")
    assert (
        junk.text
        == "You submitted no such link for 2.4. Yours waiting for the moderators: https://example.org/two"
    )
    assert junk.error and [
        link.url for link in await submissions.pending(moderated.store, "discord", "guild1")
    ] == ["https://example.org/two"]


async def test_a_decision_between_withdraw_s_read_and_its_write_wins(moderated: Context, db_url: str) -> None:
    """Ann's /withdraw found her link waiting, but a moderator (on another replica) approved it
    before its write: the withdrawal writes nothing and tells her it is too late, by whom; the
    approval stands. (PostgreSQL's row lock holds /withdraw between its read and its write.)"""
    if not db_url.startswith("postgresql"):
        pytest.skip("holds /withdraw mid-way with a PostgreSQL row lock")
    await say(moderated, ANN, SUBMIT)
    store = moderated.store
    holder = await lock_rows(store, WorkLink, [1])
    try:
        withdrawing = asyncio.create_task(say(moderated, ANN, "/withdraw 2.4"))
        await lock_waiters(store, "work_link", at_least=1, timeout=10)
        approved = sa.text(
            "UPDATE work_link SET status = 'approved', decided_by_name = 'Mo2', revision = revision + 1"
            " WHERE id = 1"
        )
        await holder.execute(approved)
        await holder.commit()
    finally:
        await holder.close()
    answer = await withdrawing

    assert answer.error
    assert (
        answer.text
        == "Too late: a moderator decided your link for 2.4 meanwhile (approved by Mo2); nothing changed."
    )
    link = await submissions.get_link(store, 1)
    assert link is not None and link.status == "approved"
    assert "withdrew" not in await shown(moderated, ANN, "/history 2.4")


async def test_withdraw_s_buttons_withdraw_one_link_for_its_submitter_alone(
    moderated: Context, outbound: MemoryOutbound
) -> None:
    """Under /withdraw's question, Ann presses Withdraw 2.4 #2: that link is withdrawn and its
    button spent, #1 stays waiting. Bob pressing #1's button (a button id names any link) is
    refused and changes nothing; Ann pressing #2's again is told it is withdrawn already; after
    a moderator rejected #1, her press is too late, saying by whom."""
    await with_channel(moderated)
    await say(moderated, ANN, "/submit 2.4 https://example.org/one")
    await say(moderated, ANN, "/submit 2.4 https://example.org/two")
    done = await dispatch.run_action(moderated, ANN, "cop:withdraw:2")
    assert not done.error and done.text.startswith("Withdrawn: your link for 2.4 (https://example.org/two).")
    assert done.spent == ("cop:withdraw:2",) and done.relist is not None
    assert done.relist.text.startswith("1 of your links for 2.4 waits for the moderators.")
    assert [b.custom_id for b in done.relist.buttons] == ["cop:withdraw:1"]
    waiting = await submissions.pending(moderated.store, "discord", "guild1")
    assert [link.url for link in waiting] == ["https://example.org/one"]

    refused = await dispatch.run_action(moderated, BOB, "cop:withdraw:1")
    assert refused.error and refused.text == "Only its submitter can withdraw a link."
    again = await dispatch.run_action(moderated, ANN, "cop:withdraw:2")
    assert again.error and again.text.startswith("You withdrew your link for 2.4 already")
    await decide_link(moderated, MOD, 1, False, "off topic")
    late = await dispatch.run_action(moderated, ANN, "cop:withdraw:1")
    assert late.error and late.text == (
        "Too late: a moderator decided your link for 2.4 meanwhile (rejected by Mod); nothing changed."
    )
    assert late.relist is not None and late.relist.buttons == ()
    assert late.relist.text == "None of your links for 2.4 waits for the moderators now."
    link = await submissions.get_link(moderated.store, 1)
    assert link is not None and link.status == "rejected"


async def test_a_name_with_braces_is_shown_as_typed_when_a_withdrawn_submission_is_undone(
    moderated: Context,
) -> None:
    """A submitter named "Ann {0} {who}" withdraws; a moderator's Undo pressed on an older copy of
    the post names her as typed (her name is never read as a template)."""
    braces = Actor("discord", "guild1", "ann", "Ann {0} {who}", False, False)
    await with_channel(moderated)
    await say(moderated, braces, SUBMIT)
    assert not (await say(moderated, braces, "/withdraw 2.4")).error
    undo = await dispatch.run_action(moderated, MOD, "cop:undo:1.1")
    assert undo.error and undo.text == "Ann {0} {who} withdrew 2.4 #1, which they submitted: nothing to undo."


async def test_withdraw_alone_lists_all_of_ones_waiting_links_with_their_buttons(moderated: Context) -> None:
    """/withdraw without a number lists Ann's waiting links here, oldest first, each with its
    problem and a Withdraw button (Bob's and her decided one left out); a press withdraws that
    one and the list, as it now is, loses it; with none left it says so."""
    await say(moderated, ANN, "/submit 2.4 https://example.org/one")
    await say(moderated, ANN, "/submit 1.1 https://example.org/two")
    await say(moderated, ANN, "/submit 3.1 https://example.org/three")
    await say(moderated, BOB, "/submit 2.4 https://example.org/bobs")
    await decide_link(moderated, MOD, 3, True)

    listed = await say(moderated, ANN, "/withdraw")
    assert not listed.error and listed.text.startswith("Your links waiting for the moderators here: 2.")
    assert listed.sections[0].lines == ("2.4 #1: https://example.org/one", "1.1 #2: https://example.org/two")
    assert [b.custom_id for b in listed.buttons] == ["cop:withdraw:1.all", "cop:withdraw:2.all"]

    done = await dispatch.run_action(moderated, ANN, "cop:withdraw:2.all")
    assert done.text.startswith("Withdrawn: your link for 1.1 (https://example.org/two).")
    assert done.spent == ("cop:withdraw:2.all",) and done.relist is not None
    assert [b.custom_id for b in done.relist.buttons] == ["cop:withdraw:1.all"]
    await dispatch.run_action(moderated, ANN, "cop:withdraw:1.all")
    assert (
        await say(moderated, ANN, "/withdraw")
    ).text == "None of your links waits for the moderators here."
    refused = await say(moderated, ANN, "/withdraw https://example.org/one")
    assert refused.error and "Give the problem number too" in refused.text


async def test_withdraw_alone_lists_twenty_and_counts_the_rest(moderated: Context, clock: FakeClock) -> None:
    """Ann has 22 links waiting (over three hours, within the hourly limit): /withdraw lists the
    oldest 20 and counts the other 2, with five buttons."""
    for i in range(22):
        if i and i % 10 == 0:
            clock.advance(hours=1)
        sent = await say(moderated, ANN, f"/submit 2.4 https://example.org/{i}")
        assert not sent.error, sent.text
    listed = await say(moderated, ANN, "/withdraw")
    (waiting,) = listed.sections
    assert len(waiting.lines) == 20 and waiting.more == 2 and len(listed.buttons) == 5
    assert waiting.lines[0] == "2.4 #1: https://example.org/0"
