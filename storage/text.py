"""Text as people type it, problem numbers in the one form the catalogue is keyed by, and
cutting text short without leaving half a link.

The command parser and the catalogue import both read numbers through here, so a number a sheet
gives is stored exactly as a command that names it looks it up; and both cut text here, so a
sheet cell stored cut short (a claim's name) never keeps half of a link it holds.
"""

from __future__ import annotations

import re
import unicodedata

# Section and position, split by a dot, a decimal comma (``2,4``) or an underscore (``2_4``, which
# writes nothing else; a dash may write a range, 2 to 4: see commands.parser.DASHED_NUMBER_RE);
# one mark that ends a sentence or a list item may follow (``/claim 2.4.``, ``2.4)``, ``2.4:``), or
# a question's or exclamation's marks (``/problem 2.4?``, ``2.4?!``). The position's digits are
# read as a whole number (``2.04`` is 2.4), so ``2.40`` stays a problem of its own.
NUMBER_RE = re.compile(r"^#?\s*([0-9]{1,3})[.,_]([0-9]{1,3})(?:[.,):]|[?!]+)?$")
# A number written plainly (``2.4``, ``#2.4``): no decimal comma, nothing after it. In a line,
# ``2.4.`` and ``2,4`` may be a sentence's (``see 2.4. 3.11``), where ``3.11`` is the number.
PLAIN_NUMBER_RE = re.compile(r"^#?\s*[0-9]{1,3}\.[0-9]{1,3}$")


def normalise(text: str) -> str:
    """NFKC-fold, drop invisible format characters (zero-width spaces, bidi marks) and trim."""
    if text.isascii():  # NFKC leaves ASCII as it is, and no ASCII character is a format character
        return text.strip()
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf").strip()


# Format characters that are part of how text is written, kept by :func:`visible`: the
# zero-width non-joiner and joiner (Persian and Indic words; emoji sequences such as 👩‍💻, 🏳️‍🌈),
# the soft hyphen, and the tag characters of subdivision flags (England's).
_JOINERS = frozenset("\u200c\u200d\u00ad") | frozenset(map(chr, range(0xE0020, 0xE0080)))


def _kept(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] != "C" or ch in "\n\t" or (category == "Cf" and ch in _JOINERS)


def shows_nothing(text: str, also: str = "") -> bool:
    """Whether ``text`` (as :func:`visible` keeps it) draws nothing: only whitespace and the
    joiners it keeps (a zero-width joiner alone is an empty note, not one written), and the
    characters of ``also``."""
    return all(ch.isspace() or ch in _JOINERS or ch in also for ch in text)


def visible(raw: str) -> str:
    """Text without control or invisible format characters (zero-width spaces, bidi overrides),
    keeping newlines and tabs, and the joiners written text and emoji need; trimmed."""
    if raw.isascii() and raw.isprintable():
        return raw.strip()
    return "".join(ch for ch in raw if _kept(ch)).strip()


# Bidirectional controls: the embeddings and overrides (LRE, RLE, PDF, LRO, RLO), the isolates
# (LRI, RLI, FSI, PDI) and the marks (LRM, RLM, ALM). One left open in a cell or a name (an RLO
# with no PDF) turns around everything after it on the line, on every platform: a link, a name,
# a date then read as something else. Right-to-left letters need none of them (Arabic and Hebrew
# letters carry their own direction), so text keeps every letter and loses only these.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def without_bidi(text: str) -> str:
    """``text`` without bidirectional controls (:data:`BIDI_CONTROLS`), every other character
    as it is: Arabic and Hebrew read as typed, and nothing it holds can reorder what follows.

    Most text holds none: it is looked through once for one (a problem's description with a
    curly quote took 11 µs through ``str.translate``, which rebuilds every string it is given)."""
    if text.isascii() or _BIDI.search(text) is None:
        return text
    return _BIDI.sub("", text)


def display_name(name: str, fallback: str) -> str:
    """A person's name as copbot shows it: :func:`visible`, on one line with single spaces, so
    a bidi override cannot turn the rest of a line around; ``fallback`` (their id) when nothing
    visible is left (a name of only zero-width spaces or joiners)."""
    if name.isascii() and name.isprintable() and name.strip() == name and "  " not in name:
        return name or fallback  # the usual name: nothing to clean
    cleaned = " ".join(visible(name).split())
    return cleaned if any(ch not in _JOINERS for ch in cleaned) else fallback


# The Arabic decimal separator, which a phone set to Arabic types between ``٢`` and ``٤``.
ARABIC_DECIMAL_SEPARATOR = "\u066b"


def ascii_digits(text: str) -> str:
    """``text`` with every script's decimal digits as ASCII ones (``٢.٤``, ``२.४`` → ``2.4``),
    and the Arabic decimal separator as a point: the number a member typed on their own keyboard."""
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() else "." if ch == ARABIC_DECIMAL_SEPARATOR else ch
        for ch in text
    )


def canonical_number(raw: str) -> str | None:
    """``2.4``, ``#2.4``, ``02.04``, ``２.４``, ``٢.٤``, ``2,4`` or ``2.4.`` → ``2.4``; None when it
    is no problem number. ``2.40`` is ``2.40``, another problem than ``2.4``."""
    match = NUMBER_RE.match(ascii_digits(normalise(raw)))
    return f"{int(match.group(1))}.{int(match.group(2))}" if match else None


def plain_number(raw: str) -> bool:
    """Whether ``raw`` is a problem number written plainly (see PLAIN_NUMBER_RE)."""
    return PLAIN_NUMBER_RE.match(ascii_digits(normalise(raw))) is not None


# Cutting text short without leaving half a link: Discord, Slack and terminals make a link of a
# bare URL, so a URL cut in two still opens a page, just not the one written.

ELLIPSIS = "…"
# Where a platform may see a link in text: from http(s):// to a space or a "<" (Discord's reach,
# the longest of the platforms': Slack's also stops at ``>``, ``"`` and ``|``). No word edge is
# asked for before it: a terminal links ``xhttps://…`` too.
AUTOLINK = re.compile(r"https?://[^\s<]+", re.IGNORECASE)
# What every platform leaves out of the end of a link as ending the sentence around it (the
# characters Discord's and Slack's renderers both drop, see without_tail): a link kept
# without them is the link each platform made of the whole text.
URL_TAIL = ".,;:'*_~)]"
# What makes a link's text one: left out, it is text every platform shows as it is.
_SCHEME = re.compile(r"https?://(?:www\.)?", re.IGNORECASE)


def clip(text: str, limit: int, *, links: bool = True, readable: bool = True) -> str:
    """``text`` cut to at most ``limit`` characters, marking the cut with an ellipsis. Never half
    a link: a platform would still make one of it, to another page; nor a link with the ellipsis
    run into it. A link the cut would go through goes whole (an ``<`` just before it with it,
    and the space before that); one that ends right before the cut is kept, a space between it
    and the ellipsis. Spaces before the ellipsis otherwise go.

    Where that would leave no word before the ellipsis (a title that opens with a long link),
    the link's text is shown without its ``https://`` (and ``www.``), which no platform makes a
    link of, cut like words. ``readable=False``: not so (``text`` is a platform's markup, where
    a URL's text that is no longer a link would have to be escaped).

    ``links=False``: text no platform makes links of (a masked link's label on Discord, whose
    whole label leads to the link's own target), cut like any text: the part kept of a URL
    there still tells a reader which link it is."""
    if len(text) <= limit:
        return text
    cut = max(limit - 1, 0)
    if not links:
        return text[:cut] + ELLIPSIS
    end = cut
    # Links are found in the whole text: one whose scheme alone comes before the cut
    # (``https://`` and the rest after it) is a link too, ``https://…``; part of a scheme
    # (``https:/…``) is none.
    for found in AUTOLINK.finditer(text):
        if text.find("://", found.start(), cut) < 0:
            break  # it, and every one after it, starts too near the cut or beyond it
        if found.end() < cut:
            continue  # a space or a "<" ends it before the cut
        if found.start() + len(without_tail(found.group(), URL_TAIL)) < cut:
            return text[: cut - 1] + " " + ELLIPSIS
        end = found.start() - (text[found.start() - 1 : found.start()] == "<")
        if readable and end == found.start() and limit - end > 1 and not _has_word(text[:end]):
            rest = _SCHEME.sub("", text[end:], count=1)  # a link no longer
            return text[:end] + clip(rest, limit - end, readable=readable)
        break
    kept = text[:end].rstrip()
    # A link ending where the text now ends (before the spaces cut off): a space keeps the
    # ellipsis out of it.
    return kept + (" " + ELLIPSIS if _ends_in_link(kept) else ELLIPSIS)


def _has_word(text: str) -> bool:
    """Whether ``text`` holds a letter or a digit: something to read."""
    return any(ch.isalnum() for ch in text)


def _ends_in_link(text: str) -> bool:
    """Whether ``text``'s last word ends with a link (is one, or holds one to its end)."""
    start = len(text)
    while start and not text[start - 1].isspace():
        start -= 1
    last = AUTOLINK.search(text, start)
    return last is not None and last.end() == len(text)


def bracketed(link: str, before: str) -> str:
    """``link`` as found in text after ``before`` (what precedes it there): when a ``[`` or ``(``
    opened on its line before it is still open, the link ends at the first ``]`` or ``)`` in it
    that closes no bracket of its own (``see [https://x.org/a]'s page`` and ``(https://x.org/a)s``
    link ``https://x.org/a``; ``[https://[::1]/p]`` ``https://[::1]/p``, and ``(…/Foo_(bar))``
    keeps its own); else as found (``https://x.org/d]e`` keeps its ``]``)."""
    for opening, closing in ("[]", "()"):
        if closing not in link:
            continue
        opened = 0  # how many are open before the link, on its line
        for ch in before[before.rfind("\n") + 1 :]:
            opened = opened + 1 if ch == opening else max(opened - 1, 0) if ch == closing else opened
        depth = 0  # how many the link itself has open
        for at, ch in enumerate(link if opened else ""):
            if ch == opening:
                depth += 1
            elif ch == closing:
                if not depth:
                    link = link[:at]
                    break
                depth -= 1
    return link


def without_tail(link: str, tail: str) -> str:
    """``link`` as found in text, without the characters of ``tail`` that end the sentence around
    it; a ``)`` goes only when the link did not open it (``…/Foo_(bar)`` keeps its own)."""
    while link:
        if link[-1] == ")":
            if link.count(")") <= link.count("("):
                break
        elif link[-1] not in tail:
            break
        link = link[:-1]
    return link
