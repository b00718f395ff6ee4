"""The versioning rule's one owner (engagement.workflow.definitions): a new version is above every one published."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engagement.workflow import definitions
from engagement.workflow.checker import check_text
from engagement.workflow.spec import WorkflowSpec
from tests.analytics_data import SURVEY


def survey(version: int) -> tuple[WorkflowSpec, str]:
    text = SURVEY.format(version=version)
    spec, diagnostics = check_text(text, "survey.yml")
    assert spec is not None, diagnostics
    return spec, text


def publish(session: Session, version: int) -> None:
    spec, text = survey(version)
    definitions.publish(session, spec, text, "survey.yml")


def test_a_first_version_and_one_above_the_latest_are_new(session: Session):
    spec, text = survey(1)
    assert definitions.version_problem(session, spec, text, "survey.yml") is None
    publish(session, 2)
    spec, text = survey(3)
    assert definitions.version_problem(session, spec, text, "survey.yml") is None


def test_the_latest_version_again_is_refused_at_its_version_line_with_the_next_one(session: Session):
    publish(session, 2)
    spec, text = survey(2)

    problem = definitions.version_problem(session, spec, text, "mine.yml")

    assert problem is not None and (problem.path, problem.line, problem.severity) == ("mine.yml", 2, "error")
    assert problem.message == ("version 2 of survey is already published (the latest is 2): "
                               "write version: 3 to publish this file")
    assert problem.template == definitions.VERSION_TAKEN  # kept for the page's language
    assert problem.params["next"] == 3


def test_a_version_below_an_unpublished_one_is_refused_too(session: Session):
    publish(session, 1)
    publish(session, 4)
    definitions.unpublish(session, "survey")  # 4 is no longer active, 1 serves again: 4 still counts
    spec, text = survey(3)

    problem = definitions.version_problem(session, spec, text, "survey.yml")

    assert problem is not None and problem.params == {"version": 3, "id": "survey", "latest": 4, "next": 5}


def test_the_version_line_of_a_text_that_does_not_load_is_its_start():
    assert definitions.version_position("id: x\nversion: 1\n") == (2, 10)
    assert definitions.version_position("{ not: [yaml") == (1, 1)
