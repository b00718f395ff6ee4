"""What a member sees of their account, and its deletion (right to erasure)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.accounts.signup import topics
from engagement.accounts.tokens import AccountToken
from engagement.workflow.models import WorkflowInstance
from engagement.workflow.spec import localize


def interest_labels(session: Session, user: User, locale: str) -> list[str]:
    labels = dict(topics(session))
    return [localize(labels[key], locale) for key in user.interests if key in labels]


def delete_account(session: Session, user: User) -> None:
    """Erase the account and the answers its workflows hold; the transition log keeps no actor."""
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
