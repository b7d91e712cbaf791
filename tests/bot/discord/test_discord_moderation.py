"""Submissions on Discord: posted to the /setup moderator channel, decided by reaction, button or form.

Moderation is wired into the context exactly as ``copbot run`` wires it (``make_moderation``),
through the real discord.py client and the fake Discord, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import copy
import csv
import io
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.ops import Metrics, OpsServer
from commands.types import Context
from storage import submissions
from storage.catalogue import export_csv
from storage.engine import make_engine
from storage.models import LinkStatus
from storage.store import Store
from tests.bot.discord.discord_rig import (
    Moderated,
    ask,
    buttons,
    embed,
    literal,
    markdown,
    moderated,
    text_of,
)
from tests.fakes.discord_api import Callback, FakeDiscord
from tests.support.clock import FakeClock
from tests.support.discord_guilds import OtherGuild, guild_id_on_shard
from tests.support.metrics import counted, scrape

LINK = "https://example.org/acronyms"
NOTE = "IOI-style circuit for acronyms"
MODAL = 9


def add_people(fake: FakeDiscord) -> None:
    """A moderator channel, a reminder channel, and Carol, a moderator by the /setup role only
    (Bob is one by the Manage Messages permission of the fake's Moderator role)."""
    fake.add_channel("mods")
    fake.add_channel("reminders")
    reviewers = fake.add_role("Reviewers")
    fake.add_member("carol", roles=[reviewers])


async def configure(fake: FakeDiscord, **options: Any) -> None:
    """The owner runs ``/setup set`` (by default: moderator channel, role and reminder channel)."""
    values = options or {
        "moderator_channel": fake.channel_id("mods"),
        "moderator_role": fake.role_id("Reviewers"),
        "reminder_channel": fake.channel_id("reminders"),
    }
    saved = await ask(fake, "setup set", values, user_id=fake.owner_id)
    assert embed(saved)["description"] == "Settings saved.", embed(saved)


@pytest.fixture
async def rig(fake: FakeDiscord, ctx: Context, db_url: str) -> AsyncIterator[Moderated]:
    """copbot with moderation, after an admin's /setup."""
    add_people(fake)
    async with moderated(fake, ctx, db_url) as rig:
        await configure(fake)
        yield rig


def mods(fake: FakeDiscord) -> list[dict[str, Any]]:
    """The messages in the moderator channel."""
    return fake.messages[fake.channel_id("mods")]


async def submit(rig: Moderated, link: str = LINK, note: str = NOTE) -> dict[str, Any]:
    """Alice's ``/submit 2.4``; the moderators' post, once the bot has seen its own two reactions."""
    before, handled = len(mods(rig.fake)), rig.bot.reactions_handled
    answer = await ask(rig.fake, "submit", {"number": "2.4", "link": link, "note": note})
    assert answer.ephemeral and "went to the moderators" in embed(answer)["description"], embed(answer)
    assert len(mods(rig.fake)) == before + 1
    await rig.settle(handled + 2)
    return mods(rig.fake)[-1]


async def click(fake: FakeDiscord, message: dict[str, Any], label: str, user_id: int) -> Callback:
    """Press the button labelled ``label`` on the current version of ``message``."""
    current = fake.message(int(message["id"]))
    iid = await fake.click(current, dict(buttons(current))[label], user_id=user_id)
    return await fake.wait_for_callback(iid)


async def status(ctx: Context, link_id: int = 1) -> str:
    link = await submissions.get_link(ctx.store, link_id)
    assert link is not None
    return link.status


def edits(fake: FakeDiscord) -> list[str]:
    """The ids of the messages the bot edited through the REST API."""
    return [r.params["message_id"] for r in fake.requests if (r.route or "").startswith("PATCH /channels/")]


def description(fake: FakeDiscord, message: dict[str, Any]) -> str:
    return str(fake.message(int(message["id"]))["embeds"][0]["description"])


async def test_submit_posts_to_the_moderator_channel_with_the_bots_two_reactions(rig: Moderated) -> None:
    """Problem number and title, link, note and sender; ✅ ❌ under it, which decide nothing."""
    fake = rig.fake
    post = await submit(rig)

    shown = post["embeds"][0]
    assert shown["title"] == "Submission for 2.4"
    fields = {f["name"]: f["value"] for f in shown["fields"]}
    assert fields["Problem"].startswith("2.4 — 3 letter acronyms")
    assert fields["From"] == "Alice"
    assert fields["Link"] == f"• {LINK}"  # bare: Discord shows [{LINK}]({LINK}) as typed
    assert NOTE in fields["Note"]
    assert buttons(post) == [("Approve", "cop:approve:1"), ("Reject with reason", "cop:reject:1")]
    assert fake.reactions[int(post["id"])] == [("✅", fake.bot_user_id), ("❌", fake.bot_user_id)]
    link = await submissions.get_link(rig.bot.ctx.store, 1)
    assert link is not None and link.mod_message_id == post["id"]
    assert link.mod_url == f"https://discord.com/channels/{fake.guild_id}/{post['channel_id']}/{post['id']}"
    # The bot's own reactions were seen and changed nothing.
    assert await status(rig.bot.ctx) == LinkStatus.PENDING and edits(fake) == []

    # /pending: the problem's number links to the post; the submitted link shows as itself (a
    # label holding an address, "[2.4: https://… from Alice](post)", Discord shows as typed).
    pending = await ask(fake, "pending", user_id=fake.user_id("carol"))
    (line,) = embed(pending)["fields"][0]["value"].splitlines()
    assert line.startswith(f"• [2.4 #{link.id}]({link.mod_url}): {LINK} from Alice, "), line
    shown = markdown(line)
    assert shown.links == [(f"2.4 #{link.id}", link.mod_url)] and shown.bare == [LINK] and shown.live == []


async def test_a_moderator_channel_denying_embed_links_gets_the_post_as_text_with_its_buttons(
    rig: Moderated,
) -> None:
    """Discord would drop the embed, leaving two buttons that say nothing: the post is the
    message's text instead (problem, sender, link, note), with its buttons; so is its edit."""
    fake = rig.fake
    deny = {"id": fake.bot_role_id, "type": 0, "deny": ["embed_links"]}
    await fake.set_overwrites(fake.channel_id("mods"), [deny])
    await fake.sync()
    post = await submit(rig)

    assert post["embeds"] == []
    said = post["content"]
    assert said.startswith("**Submission for 2.4**\n"), said
    assert "**Problem**: 2.4 — 3 letter acronyms" in said and "**From**: Alice" in said
    assert f"• {LINK}\n" in said and NOTE in said and len(said) <= 2000
    assert buttons(post) == [("Approve", "cop:approve:1"), ("Reject with reason", "cop:reject:1")]

    await click(fake, post, "Approve", fake.bob_id)
    decided = fake.message(int(post["id"]))
    assert decided["embeds"] == [] and "Approved by Bob" in decided["content"], decided["content"]
    assert [label for label, _ in buttons(decided)] == ["Undo"]


async def test_a_moderators_approval_by_reaction(rig: Moderated) -> None:
    """Edited to "Approved by …" with Undo; listed by /problem and the export; the submitter told."""
    fake = rig.fake
    post = await submit(rig)

    await rig.react(post, "✅", fake.bob_id)

    assert description(fake, post) == "Approved by Bob."
    assert buttons(fake.message(int(post["id"]))) == [("Undo", "cop:undo:1.1")]
    (dm,) = fake.dms[fake.alice_id]
    assert "Your link for 2.4 — 3 letter acronyms" in dm["embeds"][0]["description"]
    assert "was approved" in dm["embeds"][0]["description"]
    card = text_of((await ask(fake, "problem", {"number": "2.4"}, user_id=fake.bob_id)).data or {})
    assert f"• {LINK} — {NOTE}" in card
    history = text_of((await ask(fake, "history", {"number": "2.4"})).data or {})
    assert f"Bob approved {LINK}" in history
    rows = {r[3]: r for r in csv.reader(io.StringIO(await export_csv(rig.bot.ctx.store)))}
    assert f"{LINK} — {NOTE} (via copbot)" in rows["2.4"][5]


async def test_a_submitter_s_note_never_labels_the_approved_link(rig: Moderated) -> None:
    """A note that reads as another address was the approved link's text on every card:
    ``[https://arxiv.org/…](https://evil.example/login)``. The link shows its own address now.
    (A note of that address alone is refused as a second link: /submit takes one at a time.)"""
    evil, disguise = "https://evil.example/login", "https://arxiv.org/abs/2209.10652"
    post = await submit(rig, evil, f"see {disguise}")

    await rig.react(post, "✅", rig.fake.bob_id)

    card = text_of((await ask(rig.fake, "problem", {"number": "2.4"}, user_id=rig.fake.bob_id)).data or {})
    assert f"• {evil} — see {disguise}" in card
    assert f"[{disguise}]" not in card and f"]({disguise})" not in card


async def test_reject_with_reason_opens_a_form_whose_reason_reaches_the_submitter(rig: Moderated) -> None:
    fake = rig.fake
    post = await submit(rig)

    opened = await click(fake, post, "Reject with reason", fake.bob_id)
    assert opened.type == MODAL
    form = opened.data or {}
    assert form["custom_id"] == "cop:rejectmodal:1" and form["title"] == "Reject submission"
    assert form["components"][0]["content"] == f"Rejecting the link for 2.4 from Alice:\n{LINK}"
    assert await status(rig.bot.ctx) == LinkStatus.PENDING  # opening the form decides nothing

    iid = await fake.submit_modal(opened.interaction_id, {"reason": "  not about   acronyms "})
    answer = await fake.wait_for_callback(iid)

    assert answer.ephemeral and embed(answer)["description"].startswith("Rejected 2.4 #")
    assert description(fake, post) == "Rejected by Bob: not about acronyms"
    (dm,) = fake.dms[fake.alice_id]
    assert dm["embeds"][0]["description"].endswith("was not accepted: not about acronyms")
    history = text_of((await ask(fake, "history", {"number": "2.4"})).data or {})
    assert f"Bob rejected {LINK} (not about acronyms)" in history


async def test_the_form_is_for_moderators_and_pending_submissions_only(rig: Moderated) -> None:
    fake = rig.fake
    post = await submit(rig)

    async def send(values: dict[str, str], **kw: Any) -> Callback:
        return await fake.wait_for_callback(await fake.submit_modal(opened.interaction_id, values, **kw))

    refused = await click(fake, post, "Reject with reason", fake.alice_id)
    opened = await click(fake, post, "Reject with reason", fake.user_id("carol"))  # by the /setup role
    # Should a form reach anyone else, submitting it does nothing; nor does a blank reason.
    not_mod = await send({"reason": "spam"}, user_id=fake.alice_id)
    blank = await send({"reason": "   "})

    assert refused.ephemeral and refused.type != MODAL
    assert embed(refused)["description"] == "Only moderators can decide submissions."
    assert opened.type == MODAL
    assert embed(not_mod)["description"] == "Only moderators can decide submissions."
    assert embed(blank)["description"] == "Please say why, in a few words; nothing changed."
    assert await status(rig.bot.ctx) == LinkStatus.PENDING and edits(fake) == []

    # Once decided: the button (still on /pending's list or an old copy) and an open form say so.
    as_posted = copy.deepcopy(post)
    await rig.react(post, "✅", fake.bob_id)
    again = await fake.wait_for_callback(await fake.click(as_posted, "cop:reject:1", user_id=fake.bob_id))
    late = await send({"reason": "too late"})

    assert again.type != MODAL
    assert embed(again)["description"] == "Already approved by Bob; nothing changed."
    assert embed(late)["description"] == "Already approved by Bob; nothing changed."
    assert edits(fake) == [post["id"]] and len(fake.dms[fake.alice_id]) == 1


async def test_the_reject_form_is_counted_in_the_metrics(rig: Moderated) -> None:
    """Each reject form submitted counts in /metrics as form:reject by its outcome, as a button
    press does: the rejection, and the refusals (not a moderator, no reason, already decided)."""
    fake = rig.fake
    server = OpsServer(rig.bot.ctx.store, Metrics(), [])
    port = await server.start("127.0.0.1", 0)
    try:
        post = await submit(rig)
        opened = await click(fake, post, "Reject with reason", fake.bob_id)
        for values, user in [("   ", fake.bob_id), ("spam", fake.alice_id), ("spam", fake.bob_id)]:
            iid = await fake.submit_modal(opened.interaction_id, {"reason": values}, user_id=user)
            await fake.wait_for_callback(iid)
        late = await fake.submit_modal(opened.interaction_id, {"reason": "again"})
        assert "Already rejected" in embed(await fake.wait_for_callback(late))["description"]
        samples = await scrape(port)
    finally:
        await server.close()
    assert counted(samples, "form:reject") == {"ok": 1, "user_error": 3}
    assert samples['copbot_command_seconds_count{command="form:reject"}'] == 4


async def test_approve_button_and_undo_for_moderators_only(rig: Moderated) -> None:
    fake = rig.fake
    carol = fake.user_id("carol")
    post = await submit(rig)

    refused = await click(fake, post, "Approve", fake.alice_id)
    approved = await click(fake, post, "Approve", carol)
    assert embed(refused)["description"] == "Only moderators can decide submissions."
    assert approved.ephemeral and embed(approved)["description"] == f"Approved 2.4 #1: {LINK} from Alice."
    assert description(fake, post) == "Approved by Carol."

    no_undo = await click(fake, post, "Undo", fake.alice_id)
    undone = await click(fake, post, "Undo", fake.bob_id)

    assert embed(no_undo)["description"] == "Only moderators can decide submissions."
    assert embed(undone)["description"] == f"Undone: 2.4 #1: {LINK} from Alice. It is pending again."
    again = fake.message(int(post["id"]))
    assert [label for label, _ in buttons(again)] == ["Approve", "Reject with reason"]
    assert "New existing work for 2.4" in description(fake, post)
    assert LINK not in text_of((await ask(fake, "problem", {"number": "2.4"})).data or {})
    assert "was undone; it is pending again" in fake.dms[fake.alice_id][-1]["embeds"][0]["description"]
    assert "Bob undid the approval of" in text_of((await ask(fake, "history", {"number": "2.4"})).data or {})
    # Pending again: a reaction on the same post decides it again.
    await rig.react(post, "❌", fake.bob_id)
    assert await status(rig.bot.ctx) == LinkStatus.REJECTED


async def test_a_moderator_of_another_server_cannot_decide_or_undo_this_ones_submission(
    rig: Moderated,
) -> None:
    """Each server decides its own submissions: a button id names a submission of any server, so
    a moderator pressing Approve or Undo on a copy naming another server's gets the refusal
    Reject with reason gives, and nothing changes (post, catalogue, submitter's DMs)."""
    fake = rig.fake
    post = await submit(rig)
    other = OtherGuild(fake, guild_id_on_shard(0, 1), fake.general_id)
    # Bob holds Manage Messages there too: a moderator of the other server.
    approve = await fake.wait_for_callback(await other.click(post, "cop:approve:1", user_id=fake.bob_id))

    assert embed(approve)["description"] == "That submission does not exist; use /pending instead."
    assert await status(rig.bot.ctx) == LinkStatus.PENDING
    assert edits(fake) == [] and fake.dms[fake.alice_id] == []

    await click(fake, post, "Approve", fake.bob_id)  # this server's own decision
    decided = fake.message(int(post["id"]))
    undo = await fake.wait_for_callback(await other.click(decided, "cop:undo:1.1", user_id=fake.bob_id))

    assert embed(undo)["description"] == "That submission does not exist; use /pending instead."
    assert await status(rig.bot.ctx) == LinkStatus.APPROVED
    assert description(fake, post) == "Approved by Bob." and edits(fake) == [post["id"]]
    assert len(fake.dms[fake.alice_id]) == 1


async def test_a_button_id_of_other_digits_is_a_broken_button(rig: Moderated) -> None:
    """``²`` is a digit to ``str.isdigit`` but not to ``int``: such an id was an apology and a
    logged traceback."""
    fake = rig.fake
    post = await submit(rig)
    forged = copy.deepcopy(fake.message(int(post["id"])))
    forged["components"][0]["components"][0]["custom_id"] = "cop:approve:²"
    pressed = await fake.wait_for_callback(await fake.click(forged, "cop:approve:²", user_id=fake.bob_id))

    assert embed(pressed)["description"] == "That button is broken; use /pending instead."
    assert await status(rig.bot.ctx) == LinkStatus.PENDING


async def test_reactions_that_change_nothing(rig: Moderated) -> None:
    """A member's ✅, the bot's own (even holding a moderator role), other emoji, and ✅ by a
    moderator on messages that are not a submission's post."""
    fake = rig.fake
    post = await submit(rig)
    fake.give_role(fake.bot_user_id, fake.moderator_role_id)  # the bot could moderate by its role
    elsewhere = await fake.add_message(fake.general_id, "not a submission")
    members = await fake.user_message(fake.general_id, "hello")

    await rig.react(post, "✅", fake.alice_id)
    await rig.react(post, "❌", fake.alice_id)
    await rig.react(post, "✅", fake.bot_user_id)
    await rig.react(post, "👍", fake.bob_id)
    await rig.react(post, "✔️", fake.bob_id)
    await rig.react(elsewhere, "✅", fake.bob_id)
    await rig.react(members, "✅", fake.bob_id)

    assert await status(rig.bot.ctx) == LinkStatus.PENDING
    assert edits(fake) == [] and fake.dms[fake.alice_id] == []


async def test_a_reaction_against_the_decision_is_answered_to_its_moderator_alone(rig: Moderated) -> None:
    """Bob approved with ✅; Carol reacts ❌ to the approved post. It stays approved, and before
    nothing told Carol her ❌ changed nothing (it sat under the post as if it counted). Now copbot
    answers her post in a reply that pings only her, naming the decision and Undo; Bob's second
    reaction agreeing with it (👍-like ✅ of another moderator) gets no answer."""
    fake = rig.fake
    post = await submit(rig)
    await rig.react(post, "✅", fake.bob_id)
    carol = fake.user_id("carol")

    await rig.react(post, "❌", carol)

    assert await status(rig.bot.ctx) == LinkStatus.APPROVED
    answers = [m for m in mods(fake) if (m.get("message_reference") or {}).get("message_id") == post["id"]]
    (answer,) = answers
    assert answer["content"] == f"<@{carol}>"
    told = text_of(answer)
    assert "2.4 #1 is already approved by Bob: your ❌ changed nothing" in told and "Undo" in told
    (request,) = [
        r for r in fake.requests if isinstance(r.response, dict) and r.response.get("id") == answer["id"]
    ]
    allowed = request.json["allowed_mentions"]
    assert allowed["parse"] == [] and [str(u) for u in allowed["users"]] == [str(carol)]  # only her

    await rig.react(post, "✅", carol)
    assert len([m for m in mods(fake) if m.get("message_reference")]) == 1


async def test_a_replayed_reaction_against_the_decision_is_answered_once(rig: Moderated) -> None:
    """Bob approved; Carol's ❌ against it is delivered twice (a gateway replay). Before, copbot
    answered her twice under the post; now once. Taking her ❌ back and adding it again is a new
    reaction, answered again."""
    fake = rig.fake
    post = await submit(rig)
    await rig.react(post, "✅", fake.bob_id)
    carol = fake.user_id("carol")
    payload = await rig.react(post, "❌", carol)

    handled = rig.bot.reactions_handled
    await fake.replay(payload)
    await rig.settle(handled + 1)

    def answers() -> int:
        replies = [
            m for m in mods(fake) if (m.get("message_reference") or {}).get("message_id") == post["id"]
        ]
        return len(replies)

    assert answers() == 1
    handled = rig.bot.reactions_handled
    await fake.unreact(int(post["channel_id"]), int(post["id"]), "❌", carol)
    await rig.settle(handled + 1)
    await rig.react(post, "❌", carol)
    assert answers() == 2
    assert await status(rig.bot.ctx) == LinkStatus.APPROVED


async def test_a_submitter_with_closed_dms_is_told_in_the_reminder_channel(rig: Moderated) -> None:
    """Alice's DMs are closed (50007): Bob's ❌ reaches her in the reminder channel, pinging her
    alone. Before, she was never told anything."""
    fake = rig.fake
    post = await submit(rig)
    fake.close_dms(fake.alice_id)

    await rig.react(post, "❌", fake.bob_id)

    assert await status(rig.bot.ctx) == LinkStatus.REJECTED
    (told,) = fake.messages[fake.channel_id("reminders")]
    assert told["content"] == f"<@{fake.alice_id}>"
    assert "was not accepted" in text_of(told)
    (request,) = [
        r for r in fake.requests if isinstance(r.response, dict) and r.response.get("id") == told["id"]
    ]
    allowed = request.json["allowed_mentions"]
    assert allowed["parse"] == [] and [str(u) for u in allowed["users"]] == [str(fake.alice_id)]


async def test_a_submitter_who_left_the_server_is_not_pinged_in_the_reminder_channel(
    rig: Moderated,
) -> None:
    """Alice submitted, then left the server: Discord refuses the DM (she shares no server with
    copbot). Bob's ❌ used to @-mention her in the reminder channel, which she can never read.
    Now nobody is pinged, as for a claimant who left; her notice counts as one that could not
    reach her, so an undo sends her no notice of a decision she never heard of."""
    fake = rig.fake
    post = await submit(rig)
    fake.close_dms(fake.alice_id)
    fake.members.pop(fake.alice_id)

    await rig.react(post, "❌", fake.bob_id)

    assert await status(rig.bot.ctx) == LinkStatus.REJECTED
    assert fake.messages[fake.channel_id("reminders")] == []
    link = await submissions.get_link(rig.bot.ctx.store, 1)
    assert link is not None and link.notice == "unreachable"


async def test_two_moderators_at_once_make_one_decision(rig: Moderated) -> None:
    """Bob ✅ and Carol ❌ arrive together: the first wins, one edit, one DM, one history entry."""
    fake = rig.fake
    post = await submit(rig)
    handled = rig.bot.reactions_handled
    channel, message = int(post["channel_id"]), int(post["id"])

    await asyncio.gather(
        fake.react(channel, message, "✅", fake.bob_id),
        fake.react(channel, message, "❌", fake.user_id("carol")),
    )
    await rig.settle(handled + 2)

    link = await submissions.get_link(rig.bot.ctx.store, 1)
    assert link is not None and link.status in (LinkStatus.APPROVED, LinkStatus.REJECTED)
    winner = "Bob" if link.status == LinkStatus.APPROVED else "Carol"
    assert link.decided_by_name == winner
    assert edits(fake) == [post["id"]] and len(fake.dms[fake.alice_id]) == 1
    history = text_of((await ask(fake, "history", {"number": "2.4"})).data or {})
    assert history.count("Bob approved") + history.count("Carol rejected") == 1


async def test_a_replayed_reaction_event_applies_nothing_twice(rig: Moderated) -> None:
    fake = rig.fake
    post = await submit(rig)
    payload = await rig.react(post, "✅", fake.bob_id)

    for _ in range(2):
        handled = rig.bot.reactions_handled
        await fake.replay(payload)
        await rig.settle(handled + 1)

    assert edits(fake) == [post["id"]] and len(fake.dms[fake.alice_id]) == 1
    history = text_of((await ask(fake, "history", {"number": "2.4"})).data or {})
    assert history.count("Bob approved") == 1


async def test_a_reaction_replayed_after_an_undo_decides_nothing(rig: Moderated) -> None:
    """Reaction events have no id: the ✅ that decided counts once until Bob takes it back."""
    fake = rig.fake
    post = await submit(rig)
    payload = await rig.react(post, "✅", fake.bob_id)
    assert await status(rig.bot.ctx) == LinkStatus.APPROVED
    await click(fake, post, "Undo", fake.bob_id)
    assert await status(rig.bot.ctx) == LinkStatus.PENDING

    handled = rig.bot.reactions_handled
    await fake.replay(payload)  # e.g. a second process on the same shard, late
    await rig.settle(handled + 1)
    assert await status(rig.bot.ctx) == LinkStatus.PENDING

    # Bob really approves again: he takes his ✅ back and adds it anew.
    handled = rig.bot.reactions_handled
    await fake.unreact(int(post["channel_id"]), int(post["id"]), "✅", fake.bob_id)
    await rig.settle(handled + 1)
    await rig.react(post, "✅", fake.bob_id)
    assert await status(rig.bot.ctx) == LinkStatus.APPROVED
    history = text_of((await ask(fake, "history", {"number": "2.4"})).data or {})
    assert history.count("Bob approved") == 2


async def test_decisions_after_a_restart(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock
) -> None:
    """A new process (new store, client and moderation) decides on posts the old one made: by a
    reaction on the old message, and through a form the old process opened."""
    add_people(fake)
    async with moderated(fake, ctx, db_url) as rig:
        await configure(fake)
        first = await submit(rig)
        second = await submit(rig, "https://example.org/other", "another one")
        opened = await click(fake, second, "Reject with reason", fake.bob_id)
        assert opened.type == MODAL
    assert fake.connections == []

    store = Store(make_engine(db_url))
    restarted = Context(store=store, clock=clock)
    try:
        async with moderated(fake, restarted, db_url) as rig:
            await rig.react(first, "✅", fake.bob_id)
            iid = await fake.submit_modal(opened.interaction_id, {"reason": "duplicate"})
            answer = await fake.wait_for_callback(iid)

            assert description(fake, first) == "Approved by Bob."
            assert embed(answer)["description"].startswith("Rejected 2.4 #")
            assert description(fake, second) == "Rejected by Bob: duplicate"
            assert sorted(edits(fake)) == sorted([first["id"], second["id"]])
            assert len(fake.dms[fake.alice_id]) == 2
    finally:
        await store.close()
    assert [await status(ctx, 1), await status(ctx, 2)] == [LinkStatus.APPROVED, LinkStatus.REJECTED]


async def test_without_a_moderator_channel_it_waits_then_is_posted_once(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    add_people(fake)
    async with moderated(fake, ctx, db_url) as rig:
        await configure(fake, moderator_role=fake.role_id("Reviewers"))
        answer = await ask(fake, "submit", {"number": "2.4", "link": LINK, "note": NOTE})
        pending = await ask(fake, "pending", user_id=fake.bob_id)

        assert "no moderator channel is set:" in embed(answer)["description"]
        assert "not posted yet" in text_of(pending.data or {})
        assert mods(fake) == [] and fake.reactions == {}

        await configure(fake, moderator_channel=fake.channel_id("mods"))
        await configure(fake, stale_days=20)  # a later /setup posts nothing more

        (post,) = mods(fake)
        assert post["embeds"][0]["title"] == "Submission for 2.4"
        await rig.settle(2)
        await rig.react(post, "✅", fake.user_id("carol"))
        assert await status(ctx) == LinkStatus.APPROVED


async def test_a_note_cannot_ping_anyone(rig: Moderated) -> None:
    fake = rig.fake
    role = fake.role_id("Reviewers")
    note = f"@everyone @here <@&{role}> <@{fake.bob_id}> **bold**"

    post = await submit(rig, note=note)

    sent = [r for r in fake.requests if r.route == "POST /channels/{channel_id}/messages"]
    assert sent[-1].params["channel_id"] == str(fake.channel_id("mods"))
    assert sent[-1].json["allowed_mentions"] == {"parse": []}
    assert not post["content"]
    shown = text_of(post)
    assert "@\u200beveryone" in shown and "@\u200bhere" in shown
    assert f"<@\u200b&{role}>" in shown and f"<@\u200b{fake.bob_id}>" in shown
    for raw in ("@everyone", "@here", f"<@&{role}>", f"<@{fake.bob_id}>", "**bold**"):
        assert raw not in shown


MARKUP = "see [a](https://a.example) and **this** ||x|| [Click here](https://phish.example/login)"


def read(message: dict[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """The masked links and live markdown characters of every text in a message."""
    shown = markdown(text_of(message))
    return shown.links, shown.live


async def test_markdown_in_notes_and_reasons_shows_literally(rig: Moderated) -> None:
    """A note and a rejection reason with two masked links and markup: the moderators' post, the
    submitter's DM and the public card show them as typed; copbot's own links are the only masked
    links, and the submitted link shows as its bare address."""
    fake = rig.fake
    post = await submit(rig, note=MARKUP)
    assert read(post) == ([], []) and LINK in markdown(text_of(post)).bare
    assert MARKUP in literal(text_of(post))

    opened = await click(fake, post, "Reject with reason", fake.bob_id)
    await fake.wait_for_callback(await fake.submit_modal(opened.interaction_id, {"reason": MARKUP}))
    assert read(fake.message(int(post["id"]))) == ([], [])
    assert literal(description(fake, post)) == f"Rejected by Bob: {MARKUP}"
    (dm,) = fake.dms[fake.alice_id]
    assert read(dm) == ([], []) and LINK in markdown(text_of(dm)).bare
    assert literal(dm["embeds"][0]["description"]).endswith(f"was not accepted: {MARKUP}")

    second = await submit(rig, link=LINK + "/v2", note=MARKUP)
    await click(fake, second, "Approve", fake.bob_id)
    card = await ask(fake, "problem", {"number": "2.4"})
    assert not card.ephemeral
    links, live = read(card.data or {})
    assert live == [] and (LINK + "/v2") in markdown(text_of(card.data or {})).bare
    assert all(url.startswith(("https://example.org/", "https://discord.com/")) for _, url in links), links


def lesswrong(i: int) -> str:
    """A LessWrong post of its own (17-character id) for each ``i``."""
    return f"https://www.lesswrong.com/posts/6tHNM2s6SWzFHv{i:03d}/mechanistically-interpreting-time-{i}"


async def test_pending_shows_every_submission_it_lists(rig: Moderated, clock: FakeClock) -> None:
    """Ten realistic submissions all show in /pending, oldest first, going on over several fields
    (it showed 4 and "… and 6 more"); with 25 waiting, the first 20 show, then "… and 5 more"."""
    fake = rig.fake
    for i in range(10):
        await submit(rig, link=lesswrong(i))
        clock.advance(minutes=7)
    listed = embed(await ask(fake, "pending", user_id=fake.bob_id))
    lines = [line for field in listed["fields"] for line in field["value"].splitlines()]
    assert listed["title"] == "Pending submissions: 10"
    assert len(lines) == 10 and all(f"{lesswrong(i)} from Alice" in lines[i] for i in range(10))
    names = [field["name"] for field in listed["fields"]]
    assert len(names) > 1 and names == ["Oldest first"] + ["Oldest first (continued)"] * (len(names) - 1)

    clock.advance(hours=1)  # Alice may submit ten an hour
    for i in range(10, 25):
        await submit(rig, link=lesswrong(i))
        clock.advance(minutes=5 if i < 19 else 61)
    listed = embed(await ask(fake, "pending", user_id=fake.bob_id))
    lines = [line for field in listed["fields"] for line in field["value"].splitlines()]
    assert listed["title"] == "Pending submissions: 25"
    assert len(lines) == 21 and f"{lesswrong(19)} from Alice" in lines[-2]
    assert lines[-1] == "• … and 5 more"


def long_link(i: int) -> str:
    return f"https://example.org/{i:02d}/" + "/".join(f"section-{j}" for j in range(40))


async def test_pending_counts_every_submission_it_does_not_show(rig: Moderated, clock: FakeClock) -> None:
    """Sixty links too long for twenty to fit in one embed: /pending shows as many as fit,
    oldest first, and its last line counts all the others (it counted only those of the first
    twenty that did not fit: "… and 3 more" for 60 waiting)."""
    fake = rig.fake
    for i in range(60):
        await submit(rig, link=long_link(i))
        clock.advance(minutes=1 if i % 10 < 9 else 61)  # Alice may submit ten an hour
    listed = embed(await ask(fake, "pending", user_id=fake.bob_id))
    lines = [line for field in listed["fields"] for line in field["value"].splitlines()]
    *shown, more = lines
    assert 1 < len(shown) < 20 and all(f"example.org/{i:02d}/" in line for i, line in enumerate(shown))
    assert more.removeprefix("• ") == f"… and {60 - len(shown)} more"
    assert listed["title"] == "Pending submissions: 60"


async def test_the_longest_link_copbot_takes_reaches_the_moderators_whole(rig: Moderated) -> None:
    """A link of 900 characters (the most /submit takes) shows in full in the post's Link field,
    as a link with a shortened label; one longer is refused with a reason, and nothing is stored."""
    longest = "https://example.org/paper?" + "&".join(f"k{i}=v{i}" for i in range(200))
    longest = longest[: 900 - len("&end")] + "&end"
    post = await submit(rig, link=longest)
    (field,) = [f["value"] for f in post["embeds"][0]["fields"] if f["name"] == "Link"]
    assert field == f"• {longest}"

    refused = await ask(rig.fake, "submit", {"number": "2.4", "link": longest + "x"})
    assert refused.ephemeral
    assert "That link is too long (901 characters): at most 900." in embed(refused)["description"]
    assert await submissions.get_link(rig.bot.ctx.store, 2) is None


async def test_a_post_whose_edit_failed_is_brought_up_to_date_by_the_next_press(rig: Moderated) -> None:
    """Discord answers the edit with a 503: the link is approved and Alice told, but the post still
    offers Approve. Bob's second press says it is decided and shows the decision, with Undo."""
    fake = rig.fake
    post = await submit(rig)
    fake.fail("PATCH", "/channels/*/messages/*", status=503, times=1)

    first = await click(fake, post, "Approve", fake.bob_id)
    assert embed(first)["description"].startswith("Approved 2.4 #")
    assert description(fake, post).startswith("New existing work for 2.4")

    again = await click(fake, post, "Approve", fake.bob_id)
    assert embed(again)["description"] == "Already approved by Bob; nothing changed."
    assert description(fake, post) == "Approved by Bob."
    assert buttons(fake.message(int(post["id"]))) == [("Undo", "cop:undo:1.1")]
    assert len(fake.dms[fake.alice_id]) == 1
    # The decision can be undone from the post now.
    undone = await click(fake, post, "Undo", fake.bob_id)
    assert embed(undone)["description"].startswith("Undone: 2.4 #")


async def test_the_sweep_edits_the_post_and_sends_the_dm_that_failed_once(rig: Moderated) -> None:
    """The edit fails (503) and Alice's DM is rate limited past discord.py's retries: nothing is
    shown yet; the next sweep edits the post and DMs Alice, and later sweeps nothing more."""
    fake = rig.fake
    post = await submit(rig)
    fake.fail("PATCH", "/channels/*/messages/*", status=503, times=1)
    fake.rate_limit("POST", "/users/@me/channels", times=5, retry_after=0.01)

    await rig.react(post, "❌", fake.bob_id)
    assert await status(rig.bot.ctx) == LinkStatus.REJECTED
    assert description(fake, post).startswith("New existing work") and fake.dms[fake.alice_id] == []

    await rig.sweeper.run_once()
    await rig.sweeper.run_once()

    assert description(fake, post) == "Rejected by Bob."
    assert buttons(fake.message(int(post["id"]))) == [("Undo", "cop:undo:1.1")]
    (dm,) = fake.dms[fake.alice_id]
    assert dm["embeds"][0]["description"].endswith("was not accepted.")
    assert len(edits(fake)) == 2  # the one that failed, the sweep's


async def test_a_decision_whose_dm_could_not_be_opened_reaches_the_submitter_at_the_next_sweep(
    rig: Moderated,
) -> None:
    """Discord fails (503) to open the DM telling Alice her link was rejected: nothing was sent,
    so the next sweep tells her, once (it used to be written off as perhaps sent)."""
    fake = rig.fake
    post = await submit(rig)
    fake.fail("POST", "/users/@me/channels", status=503, body={"message": "503", "code": 0})

    await rig.react(post, "❌", fake.bob_id)
    assert description(fake, post) == "Rejected by Bob." and fake.dms[fake.alice_id] == []

    await rig.sweeper.run_once()
    await rig.sweeper.run_once()

    (dm,) = fake.dms[fake.alice_id]
    assert dm["embeds"][0]["description"].endswith("was not accepted.")


@pytest.mark.parametrize("reason", ["\u200b\u200b\u200b", "\u200b \u2066\u2069 \u200b"])
async def test_an_invisible_reason_is_no_reason(rig: Moderated, reason: str) -> None:
    """Zero-width and bidi characters only: the form asks why again, and nothing changes."""
    fake = rig.fake
    post = await submit(rig)
    opened = await click(fake, post, "Reject with reason", fake.bob_id)

    answer = await fake.wait_for_callback(await fake.submit_modal(opened.interaction_id, {"reason": reason}))

    assert embed(answer)["description"] == "Please say why, in a few words; nothing changed."
    assert await status(rig.bot.ctx) == LinkStatus.PENDING and edits(fake) == []


async def test_a_reasons_bidi_overrides_reach_neither_the_post_nor_the_submitter(rig: Moderated) -> None:
    fake = rig.fake
    post = await submit(rig)
    opened = await click(fake, post, "Reject with reason", fake.bob_id)

    reason = "\u202eevil\u202c ok\u200b"
    await fake.wait_for_callback(await fake.submit_modal(opened.interaction_id, {"reason": reason}))

    assert description(fake, post) == "Rejected by Bob: evil ok"
    (dm,) = fake.dms[fake.alice_id]
    assert dm["embeds"][0]["description"].endswith("was not accepted: evil ok")


async def test_a_new_moderator_channel_takes_the_pending_posts(rig: Moderated) -> None:
    """The admins make #mods2 the moderator channel: the pending submission is posted there with
    ✅ ❌ (a decided one is not), the old post says where it went and loses its buttons, /pending
    links to the new post, and only the new post decides. Later sweeps post nothing more."""
    fake = rig.fake
    post = await submit(rig)
    decided = await submit(rig, "https://example.org/other", "another one")
    await rig.react(decided, "❌", fake.bob_id)
    mods2 = fake.add_channel("mods2")

    handled = rig.bot.reactions_handled
    await configure(fake, moderator_channel=mods2)
    await rig.settle(handled + 2)  # the bot's own ✅ ❌ under the new post

    (new,) = fake.messages[mods2]
    assert (
        new["embeds"][0]["title"] == "Submission for 2.4"
        and new["embeds"][0]["fields"][1]["value"] == "Alice"
    )
    assert buttons(new) == [("Approve", "cop:approve:1"), ("Reject with reason", "cop:reject:1")]
    assert fake.reactions[int(new["id"])] == [("✅", fake.bot_user_id), ("❌", fake.bot_user_id)]
    old = fake.message(int(post["id"]))
    assert old["embeds"][0]["description"].startswith("Moved: the moderator channel changed")
    assert new["id"] in text_of(old) and buttons(old) == []
    pending = text_of((await ask(fake, "pending", user_id=fake.bob_id)).data or {})
    assert f"/{mods2}/{new['id']})" in pending and post["id"] not in pending

    await rig.react(post, "✅", fake.bob_id)  # the old post decides nothing any more
    assert await status(rig.bot.ctx) == LinkStatus.PENDING
    await rig.sweeper.run_once()
    await configure(fake, moderator_channel=mods2)
    assert len(fake.messages[mods2]) == 1 and await status(rig.bot.ctx, 2) == LinkStatus.REJECTED
    await rig.react(new, "✅", fake.user_id("carol"))
    assert await status(rig.bot.ctx) == LinkStatus.APPROVED
    assert description(fake, new) == "Approved by Carol."


async def test_a_deleted_moderator_channel_replaced_by_another(rig: Moderated) -> None:
    """#mods is deleted with its posts, #mods2 becomes the moderator channel: what waited in
    #mods is posted in #mods2 (it was lost with the channel before)."""
    fake = rig.fake
    post = await submit(rig)
    del fake.channels[int(post["channel_id"])]  # deleted in Discord, with its messages
    mods2 = fake.add_channel("mods2")

    handled = rig.bot.reactions_handled
    await configure(fake, moderator_channel=mods2)
    await rig.settle(handled + 2)  # the bot's own ✅ ❌ under the new post
    await rig.sweeper.run_once()

    (new,) = fake.messages[mods2]
    assert buttons(new) == [("Approve", "cop:approve:1"), ("Reject with reason", "cop:reject:1")]
    link = await submissions.get_link(rig.bot.ctx.store, 1)
    assert link is not None and link.mod_message_id == new["id"] and link.mod_channel_id == str(mods2)
    await rig.react(new, "✅", fake.bob_id)
    assert await status(rig.bot.ctx) == LinkStatus.APPROVED


async def test_a_decision_dm_discord_refuses_for_its_form_is_failed_once_not_sent_at_every_sweep(
    rig: Moderated, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord refuses the DM telling Alice her link was rejected for the message itself (400,
    50035 Invalid Form Body), as it would at every try: it is marked failed with one error naming
    the code, and no sweep sends it again."""
    fake = rig.fake
    post = await submit(rig)
    body = {"message": "Invalid Form Body", "code": 50035}
    fake.fail("POST", "/channels/{channel_id}/messages", status=400, body=body)

    await rig.react(post, "❌", fake.bob_id)
    await rig.sweeper.run_once()
    await rig.sweeper.run_once()

    assert description(fake, post) == "Rejected by Bob." and fake.dms[fake.alice_id] == []
    link = await submissions.get_link(rig.bot.ctx.store, 1)
    assert link is not None and link.notice == "failed"
    (error,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "50035" in error.getMessage() + str(error.exc_info and error.exc_info[1])
    caplog.clear()  # the one error expected (the fixture checks nothing else was logged)


def posts_to_mods(fake: FakeDiscord) -> int:
    """How many posts copbot asked Discord to make in the moderator channel (refused ones too)."""
    mods_id = str(fake.channel_id("mods"))
    return len(
        [
            r
            for r in fake.requests
            if r.route == "POST /channels/{channel_id}/messages" and r.params.get("channel_id") == mods_id
        ]
    )


async def approve_from_pending(fake: FakeDiscord, link_id: int) -> str:
    """Bob approves submission ``link_id`` with the button under his /pending: what he is told
    (the list he pressed is brought up to date, and the answer follows)."""
    listed = await ask(fake, "pending", user_id=fake.bob_id)
    assert listed.message is not None
    custom_id = f"cop:approve:{link_id}.pending"
    assert custom_id in dict(buttons(listed.message)).values(), buttons(listed.message)
    iid = await fake.click(listed.message, custom_id, user_id=fake.bob_id)
    await fake.wait_for_callback(iid)
    return text_of((await fake.wait_for_followup(iid)).message)


MISSING_PERMISSIONS = {"message": "Missing Permissions", "code": 50013}


async def test_a_moderator_channel_refusing_copbots_posts_waits_an_hour_and_needs_attention(
    rig: Moderated, clock: FakeClock
) -> None:
    """Discord refuses copbot's posts in the moderator channel (403, 50013 Missing Permissions:
    a permission the cache did not show missing). Alice is told to tell an admin; the sweeps of
    the next hour ask Discord nothing more (they asked at every sweep, forever, for each
    submission); /pending shows both submissions waiting and what needs attention, naming the
    channel and Discord's answer, and decides them meanwhile. An hour on, one post tries for
    both; once Discord takes it, the other follows at once."""
    fake = rig.fake
    fake.fail(
        "POST",
        f"/channels/{fake.channel_id('mods')}/messages",
        status=403,
        body=MISSING_PERMISSIONS,
        times=100,
    )
    for link in (LINK, "https://example.org/other"):
        sent = embed(await ask(fake, "submit", {"number": "2.4", "link": link}))
        assert "I may not post in the moderators' channel" in sent["description"], sent
    assert posts_to_mods(fake) == 2 and mods(fake) == []

    for _ in range(3):
        clock.advance(minutes=15)
        await rig.sweeper.run_once()
    assert posts_to_mods(fake) == 2

    listed = text_of((await ask(fake, "pending", user_id=fake.bob_id)).data or {})
    assert "not posted yet: the moderator channel refuses copbot's posts" in listed, listed
    assert "Needs attention" in listed and "2 submissions wait unposted" in listed, listed
    # The channel named as Discord shows it to the member, by its name (a raw id they cannot find).
    assert (
        f"Discord answered 403 Missing Permissions: give copbot's role View Channel and Send Messages "
        f"in <#{fake.channel_id('mods')}>), so 2 submissions wait unposted"
    ) in listed, listed
    assert f"channel {fake.channel_id('mods')}" not in listed, listed

    clock.advance(minutes=15)  # an hour since the refusal: one post tries for both
    await rig.sweeper.run_once()
    assert posts_to_mods(fake) == 3 and mods(fake) == []

    fake.recover()
    clock.advance(hours=1)
    await rig.sweeper.run_once()
    assert posts_to_mods(fake) == 5 and len(mods(fake)) == 2
    listed = text_of((await ask(fake, "pending", user_id=fake.bob_id)).data or {})
    assert "Needs attention" not in listed and "not posted" not in listed, listed


async def test_a_deleted_moderator_channel_is_said_to_be_deleted_not_named_by_its_id(
    rig: Moderated, clock: FakeClock
) -> None:
    """The moderator channel was deleted (404, 10003 Unknown Channel). Before, /pending's Needs
    attention said "(post in Discord channel 1577…: 404 Unknown Channel)", a number no member
    can look up; now it says the channel was deleted, so the admin knows to /setup another."""
    fake = rig.fake
    fake.fail(
        "POST",
        f"/channels/{fake.channel_id('mods')}/messages",
        status=404,
        body={"message": "Unknown Channel", "code": 10003},
        times=100,
    )
    await ask(fake, "submit", {"number": "2.4", "link": LINK})
    listed = text_of((await ask(fake, "pending", user_id=fake.bob_id)).data or {})
    assert (
        "copbot's posts in the moderator channel are refused (Discord answered 404 Unknown Channel: "
        "the channel was deleted), so 1 submission waits unposted"
    ) in listed, listed
    assert str(fake.channel_id("mods")) not in listed, listed


async def test_setup_show_names_the_refusing_moderator_channel_and_posts_once_it_is_mended(
    rig: Moderated, clock: FakeClock
) -> None:
    """The admin's /setup show says what needs attention: the moderator channel refuses copbot's
    posts, with Discord's reason and what waits. Once the admin mends it, the next /setup show
    posts what waited at once (not an hour later) and says nothing more."""
    fake = rig.fake
    fake.fail(
        "POST", f"/channels/{fake.channel_id('mods')}/messages", status=403, body=MISSING_PERMISSIONS, times=2
    )
    await ask(fake, "submit", {"number": "2.4", "link": LINK})
    shown = text_of((await ask(fake, "setup show", user_id=fake.owner_id)).data or {})
    assert "Needs attention" in shown, shown
    assert (
        "copbot's posts in the moderator channel are refused (Discord answered 403 Missing Permissions: "
        f"give copbot's role View Channel and Send Messages in <#{fake.channel_id('mods')}>)"
    ) in shown, shown
    assert "1 submission waits unposted" in shown and mods(fake) == []

    shown = text_of((await ask(fake, "setup show", user_id=fake.owner_id)).data or {})
    assert "Needs attention" not in shown, shown
    assert len(mods(fake)) == 1


async def test_a_moderator_post_discord_refuses_for_its_form_is_written_off_once_and_decided_in_pending(
    rig: Moderated, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord refuses the moderator post for the message itself (400, 50035 Invalid Form Body),
    as it would at every try: Alice is told the moderators decide it with /pending (she was told
    it would be posted shortly, and it was tried at every sweep, forever); one error names the
    code, no sweep posts it, /pending and /history say why, and Bob's approval there reaches
    Alice."""
    fake = rig.fake
    body = {"message": "Invalid Form Body", "code": 50035}
    fake.fail("POST", f"/channels/{fake.channel_id('mods')}/messages", status=400, body=body)
    sent = embed(await ask(fake, "submit", {"number": "2.4", "link": LINK}))
    assert sent["description"] == (
        "Thanks! Your link for 2.4 is saved and pending, but Discord refused my post of it in the "
        "moderators' channel, so a moderator decides it with /pending instead; I'll tell you what "
        "they decide."
    ), sent
    (error,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "50035" in error.getMessage()
    caplog.clear()  # the one error expected (the fixture checks nothing else was logged)

    for _ in range(3):
        clock.advance(hours=2)
        await rig.sweeper.run_once()
    assert posts_to_mods(fake) == 1 and mods(fake) == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

    listed = text_of((await ask(fake, "pending", user_id=fake.bob_id)).data or {})
    assert "not posted: Discord refused the message (50035)" in listed and "Needs attention" in listed, listed
    history = text_of((await ask(fake, "history", {"number": "2.4"}, user_id=fake.bob_id)).data or {})
    assert (
        "The link from Alice could not be posted for the moderators: Discord refused the message (50035)"
        in (history)
    ), history

    approved = await approve_from_pending(fake, 1)
    assert f"Approved 2.4 #1: {LINK} from Alice." in approved, approved
    assert await status(rig.bot.ctx) == LinkStatus.APPROVED
    (dm,) = fake.dms[fake.alice_id]
    assert "2.4" in dm["embeds"][0]["description"]


async def test_an_edit_discord_refuses_for_its_form_is_written_off_once(
    rig: Moderated, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord refuses the edit showing Bob's approval for the message itself (400, 50035): one
    error names the code, and neither the sweeps nor Bob's next press ask Discord again (each
    did, forever); the approval stands and Alice is told."""
    fake = rig.fake
    post = await submit(rig)
    body = {"message": "Invalid Form Body", "code": 50035}
    fake.fail("PATCH", "/channels/*/messages/*", status=400, body=body, times=100)

    await rig.react(post, "✅", fake.bob_id)
    assert await status(rig.bot.ctx) == LinkStatus.APPROVED
    (error,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "50035" in error.getMessage()
    caplog.clear()  # the one error expected (the fixture checks nothing else was logged)
    await rig.sweeper.run_once()
    await rig.sweeper.run_once()
    again = await click(fake, post, "Approve", fake.bob_id)
    assert embed(again)["description"] == "Already approved by Bob; nothing changed."
    assert len(edits(fake)) == 1
    assert len(fake.dms[fake.alice_id]) == 1


async def test_a_reject_form_discord_holds_back_for_minutes_is_given_up_in_seconds(
    fake: FakeDiscord, ctx: Context, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Bob presses Reject with reason while Discord answers interaction callbacks with a 429 of
    ten minutes. The form is an answer like any other, but it was not bounded by answer_wait:
    discord.py's webhook client slept the ten minutes out, the press held its task, and closing
    copbot (a restart, a deploy) waited on it. Now it is given up after answer_wait, with one
    warning, as other answers are."""
    add_people(fake)
    async with moderated(fake, ctx, db_url, answer_wait=0.5) as rig:
        await configure(fake)
        post = await submit(rig)
        fake.rate_limit("POST", "/interactions/*/*/callback", retry_after=600)
        current = fake.message(int(post["id"]))
        with caplog.at_level(logging.WARNING, logger="copbot"):
            await fake.click(current, dict(buttons(current))["Reject with reason"], user_id=fake.bob_id)
            await fake.wait_until(lambda: bool(fake.rate_limited))
            async with asyncio.timeout(10):
                await rig.bot.drain()
        warned = [r.getMessage() for r in caplog.records if r.name.startswith("copbot")]
        assert any("could not open the reject form" in w and "within 0.5 s" in w for w in warned), warned
        assert await status(ctx) == LinkStatus.PENDING
        # Alice, no moderator, is told so privately: that answer is bounded alike.
        fake.rate_limit("POST", "/interactions/*/*/callback", retry_after=600)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="copbot"):
            await fake.click(current, dict(buttons(current))["Reject with reason"], user_id=fake.alice_id)
            await fake.wait_until(lambda: len(fake.rate_limited) == 2)
            async with asyncio.timeout(10):
                await rig.bot.drain()
        warned = [r.getMessage() for r in caplog.records if r.name.startswith("copbot")]
        assert any("did not take it within 0.5 s" in w for w in warned), warned


async def test_a_refused_token_stops_the_sweeps_moderator_posts_on_discord_until_the_next(
    rig: Moderated, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord refuses copbot's token (401: it was reset) while four submissions wait for their
    moderator post: every post would be refused alike, and each refused request counts toward
    the ones after which Discord bans copbot's address. The sweep asked once per waiting
    submission, with a warning each; it stops at the first (as its reminders do), says what to do
    once, and keeps them all for the next sweep, which posts them once the token is mended."""
    fake = rig.fake
    refused = {"message": "401: Unauthorized", "code": 0}
    fake.fail("POST", f"/channels/{fake.channel_id('mods')}/messages", status=401, body=refused, times=100)
    for i in range(4):
        await ask(fake, "submit", {"number": "2.4", "link": f"https://example.org/{i}"})
    assert posts_to_mods(fake) == 4 and mods(fake) == []
    caplog.clear()

    clock.advance(minutes=15)
    with caplog.at_level(logging.WARNING):
        await rig.sweeper.run_once()

    assert posts_to_mods(fake) == 5
    told = [r.getMessage() for r in caplog.records if "DISCORD_TOKEN" in r.getMessage()]
    assert len(told) == 1, told
    fake.recover()
    clock.advance(minutes=15)
    await rig.sweeper.run_once()
    assert len(mods(fake)) == 4


async def test_a_moderator_post_discord_refuses_as_too_large_names_the_status_not_code_zero(
    rig: Moderated, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord refuses the moderator post with 413 Payload Too Large, whose answer carries no
    error code (0): /pending said "Discord refused the message (0)", which tells a moderator
    nothing; it names the HTTP status instead, as the one error does."""
    fake = rig.fake
    body = {"message": "413 Request Entity Too Large", "code": 0}
    fake.fail("POST", f"/channels/{fake.channel_id('mods')}/messages", status=413, body=body)
    await ask(fake, "submit", {"number": "2.4", "link": LINK})
    (error,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "(413)" in error.getMessage(), error.getMessage()
    caplog.clear()  # the one error expected (the fixture checks nothing else was logged)

    listed = text_of((await ask(fake, "pending", user_id=fake.bob_id)).data or {})

    assert "not posted: Discord refused the message (413)" in listed, listed


def refused_tokens(fake: FakeDiscord) -> int:
    """How many of copbot's requests Discord refused for its token (401)."""
    return len([r for r in fake.requests if r.status == 401])


async def test_a_refused_token_stops_the_whole_moderation_sweep_on_discord_until_the_next(
    rig: Moderated, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord refuses copbot's token (401) while two decisions wait to be shown on their posts
    and told to Alice, and a pending post waits to move to the new moderator channel: the sweep
    asked Discord once per post to move, per edit and per DM (each refused request counts toward
    Discord's ban of copbot's address; a 5xx costs discord.py's retries each). It stops at the
    first (one request, one warning naming DISCORD_TOKEN); once the token is mended, the next
    sweep does it all."""
    fake = rig.fake
    posted = [await submit(rig, f"https://example.org/{i}") for i in range(3)]
    refused = {"message": "401: Unauthorized", "code": 0}
    fake.fail("*", "/channels/*", status=401, body=refused, times=1000)
    fake.fail("*", "/users/@me/channels", status=401, body=refused, times=1000)
    for post in posted[:2]:
        await rig.react(post, "❌", fake.bob_id)
    mods2 = fake.add_channel("mods2")
    await configure(fake, moderator_channel=mods2)
    assert fake.dms[fake.alice_id] == [] and fake.messages[mods2] == []
    before = refused_tokens(fake)
    caplog.clear()

    clock.advance(minutes=15)
    with caplog.at_level(logging.WARNING):
        await rig.sweeper.run_once()

    assert refused_tokens(fake) == before + 1
    told = [r.getMessage() for r in caplog.records if "DISCORD_TOKEN" in r.getMessage()]
    assert len(told) == 1, told
    caplog.clear()
    fake.recover()
    clock.advance(minutes=15)
    handled = rig.bot.reactions_handled
    await rig.sweeper.run_once()
    await rig.settle(handled + 2)  # the bot's own ✅ ❌ under the moved post
    assert len(fake.messages[mods2]) == 1 and len(fake.dms[fake.alice_id]) == 2
    assert [description(fake, post) for post in posted[:2]] == ["Rejected by Bob."] * 2


def posts_to(fake: FakeDiscord, channel_id: int) -> int:
    """How many posts copbot asked Discord to make in ``channel_id`` (refused ones too)."""
    route = "POST /channels/{channel_id}/messages"
    return len(
        [r for r in fake.requests if r.route == route and r.params.get("channel_id") == str(channel_id)]
    )


async def test_a_new_moderator_channel_refusing_copbots_posts_paces_the_moves_and_needs_attention(
    rig: Moderated, clock: FakeClock
) -> None:
    """The admins make #mods2 the moderator channel, but copbot's role may not post there (403,
    50013). Moving the two pending posts was asked at every sweep, for each, with nothing in
    /pending or /setup show: now the sweeps of the next hour ask nothing, /pending and /setup
    show say what needs attention (the old posts still decide), an hour on one move tries for
    both, and once the admin mends it, /setup show moves both at once."""
    fake = rig.fake
    for i in range(2):
        await submit(rig, f"https://example.org/{i}")
    mods2 = fake.add_channel("mods2")
    fake.fail("POST", f"/channels/{mods2}/messages", status=403, body=MISSING_PERMISSIONS, times=100)
    await configure(fake, moderator_channel=mods2)
    assert posts_to(fake, mods2) == 1

    for _ in range(3):
        clock.advance(minutes=15)
        await rig.sweeper.run_once()
    assert posts_to(fake, mods2) == 1

    listed = text_of((await ask(fake, "pending", user_id=fake.bob_id)).data or {})
    assert "Needs attention" in listed and "2 posts wait in the former moderator channel" in listed, listed
    assert f"Send Messages in <#{mods2}>)" in listed and "Missing Permissions" in listed, listed
    shown = text_of((await ask(fake, "setup show", user_id=fake.owner_id)).data or {})
    assert "Needs attention" in shown and "2 posts wait" in shown, shown
    assert posts_to(fake, mods2) == 2  # /setup show tried once, at once

    clock.advance(hours=1)
    await rig.sweeper.run_once()
    assert posts_to(fake, mods2) == 3 and fake.messages[mods2] == []

    fake.recover()
    handled = rig.bot.reactions_handled
    shown = text_of((await ask(fake, "setup show", user_id=fake.owner_id)).data or {})
    await rig.settle(handled + 4)
    assert posts_to(fake, mods2) == 5 and len(fake.messages[mods2]) == 2
    listed = text_of((await ask(fake, "pending", user_id=fake.bob_id)).data or {})
    assert "Needs attention" not in listed, listed


OTHER = "https://example.org/other-acronyms"


async def test_a_decision_from_pending_leaves_that_list_showing_what_still_waits(rig: Moderated) -> None:
    """Two links for 2.4 wait; Bob approves #1 with the button under his /pending. Before, his
    list still showed #1 with its Approve and Reject (inviting a second decision), and he was told
    "Approved the link for 2.4.", not which of the two. Now his list shows only #2 with its
    buttons, he is told which submission and link he approved, and the moderator post (whose
    buttons have the same ids) shows the approval with its Undo. Rejecting #2 from the list,
    with the form, leaves it saying nothing waits; Carol's older copy of /pending, pressed for
    the decided #1, says so and is brought up to date too."""
    fake = rig.fake
    first = await submit(rig)
    second = await submit(rig, link=OTHER, note="")
    listed = await ask(fake, "pending", user_id=fake.bob_id)
    carols = await ask(fake, "pending", user_id=fake.user_id("carol"))
    assert listed.ephemeral and listed.message is not None and carols.message is not None
    labels = ["Approve 2.4 #1", "Reject 2.4 #1", "Approve 2.4 #2", "Reject 2.4 #2"]
    assert [label for label, _ in buttons(listed.message)] == labels

    iid = await fake.click(
        listed.message, dict(buttons(listed.message))["Approve 2.4 #1"], user_id=fake.bob_id
    )
    await fake.wait_for_callback(iid)
    told = await fake.wait_for_followup(iid)

    assert told.message is not None and told.message["flags"] & 64  # private
    assert f"Approved 2.4 #1: {LINK} from Alice." in text_of(told.message), text_of(told.message)
    now = fake.message(int(listed.message["id"]))
    assert [label for label, _ in buttons(now)] == ["Approve 2.4 #2", "Reject 2.4 #2"], buttons(now)
    assert "#1" not in text_of(now) and "2.4 #2" in text_of(now), text_of(now)
    assert description(fake, first) == "Approved by Bob."
    assert [label for label, _ in buttons(fake.message(int(first["id"])))] == ["Undo"]

    opened = await click(fake, now, "Reject 2.4 #2", fake.bob_id)
    assert opened.type == MODAL
    iid = await fake.submit_modal(opened.interaction_id, {"reason": "the same work as #1"})
    await fake.wait_for_callback(iid)
    told = await fake.wait_for_followup(iid)

    assert told.message is not None
    assert f"Rejected 2.4 #2: {OTHER} from Alice." in text_of(told.message), text_of(told.message)
    emptied = fake.message(int(listed.message["id"]))
    assert buttons(emptied) == [] and "Nothing is waiting for a decision." in text_of(emptied), emptied
    assert description(fake, second) == "Rejected by Bob: the same work as #1"

    late = await click(fake, carols.message, "Approve 2.4 #1", fake.user_id("carol"))
    told = await fake.wait_for_followup(late.interaction_id)
    assert told.message is not None
    assert "Already approved by Bob; nothing changed." in text_of(told.message), text_of(told.message)
    assert buttons(fake.message(int(carols.message["id"]))) == []
    assert await status(rig.bot.ctx, 1) == LinkStatus.APPROVED and len(fake.dms[fake.alice_id]) == 2


async def test_a_submitter_renamed_since_is_named_anew_on_the_post_and_on_pending(rig: Moderated) -> None:
    """Alice submits, then takes the nickname Alicia and asks /random: the next sweep edits the
    waiting post to name Alicia, /pending names her so, and the approval's history entry too.
    The edited post said "pending again: its decision was undone", of a link nobody had decided:
    it reads as a new submission's still."""
    fake = rig.fake
    post = await submit(rig)
    assert "Alice" in text_of(fake.message(int(post["id"])))
    fake.members[fake.alice_id]["nick"] = "Alicia"
    await ask(fake, "random")
    await rig.sweeper.run_once()
    shown = text_of(fake.message(int(post["id"])))
    assert "Alicia" in shown and "Alice\n" not in shown and not shown.endswith("Alice"), shown
    assert "New existing work for 2.4: react" in shown and "undone" not in shown, shown
    assert buttons(fake.message(int(post["id"])))[0][0] == "Approve"
    pending = text_of((await ask(fake, "pending", user_id=fake.bob_id)).data or {})
    assert "from Alicia" in pending, pending
    await rig.sweeper.run_once()
    assert len([e for e in edits(fake) if e == post["id"]]) == 1  # edited once, not at every sweep


async def test_reject_on_an_older_pending_list_for_a_submission_decided_since_brings_it_up_to_date(
    rig: Moderated,
) -> None:
    """Two links for 2.4 wait; Carol keeps an older copy of /pending while Bob approves #1 from
    his. Carol presses Reject for #1 on her copy: no form opens, she is told who decided it.
    Before, her copy still listed #1 with its Approve and Reject (where Approve pressed there
    would have brought it up to date); now it shows what still waits, #2 with its buttons."""
    fake = rig.fake
    carol = fake.user_id("carol")
    await submit(rig)
    await submit(rig, link=OTHER, note="")
    bobs = await ask(fake, "pending", user_id=fake.bob_id)
    carols = await ask(fake, "pending", user_id=carol)
    assert bobs.message is not None and carols.message is not None
    iid = await fake.click(bobs.message, dict(buttons(bobs.message))["Approve 2.4 #1"], user_id=fake.bob_id)
    await fake.wait_for_followup(iid)

    late = await click(fake, carols.message, "Reject 2.4 #1", carol)
    told = await fake.wait_for_followup(late.interaction_id)

    assert late.type != MODAL
    assert told.message is not None and told.message["flags"] & 64  # private
    assert "Already approved by Bob; nothing changed." in text_of(told.message), text_of(told.message)
    now = fake.message(int(carols.message["id"]))
    assert [label for label, _ in buttons(now)] == ["Approve 2.4 #2", "Reject 2.4 #2"], buttons(now)
    assert "#1" not in text_of(now) and "2.4 #2" in text_of(now), text_of(now)
    assert await status(rig.bot.ctx, 1) == LinkStatus.APPROVED


async def renamed_moderator_decides(rig: Moderated, decide: str) -> str:
    """Bob approves Alice's first link by ✅, takes the nickname Robert, then decides her second
    link (``decide``: by ❌, or with the Reject form) and nothing else; /history 2.4 as Alice
    then reads it."""
    fake = rig.fake
    first = await submit(rig)
    await rig.react(first, "✅", fake.bob_id)
    assert description(fake, first) == "Approved by Bob."
    fake.members[fake.bob_id]["nick"] = "Robert"
    second = await submit(rig, link=LINK + "/v2")
    if decide == "reaction":
        await rig.react(second, "❌", fake.bob_id)
    else:
        opened = await click(fake, second, "Reject with reason", fake.bob_id)
        await fake.wait_for_callback(await fake.submit_modal(opened.interaction_id, {"reason": "off topic"}))
    assert description(fake, second).startswith("Rejected by Robert")
    return text_of((await ask(fake, "history", {"number": "2.4"})).data or {})


@pytest.mark.parametrize("decide", ["reaction", "form"])
async def test_a_moderator_renamed_since_who_decides_by_reaction_or_form_shows_under_the_new_name(
    rig: Moderated, decide: str
) -> None:
    """Their earlier decision's history entry takes the name they decided under now, as a command
    or button press of theirs would have given it; before, it went on saying Bob."""
    history = await renamed_moderator_decides(rig, decide)
    assert f"Robert approved {LINK}" in history and f"Robert rejected {LINK}/v2" in history, history
    assert "Bob" not in history, history


RENAMED_TO = "@everyone <@&{role}> **x**"


async def test_a_rename_to_a_ping_or_markdown_shows_inert_on_cards_lists_history_and_the_post(
    rig: Moderated,
) -> None:
    """Alice claims 1.5 and submits a link, then takes a nickname that is a ping and markdown and
    asks only /random: the card, /claims, /history and the moderator post the sweep edits name her
    so, escaped, and nothing they send may ping."""
    fake = rig.fake
    role = fake.role_id("Reviewers")
    await ask(fake, "claim", {"number": "2.4"})
    post = await submit(rig)
    nick = RENAMED_TO.format(role=role)
    fake.members[fake.alice_id]["nick"] = nick
    await ask(fake, "random")
    await rig.sweeper.run_once()
    answers = [
        await ask(fake, "problem", {"number": "2.4"}, user_id=fake.bob_id),
        await ask(fake, "claims", {"everyone": True}, user_id=fake.bob_id),
        await ask(fake, "history", {"number": "2.4"}, user_id=fake.bob_id),
        await ask(fake, "pending", user_id=fake.bob_id),
    ]
    shown = [text_of(a.data or {}) for a in answers] + [text_of(fake.message(int(post["id"])))]
    for text in shown:
        assert nick in literal(text) or nick.replace("@", "@\u200b") in literal(text), text
        for raw in ("@everyone", f"<@&{role}>", "**x**"):
            assert raw not in text, text
        assert not markdown(text).live, text
    assert all((a.data or {}).get("allowed_mentions") == {"parse": []} for a in answers)
    edit = [r for r in fake.requests if (r.route or "").startswith("PATCH /channels/")][-1]
    assert edit.params["message_id"] == post["id"] and edit.json["allowed_mentions"] == {"parse": []}


async def test_the_submitter_withdraws_and_the_post_offers_nothing_to_decide(rig: Moderated) -> None:
    """Alice's /withdraw 2.4, answered to her alone: the post is edited to say she withdrew it,
    without buttons; no DM; Bob's /withdraw (none of his) changes nothing. A Reject pressed on an
    old copy of the post opens no form, and Carol's ✅ is answered, pinging her alone, that
    there is nothing to decide; the link stays out of the catalogue."""
    fake = rig.fake
    post = await submit(rig)
    as_posted = copy.deepcopy(post)
    carol = fake.user_id("carol")

    not_his = await ask(fake, "withdraw", {"number": "2.4"}, user_id=fake.bob_id)
    assert not_his.ephemeral and "nothing to withdraw" in embed(not_his)["description"]
    assert await status(rig.bot.ctx) == LinkStatus.PENDING and edits(fake) == []

    answer = await ask(fake, "withdraw", {"number": "2.4"})
    assert answer.ephemeral
    assert embed(answer)["description"].startswith(f"Withdrawn: your link for 2.4 ({LINK}).")
    assert await status(rig.bot.ctx) == LinkStatus.WITHDRAWN
    assert description(fake, post) == "Withdrawn by Alice, who submitted it: nothing to decide."
    assert buttons(fake.message(int(post["id"]))) == []
    assert not fake.dms.get(fake.alice_id)

    pressed = await fake.wait_for_callback(await fake.click(as_posted, "cop:reject:1", user_id=fake.bob_id))
    assert pressed.type != MODAL
    assert embed(pressed)["description"] == "Already withdrawn by Alice, who submitted it: nothing to decide."

    await rig.react(post, "✅", carol)
    (told,) = [m for m in mods(fake) if (m.get("message_reference") or {}).get("message_id") == post["id"]]
    assert told["content"] == f"<@{carol}>"
    assert "Alice withdrew 2.4 #1, which they submitted: your ✅ changed nothing" in text_of(told)
    assert await status(rig.bot.ctx) == LinkStatus.WITHDRAWN
    card = text_of((await ask(fake, "problem", {"number": "2.4"}, user_id=fake.bob_id)).data or {})
    assert LINK not in card


async def test_withdraw_asks_which_with_a_button_for_each_waiting_link(rig: Moderated) -> None:
    """Two of Alice's links wait for 2.4: /withdraw 2.4 asks which, privately, with a Withdraw
    button each. She presses #1's: that one is withdrawn (its post says so), the question she
    pressed it in loses that button, and #2 stays waiting, its post still offering a decision."""
    fake = rig.fake
    first = await submit(rig, "https://example.org/one")
    second = await submit(rig, "https://example.org/two")

    which = await ask(fake, "withdraw", {"number": "2.4"})
    assert which.ephemeral and which.message is not None
    assert [label for label, _ in buttons(which.message)] == ["Withdraw 2.4 #2", "Withdraw 2.4 #1"]

    iid = await fake.click(which.message, dict(buttons(which.message))["Withdraw 2.4 #1"])
    await fake.wait_for_callback(iid)
    told = await fake.wait_for_followup(iid)

    assert told.message is not None and told.message["flags"] & 64  # private
    assert "Withdrawn: your link for 2.4 (https://example.org/one)." in text_of(told.message)
    asked = fake.message(int(which.message["id"]))
    assert [label for label, _ in buttons(asked)] == ["Withdraw 2.4 #2"]
    assert await status(rig.bot.ctx, 1) == LinkStatus.WITHDRAWN
    assert await status(rig.bot.ctx, 2) == LinkStatus.PENDING
    assert description(fake, first) == "Withdrawn by Alice, who submitted it: nothing to decide."
    assert [label for label, _ in buttons(fake.message(int(second["id"])))] == [
        "Approve",
        "Reject with reason",
    ]

    # /withdraw with no option: all of hers that wait, each with its button.
    everything = await ask(fake, "withdraw")
    assert everything.ephemeral and everything.message is not None
    assert "2.4 #2: https://example.org/two" in text_of(everything.message)
    assert buttons(everything.message) == [("Withdraw 2.4 #2", "cop:withdraw:2.all")]


async def test_a_decision_made_while_copbot_could_not_see_the_moderator_channel_shows_once_it_can(
    rig: Moderated,
) -> None:
    """An admin takes View Channel in the moderator channel from copbot's role for a while; Bob
    approves Alice's link with the post's button meanwhile. Discord refuses the edit (403, 50001
    Missing Access): the approval stands and Alice is told, but the post still offers Approve.
    Before, that refusal was taken for a post gone for good and the edit written off, so the
    post offered Approve and Reject forever, after access came back too. Now the sweeps after
    the admin gives access back show the approval on it, with its Undo."""
    fake = rig.fake
    post = await submit(rig)
    mods_id = fake.channel_id("mods")
    await fake.set_overwrites(mods_id, [{"id": fake.bot_role_id, "type": 0, "deny": ["view_channel"]}])
    await fake.sync()

    approved = await click(fake, post, "Approve", fake.bob_id)
    assert embed(approved)["description"].startswith("Approved 2.4 #"), embed(approved)
    assert await status(rig.bot.ctx) == LinkStatus.APPROVED and len(fake.dms[fake.alice_id]) == 1
    assert description(fake, post).startswith("New existing work for 2.4")
    await rig.sweeper.run_once()
    assert description(fake, post).startswith("New existing work for 2.4")

    await fake.set_overwrites(mods_id, [])  # the admin gives copbot its access back
    await fake.sync()
    await rig.sweeper.run_once()

    assert description(fake, post) == "Approved by Bob."
    assert buttons(fake.message(int(post["id"]))) == [("Undo", "cop:undo:1.1")]
    assert len(fake.dms[fake.alice_id]) == 1
