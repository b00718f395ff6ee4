"""initial: accounts, HTTP sessions, the outbox, mail messages and workflow state

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27 21:55:00

Hand-reviewed from autogenerate:
- UTCDateTime is stored as a plain DateTime (naive UTC), so the revision imports no application code;
- tables are created parent first and dropped child first; indexes go with their table
  (MariaDB refuses to drop an index that backs a foreign key on its own);
- constraint and index names follow engagement.db.NAMING_CONVENTION (op.f marks them final);
- server defaults only where the models declare them, so autogenerate shows no drift;
- MariaDB tables are utf8mb4 whatever the database's default character set is.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# UTC timestamps; microseconds kept on MySQL/MariaDB (time in state, ordering of the log).
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")

# revision identifiers, used by Alembic.
revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_TABLE = {"mysql_charset": "utf8mb4"}
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False, comment="stored lower-cased"),
        sa.Column("password_hash", sa.String(length=255), nullable=True, comment="argon2id"),
        sa.Column("first_name", sa.String(length=50), server_default="", nullable=False),
        sa.Column("last_name", sa.String(length=50), server_default="", nullable=False),
        sa.Column("role", sa.String(length=16), server_default="member", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        **MYSQL_TABLE,
    )

    op.create_table(
        "http_sessions",
        sa.Column("store_id", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql"), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_http_sessions")),
        **MYSQL_TABLE,
    )
    op.create_index(op.f("ix_http_sessions_expires_at"), "http_sessions", ["expires_at"])

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False, comment="name of the registered handler"),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("delivered_at", TIMESTAMP, nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True, comment="exception type and message, no PII"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        **MYSQL_TABLE,
    )
    op.create_index(op.f("ix_outbox_pending"), "outbox_messages", ["delivered_at", "id"])

    op.create_table(
        "mail_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("to", sa.JSON(), nullable=False),
        sa.Column("cc", sa.JSON(), nullable=False),
        sa.Column("reply_to", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=998), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=True),
        sa.Column("template", sa.String(length=64), nullable=True, comment="template name, or None for inline mails"),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("backend", sa.String(length=16), nullable=True, comment="what delivered it: outbox, mailjet"),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_messages")),
        **MYSQL_TABLE,
    )
    op.create_index(op.f("ix_mail_messages_status"), "mail_messages", ["status"])

    op.create_table(
        "workflow_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text().with_variant(mysql.LONGTEXT(), "mysql"), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False, comment="file name it came from"),
        sa.Column("checksum", sa.String(length=64), nullable=False, comment="sha256 of source"),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_definitions")),
        sa.UniqueConstraint("workflow_id", "version", name=op.f("uq_workflow_definitions_version")),
        **MYSQL_TABLE,
    )
    op.create_index(op.f("ix_workflow_definitions_workflow_id"), "workflow_definitions", ["workflow_id"])

    op.create_table(
        "workflow_instances",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False, comment="answers so far"),
        sa.Column("history", sa.JSON(), nullable=False, comment="states left, for Back"),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("is_completed", sa.Boolean(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("entered_at", TIMESTAMP, nullable=False, comment="when the current state was entered"),
        sa.Column("completed_at", TIMESTAMP, nullable=True),
        sa.Column("abandoned_at", TIMESTAMP, nullable=True, comment="set when the visitor restarted"),
        sa.Column("lock_version", sa.Integer(), nullable=False, comment="optimistic lock and step token"),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_workflow_instances_actor_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_instances")),
        **MYSQL_TABLE,
    )
    op.create_index(
        op.f("ix_workflow_instances_actor"), "workflow_instances", ["actor_id", "workflow_id", "is_completed"]
    )
    op.create_index(op.f("ix_workflow_instances_state"), "workflow_instances", ["workflow_id", "version", "state"])

    op.create_table(
        "workflow_transitions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("instance_id", BIG_ID, nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("dest", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=False, comment="trigger name, or 'back' / 'restart'"),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False, comment="time spent in source before leaving"),
        sa.Column("changes", sa.JSON(), nullable=True, comment="answers given in the left state"),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["workflow_instances.id"],
            name=op.f("fk_workflow_transitions_instance_id_workflow_instances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_workflow_transitions_actor_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_transitions")),
        **MYSQL_TABLE,
    )
    op.create_index(op.f("ix_workflow_transitions_instance"), "workflow_transitions", ["instance_id", "id"])


def downgrade() -> None:
    # Children first; each table takes its indexes with it.
    for table in (
        "workflow_transitions",
        "workflow_instances",
        "workflow_definitions",
        "mail_messages",
        "outbox_messages",
        "http_sessions",
        "users",
    ):
        op.drop_table(table)
