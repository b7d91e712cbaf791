"""What people type and what they call themselves, as cards, lists and histories show it."""

from __future__ import annotations

from commands.types import Context
from storage import submissions
from storage.claims import Person
from tests.bot.slack.slack_rig import BOB, MOD, MODS, Answer, Rig, moderated, running
from tests.fakes.slack_api import FakeSlack
from tests.support.bidi import ARABIC, HEBREW, PROBLEM_TEXT, RLO, has_bidi, plant_unclosed_overrides


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


async def test_a_release_note_ending_in_a_link_links_to_it_on_the_card(rig: Rig) -> None:
    """The card quotes an earlier claim's note (“…”): a note ending in a URL linked to the URL
    with the closing quote in it (https://x.org/notes%E2%80%9D, another page); now to the URL."""
    await rig.command("/claim", "2.4")
    await rig.command("/release", "2.4 my notes: https://x.org/notes")
    card = await rig.command("/problem", "2.4", user=BOB)
    assert "“my notes: <https://x.org/notes>”" in card.shown


async def test_a_link_in_square_brackets_links_to_the_url_whatever_follows_the_bracket(rig: Rig) -> None:
    """A note writes its links in square brackets, text right after the "]": the link took in
    the "]" and what followed it (https://x.org/a%5D's, another page), and so a ")" closing a
    "(". Now each links to the URL in the brackets; a "]" with no "[" before the link is still
    part of it."""
    note = "see [https://x.org/a]'s page, [https://x.org/b]/c, (https://x.org/e)s and https://x.org/d]e"
    await rig.command("/claim", "2.4")
    await rig.command("/release", f"2.4 {note}")
    card = await rig.command("/problem", "2.4", user=BOB)
    linked = (
        "see [<https://x.org/a>]'s page, [<https://x.org/b>]/c, (<https://x.org/e>)s and <https://x.org/d]e>"
    )
    assert linked in card.shown, card.shown


async def test_a_zero_width_space_before_a_named_option_does_not_hide_it(rig: Rig) -> None:
    """`/claims \u200bnumber:2.4` (pasted with a zero-width space) looked for someone called
    "number:2.4"; `/search \u200bdifficulty:A circuits` looked for "difficulty:A" as words."""
    await rig.command("/claim", "2.4", user=BOB)
    claims = await rig.command("/claims", "\u200bnumber:2.4")
    search = await rig.command("/search", "\u2060difficulty:A circuits")
    assert "Claims on 2.4" in claims.shown and "nobody called" not in claims.shown
    assert "Search: circuits" in search.shown and "difficulty:A" not in search.shown


async def test_names_keep_the_joiners_their_letters_and_emoji_need(rig: Rig) -> None:
    """Cleaning a name keeps what it is written with: 👩‍💻 (a zero-width joiner), a Persian
    name's zero-width non-joiner, a rainbow flag, England's tag sequence; a name of only a
    joiner shows the user's id."""
    names = {
        "U0EMO": "👩\u200d💻 Ann",
        "U0FA": "مهدی\u200cزاده",
        "U0FLAG": "🏳\ufe0f\u200d🌈 Kim",
        "U0ENG": "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f Jo",
        "U0ZWJ": "\u200d",
    }
    for user, name in names.items():
        rig.fake.add_user(user, user.lower(), display_name=name)
        await rig.command("/claim", "2.4", user=user)
    claims = await rig.command("/claims", "number:2.4", user=BOB)
    for user, name in names.items():
        shown = user if user == "U0ZWJ" else name
        assert f"{shown} — since 2026-11-25" in claims.shown, (name, claims.shown)


async def test_urls_in_a_note_and_underscores_inside_words_are_shown_as_written(
    rig: Rig, ctx: Context
) -> None:
    """Making text inert put a zero-width space after every _: a URL in an approved link's note
    (github.com/foo/bar_<zwsp>baz_<zwsp>qux) was neither a link nor copyable, and ann_the_dev on a
    card, in /history and a search's "Next: /search query:induction_heads" footer copied with
    invisible characters in them. Now the note's URL is a link as written, and an _ inside a word
    is kept; one that could start or end italics (_this_) is still inert."""
    rig.fake.add_user("U0UND", "ann", display_name="ann_the_dev")
    await rig.command("/claim", "2.4", user="U0UND")
    ann, mod = Person("slack", "T0FAKE", "U0UND", "ann_the_dev"), Person("slack", "T0FAKE", MOD, "mod")
    note = "see https://github.com/foo/bar_baz_qux and _this_"
    link = await submissions.submit(ctx.store, "2.4", "https://x.org/p", "x.org/p", note, ann, ctx.clock(), 9)
    await submissions.decide(ctx.store, link.id, mod, True, "", ctx.clock())

    card = await rig.command("/problem", "2.4", user=BOB)
    history = await rig.command("/history", "2.4", user=BOB)
    search = await rig.command("/search", "query:induction_heads", user=BOB)

    z = "\u200b"
    assert f"<https://x.org/p> — see <https://github.com/foo/bar_baz_qux> and _{z}this_{z}" in (card.shown)
    assert "• ann_the_dev — since 2026-11-25" in card.shown
    assert (
        "ann_the_dev claimed it" in history.shown
        and "ann_the_dev submitted <https://x.org/p>" in history.shown
    )
    assert "Next: /search query:induction_heads page:2" in search.shown
    assert search.message["text"] == "Search: induction_heads"  # the notification's text


async def test_formatting_characters_inside_words_are_shown_as_typed(rig: Rig) -> None:
    """A zero-width space followed every * and ~ even inside a word (x*y, a~b), where Slack never
    formats, so a name or a note copied or searched for did not match what was typed. Now one
    between two letters or digits is kept as typed; one that could open or close a span is
    still followed by a zero-width space, so *this* and ~that~ stay plain."""
    z = "\u200b"
    rig.fake.add_user("U0AST", "ast", display_name="x*y~z")
    await rig.command("/claim", "2.4", user="U0AST")
    released = await rig.command(
        "/release", "2.4 a~b, file_name, 2*3*4 but *this* and ~that~ and _it_", user="U0AST"
    )
    assert "Released your claim" in released.shown
    history = await rig.command("/history", "2.4", user=BOB)
    assert f"x*y~z released it: a~b, file_name, 2*3*4 but *{z}this*{z} and ~{z}that~{z} and _{z}it_{z}" in (
        history.shown
    )
    assert "x*y~z claimed it" in history.shown


async def test_an_unclosed_rtl_override_cannot_turn_the_rest_of_a_message_around(
    fake: FakeSlack, ctx: Context
) -> None:
    """Slack's blocks, as Discord's embeds: an RLO left open in a problem's text, an old claim's
    name and note (stored before bidi controls were dropped), a display name and a note typed
    now shows as the letters alone, Hebrew and Arabic as typed; what follows reads as written."""
    fake.add_user("U0EVE", "eve", display_name=f"{RLO}eve {HEBREW}")
    old = Person("discord", "G1", "9", f"{RLO}anna")
    await plant_unclosed_overrides(ctx.store, "1.5", old, ctx.clock())
    async with running(fake, ctx) as rig:
        await rig.command("/claim", "1.5", user="U0EVE")
        await rig.command("/claim", "1.5")
        await rig.command("/release", f"1.5 {RLO}tried {ARABIC}, stuck")
        card = (await rig.command("/problem", "1.5", user=BOB)).shown
        history = (await rig.command("/history", "1.5", user=BOB)).shown
        claims = (await rig.command("/claims", "number:1.5", user=BOB)).shown
    for shown in (card, history, claims):
        assert not has_bidi(shown), shown
    assert PROBLEM_TEXT in card
    assert f"eve {HEBREW} — since 2026-11-25" in card
    assert "anna (Discord) released it: see" in history
    assert f"ann released it: tried {ARABIC}, stuck" in history
    assert f"eve {HEBREW} — since 2026-11-25" in claims


async def test_a_link_with_a_pipe_in_it_links_to_the_whole_link_wherever_it_is_named(
    fake: FakeSlack, ctx: Context
) -> None:
    """/submit took https://example.org/search?q=heads|tails (a | is no URL's end), and the card
    linked to it whole; but named in text, in /history ("ann submitted …"), in the moderator's
    answer to Approve and in /withdraw's list, the link stopped at the "|": it led to
    ?q=heads, another page, with "|tails" after it as text. Now each links to the whole link;
    someone's own "<https://x.org|label>" still shows as text, its URL without the label."""
    url = "https://example.org/search?q=heads|tails"
    whole = "<https://example.org/search?q=heads%7Ctails|https://example.org/search?q=heads|tails>"
    async with moderated(fake, ctx) as rig:
        await rig.command("/submit", f"2.4 {url} see <https://x.org|trusted>")
        listed = await rig.command("/withdraw")
        (post,) = rig.posts_in(MODS)
        approved = await rig.click(Answer.of(post), "Approve", user=MOD, channel=MODS, ts=post.ts)
        history = await rig.command("/history", "2.4", user=BOB)
        card = await rig.command("/problem", "2.4", user=BOB)
    assert f"ann submitted {whole}" in history.shown, history.shown
    assert f"mod approved {whole}" in history.shown
    assert f"Approved 2.4 #1: {whole} from ann" in approved.shown, approved.shown
    assert whole in listed.shown, listed.shown
    assert f"• {whole} — see &lt;<https://x.org>|trusted&gt;" in card.shown, card.shown
