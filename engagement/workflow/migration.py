"""Moving live instances of older versions onto a new one, as its ``migrate_from:`` map says.

``plan`` is the dry run (figures only, nothing written); ``apply`` moves the mapped live instances in
the caller's transaction, with one ``migrate`` row each in the transition log. Instances the map
does not name stay on the version they started with.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from engagement.workflow.models import WorkflowInstance, WorkflowTransition
from engagement.workflow.spec import WorkflowSpec

TRIGGER = "migrate"
SAMPLE_IDS = 20  # instance ids listed per stranded group


@dataclass(frozen=True)
class Move:
    """One mapping: ``count`` live instances of ``version`` in ``source`` would go to ``dest``."""

    version: int
    source: str
    dest: str
    count: int


@dataclass(frozen=True)
class Stranded:
    """Live instances of an older version, in a state the map skips and the new version lacks."""

    version: int
    state: str
    count: int
    instance_ids: tuple[int, ...]  # the first SAMPLE_IDS of them


@dataclass(frozen=True)
class Plan:
    moves: tuple[Move, ...]
    stranded: tuple[Stranded, ...]

    @property
    def moving(self) -> int:
        return sum(move.count for move in self.moves)


def _live(workflow_id: str) -> tuple[ColumnElement[bool], ...]:
    return (WorkflowInstance.workflow_id == workflow_id, WorkflowInstance.is_completed.is_(False),
            WorkflowInstance.abandoned_at.is_(None))


def live_counts(session: Session, workflow_id: str) -> dict[tuple[int, str], int]:
    """Live (neither completed nor abandoned) instances per (version, state)."""
    rows = session.execute(select(WorkflowInstance.version, WorkflowInstance.state, func.count())
                           .where(*_live(workflow_id))
                           .group_by(WorkflowInstance.version, WorkflowInstance.state))
    return {(version, state): count for version, state, count in rows}


def plan(session: Session, spec: WorkflowSpec) -> Plan:
    """What publishing ``spec`` would do to live instances of older versions (nothing is written)."""
    counts = live_counts(session, spec.id)
    moves = tuple(Move(version, source, dest, counts.get((version, source), 0))
                  for version, mapping in sorted(spec.migrate_from.items())
                  for source, dest in mapping.items())
    stranded = []
    for (version, state), count in sorted(counts.items()):
        if version >= spec.version or state in spec.migrate_from.get(version, {}) or state in spec.states:
            continue
        ids = session.scalars(select(WorkflowInstance.id).where(
            *_live(spec.id), WorkflowInstance.version == version, WorkflowInstance.state == state,
        ).order_by(WorkflowInstance.id).limit(SAMPLE_IDS))
        stranded.append(Stranded(version, state, count, tuple(ids)))
    return Plan(moves, tuple(stranded))


def apply(session: Session, spec: WorkflowSpec, *, now: datetime, actor_id: int | None) -> Plan:
    """Move the mapped live instances onto ``spec.version``; returns what was moved and left stranded.

    The caller owns the transaction (publish ``spec`` in the same one). Each moved instance gets a
    transition-log row (trigger ``migrate``, logged under the new version) and a bumped lock version,
    so a step page opened before the move is refused as stale.
    """
    before = plan(session, spec)
    for version, mapping in sorted(spec.migrate_from.items()):
        for instance in session.scalars(select(WorkflowInstance).where(
                *_live(spec.id), WorkflowInstance.version == version,
                WorkflowInstance.state.in_(list(mapping))).order_by(WorkflowInstance.id)):
            _move(session, spec, instance, mapping, now, actor_id)
    session.flush()
    return before


def _move(session: Session, spec: WorkflowSpec, instance: WorkflowInstance, mapping: dict[str, str],
          now: datetime, actor_id: int | None) -> None:
    source, dest = instance.state, mapping[instance.state]
    session.add(WorkflowTransition(
        instance_id=instance.id, workflow_id=spec.id, version=spec.version, source=source, dest=dest,
        trigger=TRIGGER, actor_id=actor_id, at=now, changes=None,
        duration_ms=max(0, int((now - instance.entered_at).total_seconds() * 1000)),
    ))
    instance.version, instance.state, instance.updated_at = spec.version, dest, now
    instance.history = _history(spec, instance.history, mapping)
    if dest != source:
        instance.entered_at = now
    if spec.states[dest].final:
        instance.is_completed, instance.completed_at = True, now


def _history(spec: WorkflowSpec, history: Iterable[str], mapping: dict[str, str]) -> list[str]:
    """Back's trail in the new version's terms: mapped names, unknown or automatic states dropped."""
    result: list[str] = []
    for state in (mapping.get(name, name) for name in history):
        known = spec.states.get(state)
        if known is not None and not known.automatic and not known.final and (not result or result[-1] != state):
            result.append(state)
    return result

