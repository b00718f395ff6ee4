"""What a member sees of their account, and its deletion (right to erasure)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.accounts.signup import topics
from engagement.accounts.tokens import AccountToken
from engagement.db import utcnow
from engagement.workflow.models import WorkflowInstance
from engagement.workflow.spec import localize


def interest_labels(session: Session, user: User, locale: str) -> list[str]:
    labels = dict(topics(session))
    return [localize(labels[key], locale) for key in user.interests if key in labels]


def delete_account(session: Session, user: User, now: datetime | None = None) -> None:
    """Erase the account and the answers its workflows hold; the transition log keeps no actor.

    Its places at events are given up first (the waitlist moves up), then erased with it; its
    invitations and committee memberships go with it (foreign keys).
    """
    from engagement.events.registration import release_member

    release_member(session, user.id, now or utcnow())
    session.execute(delete(AccountToken).where(AccountToken.user_id == user.id))
    session.execute(delete(WorkflowInstance).where(WorkflowInstance.actor_id == user.id))
    session.delete(user)


def update_profile(session: Session, user: User, address: dict[str, str], interests: list[str],
                   newsletter: bool) -> None:
    """Record a member's edited address, topics and newsletter choice (validated by the form)."""
    known = {key for key, _label in topics(session)}
    user.address = address
    user.interests = [key for key in interests if key in known]
    user.has_newsletter = newsletter
