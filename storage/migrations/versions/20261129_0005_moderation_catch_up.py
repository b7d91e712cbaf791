"""moderation catch-up: the revision a moderator post shows, and the submitter's notice

A decided submission whose post edit failed (or was cut short by a restart) is edited again, and
its submitter is told once, at the next sweep. Rows decided before this revision count as shown
and told (zeros and "").

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("work_link", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("shown_revision", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column(
                "notice", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default=""
            )
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("work_link", schema=None) as batch_op:
        batch_op.drop_column("notice")
        batch_op.drop_column("shown_revision")
        batch_op.drop_column("revision")
