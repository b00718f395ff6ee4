"""Replaying an instance's transition log from the initial state: does it lead to the stored state?

The runtime logs one row per hop (automatic states included), ``back`` as a hop to the previous
page, and a ``restart`` row, when there is one, returns to the initial state. Each row must leave
the state the rows before it reached; the last one must reach the state the instance stores.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.workflow.models import WorkflowInstance, WorkflowTransition


class Hop(Protocol):
    """What the replay reads of a log row."""

    @property
    def id(self) -> int: ...

    @property
    def source(self) -> str: ...

    @property
    def dest(self) -> str: ...

    @property
    def trigger(self) -> str: ...


@dataclass(frozen=True)
class Mismatch:
    """Where the replay first disagrees: at log row ``position`` (1-based; 0: at the end, no row)."""

    position: int
    transition_id: int | None
    expected: str  # the state the replay had reached (or the stored state, at the end)
    found: str  # what the row (or the replay, at the end) says instead
    kind: str  # "source": a row leaves another state; "restart": it does not go back to the start;
    #            "stored": the replay ends elsewhere than the stored state


@dataclass(frozen=True)
class Replay:
    initial: str
    reached: str  # the state the whole log leads to (rows after a mismatch still applied)
    stored: str
    steps: int
    mismatch: Mismatch | None

    @property
    def is_consistent(self) -> bool:
        return self.mismatch is None


def replay(initial: str, hops: Iterable[Hop], stored: str) -> Replay:
    """Walk ``hops`` (in log order) from ``initial`` and compare the outcome with ``stored``."""
    state, first, steps = initial, None, 0
    for steps, hop in enumerate(hops, start=1):
        if first is None and hop.source != state:
            first = Mismatch(steps, hop.id, state, hop.source, "source")
        if first is None and hop.trigger == "restart" and hop.dest != initial:
            first = Mismatch(steps, hop.id, initial, hop.dest, "restart")
        state = hop.dest
    if first is None and state != stored:
        first = Mismatch(0, None, stored, state, "stored")
    return Replay(initial, state, stored, steps, first)


def log_of(session: Session, instance_id: int) -> Sequence[WorkflowTransition]:
    """An instance's transition log, in the order it was written."""
    return session.scalars(select(WorkflowTransition).where(WorkflowTransition.instance_id == instance_id)
                           .order_by(WorkflowTransition.id)).all()


def check(instance: WorkflowInstance, log: Sequence[WorkflowTransition], initial: str | None) -> Replay:
    """Replay ``log`` for ``instance``; without the version's initial state (its definition is gone),
    the first row's source stands in for it."""
    start = initial if initial is not None else (log[0].source if log else instance.state)
    return replay(start, log, instance.state)
