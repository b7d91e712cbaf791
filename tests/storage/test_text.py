"""The command core's cut of long text: never half a link, nor a link run into the ellipsis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.text import BIDI_CONTROLS, clip, without_bidi


@pytest.mark.parametrize(
    ("text", "limit", "shown"),
    [
        ("short", 10, "short"),
        ("plain words go on and on", 12, "plain words…"),  # no space left before the ellipsis
        # A link across the cut goes whole, with an "<" opening it.
        ("see https://example.org/long/path now", 20, "see…"),
        ("see <https://example.org/long/path> now", 20, "see…"),
        ("see https://example.org/long/path now", 13, "see…"),  # cut right after its https://
        ("see http://example.org/long/path now", 12, "see…"),
        # Ending just before the cut (or its sentence's full stop at it): a space keeps it whole.
        ("see https://example.org/a. more", 27, "see https://example.org/a …"),
        ("see https://example.org/a more", 27, "see https://example.org/a …"),
        ("see https://example.org/a more", 26, "see…"),  # no room for the space
        # The link before the one dropped, or before the spaces cut off, is not run into either.
        ("https://a.org/x https://b.org/yyyyyyyyyyyy", 30, "https://a.org/x …"),
        ("https://a.org/x     more words", 19, "https://a.org/x …"),
        # Only its scheme before the cut: "https://…" is a link too (to nowhere), so it goes.
        ("see https://example.org/long", 13, "see…"),
        ("see http://example.org/long", 12, "see…"),
        ("see https://example.org/long", 12, "see https:/…"),  # part of a scheme is no link
    ],
)
def test_a_cut_keeps_every_link_whole_or_leaves_it_out(text: str, limit: int, shown: str) -> None:
    assert clip(text, limit) == shown
    assert len(clip(text, limit)) <= limit


def test_a_label_is_cut_as_text() -> None:
    """links=False: a masked link's label, where no platform makes a link of the URL's text."""
    assert clip("https://example.org/long/path", 12, links=False) == "https://exa…"


def test_a_link_that_would_leave_nothing_shows_as_text() -> None:
    """A cut that would leave no word before the ellipsis shows the link's text without what
    makes it one (https://, www.), cut like words; a second link in it still goes whole."""
    url = "https://www.example.org/lead/" + "a" * 100
    assert clip(f"{url} is the write-up", 30) == "example.org/lead/aaaaaaaaaaaa…"
    assert clip(f"({url})", 20) == "(example.org/lead/a…"
    archived = "https://web.archive.org/web/2020/https://example.org/" + "b" * 40
    assert clip(archived, 50) == "web.archive.org/web/2020/…"
    assert clip(f"see {url}", 30) == "see…"  # a word is left
    assert clip(f"<{url}>", 30) == "…"  # <…> is the platform's markup: not shown as text
    assert clip(url, 30, readable=False) == "…"


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("ab é名\u05d0\u0627" + BIDI_CONTROLS), max_size=30))
def test_without_bidi_drops_every_bidi_control_and_nothing_else(text: str) -> None:
    assert without_bidi(text) == "".join(ch for ch in text if ch not in BIDI_CONTROLS)
