"""community left at: when copbot was removed from a community (a Discord server it was kicked
from, a Slack workspace that uninstalled it or revoked its token)

Set when the platform says so, cleared when copbot is added again. While it is set, the sweep
sends that community's reminders nowhere (its claims expire a grace period after their reminder
came due) and the moderation catch-up closes its pending submissions, so that the same work can
be submitted elsewhere. Nullable, without a default: every existing community is still there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("community_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_at", storage.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("community_settings", schema=None) as batch_op:
        batch_op.drop_column("left_at")
