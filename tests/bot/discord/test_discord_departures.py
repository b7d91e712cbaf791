"""copbot removed from a Discord server: its claims stop being reminded there and expire, its
pending submissions close, so other servers can take the same work; added again, it is served.

Through the real client and the fake Discord's GUILD_DELETE / GUILD_CREATE, with moderation and
the sweep wired as ``copbot run`` wires them, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from commands.types import Context
from storage import departures, submissions
from storage.models import ClaimState, LinkStatus
from tests.bot.discord.discord_rig import Moderated, alice_holds_work, ask, embed, moderated, text_of
from tests.fakes.discord_api import FakeDiscord
from tests.support.clock import FakeClock
from tests.support.discord_guilds import OtherGuild, guild_id_on_shard

LINK = "https://example.org/acronyms"


@pytest.fixture
def other(fake: FakeDiscord) -> OtherGuild:
    """Another server copbot is in (made before copbot connects, so READY lists it)."""
    return OtherGuild(fake, guild_id_on_shard(0, 1), fake.general_id)


@pytest.fixture
async def rig(fake: FakeDiscord, other: OtherGuild, ctx: Context, db_url: str) -> AsyncIterator[Moderated]:
    """Global commands (so another server can use them); moderator and reminder channels set;
    Alice holds 3.11 and has submitted a link for 2.4, posted for the moderators."""
    async with moderated(fake, ctx, db_url, discord_guild_id=None) as rig:
        await alice_holds_work(fake, LINK)
        yield rig


async def guild_delete(fake: FakeDiscord, *, unavailable: bool) -> None:
    """Discord's GUILD_DELETE for the fake's server: a removal, or an outage when ``unavailable``."""
    data = {"id": str(fake.guild_id), "unavailable": unavailable}
    await fake.dispatch("GUILD_DELETE", data, guild_id=fake.guild_id)


async def settings_left(rig: Moderated) -> bool:
    row = await rig.bot.ctx.store.get_settings("discord", str(rig.fake.guild_id))
    return row is not None and row.left_at is not None


async def until(rig: Moderated, done: Callable[[], Awaitable[bool]], what: str, within: float = 20.0) -> None:
    """Let the client handle what the gateway sent until ``done()`` (else fail, naming ``what``).

    One barrier (the client has read the events), then ``done`` is looked at every 20 ms. A
    barrier per look made discord.py answer a heartbeat request each time, and on a loaded machine
    (the handler's writes slow on PostgreSQL) the looks used up its gateway rate limit (110 sends a
    minute): it then waited 59 s before its next send, and the barrier's 5 s ran out.
    """
    await rig.fake.sync()
    deadline = time.monotonic() + within
    while not await done():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {within:g} s")
        await asyncio.sleep(0.02)


async def until_left(rig: Moderated, left: bool) -> None:
    """Until the server is recorded as gone (or not)."""

    async def recorded() -> bool:
        return await settings_left(rig) == left

    await until(rig, recorded, f"the server was never recorded as {'gone' if left else 'back'}")


async def removed(rig: Moderated) -> None:
    """The server kicks copbot: GUILD_DELETE (not an outage), then Discord refuses it everything
    there (no access to its channels, no DMs to its members)."""
    fake = rig.fake
    await guild_delete(fake, unavailable=False)
    await until_left(rig, True)
    fake.members.pop(fake.bot_user_id)
    fake.close_dms(fake.alice_id)


async def test_a_removed_servers_claims_expire_and_its_submissions_free_the_work(
    rig: Moderated, other: OtherGuild, clock: FakeClock
) -> None:
    """Without the fix, the claim was stale and "retry" forever (the reminder channel refused
    with 403 Missing Access) and another server's /submit of the same link was refused as
    "already submitted … in another Discord server"."""
    fake = rig.fake
    store = rig.bot.ctx.store
    await removed(rig)
    requests_before = len(fake.requests)

    for _ in range(12):
        clock.advance(days=7)
        await rig.sweeper.run_once()

    (claim,) = [c for c in await store.claims_for_problem("3.11") if c.user_id == str(fake.alice_id)]
    assert claim.state == ClaimState.EXPIRED and claim.delivery == "unreachable"
    # Nothing was tried in the server copbot left: no DM, no post in its reminder channel.
    assert fake.requests[requests_before:] == []
    history = [(e.kind, e.detail) for e in await store.history("3.11")]
    assert ("unreachable", "copbot was removed from the community") in history

    answer = await fake.wait_for_callback(
        await other.slash("submit", {"number": "2.4", "link": LINK}, user_id=fake.bob_id)
    )
    said = embed(answer)["description"]
    assert "already submitted" not in said and "Your link for 2.4" in said, said
    timeline = text_of((await ask(fake, "history", {"number": "2.4"}, user_id=fake.bob_id)).data or {})
    assert f"copbot rejected {LINK} (the community removed copbot)" in timeline
    card = await fake.wait_for_callback(await other.slash("problem", {"number": "3.11"}, user_id=fake.bob_id))
    (line,) = [line for line in text_of(card.data or {}).splitlines() if "Alice" in line]
    assert line.endswith(", expired"), line


async def test_the_submissions_close_at_once_and_an_outage_is_not_a_removal(rig: Moderated) -> None:
    """A server that is only unavailable (an outage: GUILD_DELETE with unavailable true) keeps
    everything; a removal closes its pending submission at once, nobody told (nobody can be)."""
    fake = rig.fake
    store = rig.bot.ctx.store
    await guild_delete(fake, unavailable=True)
    await fake.sync()
    await rig.sweeper.run_once()
    assert not await settings_left(rig)
    link = await submissions.get_link(store, 1)
    assert link is not None and link.status == LinkStatus.PENDING

    await fake.dispatch("GUILD_CREATE", fake.guild_create_payload(), guild_id=fake.guild_id)
    await fake.sync()
    await removed(rig)
    # The removal is recorded, then its submissions closed: let the client finish the second step.

    async def closed() -> bool:
        link = await submissions.get_link(store, 1)
        return link is None or link.status != LinkStatus.PENDING

    await until(rig, closed, "the pending submission was never closed")
    link = await submissions.get_link(store, 1)
    assert link is not None and link.status == LinkStatus.REJECTED
    assert link.reason == "the community removed copbot" and fake.dms[fake.alice_id] == []


async def test_added_again_the_server_is_served_again(rig: Moderated, clock: FakeClock) -> None:
    """Re-invited (GUILD_CREATE of a server the client does not hold: on_guild_join), its
    claimants are reminded by DM again."""
    fake = rig.fake
    await guild_delete(fake, unavailable=False)
    await until_left(rig, True)

    await fake.dispatch("GUILD_CREATE", fake.guild_create_payload(), guild_id=fake.guild_id)
    await until_left(rig, False)
    clock.advance(days=31)
    report = await rig.sweeper.run_once()

    assert report.delivered == {"dm": 1}
    (dm,) = fake.dms[fake.alice_id]
    assert dm["embeds"][0]["title"] == "Still working on 3.11?"


async def test_a_removal_another_process_recorded_closes_the_submissions_at_the_next_sweep(
    rig: Moderated, clock: FakeClock
) -> None:
    """The server's shard is another replica's: it recorded the removal; this one's sweep closes
    the pending submission rather than posting or editing anything there."""
    store = rig.bot.ctx.store
    requests_before = len(rig.fake.requests)
    await departures.mark_left(store, "discord", str(rig.fake.guild_id), clock())

    await rig.sweeper.run_once()

    link = await submissions.get_link(store, 1)
    assert link is not None and link.status == LinkStatus.REJECTED
    assert rig.fake.requests[requests_before:] == []


async def test_a_decision_whose_edit_failed_is_shown_on_its_post_once_copbot_is_added_again(
    rig: Moderated, clock: FakeClock
) -> None:
    """Bob approves Alice's link; Discord fails the edit of its post (503), then the server kicks
    copbot. The sweeps meanwhile ask Discord nothing there (Discord refuses copbot the server's
    channels: editing the post there was refused at every sweep); invited again, the next sweep
    shows the approval on the post (before, the refused edit was written off once and the post
    offered Approve and Reject for good)."""
    fake = rig.fake
    fake.fail("PATCH", "/channels/*/messages/*", status=503, times=1)
    post = await approved_by_bob(rig)
    assert "New existing work for 2.4" in text_of(fake.message(int(post["id"])))

    await removed_for_hours(rig, clock)
    await added_again(rig)
    await rig.sweeper.run_once()
    assert text_of(fake.message(int(post["id"]))).startswith("Submission for 2.4\nApproved by Bob.")


async def test_a_decision_notice_not_sent_before_a_server_removed_copbot_waits_until_it_is_back(
    rig: Moderated, clock: FakeClock
) -> None:
    """Bob approves Alice's link while Discord will not open her DM (rate limited past
    discord.py's retries: certainly not sent, so it is due again), then the server kicks copbot.
    Before, each sweep tried again: her DM (refused: she shares no server with copbot), a look-up
    of her membership and a post in the reminder channel (403 Missing Access), forever. Now
    nothing is asked of Discord for that server; invited again, the next sweep tells her, once."""
    fake = rig.fake
    fake.rate_limit("POST", "/users/@me/channels", times=5, retry_after=0.01)
    await approved_by_bob(rig)
    assert fake.dms[fake.alice_id] == []

    await removed_for_hours(rig, clock)
    fake.open_dms(fake.alice_id)
    await added_again(rig)
    await rig.sweeper.run_once()
    await rig.sweeper.run_once()
    (dm,) = fake.dms[fake.alice_id]
    assert "was approved" in text_of(dm), text_of(dm)


async def approved_by_bob(rig: Moderated) -> dict[str, Any]:
    """Bob's ✅ under Alice's moderator post (once copbot's own two are there) approves it; the post."""
    fake = rig.fake
    (post,) = fake.messages[fake.channel_id("mods")]
    await fake.wait_until(lambda: len(fake.reactions[int(post["id"])]) == 2, description="copbot's ✅ ❌")
    handled = rig.bot.reactions_handled
    await fake.react(int(post["channel_id"]), int(post["id"]), "✅", fake.bob_id)
    await rig.settle(handled + 1)
    link = await submissions.get_link(rig.bot.ctx.store, 1)
    assert link is not None and link.status == LinkStatus.APPROVED
    return post


async def removed_for_hours(rig: Moderated, clock: FakeClock) -> None:
    """The server kicks copbot; three hourly sweeps follow, which ask Discord nothing there."""
    await removed(rig)
    requests_before = len(rig.fake.requests)
    for _ in range(3):
        clock.advance(hours=1)
        await rig.sweeper.run_once()
    assert rig.fake.requests[requests_before:] == []


async def added_again(rig: Moderated) -> None:
    """The server invites copbot again (its member, and GUILD_CREATE)."""
    fake = rig.fake
    fake._add_member_entry(fake.bot_user_id, [fake.bot_role_id])
    await fake.dispatch("GUILD_CREATE", fake.guild_create_payload(), guild_id=fake.guild_id)
    await until_left(rig, False)


async def test_a_submission_closed_while_copbot_was_out_of_a_server_shows_so_once_it_is_back(
    rig: Moderated, clock: FakeClock
) -> None:
    """The server kicks copbot while Alice's link waits: it is closed (rejected by copbot), and
    its post, out of copbot's reach, is left alone. Invited again, the next sweep shows on the
    post why it was closed, with an Undo; before, the post kept offering Approve and Reject for
    good, and Bob's Approve there answered 'Already rejected by copbot'."""
    fake = rig.fake
    (post,) = fake.messages[fake.channel_id("mods")]
    await removed_for_hours(rig, clock)
    link = await submissions.get_link(rig.bot.ctx.store, 1)
    assert link is not None and link.status == LinkStatus.REJECTED

    await added_again(rig)
    await rig.sweeper.run_once()

    shown = fake.message(int(post["id"]))
    assert "Rejected by copbot: the community removed copbot" in text_of(shown), text_of(shown)
    assert [item["label"] for row in shown["components"] for item in row["components"]] == ["Undo"]
