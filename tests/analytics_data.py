"""A small, hand-built history of the ``survey`` workflow whose figures the analytics tests know.

Ten instances, NOW = 2026-11-20 12:00 UTC (``d(day, hour)`` is a time in November 2026):

id  v  started     path (ms spent in the state it leaves)                 end             source
1   1  10th 09:00  intro -10,000-> details -60,000-> done                  completed 10th  direct
2   1  10th 10:00  intro -20,000-> details -120,000-> done                 completed 10th  direct
3   1  10th 11:00  intro -30,000-> details (since 10th 11:00; sla 2d)      live, stuck     direct
4   1  10th 12:00  intro                                                   abandoned       direct
5   1  11th 09:00  intro -40,000-> details -5,000-> intro (back)
                   -50,000-> details -30,000-> done                        completed 11th  invitation
6   1  11th 10:00  intro -60,000-> details -90,000-> done                  completed 12th  invitation
7   1  11th 11:00  intro (since 11th 11:00; sla 1h)                        live, stuck     direct
8   1  19th 13:00  intro -70,000-> details (since 19th 13:01: 23 h)        live            direct
9   1  13th 09:00  intro -80,000-> details -10,000-> done                  completed 13th  direct
10  2  20th 11:30  intro (since 30 minutes)                                live            direct

Instance 2 sent an invitation nobody followed, instance 9 one that a member joined through.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from engagement.accounts.models import User
from engagement.db import transaction
from engagement.invitations.models import Invitation
from engagement.workflow import definitions, rollup
from engagement.workflow.checker import check_text
from engagement.workflow.models import WorkflowInstance, WorkflowTransition

SURVEY = """\
id: survey
version: {version}
title: Questionnaire
initial: intro
states:
  intro:
    title: Introduction
    fields: [{{name: name, type: text, label: Nom}}]
    sla: 1h
  details:
    title: Détails
    fields: [{{name: age, type: integer, label: Âge}}]
    sla: 2d
  done: {{final: true, title: Merci}}
transitions:
  - {{trigger: next, source: intro, dest: details}}
  - {{trigger: next, source: details, dest: done}}
"""


def d(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


NOW = d(20, 12)
# id: (version, started, [(source, dest, trigger, duration_ms)], state, entered_at, completed_at, abandoned, data)
HISTORY: dict[int, tuple[Any, ...]] = {
    1: (1, d(10, 9), [("intro", "details", "next", 10_000), ("details", "done", "next", 60_000)],
        "done", d(10, 9, 2), d(10, 9, 2), None, {}),
    2: (1, d(10, 10), [("intro", "details", "next", 20_000), ("details", "done", "next", 120_000)],
        "done", d(10, 10, 3), d(10, 10, 3), None, {}),
    3: (1, d(10, 11), [("intro", "details", "next", 30_000)], "details", d(10, 11), None, None, {}),
    4: (1, d(10, 12), [], "intro", d(10, 12), None, d(10, 13), {}),
    5: (1, d(11, 9), [("intro", "details", "next", 40_000), ("details", "intro", "back", 5_000),
                      ("intro", "details", "next", 50_000), ("details", "done", "next", 30_000)],
        "done", d(11, 9, 3), d(11, 9, 3), None, {"invited_by": 1}),
    6: (1, d(11, 10), [("intro", "details", "next", 60_000), ("details", "done", "next", 90_000)],
        "done", d(12, 8), d(12, 8), None, {"invited_by": 2}),
    7: (1, d(11, 11), [], "intro", d(11, 11), None, None, {}),
    8: (1, d(19, 13), [("intro", "details", "next", 70_000)], "details", d(19, 13, 1), None, None, {}),
    9: (1, d(13, 9), [("intro", "details", "next", 80_000), ("details", "done", "next", 10_000)],
        "done", d(13, 9, 2), d(13, 9, 2), None, {}),
    10: (2, d(20, 11, 30), [], "intro", d(20, 11, 30), None, None, {}),
}


def publish(session: Session, version: int) -> None:
    text = SURVEY.format(version=version)
    spec, diagnostics = check_text(text, "survey.yml")
    assert spec is not None, diagnostics
    definitions.publish(session, spec, text, "survey.yml")


def build(factory: sessionmaker[Session]) -> None:
    """Publish survey versions 1 and 2 (2 active) and write the history above."""
    with transaction(factory) as session:
        publish(session, 1)
        publish(session, 2)
        for instance_id, (version, started, hops, state, entered, completed, abandoned, data) in HISTORY.items():
            session.add(WorkflowInstance(
                id=instance_id, workflow_id="survey", version=version, state=state, data=data, history=[],
                is_completed=completed is not None, started_at=started, updated_at=entered, entered_at=entered,
                completed_at=completed, abandoned_at=abandoned))
            session.flush()
            at = started
            for source, dest, trigger, duration in hops:
                at += timedelta(milliseconds=duration)
                session.add(WorkflowTransition(instance_id=instance_id, workflow_id="survey", version=version,
                                               source=source, dest=dest, trigger=trigger, at=at,
                                               duration_ms=duration))
        friend = User(email="friend@example.org", role="member")
        session.add(friend)
        session.flush()
        for instance_id, joined in ((2, None), (9, friend.id)):
            session.add(Invitation(
                instance_id=instance_id, sender_first_name="A", sender_last_name="B", sender_email="a@example.org",
                friend_first_name="C", friend_email=f"c{instance_id}@example.org", answers={}, subject="s",
                body="b", locale="fr", created_at=d(10, 9), joined_user_id=joined,
                joined_at=d(14, 9) if joined else None))
    rollup.refresh(factory, NOW, full=True)  # as the beat would, before anyone looks
