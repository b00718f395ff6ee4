"""The suppression list: unsubscribed addresses get no campaign; bounced or complaining ones no mail at all."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.mail.models import REASONS, MailMessage, MailSuppression

BLOCKS_ALL = ("bounced", "complained")  # a transactional mail (a password reset) still goes to an unsubscribed one


def digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def suppress(session: Session, email: str, reason: str, source: str, now: datetime) -> None:
    """Record (idempotently) that ``email`` must not be written to; a bounce or complaint outranks an unsubscribe."""
    if reason not in REASONS:
        raise ValueError(f"unknown suppression reason {reason!r}")
    row = session.get(MailSuppression, digest(email))
    if row is None:
        session.add(MailSuppression(email_hash=digest(email), reason=reason, source=source, created_at=now))
    elif reason in BLOCKS_ALL and row.reason not in BLOCKS_ALL:
        row.reason, row.source = reason, source


def blocked(session: Session, addresses: Iterable[str], stream: str) -> set[str]:
    """The addresses among ``addresses`` that this stream must not write to."""
    by_hash = {digest(a): a for a in addresses}
    if not by_hash:
        return set()
    rows = session.execute(select(MailSuppression.email_hash, MailSuppression.reason)
                           .where(MailSuppression.email_hash.in_(list(by_hash))))
    return {by_hash[h] for h, reason in rows if stream == "campaign" or reason in BLOCKS_ALL}


def screen(session: Session, message: MailMessage) -> bool:
    """Whether ``message`` may still go: copies to blocked addresses are dropped; a message whose
    every recipient is blocked is marked ``suppressed`` (and never sent)."""
    stop = blocked(session, [*message.to, *message.cc], message.stream)
    if not stop:
        return True
    message.cc = [a for a in message.cc if a not in stop]
    if all(a in stop for a in message.to):
        message.status, message.error = "suppressed", "every recipient is on the suppression list"
        return False
    message.to = [a for a in message.to if a not in stop]
    return True
