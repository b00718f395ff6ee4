"""Alerts for instances stuck past their state's ``sla``: one digest a run to each of ``REGISTRY.alert_recipients``
(the accounts register their active organizers and admins).

An alert is for one state entry (instance, ``entered_at``): a ``workflow_sla_alerts`` row records
it, so a later run never reports it again; an instance that moves on and gets stuck again in
another state (or the same one, entered anew) is reported again. At most MAX_PER_RUN entries are
taken a run, oldest first; the rest wait for the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, sessionmaker

from engagement.db import transaction
from engagement.mail import service as mail
from engagement.workflow import definitions
from engagement.workflow.models import WorkflowDefinition, WorkflowInstance, WorkflowSlaAlert
from engagement.workflow.registry import REGISTRY

MAX_PER_RUN = 1000
LISTED = 50  # instances named in the mail; the others are counted
TEMPLATE = "workflow_sla_digest"


@dataclass(frozen=True)
class StuckEntry:
    instance_id: int
    workflow_id: str
    version: int
    state: str
    entered_at: datetime
    sla_seconds: int


def unreported(session: Session, now: datetime, limit: int = MAX_PER_RUN) -> list[StuckEntry]:
    """Live instances past their state's sla (by the definition of their own version), not yet alerted."""
    I, A = WorkflowInstance, WorkflowSlaAlert  # noqa: E741
    found: list[StuckEntry] = []
    for definition in session.scalars(select(WorkflowDefinition).order_by(WorkflowDefinition.id)):
        spec = definitions.spec_of(definition)
        for state in spec.states.values():
            if state.sla_seconds is None:
                continue
            rows = session.execute(
                select(I.id, I.entered_at).outerjoin(A, and_(A.instance_id == I.id, A.entered_at == I.entered_at))
                .where(I.workflow_id == spec.id, I.state == state.name, I.abandoned_at.is_(None),
                       I.entered_at < now - timedelta(seconds=state.sla_seconds), I.version == spec.version,
                       I.is_completed.is_(False), A.id.is_(None))
                .order_by(I.entered_at).limit(limit))
            found += [StuckEntry(i, spec.id, spec.version, state.name, at, state.sla_seconds) for i, at in rows]
    return sorted(found, key=lambda entry: entry.entered_at)[:limit]


def alert(session: Session, now: datetime, locale: str = "fr") -> int:
    """Record and mail the stuck entries not reported yet; how many. The caller commits."""
    entries = unreported(session, now)
    if not entries:
        return 0
    for entry in entries:
        session.add(WorkflowSlaAlert(instance_id=entry.instance_id, state=entry.state, entered_at=entry.entered_at,
                                     alerted_at=now))
    context = {"count": len(entries), "summary": _summary(entries), "lines": _lines(entries, now),
               "more": max(0, len(entries) - LISTED)}
    for address in REGISTRY.alert_recipients(session):  # one message each: they do not see each other's addresses
        mail.compose(session, to=[address], template=TEMPLATE, context=context, locale=locale)
    session.flush()
    return len(entries)


def alert_all(factory: sessionmaker[Session], now: datetime) -> int:
    """One run of the beat task: alert, committed."""
    with transaction(factory) as session:
        return alert(session, now)


def _summary(entries: list[StuckEntry]) -> str:
    counts: dict[tuple[str, str], int] = {}
    for entry in entries:
        counts[(entry.workflow_id, entry.state)] = counts.get((entry.workflow_id, entry.state), 0) + 1
    return "\n".join(f"- {workflow} / {state}: {count}" for (workflow, state), count in sorted(counts.items()))


def _lines(entries: list[StuckEntry], now: datetime) -> str:
    return "\n".join(
        f"- {e.workflow_id} #{e.instance_id} ({e.state}, {e.entered_at:%Y-%m-%d %H:%M} UTC, "
        f"{_hours(now - e.entered_at)} h / sla {_hours(timedelta(seconds=e.sla_seconds))} h)"
        for e in entries[:LISTED])


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.0f}"
