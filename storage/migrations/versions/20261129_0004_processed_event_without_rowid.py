"""processed_event without rowid

On SQLite the table of handled event ids is keyed by the id itself (``WITHOUT ROWID``): recording
an interaction then writes one b-tree instead of a table and its primary-key index. PostgreSQL
keeps its table as it is.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 02:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # Batch mode copies the rows into a new table built with these options, then swaps it in.
    with op.batch_alter_table(
        "processed_event", recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
    ):
        pass


def upgrade() -> None:
    """Apply this revision."""
    _rebuild(with_rowid=False)


def downgrade() -> None:
    """Revert this revision."""
    _rebuild(with_rowid=True)
