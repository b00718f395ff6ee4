"""Confirmation pages: a finished workflow's page, and what a workflow's own template and context add to it.

Any workflow gets templates/wizard/final.html: its final state's title and help in a panel, then links onward.
A workflow may also have templates/wizard/final/<workflow id>.html (extending that page) and a context
function, registered by the web package of its domain with ``@confirmation("<workflow id>")``: the engine
and the wizard stay free of any domain.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import render_template
from flask_login import current_user

from engagement.db import utcnow
from engagement.workflow.machine import CompiledWorkflow
from engagement.workflow.models import WorkflowInstance
from engagement.workflow.spec import StateSpec

# Given the finished instance and whether its answers may be shown to this visitor: what its page adds.
Context = Callable[[WorkflowInstance, bool], dict[str, Any]]
CONTEXTS: dict[str, Context] = {}
# How long the browser that finished an instance which then became an account's (a sign-up) still sees its
# answers on the confirmation page while nobody is logged in: the page, a reload, a resend.
FRESH = timedelta(hours=1)


def confirmation(workflow_id: str) -> Callable[[Context], Context]:
    """Register what the confirmation page of ``workflow_id`` adds (one function per workflow)."""

    def register(function: Context) -> Context:
        CONTEXTS[workflow_id] = function
        return function

    return register


def answers_shown(instance: WorkflowInstance) -> bool:
    """Whether this visitor may read the answers of the finished instance their browser holds: their own
    (anonymous, or their account's), or one this browser has just finished and that became an account's."""
    if instance.actor_id is None:
        return True
    if current_user.is_authenticated:
        return bool(instance.actor_id == current_user.id)
    return instance.completed_at is not None and utcnow() - instance.completed_at < FRESH


def render(flow: CompiledWorkflow, instance: WorkflowInstance, state: StateSpec, **page: Any) -> str:
    """The confirmation page of ``state``: the workflow's own template if it has one, else the generic one."""
    mine = answers_shown(instance)
    extra = CONTEXTS[flow.spec.id](instance, mine) if flow.spec.id in CONTEXTS else {}
    return render_template([f"wizard/final/{flow.spec.id}.html", "wizard/final.html"], flow=flow.spec,
                           state=state, instance=instance, mine=mine, **page, **extra)
