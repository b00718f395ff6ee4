"""Media: uploaded images, and a cover image for events, committees and content pages.

Revision ID: 0012_media
Revises: 0011_search
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0012_media"
down_revision: str | Sequence[str] | None = "0011_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
COVERED = ("events", "committees", "content_pages")


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False, comment="storage path: <sha[:2]>/<sha256>.<ext>"),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False, comment="of the stored (re-encoded) file"),
        sa.Column("sha256", sa.String(length=64), nullable=False, comment="of the stored (re-encoded) file"),
        sa.Column("original_name", sa.String(length=255), nullable=False, comment="as uploaded; never a path"),
        sa.Column("alt", sa.String(length=300), server_default="", nullable=False),
        sa.Column("placeholder", sa.Text(), nullable=False, comment="data: URI of a 20 px blurred JPEG"),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_media_uploaded_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
        sa.UniqueConstraint("key", name=op.f("uq_media_key")),
        sa.UniqueConstraint("sha256", name=op.f("uq_media_sha256")),
        mysql_charset="utf8mb4",
    )
    for table in COVERED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("cover_media_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(op.f(f"fk_{table}_cover_media_id_media"), "media", ["cover_media_id"], ["id"],
                                     ondelete="SET NULL")


def downgrade() -> None:
    for table in COVERED:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"fk_{table}_cover_media_id_media"), type_="foreignkey")
            batch.drop_column("cover_media_id")
    op.drop_table("media")
