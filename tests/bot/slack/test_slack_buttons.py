"""Buttons on copbot's messages, pressed by someone other than who asked, on both databases."""

from __future__ import annotations

import logging

import pytest

from bot.ops import Metrics, OpsServer
from commands import dispatch
from commands.types import Context
from tests.bot.slack.slack_rig import ANN, BOB, CAT, Answer, Rig, running
from tests.fakes.slack_api import Call, FakeSlack
from tests.support.clock import FakeClock
from tests.support.tcp_proxy import TcpProxy


async def test_claim_button_claims_for_whoever_presses_it(rig: Rig) -> None:
    card = await rig.command("/problem", "2.4", user=ANN)

    claimed = await rig.click(card, "Claim", user=BOB)
    bobs = await rig.command("/claims", user=BOB)
    anns = await rig.command("/claims", user=ANN)

    assert not claimed.public and claimed.message["replace_original"] is False
    assert "You claimed 2.4 on 2026-11-25. Good luck!" in claimed.shown
    assert "bob — since 2026-11-25 (today)" in claimed.shown
    assert bobs.header == "Your open claims (1)" and "2.4 — " in bobs.shown
    assert "You hold no open claims." in anns.shown


async def test_release_button_only_releases_your_own_claim(rig: Rig) -> None:
    card = await rig.command("/problem", "2.4", user=ANN)
    await rig.click(card, "Claim", user=BOB)
    card = await rig.command("/problem", "2.4", user=ANN)  # now with a Release button

    refused = await rig.click(card, "Release", user=CAT)
    released = await rig.click(card, "Release", user=BOB)
    again = await rig.command("/problem", "2.4", user=ANN)

    assert not refused.public
    assert "You hold no claim on 2.4; only its claimant can release it (" in refused.shown
    assert "Released your claim on 2.4." in released.shown
    assert "*Earlier claims*\n• bob — 2026-11-25 to 2026-11-25, released" in again.shown


async def test_another_random_posts_a_new_card_in_the_channel(rig: Rig) -> None:
    first = await rig.command("/random", "A", user=ANN)

    second = await rig.click(first, "Another random", user=BOB)

    assert second.public and second.message["replace_original"] is False
    assert second.field("Difficulty").startswith("A")
    assert "Picked at random from the 14 of 18 matching problems nobody is working on." in second.shown
    assert second.header != first.header  # not the card the button is under
    assert second.buttons == ["Claim", "Another random"]  # nobody holds it: no Release


async def test_show_button_on_search_results_posts_the_card(rig: Rig) -> None:
    results = await rig.command("/search", "induction heads", user=ANN)

    shown = await rig.click(results, "Show 1.19", user=BOB)

    assert shown.public
    assert shown.header.startswith("1.19 — Does a 3L attn only model fix bugs in induction heads")
    assert shown.buttons == ["Claim", "Another random"]


async def test_next_and_previous_buttons_turn_the_pages_of_a_search(rig: Rig) -> None:
    """A search's page had only a "Next: /search …" line to copy; its Next and Previous buttons
    answer, privately, with the page the line names and the one before, with the search's filters."""
    first = await rig.command("/search", "heads category:circuits in the wild unclaimed", user=ANN)
    assert first.buttons[-1:] == ["Next"] and "Page 1 of 3 (11 unclaimed matches)." in first.shown

    second = await rig.click(first, "Next", user=BOB)
    typed = await rig.command(
        "/search", 'query:heads category:"Circuits In The Wild" unclaimed page:2', user=BOB
    )

    assert not second.public and second.message["replace_original"] is False
    assert "Page 2 of 3 (11 unclaimed matches)." in second.shown and second.shown == typed.shown
    assert second.buttons[-2:] == ["Previous", "Next"] and second.buttons == typed.buttons
    back = await rig.click(second, "Previous", user=BOB)
    assert back.shown == first.shown and back.buttons == first.buttons


async def test_release_buttons_on_claims_release_that_claim(rig: Rig) -> None:
    await rig.command("/claim", "3.11")
    mine = await rig.command("/claims")

    released = await rig.click(mine, "Release 3.11")
    after = await rig.command("/claims")

    assert "Released your claim on 3.11." in released.shown
    assert "You hold no open claims." in after.shown


async def test_an_unknown_button_asks_to_run_the_command_again(rig: Rig) -> None:
    await rig.slack.block_action("cop:vanished:1.1", user_id=ANN)

    answer = await rig.fake.wait_for("response_url")

    assert answer.args["response_type"] == "ephemeral"
    assert "That button is no longer supported; run the command again." in answer.args["text"]


async def test_button_presses_are_in_the_metrics_and_the_log(
    fake: FakeSlack, pg_behind_proxy: tuple[TcpProxy, Context], caplog: pytest.LogCaptureFixture
) -> None:
    """A claim made with the card's Claim button counts as button:claim, logged with its outcome
    and latency; pressed while PostgreSQL is out of reach, it says the database did not answer
    and counts as an error."""
    caplog.set_level(logging.INFO, logger="copbot.commands")
    proxy, ctx = pg_behind_proxy
    metrics = Metrics()
    server = OpsServer(ctx.store, metrics, [])
    try:
        async with running(fake, ctx) as rig:
            card = await rig.command("/problem", "2.4", user=ANN)
            claimed = await rig.click(card, "Claim", user=BOB)
            proxy.cut()
            failed = await rig.click(card, "Claim", user=CAT)
            proxy.heal()
    finally:
        await server.close()
    assert "You claimed 2.4" in claimed.shown
    assert dispatch.UNAVAILABLE in failed.shown
    counted = {
        outcome: metrics.registry.get_sample_value(
            "copbot_commands_total", {"command": "button:claim", "outcome": outcome}
        )
        for outcome in ("ok", "error")
    }
    assert counted == {"ok": 1, "error": 1}
    lines = [
        (r.platform, r.outcome, r.latency_ms)  # type: ignore[attr-defined]
        for r in caplog.records
        if hasattr(r, "outcome") and getattr(r, "command", None) == "button:claim"
    ]
    assert [(platform, outcome) for platform, outcome, _ in lines] == [("slack", "ok"), ("slack", "error")]
    assert all(isinstance(latency, float) for _, _, latency in lines)


def replacements(rig: Rig) -> list[Answer]:
    """What copbot put in place of the messages whose buttons were pressed (response_url posts
    with replace_original)."""
    return [Answer("response_url", c.args) for c in rig.fake.responses if c.args.get("replace_original")]


async def test_a_card_shows_who_holds_the_problem_once_its_claim_or_release_is_pressed(rig: Rig) -> None:
    """Bob claims 1.2 with the button on Ann's card: the card in the channel is replaced by one
    naming him, with Release (before, it still said nobody was on it); his Release puts it back.
    His answers stay ephemeral; the /claims list's Release button replaces no card (only the list)."""
    card = await rig.command("/problem", "1.2", user=ANN)
    assert "Nobody yet" in card.shown

    claimed = await rig.click(card, "Claim", user=BOB)

    assert not claimed.public and claimed.message["replace_original"] is False
    (now,) = replacements(rig)
    assert now.buttons == ["Claim", "Release", "Another random"]
    assert "bob — since 2026-11-25" in now.shown and "Nobody yet" not in now.shown

    released = await rig.click(now, "Release", user=BOB)
    assert not released.public and "Released your claim on 1.2." in released.shown
    assert replacements(rig)[-1].buttons == ["Claim", "Another random"]
    assert "Nobody yet" in replacements(rig)[-1].shown

    await rig.command("/claim", "3.11", user=BOB)
    mine = await rig.command("/claims", user=BOB)
    await rig.click(mine, "Release 3.11", user=BOB)
    (relisted,) = replacements(rig)[2:]  # no card: only his private list, as it now is
    assert not relisted.public and "You hold no open claims." in relisted.shown


async def test_release_on_a_card_whose_claim_already_ended_says_so_and_refreshes_the_card(rig: Rig) -> None:
    """Ann's claim shows on a card; she released it with /release. Bob's press of the card's
    Release is told, privately, there is nothing to release, and the card drops Release."""
    await rig.command("/claim", "1.2", user=ANN)
    card = await rig.command("/problem", "1.2", user=BOB)
    assert "Release" in card.buttons
    await rig.command("/release", "1.2", user=ANN)

    refused = await rig.click(card, "Release", user=BOB)

    assert not refused.public
    assert (
        "You hold no claim on 1.2, so there is nothing to release. "
        "You hold no open claims; /claims lists yours." in refused.shown
    )
    (now,) = replacements(rig)
    assert now.buttons == ["Claim", "Another random"] and "ann — since" not in now.shown


async def test_release_in_the_private_claims_list_takes_that_button_off_the_list(rig: Rig) -> None:
    """Ann's private /claims lists 3.11 and 1.2, each with a Release button. She presses
    Release 3.11: she is told it is released, and the list in front of her no longer offers
    Release 3.11 (before, it kept it, and a second press said she held no claim on 3.11)."""
    await rig.command("/claim", "3.11", user=ANN)
    await rig.command("/claim", "1.2", user=ANN)
    mine = await rig.command("/claims", user=ANN)
    assert not mine.public and mine.buttons == ["Release 3.11", "Release 1.2"]

    released = await rig.click(mine, "Release 3.11", user=ANN)

    assert not released.public and "Released your claim on 3.11." in released.shown
    (now,) = replacements(rig)  # the list, replaced where Ann sees it
    assert not now.public and now.buttons == ["Release 1.2"]
    assert "1.2" in now.shown and "3.11" not in now.shown


async def test_a_private_card_shows_who_holds_the_problem_once_its_claim_or_release_is_pressed(
    rig: Rig,
) -> None:
    """Bob's Claim on Ann's card answers him with a private card naming him, with Release. He
    presses that Release: he is told it is released, and the private card in front of him now
    says nobody is on 1.2, without Release (before, it kept naming him and offering Release,
    whose second press said he held no claim). Its Claim names him again; it stays private."""
    card = await rig.command("/problem", "1.2", user=ANN)
    claimed = await rig.click(card, "Claim", user=BOB)
    assert not claimed.public and claimed.buttons == ["Claim", "Release", "Another random"]
    assert "bob — since 2026-11-25" in claimed.shown
    shown = len(replacements(rig))  # the card in the channel, replaced

    released = await rig.click(claimed, "Release", user=BOB)

    assert not released.public and "Released your claim on 1.2." in released.shown
    # His private card, replaced where he sees it (and the channel's, as the next test shows).
    (now,) = [a for a in replacements(rig)[shown:] if not a.public]
    assert not now.public and now.buttons == ["Claim", "Another random"]
    assert "Nobody yet" in now.shown and "bob — since" not in now.shown

    again = await rig.click(now, "Claim", user=BOB)

    assert "You claimed 1.2" in again.shown
    (later,) = [a for a in replacements(rig)[shown:] if not a.public][1:]
    assert not later.public and later.buttons == ["Claim", "Release", "Another random"]
    assert "bob — since 2026-11-25" in later.shown and "You claimed" not in later.shown


async def test_a_release_on_a_private_card_updates_the_card_in_the_channel_it_was_claimed_from(
    rig: Rig,
) -> None:
    """Bob claims 1.2 with the button on Ann's card in the channel: that card names him, and his
    answer is a private card with Release. He presses that Release: before, only his private card
    changed, and the channel's card kept saying he was on 1.2 to everyone else until someone
    pressed a button on it. Now it is replaced too (through the response_url of his Claim on it,
    which Slack honours for 30 minutes), and his Claim on the private card names him there again."""
    card = await rig.command("/problem", "1.2", user=ANN)
    claimed = await rig.click(card, "Claim", user=BOB)
    (in_channel,) = [c for c in rig.fake.responses if c.args.get("replace_original")]
    assert "bob — since 2026-11-25" in Answer.of(in_channel).shown

    await rig.click(claimed, "Release", user=BOB)

    channel_cards = [
        Answer.of(c)
        for c in rig.fake.responses
        if c.args.get("replace_original") and c.response_id == in_channel.response_id
    ]
    assert len(channel_cards) == 2 and channel_cards[-1].public
    assert "Nobody yet" in channel_cards[-1].shown and "bob — since" not in channel_cards[-1].shown
    assert channel_cards[-1].buttons == ["Claim", "Another random"]

    (private,) = [a for a in replacements(rig) if not a.public]
    await rig.click(private, "Claim", user=BOB)

    now = [
        c
        for c in rig.fake.responses
        if c.args.get("replace_original") and c.response_id == in_channel.response_id
    ]
    assert len(now) == 3 and "bob — since 2026-11-25" in Answer.of(now[-1]).shown


def channel_card_posts(rig: Rig, pressed: Call) -> list[Answer]:
    """What copbot put in place of a channel card through the response_url of ``pressed``
    (the Claim pressed on it)."""
    return [
        Answer.of(c)
        for c in rig.fake.responses
        if c.args.get("replace_original") and c.response_id == pressed.response_id
    ]


async def test_a_typed_release_or_claim_updates_the_channel_card_the_member_claimed_from(
    rig: Rig, clock: FakeClock
) -> None:
    """Bob claims 1.2 with the button on Ann's card in the channel, then types /release 1.2.
    Before, the channel's card kept naming him to everyone (only a Release on his private card
    updated it). Now it is replaced, through the response_url of his Claim on it, by one saying
    nobody is on 1.2; his typed /claim 1.2 names him there again. Slack takes five posts to that
    response_url (his Claim's answer and the card's refresh were two): a third typed command
    changes it a last time, the next posts nothing there."""
    card = await rig.command("/problem", "1.2", user=ANN)
    await rig.click(card, "Claim", user=BOB)
    (in_channel,) = [c for c in rig.fake.responses if c.args.get("replace_original")]

    released = await rig.command("/release", "1.2 tried the easy cases", user=BOB)
    await rig.front.drain()

    assert "Released your claim on 1.2." in released.shown
    shown = channel_card_posts(rig, in_channel)
    assert len(shown) == 2 and shown[-1].public and shown[-1].buttons == ["Claim", "Another random"]
    assert "Nobody yet" in shown[-1].shown and "bob — since" not in shown[-1].shown, shown[-1].shown

    clock.advance(minutes=5)
    claimed = await rig.command("/claim", "1.2", user=BOB)
    await rig.front.drain()

    assert "You claimed 1.2" in claimed.shown
    shown = channel_card_posts(rig, in_channel)
    assert len(shown) == 3 and "bob — since 2026-11-25" in shown[-1].shown, shown[-1].shown
    assert "You claimed" not in shown[-1].shown

    await rig.command("/release", "1.2", user=BOB)
    await rig.command("/claim", "1.2", user=BOB)
    await rig.front.drain()

    shown = channel_card_posts(rig, in_channel)
    assert len(shown) == 4 and "Nobody yet" in shown[-1].shown  # the fifth post: the last Slack takes
    to_it = [c for c in rig.fake.responses if c.response_id == in_channel.response_id]
    assert len(to_it) == 5  # his Claim's answer, and the card four times


async def test_a_typed_release_leaves_other_channel_cards_alone(rig: Rig, clock: FakeClock) -> None:
    """Only the card the member pressed Claim on, and only while Slack takes its response_url
    (30 minutes), is replaced after a typed command: Cat's /release of her own claim, or
    Bob's /release an hour after his Claim, post nothing to it."""
    card = await rig.command("/problem", "1.2", user=ANN)
    await rig.click(card, "Claim", user=BOB)
    (in_channel,) = [c for c in rig.fake.responses if c.args.get("replace_original")]
    await rig.command("/claim", "2.4", user=CAT)
    await rig.command("/release", "2.4", user=CAT)
    refused = await rig.command("/release", "1.2", user=CAT)
    assert "only its claimant can release it" in refused.shown
    clock.advance(hours=1)

    released = await rig.command("/release", "1.2", user=BOB)
    await rig.front.drain()

    assert "Released your claim on 1.2." in released.shown
    assert channel_card_posts(rig, in_channel) == [Answer.of(in_channel)]


async def test_a_channel_card_is_not_replaced_once_slack_no_longer_takes_its_response_url(
    rig: Rig, clock: FakeClock
) -> None:
    """Slack takes posts to a response_url for 30 minutes: Bob's Release on his private card an
    hour after his Claim on the channel's card changes his private card only, and posts nothing
    Slack would refuse (the channel's card is brought up to date by the next press on it)."""
    card = await rig.command("/problem", "1.2", user=ANN)
    claimed = await rig.click(card, "Claim", user=BOB)
    (in_channel,) = [c for c in rig.fake.responses if c.args.get("replace_original")]
    clock.advance(hours=1)

    await rig.click(claimed, "Release", user=BOB)

    replaced = [c for c in rig.fake.responses if c.args.get("replace_original")]
    assert [c for c in replaced if c.response_id == in_channel.response_id] == [in_channel]
    assert [a.public for a in replacements(rig)] == [True, False]  # the card's refresh, his card


async def test_a_release_on_page_two_of_claims_shows_page_two_again(rig: Rig, ctx: Context) -> None:
    """Ann holds 45 claims: /claims lists them 20 a page. She opens page 2 (`/claims me 2`) and
    presses its first Release: the list in front of her is page 2 as it now is, the claims after
    it moved up one (before, page 1 was put in its place, and the page she was reading was gone)."""
    numbers = [p.number for p in await ctx.store.problems()][:45]
    for number in numbers:
        await rig.command("/claim", number, user=ANN)
    second = await rig.command("/claims", "me 2", user=ANN)
    assert "Page 2 of 3." in second.shown
    assert second.buttons == [f"Release {n}" for n in numbers[20:25]]

    released = await rig.click(second, f"Release {numbers[20]}", user=ANN)

    assert f"Released your claim on {numbers[20]}." in released.shown
    (now,) = replacements(rig)
    assert not now.public and now.header == "Your open claims (44)"
    assert "Page 2 of 3." in now.shown and "There are only" not in now.shown
    assert now.buttons == [f"Release {n}" for n in numbers[21:26]]
    listed = [line.split(" — ")[0] for line in now.shown.splitlines() if line.startswith("• ")]
    assert listed == [f"• {n}" for n in numbers[21:41]], listed


async def test_a_release_emptying_the_last_page_of_claims_shows_the_page_before(
    rig: Rig, ctx: Context
) -> None:
    """Ann holds 41 claims: page 3 of /claims lists the last one alone. She presses its Release:
    page 3 is no more, so the list in front of her is page 2, the last (before, page 1)."""
    numbers = [p.number for p in await ctx.store.problems()][:41]
    for number in numbers:
        await rig.command("/claim", number, user=ANN)
    third = await rig.command("/claims", "page:3", user=ANN)
    assert "Page 3 of 3." in third.shown and third.buttons == [f"Release {numbers[40]}"]

    await rig.click(third, f"Release {numbers[40]}", user=ANN)

    (now,) = replacements(rig)
    assert not now.public and now.header == "Your open claims (40)"
    assert "There are only 2 pages; here is page 2." in now.shown and "Page 2 of 2." in now.shown
    assert now.buttons == [f"Release {n}" for n in numbers[20:25]]
