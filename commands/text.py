"""Cutting text short without leaving half a link: the cut lives in :mod:`storage.text`, so that
storage (a sheet claim's name, cut to its column at import) cuts as the commands do."""

from __future__ import annotations

from storage.text import AUTOLINK as AUTOLINK
from storage.text import ELLIPSIS as ELLIPSIS
from storage.text import URL_TAIL as URL_TAIL
from storage.text import clip as clip
