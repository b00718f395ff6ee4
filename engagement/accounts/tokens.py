"""Random, single-use, expiring tokens (account activation, password reset).

Only a SHA-256 of the token is stored: a database leak reveals no usable link.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engagement.accounts.models import User
from engagement.db import Base, utcnow

PURPOSES = {"activation": timedelta(hours=48), "reset": timedelta(hours=2)}
# Links mailed to one address in an hour, per purpose: whoever asks (a form anyone may fill in), an address
# is not flooded; past it the request is answered the same and nothing is sent.
PER_ADDRESS_HOURLY = 3


class AccountToken(Base):
    __tablename__ = "account_tokens"
    __table_args__ = (Index("ix_account_tokens_user", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16), comment="activation or reset")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="sha256 of the token sent")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, user: User, purpose: str, now: datetime) -> str:
    """A new token for ``user`` (the raw value goes in the mail, never in the database)."""
    token = secrets.token_urlsafe(32)
    session.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=_digest(token),
                             created_at=now, expires_at=now + PURPOSES[purpose]))
    return token


def may_issue(session: Session, user: User, purpose: str, now: datetime) -> bool:
    """Whether another ``purpose`` link may be mailed to ``user`` now (PER_ADDRESS_HOURLY)."""
    recent = session.scalar(select(func.count()).select_from(AccountToken).where(
        AccountToken.user_id == user.id, AccountToken.purpose == purpose,
        AccountToken.created_at > now - timedelta(hours=1)))
    return (recent or 0) < PER_ADDRESS_HOURLY


def consume(session: Session, token: str, purpose: str, now: datetime) -> User | None:
    """The token's user, once: a used, expired, unknown or other-purpose token gives None."""
    if not token or len(token) > 128:
        return None
    row = session.scalar(select(AccountToken).where(AccountToken.token_hash == _digest(token))
                         .with_for_update())
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= now:
        return None
    row.used_at = now
    return session.get(User, row.user_id)


def is_valid(session: Session, token: str, purpose: str, now: datetime) -> bool:
    """Whether ``consume`` would accept the token now (to show a form without using the token up)."""
    if not token or len(token) > 128:
        return False
    row = session.scalar(select(AccountToken).where(AccountToken.token_hash == _digest(token)))
    return row is not None and row.purpose == purpose and row.used_at is None and row.expires_at > now
