"""Buttons under replies: each one works, keeps working after a restart, and runs once per click."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.discord.frontend import DiscordFrontEnd
from bot.ops import Metrics, OpsServer
from commands.types import Context
from tests.bot.discord.discord_rig import ask, buttons, embed, running, text_of
from tests.fakes.discord_api import Callback, FakeDiscord


async def click(fake: FakeDiscord, message: dict[str, Any], label: str, **kw: Any) -> Callback:
    """Press the button labelled ``label`` on ``message`` and return the answer."""
    custom_id = dict(buttons(message))[label]
    iid = await fake.click(message, custom_id, **kw)
    return await fake.wait_for_callback(iid)


async def problem_message(fake: FakeDiscord, number: str = "2.4") -> dict[str, Any]:
    """The channel message /problem posts."""
    answer = await ask(fake, "problem", {"number": number})
    assert answer.message is not None
    return answer.message


async def test_claim_and_release_buttons(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """Claim answers privately; Release (on a card once someone holds the problem) works for the
    claimant only."""
    card = await problem_message(fake, "1.2")
    claimed = await click(fake, card, "Claim")
    assert claimed.ephemeral
    assert embed(claimed)["description"].startswith("You claimed 1.2 on 2026-11-25.")
    card = await problem_message(fake, "1.2")

    refused = await click(fake, card, "Release", user_id=fake.bob_id)
    assert refused.ephemeral
    assert "only its claimant can release it (Alice)" in embed(refused)["description"]

    released = await click(fake, card, "Release")
    assert embed(released)["description"] == "Released your claim on 1.2."


async def test_another_random_and_show_answer_in_public(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """Another random posts a new public card; Show on a private search result does too."""
    card = await problem_message(fake)
    another = await click(fake, card, "Another random")
    assert not another.ephemeral
    picked = "Picked at random from the 87 of the catalogue's 98 problems nobody is working on."
    assert embed(another)["description"].startswith(picked)

    results = await ask(fake, "search", {"query": "acronym"})
    assert results.ephemeral and results.message is not None
    shown = await click(fake, results.message, "Show 2.4")
    assert not shown.ephemeral
    assert embed(shown)["title"].startswith("2.4 — 3 letter acronyms")


async def test_next_and_previous_buttons_turn_the_pages_of_a_search(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """A search's page had only a "Next: /search …" line to copy; its Next and Previous buttons
    answer, privately, with the page the line names and the one before, with the search's filters."""
    first = await ask(
        fake, "search", {"query": "heads", "category": "circuits in the wild", "unclaimed": True}
    )
    assert first.ephemeral and first.message is not None
    assert [label for label, _ in buttons(first.message)][-1:] == ["Next"]
    assert embed(first)["footer"]["text"].startswith("Page 1 of 3 (11 unclaimed matches).")

    second = await click(fake, first.message, "Next")
    typed = await ask(fake, "search", {"query": "heads", "category": "2", "unclaimed": True, "page": 2})
    assert second.ephemeral and second.message is not None and typed.message is not None
    assert embed(second)["footer"]["text"].startswith("Page 2 of 3 (11 unclaimed matches).")
    assert embed(second) == embed(typed) and buttons(second.message) == buttons(typed.message)
    assert [label for label, _ in buttons(second.message)][-2:] == ["Previous", "Next"]
    back = await click(fake, second.message, "Previous")
    assert embed(back) == embed(first) and back.message is not None
    assert buttons(back.message) == buttons(first.message)


async def test_release_button_under_claims(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """/claims lists a Release button per claim, and it releases that one."""
    await ask(fake, "claim", {"number": "1.3"})
    mine = await ask(fake, "claims")
    assert mine.message is not None
    pressed = await click(fake, mine.message, "Release 1.3")
    released = await fake.wait_for_followup(pressed.interaction_id)  # the answer updated the list
    assert released.message is not None
    assert released.message["embeds"][0]["description"] == "Released your claim on 1.3."


async def test_buttons_work_after_a_restart_and_commands_sync_once(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """A click on a message posted before a restart still claims; the unchanged commands are
    not synced again (one sync in total)."""
    async with running(fake, ctx, db_url):
        card = await problem_message(fake)
    assert fake.connections == []
    async with running(fake, ctx, db_url) as again:
        assert again.ready
        claimed = await click(fake, card, "Claim", user_id=fake.bob_id)
        assert embed(claimed)["description"].startswith("You claimed 2.4")
        mine = await ask(fake, "claims", user_id=fake.bob_id)
        assert "Bob — since 2026-11-25" in text_of(mine.data or {})
    assert len(fake.syncs) == 1
    assert len(fake.identifies) == 2


async def test_a_replayed_interaction_runs_once(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """The same INTERACTION_CREATE delivered twice (command and click) claims once, answers once."""
    iid = await fake.slash("claim", {"number": "3.11"})
    await fake.wait_for_callback(iid)
    await fake.replay(iid)
    await fake.wait_until(lambda: bot.skipped_duplicates == 1)

    card = await problem_message(fake, "3.11")
    click_id = await fake.click(card, "cop:claim:3.11", user_id=fake.bob_id)
    await fake.wait_for_callback(click_id)
    await fake.replay(click_id)
    await fake.wait_until(lambda: bot.skipped_duplicates == 2)

    events = [e.kind for e in await bot.ctx.store.history("3.11") if e.actor_platform == "discord"]
    assert events == ["claimed", "claimed"]  # Alice once, Bob once
    assert not [r for r in fake.requests if r.status == 400]


async def test_a_claim_made_with_the_button_is_counted(
    fake: FakeDiscord, bot: DiscordFrontEnd, caplog: pytest.LogCaptureFixture
) -> None:
    """The card's Claim button counts in /metrics as button:claim, the /problem that posted the
    card as problem; the log has one line for the click, with its outcome and latency."""
    caplog.set_level(logging.INFO)
    metrics = Metrics()
    server = OpsServer(bot.ctx.store, metrics, [])
    try:
        card = await problem_message(fake, "1.2")
        claimed = await click(fake, card, "Claim")
        await bot.drain()  # the front end's own work after answering
    finally:
        await server.close()
    assert embed(claimed)["description"].startswith("You claimed 1.2 on 2026-11-25.")
    counted = {
        command: metrics.registry.get_sample_value(
            "copbot_commands_total", {"command": command, "outcome": "ok"}
        )
        for command in ("problem", "button:claim", "claim")
    }
    assert counted == {"problem": 1, "button:claim": 1, "claim": None}
    clicks = [
        (r.command, getattr(r, "outcome", None), type(getattr(r, "latency_ms", None)))  # type: ignore[attr-defined]
        for r in caplog.records
        if r.levelno >= logging.INFO and str(getattr(r, "command", "")).startswith("button")
    ]
    assert clicks == [("button:claim", "ok", float)]


async def test_a_card_shows_who_holds_the_problem_once_its_claim_or_release_is_pressed(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """Bob claims 1.2 with the card's button: the card in the channel now names him and offers
    Release (before, it still said nobody was on it); he releases it from the card, and the card
    says so and drops Release. Answers to him stay private."""
    card = await problem_message(fake, "1.2")
    assert "Nobody yet" in text_of(card)

    claimed = await click(fake, card, "Claim", user_id=fake.bob_id)

    assert claimed.ephemeral
    await fake.wait_until(lambda: "Release" in dict(buttons(fake.message(int(card["id"])))))
    now = fake.message(int(card["id"]))
    assert "Bob — since 2026-11-25" in text_of(now) and "Nobody yet" not in text_of(now)
    assert [label for label, _ in buttons(now)] == ["Claim", "Release", "Another random"]

    released = await click(fake, now, "Release", user_id=fake.bob_id)
    assert released.ephemeral
    await fake.wait_until(lambda: "Release" not in dict(buttons(fake.message(int(card["id"])))))
    assert "Nobody yet" in text_of(fake.message(int(card["id"])))


async def test_release_on_a_card_whose_claim_already_ended_says_so_and_refreshes_the_card(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """Alice's claim shows on a card; she released it with /release. Bob pressing the card's
    Release is told privately there is nothing to release, and the card drops Release and
    Alice; the card of a /random keeps its Another random filters."""
    await ask(fake, "claim", {"number": "1.2"})
    card = await problem_message(fake, "1.2")
    assert "Release" in dict(buttons(card))
    await ask(fake, "release", {"number": "1.2"})

    refused = await click(fake, card, "Release", user_id=fake.bob_id)

    assert refused.ephemeral
    assert embed(refused)["description"] == (
        "You hold no claim on 1.2, so there is nothing to release. You hold no open claims; "
        "/claims lists yours."
    )
    await fake.wait_until(lambda: "Release" not in dict(buttons(fake.message(int(card["id"])))))
    assert "Alice — since" not in text_of(fake.message(int(card["id"])))

    picked = await ask(fake, "random", {"difficulty": "A", "unclaimed": True})
    assert picked.message is not None
    again = dict(buttons(picked.message))["Another random"]
    assert again.startswith("cop:random:A//u/")  # the filters, then the problem it shows
    await click(fake, picked.message, "Claim", user_id=fake.bob_id)
    await fake.wait_until(lambda: "Release" in dict(buttons(fake.message(int(picked.message["id"])))))
    assert dict(buttons(fake.message(int(picked.message["id"]))))["Another random"] == again


async def test_two_claims_pressed_at_once_on_a_card_both_show_whichever_answer_goes_out_last(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """Bob and Alice press the card's Claim a moment apart; Bob's answer is held up (Discord
    asks copbot to wait before it takes it), so Alice's card update is made first. The card ends
    naming them both, not only Bob, as the update worked out before Alice claimed would say."""
    card = await problem_message(fake, "1.2")
    fake.rate_limit("POST", "/interactions/*/*/callback", retry_after=1.0)

    bobs = await fake.click(card, dict(buttons(card))["Claim"], user_id=fake.bob_id)
    await fake.wait_until(lambda: bool(fake.rate_limited))  # Bob holds 1.2; his answer waits
    alices = await click(fake, card, "Claim", user_id=fake.alice_id)
    assert alices.ephemeral and "You claimed" in embed(alices)["description"]
    await fake.wait_for_callback(bobs)
    await bot.drain()

    shown = text_of(fake.message(int(card["id"])))
    assert "Bob — since" in shown and "Alice — since" in shown, shown


async def test_a_claim_pressed_while_discord_holds_its_answer_back_still_shows_on_the_card(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """Bob presses Claim on a card while Discord answers interaction callbacks with a 429 of ten
    minutes: copbot gives the answer up after ``answer_wait`` (he sees "did not respond"), but
    the claim was made. The card in the channel (edited through another route, not rate
    limited) used to keep saying "Nobody yet" and offering no Release; it now names him, as
    after an answered press."""
    async with running(fake, ctx, db_url, answer_wait=0.5) as bot:
        card = await problem_message(fake, "1.2")
        assert "Nobody yet" in text_of(card)
        fake.rate_limit("POST", "/interactions/*/*/callback", retry_after=600)
        await fake.click(card, dict(buttons(card))["Claim"], user_id=fake.bob_id)
        await fake.wait_until(lambda: bool(fake.rate_limited))
        await bot.drain()
        now = fake.message(int(card["id"]))
        assert "Bob — since 2026-11-25" in text_of(now), text_of(now)
        assert [label for label, _ in buttons(now)] == ["Claim", "Release", "Another random"]


async def test_a_card_edit_discord_rate_limits_for_minutes_is_a_warning_and_the_answer_stands(
    fake: FakeDiscord, bot: DiscordFrontEnd, caplog: pytest.LogCaptureFixture
) -> None:
    """Bob's Claim on a card is answered; the card's edit gets a 429 of ten minutes. discord.py
    raises RateLimited there (copbot bounds its waits at 30 s), which is no HTTPException: it
    came out as "answering button claim failed" with a traceback at ERROR. Now it is the
    warning any failed card edit gives, and the next press updates the card."""
    card = await problem_message(fake, "1.2")
    fake.rate_limit("PATCH", "/channels/*/messages/*", retry_after=600)
    with caplog.at_level(logging.WARNING, logger="copbot"):
        claimed = await click(fake, card, "Claim", user_id=fake.bob_id)
        assert embed(claimed)["description"].startswith("You claimed 1.2")
        await fake.wait_until(lambda: bool(fake.rate_limited))
        await bot.drain()
    warned = [r.getMessage() for r in caplog.records if r.name.startswith("copbot")]
    assert any(w.startswith("could not update message") for w in warned), warned
    await click(fake, card, "Claim", user_id=fake.alice_id)
    await fake.wait_until(lambda: "Alice" in text_of(fake.message(int(card["id"]))))


async def test_release_pressed_in_a_private_claims_list_takes_that_button_off_the_list(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """Alice's private /claims lists Release 1.3 and Release 2.4. She presses Release 1.3: the
    list she pressed it in (ephemeral, so only editable through the interaction) loses that
    button, and she is told privately it is released; Release 2.4 stays and still works."""
    await ask(fake, "claim", {"number": "1.3"})
    await ask(fake, "claim", {"number": "2.4"})
    mine = await ask(fake, "claims")
    assert mine.ephemeral and mine.message is not None
    assert [label for label, _ in buttons(mine.message)] == ["Release 1.3", "Release 2.4"]

    iid = await fake.click(mine.message, dict(buttons(mine.message))["Release 1.3"])
    await fake.wait_for_callback(iid)
    told = await fake.wait_for_followup(iid)

    listed = fake.message(int(mine.message["id"]))
    assert [label for label, _ in buttons(listed)] == ["Release 2.4"], buttons(listed)
    assert told.message is not None and told.message["flags"] & 64  # private
    assert "Released your claim on 1.3." in text_of(told.message)
    assert listed in fake.ephemeral_messages and not fake.errors

    again = await click(fake, listed, "Release 2.4")
    await fake.wait_for_followup(again.interaction_id)
    assert buttons(fake.message(int(mine.message["id"]))) == []


async def test_a_card_refreshed_after_a_claim_keeps_its_embed_where_copbot_lacks_embed_links(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """In a channel denying copbot Embed Links, a /problem card is an embed (an interaction's
    answer keeps it). Bob presses Claim: the card, edited through his interaction, still is an
    embed naming him, not a plain-text copy; his answer stays private."""
    deny = {"id": fake.bot_role_id, "type": 0, "deny": ["embed_links"]}
    await fake.set_overwrites(fake.channel_id("general"), [deny])
    await fake.sync()
    card = await problem_message(fake, "1.2")
    assert card["embeds"] and "Nobody yet" in text_of(card)

    iid = await fake.click(card, dict(buttons(card))["Claim"], user_id=fake.bob_id)
    await fake.wait_for_callback(iid)
    told = await fake.wait_for_followup(iid)

    now = fake.message(int(card["id"]))
    assert now["embeds"] and not now["content"], now
    assert "Bob — since 2026-11-25" in text_of(now)
    assert [label for label, _ in buttons(now)] == ["Claim", "Release", "Another random"]
    assert told.message is not None and told.message["flags"] & 64
    assert "You claimed 1.2" in text_of(told.message)


async def test_a_card_left_as_plain_text_is_refreshed_into_an_embed_without_that_text(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """A card an earlier refresh left as plain text (edited through the channel where copbot
    lacked Embed Links, as copbot did before) kept that text when a later press refreshed it as
    an embed: the message showed the old card, "Nobody yet", above the new one naming Bob. The
    refreshed card replaces the text, through the press's answer as through the channel."""
    for embed_links in (True, False):
        overwrites = [{"id": fake.bot_role_id, "type": 0, "deny": ["embed_links"]}] if not embed_links else []
        await fake.set_overwrites(fake.channel_id("general"), overwrites)
        await fake.sync()
        card = await problem_message(fake, "1.2" if embed_links else "1.3")
        stored = fake.message(int(card["id"]))
        stored["content"], stored["embeds"] = "**1.2 — an old plain-text card**\nNobody yet", []

        iid = await fake.click(stored, dict(buttons(stored))["Claim"], user_id=fake.bob_id)
        await fake.wait_for_callback(iid)
        message_id = int(card["id"])

        def refreshed(message_id: int = message_id) -> dict[str, Any] | None:
            now = fake.message(message_id)
            return now if now["embeds"] and "Bob" in text_of(now) else None

        now = await fake.wait_until(refreshed, description="the card refreshed")
        assert not now["content"], (embed_links, now)
        assert "Bob — since 2026-11-25" in text_of(now), embed_links


async def test_a_release_on_page_two_of_claims_leaves_page_two_in_front_of_its_member(
    fake: FakeDiscord, bot: DiscordFrontEnd, ctx: Context
) -> None:
    """Alice holds 25 claims and opens page 2 of /claims: it lists the last 5, with their Release
    buttons. She presses Release on one: it is released, and the list in front of her is still
    page 2, without that button (Slack, which cannot edit a private list, shows that page anew)."""
    numbers = [p.number for p in await ctx.store.problems()][:25]
    for number in numbers:
        await ask(fake, "claim", {"number": number})
    second = await ask(fake, "claims", {"page": 2})
    assert second.message is not None and "Page 2 of 2." in text_of(second.message)
    assert [label for label, _ in buttons(second.message)] == [f"Release {n}" for n in numbers[20:]]

    pressed = await click(fake, second.message, f"Release {numbers[21]}")
    told = await fake.wait_for_followup(pressed.interaction_id)

    assert told.message is not None and f"Released your claim on {numbers[21]}." in text_of(told.message)
    listed = fake.message(int(second.message["id"]))
    assert "Page 2 of 2." in text_of(listed)
    assert [label for label, _ in buttons(listed)] == [
        f"Release {n}" for n in numbers[20:] if n != numbers[21]
    ]
    assert numbers[21] not in [
        c.problem_number for c in await ctx.store.open_claims_for_user("discord", None, str(fake.alice_id))
    ]
