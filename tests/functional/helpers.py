"""What the functional tests share: the volunteer answers, page readers and database counts."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engagement.mail.models import MailMessage
from engagement.workflow.models import WorkflowInstance, WorkflowTransition

URL = "/w/volunteer"
IDENTITY = {"first_name": "Camille", "email": "camille@example.org", "age": "30"}
MINOR = {"first_name": "Lou", "email": "lou@example.org", "age": "16"}
AVAILABILITY = {"missions": ["events", "digital"], "driving_licence": "y"}
GUARDIAN = {"guardian_email": "parent@example.org", "guardian_consent": "y"}
SUMMARY = {"comment": "À bientôt", "terms": "y"}


def text(page: str) -> str:
    """The page with entities decoded (French apostrophes arrive as ``&#39;``)."""
    return html.unescape(page)


def state_of(page: str) -> str | None:
    """The ``data-state`` of the step form (None on a page without one)."""
    found = re.search(r'<form method="post"[^>]*\sdata-state="([^"]+)"', page)
    return found.group(1) if found else None


def input_value(page: str, name: str) -> str | None:
    """The ``value`` of the (first) input called ``name``."""
    for tag in re.findall(r"<input\b[^>]*>", page):
        if f'name="{name}"' in tag:
            found = re.search(r'\svalue="([^"]*)"', tag)
            return html.unescape(found.group(1)) if found else ""
    return None


def checked(page: str, name: str) -> set[str]:
    """Values of the ticked checkboxes (or radios) called ``name``."""
    return {html.unescape(v) for tag in re.findall(r"<input\b[^>]*>", page)
            if f'name="{name}"' in tag and re.search(r"\schecked\b", tag)
            for v in re.findall(r'\svalue="([^"]*)"', tag)}


def field_attributes(page: str, name: str) -> str:
    """The attributes after ``data-field`` of a field's wrapper (``data-conditional``, ``hidden``)."""
    found = re.search(rf'<div class="field[^"]*" data-field="{re.escape(name)}"([^>]*)>', page)
    assert found, f"no field {name!r} on the page"
    return found.group(1)


def field_error(page: str, field_id: str) -> str | None:
    """The message rendered next to a field (``<p class="error" id="<id>-error">``)."""
    found = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else None


def summary_links(page: str) -> list[str]:
    """The anchors of the error summary's links, in order."""
    found = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    return re.findall(r'<a href="#([^"]+)"', found.group(0)) if found else []


def advance(client: Any, data: dict[str, Any], trigger: str = "next", url: str = URL) -> str:
    """Submit the current step as a browser would, check the PRG answer, and return the next page."""
    response = client.post(url, {**data, "trigger": trigger})
    assert response.status_code == 303, text(client.last_html)[:2000]
    assert in_wizard(response.headers["Location"], url)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return client.last_html


def confirm(client: Any, data: dict[str, Any] = SUMMARY, trigger: str = "confirm", url: str = URL) -> str:
    """The last question page, then its review page ("check your answers") and its button: how a flow ends."""
    review = advance(client, data, url=url)
    assert state_of(review) == "check", text(review)[:2000]
    return advance(client, {}, trigger=trigger, url=url)


def in_wizard(location: str, url: str = URL) -> bool:
    """A redirect to one of the wizard's steps (``/w/<id>/<state>``) or its start (``/w/<id>``)."""
    return location == url or location.startswith(url + "/")


def serve_workflows(env: dict[str, str], folder: Path, **files: str) -> dict[str, str]:
    """The deployment's workflows are these files (name: YAML text), written in ``folder``, and no other."""
    folder.mkdir(exist_ok=True)
    for name, source in files.items():
        (folder / f"{name}.yml").write_text(source, encoding="utf-8")
    env["ENGAGEMENT_WORKFLOWS_DIR"] = str(folder)
    return env


def count(session: Session, model: type, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def instances(session: Session, workflow_id: str = "volunteer") -> list[WorkflowInstance]:
    return list(session.scalars(select(WorkflowInstance).where(WorkflowInstance.workflow_id == workflow_id)
                                .order_by(WorkflowInstance.id)))


def transitions(session: Session, instance_id: int | None = None) -> list[WorkflowTransition]:
    query = select(WorkflowTransition).order_by(WorkflowTransition.id)
    if instance_id is not None:
        query = query.where(WorkflowTransition.instance_id == instance_id)
    return list(session.scalars(query))


def untouched_start(session: Session, workflow_id: str = "volunteer", initial: str = "identity",
                    lock_version: int = 1) -> WorkflowInstance:
    """The only instance: the one the first GET started, still as started (a refused step saved nothing).

    Exactly one instance of ``workflow_id``, in its initial state, with its original lock version,
    no answers and no history, neither completed nor abandoned; and no transition at all.
    """
    found = instances(session, workflow_id)
    assert len(found) == 1, f"expected exactly one {workflow_id} instance, found {len(found)}"
    instance = found[0]
    assert (instance.state, instance.lock_version, instance.data, instance.history) == (
        initial, lock_version, {}, [])
    assert instance.abandoned_at is None and not instance.is_completed and instance.completed_at is None
    assert count(session, WorkflowInstance) == 1
    assert transitions(session) == []
    return instance


def mails(session: Session) -> list[MailMessage]:
    return list(session.scalars(select(MailMessage).order_by(MailMessage.id)))


def selected_option(page: str, name: str) -> str | None:
    """The value of the selected option of the select called ``name``."""
    found = re.search(rf'<select\b[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    if found is None:
        return None
    option = re.search(r'<option\b[^>]*\sselected\b[^>]*>', found.group(1))
    value = re.search(r'value="([^"]*)"', option.group(0)) if option else None
    return value.group(1) if value else None


def named_controls(page: str) -> list[tuple[str, str, str]]:
    """(tag, type, name) of every control of the step form, in page order."""
    found = re.search(r'<form method="post"[^>]*data-state="[^"]*".*?</form>', page, re.S)
    assert found, "no step form on the page"
    controls = []
    for tag, attrs in re.findall(r"<(input|select|textarea)\b([^>]*)>", found.group(0)):
        name = re.search(r'\sname="([^"]*)"', attrs)
        kind = re.search(r'\stype="([^"]*)"', attrs)
        controls.append((tag, kind.group(1) if kind else "", name.group(1) if name else ""))
    return controls
