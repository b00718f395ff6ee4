"""Persistent workflow state: published definitions, live instances and their transition log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
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
        # The analytics rollup finds the days whose instances changed since its last refresh.
        Index("ix_workflow_instances_updated", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    state: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, comment="answers so far")
    history: Mapped[list[str]] = mapped_column(JSON, default=list, comment="states left, for Back")
    drafts: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, comment="per state, what was typed and left unvalidated (validate: false); never copied into data")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    is_completed: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    entered_at: Mapped[datetime] = mapped_column(default=utcnow, comment="when the current state was entered")
    completed_at: Mapped[datetime | None]
    abandoned_at: Mapped[datetime | None] = mapped_column(comment="set when the visitor restarted")
    lock_version: Mapped[int] = mapped_column(default=1, comment="optimistic lock and step token")
    scrubbed_at: Mapped[datetime | None] = mapped_column(
        comment="its personal answers were removed (retention or erasure); its states still count")

    __mapper_args__ = {"version_id_col": lock_version}


class WorkflowTransition(Base):
    """Append-only log: one row per fired transition (automatic hops included)."""

    __tablename__ = "workflow_transitions"
    __table_args__ = (Index("ix_workflow_transitions_instance", "instance_id", "id"),)

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


class WorkflowRollup(Base):
    """What the instances of one workflow started on one UTC day, of one version and one source, did
    in one state: the analyst dashboard sums these rows instead of reading the whole log (rollup.py)."""

    __tablename__ = "workflow_rollups"
    __table_args__ = (UniqueConstraint("workflow_id", "day", "version", "source", "state",
                                       name="uq_workflow_rollups_key"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(comment="the instances' start day (UTC)")
    version: Mapped[int] = mapped_column(comment="the instances' current version")
    source: Mapped[str] = mapped_column(String(16), comment="invitation or direct")
    state: Mapped[str] = mapped_column(String(64))
    live: Mapped[int] = mapped_column(comment="instances in progress standing in this state")
    abandoned: Mapped[int] = mapped_column(comment="abandoned instances that stood in this state")
    completed: Mapped[int] = mapped_column(comment="completed instances ending in this state")
    reached: Mapped[int] = mapped_column(comment="instances that entered this state at least once (by the log)")
    exits: Mapped[int] = mapped_column(comment="logged transitions out of this state")
    durations: Mapped[bytes | None] = mapped_column(
        LargeBinary().with_variant(mysql.LONGBLOB(), "mysql"),
        comment="the exits' durations in ms, sorted, as zlib-compressed int64 deltas")
    live_since: Mapped[bytes | None] = mapped_column(
        LargeBinary().with_variant(mysql.LONGBLOB(), "mysql"),
        comment="when the live instances entered the state, in seconds since 1970, encoded the same way")
    live_ids: Mapped[bytes | None] = mapped_column(
        LargeBinary().with_variant(mysql.LONGBLOB(), "mysql"),
        comment="those instances' numbers in the same order (oldest entry first), as zlib-compressed int64")
    completed_on: Mapped[dict[str, Any] | None] = mapped_column(comment="completions per UTC day, for final states")


class WorkflowRollupMark(Base):
    """How far the rollup has read (one row): the newest ``updated_at`` of the instances it covered."""

    __tablename__ = "workflow_rollup_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    through: Mapped[datetime | None] = mapped_column(comment="instances updated up to then are counted")
    refreshed_at: Mapped[datetime | None]
