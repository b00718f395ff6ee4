"""Campaigns: an organizer's message to an audience (its recipients are mail_messages rows), the
audience lists built in the background, and each member's department (backfilled from the address).

Revision ID: 0007_campaigns
Revises: 0006_mail_ledger
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from engagement.geo.communes import department_of

revision: str = "0007_campaigns"
down_revision: str | Sequence[str] | None = "0006_mail_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audience_lists",
        sa.Column("key", sa.String(length=120), nullable=False, comment="committee:ID or department:CODE"),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=True, comment="SHA-256 of the JSON"),
        sa.Column(
            "body",
            sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb"),
            nullable=True,
            comment="gzip of the JSON list",
        ),
        sa.Column(
            "dirty_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=True,
            comment="a membership changed at this time",
        ),
        sa.Column(
            "built_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=True,
            comment="the build started at this time",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_audience_lists")),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "audience",
            sa.String(length=100),
            nullable=False,
            comment="all, committee:SLUG, department:CODE, event:SLUG",
        ),
        sa.Column("audience_label", sa.String(length=200), nullable=False, comment="its name when it was sent"),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False, comment="plain text, sent as written"),
        sa.Column("sender_name", sa.String(length=100), nullable=True, comment="shown before the platform's address"),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False, comment="queued, sending, done or cancelled"),
        sa.Column("recipients", sa.Integer(), nullable=False, comment="audience size when it was queued"),
        sa.Column(
            "expanded", sa.Integer(), server_default="0", nullable=False, comment="recipient rows written so far"
        ),
        sa.Column(
            "cursor",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="audience key of the last recipient written (resume point)",
        ),
        sa.Column("created_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=False),
        sa.Column(
            "expanded_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=True,
            comment="every recipient row written",
        ),
        sa.Column(
            "finished_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=True,
            comment="every message final",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_campaigns_author_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "audience_key",
                sa.Integer(),
                nullable=True,
                comment="the recipient's key in the campaign's audience (member or registration id): one message each",
            )
        )
        batch_op.create_index("ix_mail_messages_campaign_status", ["campaign_id", "status"], unique=False)
        batch_op.create_unique_constraint("uq_mail_messages_campaign_recipient", ["campaign_id", "audience_key"])
        batch_op.create_foreign_key(
            batch_op.f("fk_mail_messages_campaign_id_campaigns"),
            "campaigns",
            ["campaign_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "department", sa.String(length=3), nullable=True, comment="French department of the address (audiences)"
            )
        )
        batch_op.create_index(batch_op.f("ix_users_department"), ["department"], unique=False)
    _backfill_departments()


def _backfill_departments() -> None:
    """Each member's department from the address already stored, in batches of 1,000."""
    if op.get_context().as_sql:  # printing the SQL for review: the backfill is Python, it has none
        op.execute("-- 0007_campaigns: users.department is backfilled in Python from users.address here "
                   "(engagement/geo/communes.py department_of); `engagement db upgrade` does it")
        return
    users = sa.table(
        "users", sa.column("id", sa.Integer()), sa.column("address", sa.JSON()), sa.column("department", sa.String(3))
    )
    connection, last = op.get_bind(), 0
    while True:
        rows = connection.execute(
            sa.select(users.c.id, users.c.address).where(users.c.id > last).order_by(users.c.id).limit(1000)
        ).all()
        if not rows:
            return
        updates = [{"uid": uid, "dept": department_of(address)} for uid, address in rows if address]
        if updates:
            connection.execute(
                users.update().where(users.c.id == sa.bindparam("uid")).values(department=sa.bindparam("dept")),
                updates,
            )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_department"))
        batch_op.drop_column("department")

    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_mail_messages_campaign_id_campaigns"), type_="foreignkey")
        batch_op.drop_constraint("uq_mail_messages_campaign_recipient", type_="unique")
        batch_op.drop_index("ix_mail_messages_campaign_status")
        batch_op.drop_column("audience_key")
        batch_op.drop_column("campaign_id")

    op.drop_table("campaigns")
    op.drop_table("audience_lists")
