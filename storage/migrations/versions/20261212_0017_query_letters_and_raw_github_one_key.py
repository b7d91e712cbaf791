"""query letters and raw github one key: a query's letters composed, GitHub's files and gists in any case

From this revision ``commands.links.normalise_link`` composes the letters of a query's names and
values as it composes a path's (NFC: ``?q=cafe%CC%81``, e and an accent as macOS may paste it, is
``?q=caf%C3%A9``, as ``?q=café`` already was; = and a stroke stay two characters, and a letter NFC
would make ASCII stays as it is), and gives raw.githubusercontent.com and gist.github.com GitHub's
rule: a file's owner and repository, a gist's user and (hex) id, in lower case
(``raw.githubusercontent.com/Owner/Repo/main/File.py`` is
``raw.githubusercontent.com/owner/repo/main/File.py``; the branch and the file's path keep their
case). Links stored before keep their old key: this re-keys them, so the same work submitted again
is found as a duplicate. The rules are copied here as they read at this revision (a migration must
not change when the code does). As 0015 and 0016 did: when two pending or approved submissions of
one problem turn out to be the same work, the older keeps the new key and the other its old one
(the moderators decide each as before); nothing else changes. No schema change.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-12 10:00:00
"""

import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = ("pending", "approved")
# The rules of commands.links at this revision.
QUERY_LETTERS = re.compile(r"[A-Za-z0-9._~\-\u0080-\U0010ffff]+")
GITHUB_NAME = re.compile(r"[A-Za-z0-9._-]+")
HEX = re.compile(r"[0-9A-Fa-f]+")
RAW_GITHUB_HOST = "raw.githubusercontent.com"
GIST_HOST = "gist.github.com"


def nfc_beyond_ascii(text: str) -> str:
    """``text`` in NFC but for a letter NFC would make ASCII, left as it is, nothing composed
    across it (commands.links.nfc_beyond_ascii at this revision)."""
    parts = [""]
    for ch in text:
        if not ch.isascii() and unicodedata.normalize("NFC", ch).isascii():
            parts += [ch, ""]
        else:
            parts[-1] += ch
    return "".join(part if i % 2 else unicodedata.normalize("NFC", part) for i, part in enumerate(parts))


def query_key(query: str) -> str:
    """A stored key's query (form-encoded, sorted) with each name's and value's runs of
    QUERY_LETTERS in NFC (commands.links.query_text_key at this revision), sorted again."""

    def composed(text: str) -> str:
        return QUERY_LETTERS.sub(lambda run: nfc_beyond_ascii(run[0]), text)

    return urlencode(
        sorted((composed(key), composed(value)) for key, value in parse_qsl(query, keep_blank_values=True))
    )


def new_key(old: str) -> str:
    """The key normalise_link gives now to a link it keyed ``old`` before: host (lower case, no
    www.) and port, path (one spelling, without trailing slashes), then the sorted query; or
    ``lesswrong:<id>`` and its query; or ``arxiv:<id>`` (unchanged)."""
    if old.startswith("arxiv:"):
        return old  # no query, no GitHub
    address, asked, query = old.partition("?")
    if asked:
        query = query_key(query)
        asked = "?" if query else ""
    if address.startswith("lesswrong:"):
        return f"{address}{asked}{query}"
    slash = address.find("/")
    netloc, path = (address, "") if slash < 0 else (address[:slash], address[slash:])
    if netloc in {RAW_GITHUB_HOST, GIST_HOST}:
        segments = path.split("/")
        for i in (1, 2):
            name = segments[i] if i < len(segments) else ""
            if (HEX if netloc == GIST_HOST and i == 2 else GITHUB_NAME).fullmatch(name):
                segments[i] = name.lower()
        path = "/".join(segments)
    return f"{netloc}{path}{asked}{query}"


def upgrade() -> None:
    """Apply this revision."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, problem_number, normalized_url, status FROM work_link ORDER BY id")
    ).all()
    moves = rekeyed(rows)
    if moves:
        conn.execute(sa.text("UPDATE work_link SET normalized_url = :key WHERE id = :id"), moves)


def rekeyed(rows: Sequence[sa.Row]) -> list[dict[str, object]]:
    """The new key of each row (oldest first) whose key changes: every one, but for a pending or
    approved row whose new key another such row of its problem has (or took before it)."""
    live = {(row.problem_number, row.normalized_url) for row in rows if row.status in LIVE}
    moves: list[dict[str, object]] = []
    for row in rows:
        key = new_key(row.normalized_url)
        if key == row.normalized_url:
            continue
        if row.status in LIVE:
            if (row.problem_number, key) in live:
                continue  # another live submission of this problem has the work's key
            live.add((row.problem_number, key))
        moves.append({"key": key, "id": row.id})
    return moves


def downgrade() -> None:
    """Revert this revision: nothing to do (the old keys are not kept; the code of the revision
    before still finds those it wrote itself)."""
