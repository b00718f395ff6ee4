"""The preview's dry run: where a trigger leads with given answers, and which actions would run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engagement import PROJECT_ROOT
from engagement.core import register_builtins
from engagement.mail import service as mail
from engagement.workflow import dryrun
from engagement.workflow.checker import check_text
from engagement.workflow.registry import REGISTRY, Registry
from engagement.workflow.spec import WorkflowSpec

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def volunteer(default_registry: Registry) -> WorkflowSpec:
    text = (PROJECT_ROOT / "workflows" / "volunteer.yml").read_text(encoding="utf-8")
    spec, diagnostics = check_text(text, "volunteer.yml", default_registry)
    assert diagnostics == [] and spec is not None
    return spec


@pytest.fixture
def default_registry() -> Registry:
    register_builtins()
    return Registry(actions=REGISTRY.actions, choices=REGISTRY.choices, validators=REGISTRY.validators,
                    mail_templates=mail.available_templates)


def test_a_trigger_leads_to_its_destination(volunteer: WorkflowSpec):
    outcome = dryrun.follow(volunteer, "identity", "next", {"age": 30}, NOW)

    assert outcome == dryrun.Outcome("availability", (dryrun.Hop("identity", "availability", "next", ()),))


@pytest.mark.parametrize(("age", "step"), [(16, "guardian"), (30, "summary")])
def test_automatic_states_route_on_the_answers(volunteer: WorkflowSpec, age: int, step: str):
    outcome = dryrun.follow(volunteer, "availability", "next", {"age": age}, NOW)

    assert outcome.state == step and outcome.problem is None
    assert [(h.source, h.dest, h.trigger) for h in outcome.hops] == [
        ("availability", "routing", "next"), ("routing", step, "route")]


def test_the_actions_that_would_run_are_listed_in_order(volunteer: WorkflowSpec):
    outcome = dryrun.follow(volunteer, "check", "confirm", {"email": "camille@example.org", "age": 30}, NOW)

    assert outcome.state == "done"
    assert outcome.hops[0].actions == ("set is_minor", "mail volunteer_welcome to {{ data.email }}")


def test_a_trigger_whose_conditions_fail_stays_put_with_a_problem():
    text = """id: gate
version: 1
title: Portail
initial: ask
states:
  ask:
    title: Votre âge
    fields: [{name: age, type: integer, label: Âge}]
  done: {final: true, title: Bienvenue}
transitions:
  - {trigger: next, source: ask, dest: done, conditions: "data.age >= 18"}
"""
    spec, diagnostics = check_text(text, "gate.yml", Registry())
    assert spec is not None, diagnostics

    assert dryrun.follow(spec, "ask", "next", {"age": 12}, NOW) == dryrun.Outcome("ask", (), "no_transition")
    assert dryrun.follow(spec, "ask", "next", {"age": 20}, NOW).state == "done"
