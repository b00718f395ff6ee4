"""Workflow analytics rollup: per (workflow, start day, version, source, state) counts and sorted exit
durations, so that the dashboard no longer reads the whole transition log; the index that finds the
instances changed since the last refresh. The log's two analytics indexes go: nothing reads them now,
and every step of every visitor paid for them.

The rollup starts empty: the first refresh (the beat's, or ``engagement stats <id> --rebuild``) builds it.

Revision ID: 0010_workflow_rollup
Revises: 0009_workflow_analytics
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0010_workflow_rollup"
down_revision: str | Sequence[str] | None = "0009_workflow_analytics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "workflow_rollups",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False, comment="the instances' start day (UTC)"),
        sa.Column("version", sa.Integer(), nullable=False, comment="the instances' current version"),
        sa.Column("source", sa.String(length=16), nullable=False, comment="invitation or direct"),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("live", sa.Integer(), nullable=False, comment="instances in progress standing in this state"),
        sa.Column("abandoned", sa.Integer(), nullable=False, comment="abandoned instances that stood in this state"),
        sa.Column("completed", sa.Integer(), nullable=False, comment="completed instances ending in this state"),
        sa.Column("reached", sa.Integer(), nullable=False,
                  comment="instances that entered this state at least once (by the log)"),
        sa.Column("exits", sa.Integer(), nullable=False, comment="logged transitions out of this state"),
        sa.Column("durations", sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql"), nullable=True,
                  comment="the exits' durations in ms, sorted, as zlib-compressed int64 deltas"),
        sa.Column("live_since", sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql"), nullable=True,
                  comment="when the live instances entered the state, in seconds since 1970, encoded the same way"),
        sa.Column("live_ids", sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql"), nullable=True,
                  comment="those instances' numbers in the same order (oldest entry first), as zlib-compressed int64"),
        sa.Column("completed_on", sa.JSON(), nullable=True, comment="completions per UTC day, for final states"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_rollups")),
        sa.UniqueConstraint("workflow_id", "day", "version", "source", "state", name="uq_workflow_rollups_key"),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "workflow_rollup_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("through", TIMESTAMP, nullable=True, comment="instances updated up to then are counted"),
        sa.Column("refreshed_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_rollup_marks")),
        mysql_charset="utf8mb4",
    )
    with op.batch_alter_table("workflow_instances", schema=None) as batch_op:
        batch_op.create_index("ix_workflow_instances_updated", ["updated_at"], unique=False)
    with op.batch_alter_table("workflow_transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_transitions_dest")
        batch_op.drop_index("ix_workflow_transitions_source")


def downgrade() -> None:
    with op.batch_alter_table("workflow_transitions", schema=None) as batch_op:
        batch_op.create_index("ix_workflow_transitions_source", ["workflow_id", "source", "duration_ms"], unique=False)
        batch_op.create_index("ix_workflow_transitions_dest", ["workflow_id", "dest", "instance_id"], unique=False)
    with op.batch_alter_table("workflow_instances", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_instances_updated")
    op.drop_table("workflow_rollup_marks")
    op.drop_table("workflow_rollups")
