"""Approved links to existing work, planted as a moderator's decisions make them, and the longest,
oddest ones /submit takes."""

from __future__ import annotations

from urllib.parse import quote

from commands.links import MAX_LINK, URL_KEPT
from storage import submissions
from storage.claims import Person
from storage.store import Store
from tests.support.clock import FakeClock

# A note as long as /submit takes, in every script and with every character a platform reads as
# markup or a ping: it must show inert, cut where it must be, and never push a page past a limit.
ODD = (
    "**bold** _it_ ~x~ `code` > quote @everyone @here <@&1234567890> <!channel> [x](javascript:alert(1)) "
    "\u202eRTL override e\u0301 👩\u200d👩\u200d👧 مرحبا שלום 名前 ｆｕｌｌ "
)
NOTE_MAX = 500


def odd_link(i: int) -> tuple[str, str]:
    """Link ``i`` of a problem's longest: 900 characters as sent (letters beyond A-Z as their
    %XX codes), and a 500-character note of markup, mentions, bidi controls and emoji."""
    head = f"https://example.org/paper-{i}/é名🙂?q="
    url = head + "q" * (MAX_LINK - len(quote(head, safe=URL_KEPT)))
    assert len(quote(url, safe=URL_KEPT)) == MAX_LINK
    note = f"note {i}: " + ODD * 5
    return url, note[:NOTE_MAX]


async def approve(
    store: Store, clock: FakeClock, number: str, links: list[tuple[str, str]], platform: str = "discord"
) -> None:
    """Submit ``links`` (link, note) for ``number`` and approve each, a minute apart, oldest first."""
    community = "T0FAKE" if platform == "slack" else "guild1"
    ann, mod = Person(platform, community, "ann", "Ann"), Person(platform, community, "mod", "Mod")
    for i, (url, note) in enumerate(links):
        link = await submissions.submit(store, number, url, f"key-{number}-{i}", note, ann, clock(), 999)
        await submissions.decide(store, link.id, mod, True, "", clock())
        clock.advance(minutes=1)
