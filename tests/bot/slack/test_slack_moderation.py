"""Submissions on Slack: posted to the moderator channel, decided by reaction, button or modal.

Moderation is wired into the context exactly as ``copbot run`` wires it (``make_moderation``),
through the real Bolt app and the fake Slack, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.ops import Metrics, OpsServer
from bot.outbound import Posted
from bot.runner import make_moderation
from bot.slack.frontend import SlackFrontEnd
from bot.slack.people import Directory
from commands.links import normalise_link
from commands.types import Context
from storage import submissions
from storage.catalogue import export_csv
from storage.claims import Person
from storage.engine import make_engine
from storage.models import LinkStatus
from storage.store import Store
from tests.bot.slack.slack_rig import (
    ANN,
    BOB,
    MO2,
    MOD,
    MODS,
    REMIND,
    TOKEN,
    Answer,
    Rig,
    add_people,
    moderated,
    running,
    settings_for,
    tries_in,
)
from tests.fakes.slack_api import Call, FakeSlack, SlackReply, reaction_event
from tests.support.clock import FakeClock
from tests.support.metrics import counted, scrape
from tests.support.pg import connect
from tests.support.tcp_proxy import TcpProxy

LINK = "https://example.org/acronyms"
NOTE = "IOI-style circuit for acronyms"
SUBMIT = f"2.4 {LINK} {NOTE}"
ANN_DM = "D0ANN"


@pytest.fixture
async def rig(fake: FakeSlack, ctx: Context) -> AsyncIterator[Rig]:
    """The front end with SLACK_MODERATOR_CHANNEL=C0MODS, SLACK_MODERATORS=U0MOD."""
    async with moderated(fake, ctx) as rig:
        yield rig


async def submit(rig: Rig, text: str = SUBMIT, user: str = ANN) -> tuple[Answer, Call]:
    """``/submit`` as ``user``: the private answer, and the post in the moderator channel."""
    answer = await rig.command("/submit", text, user=user)
    assert "went to the moderators" in answer.shown, answer.shown
    return answer, rig.posts_in(MODS)[-1]


async def status(ctx: Context, link_id: int = 1) -> str:
    link = await submissions.get_link(ctx.store, link_id)
    assert link is not None
    return link.status


async def test_submit_posts_to_the_moderators_with_the_bots_two_reactions(rig: Rig) -> None:
    answer, post = await submit(rig)

    assert not answer.public
    assert "Thanks! Your link for 2.4 went to the moderators" in answer.shown
    shown = Answer.of(post)
    assert shown.header == "Submission for 2.4"
    assert shown.field("Problem").startswith("2.4 — 3 letter acronyms")
    assert shown.field("From") == "ann"
    assert f"*Link*\n• <{LINK}>" in shown.shown
    assert f"*Note*\n• {NOTE}" in shown.shown
    assert shown.buttons == ["Approve", "Reject with reason"]
    assert [shown.button(b)["action_id"] for b in shown.buttons] == ["cop:approve:1", "cop:reject:1"]
    assert sorted((c["channel"], c["timestamp"], c["name"]) for c in rig.fake.reactions) == [
        (MODS, post.ts, "white_check_mark"),
        (MODS, post.ts, "x"),
    ]
    link = await submissions.get_link(rig.ctx.store, 1)
    assert link is not None and (link.mod_channel_id, link.mod_message_id) == (MODS, post.ts)
    assert link.mod_url == rig.fake.calls_to("chat.getPermalink")[0].response["permalink"]


async def test_pending_links_to_the_post(rig: Rig) -> None:
    _, post = await submit(rig)

    pending = await rig.command("/pending", user=MOD)
    refused = await rig.command("/pending", user=ANN)

    permalink = f"https://fake-team.slack.com/archives/{MODS}/p{post.ts.replace('.', '')}"
    assert f"<{permalink}|2.4 #1: {LINK} from ann, 2026-11-25 (today)>" in pending.shown
    assert "/pending is for moderators." in refused.shown


async def test_a_pending_line_s_name_cannot_format_its_link(fake: FakeSlack, ctx: Context) -> None:
    """A /pending line is a link to the moderator post labelled with the submitter's name, and
    Slack formats mrkdwn inside a link's label (its Android app is reported to show such a link
    as plain text). Before, Ann named "*Ann* ~dev~" showed bold and struck through inside the link; now
    her name shows as she wrote it, as it does everywhere else in copbot's messages."""
    fake.add_user(ANN, "ann", display_name="*Ann* ~dev~")
    async with moderated(fake, ctx) as rig:
        _, post = await submit(rig)
        pending = await rig.command("/pending", user=MOD)

    z = "\u200b"  # what follows each character that could format (bot.slack.render.inert)
    permalink = f"https://fake-team.slack.com/archives/{MODS}/p{post.ts.replace('.', '')}"
    assert f"<{permalink}|2.4 #1: {LINK} from *{z}Ann*{z} ~{z}dev~{z}, 2026-11-25 (today)>" in pending.shown


async def test_approval_by_reaction_lists_the_link_and_tells_the_submitter(rig: Rig) -> None:
    _, post = await submit(rig)

    await rig.react(MOD, "white_check_mark", post.ts)

    edited = rig.current(MODS, post.ts)
    assert "Approved by mod." in edited.shown and edited.buttons == ["Undo"]
    (dm,) = rig.fake.dms(ANN)
    assert "Your link for 2.4 — 3 letter acronyms" in dm["text"] and "was approved" in dm["text"]
    card = await rig.command("/problem", "2.4", user=BOB)
    assert f"<{LINK}> — {NOTE}" in card.shown
    history = await rig.command("/history", "2.4", user=BOB)
    assert "mod approved <https://example.org/acronyms>" in history.shown
    rows = {r[3]: r for r in csv.reader(io.StringIO(await export_csv(rig.ctx.store)))}
    assert f"{LINK} — {NOTE} (via copbot)" in rows["2.4"][5]


async def test_rejection_by_reaction(rig: Rig) -> None:
    _, post = await submit(rig)

    await rig.react(MOD, "x", post.ts)

    assert "Rejected by mod." in rig.current(MODS, post.ts).shown
    (dm,) = rig.fake.dms(ANN)
    assert dm["text"].endswith("was not accepted.")
    assert LINK not in (await rig.command("/problem", "2.4")).shown


async def test_reactions_that_do_not_decide(rig: Rig) -> None:
    """A member's ✅, the bot's own, other emoji, and ✅ on the same ts in another channel."""
    _, post = await submit(rig)

    await rig.react(ANN, "white_check_mark", post.ts)
    await rig.react(BOB, "x", post.ts)
    await rig.react(rig.fake.bot_user_id, "white_check_mark", post.ts)
    await rig.react(MOD, "eyes", post.ts)
    await rig.react(MOD, "heavy_check_mark", post.ts)
    await rig.react(MOD, "white_check_mark", post.ts, channel="C0GENERAL")
    await rig.react(MOD, "white_check_mark", "1111111111.000001")  # not a submission's post

    assert await status(rig.ctx) == LinkStatus.PENDING
    assert rig.fake.updates == [] and rig.fake.dms(ANN) == []


async def test_a_check_mark_on_an_everyday_message_looks_nobody_up(fake: FakeSlack, ctx: Context) -> None:
    """✅ and ❌ are everyday emoji: one on a message that is no submission's post (in the
    moderator channel, or a post's timestamp in another channel) costs no look-up of who added
    it (users.info, the moderators' user group); one on a submission's post does."""
    fake.add_usergroup("S0MODS", [MO2])
    async with moderated(fake, ctx, slack_moderators=f"{MOD},S0MODS") as rig:
        _, post = await submit(rig)

        def lookups() -> tuple[int, int]:
            return len(fake.calls_to("users.info")), len(fake.calls_to("usergroups.users.list"))

        before = lookups()
        await rig.react(BOB, "white_check_mark", "1111111111.000001")
        await rig.react(BOB, "x", post.ts, channel="C0GENERAL")
        assert lookups() == before

        await rig.react(BOB, "white_check_mark", post.ts)
        assert [c.args["user"] for c in fake.calls_to("users.info")[before[0] :]] == [BOB]
        assert await status(ctx) == LinkStatus.PENDING and fake.updates == []


async def test_the_bots_own_reactions_never_count_even_if_it_is_listed(fake: FakeSlack, ctx: Context) -> None:
    async with moderated(fake, ctx, slack_moderators=f"{MOD},{fake.bot_user_id}") as rig:
        _, post = await submit(rig)

        await rig.react(fake.bot_user_id, "white_check_mark", post.ts)

        assert await status(ctx) == LinkStatus.PENDING and fake.updates == []


async def test_a_retried_reaction_event_is_applied_once(rig: Rig) -> None:
    _, post = await submit(rig)

    await rig.react(MOD, "white_check_mark", post.ts, event_id="Ev0APPROVE")
    await rig.react(MOD, "white_check_mark", post.ts, event_id="Ev0APPROVE", retry_num=1)
    await rig.react(MOD, "white_check_mark", post.ts, event_id="Ev0APPROVE", retry_num=2)

    assert len(rig.fake.updates) == 1 and len(rig.fake.dms(ANN)) == 1
    history = (await rig.command("/history", "2.4")).shown
    assert history.count("mod approved") == 1


async def test_a_first_delivery_that_is_a_retry_still_counts(rig: Rig) -> None:
    """copbot was down for Slack's first attempt: the retry is the only delivery, and decides."""
    _, post = await submit(rig)

    await rig.react(MOD, "white_check_mark", post.ts, event_id="Ev0AFTERDOWN", retry_num=1)

    assert await status(rig.ctx) == LinkStatus.APPROVED and len(rig.fake.updates) == 1


async def test_a_retry_arriving_after_an_undo_does_not_decide_again(rig: Rig) -> None:
    """Only the event id tells a late retry from a new reaction: the decision is not re-applied."""
    _, post = await submit(rig)
    await rig.react(MOD, "white_check_mark", post.ts, event_id="Ev0LATE")
    await rig.click(rig.current(MODS, post.ts), "Undo", user=MOD, channel=MODS, ts=post.ts)

    await rig.react(MOD, "white_check_mark", post.ts, event_id="Ev0LATE", retry_num=3)

    assert await status(rig.ctx) == LinkStatus.PENDING


@pytest.mark.parametrize("retried_by", ["the same process", "a restarted process"])
async def test_a_reaction_whose_decision_failed_is_applied_by_slack_s_retry(
    fake: FakeSlack, pg_db_url: str, clock: FakeClock, retried_by: str
) -> None:
    """The first delivery's decision never commits: another transaction holds the submission's
    row past DATABASE_TIMEOUT (0.5 s here), as a process killed mid-decision never commits
    either. The event id goes with it, so Slack's retry decides, wherever it arrives."""
    first = Store(make_engine(pg_db_url, timeout=0.5))
    restarted = Store(make_engine(pg_db_url))
    holder = await connect(pg_db_url)
    try:
        async with moderated(fake, Context(store=first, clock=clock), answer_within=0.05) as rig:
            _, post = await submit(rig)
            async with holder.transaction():
                await holder.execute("SELECT id FROM work_link WHERE id = 1 FOR UPDATE")
                await rig.react(MOD, "white_check_mark", post.ts, event_id="Ev0FAILED")
            assert await status(rig.ctx) == LinkStatus.PENDING and fake.updates == []
            if retried_by == "the same process":
                await rig.react(MOD, "white_check_mark", post.ts, event_id="Ev0FAILED", retry_num=1)
        if retried_by == "a restarted process":
            async with moderated(fake, Context(store=restarted, clock=clock)) as rig:
                await rig.react(MOD, "white_check_mark", post.ts, event_id="Ev0FAILED", retry_num=1)

        assert await status(rig.ctx) == LinkStatus.APPROVED
        assert "Approved by mod." in rig.current(MODS, post.ts).shown
        (dm,) = fake.dms(ANN)
        assert "was approved" in dm["text"]
    finally:
        await holder.close()
        await first.close()
        await restarted.close()


async def test_two_moderators_at_once_make_one_decision(fake: FakeSlack, ctx: Context) -> None:
    """U0MOD by id, U0MO2 through a user group; ✅ and ❌ arrive together: the first one wins."""
    fake.add_usergroup("S0MODS", [MO2])
    async with moderated(fake, ctx, slack_moderators=f"{MOD},S0MODS") as rig:
        _, post = await submit(rig)

        replies = await asyncio.gather(
            rig.slack.event(reaction_event(MOD, "white_check_mark", MODS, post.ts)),
            rig.slack.event(reaction_event(MO2, "x", MODS, post.ts)),
        )
        await rig.front.drain()

        assert [r.status for r in replies] == [200, 200]
        link = await submissions.get_link(ctx.store, 1)
        assert link is not None and link.status in (LinkStatus.APPROVED, LinkStatus.REJECTED)
        assert link.decided_by_id == (MOD if link.status == LinkStatus.APPROVED else MO2)
        assert len(fake.updates) == 1 and len(fake.dms(ANN)) == 1
        history = (await rig.command("/history", "2.4")).shown
        assert history.count("mod approved") + history.count("mo2 rejected") == 1


async def test_approve_button_for_moderators_only(rig: Rig) -> None:
    _, post = await submit(rig)
    shown = Answer.of(post)

    refused = await rig.click(shown, "Approve", user=BOB, channel=MODS, ts=post.ts)
    approved = await rig.click(shown, "Approve", user=MOD, channel=MODS, ts=post.ts)
    again = await rig.click(shown, "Approve", user=MOD, channel=MODS, ts=post.ts)

    assert not refused.public and "Only moderators can decide submissions." in refused.shown
    assert not approved.public and "Approved 2.4 #" in approved.shown
    assert "Already approved by mod; nothing changed." in again.shown
    assert "Approved by mod." in rig.current(MODS, post.ts).shown
    assert len(rig.fake.dms(ANN)) == 1


async def give_reason(rig: Rig, view: dict[str, Any], reason: str) -> dict[str, Any]:
    """mod submits the reject form ``view`` with ``reason``: the answer by its response_url."""
    before = len(rig.fake.responses)
    ack = await rig.slack.view_submission(
        view["callback_id"],
        {"reason": {"reason": reason}},
        user_id=MOD,
        private_metadata=view["private_metadata"],
    )
    assert (ack.status, ack.text) == (200, "")  # an empty ack closes the modal
    return dict((await rig.fake.wait_for("response_url", count=before + 1)).args)


async def test_reject_with_reason_opens_a_modal_whose_reason_reaches_the_submitter(rig: Rig) -> None:
    _, post = await submit(rig)

    await rig.press(Answer.of(post), "Reject with reason", user=MOD, channel=MODS, ts=post.ts)
    (opened,) = rig.fake.calls_to("views.open", ok=True)
    view = opened["view"]
    assert opened["trigger_id"] and view["callback_id"] == "cop_reject_reason"
    assert json.loads(view["private_metadata"])["link"] == 1
    assert f"<{LINK}>" in view["blocks"][1]["text"]["text"]
    # Slack's client refuses a reason under 2 characters, as Discord's form does (it took one).
    assert view["blocks"][2]["element"]["min_length"] == 2
    assert await status(rig.ctx) == LinkStatus.PENDING  # nothing decided by opening the form

    answer = await give_reason(rig, view, "  not about   acronyms ")

    assert answer["response_type"] == "ephemeral" and answer["text"].startswith("Rejected 2.4 #")
    assert "Rejected by mod: not about acronyms" in rig.current(MODS, post.ts).shown
    (dm,) = rig.fake.dms(ANN)
    assert dm["text"].endswith("was not accepted: not about acronyms")
    history = (await rig.command("/history", "2.4")).shown
    assert "mod rejected <https://example.org/acronyms> (not about acronyms)" in history


async def test_reject_form_needs_a_reason_and_a_moderator(rig: Rig) -> None:
    _, post = await submit(rig)
    shown = Answer.of(post)

    refused = await rig.click(shown, "Reject with reason", user=BOB, channel=MODS, ts=post.ts)
    await rig.press(shown, "Reject with reason", user=MOD, channel=MODS, ts=post.ts)
    view = rig.fake.calls_to("views.open")[-1]["view"]
    blank = await rig.slack.view_submission(
        view["callback_id"],
        {"reason": {"reason": "   "}},
        user_id=MOD,
        private_metadata=view["private_metadata"],
    )
    # Someone who is not a moderator cannot use a form either, should one reach them.
    before = len(rig.fake.responses)
    await rig.slack.view_submission(
        view["callback_id"],
        {"reason": {"reason": "spam"}},
        user_id=BOB,
        private_metadata=view["private_metadata"],
    )
    not_mod = await rig.fake.wait_for("response_url", count=before + 1)

    assert "Only moderators can decide submissions." in refused.shown
    assert len(rig.fake.calls_to("views.open")) == 1  # only the moderator's click opened it
    assert blank.json() == {
        "response_action": "errors",
        "errors": {"reason": "Please say why, in a few words."},
    }
    assert not_mod["text"].endswith("Only moderators can decide submissions.")
    assert await status(rig.ctx) == LinkStatus.PENDING


async def test_the_reject_form_is_counted_in_the_metrics(rig: Rig) -> None:
    """Each reject form submitted counts in /metrics as form:reject by its outcome, as a button
    press does: the rejection, and the refusals (not a moderator, already decided)."""
    server = OpsServer(rig.ctx.store, Metrics(), [])
    port = await server.start("127.0.0.1", 0)
    try:
        _, post = await submit(rig)
        await rig.press(Answer.of(post), "Reject with reason", user=MOD, channel=MODS, ts=post.ts)
        view = rig.fake.calls_to("views.open")[-1]["view"]
        for user, reason in [(BOB, "spam"), (MOD, "spam"), (MOD, "again")]:
            before = len(rig.fake.responses)
            await rig.slack.view_submission(
                view["callback_id"],
                {"reason": {"reason": reason}},
                user_id=user,
                private_metadata=view["private_metadata"],
            )
            await rig.fake.wait_for("response_url", count=before + 1)
        samples = await scrape(port)
    finally:
        await server.close()
    assert counted(samples, "form:reject") == {"ok": 1, "user_error": 2}
    assert samples['copbot_command_seconds_count{command="form:reject"}'] == 3


async def test_a_form_naming_a_response_url_off_slack_is_not_answered_there(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """A reject form comes back with the response_url copbot wrote in its metadata; one forged to
    name another address (it takes the signing secret) gets no post from copbot."""
    _, post = await submit(rig)
    got: list[str] = []

    async def listener(request: web.Request) -> web.Response:
        got.append(await request.text())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/anything", listener)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        meta = json.dumps({"link": 1, "response_url": f"http://127.0.0.1:{port}/anything"})
        await rig.slack.view_submission(
            "cop_reject_reason", {"reason": {"reason": "spam"}}, user_id=BOB, private_metadata=meta
        )
        await rig.front.drain()
    finally:
        await runner.cleanup()
    assert got == []
    assert "a reject form named a response_url that is not Slack's" in caplog.text
    assert await status(rig.ctx) == LinkStatus.PENDING


async def test_reject_form_on_a_decided_submission_says_so(rig: Rig) -> None:
    _, post = await submit(rig)
    await rig.react(MOD, "white_check_mark", post.ts)

    answer = await rig.click(Answer.of(post), "Reject with reason", user=MOD, channel=MODS, ts=post.ts)

    assert "Already approved by mod; nothing changed." in answer.shown
    assert rig.fake.calls_to("views.open") == []


async def test_a_reaction_against_the_decision_is_answered_to_its_moderator_alone(rig: Rig) -> None:
    """The moderator approved with ✅, then reacts ❌ to the approved post: it stays approved, and
    before nothing said the ❌ changed nothing. Now an ephemeral message, to them alone, names the
    decision and Undo; a ✅ agreeing with it gets none."""
    _, post = await submit(rig)
    await rig.react(MOD, "white_check_mark", post.ts)
    assert rig.fake.ephemerals == []

    await rig.react(MOD, "x", post.ts)

    assert await status(rig.ctx) == LinkStatus.APPROVED
    (told,) = rig.fake.ephemerals
    assert told.args["channel"] == MODS and told.args["user"] == MOD
    assert (
        "2.4 #1 is already approved by" in told.args["text"]
        and "your ❌ changed nothing" in told.args["text"]
    )
    assert "Undo" in told.args["text"]
    await rig.react(MOD, "white_check_mark", post.ts)
    assert len(rig.fake.ephemerals) == 1


async def test_an_answer_to_a_reaction_against_the_decision_that_fails_is_not_a_failed_reaction(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack refuses the ephemeral answer to a ❌ under an approved post: the reaction was handled
    all the same, so it is one warning, not a failed event (an ERROR, and Slack asked to send it
    again or the moderator told it was 'not recorded')."""
    _, post = await submit(rig)
    await rig.react(MOD, "white_check_mark", post.ts)
    rig.fake.fail_method("chat.postEphemeral", "ratelimited")

    response = await rig.react(MOD, "x", post.ts)

    assert response.status == 200
    assert rig.fake.ephemerals == [] and await status(rig.ctx) == LinkStatus.APPROVED
    assert any("answering :x:" in r.getMessage() for r in caplog.records)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []  # no "event failed"


async def test_undo_for_moderators_returns_the_submission_to_pending(rig: Rig) -> None:
    _, post = await submit(rig)
    await rig.react(MOD, "white_check_mark", post.ts)
    decided = rig.current(MODS, post.ts)

    refused = await rig.click(decided, "Undo", user=ANN, channel=MODS, ts=post.ts)
    undone = await rig.click(decided, "Undo", user=MOD, channel=MODS, ts=post.ts)

    assert "Only moderators can decide submissions." in refused.shown
    assert "Undone: 2.4 #" in undone.shown
    again = rig.current(MODS, post.ts)
    assert again.buttons == ["Approve", "Reject with reason"] and "New existing work for 2.4" in again.shown
    assert LINK not in (await rig.command("/problem", "2.4")).shown
    assert "was undone; it is pending again" in rig.fake.dms(ANN)[-1]["text"]
    assert "mod undid the approval of" in (await rig.command("/history", "2.4")).shown
    # Pending again: the same post's reactions decide it again.
    await rig.react(MOD, "x", post.ts)
    assert await status(rig.ctx) == LinkStatus.REJECTED


DORA = Person("discord", "111111111111111111", "222222222222222222", "dora")


async def submit_on_discord(rig: Rig, link: str = "https://example.org/dora") -> int:
    """A submission of a Discord server's member, stored as Discord's /submit stores it."""
    normalized = normalise_link(link)
    stored = await submissions.submit(rig.ctx.store, "2.4", link, normalized, "", DORA, rig.ctx.clock(), 10)
    assert stored.id is not None
    return stored.id


async def press_id(rig: Rig, action_id: str, user: str = MOD) -> str:
    """A button press whose id is ``action_id`` (a crafted one, or a copy of a real one); the answer."""
    before = len(rig.fake.responses)
    await rig.slack.block_action(action_id, user_id=user, channel_id=MODS)
    await rig.front.drain()
    return str((await rig.fake.wait_for("response_url", count=before + 1))["text"])


async def test_a_moderator_decides_only_their_own_communitys_submissions(rig: Rig) -> None:
    """A button id or a form's metadata can name any submission: a Discord server's, or another
    workspace's. Each community decides its own; the others get Reject with reason's refusal."""
    nowhere = ":warning: That submission does not exist; use /pending instead."
    _, post = await submit(rig)
    dora = await submit_on_discord(rig)
    meta = json.dumps({"link": dora, "response_url": None})

    approve = await press_id(rig, f"cop:approve:{dora}")
    await rig.slack.view_submission(
        "cop_reject_reason", {"reason": {"reason": "nope"}}, user_id=MOD, private_metadata=meta
    )
    await rig.front.drain()
    assert approve == nowhere
    assert await status(rig.ctx, dora) == LinkStatus.PENDING

    await submissions.decide(rig.ctx.store, dora, DORA, True, "", rig.ctx.clock())  # on Discord
    undo = await press_id(rig, f"cop:undo:{dora}")
    assert undo == nowhere
    assert await status(rig.ctx, dora) == LinkStatus.APPROVED

    # The app installed in another workspace too (a second copbot on the same database, with
    # that install's token): its moderator presses Approve there.
    async with FakeSlack(tokens={TOKEN}, team_id="T0OTHER") as elsewhere:
        add_people(elsewhere)
        settings = {"slack_moderators": MOD, "slack_moderator_channel": MODS}
        async with running(elsewhere, rig.ctx, **settings) as other_rig:
            other = await other_rig.click(Answer.of(post), "Approve", user=MOD, channel=MODS, ts=post.ts)
            form = await other_rig.click(
                Answer.of(post), "Reject with reason", user=MOD, channel=MODS, ts=post.ts
            )
    assert other.message["text"] == nowhere and form.message["text"] == nowhere
    assert elsewhere.calls_to("views.open") == []
    assert await status(rig.ctx) == LinkStatus.PENDING
    assert rig.fake.calls_to("views.open") == [] and rig.fake.dms(ANN) == []
    assert "New existing work for 2.4" in rig.current(MODS, post.ts).shown


async def test_another_communitys_submission_of_the_same_work_is_named(rig: Rig) -> None:
    """/pending shows only this workspace's submissions: an answer about another community's
    says where it waits."""
    await submit_on_discord(rig, LINK)
    again = await rig.command("/submit", SUBMIT, user=ANN)
    assert "That work is already submitted for 2.4 (waiting for the moderators on Discord)." in again.shown

    _, post = await submit(rig, f"2.4 {LINK}/other")
    ours = int(Answer.of(post).button("Approve")["action_id"].rsplit(":", 1)[1])
    await rig.react(MOD, "x", post.ts)
    await submit_on_discord(rig, f"{LINK}/other")
    undo = await rig.click(rig.current(MODS, post.ts), "Undo", user=MOD, channel=MODS, ts=post.ts)
    assert (
        "The same work was submitted again on Discord meanwhile; its moderators there decide it."
        in undo.shown
    )
    assert await status(rig.ctx, ours) == LinkStatus.REJECTED


async def test_a_button_id_of_other_digits_is_a_broken_button(rig: Rig) -> None:
    """``²`` is a digit to ``str.isdigit`` but not to ``int``: such ids were an apology and a
    logged traceback."""
    await submit(rig)
    assert await press_id(rig, "cop:approve:²") == ":warning: That button is broken; use /pending instead."
    assert (
        await press_id(rig, "cop:renew:²", user=ANN)
        == ":warning: That button is broken; use /claims instead."
    )
    assert await status(rig.ctx) == LinkStatus.PENDING


async def test_a_decision_after_a_restart(
    fake: FakeSlack, ctx: Context, db_url: str, clock: FakeClock
) -> None:
    """The process that posted is gone; a new one (new store, front end, moderation) decides."""
    async with moderated(fake, ctx) as rig:
        _, post = await submit(rig)

    store = Store(make_engine(db_url))
    restarted = Context(store=store, clock=clock)
    try:
        async with moderated(fake, restarted) as rig:
            await rig.react(MOD, "white_check_mark", post.ts)

            assert "Approved by mod." in rig.current(MODS, post.ts).shown
            assert [c["channel"] for c in fake.updates] == [MODS]
            assert len(fake.dms(ANN)) == 1
    finally:
        await store.close()
    assert await status(ctx) == LinkStatus.APPROVED


async def test_without_a_moderator_channel_it_waits_then_is_posted_once(
    fake: FakeSlack, ctx: Context
) -> None:
    async with moderated(fake, ctx, slack_moderator_channel=None) as rig:
        answer = await rig.command("/submit", SUBMIT, user=ANN)
        pending = await rig.command("/pending", user=MOD)

        assert "no moderator channel is set:" in answer.shown
        assert "not posted yet" in pending.shown
        assert fake.posts == [] and fake.reactions == []

    # copbot restarts with SLACK_MODERATOR_CHANNEL set: the runner's recover() posts it.
    async with moderated(fake, ctx) as rig:
        assert rig.moderation is not None
        await rig.moderation.recover()
        await rig.moderation.recover()  # a second start-up posts nothing more

        (post,) = rig.posts_in(MODS)
        assert "Submission for 2.4" in Answer.of(post).header
        await rig.react(MOD, "white_check_mark", post.ts)
        assert await status(ctx) == LinkStatus.APPROVED


async def test_a_note_cannot_ping_anyone(rig: Rig) -> None:
    # As Slack sends it (escaped), plus raw markup and a bare @here.
    note = "&lt;!channel&gt; see <!here> @here <@U0BOB> &amp; <!subteam^S0MODS>"
    _, post = await submit(rig, f"2.4 {LINK} {note}")

    shown = Answer.of(post)
    assert (
        "*Note*\n• &lt;!channel&gt; see &lt;!here&gt; @here &lt;@U0BOB&gt; &amp; &lt;!subteam^S0MODS&gt;"
        in (shown.shown)
    )
    payload = json.dumps(post.args)
    assert "<!" not in payload and "<@" not in payload
    assert post["parse"] == "none" and post["link_names"] in (False, "0", "false")
    mrkdwn = [t for b in post["blocks"] for t in _texts(b) if t["type"] == "mrkdwn"]
    assert mrkdwn and all(t.get("verbatim") is True for t in mrkdwn)


def _texts(block: dict[str, object]) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    text = block.get("text")
    if isinstance(text, dict):
        found.append(text)
    for key in ("fields", "elements"):
        items = block.get(key)
        if isinstance(items, list):
            found += [i for i in items if isinstance(i, dict) and "type" in i and "text" in i]
    return found


async def test_posting_failures_leave_the_submission_pending_and_retried(
    fake: FakeSlack, ctx: Context
) -> None:
    """The bot was not invited to the channel: stored, pending, posted at the next start (where
    ``copbot run`` recovers: the restart may be how the channel was mended), not sooner than the
    hour a refusing channel waits at the sweeps."""
    fake.fail(MODS, "not_in_channel", methods={"chat.postMessage"})
    async with moderated(fake, ctx) as rig:
        answer = await rig.command("/submit", SUBMIT, user=ANN)
        assert "I may not post in the moderators' channel" in answer.shown and rig.posts_in(MODS) == []
        assert "please tell an admin" in answer.shown

    fake.clear_failures()
    async with moderated(fake, ctx) as rig:
        assert rig.moderation is not None
        await rig.moderation.recover()  # what copbot run does at start
        assert len(rig.posts_in(MODS)) == 1
        await rig.moderation.catch_up()  # the next sweep tick
        assert len(rig.posts_in(MODS)) == 1


async def test_a_failing_permalink_still_records_the_post(rig: Rig) -> None:
    rig.fake.fail_method("chat.getPermalink", "internal_error")

    _, post = await submit(rig)

    link = await submissions.get_link(rig.ctx.store, 1)
    assert link is not None and link.mod_message_id == post.ts
    assert link.mod_url == f"https://fake-team.slack.com/archives/{MODS}/p{post.ts.replace('.', '')}"
    assert len(rig.posts_in(MODS)) == 1


async def test_reactions_already_there_are_fine(rig: Rig) -> None:
    _, post = await submit(rig)

    await rig.front.react(Posted(MODS, post.ts), ["✅", "❌"])

    assert [c.error for c in rig.fake.calls_to("reactions.add")[-2:]] == ["already_reacted"] * 2


async def test_the_runner_counts_the_slack_front_end_as_an_outbound(fake: FakeSlack, ctx: Context) -> None:
    """The runner wires only front ends that implement Outbound: the Slack one does."""
    async with running(fake, ctx) as rig:
        moderation = make_moderation(rig.front.settings, ctx, [rig.front])
        assert list(moderation.outbounds) == ["slack"]


async def test_channel_names_where_ids_belong_are_reported_at_start(
    fake: FakeSlack, ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(
        fake,
        slack_moderator_channel="#mods",
        slack_reminder_channel=REMIND,
        slack_moderators="U0MOD,@alice,S0MODS",
    )

    SlackFrontEnd(settings, ctx)

    warnings = [
        r.getMessage() for r in caplog.records if r.name == "copbot.slack" and r.levelname == "WARNING"
    ]
    assert warnings == [
        "SLACK_MODERATOR_CHANNEL='#mods' is not a channel id (C…): moderation and reminders need the id, "
        "not the name",
        "SLACK_MODERATORS lists '@alice', which is not a member (U…) or user-group (S…) id",
    ]


async def test_a_moderator_channel_without_moderators_is_reported_at_start(
    fake: FakeSlack, ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    """SLACK_MODERATOR_CHANNEL set, SLACK_MODERATORS left empty: submissions are posted there, but
    nobody's ✅ or Approve counts. Before, nothing said so (each reaction was only logged at INFO
    as "not a moderator"); now one warning at start names the setting to fill in."""
    SlackFrontEnd(settings_for(fake, slack_moderator_channel=MODS, slack_moderators=" , "), ctx)

    warnings = [
        r.getMessage() for r in caplog.records if r.name == "copbot.slack" and r.levelname == "WARNING"
    ]
    assert warnings == [
        "SLACK_MODERATOR_CHANNEL is set but SLACK_MODERATORS is empty: submissions are posted for "
        "review, and nobody can approve or reject them (list moderators' member or user-group ids)"
    ]


async def test_the_longest_non_ascii_link_reaches_the_moderators_whole(rig: Rig) -> None:
    """A link in Japanese grows nine-fold as sent; the longest /submit takes (900 characters as
    sent) shows whole and clickable in the post, and a longer one is refused with a reason."""
    longest = "https://ja.wikipedia.org/wiki/" + "機械学習" * 24  # 894 characters as sent
    _, post = await submit(rig, f"2.4 {longest} {NOTE}")
    assert f"*Link*\n• <{quote(longest, safe=':/')}|{longest}>" in Answer.of(post).shown

    refused = await rig.command("/submit", f"2.4 {longest}機械 {NOTE}")
    assert "That link is too long: at most 900 characters as sent" in refused.shown
    assert len(rig.posts_in(MODS)) == 1


async def test_a_post_whose_update_failed_is_brought_up_to_date_by_the_next_press(rig: Rig) -> None:
    """chat.update fails: the link is approved and ann told, but the post still offers Approve.
    The moderator's second press says it is decided and shows the decision, with Undo."""
    _, post = await submit(rig)
    shown = Answer.of(post)
    rig.fake.fail_method("chat.update", "internal_error")

    approved = await rig.click(shown, "Approve", user=MOD, channel=MODS, ts=post.ts)
    assert "Approved 2.4 #" in approved.shown
    assert rig.current(MODS, post.ts).buttons == ["Approve", "Reject with reason"]

    again = await rig.click(shown, "Approve", user=MOD, channel=MODS, ts=post.ts)
    assert "Already approved by mod; nothing changed." in again.shown
    now = rig.current(MODS, post.ts)
    assert "Approved by mod." in now.shown and now.buttons == ["Undo"]
    assert len(rig.fake.dms(ANN)) == 1


async def test_the_sweep_updates_the_post_and_sends_the_dm_that_failed_once(rig: Rig) -> None:
    """chat.update fails and ann's DM is refused (missing scope): the next sweep makes both,
    later sweeps nothing more."""
    _, post = await submit(rig)
    rig.fake.fail_method("chat.update", "internal_error")
    rig.fake.fail(ANN, "missing_scope", methods={"conversations.open"}, times=1)

    await rig.react(MOD, "x", post.ts)
    assert await status(rig.ctx) == LinkStatus.REJECTED and rig.fake.dms(ANN) == []

    assert rig.sweeper is not None
    await rig.sweeper.run_once()
    await rig.sweeper.run_once()

    now = rig.current(MODS, post.ts)
    assert "Rejected by mod." in now.shown and now.buttons == ["Undo"]
    (dm,) = rig.fake.dms(ANN)
    assert dm["text"].endswith("was not accepted.")
    assert len(rig.fake.updates) == 1


@pytest.mark.parametrize(
    "fault",
    [{"error": "internal_error"}, {"error": "service_unavailable", "status": 503}],
    ids=["internal_error", "http-503"],
)
async def test_a_dm_slack_failed_on_is_not_sent_again(rig: Rig, fault: dict[str, object]) -> None:
    """Slack fails on its side while posting ann's DM: it may have reached her, so the sweeps
    that follow do not send it again (one notice at most)."""
    _, post = await submit(rig)
    rig.fake.fail(ANN, methods={"chat.postMessage"}, times=1, **fault)  # type: ignore[arg-type]

    await rig.react(MOD, "white_check_mark", post.ts)
    assert rig.sweeper is not None
    await rig.sweeper.run_once()
    await rig.sweeper.run_once()

    assert await status(rig.ctx) == LinkStatus.APPROVED
    assert [c.channel for c in rig.fake.calls_to("chat.postMessage")].count(ANN_DM) == 1


REFUSE_PRUNE = {
    "sqlite": [
        "CREATE TRIGGER refuse_prune BEFORE DELETE ON processed_event"
        " BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_prune() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RAISE EXCEPTION 'disk I/O error'; END $$",
        "CREATE TRIGGER refuse_prune BEFORE DELETE ON processed_event"
        " FOR EACH ROW EXECUTE FUNCTION refuse_prune()",
    ],
}


async def test_a_sweep_whose_pruning_fails_still_updates_the_post_and_tells_the_submitter(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """chat.update fails and ann's DM is refused; at the next sweep, forgetting the week-old
    event ids fails (the database refuses): the sweep says so in the log and still updates the
    post and sends the DM."""
    store = rig.ctx.store
    assert await store.first_time("slack:week-old", rig.ctx.clock() - timedelta(days=8))
    _, post = await submit(rig)
    rig.fake.fail_method("chat.update", "internal_error")
    rig.fake.fail(ANN, "missing_scope", methods={"conversations.open"}, times=1)
    await rig.react(MOD, "x", post.ts)
    async with store.engine.begin() as conn:
        for ddl in REFUSE_PRUNE[store.dialect]:
            await conn.execute(sa.text(ddl))

    assert rig.sweeper is not None
    await rig.sweeper.run_once()

    now = rig.current(MODS, post.ts)
    assert "Rejected by mod." in now.shown and now.buttons == ["Undo"]
    (dm,) = rig.fake.dms(ANN)
    assert dm["text"].endswith("was not accepted.")
    assert "forgetting handled event ids older than a week failed" in caplog.text
    assert not await store.first_time("slack:week-old", rig.ctx.clock())  # kept for the next sweep


async def test_a_deleted_post_is_not_updated_again_and_again(rig: Rig) -> None:
    """The moderators deleted the post: the decision stands, ann is told, and the sweep does not
    keep calling chat.update for a message that is gone."""
    _, post = await submit(rig)
    rig.fake.fail_method("chat.update", "message_not_found", times=None)

    await rig.react(MOD, "white_check_mark", post.ts)
    assert rig.sweeper is not None
    await rig.sweeper.run_once()

    assert await status(rig.ctx) == LinkStatus.APPROVED and len(rig.fake.dms(ANN)) == 1
    assert [c.error for c in rig.fake.calls_to("chat.update")] == ["message_not_found"]


async def test_an_invisible_reason_is_no_reason_and_bidi_overrides_are_dropped(rig: Rig) -> None:
    _, post = await submit(rig)
    await rig.press(Answer.of(post), "Reject with reason", user=MOD, channel=MODS, ts=post.ts)
    view = rig.fake.calls_to("views.open")[-1]["view"]

    async def send(reason: str) -> SlackReply:
        return await rig.slack.view_submission(
            view["callback_id"],
            {"reason": {"reason": reason}},
            user_id=MOD,
            private_metadata=view["private_metadata"],
        )

    blank = await send("\u200b\u200b\u200b")
    assert blank.json() == {
        "response_action": "errors",
        "errors": {"reason": "Please say why, in a few words."},
    }
    assert await status(rig.ctx) == LinkStatus.PENDING

    before = len(rig.fake.responses)
    await send("\u202eevil\u202c ok")
    await rig.fake.wait_for("response_url", count=before + 1)
    assert "Rejected by mod: evil ok" in rig.current(MODS, post.ts).shown
    (dm,) = rig.fake.dms(ANN)
    assert dm["text"].endswith("was not accepted: evil ok")


MODS2 = "C0MODS2"


async def test_a_new_moderator_channel_takes_the_pending_posts(fake: FakeSlack, ctx: Context) -> None:
    """copbot restarts with another SLACK_MODERATOR_CHANNEL: its start posts the pending
    submission there, once (not the decided one); the old post says where it went and loses its
    buttons; /pending links to the new post, which decides, and the old one no longer does."""
    async with moderated(fake, ctx) as rig:
        _, post = await submit(rig)
        _, decided = await submit(rig, "2.4 https://example.org/other another one")
        await rig.react(MOD, "x", decided.ts)

    async with moderated(fake, ctx, slack_moderator_channel=MODS2) as rig:
        assert rig.moderation is not None
        await rig.moderation.recover()
        await rig.moderation.recover()  # a second start moves nothing more

        (new,) = rig.posts_in(MODS2)
        shown = Answer.of(new)
        assert shown.header == "Submission for 2.4" and shown.field("From") == "ann"
        assert shown.buttons == ["Approve", "Reject with reason"]
        assert sorted((c["channel"], c["name"]) for c in fake.reactions) == [
            (MODS2, "white_check_mark"),
            (MODS2, "x"),
        ]
        old = rig.current(MODS, post.ts)
        assert "Moved: the moderator channel changed" in old.shown and old.buttons == []
        permalink = f"https://fake-team.slack.com/archives/{MODS2}/p{new.ts.replace('.', '')}"
        assert permalink in old.shown
        assert f"<{permalink}|2.4 #1: {LINK} from ann" in (await rig.command("/pending", user=MOD)).shown

        await rig.react(MOD, "white_check_mark", post.ts)  # on the old post
        assert await status(ctx) == LinkStatus.PENDING
        await rig.react(MOD, "white_check_mark", new.ts, channel=MODS2)
        assert await status(ctx) == LinkStatus.APPROVED
        assert "Approved by mod." in rig.current(MODS2, new.ts).shown
        assert await status(ctx, 2) == LinkStatus.REJECTED


async def test_a_post_left_in_the_old_channel_still_decides_by_reaction(
    fake: FakeSlack, ctx: Context
) -> None:
    """The new moderator channel refuses copbot (not invited): the submission's post stays in
    the old channel, where a moderator's ✅ still approves it (and a member's does nothing)."""
    async with moderated(fake, ctx) as rig:
        _, post = await submit(rig)

    fake.fail(MODS2, "not_in_channel", methods={"chat.postMessage"})
    async with moderated(fake, ctx, slack_moderator_channel=MODS2) as rig:
        assert rig.moderation is not None
        await rig.moderation.recover()
        assert rig.posts_in(MODS2) == []

        await rig.react(BOB, "white_check_mark", post.ts)
        assert await status(ctx) == LinkStatus.PENDING
        await rig.react(MOD, "white_check_mark", post.ts)
        assert await status(ctx) == LinkStatus.APPROVED
        assert "Approved by mod." in rig.current(MODS, post.ts).shown


# A link /submit accepts (900 characters) with 439 &s: Slack's markup writes each as &amp;, so
# the link alone takes 2,656 of a text's 3,000 characters.
AMP_LINK = "https://example.org/?" + "a&" * 439 + "a"
AMP_SHOWN = AMP_LINK.replace("&", "&amp;")


async def test_a_link_full_of_ampersands_shows_whole_and_clickable_everywhere(rig: Rig) -> None:
    _, post = await submit(rig, f"2.4 {AMP_LINK} a paper")
    _, bare = await submit(rig, f"2.5 {AMP_LINK.replace('.org', '.net')}")  # no note
    await rig.press(Answer.of(post), "Reject with reason", user=MOD, channel=MODS, ts=post.ts)
    view = rig.fake.calls_to("views.open", ok=True)[-1]["view"]
    await rig.slack.view_submission(
        view["callback_id"],
        {"reason": {"reason": "off topic"}},
        user_id=MOD,
        private_metadata=view["private_metadata"],
    )
    await rig.front.drain()
    await rig.react(MOD, "white_check_mark", bare.ts)
    card = await rig.command("/problem", "2.5", user=BOB)

    # Slack shows the link as itself, whole; before, the whole line was cut to "• …" on the
    # post, in the modal, in the DM and on the card.
    assert f"*Link*\n• <{AMP_SHOWN}>" in Answer.of(post).shown
    assert view["blocks"][1]["text"]["text"].startswith(f"<{AMP_SHOWN}>")
    rejected = Answer.of(rig.fake.dms(ANN)[0])
    assert "was not accepted: off topic" in rejected.text and f"• <{AMP_SHOWN}>" in rejected.shown
    shown_bare = AMP_SHOWN.replace(".org", ".net")
    assert f"*Existing work*\n• <{shown_bare}>" in card.shown
    assert rig.fake.refused_blocks == []


async def test_pending_counts_every_submission_it_does_not_show(rig: Rig, clock: FakeClock) -> None:
    """Sixty submissions: /pending lists the oldest twenty, and a last line counts the other forty
    (only the title said "showing 20 of 60")."""
    for i in range(60):
        await submit(rig, f"2.4 https://example.org/{i:02d}/acronyms")
        clock.advance(minutes=1 if i % 10 < 9 else 61)  # Ann may submit ten an hour

    pending = await rig.command("/pending", user=MOD)

    assert pending.header == "Pending submissions: 60"
    *shown, more = [line for line in pending.shown.splitlines() if line.startswith("• ")]
    assert [f"example.org/{i:02d}/" in line for i, line in enumerate(shown)] == [True] * 20
    assert more == "• … and 40 more"


async def test_a_moderator_channel_copbot_is_not_in_waits_an_hour_and_pending_says_so(
    rig: Rig, clock: FakeClock
) -> None:
    """copbot was not invited to the moderator channel (not_in_channel): Ann is told to tell an
    admin; the sweeps of the next hour ask Slack nothing more (they asked at every sweep,
    forever); the moderators' /pending says what needs attention, naming the channel and Slack's
    answer, and decides it meanwhile; an hour on it is tried again."""
    rig.fake.fail(MODS, "not_in_channel", methods={"chat.postMessage"})
    answer = await rig.command("/submit", SUBMIT, user=ANN)
    assert "please tell an admin" in answer.shown and tries_in(rig.fake, MODS) == 1
    assert rig.sweeper is not None
    for _ in range(3):
        clock.advance(minutes=15)
        await rig.sweeper.run_once()
    assert tries_in(rig.fake, MODS) == 1

    pending = await rig.command("/pending", user=MOD)
    assert "Needs attention" in pending.shown, pending.shown
    # The channel as Slack shows it by its name, not as an id nobody finds in the sidebar.
    assert f"(cannot post in <#{MODS}>: not_in_channel (invite copbot to it))" in pending.shown, pending.shown
    assert "1 submission waits unposted" in pending.shown

    clock.advance(minutes=15)
    await rig.sweeper.run_once()
    assert tries_in(rig.fake, MODS) == 2 and rig.posts_in(MODS) == []

    await rig.press(pending, "Approve 2.4 #1", user=MOD)
    assert await status(rig.ctx) == LinkStatus.APPROVED
    (told,) = rig.fake.dms(ANN)
    assert "2.4" in told["text"], told


async def test_an_archived_moderator_channel_is_named_as_slack_shows_it(rig: Rig) -> None:
    """The moderator channel was archived (is_archived). Before, /pending's Needs attention said
    "(cannot post in Slack channel C0MODS: is_archived)", an id nobody finds in the sidebar; now
    it names the channel as Slack shows it (<#C0MODS>, by its name) and says to unarchive it."""
    rig.fake.fail(MODS, "is_archived", methods={"chat.postMessage"})
    await rig.command("/submit", SUBMIT, user=ANN)
    pending = await rig.command("/pending", user=MOD)
    assert (
        f"(cannot post in <#{MODS}>: is_archived (unarchive it)), so 1 submission waits" in pending.shown
    ), pending.shown


async def test_a_moderator_post_slack_refuses_as_too_long_is_written_off_once(
    rig: Rig, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack refuses the moderator post for the message itself (msg_too_long), as it would at
    every try: Ann is told a moderator decides it with /pending (she was promised a post soon,
    and it was tried at every sweep, forever); one error names the code; no sweep posts it;
    /pending says why."""
    rig.fake.fail(MODS, "msg_too_long", methods={"chat.postMessage"}, times=1)
    answer = await rig.command("/submit", SUBMIT, user=ANN)
    assert "Slack refused my post of it in the moderators' channel" in answer.shown, answer.shown
    assert "decides it with /pending" in answer.shown
    (error,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "msg_too_long" in error.getMessage()
    caplog.clear()  # the one error expected (the fixture checks nothing else was logged)
    assert rig.sweeper is not None
    for _ in range(3):
        clock.advance(hours=2)
        await rig.sweeper.run_once()
    assert tries_in(rig.fake, MODS) == 1 and rig.posts_in(MODS) == []
    pending = await rig.command("/pending", user=MOD)
    assert "not posted: Slack refused the message (msg_too_long)" in pending.shown, pending.shown


async def test_pending_tells_slack_admins_a_restart_not_setup_tries_a_refusing_channel_again(
    rig: Rig,
) -> None:
    """On Slack the moderator channel is a setting of the environment, which /setup cannot change:
    the Needs attention line sent Slack admins to "an admin's /setup" to mend it.
    It says a restart (what ``copbot run`` does at start) or copbot's invitation to the channel
    (test_slack_invited.py) tries at once."""
    rig.fake.fail(MODS, "not_in_channel", methods={"chat.postMessage"})
    await rig.command("/submit", SUBMIT, user=ANN)

    pending = await rig.command("/pending", user=MOD)

    (line,) = [line for line in pending.shown.splitlines() if "moderator channel are refused" in line]
    assert "/setup" not in line, line
    assert "at once when copbot is invited to the channel, it is unarchived, or copbot restarts" in line, line


async def test_pending_offers_buttons_for_a_written_off_post_behind_two_posted_ones(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """Two submissions are posted (their posts have buttons); Slack refuses the third's post for
    the message itself (msg_too_long), so /pending is the only place to decide it: its buttons
    were for the two oldest only, the posted ones, and the third could not be decided until they
    were. /pending's buttons now go first to the submissions without a post."""
    await submit(rig, "2.4 https://example.org/one")
    await submit(rig, "2.4 https://example.org/two")
    rig.fake.fail(MODS, "msg_too_long", methods={"chat.postMessage"}, times=1)
    answer = await rig.command("/submit", "2.4 https://example.org/three", user=ANN)
    assert "decides it with /pending" in answer.shown, answer.shown
    caplog.clear()  # the one error expected: the write-off

    pending = await rig.command("/pending", user=MOD)

    assert "Approve 2.4 #3" in pending.buttons, pending.buttons
    await rig.press(pending, "Approve 2.4 #3", user=MOD)
    assert await status(rig.ctx, 3) == LinkStatus.APPROVED
    assert [await status(rig.ctx, i) for i in (1, 2)] == [LinkStatus.PENDING] * 2


async def test_a_slack_outage_stops_the_whole_moderation_sweep_until_the_next(
    rig: Rig, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack is down (503) while two decisions wait to be shown on their posts and told to Ann:
    the sweep asked Slack once per edit and per DM, each failing alike. It stops at the first
    (one request, one warning) and keeps the rest due; once Slack is back, the next sweep does
    it all."""
    _, first = await submit(rig)
    _, second = await submit(rig, "2.4 https://example.org/other another one")
    for method in ("chat.update", "conversations.open", "chat.postMessage"):
        rig.fake.fail_method(method, "service_unavailable", times=None, status=503)
    for post in (first, second):
        await rig.react(MOD, "x", post.ts)
    asked = {m: len(rig.fake.calls_to(m)) for m in ("chat.update", "conversations.open")}
    assert rig.fake.dms(ANN) == []
    caplog.clear()

    assert rig.sweeper is not None
    clock.advance(minutes=15)
    with caplog.at_level(logging.WARNING):
        await rig.sweeper.run_once()

    more = sum(len(rig.fake.calls_to(m)) - n for m, n in asked.items())
    assert more == 1, more
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("copbot")]
    assert len(warned) == 1, [r.getMessage() for r in warned]
    caplog.clear()
    rig.fake.clear_failures()
    clock.advance(minutes=15)
    await rig.sweeper.run_once()
    assert "Rejected by mod." in rig.current(MODS, first.ts).shown
    assert "Rejected by mod." in rig.current(MODS, second.ts).shown
    assert len(rig.fake.dms(ANN)) == 2


async def three_decisions_behind(rig: Rig) -> list[Call]:
    """Three submissions rejected while Slack failed every chat.update (503): each post still
    offers Approve and Reject, its edit left to the sweep. Returns the three posts."""
    posted = [(await submit(rig, f"2.4 https://example.org/{n} work {n}"))[1] for n in ("a", "b", "c")]
    rig.fake.fail_method("chat.update", "service_unavailable", times=None, status=503)
    for post in posted:
        await rig.react(MOD, "x", post.ts)
    rig.fake.clear_failures()
    return posted


async def test_slack_out_of_reach_during_a_moderation_sweep_stops_it_at_the_first_edit(
    fake: FakeSlack, ctx: Context, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack out of reach (its address refuses connections) while three decided posts wait for
    their edit: the sweep tried each edit, one warning each ("Cannot connect to host"). Now it
    stops at the first, as for a post or a DM: one warning says Slack cannot be reached, one
    line what waits for the next sweep."""
    async with TcpProxy("127.0.0.1", int(fake.base_url.rsplit(":", 1)[1])) as proxy:
        url = f"http://127.0.0.1:{proxy.port}/api/"
        async with moderated(fake, ctx, slack_api_url=url) as rig:
            await three_decisions_behind(rig)
            await proxy.__aexit__(None, None, None)  # nothing listens there any more
            caplog.clear()

            assert rig.sweeper is not None
            clock.advance(minutes=15)
            with caplog.at_level(logging.INFO):
                await rig.sweeper.run_once()

            warned = [
                r.getMessage()
                for r in caplog.records
                if r.levelno >= logging.WARNING and r.name.startswith("copbot")
            ]
            assert len(warned) == 1 and "cannot reach Slack" in warned[0], warned
            said = [r.getMessage() for r in caplog.records if "wait for the next sweep" in r.getMessage()]
            assert len(said) == 1 and "2 more moderator post(s)" in said[0], said


async def test_slack_dropping_the_connection_on_an_edit_stops_the_moderation_sweep(
    rig: Rig, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Three decided posts wait for their edit and Slack drops every connection to chat.update
    (its connection lost on the way, as when it is out of reach): the sweep asked for each
    post's edit in turn, one warning each, as though the post itself were at fault. Now the
    first failure stops the sweep there (an outage: one warning, one line saying what waits);
    the next sweep, Slack back, edits them all."""
    posted = await three_decisions_behind(rig)
    rig.fake.fail(MODS, "dropped", methods={"chat.update"}, times=None, drop=True)
    before = len(rig.fake.calls_to("chat.update"))
    caplog.clear()

    assert rig.sweeper is not None
    clock.advance(minutes=15)
    with caplog.at_level(logging.INFO):
        await rig.sweeper.run_once()

    asked = {c.args["ts"] for c in rig.fake.calls_to("chat.update")[before:]}
    assert asked == {posted[0].ts}, asked
    warned = [
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("copbot")
    ]
    assert len(warned) == 1 and "the connection to Slack failed" in warned[0], warned
    said = [r.getMessage() for r in caplog.records if "wait for the next sweep" in r.getMessage()]
    assert len(said) == 1 and "2 more moderator post(s)" in said[0], said

    rig.fake.clear_failures()
    clock.advance(minutes=15)
    await rig.sweeper.run_once()
    assert all("Rejected by mod." in rig.current(MODS, post.ts).shown for post in posted)


async def test_a_token_refused_on_an_edit_records_the_workspace_as_gone(
    rig: Rig, fake: FakeSlack, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The app's token was revoked (the events missed) while three decided posts waited for their
    edit, and nothing else was due: Slack answered each chat.update invalid_auth, which the sweep
    took for a refusal to try again, a warning per post at every sweep, forever; the workspace
    never recorded as gone. Now one error says the token was refused and how to mend it, the
    workspace is recorded as gone (as for a DM or a post refused so), and later sweeps ask Slack
    nothing."""
    await three_decisions_behind(rig)
    fake.tokens.discard(TOKEN)
    before = len(fake.calls_to("chat.update"))
    caplog.clear()

    assert rig.sweeper is not None
    for _ in range(3):
        clock.advance(minutes=15)
        await rig.sweeper.run_once()

    assert len(fake.calls_to("chat.update")) - before == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "invalid_auth" in errors[0] and "SLACK_BOT_TOKEN" in errors[0], errors
    warned = [
        r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("copbot")
    ]
    assert warned == [], warned
    row = await rig.ctx.store.get_settings("slack", fake.team_id)
    assert row is not None and row.left_at is not None


async def test_a_new_moderator_channel_copbot_is_not_in_paces_the_moves_and_pending_says_so(
    fake: FakeSlack, ctx: Context, clock: FakeClock
) -> None:
    """copbot restarts with SLACK_MODERATOR_CHANNEL set to a channel it was not invited to
    (not_in_channel): moving the two pending posts was asked at every sweep, for each, with
    nothing in /pending. Now the sweeps of the next hour ask Slack nothing, /pending says what
    needs attention (the old posts still decide), and an hour on one move tries for both."""
    async with moderated(fake, ctx) as rig:
        await submit(rig)
        await submit(rig, "2.4 https://example.org/other another one")

    fake.fail(MODS2, "not_in_channel", methods={"chat.postMessage"})
    async with moderated(fake, ctx, slack_moderator_channel=MODS2) as rig:
        assert rig.moderation is not None and rig.sweeper is not None
        await rig.moderation.recover()
        assert tries_in(fake, MODS2) == 1
        for _ in range(3):
            clock.advance(minutes=15)
            await rig.sweeper.run_once()
        assert tries_in(fake, MODS2) == 1

        pending = await rig.command("/pending", user=MOD)
        assert "Needs attention" in pending.shown, pending.shown
        assert f"cannot post in <#{MODS2}>: not_in_channel" in pending.shown, pending.shown
        assert "2 posts wait in the former moderator channel" in pending.shown, pending.shown
        assert "when copbot is invited to the channel, it is unarchived, or copbot restarts" in pending.shown

        clock.advance(minutes=15)
        await rig.sweeper.run_once()
        assert tries_in(fake, MODS2) == 2 and rig.posts_in(MODS2) == []


async def test_a_reject_form_that_would_not_open_from_pending_points_only_where_the_moderator_can_reject(
    fake: FakeSlack, ctx: Context
) -> None:
    # Without a moderator channel the submission has no post: /pending is the only place to decide
    # it, so a form Slack would not open (its trigger expired) cannot be answered "react ❌".
    async with moderated(fake, ctx, slack_moderator_channel=None) as rig:
        await rig.command("/submit", SUBMIT, user=ANN)
        pending = await rig.command("/pending", user=MOD)
        fake.fail_method("views.open", "expired_trigger_id")

        answer = await rig.click(pending, "Reject 2.4 #1", user=MOD)
        await rig.press(pending, "Reject 2.4 #1", user=MOD)

    assert not answer.public
    assert answer.shown == ":warning: Sorry, I could not open the form. Press Reject again to try once more."
    assert len(fake.calls_to("views.open", ok=True)) == 1  # pressed again, it opened
    assert await status(ctx) == LinkStatus.PENDING


async def test_a_reject_form_that_would_not_open_on_a_post_suggests_its_reaction(rig: Rig) -> None:
    _, post = await submit(rig)
    rig.fake.fail_method("views.open", "expired_trigger_id")

    answer = await rig.click(Answer.of(post), "Reject with reason", user=MOD, channel=MODS, ts=post.ts)

    assert "could not open the form. Try again, or react ❌ to reject without a reason." in answer.shown


OTHER = "https://example.org/other-acronyms"


def replacements(rig: Rig) -> list[Answer]:
    """What copbot put in place of the messages whose buttons were pressed (response_url posts
    with replace_original)."""
    return [Answer("response_url", c.args) for c in rig.fake.responses if c.args.get("replace_original")]


async def test_a_decision_from_pending_leaves_that_list_showing_what_still_waits(rig: Rig) -> None:
    """Two links for 2.4 wait; mod approves #1 with the button under /pending (an ephemeral
    message). Before, the list still showed #1 with its Approve and Reject, and mod was told
    "Approved the link for 2.4.", not which of the two. Now the list is replaced by what still
    waits (#2 with its buttons), the answer names the submission and its link, and the moderator
    post (whose buttons have the same ids) shows the approval with its Undo. Rejecting #2 with
    the form from the new list leaves it saying nothing waits."""
    _, first = await submit(rig)
    _, second = await submit(rig, f"2.4 {OTHER}")
    pending = await rig.command("/pending", user=MOD)
    assert pending.buttons == ["Approve 2.4 #1", "Reject 2.4 #1", "Approve 2.4 #2", "Reject 2.4 #2"]

    approved = await rig.click(pending, "Approve 2.4 #1", user=MOD)

    assert not approved.public and "Approved 2.4 #1:" in approved.shown, approved.shown
    assert LINK in approved.shown and "from ann." in approved.shown, approved.shown
    (listed,) = replacements(rig)
    assert not listed.public and listed.buttons == ["Approve 2.4 #2", "Reject 2.4 #2"], listed.buttons
    assert "#1" not in listed.shown and "Pending submissions: 1" in listed.header, listed.shown
    post = rig.current(MODS, first.ts)
    assert "Approved by mod." in post.shown and post.buttons == ["Undo"]

    await rig.press(listed, "Reject 2.4 #2", user=MOD)
    (opened,) = rig.fake.calls_to("views.open", ok=True)
    answer = await give_reason(rig, opened["view"], "the same work as #1")
    await rig.front.drain()

    assert answer["text"].startswith("Rejected 2.4 #2:") and OTHER in answer["text"], answer["text"]
    emptied = replacements(rig)[-1]
    assert emptied.buttons == [] and "Nothing is waiting for a decision." in emptied.shown, emptied.shown
    assert "Rejected by mod: the same work as #1" in rig.current(MODS, second.ts).shown


async def test_reject_on_an_older_pending_list_for_a_submission_decided_since_brings_it_up_to_date(
    rig: Rig,
) -> None:
    """mod keeps two copies of /pending; from the newer one he approves #1. Pressing Reject for
    #1 on the older copy opens no form: he is told who decided it. Before, that older copy still
    listed #1 with its Approve and Reject (as Approve pressed there would not have left it); now
    it is replaced by what still waits, as Approve pressed there does."""
    await submit(rig)
    await submit(rig, f"2.4 {OTHER}")
    older = await rig.command("/pending", user=MOD)
    newer = await rig.command("/pending", user=MOD)
    await rig.click(newer, "Approve 2.4 #1", user=MOD)
    before = len(replacements(rig))

    answer = await rig.click(older, "Reject 2.4 #1", user=MOD)
    await rig.front.drain()

    assert rig.fake.calls_to("views.open") == []
    assert not answer.public and "Already approved by mod; nothing changed." in answer.shown, answer.shown
    (listed,) = replacements(rig)[before:]
    assert not listed.public and listed.buttons == ["Approve 2.4 #2", "Reject 2.4 #2"], listed.buttons
    assert "#1" not in listed.shown and "Pending submissions: 1" in listed.header, listed.shown
    assert await status(rig.ctx) == LinkStatus.APPROVED


@pytest.mark.parametrize("decide", ["reaction", "form"])
async def test_a_moderator_renamed_since_who_decides_by_reaction_or_form_shows_under_the_new_name(
    fake: FakeSlack, ctx: Context, decide: str
) -> None:
    """mod approves Ann's first link by ✅, changes their display name to Moderna, then decides
    her second link (by ❌, or with the Reject form) and nothing else: /history names Moderna for
    both decisions (before, the first went on saying mod). A reaction costs no Slack call more
    than the look-up of who reacted it already made (names are looked up afresh after a while;
    here at every request)."""
    people = Directory(AsyncWebClient(base_url=fake.api_url, token=TOKEN), [MOD], user_ttl=0)
    async with moderated(fake, ctx, directory=people) as rig:
        _, first = await submit(rig)
        await rig.react(MOD, "white_check_mark", first.ts)
        assert "Approved by mod." in rig.current(MODS, first.ts).shown
        fake.add_user(MOD, "mod", display_name="Moderna")
        _, second = await submit(rig, f"2.4 {LINK}/v2 {NOTE}")
        before = len(fake.calls)
        if decide == "reaction":
            await rig.react(MOD, "x", second.ts)
            assert [c.method for c in fake.calls[before:] if c.method.startswith("users.")] == ["users.info"]
        else:
            await rig.press(Answer.of(second), "Reject with reason", user=MOD, channel=MODS, ts=second.ts)
            await give_reason(rig, rig.fake.calls_to("views.open", ok=True)[-1]["view"], "off topic")
        assert "Rejected by Moderna" in rig.current(MODS, second.ts).shown
        history = (await rig.command("/history", "2.4")).shown
    assert f"Moderna approved <{LINK}>" in history and f"Moderna rejected <{LINK}/v2>" in history, history
    assert "mod " not in history, history


async def test_a_rename_to_a_ping_or_markup_shows_inert_on_cards_lists_history_and_the_post(
    fake: FakeSlack, ctx: Context
) -> None:
    """Ann claims 2.4 and submits a link, then changes her display name to a channel ping, a
    user mention and markup, and types only /random: the card, /claims, /history, /pending and
    the moderator post the sweep updates name her so, escaped; nothing may ping or format."""
    people = Directory(AsyncWebClient(base_url=fake.api_url, token=TOKEN), [MOD], user_ttl=0)
    async with moderated(fake, ctx, directory=people) as rig:
        await rig.command("/claim", "2.4")
        _, post = await submit(rig)
        fake.add_user(ANN, "ann", display_name="<!channel> <@U0BOB> *x* ~y~")
        await rig.command("/random")
        await rig.sweeper.run_once()
        answers = [
            await rig.command("/problem", "2.4", user=BOB),
            await rig.command("/claims", "everyone", user=BOB),
            await rig.command("/history", "2.4", user=BOB),
            await rig.command("/pending", user=MOD),
            rig.current(MODS, post.ts),
        ]
    for answer in answers:
        assert "&lt;!channel&gt; &lt;@U0BOB&gt;" in answer.shown, answer.shown
        raw = json.dumps(answer.message)
        for ping in ("<!channel>", "<@U0BOB>", " *x* ", " ~y~"):
            assert ping not in raw, raw


async def test_the_submitter_withdraws_and_the_post_offers_nothing_to_decide(rig: Rig) -> None:
    """ann's /withdraw 2.4, answered to her alone: the post says she withdrew it, without
    buttons; no DM; bob's /withdraw (none of his) changes nothing. Approve pressed on the post
    as first shown, and a ✅ under it, are answered to the moderator alone: nothing to decide."""
    _, post = await submit(rig)
    shown = Answer.of(post)

    not_his = await rig.command("/withdraw", "2.4", user=BOB)
    assert not not_his.public and "nothing to withdraw" in not_his.shown
    assert await status(rig.ctx) == LinkStatus.PENDING

    answer = await rig.command("/withdraw", "2.4", user=ANN)
    assert not answer.public and f"Withdrawn: your link for 2.4 (<{LINK}>)." in answer.shown
    assert await status(rig.ctx) == LinkStatus.WITHDRAWN
    edited = rig.current(MODS, post.ts)
    assert "Withdrawn by ann, who submitted it: nothing to decide." in edited.shown and edited.buttons == []
    assert rig.fake.dms(ANN) == []

    pressed = await rig.click(shown, "Approve", user=MOD, channel=MODS, ts=post.ts)
    assert "Already withdrawn by ann, who submitted it: nothing to decide." in pressed.shown
    await rig.react(MOD, "white_check_mark", post.ts)
    (told,) = rig.fake.ephemerals
    assert told.args["user"] == MOD and "ann withdrew 2.4 #1, which they submitted" in told.args["text"]
    assert await status(rig.ctx) == LinkStatus.WITHDRAWN
    assert "ann withdrew <https://example.org/acronyms>" in (await rig.command("/history", "2.4")).shown


async def test_withdraw_asks_which_with_a_button_for_each_waiting_link(rig: Rig) -> None:
    """Two of ann's links wait for 2.4: /withdraw 2.4 asks which, to her alone, with a Withdraw
    button each. She presses #1's: that one is withdrawn, the question loses that button, #2
    stays waiting."""
    await submit(rig, "2.4 https://example.org/one")
    await submit(rig, "2.4 https://example.org/two")

    which = await rig.command("/withdraw", "2.4", user=ANN)
    assert not which.public and which.buttons == ["Withdraw 2.4 #2", "Withdraw 2.4 #1"]

    before = len(rig.fake.responses)
    await rig.press(which, "Withdraw 2.4 #1", ANN)
    calls = rig.fake.responses[before:]
    sent = [Answer("response_url", c.args) for c in calls]

    assert any("Withdrawn: your link for 2.4 (<https://example.org/one>)." in a.shown for a in sent), sent
    (question,) = [Answer("response_url", c.args) for c in calls if c.args.get("replace_original")]
    assert question.buttons == ["Withdraw 2.4 #2"]
    assert await status(rig.ctx, 1) == LinkStatus.WITHDRAWN and await status(rig.ctx, 2) == LinkStatus.PENDING

    everything = await rig.command("/withdraw", user=ANN)  # no number: all of hers that wait
    assert not everything.public and "2.4 #2: <https://example.org/two>" in everything.shown
    assert everything.buttons == ["Withdraw 2.4 #2"]


async def test_a_moderator_s_reaction_slack_could_not_list_the_group_of_is_applied_by_its_retry(
    fake: FakeSlack, ctx: Context
) -> None:
    """U0MO2 moderates through the user group S0MODS. Slack fails to list the group's members just
    as U0MO2's ✅ arrives: before, U0MO2 was taken for no moderator, the ✅ ignored without a word
    (answered 200, so Slack never sent it again), and the failure remembered for a minute. Now the
    event is answered 500, nothing applied, and Slack's retry, which lists the group, approves;
    after Slack's last retry U0MO2 would be told the ✅ was not recorded (tested below)."""
    fake.add_usergroup("S0MODS", [MO2])
    # The group listed afresh at every look (its minute of caching long past, as it may well be).
    people = Directory(AsyncWebClient(base_url=fake.api_url, token=TOKEN), [MOD, "S0MODS"], group_ttl=0)
    async with moderated(fake, ctx, slack_moderators=f"{MOD},S0MODS", directory=people) as rig:
        _, post = await submit(rig)
        fake.fail_method("usergroups.users.list", "internal_error", times=2)

        first = await rig.slack.event(
            reaction_event(MO2, "white_check_mark", MODS, post.ts), event_id="Ev0GROUP"
        )
        await rig.front.drain()
        assert first.status == 500 and await status(ctx) == LinkStatus.PENDING

        await rig.react(MO2, "white_check_mark", post.ts, event_id="Ev0GROUP", retry_num=1)
        assert await status(ctx) == LinkStatus.APPROVED
        assert "Approved by mo2." in rig.current(MODS, post.ts).shown


async def test_a_moderator_s_reaction_slack_never_listed_the_group_of_is_answered_after_the_last_retry(
    fake: FakeSlack, ctx: Context
) -> None:
    """Slack fails to list S0MODS at every try, up to its last retry of U0MO2's ✅: U0MO2 is told,
    to them alone, that it was not recorded (before: nothing at all), and nothing is decided."""
    fake.add_usergroup("S0MODS", [MO2])
    people = Directory(AsyncWebClient(base_url=fake.api_url, token=TOKEN), [MOD, "S0MODS"], group_ttl=0)
    async with moderated(fake, ctx, slack_moderators=f"{MOD},S0MODS", directory=people) as rig:
        _, post = await submit(rig)
        fake.fail_method("usergroups.users.list", "internal_error", times=None)

        await rig.react(MO2, "white_check_mark", post.ts, event_id="Ev0GROUP", retry_num=3)

        assert await status(ctx) == LinkStatus.PENDING
        (told,) = [c for c in fake.calls_to("chat.postEphemeral", ok=True) if c.args.get("user") == MO2]
        assert "was not recorded" in str(told.args.get("text")), told.args


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found", "is_inactive", "is_archived"])
async def test_a_decision_made_while_copbot_could_not_edit_in_the_moderator_channel_shows_once_it_can(
    rig: Rig, error: str
) -> None:
    """An admin removes copbot from the moderator channel (channel_not_found for a private one,
    not_in_channel), or archives it (is_inactive) and unarchives it later; mod approves ann's and
    bob's links with the posts' buttons meanwhile. Slack refuses the edits: the approvals stand
    and both are told, but the posts still offer Approve. Before, that refusal was taken for a
    post gone for good and written off, so the posts offered Approve and Reject forever, after
    the admin mended the channel too. Now the sweeps after it is mended show the approvals, with
    Undo; while it is not, a sweep asks the channel for one edit only."""
    _, first = await submit(rig)
    _, second = await submit(rig, "2.4 https://example.org/other", user=BOB)
    rig.fake.fail(MODS, error, methods={"chat.update"})

    for post in (first, second):
        approved = await rig.click(Answer.of(post), "Approve", user=MOD, channel=MODS, ts=post.ts)
        assert "Approved 2.4 #" in approved.shown
    assert len(rig.fake.dms(ANN)) == 1 and len(rig.fake.dms(BOB)) == 1
    assert rig.fake.updates == []
    assert rig.sweeper is not None
    tried = len(rig.fake.calls_to("chat.update"))
    await rig.sweeper.run_once()
    assert len(rig.fake.calls_to("chat.update")) == tried + 1  # one try for the channel
    assert rig.current(MODS, first.ts).buttons == ["Approve", "Reject with reason"]

    rig.fake.clear_failures()  # the admin invites copbot back, or unarchives the channel
    await rig.sweeper.run_once()
    await rig.sweeper.run_once()

    for post in (first, second):
        now = rig.current(MODS, post.ts)
        assert "Approved by mod." in now.shown and now.buttons == ["Undo"]
    assert len(rig.fake.updates) == 2
    assert len(rig.fake.dms(ANN)) == 1 and len(rig.fake.dms(BOB)) == 1
