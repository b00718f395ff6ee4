"""What a member sees of their account and may change in it (erasing it: engagement.privacy.erasure)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.accounts.signup import topics
from engagement.privacy import consents
from engagement.workflow.spec import localize


def interest_labels(session: Session, user: User, locale: str) -> list[str]:
    labels = dict(topics(session))
    return [localize(labels[key], locale) for key in user.interests if key in labels]


def update_profile(session: Session, user: User, address: dict[str, str], interests: list[str],
                   newsletter: bool, *, words: str, locale: str, now: datetime) -> None:
    """Record a member's edited address, topics and newsletter choice (validated by the form); a changed
    choice is a consent given or withdrawn, recorded with ``words``, the box's label as shown."""
    known = {key for key, _label in topics(session)}
    user.address = address
    user.interests = [key for key in interests if key in known]
    consents.change(session, user, consents.NEWSLETTER, newsletter, text=words, method="profile", locale=locale,
                    now=now)
