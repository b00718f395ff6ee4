"""Invitations: the organizers' content, the invitations sent, opt-outs; mail headers.

Revision ID: 0004_invitations
Revises: 0003_member_profile
Create Date: 2026-11-28

The content is seeded by the application (from engagement/invitations/content.yml) into an
empty table, not here: organizers' edits are data the migrations never touch.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0004_invitations"
down_revision: str | Sequence[str] | None = "0003_member_profile"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invitation_content",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.String(length=16), nullable=False, comment="text, gender, position, project, interest, reason"
        ),
        sa.Column("key", sa.String(length=64), nullable=False, comment="the answer stored; never changes once used"),
        sa.Column("position", sa.Integer(), nullable=False, comment="display and composition order"),
        sa.Column("label", sa.JSON(), nullable=False, comment="{locale: label}; empty for texts"),
        sa.Column("body", sa.JSON(), nullable=False, comment="{locale: argument or text}"),
        sa.Column("is_active", sa.Boolean(), nullable=False, comment="hidden choices stay for past answers"),
        sa.Column("updated_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_content")),
        sa.UniqueConstraint("kind", "key", name="uq_invitation_content_key"),
    )
    op.create_table(
        "invitation_opt_outs",
        sa.Column("email_hash", sa.String(length=64), nullable=False, comment="sha256 of the lower-cased address"),
        sa.Column("created_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=False),
        sa.PrimaryKeyConstraint("email_hash", name=op.f("pk_invitation_opt_outs")),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inviter_id", sa.Integer(), nullable=True, comment="the member who sent it; None when anonymous"),
        sa.Column("instance_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("sender_first_name", sa.String(length=50), nullable=False),
        sa.Column("sender_last_name", sa.String(length=50), nullable=False),
        sa.Column("sender_email", sa.String(length=254), nullable=False, comment="lower-cased"),
        sa.Column("friend_first_name", sa.String(length=50), nullable=False),
        sa.Column("friend_email", sa.String(length=254), nullable=False, comment="lower-cased"),
        sa.Column("answers", sa.JSON(), nullable=False, comment="age, gender, position, project, interests, reasons"),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=False),
        sa.Column(
            "joined_user_id", sa.Integer(), nullable=True, comment="the account the friend created through the link"
        ),
        sa.Column("joined_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["workflow_instances.id"],
            name=op.f("fk_invitations_instance_id_workflow_instances"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["inviter_id"], ["users.id"], name=op.f("fk_invitations_inviter_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["joined_user_id"], ["users.id"], name=op.f("fk_invitations_joined_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index("ix_invitations_friend", ["friend_email", "created_at"], unique=False)
        batch_op.create_index("ix_invitations_inviter", ["inviter_id", "created_at"], unique=False)
        batch_op.create_index("ix_invitations_sender", ["sender_email", "created_at"], unique=False)

    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("headers", sa.JSON(), nullable=True, comment="extra headers: List-Unsubscribe"))


def downgrade() -> None:
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.drop_column("headers")

    # MySQL refuses to drop an index a foreign key needs: dropping the table takes its indexes along.
    op.drop_table("invitations")
    op.drop_table("invitation_opt_outs")
    op.drop_table("invitation_content")
