"""Running instances: start, submit a step, go back, restart. The caller owns the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.expressions import holds
from engagement.workflow import persistence
from engagement.workflow.actions import FiringContext, Throttle, expression_context, jsonable
from engagement.workflow.errors import WorkflowError
from engagement.workflow.machine import CompiledWorkflow, Subject
from engagement.workflow.models import WorkflowInstance, WorkflowTransition
from engagement.workflow.registry import REGISTRY, Submission
from engagement.workflow.spec import FieldSpec, StateSpec

MAX_AUTOMATIC_HOPS = 50
MAX_HISTORY = 100  # steps Back can walk through; a workflow looping for ever keeps the last ones


def start(session: Session, flow: CompiledWorkflow, *, actor: Any, now: datetime, locale: str,
          data: dict[str, Any] | None = None, throttle: Throttle | None = None) -> WorkflowInstance:
    """A new instance in the initial state (its on_enter actions run; automatic states route)."""
    spec = flow.spec
    instance = WorkflowInstance(
        workflow_id=spec.id, version=spec.version, state=spec.initial, data=dict(data or {}),
        history=[], actor_id=getattr(actor, "id", None), started_at=now, updated_at=now, entered_at=now,
    )
    session.add(instance)
    session.flush()
    subject = Subject(spec.initial, dict(instance.data), FiringContext(session, spec, instance, actor, now, locale,
                                                                     throttle))
    initial = spec.states[spec.initial]
    if initial.on_enter:
        flow.machine.get_state(spec.initial).enter(_entry_event(flow, subject))
    _route(flow, subject)
    _apply(session, flow, instance, subject, actor, now, changes=None, remember=None)
    return instance


def _entry_event(flow: CompiledWorkflow, subject: Subject) -> Any:
    from transitions.core import EventData

    return EventData(flow.machine.get_state(subject.state), None, flow.machine, subject, (), {})


def visible(field: FieldSpec, context: dict[str, Any]) -> bool:
    return field.visible_if is None or holds(field.visible_if, context)


def required(field: FieldSpec, context: dict[str, Any]) -> bool:
    if field.required_if is not None:
        return holds(field.required_if, context)
    return field.required


def condition_context(flow: CompiledWorkflow, instance: WorkflowInstance, pending: dict[str, Any],
                      actor: Any, now: datetime, state: str | None = None) -> dict[str, Any]:
    """What ``visible_if``/``required_if`` see while a step is being filled: answers plus the form's.

    ``state``: the step being filled, when it is an earlier one of the walk (the visitor went back to it).
    """
    data = {**instance.data, **pending}
    return expression_context(flow.spec, instance, state or instance.state, data, actor, now)


def submit(session: Session, flow: CompiledWorkflow, instance: WorkflowInstance, *, trigger: str,
           answers: dict[str, Any], step: int, actor: Any, now: datetime, locale: str,
           throttle: Throttle | None = None) -> None:
    """Record a validated step's answers and fire ``trigger`` (then any automatic states).

    Once the firing is taken, the hooks registered with ``REGISTRY.on_submit`` see the answers (a domain
    records the consents among them, say), in the same transaction.
    """
    _check_step(flow, instance, step)
    if trigger not in flow.spec.triggers_from(instance.state):
        raise WorkflowError("unknown_trigger", "this action is not available at this step")
    submitted = flow.spec.states[instance.state]
    changes = {k: jsonable(v) for k, v in answers.items()}
    data = {**instance.data, **changes}
    context = FiringContext(session, flow.spec, instance, actor, now, locale, throttle)
    subject = Subject(instance.state, data, context)
    if not flow.fire(subject, trigger):
        raise WorkflowError("no_transition", "none of the ways forward applies to the answers given")
    _route(flow, subject)
    if answers and instance.drafts and instance.state in instance.drafts:  # validated now: the draft is spent
        instance.drafts = {k: v for k, v in instance.drafts.items() if k != instance.state} or None
    _apply(session, flow, instance, subject, actor, now, changes=changes, remember=instance.state)
    if changes:
        accepted = Submission(session, flow.spec, instance, submitted, changes, actor, now, locale)
        for hook in REGISTRY.submitted:
            hook(accepted)


def _check_step(flow: CompiledWorkflow, instance: WorkflowInstance, step: int) -> None:
    if instance.is_completed or instance.abandoned_at is not None or step != instance.lock_version:
        raise WorkflowError("stale", "this page was already submitted or is out of date")


def _route(flow: CompiledWorkflow, subject: Subject) -> None:
    """Leave automatic states through their first transition whose conditions hold."""
    for _ in range(MAX_AUTOMATIC_HOPS):
        state = flow.spec.states[subject.state]
        if not state.automatic:
            return
        if not any(flow.fire(subject, trigger) for trigger in flow.spec.triggers_from(state.name)):
            raise WorkflowError("no_transition", f"no way out of step {state.name!r} applies")
    raise WorkflowError("loop", "the workflow keeps routing without reaching a step")


def _apply(session: Session, flow: CompiledWorkflow, instance: WorkflowInstance, subject: Subject,
           actor: Any, now: datetime, *, changes: dict[str, Any] | None, remember: str | None) -> None:
    """Write the firing's outcome: the instance's new state and one log row per hop."""
    entered, rows = instance.entered_at, []
    for index, (source, dest, trigger) in enumerate(subject.hops):
        rows.append({
            "instance_id": instance.id, "workflow_id": instance.workflow_id, "version": instance.version,
            "source": source, "dest": dest, "trigger": trigger, "actor_id": getattr(actor, "id", None), "at": now,
            "duration_ms": max(0, int((now - entered).total_seconds() * 1000)),
            "changes": changes if index == 0 else None,
        })
        entered = now
    if remember is not None and remember != subject.state and not flow.spec.states[remember].automatic:
        # Back returns to the previous page: a step that saved onto itself is not a new page.
        instance.history = [*instance.history, remember][-MAX_HISTORY:]
    instance.state, instance.data = subject.state, subject.data
    instance.updated_at = now
    if subject.hops:
        instance.entered_at = now
    if flow.spec.states[subject.state].final:
        instance.is_completed, instance.completed_at = True, now
    if instance.actor_id is None and actor is not None:
        instance.actor_id = actor.id
    # The instance's versioned UPDATE, then the log's INSERT: the order the unit of work used (on MariaDB the
    # row lock is taken first, so a concurrent step waits and then finds itself stale instead of deadlocking).
    persistence.save(session, instance)
    persistence.log(session, rows)


def back(session: Session, flow: CompiledWorkflow, instance: WorkflowInstance, *, step: int,
         actor: Any, now: datetime, keep: dict[str, Any] | None = None) -> None:
    """Return to the previous step with a form, keeping every answer.

    ``keep``: what the visitor typed on the step they leave that passed its own rules; it is kept
    too (and logged as the transition's changes), so that Back never loses it.
    """
    _check_step(flow, instance, step)
    if not instance.history or not flow.spec.states[instance.state].allow_back:
        raise WorkflowError("no_back", "you cannot go back from this step")
    fields = {f.name for f in flow.spec.states[instance.state].fields}
    changes = {k: jsonable(v) for k, v in (keep or {}).items() if k in fields}
    changes = {k: v for k, v in changes.items() if instance.data.get(k) != v}
    previous = instance.history[-1]
    session.add(WorkflowTransition(
        instance_id=instance.id, workflow_id=instance.workflow_id, version=instance.version,
        source=instance.state, dest=previous, trigger="back", actor_id=getattr(actor, "id", None),
        at=now, duration_ms=max(0, int((now - instance.entered_at).total_seconds() * 1000)),
        changes=changes or None,
    ))
    if changes:
        instance.data = {**instance.data, **changes}
    instance.history = instance.history[:-1]
    instance.state, instance.entered_at, instance.updated_at = previous, now, now


def annotate(instance: WorkflowInstance, data: dict[str, Any], now: datetime) -> None:
    """Add answers that no step asks (where the visitor came from, say) to an instance in progress."""
    instance.data = {**instance.data, **{k: jsonable(v) for k, v in data.items()}}
    instance.updated_at = now


def abandon(instance: WorkflowInstance, now: datetime) -> None:
    """Restart discards an instance; it stays for the analysts as abandoned where it stood."""
    if not instance.is_completed and instance.abandoned_at is None:
        instance.abandoned_at = now
        instance.updated_at = now


def find_resumable(session: Session, workflow_id: str, actor_id: int) -> WorkflowInstance | None:
    """A logged-in visitor's latest unfinished instance of this workflow."""
    return session.scalar(
        select(WorkflowInstance).where(
            WorkflowInstance.workflow_id == workflow_id, WorkflowInstance.actor_id == actor_id,
            WorkflowInstance.is_completed.is_(False), WorkflowInstance.abandoned_at.is_(None),
        ).order_by(WorkflowInstance.id.desc()).limit(1))


def current_state(flow: CompiledWorkflow, instance: WorkflowInstance) -> StateSpec:
    return flow.spec.states[instance.state]
