"""Site switches: the "under attack" switch every pod polls (docs/security.md).

Revision ID: 0013_site_switches
Revises: 0012_media
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0013_site_switches"
down_revision: str | Sequence[str] | None = "0012_media"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    op.create_table(
        "site_switches",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("is_on", sa.Boolean(), nullable=False),
        sa.Column("changed_at", TIMESTAMP, nullable=False),
        sa.Column("changed_by", sa.String(length=254), nullable=False, comment="the admin's email, or 'cli'"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_site_switches")),
    )


def downgrade() -> None:
    op.drop_table("site_switches")
