"""Account services: creation and password checks (argon2id)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.accounts.models import ROLES, User

MIN_PASSWORD, MAX_PASSWORD = 8, 128
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the email is unknown, so both answers cost the same time.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    pass


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return _hasher.hash(password)


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def create_user(session: Session, email: str, role: str = "member", password: str | None = None) -> User:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if find_by_email(session, email) is not None:
        raise AccountError("an account with this email already exists")
    user = User(email=normalize_email(email), role=role,
                password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user whose password matches, else None; the same work is done either way."""
    user = find_by_email(session, email) if len(password) <= MAX_PASSWORD else None
    try:
        _hasher.verify(user.password_hash if user and user.password_hash else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = _hasher.hash(password)
    return user
