"""What people type and what they call themselves, as cards, lists and histories show it."""

from __future__ import annotations

from tests.bot.slack.slack_rig import BOB, Rig


async def test_bidi_and_zero_width_display_names_are_shown_cleaned(rig: Rig) -> None:
    """A display name with a right-to-left override shows as its letters (the rest of the line
    keeps its direction); one of only a zero-width space shows the user's id, not a blank."""
    rig.fake.add_user("U0RLO", "rlo", display_name="\u202eanna")
    rig.fake.add_user("U0ZW", "zw", display_name="\u200b")
    await rig.command("/claim", "2.4", user="U0RLO")
    await rig.command("/claim", "2.4", user="U0ZW")
    claims = await rig.command("/claims", "number:2.4", user=BOB)
    card = await rig.command("/problem", "2.4", user=BOB)
    history = await rig.command("/history", "2.4", user=BOB)
    assert "anna — since 2026-11-25" in claims.shown and "U0ZW — since 2026-11-25" in claims.shown
    assert "anna — since 2026-11-25" in card.shown and "U0ZW — since 2026-11-25" in card.shown
    assert "anna claimed it" in history.shown and "U0ZW claimed it" in history.shown
    for answer in (claims, card, history):
        assert "\u202e" not in answer.shown and "\u200b" not in answer.shown


async def test_a_release_note_keeps_its_quotes_and_commas(rig: Rig) -> None:
    """`/release 2.4 tried the "max" trick, failed`: /history shows the note as typed."""
    await rig.command("/claim", "2.4")
    released = await rig.command("/release", '2.4 tried the "max" trick, failed')
    history = await rig.command("/history", "2.4", user=BOB)
    assert "Released your claim on 2.4" in released.shown
    assert 'ann released it: tried the "max" trick, failed' in history.shown
