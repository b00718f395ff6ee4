"""Stored analyses: the dashboard and ``engagement stats`` read figures computed at most MAX_AGE ago.

Figures are computed from the rollup (rollup.py), refreshed first when it is older than its own
MAX_AGE: a fraction of a second, even for a million instances. The result is kept per (workflow,
filters) in ``workflow_analytics_snapshots`` so that a crowd of analysts reloading the page costs
one computation a minute. The beat task refreshes the rollup and the unfiltered figures of every
active workflow every REFRESH_SECONDS; other filters are computed on first demand.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engagement.db import transaction
from engagement.workflow.models import WorkflowAnalyticsSnapshot, WorkflowDefinition
from engagement.workflow.stats import Filters

REFRESH_SECONDS = 60.0
MAX_AGE = timedelta(minutes=1)
KEEP = timedelta(days=1)


def filters_key(filters: Filters) -> str:
    parts = (filters.version, filters.since and filters.since.isoformat(), filters.until and filters.until.isoformat(),
             filters.source)
    return "|".join("" if part is None else str(part) for part in parts)


def stored(session: Session, workflow_id: str, filters: Filters) -> WorkflowAnalyticsSnapshot | None:
    return session.scalar(select(WorkflowAnalyticsSnapshot).where(
        WorkflowAnalyticsSnapshot.workflow_id == workflow_id,
        WorkflowAnalyticsSnapshot.filters_key == filters_key(filters)))


def compute(factory: sessionmaker[Session], workflow_id: str, filters: Filters, *,
            now: datetime, fresh: bool = False) -> dict[str, Any] | None:
    """Compute the figures now (a read-only session: writers are never held) and store them; the
    rollup is refreshed first when older than its MAX_AGE, or always when ``fresh``.

    None: no such workflow.
    """
    from engagement.workflow import rollup  # numpy and the definitions: not for reading stored figures
    from engagement.workflow.analytics import analyse

    started = time.perf_counter()
    if fresh:
        rollup.refresh(factory, now)
    else:
        rollup.refresh_if_stale(factory, now)
    with factory() as session:
        analysis = analyse(session, workflow_id, filters, now=now)
    if analysis is None:
        return None
    figures = analysis.as_dict()
    with transaction(factory) as session:
        store(session, workflow_id, filters, figures, now, round((time.perf_counter() - started) * 1000))
    return figures


def store(session: Session, workflow_id: str, filters: Filters, figures: dict[str, Any], now: datetime,
          elapsed_ms: int) -> None:
    row = stored(session, workflow_id, filters)
    if row is not None:
        row.figures, row.computed_at, row.compute_ms = figures, now, elapsed_ms
        return
    try:
        with session.begin_nested():  # another process may store the same key at the same time
            session.add(WorkflowAnalyticsSnapshot(workflow_id=workflow_id, filters_key=filters_key(filters),
                                                  figures=figures, computed_at=now, compute_ms=elapsed_ms))
    except IntegrityError:
        pass


def recent(factory: sessionmaker[Session], workflow_id: str, filters: Filters, now: datetime) -> dict[str, Any] | None:
    """The stored figures when computed within MAX_AGE, else None."""
    with factory() as session:
        row = stored(session, workflow_id, filters)
        return row.figures if row is not None and timedelta(0) <= now - row.computed_at < MAX_AGE else None


def figures(factory: sessionmaker[Session], workflow_id: str, filters: Filters, *, now: datetime,
            fresh: bool = False) -> dict[str, Any] | None:
    """The stored figures when computed within MAX_AGE, else computed now and stored; ``fresh``:
    computed now from a rollup refreshed now."""
    if not fresh and (found := recent(factory, workflow_id, filters, now)) is not None:
        return found
    return compute(factory, workflow_id, filters, now=now, fresh=fresh)


def refresh_active(factory: sessionmaker[Session], now: datetime) -> list[str]:
    """The beat task: the rollup, then the unfiltered figures of every active workflow, one transaction
    each; figures older than KEEP (filters nobody asked for since) are deleted."""
    from engagement.workflow import rollup

    rollup.refresh(factory, now)
    with transaction(factory) as session:
        session.execute(delete(WorkflowAnalyticsSnapshot).where(WorkflowAnalyticsSnapshot.computed_at < now - KEEP))
    with factory() as session:
        workflow_ids = list(session.scalars(select(WorkflowDefinition.workflow_id).where(
            WorkflowDefinition.is_active.is_(True)).order_by(WorkflowDefinition.workflow_id)))
    for workflow_id in workflow_ids:
        compute(factory, workflow_id, Filters(), now=now)
    return workflow_ids
