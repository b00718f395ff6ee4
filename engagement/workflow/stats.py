"""Where everyone stands: counts per state, and the nearest-rank definition of a percentile.

The analyst dashboard and ``engagement stats`` build on these figures (see analytics.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engagement.workflow.models import WorkflowInstance

PERCENTILES = (50, 90, 99)


@dataclass(frozen=True)
class Filters:
    """Which instances to count; None means any."""

    version: int | None = None
    since: datetime | None = None  # started at or after (aware UTC)
    until: datetime | None = None  # started before
    source: str | None = None  # one of analytics.SOURCES

    @property
    def narrows_instances(self) -> bool:
        """Whether the transition log must be joined to its instances (the version is on both)."""
        return self.since is not None or self.until is not None or self.source is not None


@dataclass
class WorkflowStats:
    workflow_id: str
    started: int = 0
    completed: int = 0
    abandoned: int = 0
    in_progress: int = 0
    by_state: dict[str, int] = field(default_factory=dict)  # live (unfinished, not abandoned) per state
    by_version: dict[int, int] = field(default_factory=dict)
    ended_in: dict[str, int] = field(default_factory=dict)  # every instance (live, abandoned, completed) per state

    @property
    def completion_rate(self) -> float:
        return round(self.completed / self.started, 4) if self.started else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"workflow": self.workflow_id, "started": self.started, "completed": self.completed,
                "abandoned": self.abandoned, "in_progress": self.in_progress,
                "completion_rate": self.completion_rate, "by_state": self.by_state,
                "by_version": {str(k): v for k, v in sorted(self.by_version.items())}}


def compute(session: Session, workflow_id: str, since: datetime | None = None) -> WorkflowStats:
    where = [WorkflowInstance.workflow_id == workflow_id]
    if since is not None:
        where.append(WorkflowInstance.started_at >= since)
    return count_instances(session, workflow_id, where)


def count_instances(session: Session, workflow_id: str, where: Sequence[Any]) -> WorkflowStats:
    """Started, completed, abandoned and live per state of the instances matching ``where``."""
    stats = WorkflowStats(workflow_id)
    rows = session.execute(
        select(WorkflowInstance.version, WorkflowInstance.state, WorkflowInstance.is_completed,
               WorkflowInstance.abandoned_at.is_not(None), func.count())
        .where(*where).group_by(WorkflowInstance.version, WorkflowInstance.state, WorkflowInstance.is_completed,
                                WorkflowInstance.abandoned_at.is_not(None)))
    for version, state, completed, abandoned, count in rows:
        stats.started += count
        stats.by_version[version] = stats.by_version.get(version, 0) + count
        stats.ended_in[state] = stats.ended_in.get(state, 0) + count
        if completed:
            stats.completed += count
        elif abandoned:
            stats.abandoned += count
        else:
            stats.in_progress += count
            stats.by_state[state] = stats.by_state.get(state, 0) + count
    return stats


def nearest_rank(percent: int, count: int) -> int:
    """The 1-based rank of the ``percent``-th percentile among ``count`` sorted values (nearest-rank
    definition: the smallest value with at least ``percent`` % of the values at or below it)."""
    return max(1, -(-percent * count // 100))
