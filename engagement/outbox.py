"""The transactional outbox: side effects are rows written with the change, relayed after commit.

A handler runs inside its own transaction and must be idempotent: a row can be relayed again
after a crash between the side effect and the ``delivered_at`` update.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Index, String, Text, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from engagement import claims
from engagement.db import Base, transaction, utcnow

log = logging.getLogger(__name__)

Handler = Callable[[Session, dict[str, Any]], None]
SelfManaged = Callable[[sessionmaker[Session], dict[str, Any]], None]
TRANSACTIONAL = "transactional"  # the default queue: account mail, confirmations (never behind a campaign)
CAMPAIGNS = "campaigns"  # bulk work: expanding and sending campaigns
LISTS = "lists"  # rebuilding audience lists after membership changes
SEARCH = "search"  # keeping the search indexes in step with committees, events and pages
ALL_QUEUES = (TRANSACTIONAL, CAMPAIGNS, LISTS, SEARCH)  # what a worker started without --queues serves


class Relay(Protocol):
    """Hands committed outbox ids to whatever delivers them, on the queue of their topic; ``detached`` ids must
    not be delivered by the committing thread (see DETACHED)."""

    def __call__(self, ids: list[int], queue: str = TRANSACTIONAL, detached: bool = False) -> None: ...


HANDLERS: dict[str, Handler] = {}
SELF_MANAGED: dict[str, SelfManaged] = {}  # handlers that open their own transactions (a provider call
# must not hold the outbox row's lock, and must commit its claim before calling)
QUEUES: dict[str, str] = {}  # topic -> queue, when not TRANSACTIONAL
# Topics never delivered by the request that queued them, even embedded: what their handler finds (an account
# for an address, say) must not change how long that request takes (docs/security.md "Password reset timing").
DETACHED: set[str] = set()
FORGETFUL: set[str] = set()  # topics whose payload names a person: emptied once delivered
_stop = threading.Event()  # set when this process stops taking work (a command interrupted): see InProcessRelay.stop


class Stopped(Exception):
    """Raised by a long handler between two of its transactions when its process is stopping: its row stays
    pending, to be delivered (resumed) later, and this is no failure."""


def stopping() -> bool:
    """Whether this process is stopping: a long handler stops at its next commit (``raise Stopped``)."""
    return _stop.is_set()


class OutboxMessage(Base):
    """One side effect owed to the outside world (a mail to send, an index to update)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), comment="name of the registered handler")
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text, comment="exception type and message, no PII")


def handler(topic: str, queue: str = TRANSACTIONAL, *, detached: bool = False,
            forget: bool = False) -> Callable[[Handler], Handler]:
    """Register the function that performs a topic's side effect (relayed on ``queue``; ``detached``: never by
    the committing thread; ``forget``: the payload is emptied once delivered)."""

    def register(func: Handler) -> Handler:
        HANDLERS[topic] = func
        QUEUES[topic] = queue
        for flag, topics in ((detached, DETACHED), (forget, FORGETFUL)):
            if flag:
                topics.add(topic)
        return func

    return register


def self_managed(topic: str, queue: str = TRANSACTIONAL, *,
                 detached: bool = False) -> Callable[[SelfManaged], SelfManaged]:
    """Register a handler that gets the session factory and keeps its own (idempotent) ledger (``detached``: never
    run by the committing thread)."""

    def register(func: SelfManaged) -> SelfManaged:
        SELF_MANAGED[topic] = func
        QUEUES[topic] = queue
        if detached:
            DETACHED.add(topic)
        return func

    return register


def queue_of(topic: str) -> str:
    return QUEUES.get(topic, TRANSACTIONAL)


def enqueue(session: Session, topic: str, payload: dict[str, Any]) -> OutboxMessage:
    """Record a side effect in the caller's transaction; it leaves only if that commits."""
    if topic not in HANDLERS and topic not in SELF_MANAGED:
        raise KeyError(f"no outbox handler registered for {topic!r}")
    message = OutboxMessage(topic=topic, payload=payload)
    session.add(message)
    return message


def deliver(factory: sessionmaker[Session], outbox_id: int) -> bool:
    """Run one row's handler once; returns False when it was already delivered, is gone, or is being delivered by
    another thread or process (engagement/claims.py: it is theirs to deliver)."""
    with claims.claim(factory, outbox_id) as claimed:
        return claimed and _deliver_claimed(factory, outbox_id)


def _deliver_claimed(factory: sessionmaker[Session], outbox_id: int) -> bool:
    with factory() as session:
        row = session.get(OutboxMessage, outbox_id)
        topic, payload = (row.topic, row.payload) if row is not None and row.delivered_at is None else (None, None)
    if topic is None:
        return False
    if topic in SELF_MANAGED:
        return _deliver_self_managed(factory, outbox_id, topic, payload or {})
    try:
        with transaction(factory) as session:
            row = session.get(OutboxMessage, outbox_id, with_for_update=True)
            if row is None or row.delivered_at is not None:
                return False
            HANDLERS[row.topic](session, row.payload)
            if row.topic in FORGETFUL:
                row.payload = {}
            row.delivered_at = utcnow()
            row.attempts += 1
            return True
    except Exception as exc:
        _record_failure(factory, outbox_id, exc)
        raise


def _deliver_self_managed(factory: sessionmaker[Session], outbox_id: int, topic: str,
                          payload: dict[str, Any]) -> bool:
    try:
        SELF_MANAGED[topic](factory, payload)
    except Stopped:
        raise
    except Exception as exc:
        _record_failure(factory, outbox_id, exc)
        raise
    with transaction(factory) as session:
        row = session.get(OutboxMessage, outbox_id, with_for_update=True)
        if row is None or row.delivered_at is not None:
            return False
        row.delivered_at = utcnow()
        row.attempts += 1
        return True


def _record_failure(factory: sessionmaker[Session], outbox_id: int, exc: Exception) -> None:
    with transaction(factory) as session:
        row = session.get(OutboxMessage, outbox_id)
        if row is not None:
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]


def pending(session: Session, older_than: timedelta = timedelta(0), limit: int = 10_000) -> dict[str, list[int]]:
    """Rows not yet delivered by queue, oldest first (for the sweeper that catches up after a crash)."""
    cutoff = utcnow() - older_than
    query = (
        select(OutboxMessage.id, OutboxMessage.topic)
        .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.created_at <= cutoff)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    by_queue: dict[str, list[int]] = defaultdict(list)
    for outbox_id, topic in session.execute(query):
        by_queue[queue_of(topic)].append(outbox_id)
    return dict(by_queue)


class InProcessRelay:
    """The embedded default: deliver right after commit, in the committing process.

    Transactional rows are delivered at once (the page that caused a mail waits for it, a few
    milliseconds); bulk queues run on one background thread, so that the request that queued a
    campaign of 45,000 recipients answers at once. Detached rows run on a thread of their own, after
    the answer and never behind a campaign. A process that exits first waits for those threads; a
    row they did not reach (the process was stopped: `stop`) stays pending for ``engagement outbox relay``
    or the sweep of a running ``engagement serve`` (engagement/sweeper.py).
    """

    _background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
    _detached = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-detached")
    _held = threading.local()  # the detached rows of the request this thread answers, until `release`
    _closed = False  # the executors were shut down (`close`)

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def __call__(self, ids: list[int], queue: str = TRANSACTIONAL, detached: bool = False) -> None:
        if detached:
            held = getattr(self._held, "rows", None)
            if held is not None:
                held.append((self, ids))
            else:
                self._submit(self._detached, ids)
        elif queue == TRANSACTIONAL:
            self.run(ids)
        else:
            self._submit(self._background, ids)

    def _submit(self, executor: ThreadPoolExecutor, ids: list[int]) -> None:
        if _stop.is_set():
            return  # the rows stay pending (a command interrupted says so)
        try:
            executor.submit(self.run, ids)
        except RuntimeError:  # the interpreter is exiting: no thread takes new work any more
            log.warning("outbox rows %s left pending: this process is exiting", ids)

    @classmethod
    def stop(cls) -> None:
        """Take no more work in this process (a command interrupted): what is queued and not started stays
        pending, and a long handler stops at its next commit (`stopping`)."""
        _stop.set()

    @classmethod
    def close(cls) -> None:
        """After `stop`, once idle: let the threads end. A thread whose start an interrupt cut short (in the
        ``submit`` that started it) is known to no executor's exit handler, and the interpreter would wait for
        it for ever; the shutdown's sentinel reaches it through the queue it shares."""
        for executor in (cls._detached, cls._background):
            executor.shutdown(wait=False, cancel_futures=True)
        cls._closed = True

    @classmethod
    def resume(cls) -> None:
        """Take work again, on new threads after `close` (tests: the process goes on after an interrupted
        command)."""
        _stop.clear()
        if cls._closed:
            cls._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
            cls._detached = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-detached")
            cls._closed = False

    @classmethod
    def hold(cls) -> None:
        """Keep the detached rows this thread commits until `release` (the web: until the answer is sent, so that
        their work does not even share the CPU with the end of the request that queued them). What an earlier
        hold kept and nothing released (a response never closed) leaves now."""
        cls.release()
        cls._held.rows = []

    @classmethod
    def release(cls) -> None:
        """Hand over what `hold` kept, and stop holding."""
        rows, cls._held.rows = getattr(cls._held, "rows", None) or [], None
        for relay, ids in rows:
            relay._submit(cls._detached, ids)

    @classmethod
    def drain(cls, timeout: float = 60) -> None:
        """Wait until the background work queued so far is done (each thread: first in, first out), this
        thread's held rows included."""
        cls.release()
        for executor in (cls._detached, cls._background):
            executor.submit(lambda: None).result(timeout=timeout)

    def run(self, ids: list[int]) -> None:
        for outbox_id in ids:
            if _stop.is_set():
                return  # this row and the next stay pending
            try:
                deliver(self.factory, outbox_id)
            except Stopped:
                return
            except Exception:
                # The row stays pending; `engagement outbox relay` or the next sweep retries it.
                log.exception("outbox row %s failed; left pending", outbox_id)


def relay_after_commit(factory: sessionmaker[Session], relay: Relay) -> None:
    """Hand the ids of outbox rows to ``relay`` once (and only if) their transaction commits."""

    @event.listens_for(factory, "after_flush")
    def _collect(session: Session, _context: Any) -> None:
        for obj in session.new:
            if isinstance(obj, OutboxMessage):
                key = (queue_of(obj.topic), obj.topic in DETACHED)
                session.info.setdefault("outbox_ids", {}).setdefault(key, []).append(obj.id)

    @event.listens_for(factory, "after_commit")
    def _relay(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a SAVEPOINT released: its rows are not committed until the whole transaction is
        by_queue = session.info.pop("outbox_ids", None)
        for (queue, detached), ids in (by_queue or {}).items():
            if detached:
                relay(sorted(ids), queue, detached=True)
            else:
                relay(sorted(ids), queue)

    @event.listens_for(factory, "after_rollback")
    def _forget(session: Session) -> None:
        if session.in_nested_transaction():
            return  # only a SAVEPOINT rolled back: the transaction's other rows still leave at its commit
        session.info.pop("outbox_ids", None)


def relay_pending(factory: sessionmaker[Session], relay: Relay, older_than: timedelta = timedelta(0)) -> int:
    """Relay every pending row (up to 10,000 a call); returns how many were handed over."""
    with factory() as session:
        by_queue = pending(session, older_than)
    for queue, ids in by_queue.items():
        relay(ids, queue)
    return sum(len(ids) for ids in by_queue.values())
