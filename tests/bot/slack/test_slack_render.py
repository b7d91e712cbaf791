"""Block Kit rendering: escaping, links, references, mentions and Slack's size limits."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.render import (
    MAX_TEXT,
    blocks,
    escape,
    fallback_text,
    fit,
    inert,
    link,
    message,
    safe_url,
    text_size,
    unescape,
)
from commands.types import Button, ButtonStyle, Link, Reply, ReplyField, Section
from tests.bot.slack.slack_rig import texts
from tests.fakes.slack_blocks import message_errors

PINGS = ("<!channel>", "<!here>", "<!everyone>", "<@U0BOB>", "<!subteam^S0MODS>", "<#C0GEN>")


def everything_says(text: str) -> Reply:
    """A reply with ``text`` in every place a renderer shows text."""
    return Reply(
        title=text,
        text=text,
        fields=(ReplyField(text, text),),
        sections=(Section(text, (text, Link(text, "https://example.org/" + text))),),
        buttons=(Button(text, "claim", "2.4"),),
        footer=text,
        private=False,
    )


@pytest.mark.parametrize("ping", PINGS)
def test_no_text_anywhere_can_ping_or_link(ping: str) -> None:
    rendered = json.dumps(message(everything_says(f"hi {ping} & bye")))

    assert ping not in rendered
    assert escape(ping) in rendered
    assert "hi " + escape(ping) + " &amp; bye" in rendered


def test_mrkdwn_is_verbatim_so_slack_parses_nothing_itself() -> None:
    for block in blocks(everything_says("@channel see #general")):
        objects = [block.get("text")] + block.get("fields", []) + block.get("elements", [])
        for item in objects:
            if item and item.get("type") == "mrkdwn":
                assert item["verbatim"] is True


def test_http_links_become_links_and_other_schemes_stay_text() -> None:
    reply = Reply(
        sections=(
            Section(
                "Existing work",
                (
                    Link("Toy <models>", "https://example.org/a?x=1&y=2"),
                    Link("odd|url", "http://example.org/p|q>r s"),
                    Link("click me", "javascript:alert(1)"),
                    Link("mail", "mailto:someone@example.org"),
                    Link("", "https://example.org/bare"),
                ),
            ),
        )
    )

    shown = texts(blocks(reply))[0].split("\n")

    assert shown[1] == "• <https://example.org/a?x=1&amp;y=2|Toy &lt;models&gt;>"
    assert shown[2] == "• odd|url (http://example.org/p|q&gt;r s)"  # whitespace: not a URL
    assert shown[3] == "• click me (javascript:alert(1))"
    assert shown[4] == "• mail (mailto:someone@example.org)"
    assert shown[5] == "• <https://example.org/bare>"  # Slack shows the address itself
    assert safe_url("https://example.org/p|q>r") == "https://example.org/p%7Cq%3Er"
    assert safe_url("https://exämple.org/ü") == "https://ex%C3%A4mple.org/%C3%BC"


def test_refs_link_channels_always_and_people_only_where_nobody_is_notified() -> None:
    fields = (
        ReplyField("Moderator channel", "channel C0MODS", ref=("channel", "C0MODS")),
        ReplyField("Moderator role", "role S0MODS", ref=("role", "S0MODS")),
        ReplyField("Claimant", "ann", ref=("user", "U0ANN")),
        ReplyField("Forged", "x", ref=("user", "U0ANN> <!channel")),
        ReplyField("Wrong kind", "y", ref=("channel", "U0ANN")),
    )

    private = texts(blocks(Reply(fields=fields, private=True)))
    public = texts(blocks(Reply(fields=fields, private=False)))

    assert private == [
        "*Moderator channel*\n<#C0MODS>",
        "*Moderator role*\n<!subteam^S0MODS>",
        "*Claimant*\n<@U0ANN>",
        "*Forged*\nx",
        "*Wrong kind*\ny",
    ]
    assert public[:3] == [
        "*Moderator channel*\n<#C0MODS>",
        "*Moderator role*\nrole S0MODS",
        "*Claimant*\nann",
    ]


def test_only_the_reply_mention_pings() -> None:
    reply = Reply(text="your claim on 2.4 is stale", mention="U0ANN", private=False)

    rendered = message(reply)

    assert rendered["text"] == "<@U0ANN> your claim on 2.4 is stale"
    assert texts(rendered["blocks"]) == ["<@U0ANN> your claim on 2.4 is stale"]
    assert "<@" not in json.dumps(message(Reply(text="hi", mention="U0ANN> <!channel")))


def test_limits_header_text_blocks_buttons() -> None:
    long_line = "word " * 700  # 3500 characters
    reply = Reply(
        title="T" * 400,
        text="\n".join([long_line] * 4),
        fields=tuple(ReplyField(f"F{i}", "v" * 3000) for i in range(12)),
        sections=(Section("Many", tuple(f"line {i} " + "x" * 290 for i in range(600))),),
        buttons=tuple(Button(f"Show {i} " + "y" * 100, "show", f"1.{i}") for i in range(30))
        + (Button("dup", "show", "1.0"),),
        footer="f" * 5000,
    )

    out = blocks(reply)

    assert len(out) <= 50 and text_size(out) <= 12000  # Slack's 12,000 characters a message
    assert message_errors({"text": "x", "blocks": out}) == []
    assert len(out[0]["text"]["text"]) == 150 and out[0]["type"] == "header"
    for block in out:
        for text in texts([block]):
            assert len(text) <= 3000
        for item in block.get("fields", []):
            assert len(item["text"]) <= 2000
        assert len(block.get("fields", [])) <= 10 and len(block.get("elements", [])) <= 25
    actions = [b for b in out if b["type"] == "actions"]
    ids = [e["action_id"] for b in actions for e in b["elements"]]
    assert len(ids) == len(set(ids)) == 30  # the duplicate id is dropped
    assert all(len(e["text"]["text"]) <= 75 for b in actions for e in b["elements"])
    assert out[-1]["type"] == "context" and out[-3:-1] == actions
    assert texts(out[-4:-3])[0].endswith("x\n• … and 590 more")  # the lines left out, counted
    assert texts(out[1:3]) == ["… and more than fits in one Slack message."] * 2  # text, fields


def test_cutting_never_leaves_half_an_entity_or_link() -> None:
    assert fit(escape("a" * 8 + "<b"), 10) == "aaaaaaaa…"
    assert fit("xx <https://e.org|label>", 12) == "xx …"
    assert fit("short", 10) == "short"


def test_styles_map_to_what_slack_supports() -> None:
    buttons = tuple(Button(s.value, s.value, "1", s) for s in ButtonStyle)

    elements = blocks(Reply(buttons=buttons))[0]["elements"]

    assert [e.get("style") for e in elements] == ["primary", None, "primary", "danger"]


def test_help_hints_name_the_slack_command() -> None:
    rendered = message(Reply(text="There is no command /nope. /help lists them.", footer="see /helpful"))

    assert "/cop-help lists them" in rendered["text"]
    assert "see /helpful" in texts(rendered["blocks"])


def test_an_empty_reply_still_has_notification_text() -> None:
    assert message(Reply(sections=(Section("Claims", ("a",)),)))["text"] == "Claims"
    assert message(Reply())["text"] == "copbot"


def test_unescape_reverses_slacks_escaping_once() -> None:
    assert unescape("a &amp;lt; b &lt;!channel&gt; &amp; c") == "a &lt; b <!channel> & c"


def test_a_long_link_keeps_its_room_and_its_label_gives_way() -> None:
    ampersands = "https://example.org/?" + "a&" * 439 + "a"  # 900 characters, 2,656 as Slack markup
    shown = ampersands.replace("&", "&amp;")
    reply = Reply(sections=(Section("Existing work", (Link("n" * 500, ampersands), Link("", ampersands))),))

    lines = texts(blocks(reply))

    assert lines[0] == "*Existing work*"
    assert lines[1].startswith(f"• <{shown}|nnnn")
    assert lines[1].endswith("…>") and len(lines[1]) <= MAX_TEXT
    assert lines[2] == f"• <{shown}>"  # labelled with itself: Slack shows it whole
    # Where not even a short label fits, the link is shown as text, never cut inside its <…>.
    assert link(Link("label", ampersands), len(shown) + 5) == "label"


def test_a_link_s_note_follows_it_as_inert_text_and_gives_way_first() -> None:
    """An approved link shows its own address; the member's note beside it is text, never its
    label, and is what gets cut when the line is too long."""
    url = "https://example.org/paper?a=1&b=2"
    shown = url.replace("&", "&amp;")
    note = "see <https://arxiv.org/abs/2209.10652|arXiv> & " + "n" * 3000

    lines = texts(blocks(Reply(sections=(Section("Existing work", (Link(url, url, note),)),))))

    assert lines[1].startswith(
        f"• <{shown}> — see &lt;<https://arxiv.org/abs/2209.10652>|arXiv&gt; &amp; nnn"
    )  # like other text: its URL clickable as itself, its markup inert
    assert len(lines[1]) == MAX_TEXT and lines[1].endswith("n…")
    just_the_link = f"<{shown}>"
    assert link(Link(url, url, "a note"), len(just_the_link) + 5) == just_the_link  # no room: no note


def test_a_long_section_gives_way_to_the_short_ones_after_it() -> None:
    work = tuple(Link("note " + "n" * 500, f"https://example.org/{i}?" + "q" * 880) for i in range(95))
    reply = Reply(
        title="2.4",
        text="A problem",
        sections=(Section("Existing work", work), Section("Working on it", ("bob — since today",))),
        buttons=(Button("Claim", "claim", "2.4"),),
    )

    out = blocks(reply)
    shown = texts(out)

    # Slack takes 12,000 characters of text a message: 8 links of 95 fit, the rest counted.
    assert text_size(out) <= 12000 and message_errors({"text": "x", "blocks": out}) == []
    assert shown[-3].endswith("\n• … and 87 more") and "\n".join(shown).count("https://example.org/") == 8
    assert shown[-2:] == ["*Working on it*\n• bob — since today", "Claim"]
    assert not any("a page or a filter" in text for text in shown)


def test_bare_urls_in_text_are_clickable_without_what_follows_them() -> None:
    reply = Reply(
        text="See (https://example.org/a_(b)) and https://example.org/c?x=1&y=2.",
        fields=(ReplyField("Repo", "https://github.com/x/y, then"),),
        sections=(Section("Existing work", ("Eric (repo: https://github.com/DKdekes/rotary-interp)",)),),
        footer="<https://evil.example|trusted> hxxps://no and https://",
    )

    shown = texts(blocks(reply))

    assert shown[0] == "See (<https://example.org/a_(b)>) and <https://example.org/c?x=1&amp;y=2>."
    assert shown[1] == "*Repo*\n<https://github.com/x/y>, then"
    assert shown[2] == "*Existing work*\n• Eric (repo: <https://github.com/DKdekes/rotary-interp>)"
    # Someone's own markup stays inert: its URL shows as itself, never behind their label.
    assert shown[3] == "&lt;<https://evil.example>|trusted&gt; hxxps://no and https://"


def test_a_bare_url_with_letters_beyond_ascii_shows_as_typed() -> None:
    """Slack shows a <url> as its %-quoted form: the text says what was typed."""
    shown = texts(blocks(Reply(text="see https://de.wikipedia.org/wiki/Größe for the idea")))
    assert (
        shown[0] == "see <https://de.wikipedia.org/wiki/Gr%C3%B6%C3%9Fe|"
        "https://de.wikipedia.org/wiki/Größe> for the idea"
    )


Z = "\u200b"  # what follows each formatting character of the core's text in mrkdwn


def test_text_cannot_format_and_copbot_s_own_markup_still_does() -> None:
    """mrkdwn has no escape: each *, _, ~ and backtick gets a zero-width space after it (no span
    can open and close), and a line that would start a quote gets one before its ">"."""
    reply = Reply(
        text="> quoted *bold* _it_ ~s~ `c`",
        fields=(ReplyField("From", "> *Eve*"),),
        sections=(
            Section("Existing work", ("see https://x.org/a_b_c *x*", Link("Post", "https://x.org/p", "_n_"))),
        ),
        mention="U0ANN",
    )

    shown = texts(blocks(reply))

    assert shown[0] == f"<@U0ANN> {Z}&gt; quoted *{Z}bold*{Z} _{Z}it_{Z} ~{Z}s~{Z} `{Z}c`{Z}"
    assert shown[1] == f"*From*\n{Z}&gt; *{Z}Eve*{Z}"
    assert (
        shown[2]
        == f"*Existing work*\n• see <https://x.org/a_b_c> *{Z}x*{Z}\n• <https://x.org/p|Post> — _{Z}n_{Z}"
    )
    assert fallback_text(reply) == f"<@U0ANN> {Z}&gt; quoted *{Z}bold*{Z} _{Z}it_{Z} ~{Z}s~{Z} `{Z}c`{Z}"
    # Between two letters or digits (ASCII: Slack may read é as a word's edge) none can format,
    # and each is kept as typed; a backtick always gets one (inline code's rules are less sure).
    shown = texts(blocks(Reply(text="x*y a~b file_name 2*3 café*x*é a_*b*_c a`b`c _x_y")))
    assert shown[0] == f"x*y a~b file_name 2*3 café*{Z}x*{Z}é a_{Z}*{Z}b*{Z}_{Z}c a`{Z}b`{Z}c _{Z}x_y"
    # A cut never leaves a formatting character without its zero-width space.
    assert fit(f"{'a' * 10}*{Z}b", 12) == "a" * 10 + "…"


def test_a_link_s_label_is_the_address_as_typed_or_text_that_cannot_format() -> None:
    """A /pending line is a link to the moderator post labelled with the submitter's name and
    link. Slack formats mrkdwn inside a link's label (and its Android app is reported to show
    such a link as plain text): before, a name like "*Ann* _the_ ~dev~" showed bold, italic and struck
    through inside the link. Now the label is inert like other text; <, >, & stay escaped, a
    newline is a space (a label over two lines is no link), and a | is the label's own (the
    address's is %-quoted, so the first | still ends it). A link labelled with its own address
    is shown by Slack as the address (<url>): nothing in it formats, and it reads as typed."""
    post = "https://fake-team.slack.com/archives/C0MODS/p1764072000000100"
    label = "2.4 #1: https://x.org/a_b from *Ann* _the_ ~dev~ `x` | a > b <!channel> & c\nnext"

    shown = link(Link(label, post))

    assert shown == (
        f"<{post}|2.4 #1: https://x.org/a_b from *{Z}Ann*{Z} _{Z}the_{Z} ~{Z}dev~{Z} `{Z}x`{Z} "
        "| a &gt; b &lt;!channel&gt; &amp; c next>"
    )
    assert shown.index("|") == len(post) + 1
    own = "https://example.org/~ann/_draft_/*v2*"
    assert link(Link(own, own)) == f"<{own}>"
    assert link(Link(own, own, "_n_")) == f"<{own}> — _{Z}n_{Z}"
    assert link(Link(own + "|x", own + "|x")) == f"<{own}%7Cx|{own}|x>"  # as typed, beside its link


def test_a_notification_cut_short_never_leaves_half_a_link() -> None:
    """The notification text (``text``, plain, where Slack makes links of bare URLs) was cut at
    3,000 characters wherever that fell, so a URL across it showed cut short, a link to another
    page. Now it goes whole or not at all; the blocks' links were never cut (``<url>``)."""
    url = "https://example.org/paper/" + "p" * 200
    reply = Reply(title="Notes", text="w " * 1470 + url + " after")
    assert 2900 < reply.text.index(url) < 3000 < reply.text.index(url) + len(url)

    shown = fallback_text(reply)

    assert len(shown) <= 3000 and shown.endswith("w w…") and "https://" not in shown
    assert message_errors(message(reply)) == []


# The renderer's fast paths (a look for a formatting character before the formatting pattern, a
# look for "&gt;" before the quote pattern, a walk without recursion) must render exactly what
# their definitions do: here the definitions, written out plainly, against arbitrary text.
_MARKUP = st.text(alphabet=st.sampled_from("ab1 \t\n*_~`<>&>é\u202e\u200b|:/."), max_size=40)


def _inert_by_definition(text: str) -> str:
    formatting = re.compile(r"`|[*_~](?![A-Za-z0-9])|(?<![A-Za-z0-9])[*_~]")
    quote_start = re.compile(r"^(?=[ \t]*&gt;)", re.MULTILINE)
    return quote_start.sub("\u200b", formatting.sub("\\g<0>\u200b", escape(text)))


def _size_by_definition(value: object) -> int:
    if isinstance(value, dict):
        text = value.get("text")
        own = len(text) if isinstance(text, str) and value.get("type") in ("mrkdwn", "plain_text") else 0
        return own + sum(_size_by_definition(v) for v in value.values() if isinstance(v, (dict, list)))
    if isinstance(value, list):
        return sum(_size_by_definition(v) for v in value)
    return 0


@settings(max_examples=300, deadline=None)
@given(text=_MARKUP)
def test_inert_text_is_what_its_definition_makes_of_it(text: str) -> None:
    assert inert(text) == _inert_by_definition(text)


@settings(max_examples=100, deadline=None)
@given(text=_MARKUP)
def test_a_message_s_text_size_is_every_text_object_s_length(text: str) -> None:
    out = blocks(everything_says(text))
    assert text_size(out) == _size_by_definition(out) > 0
