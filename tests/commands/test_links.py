"""Which links may be submitted, and when two links are the same work."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands import dispatch
from commands.links import BadLink, check_link, links_in, listed_in, normalise_link
from commands.types import Context
from tests.support.transcript import person, say, shown


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("javascript:alert(1)", "Only http:// and https:// links"),
        ("data:text/html,<b>x</b>", "Only http:// and https:// links"),
        ("file:///etc/passwd", "Only http:// and https:// links"),
        ("ftp://example.org/x", "Only http:// and https:// links"),
        (
            "example.org/post",
            r"has no https:// in front\. Add it and submit again: https://example\.org/post$",
        ),
        (
            "notalink",
            r"^'notalink' is not a link: give the page's whole address, e\.g\. /submit 2\.4 https://",
        ),
        ("https://exa mple.org/x", "cannot contain spaces"),
        ("https:///nohost", "has no host"),
        ("https://localhostonly", "has no host"),
        ("http://[::1", "not a valid link"),
        ("https://example.org/" + "a" * 881, "at most 900 characters as sent"),
        ("https://ja.wikipedia.org/wiki/" + "日本" * 50, "at most 900 characters as sent"),  # 930 sent
        ("https://example.org/?" + "&" * 879, r"too many & signs \(879\) to show whole on Slack"),
        ("https://example.org/\u0000", "control characters"),
        # What comes before an @ reads as the host and is not: refused, naming the real host.
        ("https://arxiv.org@evil.example/abs/2209.10652", "goes to evil.example, not to what comes before"),
        ("https://user:secret@example.org/x", "without a name or password before its host"),
        ("https://arxiv.org%40evil.example/abs/1", "host is not a valid domain name"),
        ("https://evil.example\\arxiv.org/abs/1", "host is not a valid domain name"),
        ("https://exa\u2060mple.org/x", "control characters"),
        ("https://ex\u00e4mple..org/x", "host is not a valid domain name"),  # an empty label
        ("", "Give a link"),
    ],
)
def test_bad_links_get_a_clear_error(raw: str, message: str) -> None:
    """Every kind of junk link is refused with a reason."""
    with pytest.raises(BadLink, match=message):
        check_link(raw)


@pytest.mark.parametrize(
    ("typed", "host"),
    [("localhost:8888/tree/notebook.ipynb", "localhost"), ("127.0.0.1:8888/lab", "127.0.0.1")],
)
async def test_a_local_notebook_address_without_its_scheme_says_nobody_else_can_open_it(
    ctx: Context, typed: str, host: str
) -> None:
    """`/submit 2.4 localhost:8888/tree/notebook.ipynb` (a Jupyter address copied without its
    http://) answered "Only http:// and https:// links can be submitted (localhost: was given)",
    as if "localhost" were a scheme the member chose; and 127.0.0.1:8888/lab "is not a link".
    Both are told what adding http:// would not change: only their own computer opens it."""
    reply = await say(ctx, person("ann"), f"/submit 2.4 {typed} my notebook")
    assert reply.error and reply.private
    assert reply.text.startswith(f"That link goes to {host}, which only opens on your own computer"), (
        reply.text
    )
    assert "Nothing is waiting" in await shown(ctx, person("mo", moderator=True), "/pending")


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        (
            "notalink",
            "'notalink' is not a link: give the page's whole address, e.g. "
            "/submit 2.4 https://example.org/my-post",
        ),
        (
            "2.4",
            "'2.4' is not a link: give the page's whole address, e.g. /submit 2.4 https://example.org/my-post",
        ),
        (
            "example.org/post",
            "That link has no https:// in front. Add it and submit again: https://example.org/post",
        ),
        (
            "arxiv.org/abs/2301.00001",
            "That link has no https:// in front. Add it and submit again: https://arxiv.org/abs/2301.00001",
        ),
        (
            "www.example.org",
            "That link has no https:// in front. Add it and submit again: https://www.example.org",
        ),
        (
            "example.org:8080/post",
            "That link has no https:// in front. Add it and submit again: https://example.org:8080/post",
        ),
    ],
)
async def test_a_link_without_its_scheme_or_no_link_at_all_says_what_to_type(
    ctx: Context, typed: str, answer: str
) -> None:
    """`/submit 1.1 notalink` answered "Only http:// and https:// links can be submitted (no
    scheme was given)": a newcomer who typed no link at all learns nothing from it. Text that is
    no link is told so, with a whole /submit to copy; a host and path without https:// (as
    copied from an address bar) is told to add it, with the link to copy. Neither is submitted."""
    ann = person("ann")
    reply = await say(ctx, ann, f"/submit 1.1 {typed} my notes")
    assert reply.error and reply.private
    assert reply.text == answer
    assert "Nothing is waiting" in await shown(ctx, person("mo", moderator=True), "/pending")


def test_good_links_pass_as_given() -> None:
    """A normal link comes back unchanged, angle brackets (Slack's) removed. Slack's markup with a
    label (<https://…|label>) was taken whole, the label and its bar in the link; brackets inside
    a link (…?q=<@&123>) lost the last one only (…?q=<@&123): now as a browser sends them."""
    assert check_link("<https://example.org/a?b=1>") == "https://example.org/a?b=1"
    assert check_link("<https://example.org/post|example.org/post>") == "https://example.org/post"
    assert check_link("https://example.org/x?q=<@&123>") == "https://example.org/x?q=%3C@&123%3E"
    assert check_link("https://example.org/a|b") == "https://example.org/a|b"
    longest = "https://example.org/" + "a" * 880  # 900 characters
    assert check_link(longest) == longest
    japanese = "https://ja.wikipedia.org/wiki/" + "日本" * 48  # 894 characters as sent
    assert check_link(japanese) == japanese
    ampersands = "https://example.org/?" + "a&" * 439 + "a"  # 900, and 2,656 as Slack's markup
    assert check_link(ampersands) == ampersands


def test_a_host_beyond_ascii_is_given_as_browsers_reach_it() -> None:
    """A Cyrillic "а" makes "аrxiv.org" look like arXiv: the link is kept as the host browsers
    go to (xn--…), so it shows as another site and is not taken for arXiv's paper."""
    look_alike = check_link("https://\u0430rxiv.org/abs/2209.10652")
    assert look_alike == "https://xn--rxiv-43d.org/abs/2209.10652"
    assert normalise_link(look_alike) != normalise_link("https://arxiv.org/abs/2209.10652")
    # Only the host changes: port, path and query stay as given.
    assert (
        check_link("https://M\u00fcnchen.de:8080/Stra\u00dfe?q=\u00fc")
        == "https://xn--mnchen-3ya.de:8080/Stra\u00dfe?q=\u00fc"
    )
    assert check_link("https://ARXIV.org/abs/2209.10652") == "https://ARXIV.org/abs/2209.10652"


def test_one_international_host_in_either_spelling_is_one_work() -> None:
    assert normalise_link("https://m\u00fcnchen.de/a") == normalise_link("https://xn--mnchen-3ya.de/a")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://Example.org/acronyms/", "http://www.example.org/acronyms"),
        ("https://example.org/a?utm_source=x&b=2&a=1#top", "https://example.org/a?a=1&b=2"),
        ("https://example.org:443/a?fbclid=123", "https://example.org/a"),
        ("https://arxiv.org/abs/2312.09230", "https://arxiv.org/pdf/2312.09230v2.pdf"),
        ("http://arxiv.org/abs/2312.09230v1", "https://www.arxiv.org/pdf/2312.09230"),
        ("https://arxiv.org/abs/hep-th/9901001v2", "https://arxiv.org/pdf/hep-th/9901001"),
        (
            "https://colab.research.google.com/drive/1WdvPyO-bB6l-iWq8SYjiovHp5R3834wN?usp=sharing",
            "https://colab.research.google.com/drive/1WdvPyO-bB6l-iWq8SYjiovHp5R3834wN",
        ),
    ],
)
def test_the_same_work_normalises_to_one_key(a: str, b: str) -> None:
    """Spelling differences of one link or one paper compare equal."""
    assert normalise_link(a) == normalise_link(b)


def test_different_works_stay_different() -> None:
    """Other papers, paths and meaningful parameters are not merged."""
    assert normalise_link("https://arxiv.org/abs/2312.09230") != normalise_link(
        "https://arxiv.org/abs/2312.09231"
    )
    assert normalise_link("https://example.org/a?id=1") != normalise_link("https://example.org/a?id=2")
    assert normalise_link("https://example.org/a") != normalise_link("https://example.org/b")


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("https://arxiv.org/abs/2402.11917,", ["https://arxiv.org/abs/2402.11917"]),
        (
            "See https://x.org/a. And (https://x.org/b), then https://x.org/c;",
            ["https://x.org/a", "https://x.org/b", "https://x.org/c"],
        ),
        ("[the post](https://x.org/post)", ["https://x.org/post"]),
        ("https://en.wikipedia.org/wiki/Foo_(bar)", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
        ("(https://en.wikipedia.org/wiki/Foo_(bar))", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
        (
            "done during a hackathon:https://a.com/p and <https://b.com/q>",
            ["https://a.com/p", "https://b.com/q"],
        ),
        (
            '"https://x.org/q?usp=sharing" or HTTP://X.ORG/Y!',
            ["https://x.org/q?usp=sharing", "HTTP://X.ORG/Y"],
        ),
        ("no links here, only example.org", []),
        # In square brackets, the link ends at the one that closes them, whatever follows it.
        ("see [https://x.org/a]'s page and [https://x.org/b]/c", ["https://x.org/a", "https://x.org/b"]),
        ("[a mirror: https://[2001:db8::1]/p]!", ["https://[2001:db8::1]/p"]),
        ("https://x.org/d]e", ["https://x.org/d]e"]),  # no [ before it: part of the link
        ("(https://x.org/e)s, (https://x.org/Foo_(bar))s", ["https://x.org/e", "https://x.org/Foo_(bar)"]),
    ],
)
def test_links_are_found_in_running_text(text: str, links: list[str]) -> None:
    """Links in the sheet's cells, without the punctuation around them."""
    assert links_in(text) == links


def test_a_link_listed_in_running_text_is_the_same_work_however_spelled() -> None:
    text = "Paper (https://arxiv.org/abs/2402.11917). Code: https://github.com/o/r/, and https://x.org:bad."
    assert listed_in(text, "https://arxiv.org/pdf/2402.11917v2.pdf")
    assert listed_in(text, "http://www.github.com/o/r")
    assert not listed_in(text, "https://arxiv.org/abs/2402.1191")
    assert not listed_in(text, "https://x.org/")


@pytest.mark.parametrize(
    ("raw", "sent"),
    [
        ("https://i\u2764.ws/", "https://xn--i-7iq.ws/"),
        ("https://\u2603.net/snow?x=\u00fc", "https://xn--n3h.net/snow?x=\u00fc"),
        ("https://I\u2764.WS:8080/a", "https://xn--i-7iq.ws:8080/a"),
        ("https://f\u00fc\u00df\u2764.de/", "https://xn--f-qfa0gr68p.de/"),  # ß kept, as browsers do
    ],
)
def test_a_host_with_an_emoji_is_taken_as_browsers_reach_it(raw: str, sent: str) -> None:
    """https://i❤.ws/ was refused ("not a valid domain name"): IDNA2008 has no emoji, but
    browsers (UTS #46, non-transitional, as the URL standard applies it) go there, as
    xn--i-7iq.ws; the link is kept that way."""
    assert check_link(raw) == sent
    assert normalise_link(raw) == normalise_link(sent)


@pytest.mark.parametrize(
    "host",
    [
        "\u0301a.net",  # a label that starts with a combining mark
        "\ufffd.net",  # a code point no domain name may hold
        "\u0661\u0662.com",  # a right-to-left label that breaks the bidi rule
        "xn--\u00fc.net",  # a Unicode label already marked as punycode
        "\u2764" * 64 + ".ws",  # a label longer than DNS takes
    ],
)
def test_a_host_that_is_no_domain_name_is_still_refused(host: str) -> None:
    with pytest.raises(BadLink, match="host is not a valid domain name"):
        check_link(f"https://{host}/")


async def test_submitting_a_link_to_an_emoji_host_saves_it_as_browsers_reach_it(ctx: Context) -> None:
    """/submit 2.4 https://i❤.ws/ answered "That link's host is not a valid domain name"."""
    reply = await say(ctx, person("ann"), "/submit 2.4 https://i\u2764.ws/ a short link")
    assert not reply.error, reply.text
    assert "https://xn--i-7iq.ws/" in reply.text


# 18 labels of "münchen" (8 letters each, 144 as typed) are 18 of "xn--mnchen-3ya" (14) as sent.
LONG_UNICODE_HOST = "m\u00fcnchen." * 18 + "de"
LONG_ASCII_HOST = "xn--mnchen-3ya." * 18 + "de"


@pytest.mark.parametrize(
    ("link", "answer"),
    [
        (
            f"https://{LONG_UNICODE_HOST}/paper",
            "That link's host is not a valid domain name: it is 272 characters long as browsers "
            "look it up (letters beyond A-Z written as xn--…), and a domain name has at most 253.",
        ),
        (
            f"https://{LONG_ASCII_HOST}/paper",
            "That link's host is not a valid domain name: it is 272 characters long as browsers "
            "look it up (letters beyond A-Z written as xn--…), and a domain name has at most 253.",
        ),
        (
            "https://m\u00fcnchen.xn--zz.de/paper",
            "That link's host is not a valid domain name: its part xn--zz is marked as an encoded "
            "name (xn--) but does not decode to one.",
        ),
        (
            "https://xn--zz.m\u00fcnchen.de/paper",
            "That link's host is not a valid domain name: its part xn--zz is marked as an encoded "
            "name (xn--) but does not decode to one.",
        ),
        (  # decodes, but to plain ASCII ("ab"), which is never written as xn--
            "https://m\u00fcnchen.xn--ab-.de/paper",
            "That link's host is not a valid domain name: its part xn--ab- is marked as an encoded "
            "name (xn--) but does not decode to one.",
        ),
        (  # decodes to a control character
            "https://xn--a.example.org/paper",
            "That link's host is not a valid domain name: its part xn--a is marked as an encoded "
            "name (xn--) but does not decode to one.",
        ),
    ],
)
async def test_a_host_too_long_or_with_a_broken_xn_label_is_refused_with_why(
    ctx: Context, link: str, answer: str
) -> None:
    """A host with letters beyond A-Z was turned into its xn-- form with no check of the whole
    host's length (at most 253) nor of the xn-- labels it already had: /submit took a link no
    browser can open. Every host, however written, now gets both checks, and the member is told
    which one failed; nothing is stored."""
    reply = await say(ctx, person("ann"), f"/submit 2.4 {link} my notes")
    assert reply.error and reply.text == answer
    pending = await say(ctx, person("mo", moderator=True), "/pending")
    assert pending.text == "Nothing is waiting for a decision."


@pytest.mark.parametrize(
    "link",
    [
        "https://xn--mnchen-3ya.de/a",  # a valid xn-- label, as browsers send münchen.de
        "https://m\u00fcnchen.xn--i-7iq.ws/a",
        "https://" + "a" * 63 + "." + ("b" * 63 + ".") * 2 + "c" * 61 + "/x",  # 253: the most
        "https://" + "m\u00fcnchen." * 16 + "abcdefghijklm./x",  # 253, and a last dot beyond
    ],
)
def test_a_host_at_the_limits_is_taken(link: str) -> None:
    assert check_link(link)


async def test_a_submitted_link_is_stored_and_shown_without_its_tracking_parameters(ctx: Context) -> None:
    """/submit kept utm_source, fbclid and the like in the link moderators saw, the card listed
    and the export wrote. Now the link is stored without them, its other parameters, their
    order and its fragment as typed; the submitter is told what was left out; the same link
    with other tracking, or none, is still the same work, waiting or approved."""
    ann, bob, mod = person("ann"), person("bob"), person("mod", moderator=True)
    typed = "https://example.org/post?id=7&utm_source=twitter&UTM_Medium=social&fbclid=IwAR0x&ref=main#part-2"
    clean = "https://example.org/post?id=7&ref=main#part-2"
    reply = await say(ctx, ann, f"/submit 2.4 {typed} the acronym circuit")
    assert not reply.error, reply.text
    assert reply.text.endswith(
        "It is listed without its tracking parameters (utm_source, UTM_Medium, fbclid)."
    ), reply.text
    pending = await shown(ctx, mod, "/pending")
    assert f"2.4 #1: {clean} from Ann" in pending and "utm" not in pending.lower()

    again = await say(ctx, bob, "/submit 2.4 https://example.org/post?ref=main&id=7&gclid=Cj0")
    assert (
        again.error and again.text == "That work is already submitted for 2.4 (waiting for the moderators)."
    )
    await dispatch.run_action(ctx, mod, "cop:approve:1")
    card = await shown(ctx, bob, "/problem 2.4")
    assert f"{clean} — the acronym circuit" in card and "fbclid" not in card
    approved = await say(ctx, bob, f"/submit 2.4 {typed}")
    assert approved.error and approved.text == "That work is already submitted for 2.4 (approved)."

    only = await say(ctx, bob, "/submit 2.5 <https://example.org/a/?utm_campaign=x&mc_eid=1#> see")
    assert only.text.endswith("It is listed without its tracking parameters (utm_campaign, mc_eid)."), (
        only.text
    )
    assert ": https://example.org/a/# from Bob" in await shown(ctx, mod, "/pending")
    plain = await say(ctx, bob, "/submit 2.6 https://example.org/b?q=a+b&usp=sharing")
    assert "tracking" not in plain.text
    assert ": https://example.org/b?q=a+b&usp=sharing from Bob" in await shown(ctx, mod, "/pending")


async def test_a_link_keeps_no_punctuation_of_the_sentence_after_it(ctx: Context) -> None:
    """`/submit 2.4 https://example.org/c, my notes` stored https://example.org/c, (comma and
    all): every platform links the page without it, and the same link submitted without the
    comma was other work, pending a second time; a full stop did the same. Now a link ends as
    links in existing work are read (commands.links.links_in)."""
    ann, mod = person("ann"), person("mod", moderator=True)
    assert not (await say(ctx, ann, "/submit 2.4 https://example.org/c, my notes")).error
    assert not (await say(ctx, ann, "/submit 2.5 https://example.org/d. tried it")).error
    again = await say(ctx, ann, "/submit 2.4 https://example.org/c")
    assert again.text == "That work is already submitted for 2.4 (waiting for the moderators).", again.text
    again = await say(ctx, ann, "/submit 2.5 https://example.org/d")
    assert again.text == "That work is already submitted for 2.5 (waiting for the moderators).", again.text
    pending = await shown(ctx, mod, "/pending")
    assert "2.4 #1: https://example.org/c from Ann" in pending, pending
    assert "2.5 #2: https://example.org/d from Ann" in pending, pending
    kept = await say(ctx, ann, "/submit 2.6 https://en.wikipedia.org/wiki/Foo_(bar)")
    assert not kept.error and "https://en.wikipedia.org/wiki/Foo_(bar) from Ann" in await shown(
        ctx, mod, "/pending"
    )


async def _one_at_a_time(ctx: Context, lines: tuple[str, ...], answer: str, kept: str, note: str) -> None:
    """Each of ``lines`` is refused with ``answer`` and saves nothing; ``kept`` is submitted,
    ``note`` its note as /pending shows it."""
    ann, mod = person("ann"), person("mod", moderator=True)
    for line in lines:
        reply = await say(ctx, ann, line)
        assert reply.error and reply.text == answer, reply.text
    assert (await say(ctx, mod, "/pending")).text == "Nothing is waiting for a decision."
    assert not (await say(ctx, ann, kept)).error
    assert f"“{note}”" in await shown(ctx, mod, "/pending")


async def test_two_links_in_one_submit_are_refused_not_one_kept_as_the_others_note(ctx: Context) -> None:
    """`/submit 2.4 https://example.org/c https://example.org/d` answered 'Your link for 2.4 is
    saved' and kept the second link as the first's note: never reviewed, never listed as work,
    its duplicate never caught. Now /submit says it takes one link at a time, naming both
    commands, and saves nothing; a note with words around a link is still a note."""
    await _one_at_a_time(
        ctx,
        (
            "/submit 2.4 https://example.org/c https://example.org/d",
            "/submit 2.4 https://example.org/c, https://example.org/d.",
            "/submit 2.4 https://example.org/c and https://example.org/d",
        ),
        "/submit takes one link at a time: /submit 2.4 https://example.org/c, then "
        "/submit 2.4 https://example.org/d. Nothing was submitted.",
        "/submit 2.4 https://example.org/c code: https://example.org/d",
        "code: https://example.org/d",
    )


async def test_a_link_for_two_problems_in_one_submit_is_refused_as_claim_refuses_two(ctx: Context) -> None:
    """`/submit 2.4 https://example.org/w 3.1` (or the link first: `/submit https://… 2.4 3.1`)
    saved the link for 2.4 alone, '3.1' its note, as /claim 2.4 3.1 is refused ('one problem at a
    time'). Now /submit says the same, naming both commands, and saves nothing; a note that says
    something about another problem is still a note."""
    await _one_at_a_time(
        ctx,
        (
            "/submit 2.4 https://example.org/w 3.1",
            "/submit https://example.org/w 2.4 3.1",
            "/submit 2.4 https://example.org/w 3.1 and 3.2",
        ),
        "/submit takes one problem at a time: /submit 2.4 https://example.org/w, then "
        "/submit 3.1 https://example.org/w. Nothing was submitted.",
        "/submit 2.4 https://example.org/w follows 3.1",
        "follows 3.1",
    )


async def test_undoing_a_rejection_of_work_approved_since_says_it_was_approved(ctx: Context) -> None:
    """Mod rejected Ann's link; Bob submitted the same work and Mo approved it; Mod's Undo of the
    rejection answered 'The same work was submitted again meanwhile; decide that one instead.',
    and /pending had nothing to decide. Now it says who approved it; one still waiting is named."""
    ann, bob, carol = person("ann"), person("bob"), person("carol")
    mod, mo = person("mod", moderator=True), person("mo", moderator=True)
    await say(ctx, ann, "/submit 2.4 https://example.org/y")
    rejected = await dispatch.run_action(ctx, mod, "cop:reject:1")
    await say(ctx, bob, "/submit 2.4 https://example.org/y/")
    await dispatch.run_action(ctx, mo, "cop:approve:2")
    undo = await dispatch.run_action(ctx, mod, rejected.buttons[0].custom_id)
    assert undo.error and undo.text == (
        "The same work was submitted again meanwhile and approved by Mo: https://example.org/y/. "
        "Nothing changed."
    ), undo.text

    await say(ctx, ann, "/submit 2.5 https://example.org/z")
    rejected = await dispatch.run_action(ctx, mod, "cop:reject:3")
    await say(ctx, carol, "/submit 2.5 https://example.org/z?utm_source=x")
    undo = await dispatch.run_action(ctx, mod, rejected.buttons[0].custom_id)
    assert undo.text == (
        "The same work was submitted again meanwhile; decide that one instead: "
        "2.5 #4: https://example.org/z from Carol."
    ), undo.text
    history = await shown(ctx, mod, "/history 2.4")
    assert "undid" not in history and "Mod rejected https://example.org/y\n" in history, history


@pytest.mark.parametrize(
    "link",
    [
        "http://localhost:8888/notebooks/acronyms.ipynb",
        "http://127.0.0.1:8888/lab/tree/acronyms.ipynb",
        "http://0.0.0.0:8000/report.html",
        "http://192.168.1.20/results",
        "http://10.0.0.5:8501/",
        "http://172.16.4.2/",
        "http://169.254.1.1/",
        "http://my-laptop.local:8888/tree",
        "http://jupyter.internal/notebooks/x.ipynb",
        "http://app.localhost/",
    ],
)
async def test_a_link_that_only_opens_on_the_submitters_own_machine_is_refused(
    ctx: Context, link: str
) -> None:
    """A Jupyter notebook's address as the browser shows it (localhost:8888) or a home network's
    reaches nobody else: /submit says so at once, instead of sending the moderators a link they
    cannot open (and nothing is stored)."""
    reply = await say(ctx, person("ann"), f"/submit 2.4 {link} my notebook")
    assert reply.error and "only opens on your own computer or network" in reply.text, reply.text
    assert "Nothing is waiting" in (await say(ctx, person("mod", moderator=True), "/pending")).text


async def test_a_link_to_a_public_address_by_number_is_taken(ctx: Context) -> None:
    """An address of the open internet written as numbers still reaches everyone."""
    reply = await say(ctx, person("ann"), "/submit 2.4 http://93.184.216.34/post")
    assert not reply.error, reply.text


LW_POST = "https://www.lesswrong.com/posts/6tHNM2s6SWzFHv3Wo/mechanistically-interpreting-time-in-gpt-2-small"


@pytest.mark.parametrize(
    "same",
    [
        "https://www.alignmentforum.org/posts/6tHNM2s6SWzFHv3Wo/mechanistically-interpreting-time-in-gpt-2-small",
        "https://www.lesswrong.com/posts/6tHNM2s6SWzFHv3Wo",
        "https://lesswrong.com/posts/6tHNM2s6SWzFHv3Wo/a-slug-renamed-since/",
        "https://www.greaterwrong.com/posts/6tHNM2s6SWzFHv3Wo/mechanistically-interpreting-time-in-gpt-2-small",
        "https://www.lesswrong.com/s/yivyHaCAmMJ3CqSyj/p/6tHNM2s6SWzFHv3Wo",
        "https://www.alignmentforum.org/posts/6tHNM2s6SWzFHv3Wo/x?utm_source=twitter#intro",
    ],
)
def test_one_forum_post_in_any_of_its_addresses_is_one_work(same: str) -> None:
    """A LessWrong post is the same post on the Alignment Forum and GreaterWrong (one id), with
    or without its title's slug, or seen in a sequence."""
    assert normalise_link(same) == normalise_link(LW_POST)


def test_forum_comments_and_other_posts_stay_different() -> None:
    """A comment on the post, another post, or a post of another forum is other work."""
    comment = LW_POST + "?commentId=abcdefghijklmnopq"
    assert normalise_link(comment) != normalise_link(LW_POST)
    assert normalise_link("https://www.lesswrong.com/posts/6tHNM2s6SWzFHv3Wx") != normalise_link(LW_POST)
    ea = "https://forum.effectivealtruism.org/posts/6tHNM2s6SWzFHv3Wo/mechanistically"
    assert normalise_link(ea) != normalise_link(LW_POST)


async def test_a_forum_post_listed_or_submitted_under_another_address_is_refused(ctx: Context) -> None:
    """3.31's existing work is an Alignment Forum post: the same post on LessWrong is already
    listed. A post submitted from LessWrong is 'already submitted' from the Alignment Forum."""
    ann, bob = person("ann"), person("bob")
    listed = "https://www.lesswrong.com/posts/nwLQt4e7bstCyPEXs/internal-interfaces-are-a-high-priority-interpretability"
    reply = await say(ctx, ann, f"/submit 3.31 {listed}")
    assert reply.error and "already listed under existing work for 3.31" in reply.text, reply.text
    assert not (await say(ctx, ann, f"/submit 2.4 {LW_POST}")).error
    again = await say(ctx, bob, "/submit 2.4 https://www.alignmentforum.org/posts/6tHNM2s6SWzFHv3Wo")
    assert again.error and "already submitted for 2.4" in again.text, again.text


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.org/caf%C3%A9", "https://example.org/caf\u00e9"),
        ("https://example.org/caf%c3%a9", "https://example.org/caf%C3%A9"),
        ("https://example.org/caf%c3%a9/", "https://example.org/caf\u00e9"),
        ("https://example.org/%7Eann/notes", "https://example.org/~ann/notes"),
        ("https://example.org/%7eann/%41%2d1", "https://example.org/~ann/A-1"),
        ("https://example.org/%E6%97%A5%E6%9C%AC?q=%C3%A9", "https://example.org/\u65e5\u672c?q=\u00e9"),
        ("https://example.org/%7Bx%7D", "https://example.org/{x}"),
        ("https://example.org/a%2fb", "https://example.org/a%2Fb"),
        ("https://github.com/Owner/Repo", "https://github.com/owner/repo"),
        ("https://github.com/Owner/Repo", "https://github.com/owner/repo.git"),
        ("https://github.com/Owner/Repo", "http://www.github.com/OWNER/repo/"),
        ("https://github.com/Owner/Repo.git/", "https://github.com/owner/repo"),
        ("https://github.com/Owner", "https://github.com/owner/"),
        (
            "https://github.com/Owner/Repo/blob/main/File.py",
            "https://github.com/owner/repo/blob/main/File.py",
        ),
        ("https://github.com/Owner/Repo/tree/Main#readme", "https://github.com/owner/REPO/tree/Main"),
        ("https://arxiv.org/abs/2312%2E09230", "https://arxiv.org/abs/2312.09230"),
    ],
)
def test_one_work_however_its_path_is_escaped_or_its_github_names_are_cased(a: str, b: str) -> None:
    """/caf\u00e9 is sent as /caf%C3%A9 (hex in either case), ~ and %7E are one character, and
    GitHub's owner and repository names do not depend on case or a .git: each was two works."""
    assert normalise_link(a) == normalise_link(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.org/a%2Fb", "https://example.org/a/b"),  # one segment, or two
        ("https://example.org/a%2Bb", "https://example.org/a+b"),
        ("https://example.org/a%3Bb", "https://example.org/a;b"),
        ("https://example.org/caf%C3%A9", "https://example.org/cafe"),
        ("https://example.org/Caf%C3%A9", "https://example.org/caf%C3%A9"),  # case off GitHub counts
        (
            "https://github.com/owner/repo/blob/main/File.py",
            "https://github.com/owner/repo/blob/main/file.py",
        ),
        ("https://github.com/owner/repo/tree/Main", "https://github.com/owner/repo/tree/main"),
        ("https://github.com/owner/repo", "https://github.com/owner/repo2"),
        ("https://github.com/owner/repo", "https://github.com/other/repo"),
        ("https://gitlab.com/Owner/Repo", "https://gitlab.com/owner/repo"),  # only GitHub's rule
        ("https://github.com:8443/Owner/Repo", "https://github.com:8443/owner/repo"),
    ],
)
def test_escaped_reserved_characters_and_github_file_paths_stay_different(a: str, b: str) -> None:
    """A reserved character escaped means something else (a/b is two segments, a%2Fb one); a
    branch or a file's path on GitHub, and paths elsewhere, keep their case."""
    assert normalise_link(a) != normalise_link(b)


# A path's characters: unreserved, reserved, beyond ASCII, and the ones browsers escape.
PATH_CHARS = "aZ09-._~/+;=:@!$&'*,\u00e9\u65e5\U0001f600\"<>{}`"
ESCAPES_SAME = set('aZ09-._~\u00e9\u65e5\U0001f600"<>{}`')


def _escaped(ch: str, upper: bool) -> str:
    hexes = [f"{byte:02X}" if upper else f"{byte:02x}" for byte in ch.encode("utf-8")]
    return "".join("%" + h for h in hexes)


@settings(max_examples=300, deadline=None)
@given(
    chars=st.lists(st.sampled_from(PATH_CHARS), min_size=1, max_size=12),
    escape=st.lists(st.booleans(), min_size=12, max_size=12),
    upper=st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_escaping_a_path_character_changes_its_key_only_when_it_is_reserved(
    chars: list[str], escape: list[bool], upper: list[bool]
) -> None:
    """Any character of a path escaped (hex in either case) or not: an unreserved one, one
    beyond ASCII or one browsers escape leaves the key as it is; a reserved one changes it."""
    plain = "https://example.org/p/" + "".join(chars) + "x"
    mixed = [_escaped(ch, up) if esc else ch for ch, esc, up in zip(chars, escape, upper, strict=False)]
    changed = any(esc and ch not in ESCAPES_SAME for ch, esc in zip(chars, escape, strict=False))
    same = normalise_link(plain) == normalise_link("https://example.org/p/" + "".join(mixed) + "x")
    assert same != changed


NAME = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=8
)


@settings(max_examples=300, deadline=None)
@given(
    owner=NAME,
    repo=NAME.map(lambda name: name + ".py"),
    dot_git=st.booleans(),
    slash=st.booleans(),
    host=st.sampled_from(["https://github.com", "http://www.github.com", "https://GitHub.com"]),
    flip=st.randoms(use_true_random=False),
)
def test_a_github_repository_is_one_work_in_any_case_with_or_without_git(
    owner: str, repo: str, dot_git: bool, slash: bool, host: str, flip: random.Random
) -> None:
    """The owner's and the repository's names in any case, .git or not, a trailing slash or
    not: one repository; a file in it is one file only in its own case."""

    def recase(name: str) -> str:
        return "".join(ch.upper() if flip.random() < 0.5 else ch.lower() for ch in name)

    canonical = normalise_link(f"https://github.com/{owner.lower()}/{repo.lower()}")
    typed = f"{host}/{recase(owner)}/{recase(repo)}" + (".git" if dot_git else "") + ("/" if slash else "")
    assert normalise_link(typed) == canonical
    path = f"blob/Main/{repo}"
    in_repo = normalise_link(f"https://github.com/{recase(owner)}/{recase(repo)}/{path}")
    assert in_repo == normalise_link(f"https://github.com/{owner.lower()}/{repo.lower()}/{path}")
    if path.lower() != path:
        assert in_repo != normalise_link(f"https://github.com/{owner}/{repo}/{path.lower()}")


async def test_the_same_work_escaped_or_cased_otherwise_is_already_submitted(ctx: Context) -> None:
    """Ann submits a page with an accented path and a GitHub repository; Bob the same two, the
    path escaped in lower-case hex and the repository in other case with .git: each went to the
    moderators a second time. Now Bob is told they are already submitted, waiting or approved;
    each is listed once, as Ann typed it."""
    ann, bob, mod = person("ann"), person("bob"), person("mod", moderator=True)
    cafe = "https://example.org/caf\u00e9/~menu"
    repo = "https://github.com/Owner/Repo"
    assert not (await say(ctx, ann, f"/submit 2.4 {cafe}")).error
    assert not (await say(ctx, ann, f"/submit 2.4 {repo}")).error
    again = await say(ctx, bob, "/submit 2.4 https://example.org/caf%c3%a9/%7Emenu/")
    assert (
        again.error and again.text == "That work is already submitted for 2.4 (waiting for the moderators)."
    )
    await dispatch.run_action(ctx, mod, "cop:approve:2")
    approved = await say(ctx, bob, "/submit 2.4 https://github.com/owner/REPO.git")
    assert approved.error and approved.text == "That work is already submitted for 2.4 (approved)."
    pending = await shown(ctx, mod, "/pending")
    assert f"2.4 #1: {cafe} from Ann" in pending and "#3" not in pending, pending
    card = await shown(ctx, bob, "/problem 2.4")
    assert repo in card and "REPO" not in card, card
    # A file in it is its own work, in its own case.
    assert not (await say(ctx, bob, f"/submit 2.4 {repo}/blob/main/File.py")).error
    assert not (await say(ctx, bob, f"/submit 2.4 {repo}/blob/main/file.py")).error


CAFE_NFC = "caf\u00e9"
CAFE_NFD = "cafe\u0301"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (f"https://example.org/{CAFE_NFC}", f"https://example.org/{CAFE_NFD}"),
        ("https://example.org/caf%C3%A9", "https://example.org/cafe%CC%81"),
        (f"https://example.org/{CAFE_NFC}", "https://example.org/cafe%cc%81/"),
        ("https://example.org/Cafe%CC%81?q=1", f"https://example.org/Caf{chr(0xE9)}?q=1"),
        # Hangul typed as its jamo; \u212b (the angstrom sign) is \u00c5 (A with ring).
        ("https://example.org/\u1112\u1161\u11ab", "https://example.org/\ud55c"),
        ("https://example.org/\u212b", "https://example.org/%C3%85"),
        # A byte that is no UTF-8 stays as it is, and the letters around it are still one letter.
        ("https://example.org/cafe%CC%81%FF", "https://example.org/caf%C3%A9%ff"),
        (
            "https://github.com/Owner/Repo/blob/main/cafe%CC%81.md",
            f"https://github.com/owner/repo/blob/main/{CAFE_NFC}.md",
        ),
        ("https://example.org/a/./b", "https://example.org/a/b"),
        ("https://example.org/a/b/../c", "https://example.org/a/c"),
        ("https://example.org/a/%2E/b", "https://example.org/a/b"),
        ("https://example.org/a/b/%2e%2E/c", "https://example.org/a/c"),
        ("https://example.org/a/b/.%2e/c?x=1", "https://example.org/a/c?x=1"),
        ("https://example.org/a/b/..", "https://example.org/a"),
        ("https://example.org/a/.", "https://example.org/a/"),
        ("https://example.org/../../a", "https://example.org/a"),
        ("https://example.org/..", "https://example.org/"),
        ("https://arxiv.org/abs/../pdf/2312.09230", "https://arxiv.org/abs/2312.09230"),
        ("https://github.com/Owner/./Repo", "https://github.com/owner/repo"),
        ("https://m\u00fcnchen.de/x", "https://xn--mnchen-3ya.de/x"),
        ("https://M\u00dcNCHEN.de/x", "https://xn--mnchen-3ya.de/x"),
    ],
)
def test_one_work_however_its_letters_are_composed_or_its_dot_segments_written(a: str, b: str) -> None:
    """/caf\u00e9 with its \u00e9 as one letter and as e and an accent (as macOS may paste it),
    escaped or not, and a path with ./ and ../ segments (which browsers resolve before they send
    it): each was two works. A host in its own letters or as xn-- was one already."""
    assert normalise_link(a) == normalise_link(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Composing would make a reserved or another ASCII character out of letters beyond ASCII.
        ("https://example.org/a=%CC%B8", "https://example.org/a%E2%89%A0"),  # = and a stroke, \u2260
        ("https://example.org/a%CD%BE", "https://example.org/a;"),  # the Greek question mark
        ("https://example.org/%E2%84%AA", "https://example.org/K"),  # the Kelvin sign
        ("https://example.org/cafe%FF%CC%81", "https://example.org/caf%C3%A9%FF"),  # a byte between
        ("https://example.org/caf%C3%A9", "https://example.org/cafe"),
        ("https://example.org/a%2F..%2Fb", "https://example.org/b"),  # one segment, not three
        ("https://example.org/a/..b", "https://example.org/b"),
        ("https://example.org/a/.../b", "https://example.org/a/b"),
        ("https://example.org/a/.b", "https://example.org/a/b"),
        ("https://example.org/a?p=./b", "https://example.org/a?p=b"),  # a query is no path
        ("https://example.org/a/b/../c", "https://example.org/a/b/c"),
    ],
)
def test_letters_that_are_not_one_and_segments_that_are_no_dots_stay_different(a: str, b: str) -> None:
    """Only letters beyond ASCII are composed, never into an ASCII character, nor across a byte
    that is no UTF-8; only whole . and .. segments of the path are resolved."""
    assert normalise_link(a) != normalise_link(b)


# Letters and accents: composed (NFC), decomposed (NFD) or with no composed form at all.
COMPOSABLE = [
    "a",
    "e",
    "n",
    "o",
    "A",
    "\u00e9",
    "\u00f1",
    "\u00c5",
    "\u1e69",
    "\u01d6",
    "\ud55c",
    "\u0301",
    "\u0323",
    "\u0307",
    "~",
    "-",
]


@settings(max_examples=300, deadline=None)
@given(
    letters=st.lists(st.sampled_from(COMPOSABLE), min_size=1, max_size=10),
    escape=st.lists(st.booleans(), min_size=40, max_size=40),
    upper=st.booleans(),
)
def test_a_path_or_a_query_is_one_work_composed_or_decomposed_escaped_or_not(
    letters: list[str], escape: list[bool], upper: bool
) -> None:
    """The same words written with their letters composed or decomposed, each character escaped
    or not, in a path or as a query's name or value: one key."""
    import unicodedata

    text = "".join(letters)
    composed, decomposed = unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text)
    mixed = "".join(
        _escaped(ch, upper) if esc and ch not in "~-" else ch
        for ch, esc in zip(decomposed, escape + [False] * len(decomposed), strict=False)
    )
    assert normalise_link(f"https://example.org/p/{composed}/x") == normalise_link(
        f"https://example.org/p/{mixed}/x"
    )
    assert normalise_link(f"https://example.org/p?a=1&q={composed}&{composed}=1") == normalise_link(
        f"https://example.org/p?a=1&q={mixed}&{mixed}=1"
    )


SEGMENT = st.sampled_from(["a", "B", ".", "..", "%2E", "%2e%2E", ".%2E", "...", ".a", "%C3%A9"])


@settings(max_examples=300, deadline=None)
@given(segments=st.lists(SEGMENT, min_size=1, max_size=8), slash=st.booleans())
def test_dot_segments_key_as_browsers_resolve_them(segments: list[str], slash: bool) -> None:
    """A path with . and .. segments (escaped or not) keys as the path a browser sends for it."""
    from urllib.parse import urljoin

    typed = "/" + "/".join(segments) + ("/" if slash else "")
    plain = typed.replace("%2E", ".").replace("%2e", ".")
    resolved = urljoin("https://example.org/", plain)  # RFC 3986's remove_dot_segments
    assert normalise_link("https://example.org" + typed) == normalise_link(resolved)


async def test_the_same_work_composed_otherwise_or_with_dot_segments_is_already_submitted(
    ctx: Context,
) -> None:
    """Ann submits a page whose path has an \u00e9 and a file of a repository; Bob the page with
    e and an accent (as macOS pastes it), escaped, and the file by a path with ./ and ../ in it:
    each went to the moderators a second time. Now Bob is told they are already submitted; each
    is listed once, as Ann typed it."""
    ann, bob, mod = person("ann"), person("bob"), person("mod", moderator=True)
    cafe = f"https://example.org/{CAFE_NFC}/menu"
    notes = "https://example.org/notes/draft.md"
    assert not (await say(ctx, ann, f"/submit 2.4 {cafe}")).error
    assert not (await say(ctx, ann, f"/submit 2.4 {notes}")).error
    again = await say(ctx, bob, f"/submit 2.4 https://example.org/{CAFE_NFD}/menu")
    assert (
        again.error and again.text == "That work is already submitted for 2.4 (waiting for the moderators)."
    ), again.text
    escaped = await say(ctx, bob, "/submit 2.4 https://example.org/cafe%CC%81/menu/")
    assert escaped.error and "already submitted for 2.4" in escaped.text, escaped.text
    await dispatch.run_action(ctx, mod, "cop:approve:2")
    dotted = await say(ctx, bob, "/submit 2.4 https://example.org/notes/./old/../draft.md")
    assert dotted.error and dotted.text == "That work is already submitted for 2.4 (approved)."
    pending = await shown(ctx, mod, "/pending")
    assert f"2.4 #1: {cafe} from Ann" in pending and "#3" not in pending, pending
    # Another file, and a path whose .. is no segment, are other work.
    assert not (await say(ctx, bob, "/submit 2.4 https://example.org/notes/draft..md")).error


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (f"https://example.org/s?q={CAFE_NFC}", "https://example.org/s?q=cafe%CC%81"),
        (f"https://example.org/s?q={CAFE_NFD}", "https://example.org/s?q=caf%C3%A9"),
        ("https://example.org/s?q=caf%c3%a9&p=2", "https://example.org/s?p=2&q=cafe%cc%81"),
        (f"https://example.org/s?{CAFE_NFD}=1", "https://example.org/s?caf%C3%A9=1"),
        ("https://example.org/s?q=%E1%84%92%E1%85%A1%E1%86%AB", "https://example.org/s?q=\ud55c"),
        (f"https://example.org/s?q=Caf{CAFE_NFD[3:]}+bar", "https://example.org/s?q=Caf%C3%A9%20bar"),
        (
            f"https://www.lesswrong.com/posts/6tHNM2s6SWzFHv3Wo?q={CAFE_NFD}",
            f"https://lesswrong.com/posts/6tHNM2s6SWzFHv3Wo?q={CAFE_NFC}",
        ),
        (
            "https://raw.githubusercontent.com/Owner/Repo/main/File.py",
            "https://raw.githubusercontent.com/owner/REPO/main/File.py",
        ),
        ("https://gist.github.com/Ann/0A1b2C3d4E5f", "https://gist.github.com/ann/0a1b2c3d4e5f/"),
        (
            "https://gist.github.com/Ann/0A1b2C3d4E5f/raw/F.txt",
            "https://gist.github.com/ann/0a1b2c3d4e5f/raw/F.txt",
        ),
        ("https://gist.github.com/Ann", "https://gist.github.com/ann"),
    ],
)
def test_one_work_however_its_query_letters_are_composed_or_its_raw_file_or_gist_cased(
    a: str, b: str
) -> None:
    """A query's value or name with its \u00e9 as one letter or as e and an accent, escaped or
    not, as a path's letters already were; a file on raw.githubusercontent.com whatever the case
    of its owner's and repository's names, and a gist whatever the case of its user's name and
    its hex id, as a repository on github.com already was: each was two works."""
    assert normalise_link(a) == normalise_link(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.org/s?q=a%26b", "https://example.org/s?q=a&b"),  # one value, or two
        ("https://example.org/s?q=a%3Db", "https://example.org/s?q=a&b"),
        ("https://example.org/s?q=Caf%C3%A9", "https://example.org/s?q=caf%C3%A9"),  # case counts
        ("https://example.org/s?Q=caf%C3%A9", "https://example.org/s?q=caf%C3%A9"),
        ("https://example.org/s?q=caf%C3%A9", "https://example.org/s?q=cafe"),
        ("https://example.org/s?q=a%3D%CC%B8", "https://example.org/s?q=a%E2%89%A0"),  # = and a stroke
        ("https://example.org/s?q=%E2%84%AA", "https://example.org/s?q=K"),  # the Kelvin sign
        (
            "https://raw.githubusercontent.com/owner/repo/main/File.py",
            "https://raw.githubusercontent.com/owner/repo/main/file.py",
        ),
        (
            "https://raw.githubusercontent.com/owner/repo/Main/a.py",
            "https://raw.githubusercontent.com/owner/repo/main/a.py",
        ),
        ("https://gist.github.com/ann/0a1b2c/raw/F.txt", "https://gist.github.com/ann/0a1b2c/raw/f.txt"),
        ("https://gist.github.com/ann/0a1b2c", "https://gist.github.com/ann/0a1b2d"),
        (
            "https://gist.githubusercontent.com/Ann/0a1b2c/raw",
            "https://gist.githubusercontent.com/ann/0a1b2c/raw",
        ),
        (
            "https://raw.githubusercontent.com:8443/Owner/Repo/main/a",
            "https://raw.githubusercontent.com:8443/owner/repo/main/a",
        ),
    ],
)
def test_query_characters_that_are_not_one_and_raw_file_paths_stay_different(a: str, b: str) -> None:
    """An escaped & or = is part of a value, not a new parameter; a query's case counts; only letters
    beyond ASCII are composed, never into an ASCII character or across = ; a branch or a file's
    path on raw.githubusercontent.com or in a gist keeps its case; other hosts get no GitHub rule."""
    assert normalise_link(a) != normalise_link(b)


async def test_a_query_or_a_raw_github_file_written_otherwise_is_already_submitted(ctx: Context) -> None:
    """Ann submits a search with an \u00e9 in its query, a file on raw.githubusercontent.com and a
    gist; Bob the same three, the query's \u00e9 as e and an accent (as macOS pastes it), the file's
    owner and repository and the gist's user and id in other case: each went to the moderators a
    second time. Now Bob is told they are already submitted; another file in its own case is new."""
    ann, bob = person("ann"), person("bob")
    search = f"https://example.org/search?q={CAFE_NFC}&page=2"
    raw = "https://raw.githubusercontent.com/Owner/Repo/main/File.py"
    gist = "https://gist.github.com/Ann/0a1b2c3d4e5f"
    for link in (search, raw, gist):
        assert not (await say(ctx, ann, f"/submit 2.4 {link}")).error
    for link in (
        "https://example.org/search?q=cafe%CC%81&page=2",
        "https://raw.githubusercontent.com/owner/repo/main/File.py",
        "https://gist.github.com/ann/0A1B2C3D4E5F/",
    ):
        again = await say(ctx, bob, f"/submit 2.4 {link}")
        assert (
            again.error
            and again.text == "That work is already submitted for 2.4 (waiting for the moderators)."
        ), (link, again.text)
    assert not (
        await say(ctx, bob, "/submit 2.4 https://raw.githubusercontent.com/owner/repo/main/file.py")
    ).error


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://x.org/?q=%FF", "https://x.org/?q=%FE"),  # bytes that are no UTF-8
        ("https://x.org/?q=%FF", "https://x.org/?q=%EF%BF%BD"),  # nor the replacement character
        ("https://x.org/?q=%FF", "https://x.org/?q=\ufffd"),
        ("https://x.org/?%FF=1", "https://x.org/?%FE=1"),  # in a name too
        ("https://x.org/?q=caf%C3%A9%C3", "https://x.org/?q=caf%C3%A9%C4"),  # a letter cut short
        (
            "https://www.lesswrong.com/posts/6tHNM2s6SWzFHv3Wo?q=%FF",
            "https://lesswrong.com/posts/6tHNM2s6SWzFHv3Wo?q=%FE",
        ),
    ],
)
def test_query_bytes_that_are_no_utf8_stay_different(a: str, b: str) -> None:
    """Two queries with different bytes that are no UTF-8 (``?q=%FF``, ``?q=%FE``: another
    search, another page of a legacy site) were one key, each byte read as the replacement
    character: the second work was refused as the first. Each byte stays itself."""
    assert normalise_link(a) != normalise_link(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://x.org/?q=%ff", "https://x.org/?q=%FF"),
        ("https://x.org/?q=caf%C3%A9%FF&p=1", "https://x.org/?p=1&q=caf\u00e9%ff"),
        ("https://x.org/?q=cafe%CC%81%FF", "https://x.org/?q=caf%C3%A9%FF"),  # still composed
        (
            "https://raw.githubusercontent.com/Owner/Repo/refs/heads/main/file.py",
            "https://raw.githubusercontent.com/owner/repo/main/file.py",
        ),
        (
            "https://raw.githubusercontent.com/owner/repo/refs/heads/feature/x/a.py",
            "https://raw.githubusercontent.com/owner/repo/feature/x/a.py",
        ),
    ],
)
def test_one_work_whatever_its_no_utf8_escapes_or_raw_branch_spelling(a: str, b: str) -> None:
    """A byte that is no UTF-8 is one byte however its escape is cased; a file on
    raw.githubusercontent.com under ``refs/heads/<branch>`` (as GitHub's Raw button writes it) is
    the same file as under ``<branch>``, which GitHub serves alike."""
    assert normalise_link(a) == normalise_link(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "https://raw.githubusercontent.com/owner/repo/refs/tags/v1/a.py",
            "https://raw.githubusercontent.com/owner/repo/refs/heads/v1/a.py",
        ),
        (
            "https://raw.githubusercontent.com/owner/repo/Refs/Heads/main/a.py",
            "https://raw.githubusercontent.com/owner/repo/main/a.py",
        ),
        ("https://github.com/owner/repo/refs/heads/main", "https://github.com/owner/repo/main"),
        (
            "https://raw.githubusercontent.com/owner/repo/x/refs/heads/main/a.py",
            "https://raw.githubusercontent.com/owner/repo/x/main/a.py",
        ),
    ],
)
def test_other_refs_and_refs_heads_elsewhere_stay_different(a: str, b: str) -> None:
    """Only ``refs/heads/`` right after a raw file's repository names its branch: a tag, other
    case, another place in the path or another host keep their key."""
    assert normalise_link(a) != normalise_link(b)


async def test_no_utf8_queries_are_two_works_and_a_raw_file_under_refs_heads_is_one(ctx: Context) -> None:
    """Ann submits ``?q=%FF`` and a raw file as GitHub's Raw button links it (``refs/heads/main``);
    Bob submits ``?q=%FE``, which was refused as Ann's work, and the same file without
    ``refs/heads/``, which went to the moderators a second time. Now Bob's query is taken and his
    file is already submitted."""
    ann, bob = person("ann"), person("bob")
    raw = "https://raw.githubusercontent.com/Owner/Repo/refs/heads/main/file.py"
    for link in ("https://x.org/?q=%FF", raw):
        assert not (await say(ctx, ann, f"/submit 2.4 {link}")).error
    taken = await say(ctx, bob, "/submit 2.4 https://x.org/?q=%FE")
    assert not taken.error, taken.text
    again = await say(ctx, bob, "/submit 2.4 https://raw.githubusercontent.com/owner/repo/main/file.py")
    assert again.error and again.text == (
        "That work is already submitted for 2.4 (waiting for the moderators)."
    ), again.text
