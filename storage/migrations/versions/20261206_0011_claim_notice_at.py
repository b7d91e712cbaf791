"""claim notice at: when a sweep took a claim's expiry notice to send it

Set with ``notice = 'sending'`` when the claim expires, and again when a later sweep takes back a
notice whose sweep died before recording it (a crash, a kill): it is sent again once taken
STUCK_SENDING ago, as reminders are, and the new time keeps a second sweep from taking it too.
Nullable: a claim without a notice has none, and a notice taken without a time (before this
revision, or by a replica still on the release before it) counts from its claim's expiry
(storage.sweep.take_retries), so nothing needs filling in here.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_at", storage.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_column("notice_at")
