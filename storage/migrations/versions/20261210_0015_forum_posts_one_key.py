"""forum posts one key: a LessWrong post's links are one work on every forum that shows it

From this revision ``commands.links.normalise_link`` keys a LessWrong post as
``lesswrong:<id>`` whichever address names it (the Alignment Forum's and GreaterWrong's copies,
with or without the title's slug, or in a sequence). Links stored before keep their old key
(``lesswrong.com/posts/<id>/<slug>``…): this re-keys them, so the same post submitted again is
found as a duplicate. The rule is copied here as it reads at this revision (a migration must not
change when the code does). When two pending or approved submissions of one problem turn out to
be the same post, the older keeps the new key and the other its old one (the moderators decide
each as before); nothing else changes. No schema change.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10 10:00:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A post's key as normalise_link wrote it before: host (lower case, no www.), path without its
# trailing slashes, then the sorted query.
OLD_KEY = re.compile(
    r"^(?:lesswrong\.com|alignmentforum\.org|greaterwrong\.com)"
    r"/(?:posts|s/[^/?]+/p)/(?P<id>[A-Za-z0-9]{17})(?:/[^/?]*)?(?P<query>\?.*)?$"
)
LIVE = ("pending", "approved")


def upgrade() -> None:
    """Apply this revision."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, problem_number, normalized_url, status FROM work_link "
            "WHERE normalized_url LIKE 'lesswrong.com/%' OR normalized_url LIKE 'alignmentforum.org/%' "
            "OR normalized_url LIKE 'greaterwrong.com/%' OR normalized_url LIKE 'lesswrong:%' ORDER BY id"
        )
    ).all()
    taken = {(row.problem_number, row.normalized_url) for row in rows if row.status in LIVE}
    for row in rows:
        old = OLD_KEY.match(row.normalized_url)
        if old is None:
            continue
        key = f"lesswrong:{old['id']}{old['query'] or ''}"
        if row.status in LIVE:
            if (row.problem_number, key) in taken:
                continue  # another live submission of this problem has the post's key
            taken.add((row.problem_number, key))
        conn.execute(
            sa.text("UPDATE work_link SET normalized_url = :key WHERE id = :id"), {"key": key, "id": row.id}
        )


def downgrade() -> None:
    """Revert this revision: nothing to do (the old keys are not kept; the code of the revision
    before still finds those it wrote itself)."""
