"""Text as people type it, and problem numbers in the one form the catalogue is keyed by.

The command parser and the catalogue import both read numbers through here, so a number a sheet
gives is stored exactly as a command that names it looks it up.
"""

from __future__ import annotations

import re
import unicodedata

# Section and position, split by a dot or a decimal comma (``2,4``); one mark that ends a
# sentence or a list item may follow (``/claim 2.4.``, ``2.4)``, ``2.4:``). The position's digits
# are read as a whole number (``2.04`` is 2.4), so ``2.40`` stays a problem of its own.
NUMBER_RE = re.compile(r"^#?\s*([0-9]{1,3})[.,]([0-9]{1,3})[.,):]?$")
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


def visible(raw: str) -> str:
    """Text without control or invisible format characters (zero-width spaces, bidi overrides),
    keeping newlines and tabs, and the joiners written text and emoji need; trimmed."""
    if raw.isascii() and raw.isprintable():
        return raw.strip()
    return "".join(ch for ch in raw if _kept(ch)).strip()


def display_name(name: str, fallback: str) -> str:
    """A person's name as copbot shows it: :func:`visible`, on one line with single spaces, so
    a bidi override cannot turn the rest of a line around; ``fallback`` (their id) when nothing
    visible is left (a name of only zero-width spaces or joiners)."""
    if name.isascii() and name.isprintable() and name.strip() == name and "  " not in name:
        return name or fallback  # the usual name: nothing to clean
    cleaned = " ".join(visible(name).split())
    return cleaned if any(ch not in _JOINERS for ch in cleaned) else fallback


def canonical_number(raw: str) -> str | None:
    """``2.4``, ``#2.4``, ``02.04``, ``２.４``, ``2,4`` or ``2.4.`` → ``2.4``; None when it is no
    problem number. ``2.40`` is ``2.40``, another problem than ``2.4``."""
    match = NUMBER_RE.match(normalise(raw))
    return f"{int(match.group(1))}.{int(match.group(2))}" if match else None


def plain_number(raw: str) -> bool:
    """Whether ``raw`` is a problem number written plainly (see PLAIN_NUMBER_RE)."""
    return PLAIN_NUMBER_RE.match(normalise(raw)) is not None
