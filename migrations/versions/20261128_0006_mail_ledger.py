"""The mail delivery ledger: when a worker claimed a message, and how many provider calls it took.

Revision ID: 0006_mail_ledger
Revises: 0005_committees_events
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0006_mail_ledger"
down_revision: str | Sequence[str] | None = "0005_committees_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sending_at",
                sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"),
                nullable=True,
                comment="when a worker claimed it for the provider",
            )
        )
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), server_default="0", nullable=False, comment="calls to the provider")
        )


def downgrade() -> None:
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("sending_at")
