"""Campaign drafts and scheduling: a campaign is written as a draft, queued only by a confirmation,
and may wait for a send time; test sends to its author are recorded.

Revision ID: 0016_campaign_schedule
Revises: 0015_organizer_scopes
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0016_campaign_schedule"
down_revision: str | Sequence[str] | None = "0015_organizer_scopes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS = "draft, scheduled, queued, sending, done or cancelled"
OLD_STATUS = "queued, sending, done or cancelled"


def _moment(name: str, comment: str) -> sa.Column:
    return sa.Column(name, sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=True,
                     comment=comment)


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(_moment("scheduled_at", "start sending at this time (a scheduled campaign)"))
        batch.add_column(_moment("tested_at", "its author's last test send"))
        batch.add_column(sa.Column("tests", sa.Integer(), nullable=False, server_default="0",
                                   comment="test sends to its author"))
    if op.get_bind().dialect.name != "sqlite":  # SQLite keeps no comments (and would rebuild the table)
        op.alter_column("campaigns", "status", existing_type=sa.String(length=16), existing_nullable=False,
                        comment=STATUS, existing_comment=OLD_STATUS)
    op.create_index("ix_campaigns_status_scheduled", "campaigns", ["status", "scheduled_at"])


def downgrade() -> None:
    op.drop_index("ix_campaigns_status_scheduled", table_name="campaigns")
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("campaigns", "status", existing_type=sa.String(length=16), existing_nullable=False,
                        comment=OLD_STATUS, existing_comment=STATUS)
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("tests")
        batch.drop_column("tested_at")
        batch.drop_column("scheduled_at")
