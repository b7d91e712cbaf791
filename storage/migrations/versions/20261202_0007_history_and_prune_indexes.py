"""history and prune indexes

``/history`` reads a problem's latest entries by ``(at, id)``: with an index on
``event(problem_number)`` alone it sorted the problem's whole history every time (152 ms for a
million entries); ``ix_event_problem_at`` replaces it and hands them over in order (its first
column still serves every look-up by problem, the foreign key's included). The hourly prune of
``processed_event`` finds ids older than a week by ``ix_processed_event_at`` instead of reading
every row.

Like every migration it runs in the one transaction of the upgrade, which on PostgreSQL holds
the advisory lock (storage/migrate.py): replicas starting together build the indexes once, and
the later ones find the version moved. Building them holds writes to the two tables back for as
long as it takes (measured with a million rows in each: 1.7 s on PostgreSQL, 2.9 s on SQLite),
so a replica still on 0006 during a rolling deploy answers its commands that much later.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_event_problem_at", "event", ["problem_number", "at", "id"], unique=False)
    op.drop_index("ix_event_problem_number", table_name="event")
    op.create_index("ix_processed_event_at", "processed_event", ["at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_processed_event_at", table_name="processed_event")
    op.create_index("ix_event_problem_number", "event", ["problem_number"], unique=False)
    op.drop_index("ix_event_problem_at", table_name="event")
