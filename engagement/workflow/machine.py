"""Compiling a checked spec into one `transitions.Machine` per (workflow, version), cached.

The machine has no models: each firing passes a short-lived `Subject`, so no instance is ever
retained by the library and live instances cost no per-instance machine memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transitions import Machine, State
from transitions.core import EventData

from engagement.expressions import holds
from engagement.workflow import actions
from engagement.workflow.errors import WorkflowError
from engagement.workflow.registry import REGISTRY, Registry
from engagement.workflow.spec import ActionSpec, WorkflowSpec

# The library logs three INFO lines per firing (callbacks run); the transition log table is ours.
logging.getLogger("transitions").setLevel(logging.WARNING)


class Subject:
    """What a firing moves: the state, the answers and the context actions need."""

    __slots__ = ("context", "data", "hops", "state")

    def __init__(self, state: str, data: dict[str, Any], context: actions.FiringContext) -> None:
        self.state, self.data, self.context = state, data, context
        self.hops: list[tuple[str, str, str]] = []  # (source, dest, trigger) in firing order


@dataclass(frozen=True)
class CompiledWorkflow:
    spec: WorkflowSpec
    machine: Machine

    def fire(self, subject: Subject, trigger: str) -> bool:
        """Fire ``trigger``; True when a transition was taken (its conditions held)."""
        return bool(self.machine.events[trigger].trigger(subject))


def _condition(expression: str) -> Callable[[EventData], bool]:
    def check(event: EventData) -> bool:
        subject = event.model
        assert isinstance(subject, Subject)
        return holds(expression, subject.context.expression_context(subject))

    return check


def _runner(specs: tuple[ActionSpec, ...], registry: Registry) -> Callable[[EventData], None]:
    def run(event: EventData) -> None:
        subject = event.model
        assert isinstance(subject, Subject)
        for spec in specs:
            actions.run(spec, subject, registry)

    return run


def _limit(limit: str, scope: str) -> Callable[[EventData], None]:
    """Refuse the transition when its ``rate_limit`` is spent for whoever fires it."""

    def check(event: EventData) -> None:
        subject = event.model
        assert isinstance(subject, Subject)
        throttle = subject.context.throttle
        wait = throttle(limit, scope) if throttle is not None else None
        if wait is not None:
            raise WorkflowError("rate_limited", "too many attempts; try again later", retry_after=wait)

    return check


def _record_hop(event: EventData) -> None:
    transition, subject = event.transition, event.model
    assert transition is not None and transition.dest is not None and isinstance(subject, Subject)
    assert event.event is not None
    subject.hops.append((transition.source, transition.dest, event.event.name))


def compile_spec(spec: WorkflowSpec, registry: Registry = REGISTRY) -> CompiledWorkflow:
    states = [
        State(name, on_enter=[_runner(s.on_enter, registry)] if s.on_enter else None,
              on_exit=[_runner(s.on_exit, registry)] if s.on_exit else None)
        for name, s in spec.states.items()
    ]
    machine = Machine(model=None, states=states, initial=spec.initial, auto_transitions=False,
                      send_event=True, ignore_invalid_triggers=False, name=f"{spec.id}@{spec.version}")
    for t in spec.transitions:
        machine.add_transition(
            t.trigger, list(t.sources), t.dest,
            conditions=[_condition(c) for c in t.conditions],
            unless=[_condition(c) for c in t.unless],
            before=[*([_limit(t.rate_limit, f"{spec.id}:{t.trigger}")] if t.rate_limit else []), _record_hop],
            after=[_runner(t.actions, registry)] if t.actions else None,
        )
    return CompiledWorkflow(spec, machine)


_CACHE: dict[tuple[str, int, str], CompiledWorkflow] = {}


def compiled(spec: WorkflowSpec, registry: Registry = REGISTRY) -> CompiledWorkflow:
    """The cached machine of this exact (id, version, checksum)."""
    key = (spec.id, spec.version, spec.checksum)
    found = _CACHE.get(key)
    if found is None:
        found = _CACHE[key] = compile_spec(spec, registry)
    return found
