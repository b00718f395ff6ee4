"""Workflow drafts: what a visitor typed on a step left through a `validate: false` transition.

Revision ID: 0014_workflow_drafts
Revises: 0013_site_switches
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_workflow_drafts"
down_revision: str | Sequence[str] | None = "0013_site_switches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_instances") as batch:
        batch.add_column(sa.Column(
            "drafts", sa.JSON(), nullable=True,
            comment="per state, what was typed and left unvalidated (validate: false); never copied into data"))


def downgrade() -> None:
    with op.batch_alter_table("workflow_instances") as batch:
        batch.drop_column("drafts")
