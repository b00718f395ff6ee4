"""The suppression list: unsubscribed addresses get no campaign; bounced or complaining ones no mail at all."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from engagement.mail.models import REASONS, MailMessage, MailSuppression
from engagement.privacy.hashing import keyed

BLOCKS_ALL = ("bounced", "complained")  # a transactional mail (a password reset) still goes to an unsubscribed one
_REASONS = select(MailSuppression.reason).where(or_(MailSuppression.email_hash == bindparam("plain"),
                                                    MailSuppression.email_hash == bindparam("keyed")))


def digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def suppress(session: Session, email: str, reason: str, source: str, now: datetime) -> None:
    """Record (idempotently) that ``email`` must not be written to; a bounce or complaint outranks an unsubscribe."""
    suppress_hash(session, digest(email), reason, source, now)


def suppress_hash(session: Session, email_hash: str, reason: str, source: str, now: datetime) -> None:
    """``suppress`` for an address known only by its ``digest`` (an unsubscribe link names no address)."""
    if reason not in REASONS:
        raise ValueError(f"unknown suppression reason {reason!r}")
    row = session.get(MailSuppression, email_hash)
    if row is None:
        session.add(MailSuppression(email_hash=email_hash, reason=reason, source=source, created_at=now))
    elif reason in BLOCKS_ALL and row.reason not in BLOCKS_ALL:
        row.reason, row.source = reason, source


def forget(session: Session, email: str, now: datetime) -> None:
    """Keep only a keyed hash of an erased person's address, so that no campaign or invitation reaches them again;
    the plain SHA-256 rows of that address (an unsubscribe, a bounce) are replaced by it."""
    row = session.get(MailSuppression, digest(email))
    reason = row.reason if row is not None and row.reason in BLOCKS_ALL else "erased"
    if row is not None:
        session.delete(row)
    suppress_hash(session, keyed(email), reason, "erasure", now)


def welcome_back(session: Session, email: str) -> None:
    """A person who had their data erased joined again and confirmed their address: their new consents speak
    now (a bounce or a complaint recorded under the keyed hash still stops all mail)."""
    row = session.get(MailSuppression, keyed(email))
    if row is not None and row.reason == "erased":
        session.delete(row)


def resubscribe(session: Session, email: str) -> bool:
    """Lift the unsubscribe of ``email`` (its owner gave the newsletter again); True when one was lifted. A bounce
    or a complaint stays: the mailbox refused us, whatever its owner now says."""
    row = session.get(MailSuppression, digest(email))
    if row is None or row.reason != "unsubscribed":
        return False
    session.delete(row)
    return True


def reasons(session: Session, email: str) -> set[str]:
    """Why ``email`` is on the list (by its plain or keyed hash): empty when nothing stops mail to it."""
    return set(session.scalars(_REASONS, {"plain": digest(email), "keyed": keyed(email)}))


def forgotten(session: Session, email: str) -> bool:
    """Whether ``email`` belongs to a person who had their data erased (its keyed hash is on the list)."""
    return session.get(MailSuppression, keyed(email)) is not None


def blocked(session: Session, addresses: Iterable[str], stream: str) -> set[str]:
    """The addresses among ``addresses`` that this stream must not write to (by their plain or keyed hash)."""
    by_hash = {h: a for a in addresses for h in (digest(a), keyed(a))}
    if not by_hash:
        return set()
    hashes, found = list(by_hash), set()
    for start in range(0, len(hashes), 1000):
        rows = session.execute(select(MailSuppression.email_hash, MailSuppression.reason)
                               .where(MailSuppression.email_hash.in_(hashes[start:start + 1000])))
        found |= {by_hash[h] for h, reason in rows if stream == "campaign" or reason in BLOCKS_ALL}
    return found


def screen_all(session: Session, messages: Iterable[MailMessage]) -> set[int]:
    """``screen`` for many messages with one query a stream; the ids that may still go."""
    rows = list(messages)
    stops = {stream: blocked(session, [a for m in rows if m.stream == stream for a in (*m.to, *m.cc)], stream)
             for stream in {m.stream for m in rows}}
    return {m.id for m in rows if screen(session, m, stops[m.stream])}


def screen(session: Session, message: MailMessage, stop: set[str] | None = None) -> bool:
    """Whether ``message`` may still go: copies to blocked addresses are dropped; a message whose
    every recipient is blocked is marked ``suppressed`` (and never sent)."""
    if stop is None:
        stop = blocked(session, [*message.to, *message.cc], message.stream)
    if not stop:
        return True
    if any(a in stop for a in message.cc):
        message.cc = [a for a in message.cc if a not in stop]
    if not any(a in stop for a in message.to):
        return True
    if all(a in stop for a in message.to):
        message.status, message.error = "suppressed", "every recipient is on the suppression list"
        return False
    message.to = [a for a in message.to if a not in stop]
    return True
