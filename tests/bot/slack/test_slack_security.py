"""Refused requests, event de-duplication, escaping and bad input, on both databases."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
import sqlalchemy as sa

from bot.slack import events
from commands.types import Context
from storage.models import LinkStatus, WorkLink
from tests.bot.slack.slack_rig import ANN, BOB, MOD, MODS, SECRET, TOKEN, Answer, Rig, moderated, texts
from tests.fakes.slack_api import FakeSlack, reaction_event


@pytest.mark.parametrize("tamper", [{"bad_signature": True}, {"stale": True}])
async def test_unsigned_or_stale_requests_are_refused_and_change_nothing(
    rig: Rig, ctx: Context, tamper: dict[str, Any]
) -> None:
    command = await rig.slack.command("/claim", "3.11", user_id=ANN, **tamper)
    button = await rig.slack.block_action("cop:claim:2.4", user_id=ANN, **tamper)
    event = await rig.slack.event(reaction_event(ANN, "eyes", "C0PROBLEMS", "1.1"), event_id="Ev0T", **tamper)

    assert [command.status, button.status, event.status] == [401, 401, 401]
    assert rig.fake.calls == []  # not even auth.test: nothing ran
    for number in ("3.11", "2.4"):
        claims = await ctx.store.claims_for_problem(number)
        assert [c for c in claims if c.platform == "slack"] == []
    # The event id was not used up: Slack's correctly signed delivery is still processed.
    assert await ctx.store.first_time(events.dedup_key("Ev0T"), ctx.clock())


@pytest.mark.parametrize("timestamp", ["abc", "", "1e10"])
async def test_a_timestamp_that_is_not_a_number_is_refused_quietly(
    rig: Rig, ctx: Context, caplog: pytest.LogCaptureFixture, timestamp: str
) -> None:
    """Anyone can send these: a refusal like any bad signature, not a 500 and a traceback each."""
    caplog.set_level(logging.DEBUG)
    tamper = {"headers": {"X-Slack-Request-Timestamp": timestamp}}

    command = await rig.slack.command("/claim", "3.11", user_id=ANN, **tamper)
    button = await rig.slack.block_action("cop:claim:2.4", user_id=ANN, **tamper)
    event = await rig.slack.event(reaction_event(ANN, "eyes", "C0PROBLEMS", "1.1"), **tamper)

    assert [command.status, button.status, event.status] == [401, 401, 401]
    assert command.json() == {"error": "invalid request"}
    assert rig.fake.calls == []
    assert [c for c in await ctx.store.claims_for_problem("3.11") if c.platform == "slack"] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info] == []
    # Correctly signed requests are still served.
    assert (await rig.command("/claim", "3.11", user=ANN)).via == "ack"


async def test_a_body_that_is_not_json_is_refused_and_only_slack_s_own_is_worth_a_warning(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """A stranger's unsigned junk is refused like any bad signature (no warning anyone could make
    copbot log); the same junk correctly signed (Slack's own, or a proxy's doing) is a 400 and a
    warning."""
    caplog.set_level(logging.DEBUG)
    junk = "{not json"

    unsigned = await rig.slack.post(junk, "application/json", bad_signature=True)
    assert unsigned.status == 401 and unsigned.json() == {"error": "invalid request"}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []

    signed = await rig.slack.post(junk, "application/json")
    assert signed.status == 400
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == ["refused a signed Slack request whose body is not valid JSON"]


async def test_a_release_note_cannot_ping_the_channel(rig: Rig) -> None:
    await rig.command("/claim", "3.11", user=ANN)
    # As typed (Slack escapes it) and raw: either way it is stored as text and shown inert.
    await rig.command("/release", "3.11 &lt;!channel&gt; look <!here> <@U0BOB> &amp; <!everyone>", user=ANN)

    card = await rig.command("/problem", "3.11", user=BOB)

    note = "&lt;!channel&gt; look &lt;!here&gt; &lt;@U0BOB&gt; &amp; &lt;!everyone&gt;"
    assert f"*Earlier claims*\n• ann — 2026-11-25 to 2026-11-25, released: “{note}”" in card.shown
    raw = json.dumps(card.message)
    for ping in ("<!channel>", "<!here>", "<!everyone>", "<@U0BOB>"):
        assert ping not in raw


async def test_a_display_name_cannot_ping_anyone(rig: Rig) -> None:
    rig.fake.add_user("U0EVE", "eve", display_name="<!here> & <@U0ANN>")

    await rig.command("/claim", "2.21", user="U0EVE")
    card = await rig.command("/problem", "2.21", user=ANN)

    assert "• &lt;!here&gt; &amp; &lt;@U0ANN&gt; — since 2026-11-25 (today)" in card.shown
    assert "<!here>" not in json.dumps(card.message)


async def test_an_unknown_problem_is_answered_privately(rig: Rig) -> None:
    answer = await rig.command("/problem", "2.99")

    assert not answer.public
    assert answer.shown == ":warning: No problem 2.99 — section 2 runs 2.1–2.38."
    assert answer.header == "" and answer.buttons == []


async def test_ten_thousand_characters_are_refused_politely(rig: Rig, ctx: Context) -> None:
    answer = await rig.command("/release", "3.11 " + "x" * 10_000)
    search = await rig.command("/search", "heads " * 2000)

    assert (
        "That is too long (10005 characters): /release reads at most 4000, its note at most 1000."
        in answer.shown
    )
    assert "/search reads at most 4000, its query at most 200." in search.shown and not search.public


async def test_odd_unicode_numbers_still_find_the_problem(rig: Rig) -> None:
    # full-width digits, no-break and ideographic spaces, a leading #
    for text in ("２.４", "\u00a02.4\u3000", "#2.4"):
        answer = await rig.command("/problem", text)

        assert answer.header.startswith("2.4 — 3 letter acronyms"), text


async def test_invisible_characters_in_a_number_are_ignored(rig: Rig) -> None:
    for text in ("\u200b2.4", "2.\u200d4", "\u202e2.4\u202c"):
        answer = await rig.command("/problem", text)

        assert answer.header.startswith("2.4 — 3 letter acronyms"), text


async def test_odd_unicode_searches_get_an_answer(rig: Rig) -> None:
    texts = ["\u202eheads induction\u202c 🙂", "ü̈̈̈̈ ḩ̵̢͎e̸a̵d̶s", "\x00\x07heads", "𝓲𝓷𝓭𝓾𝓬𝓽𝓲𝓸𝓷", "\U0010ffff"]
    for text in texts:
        answer = await rig.command("/search", text)

        assert not answer.public, text
        assert answer.shown, text  # an answer, not a silence
        assert "Sorry, something went wrong" not in answer.shown, text


async def test_no_token_or_secret_is_logged(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    await rig.command("/claim", "3.11")
    card = await rig.command("/problem", "3.11")
    await rig.click(card, "Release")

    assert caplog.records  # debug logging really was on
    assert TOKEN not in caplog.text and SECRET not in caplog.text


async def test_existing_work_links_only_to_http_and_labels_stay_inert(rig: Rig, ctx: Context) -> None:
    now = ctx.clock()
    for url, note in (
        ("https://arxiv.org/abs/2211.00593?a=1&b=2", "IOI <!channel> paper"),
        ("javascript:alert(1)", "click me"),
    ):
        await ctx.store.execute(
            sa.insert(WorkLink).values(
                problem_number="2.4",
                url=url,
                normalized_url=url,
                note=note,
                platform="slack",
                user_id=BOB,
                display_name="bob",
                created_at=now,
                status=LinkStatus.APPROVED.value,
                decided_at=now,
            )
        )

    card = await rig.command("/problem", "2.4")

    url = "https://arxiv.org/abs/2211.00593?a=1&amp;b=2"
    assert f"• <{url}> — IOI &lt;!channel&gt; paper" in card.shown
    assert "• javascript:alert(1) — click me" in card.shown


async def test_a_submitter_s_note_never_labels_the_approved_link(fake: FakeSlack, ctx: Context) -> None:
    """A note that reads as another address was the approved link's text on every card: the
    card showed arxiv.org and linked to evil.example. The link shows its own address now.
    (A note of that address alone is refused as a second link: /submit takes one at a time.)"""
    evil, disguise = "https://evil.example/login", "https://arxiv.org/abs/2209.10652"
    async with moderated(fake, ctx) as rig:
        await rig.command("/submit", f"2.4 {evil} see {disguise}", user=ANN)
        post = rig.posts_in(MODS)[-1]
        await rig.click(Answer.of(post), "Approve", user=MOD, channel=MODS, ts=post.response["ts"])
        card = await rig.command("/problem", "2.4", user=BOB)

    # The note's own URL is a link to itself beside it, never the approved link's label.
    assert f"• <{evil}> — see <{disguise}>" in card.shown
    assert f"|{disguise}" not in json.dumps(card.message)


async def test_look_alike_links_are_shown_as_where_they_go_or_refused(fake: FakeSlack, ctx: Context) -> None:
    """``https://аrxiv.org/…`` (a Cyrillic а) was accepted as typed, shown as arXiv, and missed
    the duplicate check for arXiv's paper; ``https://arxiv.org@evil.example/…`` was accepted."""
    async with moderated(fake, ctx) as rig:
        refused = await rig.command("/submit", "2.4 https://arxiv.org@evil.example/abs/2209.10652", user=ANN)
        look_alike = await rig.command("/submit", "2.4 https://\u0430rxiv.org/abs/2209.10652 IOI", user=ANN)
        post = Answer.of(rig.posts_in(MODS)[-1])
        real = await rig.command("/submit", "2.4 https://arxiv.org/abs/2209.10652 IOI", user=BOB)

    assert "That link goes to evil.example, not to what comes before the @ in it." in refused.shown
    assert "listed as browsers reach it: <https://xn--rxiv-43d.org/abs/2209.10652>" in look_alike.shown
    punycode = "https://xn--rxiv-43d.org/abs/2209.10652"
    assert f"*Link*\n• <{punycode}>" in post.shown and "\u0430rxiv" not in json.dumps(post.message)
    assert "went to the moderators" in real.shown  # arXiv's own paper is not taken for a duplicate
    assert len(rig.posts_in(MODS)) == 2


FAKE_STRUCTURE = (
    "great paper\n\n*Link*\n• https://arxiv.org/abs/2209.10652\n"
    "~New existing work~ *Approved by Neel (moderator)*"
)


async def test_a_note_cannot_draw_sections_or_a_decision_in_the_moderators_post(
    fake: FakeSlack, ctx: Context
) -> None:
    """A note with newlines and mrkdwn drew a bold second "Link" section and a struck-through,
    bold "Approved by" line in the post moderators decide on."""
    fake.add_user("U0EVE", "eve", display_name="> *Neel* (moderator)")
    async with moderated(fake, ctx) as rig:
        await rig.command("/submit", f"2.4 https://evil.example/login {FAKE_STRUCTURE}", user="U0EVE")
        post = Answer.of(rig.posts_in(MODS)[-1])

    z = "\u200b"
    assert post.field("From") == f"{z}&gt; *{z}Neel*{z} (moderator)"
    note = next(text for text in texts(post.blocks) if text.startswith("*Note*"))
    assert note == (
        f"*Note*\n• great paper *{z}Link*{z} • <https://arxiv.org/abs/2209.10652> "
        f"~{z}New existing work~{z} *{z}Approved by Neel (moderator)*{z}"
    )
    # Bold is only copbot's own titles ("*Note*" on a line of its own); every other formatting
    # character is followed by a zero-width space, so none can open or close a span.
    for text in texts(post.blocks):
        ours = re.sub(r"(?m)^\*[A-Z][a-z ]+\*$", "", text)
        assert re.findall(r"[*_~`](?!\u200b)", ours) == [], text
