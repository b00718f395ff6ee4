"""Sending through a provider without losing or doubling a message (the idempotency ledger).

A message goes ``queued`` -> ``sending`` (claimed, committed before any call) -> ``sent`` or
``failed`` (refused by the provider: never retried). A claim older than LEASE belonged to a worker
that died or lost the answer: before sending such a message again, the provider is asked whether
it already holds it (its CustomID), so a message accepted once is never sent twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engagement.db import transaction, utcnow
from engagement.mail import suppression
from engagement.mail.mailjet import BATCH, Outcome
from engagement.mail.models import MailMessage

LEASE = timedelta(minutes=2)  # longer than a provider call may take (its timeout is 15 s)
STALE = datetime(2000, 1, 1, tzinfo=UTC)  # a claim set back to this is reclaimed (and reconciled) at once


class Transport(Protocol):
    def send(self, messages: Sequence[MailMessage]) -> list[Outcome]: ...

    def accepted(self, mail_id: int) -> str | None: ...


Prepare = Callable[[Session, Sequence[MailMessage]], None]  # fills in detached rows before they leave


class RetryLater(Exception):
    """Some messages are still owed: the caller retries later (with backoff)."""

    def __init__(self, pending: Iterable[int]) -> None:
        self.pending = sorted(pending)
        super().__init__(f"{len(self.pending)} message(s) to retry")


def deliver(factory: sessionmaker[Session], transport: Transport, mail_ids: Iterable[int],
            backend: str, now: datetime | None = None, lease: timedelta = LEASE,
            prepare: Prepare | None = None) -> dict[str, int]:
    """Send the messages ``mail_ids`` that are still owed; counts by outcome. Raises RetryLater.

    ``lease`` must outlast a provider call; ``prepare`` completes the loaded rows (a campaign's text).
    """
    now = now or utcnow()
    fresh, stale, busy = _claim(factory, list(mail_ids), now, lease)
    outcomes: list[Outcome] = []
    unsure: list[int] = []
    for mail_id in stale:
        try:
            provider_id = transport.accepted(mail_id)
        except Exception:  # cannot tell: leave it claimed-and-stale, ask again next time
            unsure.append(mail_id)
            continue
        if provider_id:
            outcomes.append(Outcome(mail_id, "sent", provider_id))
        else:
            fresh.append(mail_id)
    messages = _load(factory, fresh, prepare)
    for start in range(0, len(messages), BATCH):
        outcomes.extend(transport.send(messages[start:start + BATCH]))
    _record(factory, outcomes, backend, now)
    owed = busy + unsure + [o.mail_id for o in outcomes if o.status in ("retry", "unknown")]
    counts = {status: sum(1 for o in outcomes if o.status == status) for status in ("sent", "refused")}
    if owed:
        raise RetryLater(owed)
    return counts


def _claim(factory: sessionmaker[Session], ids: list[int], now: datetime,
           lease: timedelta) -> tuple[list[int], list[int], list[int]]:
    """Claim what is owed: (queued ones, stale claims to reconcile, claims still held by someone)."""
    fresh: list[int] = []
    stale: list[int] = []
    with transaction(factory) as session:
        rows = session.scalars(select(MailMessage).where(
            MailMessage.id.in_(ids), or_(MailMessage.status == "queued", MailMessage.status == "sending"),
        ).order_by(MailMessage.id).with_for_update(skip_locked=True)).all()
        claimed = {row.id for row in rows}
        busy = [i for i in ids if i not in claimed and _held(session, i)]
        queued = [row for row in rows if row.status == "queued"]
        stopped = {row.id for row in queued} - suppression.screen_all(session, queued)  # marked suppressed
        for row in rows:
            if row.id in stopped:
                continue
            if row.status == "sending" and row.sending_at is not None and row.sending_at > now - lease:
                busy.append(row.id)
                continue
            (stale if row.status == "sending" else fresh).append(row.id)
        # One statement for the whole claim (an UPDATE a row costs a round trip each on MySQL).
        _update(session, fresh + stale, status="sending", sending_at=now, attempts=MailMessage.attempts + 1)
    return fresh, stale, busy


def _update(session: Session, ids: list[int], **values: Any) -> None:
    """Set ``values`` on the rows ``ids`` still ``sending`` or ``queued``, 1,000 a statement."""
    for start in range(0, len(ids), 1000):
        session.execute(update(MailMessage).where(
            MailMessage.id.in_(ids[start:start + 1000]), MailMessage.status.in_(("queued", "sending")),
        ).values(**values).execution_options(synchronize_session=False))


def _held(session: Session, mail_id: int) -> bool:
    """A row another transaction locks right now (skipped above): it is someone else's, still owed."""
    status = session.scalar(select(MailMessage.status).where(MailMessage.id == mail_id))
    return status in ("queued", "sending")


def _load(factory: sessionmaker[Session], ids: list[int], prepare: Prepare | None) -> list[MailMessage]:
    if not ids:
        return []
    with factory() as session:
        rows = [row for start in range(0, len(ids), 1000) for row in session.scalars(
            select(MailMessage).where(MailMessage.id.in_(ids[start:start + 1000])).order_by(MailMessage.id))]
        session.expunge_all()
        if prepare is not None:
            prepare(session, rows)
    return rows


def _record(factory: sessionmaker[Session], outcomes: list[Outcome], backend: str, now: datetime) -> None:
    """Each outcome on its row, if the row is still claimed: a few statements, not one a message."""
    if not outcomes:
        return
    groups: dict[tuple[str, str | None], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[(outcome.status, outcome.error)].append(outcome)
    with transaction(factory) as session:
        for (status, error), group in groups.items():
            ids = [o.mail_id for o in group]
            if status == "sent":
                for start in range(0, len(group), 1000):
                    part = group[start:start + 1000]
                    session.execute(update(MailMessage).where(
                        MailMessage.id.in_([o.mail_id for o in part]), MailMessage.status == "sending",
                    ).values(status="sent", sent_at=now, backend=backend, error=error, provider_id=case(
                        {o.mail_id: o.provider_id for o in part}, value=MailMessage.id,
                    )).execution_options(synchronize_session=False))
            elif status == "refused":
                _update_claimed(session, ids, status="failed", backend=backend, error=error)
            elif status == "retry":  # not at the provider: back in the queue
                _update_claimed(session, ids, status="queued", sending_at=None, backend=backend, error=error)
            else:  # unknown: perhaps at the provider; the next attempt asks before sending
                _update_claimed(session, ids, sending_at=STALE, backend=backend, error=error)


def _update_claimed(session: Session, ids: list[int], **values: Any) -> None:
    for start in range(0, len(ids), 1000):
        session.execute(update(MailMessage).where(
            MailMessage.id.in_(ids[start:start + 1000]), MailMessage.status == "sending",
        ).values(**values).execution_options(synchronize_session=False))
