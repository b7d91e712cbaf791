"""moved from: the old moderator post of a submission being moved to a new moderator channel

A move takes the row (the posting mark replaces the post's ids) before it posts in the new
channel; the old post is kept here until the new one is recorded, so a move cut short by a crash
gives the old post back (moved again, or edited with a decision made meanwhile) instead of losing
it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("work_link", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("moved_from_channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("moved_from_message_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("moved_from_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
        batch_op.add_column(
            sa.Column("moved_from_posted_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("work_link", schema=None) as batch_op:
        batch_op.drop_column("moved_from_posted_at")
        batch_op.drop_column("moved_from_url")
        batch_op.drop_column("moved_from_message_id")
        batch_op.drop_column("moved_from_channel_id")
