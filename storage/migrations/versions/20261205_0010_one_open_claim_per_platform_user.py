"""one open claim per platform user

A Discord user id is the same in every server (a Slack user's in every workspace of an Enterprise
Grid), so ``uq_claim_open_per_user`` no longer names the community: a person holds at most one
open claim on a problem per platform, wherever they claimed it, and /claim in another server
renews that claim instead of making a second one (Store.claim).

Two open claims of one person on one problem made in two communities before this revision are
merged first: the one renewed last stays open (on a tie, the first made); the others end as
released on the day they were last renewed, each with a line in the problem's history.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "state IN ('active', 'stale') AND user_id IS NOT NULL"
# The open claims another open claim of the same person on the same problem and platform outlives.
_MERGED = (
    "claim.state IN ('active', 'stale') AND claim.user_id IS NOT NULL AND EXISTS ("
    "SELECT 1 FROM claim AS kept WHERE kept.problem_number = claim.problem_number "
    "AND kept.platform = claim.platform AND kept.user_id = claim.user_id "
    "AND kept.state IN ('active', 'stale') AND (kept.renewed_at > claim.renewed_at "
    "OR (kept.renewed_at = claim.renewed_at AND kept.id < claim.id)))"
)


def upgrade() -> None:
    """Apply this revision."""
    op.execute(
        "INSERT INTO event (problem_number, kind, at, actor_platform, actor_id, actor_name, detail, "
        "claim_id) "
        "SELECT problem_number, 'released', renewed_at, platform, user_id, display_name, "
        "'merged: a second open claim on this problem from another community', id "
        f"FROM claim WHERE {_MERGED}"
    )
    op.execute(f"UPDATE claim SET state = 'released', ended_at = renewed_at WHERE {_MERGED}")
    op.drop_index("uq_claim_open_per_user", table_name="claim")
    op.create_index(
        "uq_claim_open_per_user",
        "claim",
        ["problem_number", "platform", "user_id"],
        unique=True,
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )


def downgrade() -> None:
    """Revert this revision (the merged claims stay ended)."""
    op.drop_index("uq_claim_open_per_user", table_name="claim")
    op.create_index(
        "uq_claim_open_per_user",
        "claim",
        ["problem_number", "platform", "community_id", "user_id"],
        unique=True,
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )
