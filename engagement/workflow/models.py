"""Persistent workflow state: published definitions, live instances and their transition log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from engagement.db import Base, utcnow

BIG_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only


class WorkflowDefinition(Base):
    """One published version of a workflow file; the active one serves new instances."""

    __tablename__ = "workflow_definitions"
    __table_args__ = (UniqueConstraint("workflow_id", "version", name="uq_workflow_definitions_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    source: Mapped[str] = mapped_column(Text().with_variant(mysql.LONGTEXT(), "mysql"))
    source_name: Mapped[str] = mapped_column(String(255), comment="file name it came from")
    checksum: Mapped[str] = mapped_column(String(64), comment="sha256 of source")
    is_active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkflowInstance(Base):
    """One person's walk through one version of a workflow."""

    __tablename__ = "workflow_instances"
    __table_args__ = (
        Index("ix_workflow_instances_state", "workflow_id", "version", "state"),
        Index("ix_workflow_instances_actor", "actor_id", "workflow_id", "is_completed"),
        Index("ix_workflow_instances_started", "workflow_id", "started_at"),  # the explorer's date range
        # Stuck past a state's sla: live ones (abandoned_at NULL) by state, oldest entry first.
        Index("ix_workflow_instances_entered", "workflow_id", "state", "abandoned_at", "entered_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    state: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, comment="answers so far")
    history: Mapped[list[str]] = mapped_column(JSON, default=list, comment="states left, for Back")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    is_completed: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    entered_at: Mapped[datetime] = mapped_column(default=utcnow, comment="when the current state was entered")
    completed_at: Mapped[datetime | None]
    abandoned_at: Mapped[datetime | None] = mapped_column(comment="set when the visitor restarted")
    lock_version: Mapped[int] = mapped_column(default=1, comment="optimistic lock and step token")

    __mapper_args__ = {"version_id_col": lock_version}


class WorkflowTransition(Base):
    """Append-only log: one row per fired transition (automatic hops included)."""

    __tablename__ = "workflow_transitions"
    __table_args__ = (
        Index("ix_workflow_transitions_instance", "instance_id", "id"),
        # Analytics: percentiles of time in state walk this index (ORDER BY duration_ms LIMIT 1 OFFSET k);
        # the funnel counts the instances that entered each state on the second.
        Index("ix_workflow_transitions_source", "workflow_id", "source", "duration_ms"),
        Index("ix_workflow_transitions_dest", "workflow_id", "dest", "instance_id"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instances.id", ondelete="CASCADE"))
    workflow_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    source: Mapped[str] = mapped_column(String(64))
    dest: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(64), comment="trigger name, or 'back' / 'restart'")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int] = mapped_column(BigInteger, comment="time spent in source before leaving")
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="answers given in the left state")


class WorkflowSlaAlert(Base):
    """An instance reported stuck past its state's ``sla``: one row per state entry, so never twice."""

    __tablename__ = "workflow_sla_alerts"
    __table_args__ = (UniqueConstraint("instance_id", "entered_at", name="uq_workflow_sla_alerts_entry"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instances.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(comment="when the instance entered the state it was stuck in")
    alerted_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkflowAnalyticsSnapshot(Base):
    """The figures of one workflow under one set of filters, as last computed (the dashboard's cache)."""

    __tablename__ = "workflow_analytics_snapshots"
    __table_args__ = (UniqueConstraint("workflow_id", "filters_key", name="uq_workflow_analytics_snapshots_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(64))
    filters_key: Mapped[str] = mapped_column(String(191), comment="version|since|until|source, '' for any")
    figures: Mapped[dict[str, Any]] = mapped_column(comment="Analysis.as_dict()")
    computed_at: Mapped[datetime]
    compute_ms: Mapped[int] = mapped_column(comment="how long computing took")
