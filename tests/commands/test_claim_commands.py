"""/claim, /release, /claims, /history: transcripts a member would recognise."""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.console import render
from commands import dispatch
from commands.submissions import reject_action
from commands.types import Actor, Context
from storage.engine import make_engine
from storage.models import OPEN_CLAIM_STATES
from storage.store import Store
from tests.support.claims import plant_sheet_claim
from tests.support.clock import FakeClock
from tests.support.transcript import person, say, shown

ANN, BOB = person("ann"), person("bob")


async def test_claim_then_claims_lists_it_with_todays_date(ctx: Context) -> None:
    """A claim is stamped with the clock's date and shows up in /claims and /problem."""
    reply = await say(ctx, ANN, "/claim 3.11")
    assert reply.private and "You claimed 3.11 on 2026-11-25" in reply.text
    assert "Ann — since 2026-11-25 (today)" in await shown(ctx, ANN, "/claims")
    assert "Ann — since 2026-11-25 (today)" in await shown(ctx, BOB, "/problem 3.11")


async def test_claiming_again_renews_and_keeps_one_claim(ctx: Context, clock: FakeClock) -> None:
    """A second /claim renews the first instead of adding another."""
    await say(ctx, ANN, "/claim 3.11")
    clock.advance(days=10)
    reply = await say(ctx, ANN, "/claim 3.11")
    assert "renewed your claim today (2026-12-05)" in reply.text
    text = await shown(ctx, ANN, "/claims")
    assert "since 2026-11-25 (10 days ago), renewed 2026-12-05" in text
    assert "Your open claims (1)" in text


async def test_how_long_ago_agrees_with_the_date_beside_it_around_midnight(
    ctx: Context, clock: FakeClock
) -> None:
    """A claim made at 23:50 is "yesterday" at 00:10, beside yesterday's date, and two dates back
    is "2 days ago": ages count calendar days, as the dates are printed."""
    clock.advance(hours=11, minutes=50)  # 2026-11-25 23:50
    await say(ctx, ANN, "/claim 3.11")
    clock.advance(minutes=20)
    assert "Ann — since 2026-11-25 (yesterday)" in await shown(ctx, BOB, "/problem 3.11")
    clock.advance(days=1)
    assert "Ann — since 2026-11-25 (2 days ago)" in await shown(ctx, BOB, "/problem 3.11")


async def test_several_people_may_work_on_one_problem(ctx: Context) -> None:
    """Ann and Bob both hold 3.11; /claims number:3.11 lists both."""
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, BOB, "/claim 3.11")
    text = await shown(ctx, ANN, "/claims number:3.11")
    assert "Ann — since" in text and "Bob — since" in text


async def test_only_the_claimant_can_release(ctx: Context) -> None:
    """Bob cannot release Ann's claim; Ann can, and her note is shown to the next visitor."""
    await say(ctx, ANN, "/claim 3.11")
    refused = await say(ctx, BOB, "/release 3.11")
    assert refused.error and "only its claimant can release it" in refused.text
    assert "Ann — since" in await shown(ctx, BOB, "/problem 3.11")
    done = await say(ctx, ANN, "/release 3.11 tried X, stuck on Y")
    assert "Released your claim on 3.11" in done.text
    text = await shown(ctx, BOB, "/problem 3.11")
    assert "Earlier claims:\n  - Ann — 2026-11-25 to 2026-11-25, released: “tried X, stuck on Y”" in text
    assert "Ann — since" not in text


async def test_a_note_pasted_past_the_line_limit_says_how_long_a_note_may_be(ctx: Context) -> None:
    """A 5,000-character release note (a pasted log): the answer was "that is too long: at most
    4000 characters", and a note cut to 3,999 was then refused again at 1000. It says what it
    read and the note's own limit; the claim stays open, and a note within it releases."""
    await say(ctx, ANN, "/claim 3.11")
    refused = await say(ctx, ANN, "/release 3.11 " + "x" * 5000)
    assert refused.error
    assert (
        refused.text
        == "That is too long (5005 characters): /release reads at most 4000, its note at most 1000."
    )
    assert "Ann — since" in await shown(ctx, BOB, "/problem 3.11")
    done = await say(ctx, ANN, "/release 3.11 " + "x" * 1000)
    assert "Released your claim on 3.11" in done.text


@pytest.mark.parametrize("numbers", ["2.4, 3.11", "2.4 3.11", "2.4 and 3.11", "#2.4 & #3.11"])
async def test_two_problems_claimed_in_one_line_are_told_one_at_a_time(ctx: Context, numbers: str) -> None:
    """`/claim 2.4, 3.11` answered "I don't understand '2.4,'", a number it reads alone; it says
    /claim takes one problem at a time, with both commands to type, and claims neither."""
    refused = await say(ctx, ANN, f"/claim {numbers}")
    assert refused.error
    assert "/claim takes one problem at a time: /claim 2.4, then /claim 3.11." in refused.text, refused.text
    assert "You hold no open claims" in await shown(ctx, ANN, "/claims")


async def test_a_note_that_says_note_colon_is_kept_whole(ctx: Context) -> None:
    """`/release 3.11 Note: tried X` releases, and the next visitor reads the note as written."""
    await say(ctx, ANN, "/claim 3.11")
    done = await say(ctx, ANN, "/release 3.11 Note: tried X, stuck on number:2")
    assert not done.error and "Released your claim on 3.11" in done.text
    assert "released: “Note: tried X, stuck on number:2”" in await shown(ctx, BOB, "/problem 3.11")


async def test_a_note_with_quotes_is_kept_as_typed(ctx: Context) -> None:
    """`/release 3.11 tried the "max" trick, failed`: the card and /history show the quotes."""
    await say(ctx, ANN, "/claim 3.11")
    done = await say(ctx, ANN, '/release 3.11 tried the "max" trick, failed')
    assert not done.error, done.text
    assert 'released: “tried the "max" trick, failed”' in await shown(ctx, BOB, "/problem 3.11")
    assert 'Ann released it: tried the "max" trick, failed' in await shown(ctx, BOB, "/history 3.11")


async def test_a_note_that_names_another_number_releases_the_plain_one(ctx: Context) -> None:
    """`/release tried it, see 2.4. 3.11` releases 3.11 with the note (it answered "You hold no
    claim on 2.4" and kept 3.11 in the note); `2.4.` alone is still the number."""
    await say(ctx, ANN, "/claim 3.11")
    done = await say(ctx, ANN, "/release tried it, see 2.4. 3.11")
    assert not done.error and "Released your claim on 3.11" in done.text, done.text
    assert "released: “tried it, see 2.4.”" in await shown(ctx, BOB, "/problem 3.11")
    await say(ctx, ANN, "/claim 2.4")
    assert "Released your claim on 2.4" in (await say(ctx, ANN, "/release 2.4.")).text
    assert "2.4 —" in await shown(ctx, BOB, "/problem 2.4.")


async def test_release_without_a_claim_says_so_and_where_claims_are_listed(ctx: Context) -> None:
    """Releasing what nobody holds is a clear, private answer. It said only "You hold no claim on
    1.1, so there is nothing to release.", leaving a newcomer to guess where to see what they hold:
    it points to /claims."""
    reply = await say(ctx, ANN, "/release 1.1")
    assert reply.error and reply.private
    assert reply.text == (
        "You hold no claim on 1.1, so there is nothing to release. You hold no open claims; "
        "/claims lists yours."
    )


async def test_releasing_again_says_ones_own_claim_has_ended(ctx: Context) -> None:
    """Ann released 2.4 (Bob holds it too) and pressed Release again, or typed /release 2.4
    once more: "You hold no claim on 2.4; only its claimant can release it (Bob)", as if she had
    never held it. Now she is told her claim has ended, as a reminder's Release it says."""
    await say(ctx, ANN, "/claim 2.4")
    await say(ctx, BOB, "/claim 2.4")
    await say(ctx, ANN, "/release 2.4 tried it")
    again = await dispatch.run_action(ctx, ANN, "cop:release:2.4")
    assert again.error and again.text == (
        "Your claim on 2.4 has already ended (released 2026-11-25); nothing changed."
    ), again.text
    assert "Ann — 2026-11-25 to 2026-11-25, released: “tried it”" in await shown(ctx, BOB, "/problem 2.4")
    refused = await say(ctx, person("cy"), "/release 2.4")
    assert refused.text.startswith("You hold no claim on 2.4; only its claimant can release it"), refused.text


async def test_release_of_a_problem_not_held_names_the_ones_the_asker_holds(ctx: Context) -> None:
    """Ann holds 2.4 and types /release 2.5: told she holds no claim on 2.5, and which she does
    hold (a few of them, then how many more), with /claims to list them all."""
    await say(ctx, ANN, "/claim 2.4")
    reply = await say(ctx, ANN, "/release 2.5")
    assert reply.error and reply.private
    assert reply.text == (
        "You hold no claim on 2.5, so there is nothing to release. You hold 2.4: /claims lists it."
    )
    for number in ("1.1", "1.2", "1.3"):
        await say(ctx, ANN, f"/claim {number}")
    reply = await say(ctx, ANN, "/release 2.5")
    assert reply.text == (
        "You hold no claim on 2.5, so there is nothing to release. You hold 2.4, 1.1, 1.2 and 1 more: "
        "/claims lists them."
    )
    assert "Your open claims (4)" in await shown(ctx, ANN, "/claims")


async def test_a_claimant_of_another_platform_is_named_with_it(ctx: Context) -> None:
    """Discord's Ann and Slack's Ann on one database: each platform shows the other's Ann with her
    platform, on cards, claim lists, earlier claims, /history and a refused /release; its own
    members stay unlabelled, and a name from the sheet keeps only its own marking."""
    slack_ann = Actor("slack", "T0TEAM", "U0ANN", "Ann")
    slack_bob = Actor("slack", "T0TEAM", "U0BOB", "Bob")
    await say(ctx, ANN, "/claim 2.4")
    refused = await say(ctx, slack_ann, "/release 2.4")
    assert refused.error and refused.text == (
        "You hold no claim on 2.4; only its claimant can release it "
        "(jknowak (Discord) - July 2023, Ann (Discord))."
    )
    await say(ctx, slack_ann, "/claim 2.4")
    on_slack = await shown(ctx, slack_bob, "/claims number:2.4")
    assert "Ann (Discord) — since 2026-11-25" in on_slack and "\n  - Ann — since 2026-11-25" in on_slack
    on_discord = await shown(ctx, BOB, "/problem 2.4")
    assert "\n  - Ann — since 2026-11-25" in on_discord and "Ann (Slack) — since 2026-11-25" in on_discord
    await say(ctx, slack_ann, "/release 2.4 tried X")
    assert "Ann (Slack) — 2026-11-25 to 2026-11-25, released: “tried X”" in await shown(
        ctx, BOB, "/problem 2.4"
    )
    history = await shown(ctx, slack_bob, "/history 2.4")
    assert "2026-11-25 · Ann (Discord) claimed it" in history
    assert "2026-11-25 · Ann released it: tried X" in history
    assert "jknowak (Discord) - July 2023 (sheet) claimed it" in history
    console = Actor("console", "local", "local", "local", True, True)
    assert "Ann (Discord) — since 2026-11-25" in await shown(ctx, console, "/problem 2.4")


async def test_releasing_a_claim_made_in_another_community_says_where_it_is(ctx: Context) -> None:
    """Ann claims in one Discord server and types /release in another: she is told her claim lives
    in the other server (not that she holds none), and it stays open there; likewise on Slack."""
    await say(ctx, ANN, "/claim 3.11")
    elsewhere = person("ann", community="guild2")
    refused = await say(ctx, elsewhere, "/release 3.11")
    assert (
        refused.error and refused.text == "Your claim on 3.11 was made in another server; release it there."
    )
    in_team = Actor("slack", "T1", "U0ANN", "Ann")
    await say(ctx, in_team, "/claim 2.4")
    refused = await say(ctx, Actor("slack", "T2", "U0ANN", "Ann"), "/release 2.4")
    assert refused.text == "Your claim on 2.4 was made in another workspace; release it there."
    assert "Ann — since" in await shown(ctx, ANN, "/claims number:3.11")
    assert "Released" in (await say(ctx, ANN, "/release 3.11")).text


async def test_claims_of_someone_else_by_name_and_mention(ctx: Context) -> None:
    """/claims bob and /claims <@bob> show Bob's claims; an unknown name is explained."""
    await say(ctx, BOB, "/claim 2.4")
    assert "2.4 — 3 letter acronyms" in await shown(ctx, ANN, "/claims bob")
    assert "2.4 — 3 letter acronyms" in await shown(ctx, ANN, "/claims <@bob>")
    reply = await say(ctx, ANN, "/claims zed")
    assert reply.error and "nobody called 'zed'" in reply.text
    # Any letters, in any case and Unicode form (SQLite's own lower() folds only A-Z).
    elodie = person("élodie")  # shown as "Élodie"
    await say(ctx, elodie, "/claim 3.11")
    for typed in ("Élodie", "élodie", "ÉLODIE", "E\u0301lodie"):
        assert "3.11 — Train a model" in await shown(ctx, ANN, f"/claims {typed}"), typed


async def test_claims_of_a_name_typed_without_or_with_other_accents(ctx: Context) -> None:
    """`/claims Elodie` (no é on the keyboard) and `/claims Ánn` answered "I know nobody called
    'Elodie'": a name matching nobody's exactly is looked up without its accents. One that
    matches somebody exactly names them alone (René is not Rene)."""
    await say(ctx, person("élodie"), "/claim 3.11")
    await say(ctx, ANN, "/claim 2.4")
    assert (await say(ctx, BOB, "/claims Elodie")).title == "Élodie's open claims (1)"
    assert (await say(ctx, BOB, "/claims ÁNN")).title == "Ann's open claims (1)"
    await say(ctx, Actor("discord", "guild1", "rene-1", "Rene"), "/claim 2.5")
    await say(ctx, Actor("discord", "guild1", "rene-2", "René"), "/claim 2.6")
    assert (await say(ctx, BOB, "/claims rene")).title == "Rene's open claims (1)"
    assert (await say(ctx, BOB, "/claims RENÉ")).title == "René's open claims (1)"
    assert (await say(ctx, BOB, "/claims Renè")).title == "Renè's open claims (2)"


@pytest.mark.parametrize("word", ["mine", "me", "my", "Mine"])
async def test_claims_mine_is_the_askers_own_list(ctx: Context, word: str) -> None:
    """`/claims mine` answered "I know nobody called 'mine'": it is the asker's own list."""
    await say(ctx, ANN, "/claim 3.11")
    reply = await say(ctx, ANN, f"/claims {word}")
    assert reply.title == "Your open claims (1)" and [b.label for b in reply.buttons] == ["Release 3.11"]
    assert "Ann — since 2026-11-25" in await shown(ctx, ANN, f"/claims {word} 3.11")


async def test_claims_everyone_shows_who_is_working_on_what_here_by_problem(ctx: Context) -> None:
    """/claims everyone: every open claim made in this server, in catalogue order, paged; not
    the released ones, not another server's; "/claims all" is the same list."""
    await say(ctx, BOB, "/claim 3.11")
    await say(ctx, ANN, "/claim 2.4")
    await say(ctx, ANN, "/claim 1.1")
    await say(ctx, BOB, "/claim 1.2")
    await say(ctx, BOB, "/release 1.2")
    await say(ctx, person("cy", community="guild2"), "/claim 1.3")  # another server
    reply = await say(ctx, person("dee"), "/claims everyone")
    assert reply.title == "Open claims in this server (3)"
    assert [line.split(" — ")[0] for line in reply.sections[0].lines] == ["1.1", "2.4", "3.11"]
    assert "Ann — since 2026-11-25" in reply.sections[0].lines[0]
    assert "Bob — since 2026-11-25" in reply.sections[0].lines[2]
    assert "3 open claims on 3 problems" in reply.footer and "Next:" not in reply.footer
    assert reply.buttons == ()  # nobody's Release buttons on a shared list
    assert (await say(ctx, person("dee"), "/claims all")).sections == reply.sections

    free = [p.number for p in await ctx.store.problems() if p.number not in {"1.1", "2.4", "3.11"}]
    for i, number in enumerate(free[:24]):  # 24 more, by 24 members of this server, before 3.11
        assert "You claimed" in (await say(ctx, person(f"m{i}"), f"/claim {number}")).text
    first = await say(ctx, ANN, "/claims everyone")
    assert first.title == "Open claims in this server (27)" and len(first.sections[0].lines) == 20
    assert first.footer.endswith("Next: /claims everyone page:2")
    second = await say(ctx, ANN, "/claims everyone page:2")
    assert len(second.sections[0].lines) == 7 and second.sections[0].lines[-1].startswith("3.11 — ")
    assert "Page 2 of 2" in second.footer and "Next:" not in second.footer
    assert not second.text
    past = await say(ctx, ANN, "/claims everyone page:9")
    assert past.sections == second.sections  # the last page, and it says so
    assert past.text == "There are only 2 pages; here is page 2."


async def test_claims_everyone_past_its_one_page_says_there_is_only_one(ctx: Context) -> None:
    """/claims everyone page:2 with one page of claims shows that page, saying it is the only one."""
    await say(ctx, ANN, "/claim 2.4")
    reply = await say(ctx, ANN, "/claims everyone page:2")
    assert [line.split(" — ")[0] for line in reply.sections[0].lines] == ["2.4"]
    assert reply.text == "There is only 1 page; here it is."
    assert "Page 1 of 1" in reply.footer


async def test_claims_everyone_with_the_page_typed_as_a_bare_number(ctx: Context) -> None:
    """`/claims everyone 2` answered "Give a user or everyone, not both" (nobody was named) and
    `/claims all 2` "I know nobody called 'all 2'": the number is the page, as page:2 is."""
    free = [p.number for p in await ctx.store.problems()]
    for i, number in enumerate(free[:25]):
        await say(ctx, person(f"m{i}"), f"/claim {number}")
    second = await say(ctx, ANN, "/claims everyone page:2")
    for typed in ("/claims everyone 2", "/claims all 2", "/claims 2 everyone"):
        reply = await say(ctx, ANN, typed)
        assert not reply.error and reply.sections == second.sections, typed
    assert (await say(ctx, ANN, "/claims everyone 9")).text == "There are only 2 pages; here is page 2."
    zero = await say(ctx, ANN, "/claims everyone 0")
    assert zero.error and "page must be a whole number from 1 to 1000" in zero.text


async def test_a_note_of_nothing_but_quotes_is_no_note(ctx: Context) -> None:
    """`/release 1.1 ""` (a note left out as some type it) kept the note '""', shown on the card
    as “""”. Quotes with nothing in them are no note."""
    for typed in ('""', "“”", "''"):
        await say(ctx, ANN, "/claim 1.1")
        released = await say(ctx, ANN, f"/release 1.1 {typed}")
        assert released.text == "Released your claim on 1.1.", released.text
    history = await shown(ctx, ANN, "/history 1.1")
    assert history.count("Ann released it\n") == 3 and '"' not in history.split("Timeline")[1], history


async def test_a_note_or_reason_of_nothing_but_zero_width_joiners_is_none(ctx: Context) -> None:
    """A note of zero-width joiners (a phone's emoji keyboard types one) was kept: /release 1.1
    and three of them read 'Your note is kept', the card showed an empty “”, /history 'Ann
    released it: ' and the submission's card line a dash before nothing; a moderator's reason of
    them read 'Reason: ' and '(…)' in /history, where a zero-width space was no reason. They
    draw nothing, so they are no note and no reason, as quote marks alone are not."""
    joiners = "\u200d\u200d \u200c\u00ad"
    await say(ctx, ANN, "/claim 1.1")
    released = await say(ctx, ANN, f"/release 1.1 {joiners}")
    assert released.text == "Released your claim on 1.1.", released.text
    assert "released: “" not in await shown(ctx, BOB, "/problem 1.1")
    await say(ctx, ANN, f'/submit 1.1 https://example.org/joined "{joiners}"')
    mod = person("mod", moderator=True)
    pending = await say(ctx, mod, "/pending")
    reject = next(b for b in pending.buttons if b.label.startswith("Reject"))
    rejected = await reject_action(ctx, mod, reject.target, joiners)
    assert rejected.text == "Rejected 1.1 #1: https://example.org/joined from Ann.", rejected.text
    history = (await shown(ctx, BOB, "/history 1.1")).split("Timeline")[1]
    assert "Ann released it\n" in history and "Mod rejected https://example.org/joined\n" in history, history
    assert "\u200d" not in history and "(" not in history, history


async def test_a_name_typed_with_a_phones_curly_apostrophe_finds_its_member(ctx: Context) -> None:
    """/claims o’brien (a phone makes ' a curly ’ as it is typed) answered "I know nobody called
    'o’brien' here", beside O'Brien's claim; a name holding ’ was not found as typed with '
    either. Apostrophes now compare alike, as accents do when no name matches exactly."""
    obrien = Actor("discord", "guild1", "obrien", "O'Brien")
    oneil = Actor("discord", "guild1", "oneil", "Renée O\u2019Neil")
    await say(ctx, obrien, "/claim 1.1")
    await say(ctx, oneil, "/claim 1.2")
    found = await shown(ctx, BOB, "/claims o\u2019brien")
    assert found.startswith("O'Brien's open claims (1)") and "1.1 —" in found, found
    found = await shown(ctx, BOB, "/claims renee o'neil")
    assert found.startswith("Renée O\u2019Neil's open claims (1)") and "1.2 —" in found, found


async def test_claims_of_one_member_on_a_problem_say_whose_they_are(ctx: Context) -> None:
    """`/claims bob 3.11` lists only Bob's claims on 3.11, under the title "Claims on 3.11", as
    everyone's are: Ann, seeing "Nobody." under it, took the problem for free. The title says whose."""
    await say(ctx, person("bob"), "/claim 3.11")
    await say(ctx, person("cy"), "/claim 3.11")
    bobs = await say(ctx, ANN, "/claims bob 3.11")
    assert (bobs.title or "").startswith("Bob's claims on 3.11 — "), bobs.title
    assert "Bob — since" in render(bobs, width=None) and "Cy" not in render(bobs, width=None)
    mine = await say(ctx, ANN, "/claims me 3.11")
    assert (mine.title or "").startswith("Your claims on 3.11 — ") and "Nobody." in render(mine, width=None)
    every = await say(ctx, ANN, "/claims 3.11")
    assert (every.title or "").startswith("Claims on 3.11 — "), every.title


async def test_claims_everyone_with_nobody_on_anything_says_so(ctx: Context) -> None:
    reply = await say(ctx, ANN, "/claims everyone")
    assert reply.text == "Nobody in this server holds an open claim. /random finds a problem to start on."
    refused = await say(ctx, ANN, "/claims <@bob> everyone")
    assert refused.error and "Give a user or everyone, not both" in refused.text
    paged = await say(ctx, ANN, "/claims page:2")  # her own list's pages: she has none
    assert paged.text == "You hold no open claims. /random finds a problem to start on."
    assert not (await say(ctx, ANN, "/claims all page:2")).error


async def test_claims_says_when_there_are_more_claims_than_release_buttons(ctx: Context) -> None:
    """Seven claims: five Release buttons, and the list says how to release the other two (it
    offered five buttons for seven claims without a word)."""
    numbers = [p.number for p in await ctx.store.problems()][:7]
    for number in numbers:
        await say(ctx, ANN, f"/claim {number}")
    reply = await say(ctx, ANN, "/claims")
    assert len(reply.sections[0].lines) == 7 and len(reply.buttons) == 5
    assert reply.footer == "Buttons release the first 5; /release NUMBER releases any of them."
    await say(ctx, ANN, f"/release {numbers[0]}")
    await say(ctx, ANN, f"/release {numbers[1]}")
    assert (await say(ctx, ANN, "/claims")).footer is None  # five claims, five buttons


async def test_only_your_own_empty_list_suggests_random(ctx: Context) -> None:
    """Someone else's empty list is no prompt for the asker to start a problem."""
    await say(ctx, BOB, "/claim 2.4")
    await say(ctx, BOB, "/release 2.4")
    # Named as asked: "They" alone did not say whose list was empty.
    assert (await say(ctx, ANN, "/claims bob")).text == "bob holds no open claims."
    assert (await say(ctx, ANN, "/claims <@bob>")).text == "They hold no open claims."
    assert (
        await say(ctx, ANN, "/claims")
    ).text == "You hold no open claims. /random finds a problem to start on."


async def test_claims_of_a_typed_name_is_headed_with_the_name_their_claims_show(ctx: Context) -> None:
    """`/claims ANN`, `/claims neel nanda` were headed "ANN's open claims", "neel nanda's open
    claims" over claims showing Ann and Neel Nanda: the heading names the member found as their
    claims do. When the name finds several members, it is said as typed."""
    neel = Actor("discord", "guild1", "neel", "Neel Nanda")
    await say(ctx, ANN, "/claim 3.11")
    await say(ctx, neel, "/claim 2.4")
    theirs = await say(ctx, BOB, "/claims ANN")
    assert theirs.title == "Ann's open claims (1)", theirs.title
    assert "Ann — since 2026-11-25" in await shown(ctx, BOB, "/claims ANN")
    assert (await say(ctx, BOB, "/claims neel nanda")).title == "Neel Nanda's open claims (1)"
    other_ann = Actor("discord", "guild1", "ann-2", "ANN")
    await say(ctx, other_ann, "/claim 2.5")
    assert (await say(ctx, BOB, "/claims aNN")).title == "aNN's open claims (2)"


async def test_history_records_every_change_with_who_and_when(ctx: Context, clock: FakeClock) -> None:
    """Claim, renewal and release (with its note) appear in /history, newest first."""
    await say(ctx, ANN, "/claim 3.11")
    clock.advance(days=3)
    await say(ctx, ANN, "/claim 3.11")
    clock.advance(days=3)
    await say(ctx, ANN, "/release 3.11 stuck on Y")
    text = await shown(ctx, BOB, "/history 3.11")
    timeline = text.split("Timeline, newest first:\n")[1]
    released = timeline.index("2026-12-01 · Ann released it: stuck on Y")
    assert (
        released < timeline.index("2026-11-28 · Ann renewed") < timeline.index("2026-11-25 · Ann claimed it")
    )


async def test_claims_of_a_name_of_several_words(ctx: Context) -> None:
    """`/claims Neel Nanda`, the name his claims show, answered "I don't understand 'Nanda'"
    (only `/claims "Neel Nanda"` worked): it lists his claims, also with a problem or
    everyone beside it."""
    neel = Actor("discord", "guild1", "neel", "Neel Nanda")
    await say(ctx, neel, "/claim 3.11")
    theirs = await shown(ctx, BOB, "/claims Neel Nanda")
    assert "Neel Nanda's open claims (1)" in theirs and "Neel Nanda — since 2026-11-25" in theirs
    assert "Neel Nanda — since" in await shown(ctx, BOB, "/claims @neel nanda 3.11")
    assert "Nobody." in await shown(ctx, BOB, "/claims Neel Nanda 2.4")
    both = await say(ctx, BOB, "/claims Neel Nanda everyone")
    assert both.error and "Give a user or everyone, not both" in both.text


async def test_a_busy_history_says_older_entries_exist_and_pages_back_to_them(
    ctx: Context, clock: FakeClock
) -> None:
    """60 claims and releases of 2.4 (121 entries with the sheet's claim): /history showed the
    newest 50 and nothing else, neither that older ones existed nor a way to read them (the
    sheet's claim, the first notes). It says how many are older and which page lists them, and
    the last page holds the first entries."""
    for attempt in range(60):
        await say(ctx, ANN, "/claim 2.4")
        await say(ctx, ANN, f"/release 2.4 attempt {attempt}")
        clock.advance(hours=5)
    first = await shown(ctx, BOB, "/history 2.4")
    assert "2026-12-07 · Ann released it: attempt 59" in first
    assert "more: /history 2.4 page:2" in first and "Page 1 of " in first
    pages = int(first.split("Page 1 of ")[1].split(" ")[0].rstrip("."))
    last = await shown(ctx, BOB, f"/history 2.4 page:{pages}")
    assert last.rstrip().splitlines()[-3].endswith("(sheet) claimed it: from the sheet")
    assert f"Page {pages} of {pages}" in last and "page:" not in last.split("Timeline")[1]
    seen = []
    for page in range(1, pages + 1):
        text = await shown(ctx, BOB, f"/history 2.4 page:{page}")
        seen += [line for line in text.splitlines() if line.startswith("  - 20")]
    notes = [line.split(": attempt ")[1] for line in seen if ": attempt " in line]
    assert len(seen) == 121 and sorted(notes, key=int) == [str(n) for n in range(60)]
    beyond = await shown(ctx, BOB, "/history 2.4 page:99")
    assert f"There are only {pages} pages; here is page {pages}." in beyond


async def test_buttons_claim_and_release_for_the_clicker(ctx: Context) -> None:
    """The Claim button under a card claims for whoever clicks; Release only for them. A card
    nobody holds has no Release button; the one the claim answers with has."""
    card = await say(ctx, ANN, "/problem 1.1")
    assert [b.label for b in card.buttons] == ["Claim", "Another random"]
    claim = next(b for b in card.buttons if b.action == "claim")
    claimed = await dispatch.run_action(ctx, BOB, claim.custom_id)
    assert [b.label for b in claimed.buttons] == ["Claim", "Release", "Another random"]
    release = next(b for b in claimed.buttons if b.action == "release")
    assert (await dispatch.run_action(ctx, ANN, release.custom_id)).error
    assert "Released" in (await dispatch.run_action(ctx, BOB, release.custom_id)).text


async def test_forged_button_targets_are_checked(ctx: Context) -> None:
    """A button id with a junk target is refused like typed input."""
    reply = await dispatch.run_action(ctx, ANN, "cop:claim:'; DROP TABLE claim;--")
    assert reply.error and "not a problem number" in reply.text
    reply = await dispatch.run_action(ctx, ANN, "something-else")
    assert reply.error and "no longer supported" in reply.text


async def test_fifty_concurrent_claims_by_one_user_leave_one(ctx: Context) -> None:
    """Double clicks and retries race; exactly one open claim survives."""
    replies = await asyncio.gather(*(say(ctx, ANN, "/claim 3.11") for _ in range(50)))
    assert not any(r.error for r in replies)
    claims = [c for c in await ctx.store.claims_for_problem("3.11") if c.user_id == "ann"]
    assert len(claims) == 1 and claims[0].state in OPEN_CLAIM_STATES
    assert sum("You claimed" in r.text for r in replies) == 1


async def test_fifty_users_claiming_at_once_make_fifty_claims(ctx: Context) -> None:
    """Fifty different people all get their claim."""
    people = [person(f"user{i}") for i in range(50)]
    replies = await asyncio.gather(*(say(ctx, p, "/claim 3.11") for p in people))
    assert all("You claimed 3.11" in r.text for r in replies)
    claims = [c for c in await ctx.store.claims_for_problem("3.11") if c.user_id]
    assert sorted(c.user_id for c in claims) == sorted(p.user_id for p in people)
    history = await ctx.store.history("3.11")
    assert sum(e.kind == "claimed" and e.actor_id is not None for e in history) == 50


async def test_claiming_in_a_second_server_renews_the_claim_made_in_the_first(
    ctx: Context, clock: FakeClock
) -> None:
    """One Discord user id is one person in every server: Ann's /claim 3.11 in a second server
    renews her claim from the first (and says so) instead of making a second one; the card lists
    her once; /claims there lists it, marked, without a Release button; /release there says where
    the claim lives. Likewise on Slack, across workspaces."""
    await say(ctx, ANN, "/claim 3.11")
    clock.advance(days=3)
    elsewhere = person("ann", community="guild2")
    again = await say(ctx, elsewhere, "/claim 3.11")
    assert not again.error
    assert again.text.startswith(
        "You already hold 3.11, claimed in another server on 2026-11-25: renewed that claim today "
        "(2026-11-28). It stays that server's: /release 3.11 there when you stop."
    )
    card = await shown(ctx, BOB, "/problem 3.11")
    assert card.count("Ann — since") == 1
    assert "Ann — since 2026-11-25 (3 days ago), renewed 2026-11-28" in card
    claims = [c for c in await ctx.store.claims_for_problem("3.11") if c.user_id == "ann"]
    assert [(c.community_id, c.state) for c in claims] == [("guild1", "active")]

    mine = await say(ctx, elsewhere, "/claims")
    assert mine.title == "Your open claims (1)" and mine.buttons == ()
    assert "Ann — since 2026-11-25 (3 days ago), renewed 2026-11-28 (another server)" in await shown(
        ctx, elsewhere, "/claims"
    )
    assert "(another server)" not in await shown(ctx, ANN, "/claims")
    assert "(another server)" in await shown(ctx, person("bob", community="guild2"), "/claims <@ann>")
    refused = await say(ctx, elsewhere, "/release 3.11")
    assert refused.text == "Your claim on 3.11 was made in another server; release it there."

    in_team, other_team = Actor("slack", "T1", "U0ANN", "Ann"), Actor("slack", "T2", "U0ANN", "Ann")
    await say(ctx, in_team, "/claim 2.4")
    assert "claimed in another workspace" in (await say(ctx, other_team, "/claim 2.4")).text
    assert "(another workspace)" in await shown(ctx, other_team, "/claims")
    assert (await shown(ctx, BOB, "/problem 2.4")).count("Ann (Slack) — since") == 1


async def test_a_sheet_claim_is_stale_by_the_servers_stale_days(ctx: Context, clock: FakeClock) -> None:
    """With /setup stale_days:10, a sheet claim 20 days old shows stale on the card, in /claims
    number: and with the card's "all stale" hint, as /help says; another server, on the default
    30 days, and a direct message see it fresh."""
    await plant_sheet_claim(ctx.store, "2.5", "kim - working on it", age_days=20)
    boss = person("boss", admin=True)
    await say(ctx, boss, "/setup stale_days:10")
    assert "A claim turns stale after 10 days" in await shown(ctx, ANN, "/help")
    card = await shown(ctx, ANN, "/problem 2.5")
    assert "20 days ago, stale)" in card and "Stale, so anyone may still /claim 2.5" in card
    assert "20 days ago, stale)" in await shown(ctx, ANN, "/claims number:2.5")
    for viewer in (person("ann", community="guild2"), Actor("discord", "dm", "ann", "Ann", direct=True)):
        fresh = await shown(ctx, viewer, "/problem 2.5")
        assert "20 days ago)" in fresh and "Stale, so anyone" not in fresh


async def test_a_card_in_a_direct_message_says_claim_works_in_a_server(ctx: Context) -> None:
    """The card's hints said "/claim 2.1" in a direct message too, where /claim is refused ("works
    in a server, not in direct messages"): there they say to claim in a server; in a server they
    are as they were."""
    await plant_sheet_claim(ctx.store, "2.5", "kim - working on it", age_days=40)
    in_dm = Actor("discord", "dm", "ann", "Ann", direct=True)
    assert "Nobody yet: /claim 2.1 in a server\n" in await shown(ctx, in_dm, "/problem 2.1")
    assert "Stale, so anyone may still /claim 2.5 in a server\n" in await shown(ctx, in_dm, "/problem 2.5")
    assert "Nobody yet: /claim 2.1\n" in await shown(ctx, ANN, "/problem 2.1")
    assert "Stale, so anyone may still /claim 2.5\n" in await shown(ctx, ANN, "/problem 2.5")


async def test_claiming_again_and_again_in_one_day_does_not_flood_the_history(
    ctx: Context, clock: FakeClock
) -> None:
    """Ann runs /claim 2.4 sixty times in a day (or mashes Still on it): /history keeps her claim
    and Bob's release instead of a page of renewals; a renewal on a later day is still recorded."""
    await say(ctx, BOB, "/claim 2.4")
    await say(ctx, BOB, "/release 2.4 tried probing")
    for _ in range(60):
        assert not (await say(ctx, ANN, "/claim 2.4")).error
        clock.advance(minutes=1)
    timeline = await shown(ctx, BOB, "/history 2.4")
    assert "Bob released it: tried probing" in timeline and "Ann claimed it" in timeline
    assert timeline.count("Ann renewed their claim") == 0
    clock.advance(days=2)
    for _ in range(3):
        await say(ctx, ANN, "/claim 2.4")
    timeline = await shown(ctx, BOB, "/history 2.4")
    assert timeline.count("2026-11-27 · Ann renewed their claim") == 1
    assert "Ann — since 2026-11-25 (2 days ago), renewed 2026-11-27" in await shown(ctx, BOB, "/problem 2.4")


async def test_a_card_pressed_through_two_replicas_at_once_names_both_claimants(
    pg_db_url: str, clock: FakeClock
) -> None:
    """A public card of 2.4 in a busy channel (Slack replicas behind a load balancer): Ann presses
    Claim and her press reaches replica B; a moment later Bob's reaches replica A, which had shown
    the card within STATE_CACHE_SECONDS. A's refreshed card, the last to replace the message,
    named only Bob, and the channel's card kept saying so: Ann's claim was missing from it. Now
    the card a press leaves behind is read afresh and names both."""
    frozen = 100.0  # within the state cache's seconds throughout
    stores = [Store(make_engine(pg_db_url), monotonic=lambda: frozen) for _ in range(2)]
    try:
        a, b = (Context(store=s, clock=clock, rng=random.Random(4)) for s in stores)
        await shown(a, BOB, "/problem 2.4")  # the card, as replica A keeps it
        pressed = await dispatch.run_action(b, ANN, "cop:claim:2.4")
        assert not pressed.error and pressed.refresh is not None
        pressed = await dispatch.run_action(a, BOB, "cop:claim:2.4")
        assert not pressed.error and pressed.refresh is not None
        card = "\n".join(
            [pressed.refresh.text, *(line for s in pressed.refresh.sections for line in s.lines)]
        )
        assert "Ann" in card and "Bob" in card, card
    finally:
        for s in stores:
            await s.close()


async def test_a_refused_release_of_stale_claims_says_anyone_may_still_claim(ctx: Context) -> None:
    """Bob cannot release the sheet's years-old claim on 2.4, but he is told, as the card tells
    him, that it holds nobody back; once Ann's fresh claim is beside it, that is not said."""
    refused = await say(ctx, BOB, "/release 2.4")
    assert refused.error and refused.text.endswith(
        "(jknowak (Discord) - July 2023). Stale, so anyone may still /claim 2.4."
    ), refused.text
    await say(ctx, ANN, "/claim 2.4")
    refused = await say(ctx, BOB, "/release 2.4")
    assert refused.error and refused.text.endswith("(jknowak (Discord) - July 2023, Ann)."), refused.text


async def test_claims_lists_a_members_many_claims_a_page_at_a_time(ctx: Context, clock: FakeClock) -> None:
    """Ann holds 25 claims: /claims shows the oldest 20 and names page 2, which shows the other
    five with their Release buttons; Bob reading her list by name is told how to type its next
    page; a page past the last says so and shows the last."""
    numbers = [p.number for p in await ctx.store.problems()][:25]
    for number in numbers:
        await say(ctx, ANN, f"/claim {number}")
        clock.advance(hours=1)
    first = await say(ctx, ANN, "/claims")
    assert first.title == "Your open claims (25)"
    assert [line.split(" — ")[0] for line in first.sections[0].lines] == numbers[:20]
    assert first.footer is not None and first.footer.startswith("Page 1 of 2. Next: /claims page:2 ")
    second = await say(ctx, ANN, "/claims page:2")
    assert [line.split(" — ")[0] for line in second.sections[0].lines] == numbers[20:]
    assert [b.label for b in second.buttons] == [f"Release {n}" for n in numbers[20:]]
    assert second.footer == "Page 2 of 2."
    theirs = await say(ctx, person("bob"), "/claims ann")
    assert theirs.footer == "Page 1 of 2. Next: /claims ann page:2"
    past = await say(ctx, ANN, "/claims page:3")
    assert past.text == "There are only 2 pages; here is page 2." and past.sections == second.sections
    # The page typed bare, as /claims everyone 2 and /history 2.4 2 take it ("I know nobody
    # called '2' here" before).
    for typed in ("/claims 2", "/claims me 2", "/claims page 2"):
        bare = await say(ctx, ANN, typed)
        assert not bare.error and bare.sections == second.sections, (typed, bare.text)
