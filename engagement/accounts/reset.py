"""Forgotten passwords: a neutral request, a single-use 2-hour link, a new password.

The request only records the ask (`ask_reset`): the same outbox row for every address. Whether an account gets
a link is decided by `send_asked`, a detached handler that runs after the answer has left, so the request's
duration tells nobody whether the address has an account (docs/security.md "Password reset timing").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engagement import outbox
from engagement.accounts import passwords, tokens
from engagement.accounts.models import User
from engagement.accounts.service import find_by_email, seen
from engagement.db import utcnow
from engagement.mail import service as mail

ASKED = "accounts.reset_asked"


def ask_reset(session: Session, email: str, locale: str) -> None:
    """Record that a reset link was asked for ``email``, looking nothing up: `send_asked` does, after the answer."""
    outbox.enqueue(session, ASKED, {"email": email, "locale": locale})


@outbox.handler(ASKED, detached=True, forget=True)
def send_asked(session: Session, payload: dict[str, Any]) -> None:
    request_reset(session, payload["email"], utcnow(), payload["locale"])


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
    user.password_hash = passwords.for_storage(new_password)
    if user.activated_at is None:
        user.activated_at = now
    seen(user, now)  # the page logs them in
    return user
