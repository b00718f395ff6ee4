"""Demonstration organizers who log in, to try the scopes: a committee's host, a department's referent and a
national organizer, all with the password ``PASSWORD``. Idempotent; never loaded in production (the
password is public)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.accounts import scopes
from engagement.accounts.models import User
from engagement.accounts.passwords import for_storage
from engagement.committees.models import Committee, CommitteeMembership

# The password is public on purpose: demo accounts, loaded only outside production.
PASSWORD = "demo-engagement-2026"  # noqa: S105  # nosec B105
# email, first name, last name, granted scope (None: the committee it hosts gives its scope), committee hosted
ORGANIZERS = (
    ("hote.paris@demo.example.org", "Hélène", "Hôte", None, "comite-paris-centre"),
    ("referent.lyon@demo.example.org", "Romain", "Référent", "department:69", None),
    ("orga.national@demo.example.org", "Nadia", "Nationale", "national", None),
)


def load(session: Session, now: datetime) -> list[str]:
    """Create the demo organizers that are missing (with their scope or their committee) and report them."""
    lines = []
    for email, first_name, last_name, scope, hosted in ORGANIZERS:
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            continue
        user = User(email=email, first_name=first_name, last_name=last_name, role="organizer",
                    password_hash=for_storage(PASSWORD), created_at=now, activated_at=now)
        session.add(user)
        session.flush()
        if scope:
            scopes.grant(session, user, scope, actor=None, now=now)
        committee_id = session.scalar(select(Committee.id).where(Committee.slug == hosted)) if hosted else None
        if committee_id is not None:
            session.add(CommitteeMembership(committee_id=committee_id, user_id=user.id, role="host", created_at=now))
        lines.append(f"organizer {email}: created ({scope or f'host of {hosted}'})")
    return lines or ["demo organizers: unchanged"]
