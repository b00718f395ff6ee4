"""Moving about a walk: earlier steps revisited, drafts of unvalidated steps, the way back to a review.

The walk is the instance's pages so far: ``history`` (the pages left, oldest first) then the
current state. The caller owns the transaction, as with ``runtime``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.workflow import runtime
from engagement.workflow.actions import Throttle, expression_context
from engagement.workflow.errors import WorkflowError
from engagement.workflow.machine import CompiledWorkflow
from engagement.workflow.models import WorkflowInstance, WorkflowTransition
from engagement.workflow.progress import pages_left
from engagement.workflow.spec import WorkflowSpec

MAX_DRAFT_VALUE = 10_000  # characters kept of one typed value
MAX_DRAFT_VALUES = 50  # values kept of one field (a list of ticked boxes)


def walk(instance: WorkflowInstance) -> list[str]:
    """The pages of this walk, in order: the ones left, then the current one."""
    return [*instance.history, instance.state]


def reached(instance: WorkflowInstance, state: str) -> bool:
    """Whether ``state`` is a page of this walk (shown already: the visitor may see it again)."""
    return state == instance.state or (not instance.is_completed and state in instance.history)


def progress(flow: CompiledWorkflow, instance: WorkflowInstance, state: str, actor: Any,
             now: datetime) -> tuple[int, int]:
    """(this page's number in the walk, that number plus the fewest pages still needed to finish)."""
    pages = walk(instance)
    number = len(pages) - pages[::-1].index(state) if state in pages else len(pages)
    context = runtime.condition_context(flow, instance, {}, actor, now, state=state)
    return number, number + pages_left(flow.spec, state, context)


def is_unvalidated(spec: WorkflowSpec, state: str, trigger: str) -> bool:
    """A trigger whose transitions from ``state`` leave without validating the form (``validate: false``)."""
    found = [t for t in spec.transitions if t.trigger == trigger and state in t.sources]
    return bool(found) and not any(t.validate for t in found)


def draft_of(instance: WorkflowInstance, state: str) -> dict[str, list[str]] | None:
    """What was typed on ``state`` and left unvalidated, as posted (shown again, never in ``data``)."""
    return (instance.drafts or {}).get(state)


def keep_draft(instance: WorkflowInstance, state: str, posted: dict[str, list[str]]) -> None:
    """Keep the typed values (bounded) of ``state``'s fields; passwords are never kept."""
    draft = {name: [str(v)[:MAX_DRAFT_VALUE] for v in values[:MAX_DRAFT_VALUES]] for name, values in posted.items()}
    instance.drafts = {**(instance.drafts or {}), state: draft}


@dataclass(frozen=True)
class Before:
    """The walk and the answers as they were before an earlier page was changed (for ``return_to_review``)."""

    pages: list[str]
    answers: dict[str, Any]


def revisit(session: Session, flow: CompiledWorkflow, instance: WorkflowInstance, state: str, *,
            actor: Any, now: datetime) -> Before:
    """Make the earlier page ``state`` current again (its answers and the later ones are kept).

    Returns the walk and the answers as they were, for ``return_to_review``. Logged as a ``back`` from
    the current state.
    """
    before = Before(walk(instance), dict(instance.data))
    if state == instance.state:
        return before
    if not reached(instance, state):
        raise WorkflowError("not_reached", "this step has not been reached yet")
    index = _last_index(instance.history, state)
    session.add(WorkflowTransition(
        instance_id=instance.id, workflow_id=instance.workflow_id, version=instance.version,
        source=instance.state, dest=state, trigger="back", actor_id=getattr(actor, "id", None), at=now,
        duration_ms=max(0, int((now - instance.entered_at).total_seconds() * 1000)),
    ))
    instance.history = instance.history[:index]
    instance.state, instance.entered_at, instance.updated_at = state, now, now
    return before


def return_to_review(session: Session, flow: CompiledWorkflow, instance: WorkflowInstance, before: Before,
                     changed: str, *, actor: Any, now: datetime, locale: str,
                     throttle: Throttle | None = None) -> None:
    """After an earlier step was changed, go on to the review page that followed it, if the walk allows.

    Each page between is passed again with the trigger pressed last time, as long as the flow lands on
    the page the walk had next, that page has every answer it requires and shows no question it did not
    show before the change; otherwise the visitor stops there (the change sent the flow down another
    branch, or asks a new question, even an optional one).
    """
    pages = before.pages
    later = pages[pages.index(changed) + 1:] if changed in pages else []
    review = next((s for s in later if flow.spec.states[s].review), None)
    if review is None:
        return
    for expected in later:
        if instance.state == review or instance.state != expected or not _complete(flow, instance, actor, now) \
                or _new_questions(flow, instance, before.answers, actor, now):
            return
        trigger = _last_trigger(session, instance, instance.state)
        if trigger is None or is_unvalidated(flow.spec, instance.state, trigger):
            return
        _fire(session, flow, instance, trigger, actor=actor, now=now, locale=locale, throttle=throttle)


def _complete(flow: CompiledWorkflow, instance: WorkflowInstance, actor: Any, now: datetime) -> bool:
    """Every field the current page requires (on the answers as they are now) has its answer."""
    context = runtime.condition_context(flow, instance, {}, actor, now)
    for field in flow.spec.states[instance.state].fields:
        if not runtime.visible(field, context) or not runtime.required(field, context):
            continue
        if instance.data.get(field.name) in (None, "", [], {}, False):
            return False
    return True


def _new_questions(flow: CompiledWorkflow, instance: WorkflowInstance, answers: dict[str, Any], actor: Any,
                   now: datetime) -> bool:
    """Whether the current page shows a field now that the answers as they were kept hidden."""
    state = instance.state
    now_context = runtime.condition_context(flow, instance, {}, actor, now)
    then_context = expression_context(flow.spec, instance, state, answers, actor, now)
    return any(field.visible_if and runtime.visible(field, now_context) and not runtime.visible(field, then_context)
               for field in flow.spec.states[state].fields)


def _last_trigger(session: Session, instance: WorkflowInstance, state: str) -> str | None:
    return session.scalar(
        select(WorkflowTransition.trigger).where(
            WorkflowTransition.instance_id == instance.id, WorkflowTransition.source == state,
            WorkflowTransition.trigger != "back",
        ).order_by(WorkflowTransition.id.desc()).limit(1))


def _fire(session: Session, flow: CompiledWorkflow, instance: WorkflowInstance, trigger: str, *,
          actor: Any, now: datetime, locale: str, throttle: Throttle | None) -> None:
    """Pass the current page again with its stored answers (nothing new is recorded as typed)."""
    runtime.submit(session, flow, instance, trigger=trigger, answers={}, step=instance.lock_version,
                   actor=actor, now=now, locale=locale, throttle=throttle)


def leave_unvalidated(session: Session, flow: CompiledWorkflow, instance: WorkflowInstance, trigger: str,
                      posted: dict[str, list[str]], *, step: int, actor: Any, now: datetime, locale: str,
                      throttle: Throttle | None = None) -> None:
    """Fire a ``validate: false`` trigger: ``data`` stays as it was before the step; what was typed is a draft."""
    history = list(instance.history)
    if posted:
        keep_draft(instance, instance.state, posted)
    runtime.submit(session, flow, instance, trigger=trigger, answers={}, step=step, actor=actor, now=now,
                   locale=locale, throttle=throttle)
    if instance.state in history:  # an explicit way back: the walk returns there, as Back would
        instance.history = history[:_last_index(history, instance.state)]


def _last_index(pages: list[str], state: str) -> int:
    """Where ``state`` stands last in ``pages`` (a page walked twice returns to its latest visit)."""
    return len(pages) - 1 - pages[::-1].index(state)

