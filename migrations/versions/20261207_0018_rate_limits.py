"""Rate limit counters in the database, shared by every worker and pod when there is no Redis
(engagement/ratelimits.py; with SQLite they live in a file of their own, and this table stays empty).

Revision ID: 0018_rate_limits
Revises: 0017_privacy
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_rate_limits"
down_revision: str | Sequence[str] | None = "0017_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counters",
        sa.Column("key_hash", sa.String(length=64), nullable=False,
                  comment="sha256 of the limiter's key (which names a client or account)"),
        sa.Column("hits", sa.Integer(), nullable=False, comment="hits in the window"),
        sa.Column("expires_at", sa.Double(), nullable=False, comment="end of the window, Unix time"),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_rate_limit_counters")),
    )
    op.create_index(op.f("ix_rate_limit_counters_expires_at"), "rate_limit_counters", ["expires_at"])


def downgrade() -> None:
    op.drop_table("rate_limit_counters")
