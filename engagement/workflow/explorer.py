"""Finding a workflow's instances for the analysts: filters, keyset pages for the screen and for exports."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.workflow.models import WorkflowDefinition, WorkflowInstance

STATUSES = ("in_progress", "completed", "abandoned")
EXPORT_PAGE_SIZE = 1000


@dataclass(frozen=True)
class InstanceFilter:
    """What the analyst asks for; None means any."""

    workflow_id: str
    instance_id: int | None = None
    state: str | None = None
    version: int | None = None
    status: str | None = None  # one of STATUSES
    started_from: datetime | None = None  # inclusive
    started_before: datetime | None = None  # exclusive


def status_of(instance: WorkflowInstance) -> str:
    if instance.is_completed:
        return "completed"
    return "abandoned" if instance.abandoned_at is not None else "in_progress"


def _conditions(wanted: InstanceFilter) -> list[Any]:
    where: list[Any] = [WorkflowInstance.workflow_id == wanted.workflow_id]
    if wanted.instance_id is not None:
        where.append(WorkflowInstance.id == wanted.instance_id)
    if wanted.version is not None:
        where.append(WorkflowInstance.version == wanted.version)
    if wanted.state:
        where.append(WorkflowInstance.state == wanted.state)
    if wanted.status == "completed":
        where.append(WorkflowInstance.is_completed.is_(True))
    elif wanted.status == "abandoned":
        where += [WorkflowInstance.is_completed.is_(False), WorkflowInstance.abandoned_at.is_not(None)]
    elif wanted.status == "in_progress":
        where += [WorkflowInstance.is_completed.is_(False), WorkflowInstance.abandoned_at.is_(None)]
    if wanted.started_from is not None:
        where.append(WorkflowInstance.started_at >= wanted.started_from)
    if wanted.started_before is not None:
        where.append(WorkflowInstance.started_at < wanted.started_before)
    return where


def page(session: Session, wanted: InstanceFilter, *, before: int | None = None,
         size: int = 50) -> tuple[list[WorkflowInstance], int | None]:
    """The newest matching instances with an id below ``before``, and the ``before`` of the next page
    (None on the last one)."""
    query = select(WorkflowInstance).where(*_conditions(wanted))
    if before is not None:
        query = query.where(WorkflowInstance.id < before)
    rows = list(session.scalars(query.order_by(WorkflowInstance.id.desc()).limit(size + 1)))
    return rows[:size], (rows[size - 1].id if len(rows) > size else None)


def export_pages(session: Session, wanted: InstanceFilter,
                 size: int = EXPORT_PAGE_SIZE) -> Iterator[list[WorkflowInstance]]:
    """Every matching instance, oldest first, ``size`` at a time (keyset: each page is one indexed query)."""
    after = 0
    while True:
        rows = list(session.scalars(select(WorkflowInstance).where(*_conditions(wanted), WorkflowInstance.id > after)
                                    .order_by(WorkflowInstance.id).limit(size)))
        if not rows:
            return
        after = rows[-1].id
        yield rows  # the session's identity map holds clean rows weakly: written pages are let go


def actors(session: Session, wanted: InstanceFilter) -> list[int]:
    """The accounts whose instances match (an export names them: the access log says so)."""
    query = select(WorkflowInstance.actor_id).where(*_conditions(wanted)).distinct()
    return [actor for actor in session.scalars(query) if actor is not None]


def versions(session: Session, workflow_id: str) -> Sequence[int]:
    """The published versions of a workflow (empty: no such workflow)."""
    return session.scalars(select(WorkflowDefinition.version).where(WorkflowDefinition.workflow_id == workflow_id)
                           .order_by(WorkflowDefinition.version)).all()
