"""Committees and their members, events and registrations; mail attachments.

Revision ID: 0005_committees_events
Revises: 0004_invitations
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0005_committees_events"
down_revision: str | Sequence[str] | None = "0004_invitations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "committees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.JSON(), nullable=False, comment="street, postal_code, city, city_name, country"),
        sa.Column("postal_code", sa.String(length=16), nullable=False, comment="copied from address for filters"),
        sa.Column("department", sa.String(length=3), nullable=True, comment="French department, from the commune"),
        sa.Column("status", sa.String(length=16), nullable=False, comment="pending, approved, refused"),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=False),
        sa.Column(
            "decided_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=True,
            comment="when an organizer approved or refused it",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_committees_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committees")),
        sa.UniqueConstraint("slug", name=op.f("uq_committees_slug")),
    )
    with op.batch_alter_table("committees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_committees_postal_code"), ["postal_code"], unique=False)
        batch_op.create_index("ix_committees_status_department", ["status", "department"], unique=False)

    op.create_table(
        "committee_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False, comment="host or follower"),
        sa.Column("created_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["committees.id"],
            name=op.f("fk_committee_memberships_committee_id_committees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_committee_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_memberships")),
        sa.UniqueConstraint("committee_id", "user_id", name="uq_committee_memberships_member"),
    )
    with op.batch_alter_table("committee_memberships", schema=None) as batch_op:
        batch_op.create_index("ix_committee_memberships_user", ["user_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("begins_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=False),
        sa.Column("ends_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False, comment="IANA zone it is shown in"),
        sa.Column("address", sa.JSON(), nullable=True, comment="None for an online event"),
        sa.Column("postal_code", sa.String(length=16), nullable=True),
        sa.Column("department", sa.String(length=3), nullable=True),
        sa.Column("online_url", sa.String(length=500), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True, comment="None: unlimited"),
        sa.Column(
            "seats_taken",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="registered count, changed only while the row is locked",
        ),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=True),
        sa.Column("committee_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False, comment="scheduled or cancelled"),
        sa.Column(
            "sequence", sa.Integer(), server_default="0", nullable=False, comment="iCalendar SEQUENCE: +1 a change"
        ),
        sa.Column("created_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=False),
        sa.Column("cancelled_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=True),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["committees.id"], name=op.f("fk_events_committee_id_committees"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organizer_id"], ["users.id"], name=op.f("fk_events_organizer_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("slug", name=op.f("uq_events_slug")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_committee", ["committee_id", "begins_at"], unique=False)
        batch_op.create_index("ix_events_department", ["department", "begins_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_postal_code"), ["postal_code"], unique=False)
        batch_op.create_index("ix_events_upcoming", ["status", "ends_at"], unique=False)

    op.create_table(
        "event_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False, comment="lower-cased"),
        sa.Column("first_name", sa.String(length=50), nullable=False),
        sa.Column("last_name", sa.String(length=50), nullable=False),
        sa.Column("postal_code", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False, comment="registered, waitlisted or cancelled"),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=False),
        sa.Column("updated_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=False),
        sa.Column(
            "waitlisted_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=True,
            comment="order of the waitlist",
        ),
        sa.Column("promoted_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=True),
        sa.Column("cancelled_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=True),
        sa.Column(
            "reminded_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=True,
            comment="the 24-hour reminder went out",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_registrations_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_event_registrations_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_registrations")),
        sa.UniqueConstraint("event_id", "email", name="uq_event_registrations_email"),
    )
    with op.batch_alter_table("event_registrations", schema=None) as batch_op:
        batch_op.create_index("ix_event_registrations_user", ["user_id"], unique=False)
        batch_op.create_index(
            "ix_event_registrations_waitlist", ["event_id", "status", "waitlisted_at", "id"], unique=False
        )

    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "attachments",
                sa.JSON(),
                nullable=True,
                comment="[{filename, content_type, content}] (text content, e.g. an .ics)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.drop_column("attachments")
    # Dropping a table takes its indexes along (MySQL will not drop an index a foreign key needs).
    op.drop_table("event_registrations")
    op.drop_table("events")
    op.drop_table("committee_memberships")
    op.drop_table("committees")
