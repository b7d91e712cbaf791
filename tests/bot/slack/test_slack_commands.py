"""Every slash command through the real Bolt app, signed as Slack signs it, on both databases."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from bot.app import make_context
from commands.links import URL_KEPT
from commands.parser import Kind, Option
from commands.registry import COMMANDS, CommandSpec
from commands.types import Context, Reply, Request
from storage import submissions
from storage.catalogue import import_rows, parse_csv
from storage.claims import Person
from tests.bot.slack.slack_rig import ANN, BOB, CAT, MOD, Rig, running, settings_for
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_blocks import message_errors
from tests.support import long_links
from tests.support.approved import approve, odd_link
from tests.support.clock import FakeClock


async def test_problem_is_posted_in_the_channel_as_a_card(rig: Rig) -> None:
    answer = await rig.command("/problem", "2.4")

    assert answer.via == "ack" and answer.public  # answered in the ack itself: one round trip
    assert answer.header.startswith("2.4 — 3 letter acronyms, like")
    assert answer.field("Category") == "Circuits In The Wild"
    assert answer.field("Difficulty") == "B"
    assert "*Working on it*\n• jknowak (Discord) - July 2023" in answer.shown
    assert "*Existing work*" in answer.shown
    assert answer.buttons == ["Claim", "Another random"]  # only the sheet's claim: no Release
    assert [answer.button(b)["action_id"] for b in answer.buttons] == [
        "cop:claim:2.4",
        "cop:random:///2.4",  # any problem but this one
    ]
    assert answer.button("Claim")["value"] == "2.4" and answer.button("Claim")["style"] == "primary"
    assert answer.message["text"].startswith("2.4 — 3 letter acronyms")  # notification fallback
    assert rig.fake.responses == []


async def test_a_link_across_the_cut_of_a_problem_s_text_or_title_shows_whole_or_not_at_all(
    rig: Rig, ctx: Context
) -> None:
    """The command core cut a problem's text at 1,500 characters, and its title at 60 to 120, over
    any link there: Slack showed the half kept as a link, <https://example.org/far/bbbb…>, to a
    page that is not the one the sheet gave. Now the cut goes before the link."""
    await long_links.plant(ctx.store, ctx.clock())
    for name, text in [("/problem", "9.1"), ("/random", "9")]:
        card = await rig.command(name, text)
        assert card.header.startswith("9.1 — Probing circuits, see") and card.header.endswith("…")
        assert "then words" in card.shown
        everything = "\n".join([card.shown, card.text])  # the notification's text too
        assert long_links.half_links(everything) == [], everything
    found = await rig.command("/search", "probing circuits")
    assert "9.1 — Probing circuits, see" in found.shown
    assert long_links.half_links(found.shown) == [], found.shown


async def test_a_title_cut_right_after_a_link_s_https_shows_no_link(rig: Rig, ctx: Context) -> None:
    """A /search line cuts a problem's title at 120 characters. Where the cut fell right after a
    link's "https://", the core's cut kept "https://" before the ellipsis (too short to be a link
    itself), and Slack showed <https://…>, a link to a host named "…"."""
    head = "Probing circuits at the edge " + "e" * 81 + " "  # the link from the title's 111th character
    await long_links.plant(ctx.store, ctx.clock(), ("9.2", f"{head}https://example.org/edge/{'x' * 50} more"))
    found = await rig.command("/search", "probing circuits edge")
    assert f"9.2 — {head.strip()}…" in found.shown, found.shown
    assert long_links.half_links(found.shown) == [], found.shown


async def test_a_card_with_many_links_still_shows_who_is_working_on_it(rig: Rig, ctx: Context) -> None:
    """95 approved links as long as /submit takes (900-character link, 500-character note)."""
    ann, mod = Person("slack", "T0FAKE", ANN, "ann"), Person("slack", "T0FAKE", MOD, "mod")
    for i in range(95):
        url = f"https://example.org/paper-{i}?" + "q" * 860
        link = await submissions.submit(
            ctx.store, "2.4", url, f"k{i}", f"note {i} " + "n" * 490, ann, ctx.clock(), 999
        )
        await submissions.decide(ctx.store, link.id, mod, True, "", ctx.clock())
    await rig.command("/claim", "2.4", user=BOB)

    card = await rig.command("/problem", "2.4", user=ANN)

    # Before, the links filled Slack's 50 blocks and "Working on it" was cut off the end.
    assert "*Working on it*\n• jknowak (Discord) - July 2023" in card.shown
    assert "\n• bob — since 2026-11-25 (today)" in card.shown
    # Slack takes 12,000 characters of text a message: 7 of the 9 links shown before still fit,
    # the newest first (each as its address alone, <url>; it was 5 when each was <url|url>).
    assert "<https://example.org/paper-88?" in card.shown and "paper-87?" not in card.shown
    assert "\n• … and 88 more: /problem 2.4 all\n" in card.shown
    assert message_errors(card.message) == []
    assert "a page or a filter" not in card.shown and len(card.blocks) < 50


async def test_problem_all_lists_every_approved_link_the_card_leaves_out(
    rig: Rig, ctx: Context, clock: FakeClock
) -> None:
    """30 approved links on 2.4: the card shows 9, its last line saying how many more and where
    they are; /problem 2.4 all lists every one, just for the asker, over two pages."""
    links = [(f"https://example.org/paper-{i}", f"paper {i}") for i in range(30)]
    await approve(ctx.store, clock, "2.4", links, "slack")

    card = await rig.command("/problem", "2.4")
    assert "\n• … and 21 more: /problem 2.4 all\n" in card.shown

    first = await rig.command("/problem", "2.4 all")
    assert not first.public and first.buttons == []
    assert first.header.startswith("Existing work on 2.4 — 3 letter acronyms")
    assert first.shown.endswith(
        "Page 1 of 2 (lines 1–20 of 30). 30 approved links, newest first. Next: /problem 2.4 all page:2"
    )
    second = await rig.command("/problem", "2.4 all page:2")
    assert not second.public and "Page 2 of 2 (lines 21–30 of 30)." in second.shown
    lines = [line for page in (first, second) for line in page.shown.splitlines() if line.startswith("• ")]
    assert lines == [f"• <https://example.org/paper-{i}> — paper {i}" for i in range(29, -1, -1)]

    unknown = await rig.command("/problem", "2.99 all")
    assert not unknown.public and "No problem 2.99 — section 2 runs 2.1–2.38." in unknown.shown


async def test_problem_all_shows_the_longest_oddest_links_within_slacks_limits(
    rig: Rig, ctx: Context, clock: FakeClock
) -> None:
    """30 links as long as /submit takes, with notes of markup, mentions, bidi controls and emoji:
    each page fits in one message, whole (nothing left out), and together they show every link,
    clickable and as sent; the card counts what it cannot show and says where it is."""
    links = [odd_link(i) for i in range(30)]
    await approve(ctx.store, clock, "2.4", links, "slack")

    card = await rig.command("/problem", "2.4")
    assert message_errors(card.message) == []
    assert re.search(r"\n• … and \d+ more: /problem 2\.4 all\n", card.shown), card.shown
    shown = ""
    for page in range(1, 11):
        answer = await rig.command("/problem", f"2.4 all page:{page}")
        assert message_errors(answer.message) == [] and len(answer.blocks) <= 50
        assert f"Page {page} of 10 " in answer.shown
        assert "… and" not in answer.shown  # nothing left out
        shown += answer.shown
    for url, _ in links:
        assert f"<{quote(url, safe=URL_KEPT)}|" in shown
    assert "<!channel>" not in shown and "<!everyone>" not in shown and "\u202e" not in shown


@pytest.mark.parametrize("text", ["A", "difficulty:A", "a", "easy", "difficulty:easy"])
async def test_random_at_level_a_picks_from_every_range_that_includes_a(rig: Rig, text: str) -> None:
    """difficulty:easy reads as /random easy does (it was refused: "'EASY' is not a difficulty")."""
    answer = await rig.command("/random", text)

    assert ("Read 'easy' as difficulty A (A is the easiest level" in answer.shown) == text.endswith("easy")

    assert answer.public
    assert answer.field("Difficulty").startswith("A")
    assert "Picked at random from the 14 of 18 matching problems nobody is working on." in answer.shown
    # The same filters, and the problem it is under (the next pick is another).
    number = answer.header.split(" — ")[0]
    assert answer.button("Another random")["action_id"] == f"cop:random:A///{number}"


async def test_search_lists_matches_privately_with_show_buttons(rig: Rig) -> None:
    answer = await rig.command("/search", "induction heads")

    assert not answer.public
    assert answer.header == "Search: induction heads"
    assert "1.19 — Does a 3L attn only model fix bugs in induction heads" in answer.shown
    assert answer.buttons[:2] == ["Show 1.12", "Show 1.19"]
    assert 'Page 1 of 3 (11 matches). Next: /search query:"induction heads" page:2' in answer.shown


async def test_search_unclaimed_typed_on_slack_leaves_out_claimed_problems(rig: Rig) -> None:
    """`/search induction heads unclaimed` is the filter, not the word "unclaimed": a problem
    claimed here is listed without it and left out with it."""
    assert "You claimed 1.12" in (await rig.command("/claim", "1.12")).shown
    every = await rig.command("/search", "induction heads")
    free = await rig.command("/search", "induction heads unclaimed")

    assert "Show 1.12" in every.buttons and "Show 1.12" not in free.buttons
    assert free.header == "Search: induction heads (unclaimed)"
    assert "Only problems nobody is working on." in free.shown
    assert re.search(
        r"Page 1 of \d+ \(\d+ unclaimed matches\)\. Next: /search query:\"induction heads\" "
        r"unclaimed page:2",
        free.shown,
    ), free.shown


async def test_the_word_payload_reaches_the_command(rig: Rig) -> None:
    """Bolt alone would read these bodies as interactivity payloads and answer 404."""
    searched = await rig.command("/search", "payload")
    named = await rig.command("/problem", "2.4", user_name="payload", channel_name="payload-team")

    assert searched.header == "Search: payload" or "Nothing matches 'payload'" in searched.shown
    assert not searched.public
    assert named.header.startswith("2.4 — ")


async def test_claim_then_claims_shows_it_with_a_release_button(rig: Rig) -> None:
    claimed = await rig.command("/claim", "3.11")
    mine = await rig.command("/claims")

    assert not claimed.public
    assert "You claimed 3.11 on 2026-11-25. Good luck!" in claimed.shown
    assert mine.header == "Your open claims (1)"
    assert "3.11 — " in mine.shown and "ann — since 2026-11-25 (today)" in mine.shown
    assert mine.buttons == ["Release 3.11"]


async def test_claims_of_someone_mentioned(rig: Rig) -> None:
    await rig.command("/claim", "3.11", user=ANN)

    theirs = await rig.command("/claims", f"<@{ANN}|ann>", user=BOB)
    by_name = await rig.command("/claims", "ann", user=BOB)

    assert theirs.header == "ann's open claims (1)" and "ann — since 2026-11-25" in theirs.shown
    assert theirs.buttons == []  # only the claimant gets release buttons
    assert by_name.header == "ann's open claims (1)"


async def test_claims_of_a_name_of_two_words_typed_as_it_shows(rig: Rig) -> None:
    """Neel's display name is "Neel Nanda", as his claims show it. Bob typed `/claims Neel Nanda`
    (and `/claims @Neel Nanda 3.11`) and was told "I don't understand 'Nanda'"; he gets Neel's
    claims."""
    rig.fake.add_user("U0NEEL", "neel", display_name="Neel Nanda")
    await rig.command("/claim", "3.11", user="U0NEEL")

    theirs = await rig.command("/claims", "Neel Nanda", user=BOB)
    on_one = await rig.command("/claims", "@Neel Nanda 3.11", user=BOB)

    assert theirs.header == "Neel Nanda's open claims (1)" and "Neel Nanda — since 2026-11-25" in theirs.shown
    # Only Neel's claims on it, and the title says so ("Claims on 3.11" read as everyone's before).
    assert on_one.header.startswith("Neel Nanda's claims on 3.11 — "), on_one.header
    assert "Neel Nanda — since 2026-11-25" in on_one.shown


async def test_claims_everyone_lists_the_workspaces_claims_by_problem(rig: Rig) -> None:
    await rig.command("/claim", "3.11", user=ANN)
    await rig.command("/claim", "2.4", user=BOB)

    everyone = await rig.command("/claims", "everyone", user=ANN)

    assert everyone.header == "Open claims in this workspace (2)"
    assert everyone.shown.index("2.4 — ") < everyone.shown.index("bob — since 2026-11-25")
    assert everyone.shown.index("3.11 — ") < everyone.shown.index("ann — since 2026-11-25")
    assert everyone.buttons == []
    typed_at = await rig.command("/claims", "<!everyone>", user=BOB)  # "@everyone", as Slack escapes it
    assert typed_at.header == everyone.header and typed_at.shown == everyone.shown


async def test_claims_everyone_with_a_page_number_typed_bare(rig: Rig) -> None:
    """`/claims everyone 2` was refused with "Give a user or everyone, not both"; it is page 2."""
    await rig.command("/claim", "3.11", user=ANN)

    paged = await rig.command("/claims", "everyone 2", user=BOB)

    assert paged.header == "Open claims in this workspace (1)"
    assert "There is only 1 page; here it is." in paged.shown and "ann — since 2026-11-25" in paged.shown


async def test_release_by_someone_else_is_refused_and_the_claim_stays(rig: Rig) -> None:
    await rig.command("/claim", "3.11", user=ANN)

    refused = await rig.command("/release", "3.11", user=BOB)
    still = await rig.command("/claims", user=ANN)

    assert not refused.public
    # 3.11 also has an older claim from the sheet; both claimants are named.
    assert "You hold no claim on 3.11; only its claimant can release it (" in refused.shown
    assert refused.shown.endswith(", ann).")
    assert refused.message["text"].startswith(":warning:")
    assert still.header == "Your open claims (1)"


async def test_release_with_a_note_then_history(rig: Rig) -> None:
    await rig.command("/claim", "3.11")
    released = await rig.command("/release", "3.11 tried SAEs &amp; probes")
    history = await rig.command("/history", "3.11")

    assert "Released your claim on 3.11. Your note is kept for the next person." in released.shown
    assert history.header.startswith("History of 3.11 — ")
    assert "2026-11-25 · ann claimed it" in history.shown
    # Slack sent the & escaped; it was stored as typed and is shown escaped once.
    assert "ann released it: tried SAEs &amp; probes" in history.shown


async def test_cop_help_lists_the_commands_by_their_slack_names(rig: Rig) -> None:
    answer = await rig.command("/cop-help")

    assert not answer.public
    assert answer.header == "copbot: the 200 Concrete Problems in Interpretability"
    assert "/cop-help [command] — what copbot can do" in answer.shown
    assert "/claim number — say you are working on a problem" in answer.shown
    assert "/setup" not in answer.shown  # for admins only (test_slack_setup: Cat sees it)


async def test_cop_help_with_a_command_explains_it(rig: Rig) -> None:
    """`/cop-help claim` answered "I don't understand 'claim'": now its usage, options, example."""
    answer = await rig.command("/cop-help", "claim")

    assert not answer.public
    assert answer.header == "/claim number"
    assert "• number — problem number, like 2.4" in answer.shown
    assert "• /claim 2.4" in answer.shown
    for name in ("help", "cop-help", "/cop-help"):  # the core's name or Slack's
        itself = await rig.command("/cop-help", name)
        assert itself.header == "/cop-help [command]" and "• /cop-help claim" in itself.shown, name
    assert (await rig.command("/cop-help", "cop-claim")).header == "/claim number"
    for name in ("setup", "/setup", "cop-setup"):  # Slack's /setup, by either of its names
        setup = await rig.command("/cop-help", name, user=CAT)
        assert not setup.public and setup.header == "/setup [show] [stale_days] [max_claims] [reset]", name


async def test_a_newcomers_spellings_of_numbers_and_names(rig: Rig) -> None:
    """Words for a number point at /search (as on Discord); a number ending a sentence, a decimal
    comma and "problem 2.4" are read; "mine" is the asker; a member with no claims is not told
    to start one."""
    words = await rig.command("/problem", "Permuting lists")
    assert (
        "'Permuting lists' is not a problem number: write it like 2.4, or /search Permuting lists"
        in words.shown
    )
    for text in ("2.4.", "2,4", "problem 2.4"):
        assert (await rig.command("/problem", text)).header.startswith("2.4 — 3 letter acronyms"), text
    claimed = await rig.command("/claim", "3.11.")
    assert "You claimed 3.11 on 2026-11-25" in claimed.shown
    assert (await rig.command("/claims", "mine")).header == "Your open claims (1)"
    bobs = await rig.command("/claims", f"<@{BOB}|bob>")
    assert bobs.shown == "bob holds no open claims."


async def test_a_submitted_word_or_a_link_without_https_says_what_to_type(rig: Rig) -> None:
    """/submit 1.1 notalink answered "Only http:// and https:// links can be submitted (no scheme
    was given)". A word is told it is no link, with a /submit to copy; a link pasted without its
    https:// is told to add it, with the link to copy."""
    word = await rig.command("/submit", "1.1 notalink")
    assert not word.public
    assert word.shown == (
        ":warning: 'notalink' is not a link: give the page's whole address, e.g. "
        "/submit 2.4 <https://example.org/my-post>"
    )
    bare = await rig.command("/submit", "1.1 example.org/post my notes")
    assert not bare.public
    assert bare.shown == (
        ":warning: That link has no https:// in front. Add it and submit again: <https://example.org/post>"
    )


async def test_a_release_of_a_problem_not_held_names_the_ones_held(rig: Rig) -> None:
    """/release 2.5 of a problem nobody holds said only that there was nothing to release: it names
    what the member does hold, and /claims."""
    await rig.command("/claim", "2.4")
    refused = await rig.command("/release", "2.5")
    assert not refused.public
    assert refused.shown == (
        ":warning: You hold no claim on 2.5, so there is nothing to release. You hold 2.4: /claims lists it."
    )


async def test_an_unknown_command_points_at_cop_help(rig: Rig) -> None:
    answer = await rig.command("/nope")

    assert "There is no command /nope. /cop-help lists them." in answer.shown


async def test_an_unknown_command_names_the_one_meant_as_slack_names_it(rig: Rig) -> None:
    """/mine or a typo answered only "There is no command /mine. /cop-help lists them."; it names
    the command meant, by Slack's name, and /setup only to an admin, who may run it."""
    mine = await rig.command("/mine")
    assert not mine.public
    assert mine.shown == ":warning: There is no command /mine. Did you mean /claims? /cop-help lists them."
    typo = await rig.command("/hlep")
    assert typo.shown == ":warning: There is no command /hlep. Did you mean /cop-help? /cop-help lists them."
    assert (
        await rig.command("/setpu", user=CAT)
    ).shown == ":warning: There is no command /setpu. Did you mean /setup? /cop-help lists them."
    assert (
        await rig.command("/setpu")
    ).shown == ":warning: There is no command /setpu. /cop-help lists them."
    # A command without what it needs says what is missing, and a whole command to copy.
    bare = await rig.command("/claim")
    assert bare.shown == ":warning: /claim needs a problem number, like /claim 2.4"
    asked = await rig.command("/cop-help", "mine")
    assert "There is no command 'mine'; did you mean /claims? These are copbot's commands." in asked.shown


async def test_a_command_added_to_the_registry_works_on_slack(
    fake: FakeSlack, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Later features register commands; Slack needs no code for them."""

    async def triage(ctx: Context, request: Request) -> Reply:
        page = request.args.get("page", 1)
        return Reply(text=f"{page}: nothing to triage for {request.actor.display_name}")

    spec = CommandSpec(
        "triage", "reports waiting", (Option("page", Kind.PAGE, "page"),), triage, moderator_only=True
    )
    monkeypatch.setitem(COMMANDS, "triage", spec)
    fake.add_usergroup("S0MODS", [BOB])

    async with running(fake, ctx, slack_moderators=f"S0MODS,{CAT}") as rig:
        by_member = await rig.command("/triage", "page:2", user=BOB)
        by_listed = await rig.command("/cop-triage", user=CAT)  # the name for a clashing command
        by_other = await rig.command("/triage", user=ANN)

    assert "2: nothing to triage for bob" in by_member.shown
    assert "1: nothing to triage for cat" in by_listed.shown
    assert "/triage is for moderators." in by_other.shown


async def test_a_card_of_a_problem_many_worked_on_fits_in_one_slack_message(rig: Rig, ctx: Context) -> None:
    """40 people on 2.4, 40 who gave it up with a note as long as /release takes: Slack refuses a
    message whose blocks hold more than 12,000 characters of text (msg_blocks_too_long)."""
    now = ctx.clock()
    for i in range(80):
        who = Person("slack", "T0FAKE", f"U{i:04d}", f"Researcher {i:02d} of the reading group " + "x" * 40)
        await ctx.store.claim("2.4", who, now)
        if i >= 40:
            note = f"note {i}: tried activation patching on the acronym heads, no luck; " * 16
            await ctx.store.release("2.4", who, note[:1000], now)

    card = await rig.command("/problem", "2.4", user=ANN)
    history = await rig.command("/claims", "number:2.4", user=ANN)

    for answer in (card, history):
        assert message_errors(answer.message) == []
    assert "*Working on it*\n• jknowak (Discord) - July 2023" in card.shown
    assert "• Researcher 00 of the reading group xxx" in card.shown
    # The earlier claims gave way, a line at a time, counted rather than cut off unsaid.
    assert "*Working on it*\n• jknowak (Discord) - July 2023" in history.shown
    assert re.search(r"\n• … and [1-9] more$", history.shown.split("\nRelease")[0])


async def test_max_claims_caps_a_members_open_claims_in_the_workspace(fake: FakeSlack, ctx: Context) -> None:
    """Without a /setup max_claims of the workspace's own, MAX_CLAIMS, read as `copbot run` reads
    it, caps every member's open claims. Ann's second /claim is answered privately with her claim
    and how to release one; Bob has a cap of his own, and Ann's renewal still works."""
    settings = settings_for(fake, max_claims=1)
    capped = make_context(settings, ctx.store, ctx.clock)
    async with running(fake, capped) as rig:
        assert "You claimed 1.1" in (await rig.command("/claim", "1.1")).text
        refused = await rig.command("/claim", "1.2")
        assert not refused.public
        assert refused.shown == (
            ":warning: You already hold 1 open claim here (1.1), the most this workspace allows a member. "
            "Release one you are no longer working on first: /release NUMBER, or the buttons under "
            "/claims."
        )
        assert "You claimed 1.2" in (await rig.command("/claim", "1.2", user=BOB)).text
        assert "renewed your claim today" in (await rig.command("/claim", "1.1")).text


async def test_search_ending_in_page_2_typed_on_slack_is_its_second_page(rig: Rig) -> None:
    """`/search induction heads page 2`, as people type it without the colon: page 2, not the
    words "page 2"."""
    typed = await rig.command("/search", "induction heads page 2")
    named = await rig.command("/search", "induction heads page:2")

    assert typed.header == "Search: induction heads"
    assert "Page 2 of 3 (11 matches)" in typed.shown
    assert typed.buttons == named.buttons


async def test_a_page_typed_without_its_colon_on_slack_is_that_page(
    rig: Rig, ctx: Context, clock: FakeClock
) -> None:
    """`/problem 2.4 all page 2` answered "I don't understand 'page 2'", and `/claims page 2`
    looked for a member called "page 2", though /search read it: every command that pages reads
    `page 2` as `page:2`."""
    await approve(
        ctx.store, clock, "2.4", [(f"https://example.org/paper-{i}", "") for i in range(30)], "slack"
    )
    await rig.command("/claim", "2.4", user=ANN)
    for name, typed in [("/problem", "2.4 all page 2"), ("/history", "2.4 page 2"), ("/claims", "page 2")]:
        bare = await rig.command(name, typed, user=ANN)
        named = await rig.command(name, typed.replace("page 2", "page:2"), user=ANN)
        assert bare.shown == named.shown and not bare.public, bare.shown
        assert "I don't understand" not in bare.shown and "nobody called" not in bare.shown
    work = await rig.command("/problem", "2.4 all page 2", user=ANN)
    assert "Page 2 of 2 (lines 21–30 of 30)." in work.shown


async def test_a_sheet_claim_is_named_alike_on_its_card_and_a_refused_release(rig: Rig) -> None:
    """A long sheet cell of several lines holding Slack's ping markup: the card and a refused
    /release name the claim by the same text, on one line, cut where the card cuts it (before,
    the refusal named it by its first line, "Jordan Taylor - 2023 November 7"), the markup
    escaped in both, so nobody is pinged."""
    cell = (
        "Jordan Taylor - 2023 November 7\n<!everyone> <!here> feel free to join! "
        + "Notes on what I tried so far, in some detail. " * 9
        + "\nThe end of the cell, past what a card shows."
    )
    head = "number,category,difficulty,problem,working_on\n"
    rows = parse_csv(f'{head}2.5,Circuits In The Wild,B,Emails,"{cell}"\n')
    await import_rows(rig.ctx.store, rows, rig.ctx.clock())
    card = await rig.command("/problem", "2.5", user=BOB)
    line = next(line for line in card.shown.splitlines() if line.startswith("• Jordan Taylor"))
    named = line.removeprefix("• ").split(" (from the sheet, ")[0]
    assert named.startswith("Jordan Taylor - 2023 November 7 &lt;!everyone&gt; &lt;!here&gt; feel")
    assert named.endswith("…") and "past what a card shows" not in named
    refused = await rig.command("/release", "2.5", user=BOB)
    assert (
        f"You hold no claim on 2.5; only its claimant can release it ({named})."
        " Stale, so anyone may still /claim 2.5." in refused.shown
    )
    assert "<!" not in refused.text + refused.shown and "<!" not in card.text + card.shown
