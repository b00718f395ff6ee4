"""Forgotten passwords: a neutral request, a single-use 2-hour link, a new password."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engagement.accounts import passwords, tokens
from engagement.accounts.models import User
from engagement.accounts.service import find_by_email, seen
from engagement.mail import service as mail


def request_reset(session: Session, email: str, now: datetime, locale: str) -> None:
    """Mail a reset link when an active account uses ``email`` (at most tokens.PER_ADDRESS_HOURLY an hour); the
    caller answers the same either way."""
    user = find_by_email(session, email)
    if user is None or not user.is_active or not tokens.may_issue(session, user, "reset", now):
        return
    token = tokens.issue(session, user, "reset", now)
    mail.compose(session, template="password_reset", to=[user.email], locale=locale,
                 context={"user": user, "link": mail.absolute(f"/password/reset/{token}"),
                          "valid_hours": int(tokens.PURPOSES["reset"].total_seconds() // 3600)})


def reset_password(session: Session, token: str, new_password: str, now: datetime) -> User | None:
    """Set the new password (already checked against the rules) if the link is still good, once.

    Following the link proves the address, so an account not yet activated is activated too.
    """
    user = tokens.consume(session, token, "reset", now)
    if user is None or not user.is_active:
        return None
    user.password_hash = passwords.hash_password(new_password)
    if user.activated_at is None:
        user.activated_at = now
    seen(user, now)  # the page logs them in
    return user
