"""A campaign's recipient count arrives with its expansion: ``campaigns.counted_at`` says when the worker
counted the audience (None: not yet, the page says "being counted"); the organizer's request no longer counts.

Campaigns that left the draft before this revision were counted by their request: they get their creation time.

Revision ID: 20261207_0020
Revises: 0019_overseas_departments
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0020_campaign_recipient_count"
down_revision: str | Sequence[str] | None = "0019_overseas_departments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECIPIENTS = "audience size: counted by the expansion (counted_at), the rows written once expanded"
OLD_RECIPIENTS = "audience size when it was queued"
COUNTED = "when the expansion counted the audience; None: not counted yet (the request never counts)"


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("counted_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"),
                                   nullable=True, comment=COUNTED))
    if op.get_bind().dialect.name != "sqlite":  # SQLite keeps no comments (and would rebuild the table)
        op.alter_column("campaigns", "recipients", existing_type=sa.Integer(), existing_nullable=False,
                        comment=RECIPIENTS, existing_comment=OLD_RECIPIENTS)
    campaigns = sa.table("campaigns", sa.column("status", sa.String), sa.column("created_at", sa.DateTime),
                         sa.column("counted_at", sa.DateTime))
    op.execute(campaigns.update().where(campaigns.c.status.not_in(("draft", "scheduled")))
               .values(counted_at=campaigns.c.created_at))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("campaigns", "recipients", existing_type=sa.Integer(), existing_nullable=False,
                        comment=OLD_RECIPIENTS, existing_comment=RECIPIENTS)
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("counted_at")
