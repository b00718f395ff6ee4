"""How a step reaches the database (engagement/workflow/persistence.py): one versioned UPDATE of the instance,
then one INSERT of its log row; an instance another request moved first is refused by its lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm.exc import StaleDataError

from engagement import PROJECT_ROOT
from engagement.core import Core
from engagement.db import transaction
from engagement.workflow import definitions, runtime
from engagement.workflow.models import WorkflowInstance, WorkflowTransition

VOLUNTEER = PROJECT_ROOT / "workflows" / "volunteer.yml"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
IDENTITY = {"first_name": "Camille", "email": "camille@example.org", "age": 30}


@pytest.fixture
def published(core: Core) -> Core:
    with transaction(core.sessions) as session:
        _done, diagnostics = definitions.load_files(session, [VOLUNTEER])
    assert diagnostics == []
    return core


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The first words of every statement sent while the block runs."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        seen.append(" ".join(sql.split()[:3]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def start(core: Core) -> WorkflowInstance:
    with transaction(core.sessions) as session:
        flow = definitions.active(session, "volunteer")
        assert flow is not None
        return runtime.start(session, flow, actor=None, now=T0, locale="fr")


def submit(core: Core, instance: WorkflowInstance, now: datetime) -> None:
    with transaction(core.sessions) as session:
        loaded = session.get(WorkflowInstance, instance.id)
        assert loaded is not None
        runtime.submit(session, definitions.of_instance(session, loaded), loaded, trigger="next", answers=IDENTITY,
                       step=loaded.lock_version, actor=None, now=now, locale="fr")


def log_of(core: Core, instance_id: int) -> list[WorkflowTransition]:
    with core.sessions() as session:
        return list(session.scalars(select(WorkflowTransition).where(WorkflowTransition.instance_id == instance_id)
                                    .order_by(WorkflowTransition.id)))


def test_a_step_is_one_versioned_update_then_one_log_insert(published: Core) -> None:
    instance = start(published)
    with transaction(published.sessions) as session:
        loaded = session.get(WorkflowInstance, instance.id)
        assert loaded is not None
        flow = definitions.of_instance(session, loaded)
        with statements(published.engine) as sent:
            runtime.submit(session, flow, loaded, trigger="next",
                           answers=IDENTITY, step=1, actor=None, now=T0 + timedelta(seconds=5), locale="fr")
            session.flush()  # nothing is left for the unit of work

    assert sent == ["UPDATE workflow_instances SET", "INSERT INTO workflow_transitions"]
    with published.sessions() as session:
        stored = session.get(WorkflowInstance, instance.id)
        assert stored is not None
        assert (stored.state, stored.lock_version, stored.data["first_name"]) == ("availability", 2, "Camille")
    assert [(row.source, row.dest, row.changes) for row in log_of(published, instance.id)] == [
        ("identity", "availability", IDENTITY)]


def test_an_instance_moved_by_another_request_first_is_refused_by_its_lock(published: Core) -> None:
    instance = start(published)
    with published.sessions() as late:
        with late.begin():  # this request read the instance (step 1) ...
            mine = late.get(WorkflowInstance, instance.id)
            assert mine is not None and mine.lock_version == 1
        submit(published, instance, T0 + timedelta(seconds=5))  # ... another one answered step 1 first
        with pytest.raises(StaleDataError), late.begin():
            runtime.submit(late, definitions.of_instance(late, mine), mine, trigger="next",
                           answers={**IDENTITY, "first_name": "Late"}, step=1, actor=None,
                           now=T0 + timedelta(seconds=6), locale="fr")

    assert [(row.changes or {}).get("first_name") for row in log_of(published, instance.id)] == ["Camille"]
    with published.sessions() as session:
        stored = session.get(WorkflowInstance, instance.id)
        assert stored is not None and (stored.lock_version, stored.data["first_name"]) == (2, "Camille")


def test_a_change_made_outside_a_step_is_written_at_the_flush_and_moves_the_lock(published: Core) -> None:
    instance = start(published)
    with statements(published.engine) as sent, transaction(published.sessions) as session:
        loaded = session.get(WorkflowInstance, instance.id)
        assert loaded is not None
        runtime.abandon(loaded, T0 + timedelta(minutes=1))

    assert sent[-1] == "UPDATE workflow_instances SET"
    with published.sessions() as session:
        stored = session.get(WorkflowInstance, instance.id)
        assert stored is not None
        assert (stored.abandoned_at, stored.lock_version) == (T0 + timedelta(minutes=1), 2)


def test_an_unchanged_instance_is_not_written(published: Core) -> None:
    instance = start(published)
    with statements(published.engine) as sent, transaction(published.sessions) as session:
        loaded = session.get(WorkflowInstance, instance.id)
        assert loaded is not None
        loaded.state = loaded.state  # set to what it was: no UPDATE, the lock stays

    assert not [sql for sql in sent if sql.startswith("UPDATE")]
    with published.sessions() as session:
        stored = session.get(WorkflowInstance, instance.id)
        assert stored is not None and stored.lock_version == 1
