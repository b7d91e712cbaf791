"""The longest legal content, through every card copbot draws: Discord would take every message.

The fake Discord refuses (400, 50035) what real Discord refuses: an embed over 6,000 characters
or 25 fields, a field over 1,024, a modal label over 45, more than 25 choices... So copbot's
answers here, with long sections going on over several fields, must all be accepted.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator

import pytest

from commands.links import normalise_link
from commands.types import Context
from storage import submissions
from storage.catalogue import import_rows, parse_csv
from storage.claims import Person
from storage.text import without_tail
from tests.bot.discord.discord_rig import Moderated, ask, buttons, embed, moderated, text_of
from tests.fakes.discord_api import FakeDiscord
from tests.support import long_links
from tests.support.clock import FakeClock

# A link as Discord makes one of bare text: from http(s):// to a space or a "<".
BARE_URL = re.compile(r"(?<![0-9A-Za-z])https?://[^\s<]+")
MARKUP = "**b** _i_ `c` ~~s~~ ||sp|| > q # h - l [x](https://evil.example/p) @everyone <@&123> 🧠 "


def long_text(n: int, seed: str = "") -> str:
    return (seed + MARKUP * (n // len(MARKUP) + 1))[:n]


def long_url(i: int, n: int = 880) -> str:
    base = f"https://example.org/work/{i}/"
    return base + "a" * (n - len(base))


async def plant(ctx: Context, clock: FakeClock) -> None:
    """A catalogue row at the importer's 20,000 characters a cell, 80 claims (40 open, 40 released
    with 1,000-character notes), 60 approved near-longest links, all by people with long names."""
    store, now = ctx.store, clock()
    work = "\n".join(f"- {long_text(40, str(i))} https://example.org/{i}" for i in range(400))[:20000]
    out = io.StringIO()
    csv.writer(out).writerows(
        [
            ["number", "category", "subcategory", "difficulty", "problem", "existing_work", "working_on"],
            ["9.1", long_text(20000, "Cat "), long_text(20000, "Sub "), "A-C", long_text(20000), work, ""],
        ]
    )
    assert await import_rows(store, parse_csv(out.getvalue()), now) is not None
    for i in range(80):
        who = Person("slack", "T1", f"U{i}", long_text(200, f"{i} "))
        await store.claim("2.4", who, now)
        await store.claim("9.1", who, now)
        if i >= 40:
            await store.release("2.4", who, long_text(1000, "note "), now)
    moderator = Person("slack", "T1", "UMOD", long_text(200, "mod "))
    for i in range(60):
        who = Person("slack", "T1", f"S{i}", long_text(200, f"s{i} "))
        url = long_url(i)
        link = await submissions.submit(
            store, "2.4", url, normalise_link(url), long_text(500), who, now, 1000
        )
        assert link.id is not None
        await submissions.decide(store, link.id, moderator, True, long_text(500, "ok "), now)


@pytest.fixture
async def rig(fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock) -> AsyncIterator[Moderated]:
    fake.add_channel("mods")
    await plant(ctx, clock)
    async with moderated(fake, ctx, db_url) as rig:
        saved = await ask(
            fake, "setup set", {"moderator_channel": fake.channel_id("mods")}, user_id=fake.owner_id
        )
        assert embed(saved)["description"] == "Settings saved."
        yield rig


def refused(fake: FakeDiscord) -> list[str]:
    return [f"{r.method} {r.route}: {r.response}" for r in fake.requests if r.status >= 400]


async def test_every_card_with_the_longest_content_is_one_discord_takes(
    rig: Moderated, clock: FakeClock
) -> None:
    fake = rig.fake
    cards = []
    for name, options in [
        ("problem", {"number": "2.4"}),
        ("problem", {"number": "9.1"}),
        ("claims", {"number": "2.4"}),
        ("history", {"number": "2.4"}),
        ("search", {"query": "Cat"}),
        ("random", {"category": "9"}),
    ]:
        cards.append(await ask(fake, name, options))
    for current in ("", "9", "Cat", long_text(100)):
        await fake.wait_for_callback(
            await fake.autocomplete("problem", {"number": current}, focused="number")
        )
        await fake.wait_for_callback(
            await fake.autocomplete("random", {"category": current}, focused="category")
        )
    for i in range(25):
        who = Person("discord", str(fake.guild_id), str(10**17 + i), long_text(200, f"p{i} "))
        url = long_url(1000 + i)
        await submissions.submit(
            rig.bot.ctx.store, "9.1", url, normalise_link(url), long_text(500), who, clock(), 100
        )
    await ask(fake, "submit", {"number": "9.1", "link": long_url(7, 900), "note": long_text(500)})
    cards.append(await ask(fake, "pending", user_id=fake.bob_id))
    post = fake.messages[fake.channel_id("mods")][-1]
    opened = await fake.wait_for_callback(
        await fake.click(post, dict(buttons(post))["Reject with reason"], user_id=fake.bob_id)
    )
    await fake.wait_for_callback(
        await fake.submit_modal(opened.interaction_id, {"reason": long_text(500, "no ")})
    )

    assert refused(fake) == []
    assert all(c.embeds for c in cards)
    two_four = [f["name"] for f in embed(cards[0])["fields"]]
    assert "Existing work (continued)" in two_four  # 60 links: more than one field's worth shows
    assert len(fake.dms[fake.alice_id]) == 1


# A Discord bullet holds at most LINE_MAX characters, its last an ellipsis when cut.
BULLET_KEPT = 984 - 1
# How far past the cut each member's link ends (negative: before it), and what follows it: well
# inside the link, its last character, exactly at the cut, a full stop at the cut, a space there.
LINK_PAST_CUT = ((30, " "), (1, " "), (0, " "), (-1, ". "), (-1, " "))


async def test_a_cut_release_note_never_leaves_half_a_link(bot: object, fake: FakeDiscord) -> None:
    """A release note as long as /release takes (1,000 characters) goes over a card's bullet
    (984): its line on /problem was cut at the limit whatever stood there, so a link near the
    end showed cut short ("https://example.org/paper-0/aaaa…") yet still clickable, to a page
    that is not the one the member gave, and one ending right at the cut took the ellipsis into
    itself. Now the cut goes before such a link, or leaves a space before the ellipsis, so every
    link Discord makes of the card is one a member wrote, whole."""
    written = []
    for i, (past, after) in enumerate(LINK_PAST_CUT):
        member = fake.add_member(f"member{i}")
        url = f"https://example.org/paper-{i}/" + "a" * 30
        prefix = f"• Member{i} — 2026-11-25 to 2026-11-25, released: “"
        filler = "w" * (BULLET_KEPT + past - len(prefix) - len(url) - 1)
        note = f"{filler} {url}{after}" + "then more words " * 2
        written.append(url)
        assert len(note) <= 1000
        await ask(fake, "claim", {"number": "2.4"}, user_id=member)
        released = await ask(fake, "release", {"number": "2.4", "note": note}, user_id=member)
        assert embed(released)["description"].startswith("Released your claim on 2.4")
    card = embed(await ask(fake, "problem", {"number": "2.4"}))
    # Each line is a field's worth: the section goes on in "Earlier claims (continued)" fields.
    earlier = "\n".join(f["value"] for f in card["fields"] if f["name"].startswith("Earlier claims"))
    lines = earlier.split("\n")
    assert len(lines) == len(LINK_PAST_CUT) and all(line.endswith("…") for line in lines), lines
    linked = [without_tail(url, ".,:;\"')]>*_~|`") for url in BARE_URL.findall(earlier)]
    assert set(linked) <= set(written), linked
    shown = [url for url in written if url in earlier]
    assert shown == written[3:], shown  # the links that ended before the cut, whole


async def test_a_link_across_the_cut_of_a_problem_s_text_or_title_shows_whole_or_not_at_all(
    bot: object, fake: FakeDiscord, ctx: Context, clock: FakeClock
) -> None:
    """A problem's text is cut at 1,500 characters on its card, and at 60 to 120 where a line
    names it (the card's title, a /search line), by the command core, whatever stood there: a
    link across the cut showed cut short ("https://example.org/far/bbbb…"), still clickable, to
    a page that is not the one the sheet gave. Now the cut goes before the link."""
    await long_links.plant(ctx.store, clock())
    for name, options in [("problem", {"number": "9.1"}), ("random", {"category": "9"})]:
        answer = await ask(fake, name, options)
        card = embed(answer)
        assert card["title"].startswith("9.1 — Probing circuits, see") and card["title"].endswith("…")
        assert card["description"].endswith("…") and "then words" in card["description"]
        assert long_links.half_links(text_of(answer.data or {})) == [], text_of(answer.data or {})
    found = await ask(fake, "search", {"query": "probing circuits"})
    lines = text_of(found.data or {})
    assert "9.1 — Probing circuits, see" in lines
    assert long_links.half_links(lines) == [], lines


async def test_a_problem_s_title_that_opens_with_a_long_link_still_says_something(
    bot: object, fake: FakeDiscord, ctx: Context, clock: FakeClock
) -> None:
    """A problem whose text opens with a link longer than its title's room (60 to 120
    characters): the core's cut left the link out whole and nothing before it, so its card's
    title and its /search line read '9.3 — …'. Now they show the link's text without its
    https:// (which no platform makes a link of), as far as it fits."""
    await long_links.plant(ctx.store, clock(), ("9.3", f"{long_links.LEAD} is the write-up; beat its bound"))
    readable = "9.3 — example.org/lead/aaaa"
    card = await ask(fake, "problem", {"number": "9.3"})
    assert embed(card)["title"].startswith(readable) and embed(card)["title"].endswith("a…")
    found = await ask(fake, "search", {"query": "write-up beat its bound"})
    lines = text_of(found.data or {})
    assert readable in lines, lines
    for shown in (text_of(card.data or {}), lines):
        assert long_links.half_links(shown) == [], shown


async def test_every_one_of_forty_stale_claims_can_be_read_in_claims(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock
) -> None:
    """Alice holds 40 claims, all stale (each line says when it expires). /claims showed the 30
    that fit in one embed and "… and 10 more", with no way to read the others (the newest): now
    it lists them a page at a time, every one on a page, naming the next page to type."""
    async with moderated(fake, ctx, db_url) as rig:
        numbers = [p.number for p in await ctx.store.problems()][:40]
        for number in numbers:
            await ask(fake, "claim", {"number": number})
        clock.advance(days=40)
        await rig.sweeper.run_once()
        first = await ask(fake, "claims")
        second = await ask(fake, "claims", {"page": 2})
    listed = []
    for answer in (first, second):
        shown = text_of(answer.data or {})
        assert not re.search(r"… and \d+ more", shown), shown
        listed += re.findall(r"^• (\d+\.\d+) — .*stale: no news since", shown, re.MULTILINE)
        assert embed(answer)["title"] == "Your open claims (40)"
    assert listed == numbers
    assert "Page 1 of 2" in text_of(first.data or {}) and "/claims page:2" in text_of(first.data or {})
    assert [label for label, _ in buttons(second.data or {})] == [f"Release {n}" for n in numbers[20:25]]
