"""Cutting text short without leaving half a link: Discord, Slack and terminals make a link of a
bare URL, so a URL cut in two still opens a page, just not the one written."""

from __future__ import annotations

import re

from commands.links import without_tail

ELLIPSIS = "…"
# Where a platform may see a link in text: from http(s):// to a space or a "<" (Discord's reach,
# the longest of the platforms': Slack's also stops at ``>``, ``"`` and ``|``). No word edge is
# asked for before it: a terminal links ``xhttps://…`` too.
AUTOLINK = re.compile(r"https?://[^\s<]+", re.IGNORECASE)
# What every platform leaves out of the end of a link as ending the sentence around it (the
# characters Discord's and Slack's renderers both drop, see links.without_tail): a link kept
# without them is the link each platform made of the whole text.
URL_TAIL = ".,;:'*_~)]"


def clip(text: str, limit: int, *, links: bool = True) -> str:
    """``text`` cut to at most ``limit`` characters, marking the cut with an ellipsis. Never half
    a link: a platform would still make one of it, to another page; nor a link with the ellipsis
    run into it. A link the cut would go through goes whole (an ``<`` just before it with it,
    and the space before that); one that ends right before the cut is kept, a space between it
    and the ellipsis. Spaces before the ellipsis otherwise go.

    ``links=False``: text no platform makes links of (a masked link's label on Discord, whose
    whole label leads to the link's own target), cut like any text: the part kept of a URL
    there still tells a reader which link it is."""
    if len(text) <= limit:
        return text
    cut = max(limit - 1, 0)
    if not links:
        return text[:cut] + ELLIPSIS
    end = cut
    for found in AUTOLINK.finditer(text, 0, cut):
        if found.end() < cut:
            continue  # a space or a "<" ends it before the cut
        whole = AUTOLINK.match(text, found.start())
        assert whole is not None
        if found.start() + len(without_tail(whole.group(), URL_TAIL)) < cut:
            return text[: cut - 1] + " " + ELLIPSIS
        end = found.start() - (text[found.start() - 1 : found.start()] == "<")
        break
    kept = text[:end].rstrip()
    # A link ending where the text now ends (before the spaces cut off): a space keeps the
    # ellipsis out of it.
    return kept + (" " + ELLIPSIS if _ends_in_link(kept) else ELLIPSIS)


def _ends_in_link(text: str) -> bool:
    """Whether ``text``'s last word ends with a link (is one, or holds one to its end)."""
    start = len(text)
    while start and not text[start - 1].isspace():
        start -= 1
    last = AUTOLINK.search(text, start)
    return last is not None and last.end() == len(text)
