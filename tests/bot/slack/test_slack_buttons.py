"""Buttons on copbot's messages, pressed by someone other than who asked, on both databases."""

from __future__ import annotations

from tests.bot.slack.slack_rig import ANN, BOB, CAT, Rig


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
    assert "Picked at random from 18 matching problems." in second.shown
    assert second.buttons == ["Claim", "Release", "Another random"]


async def test_show_button_on_search_results_posts_the_card(rig: Rig) -> None:
    results = await rig.command("/search", "induction heads", user=ANN)

    shown = await rig.click(results, "Show 1.19", user=BOB)

    assert shown.public
    assert shown.header.startswith("1.19 — Does a 3L attn only model fix bugs in induction heads")
    assert shown.buttons == ["Claim", "Release", "Another random"]


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
