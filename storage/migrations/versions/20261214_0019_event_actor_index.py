"""event actor index: a renamed member's history entries found without reading everyone's

A member seen under a new name (``storage.names``, from any command, button, form or moderator's
reaction) has their history entries renamed: ``UPDATE event … WHERE actor_platform = … AND
actor_id = …``. With no index on the actor it read the whole table. Measured with ``python -m
bench.rename`` (100,000 entries of others; a shared 2-core machine, so the numbers are rough):
one rename took a median of 56 ms on PostgreSQL and 36 to 56 ms on SQLite, that statement alone
11 to 38 ms, growing with the table; ``ix_event_actor`` finds the member's own entries, and one
rename takes 12 ms on PostgreSQL and 4 ms on SQLite (that statement under 3 ms).

As 0007's indexes, it is built in the one transaction of the upgrade (on PostgreSQL under the
advisory lock of storage/migrate.py), holding writes to ``event`` back while it is built.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-14 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_event_actor", "event", ["actor_platform", "actor_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_event_actor", table_name="event")
