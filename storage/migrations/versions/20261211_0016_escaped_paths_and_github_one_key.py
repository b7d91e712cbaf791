"""escaped paths and github one key: a link's path escaped or not, a GitHub repository in any case

From this revision ``commands.links.normalise_link`` keys a link's path in one spelling of the bytes
it is sent as (``/café``, ``/caf%C3%A9`` and ``/caf%c3%a9`` are one path, as are ``/~a`` and
``/%7Ea``), with its letters beyond ASCII composed (NFC: ``/cafe%CC%81``, e and an accent as macOS
may paste it, is ``/caf%C3%A9`` too) and its ``.`` and ``..`` segments resolved as browsers resolve
them (``/a/./b/../c`` is ``/a/c``), and a GitHub repository with its owner's and its name in lower
case and without ``.git`` (``github.com/Owner/Repo.git`` is ``github.com/owner/repo``; a branch or a
file's path after them keeps its case). Links stored before keep their old key: this re-keys them,
so the same work submitted again is found as a duplicate. The rules are copied here as they read at
this revision (a migration must not change when the code does). As 0015 did: when two pending or
approved submissions of one problem turn out to be the same work, the older keeps the new key and
the other its old one (the moderators decide each as before); nothing else changes. No schema
change.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-11 10:00:00
"""

import re
import string
import unicodedata
from collections.abc import Sequence
from urllib.parse import unquote_to_bytes

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = ("pending", "approved")
# The rules of commands.links at this revision.
UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
SENT_ESCAPED = frozenset('"<>`{} ')
ESCAPE = re.compile(r"(%[0-9A-Fa-f]{2})")
LETTERS = re.compile(r"(?:[A-Za-z0-9._~-]|%[89A-F][0-9A-F])+")
GITHUB_NAME = re.compile(r"[A-Za-z0-9._-]+")
ARXIV_HOST = re.compile(r"(?:export\.)?arxiv\.org(?::\d+)?")
ARXIV_ID = re.compile(
    r"^/(?:abs|pdf|html)/(?P<id>(?:\d{4}\.\d{4,5})|(?:[a-z\-]+(?:\.[A-Z]{2})?/\d{7}))(?:v\d+)?(?:\.pdf)?/?$"
)
FORUM_HOSTS = {"lesswrong.com", "alignmentforum.org", "greaterwrong.com"}
FORUM_POST = re.compile(r"^/(?:posts|s/[^/]+/p)/(?P<id>[A-Za-z0-9]{17})(?:/[^/]*)?/*$")


def spelled(path: str) -> str:
    """``path`` with each byte in one spelling (commands.links.path_key at this revision)."""
    out = []
    for i, piece in enumerate(ESCAPE.split(path)):
        if i % 2:
            byte = chr(int(piece[1:], 16))
            out.append(byte if byte in UNRESERVED else piece.upper())
        else:
            out.extend(
                ch
                if ch.isascii() and ch not in SENT_ESCAPED
                else "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
                for ch in piece
            )
    return LETTERS.sub(composed, "".join(out))


def composed(run: re.Match[str]) -> str:
    """A run of LETTERS with the text its bytes spell in NFC (commands.links.composed at this
    revision): bytes that are no UTF-8, and letters NFC would make ASCII, left as they are."""
    if "%" not in run[0]:
        return run[0]
    parts = [""]
    for ch in unquote_to_bytes(run[0]).decode("utf-8", "surrogateescape"):
        if not ch.isascii() and unicodedata.normalize("NFC", ch).isascii():
            parts += [ch, ""]
        else:
            parts[-1] += ch
    text = "".join(part if i % 2 else unicodedata.normalize("NFC", part) for i, part in enumerate(parts))
    return "".join(
        ch if ch.isascii() else "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogateescape"))
        for ch in text
    )


def without_dot_segments(path: str) -> str:
    """``path`` with its . and .. segments resolved (commands.links.without_dot_segments)."""
    segments = path.split("/")
    resolved = segments[:1]
    for i, segment in enumerate(segments[1:], 1):
        if segment in {".", ".."}:
            if segment == ".." and len(resolved) > 1:
                resolved.pop()
            if i == len(segments) - 1:
                resolved.append("")
        else:
            resolved.append(segment)
    return "/".join(resolved)


def new_key(old: str) -> str:
    """The key normalise_link gives now to a link it keyed ``old`` before: host (lower case, no
    www.) and port, path without its trailing slashes, then the sorted query (unchanged)."""
    if old.startswith(("arxiv:", "lesswrong:")):
        return old  # no path in them
    address, asked, query = old.partition("?")
    slash = address.find("/")
    netloc, path = (address, "") if slash < 0 else (address[:slash], address[slash:])
    path = re.sub(r"/+$", "", without_dot_segments(spelled(path)))
    if ARXIV_HOST.fullmatch(netloc) and (paper := ARXIV_ID.match(path)):
        return f"arxiv:{paper['id'].lower()}"
    if netloc in FORUM_HOSTS and (post := FORUM_POST.match(path)):
        return f"lesswrong:{post['id']}{asked}{query}"
    if netloc == "github.com":
        segments = path.split("/")
        for i in (1, 2):
            if i < len(segments) and GITHUB_NAME.fullmatch(segments[i]):
                segments[i] = segments[i].lower()
        if len(segments) == 3 and len(segments[2]) > len(".git"):
            segments[2] = segments[2].removesuffix(".git")
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
