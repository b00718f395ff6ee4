"""What a domain adds at the top of one of a workflow's step pages (the room left under a ceiling, say), registered
by the web package of that domain with ``@note("<workflow id>", "<state>")``: the wizard stays free of domains."""

from __future__ import annotations

from collections.abc import Callable

from engagement.workflow.models import WorkflowInstance

# Given the instance and the page's language: a sentence to show above the step's form, or None.
Note = Callable[[WorkflowInstance, str], str | None]
NOTES: dict[tuple[str, str], Note] = {}


def note(workflow_id: str, state: str) -> Callable[[Note], Note]:
    def register(function: Note) -> Note:
        NOTES[workflow_id, state] = function
        return function

    return register


def of(workflow_id: str, state: str, instance: WorkflowInstance, locale: str) -> str | None:
    function = NOTES.get((workflow_id, state))
    return function(instance, locale) if function is not None else None
