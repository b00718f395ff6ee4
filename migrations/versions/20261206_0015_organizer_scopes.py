"""Organizer scopes: what each organizer may manage (national, a department, a committee) and the log
of every scope granted or revoked. Every organizer keeps the powers they had: each is granted the
national scope, and the grant is logged (by nobody: the migration).

Revision ID: 0015_organizer_scopes
Revises: 0014_workflow_drafts
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0015_organizer_scopes"
down_revision: str | Sequence[str] | None = "0014_workflow_drafts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    op.create_table(
        "organizer_scopes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False,
                  comment="national, department:CODE or committee:SLUG"),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="national, department or committee"),
        sa.Column("department", sa.String(length=3), nullable=True, comment="a department scope's code"),
        sa.Column("committee_id", sa.Integer(), nullable=True, comment="a committee scope's committee"),
        sa.Column("granted_by_id", sa.Integer(), nullable=True,
                  comment="None: the command line or a migration"),
        sa.Column("granted_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["committee_id"], ["committees.id"],
                                name=op.f("fk_organizer_scopes_committee_id_committees"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["granted_by_id"], ["users.id"],
                                name=op.f("fk_organizer_scopes_granted_by_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_organizer_scopes_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizer_scopes")),
        sa.UniqueConstraint("user_id", "scope", name="uq_organizer_scopes_user_scope"),
    )
    with op.batch_alter_table("organizer_scopes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organizer_scopes_committee_id"), ["committee_id"], unique=False)
    op.create_table(
        "scope_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True,
                  comment="whose scope changed (None once the account is deleted)"),
        sa.Column("actor_id", sa.Integer(), nullable=True,
                  comment="the admin who changed it; None: the command line"),
        sa.Column("action", sa.String(length=8), nullable=False, comment="grant or revoke"),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_scope_changes_actor_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_scope_changes_user_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scope_changes")),
    )
    with op.batch_alter_table("scope_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scope_changes_user_id"), ["user_id"], unique=False)
    _organizers_stay_national()


def _organizers_stay_national() -> None:
    """Every organizer so far could manage everything: they keep it, through a logged national scope.
    INSERT ... SELECT, so that the SQL printed by `engagement db upgrade --sql` does it too."""
    now = datetime.now(UTC).replace(tzinfo=None)  # stored naive UTC, as UTCDateTime does
    users = sa.table("users", sa.column("id", sa.Integer()), sa.column("role", sa.String()))
    organizers = sa.select(users.c.id).where(users.c.role == "organizer").order_by(users.c.id)
    scopes = sa.table("organizer_scopes", sa.column("user_id", sa.Integer()), sa.column("scope", sa.String()),
                      sa.column("kind", sa.String()), sa.column("granted_at", sa.DateTime()))
    changes = sa.table("scope_changes", sa.column("user_id", sa.Integer()), sa.column("action", sa.String()),
                       sa.column("scope", sa.String()), sa.column("at", sa.DateTime()))
    national, moment = sa.literal("national"), sa.literal(now, sa.DateTime())
    op.execute(scopes.insert().from_select(["user_id", "scope", "kind", "granted_at"],
                                           organizers.add_columns(national, national, moment)))
    op.execute(changes.insert().from_select(["user_id", "action", "scope", "at"],
                                            organizers.add_columns(sa.literal("grant"), national, moment)))


def downgrade() -> None:
    op.drop_table("scope_changes")  # their indexes go with them (MariaDB refuses to drop one a foreign key uses)
    op.drop_table("organizer_scopes")
