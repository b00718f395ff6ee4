"""Which published workflows the home page shows: only those an organizer put there (off by default).

The choice is a site switch per workflow (``home:<id>``, engagement.switches): it outlives versions,
unpublishing and restarts, every process reads the same, and who changed it and when are kept with it.
Only a workflow anyone may start from its own address can be shown (public, no inputs from a page).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement import switches
from engagement.workflow.spec import WorkflowSpec

PREFIX = switches.HOME_PREFIX
NAME_LENGTH = 40  # site_switches.name
DEMO = ("signup", "volunteer", "invitation")  # what `engagement demo load` puts on the home page once


def switch_name(workflow_id: str) -> str:
    """``home:<id>``; an id too long for the column is replaced by a digest of it."""
    name = f"{PREFIX}{workflow_id}"
    if len(name) <= NAME_LENGTH:
        return name
    return f"{PREFIX}#{hashlib.sha256(workflow_id.encode()).hexdigest()[:NAME_LENGTH - len(PREFIX) - 1]}"


def can_show(spec: WorkflowSpec) -> bool:
    """Whether a home page card can open the workflow: anyone may start it, and no page feeds it inputs."""
    return spec.access == "public" and not spec.inputs


def is_shown(session: Session, workflow_id: str) -> bool:
    return switches.state(session, switch_name(workflow_id)).is_on


def shown(session: Session, workflow_ids: Iterable[str]) -> set[str]:
    """Those of ``workflow_ids`` an organizer put on the home page."""
    names = {switch_name(workflow_id): workflow_id for workflow_id in workflow_ids}
    if not names:
        return set()
    rows = session.scalars(select(switches.SiteSwitch.name).where(
        switches.SiteSwitch.name.in_(list(names)), switches.SiteSwitch.is_on.is_(True)))
    return {names[name] for name in rows}


def place(session: Session, workflow_id: str, *, on: bool, by: str, now: datetime) -> bool:
    """Show (or stop showing) the workflow on the home page; returns whether that changed anything."""
    return switches.turn(session, switch_name(workflow_id), on=on, by=by, now=now)


def place_demo(session: Session, now: datetime) -> list[str]:
    """The demo's workflows on the home page, once: a choice already made (either way) is kept."""
    placed = []
    for workflow_id in DEMO:
        if session.get(switches.SiteSwitch, switch_name(workflow_id)) is None:
            place(session, workflow_id, on=True, by="demo", now=now)
            placed.append(workflow_id)
    return [f"home page: {', '.join(placed)} shown" if placed else "home page: unchanged"]
