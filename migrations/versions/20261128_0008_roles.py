"""Roles: the analysts' permission to see personal data, the log of every role change, an index on
the role (the admins are counted and locked when one is demoted) and one for the instance explorer's
date range.

Revision ID: 0008_roles
Revises: 0007_campaigns
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008_roles"
down_revision: str | Sequence[str] | None = "0007_campaigns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "can_see_personal_data",
                sa.Boolean(),
                server_default="0",
                nullable=False,
                comment="an analyst may see names, emails and answers (admins always may); granted by an admin",
            )
        )
        batch_op.create_index(batch_op.f("ix_users_role"), ["role"], unique=False)
    op.create_table(
        "role_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "user_id", sa.Integer(), nullable=True, comment="whose role changed (None once the account is deleted)"
        ),
        sa.Column(
            "actor_id", sa.Integer(), nullable=True, comment="the admin who changed it; None: the command line"
        ),
        sa.Column("from_role", sa.String(length=16), nullable=False),
        sa.Column("to_role", sa.String(length=16), nullable=False),
        sa.Column("from_personal_data", sa.Boolean(), nullable=False, comment="can_see_personal_data before"),
        sa.Column("to_personal_data", sa.Boolean(), nullable=False, comment="can_see_personal_data after"),
        sa.Column("at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_role_changes_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_role_changes_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_changes")),
    )
    with op.batch_alter_table("role_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_changes_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("workflow_instances", schema=None) as batch_op:
        batch_op.create_index("ix_workflow_instances_started", ["workflow_id", "started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("workflow_instances", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_instances_started")

    op.drop_table("role_changes")  # its index goes with it (MariaDB refuses to drop one a foreign key uses)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_role"))
        batch_op.drop_column("can_see_personal_data")
