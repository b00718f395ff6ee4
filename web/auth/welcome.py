"""The page a new member lands on once activated: their nearest committee, events near them, a friend to invite."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.committees.nearby import nearest
from engagement.events import ics, wording
from engagement.events.nearby import upcoming_near
from engagement.geo.distances import point_of


def welcome(session: Session, user: User, now: datetime, locale: str) -> dict[str, Any]:
    """What activated.html shows: ``located`` (whether the address places them), ``committee`` (a committee and
    its distance, or None) and ``events`` (dicts: event, when, place, km), soonest first."""
    origin = point_of(user.address)
    if origin is None:
        return {"located": False, "committee": None, "events": []}
    found = upcoming_near(session, origin, now)
    events = [{"event": event, "when": wording.when(event, locale), "place": ics.place(event), "km": km}
              for event, km in found]
    return {"located": True, "committee": nearest(session, origin), "events": events}
