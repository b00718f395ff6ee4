"""Where everyone stands: counts per state (the analyst dashboard builds on these figures)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engagement.workflow.models import WorkflowInstance


@dataclass
class WorkflowStats:
    workflow_id: str
    started: int = 0
    completed: int = 0
    abandoned: int = 0
    in_progress: int = 0
    by_state: dict[str, int] = field(default_factory=dict)  # live (unfinished, not abandoned) per state
    by_version: dict[int, int] = field(default_factory=dict)

    @property
    def completion_rate(self) -> float:
        return round(self.completed / self.started, 4) if self.started else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"workflow": self.workflow_id, "started": self.started, "completed": self.completed,
                "abandoned": self.abandoned, "in_progress": self.in_progress,
                "completion_rate": self.completion_rate, "by_state": self.by_state,
                "by_version": {str(k): v for k, v in self.by_version.items()}}


def compute(session: Session, workflow_id: str, since: datetime | None = None) -> WorkflowStats:
    where = [WorkflowInstance.workflow_id == workflow_id]
    if since is not None:
        where.append(WorkflowInstance.started_at >= since)
    stats = WorkflowStats(workflow_id)
    rows = session.execute(
        select(WorkflowInstance.version, WorkflowInstance.state, WorkflowInstance.is_completed,
               WorkflowInstance.abandoned_at.is_not(None), func.count())
        .where(*where).group_by(WorkflowInstance.version, WorkflowInstance.state, WorkflowInstance.is_completed,
                                WorkflowInstance.abandoned_at.is_not(None)))
    for version, state, completed, abandoned, count in rows:
        stats.started += count
        stats.by_version[version] = stats.by_version.get(version, 0) + count
        if completed:
            stats.completed += count
        elif abandoned:
            stats.abandoned += count
        else:
            stats.in_progress += count
            stats.by_state[state] = stats.by_state.get(state, 0) + count
    return stats
