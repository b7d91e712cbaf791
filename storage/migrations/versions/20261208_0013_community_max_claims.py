"""community max claims: the most open claims a member may hold in a community (/setup max_claims)

Nullable, without a default: every existing community follows the deployment's MAX_CLAIMS, which
is no limit unless its operator sets one, so nobody's claims change meaning here. 0 means no limit
in that community whatever MAX_CLAIMS says.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("community_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_claims", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("community_settings", schema=None) as batch_op:
        batch_op.drop_column("max_claims")
