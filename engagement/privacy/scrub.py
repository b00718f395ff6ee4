"""Removing a person's answers from a workflow instance that keeps counting (erasure and retention).

A scrubbed instance keeps its workflow, version, state, dates, history and transition log: the analysts'
counts, funnels and times in state do not change. Of its answers (``data``, ``drafts`` and the log's
``changes``) it keeps only what identifies nobody once no account is linked to it:

- the answers to the definition's fields of a type in CHOICE_TYPES: a key of a list or a tick;
- what the page that opened it gave (the definition's ``inputs``: an event's slug and name);
- the invitation a sign-up followed (``invited_by``: how the analytics tell an invited sign-up);
- numbers and flags that the actions recorded (an invitation's number, ``already``).

Text, addresses, names, dates, phone numbers and numbers typed in (an age) go. When the instance's
definition is gone, only ``invited_by`` stays.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.invitations.models import INVITED_BY
from engagement.workflow import definitions
from engagement.workflow.models import WorkflowDefinition, WorkflowInstance, WorkflowTransition
from engagement.workflow.spec import WorkflowSpec

CHOICE_TYPES = frozenset({"boolean", "consent", "choice", "multichoice", "country"})


def scrub_instance(session: Session, instance: WorkflowInstance, now: datetime) -> None:
    """Remove the personal answers of ``instance`` and of its transition log; mark it ``scrubbed_at``.

    The link to an account (``actor_id``) is the caller's: erasure unlinks its person's instances.
    """
    spec = _spec(session, instance)
    instance.data = kept(spec, instance.data or {})
    drafts = {state: answers for state, typed in (instance.drafts or {}).items()
              if isinstance(typed, dict) and (answers := kept(spec, typed))}
    instance.drafts = drafts or None
    for row in session.scalars(select(WorkflowTransition).where(WorkflowTransition.instance_id == instance.id)):
        if row.changes:
            row.changes = kept(spec, row.changes) or None
    instance.scrubbed_at = now


def kept(spec: WorkflowSpec | None, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers of ``answers`` that identify nobody (see the module's docstring)."""
    if spec is None:
        return {key: value for key, value in answers.items() if key == INVITED_BY}
    fields, inputs = spec.fields, set(spec.inputs)
    return {key: value for key, value in answers.items()
            if (fields[key].type in CHOICE_TYPES if key in fields else _anonymous(key, value, inputs))}


def _anonymous(key: str, value: Any, inputs: set[str]) -> bool:
    return key == INVITED_BY or key in inputs or value is None or isinstance(value, bool | int | float)


def _spec(session: Session, instance: WorkflowInstance) -> WorkflowSpec | None:
    definition = session.scalar(select(WorkflowDefinition).where(
        WorkflowDefinition.workflow_id == instance.workflow_id, WorkflowDefinition.version == instance.version))
    if definition is None:
        return None
    try:
        return definitions.spec_of(definition)
    except definitions.DefinitionError:
        return None
