"""Mail at scale: the delivery ledger (claim time, provider calls), the stream of a message, the
provider"s last event, and the suppression list.

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
    op.create_table(
        "mail_suppressions",
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False, comment="unsubscribed, bounced or complained"),
        sa.Column("source", sa.String(length=32), nullable=False, comment="mailjet, link, operator"),
        sa.Column("created_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=False),
        sa.PrimaryKeyConstraint("email_hash", name=op.f("pk_mail_suppressions")),
    )
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "stream",
                sa.String(length=16),
                server_default="transactional",
                nullable=False,
                comment="transactional or campaign (what a suppression blocks)",
            )
        )
        batch_op.add_column(
            sa.Column("provider_event", sa.String(length=16), nullable=True, comment="last event the provider reported")
        )
        batch_op.add_column(
            sa.Column("provider_event_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=True)
        )
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
        batch_op.drop_column("provider_event_at")
        batch_op.drop_column("provider_event")
        batch_op.drop_column("stream")

    op.drop_table("mail_suppressions")
