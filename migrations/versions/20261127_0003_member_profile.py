"""Member profile: activation time, birth date, address, interests, newsletter.

Revision ID: 0003_member_profile
Revises: 0002_account_tokens
Create Date: 2026-11-27

Accounts that exist before this revision were created by an operator and could already log in:
they are marked activated at their creation time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0003_member_profile"
down_revision: str | Sequence[str] | None = "0002_account_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("activated_at", TIMESTAMP, nullable=True,
                                   comment="email confirmed; None: cannot log in yet"))
        batch.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("address", sa.JSON(), nullable=True,
                                   comment="street, postal_code, city (INSEE), city_name, country (ISO alpha-2)"))
        batch.add_column(sa.Column("interests", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("has_newsletter", sa.Boolean(), server_default="0", nullable=False))
    op.execute("UPDATE users SET interests = '[]', activated_at = created_at")
    with op.batch_alter_table("users") as batch:
        batch.alter_column("interests", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        for column in ("has_newsletter", "interests", "address", "birth_date", "activated_at"):
            batch.drop_column(column)
