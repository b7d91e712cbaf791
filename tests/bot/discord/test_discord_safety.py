"""What users type can neither ping anyone nor break a message; bad input gets a clear answer."""

from __future__ import annotations

import re

from bot.discord import render
from bot.discord.frontend import DiscordFrontEnd
from commands.types import Button, Context, Link, Reply, ReplyField, Section
from storage.claims import Person
from tests.bot.discord.discord_rig import ask, embed, literal, markdown, running, text_of
from tests.fakes.discord_api import FakeDiscord
from tests.support import long_links
from tests.support.bidi import ARABIC, HEBREW, PROBLEM_TEXT, RLO, has_bidi, plant_unclosed_overrides
from tests.support.clock import FakeClock


async def test_mentions_in_a_release_note_never_ping(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """A note with @everyone, a role and a user mention is shown back inert and escaped."""
    role, bob = fake.moderator_role_id, fake.bob_id
    note = f"@everyone @here <@&{role}> <@{bob}> **bold** [x](javascript:alert(1))"
    await ask(fake, "claim", {"number": "1.5"})
    await ask(fake, "release", {"number": "1.5", "note": note})
    answer = await ask(fake, "problem", {"number": "1.5"})

    assert not answer.ephemeral
    assert (answer.data or {})["allowed_mentions"] == {"parse": []}
    shown = text_of(answer.data or {})
    assert "@\u200beveryone" in shown and "@\u200bhere" in shown
    assert f"<@\u200b&{role}>" in shown and f"<@\u200b{bob}>" in shown
    assert "\\*\\*bold\\*\\*" in shown and "\\[x\\](javascript" in shown
    for raw in ("@everyone", "@here", f"<@&{role}>", f"<@{bob}>"):
        assert raw not in shown


async def test_a_display_name_cannot_ping_either(fake: FakeDiscord, ctx: Context, db_url: str) -> None:
    """A member nicknamed "@everyone" claims; the public card shows the name escaped."""
    eve = fake.add_member("eve", nick="@everyone <@&1234567890123456789>")
    async with running(fake, ctx, db_url):
        await ask(fake, "claim", {"number": "1.6"}, user_id=eve)
        shown = text_of((await ask(fake, "problem", {"number": "1.6"})).data or {})
    assert "@\u200beveryone \\<@\u200b&1234567890123456789>" in shown


async def test_an_address_with_at_here_in_a_note_stays_the_address_typed(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """A note linking a Medium author page (``/@heremaps``): the link leads where it was typed
    (a zero-width space put in it to stop "@here" pinging sent people to another page), while
    an @here and @everyone in the words beside it are still escaped."""
    url = "https://medium.com/@heremaps/induction-heads"
    other = "https://x.io/@everyone"
    await ask(fake, "claim", {"number": "1.5"})
    await ask(fake, "release", {"number": "1.5", "note": f"@here see {url} and {other} too"})
    answer = await ask(fake, "problem", {"number": "1.5"})

    shown = text_of(answer.data or {})
    assert "@\u200bhere see" in shown
    assert markdown(shown).bare == [url, other]


async def test_a_release_note_ending_in_a_link_links_to_it_on_the_card(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """The card quotes an earlier claim's note (“…”): Discord's autolink runs on to a space or a
    "<", so a note ending in a URL linked to it with the closing quote (…/notes%E2%80%9D, another
    page); now the URL is in angle brackets, where the link ends."""
    await ask(fake, "claim", {"number": "1.5"})
    await ask(fake, "release", {"number": "1.5", "note": "my notes: https://x.org/notes"})
    shown = text_of((await ask(fake, "problem", {"number": "1.5"})).data or {})
    assert "my notes: <https://x.org/notes>”" in shown
    assert markdown(shown).bare == ["https://x.org/notes"]


async def test_a_link_in_square_brackets_links_to_the_url_whatever_follows_the_bracket(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """A note writes its links in square brackets, text right after the "]": Discord's autolink
    ran on through the "]" to the next space ("https://x.org/a]'s", another page), and so through
    a ")" closing a "(". Now each links to the URL in the brackets, the text after it shown as
    typed; a "]" with no "[" before the link is still part of it, as Discord reads it."""
    note = "see [https://x.org/a]'s page, [https://x.org/b]/c, [https://x.org/c], (https://x.org/e)s and https://x.org/d]e"
    await ask(fake, "claim", {"number": "1.5"})
    await ask(fake, "release", {"number": "1.5", "note": note})
    shown = text_of((await ask(fake, "problem", {"number": "1.5"})).data or {})
    bare = ["https://x.org/a", "https://x.org/b", "https://x.org/c", "https://x.org/e", "https://x.org/d%5De"]
    assert markdown(shown).bare == bare
    as_read = re.sub(r"<(https://[^>]+)>", r"\1", literal(shown)).replace("%5D", "]")
    assert f"released: “{note}”" in as_read


async def test_a_link_right_before_a_less_than_sign_links_to_the_url_typed(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """A note with a "<" right after a link ("https://x.org/run/42<-- this one"): the backslash
    that keeps the "<" literal went into the link, Discord's autolink running on to a space or a
    "<" (…/42\\, another page). Now the URL is in angle brackets, where the link ends."""
    note = "best: https://x.org/run/42<-- this one, or https://x.org/run/43.<3"
    await ask(fake, "claim", {"number": "1.5"})
    await ask(fake, "release", {"number": "1.5", "note": note})
    shown = text_of((await ask(fake, "problem", {"number": "1.5"})).data or {})
    assert markdown(shown).bare == ["https://x.org/run/42", "https://x.org/run/43"]
    assert markdown(shown).live == []
    as_read = re.sub(r"<(https://[^>]+)>", r"\1", literal(shown))
    assert f"released: “{note}”" in as_read


async def test_a_link_right_after_another_one_s_closing_bracket_links_to_the_url_typed(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """A note in markdown's link syntax, its links one right after the other
    ("[post](https://x.org/p),[code](https://x.org/c_2)"): the second URL was escaped as words
    are, and Discord's autolink, which reads no escape inside a link, linked to
    https://x.org/c\\_2, another page. Now it shows bare, as typed, as the first one does."""
    note = "see [post](https://x.org/p),[code](https://x.org/c_2) and (https://x.org/a)https://x.org/b*c"
    await ask(fake, "claim", {"number": "1.5"})
    await ask(fake, "release", {"number": "1.5", "note": note})
    shown = text_of((await ask(fake, "problem", {"number": "1.5"})).data or {})
    bare = ["https://x.org/p", "https://x.org/c_2", "https://x.org/a", "https://x.org/b%2Ac"]
    assert markdown(shown).bare == bare
    assert markdown(shown).live == [] and markdown(shown).links == []
    as_read = re.sub(r"<(https://[^>]+)>", r"\1", literal(shown)).replace("%2A", "*")
    assert f"released: “{note}”" in as_read


async def test_a_link_holding_a_greater_than_sign_links_whole_in_angle_brackets(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """A note ending in a link whose query holds a ">" ("https://x.org/q?x>1"): the card quotes
    the note, so the link went in angle brackets, which Discord ends at the first ">": it linked
    to https://x.org/q?x, and the rest showed as text after it. Now the ">" in it is %-quoted
    (the same address), and the link is the one typed."""
    note = "plotted at https://x.org/q?x>1"
    await ask(fake, "claim", {"number": "1.5"})
    await ask(fake, "release", {"number": "1.5", "note": note})
    shown = text_of((await ask(fake, "problem", {"number": "1.5"})).data or {})
    assert markdown(shown).bare == ["https://x.org/q?x%3E1"]
    as_read = re.sub(r"<(https://[^>]+)>", r"\1", literal(shown)).replace("%3E", ">")
    assert f"released: “{note}”" in as_read


async def test_a_problem_s_lines_ended_by_a_bare_carriage_return_show_no_heading_quote_or_list(
    fake: FakeDiscord, bot: DiscordFrontEnd, ctx: Context, clock: FakeClock
) -> None:
    """A sheet whose cells end their lines with a bare carriage return (an old Mac export):
    Discord's markdown reads "\\r" as a line break (simple-markdown's preprocess), but copbot
    only escaped what starts a line after "\\n", so the card showed a big heading, a quote and
    a list. Now each such line start is escaped as one after "\\n" is."""
    text = "Find the circuit.\r# Not a heading\r> not a quote\r- not a list"
    await long_links.plant(ctx.store, clock(), ("9.3", text))
    card = embed(await ask(fake, "problem", {"number": "9.3"}))
    as_discord_reads = re.sub(r"\r\n?", "\n", card["description"])
    assert markdown(as_discord_reads).live == []
    assert literal(as_discord_reads) == text.replace("\r", "\n")


# Two masked links on one line, with markup between them: discord.py's escape_markdown escaped
# only the first "[" of such a line, leaving the rest live.
NICK = "[a](b)[Mod team](https://x.io)"
NOTE = (
    "tried [a](https://a.example) then **this** ||x|| `code` ~~s~~ __u__ <t:1:R> <#1> "
    "[Click here for the dataset](https://phish.example/login)"
)


async def test_markdown_in_names_and_notes_shows_literally_on_public_cards(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """A nick and a release note full of masked links and markup show as typed, on the public
    card, /history and /claims: no masked link but copbot's, no bold, spoiler or code, and the
    URLs typed stay bare (clickable) links."""
    mallory = fake.add_member("mallory", nick=NICK)
    async with running(fake, ctx, db_url):
        await ask(fake, "claim", {"number": "1.5"}, user_id=mallory)
        await ask(fake, "claim", {"number": "1.5"})
        await ask(fake, "release", {"number": "1.5", "note": NOTE})
        answers = [
            await ask(fake, "problem", {"number": "1.5"}),
            await ask(fake, "history", {"number": "1.5"}),
            await ask(fake, "claims", {"number": "1.5"}),
        ]
    assert not answers[0].ephemeral
    for answer in answers:
        for field in embed(answer)["fields"]:
            read = markdown(field["value"])
            assert read.links == [] and read.live == [], field
    card = {f["name"]: f["value"] for f in embed(answers[0])["fields"]}
    assert literal(card["Working on it"]).startswith(f"• {NICK} — since ")
    shown = literal(card["Earlier claims"]).replace("<https://phish", "https://phish").replace("n>)", "n)")
    assert f"released: “{NOTE}”" in shown  # Discord shows no brackets around a link
    # A link, whole, that ends where the URL does (not on the closing quote after it).
    assert "\\](<https://phish.example/login>)”" in card["Earlier claims"]
    history = literal(text_of(answers[1].data or {}))
    assert f"Alice released it: {NOTE}" in history and f"{NICK} claimed it" in history


def test_every_markdown_character_of_user_text_is_literal() -> None:
    """Headings, quotes, lists, subtext and inline markup in user text read as text; a URL in it
    stays a bare link, the characters that could end or mark it %-quoted (the same address)."""
    text = "# h\n> q\n- l\n1. n\n  -# sub\n* b\n\\*x\\* a_b <t:1:R> see https://x.io/a_b_(c)*|[d]`e"
    escaped = render.escape(text)
    assert markdown(escaped).live == [] and markdown(escaped).links == []
    assert literal(escaped).replace("%2A%7C%5Bd%5D%60e", "*|[d]`e") == text
    assert "see https://x.io/a_b_(c)%2A%7C%5Bd%5D%60e" in escaped
    # copbot's own links stay links, the escaped label inside them inert.
    label = NOTE.replace("https://", "")  # an address in the label would make it no link at all
    value = render.section_value(Section("Existing work", (Link(label, "https://example.org/w"),)))
    (only,) = markdown(value).links
    assert only[1] == "https://example.org/w" and literal(only[0]) == label
    assert markdown(value).live == []


def test_urls_end_where_the_sentence_goes_on_and_custom_emoji_show() -> None:
    """A URL in brackets keeps its "]" out of the link (it linked to …5678%5D, a 404), one in
    angle brackets stays Discord's link without a preview (its brackets were shown), a custom
    emoji shows as the emoji (it showed as <:pog:…>); the text around them stays inert."""
    text = (
        "paper [https://arxiv.org/abs/1234.5678] and repo <https://github.com/a/b>. "
        "done <:pog:123456789012345678>"
    )
    escaped = render.escape(text)
    assert "\\[https://arxiv.org/abs/1234.5678] and" in escaped and "%5D" not in escaped
    assert " <https://github.com/a/b>. done <:pog:123456789012345678>" in escaped
    # Those two spans are the only markup left, and no masked link.
    rest = escaped.replace("<https://github.com/a/b>", "").replace("<:pog:123456789012345678>", "")
    assert markdown(rest).live == [] and markdown(escaped).links == []
    assert literal(escaped) == text


async def test_bad_input_gets_a_private_explanation(fake: FakeDiscord, bot: DiscordFrontEnd) -> None:
    """Unknown numbers, 10,000 characters and odd unicode: clear private errors, no crash."""
    unknown = await ask(fake, "problem", {"number": "9.99"})
    assert unknown.ephemeral
    assert embed(unknown)["description"] == "No problem 9.99 — sections are 1, 2, 3, 4."
    assert embed(unknown)["color"] == render.ERROR_COLOUR

    long_note = await ask(fake, "release", {"number": "2.4", "note": "x" * 10_000})
    assert embed(long_note)["description"] == "That note is too long (10000 characters): at most 1000."
    long_query = await ask(fake, "search", {"query": "y" * 10_000})
    assert embed(long_query)["description"] == "That query is too long (10000 characters): at most 200."

    full_width = await ask(fake, "problem", {"number": "２.４"})
    assert embed(full_width)["title"].startswith("2.4 — ")
    odd = await ask(fake, "search", {"query": "\u202e\u0000\U0001f9e0 Z̷a̷l̷g̷o̷"})
    assert odd.ephemeral and embed(odd)["description"]


def test_embeds_stay_within_discord_limits() -> None:
    """Huge titles, texts, fields and sections are cut to Discord's limits (6,000 in all)."""
    reply = Reply(
        title="T" * 1000,
        text="d" * 9000,
        fields=tuple(ReplyField(f"f{i}", "v" * 3000) for i in range(30)),
        sections=(Section("Existing work", tuple(f"line {i} " + "w" * 300 for i in range(50))),),
        footer="f" * 5000,
    )
    card = render.embed(reply)
    assert len(card) <= 6000
    assert len(card.title or "") <= 256 and len(card.description or "") <= 4096
    assert len(card.fields) <= 25 and all(len(f.value or "") <= 1024 for f in card.fields)
    assert len(card.footer.text or "") <= 2048
    assert render.embed(Reply()).description == "…"  # never an empty embed


def test_long_sections_go_on_over_more_fields_within_the_limits() -> None:
    """Sections too long for a field continue over more, in order, while the embed has room: each
    section keeps its first field, what does not fit is counted, nothing passes a limit."""
    long = tuple(f"line {i} " + "w" * 180 for i in range(40))
    reply = Reply(
        title="T",
        text="d" * 1500,
        fields=tuple(ReplyField(f"f{i}", "v") for i in range(3)),
        sections=tuple(Section(name, long) for name in ("First", "Second", "Third")),
    )
    card = render.embed(reply)
    names = [f.name for f in card.fields]
    assert names[:4] == ["f0", "f1", "f2", "First"] and "Second" in names and names[-1] == "Third"
    assert "First (continued)" in names
    assert len(card) <= 6000 and len(card.fields) <= 25
    assert all(0 < len(f.value or "") <= 1024 and (f.name or "").strip() for f in card.fields)
    first = [line for f in card.fields if (f.name or "").startswith("First") for line in f.value.splitlines()]
    assert first[0].startswith("• line 0 ") and first[-1].startswith("… and ")
    assert len(first) - 1 + int(first[-1].split()[2]) == 40  # shown + counted = all
    # Room to spare: every line shows.
    short = render.embed(Reply(sections=(Section("S", long[:25]),)))
    assert sum(len(f.value.splitlines()) for f in short.fields) == 25 and len(short) <= 6000


def test_a_cut_section_counts_what_its_own_more_line_stood_for() -> None:
    """A card lists 9 links and "… and 86 more" (the core's cap): when Discord has room for
    fewer of the 9, its count includes the 86, not the one line that said so."""
    links = tuple(Link(f"note {i}", f"https://example.org/{i}/" + "p" * 880) for i in range(9))
    card = render.embed(Reply(sections=(Section("Existing work", links, more=86),)))
    shown = [line for f in card.fields for line in f.value.splitlines()]
    assert 0 < len(shown) - 1 < 9 and shown[-1].startswith("… and "), shown
    assert len(shown) - 1 + int(shown[-1].split()[2]) == 9 + 86
    assert len(card) <= 6000


def test_links_render_only_for_http_and_https() -> None:
    """Existing work links are masked links when safe; other schemes stay plain, inert text."""
    section = Section(
        "Existing work",
        (
            Link("A write-up (v2)", "https://example.org/a_(b)"),
            Link("evil", "javascript:alert(1)"),
            Link("[x](y)", "data:text/html,hi"),
        ),
    )
    value = render.section_value(section)
    assert "• [A write-up (v2)](https://example.org/a_%28b%29)" in value
    assert "](javascript" not in value and "](data" not in value
    assert "evil (javascript:alert(1))" in value
    # A link stored before copbot took at most 900 characters, too long for a field: its label.
    older = Link("An older long link", "https://example.org/" + "a" * 1500)
    assert render.section_value(Section("Existing work", (older,))) == "• An older long link"


def test_a_link_s_note_follows_it_as_inert_text_and_gives_way_first() -> None:
    """An approved link shows its own address; the member's note beside it is escaped text,
    never its label, and is what gets cut when the line is too long."""
    url = "https://example.org/work/paper"
    note = "**see** [arXiv](https://evil.example/x) " + "n" * 1000

    value = render.section_value(Section("Existing work", (Link(url, url, note),)))

    assert value.startswith(f"• {url} — \\*\\*see\\*\\* \\[arXiv\\](https://evil.example/x) nnn")
    assert value.endswith("n…") and len(value) <= render.LINE_MAX


def test_a_link_whose_label_holds_an_address_is_no_masked_link() -> None:
    """Discord shows ``[https://a.org](https://a.org)`` as typed, brackets and all: a link that is
    its own address shows bare (a last character its autolink would leave out %-quoted), and one
    whose label holds another address links its words before it, or is followed by its own."""
    post = "https://discord.com/channels/1/2/3"
    for url, shown in (
        ("https://example.org/v1.", "https://example.org/v1%2E"),
        ("https://x.io/a_(b)", "https://x.io/a_%28b%29"),
    ):
        assert render.link(Link(url, url, "n")) == f"{shown} — n"
        assert markdown(shown).bare == [shown]
    line = render.link(Link("2.4: https://x.io/a from Ann", post))
    assert line == f"[2.4]({post}): https://x.io/a from Ann"
    assert markdown(line).links == [("2.4", post)] and markdown(line).bare == ["https://x.io/a"]
    assert render.link(Link("https://x.io/a from Ann", post)) == f"https://x.io/a from Ann — {post}"


def test_user_text_beside_an_address_in_a_label_stays_inert() -> None:
    """A label that holds an address is split around it (a /pending line: the number linked, then
    the submitted link and who sent it; or the label, then its target): the member's name and
    words in it still form no masked link, no markup and no mention, whichever part they land in
    and however the line is cut."""
    post = "https://discord.com/channels/1/2/3"
    words = f"{NICK} {NOTE} @everyone <@123>"
    for label in (f"2.4: https://x.io/a from {words}", f"https://x.io/a from {words}"):
        for limit in (render.LINE_MAX - 2, 120, 60):
            line = render.link(Link(label, post), limit)
            shown = markdown(line)
            assert len(line) <= limit and shown.live == [], (limit, line)
            assert all(url == post for _, url in shown.links), (limit, line)
            assert "@everyone" not in line and "<@123>" not in line, (limit, line)


def test_refs_and_mentions() -> None:
    """Setting refs become channel/role/user references; Reply.mention is the one allowed ping."""
    fields = (
        ReplyField("Channel", "channel 123", ref=("channel", "123")),
        ReplyField("Role", "role 456", ref=("role", "456")),
        ReplyField("Person", "<@789>"),
    )
    card = render.embed(Reply(fields=fields))
    assert [f.value for f in card.fields] == ["<#123>", "<@&456>", "\\<@\u200b789>"]

    kwargs = render.message(Reply(text="your turn", mention="42"))
    assert kwargs["content"] == "<@42>"
    assert kwargs["allowed_mentions"].to_dict() == {"parse": [], "users": [42]}
    assert render.message(Reply(text="hi", mention="<@&1>"))["allowed_mentions"].to_dict() == {"parse": []}


async def test_buttons_are_persistent_and_within_limits() -> None:
    """Every button carries its cop: id; ids Discord cannot carry are dropped, not sent broken."""
    many = tuple(Button(f"Show {i}", "show", str(i)) for i in range(30)) + (Button("Big", "show", "x" * 200),)
    view = render.view(many)
    assert view is not None and view.is_finished()  # nothing kept per message
    ids = [item.custom_id for item in view.children]  # type: ignore[attr-defined]
    assert len(ids) == 25 and ids[0] == "cop:show:0"
    assert render.view(()) is None


async def test_an_unclosed_rtl_override_cannot_turn_the_rest_of_a_reply_around(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """A problem's text, a name and notes each holding an RLO with no end (stored by an import
    or a copbot from before bidi controls were dropped, or typed now): the card, /history and
    /claims show their letters, Hebrew and Arabic as typed, and no bidi control at all, so the
    text after them reads as written."""
    old = Person("slack", "T1", "U9", f"{RLO}anna")  # a name stored before names were cleaned
    await plant_unclosed_overrides(ctx.store, "1.5", old, ctx.clock())
    eve = fake.add_member("eve", nick=f"{RLO}eve {HEBREW}")
    async with running(fake, ctx, db_url):
        await ask(fake, "claim", {"number": "1.5"}, user_id=eve)
        await ask(fake, "claim", {"number": "1.5"})
        await ask(fake, "release", {"number": "1.5", "note": f"{RLO}tried {ARABIC}, stuck"})
        answers = [
            await ask(fake, "problem", {"number": "1.5"}),
            await ask(fake, "history", {"number": "1.5"}),
            await ask(fake, "claims", {"number": "1.5"}),
        ]
        offered = await fake.wait_for_callback(
            await fake.autocomplete("problem", {"number": "1.5"}, focused="number")
        )
    (choice, *_) = offered.choices or [{}]
    assert choice["name"].startswith("1.5") and "Find the" in choice["name"] and not has_bidi(choice["name"])
    card, history, claims = (text_of(answer.data or {}) for answer in answers)
    for shown in (card, history, claims):
        assert not has_bidi(shown), shown
    assert PROBLEM_TEXT in card
    assert f"eve {HEBREW} — since 2026-11-25" in card
    assert f"released: “tried {ARABIC}, stuck”" in card
    assert "anna (Slack) released it: see https://example.org/a" in history
    assert f"Alice released it: tried {ARABIC}, stuck" in history
    assert f"eve {HEBREW} — since 2026-11-25" in claims
