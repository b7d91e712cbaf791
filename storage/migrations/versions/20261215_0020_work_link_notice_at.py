"""work link notice at: when a submitter's notice was taken to be sent

A submitter's notice (the DM telling them a moderator approved or rejected their link, or undid
that) is taken to be sent by setting ``notice = 'sending'``, and only recording how it went moved
it on: one whose sender died with it (a crash, a kill, a redeploy mid-batch), or whose database
failed before it was recorded (the rest of that batch with it), stayed "sending" and was never
sent. Now the time of the taking is kept, and a sweep takes back a notice left "sending"
STUCK_SENDING ago, as 0011 did for claims' expiry notices; the new time keeps a second sweep from
taking it too.

Nullable: a link without a notice has none, and the decision or undo that makes a notice due
clears it. A notice taken without a time (before this revision, or by a replica still on the
release before it) counts from its decision (from the submission, for an undo's, which has no
decision time) (storage.submissions.take_notices), so nothing needs filling in here.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-15 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("work_link", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_at", storage.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("work_link", schema=None) as batch_op:
        batch_op.drop_column("notice_at")
