"""Migration maps: the dry run's figures, then moving the mapped live instances in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engagement.core import Core
from engagement.db import transaction
from engagement.workflow import definitions, migration, runtime
from engagement.workflow.checker import check_text
from engagement.workflow.definitions import DefinitionError
from engagement.workflow.models import WorkflowDefinition, WorkflowInstance, WorkflowTransition
from engagement.workflow.spec import WorkflowSpec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "migration"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=2)


def spec_of(name: str) -> tuple[str, WorkflowSpec]:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    spec, diagnostics = check_text(text, name)
    assert diagnostics == [] and spec is not None
    return text, spec


def walk(core: Core, *steps: tuple[str, dict[str, str]], abandon: bool = False) -> int:
    """Start a survey instance on the active version and fire ``steps``; returns its id."""
    with transaction(core.sessions) as session:
        flow = definitions.active(session, "survey")
        assert flow is not None
        instance = runtime.start(session, flow, actor=None, now=T0, locale="fr")
        for trigger, answers in steps:
            runtime.submit(session, flow, instance, trigger=trigger, answers=answers, step=instance.lock_version,
                           actor=None, now=T0, locale="fr")
            session.flush()
        if abandon:
            runtime.abandon(instance, T0)
        return instance.id


NAME = ("next", {"first_name": "Camille"})
TOPIC = ("next", {"topic": "housing"})
SEND = ("send", {"comment": ""})


@pytest.fixture
def surveys(core: Core) -> dict[str, list[int]]:
    """Version 1 published, with live instances in each state, one completed and one abandoned."""
    text, spec = spec_of("survey_v1.yml")
    with transaction(core.sessions) as session:
        definitions.publish(session, spec, text, "survey_v1.yml")
    return {
        "contact": [walk(core)],
        "topics": [walk(core, NAME), walk(core, NAME)],
        "review": [walk(core, NAME, TOPIC)],
        "done": [walk(core, NAME, TOPIC, SEND)],
        "abandoned": [walk(core, NAME, abandon=True)],
    }


def test_the_dry_run_counts_live_instances_per_mapping_and_the_stranded_ones(core: Core, surveys):
    _, v2 = spec_of("survey_v2.yml")

    with core.sessions() as session:
        plan = migration.plan(session, v2)

    assert plan.moves == (migration.Move(1, "topics", "interests", 2),)  # the abandoned one does not count
    assert plan.stranded == (migration.Stranded(1, "review", 1, tuple(surveys["review"])),)
    assert plan.moving == 2


def test_the_dry_run_writes_nothing(core: Core, surveys):
    _, v2 = spec_of("survey_v2.yml")

    with core.sessions() as session:
        migration.plan(session, v2)
        assert not session.new and not session.dirty

    with core.sessions() as session:
        assert session.scalar(select(WorkflowInstance.version).distinct()) == 1
        assert session.scalars(select(WorkflowTransition.trigger).where(
            WorkflowTransition.trigger == "migrate")).all() == []


def test_applying_moves_the_mapped_live_instances_and_logs_each_move(core: Core, surveys):
    text, v2 = spec_of("survey_v2.yml")

    with transaction(core.sessions) as session:
        definitions.publish(session, v2, text, "survey_v2.yml")
        done = migration.apply(session, v2, now=T1, actor_id=None)

    assert done.moving == 2
    with core.sessions() as session:
        rows = {i.id: i for i in session.scalars(select(WorkflowInstance))}
        moved = [rows[i] for i in surveys["topics"]]
        assert [(i.version, i.state, i.lock_version) for i in moved] == [(2, "interests", 3)] * 2
        assert all(i.history == ["contact"] and i.entered_at == T1 for i in moved)
        assert all(i.data["first_name"] == "Camille" for i in moved)
        for stays in ("contact", "review", "done", "abandoned"):
            assert {rows[i].version for i in surveys[stays]} == {1}, stays
        assert rows[surveys["abandoned"][0]].state == "topics"
        log = session.scalars(select(WorkflowTransition).where(WorkflowTransition.trigger == "migrate")
                              .order_by(WorkflowTransition.id)).all()
        assert [(t.instance_id, t.version, t.source, t.dest, t.duration_ms) for t in log] == [
            (i, 2, "topics", "interests", 2 * 3600 * 1000) for i in surveys["topics"]]


def test_a_moved_instance_continues_on_the_new_version(core: Core, surveys):
    text, v2 = spec_of("survey_v2.yml")
    with transaction(core.sessions) as session:
        definitions.publish(session, v2, text, "survey_v2.yml")
        migration.apply(session, v2, now=T1, actor_id=None)

    with transaction(core.sessions) as session:
        instance = session.get(WorkflowInstance, surveys["topics"][0])
        assert instance is not None
        flow = definitions.of_instance(session, instance)
        runtime.submit(session, flow, instance, trigger="send", answers={"topic": "transport"},
                       step=instance.lock_version, actor=None, now=T1, locale="fr")

    with core.sessions() as session:
        instance = session.get(WorkflowInstance, surveys["topics"][0])
        assert instance is not None
        assert (instance.version, instance.state, instance.is_completed) == (2, "done", True)


def test_a_migration_to_a_final_state_completes_the_instance(core: Core, surveys):
    text, v2 = spec_of("survey_v2.yml")
    text = text.replace("1: {topics: interests}", "1: {topics: interests, review: done}")
    v2, diagnostics = check_text(text, "survey_v2.yml")
    assert diagnostics == [] and v2 is not None

    with transaction(core.sessions) as session:
        definitions.publish(session, v2, text, "survey_v2.yml")
        done = migration.apply(session, v2, now=T1, actor_id=None)

    assert done.stranded == ()
    with core.sessions() as session:
        instance = session.get(WorkflowInstance, surveys["review"][0])
        assert instance is not None
        assert (instance.version, instance.state, instance.is_completed, instance.completed_at) == (2, "done", True, T1)


def test_unpublishing_serves_the_previous_version_again_and_keeps_instances(core: Core, surveys):
    text, v2 = spec_of("survey_v2.yml")
    with transaction(core.sessions) as session:
        definitions.publish(session, v2, text, "survey_v2.yml")

    with transaction(core.sessions) as session:
        assert definitions.unpublish(session, "survey") == 1

    with core.sessions() as session:
        flow = definitions.active(session, "survey")
        assert flow is not None and flow.spec.version == 1
        assert session.scalars(select(WorkflowDefinition.version).order_by(WorkflowDefinition.version)).all() == [1, 2]
    with transaction(core.sessions) as session:
        assert definitions.unpublish(session, "survey") is None
    with core.sessions() as session:
        assert definitions.active(session, "survey") is None
        assert len(session.scalars(select(WorkflowInstance)).all()) == 6
    with pytest.raises(DefinitionError), transaction(core.sessions) as session:
        definitions.unpublish(session, "survey")


def test_loading_an_older_file_does_not_take_over_from_a_newer_version(core: Core, surveys):
    text, v2 = spec_of("survey_v2.yml")
    with transaction(core.sessions) as session:
        definitions.publish(session, v2, text, "survey_v2.yml")

    with transaction(core.sessions) as session:
        published, diagnostics = definitions.load_files(session, [FIXTURES / "survey_v1.yml"])

    assert (published, diagnostics) == ([], [])
    with core.sessions() as session:
        assert definitions.active_version(session, "survey") == 2
        assert definitions.latest_version(session, "survey") == 2

