"""moderator post refused: why a platform refused a submission's moderator post, and when to try again

``mod_refused`` holds the platform's reason when it refused the moderator post of a pending
submission for good (copbot may not post in the moderator channel, the channel is gone or
archived; or the message itself, e.g. Discord's 50035 or Slack's ``msg_too_long``). With
``mod_retry_at`` the post is tried again then (a channel an admin can mend: at a bounded pace,
not at every sweep); without it, never (the same message would be refused at every try): the
submission is decided with /pending. Both nullable: existing rows were never refused so.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-09 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _columns() -> tuple[sa.Column[object], ...]:
    """The two columns this revision adds to ``work_link``."""
    reason = sqlmodel.sql.sqltypes.AutoString(length=500)
    retry_at = storage.models.UTCDateTime(timezone=True)
    return (
        sa.Column("mod_refused", reason, nullable=True),
        sa.Column("mod_retry_at", retry_at, nullable=True),
    )


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("work_link", schema=None) as batch_op:
        for column in _columns():
            batch_op.add_column(column)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("work_link", schema=None) as batch_op:
        for column in reversed(_columns()):
            batch_op.drop_column(column.name)
