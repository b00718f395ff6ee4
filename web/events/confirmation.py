"""What the event registration's confirmation page adds: the event's date and place, its .ics and its page."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from engagement.events import ics, service, wording
from engagement.workflow.models import WorkflowInstance
from web.db import db
from web.locale import current_locale
from web.wizard.finals import confirmation


@confirmation("event_registration")
def event_details(instance: WorkflowInstance, mine: bool) -> dict[str, Any]:
    """The event the instance is about (public facts, shown whoever looks); nothing if it no longer exists."""
    slug = instance.data.get("event")
    event = service.by_slug(db(), slug) if isinstance(slug, str) else None
    if event is None:
        return {}
    place = ics.place(event) if event.address else ""
    already = None  # a member who held a place before: nothing changed, and the page says so
    if mine and instance.data.get("already"):
        already = _("You are already registered") if instance.state == "registered" else \
            _("You are already on the waitlist")
    return {"event": event, "when": wording.when(event, current_locale()), "place": place, "already": already}
