"""The engine on a real SQLite database: branching, automatic states, actions, tokens and locking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engagement import PROJECT_ROOT
from engagement.core import Core
from engagement.db import transaction
from engagement.mail.models import MailMessage
from engagement.outbox import OutboxMessage
from engagement.workflow import definitions, runtime
from engagement.workflow.checker import check_text
from engagement.workflow.definitions import DefinitionError
from engagement.workflow.errors import WorkflowError
from engagement.workflow.models import WorkflowInstance, WorkflowTransition

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "workflows"
VOLUNTEER = PROJECT_ROOT / "workflows" / "volunteer.yml"
GATE = FIXTURES / "gate.yml"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

IDENTITY = {"first_name": "Camille", "email": "camille@example.org", "age": 30}
AVAILABILITY = {"missions": ["events", "digital"], "driving_licence": True}
GUARDIAN = {"guardian_email": "parent@example.org", "guardian_consent": True}
SUMMARY = {"comment": "", "terms": True}


@pytest.fixture
def published(core: Core) -> Core:
    """The core with volunteer.yml and the gate fixture published."""
    with transaction(core.sessions) as session:
        done, diagnostics = definitions.load_files(session, [VOLUNTEER, GATE])
    assert diagnostics == []
    assert {p.workflow_id for p in done} == {"volunteer", "gate"}
    return core


def start(core: Core, workflow_id: str = "volunteer", now: datetime = T0) -> WorkflowInstance:
    with transaction(core.sessions) as session:
        flow = definitions.active(session, workflow_id)
        assert flow is not None
        return runtime.start(session, flow, actor=None, now=now, locale="fr")


def fire(session: Session, instance_id: int, trigger: str, answers: dict[str, Any], now: datetime,
         step: int | None = None) -> WorkflowInstance:
    instance = session.get(WorkflowInstance, instance_id)
    assert instance is not None
    runtime.submit(session, definitions.of_instance(session, instance), instance, trigger=trigger,
                   answers=answers, step=instance.lock_version if step is None else step, actor=None,
                   now=now, locale="fr")
    return instance


def submit(core: Core, instance_id: int, trigger: str, answers: dict[str, Any], now: datetime,
           step: int | None = None) -> WorkflowInstance:
    """One request: load the instance, submit one step, commit."""
    with transaction(core.sessions) as session:
        return fire(session, instance_id, trigger, answers, now, step)


def walk_to_summary(core: Core, age: int = 30) -> WorkflowInstance:
    instance = start(core)
    submit(core, instance.id, "next", {**IDENTITY, "age": age}, T0 + timedelta(seconds=5))
    instance = submit(core, instance.id, "next", AVAILABILITY, T0 + timedelta(seconds=12))
    if instance.state == "guardian":
        instance = submit(core, instance.id, "next", GUARDIAN, T0 + timedelta(seconds=20))
    assert instance.state == "summary"
    return instance


def walk_to_check(core: Core, age: int = 30) -> WorkflowInstance:
    """Up to the review page ("check your answers"), whose button confirms."""
    instance = submit(core, walk_to_summary(core, age).id, "next", SUMMARY, T0 + timedelta(seconds=40))
    assert instance.state == "check"
    return instance


def transitions_of(core: Core, instance_id: int) -> list[WorkflowTransition]:
    with core.sessions() as session:
        return list(session.scalars(select(WorkflowTransition).where(
            WorkflowTransition.instance_id == instance_id).order_by(WorkflowTransition.id)))


def count(core: Core, model: type) -> int:
    with core.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def reload(core: Core, instance_id: int) -> WorkflowInstance:
    with core.sessions() as session:
        instance = session.get(WorkflowInstance, instance_id)
        assert instance is not None
        return instance


# -- branching and automatic states ----------------------------------------------------------


@pytest.mark.parametrize(("age", "state"), [(15, "guardian"), (16, "guardian"), (17, "guardian"),
                                            (18, "summary"), (30, "summary")])
def test_routing_state_sends_minors_to_the_guardian_step(published: Core, age: int, state: str):
    instance = start(published)
    submit(published, instance.id, "next", {**IDENTITY, "age": age}, T0)

    instance = submit(published, instance.id, "next", AVAILABILITY, T0)

    assert instance.state == state
    hops = [(t.source, t.dest, t.trigger) for t in transitions_of(published, instance.id)]
    assert hops[-2:] == [("availability", "routing", "next"), ("routing", state, "route")]


def test_transition_log_records_every_hop_with_time_spent(published: Core):
    instance = walk_to_summary(published, age=30)

    rows = transitions_of(published, instance.id)

    assert [(r.source, r.dest, r.trigger) for r in rows] == [
        ("identity", "availability", "next"),
        ("availability", "routing", "next"),
        ("routing", "summary", "route"),
    ]
    assert [r.duration_ms for r in rows] == [5000, 7000, 0]  # the automatic state is left at once
    assert all(r.duration_ms >= 0 for r in rows)
    assert all(r.workflow_id == "volunteer" and r.version == 4 for r in rows)
    assert rows[0].changes == {**IDENTITY}
    assert rows[1].changes == AVAILABILITY
    assert rows[2].changes is None  # answers belong to the hop that left the form


def test_start_routes_through_an_automatic_initial_state_after_its_on_enter(published: Core):
    instance = start(published, "gate")

    assert instance.state == "ask"
    assert instance.data == {"visits": 1}
    assert [(r.source, r.dest, r.trigger) for r in transitions_of(published, instance.id)] == [
        ("welcome", "ask", "begin"),
    ]


def test_unless_refusing_the_only_way_is_a_no_transition_error(published: Core):
    instance = start(published, "gate")

    with pytest.raises(WorkflowError) as refused:
        submit(published, instance.id, "next", {"code": "blocked"}, T0)

    assert refused.value.code == "no_transition"
    assert reload(published, instance.id).state == "ask"
    assert len(transitions_of(published, instance.id)) == 1  # only the start's hop


def test_automatic_state_with_no_holding_condition_is_a_no_transition_error(published: Core):
    instance = start(published, "gate")

    with pytest.raises(WorkflowError) as refused:
        submit(published, instance.id, "next", {"code": "other"}, T0)

    assert refused.value.code == "no_transition"
    assert "check" in str(refused.value)
    stored = reload(published, instance.id)
    assert (stored.state, stored.data) == ("ask", {"visits": 1})


def test_automatic_state_routes_to_the_final_state_when_its_condition_holds(published: Core):
    instance = start(published, "gate")

    instance = submit(published, instance.id, "next", {"code": "open"}, T0 + timedelta(seconds=3))

    assert instance.state == "opened"
    assert instance.is_completed and instance.completed_at == T0 + timedelta(seconds=3)


def test_unknown_trigger_is_refused(published: Core):
    instance = start(published)

    with pytest.raises(WorkflowError) as refused:
        submit(published, instance.id, "confirm", IDENTITY, T0)

    assert refused.value.code == "unknown_trigger"
    assert reload(published, instance.id).state == "identity"


# -- actions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "is_minor"), [(16, True), (30, False)])
def test_set_action_stores_the_value_of_its_expression(published: Core, age: int, is_minor: bool):
    instance = walk_to_check(published, age=age)

    instance = submit(published, instance.id, "confirm", {}, T0 + timedelta(minutes=1))

    assert instance.state == "done"
    assert instance.is_completed
    assert reload(published, instance.id).data["is_minor"] is is_minor


def test_mail_action_sends_exactly_one_message_after_commit(published: Core):
    instance = walk_to_check(published)
    assert count(published, MailMessage) == 0

    submit(published, instance.id, "confirm", {}, T0 + timedelta(minutes=1))

    with published.sessions() as session:
        messages = list(session.scalars(select(MailMessage)))
        outbox = list(session.scalars(select(OutboxMessage)))
    assert len(messages) == 1
    assert messages[0].status == "sent"
    assert messages[0].to == ["camille@example.org"]
    assert messages[0].template == "volunteer_welcome"
    assert "Camille" in messages[0].subject
    assert "events, digital" in messages[0].text_body
    assert [(o.topic, o.payload) for o in outbox] == [("mail.deliver", {"mail_id": messages[0].id})]
    assert outbox[0].delivered_at is not None


def test_mail_action_sends_nothing_when_the_transaction_rolls_back(published: Core):
    instance = walk_to_check(published)

    with pytest.raises(RuntimeError, match="after submit"), transaction(published.sessions) as session:
        fire(session, instance.id, "confirm", {}, T0 + timedelta(minutes=1))
        session.flush()  # the message and its outbox row were written in this transaction
        assert session.scalar(select(func.count()).select_from(MailMessage)) == 1
        raise RuntimeError("failure after submit")

    assert count(published, MailMessage) == 0
    assert count(published, OutboxMessage) == 0
    stored = reload(published, instance.id)
    assert (stored.state, stored.is_completed) == ("check", False)
    assert "is_minor" not in stored.data
    assert all(t.trigger != "confirm" for t in transitions_of(published, instance.id))


# -- step tokens, back, abandon --------------------------------------------------------------


def test_double_submit_of_one_page_is_stale_and_fires_once(published: Core):
    instance = start(published)
    token = instance.lock_version
    submit(published, instance.id, "next", IDENTITY, T0, step=token)

    with pytest.raises(WorkflowError) as refused:
        submit(published, instance.id, "next", IDENTITY, T0, step=token)

    assert refused.value.code == "stale"
    rows = transitions_of(published, instance.id)
    assert [(r.source, r.trigger) for r in rows] == [("identity", "next")]
    assert reload(published, instance.id).state == "availability"


def test_a_token_from_the_future_is_stale(published: Core):
    instance = start(published)

    with pytest.raises(WorkflowError) as refused:
        submit(published, instance.id, "next", IDENTITY, T0, step=instance.lock_version + 1)

    assert refused.value.code == "stale"


def test_back_returns_to_the_previous_form_and_keeps_the_answers(published: Core):
    instance = walk_to_summary(published, age=30)
    later = T0 + timedelta(seconds=40)

    with transaction(published.sessions) as session:
        stored = session.get(WorkflowInstance, instance.id)
        assert stored is not None
        runtime.back(session, definitions.of_instance(session, stored), stored, step=stored.lock_version,
                     actor=None, now=later)

    stored = reload(published, instance.id)
    assert stored.state == "availability"  # the automatic routing state is not a page to return to
    assert stored.history == ["identity"]
    assert stored.data == {**IDENTITY, **AVAILABILITY}
    last = transitions_of(published, instance.id)[-1]
    assert (last.source, last.dest, last.trigger, last.duration_ms) == ("summary", "availability", "back", 28000)


def test_back_from_the_first_step_is_refused(published: Core):
    instance = start(published)

    with pytest.raises(WorkflowError) as refused, transaction(published.sessions) as session:
        stored = session.get(WorkflowInstance, instance.id)
        assert stored is not None
        runtime.back(session, definitions.of_instance(session, stored), stored, step=stored.lock_version,
                     actor=None, now=T0)

    assert refused.value.code == "no_back"


def test_resubmitting_after_back_moves_forward_again_with_new_answers(published: Core):
    instance = start(published)
    submit(published, instance.id, "next", IDENTITY, T0)
    with transaction(published.sessions) as session:
        stored = session.get(WorkflowInstance, instance.id)
        assert stored is not None
        runtime.back(session, definitions.of_instance(session, stored), stored, step=stored.lock_version,
                     actor=None, now=T0)

    instance = submit(published, instance.id, "next", {"age": 17}, T0)
    instance = submit(published, instance.id, "next", AVAILABILITY, T0)

    assert instance.state == "guardian"
    assert instance.data["first_name"] == "Camille" and instance.data["age"] == 17


def test_abandoned_instance_refuses_submissions(published: Core):
    instance = start(published)
    with transaction(published.sessions) as session:
        stored = session.get(WorkflowInstance, instance.id)
        assert stored is not None
        runtime.abandon(stored, T0 + timedelta(minutes=2))

    with pytest.raises(WorkflowError) as refused:
        submit(published, instance.id, "next", IDENTITY, T0 + timedelta(minutes=3))

    assert refused.value.code == "stale"
    assert reload(published, instance.id).abandoned_at == T0 + timedelta(minutes=2)


# -- optimistic locking ----------------------------------------------------------------------


def test_two_sessions_submitting_the_same_step_commit_once(published: Core):
    instance = start(published)

    with published.sessions() as first, published.sessions() as second:
        mine = fire(first, instance.id, "next", IDENTITY, T0)
        theirs = second.get(WorkflowInstance, instance.id)
        assert theirs is not None and theirs.lock_version == 1
        first.commit()
        assert mine.lock_version == 2
        # MySQL refuses the stale UPDATE (StaleDataError); SQLite refuses the writer whose read
        # snapshot is stale ("database is locked"). Either way only the first commit counts.
        with pytest.raises((StaleDataError, OperationalError)):
            fire(second, instance.id, "next", {**IDENTITY, "age": 16}, T0, step=1)
            second.commit()

    rows = transitions_of(published, instance.id)
    assert [(r.source, r.dest) for r in rows] == [("identity", "availability")]
    stored = reload(published, instance.id)
    assert (stored.lock_version, stored.data["age"]) == (2, 30)


# -- publishing ------------------------------------------------------------------------------


def changed_gate() -> tuple[str, Any]:
    text = GATE.read_text(encoding="utf-8").replace("title: {fr: Portail, en: Gate}", "title: Le portail")
    spec, diagnostics = check_text(text, "gate.yml")
    assert diagnostics == [] and spec is not None
    return text, spec


def test_changed_file_with_the_same_version_publishes_while_no_instance_runs_on_it(published: Core):
    text, spec = changed_gate()

    with transaction(published.sessions) as session:
        result = definitions.publish(session, spec, text, "gate.yml")

    assert result.changed
    with published.sessions() as session:
        flow = definitions.active(session, "gate")
    assert flow is not None and flow.spec.checksum == spec.checksum
    assert flow.spec.title == {"*": "Le portail"}


def test_changed_file_with_the_same_version_is_refused_once_an_instance_exists(published: Core):
    start(published, "gate")
    text, spec = changed_gate()

    with pytest.raises(DefinitionError, match="give the file a new version"), \
            transaction(published.sessions) as session:
        definitions.publish(session, spec, text, "gate.yml")

    with published.sessions() as session:
        flow = definitions.active(session, "gate")
    assert flow is not None and flow.spec.title == {"fr": "Portail", "en": "Gate"}


def test_load_files_reports_a_refused_change_and_keeps_the_running_version(published: Core, tmp_path: Path):
    start(published, "gate")
    text, _ = changed_gate()
    path = tmp_path / "gate.yml"
    path.write_text(text, encoding="utf-8")

    with transaction(published.sessions) as session:
        done, diagnostics = definitions.load_files(session, [path])

    assert done == []
    assert [(d.path, d.line, d.column) for d in diagnostics] == [(str(path), 4, 10)]  # at the version to bump
    assert "give the file a new version" in diagnostics[0].message
    with published.sessions() as session:
        flow = definitions.active(session, "gate")
    assert flow is not None and flow.spec.title == {"fr": "Portail", "en": "Gate"}


def test_republishing_an_unchanged_file_changes_nothing(published: Core):
    start(published, "gate")

    with transaction(published.sessions) as session:
        done, diagnostics = definitions.load_files(session, [GATE])

    assert diagnostics == []
    assert [(p.workflow_id, p.version, p.changed) for p in done] == [("gate", 1, False)]
