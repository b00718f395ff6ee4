"""Account tokens: random, single-use, expiring links for activation and password reset.

Revision ID: 0002_account_tokens
Revises: 0001_initial
Create Date: 2026-11-27

Only a SHA-256 of each token is stored.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002_account_tokens"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False, comment="activation or reset"),
        sa.Column("token_hash", sa.String(length=64), nullable=False, comment="sha256 of the token sent"),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_account_tokens_user", "account_tokens", ["user_id", "purpose"])


def downgrade() -> None:
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a foreign key uses).
    op.drop_table("account_tokens")
