"""Text as people type it, and problem numbers in the one form the catalogue is keyed by.

The command parser and the catalogue import both read numbers through here, so a number a sheet
gives is stored exactly as a command that names it looks it up.
"""

from __future__ import annotations

import re
import unicodedata

NUMBER_RE = re.compile(r"^#?\s*([0-9]{1,3})\.([0-9]{1,3})$")


def normalise(text: str) -> str:
    """NFKC-fold, drop invisible format characters (zero-width spaces, bidi marks) and trim."""
    if text.isascii():  # NFKC leaves ASCII as it is, and no ASCII character is a format character
        return text.strip()
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf").strip()


def canonical_number(raw: str) -> str | None:
    """``2.4``, ``#2.4``, ``02.04`` or ``２.４`` → ``2.4``; None when it is no problem number."""
    match = NUMBER_RE.match(normalise(raw))
    return f"{int(match.group(1))}.{int(match.group(2))}" if match else None
