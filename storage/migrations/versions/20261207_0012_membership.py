"""membership: the communities each copbot application was seen in as a member

A Discord server is taken for gone at a shard's start only when copbot's application was seen in
it as a member (listed in a READY, or a GUILD_CREATE): a server that added only copbot's commands
(no bot user in it) is never listed by the gateway, and was taken for gone at every start; and two
copbots sharing a database took each other's servers for gone.

Empty at first: nothing tells which servers copbot was a member of before. So a server that
removed copbot while it was down across this upgrade is never concluded gone (its data stays as if
copbot were still in it); every server copbot is in is recorded at the first start after the
upgrade (docs/discord.md).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "membership",
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("app_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("community_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("seen_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "app_id", "community_id"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("membership")
