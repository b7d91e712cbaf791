"""claim problem ended index

A problem's card shows its open claims and its latest ended ones; with an index on
``claim(problem_number)`` alone, reading them meant reading every claim the problem ever had
(50,000 released claims on one problem: a card took 2.9 s, /claim 0.3 s). With
``ix_claim_problem_ended`` the open claims (no end date) sit together and the latest ended ones
come off its end, latest first; it replaces ``ix_claim_problem_number`` (its first column still
serves every look-up by problem, the foreign key's included).

Like every migration it runs in the one transaction of the upgrade (storage/migrate.py); building
the index holds writes to ``claim`` back for as long as it takes (about a second per million
claims).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 20:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_claim_problem_ended", "claim", ["problem_number", "ended_at", "id"], unique=False)
    op.drop_index("ix_claim_problem_number", table_name="claim")


def downgrade() -> None:
    """Revert this revision."""
    op.create_index("ix_claim_problem_number", "claim", ["problem_number"], unique=False)
    op.drop_index("ix_claim_problem_ended", table_name="claim")
