"""Privacy: consent records and the texts they agreed to, the log of staff access to personal data, and what
retention needs (last activity of members, scrubbed instances, hashed invitation friends).

Revision ID: 0017_privacy
Revises: 0016_campaign_schedule
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0017_privacy"
down_revision: str | Sequence[str] | None = "0016_campaign_schedule"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
INSTANCE_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _moment(name: str, comment: str) -> sa.Column:
    return sa.Column(name, MOMENT, nullable=True, comment=comment)


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True, comment="whose; None: given in an anonymous instance"),
        sa.Column("instance_id", INSTANCE_ID, nullable=True, comment="the form it was given in"),
        sa.Column("kind", sa.String(length=64), nullable=False,
                  comment="terms, newsletter, charter...: the field's name"),
        sa.Column("given", sa.Boolean(), nullable=False, comment="True: given; False: withdrawn or left unticked"),
        sa.Column("text", sa.Text(), nullable=False, comment="the words shown, in the language shown"),
        sa.Column("document", sa.String(length=255), nullable=True, comment="the page the words linked, if any"),
        sa.Column("version", sa.String(length=64), nullable=False,
                  comment="sha256 of the words and of the linked page's text"),
        sa.Column("method", sa.String(length=100), nullable=False,
                  comment="form:WORKFLOW/STATE, account, profile, unsubscribe"),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["workflow_instances.id"],
                                name=op.f("fk_consent_records_instance_id_workflow_instances"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_consent_records_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    op.create_index("ix_consent_records_user", "consent_records", ["user_id", "kind", "id"])
    op.create_index("ix_consent_records_instance", "consent_records", ["instance_id"])
    op.create_table(
        "consent_texts",
        sa.Column("version", sa.String(length=64), nullable=False,
                  comment="sha256 of the words and of the linked page's text"),
        sa.Column("text", sa.Text(), nullable=False, comment="the words shown, in the language shown"),
        sa.Column("document", sa.String(length=255), nullable=True, comment="the page the words linked, if any"),
        sa.Column("document_title", sa.String(length=255), nullable=True, comment="that page's title then"),
        sa.Column("document_body", sa.Text(), nullable=True, comment="that page's text then"),
        sa.Column("first_shown_at", MOMENT, nullable=False, comment="when a consent was first recorded with it"),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_consent_texts")),
    )
    op.create_table(
        "data_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True, comment="who looked; None: the command line"),
        sa.Column("actor_role", sa.String(length=16), nullable=False, comment="their role then (or operator)"),
        sa.Column("action", sa.String(length=32), nullable=False,
                  comment="participants, explorer, audience_csv, export..."),
        sa.Column("target", sa.String(length=200), nullable=False,
                  comment="what: event:SLUG, instance:ID, audience:SPEC..."),
        sa.Column("subjects", sa.Integer(), nullable=False, comment="how many people's data it showed"),
        sa.Column("at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_data_access_log_actor_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_access_log")),
    )
    op.create_index("ix_data_access_log_at", "data_access_log", ["at"])
    op.create_table(
        "data_access_subjects",
        sa.Column("access_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["access_id"], ["data_access_log.id"],
                                name=op.f("fk_data_access_subjects_access_id_data_access_log"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_data_access_subjects_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("access_id", "user_id", name=op.f("pk_data_access_subjects")),
    )
    op.create_index("ix_data_access_subjects_user", "data_access_subjects", ["user_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(_moment("last_seen_at", "last login or activation: members inactive for years are warned, "
                                                 "then erased"))
        batch.add_column(_moment("retention_warned_at",
                                 "told their inactive account will be erased (cleared when they come back)"))
    # Members who never logged in since are counted from their activation (or sign-up).
    op.execute("UPDATE users SET last_seen_at = COALESCE(activated_at, created_at)")
    with op.batch_alter_table("workflow_instances") as batch:
        batch.add_column(_moment("scrubbed_at",
                                 "its personal answers were removed (retention or erasure); its states still count"))
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(sa.Column("friend_email_hash", sa.String(length=64), nullable=True,
                                   comment="keyed hash of the friend's address, kept once the address is erased"))
        batch.add_column(_moment("friend_hashed_at",
                                 "the friend's address and name were erased (retention), only the hash is left"))
        batch.create_index(batch.f("ix_invitations_friend_email_hash"), ["friend_email_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.drop_index(batch.f("ix_invitations_friend_email_hash"))
        batch.drop_column("friend_hashed_at")
        batch.drop_column("friend_email_hash")
    with op.batch_alter_table("workflow_instances") as batch:
        batch.drop_column("scrubbed_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("retention_warned_at")
        batch.drop_column("last_seen_at")
    # Dropping a table drops its indexes (MariaDB refuses to drop one a foreign key needs first).
    op.drop_table("data_access_subjects")
    op.drop_table("data_access_log")
    op.drop_table("consent_texts")
    op.drop_table("consent_records")
