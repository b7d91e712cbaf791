"""query bytes and raw branch one key: a query's bytes that are no UTF-8 kept, refs/heads/ dropped

From this revision ``commands.links.normalise_link`` keeps each byte of a query's names and values
that is no UTF-8 as itself (``?q=%FF`` and ``?q=%FE`` are two queries; before, each such byte was
read as the replacement character, ``?q=%EF%BF%BD``, so the second work was refused as the first),
and keys a file on raw.githubusercontent.com under ``/owner/repo/refs/heads/<branch>/…`` (as
GitHub's Raw button links it) as the file under ``/owner/repo/<branch>/…``, which GitHub serves
alike. Links stored before keep their old key: this re-keys them. A replacement character in an old
key does not tell which bytes were typed, so those keys are re-keyed from the link as stored (which
kept them), when its query keyed under the old rule gives that key. The rules are copied here as
they read at this revision (a migration must not change when the code does). As 0015 to 0017 did:
when two pending or approved submissions of one problem turn out to be the same work, the one that
has the key (or took it first, the older) keeps it and the other its old one (the moderators decide
each as before); nothing else changes. No schema change.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-13 10:00:00
"""

import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = ("pending", "approved")
# The rules of commands.links at this revision.
QUERY_LETTERS = re.compile(r"[A-Za-z0-9._~\-\u0080-\U0010ffff]+")
TRACKING_PARAMS = {
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "ref",
    "ref_src",
    "si",
    "igshid",
    "usp",
}
NO_UTF8 = "surrogateescape"
REPLACED = "%EF%BF%BD"  # the replacement character, as the old rule wrote each byte that is no UTF-8
RAW_GITHUB_HOST = "raw.githubusercontent.com"
RAW_BRANCH_REF = ["refs", "heads"]


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


def query_key(query: str, errors: str) -> str:
    """A link's query as normalise_link keys it: its names and values form-decoded (bytes that are
    no UTF-8 as ``errors`` says: ``replace`` before this revision, NO_UTF8 from it), without
    tracking parameters, their runs of QUERY_LETTERS in NFC, sorted and form-encoded."""
    pairs = [
        tuple(QUERY_LETTERS.sub(lambda run: nfc_beyond_ascii(run[0]), text) for text in pair)
        for pair in parse_qsl(query, keep_blank_values=True, errors=errors)
        if not pair[0].lower().startswith("utm_") and pair[0].lower() not in TRACKING_PARAMS
    ]
    return urlencode(sorted(pairs), errors=errors)


def new_key(old: str, url: str) -> str:
    """The key normalise_link gives now to the link ``url`` it keyed ``old`` before: ``old`` with
    its query keyed from ``url``'s when ``old``'s holds a replacement character that ``url``'s
    query keyed under the old rule gave, and a raw GitHub file's ``refs/heads/`` dropped."""
    if old.startswith("arxiv:"):
        return old  # no query, no GitHub
    address, asked, query = old.partition("?")
    if REPLACED in query:
        typed = urlsplit(url).query
        if query_key(typed, "replace") == query:
            query = query_key(typed, NO_UTF8)
    segments = address.split("/")  # host (and port), then on GitHub: owner, repository, branch…
    if segments[0] == RAW_GITHUB_HOST and segments[3:5] == RAW_BRANCH_REF and segments[5:6] not in ([], [""]):
        del segments[3:5]
    return f"{'/'.join(segments)}{asked}{query}"


def upgrade() -> None:
    """Apply this revision."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, problem_number, url, normalized_url, status FROM work_link ORDER BY id")
    ).all()
    taken = {(row.problem_number, row.normalized_url) for row in rows if row.status in LIVE}
    moves: list[dict[str, object]] = []
    for row in rows:
        key = new_key(row.normalized_url, row.url)
        live = row.status in LIVE
        if key == row.normalized_url or live and (row.problem_number, key) in taken:
            continue  # unchanged, or another live submission of this problem has the work's key
        if live:
            taken.add((row.problem_number, key))
        moves.append({"key": key, "id": row.id})
    if moves:
        conn.execute(sa.text("UPDATE work_link SET normalized_url = :key WHERE id = :id"), moves)


def downgrade() -> None:
    """Revert this revision: nothing to do (the old keys are not kept; the code of the revision
    before still finds a raw file re-keyed here when it is typed without refs/heads/, and keys a
    query with bytes that are no UTF-8 as it did before)."""
