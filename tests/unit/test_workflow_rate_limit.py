"""A transition's ``rate_limit``: the runtime asks the caller's throttle, and a spent limit refuses the step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engagement.workflow import runtime
from engagement.workflow.checker import check_text
from engagement.workflow.errors import WorkflowError
from engagement.workflow.machine import CompiledWorkflow, compile_spec
from engagement.workflow.models import WorkflowInstance, WorkflowTransition
from engagement.workflow.registry import Registry

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
LIMITED = """\
id: limited
version: 1
title: Limité
initial: ask
states:
  ask:
    title: Votre code
    fields: [{name: code, type: text, label: Code}]
  check: {}
  done: {final: true, title: Merci}
  skipped: {final: true, title: Passé}
transitions:
  - {trigger: send, source: ask, dest: done, rate_limit: "10 per hour", conditions: "data.code != 'wrong'"}
  - {trigger: skip, source: ask, dest: skipped}
  - {trigger: verify, source: ask, dest: check, label: Vérifier}
  - {trigger: route, source: check, dest: done, rate_limit: "5 per minute; 50 per day"}
"""
Calls = list[tuple[str, str]]


@pytest.fixture
def flow() -> CompiledWorkflow:
    registry = Registry()
    spec, diagnostics = check_text(LIMITED, "limited.yml", registry)
    assert diagnostics == [] and spec is not None
    return compile_spec(spec, registry)


def throttle(calls: Calls, wait: int | None) -> Callable[[str, str], int | None]:
    """A throttle that records what it is asked and answers ``wait``."""

    def ask(limit: str, scope: str) -> int | None:
        calls.append((limit, scope))
        return wait

    return ask


def submit(session: Session, flow: CompiledWorkflow, instance: WorkflowInstance, trigger: str, *,
           throttle: Callable[[str, str], int | None] | None, code: str = "ok") -> None:
    runtime.submit(session, flow, instance, trigger=trigger, answers={"code": code}, step=instance.lock_version,
                   actor=None, now=T0, locale="fr", throttle=throttle)
    session.flush()


def hops(session: Session, instance: WorkflowInstance) -> int:
    query = select(func.count()).select_from(WorkflowTransition).where(WorkflowTransition.instance_id == instance.id)
    return int(session.scalar(query) or 0)


@pytest.fixture
def instance(session: Session, flow: CompiledWorkflow) -> WorkflowInstance:
    started = runtime.start(session, flow, actor=None, now=T0, locale="fr")
    session.flush()
    return started


def test_rate_limited_transition_asks_the_throttle_for_its_limit_and_scope(
        session: Session, flow: CompiledWorkflow, instance: WorkflowInstance):
    calls: Calls = []

    submit(session, flow, instance, "send", throttle=throttle(calls, None))

    assert calls == [("10 per hour", "limited:send")]
    assert instance.state == "done" and instance.is_completed


def test_spent_limit_refuses_with_retry_after_and_changes_nothing(
        session: Session, flow: CompiledWorkflow, instance: WorkflowInstance):
    calls: Calls = []
    step = instance.lock_version

    with pytest.raises(WorkflowError) as refused:
        submit(session, flow, instance, "send", throttle=throttle(calls, 42))

    assert (refused.value.code, refused.value.retry_after) == ("rate_limited", 42)
    assert calls == [("10 per hour", "limited:send")]
    session.refresh(instance)
    assert (instance.state, instance.data, instance.lock_version) == ("ask", {}, step)
    assert not instance.is_completed
    assert hops(session, instance) == 0


def test_after_a_refusal_the_same_step_goes_through_once_the_throttle_allows(
        session: Session, flow: CompiledWorkflow, instance: WorkflowInstance):
    with pytest.raises(WorkflowError):
        submit(session, flow, instance, "send", throttle=throttle([], 42))

    submit(session, flow, instance, "send", throttle=throttle([], None))

    assert instance.state == "done"
    assert hops(session, instance) == 1


def test_without_a_throttle_nothing_is_limited(session: Session, flow: CompiledWorkflow, instance: WorkflowInstance):
    submit(session, flow, instance, "send", throttle=None)

    assert instance.state == "done"


def test_a_transition_without_rate_limit_never_asks_the_throttle(
        session: Session, flow: CompiledWorkflow, instance: WorkflowInstance):
    calls: Calls = []

    submit(session, flow, instance, "skip", throttle=throttle(calls, 42))

    assert calls == []
    assert instance.state == "skipped"


def test_throttle_is_not_asked_when_the_transitions_conditions_do_not_hold(
        session: Session, flow: CompiledWorkflow, instance: WorkflowInstance):
    calls: Calls = []

    with pytest.raises(WorkflowError) as refused:
        submit(session, flow, instance, "send", throttle=throttle(calls, 42), code="wrong")

    assert refused.value.code == "no_transition"
    assert calls == []


def test_an_automatic_transitions_rate_limit_is_asked_with_its_own_scope(
        session: Session, flow: CompiledWorkflow, instance: WorkflowInstance):
    calls: Calls = []

    submit(session, flow, instance, "verify", throttle=throttle(calls, None))

    assert calls == [("5 per minute; 50 per day", "limited:route")]
    assert instance.state == "done"


def test_a_spent_limit_on_an_automatic_transition_refuses_the_whole_step(
        session: Session, flow: CompiledWorkflow, instance: WorkflowInstance):
    with pytest.raises(WorkflowError) as refused:
        submit(session, flow, instance, "verify", throttle=throttle([], 7))

    assert (refused.value.code, refused.value.retry_after) == ("rate_limited", 7)
    session.refresh(instance)
    assert instance.state == "ask"
    assert hops(session, instance) == 0
