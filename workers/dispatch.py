"""The relay used when a broker is configured: committed outbox ids become Celery messages by name.

When the broker does not take a row, the row stays pending and is marked stranded in the database
(its ``last_error``), the source of truth: a thread of the process that failed relays the stranded
rows as soon as the broker answers again (within ``WATCH_EVERY`` seconds), and the beat's sweep
relays any still stranded every minute (the process may have exited meanwhile). Delivery is
idempotent, so a row relayed twice is still delivered once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from engagement.db import transaction
from engagement.outbox import TRANSACTIONAL, OutboxMessage, queue_of
from workers.app import app

log = logging.getLogger(__name__)
DELIVER = "engagement.outbox.deliver"
STRANDED = "BrokerUnreachable: relayed again once the broker answers"  # last_error of a stranded row
PUBLISH_TIMEOUT = 1.0  # seconds a publish (or its confirmation) may take
COOLDOWN = 5.0  # seconds after a failure during which requests strand their rows without trying
WATCH_EVERY = 2.0  # seconds between two looks at a broker that was down


def check_broker(timeout: float = 1.0) -> None:
    """Raise unless the broker accepts a connection within ``timeout`` seconds (one attempt)."""
    with app.connection_for_write(connect_timeout=timeout) as connection:
        connection.ensure_connection(max_retries=0)


class CeleryRelay:
    """Publishes outbox ids to Celery; rows the broker does not take are stranded, then relayed."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self._failed_at: float | None = None
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._again = False  # rows were stranded since the watcher's last look

    def __call__(self, ids: list[int], queue: str = TRANSACTIONAL, detached: bool = False) -> None:
        # ``detached`` changes nothing here: a task never runs in the process that published it.
        failed_at = self._failed_at
        recently_down = failed_at is not None and time.monotonic() - failed_at < COOLDOWN
        left = ids if recently_down else self.publish(ids, queue)
        if left:
            self._strand(left)

    def publish(self, ids: list[int], queue: str) -> list[int]:
        """Publish each id; returns those not taken (every one from the first failure on)."""
        for index, outbox_id in enumerate(ids):
            try:
                app.send_task(DELIVER, args=[outbox_id], queue=queue, timeout=PUBLISH_TIMEOUT,
                              confirm_timeout=PUBLISH_TIMEOUT)
            except Exception as error:
                self._failed_at = time.monotonic()
                log.warning("broker unreachable (%s: %s): %d outbox row(s) left pending", type(error).__name__,
                            error, len(ids) - index)
                return ids[index:]
        self._failed_at = None
        return []

    def relay_stranded(self, limit: int = 1000) -> bool:
        """Relay the rows stranded by any process, oldest first (``limit`` at most); True when none is left."""
        with self.factory() as session:
            rows = session.execute(
                select(OutboxMessage.id, OutboxMessage.topic)
                .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.last_error == STRANDED)
                .order_by(OutboxMessage.id).limit(limit)).all()
        by_queue: dict[str, list[int]] = defaultdict(list)
        for outbox_id, topic in rows:
            by_queue[queue_of(topic)].append(outbox_id)
        for queue, ids in by_queue.items():
            left = self.publish(ids, queue)
            _unmark(self.factory, ids[:len(ids) - len(left)])
            if left:
                return False  # down again: nothing more is tried this time
        return len(rows) < limit

    def _strand(self, ids: list[int]) -> None:
        try:
            with transaction(self.factory) as session:
                session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids),
                                OutboxMessage.delivered_at.is_(None)).values(last_error=STRANDED))
        except Exception:
            log.exception("outbox rows %s could not be marked stranded: the sweep relays them after 15 min", ids)
            return
        with self._lock:
            self._again = True
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, name="outbox-stranded", daemon=True)
                self._watcher.start()

    def _watch(self) -> None:
        """Until no row is stranded: wait for the broker, then relay them (stops on a database error)."""
        while True:
            time.sleep(WATCH_EVERY)
            with self._lock:
                self._again = False
            try:
                check_broker()
            except Exception:
                self._failed_at = time.monotonic()  # still down: requests keep stranding without trying
                continue
            try:
                done = self.relay_stranded()
            except Exception:
                log.exception("stranded outbox rows not relayed (the sweep will): database error")
                done = True
            with self._lock:
                if done and not self._again:
                    self._watcher = None
                    return


def _unmark(factory: sessionmaker[Session], ids: list[int]) -> None:
    if ids:
        with transaction(factory) as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids),
                            OutboxMessage.last_error == STRANDED).values(last_error=None))
        log.info("%d stranded outbox row(s) relayed", len(ids))
