"""Back's history: a step saved onto itself is not a new page, and the history is bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from engagement.core import Core
from engagement.db import transaction
from engagement.workflow import definitions, runtime
from engagement.workflow.checker import check_text
from engagement.workflow.models import WorkflowInstance

LOOPS = """\
id: loops
version: 1
title: Boucles
initial: first
states:
  first: {title: Un, fields: [{name: a, type: text, label: A}]}
  second: {title: Deux, fields: [{name: b, type: text, label: B}]}
  done: {final: true, title: Fini}
transitions:
  - {trigger: save, source: [first, second], dest: second, conditions: "instance.state == 'second'"}
  - {trigger: save, source: first, dest: second}
  - {trigger: back_to_first, source: second, dest: first, label: Retour}
  - {trigger: finish, source: second, dest: done, label: Terminer}
"""
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def _publish_and_start(core: Core) -> int:
    spec, diagnostics = check_text(LOOPS, "loops.yml")
    assert diagnostics == [] and spec is not None
    with transaction(core.sessions) as session:
        definitions.publish(session, spec, LOOPS, "loops.yml")
        flow = definitions.active(session, "loops")
        assert flow is not None
        return runtime.start(session, flow, actor=None, now=NOW, locale="fr").id


def _fire(core: Core, instance_id: int, trigger: str) -> list[str]:
    with transaction(core.sessions) as session:
        instance = session.get(WorkflowInstance, instance_id)
        assert instance is not None
        flow = definitions.of_instance(session, instance)
        runtime.submit(session, flow, instance, trigger=trigger, answers={}, step=instance.lock_version,
                       actor=None, now=NOW, locale="fr")
        session.flush()
        return list(instance.history)


def test_saving_a_step_onto_itself_does_not_grow_back_history(core: Core) -> None:
    instance_id = _publish_and_start(core)
    assert _fire(core, instance_id, "save") == ["first"]
    for _ in range(5):
        assert _fire(core, instance_id, "save") == ["first"]


def test_back_history_keeps_only_the_last_steps_of_an_endless_loop(core: Core) -> None:
    instance_id = _publish_and_start(core)
    for _ in range(60):
        _fire(core, instance_id, "save")
        history = _fire(core, instance_id, "back_to_first")
    assert len(history) == runtime.MAX_HISTORY
    assert history[-2:] == ["first", "second"]
