"""Account services: creation and password checks (argon2id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.accounts import passwords
from engagement.accounts.models import ROLES, User
from engagement.db import utcnow
from engagement.mail import addresses

PASSWORD_PROBLEMS = {
    "too_short": f"a password has at least {passwords.MIN_LENGTH} characters",
    "too_long": f"a password has at most {passwords.MAX_LENGTH} characters",
    "too_common": "this password is among the most common ones: choose another",
}


class AccountError(ValueError):
    pass


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    rule = passwords.problem(password)
    if rule is not None:
        raise AccountError(PASSWORD_PROBLEMS[rule])
    return passwords.for_storage(password)


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def account_address(email: str) -> str:
    """``email`` as an account holds it: by the one address rule (engagement.mail.addresses: an address no
    mail reaches is refused with AccountError, since the account could never get its links), lower-cased."""
    try:
        return normalize_email(addresses.checked(email))
    except addresses.AddressError as exc:
        raise AccountError(str(exc)) from None


def create_user(session: Session, email: str, role: str = "member", password: str | None = None,
                activated: bool = True) -> User:
    """An account made by an operator (activated at once unless told otherwise)."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    email = account_address(email)
    if find_by_email(session, email) is not None:
        raise AccountError("an account with this email already exists")
    user = User(email=normalize_email(email), role=role,
                password_hash=hash_password(password) if password else None,
                activated_at=utcnow() if activated else None)
    session.add(user)
    session.flush()
    return user


def seen(user: User, now: datetime) -> None:
    """The member came back (logged in, activated their account): inactivity counts from ``now`` again and a
    retention warning no longer holds (engagement.privacy.retention)."""
    user.last_seen_at, user.retention_warned_at = now, None


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user whose password matches, else None; the same work is done either way."""
    user = find_by_email(session, email) if len(password) <= passwords.MAX_LENGTH else None
    if not passwords.verify(user.password_hash if user else None, password):
        return None
    if user is None or not user.is_active:
        return None
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.for_storage(password)
    return user
