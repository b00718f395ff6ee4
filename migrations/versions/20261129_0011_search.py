"""Search: content pages, the local index's records, and its full-text index (FTS5 on SQLite, FULLTEXT on
MySQL/MariaDB; not in the models, see engagement/search/models.py).

The index starts empty: run ``engagement search reindex`` once after upgrading.

Revision ID: 0011_search
Revises: 0010_workflow_rollup
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0011_search"
down_revision: str | Sequence[str] | None = "0010_workflow_rollup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
# The same statements as engagement.search.models (a revision never imports application code).
SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(title, words, kind, department, "
    "content='search_records', content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='2 3', "
    "detail='column')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts_vocab USING fts5vocab(search_fts, 'row')",
    "CREATE TRIGGER IF NOT EXISTS search_records_fts_insert AFTER INSERT ON search_records BEGIN "
    "INSERT INTO search_fts(rowid, title, words, kind, department) "
    "VALUES (new.id, new.title, new.words, new.kind, new.department); "
    "END",
    "CREATE TRIGGER IF NOT EXISTS search_records_fts_delete AFTER DELETE ON search_records BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, words, kind, department) "
    "VALUES ('delete', old.id, old.title, old.words, old.kind, old.department); END",
    "CREATE TRIGGER IF NOT EXISTS search_records_fts_update AFTER UPDATE ON search_records BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, words, kind, department) "
    "VALUES ('delete', old.id, old.title, old.words, old.kind, old.department); "
    "INSERT INTO search_fts(rowid, title, words, kind, department) "
    "VALUES (new.id, new.title, new.words, new.kind, new.department); "
    "END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS search_records_fts_update",
    "DROP TRIGGER IF EXISTS search_records_fts_delete",
    "DROP TRIGGER IF EXISTS search_records_fts_insert",
    "DROP TABLE IF EXISTS search_fts_vocab",
    "DROP TABLE IF EXISTS search_fts",
)
MYSQL_CREATE = ("CREATE FULLTEXT INDEX ix_search_records_words_fulltext ON search_records (title, words)",)


def _dialect() -> str:
    return op.get_context().dialect.name


def upgrade() -> None:
    op.create_table(
        "content_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False, comment="plain text; blank lines separate paragraphs"),
        sa.Column("is_published", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_pages")),
        sa.UniqueConstraint("slug", name=op.f("uq_content_pages_slug")),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "search_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False, comment="committee-12, event-5, page-3"),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="committee, event or page"),
        sa.Column("department", sa.String(length=3), nullable=True),
        sa.Column("title", sa.Text(), nullable=False, comment="the title's folded words (no accents, lower case)"),
        sa.Column("words", sa.Text(), nullable=False, comment="folded words of the place and summary"),
        sa.Column("record", sa.JSON(), nullable=False, comment="what a result shows: the record as sent to Algolia"),
        sa.Column("expires_at", TIMESTAMP, nullable=True,
                  comment="no longer found from then (an event's end); None: never"),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_records")),
        sa.UniqueConstraint("object_id", name=op.f("uq_search_records_object_id")),
        mysql_charset="utf8mb4",
    )
    with op.batch_alter_table("search_records", schema=None) as batch_op:
        batch_op.create_index("ix_search_records_kind", ["kind", "department"], unique=False)
    if _dialect() == "sqlite":
        for statement in SQLITE_CREATE:
            op.execute(statement)
    elif _dialect() in ("mysql", "mariadb"):
        for statement in MYSQL_CREATE:
            op.execute(statement)


def downgrade() -> None:
    if _dialect() == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
    with op.batch_alter_table("search_records", schema=None) as batch_op:
        batch_op.drop_index("ix_search_records_kind")
    op.drop_table("search_records")
    op.drop_table("content_pages")
