"""Workflow analytics: the indexes the analyst dashboard and ``engagement stats`` read (funnel, time in
state, stuck instances), the stored figures they show, and the log of sla alerts (one per instance
and state entry).

Revision ID: 0009_workflow_analytics
Revises: 0008_roles
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0009_workflow_analytics"
down_revision: str | Sequence[str] | None = "0008_roles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # On a large log, MariaDB builds these online (ALGORITHM=INPLACE): writes go on meanwhile.
    with op.batch_alter_table("workflow_transitions", schema=None) as batch_op:
        batch_op.create_index("ix_workflow_transitions_source", ["workflow_id", "source", "duration_ms"], unique=False)
        batch_op.create_index("ix_workflow_transitions_dest", ["workflow_id", "dest", "instance_id"], unique=False)
    with op.batch_alter_table("workflow_instances", schema=None) as batch_op:
        batch_op.create_index(
            "ix_workflow_instances_entered", ["workflow_id", "state", "abandoned_at", "entered_at"], unique=False
        )
    op.create_table(
        "workflow_sla_alerts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("instance_id", BIG_ID, nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column(
            "entered_at", TIMESTAMP, nullable=False, comment="when the instance entered the state it was stuck in"
        ),
        sa.Column("alerted_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["workflow_instances.id"],
            name=op.f("fk_workflow_sla_alerts_instance_id_workflow_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_sla_alerts")),
        sa.UniqueConstraint("instance_id", "entered_at", name="uq_workflow_sla_alerts_entry"),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "workflow_analytics_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("filters_key", sa.String(length=191), nullable=False, comment="version|since|until|source, '' for any"),
        sa.Column("figures", sa.JSON(), nullable=False, comment="Analysis.as_dict()"),
        sa.Column("computed_at", TIMESTAMP, nullable=False),
        sa.Column("compute_ms", sa.Integer(), nullable=False, comment="how long computing took"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_analytics_snapshots")),
        sa.UniqueConstraint("workflow_id", "filters_key", name="uq_workflow_analytics_snapshots_key"),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("workflow_analytics_snapshots")
    op.drop_table("workflow_sla_alerts")
    with op.batch_alter_table("workflow_instances", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_instances_entered")
    with op.batch_alter_table("workflow_transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_transitions_dest")
        batch_op.drop_index("ix_workflow_transitions_source")
